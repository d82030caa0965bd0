/*
 * chunks.c - append-only text in shared fixed-size chunks, and the
 * snapshots open files read from (see chunks.h).
 *
 * Owns: each chunk, counted (refs): one for the struct chunks that holds
 * it, one per snapshot covering it; a snapshot and its tail.
 */
#include "util/chunks.h"
#include "katib/katib.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
	atomic_int refs;
	char data[CHUNK_SIZE];
};

struct katib_text {
	size_t len;	   /* the whole: chunks_len + tail_len */
	size_t chunks_len; /* bytes from the chunks */
	char *tail;
	size_t tail_len;
	size_t n;
	struct chunk *v[]; /* the chunks covering [0, chunks_len) */
};

static void chunk_unref(struct chunk *ch)
{
	if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) == 1)
		free(ch);
}

void chunks_init(struct chunks *c)
{
	memset(c, 0, sizeof(*c));
}

void chunks_reset(struct chunks *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		chunk_unref(c->v[i]);
	free(c->v);
	chunks_init(c);
}

/* Room in c->v for `more` chunks past n. */
static int grow(struct chunks *c, size_t more)
{
	size_t cap = c->cap ? c->cap : 16;
	struct chunk **v;

	if (c->n + more <= c->cap)
		return 0;
	while (cap < c->n + more)
		cap *= 2;
	v = realloc(c->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->v = v;
	c->cap = cap;
	return 0;
}

/* The chunks data needs beyond those c has: added all, or none. */
static int add_chunks(struct chunks *c, size_t len)
{
	size_t want = (c->len + len + CHUNK_SIZE - 1) / CHUNK_SIZE, n0 = c->n;

	if (want <= c->n)
		return 0;
	if (grow(c, want - c->n))
		return -ENOMEM;
	while (c->n < want) {
		struct chunk *ch = malloc(sizeof(*ch));

		if (!ch) {
			while (c->n > n0)
				free(c->v[--c->n]);
			return -ENOMEM;
		}
		atomic_init(&ch->refs, 1);
		c->v[c->n++] = ch;
	}
	return 0;
}

int chunks_append(struct chunks *c, const char *data, size_t len)
{
	size_t at, n;

	if (add_chunks(c, len))
		return -ENOMEM;
	while (len) {
		at = c->len % CHUNK_SIZE;
		n = CHUNK_SIZE - at < len ? CHUNK_SIZE - at : len;
		memcpy(c->v[c->len / CHUNK_SIZE]->data + at, data, n);
		c->len += n;
		data += n;
		len -= n;
	}
	return 0;
}

/* Copy [off, off + size) of the first len bytes held in v. */
static size_t read_from(struct chunk *const *v, size_t len, char *out,
			size_t size, size_t off)
{
	size_t done = 0, at, n;

	while (off < len && done < size) {
		at = off % CHUNK_SIZE;
		n = CHUNK_SIZE - at;
		if (n > len - off)
			n = len - off;
		if (n > size - done)
			n = size - done;
		memcpy(out + done, v[off / CHUNK_SIZE]->data + at, n);
		done += n;
		off += n;
	}
	return done;
}

int chunks_begin_with(const struct chunks *c, const char *data, size_t len)
{
	size_t off = 0, n;

	if (c->len < len)
		return 0;
	for (; off < len; off += n) {
		n = CHUNK_SIZE < len - off ? CHUNK_SIZE : len - off;
		if (memcmp(c->v[off / CHUNK_SIZE]->data, data + off, n))
			return 0;
	}
	return 1;
}

size_t chunks_read(const struct chunks *c, char *out, size_t size, size_t off)
{
	return read_from(c->v, c->len, out, size, off);
}

struct katib_text *chunks_snapshot(const struct chunks *c, char *tail,
				   size_t tail_len)
{
	size_t n = c ? (c->len + CHUNK_SIZE - 1) / CHUNK_SIZE : 0, i;
	struct katib_text *t = malloc(sizeof(*t) + n * sizeof(t->v[0]));

	if (!t)
		return NULL;
	t->chunks_len = c ? c->len : 0;
	t->tail = tail;
	t->tail_len = tail_len;
	t->len = t->chunks_len + tail_len;
	t->n = n;
	for (i = 0; i < n; i++) {
		t->v[i] = c->v[i];
		atomic_fetch_add_explicit(&t->v[i]->refs, 1,
					  memory_order_relaxed);
	}
	return t;
}

struct katib_text *text_snapshot(char *text, size_t len)
{
	return chunks_snapshot(NULL, text, len);
}

size_t katib_text_size(const struct katib_text *t)
{
	return t->len;
}

size_t katib_text_read(const struct katib_text *t, char *out, size_t size,
		       off_t off)
{
	size_t done, at;

	if (off < 0 || (size_t)off >= t->len)
		return 0;
	at = (size_t)off;
	done = read_from(t->v, t->chunks_len, out, size, at);
	at += done;
	if (done < size && at >= t->chunks_len && at < t->len) {
		size_t n =
			t->len - at < size - done ? t->len - at : size - done;

		memcpy(out + done, t->tail + (at - t->chunks_len), n);
		done += n;
	}
	return done;
}

void katib_text_free(struct katib_text *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		chunk_unref(t->v[i]);
	free(t->tail);
	free(t);
}
