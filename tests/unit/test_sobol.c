/* test_sobol.c - sobol: Katib's unscrambled sequence without
 * random_state, an Owen-scrambled one per random_state (stratified, seeds
 * differ), feasibility over every parameter kind, restarts, no duplicates
 * on a small space, and better coverage than random. */
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
#include "algorithms/parzen.h"

#include "algo_test_util.h"

static char *cats[] = { "a", "b", "c", "d" };

static void test_settings(void **state)
{
	/* Katib's sobol service ignores every setting: they pass (with a
	 * warning, test_verdicts.c); only a random_state that is not an
	 * integer is refused; an integer one selects the scrambled sequence */
	const char *names[] = { "random_state", "seed", "skip" };
	struct kb_error err;
	struct tu_spec t;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		tu_init(&t, "sobol");
		tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
		tu_set(&t, names[i], "1");
		kb_error_clear(&err);
		assert_int_equal(algorithm_validate(&t.spec, &err), 0);
	}
	tu_init(&t, "sobol");
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	tu_set(&t, "random_state", "x");
	assert_int_equal(algorithm_validate(&t.spec, &err), -EINVAL);
	assert_string_equal(err.field,
			    "spec.algorithm.algorithmSettings[random_state]");
	tu_init(&t, "sobol");
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	assert_int_equal(algorithm_validate(&t.spec, &err), 0);
}

/* The first 2^m points put exactly one point in each of the 2^m
 * intervals of every coordinate (a (0,m,1)-net, kept by scrambling). */
static void test_stratified(void **state)
{
	double u[SOBOL_MAX_DIMS];
	int seen[SOBOL_MAX_DIMS][64];
	uint64_t i;
	size_t j;

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 64; i++) {
		sobol_point(i, SOBOL_MAX_DIMS, 12345, u);
		for (j = 0; j < SOBOL_MAX_DIMS; j++) {
			assert_true(u[j] > 0 && u[j] < 1);
			seen[j][(int)(u[j] * 64)]++;
		}
	}
	for (j = 0; j < SOBOL_MAX_DIMS; j++)
		for (i = 0; i < 64; i++)
			if (seen[j][i] != 1)
				fail_msg("dim %zu bin %d has %d points", j,
					 (int)i, seen[j][i]);
	/* 2-D projections of the first dimensions: 16 points, 4x4 cells */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 16; i++) {
		sobol_point(i, 2, 99, u);
		seen[0][(int)(u[0] * 4) * 4 + (int)(u[1] * 4)]++;
	}
	for (i = 0; i < 16; i++)
		assert_int_equal(seen[0][i], 1);
}

/* tpe's startup points (sobol_point): seeds differ, a seed repeats. */
static void test_lms_seeds_differ(void **state)
{
	double a[4], b[4];

	(void)state;
	sobol_point(3, 4, 1, a);
	sobol_point(3, 4, 2, b);
	assert_true(a[0] != b[0] || a[1] != b[1]);
	sobol_point(3, 4, 1, b);
	assert_memory_equal(a, b, sizeof(a));
}

static int run(struct tu_spec *t, int n, int batch, struct tu_history *th,
	       const char *state)
{
	const struct algorithm_ops *ops = algorithm_find("sobol");
	struct kb_error err;
	char **out[8];
	void *priv;
	int i, k, got = 0;

	assert_int_equal(ops->create(&t->spec, state, &priv, &err), 0);
	tu_history_init(th, t->spec.nparams);
	for (i = 0; i < n; i += got) {
		k = n - i < batch ? n - i : batch;
		got = ops->suggest(priv, &t->spec, &th->h, (size_t)k, out,
				   &err);
		assert_true(got >= 0);
		if (!got)
			break;
		for (k = 0; k < got; k++)
			tu_complete(tu_add(th, out[k]), 0);
	}
	ops->destroy(priv);
	return i;
}

/* Katib's sequence (goptuna, no random_state): points 1, 2, ... of the
 * unscrambled sequence, parameters on the dimensions of their sorted
 * names: x (declared second) takes dimension 0, y dimension 1. */
