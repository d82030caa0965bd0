/*
 * history_snapshot.c - the search history copied for an algorithm that
 * suggests off the model lock (see history_snapshot.h). A take costs the
 * new entries and those of trials that had not ended, not the history.
 *
 * Owns: a snapshot (history_snapshot_take(), history_snapshot_free()) and
 * its entries.
 */
#include "engine/history_snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct history_snapshot *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 64;
	struct history_trial *t;

	while (cap < n + 1) /* one zeroed entry past the end, as the
			     * controller's history has */
		cap *= 2;
	if (cap == s->cap)
		return 0;
	t = realloc(s->trials, cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	s->trials = t;
	s->cap = cap;
	return 0;
}

/* Room for the series of the entries from `from` on that may change. */
static int reserve_series(struct history_snapshot *s,
			  const struct search_history *h, size_t from)
{
	size_t i, n = 0;
	double *p;

	for (i = from; i < h->ntrials; i++)
		if (h->trials[i].state == HISTORY_PENDING)
			n += h->trials[i].nseries;
	if (n <= s->series_cap)
		return 0;
	p = realloc(s->series, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->series = p;
	s->series_cap = n;
	return 0;
}

int history_snapshot_take(struct history_snapshot *s,
			  const struct search_history *h,
			  struct search_history *out)
{
	size_t i, used = 0;

	if (s->stable > h->ntrials)
		s->stable = 0; /* a history rebuilt shorter: start over */
	if (reserve(s, h->ntrials) || reserve_series(s, h, s->stable))
		return -ENOMEM;
	for (i = s->stable; i < h->ntrials; i++) {
		struct history_trial *d = &s->trials[i];

		*d = h->trials[i];
		if (d->state != HISTORY_PENDING) {
			if (i == s->stable)
				s->stable++; /* ended: final */
			continue;
		}
		/* running: its series may grow or move once the lock is
		 * gone; the copy is what the algorithm reads */
		if (d->nseries)
			memcpy(s->series + used, d->series,
			       d->nseries * sizeof(*d->series));
		d->series = d->nseries ? s->series + used : NULL;
		used += d->nseries;
	}
	memset(&s->trials[h->ntrials], 0, sizeof(s->trials[0]));
	s->ntrials = h->ntrials;
	out->trials = s->trials;
	out->ntrials = s->ntrials;
	return 0;
}

void history_snapshot_free(struct history_snapshot *s)
{
	free(s->trials);
	free(s->series);
	memset(s, 0, sizeof(*s));
}
