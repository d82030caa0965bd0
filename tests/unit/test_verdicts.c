/*
 * test_verdicts.c - specs where katibfs must give Katib's verdict (issue
 * 12): accepted or refused as Katib's webhook and suggestion services do,
 * errors naming Katib's fields, and warnings (spec_warn()) for settings
 * Katib's service ignores.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "katib/algorithm.h"
#include "katib/spec.h"
#include "spec/kube_manifest.h"

#include "fixtures.h"

/* Refused with -EINVAL at `field`, the message holding `msg`. */
static void expect_refused(const char *yaml, const char *field, const char *msg)
{
	if (!fixture_expect_error(yaml, -EINVAL, field, NULL, msg))
		fail_msg("%s: '%s' with no line", field, msg);
}

/* The spec's warning about `field`, or NULL. */
static const struct kb_error *warning_at(const struct experiment_spec *s,
					 const char *field)
{
	size_t i;

	for (i = 0; i < s->warnings->n; i++)
		if (!strcmp(s->warnings->items[i].field, field))
			return &s->warnings->items[i];
	return NULL;
}

/* ---- DARTS operations without parameters ---- */

/* Katib's examples/v1beta1/nas/darts-gpu.yaml (trial image shortened). */
static const char darts_gpu[] =
	"apiVersion: kubeflow.org/v1beta1\n"
	"kind: Experiment\n"
	"metadata:\n"
	"  namespace: kubeflow\n"
	"  name: darts-gpu\n"
	"spec:\n"
	"  parallelTrialCount: 1\n"
	"  maxTrialCount: 1\n"
	"  maxFailedTrialCount: 1\n"
	"  objective:\n"
	"    type: maximize\n"
	"    objectiveMetricName: Best-Genotype\n"
	"  metricsCollectorSpec:\n"
	"    collector:\n"
	"      kind: StdOut\n"
	"    source:\n"
	"      filter:\n"
	"        metricsFormat:\n"
	"          - \"([\\\\w-]+)=(Genotype.*)\"\n"
	"  algorithm:\n"
	"    algorithmName: darts\n"
	"    algorithmSettings:\n"
	"      - name: num_epochs\n"
	"        value: \"3\"\n"
	"  nasConfig:\n"
	"    graphConfig:\n"
	"      numLayers: 3\n"
	"    operations:\n"
	"      - operationType: separable_convolution\n"
	"        parameters:\n"
	"          - name: filter_size\n"
	"            parameterType: categorical\n"
	"            feasibleSpace:\n"
	"              list:\n"
	"                - \"3\"\n"
	"      - operationType: dilated_convolution\n"
	"        parameters:\n"
	"          - name: filter_size\n"
	"            parameterType: categorical\n"
	"            feasibleSpace:\n"
	"              list:\n"
	"                - \"3\"\n"
	"                - \"5\"\n"
	"      - operationType: avg_pooling\n"
	"        parameters:\n"
	"          - name: filter_size\n"
	"            parameterType: categorical\n"
	"            feasibleSpace:\n"
	"              list:\n"
	"                - \"3\"\n"
	"      - operationType: max_pooling\n"
	"        parameters:\n"
	"          - name: filter_size\n"
	"            parameterType: categorical\n"
	"            feasibleSpace:\n"
	"              list:\n"
	"                - \"3\"\n"
	"      - operationType: skip_connection\n"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - name: algorithmSettings\n"
	"        reference: algorithm-settings\n"
	"      - name: searchSpace\n"
	"        reference: search-space\n"
	"      - name: numberLayers\n"
	"        reference: num-layers\n"
	"    trialSpec:\n" FIXTURE_JOB
	"                image: ghcr.io/kubeflow/katib/darts-cnn-cifar10-gpu\n"
	"                command:\n"
	"                  - python3\n"
	"                  - run_trial.py\n"
	"                  - --algorithm-settings="
	"\"${trialParameters.algorithmSettings}\"\n"
	"                  - --search-space="
	"\"${trialParameters.searchSpace}\"\n"
	"                  - --num-layers="
	"\"${trialParameters.numberLayers}\"\n"
	"            restartPolicy: Never\n";

