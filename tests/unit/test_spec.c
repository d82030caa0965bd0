/* test_spec.c - spec parsing, defaulting, validation and rendering. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "katib/spec.h"

#include "fixtures.h"

/* Katib's hp-tuning/random.yaml, shortened. */
static const char *const base_yaml = FIXTURE_BASE_SPEC;

/* The part of a spec body before trialTemplate, for the trial kinds. */
#define HEAD                                                                   \
	"objective:\n"                                                         \
	"  type: maximize\n"                                                   \
	"  goal: 0.99\n"                                                       \
	"  objectiveMetricName: accuracy\n"                                    \
	"algorithm:\n"                                                         \
	"  algorithmName: random\n"                                            \
	"maxTrialCount: 6\n"                                                   \
	"parameters:\n"                                                        \
	"  - name: lr\n"                                                       \
	"    parameterType: double\n"                                          \
	"    feasibleSpace: {min: \"0.01\", max: \"0.03\"}\n"                  \
	"trialTemplate:\n"                                                     \
	"  trialParameters:\n"                                                 \
	"    - name: learningRate\n"                                           \
	"      reference: lr\n"

/* A variant of base_yaml with one substring replaced. */
static void variant_err(const char *from, const char *to, const char *field,
			const char *at, const char *msg)
{
	char *y = fixture_replace(base_yaml, from, to);

	fixture_expect_error(y, -EINVAL, field, at, msg);
	free(y);
}

static void variant_ok(const char *from, const char *to)
{
	char *y = fixture_replace(base_yaml, from, to);

	spec_free(fixture_parse_ok(y));
	free(y);
}

/* ---- valid spec and defaults ---- */

static void test_base(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(base_yaml);
	const char *names[4];

	assert_string_equal(s->name, "random");
	assert_string_equal(s->namespace, "kubeflow");
	assert_int_equal(s->nparams, 2);
	assert_int_equal(s->params[0].type, PARAM_DOUBLE);
	assert_string_equal(s->params[0].min, "0.01");
	assert_true(s->params[0].min_value == 0.01);
	assert_true(s->params[1].max_value == 0.9);
	assert_int_equal(s->params[0].distribution, DIST_UNIFORM);
	assert_int_equal(s->objective.maximize, 0);
	assert_true(s->objective.has_goal && s->objective.goal == 0.001);
	assert_int_equal(s->parallel_trial_count, 3);
	assert_int_equal(s->max_trial_count, 12);
	assert_int_equal(s->max_failed_trial_count, 3);
	assert_int_equal(s->collector.kind, COLLECTOR_STDOUT);
	assert_int_equal(s->resume_policy, RESUME_NEVER);
	assert_int_equal(s->objective.nstrategies, 1);
	assert_int_equal(s->objective.strategies[0].value, STRATEGY_MIN);
	assert_int_equal(spec_metric_names(s, names, 4), 1);
	assert_string_equal(names[0], "loss");
	assert_string_equal(s->trial_template.success_condition,
			    "status.conditions.#(type==\"Complete\")#|"
			    "#(status==\"True\")#");
	assert_string_equal(s->trial_template.failure_condition,
			    "status.conditions.#(type==\"Failed\")#|"
			    "#(status==\"True\")#");
	assert_null(s->trial_template.primary_pod_labels);
	assert_true(s->trial_timeout == 0);
	spec_free(s);
}

static void test_defaults(void **state)
{
	char *y = fixture_replace(base_yaml, "  parallelTrialCount: 3\n", "");
	char *y2 = fixture_replace(
		y, "  maxTrialCount: 12\n  maxFailedTrialCount: 3\n", "");
	struct experiment_spec *s = fixture_parse_ok(y2);

	assert_int_equal(s->parallel_trial_count, 3);
	assert_int_equal(s->max_trial_count, -1);
	assert_int_equal(s->max_failed_trial_count, -1);
	spec_free(s);
	free(y);
	free(y2);
	/* the default 3 must still fit under a small maxTrialCount */
	variant_err("  parallelTrialCount: 3\n  maxTrialCount: 12\n"
		    "  maxFailedTrialCount: 3\n",
		    "  maxTrialCount: 2\n", "spec.parallelTrialCount", NULL,
		    "defaults to 3");
}

static void test_strategy_defaults(void **state)
{
	char *y = fixture_replace(base_yaml, "    type: minimize\n",
				  "    type: maximize\n"
				  "    additionalMetricNames: [loss2, acc]\n"
				  "    metricStrategies:\n"
				  "      - {name: acc, value: latest}\n"
				  "      - {name: other, value: min}\n");
	struct experiment_spec *s = fixture_parse_ok(y);
	const char *names[2];

	assert_int_equal(s->objective.nstrategies, 4);
	assert_string_equal(s->objective.strategies[0].name, "loss");
	assert_int_equal(s->objective.strategies[0].value, STRATEGY_MAX);
	/* Katib's code: additional metrics follow the objective's type */
	assert_string_equal(s->objective.strategies[1].name, "loss2");
	assert_int_equal(s->objective.strategies[1].value, STRATEGY_MAX);
	assert_string_equal(s->objective.strategies[2].name, "acc");
	assert_int_equal(s->objective.strategies[2].value, STRATEGY_LATEST);
	assert_string_equal(s->objective.strategies[3].name, "other");
	assert_int_equal(spec_metric_strategy(s, "acc"), STRATEGY_LATEST);
	assert_int_equal(spec_metric_strategy(s, "loss2"), STRATEGY_MAX);
	assert_int_equal(spec_metric_names(s, names, 2), 2);
	assert_int_equal(spec_metric_names(s, NULL, 0), 0);
	spec_free(s);
	free(y);
}

static void test_collector_defaults(void **state)
{
	static const char *const file = "  metricsCollectorSpec:\n"
					"    collector:\n"
					"      kind: File\n"
					"  parameters:\n";
	static const char *const tf = "  metricsCollectorSpec:\n"
				      "    collector: {kind: TensorFlowEvent}\n"
				      "  parameters:\n";
	static const char *const prom =
		"  metricsCollectorSpec:\n"
		"    collector: {kind: PrometheusMetric}\n"
		"  parameters:\n";
	static const char *const none = "  metricsCollectorSpec:\n"
					"    collector: {kind: None}\n"
					"  parameters:\n";
	struct experiment_spec *s;
	char *y;

	y = fixture_replace(base_yaml, "  parameters:\n", file);
	s = fixture_parse_ok(y);
	assert_int_equal(s->collector.kind, COLLECTOR_FILE);
	assert_string_equal(s->collector.path, "/var/log/katib/metrics.log");
	assert_int_equal(s->collector.path_kind, PATH_KIND_FILE);
	assert_int_equal(s->collector.format, FORMAT_TEXT);
	spec_free(s);
	free(y);

	y = fixture_replace(base_yaml, "  parameters:\n", tf);
	s = fixture_parse_ok(y);
	assert_string_equal(s->collector.path, "/var/log/katib/tfevent/");
	assert_int_equal(s->collector.path_kind, PATH_KIND_DIRECTORY);
	assert_int_equal(s->collector.has_format, 0);
	spec_free(s);
	free(y);

	y = fixture_replace(base_yaml, "  parameters:\n", prom);
	s = fixture_parse_ok(y);
	assert_int_equal(
		cJSON_GetObjectItem(s->collector.http_get, "port")->valueint,
		8080);
	assert_string_equal(
		cJSON_GetObjectItem(s->collector.http_get, "path")->valuestring,
		"/metrics");
	spec_free(s);
	free(y);

	y = fixture_replace(base_yaml, "  parameters:\n", none);
	s = fixture_parse_ok(y);
	/* None: no metrics, a trial ends on its exit status (issue 12) */
	assert_int_equal(s->collector.kind, COLLECTOR_NONE);
	assert_string_equal(collector_kind_name(s->collector.kind), "None");
	spec_free(s);
	free(y);
}

static void test_spec_body_only(void **state)
{
	const char *body = strstr(base_yaml, "spec:\n") + 6;
	char *y = malloc(strlen(body) + 1);
	char *p, *w;
	struct experiment_spec *s;

	/* de-indent by two spaces */
	for (p = (char *)body, w = y; *p;) {
		if (p[0] == ' ' && p[1] == ' ')
			p += 2;
		while (*p && *p != '\n')
			*w++ = *p++;
		if (*p)
			*w++ = *p++;
	}
	*w = 0;
	s = fixture_parse_ok(y);
	assert_null(s->name);
	assert_int_equal(s->nparams, 2);
	spec_free(s);
	free(y);
}

static void test_status_ignored_and_metadata(void **state)
{
	char *y = fixture_replace(
		base_yaml, "spec:\n",
		"  labels: {team: ml}\n"
		"  annotations: {note: x}\n"
		"  uid: 1234\n"
		"  creationTimestamp: \"2024-01-01T00:00:00Z\"\n"
		"status:\n"
		"  trials: 3\n"
		"  conditions: [{type: Running}]\n"
		"spec:\n");

	spec_free(fixture_parse_ok(y));
	free(y);
}

