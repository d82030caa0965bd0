/*
 * test_shell_line.c - which `sh -c` lines katibfs runs without a shell
 * (core/backends/shell_line.c): plain words only, never a builtin, a
 * reserved word or an assignment; and the words are what sh would exec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backends/shell_line.h"

static void test_plain_words(void **state)
{
	char **v = shell_line_words("  /bin/echo objective=1\tx=0.25 "
				    "--lr=1e-3 a,b:c@d%e^f+g ");

	(void)state;
	assert_non_null(v);
	assert_string_equal(v[0], "/bin/echo");
	assert_string_equal(v[1], "objective=1");
	assert_string_equal(v[2], "x=0.25");
	assert_string_equal(v[3], "--lr=1e-3");
	assert_string_equal(v[4], "a,b:c@d%e^f+g");
	assert_null(v[5]);
	free(v);
	v = shell_line_words("python3 train.py --x=0.5");
	assert_non_null(v);
	assert_string_equal(v[0], "python3");
	assert_null(v[3]);
	free(v);
}

/* Each needs the shell: quoting, expansion, globs, operators, comments,
 * builtins (echo is dash's own), reserved words, assignments. */
static void test_needs_a_shell(void **state)
{
	static const char *const lines[] = {
		"",
		"   ",
		"/bin/echo 'a b'",
		"/bin/echo \"a\"",
		"/bin/echo a\\ b",
		"/bin/echo $HOME",
		"/bin/echo `date`",
		"/bin/echo *",
		"/bin/echo a?",
		"/bin/echo [ab]",
		"/bin/echo ~",
		"/bin/echo a # comment",
		"/bin/echo a; /bin/echo b",
		"/bin/echo a && /bin/true",
		"/bin/echo a | cat",
		"/bin/echo a > f",
		"/bin/echo a &",
		"/bin/echo (a)",
		"/bin/echo a\n/bin/echo b",
		"/bin/echo {a,b}",
		"/bin/echo !",
		"/bin/echo caf\xc3\xa9",
		"echo objective=1",
		"exit 3",
		"cd /tmp",
		"true",
		"[ 1 ]",
		"if",
		"X=1 /bin/env",
		"X=1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (shell_line_words(lines[i]))
			fail_msg("ran without a shell: %s", lines[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_words),
		cmocka_unit_test(test_needs_a_shell),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
