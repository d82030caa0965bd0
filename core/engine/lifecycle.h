/*
 * lifecycle.h - opening and closing the daemon's state
 * (core/engine/lifecycle.c), for katib_open() and katib_close()
 * (core/engine/katib.c), in this order: lifecycle_state_dir(), store_open(),
 * lifecycle_backend_open(), lifecycle_load(), lifecycle_log_start(), the
 * controller; at close lifecycle_log_stop() first.
 */
#ifndef KATIB_ENGINE_LIFECYCLE_H
#define KATIB_ENGINE_LIFECYCLE_H

#include "engine/daemon.h"

/* k->state_dir: `path` made absolute (created if need be), with its
 * trash/ and experiments/. -errno with err. */
int lifecycle_state_dir(struct katib *k, const char *path,
			struct kb_error *err);

/* Open `backend` as k->backend; its news go to k's events. */
int lifecycle_backend_open(struct katib *k, const struct backend_ops *backend,
			   const struct katib_options *opt,
			   struct kb_error *err);

/* Load the store into k (before the controller runs): experiments that
 * were running are activated again, a spec this version no longer accepts
 * makes its experiment Invalid; trials compacted. */
int lifecycle_load(struct katib *k, struct kb_error *err);

/* The line that starts a mount in MOUNTPOINT/events (and one saying the
 * last daemon did not stop cleanly), and the line that stops it (what goes
 * on without the daemon; only once katib_open() succeeded). */
void lifecycle_log_start(struct katib *k, const struct katib_options *opt);
void lifecycle_log_stop(struct katib *k);

#endif
