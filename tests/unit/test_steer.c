/* test_steer.c - assignments from outside the algorithm (EXP/queue, warm
 * starts, suggestion commands): the shared check against the feasible
 * space, and that every algorithm family takes a trial it did not suggest
 * as its own observation (or refuses queued trials, naming why). */
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

static char *acts[] = { "relu", "tanh" };
static char *sizes[] = { "16", "32", "64" };

/* lr double [0.001, 0.1]; layers int [1, 8] step 1; momentum double
 * [0, 0.9] step 0.1; act categorical; batch discrete. */
static void space(struct tu_spec *t)
{
	struct param_spec *p;

	tu_init(t, "random");
	p = tu_num(t, "lr", PARAM_DOUBLE, 0.001, 0.1, 0, DIST_LOG_UNIFORM);
	p->min = "0.001";
	p->max = "0.1";
	p = tu_num(t, "layers", PARAM_INT, 1, 8, 0, DIST_UNIFORM);
	p->min = "1";
	p->max = "8";
	p = tu_num(t, "momentum", PARAM_DOUBLE, 0, 0.9, 0.1, DIST_UNIFORM);
	p->min = "0";
	p->max = "0.9";
	p->step = "0.1";
	tu_list(t, "act", acts, 2);
	tu_list(t, "batch", sizes, 3);
	t->params[4].type = PARAM_DISCRETE;
}

static void expect_line(const struct tu_spec *t, const char *line,
			const char *canonical)
{
	struct kb_error err;
	char **v = NULL, buf[256] = "";
	size_t i, len = 0;

	kb_error_clear(&err);
	if (assignment_parse_line(&t->spec, line, strlen(line), &v, &err))
		fail_msg("\"%s\" rejected: %s: %s", line, err.field,
			 err.message);
	for (i = 0; i < t->spec.nparams; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					i ? " " : "", v[i]);
	assert_string_equal(buf, canonical);
	assignment_values_free(v, t->spec.nparams);
}

static void expect_bad(const struct tu_spec *t, const char *line,
		       const char *field, const char *words)
{
	struct kb_error err;
	char **v = NULL;

	kb_error_clear(&err);
	assert_int_equal(
		assignment_parse_line(&t->spec, line, strlen(line), &v, &err),
		-EINVAL);
	assert_null(v);
	if (strcmp(err.field, field) || !strstr(err.message, words))
		fail_msg("\"%s\": got '%s: %s', expected field %s and '%s'",
			 line, err.field, err.message, field, words);
}

static void test_validate(void **state)
{
	struct tu_spec t;

	(void)state;
	space(&t);
	expect_line(&t, "lr=0.010 layers=3 momentum=0.3 act=tanh batch=32",
		    "0.01 3 0.3 tanh 32");
	/* any order, tabs, discrete by value, int written 3e0 */
	expect_line(&t, "batch=64.0\tact=relu momentum=0 layers=3e0 lr=0.1",
		    "0.1 3 0 relu 64");
	expect_line(&t, "lr=0.001 layers=8 momentum=0.9 act=relu batch=16",
		    "0.001 8 0.9 relu 16");
	expect_bad(&t, "lr=0.5 layers=3 momentum=0.3 act=tanh batch=32", "lr",
		   "outside [0.001, 0.1]");
	expect_bad(&t, "lr=abc layers=3 momentum=0.3 act=tanh batch=32", "lr",
		   "not a number");
	expect_bad(&t, "lr=0.01 layers=2.5 momentum=0.3 act=tanh batch=32",
		   "layers", "not a whole number");
	expect_bad(&t, "lr=0.01 layers=0 momentum=0.3 act=tanh batch=32",
		   "layers", "outside [1, 8]");
	expect_bad(&t, "lr=0.01 layers=2 momentum=0.35 act=tanh batch=32",
		   "momentum", "multiple of step 0.1");
	expect_bad(&t, "lr=0.01 layers=2 momentum=0.3 act=gelu batch=32", "act",
		   "not in the categorical list of act: relu, tanh");
	expect_bad(&t, "lr=0.01 layers=2 momentum=0.3 act=relu batch=48",
		   "batch", "not in the discrete list");
	expect_bad(&t, "lr=0.01 layers=2 momentum=0.3 act=relu", "batch",
		   "missing");
	expect_bad(&t,
		   "lr=0.01 lr=0.02 layers=2 momentum=0.3 act=relu batch=16",
		   "lr", "given twice");
	expect_bad(&t, "lr=0.01 layers=2 momentum=0.3 act=relu batch=16 x=1",
		   "x", "parameters: lr, layers, momentum, act, batch");
	expect_bad(&t, "lr=0.01 layers", "", "\"layers\" is not name=value");
	expect_bad(&t, "=3 lr=0.01", "", "not name=value");
}

