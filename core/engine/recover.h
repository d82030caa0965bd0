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
/* Rewrite the whole model into the store if it failed earlier. */
void katib_store_recover_locked(struct katib *k);

#endif
