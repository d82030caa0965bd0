/*
 * random.c - random search (Katib's hyperopt.rand service).
 *
 * Each parameter is sampled on its own under its distribution
 * (param_sample()). Suggestion number k (k = trials so far + i) draws from
 * an rng seeded by (seed, k), so the same spec and history always give the
 * same trials, across restarts too. The seed is random_state, or a time
 * based value chosen at the first create() and persisted through save().
 * Duplicates of earlier or same-batch assignments are resampled; a finite
 * space that is fully used is exhausted.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "katib/algorithm.h"

struct random_priv {
	uint64_t seed;
};

static const struct setting_rule random_rules[] = {
	{ "random_state", SETTING_INT, 0, INFINITY, 0, NULL },
	{ .name = NULL },
};

static int random_validate(const struct experiment_spec *spec,
			   struct kb_error *err)
{
	return settings_validate(&spec->algorithm, random_rules, 0, err);
}

static int random_create(const struct experiment_spec *spec, const char *state,
			 void **priv, struct kb_error *err)
{
	struct random_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	p->seed = seed_restore(spec, state);
	*priv = p;
	return 0;
}

static char *random_save(void *priv)
{
	struct random_priv *p = priv;

	return seed_save(p->seed);
}

static void random_destroy(void *priv)
{
	free(priv);
}

/* One new assignment for suggestion number k; NULL with *rc 0 when the
 * finite space is used up. */
static char **suggest_one(void *ctx, const struct experiment_spec *spec,
			  uint64_t k, const struct assignment_set *used,
			  size_t total, int *rc)
{
	struct random_priv *p = ctx;
	struct rng r;

	rng_seed(&r, p->seed ^ seed_mix64(k + 0x9e3779b97f4a7c15ULL));
	return search_random_unused(spec, &r, used, total, rc);
}

static int random_suggest(void *priv, const struct experiment_spec *spec,
			  const struct search_history *history, size_t want,
			  char ***out, struct kb_error *err)
{
	return search_suggest_distinct(spec, history, want, out, err,
				       suggest_one, priv);
}

const struct algorithm_ops algorithm_random = {
	.name = "random",
	.implemented = 1,
	.suggests_in_microseconds = 1,
	.validate = random_validate,
	.create = random_create,
	.suggest = random_suggest,
	.save = random_save,
	.destroy = random_destroy,
	.multi_objective = 1,
};
