/*
 * spec_parse.c - the Katib v1beta1 Experiment read from YAML: parse
 * (libyaml, via yamltree) into struct experiment_spec, default it
 * (experiment_defaults.go) and validate it (the admission webhook plus the
 * checks Katib forgets). See include/katib/spec.h.
 *
 * Owns spec_parse() (every allocation in the spec is made here or in the
 * spec_*.c files it calls, and freed by spec_free(), spec.c), the
 * parameters, objective, algorithm, metrics collector, nasConfig and
 * metadata sections, and the field helpers the other spec_*.c files share
 * through spec_i.h. The trialTemplate section is spec_template.c's; the
 * enum names, the accessors and freeing are spec.c's.
 */
#include "spec_i.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "collectors/metrics.h"
#include "spec/suggest.h"
#include "spec/yamltree.h"

#define DEFAULT_FILE_PATH    "/var/log/katib/metrics.log"
#define DEFAULT_TFEVENT_PATH "/var/log/katib/tfevent/"
#define DEFAULT_PROM_PATH    "/metrics"
#define DEFAULT_PROM_PORT    8080

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

/* The enum field path.key whose value is v (NULL when absent): *out = its
 * index in list. Absent, it is the error "is required: <choices>" at map
 * when choices are given, else 0 with *out as it was. */
static int enum_field(const struct ynode *v, const struct ynode *map,
		      const char *path, const char *key,
		      const char *const *list, const char *choices, int *out,
		      struct kb_error *err)
{
	char sub[PATHLEN];
	int i;

	join(sub, path, key);
	if (!v)
		return choices ? fail(err, sub, map, "is required: %s", choices)
			       : 0;
	i = enum_value(v, sub, list, err);
	if (i < 0)
		return -EINVAL;
	*out = i;
	return 0;
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
			return fail(
				err, path, n,
				"must be an integer, e.g. \"3\" (got \"%s\")",
				text);
		*out = (double)l;
		return 0;
	}
	if (parse_double(text, out))
		return fail(err, path, n,
			    "must be a number, e.g. \"0.01\" (got \"%s\")",
			    text);
	return 0;
}

static int check_range(struct param_spec *p, const struct ynode *fs,
		       const char *path, struct kb_error *err)
{
	int integer = p->type == PARAM_INT;
	char sub[PATHLEN];
	int rc;

	if (p->nlist)
		return fail_key(err, path, "list", ynode_get(fs, "list"),
				"is only for categorical and discrete "
				"parameters; %s parameters take min and max",
				param_type_name(p->type));
	if (!p->min || !p->max)
		return fail_key(err, path, p->min ? "max" : "min", fs,
				"is required for %s parameters",
				param_type_name(p->type));
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
	if (p->min_value > p->max_value)
		return fail_key(err, path, "min", ynode_get(fs, "min"),
				"must not exceed max (%s > %s)", p->min,
				p->max);
	if ((p->distribution == DIST_LOG_UNIFORM ||
	     p->distribution == DIST_LOG_NORMAL) &&
	    p->min_value <= 0)
		return fail_key(err, path, "min", ynode_get(fs, "min"),
				"must be greater than 0 for the %s "
				"distribution (it samples the logarithm)",
				distribution_name(p->distribution));
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

	for (i = 0; bounds[i]; i++)
		if (vals[i])
			return fail_key(err, path, bounds[i],
					ynode_get(fs, bounds[i]),
					"is not allowed for %s parameters; "
					"give the values in list",
					param_type_name(p->type));
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
	int rc, v = DIST_UNIFORM;

	rc = need_map(fs, path, err);
	rc = rc ? rc : check_fields(fs, path, space_fields, err);
	rc = rc ? rc : get_str(fs, "min", path, 0, &p->min, err);
	rc = rc ? rc : get_str(fs, "max", path, 0, &p->max, err);
	rc = rc ? rc : get_str(fs, "step", path, 0, &p->step, err);
	rc = rc ? rc : get_str_list(fs, "list", path, &p->list, &p->nlist, err);
	rc = rc ? rc : get_scalar(fs, "distribution", path, &d, err);
	rc = rc ? rc
		: enum_field(d, fs, path, "distribution", distribution_names,
			     NULL, &v, err);
	if (rc)
		return rc;
	p->distribution = v;
	if (p->type == PARAM_INT || p->type == PARAM_DOUBLE)
		return check_range(p, fs, path, err);
	return check_list(p, fs, path, err);
}

