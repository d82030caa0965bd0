/*
 * textlog.c - an append-only text with its older blocks deflated
 * (core/util/textlog.h). Owns the sealed blocks and one inflated block
 * kept for the next read; the tail belongs to the caller.
 */
#include "util/textlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void textlog_free(struct textlog *l)
{
	size_t i;

	for (i = 0; i < l->nblocks; i++)
		free(l->blocks[i].z);
	free(l->blocks);
	free(l->cache);
	memset(l, 0, sizeof(*l));
}

size_t textlog_sealed_len(const struct textlog *l)
{
	return l->nblocks * (size_t)TEXTLOG_BLOCK;
}

/* Deflate text[0..TEXTLOG_BLOCK) as a new last block: 0 or -ENOMEM. */
static int seal_block(struct textlog *l, const char *text)
{
	uLongf zlen = compressBound(TEXTLOG_BLOCK);
	unsigned char *z, *fit;

	if (l->nblocks == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct textlog_block *b = realloc(l->blocks, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		l->blocks = b;
		l->cap = cap;
	}
	z = malloc(zlen);
	if (!z)
		return -ENOMEM;
	if (compress2(z, &zlen, (const Bytef *)text, TEXTLOG_BLOCK, 6) !=
	    Z_OK) {
		free(z);
		return -ENOMEM;
	}
	fit = realloc(z, zlen); /* without the bound's slack */
	l->blocks[l->nblocks].z = fit ? fit : z;
	l->blocks[l->nblocks].zlen = zlen;
	l->nblocks++;
	return 0;
}

int textlog_seal(struct textlog *l, struct strbuf *tail)
{
	size_t off = 0;
	int rc = 0;

	if (tail->len < 2 * (size_t)TEXTLOG_BLOCK)
		return 0;
	while (!rc && tail->len - off >= 2 * (size_t)TEXTLOG_BLOCK) {
		rc = seal_block(l, tail->data + off);
		if (!rc)
			off += TEXTLOG_BLOCK;
	}
	memmove(tail->data, tail->data + off, tail->len - off + 1);
	tail->len -= off;
	return rc;
}

/* Block i inflated (in l->cache): 0, or -ENOMEM / -EIO. */
static int inflate_block(struct textlog *l, size_t i)
{
	uLongf len = TEXTLOG_BLOCK;

	if (l->cache && l->cache_block == i)
		return 0;
	if (!l->cache && !(l->cache = malloc(TEXTLOG_BLOCK)))
		return -ENOMEM;
	if (uncompress((Bytef *)l->cache, &len, l->blocks[i].z,
		       l->blocks[i].zlen) != Z_OK ||
	    len != TEXTLOG_BLOCK) {
		free(l->cache);
		l->cache = NULL;
		return -EIO;
	}
	l->cache_block = i;
	return 0;
}

ssize_t textlog_pread(struct textlog *l, const struct strbuf *tail, char *out,
		      size_t n, off_t off)
{
	size_t pos, sealed = textlog_sealed_len(l), done = 0;
	int rc;

	if (off < 0)
		return -EINVAL;
	pos = (size_t)off;
	while (done < n && pos < sealed) {
		size_t in = pos % TEXTLOG_BLOCK,
		       take = TEXTLOG_BLOCK - in < n - done ? TEXTLOG_BLOCK - in
							    : n - done;

		rc = inflate_block(l, pos / TEXTLOG_BLOCK);
		if (rc)
			return rc;
		memcpy(out + done, l->cache + in, take);
		done += take;
		pos += take;
	}
	if (done < n && pos - sealed < tail->len) {
		size_t take = tail->len - (pos - sealed);

		if (take > n - done)
			take = n - done;
		memcpy(out + done, tail->data + (pos - sealed), take);
		done += take;
	}
	return (ssize_t)done;
}

int textlog_append_to(struct textlog *l, const struct strbuf *tail,
		      struct strbuf *out)
{
	size_t i;
	int rc;

	for (i = 0; i < l->nblocks; i++) {
		rc = inflate_block(l, i);
		if (rc)
			return rc;
		if (strbuf_append(out, l->cache, TEXTLOG_BLOCK))
			return -ENOMEM;
	}
	if (tail->len && strbuf_append(out, tail->data, tail->len))
		return -ENOMEM;
	return 0;
}
