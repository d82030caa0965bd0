/*
 * spec_render.c - the normalized spec read back: spec_render_yaml() writes
 * a parsed struct experiment_spec as a whole Experiment with every default
 * filled in (spec.yaml, `katibfs check`), and spec_check_update() compares
 * two specs for a live edit of a started experiment. See
 * include/katib/spec.h.
 *
 * Owns nothing beyond the cJSON trees it builds and frees; the YAML text
 * spec_render_yaml() returns is the caller's.
 */
#include "spec_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/yamltree.h"

/* ------------------------------------------------------------------ */
/* rendering the normalized spec                                       */

cJSON *param_to_json(const struct param_spec *p)
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
	/* a configMap source is shown as written: its template (read when
	 * the spec was taken) is what trials/N/spec shows, rendered */
	if (!t->configmap_name)
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

cJSON *spec_render_json(const struct experiment_spec *spec)
{
	return spec_body_json(spec);
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

/* 1 if both specs optimize the same objectives (katibfs/objectives). */
static int same_objectives(const struct experiment_spec *a,
			   const struct experiment_spec *b)
{
	size_t i;

	if (a->nobjectives != b->nobjectives)
		return 0;
	for (i = 0; i < a->nobjectives; i++)
		if (strcmp(a->objectives[i].metric, b->objectives[i].metric) ||
		    a->objectives[i].maximize != b->objectives[i].maximize)
			return 0;
	return 1;
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
	if (!same_objectives(old, new)) {
		rc = kb_error_set(err, -EPERM,
				  "metadata.annotations[" OBJECTIVES_ANNOTATION
				  "]",
				  0, "cannot change on a started experiment");
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
