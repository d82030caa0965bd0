/*
 * textdelta.c - a text as copies from a reference text plus literal bytes
 * (core/util/textdelta.h). Owns nothing: callers own ref, text and out.
 *
 * Form: varint(length of the text), then operations until that many bytes
 * are produced; an operation is varint(n << 1 | 1) varint(offset): copy n
 * bytes of ref from offset, or varint(n << 1) and n literal bytes.
 * Varints are little-endian base 128. Matches are found greedily through a
 * small hash of the 4-byte runs of ref (its last occurrence wins), as
 * LZ77 does; the reference is a few hundred bytes, so this is microseconds.
 */
#include "util/textdelta.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define HASH_BITS 10
#define MIN_COPY  6 /* shorter matches cost more than the literal bytes */

static void put_varint(struct strbuf *out, size_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	strbuf_append(out, (const char *)b, n);
}

static const unsigned char *get_varint(const unsigned char *p, size_t *v)
{
	size_t x = 0;
	int shift = 0;

	do {
		if (shift > 56)
			return NULL;
		x |= (size_t)(*p & 0x7f) << shift;
		shift += 7;
	} while (*p++ & 0x80);
	*v = x;
	return p;
}

static unsigned hash4(const char *s)
{
	uint32_t v;

	memcpy(&v, s, 4);
	return (v * 2654435761u) >> (32 - HASH_BITS);
}

static void put_literal(struct strbuf *out, const char *s, size_t n)
{
	if (!n)
		return;
	put_varint(out, n << 1);
	strbuf_append(out, s, n);
}

int textdelta_pack(const char *ref, size_t reflen, const char *text, size_t len,
		   struct strbuf *out)
{
	int32_t last[1 << HASH_BITS];
	size_t i, lit = 0, n, p;
	int32_t c;

	memset(last, -1, sizeof(last));
	for (i = 0; reflen >= 4 && i + 4 <= reflen && i < INT32_MAX; i++)
		last[hash4(ref + i)] = (int32_t)i;
	put_varint(out, len);
	for (i = 0; i < len;) {
		n = 0;
		c = i + 4 <= len ? last[hash4(text + i)] : -1;
		if (c >= 0) {
			p = (size_t)c;
			while (p + n < reflen && i + n < len &&
			       ref[p + n] == text[i + n])
				n++;
		}
		if (n < MIN_COPY) {
			i++;
			continue;
		}
		put_literal(out, text + lit, i - lit);
		put_varint(out, n << 1 | 1);
		put_varint(out, p);
		i += n;
		lit = i;
	}
	put_literal(out, text + lit, len - lit);
	return out->oom ? -ENOMEM : 0;
}

int textdelta_unpack(const char *ref, size_t reflen,
		     const unsigned char *packed, struct strbuf *out)
{
	const unsigned char *p;
	size_t len, done = 0, h, n, off;

	p = get_varint(packed, &len);
	if (!p)
		return -EINVAL;
	while (done < len) {
		p = get_varint(p, &h);
		if (!p)
			return -EINVAL;
		n = h >> 1;
		if (!n || n > len - done)
			return -EINVAL;
		if (h & 1) {
			p = get_varint(p, &off);
			if (!p || off > reflen || n > reflen - off)
				return -EINVAL;
			strbuf_append(out, ref + off, n);
		} else {
			strbuf_append(out, (const char *)p, n);
			p += n;
		}
		done += n;
	}
	return out->oom ? -ENOMEM : 0;
}
