/*
 * yamltree.c - YAML node tree on libyaml (see core/spec/yamltree.h).
 *
 * Owns: the node tree it builds (ynode_free() frees it).
 */
#include "spec/yamltree.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util/strbuf.h"

struct anchor {
	char *name;
	struct ynode *node;
};

struct builder {
	struct ynode *stack[YTREE_MAX_DEPTH + 1];
	struct ynode *pending[YTREE_MAX_DEPTH + 1]; /* map key awaiting value */
	size_t depth;
	struct ynode **dead; /* merged-away nodes anchors may point at */
	size_t ndead;
	struct ynode *root;
	struct anchor *anchors;
	size_t nanchors, canchors;
	size_t nodes, max_nodes;
	int docs;
	struct kb_error *err;
};

void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		ynode_free(n->items[i]);
		if (n->keys)
			ynode_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->value);
	free(n);
}

static int count_node(struct builder *b, int line)
{
	if (++b->nodes <= b->max_nodes)
		return 0;
	return kb_error_set(b->err, -EINVAL, "", line,
			    "the YAML has more than %zu nodes once its aliases "
			    "are expanded; write the values out or make the "
			    "spec smaller",
			    b->max_nodes);
}

static struct ynode *node_new(enum ynode_kind kind, int line)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = line;
	}
	return n;
}

static int node_append(struct ynode *parent, struct ynode *key,
		       struct ynode *item)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct ynode **items, **keys;

		items = realloc(parent->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		parent->items = items;
		if (parent->kind == YNODE_MAP) {
			keys = realloc(parent->keys, cap * sizeof(*keys));
			if (!keys)
				return -ENOMEM;
			parent->keys = keys;
		}
		parent->cap = cap;
	}
	if (parent->kind == YNODE_MAP)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = item;
	return 0;
}

static struct ynode *node_copy(struct builder *b, const struct ynode *src,
			       int line, int *rc)
{
	struct ynode *n;
	size_t i;

	*rc = count_node(b, line);
	if (*rc)
		return NULL;
	n = node_new(src->kind, src->line);
	if (!n)
		goto nomem;
	n->quoted = src->quoted;
	n->literal = src->literal;
	if (src->value) {
		n->value = malloc(src->len + 1);
		if (!n->value)
			goto nomem;
		memcpy(n->value, src->value, src->len + 1);
		n->len = src->len;
	}
	for (i = 0; i < src->n; i++) {
		struct ynode *k = NULL, *v;

		if (src->kind == YNODE_MAP) {
			k = node_copy(b, src->keys[i], line, rc);
			if (!k)
				goto fail;
		}
		v = node_copy(b, src->items[i], line, rc);
		if (!v || node_append(n, k, v)) {
			ynode_free(k);
			ynode_free(v);
			if (v)
				*rc = -ENOMEM;
			goto fail;
		}
	}
	return n;
nomem:
	*rc = -ENOMEM;
fail:
	ynode_free(n);
	return NULL;
}

static int add_anchor(struct builder *b, const yaml_char_t *name,
		      struct ynode *n)
{
	if (!name)
		return 0;
	if (b->nanchors == b->canchors) {
		size_t cap = b->canchors ? b->canchors * 2 : 8;
		struct anchor *a = realloc(b->anchors, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		b->anchors = a;
		b->canchors = cap;
	}
	b->anchors[b->nanchors].name = strdup((const char *)name);
	if (!b->anchors[b->nanchors].name)
		return -ENOMEM;
	b->anchors[b->nanchors++].node = n;
	return 0;
}

static struct ynode *find_anchor(struct builder *b, const char *name)
{
	size_t i;

