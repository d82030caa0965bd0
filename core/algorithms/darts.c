/*
 * darts.c - DARTS (Katib's pass-through service: the search runs in the trial).
 *
 * Every trial gets the same three values, formatted as Katib's darts
 * service does (json.dumps, then every '"' replaced by "'"):
 *   algorithm-settings  the defaults below in their order, each overridden
 *                       (or, for an unknown name, appended) by the spec's
 *                       setting as a string; "None" becomes null
 *   search-space        ["skip_connection", "<op>_<k>x<k>", ...]: k over
 *                       the list of each operation's first parameter; an
 *                       operation without parameters is its own name
 *   num-layers          nasConfig.graphConfig.numLayers
 * Like Katib, each request of n trials gets n identical assignments; the
 * algorithm never runs out (maxTrialCount ends the experiment).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "algorithms/pyliteral.h"
#include "util/strbuf.h"

/* Unknown names are passed through to the trial, as Katib does. */
static const struct setting_rule darts_rules[] = {
	{ "num_epochs", SETTING_INT, 1, INFINITY, 0, NULL },
	{ "w_lr", SETTING_DOUBLE, 0, INFINITY, 0, NULL },
	{ "w_lr_min", SETTING_DOUBLE, 0, INFINITY, 0, NULL },
	{ "w_momentum", SETTING_DOUBLE, 0, INFINITY, 0, NULL },
	{ "w_weight_decay", SETTING_DOUBLE, 0, INFINITY, 0, NULL },
	{ "w_grad_clip", SETTING_DOUBLE, 0, INFINITY, 0, NULL },
	{ "alpha_lr", SETTING_DOUBLE, 0, INFINITY, 0, NULL },
	{ "alpha_weight_decay", SETTING_DOUBLE, 0, INFINITY, 0, NULL },
	{ "batch_size", SETTING_INT, 1, INFINITY, SETTING_NONE_OK, NULL },
	{ "num_workers", SETTING_INT, 0, INFINITY, 0, NULL },
	{ "init_channels", SETTING_INT, 1, INFINITY, 0, NULL },
	{ "print_step", SETTING_INT, 1, INFINITY, 0, NULL },
	{ "num_nodes", SETTING_INT, 1, INFINITY, 0, NULL },
	{ "stem_multiplier", SETTING_INT, 1, INFINITY, 0, NULL },
	{ .name = NULL },
};

/* Katib's defaults as Python's json.dumps prints them. */
static const char *const darts_defaults[][2] = {
	{ "num_epochs", "50" },		{ "w_lr", "0.025" },
	{ "w_lr_min", "0.001" },	{ "w_momentum", "0.9" },
	{ "w_weight_decay", "0.0003" }, { "w_grad_clip", "5.0" },
	{ "alpha_lr", "0.0003" },	{ "alpha_weight_decay", "0.001" },
	{ "batch_size", "128" },	{ "num_workers", "4" },
	{ "init_channels", "16" },	{ "print_step", "50" },
	{ "num_nodes", "4" },		{ "stem_multiplier", "3" },
};

#define NDEFAULTS (sizeof(darts_defaults) / sizeof(darts_defaults[0]))

static const char *const darts_names[] = { "algorithm-settings", "search-space",
					   "num-layers" };

struct darts_priv {
	char *values[3];
};

/* ---- the three values ---- */

static int is_default(const char *name)
{
	size_t i;

	for (i = 0; i < NDEFAULTS; i++)
		if (!strcmp(darts_defaults[i][0], name))
			return 1;
	return 0;
}

/* One "'key': value" pair: the spec's setting (a string, or null for
 * "None") when present, else `def` verbatim. */
static void settings_pair(struct strbuf *b, const struct algorithm_spec *a,
			  const char *name, const char *def)
{
	const struct algorithm_setting *s = setting_find(a, name);

	py_quoted(b, name);
	strbuf_puts(b, ": ");
	if (!s)
		strbuf_puts(b, def);
	else if (s->value && !strcmp(s->value, "None"))
		strbuf_puts(b, "null");
	else
		py_quoted(b, s->value ? s->value : "");
}

/* Appended names in first-appearance order (a dict keeps the first
 * insertion's position). */
static int appended_before(const struct algorithm_spec *a, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (a->settings[j].name &&
		    !strcmp(a->settings[j].name, a->settings[i].name))
			return 1;
	return 0;
}

static char *darts_settings(const struct algorithm_spec *a)
{
	struct strbuf b = { 0 };
	size_t i;

	strbuf_puts(&b, "{");
	for (i = 0; i < NDEFAULTS; i++) {
		if (i)
			strbuf_puts(&b, ", ");
		settings_pair(&b, a, darts_defaults[i][0],
			      darts_defaults[i][1]);
	}
	for (i = 0; i < a->nsettings; i++) {
		const char *name = a->settings[i].name;

		if (!name || is_default(name) || appended_before(a, i))
			continue;
		strbuf_puts(&b, ", ");
		settings_pair(&b, a, name, "null");
	}
	strbuf_puts(&b, "}");
	return strbuf_finish(&b, NULL);
}

