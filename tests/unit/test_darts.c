/* test_darts.c - DARTS emits Katib's three strings exactly; a text
 * objective (Best-Genotype) makes the latest trial with one optimal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "katib/algorithm.h"
#include "engine/model.h"
#include "fixtures.h"

/* clang-format off */
static const char darts_yaml[] =
	"apiVersion: kubeflow.org/v1beta1\n"
	"kind: Experiment\n"
	"metadata:\n"
	"  name: darts-cpu\n"
	"spec:\n"
	"  parallelTrialCount: 2\n"
	"  maxTrialCount: 2\n"
	"  objective:\n"
	"    type: maximize\n"
	"    objectiveMetricName: accuracy\n"
	"  algorithm:\n"
	"    algorithmName: darts\n"
	"    algorithmSettings:\n"
	"      - {name: num_epochs, value: \"1\"}\n"
	"      - {name: num_nodes, value: \"1\"}\n"
	"      - {name: init_channels, value: \"1\"}\n"
	"      - {name: stem_multiplier, value: \"1\"}\n"
	"      - {name: batch_size, value: \"None\"}\n"
	"      - {name: extra, value: \"a\\\"b\\u00e9\"}\n"
	"  nasConfig:\n"
	"    graphConfig:\n"
	"      numLayers: 3\n"
	"      inputSizes: [32, 32, 3]\n" /* required here, not by Katib */
	"      outputSizes: [10]\n"
	"    operations:\n"
	"      - operationType: skip_connection\n"
	"        parameters:\n"
	"          - name: x\n"
	"            parameterType: categorical\n"
	"            feasibleSpace: {list: [\"1\"]}\n"
	"      - operationType: max_pooling\n"
	"        parameters:\n"
	"          - name: filter_size\n"
	"            parameterType: categorical\n"
	"            feasibleSpace: {list: [\"3\"]}\n"
	"      - operationType: convolution\n"
	"        parameters:\n"
	"          - name: filter_size\n"
	"            parameterType: categorical\n"
	"            feasibleSpace: {list: [\"3\", \"5\"]}\n"
	"  trialTemplate:\n"
	"    primaryContainerName: main\n"
	"    trialParameters:\n"
	"      - {name: s, reference: algorithm-settings}\n"
	"      - {name: sp, reference: search-space}\n"
	"      - {name: n, reference: num-layers}\n"
	"    trialSpec:\n"
	FIXTURE_JOB_AT("      ", "main")
	"                image: x\n"
	"                command: [echo, \"${trialParameters.s}\", "
	"\"${trialParameters.sp}\", \"${trialParameters.n}\"]\n";
/* clang-format on */

/* What python3's json.dumps(...).replace('"', "'") prints for them. */
static const char expect_settings[] =
	"{'num_epochs': '1', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': "
	"0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': "
	"0.0003, "
	"'alpha_weight_decay': 0.001, 'batch_size': null, 'num_workers': 4, "
	"'init_channels': '1', 'print_step': 50, 'num_nodes': '1', "
	"'stem_multiplier': '1', 'extra': 'a\\'b\\u00e9'}";
static const char expect_space[] =
	"['skip_connection', 'max_pooling_3x3', 'convolution_3x3', "
	"'convolution_5x5']";

static void test_darts_strings(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("darts");
	struct experiment_spec *spec = NULL;
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	const char *names[8];
	char **out[3] = { NULL };
	void *priv = NULL;
	int n, i;

	(void)state;
	kb_error_clear(&err);
	assert_int_equal(spec_parse(darts_yaml, strlen(darts_yaml), "darts-cpu",
				    &spec, &err),
			 0);
	assert_true(ops->implemented);
	assert_int_equal(ops->validate(spec, &err), 0);
	assert_int_equal(ops->create(spec, NULL, &priv, &err), 0);
	assert_int_equal(ops->assignment_names(priv, spec, names, 8), 3);
	assert_string_equal(names[0], "algorithm-settings");
	assert_string_equal(names[1], "search-space");
	assert_string_equal(names[2], "num-layers");
	n = ops->suggest(priv, spec, &h, 2, out, &err);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_string_equal(out[i][0], expect_settings);
		assert_string_equal(out[i][1], expect_space);
		assert_string_equal(out[i][2], "3");
		assignment_values_free(out[i], 3);
	}
	ops->destroy(priv);
	spec_free(spec);
}

