/*
 * plot.h - plot.svg, rendered from the model (core/engine/model.h).
 *
 * One SVG 1.1 document, a stack of panels (core/views/plot_i.h says how a
 * panel is made; core/views/plot.c lists them):
 *
 *   - the objective of every trial against its number, points coloured by
 *     the trial's state, trials without a value yet as ticks on the x axis,
 *     the running best as a step line, the goal as a dashed line;
 *   - with two or more parameters, the trials in parallel coordinates, one
 *     vertical axis per parameter (logarithmic for logUniform/logNormal,
 *     categorical axes with their values) and one for the objective.
 *
 * Value axes span the useful range of the values (plot_useful_range());
 * values outside it are drawn clipped at the edge and marked.
 *
 * Rendering takes two steps so that readers of other files never wait for
 * it: plot_snapshot() copies what the panels need under the model lock
 * (O(trials), no text), plot_render_snapshot() writes the SVG from the copy
 * without the lock. The size is bounded whatever the number of trials:
 * above PLOT_MAX_POINTS values the points are decimated to the lowest and
 * highest value per two pixel columns, above PLOT_MAX_LINES trials a sample
 * of lines is drawn (always with the best trial); the subtitles say so.
 *
 * An experiment without a spec or without any objective value yet gets a
 * small valid SVG that says so.
 */
#ifndef KATIB_PLOT_H
#define KATIB_PLOT_H

#include "engine/model.h"

#define PLOT_WIDTH	 800
#define PLOT_MAX_POINTS	 2000 /* more values: decimated per pixel column */
#define PLOT_MAX_LINES	 400  /* parallel coordinates: lines drawn at most */
#define PLOT_MAX_AXES	 12   /* parallel coordinates: parameters shown */
#define PLOT_MAX_FAILED	 200  /* parallel coordinates: failed lines at most */
#define PLOT_MAX_CURVES	 40   /* learning curves drawn at most ... */
#define PLOT_BEST_CURVES 10   /* ... the best ones among them */

struct plot_snapshot;

/* Under the model lock: copy what plot.svg of e shows. 0 or -ENOMEM. */
int plot_snapshot(struct experiment *e, struct plot_snapshot **out);
/* Without the lock: append the SVG of snap to out. 0 or -ENOMEM. */
int plot_render_snapshot(const struct plot_snapshot *snap, struct strbuf *out);
void plot_snapshot_free(struct plot_snapshot *snap);

/* Both at once (the caller holds the model lock). 0 or -ENOMEM. */
int plot_render(struct experiment *e, struct strbuf *out);

#endif
