/*
 * algo_test_util.h - spec, history and run helpers shared by the search
 * algorithm unit tests (specs built by hand, as test_algorithm.c does).
 * Each tests/unit/test_*.c is built alone, so everything here is static
 * inline.
 *
 *   tu_*  a spec and a fixed-size history by hand (test_tpe.c,
 *         test_sobol.c);
 *   fx_*  an algorithm, its spec and a growing history driven on a
 *         sphere, and the check_* cases every model-based algorithm
 *         passes (test_bayesopt.c, test_cmaes.c).
 */
#ifndef ALGO_TEST_UTIL_H
#define ALGO_TEST_UTIL_H

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "katib/algorithm.h"

/* ---- tu_*: hand-built spec and history ---- */

#define TU_MAXP 8
#define TU_MAXS 8
#define TU_MAXH 512

struct tu_spec {
	struct experiment_spec spec;
	struct param_spec params[TU_MAXP];
	struct algorithm_setting settings[TU_MAXS];
};

static inline void tu_init(struct tu_spec *t, const char *algorithm)
{
	memset(t, 0, sizeof(*t));
	t->spec.params = t->params;
	t->spec.algorithm.name = (char *)algorithm;
	t->spec.algorithm.settings = t->settings;
	t->spec.parallel_trial_count = 3;
	t->spec.max_trial_count = -1;
	t->spec.max_failed_trial_count = -1;
}

static inline struct param_spec *tu_num(struct tu_spec *t, const char *name,
					enum param_type ty, double min,
					double max, double step,
					enum distribution dist)
{
	struct param_spec *p = &t->params[t->spec.nparams++];

	memset(p, 0, sizeof(*p));
	p->name = (char *)name;
	p->type = ty;
	p->min_value = min;
	p->max_value = max;
	p->step_value = step;
	p->distribution = dist;
	return p;
}

static inline void tu_list(struct tu_spec *t, const char *name, char **list,
			   size_t n)
{
	struct param_spec *p = &t->params[t->spec.nparams++];

	memset(p, 0, sizeof(*p));
	p->name = (char *)name;
	p->type = PARAM_CATEGORICAL;
	p->list = list;
	p->nlist = n;
}

static inline void tu_set(struct tu_spec *t, const char *name,
			  const char *value)
{
	t->settings[t->spec.algorithm.nsettings].name = (char *)name;
	t->settings[t->spec.algorithm.nsettings].value = (char *)value;
	t->spec.algorithm.nsettings++;
}

struct tu_history {
	struct history_trial trials[TU_MAXH];
	struct search_history h;
	size_t nparams;
};

static inline void tu_history_init(struct tu_history *th, size_t nparams)
{
	memset(th, 0, sizeof(*th));
	th->h.trials = th->trials;
	th->nparams = nparams;
}

static inline void tu_history_free(struct tu_history *th)
{
	size_t i;

	for (i = 0; i < th->h.ntrials; i++)
		assignment_values_free(th->trials[i].values, th->nparams);
	th->h.ntrials = 0;
}

/* Append `values` (owned by the history) as pending. */
static inline struct history_trial *tu_add(struct tu_history *th, char **values)
{
	struct history_trial *t = &th->trials[th->h.ntrials++];

	memset(t, 0, sizeof(*t));
	t->values = values;
	t->state = HISTORY_PENDING;
	t->number = (int)th->h.ntrials;
	return t;
}

static inline void tu_complete(struct history_trial *t, double objective)
{
	t->state = HISTORY_SUCCEEDED;
	t->has_objective = 1;
	t->objective = objective;
}

/* 1 if s is a value of p (type, bounds, step, list). */
static inline int tu_feasible(const struct param_spec *p, const char *s)
{
	char *end;
	double v, k, lo;
	size_t i;

	if (!s)
		return 0;
	if (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE) {
		for (i = 0; i < p->nlist; i++)
			if (!strcmp(p->list[i], s))
				return 1;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || *end || v < p->min_value - 1e-12 ||
	    v > p->max_value + 1e-12)
		return 0;
	if (p->type == PARAM_INT && (strchr(s, '.') || strchr(s, 'e')))
		return 0;
	if (p->step_value > 0) {
		lo = p->type == PARAM_INT ? ceil(p->min_value) : p->min_value;
		k = (v - lo) / p->step_value;
		if (fabs(k - nearbyint(k)) > 1e-6)
			return 0;
	}
	return 1;
}

