/*
 * gjson.c - the subset of GJSON paths (github.com/tidwall/gjson) that
 * Katib's successCondition/failureCondition defaults and examples use:
 *
 *   status.conditions.#(type=="Complete")#|#(status=="True")#
 *   status.[@this].#(phase=="Succeeded")#
 *   status.conditions.0.type, status.conditions.#, ...
 *
 * Owns nothing past a call: a query is freed when evaluated; the cJSON
 * result is the caller's.
 */
#include "backends/kube/kube.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define GJSON_MAX_DEPTH 32

static cJSON *eval(const cJSON *v, const char *path, int map, int depth);

/* Length of the component at p: up to '.' or '|' outside (), [] and "". */
static size_t component_len(const char *p)
{
	int depth = 0, quoted = 0;
	size_t i;

	for (i = 0; p[i]; i++) {
		if (p[i] == '\\' && p[i + 1]) {
			i++;
			continue;
		}
		if (quoted) {
			if (p[i] == '"')
				quoted = 0;
			continue;
		}
		if (p[i] == '"')
			quoted = 1;
		else if (p[i] == '(' || p[i] == '[')
			depth++;
		else if ((p[i] == ')' || p[i] == ']') && depth > 0)
			depth--;
		else if (!depth && (p[i] == '.' || p[i] == '|'))
			break;
	}
	return i;
}

/* Apply `path` to each element of array v; collect what is not NULL. */
static cJSON *map_each(const cJSON *v, const char *path, int depth)
{
	cJSON *out = cJSON_CreateArray(), *r;
	const cJSON *e;

	if (!out)
		return NULL;
	cJSON_ArrayForEach(e, v)
	{
		r = eval(e, path, 0, depth + 1);
		if (r)
			cJSON_AddItemToArray(out, r);
	}
	return out;
}

/* Trimmed copy of s[0..n). */
static char *trimmed(const char *s, size_t n)
{
	char *out;

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	out = malloc(n + 1);
	if (out) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

enum qop { Q_EXISTS, Q_EQ, Q_NE, Q_LT, Q_LE, Q_GT, Q_GE, Q_LIKE, Q_UNLIKE };

struct query {
	char *lhs;
	enum qop op;
	cJSON *rhs; /* parsed literal */
};

static const struct {
	const char *text;
	enum qop op;
} qops[] = {
	{ "==", Q_EQ }, { "!=", Q_NE },	    { "<=", Q_LE },
	{ ">=", Q_GE }, { "!%", Q_UNLIKE }, { "<", Q_LT },
	{ ">", Q_GT },	{ "%", Q_LIKE },    { "=", Q_EQ },
};

/* Find the operator in the query text (outside quotes). */
static const char *find_op(const char *s, size_t n, enum qop *op, size_t *oplen)
{
	size_t i, k;
	int quoted = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		if (quoted)
			continue;
		for (k = 0; k < sizeof(qops) / sizeof(qops[0]); k++) {
			size_t l = strlen(qops[k].text);

			if (i + l <= n && !strncmp(s + i, qops[k].text, l)) {
				*op = qops[k].op;
				*oplen = l;
				return s + i;
			}
		}
	}
	return NULL;
}

static int parse_query(const char *s, size_t n, struct query *q)
{
	const char *o;
	size_t oplen = 0;
	char *r;
	int rc;

	memset(q, 0, sizeof(*q));
	o = find_op(s, n, &q->op, &oplen);
	if (!o) {
		q->op = Q_EXISTS;
		q->lhs = trimmed(s, n);
		return q->lhs ? 0 : -ENOMEM;
	}
	q->lhs = trimmed(s, o - s);
	r = trimmed(o + oplen, n - (o - s) - oplen);
	q->rhs = q->lhs && r ? cJSON_Parse(r) : NULL;
	rc = !q->lhs || !r ? -ENOMEM : q->rhs ? 0 : -EINVAL;
	free(r);
	if (rc) { /* a query that failed to parse owns nothing */
		free(q->lhs);
		q->lhs = NULL;
	}
	return rc;
}

static void query_free(struct query *q)
{
	free(q->lhs);
	cJSON_Delete(q->rhs);
}

static int cmp_result(int c, enum qop op)
{
	switch (op) {
	case Q_EQ: return c == 0;
	case Q_NE: return c != 0;
	case Q_LT: return c < 0;
	case Q_LE: return c <= 0;
	case Q_GT: return c > 0;
	case Q_GE: return c >= 0;
	default: return 0;
	}
}

static int query_test(const struct query *q, const cJSON *e, int depth)
{
	cJSON *l = q->lhs[0] ? eval(e, q->lhs, 0, depth + 1)
			     : cJSON_Duplicate(e, 1);
	int ok = 0;

	if (!l)
		return 0;
	if (q->op == Q_EXISTS) {
		ok = 1;
	} else if (cJSON_IsString(q->rhs) && cJSON_IsString(l)) {
		if (q->op == Q_LIKE || q->op == Q_UNLIKE)
			ok = !fnmatch(q->rhs->valuestring, l->valuestring, 0) ==
			     (q->op == Q_LIKE);
		else
			ok = cmp_result(
				strcmp(l->valuestring, q->rhs->valuestring),
				q->op);
	} else if (cJSON_IsNumber(q->rhs) && cJSON_IsNumber(l)) {
		double a = l->valuedouble, b = q->rhs->valuedouble;

		ok = cmp_result(a < b ? -1 : a > b, q->op);
	} else if (cJSON_IsBool(q->rhs) && cJSON_IsBool(l)) {
		ok = cmp_result(cJSON_IsTrue(l) != cJSON_IsTrue(q->rhs), q->op);
	} else {
		ok = q->op == Q_NE;
	}
	cJSON_Delete(l);
	return ok;
}

