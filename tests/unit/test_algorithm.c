/* test_algorithm.c - unit tests for core/algorithms/algorithm.c,
 * core/spec/search_space.c and the files in core/algorithms/. Specs are built
 * by hand. */
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

/* ---- spec builders ---- */

static struct param_spec num_param(const char *name, enum param_type t,
				   double min, double max, double step)
{
	struct param_spec p;

	memset(&p, 0, sizeof(p));
	p.name = (char *)name;
	p.type = t;
	p.min_value = min;
	p.max_value = max;
	p.step_value = step;
	return p;
}

static struct param_spec list_param(const char *name, char **list, size_t n)
{
	struct param_spec p;

	memset(&p, 0, sizeof(p));
	p.name = (char *)name;
	p.type = PARAM_CATEGORICAL;
	p.list = list;
	p.nlist = n;
	return p;
}

static void add_param(struct tu_spec *t, struct param_spec p)
{
	t->params[t->spec.nparams++] = p;
}

static int validate(struct tu_spec *t, struct kb_error *err)
{
	kb_error_clear(err);
	return algorithm_validate(&t->spec, err);
}

/* Expect -EINVAL with `field` and a message containing `msg`. */
static void expect_invalid(struct tu_spec *t, const char *field,
			   const char *msg)
{
	struct kb_error err;

	assert_int_equal(validate(t, &err), -EINVAL);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, msg))
		fail_msg("message '%s' lacks '%s'", err.message, msg);
}

static void expect_valid(struct tu_spec *t)
{
	struct kb_error err;

	if (validate(t, &err))
		fail_msg("%s: %s", err.field, err.message);
}

/* ---- history ---- */

#define MAXH 256

struct test_history {
	struct history_trial trials[MAXH];
	char **owned[MAXH];
	struct search_history h;
	size_t nparams;
};

static void history_init(struct test_history *th, size_t nparams)
{
	memset(th, 0, sizeof(*th));
	th->h.trials = th->trials;
	th->nparams = nparams;
}

/* Takes ownership of the assignments. */
static void history_add(struct test_history *th, char ***v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		th->owned[th->h.ntrials] = v[i];
		th->trials[th->h.ntrials].values = v[i];
		th->trials[th->h.ntrials].state = HISTORY_SUCCEEDED;
		th->h.ntrials++;
	}
}

static void history_free(struct test_history *th)
{
	size_t i;

	for (i = 0; i < th->h.ntrials; i++)
		assignment_values_free(th->owned[i], th->nparams);
}

static int run(const struct algorithm_ops *ops, struct tu_spec *t,
	       const char *state, struct test_history *th, size_t want,
	       char ***out)
{
	struct kb_error err;
	void *priv = NULL;
	int n;

	kb_error_clear(&err);
	assert_int_equal(ops->create(&t->spec, state, &priv, &err), 0);
	n = ops->suggest(priv, &t->spec, &th->h, want, out, &err);
	ops->destroy(priv);
	return n;
}

static char *joined(char **v, size_t n)
{
	static char buf[256];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
				i ? "," : "", v[i]);
	return buf;
}

/* ---- rng and sampling ---- */

static void test_rng(void **state)
{
	struct rng a, b;
	double sum = 0, sq = 0, u, x;
	int i;

	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (i = 0; i < 100; i++)
		assert_true(rng_next(&a) == rng_next(&b));
	rng_seed(&b, 43);
	assert_true(rng_next(&a) != rng_next(&b));
	for (i = 0; i < 10000; i++) {
		u = rng_uniform(&a);
		assert_true(u >= 0 && u < 1);
		x = rng_normal(&a);
		sum += x;
		sq += x * x;
	}
	assert_true(fabs(sum / 10000) < 0.05);
	assert_true(fabs(sq / 10000 - 1) < 0.1);
}

static void sample_many(const struct param_spec *p, int n, double *min,
			double *max, int *hits_lo, int *hits_hi)
{
	struct rng r;
	char *s;
	double v;
	int i;

	rng_seed(&r, 7);
	*min = INFINITY;
	*max = -INFINITY;
	*hits_lo = *hits_hi = 0;
	for (i = 0; i < n; i++) {
		s = param_sample(p, &r);
		assert_non_null(s);
		v = strtod(s, NULL);
		*min = fmin(*min, v);
		*max = fmax(*max, v);
		*hits_lo += v == p->min_value;
		*hits_hi += v == p->max_value;
		free(s);
	}
}

