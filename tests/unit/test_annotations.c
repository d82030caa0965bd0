/*
 * test_annotations.c - the katibfs/ annotations (core/spec/annotations.c):
 * a known one parsed, another owner's annotation kept as it is, an unknown
 * katibfs/ one refused naming it with the closest known name and its line,
 * and a bad value refused naming the annotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/spec.h"

#include "fixtures.h"

/* The base spec with another owner's annotation and `name: "value"`. */
static char *spec_with(const char *name, const char *value)
{
	char lines[512];

	snprintf(lines, sizeof(lines),
		 "metadata:\n"
		 "  annotations:\n"
		 "    example.com/owner: team-a\n"
		 "    %s: \"%s\"\n",
		 name, value);
	return fixture_replace(FIXTURE_BASE_SPEC, "metadata:\n", lines);
}

/* Parse the spec with one annotation; the message on failure in msg. */
static int parse_with(const char *name, const char *value,
		      struct experiment_spec **s, char *msg, size_t size)
{
	char *y = spec_with(name, value);
	int rc = fixture_parse(y, s, msg, size);

	free(y);
	return rc;
}

static void test_known_annotation(void **state)
{
	struct experiment_spec *s;
	char msg[512];
	int rc;

	(void)state;
	rc = parse_with("katibfs/trial-timeout", "1h30m", &s, msg, sizeof(msg));
	if (rc)
		print_message("%s\n", msg);
	assert_int_equal(rc, 0);
	assert_true(s->trial_timeout == 5400);
	spec_free(s);
}

static void test_unknown_annotation(void **state)
{
	char *y = spec_with("katibfs/trial-timeot", "30m");
	struct experiment_spec *s;
	char msg[512], line[32];

	(void)state;
	assert_int_equal(fixture_parse(y, &s, msg, sizeof(msg)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(
		msg, "metadata.annotations[katibfs/trial-timeot]: unknown "
		     "katibfs annotation"));
	assert_non_null(strstr(msg, "did you mean katibfs/trial-timeout?"));
	snprintf(line, sizeof(line), "(line %d)",
		 fixture_line_of(y, "katibfs/trial-timeot"));
	assert_non_null(strstr(msg, line));
	free(y);
}

static void test_bad_value(void **state)
{
	struct experiment_spec *s;
	char msg[512];

	(void)state;
	assert_int_equal(parse_with("katibfs/trial-timeout", "soon", &s, msg,
				    sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "metadata.annotations[katibfs/"
				    "trial-timeout]: must be a positive "
				    "duration"));
}

static void test_devices(void **state)
{
	struct experiment_spec *s;
	char msg[512];
	int rc;

	(void)state;
	rc = parse_with("katibfs/devices", " 0, 1 ,GPU-8f3a-11", &s, msg,
			sizeof(msg));
	if (rc)
		print_message("%s\n", msg);
	assert_int_equal(rc, 0);
	assert_int_equal(s->ndevices, 3);
	assert_string_equal(s->devices[0], "0");
	assert_string_equal(s->devices[1], "1");
	assert_string_equal(s->devices[2], "GPU-8f3a-11");
	assert_int_equal(s->devices_per_trial, 1);
	spec_free(s);
	assert_int_equal(
		parse_with("katibfs/devices", "0 1", &s, msg, sizeof(msg)),
		-EINVAL);
	assert_non_null(strstr(msg, "must be a comma-separated list"));
	assert_int_equal(parse_with("katibfs/devices-per-trial", "2", &s, msg,
				    sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "needs katibfs/devices"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_annotation),
		cmocka_unit_test(test_unknown_annotation),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
