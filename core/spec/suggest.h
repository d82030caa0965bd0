/*
 * suggest.h - "did you mean X?" for a misspelt name.
 *
 * One edit distance (Damerau-Levenshtein, optimal string alignment: insert,
 * delete, substitute, swap two neighbours; letters compared without case)
 * and one rule for when a candidate is close enough to suggest: distance at
 * most 2, or at most a third of the word's length, and always less than the
 * word's length (so "x" never suggests "y"). Nothing here allocates on the
 * heap; every string is the caller's.
 */
#ifndef KATIB_SUGGEST_H
#define KATIB_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never compared (distance SUGGEST_FAR). */
#define SUGGEST_MAX_LEN 64
#define SUGGEST_FAR	1000

/* The edit distance between a and b, case-insensitive. */
int suggest_distance(const char *a, const char *b);

/* A running search for the candidate closest to `word`. */
struct suggest {
	const char *word;
	const char *best; /* closest acceptable candidate so far, or NULL */
	int distance;
};

void suggest_init(struct suggest *s, const char *word);
/* Consider one candidate (NULL and the word itself are ignored). */
void suggest_offer(struct suggest *s, const char *candidate);
/* The closest acceptable candidate of a NULL-terminated list, or NULL. */
const char *suggest_from_list(const char *word, const char *const *list);

/*
 * Write "; did you mean X?" into buf (`size` bytes) when s found a
 * candidate, "" otherwise; returns buf, to end a message with it.
 */
const char *suggest_hint(const struct suggest *s, char *buf, size_t size);

/* The same for the closest word of a NULL-terminated list. */
const char *suggest_list_hint(const char *word, const char *const *list,
			      char *buf, size_t size);

#endif
