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
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "katib/algorithm.h"

#define RESAMPLE_TRIES 100
#define ENUMERATE_MAX  ((size_t)1 << 22)

struct random_priv {
	uint64_t seed;
};

static const struct setting_rule random_rules[] = {
    {"random_state", SETTING_INT, 0, INFINITY, 0, NULL},
    {NULL},
};

static int random_validate(const struct experiment_spec *spec,
			   struct kb_error *err)
{
	return settings_validate(&spec->algorithm, random_rules, 0, err);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t time_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return mix64((uint64_t)ts.tv_sec * 1000000000ULL +
		     (uint64_t)ts.tv_nsec) ^
	       mix64((uint64_t)getpid());
}

static int random_create(const struct experiment_spec *spec, const char *state,
			 void **priv, struct kb_error *err)
{
	struct random_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	if (!setting_random_state(spec, &p->seed) &&
	    !(state && sscanf(state, "seed=%" SCNu64, &p->seed) == 1))
		p->seed = time_seed();
	*priv = p;
	return 0;
}

static char *random_save(void *priv)
{
	struct random_priv *p = priv;
	char *s;

	if (asprintf(&s, "seed=%" PRIu64 "\n", p->seed) < 0)
		return NULL;
	return s;
}

static void random_destroy(void *priv)
{
	free(priv);
}

static char **sample(const struct experiment_spec *spec, struct rng *r)
{
	char **v = calloc(spec->nparams ? spec->nparams : 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < spec->nparams; i++) {
		v[i] = param_sample(&spec->params[i], r);
		if (!v[i]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

/* The first grid point not in `used` (finite spaces), or NULL with *rc 0
 * when all are used. */
static char **first_unused(const struct experiment_spec *spec,
			   const struct assignment_set *used, size_t total,
			   int *rc)
{
	char **v;
	size_t i;

	*rc = 0;
	for (i = 0; i < total && i < ENUMERATE_MAX; i++) {
		v = search_space_grid_point(spec, i);
		if (!v) {
			*rc = -ENOMEM;
			return NULL;
		}
		if (!assignment_set_contains(used, v))
			return v;
		assignment_values_free(v, spec->nparams);
	}
	return NULL;
}

/* One new assignment for suggestion number k; NULL with *rc 0 when the
 * finite space is used up. */
static char **suggest_one(const struct experiment_spec *spec, uint64_t seed,
			  uint64_t k, const struct assignment_set *used,
			  size_t total, int *rc)
{
	struct rng r;
	char **v = NULL;
	int t;

	*rc = 0;
	rng_seed(&r, seed ^ mix64(k + 0x9e3779b97f4a7c15ULL));
	for (t = 0; t < RESAMPLE_TRIES; t++) {
		assignment_values_free(v, spec->nparams);
		v = sample(spec, &r);
		if (!v) {
			*rc = -ENOMEM;
			return NULL;
		}
		if (!assignment_set_contains(used, v))
			return v;
	}
	if (!total) /* continuous space: a duplicate is as good as any */
		return v;
	assignment_values_free(v, spec->nparams);
	return first_unused(spec, used, total, rc);
}

static int random_suggest(void *priv, const struct experiment_spec *spec,
			  const struct search_history *history, size_t want,
			  char ***out, struct kb_error *err)
{
	struct random_priv *p = priv;
	struct assignment_set *used;
	size_t total = search_space_grid_size(spec), n = 0;
	char **v;
	int rc = 0;

	used = assignment_set_from_history(history, spec->nparams);
	if (!used)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	while (n < want) {
		v = suggest_one(spec, p->seed, history->ntrials + n, used,
				total, &rc);
		if (!v)
			break;
		out[n++] = v;
		if (assignment_set_add(used, v) < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	assignment_set_free(used);
	if (rc) {
		while (n)
			assignment_values_free(out[--n], spec->nparams);
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	return (int)n;
}

const struct algorithm_ops algorithm_random = {
    .name = "random",
    .implemented = 1,
    .validate = random_validate,
    .create = random_create,
    .suggest = random_suggest,
    .save = random_save,
    .destroy = random_destroy,
};