/* ---- errors: Katib's validator cases and ours ---- */

static void test_unknown_fields(void **state)
{
	variant_err("    goal: 0.001\n", "    goall: 0.001\n",
		    "spec.objective.goall", "goall", "unknown field");
	variant_err("  maxTrialCount: 12\n", "  maxTrials: 12\n",
		    "spec.maxTrials", "maxTrials", "unknown field");
	variant_err("        min: \"0.01\"\n", "        minimum: \"0.01\"\n",
		    "spec.parameters[0].feasibleSpace.minimum", "minimum",
		    "unknown field");
	variant_err("    primaryContainerName:",
		    "    trialTimeout: 10\n"
		    "    primaryContainerName:",
		    "spec.trialTemplate.trialTimeout", "trialTimeout",
		    "unknown field");
	variant_err("kind: Experiment\n", "kind: Experiment\nfoo: 1\n", "foo",
		    "foo", "unknown field");
	/* a batch/v1 Job's trialSpec is checked against the Job schema
	 * (more in test_verdicts.c); other kinds are arbitrary */
	variant_err("            restartPolicy: Never\n",
		    "            restartPolicy: Never\n"
		    "            anythingGoes: {x: [1, 2]}\n",
		    "spec.trialTemplate.trialSpec.spec.template.spec."
		    "anythingGoes",
		    "anythingGoes", "unknown field of a PodSpec");
}

static void test_wrong_types(void **state)
{
	variant_err("  maxTrialCount: 12\n", "  maxTrialCount: abc\n",
		    "spec.maxTrialCount", "abc", "must be an integer, e.g. 3");
	variant_err("  maxTrialCount: 12\n", "  maxTrialCount: 1.5\n",
		    "spec.maxTrialCount", "1.5", "must be an integer");
	variant_err("  maxTrialCount: 12\n", "  maxTrialCount: {a: 1}\n",
		    "spec.maxTrialCount", "{a: 1}", "must be a single value");
	variant_err("    objectiveMetricName: loss\n",
		    "    objectiveMetricName: [loss]\n",
		    "spec.objective.objectiveMetricName", "[loss]",
		    "not a list");
	variant_err("  objective:\n    type: minimize\n    goal: 0.001\n"
		    "    objectiveMetricName: loss\n",
		    "  objective: 3\n", "spec.objective", "objective: 3",
		    "must be a mapping");
	variant_err("  parameters:\n", "  parameters: {}\n  p:\n", "spec.p",
		    "p:", "unknown field");
	variant_err("    goal: 0.001\n", "    goal: high\n",
		    "spec.objective.goal", "high", "must be a number");
	variant_err("    primaryContainerName:",
		    "    retain: yes\n    primaryContainerName:",
		    "spec.trialTemplate.retain", "retain",
		    "must be true or false");
}

/* A quoted number is a string, which Katib's schema refuses for these. */
static void test_quoted_numbers(void **state)
{
	static const char *const ints[] = { "parallelTrialCount: 3",
					    "maxTrialCount: 12",
					    "maxFailedTrialCount: 3", NULL };
	char from[64], to[64], field[64];
	size_t i;

	for (i = 0; ints[i]; i++) {
		const char *colon = strchr(ints[i], ':');

		snprintf(from, sizeof(from), "  %s\n", ints[i]);
		snprintf(to, sizeof(to), "  %.*s: \"%s\"\n",
			 (int)(colon - ints[i]), ints[i], colon + 2);
		snprintf(field, sizeof(field), "spec.%.*s",
			 (int)(colon - ints[i]), ints[i]);
		variant_err(from, to, field, to + 2,
			    "must be an integer, without quotes");
	}
	variant_err("  maxTrialCount: 12\n", "  maxTrialCount: '12'\n",
		    "spec.maxTrialCount", "'12'", "the string \"12\"");
	variant_err("    goal: 0.001\n", "    goal: \"0.001\"\n",
		    "spec.objective.goal", "goal", "a number, without quotes");
	variant_err("    primaryContainerName:",
		    "    retain: \"true\"\n    primaryContainerName:",
		    "spec.trialTemplate.retain", "retain",
		    "true or false, without quotes");
	/* unquoted stays fine, and strings stay strings where Katib has them */
	variant_ok("    primaryContainerName:",
		   "    retain: true\n    primaryContainerName:");
}

/* Every error about a node has its line; names get "did you mean". */
static void test_lines_and_hints(void **state)
{
	variant_err("    algorithmName: random\n", "    algorithmName: randm\n",
		    "spec.algorithm.algorithmName", "randm",
		    "did you mean random?");
	variant_err("    algorithmName: random\n",
		    "    algorithmName: random\n    algorithmSettings:\n"
		    "      - {name: random_stat, value: \"1\"}\n",
		    "spec.algorithm.algorithmSettings[random_stat]",
		    "random_stat", "did you mean random_state?");
	variant_err("  maxFailedTrialCount: 3\n",
		    "  maxFailedTrialCount: 3\n  resumePolicy: Nevr\n",
		    "spec.resumePolicy", "Nevr", "did you mean Never?");
	variant_err("  parallelTrialCount: 3\n", "  paralelTrialCount: 3\n",
		    "spec.paralelTrialCount", "paralelTrialCount",
		    "did you mean parallelTrialCount?");
	variant_err("    type: minimize\n", "    type: minimise\n",
		    "spec.objective.type", "minimise",
		    "did you mean minimize?");
	variant_err("        reference: lr\n", "        reference: lrr\n",
		    "spec.trialTemplate.trialParameters[0].reference", "lrr",
		    "did you mean lr?");
	/* a placeholder that is not declared, and one declared but unused */
	variant_err("--momentum=${trialParameters.momentum}",
		    "--momentum=${trialParameters.momentun}",
		    "spec.trialTemplate.trialSpec", "momentun",
		    "did you mean momentum?");
	variant_err("--momentum=${trialParameters.momentum}", "--momentum=1",
		    "spec.trialTemplate.trialParameters[1]",
		    "      - name: momentum", "is declared but");
	variant_err("        reference: lr\n",
		    "        reference: ${trialSpec.Nmae}\n",
		    "spec.trialTemplate.trialParameters[0].reference", "Nmae",
		    "did you mean Name?");
	variant_err("        reference: lr\n",
		    "        reference: ${trialSpec.Lables[app]}\n",
		    "spec.trialTemplate.trialParameters[0].reference", "Lables",
		    "did you mean Labels?");
	/* no hint when nothing is close */
	variant_err(
		"    algorithmName: random\n", "    algorithmName: hyperopt\n",
		"spec.algorithm.algorithmName", "hyperopt", "known: random");
	/* early stopping, found after parsing, gets its line too */
	variant_err("  parallelTrialCount: 3\n",
		    "  earlyStopping:\n    algorithmName: medianstp\n"
		    "  parallelTrialCount: 3\n",
		    "spec.earlyStopping.algorithmName", "medianstp",
		    "did you mean medianstop?");
}

static void test_no_hint_when_far(void **state)
{
	struct experiment_spec *s = NULL;
	struct kb_error err;
	char *y = fixture_replace(base_yaml, "    algorithmName: random\n",
				  "    algorithmName: hyperopt\n");

	assert_int_equal(spec_parse(y, strlen(y), "exp", &s, &err), -EINVAL);
	assert_null(strstr(err.message, "did you mean"));
	free(y);
}

/* An update error found without the tree gets its line from the text. */
static void test_locate_error(void **state)
{
	struct kb_error err;

	kb_error_clear(&err);
	kb_error_set(&err, -EPERM, "spec.resumePolicy", 0, "x");
	spec_locate_error("spec:\n  maxTrialCount: 3\n  resumePolicy: Never\n",
			  44, &err);
	assert_int_equal(err.line, 3);
	kb_error_clear(&err);
	kb_error_set(&err, -EPERM, "spec.parameters[lr].feasibleSpace", 0, "x");
	spec_locate_error(base_yaml, strlen(base_yaml), &err);
	assert_int_equal(err.line, fixture_line_of(base_yaml, "feasibleSpace"));
	/* the body alone: "spec." is implied */
	kb_error_clear(&err);
	kb_error_set(&err, -EPERM, "spec.maxTrialCount", 0, "x");
	spec_locate_error("objective: {}\nmaxTrialCount: 3\n", 30, &err);
	assert_int_equal(err.line, 2);
	/* a line already set is kept; an unknown path stays 0 */
	kb_error_clear(&err);
	kb_error_set(&err, -EPERM, "spec.maxTrialCount", 7, "x");
	spec_locate_error(base_yaml, strlen(base_yaml), &err);
	assert_int_equal(err.line, 7);
	kb_error_clear(&err);
	kb_error_set(&err, -EPERM, "nothing.here", 0, "x");
	spec_locate_error(base_yaml, strlen(base_yaml), &err);
	assert_int_equal(err.line, 0);
}

