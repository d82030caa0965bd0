/*
 * plot_curves.c - the learning curves panel of plot.svg (a panel as
 * core/views/plot_i.h describes), drawn once a trial has reported the
 * objective.
 *
 * One line per trial: its objective observations in order against the
 * step, the n-th report (what medianstop calls a step; katibfs keeps no
 * other step), coloured by the trial's state. Early-stopped trials end in
 * a square, Killed and Failed ones in a cross. At most PLOT_MAX_CURVES
 * lines: the PLOT_BEST_CURVES best trials (drawn last, thicker, the best of
 * all green) and an even sample of the others; the subtitle says so. A
 * curve longer than CURVE_MAX_POINTS reports keeps the lowest and highest
 * value of each of CURVE_MAX_POINTS / 2 runs of steps. With medianstop the
 * rule's threshold: at each step from start_step on, the median of the
 * Succeeded trials' best value so far (all of them, drawn or not; a trial
 * with fewer reports counts with its final best), once
 * min_trials_required of them exist, as core/earlystopping/medianstop.c
 * computes it; above MEDIAN_MAX_TRIALS Succeeded trials, of an even sample
 * of them (the legend says so), so that the copy under the lock stays
 * bounded. The value axis spans the useful range; values off it are
 * drawn at its edge, each run of them marked.
 *
 * collect() copies the drawn curves and, with medianstop, each Succeeded
 * trial's best so far at up to MEDIAN_MAX_STEPS steps; the struct
 * curves_priv it returns owns them. The medians are taken in draw().
 */
#include "views/plot_i.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earlystopping/medianstop.h"

#define CURVES_H	  380
#define CURVE_MAX_POINTS  240  /* points per curve drawn at most */
#define MEDIAN_MAX_STEPS  64   /* steps at which the median is drawn */
#define MEDIAN_MAX_TRIALS 4000 /* Succeeded trials the median is taken of */
#define MEDIAN_COLOUR	  "#111111"

struct curve {
	long idx;    /* into plot_data trials */
	double *pts; /* npts (step, value) pairs */
	size_t npts;
	int best;   /* one of the PLOT_BEST_CURVES best */
	int group;  /* drawn in order: 0 the sample, 1 the best ones, 2 the
		     * best trial */
	double key; /* in group 1: higher is better */
};

struct curves_priv {
	struct curve *c; /* the drawn curves, in drawing order */
	size_t n;
	size_t total;	 /* trials with observations */
	size_t nbest;	 /* of the drawn, chosen as the best */
	size_t max_step; /* the longest series */
	/* medianstop, when on */
	int medianstop;
	long min_trials, start_step;
	size_t ndone;  /* Succeeded trials with observations */
	size_t nused;  /* of them, in the median (an even sample) */
	size_t nmed;   /* steps sampled */
	size_t *steps; /* nmed steps, increasing */
	double *bests; /* nused rows of nmed bests so far */
};

static void curves_release(void *priv)
{
	struct curves_priv *p = priv;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->c[i].pts);
	free(p->c);
	free(p->steps);
	free(p->bests);
	free(p);
}

/* ---- which curves (under the lock) ---- */

/* Insert trial i into best[0..*n) (better first, at most
 * PLOT_BEST_CURVES) if it is better than the last one there. */
static void keep_best(const struct plot_data *d, long *best, size_t *n, long i)
{
	double v = d->trials[i].value;
	size_t k = *n;

	if (isnan(v))
		return;
	if (k == PLOT_BEST_CURVES &&
	    !plot_better(d, v, d->trials[best[k - 1]].value))
		return;
	if (k < PLOT_BEST_CURVES)
		(*n)++;
	else
		k--;
	for (; k > 0 && plot_better(d, v, d->trials[best[k - 1]].value); k--)
		best[k] = best[k - 1];
	best[k] = i;
}

/*
 * Mark in chosen[] the curves drawn: all when they are few, else the
 * PLOT_BEST_CURVES best (chosen 2) and an even sample of the others
 * (chosen 1). Returns how many.
 */
static size_t choose(struct experiment *e, const struct plot_data *d,
		     struct curves_priv *p, unsigned char *chosen)
{
	long best[PLOT_BEST_CURVES];
	size_t i, n = 0, nbest = 0, rest, others, seen = 0;

