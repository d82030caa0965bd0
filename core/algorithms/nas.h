/*
 * nas.h - helpers shared by the NAS algorithms (darts.c, enas.c) in
 * core/algorithms/nas_common.c: a growing string for the Python-literal
 * texts they emit.
 */
#ifndef KATIB_NAS_H
#define KATIB_NAS_H

#include <stddef.h>

/* A growing NUL-terminated string; zero-initialise. After an allocation
 * failure (oom) further appends are ignored. */
struct nas_sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

void nas_sb_putn(struct nas_sbuf *b, const char *s, size_t n);
void nas_sb_puts(struct nas_sbuf *b, const char *s);
/* The heap string built ("" when nothing was appended), owned by the
 * caller; NULL after an allocation failure (the buffer is freed). */
char *nas_sb_take(struct nas_sbuf *b);

#endif