static void test_top_level(void **state)
{
	variant_err("apiVersion: kubeflow.org/v1beta1\n",
		    "apiVersion: kubeflow.org/v1alpha3\n", "apiVersion",
		    "apiVersion", "must be kubeflow.org/v1beta1");
	variant_err("kind: Experiment\n", "kind: Trial\n", "kind",
		    "kind:", "must be Experiment");
	fixture_expect_error("- a\n- b\n", -EINVAL, "", NULL,
			     "must be a mapping");
	fixture_expect_error("", -EINVAL, NULL, NULL, "empty");
	fixture_expect_error("kind: Experiment\n", -EINVAL, "spec", NULL,
			     "required");
	fixture_expect_error("a: [1, 2\n", -EINVAL, NULL, NULL,
			     "YAML syntax error");
	fixture_expect_error("a: 1\n---\nb: 2\n", -EINVAL, NULL, NULL,
			     "more than one YAML document");
}

static void test_name(void **state)
{
	struct kb_error err;
	struct experiment_spec *s = NULL;
	char long_name[64];

	assert_int_equal(spec_validate_name("random-1", &err), 0);
	assert_int_equal(spec_validate_name("a", &err), 0);
	kb_error_clear(&err);
	assert_int_equal(spec_validate_name("1234-test", &err), -EINVAL);
	assert_string_equal(err.field, "metadata.name");
	assert_int_equal(spec_validate_name("Abc", NULL), -EINVAL);
	assert_int_equal(spec_validate_name("abc-", NULL), -EINVAL);
	assert_int_equal(spec_validate_name("ab_c", NULL), -EINVAL);
	assert_int_equal(spec_validate_name("", NULL), -EINVAL);
	memset(long_name, 'a', 41);
	long_name[41] = 0;
	assert_int_equal(spec_validate_name(long_name, NULL), -EINVAL);
	long_name[40] = 0;
	assert_int_equal(spec_validate_name(long_name, NULL), 0);
	/* the directory name is checked; a different metadata.name is kept */
	assert_int_equal(
		spec_parse(base_yaml, strlen(base_yaml), "Bad!", &s, &err),
		-EINVAL);
	assert_int_equal(
		spec_parse(base_yaml, strlen(base_yaml), "other", &s, &err), 0);
	assert_string_equal(s->name, "random");
	spec_free(s);
}

static void test_objective_algorithm(void **state)
{
	variant_err("    type: minimize\n", "    type: minimise\n",
		    "spec.objective.type", "minimise",
		    "must be one of minimize, maximize");
	variant_err("    type: minimize\n", "", "spec.objective.type",
		    "  objective:", "required");
	variant_err("    objectiveMetricName: loss\n",
		    "    objectiveMetricName: \"\"\n",
		    "spec.objective.objectiveMetricName", NULL, "required");
	variant_err("  objective:\n    type: minimize\n    goal: 0.001\n"
		    "    objectiveMetricName: loss\n",
		    "", "spec.objective", NULL, "required");
	variant_err("    objectiveMetricName: loss\n",
		    "    objectiveMetricName: loss\n"
		    "    additionalMetricNames: [acc, loss]\n",
		    "spec.objective.additionalMetricNames[1]",
		    "additionalMetricNames", "must not repeat");
	variant_err("    objectiveMetricName: loss\n",
		    "    objectiveMetricName: loss\n"
		    "    metricStrategies:\n"
		    "      - name: loss\n"
		    "        value: median\n",
		    "spec.objective.metricStrategies[0].value", "median",
		    "must be one of min, max, latest");
	variant_err("  algorithm:\n    algorithmName: random\n", "",
		    "spec.algorithm", NULL, "required");
	variant_err("    algorithmName: random\n", "    algorithmName: \"\"\n",
		    "spec.algorithm.algorithmName", NULL, "required");
	variant_err("    algorithmName: random\n",
		    "    algorithmName: random\n"
		    "    algorithmSettings:\n"
		    "      - {name: random_state, valu: 3}\n",
		    "spec.algorithm.algorithmSettings[0].valu", "valu",
		    "unknown field");
}

static void test_counts(void **state)
{
	variant_err("  maxTrialCount: 12\n", "  maxTrialCount: -1\n",
		    "spec.maxTrialCount", "maxTrialCount", "greater than 0");
	variant_err("  maxTrialCount: 12\n", "  maxTrialCount: 0\n",
		    "spec.maxTrialCount", "maxTrialCount", "greater than 0");
	variant_err("  maxFailedTrialCount: 3\n", "  maxFailedTrialCount: -1\n",
		    "spec.maxFailedTrialCount", "maxFailedTrialCount", "0 or");
	variant_err("  maxFailedTrialCount: 3\n", "  maxFailedTrialCount: 13\n",
		    "spec.maxFailedTrialCount", "maxFailedTrialCount",
		    "must not exceed maxTrialCount");
	variant_err("  parallelTrialCount: 3\n", "  parallelTrialCount: -1\n",
		    "spec.parallelTrialCount", "parallelTrialCount",
		    "greater than 0");
	variant_err("  parallelTrialCount: 3\n", "  parallelTrialCount: 0\n",
		    "spec.parallelTrialCount", "parallelTrialCount",
		    "greater than 0");
	variant_err("  parallelTrialCount: 3\n", "  parallelTrialCount: 13\n",
		    "spec.parallelTrialCount", "parallelTrialCount",
		    "must not exceed maxTrialCount");
	variant_ok("  maxFailedTrialCount: 3\n", "  maxFailedTrialCount: 0\n");
	variant_ok("  parallelTrialCount: 3\n", "  parallelTrialCount: 12\n");
	variant_err("  maxTrialCount: 12\n",
		    "  resumePolicy: Sometimes\n"
		    "  maxTrialCount: 12\n",
		    "spec.resumePolicy", "Sometimes",
		    "must be one of Never, LongRunning, FromVolume");
	variant_ok("  maxTrialCount: 12\n", "  resumePolicy: FromVolume\n"
					    "  maxTrialCount: 12\n");
}

#define P0                                                                     \
	"    - name: lr\n      parameterType: double\n"                        \
	"      feasibleSpace:\n        min: \"0.01\"\n        max: \"0.05\"\n"

static void param_err(const char *p0, const char *field, const char *at,
		      const char *msg)
{
	char *y = fixture_replace(base_yaml, P0, p0);

	fixture_expect_error(y, -EINVAL, field, at, msg);
	free(y);
}

static void param_ok(const char *p0, struct param_spec *want)
{
	char *y = fixture_replace(base_yaml, P0, p0);
	struct experiment_spec *s = fixture_parse_ok(y);

	if (want) {
		assert_int_equal(s->params[0].type, want->type);
		assert_int_equal(s->params[0].distribution, want->distribution);
		assert_int_equal(s->params[0].nlist, want->nlist);
		assert_true(s->params[0].step_value == want->step_value);
	}
	spec_free(s);
	free(y);
}

