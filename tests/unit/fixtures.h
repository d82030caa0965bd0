/*
 * fixtures.h - what the unit suites share (tests/unit/fixtures.c): Katib's
 * hp-tuning/random.yaml as the base Experiment spec, the Job trial templates,
 * variants of a spec made by replacing or adding YAML fragments, and
 * parsing a spec with its error as text. Every string these return is the
 * caller's to free. (The algorithm suites' hand-built specs are
 * algo_test_util.h's tu_* and fx_*.)
 */
#ifndef KATIBFS_TESTS_FIXTURES_H
#define KATIBFS_TESTS_FIXTURES_H

#include <stddef.h>

#include "katib/spec.h"

/* The head of an Experiment NAME (a string literal) minimizing `loss`, up
 * to spec.objective's last line; as a format for the name (%s). */
#define FIXTURE_HEAD(NAME)                                                     \
	"apiVersion: kubeflow.org/v1beta1\n"                                   \
	"kind: Experiment\n"                                                   \
	"metadata:\n"                                                          \
	"  name: " NAME "\n"                                                   \
	"spec:\n"                                                              \
	"  objective:\n"                                                       \
	"    type: minimize\n"                                                 \
	"    objectiveMetricName: loss\n"
#define FIXTURE_HEAD_FMT FIXTURE_HEAD("%s")

/* A Job with its lines indented by I (a string literal of spaces), up to
 * its one container's name: what every Job trial template of the suites
 * shares; the container's image and command follow, indented by I and 10
 * spaces. */
/* clang-format off */
#define FIXTURE_JOB_AT(I, NAME)                                                \
	I "apiVersion: batch/v1\n"                                             \
	I "kind: Job\n"                                                        \
	I "spec:\n"                                                            \
	I "  template:\n"                                                      \
	I "    spec:\n"                                                        \
	I "      containers:\n"                                                \
	I "        - name: " NAME "\n"
/* clang-format on */

/* The same with the container training-container: under
 * trialTemplate.trialSpec (FIXTURE_JOB), and indented by 4 (FIXTURE_JOB_4:
 * a ConfigMap's template file, a spec with a narrower indentation). */
#define FIXTURE_JOB   FIXTURE_JOB_AT("      ", "training-container")
#define FIXTURE_JOB_4 FIXTURE_JOB_AT("    ", "training-container")

/* A Job trialSpec whose training container runs the shell line LINE (a
 * string literal, within YAML double quotes). */
#define FIXTURE_JOB_SHELL(LINE)                                                \
	FIXTURE_JOB                                                            \
	"                image: python:3\n"                                    \
	"                command: [sh, -c]\n"                                  \
	"                args: [\"" LINE "\"]\n"                               \
	"            restartPolicy: Never\n"

/* A parameter x in [-2, 2] and a trialTemplate passing it to a Job whose
 * container main (image none) has the command COMMAND (a YAML flow
 * sequence, a string literal): the fuzz harnesses' experiment after its
 * algorithm. */
/* clang-format off */
#define FIXTURE_X_JOB(COMMAND)                                                 \
	"  parameters:\n"                                                      \
	"    - name: x\n"                                                      \
	"      parameterType: double\n"                                        \
	"      feasibleSpace: {min: \"-2\", max: \"2\"}\n"                     \
	"  trialTemplate:\n"                                                   \
	"    primaryContainerName: main\n"                                     \
	"    trialParameters:\n"                                               \
	"      - name: x\n"                                                    \
	"        reference: x\n"                                               \
	"    trialSpec:\n"                                                     \
	FIXTURE_JOB_AT("      ", "main")                                       \
	"                image: none\n"                                        \
	"                command: " COMMAND "\n"
/* clang-format on */

/* Katib's examples/v1beta1/hp-tuning/random.yaml, shortened, with ALGO
 * (the lines under `algorithm:`), SPACE (the items of `parameters:`) and
 * COLLECTOR (a metricsCollectorSpec, or "") to fill in. */
