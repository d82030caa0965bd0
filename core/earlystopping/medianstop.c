/*
 * medianstop.c - the median stopping rule (spec.earlyStopping medianstop).
 *
 * A running trial is stopped when, after at least start_step reports of the
 * objective, its best value so far is worse than the median of the best
 * values so far that the completed (Succeeded) trials had at the same step
 * (a completed trial with fewer reports counts with its final best). The
 * rule applies only once min_trials_required completed trials exist.
 * Every observation is judged in order, as Katib's metrics collector
 * judges every line: a trial that printed many at once is stopped at the
 * first step where it was worse, not judged by its last one only.
 *
 * Deviation from Katib: Katib's medianstop service averages the first
 * start_step values of each completed trial and takes the arithmetic MEAN of
 * those averages, despite the name. katibfs takes the MEDIAN of the
 * best-so-far values, as the name (and Golovin et al., "Google Vizier")
 * says: one outlier among the completed trials cannot move it.
 *
 * Owns nothing past a call: its work arrays are freed before it returns.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earlystopping/medianstop.h"
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

void medianstop_settings(const struct experiment_spec *spec, long *min_trials,
			 long *start_step)
{
	struct median_settings m;

	median_settings(spec, &m);
	*min_trials = m.min_trials;
	*start_step = m.start_step;
}

/* The best of the first n values of series (n clamped to its length;
 * n >= 1). */
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

/* best, moved on by the value at index `at` of series if it has one. */
static double best_step(double best, const double *series, size_t len,
			size_t at, int maximize)
{
	if (at >= len)
		return best;
	return (maximize ? series[at] > best : series[at] < best) ? series[at]
								  : best;
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

/* The completed (Succeeded) trials with observations, but self; returns
 * the count (done has room for history->ntrials). */
static size_t completed(const struct search_history *h,
			const struct history_trial *self,
			const struct history_trial **done)
{
	size_t i, n = 0;

	for (i = 0; i < h->ntrials; i++) {
		const struct history_trial *t = &h->trials[i];

		if (t->number != self->number &&
		    t->state == HISTORY_SUCCEEDED && t->nseries)
			done[n++] = t;
	}
	return n;
}

struct median_walk {
	const struct history_trial **done; /* completed trials */
	double *bests;			   /* their best so far at `step` */
	double *sorted;			   /* scratch for the median */
	size_t n, step;
	double mine; /* self's best so far at `step` */
};

/* Move every best-so-far from `step` to step + 1. */
static void walk_next(struct median_walk *w, const struct history_trial *self,
		      int maximize)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		w->bests[i] = best_step(w->bests[i], w->done[i]->series,
					w->done[i]->nseries, w->step, maximize);
	w->mine = best_step(w->mine, self->series, self->nseries, w->step,
			    maximize);
	w->step++;
}

/* Position the walk at step `first` (>= 1). */
static void walk_start(struct median_walk *w, const struct history_trial *self,
		       size_t first, int maximize)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		w->bests[i] = best_until(w->done[i]->series,
					 w->done[i]->nseries, first, maximize);
	w->mine = best_until(self->series, self->nseries, first, maximize);
	w->step = first;
}

/*
 * Judge steps first..self->nseries in order; returns the first step at
 * which self's best so far is worse than the median of the completed
 * trials' (*med set), or 0.
 */
static size_t first_bad_step(struct median_walk *w,
			     const struct history_trial *self, size_t first,
			     int maximize, double *med)
{
	walk_start(w, self, first, maximize);
	for (;;) {
		memcpy(w->sorted, w->bests, w->n * sizeof(*w->sorted));
		*med = median(w->sorted, w->n);
		if (maximize ? w->mine < *med : w->mine > *med)
			return w->step;
		if (w->step >= self->nseries)
			return 0;
		walk_next(w, self, maximize);
	}
}

static int median_should_stop(const struct experiment_spec *spec,
			      const struct search_history *history,
			      const struct history_trial *self, size_t judged,
			      char *why, size_t why_size)
{
	int maximize = spec->objective.maximize;
	struct median_settings m;
	struct median_walk w = { 0 };
	size_t first, step = 0;
	double med = 0;
	int rc = 0;

	median_settings(spec, &m);
	first = judged + 1 > (size_t)m.start_step ? judged + 1
						  : (size_t)m.start_step;
	if (first > self->nseries || !history->ntrials)
		return 0;
	w.done = malloc(history->ntrials * sizeof(*w.done));
	w.bests = malloc(history->ntrials * sizeof(*w.bests));
	w.sorted = malloc(history->ntrials * sizeof(*w.sorted));
	if (!w.done || !w.bests || !w.sorted) {
		rc = -ENOMEM;
		goto out;
	}
	w.n = completed(history, self, w.done);
	if (w.n && w.n >= (size_t)m.min_trials)
		step = first_bad_step(&w, self, first, maximize, &med);
	if (step && why && why_size)
		snprintf(why, why_size,
			 "%s best %g after %zu steps is worse than the median "
			 "%g of %zu completed trials at step %zu",
			 spec->objective.metric ? spec->objective.metric
						: "objective",
			 w.mine, step, med, w.n, step);
	rc = step ? 1 : 0;
out:
	free(w.done);
	free(w.bests);
	free(w.sorted);
	return rc;
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
