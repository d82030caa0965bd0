/*
 * executor.h - the local backend: run a trial's primary container command
 * as a local process.
 *
 * The child runs in its own process group (so a kill reaches everything it
 * started), with the daemon's environment plus the container's env,
 * KATIB_TRIAL_NAME, KATIB_TRIAL_DIR and PYTHONUNBUFFERED=1 (unless the spec
 * sets it: Python buffers stdout when it is a file, and a user tailing the
 * log would see nothing), its stdout and stderr appended to `log_path`,
 * and in the container's workingDir or else `trial_dir`. The child gets an
 * empty signal mask and default dispositions whatever the daemon has.
 *
 * Completion is observed through a pidfd (poll() it for readability) and
 * collected with local_reap(). Nothing here blocks.
 */
#ifndef KATIB_EXECUTOR_H
#define KATIB_EXECUTOR_H

#include <sys/types.h>

#include "katib/error.h"
#include "katib/spec.h"

/*
 * Start cmd. On success *pid is the child (and its process group id) and
 * *pidfd a pidfd for it (the caller closes it). -ENOENT / -EACCES when the
 * command cannot be executed, with err saying which and why.
 */
int local_spawn(const struct trial_command *cmd, const char *trial_name,
		const char *trial_dir, const char *log_path, pid_t *pid,
		int *pidfd, struct kb_error *err);

/* Signal the whole process group of a running trial. */
int local_signal(pid_t pgid, int sig);

/*
 * Collect the child's exit without blocking: 1 and *exit_code (or
 * *term_signal, with *exit_code = 128 + signal) when it has ended, 0 while
 * it runs, negative errno on error. Once it has ended, the rest of its
 * process group is sent SIGKILL so no grandchild outlives the trial.
 */
int local_reap(pid_t pid, int *exit_code, int *term_signal);

/*
 * 1 if process `pid` is still the trial named `name` (its environment has
 * KATIB_TRIAL_NAME=name), so a stale pid from an earlier daemon is never
 * mistaken for an unrelated process that reused the number.
 */
int local_is_trial(pid_t pid, const char *name);

#endif
