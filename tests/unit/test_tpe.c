/* test_tpe.c - tpe and multivariate-tpe: settings, reproducibility,
 * feasibility over every parameter kind, no duplicates with pending
 * trials, and convergence against random search. */
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

#include "algo_test_util.h"

static char *cats[] = { "relu", "tanh", "gelu" };

static void expect_reject(const char *alg, const char *name, const char *value)
{
	struct tu_spec t;
	struct kb_error err;

	tu_init(&t, alg);
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	tu_set(&t, name, value);
	kb_error_clear(&err);
	assert_int_equal(algorithm_validate(&t.spec, &err), -EINVAL);
	if (!strstr(err.field, name) && !strstr(err.message, name))
		fail_msg("%s %s=%s: '%s: %s' does not name the setting", alg,
			 name, value, err.field, err.message);
}

static void expect_accept(const char *alg, const char *name, const char *value)
{
	struct tu_spec t;
	struct kb_error err;

	tu_init(&t, alg);
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	tu_set(&t, name, value);
	kb_error_clear(&err);
	if (algorithm_validate(&t.spec, &err))
		fail_msg("%s %s=%s rejected: %s", alg, name, value,
			 err.message);
}

static void test_tpe_settings(void **state)
{
	(void)state;
	expect_reject("tpe", "gamma", "0");
	expect_reject("tpe", "gamma", "1");
	expect_reject("tpe", "gamma", "-0.5");
	expect_reject("tpe", "gamma", "abc");
	expect_reject("tpe", "prior_weight", "0");
	expect_reject("tpe", "prior_weight", "-1");
	expect_reject("tpe", "prior_weight", "x");
	expect_reject("tpe", "n_EI_candidates", "0");
	expect_reject("tpe", "n_EI_candidates", "2.5");
	expect_reject("tpe", "random_state", "-1");
	expect_reject("tpe", "random_state", "seven");
	expect_reject("tpe", "n_startup_trials", "-1");
	expect_reject("tpe", "n_ei_candidates", "24"); /* Optuna's name */
	expect_reject("tpe", "bogus", "1");
	expect_accept("tpe", "gamma", "0.1");
	expect_accept("tpe", "prior_weight", "0.5");
	expect_accept("tpe", "n_EI_candidates", "48");
	expect_accept("tpe", "random_state", "0");
	expect_accept("tpe", "n_startup_trials", "0");
}

static void test_mtpe_settings(void **state)
{
	struct tu_spec t;
	struct kb_error err;

	(void)state;
	expect_reject("multivariate-tpe", "n_startup_trials", "-1");
	expect_reject("multivariate-tpe", "n_ei_candidates", "-2");
	expect_reject("multivariate-tpe", "n_ei_candidates", "many");
	expect_reject("multivariate-tpe", "random_state", "-3");
	expect_reject("multivariate-tpe", "n_EI_candidates", "24");
	expect_reject("multivariate-tpe", "gamma", "0.2");
	expect_accept("multivariate-tpe", "n_ei_candidates", "0");
	expect_accept("multivariate-tpe", "n_startup_trials", "5");
	tu_init(&t, "multivariate-tpe");
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_NORMAL);
	kb_error_clear(&err);
	assert_int_equal(algorithm_validate(&t.spec, &err), -EINVAL);
	assert_non_null(strstr(err.field, "distribution"));
}

/* Run n trials sequentially (batches of `batch`), objective f. */
typedef double (*objective_fn)(const struct experiment_spec *, char **);

static double run(const char *alg, struct tu_spec *t, int n, int batch,
		  objective_fn f, struct tu_history *th, const char *state)
{
	const struct algorithm_ops *ops = algorithm_find(alg);
	struct kb_error err;
	double best = INFINITY, y;
	char **out[16];
	void *priv;
	int i, k, got;

	assert_non_null(ops);
	assert_int_equal(ops->create(&t->spec, state, &priv, &err), 0);
	tu_history_init(th, t->spec.nparams);
	for (i = 0; i < n; i += got) {
		k = n - i < batch ? n - i : batch;
		got = ops->suggest(priv, &t->spec, &th->h, (size_t)k, out,
				   &err);
		assert_true(got > 0);
		for (k = 0; k < got; k++)
			tu_add(th, out[k]);
		for (k = 0; k < got; k++) {
			struct history_trial *x =
				&th->trials[th->h.ntrials - (size_t)got + k];

			y = f(&t->spec, x->values);
			tu_complete(x, y);
			best = y < best ? y : best;
		}
	}
	ops->destroy(priv);
	return best;
}

