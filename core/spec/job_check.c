/*
 * job_check.c - a batch/v1 Job trialSpec checked against the Job schema
 * (core/spec/job_schema.h), as Katib's webhook does by converting the
 * trialSpec to a Job (validator.go, validateTrialJob): an unknown field
 * anywhere in it, or a value of the wrong type, is an error naming the
 * field's path and line, with a "did you mean" when a field is close.
 *
 * The types are those of Go's unstructured converter: an integer field
 * takes an integer (a float only when whole), a string field only a
 * string (a bare 3 must be quoted), an IntOrString an int32 or a string, a
 * Quantity a number or a string in Kubernetes' quantity syntax. A null is
 * an absent field. Owns nothing; the tree is the caller's.
 */
#include "spec_i.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/job_schema.h"
#include "spec/suggest.h"

#define WHY "(Katib's webhook converts a batch/v1 Job trialSpec to a Job)"

static int check_value(const struct ynode *n, enum job_kind kind,
		       enum job_kind elem, int type, const char *path,
		       struct kb_error *err);

static const char *scalar_word(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	switch (ynode_scalar_type(n)) {
	case YS_BOOL: return "the boolean";
	case YS_INT:
	case YS_FLOAT: return "the number";
	default: return "the string";
	}
}

static int wrong(const struct ynode *n, const char *path, const char *want,
		 struct kb_error *err)
{
	if (n->kind != YNODE_SCALAR)
		return fail(err, path, n, "must be %s, not %s " WHY, want,
			    scalar_word(n));
	return fail(err, path, n, "must be %s, not %s %s%s%s %s", want,
		    scalar_word(n),
		    ynode_scalar_type(n) == YS_STRING ? "\"" : "", n->value,
		    ynode_scalar_type(n) == YS_STRING ? "\"" : "", WHY);
}

/* A YAML number as an integer: whole floats count, as Go's converter
 * takes them. 0 when it is not one. */
static int whole_number(const struct ynode *n, double lo, double hi)
{
	enum yscalar_type t = ynode_scalar_type(n);
	char *end;
	double v;

	if (n->kind != YNODE_SCALAR || (t != YS_INT && t != YS_FLOAT))
		return 0;
	v = strtod(n->value, &end);
	return isfinite(v) && v == floor(v) && v >= lo && v <= hi;
}

static int is_string(const struct ynode *n)
{
	return n->kind == YNODE_SCALAR && ynode_scalar_type(n) == YS_STRING;
}

/* digits [. digits] | . digits, with an optional sign; *p moved past. */
static int quantity_number(const char **p, int sign_ok)
{
	const char *s = *p;
	size_t a, b = 0;

	if (sign_ok && (*s == '+' || *s == '-'))
		s++;
	a = strspn(s, "0123456789");
	s += a;
	if (*s == '.') {
		s++;
		b = strspn(s, "0123456789");
		s += b;
	}
	*p = s;
	return a + b > 0;
}

/* Kubernetes' quantity syntax (resource.ParseQuantity). */
static int is_quantity(const char *s)
{
	static const char *const suffixes[] = { "Ki", "Mi", "Gi", "Ti", "Pi",
						"Ei", "n",  "u",  "m",	"",
						"k",  "M",  "G",  "T",	"P",
						"E",  NULL };
	size_t i;

	if (!quantity_number(&s, 1))
		return 0;
	if (*s == 'e' || *s == 'E') {
		const char *x = s + 1;

		if (*x == '+' || *x == '-')
			x++;
		if (*x && strspn(x, "0123456789") == strlen(x))
			return 1;
	}
	for (i = 0; suffixes[i]; i++)
		if (!strcmp(s, suffixes[i]))
			return 1;
	return 0;
}

