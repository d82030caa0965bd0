/*
 * render.h - the files of the tree rendered from the model
 * (core/views/render.c): status, status.json, best, trials.csv, params,
 * metrics, spec, queue, importance, pareto.csv, the README. For the API
 * (core/engine/katib.c), under k->lock; the text returned is the caller's.
 */
#ifndef KATIB_VIEWS_RENDER_H
#define KATIB_VIEWS_RENDER_H

#include "engine/daemon.h"

int render_file_locked(struct katib *k, struct experiment *e, struct trial *t,
		       enum kfile f, char **out, size_t *len);
char *render_readme(void);
/* The size of trials.csv without rendering it whole (see model.h). */
int render_trials_csv_size_locked(struct experiment *e, size_t *size);
/* trials.csv as an open file reads it: its kept rows shared, the rest
 * rendered (include/katib/katib.h, katib_open_text). */
int render_trials_csv_text_locked(struct experiment *e,
				  struct katib_text **out);

#endif
