/*
 * kubeconfig.c - where the cluster is and who we are, found as kubectl
 * finds it (core/backends/kube/kube.h).
 *
 * Owns: what a struct kube_config holds (kube_config_load() fills it,
 * kube_config_free() frees it).
 */
#include "backends/kube/kube.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec/yamltree.h"

#define KUBECONFIG_MAX (4 * 1024 * 1024)
#define SA_DIR	       "/var/run/secrets/kubernetes.io/serviceaccount"

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode base64 (whitespace and padding ignored). NULL if invalid. */
static char *b64decode(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0, v;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == '=' || *s == '\n' || *s == '\r' || *s == ' ')
			continue;
		if ((v = b64val((unsigned char)*s)) < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

static const char *scalar(const struct ynode *map, const char *key)
{
	const struct ynode *n = map ? ynode_get(map, key) : NULL;

	return n && n->kind == YNODE_SCALAR && !ynode_is_null(n) ? n->value
								 : NULL;
}

/* The `inner` map of the entry named `name` in the list `list`. */
static const struct ynode *named(const struct ynode *root, const char *list,
				 const char *name, const char *inner)
{
	const struct ynode *l = ynode_get(root, list);
	const char *n;
	size_t i;

	if (!l || l->kind != YNODE_SEQ || !name)
		return NULL;
	for (i = 0; i < l->n; i++) {
		n = scalar(l->items[i], "name");
		if (n && !strcmp(n, name)) {
			const struct ynode *m = ynode_get(l->items[i], inner);

			return m && m->kind == YNODE_MAP ? m : NULL;
		}
	}
	return NULL;
}

/* A path from the file, made absolute against the file's directory. */
static char *file_path(const char *p, const char *dir)
{
	char *out;

	if (!p)
		return NULL;
	if (p[0] == '/' || !dir)
		return strdup(p);
	if (asprintf(&out, "%s/%s", dir, p) < 0)
		return NULL;
	return out;
}

static int dup_data(const char *b64, char **out, size_t *len, const char *field,
		    struct kb_error *err)
{
	if (!b64)
		return 0;
	*out = b64decode(b64, len);
	if (!*out)
		return kb_error_set(err, -EINVAL, field, 0,
				    "is not valid base64");
	return 0;
}

static char **string_list(const struct ynode *seq, const char *first)
{
	size_t i, n = seq && seq->kind == YNODE_SEQ ? seq->n : 0, j = 0;
	char **v = calloc(n + 2, sizeof(*v));

	if (!v)
		return NULL;
	if (first)
		v[j++] = strdup(first);
	for (i = 0; i < n; i++)
		if (seq->items[i]->kind == YNODE_SCALAR)
			v[j++] = strdup(seq->items[i]->value);
	return v;
}

static int read_exec(const struct ynode *ex, struct kube_config *c,
		     struct kb_error *err)
{
	const struct ynode *env = ynode_get(ex, "env");
	const char *cmd = scalar(ex, "command");
	size_t i, n = env && env->kind == YNODE_SEQ ? env->n : 0;

	if (!cmd)
		return kb_error_set(err, -EINVAL, "users[].user.exec.command",
				    0, "is required");
	c->exec_argv = string_list(ynode_get(ex, "args"), cmd);
	c->exec_env = calloc(n + 1, sizeof(char *));
	if (!c->exec_argv || !c->exec_env)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *k = scalar(env->items[i], "name");
		const char *v = scalar(env->items[i], "value");

		if (k && asprintf(&c->exec_env[i], "%s=%s", k, v ? v : "") < 0)
			return -ENOMEM;
	}
	if (scalar(ex, "apiVersion"))
		c->exec_api_version = strdup(scalar(ex, "apiVersion"));
	return 0;
}

static int read_user(const struct ynode *u, const char *dir,
		     struct kube_config *c, struct kb_error *err)
{
	const struct ynode *ex;
	int rc;

	if (!u)
		return 0;
	if (scalar(u, "token"))
		c->token = strdup(scalar(u, "token"));
	c->token_file = file_path(scalar(u, "tokenFile"), dir);
	c->cert_file = file_path(scalar(u, "client-certificate"), dir);
	c->key_file = file_path(scalar(u, "client-key"), dir);
	rc = dup_data(scalar(u, "client-certificate-data"), &c->cert_data,
		      &c->cert_len, "users[].user.client-certificate-data",
		      err);
	rc = rc ? rc
		: dup_data(scalar(u, "client-key-data"), &c->key_data,
			   &c->key_len, "users[].user.client-key-data", err);
	if (rc)
		return rc;
	ex = ynode_get(u, "exec");
	if (ex && ex->kind == YNODE_MAP)
		return read_exec(ex, c, err);
	if (ynode_get(u, "auth-provider"))
		return kb_error_set(err, -ENOTSUP, "users[].user.auth-provider",
				    0,
				    "auth-provider plugins are not supported; "
				    "use an exec plugin or a token");
	return 0;
}

static int read_cluster(const struct ynode *cl, const char *dir,
			struct kube_config *c, struct kb_error *err)
{
	const char *server = scalar(cl, "server");
	const char *insecure = scalar(cl, "insecure-skip-tls-verify");
	size_t n;