static double quad(const struct experiment_spec *s, char **v)
{
	double x = strtod(v[0], NULL), y = strtod(v[1], NULL);

	(void)s;
	return (x - 0.3) * (x - 0.3) + (y + 0.6) * (y + 0.6);
}

/* Depends on every parameter of the mixed spec, finite everywhere. */
static double mixed_obj(const struct experiment_spec *s, char **v)
{
	double t = 0;
	size_t i;

	for (i = 0; i < s->nparams; i++) {
		if (s->params[i].type == PARAM_CATEGORICAL)
			t += strcmp(v[i], "tanh") ? 1 : 0;
		else
			t += fabs(log1p(fabs(strtod(v[i], NULL))) - 0.5);
	}
	return t;
}

static void mixed_spec(struct tu_spec *t, const char *alg, int normals)
{
	tu_init(t, alg);
	tu_num(t, "lr", PARAM_DOUBLE, 1e-5, 1e-1, 0, DIST_LOG_UNIFORM);
	tu_num(t, "layers", PARAM_INT, 1, 9, 2, DIST_UNIFORM);
	tu_num(t, "units", PARAM_INT, 8, 512, 0, DIST_LOG_UNIFORM);
	tu_num(t, "drop", PARAM_DOUBLE, 0.1, 0.5, 0.05, DIST_UNIFORM);
	tu_list(t, "act", cats, 3);
	if (normals) {
		tu_num(t, "mom", PARAM_DOUBLE, 0.5, 0.99, 0, DIST_NORMAL);
		tu_num(t, "wd", PARAM_DOUBLE, 1e-6, 1e-2, 0, DIST_LOG_NORMAL);
		tu_num(t, "bs", PARAM_INT, 16, 256, 16, DIST_NORMAL);
	}
	tu_set(t, "random_state", "7");
}

static void check_feasible(const char *alg, int normals)
{
	struct tu_history th;
	struct tu_spec t;
	size_t i, j;

	mixed_spec(&t, alg, normals);
	run(alg, &t, 60, 3, mixed_obj, &th, NULL);
	for (i = 0; i < th.h.ntrials; i++)
		for (j = 0; j < t.spec.nparams; j++)
			if (!tu_feasible(&t.params[j], th.trials[i].values[j]))
				fail_msg("%s trial %zu: %s=%s is infeasible",
					 alg, i, t.params[j].name,
					 th.trials[i].values[j]);
	tu_history_free(&th);
}

static void test_feasible(void **state)
{
	(void)state;
	check_feasible("tpe", 1);
	check_feasible("multivariate-tpe", 0);
}

static void check_reproducible(const char *alg)
{
	struct tu_history a, b;
	struct tu_spec t;
	size_t i, j;

	mixed_spec(&t, alg, 0);
	run(alg, &t, 40, 2, mixed_obj, &a, NULL);
	run(alg, &t, 40, 2, mixed_obj, &b, NULL);
	for (i = 0; i < 40; i++)
		for (j = 0; j < t.spec.nparams; j++)
			assert_string_equal(a.trials[i].values[j],
					    b.trials[i].values[j]);
	tu_history_free(&a);
	tu_history_free(&b);
}

/* Same spec and history, a fresh instance: the same next suggestion. */
static void check_same_history(const char *alg)
{
	const struct algorithm_ops *ops = algorithm_find(alg);
	struct tu_history th;
	struct kb_error err;
	struct tu_spec t;
	char **x[1], **y[1];
	void *p, *q;
	size_t j;

	mixed_spec(&t, alg, 0);
	run(alg, &t, 25, 1, mixed_obj, &th, NULL);
	th.trials[24].state = HISTORY_PENDING; /* pending ones count too */
	assert_int_equal(ops->create(&t.spec, NULL, &p, &err), 0);
	assert_int_equal(ops->create(&t.spec, NULL, &q, &err), 0);
	assert_int_equal(ops->suggest(p, &t.spec, &th.h, 1, x, &err), 1);
	assert_int_equal(ops->suggest(q, &t.spec, &th.h, 1, y, &err), 1);
	for (j = 0; j < t.spec.nparams; j++)
		assert_string_equal(x[0][j], y[0][j]);
	assignment_values_free(x[0], t.spec.nparams);
	assignment_values_free(y[0], t.spec.nparams);
	ops->destroy(p);
	ops->destroy(q);
	tu_history_free(&th);
}

static void test_reproducible(void **state)
{
	(void)state;
	check_reproducible("tpe");
	check_reproducible("multivariate-tpe");
	check_same_history("tpe");
	check_same_history("multivariate-tpe");
}

