/*
 * warm_start.h - katibfs/warm-start (core/engine/warm_start.c): the
 * Succeeded trials of earlier experiments as an experiment's history
 * before its first suggestion. Everything here runs under katib->lock.
 */
#ifndef KATIB_ENGINE_WARM_START_H
#define KATIB_ENGINE_WARM_START_H

#include "engine/daemon.h"

/*
 * Spec time, for experiment `exp` about to start with `spec`: every
 * experiment the annotation names exists on this mount and is not `exp`
 * itself, and the algorithm can take history it did not suggest. 0, or
 * -EINVAL with err naming metadata.annotations[katibfs/warm-start].
 */
int warm_start_check_locked(struct katib *k, const char *exp,
			    const struct experiment_spec *spec,
			    struct kb_error *err);

/*
 * When e starts: take the fitting Succeeded trials of the experiments its
 * spec names into e->warm, store them, and say in `events` how many came
 * from each, how many did not fit and why, and whether the algorithm uses
 * them.
 */
void warm_start_take_locked(struct katib *k, struct experiment *e);

/* A stored entry, at mount (e's spec is parsed); a line that no longer
 * fits is dropped. 0 or -ENOMEM. */
int warm_start_load(struct experiment *e, const char *source, const char *line,
		    double objective);

/* Write e's warm-start entries to the store again (after
 * store_clear_all()). */
int warm_start_rewrite_locked(struct katib *k, struct experiment *e);

/*
 * The history an algorithm sees: e's warm entries, then `trials` (e's own
 * history), in e->combined; *out = trials itself when there are none.
 * Their assignments join e->used, so no algorithm suggests them again.
 * 0 or -ENOMEM.
 */
int warm_start_history(struct experiment *e,
		       const struct search_history *trials,
		       struct search_history *out);

#endif
