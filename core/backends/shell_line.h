/*
 * shell_line.h - what `sh -c LINE` runs, when that is known without a
 * shell (core/backends/shell_line.c).
 */
#ifndef KATIB_SHELL_LINE_H
#define KATIB_SHELL_LINE_H

/*
 * The words sh would exec for `sh -c line`, as a NULL-terminated vector
 * (one allocation: free() it), or NULL when the line is more than plain
 * words or their first could be a shell builtin or reserved word (or out
 * of memory): then only a shell can say what it does.
 */
char **shell_line_words(const char *line);

#endif
