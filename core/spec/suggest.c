/*
 * suggest.c - the edit distance and the "did you mean X?" rule used by every
 * message about an unknown name (spec fields, enum values, algorithm names
 * and settings, parameter and placeholder names). See core/spec/suggest.h.
 */
#include "spec/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int lower(char c)
{
	return tolower((unsigned char)c);
}

static int min3(int a, int b, int c)
{
	int m = a < b ? a : b;

	return m < c ? m : c;
}

/* Optimal string alignment distance over three rolling rows. */
int suggest_distance(const char *a, const char *b)
{
	int rows[3][SUGGEST_MAX_LEN + 1];
	int *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *tmp;
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return SUGGEST_FAR;
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			int cost = lower(a[i - 1]) != lower(b[j - 1]);

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + cost);
			if (i > 1 && j > 1 &&
			    lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	return prev[lb];
}

static int close_enough(const char *word, int distance)
{
	int len = (int)strlen(word);

	return distance < len && (distance <= 2 || distance <= len / 3);
}

void suggest_init(struct suggest *s, const char *word)
{
	s->word = word ? word : "";
	s->best = NULL;
	s->distance = SUGGEST_FAR;
}

void suggest_offer(struct suggest *s, const char *candidate)
{
	int d;

	if (!candidate || !*candidate || !strcmp(candidate, s->word))
		return;
	d = suggest_distance(s->word, candidate);
	if (d < s->distance && close_enough(s->word, d)) {
		s->best = candidate;
		s->distance = d;
	}
}

const char *suggest_from_list(const char *word, const char *const *list)
{
	struct suggest s;
	size_t i;

	suggest_init(&s, word);
	for (i = 0; list && list[i]; i++)
		suggest_offer(&s, list[i]);
	return s.best;
}

const char *suggest_hint(const struct suggest *s, char *buf, size_t size)
{
	if (!size)
		return buf;
	buf[0] = '\0';
	if (s->best)
		snprintf(buf, size, "; did you mean %s?", s->best);
	return buf;
}

const char *suggest_list_hint(const char *word, const char *const *list,
			      char *buf, size_t size)
{
	struct suggest s;

	suggest_init(&s, word);
	s.best = suggest_from_list(word, list);
	return suggest_hint(&s, buf, size);
}
