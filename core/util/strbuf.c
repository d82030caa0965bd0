/*
 * strbuf.c - the growable byte buffer (core/util/strbuf.h).
 *
 * Owns nothing itself: a struct strbuf owns its data (strbuf.h).
 */
#include "util/strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void strbuf_free(struct strbuf *b)
{
	free(b->data);
	strbuf_init(b);
}

int strbuf_reserve(struct strbuf *b, size_t want)
{
	size_t cap = b->cap ? b->cap : 64;
	char *p;

	if (want + 1 <= b->cap)
		return 0;
	while (cap < want + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int strbuf_append(struct strbuf *b, const char *s, size_t n)
{
	if (strbuf_reserve(b, b->len + n))
		return -ENOMEM;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int strbuf_puts(struct strbuf *b, const char *s)
{
	return strbuf_append(b, s, strlen(s));
}

int strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || strbuf_reserve(b, b->len + (size_t)n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int strbuf_shell_quote(struct strbuf *b, const char *s)
{
	int rc = strbuf_append(b, "'", 1);

	for (; !rc && *s; s++) {
		if (*s == '\'')
			rc = strbuf_append(b, "'\\''", 4);
		else if (*s == '\n')
			rc = strbuf_append(b, " ", 1);
		else
			rc = strbuf_append(b, s, 1);
	}
	return rc ? rc : strbuf_append(b, "'", 1);
}

int strbuf_csv(struct strbuf *b, const char *s)
{
	int rc;

	if (!strpbrk(s, ",\"\n\r"))
		return strbuf_append(b, s, strlen(s));
	rc = strbuf_append(b, "\"", 1);
	for (; !rc && *s; s++)
		rc = *s == '"' ? strbuf_append(b, "\"\"", 2)
			       : strbuf_append(b, s, 1);
	return rc ? rc : strbuf_append(b, "\"", 1);
}

char *strbuf_take(struct strbuf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = p ? b->len : 0;
	strbuf_init(b);
	return p;
}

char *strbuf_finish(struct strbuf *b, size_t *len)
{
	if (b->oom) {
		strbuf_free(b);
		if (len)
			*len = 0;
		return NULL;
	}
	return strbuf_take(b, len);
}

ssize_t strbuf_pwrite(struct strbuf *b, const char *data, size_t n, off_t off,
		      size_t max)
{
	size_t o = (size_t)off;

	if (off < 0)
		return -EINVAL;
	if (o >= max)
		return n ? -EFBIG : 0;
	if (n > max - o)
		n = max - o;
	if (strbuf_reserve(b, o + n))
		return -ENOMEM;
	if (o > b->len)
		memset(b->data + b->len, 0, o - b->len);
	memcpy(b->data + o, data, n);
	if (o + n > b->len)
		b->len = o + n;
	b->data[b->len] = '\0';
	return (ssize_t)n;
}

ssize_t strbuf_pread(const struct strbuf *b, char *out, size_t n, off_t off)
{
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= b->len)
		return 0;
	if (n > b->len - (size_t)off)
		n = b->len - (size_t)off;
	memcpy(out, b->data + off, n);
	return (ssize_t)n;
}

int strbuf_truncate(struct strbuf *b, off_t size, size_t max)
{
	size_t s = (size_t)size;

	if (size < 0)
		return -EINVAL;
	if (s > max)
		return -EFBIG;
	if (strbuf_reserve(b, s))
		return -ENOMEM;
	if (s > b->len)
		memset(b->data + b->len, 0, s - b->len);
	b->len = s;
	b->data[b->len] = '\0';
	return 0;
}