static void test_sample_int(void **state)
{
	struct param_spec p = num_param("n", PARAM_INT, 1, 5, 0);
	double lo, hi;
	int a, b;

	sample_many(&p, 1000, &lo, &hi, &a, &b);
	assert_true(lo == 1 && hi == 5 && a > 100 && b > 100);

	p = num_param("n", PARAM_INT, 2, 11, 3); /* 2 5 8 11 */
	sample_many(&p, 1000, &lo, &hi, &a, &b);
	assert_true(lo == 2 && hi == 11 && a > 100 && b > 100);

	p = num_param("n", PARAM_INT, 1, 1000, 0);
	p.distribution = DIST_LOG_UNIFORM;
	sample_many(&p, 1000, &lo, &hi, &a, &b);
	assert_true(lo >= 1 && hi <= 1000);

	p.distribution = DIST_NORMAL;
	sample_many(&p, 1000, &lo, &hi, &a, &b);
	assert_true(lo >= 1 && hi <= 1000);
}

static void test_sample_double(void **state)
{
	struct param_spec p = num_param("lr", PARAM_DOUBLE, 0.01, 0.05, 0);
	struct rng r;
	double lo, hi, v;
	int a, b, i, below = 0;
	char *s;

	sample_many(&p, 1000, &lo, &hi, &a, &b);
	assert_true(lo >= 0.01 && hi <= 0.05);

	p = num_param("lr", PARAM_DOUBLE, 1e-5, 1, 0);
	p.distribution = DIST_LOG_UNIFORM;
	rng_seed(&r, 1);
	for (i = 0; i < 1000; i++) {
		s = param_sample(&p, &r);
		v = strtod(s, NULL);
		assert_true(v >= 1e-5 && v <= 1);
		below += v < 1e-2;
		free(s);
	}
	assert_true(below > 500); /* 3/5 of the log range */

	p = num_param("x", PARAM_DOUBLE, 0, 6, 0);
	p.distribution = DIST_NORMAL;
	sample_many(&p, 2000, &lo, &hi, &a, &b);
	assert_true(lo >= 0 && hi <= 6);

	p = num_param("x", PARAM_DOUBLE, 0.1, 100, 0);
	p.distribution = DIST_LOG_NORMAL;
	sample_many(&p, 2000, &lo, &hi, &a, &b);
	assert_true(lo >= 0.1 && hi <= 100);
}

static void test_sample_stepped_clean(void **state)
{
	struct param_spec p = num_param("lr", PARAM_DOUBLE, 0.005, 0.05, 0.005);
	struct rng r;
	char *s;
	int i;

	rng_seed(&r, 3);
	for (i = 0; i < 500; i++) {
		s = param_sample(&p, &r);
		assert_true(strlen(s) <= 5); /* "0.015", never 0.0150000001 */
		assert_true(strtod(s, NULL) <= 0.05 &&
			    strtod(s, NULL) >= 0.005);
		free(s);
	}
	p.distribution = DIST_NORMAL;
	for (i = 0; i < 500; i++) {
		s = param_sample(&p, &r);
		assert_true(strlen(s) <= 5);
		free(s);
	}
}

static void test_sample_categorical(void **state)
{
	char *list[] = { "sgd", "adam", "ftrl" };
	struct param_spec p = list_param("opt", list, 3);
	int seen[3] = { 0 }, i, k;
	struct rng r;
	char *s;

	rng_seed(&r, 9);
	for (i = 0; i < 300; i++) {
		s = param_sample(&p, &r);
		for (k = 0; k < 3; k++)
			seen[k] += !strcmp(s, list[k]);
		free(s);
	}
	assert_true(seen[0] > 50 && seen[1] > 50 && seen[2] > 50);
}

static void expect_format(struct param_spec p, double v, const char *want)
{
	char *s = param_format(&p, v);

	assert_string_equal(s, want);
	free(s);
}

