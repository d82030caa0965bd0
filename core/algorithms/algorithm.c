/*
 * algorithm.c - the table of search algorithms Katib knows, spec-time
 * validation of spec.algorithm and spec.earlyStopping, and the nasConfig
 * checks shared by ENAS and DARTS.
 *
 * Owns nothing: the tables are static; each algorithm's state is its own
 * file's.
 */
#include "katib/algorithm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/suggest.h"

extern const struct algorithm_ops algorithm_random, algorithm_grid,
	algorithm_tpe, algorithm_multivariate_tpe, algorithm_cmaes,
	algorithm_sobol, algorithm_bayesianoptimization, algorithm_hyperband,
	algorithm_pbt, algorithm_enas, algorithm_darts;

static const struct algorithm_ops *const table[] = {
	&algorithm_random,
	&algorithm_grid,
	&algorithm_tpe,
	&algorithm_multivariate_tpe,
	&algorithm_cmaes,
	&algorithm_sobol,
	&algorithm_bayesianoptimization,
	&algorithm_hyperband,
	&algorithm_pbt,
	&algorithm_enas,
	&algorithm_darts,
};

#define NALGORITHMS (sizeof(table) / sizeof(table[0]))

const struct algorithm_ops *algorithm_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < NALGORITHMS; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}

static void known_names(char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NALGORITHMS && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
			      table[i]->name);
}

/* "random, grid, ...": the algorithms that take several objectives. */
static const char *multi_objective_names(char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NALGORITHMS && n < size; i++)
		if (table[i]->multi_objective)
			n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
				      table[i]->name);
	return buf;
}

int algorithm_validate(const struct experiment_spec *spec, struct kb_error *err)
{
	const struct algorithm_ops *ops;
	char names[256], hint[100];
	struct suggest sg;
	size_t i;

	if (!spec->algorithm.name || !*spec->algorithm.name)
		return kb_error_set(err, -EINVAL,
				    "spec.algorithm.algorithmName", 0,
				    "required");
	ops = algorithm_find(spec->algorithm.name);
	if (spec->nsuggestion_command) /* an algorithm of one's own */
		return ops ? kb_error_set(
				     err, -EINVAL,
				     "metadata."
				     "annotations"
				     "[" SUGGESTION_COMMAND_ANNOTATION "]",
				     0,
				     "is for an algorithmName katibfs does not "
				     "know, and '%s' is built in: name your "
				     "algorithm otherwise (e.g. my-search), or "
				     "remove the annotation",
				     spec->algorithm.name)
			   : 0;
	if (!ops) {
		known_names(names, sizeof(names));
		suggest_init(&sg, spec->algorithm.name);
		for (i = 0; i < NALGORITHMS; i++)
			suggest_offer(&sg, table[i]->name);
		return kb_error_set(err, -EINVAL,
				    "spec.algorithm.algorithmName", 0,
				    "unknown algorithm '%s'; known: %s%s",
				    spec->algorithm.name, names,
				    suggest_hint(&sg, hint, sizeof(hint)));
	}
	if (spec_objective_count(spec) > 1 && !ops->multi_objective)
		return kb_error_set(
			err, -EINVAL, "spec.algorithm.algorithmName", 0,
			"%s optimizes a single objective; with "
			"metadata.annotations[" OBJECTIVES_ANNOTATION "] use "
			"one that optimizes several: %s",
			ops->name, multi_objective_names(names, sizeof(names)));
	return ops->validate ? ops->validate(spec, err) : 0;
}

/* ---- early stopping ---- */

/* A medianstop integer setting (both must be >= 1). */
static int es_int(const struct algorithm_setting *s, struct kb_error *err)
{
	char field[256];

	if (!setting_int(s, 1, INT_MAX, NULL, NULL))
		return 0;
	snprintf(field, sizeof(field),
		 "spec.earlyStopping.algorithmSettings[%s]", s->name);
	return kb_error_set(err, -EINVAL, field, 0,
			    "must be an integer >= 1, got '%s'",
			    s->value ? s->value : "");
}

int early_stopping_validate(const struct experiment_spec *spec,
			    struct kb_error *err)
{
	static const char *const es_names[] = { "medianstop", NULL };
	static const char *const es_settings[] = { "min_trials_required",
						   "start_step", NULL };
	char hint[100];
	const struct algorithm_spec *es = &spec->early_stopping;
	const struct algorithm_setting *s;
	size_t i;
	int rc;

