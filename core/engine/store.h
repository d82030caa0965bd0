/*
 * store.h - persistent state in sqlite (WAL) under the state directory.
 *
 * The store records what the controller decides; the in-memory model is
 * rebuilt from it by store_load() at mount. Tables: experiments, trials,
 * observations, events, queue (EXP/queue's lines), warm_start (the
 * history katibfs/warm-start gave). Callers group the writes of
 * one decision between store_begin() and store_commit() so that a crash leaves
 * either all or none of them. The connection is used under katib->lock only
 * (one writer).
 *
 * Ownership: the store owns its sqlite handle; experiments and trials
 * returned by store_load() belong to the caller.
 */
#ifndef KATIB_STORE_H
#define KATIB_STORE_H

#include "katib/error.h"
#include "engine/model.h"

struct store;

/* Open (creating) STATE_DIR/katibfs.db. */
int store_open(const char *state_dir, struct store **out, struct kb_error *err);
void store_close(struct store *s);

/*
 * Transactions nest; the outermost store_commit() commits, or rolls back
 * and returns the first error of any write inside it (-ENOSPC for a full
 * disk, -EROFS for a read-only state directory, -EIO otherwise).
 */
int store_begin(struct store *s);
int store_commit(struct store *s);
/* Inside a transaction: commit what is there now and carry on in a new
 * one (what must be on disk before an outside effect, like a process). */
int store_flush(struct store *s);
/* sqlite's message for the last error. */
const char *store_errmsg(struct store *s);

/* Checkpoint the WAL (from a backend thread, outside hot paths). */
void store_checkpoint(struct store *s);

/* Insert or replace the experiment row (not its trials). */
int store_put_experiment(struct store *s, const struct experiment *e,
			 const char *algo_state);
int store_delete_experiment(struct store *s, const char *exp);
/* Delete every row (inside a transaction: before rewriting it all). */
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
 * takes ownership (even when it fails).
 */
int store_load(struct store *s, const struct store_loader *l);

#endif
