/*
 * spec.c - the Katib v1beta1 Experiment: parse (libyaml, via yamltree),
 * default (experiment_defaults.go), validate (the admission webhook plus the
 * checks Katib forgets), render back to YAML, compare for live edits, and
 * render one trial (manifest/generator.go). See include/katib/spec.h.
 */
#include "katib/spec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "katib/metrics.h"
#include "katib/suggest.h"
#include "katib/yamltree.h"

#define PATHLEN		     256
#define API_VERSION	     "kubeflow.org/v1beta1"
#define DEFAULT_FILE_PATH    "/var/log/katib/metrics.log"
#define DEFAULT_TFEVENT_PATH "/var/log/katib/tfevent/"
#define DEFAULT_PROM_PATH    "/metrics"
#define DEFAULT_PROM_PORT    8080
#define PARAM_PREFIX	     "${trialParameters."
#define META_PREFIX	     "${trialSpec."

#define JOB_SUCCESS                                                            \
	"status.conditions.#(type==\"Complete\")#|#(status==\"True\")#"
#define JOB_FAILURE                                                            \
	"status.conditions.#(type==\"Failed\")#|#(status==\"True\")#"
#define KF_SUCCESS                                                             \
	"status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#"
#define KF_FAILURE JOB_FAILURE

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static int fail(struct kb_error *err, const char *path, const struct ynode *n,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct kb_error *err, const char *path, const struct ynode *n,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kb_error_set(err, -EINVAL, path, n ? n->line : 0, "%s", msg);
}

static void join(char *dst, const char *base, const char *key)
{
	snprintf(dst, PATHLEN, "%s%s%s", base, *base ? "." : "", key);
}

static void join_index(char *dst, const char *base, size_t i)
{
	snprintf(dst, PATHLEN, "%s[%zu]", base, i);
}

static const char *kind_word(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	return "a single value";
}

static int need_map(const struct ynode *n, const char *path,
		    struct kb_error *err)
{
	if (n->kind == YNODE_MAP)
		return 0;
	return fail(err, path, n,
		    "must be a mapping (key: value lines), "
		    "not %s",
		    kind_word(n));
}

static int need_seq(const struct ynode *n, const char *path,
		    struct kb_error *err)
{
	if (n->kind == YNODE_SEQ)
		return 0;
	return fail(err, path, n, "must be a list (`- item` lines), not %s",
		    kind_word(n));
}

static int in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

static void list_text(const char *const *list, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; list[i] && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
				list[i]);
}

static int check_fields(const struct ynode *map, const char *path,
			const char *const *known, struct kb_error *err)
{
	char sub[PATHLEN], names[400], hint[100];
	size_t i;

	for (i = 0; i < map->n; i++) {
		if (in_list(map->keys[i]->value, known))
			continue;
		join(sub, path, map->keys[i]->value);
		list_text(known, names, sizeof(names));
		suggest_list_hint(map->keys[i]->value, known, hint,
				  sizeof(hint));
		return fail(err, sub, map->keys[i],
			    "unknown field (known here: %s)%s", names, hint);
	}
	return 0;
}

/* A field that holds one value; NULL (and 0) when absent or null. */
static int get_scalar(const struct ynode *map, const char *key,
		      const char *path, const struct ynode **out,
		      struct kb_error *err)
{
	const struct ynode *n = ynode_get(map, key);
	char sub[PATHLEN];

	*out = NULL;
	if (ynode_is_null(n))
		return 0;
	if (n->kind != YNODE_SCALAR) {
		join(sub, path, key);
		return fail(err, sub, n, "must be a single value, not %s",
			    kind_word(n));
	}
	*out = n;
	return 0;
}

static int get_str(const struct ynode *map, const char *key, const char *path,
		   int required, char **out, struct kb_error *err)
{
	const struct ynode *n;
	char sub[PATHLEN];
	int rc;

	*out = NULL;
	rc = get_scalar(map, key, path, &n, err);
	if (rc)
		return rc;
	if (!n || !n->value[0]) {
		if (!required)
			return 0;
		join(sub, path, key);
		return fail(err, sub, n ? n : map, "is required");
	}
	*out = strdup(n->value);
	return *out ? 0 : -ENOMEM;
}

static int parse_long(const char *s, long *out)
{
	char *end;

	if (!*s || strspn(s, " \t") || strchr(s, '.'))
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;

	if (!*s || strspn(s, " \t"))
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || !isfinite(*out))
		return -1;
	/* strtod also reads hex and "inf"; Katib's numbers are decimal */
	return strpbrk(s, "xXnN") ? -1 : 0;
}

/* An int32 field: *present = 0 when absent. */
static int get_int(const struct ynode *map, const char *key, const char *path,
		   int *out, int *present, struct kb_error *err)
{
	const struct ynode *n;
	char sub[PATHLEN];
	long v;
	int rc;

	*present = 0;
	rc = get_scalar(map, key, path, &n, err);
	if (rc || !n)
		return rc;
	join(sub, path, key);
	if (n->quoted)
		return fail(err, sub, n,
			    "must be an integer, without quotes (got the "
			    "string \"%s\"; Katib's schema refuses it too)",
			    n->value);
	if (parse_long(n->value, &v))
		return fail(err, sub, n,
			    "must be an integer, e.g. 3 (got "
			    "\"%s\")",
			    n->value);
	if (v < INT_MIN || v > INT_MAX)
		return fail(err, sub, n, "is out of range");
	*out = (int)v;
	*present = 1;
	return 0;
}

