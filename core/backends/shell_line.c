/*
 * shell_line.c - what `sh -c LINE` runs, when that is known without a
 * shell.
 *
 * Katib runs a trial's command as `sh -c "<command and args joined>"`
 * (core/spec/trial_render.c), and katibfs does the same. When LINE is only
 * plain words (letters, digits and / . _ - + = : , @ % ^, split by blanks:
 * no quote, expansion, glob, tilde, comment, operator or redirection) and
 * the first is neither an assignment nor a builtin or reserved word of the
 * POSIX shell (dash's list), sh splits it at blanks and execs the words,
 * its PATH search the same as ours, and nothing else happens: the
 * supervisor may run those words itself (katibfs-shim -s sets PWD and
 * reports a signal as the shell does), sparing each trial the shell's
 * process, as bash does for the last command of -c. Anything else still
 * goes through sh. Owns nothing.
 */
#include "backends/shell_line.h"

#include <stdlib.h>
#include <string.h>

static const char *const not_programs[] = {
	/* dash's builtins */
	".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command",
	"continue", "echo", "eval", "exec", "exit", "export", "false", "fc",
	"fg", "getopts", "hash", "jobs", "kill", "local", "printf", "pwd",
	"read", "readonly", "return", "set", "shift", "test", "times", "trap",
	"true", "type", "ulimit", "umask", "unalias", "unset", "wait",
	/* reserved words */
	"case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in",
	"then", "until", "while"
};

static int plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("/._-+=:,@%^", c));
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The first word is a program sh would look up or run by its path. */
static int program_word(const char *w, size_t n)
{
	size_t i;

	if (memchr(w, '=', n))
		return 0; /* an assignment */
	if (memchr(w, '/', n))
		return 1;
	for (i = 0; i < sizeof(not_programs) / sizeof(not_programs[0]); i++)
		if (strlen(not_programs[i]) == n &&
		    !memcmp(not_programs[i], w, n))
			return 0;
	return 1;
}

char **shell_line_words(const char *line)
{
	size_t n = 0, len = strlen(line), i;
	const char *p;
	char **v, *q;

	for (p = line; *p; p++) {
		if (!plain_char(*p) && !blank(*p))
			return NULL;
		if (!blank(*p) && (p == line || blank(p[-1])))
			n++;
	}
	p = line + strspn(line, " \t");
	if (!n || !program_word(p, strcspn(p, " \t")))
		return NULL;
	v = malloc((n + 1) * sizeof(char *) + len + 1);
	if (!v)
		return NULL;
	q = memcpy((char *)(v + n + 1), line, len + 1);
	for (i = 0; i < n; i++) {
		q += strspn(q, " \t");
		v[i] = q;
		q += strcspn(q, " \t");
		if (*q)
			*q++ = '\0';
	}
	v[n] = NULL;
	return v;
}
