/*
 * katib.h - the daemon's API: everything a user can do through the mount is
 * one call here, so the FUSE layer (fs/) is a thin translation of paths to
 * these calls, and unit tests can drive the whole system without mounting.
 *
 * Threading: every function may be called concurrently from any thread.
 * Reads render a snapshot of the in-memory model under its lock and return
 * at once; they never wait for a child process, the network or an fsync.
 * Writes hand a request to the controller and return its verdict.
 *
 * Ownership: buffers returned through `char **out` are heap-allocated and
 * owned by the caller (free()). Names passed in are borrowed.
 *
 * Errors: 0 or a negative errno, as the syscall that caused the call should
 * return it: -ENOENT unknown experiment/trial/file, -EINVAL bad input,
 * -EPERM change not allowed now, -EBUSY experiment still running, -EEXIST,
 * -EACCES read-only file. User-facing detail goes to `err` and to the
 * experiment's `events`.
 */
#ifndef KATIB_KATIB_H
#define KATIB_KATIB_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "katib/error.h"

struct katib;

/* The files of the tree. */
enum kfile {
	KFILE_NONE = 0,
	/* MOUNTPOINT/README */
	KFILE_README,
	/* MOUNTPOINT/<experiment>/ */
	KFILE_SPEC,	   /* spec.yaml: rw, applied on flush */
	KFILE_STATUS,	   /* status: snapshot */
	KFILE_STATUS_JSON, /* status.json: snapshot */
	KFILE_CONTROL,	   /* control: rw */
	KFILE_BEST,	   /* best: snapshot */
	KFILE_TRIALS_CSV,  /* trials.csv: snapshot */
	KFILE_EVENTS,	   /* events: append-only stream */
	/* MOUNTPOINT/<experiment>/trials/<N>/ */
	KFILE_T_PARAMS,	      /* immutable once the trial exists */
	KFILE_T_PARAMS_JSON,  /* immutable */
	KFILE_T_METRICS,      /* snapshot; append to push */
	KFILE_T_OBSERVATIONS, /* append-only stream (CSV) */
	KFILE_T_STATUS,	      /* snapshot */
	KFILE_T_LOG,	      /* append-only stream */
	KFILE_T_SPEC,	      /* snapshot: written when the trial starts */
	KFILE_T_CONTROL,      /* rw */
	KFILE_PLOT,	      /* plot.svg: snapshot (experiment file) */
	KFILE_QUEUE,	      /* queue: rw, trials to run next */
	KFILE_PARETO_CSV,     /* pareto.csv: snapshot, multi-objective only */
	KFILE_IMPORTANCE,     /* importance: snapshot (experiment file) */
};

enum kfile_class {
	KCLASS_SNAPSHOT,  /* render once per open, direct_io */
	KCLASS_STREAM,	  /* true size, direct_io, invalidated on growth */
	KCLASS_IMMUTABLE, /* long cache timeouts, keep_cache */
};

/* Name of a file ("status", "trials.csv") and back; KFILE_NONE if none. */
const char *kfile_name(enum kfile f);
enum kfile kfile_experiment_lookup(const char *name);
enum kfile kfile_trial_lookup(const char *name);
enum kfile_class kfile_class(enum kfile f);
/* 1 if a user may write the file (spec.yaml, control, trials/N/metrics,
 * trials/N/control). */
int kfile_writable(enum kfile f);
/* 1 if experiment `exp` has file f (pareto.csv: multi-objective ones). */
int katib_has_file(struct katib *k, const char *exp, enum kfile f);

struct katib_options {
	const char *state_dir;	/* created if missing */
	const char *backend;	/* "local" (default) or "kubernetes" */
	const char *kubeconfig; /* kubernetes: --kubeconfig, or NULL */
	const char *context;	/* kubernetes: --context, or NULL */
	const char *namespace;	/* kubernetes: --namespace, or NULL */
	const char *mountpoint; /* for the mount-wide events, or NULL */
	const char *kube_qps;	/* kubernetes: --kube-qps, or NULL */
	const char *kube_burst; /* kubernetes: --kube-burst, or NULL */
	const char *configmaps; /* local: --configmaps DIR, or NULL */
};

/*
 * Open the state directory, load every experiment, start the controller
 * thread. Returns 0 and *out, or a negative errno with err filled.
 */
int katib_open(const struct katib_options *opt, struct katib **out,
	       struct kb_error *err);

/*
 * Stop the controller and free k. Running trials go on (the local backend
 * runs each under a supervisor of its own); the next katib_open() on the
 * same state re-adopts them, or collects how they ended meanwhile.
 */
void katib_close(struct katib *k);

/*
 * Called from the controller thread, with no lock held, after a stream file
 * grew or a snapshot changed (trial 0 for experiment files, exp NULL for
 * the root). The FUSE layer uses it to invalidate kernel caches.
 */