static void test_darts_operation_without_parameters(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("darts");
	struct experiment_spec *s = fixture_parse_ok(darts_gpu);
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	char **out[1] = { NULL };
	void *priv = NULL;

	(void)state;
	kb_error_clear(&err);
	assert_int_equal(ops->create(s, NULL, &priv, &err), 0);
	assert_int_equal(ops->suggest(priv, s, &h, 1, out, &err), 1);
	/* Katib's darts README lists this very search space */
	assert_string_equal(out[0][1],
			    "['separable_convolution_3x3', "
			    "'dilated_convolution_3x3', "
			    "'dilated_convolution_5x5', 'avg_pooling_3x3', "
			    "'max_pooling_3x3', 'skip_connection']");
	assignment_values_free(out[0], 3);
	ops->destroy(priv);
	spec_free(s);
}

/* Any operation without parameters is its own name in the space. */
static void test_darts_other_operation_alone(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("darts");
	const char *from = "      - operationType: skip_connection\n";
	char *y = malloc(sizeof(darts_gpu) + 64), *p;
	struct experiment_spec *s;
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	char **out[1] = { NULL };
	void *priv = NULL;

	(void)state;
	strcpy(y, darts_gpu);
	p = strstr(y, from);
	assert_non_null(p);
	memmove(p + strlen("      - operationType: none_op\n"),
		p + strlen(from), strlen(p + strlen(from)) + 1);
	memcpy(p, "      - operationType: none_op\n",
	       strlen("      - operationType: none_op\n"));
	s = fixture_parse_ok(y);
	assert_int_equal(ops->create(s, NULL, &priv, &err), 0);
	assert_int_equal(ops->suggest(priv, s, &h, 1, out, &err), 1);
	assert_non_null(strstr(out[0][1], "'max_pooling_3x3', 'none_op']"));
	assignment_values_free(out[0], 3);
	ops->destroy(priv);
	spec_free(s);
	free(y);
}

/* ENAS's service needs parameters on every operation (validation.py). */
static void test_enas_operation_without_parameters(void **state)
{
	static const char enas[] =
		"objective: {type: maximize, objectiveMetricName: acc}\n"
		"algorithm: {algorithmName: enas}\n"
		"nasConfig:\n"
		"  graphConfig: {numLayers: 1, inputSizes: [32], "
		"outputSizes: [10]}\n"
		"  operations:\n"
		"    - operationType: convolution\n"
		"      parameters:\n"
		"        - name: filter_size\n"
		"          parameterType: categorical\n"
		"          feasibleSpace: {list: [\"3\"]}\n"
		"    - operationType: skip_connection\n"
		"trialTemplate:\n"
		"  primaryContainerName: c\n"
		"  trialParameters:\n"
		"    - {name: a, reference: architecture}\n"
		"    - {name: n, reference: nn_config}\n"
		"  trialSpec:\n"
		"    apiVersion: batch/v1\n"
		"    kind: Job\n"
		"    spec:\n"
		"      template:\n"
		"        spec:\n"
		"          containers:\n"
		"            - name: c\n"
		"              command: [run, \"${trialParameters.a}\", "
		"\"${trialParameters.n}\"]\n"
		"          restartPolicy: Never\n";

	(void)state;
	expect_refused(enas, "spec.nasConfig.operations[1].parameters",
		       "required by algorithm 'enas'");
}

/* ---- File collector, format JSON, any filter ---- */

#define FILE_JSON(FILTER)                                                      \
	"  metricsCollectorSpec:\n"                                            \
	"    source:\n"                                                        \
	"      fileSystemPath:\n"                                              \
	"        path: /katib/mnist.json\n"                                    \
	"        kind: File\n"                                                 \
	"        format: JSON\n" FILTER "    collector:\n"                     \
	"      kind: File\n"

