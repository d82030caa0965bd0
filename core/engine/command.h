/*
 * command.h - the controller's side of katibfs/suggestion-command
 * (core/engine/command.c; the program itself is run by
 * core/algorithms/suggestion_command.c).
 */
#ifndef KATIB_ENGINE_COMMAND_H
#define KATIB_ENGINE_COMMAND_H

#include "engine/daemon.h"

/*
 * Under the lock, for an experiment whose algorithm is a suggestion
 * command: the assignments of its last finished run, checked against the
 * search space, into out[0..] (at most want; returns how many). When no
 * run has finished, one is started (or is under way) and *waiting is set:
 * 0 assignments then do not mean the search is over. A failed run is an
 * events line (with the program's last stderr line) and another run;
 * the third failure in a row returns -EIO with err saying why, to fail the
 * experiment.
 */
int command_suggest_locked(struct katib *k, struct experiment *e, size_t want,
			   char ***out, int *waiting, struct kb_error *err);

#endif
