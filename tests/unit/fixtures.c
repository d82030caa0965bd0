/*
 * fixtures.c - the unit suites' shared spec fixtures (see fixtures.h):
 * variants of a spec by replacement, a line lookup, spec_parse() with the
 * error as text, and the one-parameter Job spec of the Kubernetes suites.
 * Linked into every unit test binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

char *fixture_replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out;

	if (!p)
		fail_msg("fixture: \"%s\" not in the spec", from);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, s, (size_t)(p - s));
	strcpy(out + (p - s), to);
	strcat(out, p + strlen(from));
	return out;
}

char *fixture_variant(const char *s, ...)
{
	char *out = strdup(s), *next;
	const char *from, *to;
	va_list ap;

	assert_non_null(out);
	va_start(ap, s);
	while ((from = va_arg(ap, const char *))) {
		to = va_arg(ap, const char *);
		next = fixture_replace(out, from, to);
		free(out);
		out = next;
	}
	va_end(ap);
	return out;
}

int fixture_line_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle), *q;
	int line = 1;

	assert_non_null(p);
	for (q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

int fixture_parse(const char *yaml, struct experiment_spec **s, char *msg,
		  size_t size)
{
	struct kb_error err;
	int rc;

	kb_error_clear(&err);
	*s = NULL;
	rc = spec_parse(yaml, strlen(yaml), "exp", s, &err);
	kb_error_format(&err, msg, size);
	return rc;
}

int fixture_expect_error(const char *yaml, int code, const char *field,
			 const char *at, const char *msg)
{
	struct experiment_spec *s = NULL;
	struct kb_error err;
	char buf[800];
	int rc = spec_parse(yaml, strlen(yaml), "exp", &s, &err);

	kb_error_format(&err, buf, sizeof(buf));
	if (rc != code || (field && strcmp(err.field, field)) ||
	    (msg && !strstr(err.message, msg)) ||
	    (at && err.line != fixture_line_of(yaml, at)))
		fail_msg("want %d %s '%s' (line of %s), got %d: %s", code,
			 field ? field : "", msg ? msg : "", at ? at : "-", rc,
			 buf);
	assert_null(s);
	return err.line;
}

struct experiment_spec *fixture_parse_ok(const char *yaml)
{
	struct experiment_spec *s;
	char msg[800];
	int rc = fixture_parse(yaml, &s, msg, sizeof(msg));

	if (rc)
		fail_msg("spec_parse: %d %s", rc, msg);
	return s;
}

/* fixture_job_spec()'s text: %s the lines under spec:, then those of the
 * container. */
static const char job_spec_fmt[] =
	"apiVersion: kubeflow.org/v1beta1\n"
	"kind: Experiment\n"
	"metadata: {name: m, namespace: ml}\n"
	"spec:\n"
	"  objective: {type: minimize, objectiveMetricName: loss}\n"
	"  algorithm: {algorithmName: random}\n"
	"%s"
	"  parameters:\n"
	"    - name: lr\n"
	"      parameterType: double\n"
	"      feasibleSpace: {min: \"0.01\", max: \"0.05\"}\n"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - {name: learningRate, reference: lr}\n"
	"    trialSpec:\n" FIXTURE_JOB
	"                image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"
	"%s"
	"                args: [\"--lr=${trialParameters.learningRate}\"]\n"
	"            restartPolicy: Never\n";

struct experiment_spec *fixture_job_spec(const char *spec_lines,
					 const char *container_lines)
{
	struct experiment_spec *s = NULL;
	struct kb_error err;
	char text[4096], msg[800];
	int n = snprintf(text, sizeof(text), job_spec_fmt, spec_lines,
			 container_lines);

	assert_true(n > 0 && (size_t)n < sizeof(text));
	kb_error_clear(&err);
	if (spec_parse(text, (size_t)n, "m", &s, &err)) {
		kb_error_format(&err, msg, sizeof(msg));
		fail_msg("spec_parse: %s\n%s", msg, text);
	}
	return s;
}
