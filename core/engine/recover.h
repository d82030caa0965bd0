/*
 * recover.h - the state database's transactions and their failure
 * (core/engine/recover.c): used by the API (core/engine/katib.c), the
 * controller and the requests. recover.c itself needs only
 * include/katib/daemon.h (events and saving an experiment), never the
 * controller.
 *
 * Functions named *_locked expect k->lock held (see daemon.h).
 */
#ifndef KATIB_CORE_RECOVER_H
#define KATIB_CORE_RECOVER_H

#include "katib/daemon.h"

/* End a transaction: commit, or on failure enter the store-error state
 * (events say so) that katib_store_recover_locked() leaves. */
int katib_commit_locked(struct katib *k);
void katib_store_failed_locked(struct katib *k, int rc);
/* Rewrite the whole model into the store if it failed earlier. */
void katib_store_recover_locked(struct katib *k);

#endif
