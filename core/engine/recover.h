/*
 * recover.h - the state database's transactions and their failure
 * (core/engine/recover.c): used by opening (core/engine/lifecycle.c), the
 * controller, the requests and the queue. recover.c itself needs only
 * core/engine/daemon.h (events and saving an experiment), never the
 * controller.
 *
 * Functions named *_locked expect k->lock held (see daemon.h).
 */
#ifndef KATIB_CORE_RECOVER_H
#define KATIB_CORE_RECOVER_H

#include "engine/daemon.h"

/* End a transaction: commit, or on failure enter the store-error state
 * (events say so) that katib_store_recover_locked() leaves. */
int katib_commit_locked(struct katib *k);
void katib_store_failed_locked(struct katib *k, int rc);
/* Enter the store-error state if the store's writer failed since. */
void katib_store_poll_locked(struct katib *k);
/* Drop the lock, then wait until what was committed under it is on
 * disk (what a request returns only once it is): 0, or the store's
 * error, which puts the daemon in the store-error state. */
int katib_unlock_synced(struct katib *k);
/* Rewrite the whole model into the store if it failed earlier: handed
 * over in one call, found written (and the error gone) in a later one. */
void katib_store_recover_locked(struct katib *k);

#endif
