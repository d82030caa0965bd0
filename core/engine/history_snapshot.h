/*
 * history_snapshot.h - a copy of an experiment's search history that an
 * algorithm can read without the model lock (core/engine/
 * history_snapshot.c).
 *
 * The history the controller keeps (experiment_history(),
 * warm_start_history()) points into the trials: a running trial's series
 * grows (and moves) as observations arrive, and a request may end a trial
 * and refill its entry, both under the lock. A snapshot is taken under the
 * lock and read off it by one thread (the controller's, while the
 * algorithm suggests): entries of trials that had ended when copied never
 * change again and are copied once (the stable prefix); the others are
 * copied again at every take, with their series copied too.
 *
 * Owns: its entry array and the series copies. The entries' values and
 * the ended trials' series and objectives stay the trials' (an ended
 * trial's never change).
 */
#ifndef KATIB_ENGINE_HISTORY_SNAPSHOT_H
#define KATIB_ENGINE_HISTORY_SNAPSHOT_H

#include <stddef.h>

#include "katib/algorithm.h"

struct history_snapshot {
	struct history_trial *trials;
	size_t ntrials, cap;
	size_t stable;	/* [0, stable): ended when copied, never again */
	double *series; /* copies of the series of the others */
	size_t series_cap;
};

/*
 * Under the lock: s brought up to date with h (the combined history, warm
 * entries first) and *out pointing at it. 0 or -ENOMEM.
 */
int history_snapshot_take(struct history_snapshot *s,
			  const struct search_history *h,
			  struct search_history *out);

/* Everything copied, freed (s itself is the caller's). */
void history_snapshot_free(struct history_snapshot *s);

#endif