	for (i = 0; i < d->ntrials; i++) {
		if (!e->trials[i]->nseries)
			continue;
		if (p->total <= PLOT_MAX_CURVES)
			chosen[i] = 1, n++;
		else
			keep_best(d, best, &nbest, (long)i);
	}
	if (p->total <= PLOT_MAX_CURVES)
		return n;
	for (i = 0; i < nbest; i++)
		chosen[best[i]] = 2;
	n = nbest;
	if (d->best >= 0 && e->trials[d->best]->nseries && !chosen[d->best])
		chosen[d->best] = 2, n++; /* ten better ones did not count */
	/* rest of the others, evenly: the seen-th when seen * rest / others
	 * reaches a new integer */
	rest = PLOT_MAX_CURVES - n;
	others = p->total - n;
	for (i = 0; i < d->ntrials; i++) {
		if (!e->trials[i]->nseries || chosen[i])
			continue;
		if ((seen + 1) * rest / others > seen * rest / others)
			chosen[i] = 1, n++;
		seen++;
	}
	return n;
}

/* Append (step, value) unless it is the point just appended. */
static void add_point(struct curve *c, size_t step, double v)
{
	if (c->npts && c->pts[2 * c->npts - 2] == (double)step)
		return;
	c->pts[2 * c->npts] = (double)step;
	c->pts[2 * c->npts + 1] = v;
	c->npts++;
}

/* Copy series (steps 1..n), keeping the lowest and highest value of each
 * run of steps when it is longer than CURVE_MAX_POINTS. */
static int copy_curve(struct curve *c, const double *series, size_t n)
{
	size_t nb = CURVE_MAX_POINTS / 2, b, i, lo, hi, from, to;

	c->pts = malloc(2 * (CURVE_MAX_POINTS + 2) * sizeof(double));
	if (!c->pts)
		return -ENOMEM;
	if (n <= CURVE_MAX_POINTS) {
		for (i = 0; i < n; i++)
			add_point(c, i + 1, series[i]);
		return 0;
	}
	for (b = 0; b < nb; b++) {
		from = b * n / nb;
		to = (b + 1) * n / nb;
		for (lo = hi = from, i = from; i < to; i++) {
			lo = series[i] < series[lo] ? i : lo;
			hi = series[i] > series[hi] ? i : hi;
		}
		add_point(c, (lo < hi ? lo : hi) + 1,
			  series[lo < hi ? lo : hi]);
		add_point(c, (lo < hi ? hi : lo) + 1,
			  series[lo < hi ? hi : lo]);
	}
	add_point(c, n, series[n - 1]); /* the end, where its mark goes */
	return 0;
}

/* Drawing order: the sample in trial order, then the best ones from worse
 * to better, the best of all last. */
