/*
 * strbuf.h - the one growable byte buffer of katibfs.
 *
 * A struct strbuf owns `data` (heap, NUL-terminated whenever non-NULL;
 * len excludes the NUL). Zero-initialised ({ 0 } or strbuf_init) it is an
 * empty buffer. Every append returns 0 or -ENOMEM; after a failed append
 * the buffer keeps what it had and remembers the failure in `oom`, so code
 * that builds a long text may append without checking each call and ask
 * once at the end (strbuf_finish). The file-like calls (pwrite, pread,
 * truncate) serve the FUSE layer's write buffers, which may hold NULs.
 */
#ifndef KATIBFS_STRBUF_H
#define KATIBFS_STRBUF_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf {
	char *data;
	size_t len, cap;
	int oom; /* an append failed since init */
};

void strbuf_init(struct strbuf *b);
void strbuf_free(struct strbuf *b);
/* Room for `want` bytes of content (plus the NUL). */
int strbuf_reserve(struct strbuf *b, size_t want);
int strbuf_append(struct strbuf *b, const char *s, size_t n);
int strbuf_puts(struct strbuf *b, const char *s);
int strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s single-quoted for sh ('\'' for quotes inside). */
int strbuf_shell_quote(struct strbuf *b, const char *s);
/* Append s as a CSV field (quoted when it holds , " or newline). */
int strbuf_csv(struct strbuf *b, const char *s);
/* Take the data (caller frees; "" when empty); b is left empty. */
char *strbuf_take(struct strbuf *b, size_t *len);
/* strbuf_take, or NULL (and b freed) when any append failed. */
char *strbuf_finish(struct strbuf *b, size_t *len);

/*
 * pwrite into b at off, zero-filling a hole, never growing past max bytes:
 * the number of bytes written, or -EINVAL / -EFBIG / -ENOMEM.
 */
ssize_t strbuf_pwrite(struct strbuf *b, const char *data, size_t n, off_t off,
		      size_t max);
/* Up to n bytes from off into out: the number copied (0 past the end). */
ssize_t strbuf_pread(const struct strbuf *b, char *out, size_t n, off_t off);
/* Set the length to size (zero-filling when growing), at most max. */
int strbuf_truncate(struct strbuf *b, off_t size, size_t max);

#endif
