/*
 * trials.c - the kubernetes backend's trial table (backend_i.h): a trial's
 * record made from the controller's backend_trial (its namespace, its pod
 * selectors, what its collector needs, its watches), and the manifest it
 * is created from: the rendered trial with our namespace and labels (on
 * its pod templates too) and the collector injected; and its marker file
 * (kubernetes.json), from which a restarted daemon finishes what was
 * begun. Owns the trials (struct ktrial, freed by k8s_trial_free).
 */
#include "backends/kube/backend_i.h"
#include "collectors/collect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void k8s_trial_free(struct ktrial *t)
{
	prom_series_free(&t->series);
	free(t->selector);
	free(t->success);
	free(t->failure);
	free(t->manifest);
	free(t);
}

void k8s_write_marker(struct ktrial *t)
{
	char path[4200], tmp[4300];
	cJSON *m = cJSON_CreateObject();
	char *text;
	FILE *f;

	if (!m)
		return;
	cJSON_AddStringToObject(m, "apiVersion", t->api_version);
	cJSON_AddStringToObject(m, "kind", t->kind);
	cJSON_AddStringToObject(m, "namespace", t->ns);
	cJSON_AddStringToObject(m, "name", t->name);
	cJSON_AddBoolToObject(m, "created", t->created);
	cJSON_AddNumberToObject(m, "restarts", t->restarts);
	cJSON_AddNumberToObject(m, "logBase", (double)t->log_base);
	if (t->stopped_code >= 0)
		cJSON_AddNumberToObject(m, "collectorStopped", t->stopped_code);
	if (t->manifest)
		cJSON_AddStringToObject(m, "manifest", t->manifest);
	text = cJSON_Print(m);
	cJSON_Delete(m);
	snprintf(path, sizeof(path), "%s/%s", t->dir, MARKER_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = text ? fopen(tmp, "w") : NULL;
	if (f) {
		fputs(text, f);
		if (!fclose(f))
			rename(tmp, path);
	}
	free(text);
}

struct ktrial *k8s_find_trial(struct kpriv *p, const char *name)
{
	struct ktrial *t;

	for (t = p->trials; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

const char *k8s_trial_ns(struct kpriv *p, const struct backend_trial *bt)
{
	return bt->spec->namespace ? bt->spec->namespace : p->ns;
}

/* labelSelector for the primary pod (Katib's defaults per kind). */
static char *pod_selector(const struct backend_trial *bt, const char *kind,
			  const char *av)
{
	const struct trial_template_spec *tt = &bt->spec->trial_template;
	char buf[2048] = "";
	size_t o = 0;
	const cJSON *l;

	if (!strcmp(kind, "Job") && !strcmp(av, "batch/v1"))
		o += snprintf(buf + o, sizeof(buf) - o, "job-name=%s",
			      bt->name);
	else if (!strncmp(av, "kubeflow.org/", 13))
		o += snprintf(buf + o, sizeof(buf) - o,
			      "training.kubeflow.org/job-name=%s", bt->name);
	cJSON_ArrayForEach(l, tt->primary_pod_labels)
	{
		if (cJSON_IsString(l) && o < sizeof(buf))
			o += snprintf(buf + o, sizeof(buf) - o, "%s%s=%s",
				      o ? "," : "", l->string, l->valuestring);
	}
	return strdup(buf);
}

/* Does v hold a pod template (a "template" whose spec has containers)? */
static int has_pod_template(const cJSON *v, int depth)
{
	const cJSON *c;

	if (!v || depth > 64)
		return 0;
	cJSON_ArrayForEach(c, v)
	{
		if (c->string && !strcmp(c->string, "template") &&
		    cJSON_IsArray(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(c, "spec"), "containers")))
			return 1;
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
		    has_pod_template(c, depth + 1))
			return 1;
	}
	return 0;
}

/*
 * Which pods the namespace's pod watch for this kind of trial selects:
 * ours (labelled through the pod templates), or, for kinds whose pods
 * come from no template of ours (TrainJob: the runtime's), every pod with
 * the first primaryPodLabels key. One watch per namespace and selector.
 */
static const char *pod_watch_selector(const struct backend_trial *bt)
{
	const struct trial_template_spec *tt = &bt->spec->trial_template;
	const cJSON *first =
		tt->primary_pod_labels ? tt->primary_pod_labels->child : NULL;

	if (has_pod_template(tt->trial_spec, 0) || !first || !first->string)
		return LABEL_EXPERIMENT;
	return first->string;
}

/* What the trial's collector needs of the backend at run time. */
static int collector_setup(struct ktrial *t, const struct backend_trial *bt)
{
	const struct collector_spec *c = &bt->spec->collector;
	const char *names[64];
	size_t n;

	t->number = bt->number;
	t->ckind = c->kind;
	switch (c->kind) {
	case COLLECTOR_FILE:
		snprintf(t->side, sizeof(t->side), KUBE_COLLECTOR_CONTAINER);
		snprintf(t->side_log, sizeof(t->side_log), COLLECTOR_LOG);
		return 0;
	case COLLECTOR_TFEVENT:
		snprintf(t->side, sizeof(t->side), KUBE_COLLECTOR_CONTAINER);
		snprintf(t->side_log, sizeof(t->side_log), TFEVENT_STREAM);
		return 0;
	case COLLECTOR_CUSTOM:
		snprintf(t->side, sizeof(t->side), "%s",
			 kube_custom_container(c));
		snprintf(t->side_log, sizeof(t->side_log), CUSTOM_LOG);
		return 0;
	case COLLECTOR_PROMETHEUS:
		t->prom_port = prom_port(c);
		snprintf(t->prom_path, sizeof(t->prom_path), "%s%s",
			 prom_path(c)[0] == '/' ? "" : "/", prom_path(c));
		n = spec_metric_names(bt->spec, names, 64);
		return prom_series_init(&t->series, (char *const *)names, n);
	default: return 0;
	}
}

struct ktrial *k8s_trial_new(struct kpriv *p, const struct backend_trial *bt,
			     const char *av, const char *kind, const char *ns)
{
	const struct trial_template_spec *tt = &bt->spec->trial_template;
	struct ktrial *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->p = p;
	snprintf(t->name, sizeof(t->name), "%s", bt->name);
	snprintf(t->experiment, sizeof(t->experiment), "%s", bt->experiment);
	snprintf(t->ns, sizeof(t->ns), "%s", ns);
	snprintf(t->api_version, sizeof(t->api_version), "%s", av);
	snprintf(t->kind, sizeof(t->kind), "%s", kind);
	snprintf(t->dir, sizeof(t->dir), "%s", bt->dir);
	snprintf(t->log_path, sizeof(t->log_path), "%s", bt->log_path);
	snprintf(t->container, sizeof(t->container), "%s",
		 tt->primary_container_name ? tt->primary_container_name
					    : "training-container");
	t->retain = tt->retain;
	t->stopped_code = -1;
	if (collector_setup(t, bt)) {
		k8s_trial_free(t);
		return NULL;
	}
	t->selector = pod_selector(bt, kind, av);
	t->success =
		tt->success_condition ? strdup(tt->success_condition) : NULL;
	t->failure =
		tt->failure_condition ? strdup(tt->failure_condition) : NULL;
	t->w = k8s_watch_for(p, av, kind, ns, LABEL_EXPERIMENT);
	t->pw = k8s_watch_for(p, "v1", "Pod", ns, pod_watch_selector(bt));
	if (!t->selector || !t->w || !t->pw) {
		k8s_trial_free(t);
		return NULL;
	}
	t->next = p->trials;
	p->trials = t;
	return t;
}

/* Set our two labels on a labels-holding object's "labels" member. */
static void set_labels(cJSON *md, const char *experiment, const char *trial)
{
	cJSON *labels = cJSON_GetObjectItem(md, "labels");

	if (!cJSON_IsObject(labels)) {
		cJSON_DeleteItemFromObject(md, "labels");
		labels = cJSON_AddObjectToObject(md, "labels");
	}
	cJSON_DeleteItemFromObject(labels, LABEL_EXPERIMENT);
	cJSON_DeleteItemFromObject(labels, LABEL_TRIAL);
	cJSON_AddStringToObject(labels, LABEL_EXPERIMENT, experiment);
	cJSON_AddStringToObject(labels, LABEL_TRIAL, trial);
}

/*
 * Every pod template in the manifest (a "template" whose "spec" has
 * "containers": a Job's, each training-operator replica's) gets our
 * labels too, so the controllers put them on the pods and one pod watch
 * per namespace sees every trial's pods.
 */
static void label_pod_templates(cJSON *v, const char *experiment,
				const char *trial, int depth)
{
	cJSON *c, *md;

	if (!v || depth > 64)
		return;
	cJSON_ArrayForEach(c, v)
	{
		if (c->string && !strcmp(c->string, "template") &&
		    cJSON_IsObject(c) &&
		    cJSON_IsArray(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(c, "spec"), "containers"))) {
			md = cJSON_GetObjectItem(c, "metadata");
			if (!cJSON_IsObject(md)) {
				cJSON_DeleteItemFromObject(c, "metadata");
				md = cJSON_AddObjectToObject(c, "metadata");
			}
			set_labels(md, experiment, trial);
		}
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			label_pod_templates(c, experiment, trial, depth + 1);
	}
}