static void test_file_json_with_filter(void **state)
{
	static const char *const yaml[] = {
		FIXTURE_EXPERIMENT(
			FIXTURE_RANDOM, FIXTURE_DOUBLES,
			FILE_JSON("      filter:\n"
				  "        metricsFormat:\n"
				  "          - \"([\\\\w-]+)=(.+)\"\n")),
		FIXTURE_EXPERIMENT(FIXTURE_RANDOM, FIXTURE_DOUBLES,
				   FILE_JSON("      filter:\n"
					     "        metricsFormat: []\n")),
		FIXTURE_EXPERIMENT(FIXTURE_RANDOM, FIXTURE_DOUBLES,
				   FILE_JSON("      filter: {}\n")),
	};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		expect_refused(yaml[i],
			       "spec.metricsCollectorSpec.source.filter",
			       "filter must be nil when format of metrics "
			       "file is json");
	/* without a filter (or with a null one) it is Katib's example */
	spec_free(fixture_parse_ok(FIXTURE_EXPERIMENT(
		FIXTURE_RANDOM, FIXTURE_DOUBLES, FILE_JSON(""))));
	spec_free(fixture_parse_ok(
		FIXTURE_EXPERIMENT(FIXTURE_RANDOM, FIXTURE_DOUBLES,
				   FILE_JSON("      filter:\n"))));
}

/* ---- pbt: an int without step takes 1 ---- */

#define PBT                                                                    \
	"    algorithmName: pbt\n"                                             \
	"    algorithmSettings:\n"                                             \
	"      - {name: suggestion_trial_dir, value: /var/log/katib/ckpt/}\n"  \
	"      - {name: n_population, value: \"5\"}\n"                         \
	"      - {name: truncation_threshold, value: \"0.2\"}\n"

static void test_pbt_int_without_step(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("pbt");
	struct experiment_spec *s = fixture_parse_ok(FIXTURE_EXPERIMENT(
		PBT,
		"    - name: lr\n"
		"      parameterType: int\n"
		"      feasibleSpace: {min: \"1\", max: \"4\"}\n"
		"    - name: momentum\n"
		"      parameterType: double\n"
		"      feasibleSpace: {min: \"0.5\", max: \"0.9\", "
		"step: \"0.1\"}\n",
		""));
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	char **out[20] = { NULL };
	void *priv = NULL;
	int n, i, seen[5] = { 0 };

	(void)state;
	kb_error_clear(&err);
	assert_int_equal(ops->create(s, NULL, &priv, &err), 0);
	n = ops->suggest(priv, s, &h, 20, out, &err);
	assert_int_equal(n, 20);
	for (i = 0; i < n; i++) {
		int v = atoi(out[i][0]);

		/* arange(1, 4 + 0.5, 1): 1, 2, 3, 4 */
		assert_true(v >= 1 && v <= 4);
		assert_int_equal(strlen(out[i][0]), 1);
		seen[v] = 1;
		assignment_values_free(out[i], 2);
	}
	assert_true(seen[1] + seen[2] + seen[3] + seen[4] >= 3);
	ops->destroy(priv);
	spec_free(s);
}

static void test_pbt_double_without_step(void **state)
{
	(void)state;
	expect_refused(FIXTURE_EXPERIMENT(PBT, FIXTURE_DOUBLES, ""),
		       "spec.parameters[0].feasibleSpace.step",
		       "pbt needs a step for double parameters");
}

/* ---- cmaes and sobol: what goptuna ignores is a warning ---- */

static void test_cmaes_unknown_setting_warns(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(FIXTURE_EXPERIMENT(
		"    algorithmName: cmaes\n"
		"    algorithmSettings:\n"
		"      - {name: restart_strategy, value: ipop}\n"
		"      - {name: random_state, value: \"-7\"}\n"
		"      - {name: sigmaa, value: \"0.2\"}\n",
		FIXTURE_DOUBLES, ""));
	const struct kb_error *w;
	uint64_t seed = 0;

	(void)state;
	assert_int_equal(s->warnings->n, 1);
	w = warning_at(s, "spec.algorithm.algorithmSettings[sigmaa]");
	assert_non_null(w);
	assert_non_null(strstr(w->message, "unknown setting for algorithm "
					   "'cmaes', ignored"));
	assert_non_null(strstr(w->message, "did you mean sigma?"));
	/* the line of the setting, as errors have */
	assert_true(w->line > 0);
	/* a negative random_state is a seed, as goptuna's Atoi reads it */
	assert_int_equal(setting_random_state(s, &seed), 1);
	assert_true(seed == (uint64_t)-7);
	spec_free(s);
}