static void test_parameters(void **state)
{
	struct param_spec w = { 0 };

	param_err("    - name: lr\n      parameterType: float\n"
		  "      feasibleSpace: {min: \"1\", max: \"2\"}\n",
		  "spec.parameters[0].parameterType", "float",
		  "must be one of int, double, categorical, discrete");
	param_err("    - name: lr\n      parameterType: int\n",
		  "spec.parameters[0].feasibleSpace", "- name: lr", "required");
	param_err("    - name: lr\n      parameterType: int\n"
		  "      feasibleSpace: {min: \"1\", max: \"5\", list: [a]}\n",
		  "spec.parameters[0].feasibleSpace.list", "list",
		  "only for categorical and discrete");
	param_err("    - name: lr\n      parameterType: int\n"
		  "      feasibleSpace: {step: \"1\"}\n",
		  "spec.parameters[0].feasibleSpace.min", "step", "required");
	param_err("    - name: lr\n      parameterType: categorical\n"
		  "      feasibleSpace: {list: [a, b], max: \"5\"}\n",
		  "spec.parameters[0].feasibleSpace.max", "list",
		  "not allowed for categorical");
	param_err("    - name: lr\n      parameterType: double\n"
		  "      feasibleSpace:\n        min: \"0.5\"\n"
		  "        max: \"0.1\"\n",
		  "spec.parameters[0].feasibleSpace.min", "0.5",
		  "must not exceed max");
	param_err("    - name: lr\n      parameterType: double\n"
		  "      feasibleSpace:\n        min: low\n"
		  "        max: \"0.1\"\n",
		  "spec.parameters[0].feasibleSpace.min", "min: low",
		  "must be a number");
	param_err("    - name: lr\n      parameterType: int\n"
		  "      feasibleSpace:\n        min: \"1.5\"\n"
		  "        max: \"3\"\n",
		  "spec.parameters[0].feasibleSpace.min", "1.5",
		  "must be an integer");
	param_err("    - name: lr\n      parameterType: int\n"
		  "      feasibleSpace:\n        min: \"1\"\n"
		  "        max: \"3\"\n        step: \"0\"\n",
		  "spec.parameters[0].feasibleSpace.step", "step",
		  "greater than 0");
	param_err("    - name: lr\n      parameterType: double\n"
		  "      feasibleSpace:\n        min: \"0\"\n"
		  "        max: \"3\"\n        distribution: logUniform\n",
		  "spec.parameters[0].feasibleSpace.min", "\"0\"",
		  "greater than 0");
	param_err("    - name: lr\n      parameterType: double\n"
		  "      feasibleSpace:\n        min: \"1\"\n"
		  "        max: \"3\"\n        distribution: gaussian\n",
		  "spec.parameters[0].feasibleSpace.distribution", "gaussian",
		  "must be one of uniform, logUniform, normal, logNormal");
	param_err("    - name: lr\n      parameterType: categorical\n"
		  "      feasibleSpace:\n        list: []\n",
		  "spec.parameters[0].feasibleSpace.list", "list",
		  "at least one");
	param_err("    - name: lr\n      parameterType: discrete\n"
		  "      feasibleSpace:\n        list:\n          - \"1\"\n"
		  "          - two\n",
		  "spec.parameters[0].feasibleSpace.list[1]", "two",
		  "must be a number");
	param_err("    - name: momentum\n      parameterType: double\n"
		  "      feasibleSpace: {min: \"1\", max: \"2\"}\n",
		  "spec.parameters[1].name",
		  "- name: momentum\n      parameterType: double\n      "
		  "feasibleSpace:\n        min",
		  "must be unique");
	param_err("    - parameterType: double\n"
		  "      feasibleSpace: {min: \"1\", max: \"2\"}\n",
		  "spec.parameters[0].name", NULL, "required");

	w.type = PARAM_INT;
	w.distribution = DIST_LOG_UNIFORM;
	w.step_value = 2;
	param_ok("    - name: lr\n      parameterType: int\n"
		 "      feasibleSpace: {min: 1, max: 9, step: 2, "
		 "distribution: logUniform}\n",
		 &w);
	w.type = PARAM_DISCRETE;
	w.distribution = DIST_UNIFORM;
	w.step_value = 0;
	w.nlist = 3;
	param_ok("    - name: lr\n      parameterType: discrete\n"
		 "      feasibleSpace: {list: [\"1\", \"2.5\", \"-3e2\"]}\n",
		 &w);
	w.type = PARAM_CATEGORICAL;
	w.nlist = 2;
	param_ok("    - name: lr\n      parameterType: categorical\n"
		 "      feasibleSpace: {list: [sgd, adam]}\n",
		 &w);
	/* min == max is fine (hyperband.yaml does it) */
	param_ok("    - name: lr\n      parameterType: int\n"
		 "      feasibleSpace: {min: \"1\", max: \"1\"}\n",
		 NULL);
}

static void test_search_space_choice(void **state)
{
	variant_err("  parameters:\n",
		    "  nasConfig:\n"
		    "    graphConfig: {numLayers: 1, inputSizes: [32], "
		    "outputSizes: [10]}\n"
		    "    operations:\n"
		    "      - operationType: reduction\n"
		    "        parameters:\n"
		    "          - name: filter_size\n"
		    "            parameterType: categorical\n"
		    "            feasibleSpace: {list: [\"3\"]}\n"
		    "  parameters:\n",
		    "spec.nasConfig", "nasConfig", "not both");
	fixture_expect_error(
		"objective: {type: minimize, objectiveMetricName: loss}\n"
		"algorithm: {algorithmName: random}\n"
		"trialTemplate: {}\n",
		-EINVAL, "spec.parameters", NULL, "required");
}

/* base_yaml with its trialSpec replaced by `tail` */
static char *with_configmap(const char *tail)
{
	const char *cut = strstr(base_yaml, "    trialSpec:\n");
	size_t n = (size_t)(cut - base_yaml);
	char *y = malloc(n + strlen(tail) + 1);

	assert_non_null(y);
	memcpy(y, base_yaml, n);
	strcpy(y + n, tail);
	return y;
}

static void test_trial_template_errors(void **state)
{
	variant_err("    trialParameters:\n" FIXTURE_TRIAL_PARAMETERS, "",
		    "spec.trialTemplate.trialParameters", NULL, "required");
	variant_err("    trialSpec:\n",
		    "    configMap:\n"
		    "      configMapName: c\n      configMapNamespace: n\n"
		    "      templatePath: p\n    trialSpec:\n",
		    "spec.trialTemplate.configMap", "configMap", "not both");
	{
		char *y = with_configmap("    configMap:\n"
					 "      configMapName: c\n"
					 "      configMapNamespace: n\n");

		fixture_expect_error(
			y, -EINVAL, "spec.trialTemplate.configMap.templatePath",
			"configMap:", "required");
		free(y);
	}
	variant_err("        reference: lr\n", "        reference: \"\"\n",
		    "spec.trialTemplate.trialParameters[0].reference", NULL,
		    "required");
	variant_err("      - name: learningRate\n",
		    "      - name: \"{learningRate}\"\n",
		    "spec.trialTemplate.trialParameters[0].name",
		    "{learningRate}", "must not contain { or }");
	variant_err("      - name: momentum\n", "      - name: learningRate\n",
		    "spec.trialTemplate.trialParameters[1].name",
		    "      - name: learningRate\n        description: Momentum",
		    "declared twice");
	variant_err("        reference: momentum\n", "        reference: lr\n",
		    "spec.trialTemplate.trialParameters[1].reference",
		    "reference: lr\n    trialSpec", "already referenced");
	variant_err("        reference: momentum\n",
		    "        reference: beta\n",
		    "spec.trialTemplate.trialParameters[1].reference",
		    "reference: beta", "not the name of any spec.parameters");
	variant_err("${trialParameters.momentum}",
		    "${trialParameters.momentum} ${trialParameters.batch}",
		    "spec.trialTemplate.trialSpec", "${trialParameters.batch}",
		    "${trialParameters.batch}");
	variant_err("                  - \"--momentum=${trialParameters."
		    "momentum}\"\n",
		    "", "spec.trialTemplate.trialParameters[1]", NULL,
		    "does not appear in trialSpec");
	variant_err("      kind: Job\n",
		    "      kind: Job\n      metadata:\n        name: fixed\n",
		    "spec.trialTemplate.trialSpec.metadata",
		    "metadata:\n        name: fixed",
		    "must not set name or namespace");
	variant_err("      apiVersion: batch/v1\n", "",
		    "spec.trialTemplate.trialSpec.apiVersion", NULL,
		    "required");
	variant_err("    primaryContainerName: training-container\n", "",
		    "spec.trialTemplate.primaryContainerName", NULL,
		    "required");
	variant_err("    primaryContainerName: training-container\n",
		    "    primaryContainerName: trainer\n",
		    "spec.trialTemplate.primaryContainerName", "trainer",
		    "no container named \"trainer\"");
	variant_err("      kind: Job\n", "      kind: CustomKind\n",
		    "spec.trialTemplate.successCondition", NULL,
		    "required for kind CustomKind");
	variant_err("  trialTemplate:\n    primaryContainerName",
		    "  trialTemplatex:\n    primaryContainerName",
		    "spec.trialTemplatex", "trialTemplatex", "unknown field");
	/* a parameter no trialParameter references never reaches a trial */
	variant_err("        reference: momentum\n",
		    "        reference: \"${trialSpec.Name}\"\n",
		    "spec.parameters[1].name", "name: momentum",
		    "not the reference of any");
	variant_err("        reference: momentum\n",
		    "        reference: \"${trialSpec.Uid}\"\n",
		    "spec.trialTemplate.trialParameters[1].reference", "Uid",
		    "illegal reference of trial metadata");
}

static void test_custom_kind_conditions(void **state)
{
	char *y = fixture_replace(base_yaml, "      kind: Job\n",
				  "      kind: CustomKind\n");
	char *y2 = fixture_replace(y, "    trialParameters:\n",
				   "    successCondition: status.ok\n"
				   "    failureCondition: status.bad\n"
				   "    trialParameters:\n");
	struct experiment_spec *s = fixture_parse_ok(y2);

	assert_string_equal(s->trial_template.success_condition, "status.ok");
	spec_free(s);
	free(y);
	free(y2);
}

