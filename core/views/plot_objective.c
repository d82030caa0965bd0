/*
 * plot_objective.c - the first panel of plot.svg: the objective of every
 * trial against its number (a panel as core/views/plot_i.h describes).
 *
 * Points coloured by the trial's state (decimated above PLOT_MAX_POINTS
 * values to the lowest and highest per BUCKET_PX pixel columns), trials
 * without a value as ticks on the x axis, the running best as a step line,
 * the best trial ringed, the goal as a dashed line whose label is drawn
 * last on a white box. The value axis spans the useful range: values off
 * it sit at its edge as triangles (plot_clip_marker()).
 *
 * Needs only struct plot_data (no collect()); owns nothing.
 */
#include "views/plot_i.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJ_H	  430
#define BUCKET_PX 2 /* decimation: pixel columns per bucket */

struct obj_view {
	const struct plot_data *d;
	struct frame f;
	struct axis xa, ya;
};

static double obj_x(const struct obj_view *v, double number)
{
	return map(number, v->xa.lo, v->xa.hi, v->f.x0, v->f.x1);
}

static double obj_y(const struct obj_view *v, double value, int *clip)
{
	return plot_y(&v->f, &v->ya, value, clip);
}

/* ---- header and legend ---- */

static void draw_header(struct svg *s, const struct plot_data *d, double top,
			size_t drawn, size_t clipped)
{
	char line[512], v[64];

	snprintf(line, sizeof(line), "%s: %.60s per trial (%s)", d->name,
		 d->metric, d->maximize ? "maximize" : "minimize");
	svg_label(s, MARGIN_L, top + 24,
		  "font-size=\"16\" font-weight=\"bold\"", line, 120);
	if (d->best >= 0) {
		format_value(d->best_v, v, sizeof(v));
		snprintf(line, sizeof(line), "best: trial %d, %.60s = %s",
			 d->trials[d->best].number, d->metric, v);
	} else {
		snprintf(line, sizeof(line), "best: none yet");
	}
	snprintf(line + strlen(line), sizeof(line) - strlen(line),
		 "  \xc2\xb7  %zu trial(s), experiment %s", d->ntrials,
		 experiment_state_name(d->state));
	if (drawn < d->nval)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "  \xc2\xb7  %zu of %zu points drawn", drawn, d->nval);
	if (clipped)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "  \xc2\xb7  %zu off the axis (\xe2\x96\xb2)",
			 clipped);
	svg_label(s, MARGIN_L, top + 44, "fill=\"" NOTE_COLOUR "\"", line, 160);
}

static void draw_legend(struct svg *s, const struct plot_data *d, double y)
{
	const struct trial_counts *c = &d->counts;
	const int n[NSTATES] = {
		[TRIAL_PENDING] = c->pending,
		[TRIAL_RUNNING] = c->running,
		[TRIAL_SUCCEEDED] = c->succeeded,
		[TRIAL_FAILED] = c->failed,
		[TRIAL_KILLED] = c->killed,
		[TRIAL_EARLY_STOPPED] = c->early_stopped,
		[TRIAL_METRICS_UNAVAILABLE] = c->metrics_unavailable,
	};
	double x = MARGIN_L;
	char label[64], v[48];
	int i;

	for (i = 0; i < NSTATES; i++) {
		if (!n[i])
			continue;
		snprintf(label, sizeof(label), "%s %d",
			 trial_state_name((enum trial_state)i), n[i]);
		plot_legend_item(s, &x, &y, plot_state_colour[i], LEGEND_DOT,
				 label);
	}
	plot_legend_item(s, &x, &y, BEST_COLOUR, LEGEND_LINE, "best so far");
	if (d->has_goal) {
		format_value(d->goal, v, sizeof(v));
		snprintf(label, sizeof(label), "goal %s", v);
		plot_legend_item(s, &x, &y, GOAL_COLOUR, LEGEND_DASHED, label);
	}
}

static void draw_frame(struct svg *s, const struct obj_view *v)
{
	char label[160];

	snprintf(label, sizeof(label), "%.60s (%s is better)", v->d->metric,
		 v->d->maximize ? "higher" : "lower");
	plot_frame(s, &v->f, "trial", label);
}

/* ---- marks ---- */

struct xy {
	double x, y;
};