static void test_cmaes_refuses_what_goptuna_refuses(void **state)
{
	(void)state;
	expect_refused(FIXTURE_EXPERIMENT(
			       "    algorithmName: cmaes\n"
			       "    algorithmSettings:\n"
			       "      - {name: random_state, value: \"1.5\"}\n",
			       FIXTURE_DOUBLES, ""),
		       "spec.algorithm.algorithmSettings[random_state]",
		       "must be an integer");
	expect_refused(FIXTURE_EXPERIMENT(
			       "    algorithmName: cmaes\n"
			       "    algorithmSettings:\n"
			       "      - {name: restart_strategy, value: x}\n",
			       FIXTURE_DOUBLES, ""),
		       "spec.algorithm.algorithmSettings[restart_strategy]",
		       "must be one of ipop, bipop, none");
}

static void test_sobol_settings_warn(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(FIXTURE_EXPERIMENT(
		"    algorithmName: sobol\n"
		"    algorithmSettings:\n"
		"      - {name: random_state, value: \"10\"}\n"
		"      - {name: scramble, value: \"true\"}\n",
		FIXTURE_DOUBLES, ""));

	(void)state;
	assert_non_null(
		warning_at(s, "spec.algorithm.algorithmSettings[scramble]"));
	/* random_state is read: it selects the Owen-scrambled sequence */
	assert_null(warning_at(
		s, "spec.algorithm.algorithmSettings[random_state]"));
	spec_free(s);
	expect_refused(
		FIXTURE_EXPERIMENT("    algorithmName: sobol\n"
				   "    algorithmSettings:\n"
				   "      - {name: random_state, value: ten}\n",
				   FIXTURE_DOUBLES, ""),
		"spec.algorithm.algorithmSettings[random_state]",
		"must be an integer");
}

/* Services that refuse unknown settings still have katibfs refuse them. */
static void test_random_unknown_setting_refused(void **state)
{
	(void)state;
	expect_refused(
		FIXTURE_EXPERIMENT("    algorithmName: random\n"
				   "    algorithmSettings:\n"
				   "      - {name: sigma, value: \"1\"}\n",
				   FIXTURE_DOUBLES, ""),
		"spec.algorithm.algorithmSettings[sigma]", "unknown setting");
}

/* A spec without warnings has an empty list. */
static void test_no_warnings(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(FIXTURE_BASE_SPEC);

	(void)state;
	assert_non_null(s->warnings);
	assert_int_equal(s->warnings->n, 0);
	spec_free(s);
}

/* ---- hyperband: a fractional eta ---- */

#define HYPERBAND(ETA)                                                         \
	"    algorithmName: hyperband\n"                                       \
	"    algorithmSettings:\n"                                             \
	"      - {name: resource_name, value: lr}\n"                           \
	"      - {name: r_l, value: \"3\"}\n"                                  \
	"      - {name: eta, value: \"" ETA "\"}\n"

#define EPOCHS                                                                 \
	"    - name: lr\n"                                                     \
	"      parameterType: int\n"                                           \
	"      feasibleSpace: {min: \"1\", max: \"9\"}\n"                      \
	"    - name: momentum\n"                                               \
	"      parameterType: double\n"                                        \
	"      feasibleSpace: {min: \"0.5\", max: \"0.9\"}\n"

