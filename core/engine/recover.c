/*
 * recover.c - what happens when the state database cannot be written
 * (disk full, read-only state directory, I/O error).
 *
 * A failed transaction is rolled back, so the database stays as it was at
 * the last good commit: never corrupt, only behind. The model in memory
 * goes on (reads keep working, running trials are still watched), no new
 * trial starts (it would run unrecorded), and the problem is shown in
 * every experiment's `events` and in `status` (state_error=). Once a
 * second, katib_store_recover_locked() tries to rewrite the whole model in
 * one transaction; when that commits, the error is gone and scheduling
 * resumes.
 *
 * The store's writer thread commits (core/engine/store.h), so a write's
 * failure is known after the lock that made it was dropped: the
 * controller asks each pass (katib_store_poll_locked), a trial's start
 * waits for its row and a request for its own writes (katib_unlock_synced),
 * and the rewrite is handed over in one pass and found written in a later
 * one.
 */
#include "engine/recover.h"
#include "engine/warm_start.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_INTERVAL 1.0

void katib_store_failed_locked(struct katib *k, int rc)
{
	size_t i;

	char why[256];

	if (!rc || k->store_error)
		return;
	k->store_error = rc;
	k->store_rewrite = 0;
	store_errmsg(k->store, why, sizeof(why));
	snprintf(k->store_message, sizeof(k->store_message),
		 "cannot write the state database in %s: %s (%s); katibfs "
		 "goes on in memory, starts no new trial, and writes "
		 "everything when it can again",
		 k->state_dir, strerror(-rc), why);
	k->store_retry = now_epoch() + RETRY_INTERVAL;
	katib_event(k, "%s", k->store_message);
	for (i = 0; i < k->nexps; i++)
		if (!k->exps[i]->deleted)
			experiment_event(k, k->exps[i], "%s", k->store_message);
}

int katib_commit_locked(struct katib *k)
{
	int rc = store_commit(k->store);

	katib_store_failed_locked(k, rc);
	return rc;
}

void katib_store_poll_locked(struct katib *k)
{
	katib_store_failed_locked(k, store_failed(k->store));
}

int katib_unlock_synced(struct katib *k)
{
	uint64_t mark = store_mark(k->store);
	int rc;

	pthread_mutex_unlock(&k->lock);
	rc = store_sync(k->store, mark);
	if (rc) {
		pthread_mutex_lock(&k->lock);
		katib_store_failed_locked(k, rc);
		pthread_mutex_unlock(&k->lock);
	}
	return rc;
}

/* Split one CSV line of 3 fields (RFC 4180 quoting) in place. */
static int csv3(char *line, char *f[3])
{
	char *r = line, *w = line;
	int n = 0;

	while (n < 3) {
		f[n++] = w;
		if (*r == '"') {
			for (r++; *r; r++) {
				if (*r == '"' && r[1] == '"')
					*w++ = *r++;
				else if (*r == '"')
					break;
				else
					*w++ = *r;
			}
			if (*r == '"')
				r++;
		} else {
			while (*r && *r != ',')
				*w++ = *r++;
		}
		if (*r != ',')
			break;
		r++;
		*w++ = '\0';
	}
	*w = '\0';
	return n == 3 ? 0 : -EINVAL;
}

/* Observations are rewritten from the CSV rows kept in memory. */
static int rewrite_observations(struct katib *k, struct experiment *e,
				struct trial *t)
{
	char *copy = strdup(t->observations.data ? t->observations.data : "");
	char *line, *save = NULL, *f[3];
	double time;
	int rc = copy ? 0 : -ENOMEM;

	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; !rc && line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (csv3(line, f) || !parse_rfc3339(f[0], strlen(f[0]), &time))
			continue;
		rc = store_add_observation(k->store, e->name, t->number, time,
					   f[1], f[2]);
	}
	free(copy);
	return rc;
}

/* Events are rewritten from the text of `events` (exp "": the mount's;
 * an experiment's older lines are inflated from e->events_sealed). */
static int rewrite_events(struct katib *k, const char *exp,
			  struct textlog *sealed, const struct strbuf *events)
{
	struct strbuf whole = { 0 };
	char *copy;
	char *line, *save = NULL, *sp;
	double time;
	int rc;

	if (sealed && textlog_append_to(sealed, events, &whole)) {
		strbuf_free(&whole);
		return -ENOMEM;
	}
	copy = sealed ? strbuf_take(&whole, NULL)
		      : strdup(events->data ? events->data : "");
	rc = copy ? 0 : -ENOMEM;

	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; !rc && line;
	     line = strtok_r(NULL, "\n", &save)) {
		sp = strchr(line, ' ');
		if (!sp || !parse_rfc3339(line, (size_t)(sp - line), &time))
			continue;
		rc = store_add_event(k->store, exp, time, sp + 1);
	}
	free(copy);
	return rc;
}

/* Write e's queue to the store again (after store_clear_all()). */
static int rewrite_queue(struct katib *k, struct experiment *e)
{
	size_t i;
	char *line;
	int rc = 0;

	for (i = 0; !rc && i < e->nqueued; i++) {
		line = assignment_line(e->spec, e->queued[i].values);
		rc = line ? store_put_queued(k->store, e->name,
					     e->queued[i].seq, line)
			  : -ENOMEM;
		free(line);
	}
	return rc;
}

static int rewrite_all(struct katib *k)
{
	size_t i, j;
	int rc;

	store_begin(k->store);
	rc = store_clear_all(k->store);
	for (i = 0; !rc && i < k->nexps; i++) {
		struct experiment *e = k->exps[i];

		if (e->deleted)
			continue;
		experiment_save_locked(k, e);
		for (j = 0; !rc && j < e->ntrials; j++) {
			rc = store_put_trial_of(k->store, e, e->trials[j]);
			if (!rc)
				rc = rewrite_observations(k, e, e->trials[j]);
		}
		if (!rc)
			rc = rewrite_queue(k, e);
		if (!rc)
			rc = warm_start_rewrite_locked(k, e);
		if (!rc)
			rc = rewrite_events(k, e->name, &e->events_sealed,
					    &e->events);
	}
	if (!rc)
		rc = rewrite_events(k, "", NULL, &k->events);
	{
		int crc = store_commit(k->store);

		return rc ? rc : crc;
	}
}

/* The rewrite handed over earlier: 1 once it is written, else 0 (and a
 * new one is due when it failed). */
static int rewrite_written(struct katib *k)
{
	int rc;

	if (!store_done(k->store, k->store_rewrite, &rc))
		return 0;
	k->store_rewrite = 0;
	return !rc;
}

void katib_store_recover_locked(struct katib *k)
{
	double now = now_epoch();
	size_t i;

	if (!k->store_error)
		return;
	if (!k->store_rewrite) {
		if (now < k->store_retry)
			return;
		k->store_retry = now + RETRY_INTERVAL;
		if (!rewrite_all(k))
			k->store_rewrite = store_mark(k->store);
		return; /* written in a later pass */
	}
	if (!rewrite_written(k))
		return;
	k->store_error = 0;
	k->store_message[0] = '\0';
	store_begin(k->store);
	katib_event(k, "the state database is writable again; everything "
		       "is written");
	for (i = 0; i < k->nexps; i++)
		if (!k->exps[i]->deleted)
			experiment_event(
				k, k->exps[i],
				"the state database is writable again; "
				"everything is written");
	store_commit(k->store);
}