static void test_param_format(void **state)
{
	char *list[] = { "a", "b" };

	expect_format(num_param("n", PARAM_INT, 1, 10, 0), 3.4, "3");
	expect_format(num_param("n", PARAM_INT, 1, 10, 0), 42, "10");
	expect_format(num_param("n", PARAM_INT, 1, 10, 4), 8, "9");
	expect_format(num_param("n", PARAM_INT, 1, 10, 4), 10, "9");
	expect_format(num_param("x", PARAM_DOUBLE, 0, 1, 0), 0.1, "0.1");
	expect_format(num_param("x", PARAM_DOUBLE, 0, 1, 0), 2, "1");
	expect_format(num_param("x", PARAM_DOUBLE, 0.005, 0.05, 0.005),
		      0.005 + 2 * 0.005, "0.015");
	expect_format(num_param("x", PARAM_DOUBLE, 0, 1, 0.3), 1, "0.9");
	expect_format(num_param("x", PARAM_DOUBLE, 0.1, 0.2, 0.1), 0.3, "0.2");
	expect_format(list_param("c", list, 2), 1, "b");
	expect_format(num_param("x", PARAM_DOUBLE, 1e-20, 1e-19, 1e-20), 3e-20,
		      "3e-20");
	expect_format(num_param("x", PARAM_DOUBLE, 1, 2, 0.1), 1 + 2 * 0.1,
		      "1.2");
}

static void expect_grid(struct param_spec p, size_t n, const char *first,
			const char *last)
{
	char *s;

	assert_int_equal(param_grid_size(&p), n);
	s = param_grid_value(&p, 0);
	assert_string_equal(s, first);
	free(s);
	s = param_grid_value(&p, n - 1);
	assert_string_equal(s, last);
	free(s);
}

static void test_param_grid(void **state)
{
	char *list[] = { "x", "y", "z" };
	struct param_spec p;
	char *s;

	expect_grid(num_param("n", PARAM_INT, 1, 10, 3), 4, "1", "10");
	expect_grid(num_param("n", PARAM_INT, 1, 10, 0), 10, "1", "10");
	expect_grid(num_param("n", PARAM_INT, 1, 9, 3), 3, "1", "7");
	expect_grid(num_param("x", PARAM_DOUBLE, 0.01, 0.05, 0.01), 5, "0.01",
		    "0.05");
	expect_grid(num_param("x", PARAM_DOUBLE, 0, 1, 0.1), 11, "0", "1");
	expect_grid(num_param("x", PARAM_DOUBLE, 0.005, 0.05, 0.005), 10,
		    "0.005", "0.05");
	expect_grid(list_param("c", list, 3), 3, "x", "z");
	p = num_param("x", PARAM_DOUBLE, 0.005, 0.05, 0.005);
	s = param_grid_value(&p, 2);
	assert_string_equal(s, "0.015");
	free(s);
	p = num_param("x", PARAM_DOUBLE, 0, 1, 0);
	assert_int_equal(param_grid_size(&p), 0);
}

static void test_assignment_set(void **state)
{
	char *a[] = { "1", "x" }, *b[] = { "1", "y" }, *c[] = { "1x", "" };
	char *d[] = { "1", "x" };
	struct history_trial tr[2] = {
		{ .values = a, .state = HISTORY_PENDING },
		{ .values = b, .state = HISTORY_FAILED },
	};
	struct search_history h = { tr, 2 };
	struct assignment_set *s = assignment_set_new(2);
	char name[16], *v[2];
	int i;

	assert_true(history_contains(&h, 2, d));
	assert_false(history_contains(&h, 2, c));
	assert_int_equal(assignment_set_add(s, a), 1);
	assert_int_equal(assignment_set_add(s, d), 0);
	assert_int_equal(assignment_set_add(s, c), 1);
	assert_true(assignment_set_contains(s, d));
	assert_false(assignment_set_contains(s, b));
	for (i = 0; i < 1000; i++) { /* growth */
		snprintf(name, sizeof(name), "%d", i);
		v[0] = name;
		v[1] = "k";
		assert_int_equal(assignment_set_add(s, v), 1);
	}
	assert_int_equal(assignment_set_count(s), 1002);
	v[0] = "999";
	assert_true(assignment_set_contains(s, v));
	assignment_set_free(s);
}