static void test_hyperband_fractional_eta(void **state)
{
	char *y;

	(void)state;
	expect_refused(FIXTURE_EXPERIMENT(HYPERBAND("2.5"), EPOCHS, ""),
		       "spec.algorithm.algorithmSettings[eta]",
		       "must be a whole number, got '2.5'");
	/* a whole number written as a float is that number */
	y = strdup(FIXTURE_EXPERIMENT(HYPERBAND("3.0"), EPOCHS, ""));
	spec_free(fixture_parse_ok(y));
	free(y);
	/* <= 0 is Katib's default 3 */
	spec_free(fixture_parse_ok(
		FIXTURE_EXPERIMENT(HYPERBAND("-1.5"), EPOCHS, "")));
	expect_refused(FIXTURE_EXPERIMENT(HYPERBAND("1.5"), EPOCHS, ""),
		       "spec.algorithm.algorithmSettings[eta]", "must be >= 2");
}

/* ---- a batch/v1 Job trialSpec against the Job schema ---- */

static const char job_base[] = FIXTURE_BASE_SPEC;
#define JOB_PATH  "spec.trialTemplate.trialSpec."
#define CONTAINER JOB_PATH "spec.template.spec.containers[0]."
#define RESTART	  "            restartPolicy: Never\n"
#define IMAGE                                                                  \
	"                image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"

/* job_base with `from` replaced: refused at `field`, on the line of `at`
 * (in the new text), the message holding `msg`. */
static void job_refused(const char *from, const char *to, const char *field,
			const char *at, const char *msg)
{
	char *y = fixture_replace(job_base, from, to);

	fixture_expect_error(y, -EINVAL, field, at, msg);
	free(y);
}

static void job_accepted(const char *from, const char *to)
{
	char *y = fixture_replace(job_base, from, to);

	spec_free(fixture_parse_ok(y));
	free(y);
}

static void test_job_wrong_type(void **state)
{
	(void)state;
	job_refused("      spec:\n",
		    "      spec:\n        backoffLimit: three\n",
		    JOB_PATH "spec.backoffLimit", "backoffLimit",
		    "must be an integer (int32), not the string \"three\"");
	job_refused("      spec:\n",
		    "      spec:\n        backoffLimit: \"3\"\n",
		    JOB_PATH "spec.backoffLimit", "backoffLimit",
		    "must be an integer (int32)");
	job_refused("      spec:\n", "      spec:\n        backoffLimit: 2.5\n",
		    JOB_PATH "spec.backoffLimit", "backoffLimit",
		    "must be an integer");
	job_refused(RESTART, "            restartPolicy: 3\n",
		    JOB_PATH "spec.template.spec.restartPolicy",
		    "restartPolicy: 3", "must be a string (quote it)");
	job_refused(RESTART, RESTART "            hostNetwork: yes please\n",
		    JOB_PATH "spec.template.spec.hostNetwork", "hostNetwork",
		    "must be true or false");
	job_refused(IMAGE, IMAGE "                env: {name: X}\n",
		    CONTAINER "env", "env:", "must be a list");
	job_refused(IMAGE,
		    IMAGE "                env:\n"
			  "                  - {name: EPOCHS, value: 3}\n",
		    CONTAINER "env[0].value", "value: 3", "must be a string");
	job_refused(IMAGE,
		    IMAGE "                resources:\n"
			  "                  limits: {cpu: lots}\n",
		    CONTAINER "resources.limits.cpu", "cpu: lots",
		    "must be a quantity");
	job_refused(IMAGE,
		    IMAGE "                readinessProbe:\n"
			  "                  httpGet: {port: 80.5}\n",
		    CONTAINER "readinessProbe.httpGet.port", "port: 80.5",
		    "must be an integer or a string");
}

