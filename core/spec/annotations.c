/*
 * annotations.c - the `katibfs/` annotations of metadata.annotations: what
 * Katib's schema cannot say, in a place Katib ignores, so that the same YAML
 * runs on Katib (INTERFACE.md, "Beyond Katib: annotations").
 *
 * One table, one row per annotation: its name and the function that parses
 * its value into the experiment_spec. Adding an annotation is a row and a
 * function here. Annotations outside the `katibfs/` prefix belong to their
 * owners and are kept as they are; an unknown `katibfs/` one is EINVAL with
 * the closest known name, since a misspelt annotation would otherwise be
 * silently ignored.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec_i.h"
#include "spec/suggest.h"

#define PREFIX "katibfs/"

/* Parse one annotation's value (a scalar) at `path` into s. */
typedef int (*annotation_parse_fn)(struct experiment_spec *s, const char *path,
				   const struct ynode *v, struct kb_error *err);

/*
 * A duration as Go and kubectl write them ("90s", "30m", "1h30m", "1.5h")
 * or plain seconds ("600"). Returns seconds, or -1 if it does not parse.
 */
static double parse_duration(const char *text)
{
	const char *p = text;
	double total = 0, v;
	char *end;

	v = strtod(text, &end);
	if (end != text && !*end)
		return isfinite(v) ? v : -1; /* plain seconds */
	while (*p) {
		v = strtod(p, &end);
		if (end == p || v < 0 || !isfinite(v))
			return -1;
		p = end;
		if (!strncmp(p, "ms", 2)) {
			total += v / 1000;
			p += 2;
			continue;
		}
		if (*p == 'h')
			total += v * 3600;
		else if (*p == 'm')
			total += v * 60;
		else if (*p == 's')
			total += v;
		else
			return -1;
		p++;
	}
	return *text ? total : -1;
}

static int parse_trial_timeout(struct experiment_spec *s, const char *path,
			       const struct ynode *v, struct kb_error *err)
{
	double secs = parse_duration(v->value);

	if (secs <= 0)
		return fail(err, path, v,
			    "must be a positive duration such as 90s, 30m, "
			    "2h or 1h30m (got \"%s\")",
			    v->value);
	s->trial_timeout = secs;
	return 0;
}

static const struct annotation {
	const char *name;
	annotation_parse_fn parse;
} annotations[] = {
	{ TRIAL_TIMEOUT_ANNOTATION, parse_trial_timeout },
};

#define NANNOTATIONS (sizeof(annotations) / sizeof(annotations[0]))

static const struct annotation *annotation_find(const char *name)
{
	size_t i;

	for (i = 0; i < NANNOTATIONS; i++)
		if (!strcmp(annotations[i].name, name))
			return &annotations[i];
	return NULL;
}

static int unknown_annotation(const char *path, const struct ynode *key,
			      struct kb_error *err)
{
	struct suggest sg;
	char known[512] = "", hint[128];
	size_t i, len = 0;

	suggest_init(&sg, key->value);
	for (i = 0; i < NANNOTATIONS; i++) {
		suggest_offer(&sg, annotations[i].name);
		len += (size_t)snprintf(known + len, sizeof(known) - len,
					"%s%s", i ? ", " : "",
					annotations[i].name);
		if (len >= sizeof(known))
			break;
	}
	return fail(err, path, key, "unknown katibfs annotation (known: %s)%s",
		    known, suggest_hint(&sg, hint, sizeof(hint)));
}

int annotations_parse(struct experiment_spec *s, const struct ynode *map,
		      struct kb_error *err)
{
	const struct annotation *a;
	char path[PATHLEN];
	size_t i;
	int rc;

	for (i = 0; i < map->n; i++) {
		const struct ynode *key = map->keys[i];

		if (strncmp(key->value, PREFIX, strlen(PREFIX)))
			continue;
		snprintf(path, sizeof(path), "metadata.annotations[%s]",
			 key->value);
		a = annotation_find(key->value);
		if (!a)
			return unknown_annotation(path, key, err);
		rc = a->parse(s, path, map->items[i], err);
		if (rc)
			return rc;
	}
	return 0;
}