/* #(query) or #(query)# on array v; then the rest of the path. */
static cJSON *eval_query(const cJSON *v, const char *c, size_t n,
			 const char *rest, char sep, int depth)
{
	int all = n >= 4 && c[n - 1] == '#' && c[n - 2] == ')';
	size_t qlen = n - 2 - (all ? 2 : 1);
	struct query q;
	const cJSON *e;
	cJSON *out = NULL, *r;

	if (!cJSON_IsArray(v) || c[n - 1 - all] != ')' ||
	    parse_query(c + 2, qlen, &q))
		return NULL;
	if (all && !(out = cJSON_CreateArray()))
		goto out;
	cJSON_ArrayForEach(e, v)
	{
		if (!query_test(&q, e, depth))
			continue;
		if (!all) {
			out = eval(e, rest, 0, depth + 1);
			goto out;
		}
		cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
	}
	if (all && *rest) {
		r = eval(out, rest, sep == '.', depth + 1);
		cJSON_Delete(out);
		out = r;
	}
out:
	query_free(&q);
	return out;
}

/* [p1,p2,...]: an array of what each path yields on v. */
static cJSON *eval_multi(const cJSON *v, const char *c, size_t n, int depth)
{
	cJSON *out = cJSON_CreateArray(), *r;
	size_t i = 1, start = 1;
	int d = 0, quoted = 0;
	char *p;

	if (!out || c[n - 1] != ']')
		goto fail;
	for (i = 1; i < n; i++) {
		if (c[i] == '"')
			quoted = !quoted;
		if (quoted)
			continue;
		if (c[i] == '(' || c[i] == '[')
			d++;
		else if ((c[i] == ')' || c[i] == ']') && d > 0)
			d--;
		else if ((c[i] == ',' && !d) || i == n - 1) {
			p = trimmed(c + start, i - start);
			if (!p)
				goto fail;
			r = eval(v, p, 0, depth + 1);
			free(p);
			if (r)
				cJSON_AddItemToArray(out, r);
			start = i + 1;
		}
	}
	return out;
fail:
	cJSON_Delete(out);
	return NULL;
}

/* A plain key, with \-escapes removed; all digits -> *index. */
static char *plain_key(const char *c, size_t n, long *index)
{
	char *k = malloc(n + 1), *end;
	size_t i, j = 0;

	if (!k)
		return NULL;
	for (i = 0; i < n; i++) {
		if (c[i] == '\\' && i + 1 < n)
			i++;
		k[j++] = c[i];
	}
	k[j] = '\0';
	*index = -1;
	if (j && k[0] >= '0' && k[0] <= '9') {
		long x = strtol(k, &end, 10);

		if (!*end)
			*index = x;
	}
	return k;
}

static cJSON *eval_key(const cJSON *v, const char *c, size_t n,
		       const char *rest, int depth)
{
	const cJSON *m = NULL;
	long index;
	char *k = plain_key(c, n, &index);

	if (!k)
		return NULL;
	if (cJSON_IsObject(v))
		m = cJSON_GetObjectItemCaseSensitive(v, k);
	else if (cJSON_IsArray(v) && index >= 0)
		m = cJSON_GetArrayItem(v, (int)index);
	free(k);
	return m ? eval(m, rest, 0, depth + 1) : NULL;
}

static cJSON *eval(const cJSON *v, const char *path, int map, int depth)
{
	size_t n;
	const char *rest;
	char sep;

	if (!v || depth > GJSON_MAX_DEPTH)
		return NULL;
	if (!*path)
		return cJSON_Duplicate(v, 1);
	if (map && cJSON_IsArray(v))
		return map_each(v, path, depth);
	n = component_len(path);
	sep = path[n];
	rest = sep ? path + n + 1 : path + n;
	if (n == 5 && !strncmp(path, "@this", 5))
		return eval(v, rest, 0, depth + 1);
	if (n == 1 && path[0] == '#') {
		if (!cJSON_IsArray(v))
			return NULL;
		if (*rest)
			return map_each(v, rest, depth);
		return cJSON_CreateNumber(cJSON_GetArraySize(v));
	}
	if (n >= 3 && !strncmp(path, "#(", 2))
		return eval_query(v, path, n, rest, sep, depth);
	if (n >= 2 && path[0] == '[') {
		cJSON *m = eval_multi(v, path, n, depth), *r;

		if (!m || !*rest)
			return m;
		r = eval(m, rest, 0, depth + 1);
		cJSON_Delete(m);
		return r;
	}
	return eval_key(v, path, n, rest, depth);
}

cJSON *kube_gjson_get(const cJSON *root, const char *path)
{
	if (!root || !path)
		return NULL;
	return eval(root, path, 0, 0);
}

int kube_gjson_match(const cJSON *root, const char *path)
{
	cJSON *r = kube_gjson_get(root, path);
	int ok;

	ok = r && !cJSON_IsNull(r) && !cJSON_IsFalse(r) &&
	     !(cJSON_IsArray(r) && !cJSON_GetArraySize(r));
	cJSON_Delete(r);
	return ok;
}