static void test_value_check(void **state)
{
	struct tu_spec t;
	struct kb_error err;
	char *c = NULL;

	(void)state;
	space(&t);
	kb_error_clear(&err);
	assert_int_equal(param_value_check(&t.params[2], "0.30000000000000004",
					   &c, &err),
			 0);
	assert_string_equal(c, "0.3");
	free(c);
	assert_int_equal(param_value_check(&t.params[0], "inf", &c, &err),
			 -EINVAL);
	assert_null(c);
	assert_int_equal(param_value_check(&t.params[1], "", &c, &err),
			 -EINVAL);
}

/* ---- each family conditions on trials it did not suggest ---- */

#define WARMUP 12
#define AFTER  8

/* Append a Succeeded trial the algorithm did not suggest. */
static void fx_foreign(struct fx *f, const char *x1, const char *x2, double y)
{
	char **v = calloc(2, sizeof(*v));

	assert_non_null(v);
	v[0] = strdup(x1);
	v[1] = strdup(x2);
	if (f->ntrials == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->trials = realloc(f->trials, f->cap * sizeof(*f->trials));
		assert_non_null(f->trials);
	}
	memset(&f->trials[f->ntrials], 0, sizeof(*f->trials));
	f->trials[f->ntrials].values = v;
	f->trials[f->ntrials].number = (int)f->ntrials + 1;
	fx_finish(f, f->ntrials++, y);
}

/* Distance of v from (-3, -3). */
static double from_lure(char *const *v)
{
	double a = atof(v[0]) + 3, b = atof(v[1]) + 3;

	return sqrt(a * a + b * b);
}

/*
 * On the sphere around (1, 1) in [-5, 5]^2: WARMUP trials of the
 * algorithm, then (with_foreign) a foreign trial at (-3, -3) far better
 * than anything seen (-100), then AFTER more; the mean distance of those
 * AFTER suggestions from (-3, -3). An algorithm that takes the foreign
 * trial as its own observation moves towards it.
 */
static double distance_after(const char *algo, const char *seed,
			     int with_foreign)
{
	struct fx f;
	double d = 0;
	size_t i;
	char **v;

	fx_init(&f, algo);
	fx_box(&f, 2);
	fx_set(&f, "random_state", seed);
	fx_start(&f, NULL);
	fx_run(&f, WARMUP);
	if (with_foreign)
		fx_foreign(&f, "-3", "-3", -100);
	for (i = 0; i < AFTER; i++) {
		assert_int_equal(fx_ask(&f, 1), 1);
		v = f.trials[f.ntrials - 1].values;
		d += from_lure(v);
		fx_finish(&f, f.ntrials - 1, fx_sphere(&f, v));
	}
	fx_free(&f);
	return d / AFTER;
}

/* Over three seeds: every steered run ends closer to the foreign point,
 * and on average by at least 15%. */
static void check_conditions(const char *algo)
{
	static const char *seeds[] = { "11", "12", "13" };
	double cold, steered, sum_cold = 0, sum_steered = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		cold = distance_after(algo, seeds[i], 0);
		steered = distance_after(algo, seeds[i], 1);
		print_message("%s (random_state %s): mean distance of the next "
			      "%d suggestions from a queued point: %.3f "
			      "without it, %.3f with it\n",
			      algo, seeds[i], AFTER, cold, steered);
		if (!(steered < cold))
			fail_msg("%s (random_state %s) ignores a foreign "
				 "trial: %.3f vs %.3f",
				 algo, seeds[i], steered, cold);
		sum_cold += cold;
		sum_steered += steered;
	}
	if (!(sum_steered < 0.85 * sum_cold))
		fail_msg(
			"%s hardly moves towards a foreign trial: %.3f vs %.3f",
			algo, sum_steered / 3, sum_cold / 3);
}

static void test_tpe_conditions(void **state)
{
	(void)state;
	check_conditions("tpe");
}

static void test_mtpe_conditions(void **state)
{
	(void)state;
	check_conditions("multivariate-tpe");
}

static void test_bo_conditions(void **state)
{
	(void)state;
	check_conditions("bayesianoptimization");
}

static void test_cmaes_conditions(void **state)
{
	(void)state;
	check_conditions("cmaes");
}

/* CMA-ES started with foreign trials already in the history (a warm
 * start) centres its first generation on the best of them. */