static int parse_param(struct param_spec *p, const struct ynode *n,
		       const char *path, struct kb_error *err)
{
	const struct ynode *t, *fs;
	char sub[PATHLEN];
	int rc, v = 0;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, param_fields, err);
	rc = rc ? rc : get_str(n, "name", path, 1, &p->name, err);
	rc = rc ? rc : get_scalar(n, "parameterType", path, &t, err);
	rc = rc ? rc
		: enum_field(t, n, path, "parameterType", param_type_names,
			     "one of int, double, categorical, discrete", &v,
			     err);
	if (rc)
		return rc;
	p->type = v;
	fs = ynode_get(n, "feasibleSpace");
	if (ynode_is_null(fs))
		return fail_key(err, path, "feasibleSpace", n,
				"is required (min/max or list)");
	join(sub, path, "feasibleSpace");
	return parse_space(p, fs, sub, err);
}

static int parse_params(struct param_spec **out, size_t *nout,
			const struct ynode *l, const char *path,
			struct kb_error *err)
{
	char sub[PATHLEN];
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
		for (j = 0; j < i; j++)
			if (!strcmp((*out)[i].name, (*out)[j].name))
				return fail_key(err, sub, "name",
						ynode_get(l->items[i], "name"),
						"\"%s\" is already the name of "
						"%s[%zu]; parameter names must "
						"be unique",
						(*out)[i].name, path, j);
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
		if (!n || strcmp(n->value, name))
			continue;
		if (!in_list(v->value, strategy_names))
			return -1;
		if (!strcmp(v->value, "min"))
			return 0;
		return !strcmp(v->value, "max") ? 1 : 2;
	}
	return -1;
}

static int check_strategies(const struct ynode *l, const char *path,
			    struct kb_error *err)
{
	static const char *const fields[] = { "name", "value", NULL };
	const struct ynode *n, *v, *o;
	char sub[PATHLEN];
	size_t i, j;
	int rc = need_seq(l, path, err), ignored;

