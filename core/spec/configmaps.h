/*
 * configmaps.h - ConfigMap manifests read from files, the local backend's
 * source of configMap trial templates (core/spec/configmaps.c). Private to
 * core/ and its tests; the contract is configmap_dir_fetch() in
 * include/katib/spec.h.
 *
 * Ownership: a struct configmap_set owns every string in it; free it with
 * configmap_set_free(). Text returned by configmap_lookup() is the caller's.
 */
#ifndef KATIB_SPEC_CONFIGMAPS_H
#define KATIB_SPEC_CONFIGMAPS_H

#include <stddef.h>

#include "katib/error.h"

/* Larger manifest files are refused (a ConfigMap holds at most 1 MiB). */
#define CONFIGMAP_FILE_MAX (16 * 1024 * 1024)

struct configmap {
	char *file; /* the file it was read from, for messages */
	int line;   /* where its document starts in that file */
	char *ns;   /* metadata.namespace, or NULL */
	char *name; /* metadata.name */
	int has_data;
	size_t n;
	char **keys;
	char **values; /* NULL for an entry that is not a string */
};

struct configmap_set {
	struct configmap *items;
	size_t n;
};

/*
 * Append the `kind: ConfigMap` documents of a (multi-document) YAML text
 * read from `file` to set; documents of other kinds are skipped. 0, or
 * -EINVAL with err naming the file and line (not YAML, a ConfigMap without
 * metadata.name), -ENOMEM.
 */
int configmap_parse(const char *text, size_t len, const char *file,
		    struct configmap_set *set, struct kb_error *err);

/* configmap_parse() every *.yaml and *.yml file of dir (not recursive). */
int configmap_load_dir(const char *dir, struct configmap_set *set,
		       struct kb_error *err);

/*
 * The text of data[key] of ConfigMap ns/name in *text (heap). A ConfigMap
 * that names no namespace is in `home` (the experiment's namespace). 0, or
 * -EINVAL with err naming CONFIGMAP_NAME_FIELD (no such ConfigMap, defined
 * twice) or CONFIGMAP_PATH_FIELD (no data, no such key, not a string).
 */
int configmap_lookup(const struct configmap_set *set, const char *home,
		     const char *ns, const char *name, const char *key,
		     char **text, struct kb_error *err);

void configmap_set_free(struct configmap_set *set);

#endif