static void test_collector_errors(void **state)
{
	static const struct {
		const char *mcs, *field, *at, *msg;
	} cases[] = {
		{ "    collector: {kind: File}\n    source:\n"
		  "      fileSystemPath: {path: /a, kind: Directory}\n",
		  "spec.metricsCollectorSpec.source.fileSystemPath.kind",
		  "fileSystemPath", "must be File" },
		{ "    collector: {kind: File}\n    source:\n"
		  "      fileSystemPath: {path: /a.json, format: JSON}\n"
		  "      filter: {metricsFormat: [\"(a)(b)\"]}\n",
		  "spec.metricsCollectorSpec.source.filter", "filter",
		  "filter must be nil when format of metrics file is json" },
		{ "    collector: {kind: File}\n    source:\n"
		  "      fileSystemPath: {path: rel/x.log}\n",
		  "spec.metricsCollectorSpec.source.fileSystemPath.path",
		  "fileSystemPath", "absolute" },
		{ "    collector: {kind: File}\n    source:\n"
		  "      fileSystemPath: {path: /x, format: XML}\n",
		  "spec.metricsCollectorSpec.source.fileSystemPath.format",
		  "fileSystemPath", "must be one of TEXT, JSON" },
		{ "    collector: {kind: TensorFlowEvent}\n    source:\n"
		  "      fileSystemPath: {path: /tf, kind: Directory, "
		  "format: TEXT}\n",
		  "spec.metricsCollectorSpec.source.fileSystemPath.format",
		  "fileSystemPath", "must be empty" },
		{ "    collector: {kind: TensorFlowEvent}\n    source:\n"
		  "      fileSystemPath: {path: /tf, kind: File}\n",
		  "spec.metricsCollectorSpec.source.fileSystemPath.kind",
		  "fileSystemPath", "must be Directory" },
		{ "    collector: {kind: Custom}\n",
		  "spec.metricsCollectorSpec.collector.customCollector",
		  "collector:", "required for kind: Custom" },
		{ "    collector:\n      kind: StdOut\n"
		  "      customCollector: {name: c, image: i}\n",
		  "spec.metricsCollectorSpec.collector.customCollector",
		  "customCollector", "only for kind: Custom" },
		{ "    collector: {kind: PrometheusMetric}\n    source:\n"
		  "      httpGet: {port: 0}\n",
		  "spec.metricsCollectorSpec.source.httpGet.port", "httpGet",
		  "positive port" },
		{ "    collector: {kind: PrometheusMetric}\n    source:\n"
		  "      httpGet: {path: metrics, port: 9090}\n",
		  "spec.metricsCollectorSpec.source.httpGet.path", "httpGet",
		  "must start with /" },
		{ "    collector: {kind: StdOut}\n    source:\n"
		  "      fileSystemPath: {path: /x}\n",
		  "spec.metricsCollectorSpec.source.fileSystemPath",
		  "fileSystemPath", "not used by the StdOut" },
		{ "    collector: {kind: Stdout}\n",
		  "spec.metricsCollectorSpec.collector.kind", "Stdout",
		  "must be one of StdOut, File" },
		{ "    collector: {}\n",
		  "spec.metricsCollectorSpec.collector.kind",
		  "collector:", "required" },
		{ "    collector: {kind: StdOut}\n    source:\n"
		  "      filter: {metricFormat: [x]}\n",
		  "spec.metricsCollectorSpec.source.filter.metricFormat",
		  "metricFormat", "unknown field" },
	};
	char buf[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "  metricsCollectorSpec:\n%s"
			 "  parameters:\n",
			 cases[i].mcs);
		variant_err("  parameters:\n", buf, cases[i].field, cases[i].at,
			    cases[i].msg);
	}
}

static void test_collector_ok(void **state)
{
	static const char *const ok[] = {
		"    collector: {kind: File}\n    source:\n"
		"      fileSystemPath: {path: /katib/mnist.json, kind: File, "
		"format: JSON}\n",
		"    collector: {kind: File}\n    source:\n"
		"      fileSystemPath: {path: /katib/mnist.log, kind: File}\n"
		"      filter:\n        metricsFormat:\n"
		"          - \"{metricName: ([\\\\w|-]+), metricValue: "
		"((-?\\\\d+)(\\\\.\\\\d+)?)}\"\n",
		"    collector:\n      kind: Custom\n      customCollector:\n"
		"        image: custom-metrics-collector\n"
		"        name: custom-metrics-logger-and-collector\n"
		"        args: [-m, accuracy]\n"
		"    source:\n"
		"      fileSystemPath: {path: /katib/mnist.log, kind: File}\n",
		"    collector: {kind: PrometheusMetric}\n    source:\n"
		"      httpGet: {path: /m, port: 9090}\n",
		"    collector: {kind: Push}\n",
		"    collector: {kind: StdOut}\n    source:\n"
		"      filter: {metricsFormat: "
		"[\"([\\\\w-]+)=(Genotype.*)\"]}\n",
	};
	char buf[1024];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "  metricsCollectorSpec:\n%s"
			 "  parameters:\n",
			 ok[i]);
		variant_ok("  parameters:\n", buf);
	}
}

static void test_yaml_limits(void **state)
{
	static const char *const bomb =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct experiment_spec *s = NULL;
	struct kb_error err;
	size_t big = SPEC_MAX_BYTES + 1, i;
	char *text;

	fixture_expect_error(bomb, -EINVAL, NULL, NULL,
			     "nodes once its aliases");
	text = malloc(big + 1);
	assert_non_null(text);
	memset(text, ' ', big);
	text[big] = 0;
	assert_int_equal(spec_parse(text, big, "exp", &s, &err), -EFBIG);
	assert_null(s);
	/* deep nesting is refused, not a stack overflow */
	for (i = 0; i < 100000; i++)
		text[i] = '[';
	text[i] = 0;
	fixture_expect_error(text, -EINVAL, NULL, NULL, "nests deeper");
	free(text);
	fixture_expect_error("a: 1\na: 2\n", -EINVAL, "a", NULL,
			     "duplicate key");
	fixture_expect_error("a: *nope\n", -EINVAL, NULL, NULL,
			     "unknown anchor");
}

static void test_anchors_and_merge(void **state)
{
	char *y = fixture_replace(
		base_yaml,
		"    - name: momentum\n      parameterType: double\n"
		"      feasibleSpace:\n        min: \"0.5\"\n"
		"        max: \"0.9\"\n",
		"    - name: momentum\n      parameterType: double\n"
		"      feasibleSpace:\n        <<: &fs {min: \"0.5\"}\n"
		"        max: \"0.9\"\n");
	struct experiment_spec *s = fixture_parse_ok(y);

	assert_string_equal(s->params[1].min, "0.5");
	spec_free(s);
	free(y);
}

/* ---- trial kinds (KATIB.md d) ---- */

struct kind_case {
	const char *name;
	const char *yaml;
	const char *argv0, *last_arg;
	const char *success;
	const char *pod_label;
};

