/*
 * model.h - the in-memory model of experiments and trials.
 *
 * One struct katib (core/engine/katib.c) owns a list of experiments; each
 * experiment owns its trials. All of it is guarded by katib->lock: the
 * controller thread is the only writer of trial state; the API calls
 * (katib.h) mutate only under the same lock and only what the user asked
 * (a spec, a control word, a pushed metric). Renderers (core/views/render.c)
 * read it under the lock and produce self-contained text.
 *
 * Ownership: an experiment owns everything it points to (spec, parser,
 * algorithm state, trials, buffers) and is freed by experiment_free();
 * a trial is freed by trial_free().
 */
#ifndef KATIB_MODEL_H
#define KATIB_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "katib/algorithm.h"
#include "katib/backend.h"
#include "algorithms/pareto.h"
#include "collectors/metrics.h"
#include "engine/history_snapshot.h"
#include "katib/spec.h"
#include "util/arena.h"
#include "util/chunks.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/textlog.h"

#define KATIB_MAX_VALUES 256 /* parameters per experiment */

struct importance_ranking; /* core/algorithms/importance.h */

enum trial_state {
	TRIAL_PENDING,
	TRIAL_RUNNING,
	TRIAL_SUCCEEDED,
	TRIAL_FAILED,
	TRIAL_KILLED,
	TRIAL_EARLY_STOPPED,
	TRIAL_METRICS_UNAVAILABLE,
};

enum experiment_state {
	EXP_CREATED,
	EXP_RUNNING,
	EXP_PAUSED,
	EXP_SUCCEEDED,
	EXP_FAILED,
	EXP_STOPPED,
	EXP_INVALID,
};

const char *trial_state_name(enum trial_state s);
const char *experiment_state_name(enum experiment_state s);
int trial_state_is_terminal(enum trial_state s);
int experiment_state_is_finished(enum experiment_state s);

/*
 * What only a trial that has not ended needs (the controller thread's):
 * allocated with the trial (trial_live_new), freed once it has ended and
 * its backend let go of it (trial_compact), so an ended trial costs only
 * struct trial. NULL in a trial that ended.
 */
struct trial_live {
	struct trial_run run; /* the backend's handle while it runs */
	int kill_reason;      /* 0 none, else the state to end in */
	/* the kill's SIGTERM is sent once the store transaction kill_mark
	 * (its reason on the Running row) is on disk; 0 until then, then
	 * SIGKILL the group after this time */
	double kill_deadline;
	uint64_t kill_mark;
	off_t log_parsed; /* bytes of the log already parsed */
	off_t log_size;	  /* last size seen (for notifications) */
	/* KATIB_TRIAL_SLOT and the devices of a running trial (slots.h);
	 * slot_known 0: not read back from its directory since a restart */
	int slot; /* -1: none */
	int slot_known;
	char *devices; /* CUDA_VISIBLE_DEVICES, or NULL */
	/* TensorFlowEvent collector: the event files' offsets (collect.h) */
	struct tfevent_reader *tfevent;
	size_t series_checked; /* early stopping looked up to here */
};

/*
 * An ended trial's observations CSV rows (see trial_observations_read):
 * the text, its length and the room allocated (0 when the text lies in
 * the experiment's arena, SEALED_OBSERVATIONS). Changed only through
 * trial_record_observation() and trial_observations_clear().
 */
struct trial_text {
	char *data;
	uint32_t len, cap;
};

/*
 * One trial, as small as an ended one can be (issue 11: 100,000 of them in
 * memory; the breakdown per trial is at the top of model.c): counts are
 * 32-bit or less, the reason an interned string, the name and the values
 * in the experiment's arena, and what only a running trial needs in
 * `live`. 152 bytes (a 160-byte malloc chunk).
 */