	/* the latest definition wins (YAML allows redefinition) */
	for (i = b->nanchors; i-- > 0;)
		if (!strcmp(b->anchors[i].name, name))
			return b->anchors[i].node;
	return NULL;
}

/* Attach a finished node to the node on top of the stack (or the root). */
static int attach(struct builder *b, struct ynode *n)
{
	struct ynode *parent;

	if (!b->depth) {
		if (b->root) {
			ynode_free(n);
			return kb_error_set(b->err, -EINVAL, "", n->line,
					    "more than one YAML document");
		}
		b->root = n;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == YNODE_SEQ) {
		if (node_append(parent, NULL, n)) {
			ynode_free(n);
			return -ENOMEM;
		}
		return 0;
	}
	/* map: a key waits in pending[] until its value arrives */
	if (!b->pending[b->depth - 1]) {
		if (n->kind != YNODE_SCALAR) {
			int line = n->line;

			ynode_free(n);
			return kb_error_set(b->err, -EINVAL, "", line,
					    "a mapping key must be a plain "
					    "scalar, not a list or mapping");
		}
		b->pending[b->depth - 1] = n;
		return 0;
	}
	/* a mapping or list value is "at" its key's line */
	n->line = b->pending[b->depth - 1]->line;
	if (node_append(parent, b->pending[b->depth - 1], n)) {
		ynode_free(n);
		return -ENOMEM;
	}
	b->pending[b->depth - 1] = NULL;
	return 0;
}

static int is_merge_key(const struct ynode *k)
{
	return !k->quoted && !strcmp(k->value, "<<");
}

static int merge_one(struct ynode *map, const struct ynode *src,
		     struct builder *b)
{
	size_t i;
	int rc;

	if (src->kind != YNODE_MAP)
		return kb_error_set(b->err, -EINVAL, "", src->line,
				    "`<<` must merge a mapping or a list of "
				    "mappings");
	for (i = 0; i < src->n; i++) {
		struct ynode *k, *v;

		if (ynode_get(map, src->keys[i]->value))
			continue;
		k = node_copy(b, src->keys[i], src->line, &rc);
		if (!k)
			return rc;
		v = node_copy(b, src->items[i], src->line, &rc);
		if (!v || node_append(map, k, v)) {
			ynode_free(k);
			ynode_free(v);
			return v ? -ENOMEM : rc;
		}
	}
	return 0;
}

/* Check duplicate keys, then apply `<<` merges (explicit keys win). */
static int finish_map(struct builder *b, struct ynode *map)
{
	struct ynode **merges;
	size_t i, j, nm = 0, w = 0;
	int rc = 0;

	for (i = 0; i < map->n; i++)
		for (j = 0; j < i; j++)
			if (!is_merge_key(map->keys[i]) &&
			    !strcmp(map->keys[i]->value, map->keys[j]->value))
				return kb_error_set(
					b->err, -EINVAL, map->keys[i]->value,
					map->keys[i]->line,
					"duplicate key (first at line %d)",
					map->keys[j]->line);
	merges = realloc(b->dead, (b->ndead + map->n + 1) * sizeof(*merges));
	if (!merges)
		return -ENOMEM;
	b->dead = merges;
	merges += b->ndead;
	for (i = 0; i < map->n; i++) {
		if (is_merge_key(map->keys[i])) {
			ynode_free(map->keys[i]);
			merges[nm++] = map->items[i];
			continue;
		}
		map->keys[w] = map->keys[i];
		map->items[w++] = map->items[i];
	}
	map->n = w;
	for (i = 0; i < nm && !rc; i++) {
		if (merges[i]->kind == YNODE_SEQ) {
			for (j = 0; j < merges[i]->n && !rc; j++)
				rc = merge_one(map, merges[i]->items[j], b);
		} else {
			rc = merge_one(map, merges[i], b);
		}
	}
	b->ndead += nm;
	return rc;
}

static int on_scalar(struct builder *b, yaml_event_t *ev, int line)
{
	struct ynode *n;
	const char *tag = (const char *)ev->data.scalar.tag;
	int rc = count_node(b, line);

	if (rc)
		return rc;
	n = node_new(YNODE_SCALAR, line);
	if (!n)
		return -ENOMEM;
	n->len = ev->data.scalar.length;
	n->value = malloc(n->len + 1);
	if (!n->value) {
		free(n);
		return -ENOMEM;
	}
	memcpy(n->value, ev->data.scalar.value, n->len);
	n->value[n->len] = 0;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag && !strcmp(tag, YAML_STR_TAG));
	n->literal = ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE;
	if (add_anchor(b, ev->data.scalar.anchor, n)) {
		ynode_free(n);
		return -ENOMEM;
	}
	return attach(b, n);
}

