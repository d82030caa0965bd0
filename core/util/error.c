/* error.c - struct kb_error helpers (see include/katib/error.h).
 *
 * Owns nothing.
 */
#include "katib/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void kb_error_clear(struct kb_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int kb_error_set(struct kb_error *err, int code, const char *field, int line,
		 const char *fmt, ...)
{
	va_list ap;

	if (!err || err->message[0])
		return code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void kb_error_format(const struct kb_error *err, char *buf, size_t size)
{
	char line[32] = "";

	if (!size)
		return;
	if (!err || !err->message[0]) {
		snprintf(buf, size, "unknown error");
		return;
	}
	if (err->line > 0)
		snprintf(line, sizeof(line), " (line %d)", err->line);
	if (err->field[0])
		snprintf(buf, size, "%s: %s%s", err->field, err->message, line);
	else
		snprintf(buf, size, "%s%s", err->message, line);
}
