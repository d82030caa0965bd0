/*
 * grid.c - grid search (Katib's optuna GridSampler service).
 *
 * The grid is the Cartesian product of every parameter's points (ints:
 * range(min, max+1, step); doubles: min + i*step <= max; lists), numbered
 * as a mixed-radix counter with the first parameter varying slowest. Each
 * suggestion is the next point, in that order or, with random_state, in a
 * seeded permutation of it, that no trial in the history has: restarts
 * and failed trials need no state of our own. When every point has been
 * used, fewer than `want` come back (the search is exhausted).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"

#define FEISTEL_ROUNDS 4

struct grid_priv {
	int shuffle;
	uint64_t seed;
};

static const struct setting_rule grid_rules[] = {
	{ "random_state", SETTING_INT, 0, INFINITY, 0, NULL },
	{ .name = NULL },
};

static int grid_param_check(const struct param_spec *p, size_t i,
			    struct kb_error *err)
{
	char field[96];

	if (param_grid_size(p))
		return 0;
	if (p->type == PARAM_DOUBLE && !(p->step_value > 0)) {
		snprintf(field, sizeof(field),
			 "spec.parameters[%zu].feasibleSpace.step", i);
		return kb_error_set(err, -EINVAL, field, 0,
				    "grid needs a step for double parameter "
				    "'%s'",
				    p->name ? p->name : "");
	}
	snprintf(field, sizeof(field), "spec.parameters[%zu].feasibleSpace", i);
	return kb_error_set(err, -EINVAL, field, 0,
			    "parameter '%s' has no grid points",
			    p->name ? p->name : "");
}

static int grid_validate(const struct experiment_spec *spec,
			 struct kb_error *err)
{
	size_t i, total;
	int rc;

	rc = settings_validate(&spec->algorithm, grid_rules, 0, err);
	for (i = 0; !rc && i < spec->nparams; i++)
		rc = grid_param_check(&spec->params[i], i, err);
	if (rc)
		return rc;
	total = search_space_grid_size(spec);
	if (spec->max_trial_count > 0 && (size_t)spec->max_trial_count > total)
		return kb_error_set(err, -EINVAL, "spec.maxTrialCount", 0,
				    "%d is more than the %zu combinations of "
				    "the grid search space",
				    spec->max_trial_count, total);
	return 0;
}

static int grid_create(const struct experiment_spec *spec, const char *state,
		       void **priv, struct kb_error *err)
{
	struct grid_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	p->shuffle = setting_random_state(spec, &p->seed);
	*priv = p;
	return 0;
}

/* Stateless: the history is the state. */
static char *grid_save(void *priv)
{
	return NULL;
}

static void grid_destroy(void *priv)
{
	free(priv);
}

/* A seeded bijection on [0, 2^(2*half)) (balanced Feistel network). */
static uint64_t feistel(uint64_t x, int half, uint64_t seed)
{
	uint64_t mask = half >= 32 ? UINT32_MAX : ((uint64_t)1 << half) - 1;
	uint64_t l = (x >> half) & mask, r = x & mask, t;
	int i;

	for (i = 0; i < FEISTEL_ROUNDS; i++) {
		t = r;
		r = l ^ (seed_mix64((seed ^ (r + ((uint64_t)i << 58))) +
				    0x9e3779b97f4a7c15ULL) &
			 mask);
		l = t;
	}
	return (l << half) | r;
}

/* The i-th point of a seeded permutation of [0, n) (cycle walking). */
static size_t permute(size_t i, size_t n, uint64_t seed)
{
	int bits = 1, half;
	uint64_t x = i;

	while (bits < 64 && ((uint64_t)1 << bits) < n)
		bits++;
	half = (bits + 1) / 2;
	do
		x = feistel(x, half, seed);
	while (x >= n);
	return (size_t)x;
}

struct grid_cursor {
	const struct grid_priv *p;
	size_t i; /* the next point of the (permuted) order to try */
};

/* The next point in grid order that `used` does not hold. */
static char **next_unused(void *ctx, const struct experiment_spec *spec,
			  uint64_t k, const struct assignment_set *used,
			  size_t total, int *rc)
{
	struct grid_cursor *c = ctx;
	char **v;

	for (; c->i < total; c->i++) {
		v = search_space_grid_point(
			spec, c->p->shuffle ? permute(c->i, total, c->p->seed)
					    : c->i);
		if (!v) {
			*rc = -ENOMEM;
			return NULL;
		}
		if (!assignment_set_contains(used, v)) {
			c->i++;
			return v;
		}
		assignment_values_free(v, spec->nparams);
	}
	return NULL;
}

static int grid_suggest(void *priv, const struct experiment_spec *spec,
			const struct search_history *history, size_t want,
			char ***out, struct kb_error *err)
{
	struct grid_cursor c = { priv, 0 };

	return search_suggest_distinct(spec, history, want, out, err,
				       next_unused, &c);
}

const struct algorithm_ops algorithm_grid = {
	.name = "grid",
	.implemented = 1,
	.validate = grid_validate,
	.create = grid_create,
	.suggest = grid_suggest,
	.save = grid_save,
	.destroy = grid_destroy,
	.multi_objective = 1,
};
