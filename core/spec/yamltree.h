/*
 * yamltree.h - a small YAML node tree built with libyaml's parser.
 *
 * ytree_parse() reads one YAML document into a tree of struct ynode with
 * 1-based line numbers. Aliases are expanded into copies (counted against
 * `max_nodes`, so an alias bomb fails cleanly), `<<` merge keys are applied,
 * duplicate keys are an error, and nesting deeper than YTREE_MAX_DEPTH is
 * refused. The tree is owned by the caller: free it with ynode_free().
 *
 * Scalars resolve as YAML 1.2's core schema: a plain scalar `true`, `3`,
 * `0.5`, `null` or `~` is a bool, number or null; a quoted one, or one tagged
 * `!!str`, is always a string.
 */
#ifndef KATIB_YAMLTREE_H
#define KATIB_YAMLTREE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "katib/error.h"

#define YTREE_MAX_DEPTH 200

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

enum yscalar_type { YS_STRING, YS_NULL, YS_BOOL, YS_INT, YS_FLOAT };

struct ynode {
	enum ynode_kind kind;
	int line;    /* 1-based */
	int quoted;  /* scalar: quoted, block or tagged !!str */
	int literal; /* scalar: a `|` block, its text from line + 1 */
	char *value; /* scalar text, NUL-terminated */
	size_t len;
	/* SEQ: items[0..n); MAP: keys[i] (scalars) -> items[i] */
	struct ynode **keys;
	struct ynode **items;
	size_t n, cap;
};

int ytree_parse(const char *text, size_t len, size_t max_nodes,
		struct ynode **out, struct kb_error *err);
void ynode_free(struct ynode *n);

/* The value for `key` in a MAP node, or NULL. */
struct ynode *ynode_get(const struct ynode *map, const char *key);

/*
 * The line of the node a field path names ("spec.parameters[0].name",
 * "spec.algorithm.algorithmSettings[random_state]": a [word] in a list is
 * the item whose name is word), or of the deepest part of it that exists;
 * 0 when not even its first step does.
 */
int ynode_line_of_path(const struct ynode *root, const char *path);

/* The line of byte `offset` of a scalar's value (inside a `|` block too). */
int ynode_line_at(const struct ynode *n, size_t offset);

/* How a scalar resolves; non-scalars return YS_STRING. */
enum yscalar_type ynode_scalar_type(const struct ynode *n);
/* How plain text would resolve (for deciding whether to quote). */
enum yscalar_type yscalar_resolve(const char *s, size_t len);

/* 1 if n is absent or a null scalar. */
int ynode_is_null(const struct ynode *n);

/* The subtree as JSON (resolved scalars), or NULL on ENOMEM. */
cJSON *ynode_to_json(const struct ynode *n);

/* Emit a JSON value as a YAML document (block style). NULL on ENOMEM. */
char *json_to_yaml(const cJSON *root);

#endif
