/*
 * trial_script.h - what a local trial is given beyond its spec, and
 * trials/N/spec on the local backend: a sh script that runs the trial again.
 */
#ifndef KATIB_TRIAL_SCRIPT_H
#define KATIB_TRIAL_SCRIPT_H

#include <stddef.h>

#include "katib/spec.h"

/* Room trial_own_env() needs in `out`. */
#define TRIAL_OWN_ENV_MAX 4

/*
 * The variables katibfs sets for every local trial on top of the daemon's
 * environment and the container's env: KATIB_TRIAL_NAME, KATIB_TRIAL_DIR,
 * and PYTHONUNBUFFERED=1 unless the container sets it. Fills `out` (room
 * for TRIAL_OWN_ENV_MAX) with malloc'd "NAME=value" strings the caller
 * frees; returns how many, or -ENOMEM (nothing left to free).
 */
int trial_own_env(const struct trial_command *cmd, const char *trial_name,
		  const char *trial_dir, char **out);

/*
 * The text of trials/N/spec for a local trial: a #!/bin/sh script naming
 * the experiment and trial that cds to `cwd`, exports the container's env
 * and trial_own_env(), and execs the exact argv (each argument single-
 * quoted, so newlines and quotes survive). `sh spec` runs the same command.
 * Returns a malloc'd string (the caller's), or NULL on ENOMEM.
 */
char *trial_script(const char *experiment, int number, const char *trial_name,
		   const char *trial_dir, const char *cwd,
		   const struct trial_command *cmd);

#endif
