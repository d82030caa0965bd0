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
#include <ctype.h>
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

/* A device name as CUDA_VISIBLE_DEVICES takes one: "0", "GPU-<uuid>", ... */
static int device_name_ok(const char *d, size_t len)
{
	size_t i;

	if (!len || len > 96)
		return 0;
	for (i = 0; i < len; i++)
		if (!(isalnum((unsigned char)d[i]) || strchr("-_:./", d[i])))
			return 0;
	return 1;
}

static int device_known(const struct experiment_spec *s, const char *d,
			size_t len)
{
	size_t i;

	for (i = 0; i < s->ndevices; i++)
		if (strlen(s->devices[i]) == len &&
		    !strncmp(s->devices[i], d, len))
			return 1;
	return 0;
}

/* "0,1,2,3": the devices trials share out, each named once. */
static int parse_devices(struct experiment_spec *s, const char *path,
			 const struct ynode *v, struct kb_error *err)
{
	const char *p = v->value;
	size_t len, cap = 0;
	char **grown;

	for (;;) {
		p += strspn(p, " \t");
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (!device_name_ok(p, len))
			return fail(err, path, v,
				    "must be a comma-separated list of device "
				    "names as CUDA_VISIBLE_DEVICES takes them, "
				    "such as \"0,1,2,3\" (got \"%s\")",
				    v->value);
		if (device_known(s, p, len))
			return fail(err, path, v,
				    "names device \"%.*s\" twice; each device "
				    "goes to one trial at a time",
				    (int)len, p);
		if (s->ndevices == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(s->devices, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			s->devices = grown;
		}
		if (!(s->devices[s->ndevices] = strndup(p, len)))
			return -ENOMEM;
		s->ndevices++;
		p += strcspn(p, ",");
		if (!*p)
			return 0;
		p++;
	}
}

/* "1": how many devices each running trial gets. */
static int parse_devices_per_trial(struct experiment_spec *s, const char *path,
				   const struct ynode *v, struct kb_error *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v->value, &end, 10);
	if (errno || end == v->value || *end || n < 1 || n > 1024)
		return fail(err, path, v,
			    "must be a whole number of devices from 1 up, such "
			    "as \"1\" (got \"%s\")",
			    v->value);
	s->devices_per_trial = (int)n;
	return 0;
}

/* What one annotation says only together with another. */
static int check_devices(struct experiment_spec *s, const struct ynode *map,
			 struct kb_error *err)
{
	const struct ynode *per = ynode_get(map, DEVICES_PER_TRIAL_ANNOTATION);

	if (!s->ndevices && s->devices_per_trial)
		return fail(err,
			    "metadata.annotations[" DEVICES_PER_TRIAL_ANNOTATION
			    "]",
			    per,
			    "needs " DEVICES_ANNOTATION
			    ", the devices to share out (e.g. \"0,1,2,3\")");
	if (!s->ndevices)
		return 0;
	if (!s->devices_per_trial)
		s->devices_per_trial = 1;
	if ((size_t)s->devices_per_trial > s->ndevices)
		return fail(err,
			    "metadata.annotations[" DEVICES_PER_TRIAL_ANNOTATION
			    "]",
			    per,
			    "asks %d devices per trial, but " DEVICES_ANNOTATION
			    " lists only %zu",
			    s->devices_per_trial, s->ndevices);
	return 0;
}

static const struct annotation {
	const char *name;
	annotation_parse_fn parse;
} annotations[] = {
	{ TRIAL_TIMEOUT_ANNOTATION, parse_trial_timeout },
	{ DEVICES_ANNOTATION, parse_devices },
	{ DEVICES_PER_TRIAL_ANNOTATION, parse_devices_per_trial },
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
	return check_devices(s, map, err);
}
