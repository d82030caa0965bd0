/* test_bo_gp.c - the Gaussian process of bayesianoptimization
 * (core/algorithms/bo/gp.c): its white-noise term fits the noise of the
 * data, and is small on noiseless data; a factor grown in groups predicts
 * what one block does, one done in two parts is the same; the screen's
 * variance bound holds; L-BFGS asking values first takes the same steps. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algorithms/bo/gp.h"
#include "algorithms/bo/lbfgs.h"

#define N 80
#define D 2

/* The noise variance fitted to y = f(x) + sd * N(0, 1) at N points, in
 * y's units (the GP sees y standardised). */
static double fitted_noise(uint64_t seed, double sd)
{
	double X[N * D], y[N], theta[D + 2], mean = 0, var = 0;
	struct rng r;
	size_t i;

	rng_seed(&r, seed);
	for (i = 0; i < N; i++) {
		X[i * D] = rng_uniform(&r);
		X[i * D + 1] = rng_uniform(&r);
		y[i] = sin(6 * X[i * D]) + cos(4 * X[i * D + 1]) +
		       sd * rng_normal(&r);
		mean += y[i];
	}
	mean /= N;
	for (i = 0; i < N; i++)
		var += (y[i] - mean) * (y[i] - mean);
	var /= N;
	for (i = 0; i < N; i++)
		y[i] = (y[i] - mean) / sqrt(var);
	assert_int_equal(fit_theta(X, y, N, D, NULL, 0, &r, theta), 0);
	return exp(theta[D + 1]) * var;
}

/* Noise sd 0.3, 0.6 and 1.2 (variance 0.09, 0.36, 1.44; the signal's is
 * about 0.75, so the last is mostly noise): the fitted variance is
 * within a factor 1.6 of the truth for each of 5 seeds. */
static void test_noise_fitted(void **state)
{
	static const double sds[] = { 0.3, 0.6, 1.2 };
	double v, truth;
	uint64_t seed;
	size_t k;

	(void)state;
	for (k = 0; k < 3; k++)
		for (seed = 1; seed <= 5; seed++) {
			truth = sds[k] * sds[k];
			v = fitted_noise(seed, sds[k]);
			print_message("seed %llu sd %g: noise %g (truth %g)\n",
				      (unsigned long long)seed, sds[k], v,
				      truth);
			assert_true(v > truth / 1.6 && v < truth * 1.6);
		}
}

/* Noiseless data: the noise term stays negligible. */
static void test_noiseless(void **state)
{
	double v = fitted_noise(7, 0);

	(void)state;
	print_message("noiseless: noise %g\n", v);
	assert_true(v < 1e-3);
}

/* M points in [0, 1]^D and standardised-looking targets, seeded. */
#define M 340
static void points(uint64_t seed, double *X, double *y)
{
	struct rng r;
	size_t i;

	rng_seed(&r, seed);
	for (i = 0; i < M; i++) {
		X[i * D] = rng_uniform(&r);
		X[i * D + 1] = rng_uniform(&r);
		y[i] = sin(6 * X[i * D]) + cos(4 * X[i * D + 1]);
	}
}

/* Two models with the same hyperparameters for the M points(seed) in X, y:
 * *a factored as one block (the reference), *b empty. */
static void two_models(uint64_t seed, double *X, double *y, struct gp **a,
		       struct gp **b)
{
	double theta[D + 2] = { log(0.3), log(0.3), 0, log(1e-4) };

	points(seed, X, y);
	*a = gp_model_new(D, theta);
	*b = gp_model_new(D, theta);
	assert_non_null(*a);
	assert_non_null(*b);
	assert_int_equal(gp_factor_block(*a, X, M), 0);
}

/* A model factored as a block then grown in groups and by single rows
 * predicts what the same points factored as one block do. */
static void test_groups(void **state)
{
	static double X[M * D], y[M];
	double x[D] = { 0.4, 0.6 }, mu[2], var[2];
	struct gp *a, *b;
	size_t i;

	(void)state;
	two_models(3, X, y, &a, &b);
	assert_int_equal(gp_factor_block(b, X, 200), 0);
	for (i = 200; i < M - 4; i += 16)
		assert_int_equal(
			gp_append_group(b, X + i * D,
					M - 4 - i < 16 ? M - 4 - i : 16),
			0);
	for (i = M - 4; i < M; i++)
		assert_int_equal(gp_append(b, X + i * D), 0);
	assert_int_equal(b->n, M);
	memcpy(a->y, y, sizeof(y));
	memcpy(b->y, y, sizeof(y));
	gp_solve_alpha(a);
	gp_solve_alpha(b);
	assert_int_equal(gp_predict(a, x, 1, &mu[0], &var[0]), 0);
	assert_int_equal(gp_predict(b, x, 1, &mu[1], &var[1]), 0);
	assert_true(fabs(mu[0] - mu[1]) < 1e-8);
	assert_true(fabs(var[0] - var[1]) < 1e-8);
	gp_model_free(a);
	gp_model_free(b);
}

