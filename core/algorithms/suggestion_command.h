/*
 * suggestion_command.h - a search algorithm of one's own, run as a program
 * (katibfs/suggestion-command; core/algorithms/suggestion_command.c).
 *
 * The experiment's algorithm is algorithm_suggestion_command (not in the
 * algorithm table: it stands for any algorithmName katibfs does not know).
 * Its suggest() is never called by the controller, which must not wait
 * for a program under the model lock: core/engine/command.c starts a run
 * (sc_start(): a thread runs the program off the lock), and a later
 * controller pass takes its output (sc_take()) and checks it
 * (sc_parse()). destroy() kills a run still going and joins its thread.
 */
#ifndef KATIB_ALGORITHMS_SUGGESTION_COMMAND_H
#define KATIB_ALGORITHMS_SUGGESTION_COMMAND_H

#include <stddef.h>

#include "katib/algorithm.h"

#define SC_TIMEOUT_ENV	   "KATIBFS_SUGGESTION_TIMEOUT" /* seconds */
#define SC_TIMEOUT_DEFAULT 60.0

extern const struct algorithm_ops algorithm_suggestion_command;

/* What one run of the program did. */
struct sc_raw {
	int spawned;	 /* 0: it could not start (why in stderr_last) */
	int timed_out;	 /* killed at the time limit */
	int exit_status; /* when it exited */
	int signal;	 /* when a signal ended it */
	char *out;	 /* stdout (heap, NUL-terminated) */
	size_t out_len;
	char stderr_last[256]; /* its last non-empty stderr line */
};

void sc_raw_free(struct sc_raw *r);

/*
 * Run argv (NULL-terminated; argv[0] looked up on PATH) with `input` on
 * stdin, collecting stdout and the last stderr line, killing its process
 * group after `timeout` seconds, or as soon as `cancel_fd` (-1: none)
 * becomes readable. Blocks; for the run thread and tests. 0, or a
 * negative errno when no process could be made (raw->spawned 0).
 */
int sc_run(char *const *argv, const char *input, double timeout, int cancel_fd,
	   struct sc_raw *raw);

/* The time limit: $KATIBFS_SUGGESTION_TIMEOUT seconds (> 0), else 60. */
double sc_timeout(void);

/*
 * Start a run of spec's command with `input` (taken over) in a thread of
 * its own; wake(arg) is called from that thread when it has ended. -EBUSY
 * when a run is under way, -ENOMEM, or the pthread error.
 */
int sc_start(void *priv, const struct experiment_spec *spec, char *input,
	     void (*wake)(void *), void *arg);

/* 1 while a run is under way. */
int sc_running(void *priv);

/* The ended run's result into *raw (the caller's; sc_raw_free) and 1, or
 * 0 when no run has ended since the last take. */
int sc_take(void *priv, struct sc_raw *raw);

/*
 * The program's stdout as assignments: a JSON array of objects
 * {"<parameter>": value} (a number or a string), each a whole assignment
 * that fits spec's search space (assignment_set_value()). At most `want`
 * go into out[0..] (spec->nparams heap strings each); *extra says how
 * many more it gave. 0, or -EINVAL with err saying what is wrong.
 */
int sc_parse(const struct experiment_spec *spec, const char *text, size_t len,
	     size_t want, char ***out, size_t *n, size_t *extra,
	     struct kb_error *err);

#endif