static void test_job_unknown_field(void **state)
{
	(void)state;
	job_refused(IMAGE, IMAGE "                imagePullPolicyy: Always\n",
		    CONTAINER "imagePullPolicyy", "imagePullPolicyy",
		    "unknown field of a Container (Katib's webhook converts a "
		    "batch/v1 Job trialSpec to a Job); did you mean "
		    "imagePullPolicy?");
	job_refused("      spec:\n", "      spec:\n        backofLimit: 3\n",
		    JOB_PATH "spec.backofLimit", "backofLimit",
		    "did you mean backoffLimit?");
	job_refused("      kind: Job\n", "      kind: Job\n      spek: {}\n",
		    JOB_PATH "spek", "spek", "unknown field of a Job");
	job_refused(RESTART,
		    RESTART "            volumes:\n"
			    "              - name: data\n"
			    "                emptyDir: {sizeLimt: 1Gi}\n",
		    JOB_PATH "spec.template.spec.volumes[0].emptyDir.sizeLimt",
		    "sizeLimt", "did you mean sizeLimit?");
	job_refused(IMAGE,
		    IMAGE "                env:\n"
			  "                  - name: X\n"
			  "                    valueFrom:\n"
			  "                      fieldRef: {fieldPth: x}\n",
		    CONTAINER "env[0].valueFrom.fieldRef.fieldPth", "fieldPth",
		    "did you mean fieldPath?");
	job_refused(IMAGE,
		    IMAGE "                livenessProbe:\n"
			  "                  exec: {command: [sh]}\n"
			  "                  periodSecond: 5\n",
		    CONTAINER "livenessProbe.periodSecond", "periodSecond",
		    "did you mean periodSeconds?");
	job_refused("        template:\n",
		    "        template:\n          metadata: {label: {a: b}}\n",
		    JOB_PATH "spec.template.metadata.label",
		    "label:", "did you mean labels?");
}

static void test_job_valid(void **state)
{
	(void)state;
	job_accepted(IMAGE, IMAGE
		     "                imagePullPolicy: IfNotPresent\n"
		     "                env:\n"
		     "                  - {name: A, value: \"3\"}\n"
		     "                  - name: B\n"
		     "                    valueFrom:\n"
		     "                      fieldRef: {fieldPath: "
		     "metadata.name}\n"
		     "                resources:\n"
		     "                  limits: {cpu: 500m, memory: 1Gi, "
		     "nvidia.com/gpu: 1}\n"
		     "                  requests: {cpu: \"0.5\", memory: "
		     "\"1e3\"}\n"
		     "                ports: [{containerPort: 8080}]\n"
		     "                readinessProbe:\n"
		     "                  httpGet: {port: http, path: /}\n"
		     "                  periodSeconds: 5\n"
		     "                volumeMounts:\n"
		     "                  - {name: data, mountPath: /data}\n");
	job_accepted(
		"      spec:\n",
		"      metadata:\n"
		"        annotations: {sidecar.istio.io/inject: \"false\"}\n"
		"      spec:\n"
		"        backoffLimit: 3\n"
		"        activeDeadlineSeconds: 600.0\n"
		"        ttlSecondsAfterFinished: ~\n");
	job_accepted(RESTART,
		     RESTART "            volumes:\n"
			     "              - name: data\n"
			     "                emptyDir: {sizeLimit: 1Gi}\n"
			     "            nodeSelector: {disk: ssd}\n"
			     "            tolerations:\n"
			     "              - {key: k, operator: Exists, "
			     "effect: NoSchedule}\n");
}

/* Other kinds are the API server's to check, on Kubernetes. */
static void test_job_other_kinds_unchecked(void **state)
{
	(void)state;
	job_accepted("      apiVersion: batch/v1\n      kind: Job\n",
		     "      apiVersion: kubeflow.org/v1\n      kind: TFJob\n"
		     "      spek: {backoffLimit: three}\n");
}

/* ---- the primary container as Katib's pod webhook runs it ---- */

