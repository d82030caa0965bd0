/*
 * arena.h - many small blocks that live and die together
 * (core/util/arena.c).
 *
 * What an ended trial keeps (its packed script, observations, series and
 * metric summaries) no longer changes and lives as long as its experiment:
 * from an arena each costs its bytes, not a malloc chunk each (a header
 * and rounding to 16 bytes, ~12% of an ended trial). Blocks are carved
 * from 64 KB pieces, 8-byte aligned; nothing is freed before the arena.
 *
 * Ownership: the arena owns its pieces and every block given out;
 * arena_free() releases them all. Not thread-safe (the model lock).
 */
#ifndef KATIBFS_ARENA_H
#define KATIBFS_ARENA_H

#include <stddef.h>

#define ARENA_MAX_BLOCK 4096 /* larger blocks are refused (malloc them) */

struct arena {
	struct arena_piece *pieces; /* newest first */
};

/* A copy of p[0..n) in a, or NULL (out of memory, or n > ARENA_MAX_BLOCK
 * or 0). */
void *arena_copy(struct arena *a, const void *p, size_t n);
/* n bytes (8-byte aligned, uninitialised) in a, or NULL as arena_copy. */
void *arena_alloc(struct arena *a, size_t n);

void arena_free(struct arena *a);

#endif
