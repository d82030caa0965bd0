/*
 * configmaps.c - ConfigMap manifests as the source of configMap trial
 * templates where there is no cluster to read them from: the local
 * backend's --configmaps DIR and `katibfs check --configmaps DIR`. Katib's
 * trial-configmap-source example ships its ConfigMap as YAML; the same file
 * serves here.
 *
 * Every *.yaml / *.yml file of the directory is read (multi-document files
 * too, with libyaml's document loader); documents of kind ConfigMap are
 * kept by namespace and name, others skipped. Only the top of a document is
 * walked (kind, metadata.name and .namespace, data's entries), so aliases
 * cost nothing. Read anew on every lookup: editing a file and writing the
 * spec again takes the new template, as applying it to a cluster would.
 *
 * Owns struct configmap_set (configmap_set_free) and the text handed out
 * by configmap_lookup() until the caller takes it. See configmaps.h.
 */
#include "spec/configmaps.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "katib/spec.h"

/* ---- one document ---- */

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		       ? (const char *)n->data.scalar.value
		       : NULL;
}

/* The value node of `key` in mapping m, or NULL. */
static yaml_node_t *map_get(yaml_document_t *d, const yaml_node_t *m,
			    const char *key)
{
	yaml_node_pair_t *p;
	const char *k;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		k = scalar(yaml_document_get_node(d, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static void configmap_clear(struct configmap *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->values[i]);
	}
	free(c->keys);
	free(c->values);
	free(c->file);
	free(c->ns);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* data's entries into c: a string per key, NULL for what is not one. */
static int take_data(yaml_document_t *d, const yaml_node_t *data,
		     struct configmap *c)
{
	yaml_node_pair_t *p;
	size_t n;

	if (!data || data->type != YAML_MAPPING_NODE)
		return 0;
	c->has_data = 1;
	n = (size_t)(data->data.mapping.pairs.top -
		     data->data.mapping.pairs.start);
	c->keys = calloc(n ? n : 1, sizeof(*c->keys));
	c->values = calloc(n ? n : 1, sizeof(*c->values));
	if (!c->keys || !c->values)
		return -ENOMEM;
	for (p = data->data.mapping.pairs.start;
	     p < data->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(d, p->key));
		const char *v = scalar(yaml_document_get_node(d, p->value));

		if (!k)
			continue;
		c->keys[c->n] = strdup(k);
		c->values[c->n] = dup_or_null(v);
		c->n++;
		if (!c->keys[c->n - 1] || (v && !c->values[c->n - 1]))
			return -ENOMEM;
	}
	return 0;
}

static int add(struct configmap_set *set, struct configmap *c)
{
	struct configmap *p =
		realloc(set->items, (set->n + 1) * sizeof(*set->items));

	if (!p)
		return -ENOMEM;
	set->items = p;
	set->items[set->n++] = *c;
	memset(c, 0, sizeof(*c));
	return 0;
}

/* One document: a ConfigMap into set, anything else skipped. */
static int take_document(yaml_document_t *d, const char *file,
			 struct configmap_set *set, struct kb_error *err)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *md;
	const char *kind = scalar(map_get(d, root, "kind"));
	struct configmap c = { 0 };
	int line = root ? (int)root->start_mark.line + 1 : 0, rc;

	if (!kind || strcmp(kind, "ConfigMap"))
		return 0;
	md = map_get(d, root, "metadata");
	if (!scalar(map_get(d, md, "name")) ||
	    !scalar(map_get(d, md, "name"))[0])
		return kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				    "%s, line %d: a ConfigMap without "
				    "metadata.name",
				    file, line);
	c.line = line;
	c.file = strdup(file);
	c.name = strdup(scalar(map_get(d, md, "name")));
	c.ns = dup_or_null(scalar(map_get(d, md, "namespace")));
	rc = c.file && c.name ? take_data(d, map_get(d, root, "data"), &c)
			      : -ENOMEM;
	rc = rc ? rc : add(set, &c);
	configmap_clear(&c);
	return rc;
}