static int on_start(struct builder *b, enum ynode_kind kind,
		    const yaml_char_t *anchor, int line)
{
	struct ynode *n;
	int rc = count_node(b, line);

	if (rc)
		return rc;
	if (b->depth >= YTREE_MAX_DEPTH)
		return kb_error_set(b->err, -EINVAL, "", line,
				    "the YAML nests deeper than %d levels",
				    YTREE_MAX_DEPTH);
	n = node_new(kind, line);
	if (!n)
		return -ENOMEM;
	if (add_anchor(b, anchor, n)) {
		free(n);
		return -ENOMEM;
	}
	b->pending[b->depth] = NULL;
	b->stack[b->depth++] = n;
	return 0;
}

static int on_end(struct builder *b)
{
	struct ynode *n = b->stack[--b->depth];
	int rc = 0;

	ynode_free(b->pending[b->depth]); /* dangling key, if any */
	b->pending[b->depth] = NULL;
	if (n->kind == YNODE_MAP)
		rc = finish_map(b, n);
	if (rc) {
		ynode_free(n);
		return rc;
	}
	return attach(b, n);
}

static int on_alias(struct builder *b, yaml_event_t *ev, int line)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ynode *src = find_anchor(b, name), *n;
	int rc;

	if (!src)
		return kb_error_set(b->err, -EINVAL, "", line,
				    "unknown anchor *%s", name);
	n = node_copy(b, src, line, &rc);
	if (!n)
		return rc;
	n->line = line;
	return attach(b, n);
}

static int on_event(struct builder *b, yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++)
			return kb_error_set(b->err, -EINVAL, "", line,
					    "more than one YAML document "
					    "(`---`); write one experiment");
		return 0;
	case YAML_SCALAR_EVENT: return on_scalar(b, ev, line);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, YNODE_SEQ, ev->data.sequence_start.anchor,
				line);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, YNODE_MAP, ev->data.mapping_start.anchor,
				line);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: return on_end(b);
	case YAML_ALIAS_EVENT: return on_alias(b, ev, line);
	default: return 0;
	}
}

static void builder_free(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	while (b->depth > 0) {
		b->depth--;
		ynode_free(b->pending[b->depth]);
		ynode_free(b->stack[b->depth]);
	}
	for (i = 0; i < b->ndead; i++)
		ynode_free(b->dead[i]);
	free(b->dead);
}

int ytree_parse(const char *text, size_t len, size_t max_nodes,
		struct ynode **out, struct kb_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct builder *b;
	int rc = 0, done = 0;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->max_nodes = max_nodes;
	b->err = err;
	if (!yaml_parser_initialize(&parser)) {
		free(b);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = kb_error_set(err, -EINVAL, "",
					  (int)parser.problem_mark.line + 1,
					  "YAML syntax error: %s%s%s",
					  parser.problem ? parser.problem
							 : "invalid YAML",
					  parser.context ? " " : "",
					  parser.context ? parser.context : "");
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!rc && !b->root)
		rc = kb_error_set(err, -EINVAL, "", 1, "the spec is empty");
	if (!rc) {
		*out = b->root;
		b->root = NULL;
	}
	ynode_free(b->root);
	builder_free(b);
	free(b);
	return rc;
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (!map || map->kind != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->value, key))
			return map->items[i];
	return NULL;
}

int ynode_line_at(const struct ynode *n, size_t offset)
{
	size_t i;
	int line;

	if (!n->literal || !n->value)
		return n->line;
	line = n->line + 1;
	for (i = 0; i < offset && i < n->len; i++)
		line += n->value[i] == '\n';
	return line;
}