/* Katib's examples/v1beta1/nas/enas-cpu.yaml trial, with COLLECTOR. */
#define ENAS(COLLECTOR)                                                        \
	"objective: {type: maximize, objectiveMetricName: acc}\n"              \
	"algorithm: {algorithmName: enas}\n" COLLECTOR "nasConfig:\n"          \
	"  graphConfig: {numLayers: 1, inputSizes: [32], outputSizes: [10]}\n" \
	"  operations:\n"                                                      \
	"    - operationType: convolution\n"                                   \
	"      parameters:\n"                                                  \
	"        - {name: filter_size, parameterType: categorical, "           \
	"feasibleSpace: {list: [\"3\"]}}\n"                                    \
	"trialTemplate:\n"                                                     \
	"  primaryContainerName: training-container\n"                         \
	"  trialParameters:\n"                                                 \
	"    - {name: neuralNetworkArchitecture, reference: architecture}\n"   \
	"    - {name: neuralNetworkConfig, reference: nn_config}\n"            \
	"  trialSpec:\n"                                                       \
	"    apiVersion: batch/v1\n"                                           \
	"    kind: Job\n"                                                      \
	"    spec:\n"                                                          \
	"      template:\n"                                                    \
	"        spec:\n"                                                      \
	"          containers:\n"                                              \
	"            - name: training-container\n"                             \
	"              image: docker.io/kubeflowkatib/enas-cnn-cifar10-cpu\n"  \
	"              command:\n"                                             \
	"                - python3.7\n"                                        \
	"                - -u\n"                                               \
	"                - RunTrial.py\n"                                      \
	"                - --num_epochs=1\n"                                   \
	"                - \"--architecture=\\\"${trialParameters."            \
	"neuralNetworkArchitecture}\\\"\"\n"                                   \
	"                - \"--nn_config=\\\"${trialParameters."               \
	"neuralNetworkConfig}\\\"\"\n"                                         \
	"          restartPolicy: Never\n"

static const struct assignment nas_values[] = {
	{ "architecture", "[[0], [0, 1]]" },
	{ "nn_config", "{'num_layers': 2, 'output_sizes': [10]}" },
};

#define NAS_LINE                                                               \
	"python3.7 -u RunTrial.py --num_epochs=1 "                             \
	"--architecture=\"[[0], [0, 1]]\" "                                    \
	"--nn_config=\"{'num_layers': 2, 'output_sizes': [10]}\""

/* The trial of spec `yaml` rendered for the local backend (cmd's). */
static void render_nas(const char *yaml, struct trial_command *cmd)
{
	struct experiment_spec *s = fixture_parse_ok(yaml);
	struct kb_error err;
	char buf[800];

	kb_error_clear(&err);
	if (spec_render_trial(s, "enas-abcdefgh", "ns", nas_values, 2, cmd,
			      &err)) {
		kb_error_format(&err, buf, sizeof(buf));
		fail_msg("spec_render_trial: %s", buf);
	}
	spec_free(s);
}

/* What a program started with argv prints: its arguments, one a line. */
static char *run_argv(char *const *argv)
{
	static char out[4096];
	size_t len = 0;
	ssize_t n;
	int fd[2], status;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(fd[1], 1);
		close(fd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd[0]);
	out[len] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return out;
}

static void test_wrap_local(void **state)
{
	struct trial_command cmd;
	char *argv[4], *line, *out, *text;
	cJSON *m, *c;

	(void)state;
	render_nas(ENAS(""), &cmd);
	/* one line, joined with single spaces, nothing quoted */
	assert_int_equal(cmd.argc, 3);
	assert_string_equal(cmd.argv[0], "sh");
	assert_string_equal(cmd.argv[1], "-c");
	assert_string_equal(cmd.argv[2], NAS_LINE);
	/* the manifest says the same */
	m = cJSON_Parse(cmd.manifest);
	c = cJSON_GetObjectItem(m, "spec");
	c = cJSON_GetObjectItem(c, "template");
	c = cJSON_GetObjectItem(c, "spec");
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "containers"), 0);
	text = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "command"));
	assert_string_equal(text, "[\"sh\",\"-c\"]");
	free(text);
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(c, "args"), 0)
			->valuestring,
		NAS_LINE);
	cJSON_Delete(m);
	/* run by sh, the NAS arguments reach the program without their
	 * quotes, so Katib's trial code can json.loads them */
	line = strdup(cmd.argv[2]);
	memcpy(line, "printf '%s\\n'", 13);
	memmove(line + 13, strstr(line, " --arch"),
		strlen(strstr(line, " --arch")) + 1);
	argv[0] = "sh", argv[1] = "-c", argv[2] = line, argv[3] = NULL;
	out = run_argv(argv);
	assert_string_equal(out,
			    "--architecture=[[0], [0, 1]]\n"
			    "--nn_config={'num_layers': 2, 'output_sizes': "
			    "[10]}\n");
	free(line);
	trial_command_free(&cmd);
}