struct trial {
	int number; /* 1, 2, ... */
	enum trial_state state;
	uint32_t nvalues;
	uint32_t nseries, series_cap;
	uint32_t nobservations;
	int16_t exit_code;   /* -1 until it exits */
	uint16_t nsummaries; /* one per parser metric */
	uint8_t term_signal; /* signal that ended it, or 0 */
	/* 1: `command` is the script packed against its experiment's
	 * command_ref (util/textdelta.h), as an ended trial keeps it
	 * (trial_compact); read it by trial_command() */
	unsigned char command_packed;
	/* SEALED_*: what of it lies in its experiment's arena e->sealed
	 * (trial_compact), not to be freed or grown (trial_unseal) */
	unsigned char sealed;
	/* <experiment>-<8 chars>, as Katib names trials (at most
	 * TRIAL_NAME_MAX bytes with its NUL): set by trial_set_name() */
	const char *name;
	/* TrialSucceeded, TrialFailed, Killed, ...: interned (never freed;
	 * trial_set_reason), NULL read as "" (trial_reason) */
	const char *reason;
	char *message;	/* free text or NULL */
	char **values;	/* nvalues assignment strings (trial_values_pack) */
	char *command;	/* trials/N/spec: what was run, or NULL; read it
			 * through trial_command() (it may be packed) */
	double *series; /* numeric objective observations, in order */
	struct metric_summary *summaries; /* one per parser metric */
	/* multi-objective: every objective's value (spec order), what its
	 * history entry points at; NULL until first needed */
	double *objectives;
	struct trial_live *live; /* NULL once it ended (see above) */
	/* the observations CSV's rows; its file is OBSERVATIONS_HEADER
	 * then these (trial_observations_read) */
	struct trial_text observations;
	double created, started, finished; /* epoch seconds, 0 = not yet */
	int64_t mtime_ns; /* last change, CLOCK_REALTIME (trial_mtime) */
};

#define TRIAL_NAME_MAX 56

/*
 * trials.csv rendered incrementally (core/views/render.c): the header and the
 * rows of trials[0..nrows), which have all ended, so their rows never change.
 * Rows are appended as trials end in creation order; the whole is rendered
 * again only when the header changes (new metrics or value names).
 */
struct trials_csv_cache {
	struct chunks text; /* shared with open files (core/util/chunks.h) */
	size_t header_len, nrows;
};

void trials_csv_cache_reset(struct trials_csv_cache *c);

struct experiment {
	char *name;
	enum experiment_state state;
	char reason[48];
	char *error;	 /* the standing spec rejection, or NULL */
	char *raw_spec;	 /* text as written (persisted) */
	char *spec_yaml; /* normalized, as spec.yaml reads back */
	struct experiment_spec *spec;
	struct metrics_parser *parser;
	const struct algorithm_ops *algo;
	void *algo_priv;
	const struct early_stopping_ops *early;
	/* names of the assignment values (spec params, or the algorithm's) */
	const char *value_names[KATIB_MAX_VALUES];
	size_t nvalue_names;
	int exhausted; /* the algorithm has nothing more to give */

	struct trial **trials;
	size_t ntrials, cap;
	/* the trials that had not ended when last compacted, in creation
	 * order (a trial that ended is dropped by experiment_active()) */
	struct trial **active;
	size_t nactive, active_cap;

	struct trial_counts {
		int total, pending, running, succeeded, failed, killed,
			early_stopped, metrics_unavailable;
	} counts; /* kept by experiment_append_trial/trial_set_state */
	struct trial *best; /* cache of experiment_best() when best_valid */
	int best_valid;

	struct trials_csv_cache csv;
	/* durations of trials[0..done) for eta_seconds (core/views/render.c),
	 * which have all ended: summed in trial order once; the earliest end
	 * among them (0: none) */
	struct {
		size_t done;
		double sum, first_end;
		int n;
	} durations;
	/* what the algorithm and early stopping see, kept across
	 * suggestions (experiment_history()): one entry per trial, and
	 * every assignment so far */
	struct history_trial *history;
	size_t nhistory, history_cap;
	struct assignment_set *used;
	/* multi-objective (katibfs/objectives): the Succeeded trials no
	 * other Succeeded trial dominates, kept by trial_set_state() as
	 * trials end (pareto.csv reads it) */
	struct pareto_front pareto;

	/* the script the ended trials' scripts are packed against: the
	 * first one packed, kept as long as the experiment (trial_compact) */
	char *command_ref;
	/* what the ended trials keep, packed (trial_compact; util/arena.h) */
	struct arena sealed;

	/* `events`: its older whole blocks deflated in events_sealed, the
	 * rest as text in events (util/textlog.h) */
	struct textlog events_sealed;
	struct strbuf events;
	double created, started, finished;
	struct timespec mtime;
	int deleted;	     /* rmdir'd; freed by the controller */
	int removing;	     /* rmdir waits for the store (requests.c) */
	int collector_noted; /* events said where the collector's file is */
	int devices_noted;   /* events said the devices cap parallelism */
	int next_prepared;   /* the backend keeps its next trial's directory
				ready (backend_ops.prepare_next) */

