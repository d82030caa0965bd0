/*
 * spec.h - the Katib v1beta1 Experiment: parse, default, validate, render.
 *
 * spec_parse() reads YAML text (a whole `kind: Experiment` object or just the
 * body of `spec`) with libyaml, fills Katib's defaults (experiment_defaults.go)
 * and validates as Katib's admission webhook does, plus the checks Katib
 * forgets (min <= max, numbers that parse, anchors that expand too far).
 * Every error names the field path ("spec.objective.type") and YAML line.
 *
 * Ownership: a struct experiment_spec and everything it points to is owned
 * by whoever got it from spec_parse(); free it with spec_free(). Strings in
 * it are NUL-terminated heap copies. cJSON members are owned by the spec.
 *
 * Numbers in feasibleSpace stay strings (as in Katib); the parsed doubles
 * sit beside them.
 *
 * Implemented in core/spec/spec_parse.c (parse, default, validate, free),
 * core/spec/spec_template.c (trialTemplate and its placeholders),
 * core/spec/spec_render.c (spec_render_yaml, spec_check_update) and
 * core/spec/trial_render.c (spec_render_trial, trial_command_free).
 */
#ifndef KATIB_SPEC_H
#define KATIB_SPEC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "katib/error.h"

#define SPEC_MAX_BYTES	    (1024 * 1024) /* larger specs are rejected */
#define SPEC_MAX_YAML_NODES 200000	  /* alias expansion bound */
#define EXPERIMENT_NAME_MAX 40		  /* Katib: trial names add 9 chars */

enum param_type { PARAM_INT, PARAM_DOUBLE, PARAM_CATEGORICAL, PARAM_DISCRETE };

enum distribution {
	DIST_UNIFORM,
	DIST_LOG_UNIFORM,
	DIST_NORMAL,
	DIST_LOG_NORMAL,
};

struct param_spec {
	char *name;
	enum param_type type;
	enum distribution distribution;
	/* int/double: min and max required, step optional (NULL when absent) */
	char *min, *max, *step;
	double min_value, max_value, step_value; /* step_value 0 = none */
	/* categorical/discrete: the list (nlist >= 1) */
	char **list;
	size_t nlist;
};

enum metric_strategy { STRATEGY_MIN, STRATEGY_MAX, STRATEGY_LATEST };

struct metric_strategy_spec {
	char *name;
	enum metric_strategy value;
};

struct objective_spec {
	int maximize; /* 0 = minimize */
	int has_goal;
	double goal;
	char *metric;	   /* objectiveMetricName */
	char **additional; /* additionalMetricNames */
	size_t nadditional;
	/* After defaulting: one entry per metric (objective first, then the
	 * additional ones in order, then any extra the user named). */
	struct metric_strategy_spec *strategies;
	size_t nstrategies;
};

struct algorithm_setting {
	char *name;
	char *value;
};

struct algorithm_spec {
	char *name;
	struct algorithm_setting *settings;
	size_t nsettings;
};

enum collector_kind {
	COLLECTOR_STDOUT,
	COLLECTOR_FILE,
	COLLECTOR_TFEVENT,
	COLLECTOR_PROMETHEUS,
	COLLECTOR_CUSTOM,
	COLLECTOR_PUSH,
	COLLECTOR_NONE, /* no metrics: a trial ends on its exit status */
};
#define COLLECTOR_KIND_LAST COLLECTOR_NONE

enum file_format { FORMAT_TEXT, FORMAT_JSON };

enum fs_path_kind { PATH_KIND_NONE, PATH_KIND_FILE, PATH_KIND_DIRECTORY };

struct collector_spec {
	enum collector_kind kind;
	char *path;		 /* source.fileSystemPath.path, or NULL */
	enum file_format format; /* source.fileSystemPath.format */
	char **metrics_format;	 /* source.filter.metricsFormat (may be 0) */
	size_t nmetrics_format;
	/* Added later (members appended, the ones above unchanged): */
	enum fs_path_kind path_kind; /* source.fileSystemPath.kind */
	int has_format;	 /* fileSystemPath.format set (File: always) */
	cJSON *http_get; /* source.httpGet (PrometheusMetric), or NULL */
	cJSON *custom_collector; /* collector.customCollector, or NULL */
};