typedef void (*katib_notify_fn)(void *arg, const char *exp, int trial,
				enum kfile f);
void katib_set_notify(struct katib *k, katib_notify_fn fn, void *arg);

/* ---- Directory structure ---- */

struct katib_stat {
	struct timespec ctime; /* creation */
	struct timespec mtime; /* last change of anything inside */
	size_t ntrials;	       /* an experiment's (katib_experiment_stat) */
};

/* Experiment names, sorted; *names is a heap array of heap strings. */
int katib_list_experiments(struct katib *k, char ***names, size_t *n);
int katib_experiment_stat(struct katib *k, const char *exp,
			  struct katib_stat *st);
/* Trial numbers (1, 2, ...) in creation order; *numbers heap array. */
int katib_list_trials(struct katib *k, const char *exp, int **numbers,
		      size_t *n);
int katib_trial_stat(struct katib *k, const char *exp, int trial,
		     struct katib_stat *st);

/* ---- Reading ---- */

/*
 * Render a snapshot or immutable file (trial = 0 for experiment files,
 * exp NULL for the root README). *out is heap (may have len 0).
 */
int katib_render(struct katib *k, const char *exp, int trial, enum kfile f,
		 char **out, size_t *len);

/*
 * An open file's text, fixed at open (a snapshot or immutable file, as
 * katib_render would give it), read later a range at a time without the
 * model lock: trials.csv's shares the rows kept for it (never copied
 * whole), the others own their rendered text. NULL *out and -ENOMEM, or
 * another error as katib_render's.
 */
struct katib_text;
int katib_open_text(struct katib *k, const char *exp, int trial, enum kfile f,
		    struct katib_text **out);
size_t katib_text_size(const struct katib_text *t);
/* Up to size bytes from off: the number copied (0 at or past the end). */
size_t katib_text_read(const struct katib_text *t, char *out, size_t size,
		       off_t off);
void katib_text_free(struct katib_text *t);

/* The size katib_render would give now (for stat); trials.csv is not
 * rendered whole for it. */
int katib_render_size(struct katib *k, const char *exp, int trial, enum kfile f,
		      size_t *len);

/* Size and mtime of a stream file (events, trials/N/log, observations). */
int katib_stream_stat(struct katib *k, const char *exp, int trial, enum kfile f,
		      off_t *size, struct timespec *mtime);
/* pread() of a stream file: bytes read (0 at EOF) or a negative errno. */
ssize_t katib_stream_read(struct katib *k, const char *exp, int trial,
			  enum kfile f, char *buf, size_t size, off_t off);

/* ---- Writing ---- */

/* mkdir: a new experiment in state Created. -EEXIST, -EINVAL (bad name). */
int katib_mkdir(struct katib *k, const char *exp, struct kb_error *err);
/*
 * rmdir: -EBUSY while Running, or Paused with trials still running;
 * otherwise deletes the experiment, its trials, logs and state.
 */
int katib_rmdir(struct katib *k, const char *exp, struct kb_error *err);

/*
 * A complete spec.yaml write (taken at flush). Valid: the experiment
 * starts, or the editable fields of a started one change. Invalid: -EINVAL
 * and the reason in status (error=) and events; nothing else changes.
 * Immutable field changed: -EPERM.
 */
int katib_write_spec(struct katib *k, const char *exp, const char *text,
		     size_t len, struct kb_error *err);

/* control: "pause", "resume", "stop" (one or more, newline separated). */
int katib_write_control(struct katib *k, const char *exp, const char *text,
			size_t len, struct kb_error *err);
/* trials/N/control: "kill". */
int katib_write_trial_control(struct katib *k, const char *exp, int trial,
			      const char *text, size_t len,
			      struct kb_error *err);
/*
 * queue: "name=value ..." lines, each a whole assignment of the search
 * space, run next in order (core/engine/queue.c). -EINVAL naming the
 * parameter for a line that does not fit (nothing of the write is then
 * queued), or for an algorithm that cannot run a trial it did not suggest;
 * -EBUSY once the experiment has ended.
 */
int katib_write_queue(struct katib *k, const char *exp, const char *text,
		      size_t len, struct kb_error *err);
/* trials/N/metrics: "name=value" lines (Push collector). */
int katib_push_metrics(struct katib *k, const char *exp, int trial,
		       const char *text, size_t len, struct kb_error *err);

/*
 * Wait until the controller has nothing runnable left to do for `exp`
 * (finished) or timeout_ms passes. For tests and `make demo`. Returns 0
 * when finished, -ETIMEDOUT otherwise.
 */
int katib_wait_finished(struct katib *k, const char *exp, int timeout_ms);

#endif