	/* EXP/queue: assignments a user asked to run next, oldest first,
	 * each spec->nparams values with its store key (core/engine/queue.c) */
	struct queued_trial {
		long seq;
		char **values;
		size_t nvalues;
	} * queued;
	size_t nqueued, queued_cap;
	long queue_seq; /* the last seq given */

	/* parameter importance (core/engine/importance_task.c): the last
	 * ranking (owned) or NULL, why there is none (static text) or NULL,
	 * the Succeeded count it was made for, when the next may be made
	 * (CLOCK_MONOTONIC seconds) */
	struct importance_ranking *importance;
	const char *importance_note;
	int importance_succeeded;
	double importance_next;
	int importance_busy; /* being ranked: the controller does not free it */
	/* its sample of the ended trials before the first still running,
	 * kept across rankings so that one costs the new trials only: the
	 * indices in trials[] (owned) of every `stride`-th eligible one,
	 * how many were looked at (`scanned`) and found eligible (`seen`),
	 * for `generation` (a new spec starts it again) */
	uint32_t *importance_rows;
	size_t importance_nrows, importance_scanned, importance_seen;
	size_t importance_stride;
	unsigned importance_generation;

	/* katibfs/warm-start: trials of earlier experiments given to the
	 * algorithm as history before this one's own (core/engine/
	 * warm_start.c): values (spec->nparams each, owned), objective,
	 * numbers -1, -2, ...; warm_source[i] names the experiment (owned);
	 * `combined` is the warm entries followed by the trials' history,
	 * rebuilt for each suggestion */
	struct history_trial *warm;
	char **warm_source;
	size_t nwarm, warm_cap;
	struct history_trial *combined;
	size_t combined_cap;
	/* katibfs/suggestion-command: runs that failed in a row
	 * (core/engine/command.c) */
	int command_failures;

	/* Suggestions off the model lock (core/engine/controller.c,
	 * "Suggesting off the model lock"): how many assignments the pass
	 * wants (0: none), the history copy the algorithm reads, and
	 * `generation`, bumped by every change of state or spec, so that a
	 * result computed while one happened is dropped. While the algorithm
	 * runs off the lock (algo_busy > 0: suggesting, or PBT preparing a
	 * trial), experiment_save_locked() persists algo_state, the state it
	 * last saved (owned), instead of asking it. Controller thread, but
	 * generation and algo_state under the lock from any. */
	size_t suggest_want;
	struct history_snapshot snapshot;
	unsigned generation;
	int algo_busy;
	char *algo_state;
};

#define SEALED_COMMAND	    1
#define SEALED_OBSERVATIONS 2
#define SEALED_SERIES	    4
#define SEALED_SUMMARIES    8
#define SEALED_VALUES	    16 /* t->values is one block in the arena */
#define SEALED_NAME	    32 /* t->name is in the arena */

/* A trial named "" with nothing recorded (exit_code -1): its creator
 * sets the rest. NULL when out of memory. */
struct trial *trial_alloc(void);
void trial_free(struct trial *t);
/* t->name set to a copy of name in e's arena: 0, or -ENOMEM. */
int trial_set_name(struct experiment *e, struct trial *t, const char *name);
/* t->values and their strings made one block in e's arena (as nothing
 * points at them yet: a trial just made or loaded); unchanged if out of
 * memory. */
void trial_values_pack(struct experiment *e, struct trial *t);
/* t's last change: now (trial_touch_mtime), ts, or as a timespec. */
void trial_touch_mtime(struct trial *t);
void trial_set_mtime(struct trial *t, struct timespec ts);
struct timespec trial_mtime(const struct trial *t);
/* t's observations forgotten (its metrics start again). */
void trial_observations_clear(struct trial *t);
/*
 * Before t's observations, series or metric summaries change: a heap copy
 * of those in its experiment's arena (an ended trial given a pushed
 * metric, a remount reloading its observations). 0 or -ENOMEM.
 */
