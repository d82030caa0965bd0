/*
 * spec.c - the Katib Experiment spec as a value (include/katib/spec.h),
 * whoever parsed it: the names of its enums, the experiment-name rule,
 * its warnings, freeing it, and the accessors of its objectives and
 * metrics. Parsing is spec_parse.c's; this file calls none of the parser,
 * the algorithms or the collectors, so that they may all call it.
 *
 * Owns nothing of its own: spec_free() frees every allocation of a spec
 * (spec_parse.c makes them), free_strv() a vector of strings.
 */
#include "spec_i.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* names                                                               */

const char *const param_type_names[] = { "int", "double", "categorical",
					 "discrete", NULL };
const char *const distribution_names[] = { "uniform", "logUniform", "normal",
					   "logNormal", NULL };
const char *const strategy_names[] = { "min", "max", "latest", NULL };
const char *const collector_names[] = { "StdOut",
					"File",
					"TensorFlowEvent",
					"PrometheusMetric",
					"Custom",
					"Push",
					"None",
					NULL };
const char *const resume_names[] = { "Never", "LongRunning", "FromVolume",
				     NULL };

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
	return k <= COLLECTOR_KIND_LAST ? collector_names[k] : "unknown";
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
	return kb_error_set(
		err, -EINVAL, "metadata.name", 0,
		"\"%s\" is not a valid experiment name: use lowercase letters, "
		"digits and '-', starting with a letter and ending with a "
		"letter or digit (e.g. \"random-search-1\")",
		name);
}

/* ------------------------------------------------------------------ */
/* freeing                                                             */

void param_clear(struct param_spec *p)
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
	if (spec->warnings)
		free(spec->warnings->items);
	free(spec->warnings);
	free(spec->name);
	free(spec->namespace);
	cJSON_Delete(spec->labels);
	cJSON_Delete(spec->annotations);
	free_strv(spec->devices, spec->ndevices);
	for (i = 0; i < spec->nobjectives; i++)
		free(spec->objectives[i].metric);
	free(spec->objectives);
	free_strv(spec->warm_start, spec->nwarm_start);
	free_strv(spec->suggestion_command, spec->nsuggestion_command);
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

void spec_warn(const struct experiment_spec *spec, const char *field,
	       const char *fmt, ...)
{
	struct spec_warnings *w = spec ? spec->warnings : NULL;
	struct kb_error one, *items;
	va_list ap;
	size_t i;

	if (!w)
		return;
	kb_error_clear(&one);
	snprintf(one.field, sizeof(one.field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(one.message, sizeof(one.message), fmt, ap);
	va_end(ap);
	for (i = 0; i < w->n; i++)
		if (!strcmp(w->items[i].field, one.field) &&
		    !strcmp(w->items[i].message, one.message))
			return;
	items = realloc(w->items, (w->n + 1) * sizeof(*items));
	if (!items)
		return;
	w->items = items;
	w->items[w->n++] = one;
}

void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
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

size_t spec_objective_count(const struct experiment_spec *spec)
{
	return 1 + spec->nobjectives;
}

const char *spec_objective(const struct experiment_spec *spec, size_t i,
			   int *maximize)
{
	const struct extra_objective *o;

	if (!i) {
		if (maximize)
			*maximize = spec->objective.maximize;
		return spec->objective.metric;
	}
	o = &spec->objectives[i - 1];
	if (maximize)
		*maximize = o->maximize;
	return o->metric;
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