struct trial_parameter_spec {
	char *name;
	char *description;
	char *reference;
};

struct trial_template_spec {
	int retain;
	/* the unstructured object, or NULL; with a configMap source, the
	 * template read by spec_parse_with() (NULL after spec_parse()) */
	cJSON *trial_spec;
	char *configmap_name, *configmap_namespace, *template_path;
	struct trial_parameter_spec *params;
	size_t nparams;
	cJSON *primary_pod_labels; /* object or NULL */
	char *primary_container_name;
	char *success_condition, *failure_condition;
};

enum resume_policy { RESUME_NEVER, RESUME_LONG_RUNNING, RESUME_FROM_VOLUME };

struct experiment_spec {
	char *name;	 /* metadata.name or NULL */
	char *namespace; /* metadata.namespace or NULL */
	struct param_spec *params;
	size_t nparams;
	struct objective_spec objective;
	struct algorithm_spec algorithm;
	int has_early_stopping;
	struct algorithm_spec early_stopping;
	int parallel_trial_count;   /* default 3 */
	int max_trial_count;	    /* -1 = unset */
	int max_failed_trial_count; /* -1 = unset */
	enum resume_policy resume_policy;
	struct collector_spec collector;
	cJSON *nas_config; /* spec.nasConfig as JSON, or NULL */
	struct trial_template_spec trial_template;
	cJSON *labels;	    /* metadata.labels, or NULL */
	cJSON *annotations; /* metadata.annotations, or NULL */
	/*
	 * katibfs extension, from the annotation TRIAL_TIMEOUT_ANNOTATION
	 * (an annotation keeps the spec valid for Katib, which ignores it):
	 * a trial running longer is killed and ends Failed, reason Timeout.
	 * Seconds; 0 = no limit.
	 */
	double trial_timeout;
	/*
	 * katibfs extension (local backend), from DEVICES_ANNOTATION and
	 * DEVICES_PER_TRIAL_ANNOTATION: the devices trials share out, as
	 * CUDA_VISIBLE_DEVICES names them ("0", "GPU-<uuid>", "MIG-..."),
	 * each running trial getting devices_per_trial of its own. NULL and
	 * 0 without the annotation.
	 */
	char **devices;
	size_t ndevices;
	int devices_per_trial;
	/*
	 * What validation let pass but a user should hear about (a setting
	 * Katib's service ignores, which katibfs ignores too): spec_warn()
	 * adds one, spec_parse() gives each the line of its field. The
	 * daemon writes them to `events` when the spec is taken, `katibfs
	 * check` to stderr. Never NULL after spec_parse(); owned by the spec.
	 */
	struct spec_warnings *warnings;
	/*
	 * katibfs extension, from OBJECTIVES_ANNOTATION: the objectives
	 * after the first (objective.objectiveMetricName), in the order
	 * written; each is also one of objective.additionalMetricNames, so
	 * the YAML runs on Katib as a single-objective experiment. NULL and
	 * 0 without the annotation (spec_objective_count() is then 1).
	 */
	struct extra_objective {
		char *metric;
		int maximize;
	} * objectives;
	size_t nobjectives;
	/*
	 * katibfs extension, from WARM_START_ANNOTATION: the experiments (on
	 * the same mount) whose Succeeded trials are the algorithm's history
	 * before its first suggestion (core/engine/warm_start.c). NULL and 0
	 * without the annotation.
	 */
	char **warm_start;
	size_t nwarm_start;
	/*
	 * katibfs extension, from SUGGESTION_COMMAND_ANNOTATION: the program
	 * and its arguments (split as a shell splits words, without
	 * expansions) that suggests for an algorithmName katibfs does not
	 * know (core/algorithms/suggestion_command.c). NULL and 0 without.
	 */
	char **suggestion_command;
	size_t nsuggestion_command;
};