static void test_settings_helpers(void **state)
{
	struct algorithm_setting s = { "n", "12" };
	struct kb_error err;
	double d;
	long v;

	kb_error_clear(&err);
	assert_int_equal(setting_int(&s, 0, 100, &v, &err), 0);
	assert_int_equal(v, 12);
	assert_int_equal(setting_int(&s, 20, 100, &v, &err), -EINVAL);
	assert_string_equal(err.field, "spec.algorithm.algorithmSettings[n]");
	assert_non_null(strstr(err.message, "[20, 100]"));
	assert_non_null(strstr(err.message, "'12'"));
	s.value = "1.5";
	kb_error_clear(&err);
	assert_int_equal(setting_int(&s, 0, 100, &v, &err), -EINVAL);
	assert_int_equal(setting_double(&s, 0, 2, &d, &err), 0);
	assert_true(d == 1.5);
	kb_error_clear(&err);
	assert_int_equal(
		setting_double_bounds(&s, 0, 1.5, SETTING_MAX_OPEN, &d, &err),
		-EINVAL);
	assert_non_null(strstr(err.message, "a number in [0, 1.5)"));
	s.value = "abc";
	assert_int_equal(setting_double(&s, 0, 2, &d, NULL), -EINVAL);
}

/* ---- table and validation ---- */

static void test_table(void **state)
{
	static const char *const names[] = {
		"random",
		"grid",
		"tpe",
		"multivariate-tpe",
		"cmaes",
		"sobol",
		"bayesianoptimization",
		"hyperband",
		"pbt",
		"enas",
		"darts",
	};
	const struct algorithm_ops *ops;
	struct tu_spec t;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ops = algorithm_find(names[i]);
		assert_non_null(ops);
		assert_string_equal(ops->name, names[i]);
		assert_non_null(ops->validate);
		/* every algorithm Katib knows is built in now */
		assert_int_equal(ops->implemented, 1);
		if (ops->implemented)
			assert_true(ops->create && ops->suggest && ops->save &&
				    ops->destroy);
	}
	assert_null(algorithm_find("bayesian"));
	assert_null(algorithm_find(NULL));
	tu_init(&t, "bayesian");
	expect_invalid(&t, "spec.algorithm.algorithmName",
		       "unknown algorithm 'bayesian'; known: random, grid, "
		       "tpe, multivariate-tpe, cmaes, sobol, "
		       "bayesianoptimization, hyperband, pbt, enas, darts");
	tu_init(&t, NULL);
	expect_invalid(&t, "spec.algorithm.algorithmName", "required");
}

static void test_validate_random_tpe(void **state)
{
	struct tu_spec t;

	tu_init(&t, "random");
	add_param(&t, num_param("lr", PARAM_DOUBLE, 0.01, 0.1, 0));
	expect_valid(&t);
	tu_set(&t, "random_state", "10");
	expect_valid(&t);
	t.settings[0].value = "-1";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[random_state]",
		       "an integer >= 0");
	t.settings[0].name = "seed";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[seed]",
		       "unknown setting for algorithm 'random'; known: "
		       "random_state");

	tu_init(&t, "tpe");
	tu_set(&t, "gamma", "0.25");
	tu_set(&t, "prior_weight", "1.0");
	tu_set(&t, "n_EI_candidates", "24");
	tu_set(&t, "random_state", "3");
	expect_valid(&t);
	t.settings[0].value = "1";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[gamma]",
		       "a number in (0, 1)");
	t.settings[0].value = "0.5";
	t.settings[1].value = "0";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[prior_weight]",
		       "> 0");
	t.settings[1].value = "2";
	t.settings[2].value = "0";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[n_EI_candidates]",
		       ">= 1");
}

static void test_validate_mtpe_cmaes_sobol(void **state)
{
	struct tu_spec t;

	tu_init(&t, "multivariate-tpe");
	add_param(&t, num_param("lr", PARAM_DOUBLE, 0.01, 0.1, 0));
	tu_set(&t, "n_startup_trials", "0");
	tu_set(&t, "n_ei_candidates", "24");
	expect_valid(&t);
	t.params[0].distribution = DIST_LOG_NORMAL;
	expect_invalid(&t, "spec.parameters[0].feasibleSpace.distribution",
		       "does not support 'logNormal'");

	tu_init(&t, "cmaes");
	add_param(&t, num_param("lr", PARAM_DOUBLE, 0.01, 0.1, 0));
	expect_invalid(&t, "spec.parameters", "at least 2 int or double");
	add_param(&t, num_param("n", PARAM_INT, 1, 5, 0));
	tu_set(&t, "restart_strategy", "ipop");
	tu_set(&t, "sigma", "0.5");
	expect_valid(&t);
	t.settings[0].value = "lbfgs";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[restart_strategy]",
		       "one of ipop, bipop, none");
	t.settings[0].value = "none";
	t.params[1].name = "lr";
	expect_invalid(&t, "spec.parameters[1].name", "duplicate");

	tu_init(&t, "sobol");
	add_param(&t, num_param("lr", PARAM_DOUBLE, 0.01, 0.1, 0));
	expect_valid(&t);
	/* Katib's sobol service ignores every setting: a warning
	 * (test_verdicts.c), not an error */
	tu_set(&t, "random_state", "1");
	expect_valid(&t);
	t.settings[0].value = "one";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[random_state]",
		       "must be an integer");
}

