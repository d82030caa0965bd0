/*
 * fuzz_spec.c - libFuzzer harness for the spec parser and validator.
 *
 * spec_parse() on arbitrary bytes. A spec that parses must also:
 *   - render (spec_render_yaml) to YAML that parses again and renders to
 *     the very same text (the normalized form is a fixed point);
 *   - compare equal to itself and to its re-parse (spec_check_update);
 *   - render a trial (spec_render_trial) with an assignment per parameter
 *     without crashing (errors such as -ENOTSUP are fine).
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/spec.h"

#define FUZZ_NAME "fuzz-exp"

static void die(const char *what, const char *a, const char *b,
		const struct kb_error *err)
{
	char msg[1024] = "";

	if (err)
		kb_error_format(err, msg, sizeof(msg));
	fprintf(stderr, "fuzz_spec: %s\n%s\n", what, msg);
	if (a)
		fprintf(stderr, "---- first:\n%s\n", a);
	if (b)
		fprintf(stderr, "---- second:\n%s\n", b);
	abort();
}

/* A value for parameter p: drawn from its own bounds or list. */
static const char *param_value(const struct param_spec *p, size_t i)
{
	switch (p->type) {
	case PARAM_CATEGORICAL:
	case PARAM_DISCRETE: return p->nlist ? p->list[i % p->nlist] : "";
	default: return i % 2 ? p->max : p->min;
	}
}

static void render_trial(const struct experiment_spec *spec, size_t variant)
{
	struct assignment *as;
	struct trial_command cmd;
	struct kb_error err;
	size_t i;

	as = calloc(spec->nparams + 1, sizeof(*as));
	if (!as)
		return;
	for (i = 0; i < spec->nparams; i++) {
		as[i].name = spec->params[i].name;
		as[i].value =
			(char *)param_value(&spec->params[i], i + variant);
	}
	kb_error_clear(&err);
	memset(&cmd, 0, sizeof(cmd));
	if (!spec_render_trial(spec, FUZZ_NAME "-abcdefgh", "default", as,
			       spec->nparams, &cmd, &err)) {
		if (!cmd.argv || !cmd.argc || !cmd.argv[0] ||
		    cmd.argv[cmd.argc])
			die("rendered trial without argv", cmd.manifest, NULL,
			    &err);
		trial_command_free(&cmd);
	}
	free(as);
}

/*
 * The first line as an experiment name: a name that passes must be a
 * DNS-1123 label of at most EXPERIMENT_NAME_MAX chars (it becomes a
 * directory and part of trial names: no '/', no "..", no NUL).
 */
static void check_name(const uint8_t *data, size_t size)
{
	char name[EXPERIMENT_NAME_MAX + 8];
	struct kb_error err;
	size_t i, n;

	for (n = 0; n < size && n < sizeof(name) - 1 && data[n] != '\n'; n++)
		name[n] = (char)data[n];
	name[n] = '\0';
	kb_error_clear(&err);
	if (spec_validate_name(name, &err))
		return;
	n = strlen(name);
	if (!n || n > EXPERIMENT_NAME_MAX || name[0] == '-' ||
	    name[n - 1] == '-')
		die("bad experiment name accepted", name, NULL, NULL);
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			die("bad experiment name accepted", name, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct experiment_spec *spec = NULL, *spec2 = NULL;
	struct kb_error err;
	char *yaml, *yaml2;
	int rc;

	check_name(data, size);
	kb_error_clear(&err);
	rc = spec_parse((const char *)data, size, FUZZ_NAME, &spec, &err);
	if (rc) {
		if (spec)
			die("spec_parse failed but set *out", NULL, NULL, &err);
		return 0;
	}
	if (!spec)
		die("spec_parse returned 0 without a spec", NULL, NULL, &err);

	yaml = spec_render_yaml(spec, FUZZ_NAME);
	if (!yaml)
		die("spec_render_yaml returned NULL", NULL, NULL, NULL);
	kb_error_clear(&err);
	rc = spec_parse(yaml, strlen(yaml), FUZZ_NAME, &spec2, &err);
	if (rc)
		die("rendered spec does not parse", yaml, NULL, &err);
	yaml2 = spec_render_yaml(spec2, FUZZ_NAME);
	if (!yaml2)
		die("spec_render_yaml returned NULL", NULL, NULL, NULL);
	if (strcmp(yaml, yaml2))
		die("render(parse(render(spec))) != render(spec)", yaml, yaml2,
		    NULL);

	kb_error_clear(&err);
	if (spec_check_update(spec, spec, &err))
		die("spec_check_update(spec, spec) failed", yaml, NULL, &err);
	kb_error_clear(&err);
	if (spec_check_update(spec, spec2, &err))
		die("spec_check_update(spec, reparsed) failed", yaml, yaml2,
		    &err);

	render_trial(spec, 0);
	render_trial(spec2, 1);

	free(yaml);
	free(yaml2);
	spec_free(spec);
	spec_free(spec2);
	return 0;
}
