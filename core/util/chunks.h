/*
 * chunks.h - append-only text kept in fixed-size chunks that open files
 * share (trials.csv's rows, core/views/render.c).
 *
 * The owner appends under its own lock; a reader takes a snapshot under the
 * same lock (struct katib_text, include/katib/katib.h): a reference to each
 * chunk and the length then, plus a text of its own after it (the tail).
 * The snapshot is read later without any lock, a range at a time: bytes
 * below a snapshot's length never change, since the owner only appends
 * past its length, and a chunk lives while a snapshot holds it.
 *
 * Owns: struct chunks owns a reference to each of its chunks; a snapshot
 * owns a reference to each it covers and its tail.
 */
#ifndef KATIBFS_CHUNKS_H
#define KATIBFS_CHUNKS_H

#include <stddef.h>
#include <sys/types.h>

#define CHUNK_SIZE (64 * 1024)

struct chunk;

struct chunks {
	struct chunk **v; /* v[i] holds bytes [i, i + 1) * CHUNK_SIZE */
	size_t n, cap;
	size_t len;
};

struct katib_text;

void chunks_init(struct chunks *c);
/* Drop every chunk (snapshots keep theirs): c is empty again. */
void chunks_reset(struct chunks *c);
/* Append data whole, or nothing and -ENOMEM. */
int chunks_append(struct chunks *c, const char *data, size_t len);
/* 1 when c's first len bytes are data's. */
int chunks_begin_with(const struct chunks *c, const char *data, size_t len);
/* Up to size bytes from off into out: the number copied. */
size_t chunks_read(const struct chunks *c, char *out, size_t size, size_t off);

/* A snapshot of c followed by tail[0..tail_len), which it takes (freed
 * with it), or NULL on ENOMEM (tail left to the caller). */
struct katib_text *chunks_snapshot(const struct chunks *c, char *tail,
				   size_t tail_len);
/* A snapshot of text alone (taken, as above). */
struct katib_text *text_snapshot(char *text, size_t len);

/* katib_text_size, katib_text_read and katib_text_free (katib.h) are
 * defined in chunks.c. */

#endif