static void test_wrap_kubernetes(void **state)
{
	struct experiment_spec *s = fixture_parse_ok(ENAS(""));
	struct trial_command cmd;
	struct kb_error err;

	(void)state;
	kb_error_clear(&err);
	assert_int_equal(spec_render_manifest(s, "enas-abcdefgh", "ns",
					      nas_values, 2, &cmd, &err),
			 0);
	assert_non_null(strstr(cmd.manifest, "\"command\":\t[\"sh\", \"-c\"]"));
	assert_non_null(strstr(cmd.manifest,
			       "\"args\":\t[\"python3.7 -u RunTrial.py "
			       "--num_epochs=1 --architecture=\\\"[[0], [0, "
			       "1]]\\\" --nn_config=\\\"{'num_layers': 2, "
			       "'output_sizes': [10]}\\\"\"]"));
	trial_command_free(&cmd);
	spec_free(s);
}

/* `sh -c` or `bash -c` at the head is kept, the rest joined to it. */
static void test_wrap_keeps_shell(void **state)
{
	char *y = fixture_replace(ENAS(""),
				  "                - python3.7\n"
				  "                - -u\n",
				  "                - bash\n"
				  "                - -c\n"
				  "                - echo\n");
	struct trial_command cmd;

	(void)state;
	render_nas(y, &cmd);
	assert_int_equal(cmd.argc, 3);
	assert_string_equal(cmd.argv[0], "bash");
	assert_string_equal(cmd.argv[1], "-c");
	assert_memory_equal(cmd.argv[2], "echo RunTrial.py --num_epochs=1 ",
			    32);
	trial_command_free(&cmd);
	free(y);
}

/* Push (and Custom, Prometheus) collectors are not wrapped by Katib. */
static void test_push_not_wrapped(void **state)
{
	struct trial_command cmd;

	(void)state;
	render_nas(ENAS("metricsCollectorSpec: {collector: {kind: Push}}\n"),
		   &cmd);
	assert_int_equal(cmd.argc, 6);
	assert_string_equal(cmd.argv[0], "python3.7");
	assert_string_equal(cmd.argv[5],
			    "--nn_config=\"{'num_layers': 2, 'output_sizes': "
			    "[10]}\"");
	trial_command_free(&cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_darts_operation_without_parameters),
		cmocka_unit_test(test_darts_other_operation_alone),
		cmocka_unit_test(test_enas_operation_without_parameters),
		cmocka_unit_test(test_file_json_with_filter),
		cmocka_unit_test(test_pbt_int_without_step),
		cmocka_unit_test(test_pbt_double_without_step),
		cmocka_unit_test(test_cmaes_unknown_setting_warns),
		cmocka_unit_test(test_cmaes_refuses_what_goptuna_refuses),
		cmocka_unit_test(test_sobol_settings_warn),
		cmocka_unit_test(test_random_unknown_setting_refused),
		cmocka_unit_test(test_no_warnings),
		cmocka_unit_test(test_hyperband_fractional_eta),
		cmocka_unit_test(test_job_wrong_type),
		cmocka_unit_test(test_job_unknown_field),
		cmocka_unit_test(test_job_valid),
		cmocka_unit_test(test_job_other_kinds_unchecked),
		cmocka_unit_test(test_wrap_local),
		cmocka_unit_test(test_wrap_kubernetes),
		cmocka_unit_test(test_wrap_keeps_shell),
		cmocka_unit_test(test_push_not_wrapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