int trial_unseal(struct trial *t);
/* t->live allocated (no process, no slot): 0 or -ENOMEM. */
int trial_live_new(struct trial *t);
/* Free t->live (its backend has released t->live->run). */
void trial_live_free(struct trial *t);
/* t->reason set to an interned copy of reason (NULL: none). */
void trial_set_reason(struct trial *t, const char *reason);
/* t's reason, "" when none. */
const char *trial_reason(const struct trial *t);
void experiment_free(struct experiment *e);
/* Drop e's queued assignments (memory only). */
void experiment_queue_free(struct experiment *e);
/* Drop e's warm-start history (memory only). */
void experiment_warm_free(struct experiment *e);

/* The objective value of t under its strategy; 0 if it has one. */
int trial_objective(const struct experiment *e, const struct trial *t,
		    double *value);

/*
 * Multi-objective: the value of every objective of t into out[] (spec
 * order, spec_objective_count() of them): 0, or -ENODATA naming in
 * *missing (when not NULL) the first objective t has no numeric value of.
 */
int trial_objective_values(const struct experiment *e, const struct trial *t,
			   double *out, const char **missing);

/*
 * Build e->pareto again from every Succeeded trial: after the trials and
 * their observations were loaded, or the parser changed. O(trials *
 * front). Nothing for a single-objective experiment.
 */
void experiment_pareto_rebuild(struct experiment *e);

/* The current optimal trial (Katib's currentOptimalTrial) or NULL;
 * cached, recomputed only after the cache was invalidated. */
struct trial *experiment_best(struct experiment *e);

/* Counts by state (O(1): maintained as trials change state). */
void experiment_counts(const struct experiment *e, struct trial_counts *c);

/*
 * What the experiment's state and reason alone do not say, for status
 * `message=` and `events`: today why MaxFailedReached was reached (how many
 * trials failed and how many reported no objective). "" when nothing.
 */
void experiment_status_message(const struct experiment *e, char *buf,
			       size_t size);

/*
 * Record one observation of t in memory: its metric summary, the
 * observations CSV, the objective series. Returns 1 when it added a
 * numeric objective value.
 */
int trial_record_observation(const struct experiment *e, struct trial *t,
			     const struct observation *o);

/*
 * Append t's script (trials/N/spec) to out, unpacking it against
 * e->command_ref when t ended: 0, or -ENOMEM / -EINVAL. Nothing when t
 * has none.
 */
int trial_command(const struct experiment *e, const struct trial *t,
		  struct strbuf *out);

/*
 * What an ended trial keeps, made small (trial_set_state and a loaded
 * trial call it; it is idempotent): the script packed against
 * e->command_ref, the observations CSV and the objective series without
 * their growth slack. Nothing read from them changes.
 */
void trial_compact(struct experiment *e, struct trial *t);

/* Append t (numbered e->ntrials + 1) to e and count it. */
int experiment_append_trial(struct experiment *e, struct trial *t);

/* Every change of a trial's state goes through here (counts, best). */
void trial_set_state(struct experiment *e, struct trial *t, enum trial_state s);

struct trial *experiment_trial(const struct experiment *e, int number);

/* The first line of every trial's `observations` (not kept per trial). */
#define OBSERVATIONS_HEADER "timestamp,name,value\n"
/* Up to n bytes of t's `observations` file from off into buf: how many
 * (0 past its end), or -EINVAL. Its size: trial_observations_size(). */
ssize_t trial_observations_read(const struct trial *t, char *buf, size_t n,
				off_t off);
size_t trial_observations_size(const struct trial *t);

/*
 * The trials of e that have not ended, in creation order: e->active after
 * dropping those that ended since the last call. Loops over it read
 * e->active[i] afresh each step and check the state (a trial may end, and
 * trials may be appended, while they run). O(active), not O(trials).
 */
size_t experiment_active(struct experiment *e);

/*
 * The search history of e, as the algorithm and early stopping see it:
 * entries are appended for new trials (their assignments added to
 * e->used) and refreshed for the trials that have not ended (a trial's
 * entry is refreshed as it ends, by trial_set_state). Cost per call:
 * O(new trials + active ones). 0 or -ENOMEM.
 */
int experiment_history(struct experiment *e, struct search_history *out);
/* (e->used goes to search_history_attach_used around a suggestion.) */

/* Drop what is derived from the trials and the parser (trials.csv's rows,
 * the history): after the experiment was (re)activated. */
void experiment_caches_reset(struct experiment *e);

#endif
