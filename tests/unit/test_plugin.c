/*
 * test_plugin.c - katibfs/suggestion-command and katibfs/warm-start at
 * spec time (core/spec/annotations.c, algorithm_validate()), running a
 * program (sc_run(): output, last stderr line, exit status, time limit, a
 * program that cannot start) and checking its output (sc_parse()).
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
#include <time.h>
#include <unistd.h>

#include "algorithms/suggestion_command.h"
#include "katib/spec.h"

#include "fixtures.h"

/* The base spec with the annotation `name` (value as a block scalar), the
 * algorithm `algo`, and the parameters lr in [0.1, 0.2] and n in 1..5. */
static char *spec_with(const char *name, const char *value, const char *algo)
{
	char annotation[512], algorithm[128];

	snprintf(annotation, sizeof(annotation),
		 "metadata:\n"
		 "  annotations:\n"
		 "    %s: |-\n"
		 "      %s\n",
		 name, value);
	snprintf(algorithm, sizeof(algorithm), "    algorithmName: %s\n", algo);
	return fixture_variant(
		FIXTURE_BASE_SPEC, "metadata:\n", annotation, FIXTURE_RANDOM,
		algorithm, FIXTURE_DOUBLES,
		"    - name: lr\n"
		"      parameterType: double\n"
		"      feasibleSpace: {min: \"0.1\", max: \"0.2\"}\n"
		"    - name: n\n"
		"      parameterType: int\n"
		"      feasibleSpace: {min: \"1\", max: \"5\"}\n",
		"        reference: momentum\n", "        reference: n\n",
		NULL);
}

static int parse_with(const char *name, const char *value, const char *algo,
		      struct experiment_spec **s, char *msg, size_t size)
{
	char *y = spec_with(name, value, algo);
	int rc = fixture_parse(y, s, msg, size);

	free(y);
	return rc;
}

static void expect_rejected(const char *name, const char *value,
			    const char *algo, const char *words)
{
	struct experiment_spec *s;
	char msg[1024], field[128];

	if (parse_with(name, value, algo, &s, msg, sizeof(msg)) != -EINVAL)
		fail_msg("%s: '%s' accepted", name, value);
	assert_null(s);
	snprintf(field, sizeof(field), "metadata.annotations[%s]", name);
	if (!strstr(msg, words) || !strstr(msg, field))
		fail_msg("%s: '%s': got \"%s\", expected %s and \"%s\"", name,
			 value, msg, field, words);
}

static void test_command_words(void **state)
{
	struct experiment_spec *s;
	char msg[1024];

	(void)state;
	assert_int_equal(parse_with(SUGGESTION_COMMAND_ANNOTATION,
				    "/bin/sh -c \"echo \\\"[]\\\"\" a\\ b  "
				    "x'y z'",
				    "my-search", &s, msg, sizeof(msg)),
			 0);
	assert_int_equal(s->nsuggestion_command, 5);
	assert_string_equal(s->suggestion_command[0], "/bin/sh");
	assert_string_equal(s->suggestion_command[1], "-c");
	assert_string_equal(s->suggestion_command[2], "echo \"[]\"");
	assert_string_equal(s->suggestion_command[3], "a b");
	assert_string_equal(s->suggestion_command[4], "xy z");
	assert_null(s->suggestion_command[5]);
	spec_free(s);
	/* a name on PATH */
	assert_int_equal(parse_with(SUGGESTION_COMMAND_ANNOTATION, "sh -c x",
				    "my-search", &s, msg, sizeof(msg)),
			 0);
	spec_free(s);
}

static void test_command_bad(void **state)
{
	struct experiment_spec *s;
	char msg[1024];

	(void)state;
	expect_rejected(SUGGESTION_COMMAND_ANNOTATION, "/nonexistent/x",
			"my-search", "/nonexistent/x does not exist");
	{
		char path[] = "/tmp/katibfs-test.noexec.XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		close(fd); /* mode 0600: not executable */
		expect_rejected(SUGGESTION_COMMAND_ANNOTATION, path,
				"my-search", "is not executable");
		unlink(path);
	}
	expect_rejected(SUGGESTION_COMMAND_ANNOTATION, "bin/search",
			"my-search", "relative path");
	expect_rejected(SUGGESTION_COMMAND_ANNOTATION, "no-such-prog-xyz",
			"my-search", "no program \"no-such-prog-xyz\" on PATH");
	expect_rejected(SUGGESTION_COMMAND_ANNOTATION, "   ", "my-search",
			"must name a program");
	expect_rejected(SUGGESTION_COMMAND_ANNOTATION, "/bin/sh -c \"x",
			"my-search", "quote that is not closed");
	expect_rejected(SUGGESTION_COMMAND_ANNOTATION, "/bin/sh", "tpe",
			"'tpe' is built in");
	/* an unknown algorithm without a command: as before */
	assert_int_equal(parse_with("katibfs/trial-timeout", "1m", "my-search",
				    &s, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "unknown algorithm 'my-search'"));
}

static void test_warm_start_list(void **state)
{
	struct experiment_spec *s;
	char msg[1024];

	(void)state;
	assert_int_equal(parse_with(WARM_START_ANNOTATION, " exp-a ,exp-b",
				    "tpe", &s, msg, sizeof(msg)),
			 0);
	assert_int_equal(s->nwarm_start, 2);
	assert_string_equal(s->warm_start[0], "exp-a");
	assert_string_equal(s->warm_start[1], "exp-b");
	spec_free(s);
	expect_rejected(WARM_START_ANNOTATION, "exp-a,,exp-b", "tpe",
			"comma-separated list of experiment names");
	expect_rejected(WARM_START_ANNOTATION, "Exp_A", "tpe",
			"(\"Exp_A\" is not one)");
	expect_rejected(WARM_START_ANNOTATION, "a, b, a", "tpe",
			"names a twice");
}