static void test_validate_bo(void **state)
{
	struct tu_spec t;

	tu_init(&t, "bayesianoptimization");
	add_param(&t, num_param("lr", PARAM_DOUBLE, 0.01, 0.1, 0));
	add_param(&t, num_param("n", PARAM_INT, 0, 5, 0));
	tu_set(&t, "base_estimator", "GP");
	tu_set(&t, "n_initial_points", "5");
	tu_set(&t, "acq_func", "gp_hedge");
	tu_set(&t, "acq_optimizer", "lbfgs");
	tu_set(&t, "random_state", "1");
	expect_valid(&t);
	t.settings[0].value = "XGB";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[base_estimator]",
		       "GP, RF, ET, GBRT");
	/* the tree estimators sample the acquisition: lbfgs is refused with
	 * them, as scikit-optimize refuses it */
	t.settings[0].value = "RF";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[acq_optimizer]",
		       "sampling");
	t.settings[3].value = "sampling";
	expect_valid(&t);
	t.settings[0].value = "GBRT";
	t.settings[3].value = "auto";
	expect_valid(&t);
	/* doubles keep their distribution (Katib's skopt forces log-uniform
	 * and so needs min > 0; katibfs does not copy that quirk) */
	t.settings[0].value = "GP";
	t.params[0].min_value = 0;
	expect_valid(&t);
}

static void test_validate_hyperband(void **state)
{
	char *list[] = { "a" };
	struct tu_spec t;

	tu_init(&t, "hyperband");
	add_param(&t, num_param("lr", PARAM_DOUBLE, 0.01, 0.1, 0));
	add_param(&t, num_param("epochs", PARAM_INT, 1, 81, 0));
	add_param(&t, list_param("c", list, 1));
	expect_invalid(&t, "spec.algorithm.algorithmSettings[resource_name]",
		       "required");
	tu_set(&t, "resource_name", "epochs");
	expect_invalid(&t, "spec.algorithm.algorithmSettings[r_l]", "required");
	tu_set(&t, "r_l", "9");
	/* s_max = int(log 9 / log 3) = 2; needs 9 parallel trials */
	expect_invalid(&t, "spec.parallelTrialCount", ">= 9");
	t.spec.parallel_trial_count = 9;
	expect_valid(&t);
	tu_set(&t, "eta", "2"); /* s_max 3, needs 8 */
	expect_valid(&t);
	t.settings[2].value = "0"; /* default 3 */
	expect_valid(&t);
	t.settings[2].value = "1.5";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[eta]", ">= 2");
	t.settings[2].value = "3";
	t.settings[1].value = "0";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[r_l]", "> 0");
	t.settings[1].value = "9";
	t.settings[0].value = "steps";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[resource_name]",
		       "not one of spec.parameters");
	t.settings[0].value = "c";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[resource_name]",
		       "int or double");
}

static void test_validate_pbt(void **state)
{
	struct tu_spec t;

	tu_init(&t, "pbt");
	add_param(&t, num_param("lr", PARAM_DOUBLE, 0.01, 0.1, 0.01));
	tu_set(&t, "suggestion_trial_dir", "/var/log/katib/checkpoints/");
	tu_set(&t, "n_population", "40");
	tu_set(&t, "truncation_threshold", "0.3");
	expect_valid(&t);
	t.settings[1].value = "4";
	expect_invalid(&t, "spec.algorithm.algorithmSettings[n_population]",
		       ">= 5");
	t.settings[1].value = "5";
	tu_set(&t, "resample_probability", "1.5");
	expect_invalid(&t,
		       "spec.algorithm.algorithmSettings[resample_probability]",
		       "[0, 1]");
	t.settings[3].value = "0.5";
	t.params[0].step_value = 0;
	expect_invalid(&t, "spec.parameters[0].feasibleSpace.step", "step");
	t.params[0].step_value = 0.01;
	t.spec.algorithm.nsettings = 2;
	expect_invalid(&t,
		       "spec.algorithm.algorithmSettings[truncation_threshold]",
		       "required");
}

