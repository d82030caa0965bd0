/* test_bayesopt.c - GP Bayesian optimisation: settings, space, duplicates,
 * state, convergence. */
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

/* ---- fixture shared by the model-based algorithm tests ---- */
struct fx {
	struct experiment_spec spec;
	struct param_spec params[8];
	struct algorithm_setting settings[8];
	struct history_trial *trials;
	size_t ntrials, cap;
	const struct algorithm_ops *ops;
	void *priv;
};

static char *cat_list[] = {"a", "b", "c"};

static void add_param(struct fx *f, const char *name, enum param_type type,
		      double lo, double hi, double step, enum distribution dist)
{
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

static void fx_init(struct fx *f, const char *algo)
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

static void fx_set(struct fx *f, const char *name, const char *value)
{
	f->settings[f->spec.algorithm.nsettings].name = (char *)name;
	f->settings[f->spec.algorithm.nsettings++].value = (char *)value;
}

/* A continuous box of n doubles in [-5, 5]. */
static void fx_box(struct fx *f, int n)
{
	static const char *names[] = {"x1", "x2", "x3", "x4", "x5", "x6"};
	int i;

	for (i = 0; i < n; i++)
		add_param(f, names[i], PARAM_DOUBLE, -5, 5, 0, DIST_UNIFORM);
}

static void fx_start(struct fx *f, const char *state)
{
	struct kb_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(f->ops->validate(&f->spec, &err), 0);
	assert_int_equal(f->ops->create(&f->spec, state, &f->priv, &err), 0);
}

static void fx_free(struct fx *f)
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
static int fx_ask(struct fx *f, size_t want)
{
	struct search_history h = {f->trials, f->ntrials};
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

static double sphere(const struct fx *f, char *const *v)
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

static void fx_finish(struct fx *f, size_t i, double y)
{
	f->trials[i].state = HISTORY_SUCCEEDED;
	f->trials[i].has_objective = 1;
	f->trials[i].objective = y;
}

/* n sequential trials on the sphere; returns the best value. */
static double fx_run(struct fx *f, size_t n)
{
	double best = INFINITY, y;

	while (f->ntrials < n) {
		assert_int_equal(fx_ask(f, 1), 1);
		y = sphere(f, f->trials[f->ntrials - 1].values);
		fx_finish(f, f->ntrials - 1, y);
		if (y < best)
			best = y;
	}
	return best;
}

static void expect_invalid(struct fx *f, const char *field_part)
{
	struct kb_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(f->ops->validate(&f->spec, &err), -EINVAL);
	if (!strstr(err.field, field_part) && !strstr(err.message, field_part))
		fail_msg("error '%s: %s' does not name '%s'", err.field,
			 err.message, field_part);
}

/* Same spec and seed: the same trials. */
static void check_reproducible(const char *algo, size_t n)
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
static void check_in_space(const char *algo, size_t n)
{
	struct fx f;
	char *const *v;
	double x;

	fx_init(&f, algo);
	add_param(&f, "lr", PARAM_DOUBLE, 1e-4, 1e-1, 0, DIST_LOG_UNIFORM);
	add_param(&f, "layers", PARAM_INT, 2, 20, 3, DIST_UNIFORM);
	add_param(&f, "drop", PARAM_DOUBLE, 0.1, 0.5, 0.05, DIST_UNIFORM);
	add_param(&f, "kind", PARAM_CATEGORICAL, 0, 0, 0, DIST_UNIFORM);
	add_param(&f, "units", PARAM_INT, -3, 40, 0, DIST_UNIFORM);
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
			      (strcmp(v[3], "c") ? 1 : 0) + fabs(x - 7) / 5);
	}
	fx_free(&f);
}

static int unique_trials(const struct fx *f)
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
static void check_no_duplicates(const char *algo)
{
	struct fx f;
	size_t i, done = 0;
	int n;

	fx_init(&f, algo);
	add_param(&f, "a", PARAM_INT, 1, 3, 0, DIST_UNIFORM);
	add_param(&f, "b", PARAM_INT, 0, 3, 0, DIST_UNIFORM);
	add_param(&f, "c", PARAM_CATEGORICAL, 0, 0, 0, DIST_UNIFORM);
	fx_set(&f, "random_state", "11");
	fx_start(&f, NULL);
	for (i = 0; i < 40 && f.ntrials < 36; i++) {
		n = fx_ask(&f, 3);
		if (!n && done == f.ntrials)
			break;
		assert_true(unique_trials(&f));
		if (done < f.ntrials) { /* the oldest pending one finishes */
			fx_finish(&f, done, sphere(&f, f.trials[done].values));
			done++;
		}
	}
	assert_true(unique_trials(&f));
	assert_true(f.ntrials >= 30);
	fx_free(&f);
}

/* save() -> create(state) continues exactly as the uninterrupted run. */
static void check_round_trip(const char *algo, size_t n1, size_t n2)
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
static void check_converges(const char *algo, int dims, size_t n, double bound)
{
	static const char *seeds[] = {"1", "2", "3", "4", "5"};
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

#define ALGO "bayesianoptimization"

static void test_settings_rejected(void **state)
{
	static const char *const bad[][3] = {
	    {"base_estimator", "RF", "Gaussian process"},
	    {"base_estimator", "ET", "Gaussian process"},
	    {"base_estimator", "GBRT", "Gaussian process"},
	    {"base_estimator", "SVM", "base_estimator"},
	    {"n_initial_points", "-1", "n_initial_points"},
	    {"n_initial_points", "ten", "n_initial_points"},
	    {"acq_func", "EIps", "duration"},
	    {"acq_func", "PIps", "duration"},
	    {"acq_func", "UCB", "acq_func"},
	    {"acq_optimizer", "adam", "acq_optimizer"},
	    {"random_state", "-3", "random_state"},
	    {"kappa", "2", "kappa"},
	};
	struct fx f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_init(&f, ALGO);
		fx_box(&f, 2);
		fx_set(&f, bad[i][0], bad[i][1]);
		expect_invalid(&f, bad[i][2]);
	}
}