static double small_obj(const struct experiment_spec *s, char **v)
{
	(void)s;
	return strtod(v[0], NULL) + (v[1][0] == 'r' ? 0 : 1);
}

/* 3 ints x 3 categories = 9 points; batches of 4 with pending trials:
 * 9 distinct assignments, then nothing more. */
static void check_no_duplicates(const char *alg)
{
	const struct algorithm_ops *ops = algorithm_find(alg);
	struct tu_history th;
	struct kb_error err;
	struct tu_spec t;
	char **out[4];
	size_t i, j, k;
	void *priv;
	int n;

	tu_init(&t, alg);
	tu_num(&t, "n", PARAM_INT, 1, 3, 0, DIST_UNIFORM);
	tu_list(&t, "act", cats, 3);
	tu_set(&t, "n_startup_trials", "2");
	assert_int_equal(ops->create(&t.spec, NULL, &priv, &err), 0);
	tu_history_init(&th, 2);
	for (k = 0; k < 3; k++) {
		n = ops->suggest(priv, &t.spec, &th.h, 4, out, &err);
		assert_true(n >= 0);
		for (i = 0; i < (size_t)n; i++)
			tu_add(&th, out[i]); /* pending */
		/* complete only the first of each batch */
		if (n > 0)
			tu_complete(
				&th.trials[th.h.ntrials - (size_t)n],
				small_obj(&t.spec,
					  th.trials[th.h.ntrials - (size_t)n]
						  .values));
	}
	assert_int_equal(th.h.ntrials, 9);
	for (i = 0; i < th.h.ntrials; i++)
		for (j = i + 1; j < th.h.ntrials; j++)
			if (!strcmp(th.trials[i].values[0],
				    th.trials[j].values[0]) &&
			    !strcmp(th.trials[i].values[1],
				    th.trials[j].values[1]))
				fail_msg("%s: trials %zu and %zu are the same",
					 alg, i, j);
	assert_int_equal(ops->suggest(priv, &t.spec, &th.h, 2, out, &err), 0);
	ops->destroy(priv);
	tu_history_free(&th);
}

static void test_no_duplicates(void **state)
{
	(void)state;
	check_no_duplicates("tpe");
	check_no_duplicates("multivariate-tpe");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_best(const char *alg, int seeds, int n)
{
	double best[16];
	struct tu_history th;
	struct tu_spec t;
	char seed[16];
	int s;

	for (s = 0; s < seeds; s++) {
		tu_init(&t, alg);
		tu_num(&t, "x", PARAM_DOUBLE, -2, 2, 0, DIST_UNIFORM);
		tu_num(&t, "y", PARAM_DOUBLE, -2, 2, 0, DIST_UNIFORM);
		snprintf(seed, sizeof(seed), "%d", s + 1);
		tu_set(&t, "random_state", seed);
		best[s] = run(alg, &t, n, 1, quad, &th, NULL);
		tu_history_free(&th);
	}
	qsort(best, (size_t)seeds, sizeof(double), cmp_double);
	return best[seeds / 2];
}

/* On a 2-D quadratic, 60 trials: TPE's median best must be well below
 * random search's (it is ~50x lower; 4x is the generous bound). */
static void test_convergence(void **state)
{
	double r = median_best("random", 7, 60);
	double a = median_best("tpe", 7, 60);
	double b = median_best("multivariate-tpe", 7, 60);

	(void)state;
	if (!(a < r / 4) || !(b < r / 4))
		fail_msg("median best: random %g, tpe %g, multivariate %g", r,
			 a, b);
}

/* A maximised objective is followed upwards. */
static double neg_quad(const struct experiment_spec *s, char **v)
{
	return -quad(s, v);
}

static void test_maximize(void **state)
{
	struct tu_history th;
	struct tu_spec t;
	double best = -INFINITY, y;
	size_t i;

	(void)state;
	tu_init(&t, "tpe");
	tu_num(&t, "x", PARAM_DOUBLE, -2, 2, 0, DIST_UNIFORM);
	tu_num(&t, "y", PARAM_DOUBLE, -2, 2, 0, DIST_UNIFORM);
	tu_set(&t, "random_state", "3");
	t.spec.objective.maximize = 1;
	/* run() records the objective as given; maximize flips the model */
	run("tpe", &t, 60, 1, neg_quad, &th, NULL);
	for (i = 0; i < th.h.ntrials; i++) {
		y = th.trials[i].objective;
		best = y > best ? y : best;
	}
	assert_true(best > -0.05);
	tu_history_free(&th);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tpe_settings),
		cmocka_unit_test(test_mtpe_settings),
		cmocka_unit_test(test_feasible),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_convergence),
		cmocka_unit_test(test_maximize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