/* One step of a field path: a map key, a list index, or a list item's name */
static const struct ynode *path_step(const struct ynode *n, const char *key,
				     int bracket)
{
	const struct ynode *name;
	char *end;
	size_t i;
	long idx;

	if (!n)
		return NULL;
	if (n->kind == YNODE_MAP)
		return ynode_get(n, key);
	if (n->kind != YNODE_SEQ || !bracket)
		return NULL;
	idx = strtol(key, &end, 10);
	if (*key && !*end)
		return idx >= 0 && (size_t)idx < n->n ? n->items[idx] : NULL;
	for (i = 0; i < n->n; i++) {
		name = ynode_get(n->items[i], "name");
		if (name && name->kind == YNODE_SCALAR &&
		    !strcmp(name->value, key))
			return n->items[i];
	}
	return NULL;
}

int ynode_line_of_path(const struct ynode *root, const char *path)
{
	const struct ynode *n = root, *next;
	char key[256];
	const char *p = path, *end;
	int line = 0, bracket;
	size_t len;

	while (p && *p) {
		bracket = *p == '[';
		if (bracket) {
			p++;
			end = strchr(p, ']');
		} else {
			end = p + strcspn(p, ".[");
		}
		if (!end)
			break;
		len = (size_t)(end - p);
		if (len >= sizeof(key))
			break;
		memcpy(key, p, len);
		key[len] = '\0';
		next = path_step(n, key, bracket);
		if (!next)
			break;
		n = next;
		line = n->line;
		p = end + bracket;
		if (*p == '.')
			p++;
	}
	return line;
}

static int all_in(const char *s, size_t len, const char *set)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!s[i] || !strchr(set, s[i]))
			return 0;
	return 1;
}

static int is_float_text(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t d = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, d++;
		if (!d)
			return 0;
	}
	return i == len;
}

static int is_special_float(const char *s, size_t len)
{
	static const char *const specials[] = {
		".inf",	 "+.inf", "-.inf", ".Inf", "+.Inf", "-.Inf", ".INF",
		"+.INF", "-.INF", ".nan",  ".NaN", ".NAN",  NULL
	};
	size_t i;

	for (i = 0; specials[i]; i++)
		if (strlen(specials[i]) == len && !memcmp(s, specials[i], len))
			return 1;
	return 0;
}

static int text_is(const char *s, size_t len, const char *const *words)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (strlen(words[i]) == len && !memcmp(s, words[i], len))
			return 1;
	return 0;
}

enum yscalar_type yscalar_resolve(const char *s, size_t len)
{
	static const char *const nulls[] = { "",     "~",    "null",
					     "Null", "NULL", NULL };
	static const char *const bools[] = { "true",  "True",  "TRUE", "false",
					     "False", "FALSE", NULL };
	const char *d = s;
	size_t dl = len;

	if (text_is(s, len, nulls))
		return YS_NULL;
	if (text_is(s, len, bools))
		return YS_BOOL;
	if (dl && (*d == '-' || *d == '+'))
		d++, dl--;
	if (all_in(d, dl, "0123456789"))
		return YS_INT;
	if (len > 2 && s[0] == '0' && s[1] == 'x' &&
	    all_in(s + 2, len - 2, "0123456789abcdefABCDEF"))
		return YS_INT;
	if (len > 2 && s[0] == '0' && s[1] == 'o' &&
	    all_in(s + 2, len - 2, "01234567"))
		return YS_INT;
	if (is_float_text(s, len) || is_special_float(s, len))
		return YS_FLOAT;
	return YS_STRING;
}

enum yscalar_type ynode_scalar_type(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || n->quoted)
		return YS_STRING;
	return yscalar_resolve(n->value, n->len);
}

int ynode_is_null(const struct ynode *n)
{
	return !n || ynode_scalar_type(n) == YS_NULL;
}

static cJSON *scalar_to_json(const struct ynode *n)
{
	double v;

	switch (ynode_scalar_type(n)) {
	case YS_NULL: return cJSON_CreateNull();
	case YS_BOOL:
		return cJSON_CreateBool(n->value[0] == 't' ||
					n->value[0] == 'T');
	case YS_INT:
		if (n->len > 2 && n->value[1] == 'x')
			v = (double)strtoull(n->value + 2, NULL, 16);
		else if (n->len > 2 && n->value[1] == 'o')
			v = (double)strtoull(n->value + 2, NULL, 8);
		else
			v = strtod(n->value, NULL);
		return cJSON_CreateNumber(v);
	case YS_FLOAT:
		v = strtod(n->value, NULL);
		if (isfinite(v))
			return cJSON_CreateNumber(v);
		/* JSON has no inf/nan: keep the text */
		return cJSON_CreateString(n->value);
	default: return cJSON_CreateString(n->value);
	}
}