	if (!spec->has_early_stopping)
		return 0;
	if (spec_objective_count(spec) > 1)
		return kb_error_set(
			err, -EINVAL, "spec.earlyStopping.algorithmName", 0,
			"%s stops trials on the first objective alone, which "
			"a multi-objective experiment "
			"(metadata.annotations[" OBJECTIVES_ANNOTATION
			"]) does not rank by; remove "
			"spec.earlyStopping",
			es->name ? es->name : "early stopping");
	if (!es->name || strcmp(es->name, "medianstop"))
		return kb_error_set(err, -EINVAL,
				    "spec.earlyStopping.algorithmName", 0,
				    "unknown early stopping algorithm '%s'; "
				    "known: medianstop%s",
				    es->name ? es->name : "",
				    suggest_list_hint(es->name, es_names, hint,
						      sizeof(hint)));
	for (i = 0; i < es->nsettings; i++) {
		s = &es->settings[i];
		if (s->name && !strcmp(s->name, "min_trials_required"))
			rc = es_int(s, err);
		else if (s->name && !strcmp(s->name, "start_step"))
			rc = es_int(s, err);
		else
			rc = kb_error_set(
				err, -EINVAL,
				"spec.earlyStopping.algorithmSettings", 0,
				"unknown setting '%s' for medianstop; "
				"known: min_trials_required, "
				"start_step%s",
				s->name ? s->name : "",
				suggest_list_hint(s->name, es_settings, hint,
						  sizeof(hint)));
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- nasConfig (ENAS and DARTS) ---- */

#define NAS "spec.nasConfig"

static int nas_error(struct kb_error *err, const char *field, const char *msg)
{
	return kb_error_set(err, -EINVAL, field, 0, "%s", msg);
}

/* A number, or a string that holds one (YAML scalars may arrive as text). */
static int json_number(const cJSON *j, double *out)
{
	char *end;

	if (cJSON_IsNumber(j)) {
		*out = j->valuedouble;
		return 1;
	}
	if (!cJSON_IsString(j) || !j->valuestring || !*j->valuestring)
		return 0;
	*out = strtod(j->valuestring, &end);
	return !*end;
}

static int nas_sizes(const cJSON *graph, const char *key, struct kb_error *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(graph, key);
	char field[128];

	snprintf(field, sizeof(field), NAS ".graphConfig.%s", key);
	if (!cJSON_IsArray(a) || !cJSON_GetArraySize(a))
		return nas_error(err, field, "required (a non-empty list)");
	return 0;
}

static int nas_graph(const cJSON *nas, int need_sizes, struct kb_error *err)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(nas, "graphConfig");
	double n;
	int rc;

	if (!cJSON_IsObject(g))
		return nas_error(err, NAS ".graphConfig", "required");
	if (!json_number(cJSON_GetObjectItemCaseSensitive(g, "numLayers"),
			 &n) ||
	    n < 1)
		return nas_error(err, NAS ".graphConfig.numLayers",
				 "required (an integer >= 1)");
	if (!need_sizes)
		return 0;
	rc = nas_sizes(g, "inputSizes", err);
	return rc ? rc : nas_sizes(g, "outputSizes", err);
}

static int nas_space(const cJSON *fs, const char *type, const char *field,
		     struct kb_error *err)
{
	char f[256];
	const cJSON *l;
	double v;

	if (!strcmp(type, "categorical") || !strcmp(type, "discrete")) {
		l = cJSON_GetObjectItemCaseSensitive(fs, "list");
		snprintf(f, sizeof(f), "%s.feasibleSpace.list", field);
		if (!cJSON_IsArray(l) || !cJSON_GetArraySize(l))
			return nas_error(err, f,
					 "required for "
					 "categorical "
					 "and discrete parameters");
		return 0;
	}
	if (strcmp(type, "int") && strcmp(type, "double")) {
		snprintf(f, sizeof(f), "%s.parameterType", field);
		return nas_error(err, f,
				 "must be one of int, double, "
				 "categorical, discrete");
	}
	snprintf(f, sizeof(f), "%s.feasibleSpace.min", field);
	if (!json_number(cJSON_GetObjectItemCaseSensitive(fs, "min"), &v))
		return nas_error(err, f, "required for int and double");
	snprintf(f, sizeof(f), "%s.feasibleSpace.max", field);
	if (!json_number(cJSON_GetObjectItemCaseSensitive(fs, "max"), &v))
		return nas_error(err, f, "required for int and double");
	snprintf(f, sizeof(f), "%s.feasibleSpace.step", field);
	if (!strcmp(type, "double") &&
	    (!json_number(cJSON_GetObjectItemCaseSensitive(fs, "step"), &v) ||
	     v <= 0))
		return nas_error(err, f, "required for double, must be > 0");
	return 0;
}

static int nas_param(const cJSON *p, const char *field, struct kb_error *err)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
	const cJSON *type =
		cJSON_GetObjectItemCaseSensitive(p, "parameterType");
	char f[256];