static void test_darts_defaults(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("darts");
	struct experiment_spec *spec = NULL;
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	char **out[1] = { NULL };
	void *priv = NULL;
	char *yaml = strdup(darts_yaml), *p;

	(void)state;
	/* drop the settings: the defaults alone */
	p = strstr(yaml, "    algorithmSettings:");
	memmove(p, strstr(p, "  nasConfig:"),
		strlen(strstr(p, "  nasConfig:")) + 1);
	kb_error_clear(&err);
	assert_int_equal(
		spec_parse(yaml, strlen(yaml), "darts-cpu", &spec, &err), 0);
	assert_int_equal(ops->create(spec, NULL, &priv, &err), 0);
	assert_int_equal(ops->suggest(priv, spec, &h, 1, out, &err), 1);
	assert_string_equal(
		out[0][0],
		"{'num_epochs': 50, 'w_lr': 0.025, 'w_lr_min': 0.001, "
		"'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': "
		"5.0, "
		"'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, "
		"'batch_size': "
		"128, 'num_workers': 4, 'init_channels': 16, 'print_step': 50, "
		"'num_nodes': 4, 'stem_multiplier': 3}");
	assignment_values_free(out[0], 3);
	ops->destroy(priv);
	spec_free(spec);
	free(yaml);
}

/* A trial that reported `value` for the objective (NULL: nothing). */
static struct trial *reported(struct experiment *e, int number,
			      const char *value)
{
	struct trial *t = trial_alloc();
	char name[TRIAL_NAME_MAX];

	assert_non_null(t);
	t->number = number;
	snprintf(name, sizeof(name), "darts-cpu-%d", number);
	assert_int_equal(trial_set_name(e, t, name), 0);
	t->state = TRIAL_PENDING;
	t->summaries = calloc(1, sizeof(*t->summaries));
	assert_non_null(t->summaries);
	t->nsummaries = 1;
	metric_summary_init(t->summaries);
	if (value)
		metric_summary_add(t->summaries, number, value);
	return t;
}

/* The best trial, both as kept while trials end and as recomputed. */
static int best_number(struct experiment *e)
{
	struct trial *kept = experiment_best(e), *fresh;

	e->best_valid = 0;
	fresh = experiment_best(e);
	assert_ptr_equal(kept, fresh);
	return fresh ? fresh->number : 0;
}

/* Katib's status_util.go: a trial whose objective is not a number (DARTS
 * reports Best-Genotype=Genotype(...)) becomes the optimal one, the
 * latest such trial winning; numeric values never displace it. */
static void test_text_objective_best(void **state)
{
	static const char *const values[] = {
		"0.5", "Genotype(normal=[[('max_pooling_3x3', 0)]])", NULL,
		"0.9", "Genotype(normal=[[('skip_connection', 1)]])",
	};
	static const int expect[] = { 1, 2, 2, 2, 5 };
	struct experiment *e = calloc(1, sizeof(*e));
	struct kb_error err;
	size_t i;

	(void)state;
	assert_non_null(e);
	kb_error_clear(&err);
	assert_int_equal(spec_parse(darts_yaml, strlen(darts_yaml), "darts-cpu",
				    &e->spec, &err),
			 0);
	for (i = 0; i < 5; i++) {
		struct trial *t = reported(e, (int)i + 1, values[i]);

		assert_int_equal(experiment_append_trial(e, t), 0);
		trial_set_state(e, t, TRIAL_RUNNING);
		trial_set_state(e, t,
				values[i] ? TRIAL_SUCCEEDED
					  : TRIAL_METRICS_UNAVAILABLE);
		assert_int_equal(best_number(e), expect[i]);
	}
	/* a running trial with a text value does not count yet */
	assert_int_equal(
		experiment_append_trial(e, reported(e, 6, "Genotype(x)")), 0);
	assert_int_equal(best_number(e), 5);
	experiment_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_darts_strings),
		cmocka_unit_test(test_darts_defaults),
		cmocka_unit_test(test_text_objective_best),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
