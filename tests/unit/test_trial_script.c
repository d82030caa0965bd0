/*
 * test_trial_script.c - trials/N/spec on the local backend
 * (core/spec/trial_script.c): the exact text, quotes and newlines kept, env
 * names that sh cannot export passed through env(1), and the variables
 * katibfs adds (PYTHONUNBUFFERED only when the container does not set it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "spec/trial_script.h"

static void test_script_text(void **state)
{
	char *argv[] = { "python3", "-c", "print('a')\nprint(\"b\")",
			 "it's",    "",	  NULL };
	char *env[] = { "A=1 2", "my.x=it's", NULL };
	struct trial_command c = { argv, 5, env, 2, NULL, NULL };
	char *s = trial_script("exp", 3, "exp-abc", "/st/3", "/work dir", &c);

	(void)state;
	assert_non_null(s);
	assert_string_equal(
		s,
		"#!/bin/sh\n"
		"# katibfs: experiment exp, trial 3 (exp-abc).\n"
		"# `sh spec` runs it again by hand, in your environment "
		"plus the trial's.\n"
		"cd '/work dir' || exit 1\n"
		"export A='1 2'\n"
		"export KATIB_TRIAL_NAME='exp-abc'\n"
		"export KATIB_TRIAL_DIR='/st/3'\n"
		"export PYTHONUNBUFFERED='1'\n"
		"exec env 'my.x=it'\\''s' 'python3' '-c' 'print('\\''a'\\'')\n"
		"print(\"b\")' 'it'\\''s' ''\n");
	free(s);
}

static void test_own_env(void **state)
{
	char *argv[] = { "true", NULL };
	char *env[] = { "PYTHONUNBUFFERED=0", NULL };
	struct trial_command c = { argv, 1, env, 1, NULL, NULL };
	char *own[TRIAL_OWN_ENV_MAX];
	int n, i;

	(void)state;
	n = trial_own_env(&c, "t", "/d", own);
	assert_int_equal(n, 2);
	assert_string_equal(own[0], "KATIB_TRIAL_NAME=t");
	assert_string_equal(own[1], "KATIB_TRIAL_DIR=/d");
	for (i = 0; i < n; i++)
		free(own[i]);
	c.nenv = 0;
	n = trial_own_env(&c, "t", "/d", own);
	assert_int_equal(n, 3);
	assert_string_equal(own[2], "PYTHONUNBUFFERED=1");
	for (i = 0; i < n; i++)
		free(own[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_text),
		cmocka_unit_test(test_own_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