/* ---- fx_*: fixture shared by the model-based algorithm tests ---- */
struct fx {
	struct experiment_spec spec;
	struct param_spec params[8];
	struct algorithm_setting settings[8];
	struct history_trial *trials;
	size_t ntrials, cap;
	const struct algorithm_ops *ops;
	void *priv;
};

static inline void fx_add_param(struct fx *f, const char *name,
				enum param_type type, double lo, double hi,
				double step, enum distribution dist)
{
	static char *cat_list[] = { "a", "b", "c" };
	struct param_spec *p = &f->params[f->spec.nparams++];
	static char buf[64][32];
	static int nb;

	memset(p, 0, sizeof(*p));
	p->name = (char *)name;
	p->type = type;
	p->distribution = dist;
	if (type == PARAM_CATEGORICAL) {
		p->list = cat_list;
		p->nlist = 3;
		return;
	}
	p->min_value = lo;
	p->max_value = hi;
	p->step_value = step;
	snprintf(buf[nb % 64], 32, "%g", lo);
	p->min = buf[nb++ % 64];
	snprintf(buf[nb % 64], 32, "%g", hi);
	p->max = buf[nb++ % 64];
}

static inline void fx_init(struct fx *f, const char *algo)
{
	memset(f, 0, sizeof(*f));
	f->spec.params = f->params;
	f->spec.algorithm.name = (char *)algo;
	f->spec.algorithm.settings = f->settings;
	f->spec.objective.metric = "loss";
	f->ops = algorithm_find(algo);
	assert_non_null(f->ops);
	assert_true(f->ops->implemented);
}

static inline void fx_set(struct fx *f, const char *name, const char *value)
{
	f->settings[f->spec.algorithm.nsettings].name = (char *)name;
	f->settings[f->spec.algorithm.nsettings++].value = (char *)value;
}

/* A continuous box of n doubles in [-5, 5]. */
static inline void fx_box(struct fx *f, int n)
{
	static const char *names[] = { "x1", "x2", "x3", "x4", "x5", "x6" };
	int i;

	for (i = 0; i < n; i++)
		fx_add_param(f, names[i], PARAM_DOUBLE, -5, 5, 0, DIST_UNIFORM);
}

static inline void fx_start(struct fx *f, const char *state)
{
	struct kb_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(f->ops->validate(&f->spec, &err), 0);
	assert_int_equal(f->ops->create(&f->spec, state, &f->priv, &err), 0);
}

static inline void fx_free(struct fx *f)
{
	size_t i;

	if (f->priv)
		f->ops->destroy(f->priv);
	f->priv = NULL;
	for (i = 0; i < f->ntrials; i++)
		assignment_values_free(f->trials[i].values, f->spec.nparams);
	free(f->trials);
	f->trials = NULL;
	f->ntrials = f->cap = 0;
}

/* Ask for up to want; appends them as PENDING trials; returns how many. */
static inline int fx_ask(struct fx *f, size_t want)
{
	struct search_history h = { f->trials, f->ntrials };
	char **out[16];
	struct kb_error err;
	int n, i;

	memset(&err, 0, sizeof(err));
	n = f->ops->suggest(f->priv, &f->spec, &h, want, out, &err);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (f->ntrials == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 64;
			f->trials =
				realloc(f->trials, f->cap * sizeof(*f->trials));
			assert_non_null(f->trials);
		}
		memset(&f->trials[f->ntrials], 0, sizeof(*f->trials));
		f->trials[f->ntrials].values = out[i];
		f->trials[f->ntrials].state = HISTORY_PENDING;
		f->trials[f->ntrials].number = (int)f->ntrials + 1;
		f->ntrials++;
	}
	return n;
}

static inline double fx_sphere(const struct fx *f, char *const *v)
{
	double s = 0, x;
	size_t i;

	for (i = 0; i < f->spec.nparams; i++) {
		if (f->params[i].type == PARAM_CATEGORICAL) {
			s += strcmp(v[i], "b") ? 4 : 0;
			continue;
		}
		x = atof(v[i]) - 1;
		s += x * x;
	}
	return s;
}

