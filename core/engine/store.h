/*
 * store.h - persistent state in sqlite (WAL) under the state directory.
 *
 * The store records what the controller decides; the in-memory model is
 * rebuilt from it by store_load() at mount. Tables: experiments, trials,
 * observations, events, queue (EXP/queue's lines), warm_start (the
 * history katibfs/warm-start gave). Callers group the writes of
 * one decision between store_begin() and store_commit() so that a crash leaves
 * either all or none of them.
 *
 * Writes are built by the callers, one at a time (under katib->lock), as
 * a compact copy of each statement's values, and committed by the store's
 * own writer thread (or by a thread waiting in store_sync, when no one is
 * writing), one at a time: a commit never runs under the model lock.
 * Transactions reach the disk in the order they were committed; what has piled
 * up is committed as one sqlite transaction. Before an outside effect (a
 * process started) the caller takes store_mark() under the lock and, after
 * dropping it, store_sync() waits until that point is on disk.
 *
 * Ownership: the store owns its sqlite handle, its writer thread and the
 * buffers of transactions not yet written; experiments and trials
 * returned by store_load() belong to the caller.
 */
#ifndef KATIB_STORE_H
#define KATIB_STORE_H

#include <stdint.h>

#include "katib/error.h"
#include "engine/model.h"

struct store;

/* Open (creating) STATE_DIR/katibfs.db and start its writer. */
int store_open(const char *state_dir, struct store **out, struct kb_error *err);
/* Write what was committed, stop the writer, close. */
void store_close(struct store *s);

/*
 * Transactions nest; the outermost store_commit() hands the transaction
 * to the writer and returns at once: 0, or -ENOMEM when it could not be
 * built (the writer then fails as for a write error). A write outside a
 * transaction is one. The writes below return 0 or -ENOMEM likewise.
 */
int store_begin(struct store *s);
int store_commit(struct store *s);
/* How many transactions were committed so far (the last one's number). */
uint64_t store_mark(struct store *s);
/*
 * Wait (never holding the model lock) until transaction `mark` is
 * written: 0 when the database holds everything up to it, else the
 * writer's error (-ENOSPC for a full disk, -EROFS for a read-only state
 * directory, -EIO otherwise).
 */
int store_sync(struct store *s, uint64_t mark);
/* The same without waiting: 1 and *rc once `mark` was written, else 0. */
int store_done(struct store *s, uint64_t mark, int *rc);
/*
 * The writer's error: after a failed write it rolls back what it was
 * writing and skips everything until a rewrite (a transaction that
 * begins with store_clear_all()) commits. 0 when it is writing.
 */
int store_failed(struct store *s);
/* sqlite's message for the writer's first error since it last wrote. */
void store_errmsg(struct store *s, char *buf, size_t size);

/* Checkpoint the WAL (the writer does, when it has written). */
void store_checkpoint(struct store *s);

/* Insert or replace the experiment row (not its trials). */
int store_put_experiment(struct store *s, const struct experiment *e,
			 const char *algo_state);
/* Only the experiment row's algorithm state (a row that is there: after
 * each suggestion; the spec, often kilobytes, is not written again). */
int store_put_algo_state(struct store *s, const char *exp,
			 const char *algo_state);
int store_delete_experiment(struct store *s, const char *exp);
/* Delete every row (inside a transaction: before rewriting it all;
 * -EINVAL outside one). The transaction is a rewrite (store_failed). */
int store_clear_all(struct store *s);
/* Insert or replace a trial's row; t's script must be text (not packed:
 * -EINVAL). store_put_trial_of() writes any trial of e. */
int store_put_trial(struct store *s, const char *exp, const struct trial *t);
int store_put_trial_of(struct store *s, const struct experiment *e,
		       const struct trial *t);
/* Remove a trial's observations (a trial that is run again). */
int store_clear_observations(struct store *s, const char *exp, int trial);
int store_add_observation(struct store *s, const char *exp, int trial,
			  double time, const char *metric, const char *value);
int store_add_event(struct store *s, const char *exp, double time,
		    const char *message);
/* A line of EXP/queue still waiting (seq: its place, increasing). */
int store_put_queued(struct store *s, const char *exp, long seq,
		     const char *line);
int store_delete_queued(struct store *s, const char *exp, long seq);
/* A warm-start entry: a trial of experiment `source` as this one's history
 * (its assignment as a queue line, its objective value). */
int store_put_warm(struct store *s, const char *exp, long seq,
		   const char *source, const char *line, double objective);

struct store_loader {
	void *arg;
	/* An experiment row: e has name, state, reason, error, raw_spec,
	 * times; the callback parses the spec. *algo_state is borrowed. */
	int (*experiment)(void *arg, struct experiment *e,
			  const char *algo_state);
	/* A trial of the last experiment: t has everything but metrics. */
	int (*trial)(void *arg, struct experiment *e, struct trial *t);
	int (*observation)(void *arg, struct experiment *e, struct trial *t,
			   double time, const char *metric, const char *value);
	/* e NULL: a mount-wide event (stored with exp ""), loaded last */
	int (*event)(void *arg, struct experiment *e, double time,
		     const char *message);
	/* A queued line of the last experiment, in order (may be NULL). */
	int (*queued)(void *arg, struct experiment *e, long seq,
		      const char *line);
	/* A warm-start entry of the last experiment, in order (may be NULL). */
	int (*warm)(void *arg, struct experiment *e, const char *source,
		    const char *line, double objective);
};

/*
 * Load everything in order: for each experiment (by name), the experiment,
 * its trials (by number), their observations (in insertion order), its
 * queued lines, its warm-start entries and its events, and then the mount-wide
 * events. Experiments are allocated here and handed to the callback, which
 * takes ownership (even when it fails). What was committed is written
 * first.
 */
int store_load(struct store *s, const struct store_loader *l);

#endif