static void test_katib_sequence(void **state)
{
	static const char *const x[] = { "0.5", "0.75", "0.25", "0.375",
					 "0.875" };
	static const char *const y[] = { "0.5", "0.25", "0.75", "0.375",
					 "0.875" };
	struct tu_history th;
	struct tu_spec t;
	size_t i;

	(void)state;
	tu_init(&t, "sobol");
	tu_num(&t, "y", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	run(&t, 5, 2, &th, NULL);
	for (i = 0; i < 5; i++) {
		assert_string_equal(th.trials[i].values[0], y[i]);
		assert_string_equal(th.trials[i].values[1], x[i]);
	}
	tu_history_free(&th);
}

/* The first n suggestions of x, y in [0, 1] with random_state rs. */
static void owen_points(const char *rs, int n, double (*xy)[2])
{
	struct tu_history th;
	struct tu_spec t;
	int i;

	tu_init(&t, "sobol");
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	tu_num(&t, "y", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	tu_set(&t, "random_state", rs);
	assert_int_equal(run(&t, n, 3, &th, NULL), n);
	for (i = 0; i < n; i++) {
		xy[i][0] = strtod(th.trials[i].values[0], NULL);
		xy[i][1] = strtod(th.trials[i].values[1], NULL);
	}
	tu_history_free(&th);
}

/* Owen scrambling keeps the net: with any random_state the first 64
 * points have one point in each 1/64 of each coordinate, the first 16 one
 * in each cell of the 4x4 grid; seeds give different sequences, the same
 * seed the same one. */
static void test_owen_scrambled(void **state)
{
	double a[64][2], b[64][2];
	int seen[64], seed, i, j, differ = 0;
	char rs[16];

	(void)state;
	for (seed = 0; seed < 20; seed++) {
		snprintf(rs, sizeof(rs), "%d", seed);
		owen_points(rs, 64, a);
		for (j = 0; j < 2; j++) {
			memset(seen, 0, sizeof(seen));
			for (i = 0; i < 64; i++) {
				assert_true(a[i][j] > 0 && a[i][j] < 1);
				seen[(int)(a[i][j] * 64)]++;
			}
			for (i = 0; i < 64; i++)
				if (seen[i] != 1)
					fail_msg("random_state %d: coordinate "
						 "%d bin %d has %d points",
						 seed, j, i, seen[i]);
		}
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 16; i++)
			seen[(int)(a[i][0] * 4) * 4 + (int)(a[i][1] * 4)]++;
		for (i = 0; i < 16; i++)
			assert_int_equal(seen[i], 1);
	}
	owen_points("1", 64, a);
	owen_points("2", 64, b);
	for (i = 0; i < 64; i++)
		differ += a[i][0] != b[i][0] || a[i][1] != b[i][1];
	assert_int_equal(differ, 64);
	owen_points("1", 64, b);
	assert_memory_equal(a, b, sizeof(a));
	/* not the unscrambled sequence shifted */
	assert_true(a[0][0] != 0.5 || a[0][1] != 0.5);
}

static void test_feasible(void **state)
{
	struct tu_history th;
	struct tu_spec t;
	size_t i, j;
	int scrambled;

	(void)state;
	for (scrambled = 0; scrambled < 2; scrambled++) {
		tu_init(&t, "sobol");
		tu_num(&t, "lr", PARAM_DOUBLE, 1e-5, 1e-1, 0, DIST_LOG_UNIFORM);
		tu_num(&t, "layers", PARAM_INT, 1, 9, 2, DIST_UNIFORM);
		tu_num(&t, "units", PARAM_INT, 8, 512, 0, DIST_LOG_UNIFORM);
		tu_num(&t, "drop", PARAM_DOUBLE, 0.1, 0.5, 0.05, DIST_UNIFORM);
		tu_num(&t, "mom", PARAM_DOUBLE, 0.5, 0.99, 0, DIST_NORMAL);
		tu_num(&t, "wd", PARAM_DOUBLE, 1e-6, 1e-2, 0, DIST_LOG_NORMAL);
		tu_num(&t, "bs", PARAM_INT, 16, 256, 16, DIST_NORMAL);
		tu_list(&t, "act", cats, 4);
		if (scrambled)
			tu_set(&t, "random_state", "5");
		run(&t, 100, 3, &th, NULL);
		for (i = 0; i < th.h.ntrials; i++)
			for (j = 0; j < t.spec.nparams; j++)
				if (!tu_feasible(&t.params[j],
						 th.trials[i].values[j]))
					fail_msg("trial %zu: %s=%s is "
						 "infeasible",
						 i, t.params[j].name,
						 th.trials[i].values[j]);
		tu_history_free(&th);
	}
}

/* Nothing to persist: a new instance (a restart) continues from the
 * history, with and without random_state. */
static void test_restart(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("sobol");
	struct tu_history a, b;
	struct kb_error err;
	struct tu_spec t;
	char **x[1];
	void *priv;
	size_t i;
	int scrambled;

	(void)state;
	for (scrambled = 0; scrambled < 2; scrambled++) {
		tu_init(&t, "sobol");
		tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
		tu_num(&t, "y", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
		if (scrambled)
			tu_set(&t, "random_state", "7");
		run(&t, 10, 1, &a, NULL);
		run(&t, 9, 1, &b, NULL);
		assert_int_equal(ops->create(&t.spec, NULL, &priv, &err), 0);
		assert_null(ops->save(priv));
		assert_int_equal(ops->suggest(priv, &t.spec, &b.h, 1, x, &err),
				 1);
		assert_string_equal(x[0][0], a.trials[9].values[0]);
		assert_string_equal(x[0][1], a.trials[9].values[1]);
		assignment_values_free(x[0], 2);
		for (i = 0; i < 9; i++)
			assert_string_equal(a.trials[i].values[0],
					    b.trials[i].values[0]);
		ops->destroy(priv);
		tu_history_free(&a);
		tu_history_free(&b);
	}
}

static void test_no_duplicates(void **state)
{
	struct tu_history th;
	struct tu_spec t;
	size_t i, j;

	(void)state;
	tu_init(&t, "sobol");
	tu_num(&t, "n", PARAM_INT, 1, 3, 0, DIST_UNIFORM);
	tu_list(&t, "c", cats, 4);
	tu_set(&t, "random_state", "3");
	assert_int_equal(run(&t, 20, 5, &th, NULL), 12);
	assert_int_equal(th.h.ntrials, 12);
	for (i = 0; i < th.h.ntrials; i++)
		for (j = i + 1; j < th.h.ntrials; j++)
			assert_false(!strcmp(th.trials[i].values[0],
					     th.trials[j].values[0]) &&
				     !strcmp(th.trials[i].values[1],
					     th.trials[j].values[1]));
	tu_history_free(&th);
}

/* Coverage: the largest empty gap among 64 1-D points is 1/64-ish for
 * sobol and several times larger for random, over several seeds. */
static double max_gap(const char *alg, const char *state, const char *rs)
{
	const struct algorithm_ops *ops = algorithm_find(alg);
	struct tu_history th;
	struct tu_spec t;
	struct kb_error err;
	double v[64], gap = 0, tmp;
	char **out[1];
	void *priv;
	int i, j;

	tu_init(&t, alg);
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	if (rs)
		tu_set(&t, "random_state", rs);
	assert_int_equal(ops->create(&t.spec, state, &priv, &err), 0);
	tu_history_init(&th, 1);
	for (i = 0; i < 64; i++) {
		assert_int_equal(
			ops->suggest(priv, &t.spec, &th.h, 1, out, &err), 1);
		tu_complete(tu_add(&th, out[0]), 0);
		v[i] = strtod(out[0][0], NULL);
	}
	for (i = 0; i < 64; i++) /* insertion sort */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			tmp = v[j];
			v[j] = v[j - 1];
			v[j - 1] = tmp;
		}
	gap = v[0] > 1 - v[63] ? v[0] : 1 - v[63];
	for (i = 1; i < 64; i++)
		gap = v[i] - v[i - 1] > gap ? v[i] - v[i - 1] : gap;
	ops->destroy(priv);
	tu_history_free(&th);
	return gap;
}

static void test_coverage(void **state)
{
	char rs[16];
	double s = 0, r = 0;
	int i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		snprintf(rs, sizeof(rs), "%d", i);
		s = fmax(s, max_gap("sobol", NULL, rs));
		r += max_gap("random", NULL, rs) / 5;
	}
	assert_true(s <= 2.0 / 64 + 1e-9);
	assert_true(r > 2 * s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_stratified),
		cmocka_unit_test(test_lms_seeds_differ),
		cmocka_unit_test(test_katib_sequence),
		cmocka_unit_test(test_owen_scrambled),
		cmocka_unit_test(test_feasible),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_coverage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
