/*
 * prepared.h - the next trial's directory made ahead, on a thread of its
 * own, while the current trial runs (core/backends/prepared.c).
 *
 * Creating a trial's directory, its locked record and its log costs three
 * inode operations, up to 2 ms each on a busy ext4. For an experiment
 * that asked for it, a worker thread keeps one such directory ready under
 * the hidden name EXP_DIR/.next (no trial's: numbers are digits, and no
 * file of the mount shows it): the record (`supervisor`, empty, opened and
 * locked by the daemon) and an empty `log`. A trial's start then takes it
 * with one rename(), and the worker makes the next one.
 *
 * Nothing of it is a trial until the rename: it has no number, no row in
 * the store, no line in events. Discarding it (the experiment ended,
 * paused, was deleted) removes it; after a crash, whatever a dead daemon
 * left is removed when the next one discards for each experiment at its
 * start (a directory whose record holds no pid line would be a trial that
 * never started, but .next is never looked at as one).
 *
 * Owns the table of experiment directories and, per entry, the prepared
 * record's fd until a take hands it to the caller.
 */
#ifndef KATIB_PREPARED_H
#define KATIB_PREPARED_H

#define PREPARED_NAME ".next"

struct prepared_dirs;

/* The table and its worker thread (started at the first request). 0 or
 * -ENOMEM. */
int prepared_open(struct prepared_dirs **out);

/* Removes every prepared directory, stops the worker, frees the table. */
void prepared_close(struct prepared_dirs *pd);

/* Keep one directory ready under exp_dir (until prepared_discard): the
 * worker makes it, and makes another after each take. Never blocks on the
 * filesystem. */
void prepared_want(struct prepared_dirs *pd, const char *exp_dir);

/* Remove exp_dir's prepared directory, and any a crash left there; no
 * more are made until prepared_want. Never blocks on the filesystem. */
void prepared_discard(struct prepared_dirs *pd, const char *exp_dir);

/* trial_dir (a new name in exp_dir) from the prepared directory, by one
 * rename that never replaces anything: 0 and *record_fd the trial's
 * record, empty, opened O_APPEND and locked (the caller's to close); or a
 * negative errno (-EAGAIN: none ready) and the caller creates trial_dir
 * itself. */
int prepared_take(struct prepared_dirs *pd, const char *exp_dir,
		  const char *trial_dir, int *record_fd);

#endif
