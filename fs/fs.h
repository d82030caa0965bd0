/*
 * fs.h - the FUSE layer of katibfs: paths of the mount to calls on the core
 * (include/katib/katib.h), kernel cache invalidation, editor scratch files.
 *
 * main.c creates the core, then a struct katibfs around it, hands
 * katibfs_operations() to fuse_new() with the katibfs as private data, and
 * starts the notifier once the struct fuse exists. Teardown runs in reverse:
 * katibfs_stop_notify(), unmount, katib_close(), katibfs_free().
 */
#ifndef KATIBFS_FS_H
#define KATIBFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>

#include "katib/katib.h"

struct katibfs;

/* A FUSE layer over the core `k` (borrowed). NULL on ENOMEM. */
struct katibfs *katibfs_new(struct katib *k);

/* Free everything the FUSE layer owns (scratch files, queued paths). */
void katibfs_free(struct katibfs *fs);

/* The handlers; private data must be the struct katibfs. */
const struct fuse_operations *katibfs_operations(void);

/*
 * Start the notifier thread and register it with the core: the core's
 * notify callback only queues a path; the thread calls fuse_invalidate_path
 * so that neither the controller nor a FUSE handler ever waits on the
 * kernel. Returns 0 or a negative errno.
 */
int katibfs_start_notify(struct katibfs *fs, struct fuse *fuse);

/* Unregister from the core and join the notifier thread. Idempotent. */
void katibfs_stop_notify(struct katibfs *fs);

#endif