static int check_scalar(const struct ynode *n, enum job_kind kind,
			const char *path, struct kb_error *err)
{
	switch (kind) {
	case JOB_STRING:
	case JOB_TIME:
		return is_string(n)
			       ? 0
			       : wrong(n, path, "a string (quote it)", err);
	case JOB_INT32:
		return whole_number(n, INT32_MIN, INT32_MAX)
			       ? 0
			       : wrong(n, path, "an integer (int32)", err);
	case JOB_INT64:
		return whole_number(n, -9.2e18, 9.2e18)
			       ? 0
			       : wrong(n, path, "an integer (int64)", err);
	case JOB_BOOL:
		return n->kind == YNODE_SCALAR &&
				       ynode_scalar_type(n) == YS_BOOL
			       ? 0
			       : wrong(n, path, "true or false", err);
	case JOB_NUMBER:
		return n->kind == YNODE_SCALAR &&
				       (ynode_scalar_type(n) == YS_INT ||
					ynode_scalar_type(n) == YS_FLOAT)
			       ? 0
			       : wrong(n, path, "a number", err);
	case JOB_INT_OR_STRING:
		return is_string(n) || (ynode_scalar_type(n) == YS_INT &&
					whole_number(n, INT32_MIN, INT32_MAX))
			       ? 0
			       : wrong(n, path,
				       "an integer or a string (e.g. 8080 or "
				       "\"http\")",
				       err);
	case JOB_QUANTITY:
		if (n->kind == YNODE_SCALAR &&
		    (ynode_scalar_type(n) == YS_INT ||
		     ynode_scalar_type(n) == YS_FLOAT))
			return 0;
		if (is_string(n) && is_quantity(n->value))
			return 0;
		return wrong(n, path, "a quantity, e.g. 2, \"500m\" or \"1Gi\"",
			     err);
	default: return 0;
	}
}

static int check_object(const struct ynode *n, int type, const char *path,
			struct kb_error *err)
{
	const struct job_type *t = &job_types[type];
	char sub[PATHLEN], hint[100];
	struct suggest sg;
	size_t i, f;
	int rc;

	if (n->kind != YNODE_MAP)
		return wrong(n, path, "a mapping (key: value lines)", err);
	for (i = 0; i < n->n; i++) {
		const char *key = n->keys[i]->value;

		join(sub, path, key);
		for (f = 0; f < t->nfields; f++)
			if (!strcmp(t->fields[f].name, key))
				break;
		if (f == t->nfields) {
			suggest_init(&sg, key);
			for (f = 0; f < t->nfields; f++)
				suggest_offer(&sg, t->fields[f].name);
			return fail(err, sub, n->keys[i],
				    "unknown field of a %s " WHY "%s", t->name,
				    suggest_hint(&sg, hint, sizeof(hint)));
		}
		rc = check_value(n->items[i], t->fields[f].kind,
				 t->fields[f].elem, t->fields[f].type, sub,
				 err);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_value(const struct ynode *n, enum job_kind kind,
		       enum job_kind elem, int type, const char *path,
		       struct kb_error *err)
{
	char sub[PATHLEN];
	size_t i;
	int rc;

	if (ynode_is_null(n) && !n->quoted)
		return 0; /* an absent field */
	switch (kind) {
	case JOB_ANY: return 0;
	case JOB_OBJECT: return check_object(n, type, path, err);
	case JOB_ARRAY:
		if (n->kind != YNODE_SEQ)
			return wrong(n, path, "a list", err);
		for (i = 0; i < n->n; i++) {
			join_index(sub, path, i);
			rc = check_value(n->items[i], elem, JOB_ANY, type, sub,
					 err);
			if (rc)
				return rc;
		}
		return 0;
	case JOB_MAP:
		if (n->kind != YNODE_MAP)
			return wrong(n, path, "a mapping (key: value lines)",
				     err);
		for (i = 0; i < n->n; i++) {
			join(sub, path, n->keys[i]->value);
			rc = check_value(n->items[i], elem, JOB_ANY, type, sub,
					 err);
			if (rc)
				return rc;
		}
		return 0;
	default: return check_scalar(n, kind, path, err);
	}
}

int job_schema_check(const struct ynode *job, const char *path,
		     struct kb_error *err)
{
	return check_value(job, JOB_OBJECT, JOB_ANY, 0, path, err);
}
