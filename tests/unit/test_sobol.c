/* test_sobol.c - sobol: no settings, stratification of the scrambled
 * sequence, feasibility over every parameter kind, persisted seed,
 * no duplicates on a small space, and better coverage than random. */
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
	 * integer is refused */
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

static void test_seeds_differ(void **state)
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

static void test_feasible(void **state)
{
	struct tu_history th;
	struct tu_spec t;
	size_t i, j;

	(void)state;
	tu_init(&t, "sobol");
	tu_num(&t, "lr", PARAM_DOUBLE, 1e-5, 1e-1, 0, DIST_LOG_UNIFORM);
	tu_num(&t, "layers", PARAM_INT, 1, 9, 2, DIST_UNIFORM);
	tu_num(&t, "units", PARAM_INT, 8, 512, 0, DIST_LOG_UNIFORM);
	tu_num(&t, "drop", PARAM_DOUBLE, 0.1, 0.5, 0.05, DIST_UNIFORM);
	tu_num(&t, "mom", PARAM_DOUBLE, 0.5, 0.99, 0, DIST_NORMAL);
	tu_num(&t, "wd", PARAM_DOUBLE, 1e-6, 1e-2, 0, DIST_LOG_NORMAL);
	tu_num(&t, "bs", PARAM_INT, 16, 256, 16, DIST_NORMAL);
	tu_list(&t, "act", cats, 4);
	run(&t, 100, 3, &th, "seed=5\n");
	for (i = 0; i < th.h.ntrials; i++)
		for (j = 0; j < t.spec.nparams; j++)
			if (!tu_feasible(&t.params[j], th.trials[i].values[j]))
				fail_msg("trial %zu: %s=%s is infeasible", i,
					 t.params[j].name,
					 th.trials[i].values[j]);
	tu_history_free(&th);
}

/* The seed persists through save(): a restart continues the sequence. */
static void test_state(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("sobol");
	struct tu_history a, b;
	struct kb_error err;
	struct tu_spec t;
	char *saved, **x[1];
	void *priv;
	size_t i;

	(void)state;
	tu_init(&t, "sobol");
	tu_num(&t, "x", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	tu_num(&t, "y", PARAM_DOUBLE, 0, 1, 0, DIST_UNIFORM);
	assert_int_equal(ops->create(&t.spec, NULL, &priv, &err), 0);
	saved = ops->save(priv);
	assert_non_null(saved);
	ops->destroy(priv);
	run(&t, 10, 1, &a, saved);
	run(&t, 9, 1, &b, saved);
	assert_int_equal(ops->create(&t.spec, saved, &priv, &err), 0);
	assert_int_equal(ops->suggest(priv, &t.spec, &b.h, 1, x, &err), 1);
	assert_string_equal(x[0][0], a.trials[9].values[0]);
	assert_string_equal(x[0][1], a.trials[9].values[1]);
	assignment_values_free(x[0], 2);
	for (i = 0; i < 9; i++)
		assert_string_equal(a.trials[i].values[0],
				    b.trials[i].values[0]);
	ops->destroy(priv);
	free(saved);
	tu_history_free(&a);
	tu_history_free(&b);
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
	assert_int_equal(run(&t, 20, 5, &th, "seed=3\n"), 12);
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
	char st[32], rs[16];
	double s = 0, r = 0;
	int i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		snprintf(st, sizeof(st), "seed=%d\n", i);
		snprintf(rs, sizeof(rs), "%d", i);
		s = fmax(s, max_gap("sobol", st, NULL));
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
		cmocka_unit_test(test_seeds_differ),
		cmocka_unit_test(test_feasible),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_coverage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
