/*
 * executor_local.h - the local backend (core/backends/executor_local.c):
 * each trial runs under a small supervisor process of ours, so trials
 * outlive the daemon.
 *
 * local_start() hands the trial to the daemon's fork server, katibfs-shim
 * --serve (core/backends/supervisor/, a small static program in a session
 * of its own). A plain trial (no collector view, shared file or Custom
 * collector) the server forks and supervises itself; any other gets a
 * supervisor of its own, a fork of the server (katibfs-shim without
 * --serve). Either forks the trial into its own process group with its
 * stdout and stderr appended to the log, waits for it, and records "exit
 * <code> <signal>" in the trial directory's `supervisor` file (after "pid
 * <supervisor> <trial>", or "pid <trial> <trial> <server>"). That file is
 * locked (flock) from before the spawn until the exit is recorded, so a
 * daemon mounted again later can tell, without guessing from pids:
 *
 *   locked                    the trial runs: local_probe() re-attaches;
 *   unlocked, exit recorded   it ended meanwhile: the status is there;
 *   unlocked, no exit line    the supervisor was killed: the trial is lost;
 *   no file, or an empty one  it never started: start it (once).
 *
 * The trial gets the daemon's environment plus the container's env,
 * KATIB_TRIAL_NAME, KATIB_TRIAL_DIR and PYTHONUNBUFFERED=1 (unless the spec
 * sets it: Python buffers stdout when it is a file, and a user tailing the
 * log would see nothing), an empty signal mask and default dispositions,
 * and runs in the container's workingDir or else the trial directory.
 *
 * A File (or TensorFlowEvent) collector's absolute path would be one file
 * for every trial: as the backend (not through local_start()), each trial
 * gets a private view of it, a mount namespace the supervisor sets up in
 * the trial's process (core/collectors/collector_path.h); where the kernel
 * refuses namespaces (backend op private_paths), the controller runs such
 * trials one at a time and the supervisor hands the file on between them.
 *
 * Signals go to the supervisor (through a pidfd, never a bare pid; to the
 * fork server as a request), which forwards them to the trial's process
 * group: SIGTERM as SIGTERM, SIGUSR1 (a request's kill) as SIGKILL.
 * Completion is seen by poll()ing run->pidfd. Nothing here blocks. The
 * fork server outlives its daemon until the last of its trials is
 * recorded; a SIGKILLed server (not daemon) loses its plain trials' exits,
 * as a SIGKILLed supervisor loses its trial's.
 */
#ifndef KATIB_BACKENDS_EXECUTOR_LOCAL_H
#define KATIB_BACKENDS_EXECUTOR_LOCAL_H

#include <sys/types.h>

#include "katib/error.h"
#include "katib/spec.h"

#include "katib/backend.h"

#include "backends/supervisor/record.h" /* SUPERVISOR_FILE */

/* The local backend, as the table in core/backends/backend.c lists it. */
extern const struct backend_ops local_backend;

/*
 * Start cmd under a supervisor. The command's executable is looked up (in
 * the trial's PATH) and the working directory checked first: -ENOENT or
 * -EACCES with err saying which and why, and nothing started.
 */
int local_start(const struct trial_command *cmd, const char *trial_name,
		const char *trial_dir, const char *log_path,
		struct trial_run *run, struct kb_error *err);

/*
 * Look at trial_dir (at mount, or after run->pidfd became readable): reap
 * our child if it is one, then classify it.
 */
enum trial_probe local_probe(const char *trial_dir, struct trial_run *run,
			     int *exit_code, int *term_signal);

/* Ask the trial to end: force = 0 sends SIGTERM, 1 SIGKILL (both to the
 * trial's whole process group, through the supervisor). */
int local_terminate(const struct trial_run *run, int force);

/* Forget a run (close its pidfd, free run->priv). */
void local_release(struct trial_run *run);

#endif