char *k8s_prepare_manifest(const struct backend_trial *bt, const char *ns,
			   char *av, size_t avsize, char *kind, size_t ksize,
			   struct kb_error *err)
{
	cJSON *obj = cJSON_Parse(bt->cmd->manifest), *md;
	const char *a, *k;
	char *text = NULL;

	a = cJSON_GetStringValue(cJSON_GetObjectItem(obj, "apiVersion"));
	k = cJSON_GetStringValue(cJSON_GetObjectItem(obj, "kind"));
	md = cJSON_GetObjectItem(obj, "metadata");
	if (!a || !k || !cJSON_IsObject(md)) {
		kb_error_set(err, -EINVAL, "spec.trialTemplate.trialSpec", 0,
			     "the rendered trial has no apiVersion, kind or "
			     "metadata");
		goto out;
	}
	snprintf(av, avsize, "%s", a);
	snprintf(kind, ksize, "%s", k);
	cJSON_DeleteItemFromObject(md, "namespace");
	cJSON_AddStringToObject(md, "namespace", ns);
	set_labels(md, bt->experiment, bt->name);
	label_pod_templates(cJSON_GetObjectItem(obj, "spec"), bt->experiment,
			    bt->name, 0);
	if (kube_inject_collector(obj, bt->spec, err))
		goto out;
	text = cJSON_PrintUnformatted(obj);
out:
	cJSON_Delete(obj);
	return text;
}