int configmap_parse(const char *text, size_t len, const char *file,
		    struct configmap_set *set, struct kb_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!rc && !done) {
		if (!yaml_parser_load(&parser, &doc)) {
			rc = kb_error_set(
				err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				"%s, line %zu: not YAML (%s); fix the file "
				"in the --configmaps directory",
				file, parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "error");
			break;
		}
		done = !yaml_document_get_root_node(&doc);
		if (!done)
			rc = take_document(&doc, file, set, err);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- a directory ---- */

static int is_manifest(const char *name)
{
	size_t l = strlen(name);

	return name[0] != '.' && ((l > 5 && !strcmp(name + l - 5, ".yaml")) ||
				  (l > 4 && !strcmp(name + l - 4, ".yml")));
}

static int read_file(const char *path, char **text, size_t *len,
		     struct kb_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int rc = 0;

	if (!f)
		return kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				    "cannot read %s: %s", path,
				    strerror(errno));
	buf = malloc(CONFIGMAP_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIGMAP_FILE_MAX + 1, f);
	if (ferror(f))
		rc = kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				  "cannot read %s: %s", path, strerror(errno));
	else if (n > CONFIGMAP_FILE_MAX)
		rc = kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				  "%s is over %d bytes; a ConfigMap holds at "
				  "most 1 MiB",
				  path, CONFIGMAP_FILE_MAX);
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The manifest names of dir, sorted (messages and duplicates stable). */
static int list_dir(const char *dir, char ***names, size_t *n,
		    struct kb_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **p;
	size_t cnt = 0;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				    "cannot read the --configmaps directory "
				    "%s: %s",
				    dir, strerror(errno));
	while (!rc && (de = readdir(d))) {
		if (!is_manifest(de->d_name))
			continue;
		p = realloc(v, (cnt + 1) * sizeof(*v));
		if (p)
			v = p;
		if (!p || !(v[cnt] = strdup(de->d_name)))
			rc = -ENOMEM;
		else
			cnt++;
	}
	closedir(d);
	if (rc) {
		while (cnt--)
			free(v[cnt]);
		free(v);
		return rc;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

int configmap_load_dir(const char *dir, struct configmap_set *set,
		       struct kb_error *err)
{
	char **names, path[4096], *text = NULL;
	size_t n, i, len = 0;
	int rc = list_dir(dir, &names, &n, err);

	for (i = 0; !rc && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = read_file(path, &text, &len, err);
		if (rc)
			break;
		rc = configmap_parse(text, len, path, set, err);
		free(text);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- lookup ---- */

/* The keys of c as "a, b" in buf, for a message. */
static void key_list(const struct configmap *c, char *buf, size_t size)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < c->n && used + 1 < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i ? ", " : "", c->keys[i]);
}

static int lookup_key(const struct configmap *c, const char *key, char **text,
		      struct kb_error *err)
{
	char keys[300];
	size_t i;

	for (i = 0; i < c->n && strcmp(c->keys[i], key); i++)
		;
	key_list(c, keys, sizeof(keys));
	if (!c->has_data || !c->n)
		return kb_error_set(err, -EINVAL, CONFIGMAP_PATH_FIELD, 0,
				    "ConfigMap %s (%s, line %d) has no data; "
				    "put the trial object under data.%s",
				    c->name, c->file, c->line, key);
	if (i == c->n)
		return kb_error_set(err, -EINVAL, CONFIGMAP_PATH_FIELD, 0,
				    "ConfigMap %s (%s, line %d) has no key "
				    "\"%s\" in its data (it has: %s)",
				    c->name, c->file, c->line, key, keys);
	if (!c->values[i])
		return kb_error_set(err, -EINVAL, CONFIGMAP_PATH_FIELD, 0,
				    "data[%s] of ConfigMap %s (%s) is not a "
				    "string: ConfigMap data holds text, so "
				    "write the trial object as a block "
				    "(%s: |)",
				    key, c->name, c->file, key);
	*text = strdup(c->values[i]);
	return *text ? 0 : -ENOMEM;
}

int configmap_lookup(const struct configmap_set *set, const char *home,
		     const char *ns, const char *name, const char *key,
		     char **text, struct kb_error *err)
{
	const struct configmap *found = NULL, *c;
	size_t i;

	*text = NULL;
	for (i = 0; i < set->n; i++) {
		c = &set->items[i];
		if (strcmp(c->name, name) || strcmp(c->ns ? c->ns : home, ns))
			continue;
		if (found)
			return kb_error_set(
				err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				"ConfigMap %s/%s is defined twice (%s, line "
				"%d and %s, line %d); keep one",
				ns, name, found->file, found->line, c->file,
				c->line);
		found = c;
	}
	if (found)
		return lookup_key(found, key, text, err);
	return kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
			    "no ConfigMap %s in namespace %s among the "
			    "--configmaps manifests (%zu ConfigMap%s read; "
			    "one without metadata.namespace is in %s)",
			    name, ns, set->n, set->n == 1 ? "" : "s", home);
}

void configmap_set_free(struct configmap_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		configmap_clear(&set->items[i]);
	free(set->items);
	memset(set, 0, sizeof(*set));
}

/* ---- as a template source ---- */

int configmap_dir_fetch(void *arg, const char *exp_ns, const char *ns,
			const char *name, const char *key, char **text,
			struct kb_error *err)
{
	const struct configmap_dir *cd = arg;
	struct configmap_set set = { 0 };
	const char *home = exp_ns	    ? exp_ns
			   : cd->default_ns ? cd->default_ns
					    : "default";
	int rc;

	*text = NULL;
	if (!cd->dir)
		return kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				    "the trial template is in ConfigMap %s/%s, "
				    "and without a cluster katibfs reads "
				    "ConfigMaps from manifests: pass "
				    "--configmaps DIR (a directory holding "
				    "its YAML), or inline the template as "
				    "spec.trialTemplate.trialSpec",
				    ns, name);
	rc = configmap_load_dir(cd->dir, &set, err);
	if (!rc)
		rc = configmap_lookup(&set, home, ns, name, key, text, err);
	configmap_set_free(&set);
	return rc;
}
