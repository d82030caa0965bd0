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
#include <sys/stat.h>
#include <unistd.h>

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

/* The item of a comma-separated list at *p: *p moved past the blanks
 * before it, its length without the blanks after it returned, and *next
 * the item after its comma (NULL when it is the last). */
static size_t list_item(const char **p, const char **next)
{
	size_t len;

	*p += strspn(*p, " \t");
	len = strcspn(*p, ",");
	*next = (*p)[len] ? *p + len + 1 : NULL;
	while (len && ((*p)[len - 1] == ' ' || (*p)[len - 1] == '\t'))
		len--;
	return len;
}

/* Append a copy of text[0..len) to the string vector *v (n of them). */
static int strv_push(char ***v, size_t *n, const char *text, size_t len)
{
	char **grown = realloc(*v, (*n + 2) * sizeof(**v));

	if (!grown)
		return -ENOMEM;
	*v = grown;
	if (!(grown[*n] = strndup(text, len)))
		return -ENOMEM;
	grown[++*n] = NULL;
	return 0;
}

/* "0,1,2,3": the devices trials share out, each named once. */
static int parse_devices(struct experiment_spec *s, const char *path,
			 const struct ynode *v, struct kb_error *err)
{
	const char *p, *next;
	size_t len;
	int rc;

	for (p = v->value; p; p = next) {
		len = list_item(&p, &next);
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
		rc = strv_push(&s->devices, &s->ndevices, p, len);
		if (rc)
			return rc;
	}
	return 0;
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

/* "exp-a, exp-b": experiments whose Succeeded trials are the history. */
static int parse_warm_start(struct experiment_spec *s, const char *path,
			    const struct ynode *v, struct kb_error *err)
{
	const char *p, *next;
	char name[EXPERIMENT_NAME_MAX + 2];
	size_t len, i;
	int rc;

	for (p = v->value; p; p = next) {
		len = list_item(&p, &next);
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (!len || len > EXPERIMENT_NAME_MAX ||
		    spec_validate_name(name, NULL))
			return fail(err, path, v,
				    "must be a comma-separated list of "
				    "experiment names on this mount, such as "
				    "\"search-1, search-2\" (\"%.*s\" is not "
				    "one)",
				    (int)(len > 64 ? 64 : len), p);
		for (i = 0; i < s->nwarm_start; i++)
			if (!strcmp(s->warm_start[i], name))
				return fail(err, path, v, "names %s twice",
					    name);
		rc = strv_push(&s->warm_start, &s->nwarm_start, p, len);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The next word of a command line as a shell splits it, without
 * expansions: blanks separate words, '...' is literal, "..." takes \" and
 * \\, a backslash outside quotes takes the next character. The word goes
 * into *out (heap); *p moves past it. 1 a word, 0 none left, -EINVAL an
 * unterminated quote, -ENOMEM.
 */
static int next_word(const char **p, char **out)
{
	const char *s = *p + strspn(*p, " \t\n\r");
	char *w = malloc(strlen(s) + 1), quote = 0;
	size_t n = 0;

	if (!w)
		return -ENOMEM;
	if (!*s) {
		free(w);
		*p = s;
		return 0;
	}
	for (; *s && (quote || !strchr(" \t\n\r", *s)); s++) {
		if (quote == '\'' && *s != '\'')
			w[n++] = *s;
		else if (quote == '\'' || (quote == '"' && *s == '"'))
			quote = 0;
		else if (!quote && (*s == '\'' || *s == '"'))
			quote = *s;
		else if (*s == '\\' && s[1] &&
			 (!quote || s[1] == '"' || s[1] == '\\'))
			w[n++] = *++s;
		else
			w[n++] = *s;
	}
	w[n] = '\0';
	*p = s;
	if (quote) {
		free(w);
		return -EINVAL;
	}
	*out = w;
	return 1;
}

/* 0 if `prog` names an executable file: an absolute path, or a name found
 * on PATH; else a sentence saying what is wrong in why. */
static int program_ok(const char *prog, char *why, size_t size)
{
	const char *path = getenv("PATH"), *p;
	char full[4096];
	struct stat st;
	size_t len;

	if (strchr(prog, '/')) {
		if (prog[0] != '/')
			return snprintf(why, size,
					"\"%s\" is a relative path; give an "
					"absolute one or a command on PATH",
					prog),
			       -1;
		if (stat(prog, &st) || !S_ISREG(st.st_mode))
			return snprintf(why, size, "%s does not exist%s", prog,
					errno == ENOENT ? "" : " as a file"),
			       -1;
		if (access(prog, X_OK))
			return snprintf(why, size,
					"%s is not executable (chmod +x %s)",
					prog, prog),
			       -1;
		return 0;
	}
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;
	     p += len + (p[len] == ':')) {
		len = strcspn(p, ":");
		snprintf(full, sizeof(full), "%.*s/%s", (int)len, p, prog);
		if (len && !stat(full, &st) && S_ISREG(st.st_mode) &&
		    !access(full, X_OK))
			return 0;
	}
	snprintf(why, size, "no program \"%s\" on PATH (%s)", prog,
		 path ? path : "/usr/local/bin:/usr/bin:/bin");
	return -1;
}

/* "/path/to/program args": the suggestion service of one's own. */
static int parse_suggestion_command(struct experiment_spec *s, const char *path,
				    const struct ynode *v, struct kb_error *err)
{
	const char *p = v->value;
	char why[512], *w = NULL;
	int rc;

	while ((rc = next_word(&p, &w)) > 0) {
		rc = strv_push(&s->suggestion_command, &s->nsuggestion_command,
			       w, strlen(w));
		free(w);
		if (rc)
			return rc;
	}
	if (rc == -EINVAL)
		return fail(err, path, v,
			    "has a quote that is not closed; the value is a "
			    "program and its arguments, split as a shell "
			    "splits words");
	if (rc)
		return rc;
	if (!s->nsuggestion_command)
		return fail(err, path, v,
			    "must name a program, such as "
			    "\"/usr/local/bin/my-search --seed 1\"");
	if (program_ok(s->suggestion_command[0], why, sizeof(why)))
		return fail(err, path, v, "%s", why);
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

/* ---- katibfs/objectives: "latency=minimize, size=maximize" ---- */

#define OBJECTIVES_PATH "metadata.annotations[" OBJECTIVES_ANNOTATION "]"

static int objectives_format_error(const char *path, const struct ynode *v,
				   struct kb_error *err)
{
	return fail(err, path, v,
		    "must be a comma-separated list of metric=minimize or "
		    "metric=maximize, such as \"latency=minimize, "
		    "size=maximize\" (got \"%s\")",
		    v->value);
}

/* The direction word d (len bytes): 0 minimize, 1 maximize, -1 neither. */
static int objective_direction(const char *d, size_t len)
{
	if (len == 8 && !strncmp(d, "minimize", 8))
		return 0;
	if (len == 8 && !strncmp(d, "maximize", 8))
		return 1;
	return -1;
}

static int objective_known(const struct experiment_spec *s, const char *name,
			   size_t len)
{
	size_t i;

	for (i = 0; i < s->nobjectives; i++)
		if (strlen(s->objectives[i].metric) == len &&
		    !strncmp(s->objectives[i].metric, name, len))
			return 1;
	return 0;
}

static int objective_add(struct experiment_spec *s, const char *name,
			 size_t len, int maximize)
{
	struct extra_objective *grown;

	grown = realloc(s->objectives, (s->nobjectives + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->objectives = grown;
	grown[s->nobjectives].maximize = maximize;
	grown[s->nobjectives].metric = strndup(name, len);
	if (!grown[s->nobjectives].metric)
		return -ENOMEM;
	s->nobjectives++;
	return 0;
}

/* One "name=direction" item of p (item bytes, blanks trimmed). */
static int parse_objective_item(struct experiment_spec *s, const char *path,
				const struct ynode *v, const char *p,
				size_t item, struct kb_error *err)
{
	static const char *const directions[] = { "minimize", "maximize",
						  NULL };
	const char *eq = memchr(p, '=', item);
	size_t nlen, dlen;
	char word[64], hint[96];
	int max;

	if (!eq)
		return objectives_format_error(path, v, err);
	nlen = (size_t)(eq - p);
	while (nlen && strchr(" \t", p[nlen - 1]))
		nlen--;
	eq++;
	eq += strspn(eq, " \t");
	dlen = item - (size_t)(eq - p);
	if (!nlen || !dlen || memchr(p, ' ', nlen) || memchr(eq, '=', dlen))
		return objectives_format_error(path, v, err);
	max = objective_direction(eq, dlen);
	if (max < 0) {
		snprintf(word, sizeof(word), "%.*s", (int)dlen, eq);
		return fail(err, path, v,
			    "objective \"%.*s\": the direction must be "
			    "minimize or maximize (got \"%s\")%s",
			    (int)nlen, p, word,
			    suggest_list_hint(word, directions, hint,
					      sizeof(hint)));
	}
	if (s->nobjectives + 1 >= SPEC_MAX_OBJECTIVES)
		return fail(err, path, v,
			    "lists more than %d further objectives; katibfs "
			    "optimizes at most %d in all",
			    SPEC_MAX_OBJECTIVES - 1, SPEC_MAX_OBJECTIVES);
	if (objective_known(s, p, nlen))
		return fail(err, path, v,
			    "names the objective \"%.*s\" twice; each "
			    "objective is listed once",
			    (int)nlen, p);
	return objective_add(s, p, nlen, max);
}

static int parse_objectives(struct experiment_spec *s, const char *path,
			    const struct ynode *v, struct kb_error *err)
{
	const char *p, *next;
	size_t len;
	int rc;

	for (p = v->value; p; p = next) {
		len = list_item(&p, &next);
		if (!len)
			return objectives_format_error(path, v, err);
		rc = parse_objective_item(s, path, v, p, len, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int is_additional(const struct experiment_spec *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->objective.nadditional; i++)
		if (!strcmp(s->objective.additional[i], name))
			return 1;
	return 0;
}

/* Each further objective is an additionalMetricName, not the first one. */
static int check_objectives(const struct experiment_spec *s,
			    struct kb_error *err)
{
	char list[512] = "", hint[128];
	const char *name;
	struct suggest sg;
	size_t i, j, len = 0;

	for (i = 0; i < s->nobjectives; i++) {
		name = s->objectives[i].metric;
		if (s->objective.metric && !strcmp(name, s->objective.metric))
			return kb_error_set(
				err, -EINVAL, OBJECTIVES_PATH, 0,
				"\"%s\" is already the first objective "
				"(objective.objectiveMetricName); list only "
				"the further ones here",
				name);
		if (is_additional(s, name))
			continue;
		suggest_init(&sg, name);
		for (j = 0; j < s->objective.nadditional && len < sizeof(list);
		     j++) {
			suggest_offer(&sg, s->objective.additional[j]);
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s", j ? ", " : "",
						s->objective.additional[j]);
		}
		return kb_error_set(
			err, -EINVAL, OBJECTIVES_PATH, 0,
			"objective \"%s\" must also be listed in "
			"spec.objective.additionalMetricNames (%s), so that "
			"the experiment still runs on Katib%s",
			name, len ? list : "none there",
			suggest_hint(&sg, hint, sizeof(hint)));
	}
	return 0;
}

int annotations_check(const struct experiment_spec *s, struct kb_error *err)
{
	return check_objectives(s, err);
}

static const struct annotation {
	const char *name;
	annotation_parse_fn parse;
} annotations[] = {
	{ TRIAL_TIMEOUT_ANNOTATION, parse_trial_timeout },
	{ DEVICES_ANNOTATION, parse_devices },
	{ DEVICES_PER_TRIAL_ANNOTATION, parse_devices_per_trial },
	{ OBJECTIVES_ANNOTATION, parse_objectives },
	{ WARM_START_ANNOTATION, parse_warm_start },
	{ SUGGESTION_COMMAND_ANNOTATION, parse_suggestion_command },
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
