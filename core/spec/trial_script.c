/*
 * trial_script.c - the environment katibfs adds to a local trial, and the
 * sh script shown as trials/N/spec that runs the trial again by hand.
 *
 * Owns nothing beyond the strings it returns (the caller's to free).
 */
#include "spec/trial_script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model.h"

static int env_has(const struct trial_command *cmd, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i < cmd->nenv; i++)
		if (!strncmp(cmd->env[i], name, n) && cmd->env[i][n] == '=')
			return 1;
	return 0;
}

int trial_own_env(const struct trial_command *cmd, const char *trial_name,
		  const char *trial_dir, char **out)
{
	int n = 0;

	if (asprintf(&out[n], "KATIB_TRIAL_NAME=%s", trial_name) < 0)
		goto nomem;
	n++;
	if (asprintf(&out[n], "KATIB_TRIAL_DIR=%s", trial_dir) < 0)
		goto nomem;
	n++;
	/* Python buffers stdout when it is a file: a user tailing the log
	 * would see nothing until the trial ends */
	if (!env_has(cmd, "PYTHONUNBUFFERED")) {
		if (!(out[n] = strdup("PYTHONUNBUFFERED=1")))
			goto nomem;
		n++;
	}
	return n;
nomem:
	while (n > 0)
		free(out[--n]);
	return -ENOMEM;
}

/* 'text' for sh, byte for byte: only a quote needs care ('\''). */
static int sh_quote(struct strbuf *b, const char *s)
{
	int rc = strbuf_append(b, "'", 1);

	for (; !rc && *s; s++) {
		if (*s == '\'')
			rc = strbuf_append(b, "'\\''", 4);
		else
			rc = strbuf_append(b, s, 1);
	}
	return rc ? rc : strbuf_append(b, "'", 1);
}

/* NAME=value where NAME can follow `export` (a sh name). */
static int sh_assignable(const char *entry)
{
	const char *p = entry;

	if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
	      (*p >= 'a' && *p <= 'z')))
		return 0;
	for (; *p && *p != '='; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	return *p == '=';
}

static int export_line(struct strbuf *b, const char *entry)
{
	const char *eq = strchr(entry, '=');

	if (strbuf_printf(b, "export %.*s=", (int)(eq - entry), entry) ||
	    sh_quote(b, eq + 1))
		return -ENOMEM;
	return strbuf_append(b, "\n", 1);
}

/*
 * The env as sh sees it: exports for sh names; anything else (Kubernetes
 * allows names such as "my.var") is passed through env(1) on the exec line.
 */
static int env_part(struct strbuf *b, char *const *env, size_t n,
		    struct strbuf *via_env)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < n; i++) {
		if (sh_assignable(env[i]))
			rc = export_line(b, env[i]);
		else if (strchr(env[i], '='))
			rc = strbuf_append(via_env, " ", 1) ||
					     sh_quote(via_env, env[i])
				     ? -ENOMEM
				     : 0;
	}
	return rc;
}

char *trial_script(const char *experiment, int number, const char *trial_name,
		   const char *trial_dir, const char *cwd,
		   const struct trial_command *cmd)
{
	char *own[TRIAL_OWN_ENV_MAX];
	struct strbuf b, via_env;
	char *text = NULL;
	size_t i;
	int nown, rc;

	nown = trial_own_env(cmd, trial_name, trial_dir, own);
	if (nown < 0)
		return NULL;
	strbuf_init(&b);
	strbuf_init(&via_env);
	rc = strbuf_printf(
		&b,
		"#!/bin/sh\n"
		"# katibfs: experiment %s, trial %d (%s).\n"
		"# `sh spec` runs it again by hand, in your environment "
		"plus the trial's.\n",
		experiment, number, trial_name);
	rc = rc || strbuf_append(&b, "cd ", 3) || sh_quote(&b, cwd) ||
	     strbuf_append(&b, " || exit 1\n", 11) ||
	     env_part(&b, cmd->env, cmd->nenv, &via_env) ||
	     env_part(&b, own, (size_t)nown, &via_env) ||
	     strbuf_append(&b, "exec", 4) ||
	     (via_env.len && strbuf_printf(&b, " env%s", via_env.data));
	for (i = 0; !rc && i < cmd->argc; i++)
		rc = strbuf_append(&b, " ", 1) || sh_quote(&b, cmd->argv[i]);
	if (!rc && !strbuf_append(&b, "\n", 1))
		text = strbuf_take(&b, NULL);
	strbuf_free(&b);
	strbuf_free(&via_env);
	while (nown > 0)
		free(own[--nown]);
	return text;
}