	for (i = 0; !rc && i < l->n; i++) {
		join_index(sub, path, i);
		rc = need_map(l->items[i], sub, err);
		rc = rc ? rc : check_fields(l->items[i], sub, fields, err);
		rc = rc ? rc : get_scalar(l->items[i], "name", sub, &n, err);
		rc = rc ? rc : get_scalar(l->items[i], "value", sub, &v, err);
		if (rc)
			return rc;
		if (!n || !n->value[0])
			return fail_key(err, sub, "name", l->items[i],
					"is required");
		rc = enum_field(v, l->items[i], sub, "value", strategy_names,
				"one of min, max, latest", &ignored, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++) {
			o = ynode_get(l->items[j], "name");
			if (!strcmp(o->value, n->value))
				return fail_key(err, sub, "name", n,
						"\"%s\" has a strategy already",
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

/*
 * A further objective (katibfs/objectives, parsed before the body) that
 * metricStrategies does not name counts its best observation by its own
 * direction, as the first objective does (Katib's defaulter would give it
 * the first objective's rule, being one additional metric to Katib).
 */
static void objectives_strategies(struct experiment_spec *s,
				  const struct ynode *l)
{
	struct objective_spec *o = &s->objective;
	size_t i, j;

	if (ynode_is_null(l))
		l = NULL;
	for (i = 0; i < s->nobjectives; i++) {
		if (user_strategy(l, s->objectives[i].metric) >= 0)
			continue;
		for (j = 0; j < o->nstrategies; j++)
			if (!strcmp(o->strategies[j].name,
				    s->objectives[i].metric))
				o->strategies[j].value =
					s->objectives[i].maximize
						? STRATEGY_MAX
						: STRATEGY_MIN;
	}
}

static int parse_objective(struct objective_spec *o, const struct ynode *n,
			   const char *path, struct kb_error *err)
{
	static const char *const types[] = { "minimize", "maximize", NULL };
	const struct ynode *t, *g, *l;
	char sub[PATHLEN];
	size_t i, j;
	int rc, v = 0;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, objective_fields, err);
	rc = rc ? rc : get_scalar(n, "type", path, &t, err);
	rc = rc ? rc : get_scalar(n, "goal", path, &g, err);
	rc = rc ? rc
		: get_str(n, "objectiveMetricName", path, 1, &o->metric, err);
	rc = rc ? rc
		: get_str_list(n, "additionalMetricNames", path, &o->additional,
			       &o->nadditional, err);
	rc = rc ? rc
		: enum_field(t, n, path, "type", types,
			     "one of minimize, maximize", &v, err);
	if (rc)
		return rc;
	o->maximize = v;
	if (g) {
		join(sub, path, "goal");
		if (g->quoted)
			return fail_quoted(err, sub, g, "a number");
		if (parse_double(g->value, &o->goal))
			return fail(err, sub, g,
				    "must be a number, e.g. 0.99 (got \"%s\")",
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
				    "must not repeat the objectiveMetricName "
				    "\"%s\"",
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
	static const char *const kinds[] = { "File", "Directory", NULL };
	static const char *const formats[] = { "TEXT", "JSON", NULL };
	const struct ynode *k, *f;
	int rc, kind = -1, format = -1;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	rc = rc ? rc : get_str(n, "path", path, 0, &c->path, err);
	rc = rc ? rc : get_scalar(n, "kind", path, &k, err);
	rc = rc ? rc : get_scalar(n, "format", path, &f, err);
	rc = rc ? rc : enum_field(k, n, path, "kind", kinds, NULL, &kind, err);
	/* an empty format is none */
	rc = rc ? rc
		: enum_field(f && f->value[0] ? f : NULL, n, path, "format",
			     formats, NULL, &format, err);
	if (rc)
		return rc;
	if (kind >= 0)
		c->path_kind = kind ? PATH_KIND_DIRECTORY : PATH_KIND_FILE;
	if (format >= 0) {
		c->format = format;
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

/* Katib's fileSystemPath for a collector that left it out: its path and
 * its kind, each if not given. -ENOMEM or 0. */
static int path_defaults(struct collector_spec *c, const char *def_path,
			 enum fs_path_kind kind)
{
	if (!c->path && !(c->path = strdup(def_path)))
		return -ENOMEM;
	if (c->path_kind == PATH_KIND_NONE)
		c->path_kind = kind;
	return 0;
}

/* The File collector's defaults (the path, kind File, a format) and
 * rules; src is the collector's source, path the collector's path. */
static int file_rules(struct collector_spec *c, const struct ynode *src,
		      const char *path, struct kb_error *err)
{
	const struct ynode *fs = ynode_get(src, "fileSystemPath"),
			   *f = ynode_get(src, "filter");
	char fsp[PATHLEN], sub[PATHLEN];

	if (path_defaults(c, DEFAULT_FILE_PATH, PATH_KIND_FILE))
		return -ENOMEM;
	c->has_format = 1;
	snprintf(fsp, sizeof(fsp), "%s.source.fileSystemPath", path);
	if (c->path_kind != PATH_KIND_FILE)
		return fail_key(err, fsp, "kind", fs,
				"must be File for the File collector");
	/* Katib: any filter, even an empty one, is refused */
	if (c->format != FORMAT_JSON || ynode_is_null(f))
		return 0;
	snprintf(sub, sizeof(sub), "%s.source.filter", path);
	return fail(err, sub, f,
		    "filter must be nil when format of metrics "
		    "file is json (Katib's words): leave filter "
		    "out, JSON lines name their metrics");
}

/* The TensorFlowEvent collector's defaults (the path, kind Directory)
 * and rules (no format, no filter), as file_rules(). */
static int tfevent_rules(struct collector_spec *c, const struct ynode *src,
			 const char *path, struct kb_error *err)
{
	const struct ynode *fs = ynode_get(src, "fileSystemPath"),
			   *f = ynode_get(src, "filter");
	char fsp[PATHLEN], sub[PATHLEN];

	if (path_defaults(c, DEFAULT_TFEVENT_PATH, PATH_KIND_DIRECTORY))
		return -ENOMEM;
	snprintf(fsp, sizeof(fsp), "%s.source.fileSystemPath", path);
	if (c->path_kind != PATH_KIND_DIRECTORY)
		return fail_key(err, fsp, "kind", fs,
				"must be Directory for the "
				"TensorFlowEvent collector");
	if (c->has_format)
		return fail_key(err, fsp, "format", ynode_get(fs, "format"),
				"must be empty for the TensorFlowEvent "
				"collector");
	if (!c->nmetrics_format)
		return 0;
	snprintf(sub, sizeof(sub), "%s.source.filter", path);
	return fail(err, sub, f,
		    "is not used by the TensorFlowEvent collector");
}

/* Katib's defaulter and validator for each collector kind. */
static int collector_rules(struct collector_spec *c, const struct ynode *src,
			   const char *path, struct kb_error *err)
{
	const struct ynode *fs = ynode_get(src, "fileSystemPath"),
			   *h = ynode_get(src, "httpGet");
	char fsp[PATHLEN], hp[PATHLEN];
	int rc = 0;

	snprintf(fsp, sizeof(fsp), "%s.source.fileSystemPath", path);
	snprintf(hp, sizeof(hp), "%s.source.httpGet", path);
	if (c->kind != COLLECTOR_PROMETHEUS)
		rc = forbid(h, hp,
			    "is only used by the PrometheusMetric collector",
			    err);
	if (rc)
		return rc;
	switch (c->kind) {
	case COLLECTOR_STDOUT:
	case COLLECTOR_PUSH:
	case COLLECTOR_NONE:
	case COLLECTOR_PROMETHEUS:
		rc = forbid(fs, fsp,
			    c->kind == COLLECTOR_STDOUT
				    ? "is not used by the StdOut collector (it "
				      "reads the trial's output); use kind: "
				      "File to read a file"
				    : "is not used by this collector kind",
			    err);
		break;
	case COLLECTOR_FILE:
		rc = file_rules(c, src, path, err);
		if (rc)
			return rc;
		break;
	case COLLECTOR_TFEVENT:
		rc = tfevent_rules(c, src, path, err);
		if (rc)
			return rc;
		break;
	case COLLECTOR_CUSTOM:
		if (c->path && c->path_kind == PATH_KIND_NONE)
			return fail_key(err, fsp, "kind", fs,
					"is required: File or Directory");
		break;
	}
	if (c->path && !is_abs(c->path))
		return fail_key(err, fsp, "path", ynode_get(fs, "path"),
				"must be an absolute path (got \"%s\")",
				c->path);
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
	const struct ynode *col = NULL, *src = NULL, *k, *cc;
	char sub[PATHLEN];
	int rc, v = 0;

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
		rc = rc ? rc
			: enum_field(k, col, sub, "kind", collector_names,
				     "one of StdOut, File, TensorFlowEvent, "
				     "PrometheusMetric, Custom, Push",
				     &v, err);
		if (rc)
			return rc;
		c->kind = (enum collector_kind)v;
		cc = ynode_get(col, "customCollector");
		snprintf(sub, sizeof(sub), "%s.collector.customCollector",
			 path);
		if (!ynode_is_null(cc)) {
			if (c->kind != COLLECTOR_CUSTOM)
				return fail(err, sub, cc,
					    "is only for kind: Custom");
			rc = need_map(cc, sub, err);
			if (rc)
				return rc;
			c->custom_collector = ynode_to_json(cc);
			if (!c->custom_collector)
				return -ENOMEM;
		} else if (c->kind == COLLECTOR_CUSTOM) {
			return fail(err, sub, col,
				    "is required for kind: Custom");
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
	cJSON *g;
	int rc, v, present;

	rc = need_map(n, path, err);
	rc = rc ? rc : check_fields(n, path, fields, err);
	rc = rc ? rc : get_int(n, "numLayers", path, &v, &present, err);
	if (rc)
		return rc;
	if (!present || v <= 0)
		return fail_key(err, path, "numLayers",
				ynode_get(n, "numLayers") ?: n,
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
	/* an operation may have no parameters (DARTS's skip_connection);
	 * enas requires them (nas_config_validate()) */
	l = ynode_get(n, "parameters");
	join(sub, path, "parameters");
	if (!ynode_is_null(l) && !(l->kind == YNODE_SEQ && !l->n))
		rc = parse_params(&ps, &np, l, sub, err);
	if (rc)
		goto out;
	rc = -ENOMEM;
	op = cJSON_CreateObject();
	if (!op)
		goto out;
	cJSON_AddItemToArray(ops, op);
	cJSON_AddStringToObject(op, "operationType", type);
	arr = np ? cJSON_AddArrayToObject(op, "parameters") : NULL;
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
	if (ynode_is_null(g))
		return fail_key(err, path, "graphConfig", n,
				"is required (numLayers; enas also needs "
				"inputSizes and outputSizes)");
	join(sub, path, "graphConfig");
	rc = parse_graph(g, sub, s->nas_config, err);
	if (rc)
		return rc;
	ops = ynode_get(n, "operations");
	join(sub, path, "operations");
	if (ynode_is_null(ops) || (ops->kind == YNODE_SEQ && !ops->n))
		return fail(err, sub, ops ?: n,
			    "must list at least one operation");
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
	int has_p, has_m, has_f, rc = 0;
	const struct {
		const char *key;
		int *value, *present, absent;
	} counts[] = {
		{ "parallelTrialCount", &s->parallel_trial_count, &has_p, 3 },
		{ "maxTrialCount", &s->max_trial_count, &has_m, -1 },
		{ "maxFailedTrialCount", &s->max_failed_trial_count, &has_f,
		  -1 },
	};
	size_t i;

	for (i = 0; !rc && i < sizeof(counts) / sizeof(counts[0]); i++) {
		rc = get_int(n, counts[i].key, "spec", counts[i].value,
			     counts[i].present, err);
		if (!*counts[i].present)
			*counts[i].value = counts[i].absent;
	}
	if (rc)
		return rc;
	if (has_m && s->max_trial_count <= 0)
		return fail(err, "spec.maxTrialCount", mn,
			    "must be greater than 0 (or left out to run until "
			    "the goal)");
	if (has_p && s->parallel_trial_count <= 0)
		return fail(err, "spec.parallelTrialCount", pn,
			    "must be greater than 0");
	if (has_f && s->max_failed_trial_count < 0)
		return fail(err, "spec.maxFailedTrialCount", fn,
			    "must be 0 or more");
	if (has_m && has_f && s->max_failed_trial_count > s->max_trial_count)
		return fail(err, "spec.maxFailedTrialCount", fn,
			    "must not exceed maxTrialCount (%d)",
			    s->max_trial_count);
	if (has_m && s->parallel_trial_count > s->max_trial_count)
		return fail(err, "spec.parallelTrialCount", pn ?: n,
			    "must not exceed maxTrialCount (%d)%s",
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
			    "set either parameters (hyperparameter tuning) or "
			    "nasConfig (architecture search), not both");
	if (!has_p && !has_nas)
		return fail(
			err, "spec.parameters", n,
			"is required (or nasConfig for architecture search)");
	if (has_nas)
		return parse_nas(s, nas, "spec.nasConfig", err);
	return parse_params(&s->params, &s->nparams, p, "spec.parameters", err);
}

static int parse_body(struct experiment_spec *s, const struct ynode *n,
		      const struct template_source *src, struct kb_error *err)
{
	const struct ynode *o, *a, *es, *rp = NULL, *tt;
	int rc, v = (int)s->resume_policy;

	rc = need_map(n, "spec", err);
	rc = rc ? rc : check_fields(n, "spec", spec_fields, err);
	rc = rc ? rc : parse_search_space(s, n, err);
	if (rc)
		return rc;
	o = ynode_get(n, "objective");
	if (ynode_is_null(o))
		return fail(err, "spec.objective", n,
			    "is required (type and objectiveMetricName)");
	rc = parse_objective(&s->objective, o, "spec.objective", err);
	if (rc)
		return rc;
	objectives_strategies(s, ynode_get(o, "metricStrategies"));
	a = ynode_get(n, "algorithm");
	if (ynode_is_null(a))
		return fail(
			err, "spec.algorithm", n,
			"is required, e.g. algorithm: {algorithmName: random}");
	rc = parse_algorithm(&s->algorithm, a, "spec.algorithm", err);
	es = ynode_get(n, "earlyStopping");
	if (!rc && !ynode_is_null(es)) {
		s->has_early_stopping = 1;
		rc = parse_algorithm(&s->early_stopping, es,
				     "spec.earlyStopping", err);
	}
	rc = rc ? rc : parse_counts(s, n, err);
	rc = rc ? rc : get_scalar(n, "resumePolicy", "spec", &rp, err);
	/* an empty resumePolicy is the default */
	rc = rc ? rc
		: enum_field(rp && rp->value[0] ? rp : NULL, n, "spec",
			     "resumePolicy", resume_names, NULL, &v, err);
	if (rc)
		return rc;
	s->resume_policy = v;
	rc = parse_collector(&s->collector,
			     ynode_get(n, "metricsCollectorSpec"),
			     "spec.metricsCollectorSpec", err);
	if (rc)
		return rc;
	tt = ynode_get(n, "trialTemplate");
	if (ynode_is_null(tt))
		return fail(err, "spec.trialTemplate", n,
			    "is required: the trial to run for each set of "
			    "parameters");
	rc = parse_template(s, tt, "spec.trialTemplate", src, err);
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
		rc = annotations_parse(s, l, err);
	return rc;
}

static int parse_object(struct experiment_spec *s, const struct ynode *root,
			const struct template_source *src, struct kb_error *err)
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
	return parse_body(s, body, src, err);
}

static int is_whole_object(const struct ynode *root)
{
	return ynode_get(root, "kind") || ynode_get(root, "spec") ||
	       ynode_get(root, "apiVersion") || ynode_get(root, "metadata");
}

static int external_checks(const struct experiment_spec *s,
			   struct kb_error *err)
{
	int rc = annotations_check(s, err);

	rc = rc ? rc : algorithm_validate(s, err);
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
	return spec_parse_with(text, len, name, NULL, out, err);
}

int spec_parse_with(const char *text, size_t len, const char *name,
		    const struct template_source *src,
		    struct experiment_spec **out, struct kb_error *err)
{
	struct experiment_spec *s = NULL;
	struct ynode *root = NULL;
	size_t i;
	int rc;

	*out = NULL;
	kb_error_clear(err);
	if (len > SPEC_MAX_BYTES)
		return kb_error_set(err, -EFBIG, "", 0,
				    "the spec is %zu bytes; the limit is %d",
				    len, SPEC_MAX_BYTES);
	if (name && (rc = spec_validate_name(name, err)))
		return rc;
	rc = ytree_parse(text, len, SPEC_MAX_YAML_NODES, &root, err);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->warnings = calloc(1, sizeof(*s->warnings)))) {
		rc = -ENOMEM;
		goto out;
	}
	if (root->kind != YNODE_MAP)
		rc = fail(err, "", root,
			  "the spec must be a mapping: a whole Experiment "
			  "(apiVersion, kind, metadata, spec) or the body of "
			  "its spec");
	else if (is_whole_object(root))
		rc = parse_object(s, root, src, err);
	else
		rc = parse_body(s, root, src, err);
	if (!rc && !name && s->name)
		rc = spec_validate_name(s->name, err);
	rc = rc ? rc : external_checks(s, err);
	if (rc)
		locate_error(root, err);
	for (i = 0; !rc && i < s->warnings->n; i++)
		locate_error(root, &s->warnings->items[i]);
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
