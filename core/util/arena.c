/*
 * arena.c - small blocks carved from 64 KB pieces, freed all at once
 * (core/util/arena.h). Owns its pieces.
 */
#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

#define PIECE_SIZE (64 * 1024)

struct arena_piece {
	struct arena_piece *next;
	size_t used, size;
	_Alignas(8) unsigned char data[];
};

static void *piece_alloc(struct arena *a, size_t n)
{
	struct arena_piece *p = a->pieces;
	size_t need = (n + 7) & ~(size_t)7;

	if (!p || p->size - p->used < need) {
		size_t size = PIECE_SIZE - sizeof(*p);

		p = malloc(sizeof(*p) + size);
		if (!p)
			return NULL;
		p->next = a->pieces;
		p->used = 0;
		p->size = size;
		a->pieces = p;
	}
	p->used += need;
	return p->data + p->used - need;
}

void *arena_alloc(struct arena *a, size_t n)
{
	if (!n || n > ARENA_MAX_BLOCK)
		return NULL;
	return piece_alloc(a, n);
}

void *arena_copy(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);

	if (q)
		memcpy(q, p, n);
	return q;
}

void arena_free(struct arena *a)
{
	struct arena_piece *p, *next;

	for (p = a->pieces; p; p = next) {
		next = p->next;
		free(p);
	}
	a->pieces = NULL;
}
