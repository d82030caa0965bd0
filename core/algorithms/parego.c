/*
 * parego.c - ParEGO's random scalarisations of several objectives for a
 * single-objective algorithm. See core/algorithms/parego.h.
 *
 * Owns nothing past a call: the scalarised copy of the history is freed
 * before parego_suggest() returns; the assignments go to the caller.
 */
#include "algorithms/parego.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RHO 0.05 /* Knowles's augmentation: ties broken by the sum */

/* A weight vector uniform on the simplex: normalised exponentials. */
static void draw_weights(struct rng *r, double *w, size_t m)
{
	double sum = 0;
	size_t j;

	for (j = 0; j < m; j++) {
		w[j] = -log(1 - rng_uniform(r));
		sum += w[j];
	}
	for (j = 0; j < m; j++)
		w[j] /= sum;
}

/* Per objective, the range of the observed losses. */
static void loss_range(const struct experiment_spec *spec,
		       const struct history_trial *t, size_t n, double *lo,
		       double *hi)
{
	size_t i, j, m = spec_objective_count(spec);
	double v;
	int max;

	for (j = 0; j < m; j++) {
		lo[j] = INFINITY;
		hi[j] = -INFINITY;
	}
	for (i = 0; i < n; i++) {
		if (!t[i].objectives || t[i].state == HISTORY_PENDING)
			continue;
		for (j = 0; j < m; j++) {
			spec_objective(spec, j, &max);
			v = max ? -t[i].objectives[j] : t[i].objectives[j];
			lo[j] = v < lo[j] ? v : lo[j];
			hi[j] = v > hi[j] ? v : hi[j];
		}
	}
}

/* Each observed entry's objective := the augmented Tchebycheff value of its
 * normalised losses under weights w (as the spec's first objective reads
 * it: negated when that one is maximised). */
static void scalarise(const struct experiment_spec *spec,
		      struct history_trial *t, size_t n, const double *w)
{
	double lo[SPEC_MAX_OBJECTIVES], hi[SPEC_MAX_OBJECTIVES], f, big, sum;
	size_t i, j, m = spec_objective_count(spec);
	int max;

	loss_range(spec, t, n, lo, hi);
	for (i = 0; i < n; i++) {
		if (t[i].state == HISTORY_PENDING)
			continue;
		t[i].has_objective = t[i].objectives != NULL;
		if (!t[i].objectives)
			continue;
		big = -INFINITY;
		sum = 0;
		for (j = 0; j < m; j++) {
			spec_objective(spec, j, &max);
			f = max ? -t[i].objectives[j] : t[i].objectives[j];
			f = hi[j] > lo[j] ? (f - lo[j]) / (hi[j] - lo[j]) : 0;
			big = w[j] * f > big ? w[j] * f : big;
			sum += w[j] * f;
		}
		f = big + RHO * sum;
		t[i].objective = spec->objective.maximize ? -f : f;
	}
}

int parego_suggest(void *priv, const struct experiment_spec *spec,
		   const struct search_history *history, size_t want,
		   char ***out, struct kb_error *err, parego_inner_fn inner,
		   uint64_t seed)
{
	size_t n = history->ntrials, k = 0;
	double w[SPEC_MAX_OBJECTIVES];
	struct history_trial *aug;
	struct search_history h;
	struct rng r;
	int rc = 0;

	if (spec_objective_count(spec) < 2)
		return inner(priv, spec, history, want, out, err);
	aug = malloc((n + want + 1) * sizeof(*aug));
	if (!aug)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	if (n)
		memcpy(aug, history->trials, n * sizeof(*aug));
	for (k = 0; k < want; k++) {
		rng_seed(&r, seed ^ seed_mix64(n + k + 0x9a7e60ULL));
		draw_weights(&r, w, spec_objective_count(spec));
		scalarise(spec, aug, n + k, w);
		h.trials = aug;
		h.ntrials = n + k;
		rc = inner(priv, spec, &h, 1, out + k, err);
		if (rc != 1)
			break;
		memset(&aug[n + k], 0, sizeof(*aug));
		aug[n + k].values = out[k];
		aug[n + k].state = HISTORY_PENDING;
		aug[n + k].number = (int)(n + k + 1);
	}
	free(aug);
	if (rc < 0) {
		while (k)
			assignment_values_free(out[--k], spec->nparams);
		return rc;
	}
	return (int)k;
}