static inline void fx_finish(struct fx *f, size_t i, double y)
{
	f->trials[i].state = HISTORY_SUCCEEDED;
	f->trials[i].has_objective = 1;
	f->trials[i].objective = y;
}

/* n sequential trials on the sphere; returns the best value. */
static inline double fx_run(struct fx *f, size_t n)
{
	double best = INFINITY, y;

	while (f->ntrials < n) {
		assert_int_equal(fx_ask(f, 1), 1);
		y = fx_sphere(f, f->trials[f->ntrials - 1].values);
		fx_finish(f, f->ntrials - 1, y);
		if (y < best)
			best = y;
	}
	return best;
}

static inline void fx_expect_invalid(struct fx *f, const char *field_part)
{
	struct kb_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(f->ops->validate(&f->spec, &err), -EINVAL);
	if (!strstr(err.field, field_part) && !strstr(err.message, field_part))
		fail_msg("error '%s: %s' does not name '%s'", err.field,
			 err.message, field_part);
}

/* Same spec and seed: the same trials. */
static inline void fx_check_reproducible(const char *algo, size_t n)
{
	struct fx a, b;
	size_t i, j;

	fx_init(&a, algo);
	fx_box(&a, 3);
	fx_set(&a, "random_state", "7");
	fx_start(&a, NULL);
	fx_run(&a, n);
	fx_init(&b, algo);
	fx_box(&b, 3);
	fx_set(&b, "random_state", "7");
	fx_start(&b, NULL);
	fx_run(&b, n);
	for (i = 0; i < n; i++)
		for (j = 0; j < 3; j++)
			assert_string_equal(a.trials[i].values[j],
					    b.trials[i].values[j]);
	fx_free(&a);
	fx_free(&b);
}

/* Every suggestion is inside the space: types, bounds, steps, lists. */
static inline void fx_check_in_space(const char *algo, size_t n)
{
	struct fx f;
	char *const *v;
	double x;

	fx_init(&f, algo);
	fx_add_param(&f, "lr", PARAM_DOUBLE, 1e-4, 1e-1, 0, DIST_LOG_UNIFORM);
	fx_add_param(&f, "layers", PARAM_INT, 2, 20, 3, DIST_UNIFORM);
	fx_add_param(&f, "drop", PARAM_DOUBLE, 0.1, 0.5, 0.05, DIST_UNIFORM);
	fx_add_param(&f, "kind", PARAM_CATEGORICAL, 0, 0, 0, DIST_UNIFORM);
	fx_add_param(&f, "units", PARAM_INT, -3, 40, 0, DIST_UNIFORM);
	fx_set(&f, "random_state", "3");
	fx_start(&f, NULL);
	while (f.ntrials < n) {
		assert_int_equal(fx_ask(&f, 1), 1);
		v = f.trials[f.ntrials - 1].values;
		x = atof(v[0]);
		assert_true(x >= 1e-4 && x <= 1e-1);
		x = atof(v[1]);
		assert_true(x >= 2 && x <= 20 && fmod(x - 2, 3) == 0);
		assert_null(strchr(v[1], '.'));
		x = atof(v[2]);
		assert_true(x >= 0.1 - 1e-12 && x <= 0.5 + 1e-12);
		assert_true(fabs(x / 0.05 - nearbyint(x / 0.05)) < 1e-9);
		assert_true(!strcmp(v[3], "a") || !strcmp(v[3], "b") ||
			    !strcmp(v[3], "c"));
		x = atof(v[4]);
		assert_true(x >= -3 && x <= 40 && x == nearbyint(x));
		fx_finish(&f, f.ntrials - 1,
			  fabs(log10(atof(v[0])) + 2) + atof(v[1]) / 10 +
				  (strcmp(v[3], "c") ? 1 : 0) +
				  fabs(x - 7) / 5);
	}
	fx_free(&f);
}

static inline int fx_unique_trials(const struct fx *f)
{
	size_t i, j;

	for (i = 0; i < f->ntrials; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(f->trials[i].values[0],
				    f->trials[j].values[0]) &&
			    !strcmp(f->trials[i].values[1],
				    f->trials[j].values[1]) &&
			    !strcmp(f->trials[i].values[2],
				    f->trials[j].values[2]))
				return 0;
	return 1;
}

/* A 3 x 4 x 3 = 36 point space, parallel batches with pending trials:
 * never a duplicate, and it can be used up. */
