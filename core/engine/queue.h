/*
 * queue.h - EXP/queue: assignments a user asks to run next
 * (core/engine/queue.c). Writing is katib_write_queue() (katib.h); the
 * rest is for the controller, the renderer and the loader, all under
 * katib->lock; the store rewrite (core/engine/recover.c) reads e->queued.
 */
#ifndef KATIB_ENGINE_QUEUE_H
#define KATIB_ENGINE_QUEUE_H

#include "engine/daemon.h"

/* The lines still waiting, "name=value ..." each, oldest first. */
void queue_render_locked(const struct experiment *e, struct strbuf *b);

/* A line loaded from the store (e's spec is parsed): checked again and
 * appended; a line the spec no longer takes is dropped. */
int queue_load(struct experiment *e, long seq, const char *line);

/* The oldest queued assignment (spec->nparams heap strings, the caller's)
 * taken off the queue and the store, or NULL when it is empty. */
char **queue_pop_locked(struct katib *k, struct experiment *e);

#endif
