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

#include "algo_test_util.h"

#define ALGO "bayesianoptimization"

static void test_settings_rejected(void **state)
{
	static const char *const bad[][3] = {
		{ "base_estimator", "RF", "Gaussian process" },
		{ "base_estimator", "ET", "Gaussian process" },
		{ "base_estimator", "GBRT", "Gaussian process" },
		{ "base_estimator", "SVM", "base_estimator" },
		{ "n_initial_points", "-1", "n_initial_points" },
		{ "n_initial_points", "ten", "n_initial_points" },
		{ "acq_func", "EIps", "duration" },
		{ "acq_func", "PIps", "duration" },
		{ "acq_func", "UCB", "acq_func" },
		{ "acq_optimizer", "adam", "acq_optimizer" },
		{ "random_state", "-3", "random_state" },
		{ "kappa", "2", "kappa" },
	};
	struct fx f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_init(&f, ALGO);
		fx_box(&f, 2);
		fx_set(&f, bad[i][0], bad[i][1]);
		fx_expect_invalid(&f, bad[i][2]);
	}
}

static void test_settings_accepted(void **state)
{
	static const char *const acq[] = { "gp_hedge", "LCB", "EI", "PI" };
	static const char *const opt[] = { "auto", "sampling", "lbfgs" };
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
	fx_check_reproducible(ALGO, 25);
}

static void test_in_space(void **state)
{
	(void)state;
	fx_check_in_space(ALGO, 40);
}

static void test_no_duplicates(void **state)
{
	(void)state;
	fx_check_no_duplicates(ALGO);
}

static void test_round_trip(void **state)
{
	(void)state;
	fx_check_round_trip(ALGO, 14, 10);
}

/* Past REFIT_ALL (300) observations the factor is grown between refits and
 * kept in memory: a restarted instance rebuilds it from the history and
 * must suggest exactly what the uninterrupted one does. */
static void test_round_trip_incremental(void **state)
{
	(void)state;
	fx_check_round_trip(ALGO, 304, 12);
}

static void test_converges(void **state)
{
	(void)state;
	fx_check_converges(ALGO, 3, 30, 0.05);
}

/* Every acquisition function and optimiser finds the bowl. */
static void test_acq_variants(void **state)
{
	static const char *const acq[][2] = { { "EI", "auto" },
					      { "PI", "lbfgs" },
					      { "LCB", "auto" },
					      { "gp_hedge", "sampling" } };
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
	int seen[8] = { 0 }, k;
	size_t i;

	(void)state;
	fx_init(&f, ALGO);
	fx_add_param(&f, "u", PARAM_DOUBLE, 0, 8, 0, DIST_UNIFORM);
	fx_add_param(&f, "v", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
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
	assert_true(fx_unique_trials(&f));
	fx_free(&f);
}

/* Categoricals one-hot: the right category wins. */
static void test_categorical(void **state)
{
	(void)state;
	fx_check_categorical(ALGO, 30, 20, 7);
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
		cmocka_unit_test(test_round_trip_incremental),
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_acq_variants),
		cmocka_unit_test(test_initial_design),
		cmocka_unit_test(test_pending_batch),
		cmocka_unit_test(test_categorical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