static inline void fx_check_no_duplicates(const char *algo)
{
	struct fx f;
	size_t i, done = 0;
	int n;

	fx_init(&f, algo);
	fx_add_param(&f, "a", PARAM_INT, 1, 3, 0, DIST_UNIFORM);
	fx_add_param(&f, "b", PARAM_INT, 0, 3, 0, DIST_UNIFORM);
	fx_add_param(&f, "c", PARAM_CATEGORICAL, 0, 0, 0, DIST_UNIFORM);
	fx_set(&f, "random_state", "11");
	fx_start(&f, NULL);
	for (i = 0; i < 40 && f.ntrials < 36; i++) {
		n = fx_ask(&f, 3);
		if (!n && done == f.ntrials)
			break;
		assert_true(fx_unique_trials(&f));
		if (done < f.ntrials) { /* the oldest pending one finishes */
			fx_finish(&f, done,
				  fx_sphere(&f, f.trials[done].values));
			done++;
		}
	}
	assert_true(fx_unique_trials(&f));
	assert_true(f.ntrials >= 30);
	fx_free(&f);
}

/* save() -> create(state) continues exactly as the uninterrupted run. */
static inline void fx_check_round_trip(const char *algo, size_t n1, size_t n2)
{
	struct fx a, b;
	char *state;
	size_t i, j;

	fx_init(&a, algo);
	fx_box(&a, 3);
	fx_set(&a, "random_state", "5");
	fx_start(&a, NULL);
	fx_run(&a, n1 + n2);
	fx_init(&b, algo);
	fx_box(&b, 3);
	fx_set(&b, "random_state", "5");
	fx_start(&b, NULL);
	fx_run(&b, n1);
	state = b.ops->save(b.priv);
	assert_non_null(state);
	b.ops->destroy(b.priv);
	b.priv = NULL;
	assert_int_equal(b.ops->create(&b.spec, state, &b.priv, NULL), 0);
	free(state);
	fx_run(&b, n1 + n2);
	for (i = 0; i < n1 + n2; i++)
		for (j = 0; j < 3; j++)
			assert_string_equal(a.trials[i].values[j],
					    b.trials[i].values[j]);
	fx_free(&a);
	fx_free(&b);
}

/* Median best over seeds of `algo` and of random search. */
static inline void fx_check_converges(const char *algo, int dims, size_t n,
				      double bound)
{
	static const char *seeds[] = { "1", "2", "3", "4", "5" };
	double best[5], rnd[5], t;
	struct fx f;
	int s, i, j;

	for (s = 0; s < 5; s++) {
		fx_init(&f, algo);
		fx_box(&f, dims);
		fx_set(&f, "random_state", seeds[s]);
		fx_start(&f, NULL);
		best[s] = fx_run(&f, n);
		fx_free(&f);
		fx_init(&f, "random");
		fx_box(&f, dims);
		fx_set(&f, "random_state", seeds[s]);
		fx_start(&f, NULL);
		rnd[s] = fx_run(&f, n);
		fx_free(&f);
	}
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++) {
			if (best[j] < best[i]) {
				t = best[i];
				best[i] = best[j];
				best[j] = t;
			}
			if (rnd[j] < rnd[i]) {
				t = rnd[i];
				rnd[i] = rnd[j];
				rnd[j] = t;
			}
		}
	print_message("%s: median best %g, random %g (bound %g)\n", algo,
		      best[2], rnd[2], bound);
	assert_true(best[2] < bound);
	assert_true(best[2] < rnd[2] / 10);
}

/* A box of 2 and a categorical whose best value is "b": over n trials,
 * trials from..n-1 pick "b" at least min_b times. */
static inline void fx_check_categorical(const char *algo, size_t n, size_t from,
					size_t min_b)
{
	struct fx f;
	size_t i, b = 0;

	fx_init(&f, algo);
	fx_box(&f, 2);
	fx_add_param(&f, "kind", PARAM_CATEGORICAL, 0, 0, 0, DIST_UNIFORM);
	fx_set(&f, "random_state", "6");
	fx_start(&f, NULL);
	fx_run(&f, n);
	for (i = from; i < n; i++)
		b += !strcmp(f.trials[i].values[2], "b");
	assert_true(b >= min_b);
	fx_free(&f);
}

#endif