static void test_cmaes_starts_from_best(void **state)
{
	struct fx f;
	double d = 0;
	size_t i;

	(void)state;
	fx_init(&f, "cmaes");
	fx_box(&f, 2);
	fx_set(&f, "random_state", "5");
	fx_set(&f, "sigma", "0.05");
	fx_start(&f, NULL);
	fx_foreign(&f, "-4", "4", 41);
	fx_foreign(&f, "3", "-4", 29);
	fx_foreign(&f, "1.2", "0.8", 0.08);
	assert_int_equal(fx_ask(&f, 6), 6);
	for (i = 3; i < 9; i++)
		d += sqrt(fx_sphere(&f, f.trials[i].values));
	d /= 6;
	/* sigma 0.05 of a range of 10: samples stay within ~1.5 of (1.2, 0.8)
	 */
	if (!(d < 1.5))
		fail_msg("cmaes did not start from the best warm trial: mean "
			 "distance %.3f",
			 d);
	fx_free(&f);
}

/* A state saved by cmaes and restored keeps the foreign trials it took in:
 * they are not taken in twice. */
static void test_cmaes_foreign_saved(void **state)
{
	struct fx f;
	char *saved;
	void *again;
	struct kb_error err;

	(void)state;
	fx_init(&f, "cmaes");
	fx_box(&f, 2);
	fx_set(&f, "random_state", "5");
	fx_start(&f, NULL);
	fx_run(&f, 3);
	fx_foreign(&f, "1", "1", 0);
	assert_int_equal(fx_ask(&f, 1), 1);
	saved = f.ops->save(f.priv);
	assert_non_null(saved);
	assert_non_null(strstr(saved, "\"seen\":[0,1,2,3,4]"));
	kb_error_clear(&err);
	assert_int_equal(f.ops->create(&f.spec, saved, &again, &err), 0);
	f.ops->destroy(f.priv);
	f.priv = again;
	free(saved);
	saved = f.ops->save(f.priv);
	assert_non_null(strstr(saved, "\"seen\":[0,1,2,3,4]"));
	free(saved);
	fx_free(&f);
}

/* grid skips a point already evaluated, whoever ran it. */
static void test_grid_skips_foreign(void **state)
{
	struct fx f;
	char **v;

	(void)state;
	fx_init(&f, "grid");
	fx_add_param(&f, "x1", PARAM_INT, 0, 2, 0, DIST_UNIFORM);
	fx_add_param(&f, "x2", PARAM_INT, 0, 2, 0, DIST_UNIFORM);
	fx_start(&f, NULL);
	fx_foreign(&f, "0", "0", 2);
	fx_foreign(&f, "0", "1", 1);
	assert_int_equal(fx_ask(&f, 9), 7);
	v = f.trials[2].values;
	assert_string_equal(v[0], "0");
	assert_string_equal(v[1], "2");
	fx_free(&f);
}

/* random and sobol never repeat a foreign point either. */
static void test_samplers_skip_foreign(void **state)
{
	static const char *algos[] = { "random", "sobol" };
	struct fx f;
	size_t a, i;

	(void)state;
	for (a = 0; a < 2; a++) {
		fx_init(&f, algos[a]);
		fx_add_param(&f, "x1", PARAM_INT, 0, 2, 0, DIST_UNIFORM);
		fx_add_param(&f, "x2", PARAM_INT, 0, 1, 0, DIST_UNIFORM);
		fx_start(&f, NULL);
		fx_foreign(&f, "1", "1", 0);
		assert_int_equal(fx_ask(&f, 6), 5);
		for (i = 1; i < f.ntrials; i++)
			assert_false(!strcmp(f.trials[i].values[0], "1") &&
				     !strcmp(f.trials[i].values[1], "1"));
		fx_free(&f);
	}
}

/* The algorithms that cannot take a foreign point say why. */
static void test_refusals(void **state)
{
	static const char *refuse[] = { "hyperband", "pbt", "enas", "darts" };
	static const char *take[] = { "random",
				      "grid",
				      "sobol",
				      "tpe",
				      "multivariate-tpe",
				      "bayesianoptimization",
				      "cmaes" };
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_non_null(algorithm_find(refuse[i]));
		assert_non_null(algorithm_find(refuse[i])->foreign_refused);
	}
	for (i = 0; i < 7; i++)
		assert_null(algorithm_find(take[i])->foreign_refused);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_value_check),
		cmocka_unit_test(test_tpe_conditions),
		cmocka_unit_test(test_mtpe_conditions),
		cmocka_unit_test(test_bo_conditions),
		cmocka_unit_test(test_cmaes_conditions),
		cmocka_unit_test(test_cmaes_starts_from_best),
		cmocka_unit_test(test_cmaes_foreign_saved),
		cmocka_unit_test(test_grid_skips_foreign),
		cmocka_unit_test(test_samplers_skip_foreign),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
