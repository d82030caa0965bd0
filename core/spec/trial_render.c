/*
 * trial_render.c - one trial of an experiment rendered from its template
 * (manifest/generator.go): the trial object with its placeholders filled
 * in, and the primary container's command, args, env and workingDir for
 * the local backend (spec_render_trial(), include/katib/spec.h); or, for a
 * backend that sends the manifest, a trial whose primary container may have
 * no command (spec_render_manifest(), core/spec/kube_manifest.h).
 *
 * The primary container runs as Katib's pod webhook leaves it: for the
 * StdOut, File and TensorFlowEvent collectors its command and args become
 * one unquoted `sh -c` line (katib_wrap(), below), in argv and in the
 * manifest alike.
 *
 * Owns struct trial_command's contents (trial_command_free()). Placeholder
 * substitution is spec_template.c's (substitute()).
 *
 * spec_render_manifest() reuses spec_render_trial() rather than copy it:
 * the template gets a placeholder command for the render, which is taken
 * out of the rendered manifest again.
 */
#include "spec_i.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/kube_manifest.h"

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

/* ------------------------------------------------------------------ */
/* the primary container as Katib's pod webhook runs it                */

/*
 * Katib's pod webhook (pkg/webhook/v1beta1/pod/utils.go,
 * wrapWorkerContainer) rewrites the primary container of a trial whose
 * collector is StdOut, File or TensorFlowEvent (NeedWrapWorkerMetrics-
 * CollectorList): command + args become command ["sh", "-c"] and one
 * argument, the rest joined with single spaces and no quoting
 * (strings.Join); a command that begins with `sh -c` or `bash -c` keeps
 * that shell and the rest is joined. A shell splits the line again, so an
 * argument's quotes are the shell's: --x="a b" reaches the program as
 * `--x=a b`, and an argument with spaces becomes several. Katib appends
 * its output redirection and completion marker to the line; katibfs
 * collects the output itself and leaves them out.
 */
static int katib_wraps(const struct experiment_spec *s)
{
	return s->collector.kind == COLLECTOR_STDOUT ||
	       s->collector.kind == COLLECTOR_FILE ||
	       s->collector.kind == COLLECTOR_TFEVENT;
}

/* How many leading words are the shell's own `sh -c` (0 or 2). */
static size_t shell_prefix(char *const *argv, size_t argc)
{
	if (argc < 2 || (strcmp(argv[0], "sh") && strcmp(argv[0], "bash")))
		return 0;
	return strcmp(argv[1], "-c") ? 0 : 2;
}

/* cmd->argv becomes {shell, "-c", line}. */
static int katib_wrap(struct trial_command *cmd)
{
	size_t skip = shell_prefix(cmd->argv, cmd->argc), len = 0, i;
	char **argv = calloc(4, sizeof(char *)), *p;

	for (i = skip; i < cmd->argc; i++)
		len += strlen(cmd->argv[i]) + 1;
	if (!argv)
		return -ENOMEM;
	argv[0] = strdup(skip ? cmd->argv[0] : "sh");
	argv[1] = strdup("-c");
	argv[2] = p = malloc(len + 1);
	if (!argv[0] || !argv[1] || !p) {
		free_strv(argv, 3);
		return -ENOMEM;
	}
	*p = '\0';
	for (i = skip; i < cmd->argc; i++) {
		if (i > skip)
			*p++ = ' ';
		p = stpcpy(p, cmd->argv[i]);
	}
	free_strv(cmd->argv, cmd->argc);
	cmd->argv = argv;
	cmd->argc = 3;
	return 0;
}

/* The container's command and args as cmd->argv (already wrapped) says. */
static int set_container_command(cJSON *c, const struct trial_command *cmd)
{
	cJSON *command = cJSON_CreateArray(), *args = cJSON_CreateArray();

	if (!command || !args ||
	    !cJSON_AddItemToArray(command, cJSON_CreateString(cmd->argv[0])) ||
	    !cJSON_AddItemToArray(command, cJSON_CreateString(cmd->argv[1])) ||
	    !cJSON_AddItemToArray(args, cJSON_CreateString(cmd->argv[2]))) {
		cJSON_Delete(command);
		cJSON_Delete(args);
		return -ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c, "command");
	cJSON_DeleteItemFromObjectCaseSensitive(c, "args");
	cJSON_AddItemToObject(c, "command", command);
	cJSON_AddItemToObject(c, "args", args);
	return 0;
}

/* Wrap cmd and the primary container of obj as Katib's webhook does. */
static int wrap_primary(const struct experiment_spec *s, cJSON *obj,
			struct trial_command *cmd)
{
	int rc;

	if (!katib_wraps(s))
		return 0;
	rc = katib_wrap(cmd);
	return rc ? rc
		  : set_container_command(
			    primary_container(
				    obj,
				    s->trial_template.primary_container_name),
			    cmd);
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

/* spec_render_trial(), wrapping the primary container when `wrap`. */
static int render_trial(const struct experiment_spec *spec,
			const char *trial_name, const char *namespace,
			const struct assignment *assignments, size_t n,
			int wrap, struct trial_command *out,
			struct kb_error *err)
{
	const char *ns = namespace ? namespace : spec->namespace;
	cJSON *obj = NULL;
	char *text = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!spec->trial_template.trial_spec)
		return kb_error_set(err, -ENOTSUP, TT ".configMap", 0,
				    "the template of ConfigMap %s/%s was not "
				    "read (the spec was parsed without a "
				    "source for it); put the trial object in "
				    "trialSpec",
				    spec->trial_template.configmap_namespace,
				    spec->trial_template.configmap_name);
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
	if (!rc && wrap)
		rc = wrap_primary(spec, obj, out);
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

int spec_render_trial(const struct experiment_spec *spec,
		      const char *trial_name, const char *namespace,
		      const struct assignment *assignments, size_t n,
		      struct trial_command *out, struct kb_error *err)
{
	return render_trial(spec, trial_name, namespace, assignments, n, 1, out,
			    err);
}

/* ------------------------------------------------------------------ */
/* the manifest, for a backend that sends it                           */

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

/* As primary_container(): a TrainJob's trainer stands for its container. */
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
	/* without a command the image's ENTRYPOINT runs, which Katib's
	 * webhook reads from the registry to wrap it; katibfs cannot, and
	 * leaves such a container as it is */
	rc = render_trial(&copy, trial_name, namespace, assignments, n,
			  !placeholder, out, err);
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