/* A list item of an operation parameter as text. */
static const char *item_text(const cJSON *it, char *buf, size_t size)
{
	if (cJSON_IsString(it))
		return it->valuestring;
	if (cJSON_IsNumber(it)) {
		snprintf(buf, size, "%.17g", it->valuedouble);
		return buf;
	}
	return "";
}

static void space_op(struct strbuf *b, const cJSON *op, int *first)
{
	const cJSON *type, *p0, *list, *it;
	char name[512], num[64];
	const char *k;

	type = cJSON_GetObjectItemCaseSensitive(op, "operationType");
	if (!cJSON_IsString(type))
		return;
	/* Katib names skip_connection alone; an operation without
	 * parameters (Katib's darts-gpu example has one) is itself too */
	if (!strcmp(type->valuestring, "skip_connection") ||
	    !cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(op, "parameters"))) {
		strbuf_puts(b, *first ? "" : ", ");
		py_quoted(b, type->valuestring);
		*first = 0;
		return;
	}
	p0 = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(op, "parameters"), 0);
	list = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p0, "feasibleSpace"), "list");
	cJSON_ArrayForEach(it, list)
	{
		k = item_text(it, num, sizeof(num));
		snprintf(name, sizeof(name), "%s_%sx%s", type->valuestring, k,
			 k);
		strbuf_puts(b, *first ? "" : ", ");
		py_quoted(b, name);
		*first = 0;
	}
}

static char *darts_search_space(const cJSON *nas)
{
	const cJSON *op;
	struct strbuf b = { 0 };
	int first = 1;

	strbuf_puts(&b, "[");
	cJSON_ArrayForEach(op,
			   cJSON_GetObjectItemCaseSensitive(nas, "operations"))
		space_op(&b, op, &first);
	strbuf_puts(&b, "]");
	return strbuf_finish(&b, NULL);
}

static char *darts_num_layers(const cJSON *nas)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(nas, "graphConfig"),
		"numLayers");
	char *s;

	if (cJSON_IsString(n))
		return strdup(n->valuestring);
	if (asprintf(&s, "%d", cJSON_IsNumber(n) ? n->valueint : 0) < 0)
		return NULL;
	return s;
}

/* ---- algorithm_ops ---- */

static int darts_validate(const struct experiment_spec *spec,
			  struct kb_error *err)
{
	int rc = settings_validate(&spec->algorithm, darts_rules, 1, err);

	return rc ? rc : nas_config_validate(spec, 0, err);
}

static void darts_destroy(void *priv)
{
	struct darts_priv *p = priv;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < 3; i++)
		free(p->values[i]);
	free(p);
}

static int darts_create(const struct experiment_spec *spec, const char *state,
			void **priv, struct kb_error *err)
{
	struct darts_priv *p = calloc(1, sizeof(*p));

	(void)state;
	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	if (!spec->nas_config) {
		free(p);
		return kb_error_set(err, -EINVAL, "spec.nasConfig", 0,
				    "required by algorithm 'darts'");
	}
	p->values[0] = darts_settings(&spec->algorithm);
	p->values[1] = darts_search_space(spec->nas_config);
	p->values[2] = darts_num_layers(spec->nas_config);
	if (!p->values[0] || !p->values[1] || !p->values[2]) {
		darts_destroy(p);
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	}
	*priv = p;
	return 0;
}

static char **darts_assignment(const struct darts_priv *p)
{
	char **v = calloc(3, sizeof(*v));
	size_t i;

	for (i = 0; v && i < 3; i++) {
		v[i] = strdup(p->values[i]);
		if (!v[i]) {
			assignment_values_free(v, 3);
			return NULL;
		}
	}
	return v;
}

static int darts_suggest(void *priv, const struct experiment_spec *spec,
			 const struct search_history *history, size_t want,
			 char ***out, struct kb_error *err)
{
	size_t n;

	(void)spec;
	(void)history;
	for (n = 0; n < want; n++) {
		out[n] = darts_assignment(priv);
		if (!out[n]) {
			while (n)
				assignment_values_free(out[--n], 3);
			return kb_error_set(err, -ENOMEM, NULL, 0,
					    "out of memory");
		}
	}
	return (int)n;
}

static char *darts_save(void *priv)
{
	(void)priv;
	return NULL; /* stateless: the values follow from the spec */
}

static size_t darts_assignment_names(void *priv,
				     const struct experiment_spec *spec,
				     const char **names, size_t max)
{
	size_t i;

	(void)priv;
	(void)spec;
	for (i = 0; i < 3 && i < max; i++)
		names[i] = darts_names[i];
	return i;
}

const struct algorithm_ops algorithm_darts = {
	.name = "darts",
	.implemented = 1,
	.validate = darts_validate,
	.create = darts_create,
	.suggest = darts_suggest,
	.save = darts_save,
	.destroy = darts_destroy,
	.assignment_names = darts_assignment_names,
	.foreign_refused = "darts runs one supernet search per trial; there is "
			   "no assignment to queue",
};
