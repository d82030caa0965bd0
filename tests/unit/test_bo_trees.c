/* test_bo_trees.c - the tree surrogates of bayesianoptimization
 * (core/algorithms/bo/trees.c): gradient-boosted quantile regression
 * finds the quantiles of noisy data, and RF, ET and GBRT give a mean near
 * the function with a spread near the noise's. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "katib/algorithm.h"
#include "algorithms/bo/trees.h"

#define N  400
#define SD 0.5

/* y = 2 x + SD * N(0, 1) at N uniform x in [0, 1]. */
static void noisy_line(uint64_t seed, double *x, double *y)
{
	struct rng r;
	size_t i;

	rng_seed(&r, seed);
	for (i = 0; i < N; i++) {
		x[i] = rng_uniform(&r);
		y[i] = 2 * x[i] + SD * rng_normal(&r);
	}
}

/* At alpha 0.16, 0.5, 0.84 the boosted model at x = 0.5 is near the true
 * quantile 1 + SD * z (z = -1, 0, 1), and the 0.16..0.84 band holds about
 * 68% of the training points. */
static void test_gbrt_quantiles(void **state)
{
	static const double alpha[] = { 0.16, 0.5, 0.84 };
	double x[N], y[N], q[3], mid = 0.5;
	struct bo_gbrt *g[3];
	size_t i, k, inside = 0;

	(void)state;
	noisy_line(3, x, y);
	for (k = 0; k < 3; k++) {
		assert_int_equal(bo_gbrt_fit(x, y, N, 1, alpha[k], 9, &g[k]),
				 0);
		q[k] = bo_gbrt_predict(g[k], &mid);
		print_message("alpha %.2f at 0.5: %.3f (truth %.3f)\n",
			      alpha[k], q[k], 1 + SD * ((double)k - 1));
		assert_true(fabs(q[k] - (1 + SD * ((double)k - 1))) < 0.2);
	}
	for (i = 0; i < N; i++)
		inside += y[i] >= bo_gbrt_predict(g[0], &x[i]) &&
			  y[i] <= bo_gbrt_predict(g[2], &x[i]);
	print_message("inside the band: %zu of %d\n", inside, N);
	assert_true(inside > N * 55 / 100 && inside < N * 80 / 100);
	for (k = 0; k < 3; k++)
		bo_gbrt_free(g[k]);
	assert_int_equal(bo_gbrt_fit(x, y, N, 1, 1.0, 9, &g[0]), -EINVAL);
}

/* Each surrogate: the mean at x = 0.25 and 0.75 within the noise sd of
 * the line (leaves of 3 samples average few points),
 * the spread (std) between a fifth of the noise's and twice it. */
static void test_surrogates(void **state)
{
	static const char *const names[] = { "RF", "ET", "GBRT" };
	double x[N], y[N], at[2] = { 0.25, 0.75 }, mu[2], var[2];
	struct bo_trees *t;
	size_t k, j;

	(void)state;
	noisy_line(5, x, y);
	for (k = 0; k < 3; k++) {
		assert_int_equal(
			bo_trees_fit((enum bo_trees_kind)k, x, y, N, 1, 11, &t),
			0);
		bo_trees_predict(t, at, 2, mu, var);
		for (j = 0; j < 2; j++) {
			print_message("%s at %.2f: mean %.3f sd %.3f\n",
				      names[k], at[j], mu[j], sqrt(var[j]));
			assert_true(fabs(mu[j] - 2 * at[j]) < SD);
			assert_true(sqrt(var[j]) > SD / 5 &&
				    sqrt(var[j]) < 2 * SD);
		}
		bo_trees_free(t);
	}
}

/* The same data and seed, the same model. */
static void test_deterministic(void **state)
{
	double x[N], y[N], at = 0.4, m1, m2, v1, v2;
	struct bo_trees *a, *b;
	int k;

	(void)state;
	noisy_line(7, x, y);
	for (k = 0; k < 3; k++) {
		assert_int_equal(
			bo_trees_fit((enum bo_trees_kind)k, x, y, N, 1, 4, &a),
			0);
		assert_int_equal(
			bo_trees_fit((enum bo_trees_kind)k, x, y, N, 1, 4, &b),
			0);
		bo_trees_predict(a, &at, 1, &m1, &v1);
		bo_trees_predict(b, &at, 1, &m2, &v2);
		assert_true(m1 == m2 && v1 == v2);
		bo_trees_free(a);
		bo_trees_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gbrt_quantiles),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