static const struct kind_case kinds[] = {
	{ "pytorchjob",
	  HEAD
	  "  primaryContainerName: pytorch\n"
	  "  trialSpec:\n"
	  "    apiVersion: kubeflow.org/v1\n"
	  "    kind: PyTorchJob\n"
	  "    spec:\n"
	  "      pytorchReplicaSpecs:\n"
	  "        Master:\n"
	  "          replicas: 1\n"
	  "          restartPolicy: OnFailure\n"
	  "          template:\n"
	  "            spec:\n"
	  "              containers:\n"
	  "                - name: pytorch\n"
	  "                  image: docker.io/kubeflowkatib/pytorch-mnist\n"
	  "                  command:\n"
	  "                    - python3\n"
	  "                    - /opt/pytorch-mnist/mnist.py\n"
	  "                    - --lr=${trialParameters.learningRate}\n"
	  "        Worker:\n"
	  "          replicas: 2\n"
	  "          restartPolicy: OnFailure\n"
	  "          template:\n"
	  "            spec:\n"
	  "              containers:\n"
	  "                - name: pytorch\n"
	  "                  image: docker.io/kubeflowkatib/pytorch-mnist\n"
	  "                  command: [python3, /opt/pytorch-mnist/mnist.py,"
	  " \"--lr=${trialParameters.learningRate}\"]\n",
	  "python3", "--lr=0.02",
	  "status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#",
	  "training.kubeflow.org/job-role" },
	{ "tfjob",
	  HEAD "  primaryContainerName: tensorflow\n"
	       "  primaryPodLabels:\n"
	       "    training.kubeflow.org/replica-type: worker\n"
	       "  trialSpec:\n"
	       "    apiVersion: kubeflow.org/v1\n"
	       "    kind: TFJob\n"
	       "    spec:\n"
	       "      tfReplicaSpecs:\n"
	       "        Worker:\n"
	       "          replicas: 1\n"
	       "          restartPolicy: OnFailure\n"
	       "          template:\n"
	       "            spec:\n"
	       "              containers:\n"
	       "                - name: tensorflow\n"
	       "                  image: tf-mnist-with-summaries\n"
	       "                  command:\n"
	       "                    - python\n"
	       "                    - /opt/tf-mnist-with-summaries/mnist.py\n"
	       "                    - --learning-rate=${trialParameters."
	       "learningRate}\n",
	  "python", "--learning-rate=0.02",
	  "status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#",
	  "training.kubeflow.org/replica-type" },
	{ "mpijob",
	  HEAD "  primaryContainerName: mpi-launcher\n"
	       "  primaryPodLabels: {mpi-job-role: launcher}\n"
	       "  trialSpec:\n"
	       "    apiVersion: kubeflow.org/v1\n"
	       "    kind: MPIJob\n"
	       "    spec:\n"
	       "      slotsPerWorker: 1\n"
	       "      cleanPodPolicy: Running\n"
	       "      mpiReplicaSpecs:\n"
	       "        Launcher:\n"
	       "          replicas: 1\n"
	       "          template:\n"
	       "            spec:\n"
	       "              containers:\n"
	       "                - image: docker.io/kubeflow/mpi-horovod-mnist\n"
	       "                  name: mpi-launcher\n"
	       "                  command: [mpirun]\n"
	       "                  args:\n"
	       "                    - -np\n"
	       "                    - \"2\"\n"
	       "                    - python\n"
	       "                    - /examples/tensorflow2_mnist.py\n"
	       "                    - --lr\n"
	       "                    - ${trialParameters.learningRate}\n"
	       "        Worker:\n"
	       "          replicas: 2\n"
	       "          template:\n"
	       "            spec:\n"
	       "              containers:\n"
	       "                - image: docker.io/kubeflow/mpi-horovod-mnist\n"
	       "                  name: mpi-worker\n",
	  "mpirun", "0.02",
	  "status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#",
	  "mpi-job-role" },
	{ "xgboostjob",
	  HEAD
	  "  primaryContainerName: xgboost\n"
	  "  trialSpec:\n"
	  "    apiVersion: kubeflow.org/v1\n"
	  "    kind: XGBoostJob\n"
	  "    spec:\n"
	  "      xgbReplicaSpecs:\n"
	  "        Master:\n"
	  "          replicas: 1\n"
	  "          restartPolicy: ExitCode\n"
	  "          template:\n"
	  "            spec:\n"
	  "              containers:\n"
	  "                - name: xgboost\n"
	  "                  image: docker.io/kubeflow/xgboost-dist-lightgbm\n"
	  "                  ports:\n"
	  "                    - containerPort: 9991\n"
	  "                      name: xgboostjob-port\n"
	  "                  imagePullPolicy: Always\n"
	  "                  args:\n"
	  "                    - --job_type=Train\n"
	  "                    - --learning_rate=${trialParameters."
	  "learningRate}\n",
	  NULL, NULL,
	  "status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#",
	  "training.kubeflow.org/job-role" },
	{ "trainjob",
	  HEAD "  primaryContainerName: node\n"
	       "  trialSpec:\n"
	       "    apiVersion: trainer.kubeflow.org/v1alpha1\n"
	       "    kind: TrainJob\n"
	       "    spec:\n"
	       "      runtimeRef:\n"
	       "        name: torch-distributed\n"
	       "      trainer:\n"
	       "        numNodes: 2\n"
	       "        image: docker.io/kubeflowkatib/pytorch-mnist\n"
	       "        command:\n"
	       "          - \"python3\"\n"
	       "          - \"/opt/pytorch-mnist/mnist.py\"\n"
	       "          - \"--lr=${trialParameters.learningRate}\"\n",
	  "python3", "--lr=0.02",
	  "status.conditions.#(type==\"Complete\")#|#(status==\"True\")#",
	  "jobset.sigs.k8s.io/replicatedjob-name" },
	{ "argo",
	  HEAD "  retain: true\n"
	       "  primaryPodLabels:\n"
	       "    katib.kubeflow.org/model-training: \"true\"\n"
	       "  primaryContainerName: main\n"
	       "  successCondition: status.[@this].#(phase==\"Succeeded\")#\n"
	       "  failureCondition: status.[@this].#(phase==\"Failed\")#\n"
	       "  trialSpec:\n"
	       "    apiVersion: argoproj.io/v1alpha1\n"
	       "    kind: Workflow\n"
	       "    spec:\n"
	       "      serviceAccountName: argo\n"
	       "      entrypoint: hp-workflow\n"
	       "      templates:\n"
	       "        - name: hp-workflow\n"
	       "          steps:\n"
	       "            - - name: data-preprocessing\n"
	       "                template: gen-num-examples\n"
	       "            - - name: model-training\n"
	       "                template: model-training\n"
	       "                arguments:\n"
	       "                  parameters:\n"
	       "                    - name: num-examples\n"
	       "                      value: \"{{steps.data-preprocessing."
	       "outputs.result}}\"\n"
	       "        - name: gen-num-examples\n"
	       "          script:\n"
	       "            image: python:alpine3.6\n"
	       "            command:\n"
	       "              - python\n"
	       "            source: |\n"
	       "              import random\n"
	       "              print(60000//random.randint(10, 100))\n"
	       "        - name: model-training\n"
	       "          metadata:\n"
	       "            labels:\n"
	       "              katib.kubeflow.org/model-training: \"true\"\n"
	       "          inputs:\n"
	       "            parameters:\n"
	       "              - name: num-examples\n"
	       "          container:\n"
	       "            name: model-training\n"
	       "            image: docker.io/kubeflowkatib/mxnet-mnist\n"
	       "            command:\n"
	       "              - \"python3\"\n"
	       "              - \"/opt/mxnet-mnist/mnist.py\"\n"
	       "              - \"--lr=${trialParameters.learningRate}\"\n"
	       "              - \"--num-examples={{inputs.parameters."
	       "num-examples}}\"\n",
	  "python3", "--num-examples={{inputs.parameters.num-examples}}",
	  "status.[@this].#(phase==\"Succeeded\")#",
	  "katib.kubeflow.org/model-training" },
	{ "tekton",
	  HEAD "  retain: true\n"
	       "  primaryPodLabels:\n"
	       "    tekton.dev/pipelineTask: model-training\n"
	       "  primaryContainerName: step-model-training\n"
	       "  successCondition: status.conditions.#(type==\"Succeeded\")#|"
	       "#(status==\"True\")#\n"
	       "  failureCondition: status.conditions.#(type==\"Succeeded\")#|"
	       "#(status==\"False\")#\n"
	       "  trialSpec:\n"
	       "    apiVersion: tekton.dev/v1beta1\n"
	       "    kind: PipelineRun\n"
	       "    spec:\n"
	       "      params:\n"
	       "        - name: lr\n"
	       "          value: ${trialParameters.learningRate}\n"
	       "        - name: num-examples-init\n"
	       "          value: \"60000\"\n"
	       "      pipelineSpec:\n"
	       "        params:\n"
	       "          - name: lr\n"
	       "            description: Learning rate for the training model\n"
	       "        tasks:\n"
	       "          - name: data-preprocessing\n"
	       "            taskSpec:\n"
	       "              steps:\n"
	       "                - name: num-examples-optimize\n"
	       "                  image: python:alpine3.6\n"
	       "                  command: [sh, -c]\n"
	       "                  args: [\"echo 1\"]\n"
	       "          - name: model-training\n"
	       "            params:\n"
	       "              - name: lr\n"
	       "                value: $(params.lr)\n"
	       "            taskSpec:\n"
	       "              params:\n"
	       "                - name: lr\n"
	       "              steps:\n"
	       "                - name: model-training\n"
	       "                  image: docker.io/kubeflowkatib/mxnet-mnist\n"
	       "                  command:\n"
	       "                    - \"python3\"\n"
	       "                    - \"/opt/mxnet-mnist/mnist.py\"\n"
	       "                    - \"--lr=$(params.lr)\"\n",
	  "python3", "--lr=$(params.lr)",
	  "status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#",
	  "tekton.dev/pipelineTask" },
};

static void test_trial_kinds(void **state)
{
	struct assignment a = { "lr", "0.02" };
	struct trial_command cmd;
	struct kb_error err;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct experiment_spec *s = fixture_parse_ok(kinds[i].yaml);
		int rc;

		assert_string_equal(s->trial_template.success_condition,
				    kinds[i].success);
		assert_non_null(cJSON_GetObjectItem(
			s->trial_template.primary_pod_labels,
			kinds[i].pod_label));
		kb_error_clear(&err);
		rc = spec_render_trial(s, "exp-abcdefgh", "ns", &a, 1, &cmd,
				       &err);
		if (!kinds[i].argv0) {
			/* args but no command: the local backend refuses */
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err.field, "spec.trialTemplate."
						       "primaryContainerName");
			assert_non_null(strstr(err.message, "ENTRYPOINT"));
			spec_free(s);
			continue;
		}
		if (rc)
			fail_msg("%s: %s", kinds[i].name, err.message);
		/* one sh -c line, as Katib's pod webhook makes it */
		assert_int_equal(cmd.argc, 3);
		assert_string_equal(cmd.argv[1], "-c");
		if (strcmp(kinds[i].argv0, "sh") &&
		    strcmp(kinds[i].argv0, "bash")) {
			assert_string_equal(cmd.argv[0], "sh");
			assert_memory_equal(cmd.argv[2], kinds[i].argv0,
					    strlen(kinds[i].argv0));
		} else {
			assert_string_equal(cmd.argv[0], kinds[i].argv0);
		}
		assert_string_equal(cmd.argv[2] + strlen(cmd.argv[2]) -
					    strlen(kinds[i].last_arg),
				    kinds[i].last_arg);
		assert_null(cmd.argv[cmd.argc]);
		assert_non_null(strstr(cmd.manifest, "\"exp-abcdefgh\""));
		trial_command_free(&cmd);
		spec_free(s);
	}
}

