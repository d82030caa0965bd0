/*
 * importance_task.h - keeps each experiment's parameter importance
 * (the `importance` file, plot.svg's ranking) up to date, on a thread of
 * its own at a low priority, the ranker (core/engine/importance_task.c).
 *
 * When an experiment's count of Succeeded trials has changed, its
 * Succeeded trials are copied under the model lock (their encoded
 * parameters and objective values: O(trials), no model fitting), the
 * ranking (core/algorithms/importance.h) is computed without the lock, and
 * the result stored under the lock. Never on a read. After a remount the
 * ranking is recomputed the same way (the forest's seed is fixed, so the
 * same trials give the same file).
 *
 * Cost bound: above IMPORTANCE_MAX_TRIALS Succeeded trials an evenly
 * spaced sample of that many is ranked, and an experiment is ranked again
 * only once 9 times its last ranking's CPU time has passed, so ranking
 * takes at most a tenth of a CPU however fast trials end.
 */
#ifndef KATIB_IMPORTANCE_TASK_H
#define KATIB_IMPORTANCE_TASK_H

#include "engine/daemon.h"

/* The ranker thread: started by controller_start(), stopped and joined by
 * controller_stop() (at most one ranking away). 0 or a negative errno. */
int importance_task_start(struct katib *k);
void importance_task_stop(struct katib *k);

/* From the controller's pass, under k->lock: stores the ranker's result,
 * hands it the next experiment due. Returns the milliseconds until a
 * deferred ranking is due (the controller must wake by then), or -1. */
int importance_task_kick_locked(struct katib *k);

/*
 * One pass over the experiments, ranked on the calling thread (tests;
 * takes k->lock itself, briefly). Returns the milliseconds until a
 * deferred ranking is due, or -1 when nothing waits.
 */
int importance_task_run(struct katib *k);

/* The `importance` file of e (under the lock): the ranking as name=score
 * lines, or a `#` line saying why there is none. */
int importance_task_render_locked(const struct experiment *e, struct strbuf *b);

#endif