/* ---- running a program ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_run(void **state)
{
	char *argv[] = { "sh", "-c",
			 "cat; echo first >&2; echo 'the last' >&2; exit 4",
			 NULL };
	struct sc_raw raw;

	(void)state;
	assert_int_equal(sc_run(argv, "{\"count\": 1}", 10, -1, &raw), 0);
	assert_true(raw.spawned);
	assert_false(raw.timed_out);
	assert_int_equal(raw.exit_status, 4);
	assert_string_equal(raw.out, "{\"count\": 1}");
	assert_string_equal(raw.stderr_last, "the last");
	sc_raw_free(&raw);
}

/* A program that never reads its stdin does not hurt the daemon (no
 * SIGPIPE), and a large input is fed whole to one that does. */
static void test_run_input(void **state)
{
	char *deaf[] = { "sh", "-c", "echo '[]'", NULL };
	char *wc[] = { "sh", "-c", "wc -c", NULL };
	char *big = malloc(1 << 20);
	struct sc_raw raw;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	assert_int_equal(sc_run(deaf, big, 10, -1, &raw), 0);
	assert_string_equal(raw.out, "[]\n");
	sc_raw_free(&raw);
	assert_int_equal(sc_run(wc, big, 10, -1, &raw), 0);
	assert_int_equal(atoi(raw.out), (1 << 20) - 1);
	sc_raw_free(&raw);
	free(big);
}

static void test_run_timeout(void **state)
{
	/* the child holds stdout open too: its group is killed */
	char *argv[] = { "sh", "-c", "echo started >&2; sleep 30 & sleep 30",
			 NULL };
	struct sc_raw raw;
	double t = now();

	(void)state;
	assert_int_equal(sc_run(argv, "", 0.5, -1, &raw), 0);
	assert_true(raw.timed_out);
	assert_true(now() - t < 5);
	assert_string_equal(raw.stderr_last, "started");
	sc_raw_free(&raw);
}

static void test_run_missing(void **state)
{
	char *argv[] = { "/nonexistent/prog", NULL };
	struct sc_raw raw;

	(void)state;
	assert_true(sc_run(argv, "{}", 1, -1, &raw) < 0);
	assert_false(raw.spawned);
	assert_non_null(
		strstr(raw.stderr_last, "cannot run /nonexistent/prog"));
	sc_raw_free(&raw);
}

/* ---- checking the output ---- */

static struct experiment_spec *plain_spec(void)
{
	struct experiment_spec *s;
	char msg[1024];

	assert_int_equal(parse_with("katibfs/trial-timeout", "1m", "random", &s,
				    msg, sizeof(msg)),
			 0);
	return s;
}

static void test_parse(void **state)
{
	struct experiment_spec *s = plain_spec();
	const char *text = "[{\"lr\": 0.15, \"n\": 3}, {\"n\": \"2\", \"lr\": "
			   "\"0.1\"}, {\"lr\": 0.2, \"n\": 5.0}]";
	char **out[4];
	struct kb_error err;
	size_t n, extra;

	(void)state;
	kb_error_clear(&err);
	assert_int_equal(
		sc_parse(s, text, strlen(text), 2, out, &n, &extra, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(extra, 1);
	assert_string_equal(out[0][0], "0.15");
	assert_string_equal(out[0][1], "3");
	assert_string_equal(out[1][0], "0.1");
	assert_string_equal(out[1][1], "2");
	assignment_values_free(out[0], 2);
	assignment_values_free(out[1], 2);
	assert_int_equal(sc_parse(s, "[]", 2, 3, out, &n, &extra, &err), 0);
	assert_int_equal(n, 0);
	spec_free(s);
}

static void expect_parse_error(const char *text, const char *words)
{
	struct experiment_spec *s = plain_spec();
	char **out[4], msg[1024];
	struct kb_error err;
	size_t n = 9, extra;

	kb_error_clear(&err);
	assert_int_equal(
		sc_parse(s, text, strlen(text), 4, out, &n, &extra, &err),
		-EINVAL);
	assert_int_equal(n, 0);
	kb_error_format(&err, msg, sizeof(msg));
	if (!strstr(msg, words))
		fail_msg("%s: got \"%s\", expected \"%s\"", text, msg, words);
	spec_free(s);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("", "not JSON");
	expect_parse_error("lr=0.1", "not JSON (6 bytes: lr=0.1)");
	expect_parse_error("{\"lr\": 0.1}", "not an array");
	expect_parse_error("[1]", "[0]: is not an object");
	expect_parse_error(
		"[{\"lr\": 0.15, \"n\": 2}, {\"lr\": 0.5, \"n\": 2}]",
		"lr: 0.5 is outside [0.1, 0.2]");
	expect_parse_error("[{\"lr\": 0.15}]", "n: missing");
	expect_parse_error("[{\"lr\": 0.15, \"n\": 2, \"m\": 1}]",
			   "m: not a parameter");
	expect_parse_error("[{\"lr\": 0.15, \"n\": 2.5}]",
			   "not a whole number");
	expect_parse_error("[{\"lr\": [0.15], \"n\": 2}]",
			   "lr is neither a number nor a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_words),
		cmocka_unit_test(test_command_bad),
		cmocka_unit_test(test_warm_start_list),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_input),
		cmocka_unit_test(test_run_timeout),
		cmocka_unit_test(test_run_missing),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