static void test_render_job(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(base_yaml);
	struct assignment a[] = { { "momentum", "0.7" }, { "lr", "0.02" } };
	struct trial_command cmd;
	struct kb_error err;
	cJSON *m, *md;

	kb_error_clear(&err);
	assert_int_equal(
		spec_render_trial(s, "random-xyz", NULL, a, 2, &cmd, &err), 0);
	/* as Katib's pod webhook wraps it for the StdOut collector */
	assert_int_equal(cmd.argc, 3);
	assert_string_equal(cmd.argv[0], "sh");
	assert_string_equal(cmd.argv[1], "-c");
	assert_string_equal(cmd.argv[2],
			    "python3 /opt/pytorch-mnist/mnist.py --epochs=1 "
			    "--lr=0.02 --momentum=0.7");
	assert_int_equal(cmd.nenv, 0);
	assert_non_null(cmd.env);
	assert_null(cmd.env[0]);
	assert_null(cmd.working_dir);
	m = cJSON_Parse(cmd.manifest);
	md = cJSON_GetObjectItem(m, "metadata");
	assert_string_equal(cJSON_GetObjectItem(md, "name")->valuestring,
			    "random-xyz");
	assert_string_equal(cJSON_GetObjectItem(md, "namespace")->valuestring,
			    "kubeflow");
	assert_non_null(strchr(cmd.manifest, '\n')); /* pretty-printed */
	cJSON_Delete(m);
	trial_command_free(&cmd);

	/* a value with a quote cannot corrupt the manifest */
	a[1].value = "0.02\"x";
	assert_int_equal(spec_render_trial(s, "t", "ns", a, 2, &cmd, &err), 0);
	assert_non_null(strstr(cmd.argv[2], " --lr=0.02\"x "));
	trial_command_free(&cmd);

	/* every assignment must be consumed, and every reference present */
	kb_error_clear(&err);
	assert_int_equal(spec_render_trial(s, "t", "ns", a, 1, &cmd, &err),
			 -EINVAL);
	assert_non_null(strstr(err.message, "no value assigned"));
	{
		struct assignment b[] = { { "lr", "1" },
					  { "momentum", "2" },
					  { "extra", "3" } };

		kb_error_clear(&err);
		assert_int_equal(
			spec_render_trial(s, "t", "ns", b, 3, &cmd, &err),
			-EINVAL);
		assert_non_null(strstr(err.message, "has 3 values"));
	}
	spec_free(s);
}

static void test_render_env_and_meta(void **state)
{
	static const char *const y =
		HEAD "    - name: trialName\n"
		     "      reference: ${trialSpec.Name}\n"
		     "    - name: trialNamespace\n"
		     "      reference: ${trialSpec.Namespace}\n"
		     "    - name: jobKind\n"
		     "      reference: ${trialSpec.Kind}\n"
		     "    - name: jobAPIVersion\n"
		     "      reference: ${trialSpec.APIVersion}\n"
		     "    - name: jobLabel\n"
		     "      reference: ${trialSpec.Labels[custom-key]}\n"
		     "    - name: jobAnnotation\n"
		     "      reference: ${trialSpec.Annotations[custom-key]}\n"
		     "  primaryContainerName: training-container\n"
		     "  trialSpec:\n"
		     "    apiVersion: batch/v1\n"
		     "    kind: Job\n"
		     "    metadata:\n"
		     "      labels: {custom-key: custom-label}\n"
		     "      annotations: {custom-key: custom-annotation}\n"
		     "    spec:\n"
		     "      template:\n"
		     "        spec:\n"
		     "          containers:\n"
		     "            - name: training-container\n"
		     "              image: x\n"
		     "              workingDir: /work\n"
		     "              command: [python3, train.py, --lr, "
		     "\"${trialParameters.learningRate}\", \"3\", \"true\"]\n"
		     "              env:\n"
		     "                - {name: TRIAL_NAME, value: "
		     "\"${trialParameters.trialName}\"}\n"
		     "                - {name: TRIAL_NS, value: "
		     "\"${trialParameters.trialNamespace}\"}\n"
		     "                - {name: KIND, value: "
		     "\"${trialParameters.jobKind}\"}\n"
		     "                - {name: API, value: "
		     "\"${trialParameters.jobAPIVersion}\"}\n"
		     "                - {name: LABEL, value: "
		     "\"${trialParameters.jobLabel}\"}\n"
		     "                - {name: ANN, value: "
		     "\"${trialParameters.jobAnnotation}\"}\n"
		     "                - {name: EPOCHS, value: \"5\"}\n"
		     "                - {name: EMPTY}\n";
	static const char *const want[] = { "TRIAL_NAME=exp-t1",
					    "TRIAL_NS=team",
					    "KIND=Job",
					    "API=batch/v1",
					    "LABEL=custom-label",
					    "ANN=custom-annotation",
					    "EPOCHS=5",
					    "EMPTY=",
					    NULL };
	struct experiment_spec *s = fixture_parse_ok(y);
	struct assignment a = { "lr", "0.1" };
	struct trial_command cmd;
	struct kb_error err;
	size_t i;

	kb_error_clear(&err);
	assert_int_equal(
		spec_render_trial(s, "exp-t1", "team", &a, 1, &cmd, &err), 0);
	assert_int_equal(cmd.argc, 3);
	assert_string_equal(cmd.argv[2], "python3 train.py --lr 0.1 3 true");
	assert_string_equal(cmd.working_dir, "/work");
	assert_int_equal(cmd.nenv, 8);
	for (i = 0; want[i]; i++)
		assert_string_equal(cmd.env[i], want[i]);
	assert_null(cmd.env[8]);
	trial_command_free(&cmd);
	spec_free(s);
}

static void round_trip(const char *yaml);

static void test_render_errors(void **state)
{
	struct assignment a[] = { { "lr", "0.02" }, { "momentum", "0.5" } };
	struct trial_command cmd;
	struct kb_error err;
	struct experiment_spec *s;
	char *y;

	y = fixture_replace(
		base_yaml, "            restartPolicy: Never\n",
		"                env:\n"
		"                  - name: SECRET\n"
		"                    valueFrom: {secretKeyRef: {name: s, "
		"key: k}}\n"
		"            restartPolicy: Never\n");
	s = fixture_parse_ok(y);
	kb_error_clear(&err);
	assert_int_equal(spec_render_trial(s, "t", NULL, a, 2, &cmd, &err),
			 -EINVAL);
	assert_non_null(strstr(err.message, "SECRET"));
	assert_non_null(strstr(err.message, "valueFrom"));
	spec_free(s);
	free(y);

	y = with_configmap("    successCondition: a\n    failureCondition: b\n"
			   "    configMap:\n"
			   "      configMapName: trial-templates\n"
			   "      configMapNamespace: kubeflow\n"
			   "      templatePath: defaultTrialTemplate.yaml\n");
	s = fixture_parse_ok(y);
	round_trip(y);
	kb_error_clear(&err);
	assert_int_equal(spec_render_trial(s, "t", NULL, a, 2, &cmd, &err),
			 -ENOTSUP);
	assert_non_null(strstr(err.message, "ConfigMap"));
	spec_free(s);
	free(y);
}

/* ---- round trip and updates ---- */

static void round_trip(const char *yaml)
{
	struct experiment_spec *s = fixture_parse_ok(yaml), *s2;
	struct kb_error err;
	char *r1, *r2;

	r1 = spec_render_yaml(s, "exp-name");
	assert_non_null(r1);
	s2 = fixture_parse_ok(r1);
	r2 = spec_render_yaml(s2, "exp-name");
	assert_non_null(r2);
	if (strcmp(r1, r2))
		fail_msg("round trip differs:\n%s\n----\n%s", r1, r2);
	kb_error_clear(&err);
	assert_int_equal(spec_check_update(s, s2, &err), 0);
	if (s->trial_template.trial_spec)
		assert_true(cJSON_Compare(s->trial_template.trial_spec,
					  s2->trial_template.trial_spec, 1));
	free(r1);
	free(r2);
	spec_free(s);
	spec_free(s2);
}

static void test_round_trip(void **state)
{
	static const char *const extra =
		"    additionalMetricNames: [\"123\", \"true\", acc]\n"
		"    metricStrategies: [{name: acc, value: latest}]\n"
		"  earlyStopping:\n"
		"    algorithmName: medianstop\n"
		"    algorithmSettings:\n"
		"      - {name: min_trials_required, value: \"3\"}\n"
		"  metricsCollectorSpec:\n"
		"    collector: {kind: File}\n"
		"    source:\n"
		"      fileSystemPath: {path: /k/m.log}\n"
		"      filter:\n"
		"        metricsFormat:\n"
		"          - "
		"\"([\\\\w|-]+)\\\\s*=\\\\s*([+-]?\\\\d*(\\\\.\\\\d+)?)\"\n"
		"  resumePolicy: LongRunning\n";
	char *y = fixture_replace(base_yaml, "  algorithm:\n", extra);
	char *y2 =
		fixture_replace(y, "  resumePolicy: LongRunning\n",
				"  resumePolicy: LongRunning\n  algorithm:\n");
	char *y3 = fixture_replace(
		base_yaml, "            restartPolicy: Never\n",
		"                env:\n"
		"                  - {name: A, value: \"1\"}\n"
		"                  - {name: B, value: \"2\"}\n"
		"                  - {name: C, value: null}\n"
		"                  - {name: D, value: \"null\"}\n"
		"                  - {name: E, value: \"a: b\"}\n"
		"                  - {name: F, value: \"x\\ny\\n\"}\n"
		"                  - {name: H, value: \"\"}\n"
		"                resources:\n"
		"                  limits: {cpu: 2, memory: 1.5e-7}\n"
		"            restartPolicy: Never\n");
	size_t i;

	round_trip(base_yaml);
	round_trip(y2);
	round_trip(y3);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		round_trip(kinds[i].yaml);
	free(y);
	free(y2);
	free(y3);
}