static int get_bool(const struct ynode *map, const char *key, const char *path,
		    int *out, struct kb_error *err)
{
	const struct ynode *n;
	char sub[PATHLEN];
	int rc;

	rc = get_scalar(map, key, path, &n, err);
	if (rc || !n)
		return rc;
	join(sub, path, key);
	if (n->quoted)
		return fail(err, sub, n,
			    "must be true or false, without quotes (got the "
			    "string \"%s\"; Katib's schema refuses it too)",
			    n->value);
	if (ynode_scalar_type(n) != YS_BOOL)
		return fail(err, sub, n, "must be true or false");
	*out = n->value[0] == 't' || n->value[0] == 'T';
	return 0;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* A list of single values; *out NULL and *n 0 when absent. */
static int get_str_list(const struct ynode *map, const char *key,
			const char *path, char ***out, size_t *n,
			struct kb_error *err)
{
	const struct ynode *l = ynode_get(map, key);
	char sub[PATHLEN], item[PATHLEN];
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (ynode_is_null(l))
		return 0;
	join(sub, path, key);
	rc = need_seq(l, sub, err);
	if (rc)
		return rc;
	*out = calloc(l->n + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		if (l->items[i]->kind != YNODE_SCALAR) {
			join_index(item, sub, i);
			return fail(err, item, l->items[i],
				    "must be a single value, not %s",
				    kind_word(l->items[i]));
		}
		(*out)[i] = strdup(l->items[i]->value);
		if (!(*out)[i])
			return -ENOMEM;
		*n = i + 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* names                                                               */

static const char *const param_type_names[] = { "int", "double", "categorical",
						"discrete", NULL };
static const char *const distribution_names[] = { "uniform", "logUniform",
						  "normal", "logNormal", NULL };
static const char *const strategy_names[] = { "min", "max", "latest", NULL };
static const char *const collector_names[] = {
	"StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom",
	"Push",	  NULL
};
static const char *const resume_names[] = { "Never", "LongRunning",
					    "FromVolume", NULL };

const char *param_type_name(enum param_type t)
{
	return t <= PARAM_DISCRETE ? param_type_names[t] : "unknown";
}

const char *distribution_name(enum distribution d)
{
	return d <= DIST_LOG_NORMAL ? distribution_names[d] : "unknown";
}

const char *metric_strategy_name(enum metric_strategy s)
{
	return s <= STRATEGY_LATEST ? strategy_names[s] : "unknown";
}

const char *collector_kind_name(enum collector_kind k)
{
	return k <= COLLECTOR_PUSH ? collector_names[k] : "unknown";
}

/* Index of s in list, or -1 with an error "must be one of ...". */
static int enum_value(const struct ynode *n, const char *path,
		      const char *const *list, struct kb_error *err)
{
	char names[200], hint[100];
	int i;

	for (i = 0; list[i]; i++)
		if (!strcmp(n->value, list[i]))
			return i;
	list_text(list, names, sizeof(names));
	suggest_list_hint(n->value, list, hint, sizeof(hint));
	fail(err, path, n, "must be one of %s (got \"%s\")%s", names, n->value,
	     hint);
	return -1;
}

int spec_validate_name(const char *name, struct kb_error *err)
{
	size_t i, len = name ? strlen(name) : 0;

	if (!len)
		return kb_error_set(err, -EINVAL, "metadata.name", 0,
				    "the experiment name must not be empty");
	if (len > EXPERIMENT_NAME_MAX)
		return kb_error_set(err, -EINVAL, "metadata.name", 0,
				    "\"%s\" is %zu characters; an experiment "
				    "name has at most %d (trial names add 9)",
				    name, len, EXPERIMENT_NAME_MAX);
	for (i = 0; i < len; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-')
			continue;
		goto bad;
	}
	if (name[0] < 'a' || name[0] > 'z' || name[len - 1] == '-')
		goto bad;
	return 0;
bad:
	return kb_error_set(err, -EINVAL, "metadata.name", 0,
			    "\"%s\" is not a valid experiment name: use "
			    "lowercase letters, digits and '-', starting "
			    "with a letter and ending with a letter or digit "
			    "(e.g. \"random-search-1\")",
			    name);
}

/* ------------------------------------------------------------------ */
/* freeing                                                             */

static void param_clear(struct param_spec *p)
{
	free(p->name);
	free(p->min);
	free(p->max);
	free(p->step);
	free_strv(p->list, p->nlist);
	memset(p, 0, sizeof(*p));
}

static void algorithm_clear(struct algorithm_spec *a)
{
	size_t i;

	free(a->name);
	for (i = 0; i < a->nsettings; i++) {
		free(a->settings[i].name);
		free(a->settings[i].value);
	}
	free(a->settings);
	memset(a, 0, sizeof(*a));
}

static void template_clear(struct trial_template_spec *t)
{
	size_t i;

	cJSON_Delete(t->trial_spec);
	free(t->configmap_name);
	free(t->configmap_namespace);
	free(t->template_path);
	for (i = 0; i < t->nparams; i++) {
		free(t->params[i].name);
		free(t->params[i].description);
		free(t->params[i].reference);
	}
	free(t->params);
	cJSON_Delete(t->primary_pod_labels);
	free(t->primary_container_name);
	free(t->success_condition);
	free(t->failure_condition);
}

void spec_free(struct experiment_spec *spec)
{
	size_t i;

	if (!spec)
		return;
	free(spec->name);
	free(spec->namespace);
	cJSON_Delete(spec->labels);
	cJSON_Delete(spec->annotations);
	for (i = 0; i < spec->nparams; i++)
		param_clear(&spec->params[i]);
	free(spec->params);
	free(spec->objective.metric);
	free_strv(spec->objective.additional, spec->objective.nadditional);
	for (i = 0; i < spec->objective.nstrategies; i++)
		free(spec->objective.strategies[i].name);
	free(spec->objective.strategies);
	algorithm_clear(&spec->algorithm);
	algorithm_clear(&spec->early_stopping);
	free(spec->collector.path);
	free_strv(spec->collector.metrics_format,
		  spec->collector.nmetrics_format);
	cJSON_Delete(spec->collector.http_get);
	cJSON_Delete(spec->collector.custom_collector);
	cJSON_Delete(spec->nas_config);
	template_clear(&spec->trial_template);
	free(spec);
}

/* ------------------------------------------------------------------ */
/* parameters                                                          */

static const char *const param_fields[] = { "name", "parameterType",
					    "feasibleSpace", NULL };
static const char *const space_fields[] = { "max",  "min",	    "list",
					    "step", "distribution", NULL };

static int parse_number(const char *text, int integer, double *out,
			const char *path, const struct ynode *n,
			struct kb_error *err)
{
	long l;

	if (integer) {
		if (parse_long(text, &l))
			return fail(err, path, n,
				    "must be an integer, e.g. "
				    "\"3\" (got \"%s\")",
				    text);
		*out = (double)l;
		return 0;
	}
	if (parse_double(text, out))
		return fail(err, path, n,
			    "must be a number, e.g. \"0.01\" "
			    "(got \"%s\")",
			    text);
	return 0;
}

static int check_range(struct param_spec *p, const struct ynode *fs,
		       const char *path, struct kb_error *err)
{
	int integer = p->type == PARAM_INT;
	char sub[PATHLEN];
	int rc;

	if (p->nlist) {
		join(sub, path, "list");
		return fail(err, sub, ynode_get(fs, "list"),
			    "is only for "
			    "categorical and discrete parameters; %s "
			    "parameters take min and max",
			    param_type_name(p->type));
	}
	if (!p->min || !p->max) {
		join(sub, path, p->min ? "max" : "min");
		return fail(err, sub, fs, "is required for %s parameters",
			    param_type_name(p->type));
	}
	join(sub, path, "min");
	rc = parse_number(p->min, integer, &p->min_value, sub,
			  ynode_get(fs, "min"), err);
	join(sub, path, "max");
	rc = rc ? rc
		: parse_number(p->max, integer, &p->max_value, sub,
			       ynode_get(fs, "max"), err);
	if (rc)
		return rc;
	if (p->step) {
		join(sub, path, "step");
		rc = parse_number(p->step, integer, &p->step_value, sub,
				  ynode_get(fs, "step"), err);
		if (rc)
			return rc;
		if (p->step_value <= 0)
			return fail(err, sub, ynode_get(fs, "step"),
				    "must be greater than 0 (got \"%s\")",
				    p->step);
	}
	if (p->min_value > p->max_value) {
		join(sub, path, "min");
		return fail(err, sub, ynode_get(fs, "min"),
			    "must not exceed max (%s > %s)", p->min, p->max);
	}
	if ((p->distribution == DIST_LOG_UNIFORM ||
	     p->distribution == DIST_LOG_NORMAL) &&
	    p->min_value <= 0) {
		join(sub, path, "min");
		return fail(err, sub, ynode_get(fs, "min"),
			    "must be greater than 0 for the %s distribution "
			    "(it samples the logarithm)",
			    distribution_name(p->distribution));
	}
	return 0;
}

static int check_list(struct param_spec *p, const struct ynode *fs,
		      const char *path, struct kb_error *err)
{
	static const char *const bounds[] = { "min", "max", "step", NULL };
	const char *const vals[] = { p->min, p->max, p->step };
	char sub[PATHLEN], item[PATHLEN];
	size_t i;
	double d;

	for (i = 0; bounds[i]; i++) {
		if (!vals[i])
			continue;
		join(sub, path, bounds[i]);
		return fail(err, sub, ynode_get(fs, bounds[i]),
			    "is not allowed for %s parameters; give the "
			    "values in list",
			    param_type_name(p->type));
	}
	join(sub, path, "list");
	if (!p->nlist)
		return fail(err, sub, ynode_get(fs, "list") ?: fs,
			    "must list at least one value for %s parameters",
			    param_type_name(p->type));
	for (i = 0; p->type == PARAM_DISCRETE && i < p->nlist; i++) {
		if (!parse_double(p->list[i], &d))
			continue;
		join_index(item, sub, i);
		return fail(err, item, ynode_get(fs, "list")->items[i],
			    "must be a number for a discrete parameter (got "
			    "\"%s\"); use categorical for words",
			    p->list[i]);
	}
	return 0;
}

static int parse_space(struct param_spec *p, const struct ynode *fs,
		       const char *path, struct kb_error *err)
{
	const struct ynode *d;
	char sub[PATHLEN];
	int rc, v;

	rc = need_map(fs, path, err);
	rc = rc ? rc : check_fields(fs, path, space_fields, err);
	rc = rc ? rc : get_str(fs, "min", path, 0, &p->min, err);
	rc = rc ? rc : get_str(fs, "max", path, 0, &p->max, err);
	rc = rc ? rc : get_str(fs, "step", path, 0, &p->step, err);
	rc = rc ? rc : get_str_list(fs, "list", path, &p->list, &p->nlist, err);
	rc = rc ? rc : get_scalar(fs, "distribution", path, &d, err);
	if (rc)
		return rc;
	p->distribution = DIST_UNIFORM;
	if (d) {
		join(sub, path, "distribution");
		v = enum_value(d, sub, distribution_names, err);
		if (v < 0)
			return -EINVAL;
		p->distribution = v;
	}
	if (p->type == PARAM_INT || p->type == PARAM_DOUBLE)
		return check_range(p, fs, path, err);
	return check_list(p, fs, path, err);
}

static int parse_param(struct param_spec *p, const struct ynode *n,
		       const char *path, struct kb_error *err)
{
	const struct ynode *t, *fs;
	char sub[PATHLEN];
	int rc, v;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, param_fields, err);
	rc = rc ? rc : get_str(n, "name", path, 1, &p->name, err);
	rc = rc ? rc : get_scalar(n, "parameterType", path, &t, err);
	if (rc)
		return rc;
	join(sub, path, "parameterType");
	if (!t)
		return fail(err, sub, n,
			    "is required: one of int, double, "
			    "categorical, discrete");
	v = enum_value(t, sub, param_type_names, err);
	if (v < 0)
		return -EINVAL;
	p->type = v;
	fs = ynode_get(n, "feasibleSpace");
	join(sub, path, "feasibleSpace");
	if (ynode_is_null(fs))
		return fail(err, sub, n, "is required (min/max or list)");
	return parse_space(p, fs, sub, err);
}

static int parse_params(struct param_spec **out, size_t *nout,
			const struct ynode *l, const char *path,
			struct kb_error *err)
{
	char sub[PATHLEN], item[PATHLEN];
	size_t i, j;
	int rc;

	rc = need_seq(l, path, err);
	if (rc)
		return rc;
	*out = calloc(l->n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		join_index(sub, path, i);
		*nout = i + 1;
		rc = parse_param(&(*out)[i], l->items[i], sub, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++) {
			if (strcmp((*out)[i].name, (*out)[j].name))
				continue;
			join(item, sub, "name");
			return fail(err, item, ynode_get(l->items[i], "name"),
				    "\"%s\" is already the name of "
				    "%s[%zu]; parameter names must be unique",
				    (*out)[i].name, path, j);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* objective                                                           */

static const char *const objective_fields[] = { "type",
						"goal",
						"objectiveMetricName",
						"additionalMetricNames",
						"metricStrategies",
						NULL };

static int add_strategy(struct objective_spec *o, const char *name,
			enum metric_strategy v)
{
	struct metric_strategy_spec *s;

	s = realloc(o->strategies, (o->nstrategies + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	o->strategies = s;
	s[o->nstrategies].name = strdup(name);
	if (!s[o->nstrategies].name)
		return -ENOMEM;
	s[o->nstrategies++].value = v;
	return 0;
}

/* The user's strategy for `name` from the list node, or -1. */
static int user_strategy(const struct ynode *l, const char *name)
{
	const struct ynode *n, *v;
	size_t i;

	for (i = 0; l && i < l->n; i++) {
		n = ynode_get(l->items[i], "name");
		v = ynode_get(l->items[i], "value");
		if (n && !strcmp(n->value, name))
			return in_list(v->value, strategy_names)
				       ? (!strcmp(v->value, "min")   ? 0
					  : !strcmp(v->value, "max") ? 1
								     : 2)
				       : -1;
	}
	return -1;
}

static int check_strategies(const struct ynode *l, const char *path,
			    struct kb_error *err)
{
	static const char *const fields[] = { "name", "value", NULL };
	const struct ynode *n, *v, *o;
	char sub[PATHLEN], fld[PATHLEN];
	size_t i, j;
	int rc = need_seq(l, path, err);

	for (i = 0; !rc && i < l->n; i++) {
		join_index(sub, path, i);
		rc = need_map(l->items[i], sub, err);
		rc = rc ? rc : check_fields(l->items[i], sub, fields, err);
		rc = rc ? rc : get_scalar(l->items[i], "name", sub, &n, err);
		rc = rc ? rc : get_scalar(l->items[i], "value", sub, &v, err);
		if (rc)
			return rc;
		if (!n || !n->value[0]) {
			join(fld, sub, "name");
			return fail(err, fld, l->items[i], "is required");
		}
		join(fld, sub, "value");
		if (!v)
			return fail(err, fld, l->items[i],
				    "is required: one "
				    "of min, max, latest");
		if (enum_value(v, fld, strategy_names, err) < 0)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			o = ynode_get(l->items[j], "name");
			if (strcmp(o->value, n->value))
				continue;
			join(fld, sub, "name");
			return fail(err, fld, n,
				    "\"%s\" has a strategy "
				    "already",
				    n->value);
		}
	}
	return rc;
}

static int default_strategies(struct objective_spec *o, const struct ynode *l)
{
	enum metric_strategy def = o->maximize ? STRATEGY_MAX : STRATEGY_MIN;
	const struct ynode *n;
	size_t i;
	int s, rc;

	/* objective first, then additional metrics, then any other named */
	s = user_strategy(l, o->metric);
	rc = add_strategy(o, o->metric, s < 0 ? def : (enum metric_strategy)s);
	for (i = 0; !rc && i < o->nadditional; i++) {
		s = user_strategy(l, o->additional[i]);
		/* Katib's defaulter: the objective's rule, not "latest" */
		rc = add_strategy(o, o->additional[i],
				  s < 0 ? def : (enum metric_strategy)s);
	}
	for (i = 0; !rc && l && i < l->n; i++) {
		size_t j;
		int known = 0;

		n = ynode_get(l->items[i], "name");
		for (j = 0; j < o->nstrategies; j++)
			known |= !strcmp(o->strategies[j].name, n->value);
		if (!known)
			rc = add_strategy(o, n->value,
					  user_strategy(l, n->value));
	}
	return rc;
}

static int parse_objective(struct objective_spec *o, const struct ynode *n,
			   const char *path, struct kb_error *err)
{
	const struct ynode *t, *g, *l;
	char sub[PATHLEN];
	size_t i, j;
	int rc, v;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, objective_fields, err);
	rc = rc ? rc : get_scalar(n, "type", path, &t, err);
	rc = rc ? rc : get_scalar(n, "goal", path, &g, err);
	rc = rc ? rc
		: get_str(n, "objectiveMetricName", path, 1, &o->metric, err);
	rc = rc ? rc
		: get_str_list(n, "additionalMetricNames", path, &o->additional,
			       &o->nadditional, err);
	if (rc)
		return rc;
	join(sub, path, "type");
	if (!t)
		return fail(err, sub, n,
			    "is required: one of minimize, "
			    "maximize");
	v = enum_value(t, sub,
		       (const char *const[]){ "minimize", "maximize", NULL },
		       err);
	if (v < 0)
		return -EINVAL;
	o->maximize = v;
	if (g) {
		join(sub, path, "goal");
		if (g->quoted)
			return fail(err, sub, g,
				    "must be a number, without quotes (got "
				    "the string \"%s\"; Katib's schema "
				    "refuses it too)",
				    g->value);
		if (parse_double(g->value, &o->goal))
			return fail(err, sub, g,
				    "must be a number, e.g. 0.99 "
				    "(got \"%s\")",
				    g->value);
		o->has_goal = 1;
	}
	join(sub, path, "additionalMetricNames");
	l = ynode_get(n, "additionalMetricNames");
	for (i = 0; i < o->nadditional; i++) {
		char item[PATHLEN];

		join_index(item, sub, i);
		if (!strcmp(o->additional[i], o->metric))
			return fail(err, item, l->items[i],
				    "must not repeat "
				    "the objectiveMetricName \"%s\"",
				    o->metric);
		for (j = 0; j < i; j++)
			if (!strcmp(o->additional[i], o->additional[j]))
				return fail(err, item, l->items[i],
					    "\"%s\" is listed twice",
					    o->additional[i]);
	}
	l = ynode_get(n, "metricStrategies");
	if (ynode_is_null(l))
		l = NULL;
	join(sub, path, "metricStrategies");
	rc = l ? check_strategies(l, sub, err) : 0;
	return rc ? rc : default_strategies(o, l);
}

/* ------------------------------------------------------------------ */
/* algorithm / early stopping                                          */

static int parse_algorithm(struct algorithm_spec *a, const struct ynode *n,
			   const char *path, struct kb_error *err)
{
	static const char *const fields[] = { "algorithmName",
					      "algorithmSettings", NULL };
	static const char *const sfields[] = { "name", "value", NULL };
	const struct ynode *l;
	char sub[PATHLEN], item[PATHLEN];
	size_t i;
	int rc;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	rc = rc ? rc : get_str(n, "algorithmName", path, 1, &a->name, err);
	if (rc)
		return rc;
	l = ynode_get(n, "algorithmSettings");
	if (ynode_is_null(l))
		return 0;
	join(sub, path, "algorithmSettings");
	rc = need_seq(l, sub, err);
	if (rc)
		return rc;
	a->settings = calloc(l->n + 1, sizeof(*a->settings));
	if (!a->settings)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		struct algorithm_setting *s = &a->settings[i];

		a->nsettings = i + 1;
		join_index(item, sub, i);
		rc = need_map(l->items[i], item, err);
		rc = rc ? rc : check_fields(l->items[i], item, sfields, err);
		rc = rc ? rc
			: get_str(l->items[i], "name", item, 1, &s->name, err);
		rc = rc ? rc
			: get_str(l->items[i], "value", item, 0, &s->value,
				  err);
		if (rc)
			return rc;
		if (!s->value && !(s->value = strdup("")))
			return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* metrics collector                                                   */

static int parse_fs_path(struct collector_spec *c, const struct ynode *n,
			 const char *path, struct kb_error *err)
{
	static const char *const fields[] = { "path", "kind", "format", NULL };
	const struct ynode *k, *f;
	char sub[PATHLEN];
	int rc, v;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	rc = rc ? rc : get_str(n, "path", path, 0, &c->path, err);
	rc = rc ? rc : get_scalar(n, "kind", path, &k, err);
	rc = rc ? rc : get_scalar(n, "format", path, &f, err);
	if (rc)
		return rc;
	if (k) {
		join(sub, path, "kind");
		v = enum_value(
			k, sub,
			(const char *const[]){ "File", "Directory", NULL },
			err);
		if (v < 0)
			return -EINVAL;
		c->path_kind = v ? PATH_KIND_DIRECTORY : PATH_KIND_FILE;
	}
	if (f && f->value[0]) {
		join(sub, path, "format");
		v = enum_value(f, sub,
			       (const char *const[]){ "TEXT", "JSON", NULL },
			       err);
		if (v < 0)
			return -EINVAL;
		c->format = v;
		c->has_format = 1;
	}
	return 0;
}

static int check_http_get(const struct ynode *n, const char *path,
			  struct kb_error *err)
{
	static const char *const fields[] = { "path",	"port",	       "host",
					      "scheme", "httpHeaders", NULL };
	int rc = need_map(n, path, err);

	return rc ? rc : check_fields(n, path, fields, err);
}

static int parse_source(struct collector_spec *c, const struct ynode *n,
			const char *path, struct kb_error *err)
{
	static const char *const fields[] = { "fileSystemPath", "filter",
					      "httpGet", NULL };
	static const char *const ffields[] = { "metricsFormat", NULL };
	const struct ynode *fs, *f, *h;
	char sub[PATHLEN];
	int rc;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	if (rc)
		return rc;
	fs = ynode_get(n, "fileSystemPath");
	f = ynode_get(n, "filter");
	h = ynode_get(n, "httpGet");
	if (!ynode_is_null(fs)) {
		join(sub, path, "fileSystemPath");
		rc = parse_fs_path(c, fs, sub, err);
		if (rc)
			return rc;
	}
	if (!ynode_is_null(f)) {
		join(sub, path, "filter");
		rc = need_map(f, sub, err);
		rc = rc ? rc : check_fields(f, sub, ffields, err);
		rc = rc ? rc
			: get_str_list(f, "metricsFormat", sub,
				       &c->metrics_format, &c->nmetrics_format,
				       err);
		if (rc)
			return rc;
	}
	if (!ynode_is_null(h)) {
		join(sub, path, "httpGet");
		rc = check_http_get(h, sub, err);
		if (rc)
			return rc;
		c->http_get = ynode_to_json(h);
		if (!c->http_get)
			return -ENOMEM;
	}
	return 0;
}

static int forbid(const struct ynode *n, const char *path, const char *why,
		  struct kb_error *err)
{
	if (ynode_is_null(n))
		return 0;
	return fail(err, path, n, "%s", why);
}

static int is_abs(const char *p)
{
	return p && p[0] == '/';
}

/* Katib's defaulter and validator for each collector kind. */
static int collector_rules(struct collector_spec *c, const struct ynode *src,
			   const char *path, struct kb_error *err)
{
	const struct ynode *fs = ynode_get(src, "fileSystemPath"),
			   *h = ynode_get(src, "httpGet"),
			   *f = ynode_get(src, "filter");
	char fsp[PATHLEN], hp[PATHLEN], sub[PATHLEN];
	int rc = 0;

	snprintf(fsp, sizeof(fsp), "%s.source.fileSystemPath", path);
	snprintf(hp, sizeof(hp), "%s.source.httpGet", path);
	if (c->kind != COLLECTOR_PROMETHEUS)
		rc = forbid(h, hp,
			    "is only used by the PrometheusMetric "
			    "collector",
			    err);
	if (rc)
		return rc;
	switch (c->kind) {
	case COLLECTOR_STDOUT:
	case COLLECTOR_PUSH:
	case COLLECTOR_PROMETHEUS:
		rc = forbid(fs, fsp,
			    c->kind == COLLECTOR_STDOUT
				    ? "is not used by the StdOut collector (it "
				      "reads "
				      "the trial's output); use kind: File to "
				      "read a "
				      "file"
				    : "is not used by this collector kind",
			    err);
		break;
	case COLLECTOR_FILE:
		if (!c->path && !(c->path = strdup(DEFAULT_FILE_PATH)))
			return -ENOMEM;
		if (c->path_kind == PATH_KIND_NONE)
			c->path_kind = PATH_KIND_FILE;
		c->has_format = 1;
		if (c->path_kind != PATH_KIND_FILE) {
			join(sub, fsp, "kind");
			return fail(err, sub, fs,
				    "must be File for the File "
				    "collector");
		}
		if (c->format == FORMAT_JSON && c->nmetrics_format) {
			snprintf(sub, sizeof(sub), "%s.source.filter", path);
			return fail(err, sub, f,
				    "is not allowed with format "
				    "JSON (JSON lines name their metrics)");
		}
		break;
	case COLLECTOR_TFEVENT:
		if (!c->path && !(c->path = strdup(DEFAULT_TFEVENT_PATH)))
			return -ENOMEM;
		if (c->path_kind == PATH_KIND_NONE)
			c->path_kind = PATH_KIND_DIRECTORY;
		if (c->path_kind != PATH_KIND_DIRECTORY) {
			join(sub, fsp, "kind");
			return fail(err, sub, fs,
				    "must be Directory for the "
				    "TensorFlowEvent collector");
		}
		if (c->has_format) {
			join(sub, fsp, "format");
			return fail(err, sub, ynode_get(fs, "format"),
				    "must be empty for the TensorFlowEvent "
				    "collector");
		}
		if (c->nmetrics_format) {
			snprintf(sub, sizeof(sub), "%s.source.filter", path);
			return fail(err, sub, f,
				    "is not used by the "
				    "TensorFlowEvent collector");
		}
		break;
	case COLLECTOR_CUSTOM:
		if (c->path && c->path_kind == PATH_KIND_NONE) {
			join(sub, fsp, "kind");
			return fail(err, sub, fs,
				    "is required: File or "
				    "Directory");
		}
		break;
	}
	if (c->path && !is_abs(c->path)) {
		join(sub, fsp, "path");
		return fail(err, sub, ynode_get(fs, "path"),
			    "must be an "
			    "absolute path (got \"%s\")",
			    c->path);
	}
	return rc;
}

static int prometheus_rules(struct collector_spec *c, const struct ynode *src,
			    const char *path, struct kb_error *err)
{
	const struct ynode *h = ynode_get(src, "httpGet");
	cJSON *port, *p;
	char sub[PATHLEN];

	if (!c->http_get && !(c->http_get = cJSON_CreateObject()))
		return -ENOMEM;
	if (!cJSON_GetObjectItem(c->http_get, "path"))
		cJSON_AddStringToObject(c->http_get, "path", DEFAULT_PROM_PATH);
	if (!cJSON_GetObjectItem(c->http_get, "port"))
		cJSON_AddNumberToObject(c->http_get, "port", DEFAULT_PROM_PORT);
	port = cJSON_GetObjectItem(c->http_get, "port");
	p = cJSON_GetObjectItem(c->http_get, "path");
	snprintf(sub, sizeof(sub), "%s.source.httpGet.port", path);
	if (!cJSON_IsNumber(port) || port->valuedouble <= 0 ||
	    port->valuedouble != floor(port->valuedouble) ||
	    port->valuedouble > 65535)
		return fail(err, sub, ynode_get(h, "port") ?: h,
			    "must be a positive port number, e.g. 8080");
	snprintf(sub, sizeof(sub), "%s.source.httpGet.path", path);
	if (!cJSON_IsString(p) || p->valuestring[0] != '/')
		return fail(err, sub, ynode_get(h, "path") ?: h,
			    "must start with /, e.g. /metrics");
	return 0;
}

static int parse_collector(struct collector_spec *c, const struct ynode *n,
			   const char *path, struct kb_error *err)
{
	static const char *const fields[] = { "source", "collector", NULL };
	static const char *const cfields[] = { "kind", "customCollector",
					       NULL };
	static const char *const kinds[] = { "StdOut",
					     "File",
					     "TensorFlowEvent",
					     "PrometheusMetric",
					     "Custom",
					     "Push",
					     "None",
					     NULL };
	const struct ynode *col = NULL, *src = NULL, *k, *cc;
	char sub[PATHLEN];
	int rc, v;

	c->kind = COLLECTOR_STDOUT;
	if (!ynode_is_null(n)) {
		rc = need_map(n, path, err);
		rc = rc ? rc : check_fields(n, path, fields, err);
		if (rc)
			return rc;
		col = ynode_get(n, "collector");
		src = ynode_get(n, "source");
		col = ynode_is_null(col) ? NULL : col;
		src = ynode_is_null(src) ? NULL : src;
	}
	if (col) {
		join(sub, path, "collector");
		rc = need_map(col, sub, err);
		rc = rc ? rc : check_fields(col, sub, cfields, err);
		rc = rc ? rc : get_scalar(col, "kind", sub, &k, err);
		if (rc)
			return rc;
		join(sub, path, "collector.kind");
		if (!k)
			return fail(err, sub, col,
				    "is required: one of StdOut, "
				    "File, TensorFlowEvent, "
				    "PrometheusMetric, Custom, Push");
		v = enum_value(k, sub, kinds, err);
		if (v < 0)
			return -EINVAL;
		c->kind = v == 6 ? COLLECTOR_PUSH : (enum collector_kind)v;
		cc = ynode_get(col, "customCollector");
		snprintf(sub, sizeof(sub), "%s.collector.customCollector",
			 path);
		if (!ynode_is_null(cc)) {
			if (c->kind != COLLECTOR_CUSTOM)
				return fail(err, sub, cc,
					    "is only for kind: "
					    "Custom");
			rc = need_map(cc, sub, err);
			if (rc)
				return rc;
			c->custom_collector = ynode_to_json(cc);
			if (!c->custom_collector)
				return -ENOMEM;
		} else if (c->kind == COLLECTOR_CUSTOM) {
			return fail(err, sub, col,
				    "is required for kind: "
				    "Custom");
		}
	}
	if (src) {
		join(sub, path, "source");
		rc = parse_source(c, src, sub, err);
		if (rc)
			return rc;
	}
	rc = collector_rules(c, src, path, err);
	if (!rc && c->kind == COLLECTOR_PROMETHEUS)
		rc = prometheus_rules(c, src, path, err);
	return rc;
}

/* ------------------------------------------------------------------ */
/* nasConfig                                                           */

static cJSON *param_to_json(const struct param_spec *p);

static int parse_int_list(const struct ynode *map, const char *key,
			  const char *path, cJSON *into, struct kb_error *err)
{
	const struct ynode *l = ynode_get(map, key);
	char sub[PATHLEN], item[PATHLEN];
	cJSON *arr;
	size_t i;
	long v;
	int rc;

	join(sub, path, key);
	if (ynode_is_null(l))
		return 0; /* enas needs it (its validator says so); darts not */
	rc = need_seq(l, sub, err);
	if (rc)
		return rc;
	arr = cJSON_AddArrayToObject(into, key);
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		join_index(item, sub, i);
		if (l->items[i]->kind != YNODE_SCALAR ||
		    parse_long(l->items[i]->value, &v))
			return fail(err, item, l->items[i],
				    "must be an integer, e.g. 32");
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)v));
	}
	return 0;
}

static int parse_graph(const struct ynode *n, const char *path, cJSON *nas,
		       struct kb_error *err)
{
	static const char *const fields[] = { "numLayers", "inputSizes",
					      "outputSizes", NULL };
	char sub[PATHLEN];
	cJSON *g;
	int rc, v, present;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	rc = rc ? rc : get_int(n, "numLayers", path, &v, &present, err);
	if (rc)
		return rc;
	join(sub, path, "numLayers");
	if (!present || v <= 0)
		return fail(err, sub, ynode_get(n, "numLayers") ?: n,
			    "is required and must be greater than 0");
	g = cJSON_AddObjectToObject(nas, "graphConfig");
	if (!g)
		return -ENOMEM;
	cJSON_AddNumberToObject(g, "numLayers", v);
	rc = parse_int_list(n, "inputSizes", path, g, err);
	return rc ? rc : parse_int_list(n, "outputSizes", path, g, err);
}

static int parse_operation(const struct ynode *n, const char *path, cJSON *ops,
			   struct kb_error *err)
{
	static const char *const fields[] = { "operationType", "parameters",
					      NULL };
	struct param_spec *ps = NULL;
	size_t np = 0, i;
	const struct ynode *l;
	char *type = NULL, sub[PATHLEN];
	cJSON *op, *arr;
	int rc;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	rc = rc ? rc : get_str(n, "operationType", path, 1, &type, err);
	if (rc)
		goto out;
	l = ynode_get(n, "parameters");
	join(sub, path, "parameters");
	if (ynode_is_null(l) || (l->kind == YNODE_SEQ && !l->n)) {
		rc = fail(err, sub, l ?: n, "must list at least one parameter");
		goto out;
	}
	rc = parse_params(&ps, &np, l, sub, err);
	if (rc)
		goto out;
	rc = -ENOMEM;
	op = cJSON_CreateObject();
	if (!op)
		goto out;
	cJSON_AddItemToArray(ops, op);
	cJSON_AddStringToObject(op, "operationType", type);
	arr = cJSON_AddArrayToObject(op, "parameters");
	for (i = 0; arr && i < np; i++)
		cJSON_AddItemToArray(arr, param_to_json(&ps[i]));
	rc = 0;
out:
	for (i = 0; i < np; i++)
		param_clear(&ps[i]);
	free(ps);
	free(type);
	return rc;
}

static int parse_nas(struct experiment_spec *s, const struct ynode *n,
		     const char *path, struct kb_error *err)
{
	static const char *const fields[] = { "graphConfig", "operations",
					      NULL };
	const struct ynode *g, *ops;
	char sub[PATHLEN], item[PATHLEN];
	cJSON *arr;
	size_t i;
	int rc;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	if (rc)
		return rc;
	s->nas_config = cJSON_CreateObject();
	if (!s->nas_config)
		return -ENOMEM;
	g = ynode_get(n, "graphConfig");
	join(sub, path, "graphConfig");
	if (ynode_is_null(g))
		return fail(err, sub, n,
			    "is required (numLayers; enas also "
			    "needs inputSizes and outputSizes)");
	rc = parse_graph(g, sub, s->nas_config, err);
	if (rc)
		return rc;
	ops = ynode_get(n, "operations");
	join(sub, path, "operations");
	if (ynode_is_null(ops) || (ops->kind == YNODE_SEQ && !ops->n))
		return fail(err, sub, ops ?: n,
			    "must list at least one "
			    "operation");
	rc = need_seq(ops, sub, err);
	if (rc)
		return rc;
	arr = cJSON_AddArrayToObject(s->nas_config, "operations");
	if (!arr)
		return -ENOMEM;
	for (i = 0; !rc && i < ops->n; i++) {
		join_index(item, sub, i);
		rc = parse_operation(ops->items[i], item, arr, err);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* trial template                                                      */

static const char *const template_fields[] = {
	"retain",	    "trialSpec",	"configMap",
	"trialParameters",  "primaryPodLabels", "primaryContainerName",
	"successCondition", "failureCondition", NULL
};

static char *replace_all(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0, len;
	const char *p;
	char *out, *w;

	for (p = s; (p = strstr(p, from)); p += fl)
		n++;
	len = strlen(s) + n * tl - n * fl;
	out = malloc(len + 1);
	if (!out)
		return NULL;
	for (w = out; (p = strstr(s, from)); s = p + fl) {
		memcpy(w, s, (size_t)(p - s));
		w += p - s;
		memcpy(w, to, tl);
		w += tl;
	}
	strcpy(w, s);
	return out;
}

/* The line of the first scalar in the tree containing `needle`. */
static int line_of(const struct ynode *n, const char *needle)
{
	size_t i;
	int l;

	if (!n)
		return 0;
	if (n->kind == YNODE_SCALAR) {
		const char *at = strstr(n->value, needle);

		return at ? ynode_line_at(n, (size_t)(at - n->value)) : 0;
	}
	for (i = 0; i < n->n; i++) {
		if (n->keys && (l = line_of(n->keys[i], needle)))
			return l;
		if ((l = line_of(n->items[i], needle)))
			return l;
	}
	return 0;
}

static int parse_meta_ref(const char *ref, char *key, size_t ksize, char *index,
			  size_t isize)
{
	static const char *const plain[] = { "Name", "Namespace", "Kind",
					     "APIVersion", NULL };
	size_t len = strlen(ref), pl = strlen(META_PREFIX);
	const char *br;
	size_t kl;

	key[0] = 0;
	if (len <= pl + 1 || strncmp(ref, META_PREFIX, pl) ||
	    ref[len - 1] != '}')
		return -1;
	kl = len - pl - 1;
	if (kl >= ksize)
		return -1;
	memcpy(key, ref + pl, kl);
	key[kl] = 0;
	index[0] = 0;
	if (in_list(key, plain))
		return 0;
	br = strchr(key, '[');
	if (!br || key[kl - 1] != ']' || br[1] == ']' ||
	    (size_t)(key + kl - br - 2) >= isize)
		return -1;
	memcpy(index, br + 1, (size_t)(key + kl - br - 2));
	index[key + kl - br - 2] = 0;
	key[br - key] = 0;
	return strcmp(key, "Labels") && strcmp(key, "Annotations") ? -1 : 0;
}

/* "; did you mean X?" for the key parse_meta_ref left (up to any '['). */
static const char *meta_hint(char *key, char *buf, size_t size)
{
	static const char *const names[] = { "Name",   "Namespace",
					     "Kind",   "APIVersion",
					     "Labels", "Annotations",
					     NULL };

	key[strcspn(key, "[}")] = 0;
	return suggest_list_hint(key, names, buf, size);
}

static int is_meta_ref(const char *ref)
{
	return !strncmp(ref, META_PREFIX, strlen(META_PREFIX));
}

static int parse_trial_params(struct trial_template_spec *t,
			      const struct experiment_spec *s,
			      const struct ynode *l, const char *path,
			      struct kb_error *err)
{
	static const char *const fields[] = { "name", "description",
					      "reference", NULL };
	char sub[PATHLEN], fld[PATHLEN], key[128], idx[128], hint[100];
	struct suggest sg;
	size_t i, j;
	int rc = need_seq(l, path, err);

	if (rc)
		return rc;
	t->params = calloc(l->n + 1, sizeof(*t->params));
	if (!t->params)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		struct trial_parameter_spec *p = &t->params[i];
		const struct ynode *it = l->items[i];

		t->nparams = i + 1;
		join_index(sub, path, i);
		rc = need_map(it, sub, err);
		rc = rc ? rc : check_fields(it, sub, fields, err);
		rc = rc ? rc : get_str(it, "name", sub, 1, &p->name, err);
		rc = rc ? rc
			: get_str(it, "description", sub, 0, &p->description,
				  err);
		rc = rc ? rc
			: get_str(it, "reference", sub, 1, &p->reference, err);
		if (rc)
			return rc;
		join(fld, sub, "name");
		if (strpbrk(p->name, "{}"))
			return fail(err, fld, ynode_get(it, "name"),
				    "must not contain { or } (write the bare "
				    "name; the template uses "
				    "${trialParameters.<name>})");
		for (j = 0; j < i; j++) {
			if (!strcmp(p->name, t->params[j].name))
				return fail(err, fld, ynode_get(it, "name"),
					    "\"%s\" is declared twice",
					    p->name);
			if (!strcmp(p->reference, t->params[j].reference)) {
				join(fld, sub, "reference");
				return fail(err, fld,
					    ynode_get(it, "reference"),
					    "\"%s\" is already referenced by "
					    "%s[%zu]",
					    p->reference, path, j);
			}
		}
		join(fld, sub, "reference");
		if (is_meta_ref(p->reference)) {
			if (parse_meta_ref(p->reference, key, sizeof(key), idx,
					   sizeof(idx)))
				return fail(err, fld,
					    ynode_get(it, "reference"),
					    "illegal reference of trial "
					    "metadata \"%s\": use "
					    "${trialSpec.Name}, Namespace, "
					    "Kind, APIVersion, Labels[key] or "
					    "Annotations[key]%s",
					    p->reference,
					    meta_hint(key, hint, sizeof(hint)));
			continue;
		}
		if (!s->nparams)
			continue; /* NAS: the algorithm names the values */
		suggest_init(&sg, p->reference);
		for (j = 0; j < s->nparams; j++) {
			if (!strcmp(s->params[j].name, p->reference))
				break;
			suggest_offer(&sg, s->params[j].name);
		}
		if (j == s->nparams)
			return fail(err, fld, ynode_get(it, "reference"),
				    "\"%s\" is not the name of any "
				    "spec.parameters[] entry%s",
				    p->reference,
				    suggest_hint(&sg, hint, sizeof(hint)));
	}
	return 0;
}

static int parse_configmap(struct trial_template_spec *t, const struct ynode *n,
			   const char *path, struct kb_error *err)
{
	static const char *const fields[] = { "configMapName",
					      "configMapNamespace",
					      "templatePath", NULL };
	int rc = need_map(n, path, err);

	rc = rc ? rc : check_fields(n, path, fields, err);
	rc = rc ? rc
		: get_str(n, "configMapName", path, 1, &t->configmap_name, err);
	rc = rc ? rc
		: get_str(n, "configMapNamespace", path, 1,
			  &t->configmap_namespace, err);
	return rc ? rc
		  : get_str(n, "templatePath", path, 1, &t->template_path, err);
}

static int parse_pod_labels(struct trial_template_spec *t,
			    const struct ynode *n, const char *path,
			    struct kb_error *err)
{
	char sub[PATHLEN];
	size_t i;
	int rc = need_map(n, path, err);

	if (rc)
		return rc;
	t->primary_pod_labels = cJSON_CreateObject();
	if (!t->primary_pod_labels)
		return -ENOMEM;
	for (i = 0; i < n->n; i++) {
		if (n->items[i]->kind != YNODE_SCALAR) {
			join(sub, path, n->keys[i]->value);
			return fail(err, sub, n->items[i],
				    "a label value "
				    "must be a string");
		}
		cJSON_AddStringToObject(t->primary_pod_labels,
					n->keys[i]->value, n->items[i]->value);
	}
	return 0;
}

/* ---- searching the trial object for the primary container ---- */

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int name_is(const cJSON *c, const char *name, const char *prefix)
{
	const char *n = jstr(c, "name");
	size_t pl = prefix ? strlen(prefix) : 0;

	if (!n)
		return 0;
	if (!strcmp(n, name))
		return 1;
	return prefix && !strncmp(name, prefix, pl) && !strcmp(name + pl, n);
}

/*
 * Every `containers` array (Job pod template, replica specs, ...), Tekton
 * `steps` (the pod container is "step-<name>") and Argo `container`
 * templates (the pod container is "main").
 */
static cJSON *find_container(cJSON *j, const char *name)
{
	cJSON *c, *it, *r;

	if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
		return NULL;
	cJSON_ArrayForEach(c, j)
	{
		const char *key = c->string;

		if (key && cJSON_IsArray(c) && !strcmp(key, "containers")) {
			cJSON_ArrayForEach(
				it, c) if (cJSON_IsObject(it) &&
					   name_is(it, name, NULL)) return it;
		}
		if (key && cJSON_IsArray(c) && !strcmp(key, "steps")) {
			cJSON_ArrayForEach(
				it,
				c) if (cJSON_IsObject(it) &&
				       (cJSON_GetObjectItem(it, "image") ||
					cJSON_GetObjectItem(it, "command")) &&
				       name_is(it, name, "step-")) return it;
		}
		if (key && cJSON_IsObject(c) && !strcmp(key, "container") &&
		    (!strcmp(name, "main") || name_is(c, name, NULL)))
			return c;
		r = find_container(c, name);
		if (r)
			return r;
	}
	return NULL;
}

static cJSON *primary_container(cJSON *obj, const char *name)
{
	cJSON *c = find_container(obj, name), *spec;
	const char *kind = jstr(obj, "kind");

	if (c || !kind || strcmp(kind, "TrainJob"))
		return c;
	/* TrainJob: the runtime names the container ("node" in torch
	 * runtimes); the trainer block is its command, args and env. */
	spec = cJSON_GetObjectItem(obj, "spec");
	c = cJSON_GetObjectItem(spec, "trainer");
	return cJSON_IsObject(c) ? c : NULL;
}

static int kubeflow_kind(const char *k)
{
	static const char *const kinds[] = { "TFJob", "PyTorchJob",
					     "XGBoostJob", "MPIJob", NULL };
	return k && in_list(k, kinds);
}

static int set_default(char **field, const char *value)
{
	if (*field)
		return 0;
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

static int template_defaults(struct trial_template_spec *t)
{
	const char *kind = jstr(t->trial_spec, "kind");
	cJSON *l;
	int rc = 0;

	if (!kind)
		return 0;
	if (!strcmp(kind, "Job")) {
		rc = set_default(&t->success_condition, JOB_SUCCESS);
		rc = rc ? rc : set_default(&t->failure_condition, JOB_FAILURE);
	} else if (kubeflow_kind(kind) || !strcmp(kind, "TrainJob")) {
		int train = !strcmp(kind, "TrainJob");

		rc = set_default(&t->success_condition,
				 train ? JOB_SUCCESS : KF_SUCCESS);
		rc = rc ? rc : set_default(&t->failure_condition, KF_FAILURE);
		if (rc || t->primary_pod_labels)
			return rc;
		l = t->primary_pod_labels = cJSON_CreateObject();
		if (!l)
			return -ENOMEM;
		if (train) {
			cJSON_AddStringToObject(
				l, "jobset.sigs.k8s.io/replicatedjob-name",
				"node");
			cJSON_AddStringToObject(
				l, "batch.kubernetes.io/job-completion-index",
				"0");
		} else {
			cJSON_AddStringToObject(
				l, "training.kubeflow.org/job-role", "master");
		}
	}
	return rc;
}

/*
 * The first ${trialParameters.X} in text whose X is not declared: NULL, or
 * the placeholder's start with its name copied into `name` and sg holding
 * the declared name closest to it.
 */
static const char *undeclared_use(const struct trial_template_spec *t,
				  const char *text, char *name, size_t size,
				  struct suggest *sg)
{
	const char *p = text, *end;
	size_t i, len;

	while ((p = strstr(p, PARAM_PREFIX))) {
		end = strchr(p + strlen(PARAM_PREFIX), '}');
		if (!end)
			return NULL;
		len = (size_t)(end - p) - strlen(PARAM_PREFIX);
		snprintf(name, size, "%.*s", (int)len,
			 p + strlen(PARAM_PREFIX));
		suggest_init(sg, name);
		for (i = 0; i < t->nparams; i++) {
			if (!strcmp(t->params[i].name, name))
				break;
			suggest_offer(sg, t->params[i].name);
		}
		if (i == t->nparams)
			return p;
		p = end + 1;
	}
	return NULL;
}

/* Katib's test substitution: every declared name used, every use declared */
static int check_placeholders(const struct trial_template_spec *t,
			      const struct ynode *tpl, const struct ynode *tp,
			      const char *path, struct kb_error *err)
{
	char ph[300], sub[PATHLEN], name[200], hint[100], *text;
	struct suggest sg;
	const char *p;
	size_t i;
	int rc = 0;

	text = cJSON_PrintUnformatted(t->trial_spec);
	if (!text)
		return -ENOMEM;
	if ((p = undeclared_use(t, text, name, sizeof(name), &sg))) {
		suggest_hint(&sg, hint, sizeof(hint));
		snprintf(ph, sizeof(ph), PARAM_PREFIX "%s}", name);
		snprintf(sub, sizeof(sub), "%s.trialSpec", path);
		rc = kb_error_set(err, -EINVAL, sub, line_of(tpl, ph),
				  "uses %s, which spec.trialTemplate."
				  "trialParameters does not declare%s",
				  ph, hint);
	}
	for (i = 0; i < t->nparams && !rc; i++) {
		snprintf(ph, sizeof(ph), PARAM_PREFIX "%s}", t->params[i].name);
		if (strstr(text, ph))
			continue;
		snprintf(sub, sizeof(sub), "%s.trialParameters[%zu]", path, i);
		rc = fail(err, sub,
			  tp && tp->kind == YNODE_SEQ && i < tp->n
				  ? tp->items[i]
				  : tp,
			  "\"%s\" is declared but %s does not appear in "
			  "trialSpec",
			  t->params[i].name, ph);
	}
	free(text);
	return rc;
}

static int check_trial_object(struct trial_template_spec *t,
			      const struct ynode *tpl, const char *path,
			      struct kb_error *err)
{
	cJSON *md = cJSON_GetObjectItem(t->trial_spec, "metadata");
	char sub[PATHLEN];
	static const char *const must[] = { "apiVersion", "kind", NULL };
	size_t i;

	for (i = 0; must[i]; i++) {
		if (jstr(t->trial_spec, must[i]) &&
		    jstr(t->trial_spec, must[i])[0])
			continue;
		snprintf(sub, sizeof(sub), "%s.trialSpec.%s", path, must[i]);
		return fail(err, sub, tpl,
			    "is required (e.g. apiVersion: "
			    "batch/v1, kind: Job)");
	}
	if (cJSON_GetObjectItem(md, "name") ||
	    cJSON_GetObjectItem(md, "namespace")) {
		snprintf(sub, sizeof(sub), "%s.trialSpec.metadata", path);
		return fail(err, sub, ynode_get(tpl, "metadata"),
			    "must not set name or namespace: each trial "
			    "gets its own name, in the experiment's "
			    "namespace");
	}
	return 0;
}

static int check_container(struct trial_template_spec *t, const struct ynode *n,
			   const char *path, struct kb_error *err)
{
	char sub[PATHLEN];

	join(sub, path, "primaryContainerName");
	if (!t->primary_container_name)
		return fail(err, sub, n,
			    "is required: the name of the "
			    "container that runs the training");
	if (!t->trial_spec ||
	    primary_container(t->trial_spec, t->primary_container_name))
		return 0;
	return fail(err, sub, ynode_get(n, "primaryContainerName"),
		    "no container named \"%s\" in trialSpec",
		    t->primary_container_name);
}

static int check_params_used(const struct experiment_spec *s,
			     const struct ynode *params, struct kb_error *err)
{
	const struct trial_template_spec *t = &s->trial_template;
	char sub[PATHLEN];
	size_t i, j;

	if (!t->trial_spec)
		return 0;
	for (i = 0; i < s->nparams; i++) {
		for (j = 0; j < t->nparams; j++)
			if (!strcmp(t->params[j].reference, s->params[i].name))
				break;
		if (j < t->nparams)
			continue;
		snprintf(sub, sizeof(sub), "spec.parameters[%zu].name", i);
		return fail(err, sub, ynode_get(params->items[i], "name"),
			    "\"%s\" is not the reference of any "
			    "spec.trialTemplate.trialParameters[] entry, so "
			    "its value would never reach a trial",
			    s->params[i].name);
	}
	return 0;
}

static int parse_template(struct experiment_spec *s, const struct ynode *n,
			  const char *path, struct kb_error *err)
{
	struct trial_template_spec *t = &s->trial_template;
	const struct ynode *ts, *cm, *tp, *pl;
	char sub[PATHLEN];
	int rc;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, template_fields, err);
	rc = rc ? rc : get_bool(n, "retain", path, &t->retain, err);
	rc = rc ? rc
		: get_str(n, "primaryContainerName", path, 0,
			  &t->primary_container_name, err);
	rc = rc ? rc
		: get_str(n, "successCondition", path, 0, &t->success_condition,
			  err);
	rc = rc ? rc
		: get_str(n, "failureCondition", path, 0, &t->failure_condition,
			  err);
	if (rc)
		return rc;
	ts = ynode_get(n, "trialSpec");
	cm = ynode_get(n, "configMap");
	ts = ynode_is_null(ts) ? NULL : ts;
	cm = ynode_is_null(cm) ? NULL : cm;
	if (ts && cm) {
		join(sub, path, "configMap");
		return fail(err, sub, cm,
			    "set either trialSpec or configMap, "
			    "not both");
	}
	if (!ts && !cm)
		return fail(err, path, n,
			    "needs trialSpec (the trial "
			    "object) or configMap");
	if (cm) {
		join(sub, path, "configMap");
		rc = parse_configmap(t, cm, sub, err);
	} else {
		join(sub, path, "trialSpec");
		rc = need_map(ts, sub, err);
		if (!rc && !(t->trial_spec = ynode_to_json(ts)))
			rc = -ENOMEM;
	}
	if (rc)
		return rc;
	pl = ynode_get(n, "primaryPodLabels");
	if (!ynode_is_null(pl)) {
		join(sub, path, "primaryPodLabels");
		rc = parse_pod_labels(t, pl, sub, err);
		if (rc)
			return rc;
	}
	tp = ynode_get(n, "trialParameters");
	join(sub, path, "trialParameters");
	if (!tp || (ynode_is_null(tp) && !tp->quoted))
		return fail(err, sub, n,
			    "is required: declare each "
			    "${trialParameters.<name>} the template uses, "
			    "with the parameter it takes its value from");
	if (!(tp->kind == YNODE_SCALAR && ynode_is_null(tp))) {
		rc = parse_trial_params(t, s, tp, sub, err);
		if (rc)
			return rc;
	}
	if (t->trial_spec) {
		rc = check_trial_object(t, ts, path, err);
		rc = rc ? rc : check_placeholders(t, ts, tp, path, err);
		rc = rc ? rc : template_defaults(t);
		if (rc)
			return rc;
	}
	rc = check_container(t, n, path, err);
	if (rc || !t->trial_spec)
		return rc;
	if (!t->success_condition || !t->failure_condition) {
		join(sub, path,
		     t->success_condition ? "failureCondition"
					  : "successCondition");
		return fail(err, sub, n,
			    "is required for kind %s (Katib "
			    "knows the defaults only for Job, TFJob, "
			    "PyTorchJob, XGBoostJob, MPIJob and TrainJob)",
			    jstr(t->trial_spec, "kind"));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the spec body                                                       */

static const char *const spec_fields[] = {
	"parameters",	       "objective",
	"algorithm",	       "earlyStopping",
	"parallelTrialCount",  "maxTrialCount",
	"maxFailedTrialCount", "metricsCollectorSpec",
	"trialTemplate",       "resumePolicy",
	"nasConfig",	       NULL
};

static int parse_counts(struct experiment_spec *s, const struct ynode *n,
			struct kb_error *err)
{
	const struct ynode *pn = ynode_get(n, "parallelTrialCount"),
			   *mn = ynode_get(n, "maxTrialCount"),
			   *fn = ynode_get(n, "maxFailedTrialCount");
	int has_p, has_m, has_f, rc;

	rc = get_int(n, "parallelTrialCount", "spec", &s->parallel_trial_count,
		     &has_p, err);
	rc = rc ? rc
		: get_int(n, "maxTrialCount", "spec", &s->max_trial_count,
			  &has_m, err);
	rc = rc ? rc
		: get_int(n, "maxFailedTrialCount", "spec",
			  &s->max_failed_trial_count, &has_f, err);
	if (rc)
		return rc;
	if (!has_p)
		s->parallel_trial_count = 3;
	if (!has_m)
		s->max_trial_count = -1;
	if (!has_f)
		s->max_failed_trial_count = -1;
	if (has_m && s->max_trial_count <= 0)
		return fail(err, "spec.maxTrialCount", mn,
			    "must be greater "
			    "than 0 (or left out to run until the goal)");
	if (has_p && s->parallel_trial_count <= 0)
		return fail(err, "spec.parallelTrialCount", pn,
			    "must be "
			    "greater than 0");
	if (has_f && s->max_failed_trial_count < 0)
		return fail(err, "spec.maxFailedTrialCount", fn,
			    "must be 0 "
			    "or more");
	if (has_m && has_f && s->max_failed_trial_count > s->max_trial_count)
		return fail(err, "spec.maxFailedTrialCount", fn,
			    "must not "
			    "exceed maxTrialCount (%d)",
			    s->max_trial_count);
	if (has_m && s->parallel_trial_count > s->max_trial_count)
		return fail(err, "spec.parallelTrialCount", pn ?: n,
			    "must not "
			    "exceed maxTrialCount (%d)%s",
			    s->max_trial_count,
			    has_p ? "" : "; it defaults to 3");
	return 0;
}

static int parse_search_space(struct experiment_spec *s, const struct ynode *n,
			      struct kb_error *err)
{
	const struct ynode *p = ynode_get(n, "parameters"),
			   *nas = ynode_get(n, "nasConfig");
	int has_p = !ynode_is_null(p) && !(p->kind == YNODE_SEQ && !p->n);
	int has_nas = !ynode_is_null(nas);

	if (has_p && has_nas)
		return fail(err, "spec.nasConfig", nas,
			    "set either parameters "
			    "(hyperparameter tuning) or nasConfig "
			    "(architecture search), not both");
	if (!has_p && !has_nas)
		return fail(err, "spec.parameters", n,
			    "is required (or "
			    "nasConfig for architecture search)");
	if (has_nas)
		return parse_nas(s, nas, "spec.nasConfig", err);
	return parse_params(&s->params, &s->nparams, p, "spec.parameters", err);
}

static int parse_body(struct experiment_spec *s, const struct ynode *n,
		      struct kb_error *err)
{
	const struct ynode *o, *a, *es, *rp, *tt;
	int rc, v;

	rc = need_map(n, "spec", err);
	rc = rc ? rc : check_fields(n, "spec", spec_fields, err);
	rc = rc ? rc : parse_search_space(s, n, err);
	if (rc)
		return rc;
	o = ynode_get(n, "objective");
	if (ynode_is_null(o))
		return fail(err, "spec.objective", n,
			    "is required (type and "
			    "objectiveMetricName)");
	rc = parse_objective(&s->objective, o, "spec.objective", err);
	if (rc)
		return rc;
	a = ynode_get(n, "algorithm");
	if (ynode_is_null(a))
		return fail(err, "spec.algorithm", n,
			    "is required, e.g. "
			    "algorithm: {algorithmName: random}");
	rc = parse_algorithm(&s->algorithm, a, "spec.algorithm", err);
	es = ynode_get(n, "earlyStopping");
	if (!rc && !ynode_is_null(es)) {
		s->has_early_stopping = 1;
		rc = parse_algorithm(&s->early_stopping, es,
				     "spec.earlyStopping", err);
	}
	rc = rc ? rc : parse_counts(s, n, err);
	rc = rc ? rc : get_scalar(n, "resumePolicy", "spec", &rp, err);
	if (rc)
		return rc;
	if (rp && rp->value[0]) {
		v = enum_value(rp, "spec.resumePolicy", resume_names, err);
		if (v < 0)
			return -EINVAL;
		s->resume_policy = v;
	}
	rc = parse_collector(&s->collector,
			     ynode_get(n, "metricsCollectorSpec"),
			     "spec.metricsCollectorSpec", err);
	if (rc)
		return rc;
	tt = ynode_get(n, "trialTemplate");
	if (ynode_is_null(tt))
		return fail(err, "spec.trialTemplate", n,
			    "is required: the "
			    "trial to run for each set of parameters");
	rc = parse_template(s, tt, "spec.trialTemplate", err);
	return rc ? rc : check_params_used(s, ynode_get(n, "parameters"), err);
}

/* ------------------------------------------------------------------ */
/* the whole object                                                    */

static int check_string_map(const struct ynode *n, const char *path,
			    struct kb_error *err)
{
	char sub[PATHLEN];
	size_t i;
	int rc = need_map(n, path, err);

	for (i = 0; !rc && i < n->n; i++) {
		if (n->items[i]->kind == YNODE_SCALAR)
			continue;
		join(sub, path, n->keys[i]->value);
		rc = fail(err, sub, n->items[i], "must be a string");
	}
	return rc;
}

/*
 * A duration as Go and kubectl write them ("90s", "30m", "1h30m", "1.5h")
 * or plain seconds ("600"). Returns seconds, or -1 if it does not parse.
 */
static double parse_duration(const char *text)
{
	const char *p = text;
	double total = 0, v;
	char *end;

	v = strtod(text, &end);
	if (end != text && !*end)
		return isfinite(v) ? v : -1; /* plain seconds */
	while (*p) {
		v = strtod(p, &end);
		if (end == p || v < 0 || !isfinite(v))
			return -1;
		p = end;
		if (!strncmp(p, "ms", 2)) {
			total += v / 1000;
			p += 2;
			continue;
		}
		if (*p == 'h')
			total += v * 3600;
		else if (*p == 'm')
			total += v * 60;
		else if (*p == 's')
			total += v;
		else
			return -1;
		p++;
	}
	return *text ? total : -1;
}

static int parse_trial_timeout(struct experiment_spec *s,
			       const struct ynode *annotations,
			       struct kb_error *err)
{
	const struct ynode *v =
		ynode_get(annotations, TRIAL_TIMEOUT_ANNOTATION);
	double secs;

	if (!v || v->kind != YNODE_SCALAR)
		return 0;
	secs = parse_duration(v->value);
	if (secs <= 0)
		return fail(
			err,
			"metadata.annotations[" TRIAL_TIMEOUT_ANNOTATION "]", v,
			"must be a positive duration such as 90s, 30m, "
			"2h or 1h30m (got \"%s\")",
			v->value);
	s->trial_timeout = secs;
	return 0;
}

static int parse_metadata(struct experiment_spec *s, const struct ynode *m,
			  struct kb_error *err)
{
	const struct ynode *l;
	int rc;

	if (ynode_is_null(m))
		return 0;
	rc = need_map(m, "metadata", err);
	rc = rc ? rc : get_str(m, "name", "metadata", 0, &s->name, err);
	rc = rc ? rc
		: get_str(m, "namespace", "metadata", 0, &s->namespace, err);
	l = ynode_get(m, "labels");
	if (!rc && !ynode_is_null(l))
		rc = check_string_map(l, "metadata.labels", err);
	if (!rc && !ynode_is_null(l) && !(s->labels = ynode_to_json(l)))
		rc = -ENOMEM;
	l = ynode_get(m, "annotations");
	if (!rc && !ynode_is_null(l))
		rc = check_string_map(l, "metadata.annotations", err);
	if (!rc && !ynode_is_null(l) && !(s->annotations = ynode_to_json(l)))
		rc = -ENOMEM;
	if (!rc && !ynode_is_null(l))
		rc = parse_trial_timeout(s, l, err);
	return rc;
}

static int parse_object(struct experiment_spec *s, const struct ynode *root,
			struct kb_error *err)
{
	static const char *const fields[] = { "apiVersion", "kind",
					      "metadata",   "spec",
					      "status",	    NULL };
	const struct ynode *v, *body;
	int rc;

	rc = check_fields(root, "", fields, err);
	rc = rc ? rc : get_scalar(root, "apiVersion", "", &v, err);
	if (rc)
		return rc;
	if (v && strcmp(v->value, API_VERSION))
		return fail(err, "apiVersion", v,
			    "must be " API_VERSION " (got \"%s\")", v->value);
	rc = get_scalar(root, "kind", "", &v, err);
	if (rc)
		return rc;
	if (v && strcmp(v->value, "Experiment"))
		return fail(err, "kind", v, "must be Experiment (got \"%s\")",
			    v->value);
	rc = parse_metadata(s, ynode_get(root, "metadata"), err);
	if (rc)
		return rc;
	body = ynode_get(root, "spec");
	if (ynode_is_null(body))
		return fail(err, "spec", root, "is required");
	return parse_body(s, body, err);
}

static int is_whole_object(const struct ynode *root)
{
	return ynode_get(root, "kind") || ynode_get(root, "spec") ||
	       ynode_get(root, "apiVersion") || ynode_get(root, "metadata");
}

static int external_checks(const struct experiment_spec *s,
			   struct kb_error *err)
{
	int rc = algorithm_validate(s, err);

	if (!rc && s->has_early_stopping)
		rc = early_stopping_validate(s, err);
	if (!rc && s->collector.nmetrics_format)
		rc = metrics_validate_formats(s->collector.metrics_format,
					      s->collector.nmetrics_format,
					      err);
	return rc;
}

/* Give an error that names a field but no line the line of that field. */
static void locate_error(const struct ynode *root, struct kb_error *err)
{
	const char *path;

	if (!err || err->line || !err->field[0] || !root)
		return;
	path = err->field;
	if (!is_whole_object(root) && !strncmp(path, "spec", 4) &&
	    (path[4] == '.' || path[4] == '\0'))
		path += path[4] ? 5 : 4;
	err->line = ynode_line_of_path(root, path);
}

void spec_locate_error(const char *text, size_t len, struct kb_error *err)
{
	struct ynode *root = NULL;
	struct kb_error ignored;

	if (!err || err->line || !err->field[0] || len > SPEC_MAX_BYTES)
		return;
	kb_error_clear(&ignored);
	if (ytree_parse(text, len, SPEC_MAX_YAML_NODES, &root, &ignored))
		return;
	locate_error(root, err);
	ynode_free(root);
}

int spec_parse(const char *text, size_t len, const char *name,
	       struct experiment_spec **out, struct kb_error *err)
{
	struct experiment_spec *s = NULL;
	struct ynode *root = NULL;
	int rc;

	*out = NULL;
	kb_error_clear(err);
	if (len > SPEC_MAX_BYTES)
		return kb_error_set(err, -EFBIG, "", 0,
				    "the spec is %zu bytes; "
				    "the limit is %d",
				    len, SPEC_MAX_BYTES);
	if (name && (rc = spec_validate_name(name, err)))
		return rc;
	rc = ytree_parse(text, len, SPEC_MAX_YAML_NODES, &root, err);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	if (root->kind != YNODE_MAP)
		rc = fail(err, "", root,
			  "the spec must be a mapping: a whole "
			  "Experiment (apiVersion, kind, metadata, spec) or "
			  "the body of its spec");
	else if (is_whole_object(root))
		rc = parse_object(s, root, err);
	else
		rc = parse_body(s, root, err);
	if (!rc && !name && s->name)
		rc = spec_validate_name(s->name, err);
	rc = rc ? rc : external_checks(s, err);
	if (rc)
		locate_error(root, err);
out:
	ynode_free(root);
	if (rc == -ENOMEM)
		kb_error_set(err, -ENOMEM, "", 0, "out of memory");
	if (rc) {
		spec_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* metrics                                                             */

size_t spec_metric_names(const struct experiment_spec *spec, const char **names,
			 size_t max)
{
	size_t n = 0, i;

	if (n < max)
		names[n] = spec->objective.metric;
	n++;
	for (i = 0; i < spec->objective.nadditional; i++, n++)
		if (n < max)
			names[n] = spec->objective.additional[i];
	return n < max ? n : max;
}

enum metric_strategy spec_metric_strategy(const struct experiment_spec *spec,
					  const char *name)
{
	size_t i;

	for (i = 0; i < spec->objective.nstrategies; i++)
		if (!strcmp(spec->objective.strategies[i].name, name))
			return spec->objective.strategies[i].value;
	return spec->objective.maximize ? STRATEGY_MAX : STRATEGY_MIN;
}

/* ------------------------------------------------------------------ */
/* rendering the normalized spec                                       */

static cJSON *param_to_json(const struct param_spec *p)
{
	cJSON *j = cJSON_CreateObject(), *fs, *l;
	size_t i;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "name", p->name);
	cJSON_AddStringToObject(j, "parameterType", param_type_name(p->type));
	fs = cJSON_AddObjectToObject(j, "feasibleSpace");
	if (!fs)
		goto fail;
	if (p->min)
		cJSON_AddStringToObject(fs, "min", p->min);
	if (p->max)
		cJSON_AddStringToObject(fs, "max", p->max);
	if (p->step)
		cJSON_AddStringToObject(fs, "step", p->step);
	if (p->nlist) {
		l = cJSON_AddArrayToObject(fs, "list");
		for (i = 0; l && i < p->nlist; i++)
			cJSON_AddItemToArray(l, cJSON_CreateString(p->list[i]));
	}
	cJSON_AddStringToObject(fs, "distribution",
				distribution_name(p->distribution));
	return j;
fail:
	cJSON_Delete(j);
	return NULL;
}

static void add_dup(cJSON *obj, const char *key, const cJSON *v)
{
	if (v)
		cJSON_AddItemToObject(obj, key, cJSON_Duplicate(v, 1));
}

static cJSON *algorithm_to_json(const struct algorithm_spec *a)
{
	cJSON *j = cJSON_CreateObject(), *l, *s;
	size_t i;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "algorithmName", a->name);
	if (!a->nsettings)
		return j;
	l = cJSON_AddArrayToObject(j, "algorithmSettings");
	for (i = 0; l && i < a->nsettings; i++) {
		s = cJSON_CreateObject();
		cJSON_AddItemToArray(l, s);
		cJSON_AddStringToObject(s, "name", a->settings[i].name);
		cJSON_AddStringToObject(s, "value", a->settings[i].value);
	}
	return j;
}

static cJSON *objective_to_json(const struct objective_spec *o)
{
	cJSON *j = cJSON_CreateObject(), *l, *s;
	size_t i;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "type",
				o->maximize ? "maximize" : "minimize");
	if (o->has_goal)
		cJSON_AddNumberToObject(j, "goal", o->goal);
	cJSON_AddStringToObject(j, "objectiveMetricName", o->metric);
	if (o->nadditional) {
		l = cJSON_AddArrayToObject(j, "additionalMetricNames");
		for (i = 0; l && i < o->nadditional; i++)
			cJSON_AddItemToArray(
				l, cJSON_CreateString(o->additional[i]));
	}
	l = cJSON_AddArrayToObject(j, "metricStrategies");
	for (i = 0; l && i < o->nstrategies; i++) {
		s = cJSON_CreateObject();
		cJSON_AddItemToArray(l, s);
		cJSON_AddStringToObject(s, "name", o->strategies[i].name);
		cJSON_AddStringToObject(
			s, "value",
			metric_strategy_name(o->strategies[i].value));
	}
	return j;
}

static cJSON *collector_to_json(const struct collector_spec *c)
{
	cJSON *j = cJSON_CreateObject(), *col, *src = NULL, *fs, *f;
	size_t i;

	if (!j)
		return NULL;
	col = cJSON_AddObjectToObject(j, "collector");
	if (!col)
		goto fail;
	cJSON_AddStringToObject(col, "kind", collector_kind_name(c->kind));
	add_dup(col, "customCollector", c->custom_collector);
	if (c->path || c->path_kind || c->nmetrics_format || c->http_get) {
		src = cJSON_AddObjectToObject(j, "source");
		if (!src)
			goto fail;
	}
	if (c->path || c->path_kind) {
		fs = cJSON_AddObjectToObject(src, "fileSystemPath");
		if (fs && c->path)
			cJSON_AddStringToObject(fs, "path", c->path);
		if (fs && c->path_kind)
			cJSON_AddStringToObject(fs, "kind",
						c->path_kind == PATH_KIND_FILE
							? "File"
							: "Directory");
		if (fs && c->has_format)
			cJSON_AddStringToObject(
				fs, "format",
				c->format == FORMAT_JSON ? "JSON" : "TEXT");
	}
	if (c->nmetrics_format) {
		f = cJSON_AddObjectToObject(src, "filter");
		f = f ? cJSON_AddArrayToObject(f, "metricsFormat") : NULL;
		for (i = 0; f && i < c->nmetrics_format; i++)
			cJSON_AddItemToArray(
				f, cJSON_CreateString(c->metrics_format[i]));
	}
	add_dup(src, "httpGet", c->http_get);
	return j;
fail:
	cJSON_Delete(j);
	return NULL;
}

static cJSON *template_to_json(const struct trial_template_spec *t)
{
	cJSON *j = cJSON_CreateObject(), *l, *p, *cm;
	size_t i;

	if (!j)
		return NULL;
	if (t->retain)
		cJSON_AddTrueToObject(j, "retain");
	if (t->primary_container_name)
		cJSON_AddStringToObject(j, "primaryContainerName",
					t->primary_container_name);
	add_dup(j, "primaryPodLabels", t->primary_pod_labels);
	if (t->success_condition)
		cJSON_AddStringToObject(j, "successCondition",
					t->success_condition);
	if (t->failure_condition)
		cJSON_AddStringToObject(j, "failureCondition",
					t->failure_condition);
	l = cJSON_AddArrayToObject(j, "trialParameters");
	for (i = 0; l && i < t->nparams; i++) {
		p = cJSON_CreateObject();
		cJSON_AddItemToArray(l, p);
		cJSON_AddStringToObject(p, "name", t->params[i].name);
		if (t->params[i].description)
			cJSON_AddStringToObject(p, "description",
						t->params[i].description);
		cJSON_AddStringToObject(p, "reference", t->params[i].reference);
	}
	add_dup(j, "trialSpec", t->trial_spec);
	if (t->configmap_name) {
		cm = cJSON_AddObjectToObject(j, "configMap");
		cJSON_AddStringToObject(cm, "configMapName", t->configmap_name);
		cJSON_AddStringToObject(cm, "configMapNamespace",
					t->configmap_namespace);
		cJSON_AddStringToObject(cm, "templatePath", t->template_path);
	}
	return j;
}

static cJSON *spec_body_json(const struct experiment_spec *s)
{
	cJSON *j = cJSON_CreateObject(), *l;
	size_t i;

	if (!j)
		return NULL;
	cJSON_AddItemToObject(j, "objective", objective_to_json(&s->objective));
	cJSON_AddItemToObject(j, "algorithm", algorithm_to_json(&s->algorithm));
	if (s->has_early_stopping)
		cJSON_AddItemToObject(j, "earlyStopping",
				      algorithm_to_json(&s->early_stopping));
	cJSON_AddNumberToObject(j, "parallelTrialCount",
				s->parallel_trial_count);
	if (s->max_trial_count >= 0)
		cJSON_AddNumberToObject(j, "maxTrialCount", s->max_trial_count);
	if (s->max_failed_trial_count >= 0)
		cJSON_AddNumberToObject(j, "maxFailedTrialCount",
					s->max_failed_trial_count);
	if (s->nparams) {
		l = cJSON_AddArrayToObject(j, "parameters");
		for (i = 0; l && i < s->nparams; i++)
			cJSON_AddItemToArray(l, param_to_json(&s->params[i]));
	}
	add_dup(j, "nasConfig", s->nas_config);
	cJSON_AddItemToObject(j, "metricsCollectorSpec",
			      collector_to_json(&s->collector));
	cJSON_AddStringToObject(j, "resumePolicy",
				resume_names[s->resume_policy]);
	cJSON_AddItemToObject(j, "trialTemplate",
			      template_to_json(&s->trial_template));
	return j;
}

static cJSON *spec_json(const struct experiment_spec *s, const char *name)
{
	cJSON *j = cJSON_CreateObject(), *md;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "apiVersion", API_VERSION);
	cJSON_AddStringToObject(j, "kind", "Experiment");
	md = cJSON_AddObjectToObject(j, "metadata");
	if (md && (name || s->name))
		cJSON_AddStringToObject(md, "name", name ? name : s->name);
	if (md && s->namespace)
		cJSON_AddStringToObject(md, "namespace", s->namespace);
	if (md && s->labels)
		cJSON_AddItemToObject(md, "labels",
				      cJSON_Duplicate(s->labels, 1));
	if (md && s->annotations)
		cJSON_AddItemToObject(md, "annotations",
				      cJSON_Duplicate(s->annotations, 1));
	cJSON_AddItemToObject(j, "spec", spec_body_json(s));
	return j;
}

char *spec_render_yaml(const struct experiment_spec *spec, const char *name)
{
	cJSON *j = spec_json(spec, name);
	char *y;

	if (!j)
		return NULL;
	y = json_to_yaml(j);
	cJSON_Delete(j);
	return y;
}

int spec_check_update(const struct experiment_spec *old,
		      const struct experiment_spec *new, struct kb_error *err)
{
	static const char *const editable[] = { "parallelTrialCount",
						"maxTrialCount",
						"maxFailedTrialCount", NULL };
	cJSON *a = spec_body_json(old), *b = spec_body_json(new), *c;
	char field[PATHLEN];
	size_t i;
	int rc = 0;

	if (!a || !b) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; editable[i]; i++) {
		cJSON_DeleteItemFromObject(a, editable[i]);
		cJSON_DeleteItemFromObject(b, editable[i]);
	}
	if ((old->namespace || new->namespace) &&
	    (!old->namespace || !new->namespace ||
	     strcmp(old->namespace, new->namespace))) {
		rc = kb_error_set(err, -EPERM, "metadata.namespace", 0,
				  "cannot change on a started experiment");
		goto out;
	}
	/* keys present in either; the first that differs is reported */
	for (i = 0; i < 2 && !rc; i++) {
		cJSON *from = i ? b : a, *to = i ? a : b;

		cJSON_ArrayForEach(c, from)
		{
			cJSON *o = cJSON_GetObjectItem(to, c->string);

			if (o && cJSON_Compare(c, o, 1))
				continue;
			join(field, "spec", c->string);
			rc = kb_error_set(
				err, -EPERM, field, 0,
				"cannot change on a started "
				"experiment; only parallelTrialCount, "
				"maxTrialCount and "
				"maxFailedTrialCount can");
			break;
		}
	}
out:
	cJSON_Delete(a);
	cJSON_Delete(b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* rendering a trial                                                   */

void trial_command_free(struct trial_command *cmd)
{
	if (!cmd)
		return;
	free_strv(cmd->argv, cmd->argc);
	free_strv(cmd->env, cmd->nenv);
	free(cmd->working_dir);
	free(cmd->manifest);
	memset(cmd, 0, sizeof(*cmd));
}

#define TT "spec.trialTemplate"

static int meta_value(const struct experiment_spec *s, const char *ref,
		      const char *trial, const char *ns, const char **out,
		      struct kb_error *err)
{
	const cJSON *t = s->trial_template.trial_spec, *md;
	char key[128], idx[128];

	if (parse_meta_ref(ref, key, sizeof(key), idx, sizeof(idx)))
		return kb_error_set(err, -EINVAL, TT ".trialParameters", 0,
				    "illegal reference of trial metadata "
				    "\"%s\"",
				    ref);
	md = cJSON_GetObjectItem(t, "metadata");
	if (!strcmp(key, "Name"))
		*out = trial;
	else if (!strcmp(key, "Namespace"))
		*out = ns;
	else if (!strcmp(key, "Kind"))
		*out = jstr(t, "kind");
	else if (!strcmp(key, "APIVersion"))
		*out = jstr(t, "apiVersion");
	else
		*out = jstr(cJSON_GetObjectItem(md, !strcmp(key, "Labels")
							    ? "labels"
							    : "annotations"),
			    idx);
	if (*out)
		return 0;
	return kb_error_set(err, -EINVAL, TT ".trialParameters", 0,
			    "%s: the trialSpec has no metadata.%s[%s]", ref,
			    !strcmp(key, "Labels") ? "labels" : "annotations",
			    idx);
}

/* JSON-escape v for insertion inside a JSON string (Katib does not
 * escape, so a `"` in a value would corrupt its manifest). */
static char *json_escaped(const char *v)
{
	cJSON *s = cJSON_CreateString(v);
	char *p = s ? cJSON_PrintUnformatted(s) : NULL;
	size_t l;

	cJSON_Delete(s);
	if (!p)
		return NULL;
	l = strlen(p);
	memmove(p, p + 1, l - 2);
	p[l - 2] = 0;
	return p;
}

static int substitute(const struct experiment_spec *s, const char *trial,
		      const char *ns, const struct assignment *as, size_t n,
		      char **text, struct kb_error *err)
{
	const struct trial_template_spec *t = &s->trial_template;
	size_t i, j, nonmeta = 0;
	char ph[300], *esc, *next;
	const char *v = NULL;
	int rc;

	for (i = 0; i < t->nparams; i++) {
		const char *ref = t->params[i].reference;

		if (is_meta_ref(ref)) {
			rc = meta_value(s, ref, trial, ns, &v, err);
			if (rc)
				return rc;
		} else {
			nonmeta++;
			for (j = 0; j < n && strcmp(as[j].name, ref); j++)
				;
			if (j == n)
				return kb_error_set(
					err, -EINVAL, TT ".trialParameters", 0,
					"no value assigned to \"%s\" (trial "
					"parameter %s)",
					ref, t->params[i].name);
			v = as[j].value;
		}
		snprintf(ph, sizeof(ph), PARAM_PREFIX "%s}", t->params[i].name);
		esc = json_escaped(v);
		next = esc ? replace_all(*text, ph, esc) : NULL;
		free(esc);
		if (!next)
			return -ENOMEM;
		free(*text);
		*text = next;
	}
	if (nonmeta != n)
		return kb_error_set(err, -EINVAL, TT ".trialParameters", 0,
				    "the assignment has %zu values but the "
				    "template takes %zu: every parameter "
				    "must be referenced by a trialParameter",
				    n, nonmeta);
	return 0;
}

static char *value_text(const cJSON *v)
{
	char num[64];

	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble == floor(v->valuedouble) &&
		    fabs(v->valuedouble) < 1e15)
			snprintf(num, sizeof(num), "%.0f", v->valuedouble);
		else
			snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		return strdup(num);
	}
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNull(v))
		return strdup("");
	return NULL;
}

static int push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	return 0;
}

