/*
 * textlog.h - an append-only text whose older part is kept compressed
 * (core/util/textlog.c).
 *
 * An experiment's `events` grows by a line or two per trial (~175 bytes):
 * at 100,000 trials 17 MB of lines that repeat themselves. A textlog is a
 * `tail` (a plain strbuf the caller appends to, as before) and, before it,
 * sealed blocks of exactly TEXTLOG_BLOCK bytes of the text, each
 * deflated (zlib) about tenfold. textlog_seal() moves whole blocks from the
 * front of the tail into sealed blocks; reads take any byte range of the
 * whole text, inflating the one or two blocks they touch (one inflated
 * block is kept for the next read: sequential reads inflate each once).
 *
 * Ownership: the textlog owns its blocks and its read cache; the tail is
 * the caller's (so a strbuf that was the whole text stays one). Not
 * thread-safe: the caller's lock guards reads (they fill the cache) and
 * appends alike.
 */
#ifndef KATIBFS_TEXTLOG_H
#define KATIBFS_TEXTLOG_H

#include <stddef.h>
#include <sys/types.h>

#include "util/strbuf.h"

#define TEXTLOG_BLOCK 65536

struct textlog {
	struct textlog_block {
		unsigned char *z; /* deflated TEXTLOG_BLOCK bytes */
		size_t zlen;
	} * blocks;
	size_t nblocks, cap;
	char *cache; /* block cache_block inflated, or NULL */
	size_t cache_block;
};

void textlog_free(struct textlog *l);

/* Bytes of the text held in sealed blocks (before the tail). */
size_t textlog_sealed_len(const struct textlog *l);

/*
 * Seal the whole blocks at the front of tail once it holds at least two
 * (so the recent text stays plain): 0, or -ENOMEM (the text is then left
 * as it was).
 */
int textlog_seal(struct textlog *l, struct strbuf *tail);

/*
 * Up to n bytes of the whole text (sealed blocks, then tail) from off into
 * out: the number copied (0 past the end), or -EINVAL / -ENOMEM / -EIO.
 */
ssize_t textlog_pread(struct textlog *l, const struct strbuf *tail, char *out,
		      size_t n, off_t off);

/* Append the whole text to out: 0, or -ENOMEM / -EIO. */
int textlog_append_to(struct textlog *l, const struct strbuf *tail,
		      struct strbuf *out);

#endif
