/*
 * fields.c - the field helpers of the spec's parsers (spec_parse.c,
 * spec_template.c, annotations.c, job_check.c; declared in spec_i.h):
 * errors at a field's path, paths joined, a node's kind checked, unknown
 * keys refused, and scalar fields read as strings, numbers, booleans and
 * lists. Calls no parser, so they all may call it.
 *
 * Owns nothing: a string or list it reads is the caller's (free_strv()).
 */
#include "spec_i.h"
#include "spec/suggest.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fail(struct kb_error *err, const char *path, const struct ynode *n,
	 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kb_error_set(err, -EINVAL, path, n ? n->line : 0, "%s", msg);
}

void join(char *dst, const char *base, const char *key)
{
	snprintf(dst, PATHLEN, "%s%s%s", base, *base ? "." : "", key);
}

int fail_key(struct kb_error *err, const char *path, const char *key,
	     const struct ynode *n, const char *fmt, ...)
{
	char sub[PATHLEN], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	join(sub, path, key);
	return fail(err, sub, n, "%s", msg);
}

/* A quoted string n where the schema wants `what` (e.g. "an integer"). */
int fail_quoted(struct kb_error *err, const char *path, const struct ynode *n,
		const char *what)
{
	return fail(err, path, n,
		    "must be %s, without quotes (got the string \"%s\"; "
		    "Katib's schema refuses it too)",
		    what, n->value);
}

void join_index(char *dst, const char *base, size_t i)
{
	snprintf(dst, PATHLEN, "%s[%zu]", base, i);
}

static const char *kind_word(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	return "a single value";
}

int need_map(const struct ynode *n, const char *path, struct kb_error *err)
{
	if (n->kind == YNODE_MAP)
		return 0;
	return fail(err, path, n,
		    "must be a mapping (key: value lines), not %s",
		    kind_word(n));
}

int need_seq(const struct ynode *n, const char *path, struct kb_error *err)
{
	if (n->kind == YNODE_SEQ)
		return 0;
	return fail(err, path, n, "must be a list (`- item` lines), not %s",
		    kind_word(n));
}

int in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

void list_text(const char *const *list, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; list[i] && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
				list[i]);
}

int check_fields(const struct ynode *map, const char *path,
		 const char *const *known, struct kb_error *err)
{
	char sub[PATHLEN], names[400], hint[100];
	size_t i;

	for (i = 0; i < map->n; i++) {
		if (in_list(map->keys[i]->value, known))
			continue;
		join(sub, path, map->keys[i]->value);
		list_text(known, names, sizeof(names));
		suggest_list_hint(map->keys[i]->value, known, hint,
				  sizeof(hint));
		return fail(err, sub, map->keys[i],
			    "unknown field (known here: %s)%s", names, hint);
	}
	return 0;
}

/* A field that holds one value; NULL (and 0) when absent or null. */
int get_scalar(const struct ynode *map, const char *key, const char *path,
	       const struct ynode **out, struct kb_error *err)
{
	const struct ynode *n = ynode_get(map, key);
	char sub[PATHLEN];

	*out = NULL;
	if (ynode_is_null(n))
		return 0;
	if (n->kind != YNODE_SCALAR) {
		join(sub, path, key);
		return fail(err, sub, n, "must be a single value, not %s",
			    kind_word(n));
	}
	*out = n;
	return 0;
}

int get_str(const struct ynode *map, const char *key, const char *path,
	    int required, char **out, struct kb_error *err)
{
	const struct ynode *n;
	char sub[PATHLEN];
	int rc;

	*out = NULL;
	rc = get_scalar(map, key, path, &n, err);
	if (rc)
		return rc;
	if (!n || !n->value[0]) {
		if (!required)
			return 0;
		join(sub, path, key);
		return fail(err, sub, n ? n : map, "is required");
	}
	*out = strdup(n->value);
	return *out ? 0 : -ENOMEM;
}

int parse_long(const char *s, long *out)
{
	char *end;

	if (!*s || strspn(s, " \t") || strchr(s, '.'))
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end ? -1 : 0;
}

int parse_double(const char *s, double *out)
{
	char *end;

	if (!*s || strspn(s, " \t"))
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || !isfinite(*out))
		return -1;
	/* strtod also reads hex and "inf"; Katib's numbers are decimal */
	return strpbrk(s, "xXnN") ? -1 : 0;
}

/* A field that holds one value, which the schema says is `what` (e.g. "an
 * integer"), so not a quoted string; NULL when absent. sub = its path. */
static int get_unquoted(const struct ynode *map, const char *key,
			const char *path, const char *what,
			const struct ynode **out, char *sub,
			struct kb_error *err)
{
	int rc = get_scalar(map, key, path, out, err);

	join(sub, path, key);
	if (!rc && *out && (*out)->quoted)
		return fail_quoted(err, sub, *out, what);
	return rc;
}

/* An int32 field: *present = 0 when absent. */
int get_int(const struct ynode *map, const char *key, const char *path,
	    int *out, int *present, struct kb_error *err)
{
	const struct ynode *n;
	char sub[PATHLEN];
	long v;
	int rc;

	*present = 0;
	rc = get_unquoted(map, key, path, "an integer", &n, sub, err);
	if (rc || !n)
		return rc;
	if (parse_long(n->value, &v))
		return fail(err, sub, n,
			    "must be an integer, e.g. 3 (got \"%s\")",
			    n->value);
	if (v < INT_MIN || v > INT_MAX)
		return fail(err, sub, n, "is out of range");
	*out = (int)v;
	*present = 1;
	return 0;
}

int get_bool(const struct ynode *map, const char *key, const char *path,
	     int *out, struct kb_error *err)
{
	const struct ynode *n;
	char sub[PATHLEN];
	int rc;

	rc = get_unquoted(map, key, path, "true or false", &n, sub, err);
	if (rc || !n)
		return rc;
	if (ynode_scalar_type(n) != YS_BOOL)
		return fail(err, sub, n, "must be true or false");
	*out = n->value[0] == 't' || n->value[0] == 'T';
	return 0;
}

/* A list of single values; *out NULL and *n 0 when absent. */
int get_str_list(const struct ynode *map, const char *key, const char *path,
		 char ***out, size_t *n, struct kb_error *err)
{
	const struct ynode *l = ynode_get(map, key);
	char sub[PATHLEN], item[PATHLEN];
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (ynode_is_null(l))
		return 0;
	join(sub, path, key);
	rc = need_seq(l, sub, err);
	if (rc)
		return rc;
	*out = calloc(l->n + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		if (l->items[i]->kind != YNODE_SCALAR) {
			join_index(item, sub, i);
			return fail(err, item, l->items[i],
				    "must be a single value, not %s",
				    kind_word(l->items[i]));
		}
		(*out)[i] = strdup(l->items[i]->value);
		if (!(*out)[i])
			return -ENOMEM;
		*n = i + 1;
	}
	return 0;
}