/* A large block factored in two parts a suggestion apart (a partial
 * model finished by gp_factor_block) has the bits of one done at once. */
static void test_factor_part(void **state)
{
	static double X[M * D], y[M];
	struct gp *a, *b;
	size_t i;

	(void)state;
	two_models(5, X, y, &a, &b);
	assert_int_equal(gp_factor_part(b, X, M), 0);
	assert_true(b->n > 0 && b->n < M);
	assert_int_equal(gp_factor_block(b, X, M), 0);
	assert_int_equal(b->n, M);
	for (i = 0; i < M; i++)
		assert_memory_equal(a->L + i * a->ld, b->L + i * b->ld,
				    (i + 1) * sizeof(double));
	gp_model_free(a);
	gp_model_free(b);
}

/* The screen of a large model: its mean is gp_predict's bit for bit, its
 * variance bound is at least the variance, and the variance from the
 * covariances it keeps is gp_predict's. */
static void test_screen(void **state)
{
	static double X[M * D], y[M], Kc[64 * M];
	double theta[D + 2] = { log(0.2), log(0.5), 0, log(1e-4) };
	double C[64 * D], mu[64], var[64], mu2[64], hi[64], ex[64];
	struct gp *gp = gp_model_new(D, theta);
	struct rng r;
	size_t j;

	(void)state;
	points(9, X, y);
	assert_non_null(gp);
	assert_int_equal(gp_factor_block(gp, X, M), 0);
	memcpy(gp->y, y, sizeof(y));
	gp_solve_alpha(gp);
	rng_seed(&r, 11);
	for (j = 0; j < 64 * D; j++) /* half near the data, half anywhere */
		C[j] = j < 32 * D ? X[j] + 0.01 * rng_normal(&r)
				  : rng_uniform(&r);
	assert_int_equal(gp_predict(gp, C, 64, mu, var), 0);
	assert_int_equal(gp_predict_screen(gp, C, 64, mu2, hi, Kc), 0);
	gp_var_of_cov(gp, Kc, 64, ex);
	for (j = 0; j < 64; j++) {
		assert_memory_equal(&mu[j], &mu2[j], sizeof(double));
		assert_true(hi[j] >= var[j] * (1 - 1e-9));
		assert_true(fabs(ex[j] - var[j]) <= 1e-9 * (1 + var[j]));
	}
	print_message("bound/variance near the data %g, anywhere %g\n",
		      hi[0] / var[0], hi[40] / var[40]);
	gp_model_free(gp);
}

/* A bounded Rosenbrock function in 3 dimensions; counts its gradients. */
static double rosen(const double *x, double *g, void *ctx)
{
	double f = 0, a, b;
	size_t i;

	if (g) {
		++*(int *)ctx;
		memset(g, 0, 3 * sizeof(*g));
	}
	for (i = 0; i < 2; i++) {
		a = x[i + 1] - x[i] * x[i];
		b = 1 - x[i];
		f += 100 * a * a + b * b;
		if (g) {
			g[i] += -400 * a * x[i] - 2 * b;
			g[i + 1] += 200 * a;
		}
	}
	return f;
}

/* value_first (the GP fit's line search): the same steps to the bit,
 * fewer gradients. */
static void test_value_first(void **state)
{
	static const double lo[3] = { -2, -2, -2 }, hi[3] = { 2, 2, 1.5 };
	double x0[3] = { -1.2, 1, 0.3 }, x1[3] = { -1.2, 1, 0.3 }, f0, f1;
	int g0 = 0, g1 = 0;
	struct lbfgs_problem p0 = { rosen, &g0, 3, lo, hi, 0 };
	struct lbfgs_problem p1 = { rosen, &g1, 3, lo, hi, 1 };

	(void)state;
	f0 = lbfgs(&p0, x0, 40);
	f1 = lbfgs(&p1, x1, 40);
	assert_memory_equal(x0, x1, sizeof(x0));
	assert_memory_equal(&f0, &f1, sizeof(f0));
	assert_true(f0 < 1e-3);
	assert_true(g1 < g0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noise_fitted),
		cmocka_unit_test(test_noiseless),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_factor_part),
		cmocka_unit_test(test_screen),
		cmocka_unit_test(test_value_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