static int best_line_add(struct xy **pts, size_t *n, double x, double y)
{
	struct xy *p;

	x = round(x * 2) / 2;
	if (*n >= 2 && (*pts)[*n - 1].x == x) {
		(*pts)[*n - 1].y = y; /* same pixel column: move it */
		return 0;
	}
	p = realloc(*pts, (*n + 2) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*pts = p;
	if (*n) {
		p[*n] = (struct xy){ x, p[*n - 1].y };
		(*n)++;
	}
	p[*n] = (struct xy){ x, y };
	(*n)++;
	return 0;
}

/* The running best as a step line, from the first counted trial on. */
static void draw_running_best(struct svg *s, const struct obj_view *v)
{
	const struct plot_data *d = v->d;
	struct xy *pts = NULL;
	size_t i, n = 0;
	double best = 0;
	int have = 0;

	for (i = 0; i < d->ntrials && !s->err; i++) {
		double x = d->trials[i].value;

		if (isnan(x) || !plot_counts_best(d->trials[i].state) ||
		    (have && !plot_better(d, x, best)))
			continue;
		best = x;
		have = 1;
		if (best_line_add(&pts, &n, obj_x(v, d->trials[i].number),
				  obj_y(v, x, NULL)))
			s->err = -ENOMEM;
	}
	if (n && !s->err && d->ntrials)
		best_line_add(&pts, &n,
			      obj_x(v, d->trials[d->ntrials - 1].number),
			      pts[n - 1].y);
	if (n) {
		svg_printf(s, "<polyline fill=\"none\" stroke=\"" BEST_COLOUR
			      "\" stroke-width=\"2\" points=\"");
		for (i = 0; i < n; i++)
			svg_printf(s, "%s%.1f,%.1f", i ? " " : "", pts[i].x,
				   pts[i].y);
		svg_printf(s, "\"/>\n");
	}
	free(pts);
}

/*
 * Which trials get a point: all of them up to PLOT_MAX_POINTS values,
 * else the lowest and the highest value of every BUCKET_PX pixel column.
 * Returns the number selected, or (size_t)-1 when out of memory.
 */
static size_t select_points(const struct obj_view *v, unsigned char *sel)
{
	const struct plot_data *d = v->d;
	size_t i, nb = (size_t)((v->f.x1 - v->f.x0) / BUCKET_PX) + 1, n = 0;
	size_t *lo, *hi, k;

	for (i = 0; i < d->ntrials; i++)
		sel[i] = !isnan(d->trials[i].value) &&
			 d->nval <= PLOT_MAX_POINTS;
	if (d->nval <= PLOT_MAX_POINTS)
		return d->nval;
	lo = malloc(nb * sizeof(*lo));
	hi = malloc(nb * sizeof(*hi));
	if (!lo || !hi) {
		free(lo);
		free(hi);
		return (size_t)-1;
	}
	for (k = 0; k < nb; k++)
		lo[k] = hi[k] = SIZE_MAX;
	for (i = 0; i < d->ntrials; i++) {
		double x = d->trials[i].value;

		if (isnan(x))
			continue;
		k = (size_t)((obj_x(v, d->trials[i].number) - v->f.x0) /
			     BUCKET_PX);
		k = k < nb ? k : nb - 1;
		if (lo[k] == SIZE_MAX || x < d->trials[lo[k]].value)
			lo[k] = i;
		if (hi[k] == SIZE_MAX || x > d->trials[hi[k]].value)
			hi[k] = i;
	}
	for (k = 0; k < nb; k++) {
		if (lo[k] != SIZE_MAX && !sel[lo[k]])
			sel[lo[k]] = 1, n++;
		if (hi[k] != SIZE_MAX && !sel[hi[k]])
			sel[hi[k]] = 1, n++;
	}
	free(lo);
	free(hi);
	return n;
}

/* Points by state; a value off the axis is a triangle at its edge.
 * Returns how many were clipped. */
static size_t draw_points(struct svg *s, const struct obj_view *v,
			  const unsigned char *sel)
{
	const struct plot_data *d = v->d;
	size_t i, clipped = 0;
	int st, clip;

	for (st = 0; st < NSTATES; st++) {
		int open = 0;

		for (i = 0; i < d->ntrials; i++) {
			double x, y;

			if (!sel[i] || (int)d->trials[i].state != st)
				continue;
			if (!open++)
				svg_printf(s,
					   "<g fill=\"%s\" stroke=\"#ffffff\" "
					   "stroke-width=\"0.5\">\n",
					   plot_state_colour[st]);
			x = obj_x(v, d->trials[i].number);
			y = obj_y(v, d->trials[i].value, &clip);
			if (clip) {
				plot_clip_marker(s, x, y, clip > 0,
						 plot_state_colour[st]);
				clipped++;
				continue;
			}
			svg_printf(s,
				   "<circle cx=\"%.1f\" cy=\"%.1f\" "
				   "r=\"4\"/>\n",
				   x, y);
		}
		if (open)
			svg_printf(s, "</g>\n");
	}
	return clipped;
}

/* Trials without a value: a tick above the x axis, one per column. */
static void draw_rug(struct svg *s, const struct obj_view *v)
{
	const struct plot_data *d = v->d;
	size_t nb = (size_t)((v->f.x1 - v->f.x0) / BUCKET_PX) + 1, i, k;
	unsigned char *seen = calloc(nb, 1);
	int st;

	if (!seen) {
		s->err = -ENOMEM;
		return;
	}
	for (st = 0; st < NSTATES; st++) {
		int open = 0;

		memset(seen, 0, nb);
		for (i = 0; i < d->ntrials; i++) {
			double x;

			if (!isnan(d->trials[i].value) ||
			    (int)d->trials[i].state != st)
				continue;
			x = obj_x(v, d->trials[i].number);
			k = (size_t)((x - v->f.x0) / BUCKET_PX);
			if (k >= nb || seen[k]++)
				continue;
			if (!open++)
				svg_printf(s,
					   "<path stroke=\"%s\" "
					   "stroke-width=\"2\" d=\"",
					   plot_state_colour[st]);
			svg_printf(s, "M%.1f %.1fv-9", x, v->f.y1 - 1);
		}
		if (open)
			svg_printf(s, "\"/>\n");
	}
	free(seen);
}

static void draw_best_ring(struct svg *s, const struct obj_view *v)
{
	const struct plot_data *d = v->d;

	if (d->best < 0)
		return;
	svg_printf(s,
		   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7.5\" "
		   "fill=\"none\" stroke=\"" BEST_COLOUR
		   "\" stroke-width=\"2\"/>\n",
		   obj_x(v, d->trials[d->best].number),
		   obj_y(v, d->best_v, NULL));
}

static void objective_axes(const struct plot_data *d, struct axis *xa,
			   struct axis *ya)
{
	double xmax = (double)d->ntrials;

	if (d->max_trial_count > 0 && d->max_trial_count > xmax &&
	    d->max_trial_count <= 1000000)
		xmax = d->max_trial_count;
	axis_nice(xa, 0, xmax < 1 ? 1 : xmax, 8, 1);
	plot_value_axis(d, d->vlo, d->vhi, ya);
}

static int objective_height(const struct plot_data *d, const void *priv)
{
	return OBJ_H;
}

static int objective_draw(struct svg *s, const struct plot_data *d,
			  const void *priv, double top)
{
	struct obj_view v = { .d = d,
			      .f = { MARGIN_L, top + 100, PLOT_WIDTH - MARGIN_R,
				     top + OBJ_H - 50 } };
	unsigned char *sel = malloc(d->ntrials ? d->ntrials : 1);
	size_t drawn, clipped;

	if (!sel)
		return -ENOMEM;
	objective_axes(d, &v.xa, &v.ya);
	drawn = select_points(&v, sel);
	if (drawn == (size_t)-1) {
		free(sel);
		return -ENOMEM;
	}
	draw_legend(s, d, top + 66);
	plot_y_axis(s, &v.f, &v.ya);
	plot_x_axis(s, &v.f, &v.xa);
	draw_frame(s, &v);
	plot_goal_line(s, d, &v.f, &v.ya);
	draw_running_best(s, &v);
	draw_rug(s, &v);
	clipped = draw_points(s, &v, sel);
	draw_best_ring(s, &v);
	plot_goal_label(s, d, &v.f, &v.ya);
	draw_header(s, d, top, drawn, clipped);
	free(sel);
	return s->err;
}

const struct plot_panel plot_objective_panel = {
	.name = "objective",
	.height = objective_height,
	.draw = objective_draw,
};
