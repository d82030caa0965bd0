/*
 * fixtures.h - what the unit suites share (tests/unit/fixtures.c): Katib's
 * hp-tuning/random.yaml as the base Experiment spec, variants of it made by
 * replacing or adding YAML fragments, and parsing a spec with its error as
 * text. Every string these return is the caller's to free.
 */
#ifndef KATIBFS_TESTS_FIXTURES_H
#define KATIBFS_TESTS_FIXTURES_H

#include <stddef.h>

#include "katib/spec.h"

/* Katib's examples/v1beta1/hp-tuning/random.yaml, shortened, with ALGO
 * (the lines under `algorithm:`), SPACE (the items of `parameters:`) and
 * COLLECTOR (a metricsCollectorSpec, or "") to fill in. */
#define FX_EXPERIMENT(ALGO, SPACE, COLLECTOR)                                  \
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
	"    trialParameters:\n" FX_TRIAL_PARAMETERS "    trialSpec:\n"        \
	"      apiVersion: batch/v1\n"                                         \
	"      kind: Job\n"                                                    \
	"      spec:\n"                                                        \
	"        template:\n"                                                  \
	"          spec:\n"                                                    \
	"            containers:\n"                                            \
	"              - name: training-container\n"                           \
	"                image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"   \
	"                command:\n"                                           \
	"                  - \"python3\"\n"                                    \
	"                  - \"/opt/pytorch-mnist/mnist.py\"\n"                \
	"                  - \"--epochs=1\"\n" FX_ARGUMENTS                    \
	"            restartPolicy: Never\n"

/* The base spec's algorithm and search space. */
#define FX_RANDOM "    algorithmName: random\n"
#define FX_LR                                                                  \
	"    - name: lr\n"                                                     \
	"      parameterType: double\n"                                        \
	"      feasibleSpace:\n"                                               \
	"        min: \"0.01\"\n"                                              \
	"        max: \"0.05\"\n"
#define FX_MOMENTUM                                                            \
	"    - name: momentum\n"                                               \
	"      parameterType: double\n"                                        \
	"      feasibleSpace:\n"                                               \
	"        min: \"0.5\"\n"                                               \
	"        max: \"0.9\"\n"
#define FX_DOUBLES FX_LR FX_MOMENTUM

/* Its trial parameters, and the command's arguments that use them. */
#define FX_TRIAL_PARAMETERS                                                    \
	"      - name: learningRate\n"                                         \
	"        description: Learning rate for the training model\n"          \
	"        reference: lr\n"                                              \
	"      - name: momentum\n"                                             \
	"        description: Momentum for the training model\n"               \
	"        reference: momentum\n"
#define FX_ARGUMENTS                                                           \
	"                  - \"--lr=${trialParameters.learningRate}\"\n"       \
	"                  - \"--momentum=${trialParameters.momentum}\"\n"

/* The base spec: random search for lr and momentum. */
#define FX_BASE_SPEC FX_EXPERIMENT(FX_RANDOM, FX_DOUBLES, "")

/* s with its first `from` replaced by `to` (`from` must be there). */
char *fx_replace(const char *s, const char *from, const char *to);

/* s with each pair of arguments (from, to) replaced in turn, as
 * fx_replace() does; a NULL `from` ends the list. */
char *fx_variant(const char *s, ...);

/* The line number (from 1) of the first `needle` in text. */
int fx_line_of(const char *text, const char *needle);

/* spec_parse() of yaml as experiment "exp": its return code, *s, and the
 * error (kb_error_format()) in msg. */
int fx_parse(const char *yaml, struct experiment_spec **s, char *msg,
	     size_t size);

/* yaml parsed, or the test fails with the error. */
struct experiment_spec *fx_parse_ok(const char *yaml);

/* yaml refused with `code`, the error naming `field` (when given) on the
 * line of the first `at` in yaml (when given), its message holding `msg`
 * (when given); else the test fails. The error's line. */
int fx_expect_error(const char *yaml, int code, const char *field,
		    const char *at, const char *msg);

#endif