#define FIXTURE_EXPERIMENT(ALGO, SPACE, COLLECTOR)                             \
	"apiVersion: kubeflow.org/v1beta1\n"                                   \
	"kind: Experiment\n"                                                   \
	"metadata:\n"                                                          \
	"  namespace: kubeflow\n"                                              \
	"  name: random\n"                                                     \
	"spec:\n"                                                              \
	"  objective:\n"                                                       \
	"    type: minimize\n"                                                 \
	"    goal: 0.001\n"                                                    \
	"    objectiveMetricName: loss\n"                                      \
	"  algorithm:\n" ALGO "  parallelTrialCount: 3\n"                      \
	"  maxTrialCount: 12\n"                                                \
	"  maxFailedTrialCount: 3\n" COLLECTOR "  parameters:\n" SPACE         \
	"  trialTemplate:\n"                                                   \
	"    primaryContainerName: training-container\n"                       \
	"    trialParameters:\n" FIXTURE_TRIAL_PARAMETERS                      \
	"    trialSpec:\n" FIXTURE_JOB                                         \
	"                image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"   \
	"                command:\n"                                           \
	"                  - \"python3\"\n"                                    \
	"                  - \"/opt/pytorch-mnist/mnist.py\"\n"                \
	"                  - \"--epochs=1\"\n" FIXTURE_ARGUMENTS               \
	"            restartPolicy: Never\n"

/* The base spec's algorithm and search space. */
#define FIXTURE_RANDOM "    algorithmName: random\n"
#define FIXTURE_LR                                                             \
	"    - name: lr\n"                                                     \
	"      parameterType: double\n"                                        \
	"      feasibleSpace:\n"                                               \
	"        min: \"0.01\"\n"                                              \
	"        max: \"0.05\"\n"
#define FIXTURE_MOMENTUM                                                       \
	"    - name: momentum\n"                                               \
	"      parameterType: double\n"                                        \
	"      feasibleSpace:\n"                                               \
	"        min: \"0.5\"\n"                                               \
	"        max: \"0.9\"\n"
#define FIXTURE_DOUBLES FIXTURE_LR FIXTURE_MOMENTUM

/* Its trial parameters, and the command's arguments that use them. */
#define FIXTURE_TRIAL_PARAMETERS                                               \
	"      - name: learningRate\n"                                         \
	"        description: Learning rate for the training model\n"          \
	"        reference: lr\n"                                              \
	"      - name: momentum\n"                                             \
	"        description: Momentum for the training model\n"               \
	"        reference: momentum\n"
#define FIXTURE_ARGUMENTS                                                      \
	"                  - \"--lr=${trialParameters.learningRate}\"\n"       \
	"                  - \"--momentum=${trialParameters.momentum}\"\n"

/* The base spec: random search for lr and momentum. */
#define FIXTURE_BASE_SPEC                                                      \
	FIXTURE_EXPERIMENT(FIXTURE_RANDOM, FIXTURE_DOUBLES, "")

/* s with its first `from` replaced by `to` (`from` must be there). */
char *fixture_replace(const char *s, const char *from, const char *to);

/* s with each pair of arguments (from, to) replaced in turn, as
 * fixture_replace() does; a NULL `from` ends the list. */
char *fixture_variant(const char *s, ...);

/* The line number (from 1) of the first `needle` in text. */
int fixture_line_of(const char *text, const char *needle);

/* spec_parse() of yaml as experiment "exp": its return code, *s, and the
 * error (kb_error_format()) in msg. */
int fixture_parse(const char *yaml, struct experiment_spec **s, char *msg,
		  size_t size);

/* yaml parsed, or the test fails with the error. */
struct experiment_spec *fixture_parse_ok(const char *yaml);

/* yaml refused with `code`, the error naming `field` (when given) on the
 * line of the first `at` in yaml (when given), its message holding `msg`
 * (when given); else the test fails. The error's line. */
int fixture_expect_error(const char *yaml, int code, const char *field,
			 const char *at, const char *msg);

/* Experiment "m" in namespace "ml": random search for lr in [0.01, 0.05],
 * its trial a Job whose container training-container (image
 * pytorch-mnist-cpu) has the lines container_lines (e.g. its command, at
 * the container's indentation) and args [--lr=${trialParameters...}], and
 * spec_lines added under spec: (e.g. a metricsCollectorSpec; "" for
 * none). Parsed; the test fails with the error if it does not parse. */
struct experiment_spec *fixture_job_spec(const char *spec_lines,
					 const char *container_lines);

#endif
