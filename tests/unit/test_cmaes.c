/* test_cmaes.c - CMA-ES: settings, space, duplicates, state, convergence. */
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

#define ALGO "cmaes"

static void test_settings_rejected(void **state)
{
	static const char *const bad[][2] = {
		{ "random_state", "1.5" }, { "random_state", "x" },
		{ "sigma", "0" },	   { "sigma", "-0.5" },
		{ "sigma", "big" },	   { "restart_strategy", "lipop" },
	};
	struct fx f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_init(&f, ALGO);
		fx_box(&f, 2);
		fx_set(&f, bad[i][0], bad[i][1]);
		fx_expect_invalid(&f, bad[i][0]);
	}
}

static void test_settings_accepted(void **state)
{
	static const char *const strategies[] = { "ipop", "bipop", "none" };
	struct kb_error err;
	struct fx f;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		fx_init(&f, ALGO);
		fx_box(&f, 2);
		fx_set(&f, "restart_strategy", strategies[i]);
		fx_set(&f, "sigma", "0.3");
		fx_set(&f, "random_state", "0");
		memset(&err, 0, sizeof(err));
		assert_int_equal(f.ops->validate(&f.spec, &err), 0);
	}
}

static void test_params_rejected(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, ALGO);
	fx_add_param(&f, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	fx_add_param(&f, "k", PARAM_CATEGORICAL, 0, 0, 0, DIST_UNIFORM);
	fx_expect_invalid(&f, "at least 2");
	fx_init(&f, ALGO);
	fx_add_param(&f, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	fx_add_param(&f, "x", PARAM_INT, 0, 9, 0, DIST_UNIFORM);
	fx_expect_invalid(&f, "parameters[1].name");
}

static void test_reproducible(void **state)
{
	(void)state;
	fx_check_reproducible(ALGO, 40);
}

static void test_in_space(void **state)
{
	(void)state;
	fx_check_in_space(ALGO, 150);
}

static void test_no_duplicates(void **state)
{
	(void)state;
	fx_check_no_duplicates(ALGO);
}

static void test_round_trip(void **state)
{
	(void)state;
	fx_check_round_trip(ALGO, 17, 30); /* saved mid-generation */
}

static void test_round_trip_pending(void **state)
{
	struct fx a, b;
	char *s;
	size_t i, j;

	(void)state;
	/* Same as above with trials pending at save time. */
	for (i = 0; i < 2; i++) {
		struct fx *f = i ? &b : &a;

		fx_init(f, ALGO);
		fx_box(f, 3);
		fx_set(f, "random_state", "9");
		fx_start(f, NULL);
		assert_int_equal(fx_ask(f, 3), 3);
		if (i) {
			s = f->ops->save(f->priv);
			f->ops->destroy(f->priv);
			assert_int_equal(
				f->ops->create(&f->spec, s, &f->priv, NULL), 0);
			free(s);
		}
		for (j = 0; j < 3; j++)
			fx_finish(f, j, fx_sphere(f, f->trials[j].values));
		fx_run(f, 20);
	}
	for (i = 0; i < 20; i++)
		for (j = 0; j < 3; j++)
			assert_string_equal(a.trials[i].values[j],
					    b.trials[i].values[j]);
	fx_free(&a);
	fx_free(&b);
}

static void test_converges(void **state)
{
	(void)state;
	fx_check_converges(ALGO, 4, 120, 0.05);
}

static void test_maximize(void **state)
{
	struct fx f;
	double best = -INFINITY, y;

	(void)state;
	fx_init(&f, ALGO);
	fx_box(&f, 2);
	f.spec.objective.maximize = 1;
	fx_set(&f, "random_state", "4");
	fx_start(&f, NULL);
	while (f.ntrials < 60) {
		assert_int_equal(fx_ask(&f, 1), 1);
		y = -fx_sphere(&f, f.trials[f.ntrials - 1].values);
		fx_finish(&f, f.ntrials - 1, y);
		best = fmax(best, y);
	}
	assert_true(best > -0.05);
	fx_free(&f);
}

/* Failed trials are replaced; the search goes on and still converges. */
static void test_failed_trials(void **state)
{
	struct fx f;
	double best = INFINITY, y;
	size_t i;

	(void)state;
	fx_init(&f, ALGO);
	fx_box(&f, 2);
	fx_set(&f, "random_state", "8");
	fx_start(&f, NULL);
	while (f.ntrials < 90) {
		assert_int_equal(fx_ask(&f, 1), 1);
		i = f.ntrials - 1;
		if (i % 4 == 3) {
			f.trials[i].state = HISTORY_FAILED;
			continue;
		}
		y = fx_sphere(&f, f.trials[i].values);
		fx_finish(&f, i, y);
		best = fmin(best, y);
	}
	assert_true(best < 0.05);
	fx_free(&f);
}

/* A small integer space collapses; ipop and bipop restart, none goes on
 * with new points. */
static void test_restarts(void **state)
{
	static const char *const strategies[] = { "ipop", "bipop", "none" };
	struct fx f;
	char *s;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		fx_init(&f, ALGO);
		fx_add_param(&f, "a", PARAM_INT, -3, 8, 0, DIST_UNIFORM);
		fx_add_param(&f, "b", PARAM_INT, -3, 8, 0, DIST_UNIFORM);
		fx_set(&f, "random_state", "2");
		fx_set(&f, "restart_strategy", strategies[i]);
		fx_start(&f, NULL);
		fx_run(&f, 80);
		assert_true(fx_unique_trials(&f));
		s = f.ops->save(f.priv);
		assert_non_null(s);
		if (i < 2)
			assert_null(strstr(s, "\"restarts\":0,"));
		else
			assert_non_null(strstr(s, "\"restarts\":0,"));
		free(s);
		fx_free(&f);
	}
}

/* The categorical coordinate is optimised, not random. */
static void test_categorical(void **state)
{
	(void)state;
	fx_check_categorical(ALGO, 100, 60, 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_rejected),
		cmocka_unit_test(test_settings_accepted),
		cmocka_unit_test(test_params_rejected),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_in_space),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_pending),
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_maximize),
		cmocka_unit_test(test_failed_trials),
		cmocka_unit_test(test_restarts),
		cmocka_unit_test(test_categorical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