	if (!server)
		return kb_error_set(err, -EINVAL, "clusters[].cluster.server",
				    0, "is required");
	c->server = strdup(server);
	if (!c->server)
		return -ENOMEM;
	n = strlen(c->server);
	while (n && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	c->insecure = insecure && !strcmp(insecure, "true");
	c->ca_file = file_path(scalar(cl, "certificate-authority"), dir);
	return dup_data(scalar(cl, "certificate-authority-data"), &c->ca_data,
			&c->ca_len,
			"clusters[].cluster.certificate-authority-data", err);
}

int kube_config_parse(const char *text, size_t len, const char *dir,
		      const char *context, struct kube_config *out,
		      struct kb_error *err)
{
	struct ynode *root = NULL;
	const struct ynode *ctx, *cl;
	const char *name, *ns;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ytree_parse(text, len, 100000, &root, err);
	if (rc)
		return rc;
	rc = -EINVAL;
	if (root->kind != YNODE_MAP) {
		kb_error_set(err, rc, "", 0, "is not a kubeconfig");
		goto out;
	}
	name = context ? context : scalar(root, "current-context");
	if (!name) {
		kb_error_set(err, rc, "current-context", 0,
			     "is not set; pass --context");
		goto out;
	}
	ctx = named(root, "contexts", name, "context");
	if (!ctx) {
		kb_error_set(err, rc, "contexts", 0, "no context named \"%s\"",
			     name);
		goto out;
	}
	cl = named(root, "clusters", scalar(ctx, "cluster"), "cluster");
	if (!cl) {
		kb_error_set(err, rc, "clusters", 0,
			     "no cluster named \"%s\" (context \"%s\")",
			     scalar(ctx, "cluster") ? scalar(ctx, "cluster")
						    : "",
			     name);
		goto out;
	}
	out->context = strdup(name);
	ns = scalar(ctx, "namespace");
	if (ns)
		out->namespace = strdup(ns);
	rc = read_cluster(cl, dir, out, err);
	rc = rc ? rc
		: read_user(named(root, "users", scalar(ctx, "user"), "user"),
			    dir, out, err);
out:
	ynode_free(root);
	if (rc)
		kube_config_free(out);
	return rc;
}

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t n;
	int rc = 0;

	if (!f)
		return -errno;
	*text = malloc(KUBECONFIG_MAX + 1);
	if (!*text) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(*text, 1, KUBECONFIG_MAX, f);
	if (ferror(f))
		rc = -EIO;
	(*text)[n] = '\0';
	*len = n;
	fclose(f);
	if (rc) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

static int load_file(const char *path, const char *context,
		     struct kube_config *out, struct kb_error *err)
{
	char *text = NULL, *copy = strdup(path), msg[300];
	size_t len;
	int rc;

	if (!copy)
		return -ENOMEM;
	rc = read_file(path, &text, &len);
	if (rc) {
		kb_error_set(err, rc, "--kubeconfig", 0, "cannot read %s: %s",
			     path, strerror(-rc));
		goto out;
	}
	rc = kube_config_parse(text, len, dirname(copy), context, out, err);
	if (rc && err) {
		snprintf(msg, sizeof(msg), "%s", err->field);
		snprintf(err->field, sizeof(err->field), "%s: %s", path, msg);
	}
	if (!rc)
		out->source = strdup(path);
out:
	free(copy);
	free(text);
	return rc;
}

static int load_in_cluster(struct kube_config *out, struct kb_error *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("KATIBFS_SERVICEACCOUNT_DIR");
	char path[4096], *ns = NULL;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!host || !*host)
		return kb_error_set(err, -ENOENT, "--kubeconfig", 0,
				    "no kubeconfig (--kubeconfig, $KUBECONFIG, "
				    "~/.kube/config) and not in a cluster "
				    "($KUBERNETES_SERVICE_HOST is unset)");
	if (!dir)
		dir = SA_DIR;
	if (asprintf(&out->server,
		     strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		     host, port && *port ? port : "443") < 0)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/token", dir);
	out->token_file = strdup(path);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	out->ca_file = strdup(path);
	snprintf(path, sizeof(path), "%s/namespace", dir);
	if (!read_file(path, &ns, &len)) {
		while (len && (ns[len - 1] == '\n' || ns[len - 1] == ' '))
			ns[--len] = '\0';
		out->namespace = len ? strdup(ns) : NULL;
		free(ns);
	}
	out->source = strdup("in-cluster");
	return 0;
}

int kube_config_load(const char *path, const char *context,
		     struct kube_config *out, struct kb_error *err)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	char buf[4096], *list, *save = NULL, *p;
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (path && *path)
		return load_file(path, context, out, err);
	if (env && *env) {
		list = strdup(env);
		if (!list)
			return -ENOMEM;
		for (p = strtok_r(list, ":", &save); p;
		     p = strtok_r(NULL, ":", &save)) {
			if (!stat(p, &st)) {
				int rc = load_file(p, context, out, err);

				free(list);
				return rc;
			}
		}
		free(list);
	}
	if (home) {
		snprintf(buf, sizeof(buf), "%s/.kube/config", home);
		if (!stat(buf, &st))
			return load_file(buf, context, out, err);
	}
	return load_in_cluster(out, err);
}

static void free_list(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void kube_config_free(struct kube_config *c)
{
	free(c->source);
	free(c->context);
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	free(c->key_data);
	free(c->token);
	free(c->token_file);
	free(c->namespace);
	free_list(c->exec_argv);
	free_list(c->exec_env);
	free(c->exec_api_version);
	memset(c, 0, sizeof(*c));
}