static void test_validate_nas(void **state)
{
	struct tu_spec t;
	cJSON *nas;

	nas = cJSON_Parse(
		"{\"graphConfig\": {\"numLayers\": 8, \"inputSizes\": "
		"[32,32,3],"
		" \"outputSizes\": [10]}, \"operations\": [{\"operationType\":"
		" \"convolution\", \"parameters\": [{\"name\": \"filter_size\","
		" \"parameterType\": \"categorical\", \"feasibleSpace\":"
		" {\"list\": [\"3\", \"5\"]}}, {\"name\": \"stride\","
		" \"parameterType\": \"double\", \"feasibleSpace\": {\"min\":"
		" \"1\", \"max\": \"2\"}}]}]}");
	assert_non_null(nas);
	tu_init(&t, "enas");
	expect_invalid(&t, "spec.nasConfig", "required by algorithm 'enas'");
	t.spec.nas_config = nas;
	expect_invalid(&t,
		       "spec.nasConfig.operations[0].parameters[1]"
		       ".feasibleSpace.step",
		       "required for double");
	cJSON_AddStringToObject(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(
				cJSON_GetObjectItem(
					cJSON_GetArrayItem(
						cJSON_GetObjectItem(
							nas, "operations"),
						0),
					"parameters"),
				1),
			"feasibleSpace"),
		"step", "0.5");
	tu_set(&t, "controller_temperature", "None");
	tu_set(&t, "controller_baseline_decay", "1");
	expect_valid(&t);
	t.settings[1].value = "0";
	expect_invalid(
		&t,
		"spec.algorithm.algorithmSettings[controller_baseline_decay]",
		"(0, 1]");
	t.settings[1].value = "0.9";
	tu_set(&t, "num_epochs", "5");
	expect_invalid(&t, "spec.algorithm.algorithmSettings[num_epochs]",
		       "unknown setting");

	t.spec.algorithm.name = "darts";
	t.spec.algorithm.nsettings = 0;
	tu_set(&t, "num_epochs", "5");
	tu_set(&t, "batch_size", "None");
	tu_set(&t, "my_own_knob", "anything");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(nas, "graphConfig"),
				   "inputSizes");
	expect_valid(&t);
	t.spec.algorithm.name = "enas";
	t.spec.algorithm.nsettings = 0;
	expect_invalid(&t, "spec.nasConfig.graphConfig.inputSizes", "required");
	t.spec.algorithm.name = "darts";
	tu_set(&t, "num_epochs", "0");
	expect_invalid(&t, "spec.algorithm.algorithmSettings[num_epochs]",
		       ">= 1");
	cJSON_Delete(nas);
}

static void test_early_stopping(void **state)
{
	struct algorithm_setting s[2] = { { "min_trials_required", "3" },
					  { "start_step", "4" } };
	struct tu_spec t;
	struct kb_error err;

	tu_init(&t, "random");
	kb_error_clear(&err);
	assert_int_equal(early_stopping_validate(&t.spec, &err), 0);
	t.spec.has_early_stopping = 1;
	t.spec.early_stopping.name = "medianstop";
	t.spec.early_stopping.settings = s;
	t.spec.early_stopping.nsettings = 2;
	assert_int_equal(early_stopping_validate(&t.spec, &err), 0);
	s[1].value = "0";
	assert_int_equal(early_stopping_validate(&t.spec, &err), -EINVAL);
	assert_string_equal(err.field,
			    "spec.earlyStopping.algorithmSettings[start_step]");
	s[1].value = "4";
	s[0].name = "min_trials";
	kb_error_clear(&err);
	assert_int_equal(early_stopping_validate(&t.spec, &err), -EINVAL);
	assert_non_null(strstr(err.message, "unknown setting 'min_trials'"));
	t.spec.early_stopping.name = "hyperband";
	kb_error_clear(&err);
	assert_int_equal(early_stopping_validate(&t.spec, &err), -EINVAL);
	assert_string_equal(err.field, "spec.earlyStopping.algorithmName");
}

/* ---- grid ---- */

static void grid_spec(struct tu_spec *t, char **list)
{
	tu_init(t, "grid");
	add_param(t, num_param("n", PARAM_INT, 1, 3, 0));
	add_param(t, list_param("opt", list, 2));
	add_param(t, num_param("lr", PARAM_DOUBLE, 0.005, 0.015, 0.005));
}