cJSON *ynode_to_json(const struct ynode *n)
{
	cJSON *j, *c;
	size_t i;

	if (n->kind == YNODE_SCALAR)
		return scalar_to_json(n);
	j = n->kind == YNODE_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
	if (!j)
		return NULL;
	for (i = 0; i < n->n; i++) {
		c = ynode_to_json(n->items[i]);
		if (!c)
			goto fail;
		if (n->kind == YNODE_MAP)
			cJSON_AddItemToObject(j, n->keys[i]->value, c);
		else
			cJSON_AddItemToArray(j, c);
	}
	return j;
fail:
	cJSON_Delete(j);
	return NULL;
}

/* ---- emitting ---- */

/* libyaml's output handler: append to a strbuf (0 tells libyaml it failed). */
static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	return strbuf_append(data, (const char *)buffer, size) == 0;
}

static void number_text(double v, char *buf, size_t size)
{
	int prec;

	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, size, "%.0f", v);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static int emit_scalar(yaml_emitter_t *e, const char *s, int as_string)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	int plain_ok = 1;

	if (as_string && yscalar_resolve(s, strlen(s)) != YS_STRING) {
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		plain_ok = 0;
	} else if (as_string && strchr(s, '\n')) {
		style = YAML_LITERAL_SCALAR_STYLE;
	}
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)(uintptr_t)s,
					  (int)strlen(s), plain_ok, 1, style))
		return -ENOMEM;
	return yaml_emitter_emit(e, &ev) ? 0 : -EIO;
}

static int emit_json(yaml_emitter_t *e, const cJSON *j)
{
	yaml_event_t ev;
	const cJSON *c;
	char num[64];
	int rc;

	if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
		int obj = cJSON_IsObject(j);

		if (obj)
			yaml_mapping_start_event_initialize(
				&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		else
			yaml_sequence_start_event_initialize(
				&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(e, &ev))
			return -EIO;
		cJSON_ArrayForEach(c, j)
		{
			if (obj && (rc = emit_scalar(e, c->string, 1)))
				return rc;
			if ((rc = emit_json(e, c)))
				return rc;
		}
		if (obj)
			yaml_mapping_end_event_initialize(&ev);
		else
			yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev) ? 0 : -EIO;
	}
	if (cJSON_IsString(j))
		return emit_scalar(e, j->valuestring, 1);
	if (cJSON_IsNumber(j)) {
		number_text(j->valuedouble, num, sizeof(num));
		return emit_scalar(e, num, 0);
	}
	if (cJSON_IsBool(j))
		return emit_scalar(e, cJSON_IsTrue(j) ? "true" : "false", 0);
	return emit_scalar(e, "null", 0);
}

char *json_to_yaml(const cJSON *root)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	struct strbuf o = { 0 };
	int ok;

	if (!yaml_emitter_initialize(&e))
		return NULL;
	yaml_emitter_set_output(&e, write_handler, &o);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_indent(&e, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	ok = yaml_emitter_emit(&e, &ev);
	if (ok) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		ok = yaml_emitter_emit(&e, &ev);
	}
	ok = ok && !emit_json(&e, root);
	if (ok) {
		yaml_document_end_event_initialize(&ev, 1);
		ok = yaml_emitter_emit(&e, &ev);
	}
	if (ok) {
		yaml_stream_end_event_initialize(&ev);
		ok = yaml_emitter_emit(&e, &ev) && yaml_emitter_flush(&e);
	}
	yaml_emitter_delete(&e);
	if (!ok) {
		strbuf_free(&o);
		return NULL;
	}
	return strbuf_finish(&o, NULL);
}