/* The warnings of a spec, each a field, a message and a line. */
struct spec_warnings {
	struct kb_error *items;
	size_t n;
};

#define TRIAL_TIMEOUT_ANNOTATION     "katibfs/trial-timeout"
#define DEVICES_ANNOTATION	     "katibfs/devices"
#define DEVICES_PER_TRIAL_ANNOTATION "katibfs/devices-per-trial"
#define OBJECTIVES_ANNOTATION	     "katibfs/objectives"
#define SPEC_MAX_OBJECTIVES	     4 /* the first + katibfs/objectives */

/* How many objectives the experiment optimizes: 1 + katibfs/objectives. */
size_t spec_objective_count(const struct experiment_spec *spec);
/* Objective i (0: objective.objectiveMetricName): its metric name, and
 * whether it is maximized (*maximize may be NULL). */
const char *spec_objective(const struct experiment_spec *spec, size_t i,
			   int *maximize);
#define WARM_START_ANNOTATION	      "katibfs/warm-start"
#define SUGGESTION_COMMAND_ANNOTATION "katibfs/suggestion-command"

/*
 * Parse, default and validate. `name` is the experiment's directory name
 * (validated as a DNS-1123 label of at most 40 chars); a different
 * metadata.name is kept in spec->name and is not an error. Returns 0 and
 * sets *out, or -EINVAL (bad spec), -EFBIG (over SPEC_MAX_BYTES) or -ENOMEM
 * with err filled.
 */
int spec_parse(const char *text, size_t len, const char *name,
	       struct experiment_spec **out, struct kb_error *err);

/* The fields of a configMap trial template, for messages. */
#define CONFIGMAP_NAME_FIELD "spec.trialTemplate.configMap.configMapName"
#define CONFIGMAP_PATH_FIELD "spec.trialTemplate.configMap.templatePath"

/*
 * Where spec_parse_with() gets the trial object of a trialTemplate.configMap
 * (Katib's ConfigMap source): fetch() puts the text of data[key] of the
 * ConfigMap ns/name in *text (heap, the caller frees it) and returns 0, or
 * returns a negative errno with err naming CONFIGMAP_NAME_FIELD or
 * CONFIGMAP_PATH_FIELD and saying what would be right (-EINVAL: the spec's
 * fault, no such ConfigMap or key, not allowed to read it; -EIO: nobody
 * answered). exp_ns is the experiment's metadata.namespace, or NULL.
 */
struct template_source {
	int (*fetch)(void *arg, const char *exp_ns, const char *ns,
		     const char *name, const char *key, char **text,
		     struct kb_error *err);
	void *arg;
};

/*
 * spec_parse(), and a trialTemplate.configMap is read through src: its
 * template is parsed and checked exactly as an inline trialSpec (into
 * trial_template.trial_spec, the configMap fields kept beside it). A
 * template that is not YAML, or not a mapping, is -EINVAL naming
 * CONFIGMAP_PATH_FIELD; an error inside it names the template's own field
 * and line ("... data[key] of ConfigMap ns/name, line N"). src NULL: as
 * spec_parse(), which leaves trial_spec NULL for a configMap source.
 */
int spec_parse_with(const char *text, size_t len, const char *name,
		    const struct template_source *src,
		    struct experiment_spec **out, struct kb_error *err);

/*
 * A template_source.fetch over ConfigMap manifests, for a machine without a
 * cluster (the local backend's --configmaps DIR, `katibfs check
 * --configmaps DIR`; core/spec/configmaps.c): arg is a struct
 * configmap_dir. Every *.yaml / *.yml file of dir is read on each call, its
 * `kind: ConfigMap` documents keyed by namespace and name; one that names
 * no namespace is in the experiment's (exp_ns, else default_ns). dir NULL:
 * every configMap source is -EINVAL naming configMapName, saying to pass
 * --configmaps DIR or to inline the template as trialSpec.
 */
struct configmap_dir {
	const char *dir;	/* absolute, or NULL */
	const char *default_ns; /* NULL: "default" */
};
int configmap_dir_fetch(void *arg, const char *exp_ns, const char *ns,
			const char *name, const char *key, char **text,
			struct kb_error *err);