static void test_grid_validate(void **state)
{
	char *list[] = { "sgd", "adam" };
	struct tu_spec t;

	grid_spec(&t, list);
	t.spec.max_trial_count = 18;
	expect_valid(&t);
	t.spec.max_trial_count = 19;
	expect_invalid(&t, "spec.maxTrialCount", "18 combinations");
	t.spec.max_trial_count = -1;
	t.params[2].step_value = 0;
	expect_invalid(&t, "spec.parameters[2].feasibleSpace.step",
		       "grid needs a step for double parameter 'lr'");
	t.params[2].step_value = 0.005;
	tu_set(&t, "random_state", "x");
	expect_invalid(&t, "spec.algorithm.algorithmSettings[random_state]",
		       "integer");
}

static void test_grid_order_and_exhaustion(void **state)
{
	char *list[] = { "sgd", "adam" };
	const struct algorithm_ops *ops = algorithm_find("grid");
	struct test_history th;
	struct tu_spec t;
	char **out[32];
	int n;

	grid_spec(&t, list);
	history_init(&th, 3);
	n = run(ops, &t, NULL, &th, 4, out);
	assert_int_equal(n, 4);
	assert_string_equal(joined(out[0], 3), "1,sgd,0.005");
	assert_string_equal(joined(out[1], 3), "1,sgd,0.01");
	assert_string_equal(joined(out[2], 3), "1,sgd,0.015");
	assert_string_equal(joined(out[3], 3), "1,adam,0.005");
	history_add(&th, out, (size_t)n);
	/* a restart with history continues where it was */
	n = run(ops, &t, NULL, &th, 20, out);
	assert_int_equal(n, 14);
	assert_string_equal(joined(out[0], 3), "1,adam,0.01");
	assert_string_equal(joined(out[13], 3), "3,adam,0.015");
	history_add(&th, out, (size_t)n);
	n = run(ops, &t, NULL, &th, 5, out);
	assert_int_equal(n, 0);
	history_free(&th);
}

static void test_grid_random_state(void **state)
{
	char *list[] = { "sgd", "adam" };
	const struct algorithm_ops *ops = algorithm_find("grid");
	struct assignment_set *seen = assignment_set_new(3);
	struct test_history th, th2;
	struct tu_spec t;
	char **out[32], **plain[32], a[64];
	int n, i, same_order = 1;

	grid_spec(&t, list);
	history_init(&th2, 3);
	assert_int_equal(run(ops, &t, NULL, &th2, 18, plain), 18);
	history_add(&th2, plain, 18);
	tu_set(&t, "random_state", "5");
	history_init(&th, 3);
	for (i = 0; i < 6; i++) { /* 3 at a time */
		n = run(ops, &t, NULL, &th, 3, out);
		assert_int_equal(n, 3);
		history_add(&th, out, 3);
	}
	assert_int_equal(run(ops, &t, NULL, &th, 3, out), 0);
	for (i = 0; i < 18; i++) {
		/* every point exactly once */
		assert_int_equal(assignment_set_add(seen, th.trials[i].values),
				 1);
		snprintf(a, sizeof(a), "%s", joined(th.trials[i].values, 3));
		if (strcmp(a, joined(th2.trials[i].values, 3)))
			same_order = 0;
	}
	assert_false(same_order);
	/* same seed, same order, in one batch too */
	n = run(ops, &t, NULL, &th2, 0, out);
	assert_int_equal(n, 0);
	history_free(&th2);
	history_init(&th2, 3);
	assert_int_equal(run(ops, &t, NULL, &th2, 18, out), 18);
	history_add(&th2, out, 18);
	for (i = 0; i < 18; i++) {
		snprintf(a, sizeof(a), "%s", joined(th.trials[i].values, 3));
		assert_string_equal(a, joined(th2.trials[i].values, 3));
	}
	assignment_set_free(seen);
	history_free(&th);
	history_free(&th2);
}

/* ---- random ---- */

static void random_spec(struct tu_spec *t)
{
	tu_init(t, "random");
	add_param(t, num_param("lr", PARAM_DOUBLE, 0.001, 0.1, 0));
	add_param(t, num_param("n", PARAM_INT, 1, 100, 0));
}