static int cmp_draw(const void *pa, const void *pb)
{
	const struct curve *a = pa, *b = pb;

	if (a->group != b->group)
		return a->group - b->group;
	if (a->group == 1 && a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int collect_curves(struct experiment *e, const struct plot_data *d,
			  struct curves_priv *p)
{
	unsigned char *chosen = calloc(d->ntrials ? d->ntrials : 1, 1);
	size_t i, n, k = 0;
	int rc = 0;

	if (!chosen)
		return -ENOMEM;
	n = choose(e, d, p, chosen);
	p->c = n == (size_t)-1 ? NULL : calloc(n ? n : 1, sizeof(*p->c));
	if (!p->c) {
		free(chosen);
		return -ENOMEM;
	}
	for (i = 0; i < d->ntrials && !rc; i++) {
		if (!chosen[i])
			continue;
		p->c[k].idx = (long)i;
		p->c[k].best = chosen[i] == 2;
		p->c[k].group = (long)i == d->best ? 2 : p->c[k].best;
		p->c[k].key =
			d->maximize ? d->trials[i].value : -d->trials[i].value;
		p->nbest += p->c[k].best;
		rc = copy_curve(&p->c[k++], e->trials[i]->series,
				e->trials[i]->nseries);
	}
	p->n = k;
	free(chosen);
	qsort(p->c, p->n, sizeof(*p->c), cmp_draw);
	return rc;
}

/* ---- the medianstop threshold (under the lock) ---- */

static int medianstop_on(const struct experiment_spec *sp)
{
	return sp->has_early_stopping && sp->early_stopping.name &&
	       !strcmp(sp->early_stopping.name, "medianstop");
}

/* The steps sampled: every one from start_step to the longest series, or
 * MEDIAN_MAX_STEPS evenly spread. */
static int median_steps(struct curves_priv *p)
{
	size_t first = (size_t)p->start_step, last = p->max_step, k, span;

	if (first > last)
		return 0;
	span = last - first + 1;
	p->nmed = span < MEDIAN_MAX_STEPS ? span : MEDIAN_MAX_STEPS;
	p->steps = malloc(p->nmed * sizeof(*p->steps));
	if (!p->steps)
		return -ENOMEM;
	for (k = 0; k < p->nmed; k++)
		p->steps[k] = p->nmed > 1
				      ? first + k * (span - 1) / (p->nmed - 1)
				      : first;
	return 0;
}

/* Each Succeeded trial's best so far at the sampled steps: a row of nmed
 * per trial, written in order (the columns are gathered without the lock,
 * in compute_medians()). */
static void median_bests(struct experiment *e, const struct plot_data *d,
			 struct curves_priv *p)
{
	double *row = p->bests;
	size_t i, k, at, seen = 0;
	int max = d->maximize;

	for (i = 0; i < e->ntrials; i++) {
		const struct trial *t = e->trials[i];
		const double *x = t->series;
		double best;

		if (t->state != TRIAL_SUCCEEDED || !t->nseries)
			continue;
		seen++; /* the seen-th of ndone: in the sample? */
		if (seen * p->nused / p->ndone ==
		    (seen - 1) * p->nused / p->ndone)
			continue;
		best = x[0];
		for (at = 1, k = 0; k < p->nmed; k++) {
			for (; at < p->steps[k] && at < t->nseries; at++)
				if (max ? x[at] > best : x[at] < best)
					best = x[at];
			row[k] = best;
		}
		row += p->nmed;
	}
}

static int collect_median(struct experiment *e, const struct plot_data *d,
			  struct curves_priv *p)
{
	size_t i;
	int rc;

	p->medianstop = 1;
	medianstop_settings(e->spec, &p->min_trials, &p->start_step);
	for (i = 0; i < e->ntrials; i++)
		p->ndone += e->trials[i]->state == TRIAL_SUCCEEDED &&
			    e->trials[i]->nseries;
	if (!p->ndone || p->ndone < (size_t)p->min_trials)
		return 0;
	rc = median_steps(p);
	if (rc || !p->nmed)
		return rc;
	p->nused = p->ndone < MEDIAN_MAX_TRIALS ? p->ndone : MEDIAN_MAX_TRIALS;
	p->bests = malloc(p->nmed * p->nused * sizeof(*p->bests));
	if (!p->bests)
		return -ENOMEM;
	median_bests(e, d, p);
	return 0;
}

static int curves_collect(struct experiment *e, const struct plot_data *d,
			  void **priv)
{
	struct curves_priv *p;
	size_t i;
	int rc;

	*priv = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < e->ntrials; i++) {
		p->total += e->trials[i]->nseries > 0;
		if (e->trials[i]->nseries > p->max_step)
			p->max_step = e->trials[i]->nseries;
	}
	if (!p->total) {
		free(p);
		return 0;
	}
	rc = collect_curves(e, d, p);
	if (!rc && medianstop_on(e->spec))
		rc = collect_median(e, d, p);
	if (rc) {
		curves_release(p);
		return rc;
	}
	*priv = p;
	return 0;
}

/* ---- drawing (no lock) ---- */

struct curves_view {
	const struct plot_data *d;
	const struct curves_priv *p;
	struct frame f;
	struct axis xa, ya;
	double *med; /* the median at each sampled step, or NULL */
	size_t clipped;
};

/* The medians at the sampled steps; NULL (and 0) when none. */
static int compute_medians(const struct curves_priv *p, double **out)
{
	double *col, *med;
	size_t j, k;

	*out = NULL;
	if (!p->nmed || !p->bests)
		return 0;
	col = malloc(p->nused * sizeof(*col));
	med = malloc(p->nmed * sizeof(*med));
	if (!col || !med) {
		free(col);
		free(med);
		return -ENOMEM;
	}
	for (k = 0; k < p->nmed; k++) {
		for (j = 0; j < p->nused; j++)
			col[j] = p->bests[j * p->nmed + k];
		med[k] = plot_median(col, p->nused);
	}
	free(col);
	*out = med;
	return 0;
}

/* The axes: steps 0 .. the longest series, values over the useful range
 * of every point drawn (the medians too). */
static int curves_axes(struct curves_view *v)
{
	const struct curves_priv *p = v->p;
	size_t i, j, n = p->nmed, k = 0;
	double *all, lo, hi;
	int rc;

	for (i = 0; i < p->n; i++)
		n += p->c[i].npts;
	all = malloc((n ? n : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < p->n; i++)
		for (j = 0; j < p->c[i].npts; j++)
			all[k++] = p->c[i].pts[2 * j + 1];
	for (i = 0; v->med && i < p->nmed; i++)
		all[k++] = v->med[i];
	rc = plot_useful_range(all, k, &lo, &hi);
	free(all);
	if (rc)
		return rc;
	if (lo > hi)
		lo = hi = 0;
	axis_nice(&v->xa, 0, p->max_step > 1 ? (double)p->max_step : 1, 8, 1);
	plot_value_axis(v->d, lo, hi, &v->ya);
	return 0;
}

static double cx(const struct curves_view *v, double step)
{
	return map(step, v->xa.lo, v->xa.hi, v->f.x0, v->f.x1);
}

static void curve_end_mark(struct svg *s, const struct curves_view *v,
			   enum trial_state st, double x, double y)
{
	if (st == TRIAL_EARLY_STOPPED)
		plot_mark_square(s, x, y, plot_state_colour[st],
				 "end-early-stopped");
	else if (st == TRIAL_KILLED)
		plot_mark_cross(s, x, y, plot_state_colour[st], "end-killed");
	else if (st == TRIAL_FAILED)
		plot_mark_cross(s, x, y, plot_state_colour[st], "end-failed");
}

static void draw_curve(struct svg *s, struct curves_view *v,
		       const struct curve *c)
{
	const struct plot_trial *t = &v->d->trials[c->idx];
	int top = c->idx == v->d->best, clip, prev = 0;
	double x, y;
	size_t j;

	svg_printf(s,
		   "<polyline class=\"curve%s\" stroke=\"%s\" "
		   "stroke-width=\"%s\" stroke-opacity=\"%s\" points=\"",
		   top ? " curve-best" : "",
		   top ? BEST_COLOUR : plot_state_colour[t->state],
		   top	     ? "3"
		   : c->best ? "1.8"
			     : "1.1",
		   top || c->best ? "0.95" : "0.5");
	for (j = 0; j < c->npts; j++) {
		x = cx(v, c->pts[2 * j]);
		y = plot_y(&v->f, &v->ya, c->pts[2 * j + 1], &clip);
		svg_printf(s, "%s%.1f,%.1f", j ? " " : "", x, y);
	}
	svg_printf(s, "\"><title>trial %d (%s)</title></polyline>\n", t->number,
		   trial_state_name(t->state));
	/* each run of values off the axis: a marker where it starts */
	for (j = 0; j < c->npts; j++) {
		y = plot_y(&v->f, &v->ya, c->pts[2 * j + 1], &clip);
		if (clip && clip != prev) {
			plot_clip_marker(s, cx(v, c->pts[2 * j]), y, clip > 0,
					 top ? BEST_COLOUR
					     : plot_state_colour[t->state]);
			v->clipped++;
		}
		prev = clip;
	}
	x = cx(v, c->pts[2 * c->npts - 2]);
	y = plot_y(&v->f, &v->ya, c->pts[2 * c->npts - 1], NULL);
	curve_end_mark(s, v, t->state, x, y);
}

static void draw_median(struct svg *s, const struct curves_view *v)
{
	const struct curves_priv *p = v->p;
	size_t k;

	if (!v->med)
		return;
	svg_printf(s,
		   "<polyline class=\"median\" fill=\"none\" "
		   "stroke=\"" MEDIAN_COLOUR
		   "\" stroke-width=\"2\" stroke-dasharray=\"7,4\" points=\"");
	for (k = 0; k < p->nmed; k++)
		svg_printf(s, "%s%.1f,%.1f", k ? " " : "",
			   cx(v, (double)p->steps[k]),
			   plot_y(&v->f, &v->ya, v->med[k], NULL));
	svg_printf(s, "\"/>\n");
}

/* 1 if a curve of a trial in state st is drawn. */
static int drawn_in(const struct curves_view *v, enum trial_state st)
{
	size_t i;

	for (i = 0; i < v->p->n; i++)
		if (v->d->trials[v->p->c[i].idx].state == st)
			return 1;
	return 0;
}

static void curves_legend(struct svg *s, const struct curves_view *v, double y)
{
	const struct plot_data *d = v->d;
	double x = MARGIN_L;
	char label[80];

	if (d->best >= 0) {
		snprintf(label, sizeof(label), "best: trial %d",
			 d->trials[d->best].number);
		plot_legend_item(s, &x, &y, BEST_COLOUR, LEGEND_LINE, label);
	}
	if (drawn_in(v, TRIAL_EARLY_STOPPED))
		plot_legend_item(s, &x, &y,
				 plot_state_colour[TRIAL_EARLY_STOPPED],
				 LEGEND_SQUARE, "early-stopped");
	if (drawn_in(v, TRIAL_KILLED))
		plot_legend_item(s, &x, &y, plot_state_colour[TRIAL_KILLED],
				 LEGEND_CROSS, "killed");
	if (drawn_in(v, TRIAL_FAILED))
		plot_legend_item(s, &x, &y, plot_state_colour[TRIAL_FAILED],
				 LEGEND_CROSS, "failed");
	if (v->med) {
		if (v->p->nused < v->p->ndone)
			snprintf(label, sizeof(label),
				 "medianstop: median of %zu of %zu (a sample)",
				 v->p->nused, v->p->ndone);
		else
			snprintf(label, sizeof(label),
				 "medianstop: median of %zu", v->p->ndone);
		plot_legend_item(s, &x, &y, MEDIAN_COLOUR, LEGEND_DASHED,
				 label);
	} else if (v->p->medianstop) {
		snprintf(label, sizeof(label),
			 "medianstop: no median until %ld Succeeded",
			 v->p->min_trials);
		plot_legend_item(s, &x, &y, "#bbbbbb", LEGEND_DASHED, label);
	}
}

static void curves_header(struct svg *s, const struct curves_view *v,
			  double top)
{
	const struct curves_priv *p = v->p;
	char line[320];

	snprintf(line, sizeof(line),
		 "Learning curves: %.60s at each report, by trial",
		 v->d->metric);
	svg_label(s, MARGIN_L, top + 24,
		  "font-size=\"14\" font-weight=\"bold\"", line, 120);
	if (p->n < p->total)
		snprintf(line, sizeof(line),
			 "%zu of %zu trials drawn: the best %zu and an even "
			 "sample of the others",
			 p->n, p->total, p->nbest);
	else
		snprintf(line, sizeof(line), "%zu trial(s) with observations",
			 p->total);
	if (v->clipped)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "  \xc2\xb7  %zu run(s) off the axis (\xe2\x96\xb2)",
			 v->clipped);
	svg_label(s, MARGIN_L, top + 42, "fill=\"" NOTE_COLOUR "\"", line, 130);
}

static void curves_frame(struct svg *s, const struct curves_view *v)
{
	const struct frame *f = &v->f;

	plot_frame(s, f, "step (the n-th report of the objective)",
		   v->d->metric);
	if (v->med)
		svg_line(s, cx(v, (double)v->p->start_step), f->y0,
			 cx(v, (double)v->p->start_step), f->y1,
			 "stroke=\"#bbbbbb\" stroke-dasharray=\"2,3\"");
}

static int curves_height(const struct plot_data *d, const void *priv)
{
	return priv ? CURVES_H : 0;
}

static int curves_draw(struct svg *s, const struct plot_data *d,
		       const void *priv, double top)
{
	struct curves_view v = { .d = d,
				 .p = priv,
				 .f = { MARGIN_L, top + 84,
					PLOT_WIDTH - MARGIN_R,
					top + CURVES_H - 50 } };
	size_t i;
	int rc = compute_medians(v.p, &v.med);

	if (!rc)
		rc = curves_axes(&v);
	if (rc) {
		free(v.med);
		return rc;
	}
	plot_band(s, top);
	curves_legend(s, &v, top + 64);
	plot_y_axis(s, &v.f, &v.ya);
	plot_x_axis(s, &v.f, &v.xa);
	curves_frame(s, &v);
	plot_goal_line(s, d, &v.f, &v.ya);
	svg_printf(s, "<g fill=\"none\" stroke-linejoin=\"round\">\n");
	for (i = 0; i < v.p->n; i++)
		draw_curve(s, &v, &v.p->c[i]);
	svg_printf(s, "</g>\n");
	draw_median(s, &v);
	plot_goal_label(s, d, &v.f, &v.ya);
	curves_header(s, &v, top);
	free(v.med);
	return s->err;
}

const struct plot_panel plot_curves_panel = {
	.name = "curves",
	.collect = curves_collect,
	.release = curves_release,
	.height = curves_height,
	.draw = curves_draw,
};