static int add_args(struct trial_command *cmd, const cJSON *list,
		    const char *what, const char *cname, struct kb_error *err)
{
	const cJSON *it;
	char *s;
	int rc;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return kb_error_set(err, -EINVAL, TT ".trialSpec", 0,
				    "%s of container \"%s\" must be a list "
				    "of strings",
				    what, cname);
	cJSON_ArrayForEach(it, list)
	{
		s = value_text(it);
		if (!s || cJSON_IsNull(it)) {
			free(s);
			return kb_error_set(err, -EINVAL, TT ".trialSpec", 0,
					    "%s of container \"%s\" must be "
					    "a list of strings",
					    what, cname);
		}
		rc = push(&cmd->argv, &cmd->argc, s);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_env(struct trial_command *cmd, const cJSON *env,
		   const char *cname, struct kb_error *err)
{
	const cJSON *e;
	const char *name;
	char *v, *line;
	int rc;

	if (!env)
		return 0;
	if (!cJSON_IsArray(env))
		return kb_error_set(err, -EINVAL, TT ".trialSpec", 0,
				    "env of container \"%s\" must be a list "
				    "of {name, value}",
				    cname);
	cJSON_ArrayForEach(e, env)
	{
		name = jstr(e, "name");
		if (!name || !*name || strchr(name, '='))
			return kb_error_set(err, -EINVAL, TT ".trialSpec", 0,
					    "every env entry of container "
					    "\"%s\" needs a name without '='",
					    cname);
		if (cJSON_GetObjectItem(e, "valueFrom"))
			return kb_error_set(
				err, -EINVAL, TT ".trialSpec", 0,
				"env %s of container \"%s\" uses valueFrom, "
				"which the local backend cannot resolve (no "
				"cluster); give it a value",
				name, cname);
		v = cJSON_GetObjectItem(e, "value")
			    ? value_text(cJSON_GetObjectItem(e, "value"))
			    : strdup("");
		if (!v)
			return kb_error_set(err, -EINVAL, TT ".trialSpec", 0,
					    "env %s of container \"%s\": value "
					    "must be a string",
					    name, cname);
		rc = asprintf(&line, "%s=%s", name, v);
		free(v);
		if (rc < 0)
			return -ENOMEM;
		rc = push(&cmd->env, &cmd->nenv, line);
		if (rc)
			return rc;
	}
	return 0;
}

static int extract_command(const struct experiment_spec *s, cJSON *obj,
			   struct trial_command *cmd, struct kb_error *err)
{
	const char *cname = s->trial_template.primary_container_name;
	cJSON *c = primary_container(obj, cname);
	const char *wd;
	int rc;

	if (!c)
		return kb_error_set(err, -EINVAL, TT ".primaryContainerName", 0,
				    "no container named \"%s\" in the "
				    "rendered trial",
				    cname);
	if (!cJSON_GetObjectItem(c, "command"))
		return kb_error_set(
			err, -EINVAL, TT ".primaryContainerName", 0,
			"container \"%s\" has no command: the local backend "
			"needs the primary container's command (and args), "
			"because it cannot read the image's ENTRYPOINT",
			cname);
	rc = add_args(cmd, cJSON_GetObjectItem(c, "command"), "command", cname,
		      err);
	rc = rc ? rc
		: add_args(cmd, cJSON_GetObjectItem(c, "args"), "args", cname,
			   err);
	if (rc)
		return rc;
	if (!cmd->argc)
		return kb_error_set(err, -EINVAL, TT ".primaryContainerName", 0,
				    "container \"%s\" has an empty command",
				    cname);
	rc = add_env(cmd, cJSON_GetObjectItem(c, "env"), cname, err);
	if (rc)
		return rc;
	if (!cmd->env && !(cmd->env = calloc(1, sizeof(char *))))
		return -ENOMEM;
	wd = jstr(c, "workingDir");
	if (wd && *wd && !(cmd->working_dir = strdup(wd)))
		return -ENOMEM;
	return 0;
}

static int set_metadata(cJSON *obj, const char *trial, const char *ns)
{
	cJSON *md = cJSON_GetObjectItem(obj, "metadata");

	if (!cJSON_IsObject(md)) {
		cJSON_DeleteItemFromObject(obj, "metadata");
		md = cJSON_AddObjectToObject(obj, "metadata");
		if (!md)
			return -ENOMEM;
	}
	cJSON_DeleteItemFromObject(md, "name");
	cJSON_DeleteItemFromObject(md, "namespace");
	if (!cJSON_AddStringToObject(md, "name", trial))
		return -ENOMEM;
	if (ns && !cJSON_AddStringToObject(md, "namespace", ns))
		return -ENOMEM;
	return 0;
}

int spec_render_trial(const struct experiment_spec *spec,
		      const char *trial_name, const char *namespace,
		      const struct assignment *assignments, size_t n,
		      struct trial_command *out, struct kb_error *err)
{
	const char *ns = namespace ? namespace : spec->namespace;
	cJSON *obj = NULL;
	char *text = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!spec->trial_template.trial_spec)
		return kb_error_set(err, -ENOTSUP, TT ".configMap", 0,
				    "a trial template from a ConfigMap cannot "
				    "be rendered locally (there is no cluster "
				    "to read it from); put the trial object "
				    "in trialSpec");
	text = cJSON_PrintUnformatted(spec->trial_template.trial_spec);
	if (!text)
		return -ENOMEM;
	rc = substitute(spec, trial_name, ns ? ns : "default", assignments, n,
			&text, err);
	if (rc)
		goto out;
	obj = cJSON_Parse(text);
	rc = -ENOMEM;
	if (!obj)
		goto out;
	rc = set_metadata(obj, trial_name, ns);
	rc = rc ? rc : extract_command(spec, obj, out, err);
	if (rc)
		goto out;
	out->manifest = cJSON_Print(obj);
	rc = out->manifest ? 0 : -ENOMEM;
out:
	cJSON_Delete(obj);
	free(text);
	if (rc)
		trial_command_free(out);
	if (rc == -ENOMEM)
		kb_error_set(err, -ENOMEM, "", 0, "out of memory");
	return rc;
}