static void test_random_reproducible(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("random");
	struct test_history a, b;
	struct tu_spec t;
	char **out[16];
	char keep[4][64];
	int n, i;

	random_spec(&t);
	tu_set(&t, "random_state", "42");
	history_init(&a, 2);
	history_init(&b, 2);
	/* 4 at once == 2 + 2 (suggestion k depends on k only) */
	n = run(ops, &t, NULL, &a, 4, out);
	assert_int_equal(n, 4);
	history_add(&a, out, 4);
	n = run(ops, &t, NULL, &b, 2, out);
	history_add(&b, out, 2);
	n = run(ops, &t, NULL, &b, 2, out);
	history_add(&b, out, 2);
	for (i = 0; i < 4; i++) {
		snprintf(keep[i], sizeof(keep[i]), "%s",
			 joined(a.trials[i].values, 2));
		assert_string_equal(keep[i], joined(b.trials[i].values, 2));
		assert_true(strtod(a.trials[i].values[0], NULL) >= 0.001);
	}
	assert_string_not_equal(keep[0], keep[1]);
	history_free(&a);
	history_free(&b);
}

static void test_random_seed_persisted(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("random");
	struct test_history th;
	struct tu_spec t;
	struct kb_error err;
	void *priv = NULL;
	char **out1[2], **out2[2], *saved, keep[64];

	random_spec(&t);
	history_init(&th, 2);
	kb_error_clear(&err);
	assert_int_equal(ops->create(&t.spec, NULL, &priv, &err), 0);
	assert_int_equal(ops->suggest(priv, &t.spec, &th.h, 1, out1, &err), 1);
	saved = ops->save(priv);
	assert_non_null(saved);
	assert_non_null(strstr(saved, "seed="));
	ops->destroy(priv);
	snprintf(keep, sizeof(keep), "%s", joined(out1[0], 2));
	/* restart: the saved seed gives the same first suggestion */
	assert_int_equal(ops->create(&t.spec, saved, &priv, &err), 0);
	assert_int_equal(ops->suggest(priv, &t.spec, &th.h, 1, out2, &err), 1);
	assert_string_equal(keep, joined(out2[0], 2));
	ops->destroy(priv);
	free(saved);
	assignment_values_free(out1[0], 2);
	assignment_values_free(out2[0], 2);
}

static void test_random_no_duplicates(void **state)
{
	char *list[] = { "a", "b", "c" };
	const struct algorithm_ops *ops = algorithm_find("random");
	struct assignment_set *seen = assignment_set_new(2);
	struct test_history th;
	struct tu_spec t;
	char **out[16];
	size_t i;
	int n;

	tu_init(&t, "random");
	add_param(&t, num_param("n", PARAM_INT, 1, 3, 0));
	add_param(&t, list_param("c", list, 3));
	tu_set(&t, "random_state", "1");
	history_init(&th, 2);
	n = run(ops, &t, NULL, &th, 4, out);
	assert_int_equal(n, 4);
	history_add(&th, out, 4);
	n = run(ops, &t, NULL, &th, 10, out);
	assert_int_equal(n, 5); /* 9 points in all */
	history_add(&th, out, 5);
	for (i = 0; i < th.h.ntrials; i++)
		assert_int_equal(assignment_set_add(seen, th.trials[i].values),
				 1);
	assert_int_equal(run(ops, &t, NULL, &th, 3, out), 0);
	assignment_set_free(seen);
	history_free(&th);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_sample_int),
		cmocka_unit_test(test_sample_double),
		cmocka_unit_test(test_sample_stepped_clean),
		cmocka_unit_test(test_sample_categorical),
		cmocka_unit_test(test_param_format),
		cmocka_unit_test(test_param_grid),
		cmocka_unit_test(test_assignment_set),
		cmocka_unit_test(test_settings_helpers),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_validate_random_tpe),
		cmocka_unit_test(test_validate_mtpe_cmaes_sobol),
		cmocka_unit_test(test_validate_bo),
		cmocka_unit_test(test_validate_hyperband),
		cmocka_unit_test(test_validate_pbt),
		cmocka_unit_test(test_validate_nas),
		cmocka_unit_test(test_early_stopping),
		cmocka_unit_test(test_grid_validate),
		cmocka_unit_test(test_grid_order_and_exhaustion),
		cmocka_unit_test(test_grid_random_state),
		cmocka_unit_test(test_random_reproducible),
		cmocka_unit_test(test_random_seed_persisted),
		cmocka_unit_test(test_random_no_duplicates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