/*
 * An error about a spec text that names a field but no line (one found
 * after parsing, e.g. by spec_check_update) gets the line of that field in
 * the text. Nothing changes when the text does not parse or lacks the field.
 */
void spec_locate_error(const char *text, size_t len, struct kb_error *err);

void spec_free(struct experiment_spec *spec);

/*
 * Add a warning about `field` (a path, as errors name it) to the spec's
 * warnings. Callable from validators that hold a const spec; the same
 * warning twice is kept once; dropped when spec->warnings is NULL (a spec
 * not made by spec_parse()) or memory runs out.
 */
void spec_warn(const struct experiment_spec *spec, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 0 if `name` is a valid experiment name (DNS-1123 label, <= 40 chars). */
int spec_validate_name(const char *name, struct kb_error *err);

/*
 * The normalized spec (defaults filled) as a whole Experiment YAML document
 * with metadata.name = `name`. Returns a heap string the caller frees, or
 * NULL on ENOMEM.
 */
char *spec_render_yaml(const struct experiment_spec *spec, const char *name);

/* The normalized body of the spec (Katib's Experiment.spec) as JSON; the
 * caller frees it (cJSON_Delete), NULL on ENOMEM. */
cJSON *spec_render_json(const struct experiment_spec *spec);

/*
 * Compare a new spec with the one an experiment runs: 0 if only the fields
 * Katib lets one edit on a live experiment differ (parallelTrialCount,
 * maxTrialCount, maxFailedTrialCount, and metadata.name); otherwise -EPERM
 * with err naming the first changed field.
 */
int spec_check_update(const struct experiment_spec *old,
		      const struct experiment_spec *new, struct kb_error *err);

/* Names of all metrics collected: objective first, then additional. */
size_t spec_metric_names(const struct experiment_spec *spec, const char **names,
			 size_t max);

/* The strategy for metric `name` (after defaulting). */
enum metric_strategy spec_metric_strategy(const struct experiment_spec *spec,
					  const char *name);

/* ---- Trial rendering (Katib's manifest/generator.go) ---- */

/* One hyperparameter assignment: name -> value string. */
struct assignment {
	char *name;
	char *value;
};

/*
 * What a local process needs, taken from the primary container of the
 * rendered trial. All members owned by the struct; free with
 * trial_command_free().
 */
struct trial_command {
	char **argv; /* command + args, NULL-terminated, argc >= 1 */
	size_t argc;
	char **env; /* "NAME=value" entries, NULL-terminated */
	size_t nenv;
	char *working_dir; /* or NULL */
	char *manifest;	   /* the whole rendered trial object, JSON text */
};

/*
 * Render the trial: substitute ${trialParameters.X} (from `assignments`) and
 * ${trialSpec.Name|Namespace|Kind|APIVersion|Labels[k]|Annotations[k]} in
 * the trialSpec, set metadata.name/namespace, find the container named
 * primaryContainerName anywhere in it and extract command+args, env
 * (name/value pairs; valueFrom is an error naming the variable) and
 * workingDir. With the StdOut, File or TensorFlowEvent collector, command
 * + args are then what Katib's pod webhook makes of them, in argv and in
 * the manifest: {"sh", "-c", the words joined with single spaces, not
 * quoted} (a command that began `sh -c` or `bash -c` keeps its shell).
 * A configMap source not read by spec_parse_with(): -ENOTSUP.
 * Returns 0 or -EINVAL/-ENOTSUP/-ENOMEM with err filled.
 */
int spec_render_trial(const struct experiment_spec *spec,
		      const char *trial_name, const char *namespace,
		      const struct assignment *assignments, size_t n,
		      struct trial_command *out, struct kb_error *err);

void trial_command_free(struct trial_command *cmd);

/* Helpers for names printed in messages and files. */
const char *param_type_name(enum param_type t);
const char *distribution_name(enum distribution d);
const char *metric_strategy_name(enum metric_strategy s);
const char *collector_kind_name(enum collector_kind k);

#endif
