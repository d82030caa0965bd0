/*
 * plot_i.h - what the panels of plot.svg share (private to core/views/plot*.c).
 *
 * plot.svg is a stack of panels, each a horizontal band PLOT_WIDTH wide
 * (core/views/plot.c lists them, in the order they appear, in panels[]).
 * A panel is a struct plot_panel:
 *
 *   collect  optional; runs UNDER THE MODEL LOCK: copy from the experiment
 *            what draw() needs into a struct of the panel's own, returned
 *            in *priv (NULL is fine) and freed by release(). Keep it
 *            O(trials) with no text formatting: every reader waits while
 *            it runs. Everything common (the trials' numbers, states and
 *            objective values, their range, the best trial) is in struct
 *            plot_data already; its useful range (vlo, vhi) is not yet:
 *            it is computed without the lock, for height() and draw().
 *   height   the band's height in pixels for this data; 0: not drawn.
 *   draw     runs WITHOUT the lock, on the copies only: write the band
 *            with its top at y = top through the svg_*() writer below.
 *            Returns s->err (0 or -ENOMEM).
 *
 * A new panel is a file core/views/plot_<name>.c defining a const struct
 * plot_panel, declared at the end of this header and added as a row of
 * panels[] in plot.c. Panels draw a thin rule at their top (plot_band()),
 * a bold title at top + 24, and keep within [MARGIN_L, PLOT_WIDTH -
 * MARGIN_R] horizontally. Value axes span plot_data's robust range
 * (plot_value_axis()) and draw what lies outside clipped at the edge with
 * plot_clip_marker().
 *
 * Ownership: struct plot_data owns its arrays and strings (freed with the
 * snapshot, plot_snapshot_free()); a panel's priv is owned by the snapshot
 * and freed by the panel's release().
 */
#ifndef KATIB_PLOT_I_H
#define KATIB_PLOT_I_H

#include <stddef.h>

#include "engine/model.h"
#include "views/plot.h"

#define MARGIN_L  80
#define MARGIN_R  40
#define LABEL_MAX 40 /* characters of a title-like label */
#define TICK_MAX  14 /* characters of a tick label */
#define NSTATES	  (TRIAL_METRICS_UNAVAILABLE + 1)

#define BEST_COLOUR "#2ca02c"
#define GOAL_COLOUR "#444444"
#define GRID_COLOUR "#e5e5e5"
#define AXIS_COLOUR "#333333"
#define NOTE_COLOUR "#555555"

extern const char *const plot_state_colour[NSTATES];

/* ---- the writer (plot_svg.c) ---- */

struct svg {
	struct strbuf *b;
	int err; /* first failure; later calls do nothing */
};

