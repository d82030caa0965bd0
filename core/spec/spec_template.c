/*
 * spec_template.c - spec.trialTemplate: the trial object (trialSpec or
 * configMap), its trialParameters and the ${trialParameters.X} /
 * ${trialSpec.X} placeholders (manifest/generator.go).
 *
 * A configMap source is read through the caller's template_source
 * (include/katib/spec.h) and its template checked as an inline trialSpec;
 * errors inside it are rewritten to name templatePath and the template's
 * own field and line (configmap_error()).
 *
 * Owns parse_template() and check_params_used() (called by spec_parse.c),
 * the Katib defaults for known kinds (success/failure conditions, primary
 * pod labels), finding the primary container in a trial object, and
 * substitute(), which fills the placeholders in for one trial
 * (trial_render.c). See spec_i.h.
 */
#include "spec_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/suggest.h"
#include "spec/yamltree.h"

#define PARAM_PREFIX "${trialParameters."
#define META_PREFIX  "${trialSpec."

#define JOB_SUCCESS                                                            \
	"status.conditions.#(type==\"Complete\")#|#(status==\"True\")#"
#define JOB_FAILURE                                                            \
	"status.conditions.#(type==\"Failed\")#|#(status==\"True\")#"
#define KF_SUCCESS                                                             \
	"status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#"
#define KF_FAILURE JOB_FAILURE

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

/* Item `it` (path sub) of trialTemplate.trialParameters into p: its
 * fields, and a name without braces. */
static int parse_trial_param(struct trial_parameter_spec *p,
			     const struct ynode *it, const char *sub,
			     struct kb_error *err)
{
	static const char *const fields[] = { "name", "description",
					      "reference", NULL };
	char fld[PATHLEN];
	int rc = need_map(it, sub, err);

	rc = rc ? rc : check_fields(it, sub, fields, err);
	rc = rc ? rc : get_str(it, "name", sub, 1, &p->name, err);
	rc = rc ? rc : get_str(it, "description", sub, 0, &p->description, err);
	rc = rc ? rc : get_str(it, "reference", sub, 1, &p->reference, err);
	if (rc)
		return rc;
	join(fld, sub, "name");
	if (strpbrk(p->name, "{}"))
		return fail(err, fld, ynode_get(it, "name"),
			    "must not contain { or } (write the bare "
			    "name; the template uses "
			    "${trialParameters.<name>})");
	return 0;
}

/* Trial parameter i (item `it`, path sub) has a name and a reference no
 * earlier one (of the list at path) has. */
static int check_trial_param_unique(const struct trial_template_spec *t,
				    size_t i, const struct ynode *it,
				    const char *sub, const char *path,
				    struct kb_error *err)
{
	const struct trial_parameter_spec *p = &t->params[i];
	char fld[PATHLEN];
	size_t j;

	for (j = 0; j < i; j++) {
		if (!strcmp(p->name, t->params[j].name)) {
			join(fld, sub, "name");
			return fail(err, fld, ynode_get(it, "name"),
				    "\"%s\" is declared twice", p->name);
		}
		if (!strcmp(p->reference, t->params[j].reference)) {
			join(fld, sub, "reference");
			return fail(err, fld, ynode_get(it, "reference"),
				    "\"%s\" is already referenced by %s[%zu]",
				    p->reference, path, j);
		}
	}
	return 0;
}

/* p's reference (item `it`, path sub): trial metadata
 * (${trialSpec.Name} ...) or a spec.parameters[] name (anything for NAS,
 * whose algorithm names the values). */
static int check_trial_param_reference(const struct trial_parameter_spec *p,
				       const struct experiment_spec *s,
				       const struct ynode *it, const char *sub,
				       struct kb_error *err)
{
	char fld[PATHLEN], key[128], idx[128], hint[100];
	struct suggest sg;
	size_t j;

	join(fld, sub, "reference");
	if (is_meta_ref(p->reference)) {
		if (!parse_meta_ref(p->reference, key, sizeof(key), idx,
				    sizeof(idx)))
			return 0;
		return fail(err, fld, ynode_get(it, "reference"),
			    "illegal reference of trial metadata \"%s\": use "
			    "${trialSpec.Name}, Namespace, Kind, APIVersion, "
			    "Labels[key] or Annotations[key]%s",
			    p->reference, meta_hint(key, hint, sizeof(hint)));
	}
	if (!s->nparams)
		return 0; /* NAS: the algorithm names the values */
	suggest_init(&sg, p->reference);
	for (j = 0; j < s->nparams; j++) {
		if (!strcmp(s->params[j].name, p->reference))
			return 0;
		suggest_offer(&sg, s->params[j].name);
	}
	return fail(err, fld, ynode_get(it, "reference"),
		    "\"%s\" is not the name of any spec.parameters[] entry%s",
		    p->reference, suggest_hint(&sg, hint, sizeof(hint)));
}

static int parse_trial_params(struct trial_template_spec *t,
			      const struct experiment_spec *s,
			      const struct ynode *l, const char *path,
			      struct kb_error *err)
{
	char sub[PATHLEN];
	size_t i;
	int rc = need_seq(l, path, err);

