/*
 * spec_manifest.c - a trial's manifest for the kubernetes backend, when the
 * primary container has no `command` (include/katib/kube_manifest.h).
 *
 * Katib's substitution lives in core/spec.c (spec_render_trial); rather
 * than copy it, the template gets a placeholder command for the render,
 * which is taken out of the rendered manifest again.
 */
#include "katib/kube_manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLACEHOLDER "katibfs-entrypoint-placeholder"

/* The container named `name` in any `containers` list under v. */
static cJSON *find_container(cJSON *v, const char *name, int depth)
{
	cJSON *c, *r;

	if (depth > 64 || !v)
		return NULL;
	cJSON_ArrayForEach(c, v)
	{
		if (c->string && !strcmp(c->string, "containers") &&
		    cJSON_IsArray(c)) {
			cJSON *it;

			cJSON_ArrayForEach(it, c)
			{
				const char *n = cJSON_GetStringValue(
					cJSON_GetObjectItem(it, "name"));

				if (n && !strcmp(n, name))
					return it;
			}
		}
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
		    (r = find_container(c, name, depth + 1)))
			return r;
	}
	return NULL;
}

/* As spec.c: a TrainJob's trainer block stands for its container. */
static cJSON *primary(cJSON *obj, const char *name)
{
	cJSON *c = find_container(obj, name, 0);
	const char *kind =
		cJSON_GetStringValue(cJSON_GetObjectItem(obj, "kind"));

	if (c || !kind || strcmp(kind, "TrainJob"))
		return c;
	c = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "spec"), "trainer");
	return cJSON_IsObject(c) ? c : NULL;
}

/* Take the placeholder command out of out->manifest. */
static int strip_placeholder(struct trial_command *out, const char *cname)
{
	cJSON *obj = cJSON_Parse(out->manifest);
	cJSON *c = primary(obj, cname);
	char *text;

	if (!c) {
		cJSON_Delete(obj);
		return -ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c, "command");
	text = cJSON_Print(obj);
	cJSON_Delete(obj);
	if (!text)
		return -ENOMEM;
	free(out->manifest);
	out->manifest = text;
	if (out->argc && !strcmp(out->argv[0], PLACEHOLDER))
		out->argv[0][0] = '\0';
	return 0;
}

/*
 * The labels Katib puts on a trial object (and the backend sends), so that
 * trials/N/spec shows them: the experiment is the trial name without its
 * "-<8 chars>" suffix.
 */
static int add_labels(struct trial_command *out, const char *trial)
{
	cJSON *obj = cJSON_Parse(out->manifest), *md, *labels;
	size_t n = strlen(trial);
	char exp[128];
	char *text;

	md = cJSON_GetObjectItem(obj, "metadata");
	if (!cJSON_IsObject(md) || n <= 9 || n - 9 >= sizeof(exp)) {
		cJSON_Delete(obj);
		return obj ? 0 : -ENOMEM;
	}
	snprintf(exp, sizeof(exp), "%.*s", (int)(n - 9), trial);
	labels = cJSON_GetObjectItem(md, "labels");
	if (!cJSON_IsObject(labels)) {
		cJSON_DeleteItemFromObject(md, "labels");
		labels = cJSON_AddObjectToObject(md, "labels");
	}
	cJSON_DeleteItemFromObject(labels, "katib.kubeflow.org/experiment");
	cJSON_DeleteItemFromObject(labels, "katib.kubeflow.org/trial");
	cJSON_AddStringToObject(labels, "katib.kubeflow.org/experiment", exp);
	cJSON_AddStringToObject(labels, "katib.kubeflow.org/trial", trial);
	text = cJSON_Print(obj);
	cJSON_Delete(obj);
	if (!text)
		return -ENOMEM;
	free(out->manifest);
	out->manifest = text;
	return 0;
}

int spec_render_manifest(const struct experiment_spec *spec,
			 const char *trial_name, const char *namespace,
			 const struct assignment *assignments, size_t n,
			 struct trial_command *out, struct kb_error *err)
{
	struct experiment_spec copy = *spec;
	const char *cname = spec->trial_template.primary_container_name;
	cJSON *tmpl, *c, *cmd;
	int rc, placeholder = 0;

	if (!spec->trial_template.trial_spec || !cname)
		return spec_render_trial(spec, trial_name, namespace,
					 assignments, n, out, err);
	tmpl = cJSON_Duplicate(spec->trial_template.trial_spec, 1);
	if (!tmpl)
		return kb_error_set(err, -ENOMEM, "", 0, "out of memory");
	c = primary(tmpl, cname);
	if (c && !cJSON_GetObjectItem(c, "command")) {
		cmd = cJSON_AddArrayToObject(c, "command");
		if (!cmd) {
			cJSON_Delete(tmpl);
			return kb_error_set(err, -ENOMEM, "", 0,
					    "out of memory");
		}
		cJSON_AddItemToArray(cmd, cJSON_CreateString(PLACEHOLDER));
		placeholder = 1;
	}
	copy.trial_template.trial_spec = tmpl;
	rc = spec_render_trial(&copy, trial_name, namespace, assignments, n,
			       out, err);
	cJSON_Delete(tmpl);
	if (!rc && placeholder)
		rc = strip_placeholder(out, cname);
	if (!rc)
		rc = add_labels(out, trial_name);
	if (rc) {
		trial_command_free(out);
		kb_error_set(err, rc, "", 0, "out of memory");
	}
	return rc;
}
