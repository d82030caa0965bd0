/*
 * medianstop.c - the median stopping rule (spec.earlyStopping medianstop).
 *
 * A running trial is stopped when, after at least start_step reports of the
 * objective, its best value so far is worse than the median of the best
 * values so far that the completed (Succeeded) trials had at the same step
 * (a completed trial with fewer reports counts with its final best). The
 * rule applies only once min_trials_required completed trials exist.
 *
 * Deviation from Katib: Katib's medianstop service averages the first
 * start_step values of each completed trial and takes the arithmetic MEAN of
 * those averages, despite the name. katibfs takes the MEDIAN of the
 * best-so-far values, as the name (and Golovin et al., "Google Vizier")
 * says: one outlier among the completed trials cannot move it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"

#define DEFAULT_MIN_TRIALS 3
#define DEFAULT_START_STEP 4

struct median_settings {
	long min_trials;
	long start_step;
};

static long es_setting(const struct experiment_spec *spec, const char *name,
		       long def)
{
	const struct algorithm_setting *s;
	long v;

	s = setting_find(&spec->early_stopping, name);
	if (!s || setting_int(s, 1, INT_MAX, &v, NULL))
		return def;
	return v;
}

static void median_settings(const struct experiment_spec *spec,
			    struct median_settings *m)
{
	m->min_trials =
		es_setting(spec, "min_trials_required", DEFAULT_MIN_TRIALS);
	m->start_step = es_setting(spec, "start_step", DEFAULT_START_STEP);
}

/* The best of the first n values of series (n clamped to its length). */
static double best_until(const double *series, size_t len, size_t n,
			 int maximize)
{
	double best = series[0];
	size_t i;

	if (n > len)
		n = len;
	for (i = 1; i < n; i++)
		if (maximize ? series[i] > best : series[i] < best)
			best = series[i];
	return best;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v in place; the median of n >= 1 values. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Best-so-far at `step` of every completed trial but self; returns the
 * count (vals has room for history->ntrials). */
static size_t completed_bests(const struct search_history *h,
			      const struct history_trial *self, size_t step,
			      int maximize, double *vals)
{
	size_t i, n = 0;

	for (i = 0; i < h->ntrials; i++) {
		const struct history_trial *t = &h->trials[i];

		if (t->number == self->number ||
		    t->state != HISTORY_SUCCEEDED || !t->nseries)
			continue;
		vals[n++] = best_until(t->series, t->nseries, step, maximize);
	}
	return n;
}

static int median_should_stop(const struct experiment_spec *spec,
			      const struct search_history *history,
			      const struct history_trial *self, char *why,
			      size_t why_size)
{
	int maximize = spec->objective.maximize;
	struct median_settings m;
	double *vals, mine, med;
	size_t n, step = self->nseries;
	int stop;

	median_settings(spec, &m);
	if (!step || step < (size_t)m.start_step || !history->ntrials)
		return 0;
	vals = malloc(history->ntrials * sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	n = completed_bests(history, self, step, maximize, vals);
	stop = 0;
	if (n && n >= (size_t)m.min_trials) {
		med = median(vals, n);
		mine = best_until(self->series, self->nseries, step, maximize);
		stop = maximize ? mine < med : mine > med;
		if (stop && why && why_size)
			snprintf(why, why_size,
				 "%s best %g after %zu steps is worse than the "
				 "median %g of %zu completed trials at step "
				 "%zu",
				 spec->objective.metric ? spec->objective.metric
							: "objective",
				 mine, step, med, n, step);
	}
	free(vals);
	return stop;
}

static int median_validate(const struct experiment_spec *spec,
			   struct kb_error *err)
{
	(void)spec;
	(void)err;
	return 0; /* early_stopping_validate() checks the settings */
}

const struct early_stopping_ops early_stopping_medianstop = {
	.name = "medianstop",
	.implemented = 1,
	.validate = median_validate,
	.should_stop = median_should_stop,
};