	if (rc)
		return rc;
	t->params = calloc(l->n + 1, sizeof(*t->params));
	if (!t->params)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		const struct ynode *it = l->items[i];

		t->nparams = i + 1;
		join_index(sub, path, i);
		rc = parse_trial_param(&t->params[i], it, sub, err);
		rc = rc ? rc
			: check_trial_param_unique(t, i, it, sub, path, err);
		rc = rc ? rc
			: check_trial_param_reference(&t->params[i], s, it, sub,
						      err);
		if (rc)
			return rc;
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

const char *jstr(const cJSON *obj, const char *key)
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

cJSON *primary_container(cJSON *obj, const char *name)
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

/* A batch/v1 Job is checked against the Job schema, as Katib does; other
 * kinds are left to the API server on Kubernetes. */
static int check_job(const struct trial_template_spec *t,
		     const struct ynode *tpl, const char *path,
		     struct kb_error *err)
{
	const char *api = jstr(t->trial_spec, "apiVersion"),
		   *kind = jstr(t->trial_spec, "kind");
	char sub[PATHLEN];

	if (!api || !kind || strcmp(api, "batch/v1") || strcmp(kind, "Job"))
		return 0;
	join(sub, path, "trialSpec");
	return job_schema_check(tpl, sub, err);
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

int check_params_used(const struct experiment_spec *s,
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

/* ---- a configMap source (Katib's trial-configmap-source) ---- */

/* "data[key] of ConfigMap ns/name" in buf. */
static void configmap_where(const struct trial_template_spec *t, char *buf,
			    size_t size)
{
	snprintf(buf, size, "data[%s] of ConfigMap %s/%s", t->template_path,
		 t->configmap_namespace, t->configmap_name);
}

/* The template of the configMap source, through src, as a YAML tree in
 * *out (the caller's): 0, or an error naming the configMap's fields. */
static int read_configmap(const struct experiment_spec *s,
			  const struct template_source *src, struct ynode **out,
			  struct kb_error *err)
{
	const struct trial_template_spec *t = &s->trial_template;
	struct kb_error yerr;
	char where[600], *text = NULL;
	size_t len;
	int rc;

	rc = src->fetch(src->arg, s->namespace, t->configmap_namespace,
			t->configmap_name, t->template_path, &text, err);
	if (rc)
		return rc;
	configmap_where(t, where, sizeof(where));
	len = strlen(text);
	kb_error_clear(&yerr);
	rc = len > SPEC_MAX_BYTES
		     ? kb_error_set(&yerr, -EFBIG, "", 0,
				    "%zu bytes, over the limit of %d", len,
				    SPEC_MAX_BYTES)
		     : ytree_parse(text, len, SPEC_MAX_YAML_NODES, out, &yerr);
	free(text);
	if (rc == -ENOMEM)
		return rc;
	if (rc && yerr.line)
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
			 " (its line %d)", yerr.line);
	if (rc)
		return kb_error_set(
			err, -EINVAL, CONFIGMAP_PATH_FIELD, 0,
			"%s is not a YAML trial object: %s; fix the "
			"ConfigMap, or inline the object as "
			"spec.trialTemplate.trialSpec",
			where, yerr.message);
	if ((*out)->kind == YNODE_MAP)
		return 0;
	ynode_free(*out);
	*out = NULL;
	return kb_error_set(err, -EINVAL, CONFIGMAP_PATH_FIELD, 0,
			    "%s must hold the trial object, a mapping with "
			    "apiVersion, kind and spec (as trialSpec would)",
			    where);
}

/*
 * An error found in a template read from a ConfigMap names a field of the
 * spec's text that is not there: it becomes an error about templatePath
 * that says which field of the template, and on which of its lines.
 */
static void configmap_error(const struct trial_template_spec *t,
			    const char *path, struct kb_error *err)
{
	char where[600], msg[sizeof(err->message)], tsp[PATHLEN], at[32] = "";
	size_t l;

	if (!err || !err->message[0])
		return;
	configmap_where(t, where, sizeof(where));
	join(tsp, path, "trialSpec");
	l = strlen(tsp);
	if (!strncmp(err->field, tsp, l) &&
	    (err->field[l] == '.' || !err->field[l])) {
		if (err->line)
			snprintf(at, sizeof(at), ", line %d", err->line);
		snprintf(msg, sizeof(msg), "%s%s%s (in %s%s)",
			 err->field[l] ? err->field + l + 1 : "",
			 err->field[l] ? ": " : "", err->message, where, at);
		snprintf(err->field, sizeof(err->field), "%s",
			 CONFIGMAP_PATH_FIELD);
		err->line = 0;
	} else if (strstr(err->message, "trialSpec")) {
		snprintf(msg, sizeof(msg), "%s (the trialSpec is %s)",
			 err->message, where);
	} else {
		return;
	}
	snprintf(err->message, sizeof(err->message), "%s", msg);
}

/* The template's own scalar fields (retain, primaryContainerName, the
 * conditions), after its keys are checked. */
static int template_scalars(struct trial_template_spec *t,
			    const struct ynode *n, const char *path,
			    struct kb_error *err)
{
	int rc = need_map(n, path, err);

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
	return rc;
}

/* The trial object: trialSpec, or the template configMap names (read
 * through src when given, into *cmt). Its node into *ts (NULL when the
 * ConfigMap was not read). */
static int template_object(struct experiment_spec *s, const struct ynode *n,
			   const char *path, const struct template_source *src,
			   struct ynode **cmt, const struct ynode **ts,
			   struct kb_error *err)
{
	struct trial_template_spec *t = &s->trial_template;
	const struct ynode *spec = ynode_get(n, "trialSpec");
	const struct ynode *cm = ynode_get(n, "configMap");
	char sub[PATHLEN];
	int rc;