void svg_printf(struct svg *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s as XML character data, at most max characters (an ellipsis marks a
 * cut); invalid UTF-8 and control characters become '?'. */
void svg_text(struct svg *s, const char *str, size_t max);
/* <text x y attrs>label</text> */
void svg_label(struct svg *s, double x, double y, const char *attrs,
	       const char *label, size_t max);
/* The same on a white box (opacity 0.85), so lines under it do not cross
 * it. anchor: 's'tart, 'm'iddle or 'e'nd; size: the font size. */
void svg_label_boxed(struct svg *s, double x, double y, char anchor,
		     double size, const char *attrs, const char *label,
		     size_t max);
void svg_line(struct svg *s, double x0, double y0, double x1, double y1,
	      const char *attrs);
void svg_begin(struct svg *s, int height, const char *title);
void svg_end(struct svg *s);

/* ---- numbers and axes (plot_svg.c) ---- */

struct frame {
	double x0, y0, x1, y1; /* plot area: x0 left, y0 top */
};

struct axis {
	double lo, hi, step;
};

/* An axis from a nice number below lo to one above hi, ~n ticks, steps of
 * at least min_step. */
void axis_nice(struct axis *a, double lo, double hi, int n, double min_step);
/* The i-th tick from first, snapped to 0 when rounding left a speck. */
double axis_tick(const struct axis *a, double first, int i);
void widen(double *lo, double *hi);
void format_tick(double v, double step, double maxabs, char *buf, size_t size);
/* A value in labels: short and readable. */
void format_value(double v, char *buf, size_t size);
/* v from [lo, hi] to [p0, p1] (the middle when lo == hi). */
double map(double v, double lo, double hi, double p0, double p1);
double clampd(double v, double lo, double hi);

/* Horizontal grid lines, ticks and labels of a value axis at f->x0. */
void plot_y_axis(struct svg *s, const struct frame *f, const struct axis *a);
/* The same for an x axis along f->y1. */
void plot_x_axis(struct svg *s, const struct frame *f, const struct axis *a);
/* The frame's outline, xlabel under it, ylabel rotated along the left. */
void plot_frame(struct svg *s, const struct frame *f, const char *xlabel,
		const char *ylabel);

/* y of v on a vertical value axis a in f, clamped to the frame; *clip (if
 * not NULL) -1 below the axis, 1 above, 0 on it. */
double plot_y(const struct frame *f, const struct axis *a, double v, int *clip);

/*
 * A value drawn clipped at y (the edge of its axis): a small triangle
 * pointing out of the plot (up: the value is above the axis), class
 * "clipped", filled with colour.
 */
void plot_clip_marker(struct svg *s, double x, double y, int up,
		      const char *colour);

/* The median of n >= 1 values, none NAN (reorders v). */
double plot_median(double *v, size_t n);

/* End-of-line marks: a square and a cross centred on x, y. class may be
 * NULL. */
void plot_mark_square(struct svg *s, double x, double y, const char *colour,
		      const char *cls);
void plot_mark_cross(struct svg *s, double x, double y, const char *colour,
		     const char *cls);

enum legend_kind {
	LEGEND_DOT,
	LEGEND_LINE,
	LEGEND_DASHED,
	LEGEND_SQUARE,
	LEGEND_CROSS,
};

/* One legend entry at *x, *y (baseline), moving *x on and wrapping to a
 * new line at the right margin. */
void plot_legend_item(struct svg *s, double *x, double *y, const char *colour,
		      enum legend_kind kind, const char *label);

/* ---- the data every panel gets (plot.c) ---- */

struct plot_trial {
	int number;
	enum trial_state state;
	double value; /* the objective, NAN when none */
};

struct plot_data {
	char *name;
	enum experiment_state state;
	struct trial_counts counts;
	char *metric;
	int maximize;
	int has_goal;
	double goal;
	int max_trial_count; /* -1: unset */
	struct plot_trial *trials;
	size_t ntrials;
	size_t nval;	 /* trials with a value */
	double lo, hi;	 /* range of the values */
	double vlo, vhi; /* the useful range: value axes span it (set
			  * without the lock, for height() and draw();
			  * 0 in collect()) */
	long best;	 /* index into trials, -1: none */
	double best_v;
};

/* 1 when a is better than b for the objective's direction. */
int plot_better(const struct plot_data *d, double a, double b);
/* Succeeded and EarlyStopped trials count for the best, as `best` says. */
int plot_counts_best(enum trial_state s);
/* 0 (worst value in the useful range) .. 1 (best), clamped; in height()
 * and draw() only (vlo, vhi). */
double plot_goodness(const struct plot_data *d, double v);

/*
 * The useful range of n values (NANs skipped, v untouched): the full range
 * unless some values lie far out: beyond 3 interquartile ranges of the
 * quartiles, or past a gap 3 times wider than the span of the values
 * between it and the median (a cluster of diverged trials). Then the
 * range of the others. *lo > *hi when no value. 0 or -ENOMEM.
 */
int plot_useful_range(const double *v, size_t n, double *lo, double *hi);

/* [lo, hi] widened to the goal when it is set and not far off (further
 * off, it would squash the values: it is drawn at the edge, marked). */
void plot_value_span(const struct plot_data *d, double *lo, double *hi);
/* A nice value axis over plot_value_span(lo, hi). */
void plot_value_axis(const struct plot_data *d, double lo, double hi,
		     struct axis *a);

/* The goal as a dashed line across f on value axis a (at the edge,
 * marked, when off it), and its label, on a white box: draw the label
 * after everything else so that nothing hides it. */
void plot_goal_line(struct svg *s, const struct plot_data *d,
		    const struct frame *f, const struct axis *a);
void plot_goal_label(struct svg *s, const struct plot_data *d,
		     const struct frame *f, const struct axis *a);

/* A thin rule across the document at the top of a panel. */
void plot_band(struct svg *s, double top);

/* ---- panels ---- */

struct plot_panel {
	const char *name;
	int (*collect)(struct experiment *e, const struct plot_data *d,
		       void **priv);
	void (*release)(void *priv);
	int (*height)(const struct plot_data *d, const void *priv);
	int (*draw)(struct svg *s, const struct plot_data *d, const void *priv,
		    double top);
};

extern const struct plot_panel plot_objective_panel; /* plot_objective.c */
extern const struct plot_panel plot_curves_panel;    /* plot_curves.c */
extern const struct plot_panel plot_parallel_panel;  /* plot_parallel.c */
extern const struct plot_panel plot_pareto_panel;    /* plot_pareto.c */

/* plot_importance.c: the ranking of the `importance` file */
extern const struct plot_panel plot_importance_panel;

#endif