	snprintf(f, sizeof(f), "%s.name", field);
	if (!cJSON_IsString(name) || !*name->valuestring)
		return nas_error(err, f, "required");
	snprintf(f, sizeof(f), "%s.parameterType", field);
	if (!cJSON_IsString(type) || !*type->valuestring)
		return nas_error(err, f, "required");
	return nas_space(cJSON_GetObjectItemCaseSensitive(p, "feasibleSpace"),
			 type->valuestring, field, err);
}

static int nas_operation(const cJSON *op, int i, int need_params,
			 struct kb_error *err)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(op, "operationType");
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(op, "parameters");
	const cJSON *p;
	char f[192];
	int j = 0, rc;

	snprintf(f, sizeof(f), NAS ".operations[%d].operationType", i);
	if (!cJSON_IsString(t) || !*t->valuestring)
		return nas_error(err, f, "required");
	snprintf(f, sizeof(f), NAS ".operations[%d].parameters", i);
	if (need_params && (!cJSON_IsArray(ps) || !cJSON_GetArraySize(ps)))
		return nas_error(err, f,
				 "at least one parameter is required by "
				 "algorithm 'enas' (darts takes an operation "
				 "without parameters as it is, e.g. "
				 "skip_connection)");
	cJSON_ArrayForEach(p, ps)
	{
		snprintf(f, sizeof(f), NAS ".operations[%d].parameters[%d]", i,
			 j++);
		rc = nas_param(p, f, err);
		if (rc)
			return rc;
	}
	return 0;
}

int nas_config_validate(const struct experiment_spec *spec, int flags,
			struct kb_error *err)
{
	const cJSON *nas = spec->nas_config, *ops, *op;
	int i = 0, rc;

	if (!cJSON_IsObject(nas))
		return kb_error_set(err, -EINVAL, NAS, 0,
				    "required by algorithm '%s'",
				    spec->algorithm.name);
	rc = nas_graph(nas, flags & NAS_NEED_SIZES, err);
	if (rc)
		return rc;
	ops = cJSON_GetObjectItemCaseSensitive(nas, "operations");
	if (!cJSON_IsArray(ops) || !cJSON_GetArraySize(ops))
		return nas_error(err, NAS ".operations",
				 "at least one operation is required");
	cJSON_ArrayForEach(op, ops)
	{
		rc = nas_operation(op, i++, flags & NAS_NEED_PARAMS, err);
		if (rc)
			return rc;
	}
	return 0;
}

size_t algorithm_assignment_names(const struct algorithm_ops *ops, void *priv,
				  const struct experiment_spec *spec,
				  const char **names, size_t max)
{
	size_t i;

	if (ops && ops->assignment_names)
		return ops->assignment_names(priv, spec, names, max);
	for (i = 0; i < spec->nparams && i < max; i++)
		names[i] = spec->params[i].name;
	return i;
}

/* Early stopping rules built into katibfs. */
extern const struct early_stopping_ops early_stopping_medianstop;
static const struct early_stopping_ops *const early_stoppings[] = {
	&early_stopping_medianstop,
	NULL,
};

const struct early_stopping_ops *early_stopping_find(const char *name)
{
	size_t i;

	for (i = 0; name && early_stoppings[i]; i++)
		if (!strcmp(early_stoppings[i]->name, name))
			return early_stoppings[i];
	return NULL;
}

const char *algorithm_implemented_names(void)
{
	static char list[512];
	size_t i, n = 0;

	if (list[0])
		return list;
	for (i = 0; i < NALGORITHMS; i++)
		if (table[i]->implemented)
			n += (size_t)snprintf(list + n, sizeof(list) - n,
					      "%s%s", n ? ", " : "",
					      table[i]->name);
	return list;
}