static void test_settings_accepted(void **state)
{
	static const char *const acq[] = {"gp_hedge", "LCB", "EI", "PI"};
	static const char *const opt[] = {"auto", "sampling", "lbfgs"};
	struct kb_error err;
	struct fx f;
	int i, j;

	(void)state;
	for (i = 0; i < 4; i++)
		for (j = 0; j < 3; j++) {
			fx_init(&f, ALGO);
			fx_box(&f, 2); /* min < 0: skopt's log quirk not kept */
			fx_set(&f, "base_estimator", "GP");
			fx_set(&f, "acq_func", acq[i]);
			fx_set(&f, "acq_optimizer", opt[j]);
			fx_set(&f, "n_initial_points", "0");
			memset(&err, 0, sizeof(err));
			assert_int_equal(f.ops->validate(&f.spec, &err), 0);
		}
}

static void test_reproducible(void **state)
{
	(void)state;
	check_reproducible(ALGO, 25);
}

static void test_in_space(void **state)
{
	(void)state;
	check_in_space(ALGO, 40);
}

static void test_no_duplicates(void **state)
{
	(void)state;
	check_no_duplicates(ALGO);
}

static void test_round_trip(void **state)
{
	(void)state;
	check_round_trip(ALGO, 14, 10);
}

static void test_converges(void **state)
{
	(void)state;
	check_converges(ALGO, 3, 30, 0.05);
}

/* Every acquisition function and optimiser finds the bowl. */
static void test_acq_variants(void **state)
{
	static const char *const acq[][2] = {{"EI", "auto"},
					     {"PI", "lbfgs"},
					     {"LCB", "auto"},
					     {"gp_hedge", "sampling"}};
	struct fx f;
	double best;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		fx_init(&f, ALGO);
		fx_box(&f, 2);
		fx_set(&f, "random_state", "1");
		fx_set(&f, "acq_func", acq[i][0]);
		fx_set(&f, "acq_optimizer", acq[i][1]);
		fx_set(&f, "n_initial_points", "5");
		fx_start(&f, NULL);
		best = fx_run(&f, 25);
		print_message("%s/%s: best %g\n", acq[i][0], acq[i][1], best);
		assert_true(best < 0.1);
		fx_free(&f);
	}
}

/* The first n_initial_points come from the space-filling design: one per
 * stratum of every coordinate. */
static void test_initial_design(void **state)
{
	struct fx f;
	int seen[8] = {0}, k;
	size_t i;

	(void)state;
	fx_init(&f, ALGO);
	add_param(&f, "u", PARAM_DOUBLE, 0, 8, 0, DIST_UNIFORM);
	add_param(&f, "v", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	fx_set(&f, "random_state", "12");
	fx_set(&f, "n_initial_points", "8");
	fx_start(&f, NULL);
	assert_int_equal(fx_ask(&f, 8), 8); /* a batch: all initial */
	for (i = 0; i < 8; i++) {
		k = (int)floor(atof(f.trials[i].values[0]));
		assert_true(k >= 0 && k < 8);
		seen[k]++;
	}
	for (k = 0; k < 8; k++)
		assert_int_equal(seen[k], 1);
	fx_free(&f);
}

/* Pending trials: a parallel batch of distinct points, not piled up. */
static void test_pending_batch(void **state)
{
	struct fx f;
	size_t i, j;
	double d, dmin = INFINITY;

	(void)state;
	fx_init(&f, ALGO);
	fx_box(&f, 2);
	fx_set(&f, "random_state", "3");
	fx_set(&f, "n_initial_points", "6");
	fx_start(&f, NULL);
	fx_run(&f, 12);
	assert_int_equal(fx_ask(&f, 4), 4);
	for (i = 12; i < 16; i++)
		for (j = 12; j < i; j++) {
			d = hypot(atof(f.trials[i].values[0]) -
				      atof(f.trials[j].values[0]),
				  atof(f.trials[i].values[1]) -
				      atof(f.trials[j].values[1]));
			dmin = fmin(dmin, d);
		}
	assert_true(dmin > 1e-3);
	assert_true(unique_trials(&f));
	fx_free(&f);
}

/* Categoricals one-hot: the right category wins. */
static void test_categorical(void **state)
{
	struct fx f;
	size_t i, b = 0;

	(void)state;
	fx_init(&f, ALGO);
	fx_box(&f, 2);
	add_param(&f, "kind", PARAM_CATEGORICAL, 0, 0, 0, DIST_UNIFORM);
	fx_set(&f, "random_state", "6");
	fx_start(&f, NULL);
	fx_run(&f, 30);
	for (i = 20; i < 30; i++)
		b += !strcmp(f.trials[i].values[2], "b");
	assert_true(b >= 7);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settings_rejected),
	    cmocka_unit_test(test_settings_accepted),
	    cmocka_unit_test(test_reproducible),
	    cmocka_unit_test(test_in_space),
	    cmocka_unit_test(test_no_duplicates),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_converges),
	    cmocka_unit_test(test_acq_variants),
	    cmocka_unit_test(test_initial_design),
	    cmocka_unit_test(test_pending_batch),
	    cmocka_unit_test(test_categorical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
