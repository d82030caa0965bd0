/*
 * plot.h - plot.svg, rendered from the model (core/engine/model.h).
 *
 * One SVG 1.1 document, written as text by our own small writer:
 *
 *   - the objective of every trial against its number, points coloured by
 *     the trial's state, trials without a value yet as ticks on the x axis,
 *     the running best (Succeeded and EarlyStopped trials, as `best` counts
 *     them) as a step line, the goal as a dashed line;
 *   - with two or more parameters, a second panel: the trials in parallel
 *     coordinates, one vertical axis per parameter (logarithmic for
 *     logUniform/logNormal, categorical axes with their values) and one for
 *     the objective, lines coloured by objective (yellow = better).
 *
 * The size is bounded whatever the number of trials: above PLOT_MAX_POINTS
 * values the points are decimated to the lowest and highest value per two
 * pixel columns, above PLOT_MAX_LINES trials a sample of lines is drawn
 * (always with the best trial); the subtitle says so.
 *
 * An experiment without a spec or without any objective value yet gets a
 * small valid SVG that says so.
 */
#ifndef KATIB_PLOT_H
#define KATIB_PLOT_H

#include "engine/model.h"

#define PLOT_WIDTH	800
#define PLOT_MAX_POINTS 2000 /* more values: decimated per pixel column */
#define PLOT_MAX_LINES	400  /* parallel coordinates: lines drawn at most */
#define PLOT_MAX_AXES	12   /* parallel coordinates: parameters shown */

/*
 * Append plot.svg of e to out. Called with the model lock held (it reads
 * e and its trials, and may fill e's best-trial cache). Returns 0 or
 * -ENOMEM.
 */
int plot_render(struct experiment *e, struct strbuf *out);

#endif