	spec = ynode_is_null(spec) ? NULL : spec;
	cm = ynode_is_null(cm) ? NULL : cm;
	if (spec && cm) {
		join(sub, path, "configMap");
		return fail(err, sub, cm,
			    "set either trialSpec or configMap, not both");
	}
	if (!spec && !cm)
		return fail(err, path, n,
			    "needs trialSpec (the trial object) or configMap");
	if (!cm) {
		join(sub, path, "trialSpec");
		*ts = spec;
		rc = need_map(spec, sub, err);
		if (!rc && !(t->trial_spec = ynode_to_json(spec)))
			rc = -ENOMEM;
		return rc;
	}
	join(sub, path, "configMap");
	rc = parse_configmap(t, cm, sub, err);
	if (!rc && src)
		rc = read_configmap(s, src, cmt, err);
	if (!rc && *cmt && !(t->trial_spec = ynode_to_json(*cmt)))
		rc = -ENOMEM;
	*ts = *cmt;
	return rc;
}

/* primaryPodLabels (optional) and trialParameters (required, if empty);
 * trialParameters' node into *tp. */
static int template_params(struct experiment_spec *s, const struct ynode *n,
			   const char *path, const struct ynode **tp,
			   struct kb_error *err)
{
	struct trial_template_spec *t = &s->trial_template;
	const struct ynode *pl = ynode_get(n, "primaryPodLabels");
	char sub[PATHLEN];
	int rc;

	if (!ynode_is_null(pl)) {
		join(sub, path, "primaryPodLabels");
		rc = parse_pod_labels(t, pl, sub, err);
		if (rc)
			return rc;
	}
	*tp = ynode_get(n, "trialParameters");
	join(sub, path, "trialParameters");
	if (!*tp || (ynode_is_null(*tp) && !(*tp)->quoted))
		return fail(err, sub, n,
			    "is required: declare each "
			    "${trialParameters.<name>} the template uses, "
			    "with the parameter it takes its value from");
	if ((*tp)->kind == YNODE_SCALAR && ynode_is_null(*tp))
		return 0;
	return parse_trial_params(t, s, *tp, sub, err);
}

/* Both conditions, which Katib has defaults for only for some kinds (set
 * by template_defaults()). */
static int template_conditions(const struct trial_template_spec *t,
			       const struct ynode *n, const char *path,
			       struct kb_error *err)
{
	char sub[PATHLEN];

	if (t->success_condition && t->failure_condition)
		return 0;
	join(sub, path,
	     t->success_condition ? "failureCondition" : "successCondition");
	return fail(err, sub, n,
		    "is required for kind %s (Katib "
		    "knows the defaults only for Job, TFJob, "
		    "PyTorchJob, XGBoostJob, MPIJob and TrainJob)",
		    jstr(t->trial_spec, "kind"));
}

static int template_body(struct experiment_spec *s, const struct ynode *n,
			 const char *path, const struct template_source *src,
			 struct ynode **cmt, struct kb_error *err)
{
	struct trial_template_spec *t = &s->trial_template;
	const struct ynode *ts = NULL, *tp = NULL;
	int rc = template_scalars(t, n, path, err);

	rc = rc ? rc : template_object(s, n, path, src, cmt, &ts, err);
	rc = rc ? rc : template_params(s, n, path, &tp, err);
	if (rc)
		return rc;
	if (t->trial_spec) {
		rc = check_trial_object(t, ts, path, err);
		rc = rc ? rc : check_job(t, ts, path, err);
		rc = rc ? rc : check_placeholders(t, ts, tp, path, err);
		rc = rc ? rc : template_defaults(t);
		if (rc)
			return rc;
	}
	rc = check_container(t, n, path, err);
	if (rc || !t->trial_spec)
		return rc;
	return template_conditions(t, n, path, err);
}

int parse_template(struct experiment_spec *s, const struct ynode *n,
		   const char *path, const struct template_source *src,
		   struct kb_error *err)
{
	struct ynode *cmt = NULL; /* the template read from a ConfigMap */
	int rc = template_body(s, n, path, src, &cmt, err);

	if (rc && cmt)
		configmap_error(&s->trial_template, path, err);
	ynode_free(cmt);
	return rc;
}

/* ------------------------------------------------------------------ */
/* substitution, for one trial                                         */

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

int substitute(const struct experiment_spec *s, const char *trial,
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
