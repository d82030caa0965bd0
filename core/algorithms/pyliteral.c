/*
 * pyliteral.c - strings as the Python literals Katib's NAS services emit
 * (core/algorithms/pyliteral.h). Owns nothing.
 */
#include "algorithms/pyliteral.h"

#include <stdio.h>

/* One code point from UTF-8 (invalid bytes count as U+FFFD). */
static unsigned utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned c = s[0], n, i;

	if (c < 0x80) {
		*p = s + 1;
		return c;
	}
	n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
	c &= 0x3f >> n;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*p = s + i;
			return 0xfffd;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return n ? c : 0xfffd;
}

void py_quoted(struct strbuf *b, const char *str)
{
	const unsigned char *p = (const unsigned char *)str;
	char u[16];
	unsigned c;

	strbuf_puts(b, "'");
	while (*p) {
		c = utf8_next(&p);
		if (c == '"')
			strbuf_puts(b, "\\'");
		else if (c == '\\')
			strbuf_puts(b, "\\\\");
		else if (c == '\n')
			strbuf_puts(b, "\\n");
		else if (c == '\r')
			strbuf_puts(b, "\\r");
		else if (c == '\t')
			strbuf_puts(b, "\\t");
		else if (c == '\b')
			strbuf_puts(b, "\\b");
		else if (c == '\f')
			strbuf_puts(b, "\\f");
		else if (c >= 0x20 && c < 0x7f) {
			u[0] = (char)c;
			strbuf_append(b, u, 1);
		} else if (c < 0x10000) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			strbuf_puts(b, u);
		} else {
			c -= 0x10000;
			snprintf(u, sizeof(u), "\\u%04x\\u%04x",
				 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
			strbuf_puts(b, u);
		}
	}
	strbuf_puts(b, "'");
}
