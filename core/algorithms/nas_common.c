/*
 * nas_common.c - helpers shared by the NAS algorithms (darts, enas): the
 * growing string of core/algorithms/nas.h.
 */
#include <stdlib.h>
#include <string.h>

#include "algorithms/nas.h"

void nas_sb_putn(struct nas_sbuf *b, const char *s, size_t n)
{
	char *p;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		p = realloc(b->s, b->cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void nas_sb_puts(struct nas_sbuf *b, const char *s)
{
	nas_sb_putn(b, s, strlen(s));
}

char *nas_sb_take(struct nas_sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s ? b->s : strdup("");
}
