/*
 * controller.h - the controller thread (core/engine/controller.c): what the API
 * (core/engine/katib.c) and the requests (core/engine/requests.c) ask of it.
 * Below it: core/engine/daemon.h (struct katib, events, paths) and
 * core/engine/recover.h (the store's transactions), neither of which includes
 * this; above it: the API and core/engine/lifecycle.c.
 *
 * Functions named *_locked expect k->lock held (see daemon.h).
 */
#ifndef KATIB_CORE_CONTROLLER_H
#define KATIB_CORE_CONTROLLER_H

#include "engine/daemon.h"

int controller_start(struct katib *k);
void controller_stop(struct katib *k);
/* Prepare a validated spec to run: parser, algorithm (restored from
 * `algo_state` when not NULL). -EINVAL with err. */
int experiment_activate_locked(struct katib *k, struct experiment *e,
			       const char *algo_state, struct kb_error *err);
/* Set state and reason, record an event, persist. */
void experiment_set_state_locked(struct katib *k, struct experiment *e,
				 enum experiment_state s, const char *reason);
/* Ask a running trial to end in `state` (Killed, ...) with `reason`. */
void trial_request_kill_locked(struct katib *k, struct experiment *e,
			       struct trial *t, enum trial_state state,
			       const char *reason);
/* A spec a request replaced: freed now, or after the trials being
 * started off the lock are spawned, since their spawn may read it. */
void katib_spec_retire_locked(struct katib *k, struct experiment_spec *spec);
/* Record pushed observations on a trial. */
int trial_add_observations_locked(struct katib *k, struct experiment *e,
				  struct trial *t,
				  const struct observation *obs, size_t n);
/* Allocate the metric summaries of t for e's parser. */
int trial_init_metrics(struct experiment *e, struct trial *t);

#endif