static const char *const nas_yaml =
	"objective:\n"
	"  type: maximize\n"
	"  goal: 0.99\n"
	"  objectiveMetricName: Validation-Accuracy\n"
	"algorithm:\n"
	"  algorithmName: enas\n"
	"parallelTrialCount: 2\n"
	"maxTrialCount: 3\n"
	"maxFailedTrialCount: 2\n"
	"nasConfig:\n"
	"  graphConfig:\n"
	"    numLayers: 1\n"
	"    inputSizes: [32, 32, 3]\n"
	"    outputSizes: [10]\n"
	"  operations:\n"
	"    - operationType: convolution\n"
	"      parameters:\n"
	"        - name: filter_size\n"
	"          parameterType: categorical\n"
	"          feasibleSpace: {list: [\"3\", \"5\"]}\n"
	"        - name: num_filter\n"
	"          parameterType: categorical\n"
	"          feasibleSpace: {list: [\"32\", \"48\"]}\n"
	"    - operationType: reduction\n"
	"      parameters:\n"
	"        - name: reduction_type\n"
	"          parameterType: categorical\n"
	"          feasibleSpace: {list: [max_pooling, avg_pooling]}\n"
	"trialTemplate:\n"
	"  primaryContainerName: training-container\n"
	"  trialParameters:\n"
	"    - name: neuralNetworkArchitecture\n"
	"      reference: architecture\n"
	"    - name: neuralNetworkConfig\n"
	"      reference: nn_config\n"
	"  trialSpec:\n" FIXTURE_JOB_4
	"              image: enas-cnn-cifar10-cpu\n"
	"              command:\n"
	"                - python3.7\n"
	"                - RunTrial.py\n"
	"                - --architecture=\"${trialParameters."
	"neuralNetworkArchitecture}\"\n"
	"                - --nn_config=\"${trialParameters."
	"neuralNetworkConfig}\"\n"
	"          restartPolicy: Never\n";

static void test_nas(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(nas_yaml);
	cJSON *g = cJSON_GetObjectItem(s->nas_config, "graphConfig");
	struct assignment a[] = { { "architecture", "[[0]]" },
				  { "nn_config", "{'num_layers': 1}" } };
	struct trial_command cmd;
	struct kb_error err;
	char *y;

	assert_int_equal(s->nparams, 0);
	assert_int_equal(cJSON_GetObjectItem(g, "numLayers")->valueint, 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s->nas_config,
								"operations")),
			 2);
	assert_int_equal(spec_render_trial(s, "t", NULL, a, 2, &cmd, &err), 0);
	/* Katib's NAS form: the shell drops the quotes */
	assert_string_equal(cmd.argv[2],
			    "python3.7 RunTrial.py --architecture=\"[[0]]\" "
			    "--nn_config=\"{'num_layers': 1}\"");
	trial_command_free(&cmd);
	spec_free(s);
	round_trip(nas_yaml);

	y = fixture_replace(nas_yaml, "    numLayers: 1\n", "");
	fixture_expect_error(y, -EINVAL, "spec.nasConfig.graphConfig.numLayers",
			     "graphConfig", "required");
	free(y);
	y = fixture_replace(nas_yaml, "    - operationType: reduction\n",
			    "    - operation: reduction\n");
	fixture_expect_error(y, -EINVAL,
			     "spec.nasConfig.operations[1].operation",
			     "operation: reduction", "unknown field");
	free(y);
	y = fixture_replace(nas_yaml, "    outputSizes: [10]\n",
			    "    outputSizes: [ten]\n");
	fixture_expect_error(y, -EINVAL,
			     "spec.nasConfig.graphConfig.outputSizes[0]",
			     "[ten]", "must be an integer");
	free(y);
}

static void test_render_yaml_shape(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(base_yaml);
	char *r = spec_render_yaml(s, "dir-name");

	assert_non_null(r);
	assert_non_null(strstr(r, "apiVersion: kubeflow.org/v1beta1\n"));
	assert_non_null(strstr(r, "kind: Experiment\n"));
	assert_non_null(strstr(r, "  name: dir-name\n"));
	assert_non_null(strstr(r, "  namespace: kubeflow\n"));
	assert_non_null(strstr(r, "parallelTrialCount: 3\n"));
	assert_non_null(strstr(r, "min: \"0.01\"\n"));
	assert_non_null(strstr(r, "distribution: uniform\n"));
	assert_non_null(strstr(r, "kind: StdOut\n"));
	assert_non_null(strstr(r, "resumePolicy: Never\n"));
	assert_non_null(strstr(r, "value: min\n"));
	assert_non_null(strstr(r, "successCondition:"));
	assert_non_null(strstr(r, "--lr=${trialParameters.learningRate}"));
	free(r);
	spec_free(s);
}

/* The base spec updated to `y` (freed here): spec_check_update()'s return
 * code, and the field it names when it refuses. */
static void check_update(char *y, int code, const char *field)
{
	struct experiment_spec *a = fixture_parse_ok(base_yaml),
			       *b = fixture_parse_ok(y);
	struct kb_error err;

	kb_error_clear(&err);
	assert_int_equal(spec_check_update(a, b, &err), code);
	if (field)
		assert_string_equal(err.field, field);
	spec_free(a);
	spec_free(b);
	free(y);
}

static void test_check_update(void **state)
{
	(void)state;
	/* the counts and metadata.name may change */
	check_update(fixture_variant(base_yaml,
				     "  maxTrialCount: 12\n"
				     "  maxFailedTrialCount: 3\n",
				     "  maxTrialCount: 20\n"
				     "  maxFailedTrialCount: 5\n",
				     "  name: random\n", "  name: renamed\n",
				     NULL),
		     0, NULL);
	check_update(fixture_replace(base_yaml, "    algorithmName: random\n",
				     "    algorithmName: tpe\n"),
		     -EPERM, "spec.algorithm");
	check_update(fixture_replace(base_yaml, "--epochs=1", "--epochs=2"),
		     -EPERM, "spec.trialTemplate");
	check_update(fixture_replace(base_yaml, "  namespace: kubeflow\n", ""),
		     -EPERM, "metadata.namespace");
	check_update(fixture_replace(base_yaml, "  parallelTrialCount: 3\n",
				     "  parallelTrialCount: 3\n"
				     "  resumePolicy: LongRunning\n"),
		     -EPERM, "spec.resumePolicy");
}

static void test_names(void **state)
{
	assert_string_equal(param_type_name(PARAM_CATEGORICAL), "categorical");
	assert_string_equal(distribution_name(DIST_LOG_NORMAL), "logNormal");
	assert_string_equal(metric_strategy_name(STRATEGY_LATEST), "latest");
	assert_string_equal(collector_kind_name(COLLECTOR_TFEVENT),
			    "TensorFlowEvent");
}

static void test_error_format(void **state)
{
	struct experiment_spec *s = NULL;
	struct kb_error err;
	char buf[600];
	char *y = fixture_replace(base_yaml, "    goal: 0.001\n",
				  "    goall: 0.001\n");

	assert_int_equal(spec_parse(y, strlen(y), "exp", &s, &err), -EINVAL);
	kb_error_format(&err, buf, sizeof(buf));
	assert_non_null(strstr(buf, "spec.objective.goall: unknown field"));
	assert_non_null(strstr(buf, "(line 9)"));
	free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_quoted_numbers),
		cmocka_unit_test(test_lines_and_hints),
		cmocka_unit_test(test_no_hint_when_far),
		cmocka_unit_test(test_locate_error),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_strategy_defaults),
		cmocka_unit_test(test_collector_defaults),
		cmocka_unit_test(test_spec_body_only),
		cmocka_unit_test(test_status_ignored_and_metadata),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_objective_algorithm),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_search_space_choice),
		cmocka_unit_test(test_trial_template_errors),
		cmocka_unit_test(test_custom_kind_conditions),
		cmocka_unit_test(test_collector_errors),
		cmocka_unit_test(test_collector_ok),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_anchors_and_merge),
		cmocka_unit_test(test_trial_kinds),
		cmocka_unit_test(test_render_job),
		cmocka_unit_test(test_render_env_and_meta),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_nas),
		cmocka_unit_test(test_render_yaml_shape),
		cmocka_unit_test(test_check_update),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_error_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
