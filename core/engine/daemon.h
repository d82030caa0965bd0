/*
 * daemon.h - the inside of struct katib and the services the daemon's
 * modules share (core/engine/daemon.c): finding an experiment, events,
 * notifications, waking the controller, saving an experiment, the trial's
 * paths. Private to core/: the API (core/engine/katib.c), the controller
 * (core/engine/controller.h), the store's transactions
 * (core/engine/recover.h), the requests and the renderers
 * (core/views/render.h) build on it; it includes none of them.
 *
 * Locking: k->lock guards the model, the store's transactions being
 * built (its writer thread commits them without it) and the notification
 * queue. Functions named *_locked expect it held. The controller thread
 * fires queued notifications after dropping the lock, never a FUSE handler.
 */
#ifndef KATIB_ENGINE_DAEMON_H
#define KATIB_ENGINE_DAEMON_H

#include <pthread.h>

#include "katib/backend.h"
#include "katib/katib.h"
#include "engine/model.h"
#include "engine/store.h"

struct notification {
	char exp[EXPERIMENT_NAME_MAX + 1];
	int trial;
	enum kfile file;
};

struct katib {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* broadcast after every tick */
	char *state_dir;
	struct store *store;
	struct experiment **exps;
	size_t nexps, cap;

	pthread_t controller;
	int controller_running;
	int wake_fd; /* eventfd: wakes the controller */
	int stop;

	const struct backend_ops *backend;
	void *backend_priv;

	katib_notify_fn notify;
	void *notify_arg;
	struct notification *queue;
	size_t nqueue, qcap;
	uint64_t name_seq; /* for trial name suffixes */
	int trash_pending; /* rmdir moved files to --state/trash */

	/* the state database failed (ENOSPC, EROFS, ...): the model goes on
	 * in memory, no new trial starts, and everything is written again
	 * once a rewrite succeeds */
	int store_error;
	char store_message[256];
	double store_retry;	/* next rewrite attempt */
	uint64_t store_rewrite; /* the rewrite handed over (store_mark) */

	/* trials being started off the lock (core/engine/controller.c):
	 * prepared and queued by the controller under the lock, spawned
	 * without it, recorded under it again; controller thread only. While
	 * `launching` (spawning, or an algorithm suggesting off the lock), a
	 * spec replaced by a request is parked in `retired`
	 * (katib_spec_retire_locked), since they may still read it. */
	struct launch *launches;
	size_t nlaunches, launches_cap;
	int launching;
	struct experiment_spec **retired;
	size_t nretired, retired_cap;

	/* MOUNTPOINT/events: the daemon's own story (start, stop, trials
	 * re-adopted, rejected mkdir names); stored with exp "" */
	struct strbuf events;
	struct timespec events_mtime;
	int serving; /* katib_open() succeeded: katib_close() says stop */
	struct ranker *ranker; /* the importance thread (importance_task.c) */
};

/* What spec_validate_name() enforces, in words (README, events). */
#define EXPERIMENT_NAME_RULE                                                   \
	"1 to 40 characters: lowercase letters, digits and '-', "              \
	"starting with a letter and ending with a letter or digit"

struct experiment *katib_find_locked(struct katib *k, const char *name);
/* The same for a request that changes it: waits while an rmdir of it
 * writes the store (core/engine/requests.c). */
struct experiment *katib_find_settled_locked(struct katib *k, const char *name);

/* Append "<RFC3339> message" to the experiment's events (memory + store)
 * and queue a notification. */
void experiment_event(struct katib *k, struct experiment *e, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

/* The same for the mount-wide events (MOUNTPOINT/events). */
void katib_event(struct katib *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Queue a kernel-cache invalidation (fired by the controller). */
void katib_queue_notify(struct katib *k, const char *exp, int trial,
			enum kfile f);
/* Wake the controller thread. */
void katib_wake(struct katib *k);

/* Persist the experiment row (state, reason, spec, algorithm state). */
void experiment_save_locked(struct katib *k, struct experiment *e);
/* Persist only its algorithm state (after a suggestion: nothing else of
 * the row changed). */
void experiment_save_algo_locked(struct katib *k, struct experiment *e);

/* Describe t to the backend (cmd may be NULL but for start). */
void backend_trial_of(const struct katib *k, const struct experiment *e,
		      const struct trial *t, const struct trial_command *cmd,
		      char *dir, size_t dirsize, char *log, size_t logsize,
		      struct backend_trial *out);

/* Paths under the state directory. */
void trial_dir_path(const struct katib *k, const char *exp, int trial,
		    char *buf, size_t size);
void trial_log_path(const struct katib *k, const char *exp, int trial,
		    char *buf, size_t size);

/* spec_parse() with the backend as the source of a trialTemplate.configMap
 * (backend_ops.read_configmap): call it WITHOUT k->lock, since reading a
 * ConfigMap may wait for the cluster. */
int katib_parse_spec(struct katib *k, const char *text, size_t len,
		     const char *name, struct experiment_spec **out,
		     struct kb_error *err);

#endif
