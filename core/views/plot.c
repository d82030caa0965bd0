/*
 * plot.c - plot.svg (core/views/plot.h): an SVG 1.1 document written as
 * text. The objective panel first, then the parallel coordinates panel.
 *
 * Everything is computed from the model under its lock into a few local
 * arrays (freed before returning); the text goes to a strbuf through
 * svg_printf(), which remembers an allocation failure so that drawing code
 * need not check every call.
 */
#include "views/plot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN_L   80
#define MARGIN_R   40
#define OBJ_H	   430 /* objective panel */
#define PC_H	   400 /* parallel coordinates panel */
#define EMPTY_H	   150
#define BUCKET_PX  2  /* decimation: pixel columns per bucket */
#define LABEL_MAX  40 /* characters of a title-like label */
#define TICK_MAX   14 /* characters of a tick label */
#define PC_MAX_CAT 64 /* categories inferred from values */
#define NSTATES	   (TRIAL_METRICS_UNAVAILABLE + 1)

static const char *const state_colour[NSTATES] = {
	[TRIAL_PENDING] = "#9e9e9e",
	[TRIAL_RUNNING] = "#ff7f0e",
	[TRIAL_SUCCEEDED] = "#1f77b4",
	[TRIAL_FAILED] = "#d62728",
	[TRIAL_KILLED] = "#9467bd",
	[TRIAL_EARLY_STOPPED] = "#8c564b",
	[TRIAL_METRICS_UNAVAILABLE] = "#e377c2",
};

#define BEST_COLOUR "#2ca02c"
#define GOAL_COLOUR "#444444"
#define GRID_COLOUR "#e5e5e5"
#define AXIS_COLOUR "#333333"

struct svg {
	struct strbuf *b;
	int err;
};

struct frame {
	double x0, y0, x1, y1; /* plot area: x0 left, y0 top */
};

struct axis {
	double lo, hi, step;
};

/* What both panels need, computed once. */
struct plot_data {
	struct experiment *e;
	double *val;   /* objective per trial, NAN when none */
	size_t nval;   /* trials with a value */
	double lo, hi; /* range of the values */
	struct trial *best;
	double best_v;
	int maximize;
	const char *metric;
};

/* ---- the writer ---- */

static void svg_printf(struct svg *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void svg_printf(struct svg *s, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	if (s->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->err = -ENOMEM;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		s->err = strbuf_append(s->b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	{
		char *big = malloc((size_t)n + 1);

		if (!big) {
			s->err = -ENOMEM;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		s->err = strbuf_append(s->b, big, (size_t)n);
		free(big);
	}
}

/* Length of the valid UTF-8 sequence at s (1-4) of an XML character, or 0. */
static size_t utf8_char(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0];

	if (c < 0x80)
		n = 1;
	else if ((c & 0xe0) == 0xc0)
		n = 2, c &= 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 3, c &= 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 4, c &= 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	if (c < 0x20)
		return 0; /* tab and newline too: labels are one line */
	*cp = c;
	return n;
}

/*
 * Append s as XML character data, at most max characters (an ellipsis
 * marks a cut); bytes that are not valid UTF-8 or not XML characters
 * become '?'.
 */
static void svg_text(struct svg *s, const char *str, size_t max)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");
	size_t nchars = 0, n;
	uint32_t cp;

	for (; *p && !s->err; p += n ? n : 1, nchars++) {
		if (nchars == max) {
			svg_printf(s, "\xe2\x80\xa6");
			return;
		}
		n = utf8_char(p, &cp);
		if (!n)
			svg_printf(s, "?");
		else if (cp == '&')
			svg_printf(s, "&amp;");
		else if (cp == '<')
			svg_printf(s, "&lt;");
		else if (cp == '>')
			svg_printf(s, "&gt;");
		else if (cp == '"')
			svg_printf(s, "&quot;");
		else if (cp == '\'')
			svg_printf(s, "&apos;");
		else
			s->err = strbuf_append(s->b, (const char *)p, n);
	}
}

/* <text x y attrs>label</text> */
static void svg_label(struct svg *s, double x, double y, const char *attrs,
		      const char *label, size_t max)
{
	svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y,
		   attrs && *attrs ? " " : "", attrs ? attrs : "");
	svg_text(s, label, max);
	svg_printf(s, "</text>\n");
}

static void svg_line(struct svg *s, double x0, double y0, double x1, double y1,
		     const char *attrs)
{
	svg_printf(s,
		   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		   "%s/>\n",
		   x0, y0, x1, y1, attrs);
}

static void svg_begin(struct svg *s, int height, const char *title)
{
	svg_printf(s,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\" "
		   "standalone=\"no\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		   "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" "
		   "font-size=\"12\">\n<title>",
		   PLOT_WIDTH, height, PLOT_WIDTH, height);
	svg_text(s, title, 200);
	svg_printf(s,
		   "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" "
		   "height=\"%d\" fill=\"#ffffff\"/>\n",
		   PLOT_WIDTH, height);
}

static void svg_end(struct svg *s)
{
	svg_printf(s, "</svg>\n");
}

/* ---- numbers ---- */

/* Heckbert's nice numbers: 1, 2, 5 (or 10) times a power of ten. */
static double nice_num(double x, int round)
{
	double e = floor(log10(x)), f = x / pow(10, e), nf;

	if (round)
		nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
	else
		nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return nf * pow(10, e);
}

/* Widen an empty or inverted range so that it can be drawn. */
static void widen(double *lo, double *hi)
{
	double d;

	if (*hi > *lo)
		return;
	d = fabs(*lo) > 1e-300 ? fabs(*lo) * 0.1 : 1;
	*lo -= d;
	*hi += d;
}

/* An axis from a nice number below lo to one above hi, ~n ticks. */
static void axis_nice(struct axis *a, double lo, double hi, int n,
		      double min_step)
{
	widen(&lo, &hi);
	a->step = nice_num(nice_num(hi - lo, 0) / (n - 1), 1);
	if (a->step < min_step)
		a->step = min_step;
	a->lo = floor(lo / a->step) * a->step;
	a->hi = ceil(hi / a->step) * a->step;
	if (!(a->hi > a->lo))
		a->hi = a->lo + a->step;
}

/* The i-th tick of a, snapped to 0 when rounding left a speck. */
static double axis_tick(const struct axis *a, double first, int i)
{
	double v = first + i * a->step;

	return fabs(v) < a->step * 1e-9 ? 0 : v;
}

static void format_tick(double v, double step, double maxabs, char *buf,
			size_t size)
{
	int frac = (int)-floor(log10(step) + 1e-9), prec;

	if (maxabs >= 1e6 || (maxabs > 0 && maxabs < 1e-3) || frac > 6) {
		prec = (int)ceil(log10(maxabs / step) - 1e-9) + 1;
		prec = prec < 1 ? 1 : prec > 15 ? 15 : prec;
		snprintf(buf, size, "%.*g", prec, v);
	} else {
		snprintf(buf, size, "%.*f", frac > 0 ? frac : 0, v);
	}
}

/* A value in labels: short and readable. */
static void format_value(double v, char *buf, size_t size)
{
	snprintf(buf, size, "%.6g", v);
}

static double map(double v, double lo, double hi, double p0, double p1)
{
	return hi > lo ? p0 + (v - lo) / (hi - lo) * (p1 - p0) : (p0 + p1) / 2;
}

static int better(const struct plot_data *d, double a, double b)
{
	return d->maximize ? a > b : a < b;
}

static int counts_best(enum trial_state s)
{
	return s == TRIAL_SUCCEEDED || s == TRIAL_EARLY_STOPPED;
}

/* ---- colours ---- */

/* Viridis, from 0 (dark purple) to 1 (yellow). */
static void viridis(double g, char *buf, size_t size)
{
	static const int stops[][3] = {
		{ 0x44, 0x01, 0x54 }, { 0x3b, 0x52, 0x8b },
		{ 0x21, 0x91, 0x8c }, { 0x5e, 0xc9, 0x62 },
		{ 0xfd, 0xe7, 0x25 },
	};
	double x;
	int i, c[3], k;

	if (!(g >= 0))
		g = 0;
	if (g > 1)
		g = 1;
	x = g * 4;
	i = x >= 4 ? 3 : (int)x;
	x -= i;
	for (k = 0; k < 3; k++)
		c[k] = (int)lround(stops[i][k] +
				   x * (stops[i + 1][k] - stops[i][k]));
	snprintf(buf, size, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* 0 (worst value drawn) .. 1 (best) */
static double goodness(const struct plot_data *d, double v)
{
	double g = d->hi > d->lo ? (v - d->lo) / (d->hi - d->lo) : 1;

	return d->maximize ? g : 1 - g;
}

/* ---- data ---- */

static int data_collect(struct experiment *e, struct plot_data *d)
{
	size_t i;
	double v;

	memset(d, 0, sizeof(*d));
	d->e = e;
	d->maximize = e->spec->objective.maximize;
	d->metric = e->spec->objective.metric;
	d->val = malloc((e->ntrials ? e->ntrials : 1) * sizeof(*d->val));
	if (!d->val)
		return -ENOMEM;
	for (i = 0; i < e->ntrials; i++) {
		d->val[i] = NAN;
		if (trial_objective(e, e->trials[i], &v) || !isfinite(v))
			continue;
		d->val[i] = v;
		if (!d->nval || v < d->lo)
			d->lo = v;
		if (!d->nval || v > d->hi)
			d->hi = v;
		d->nval++;
	}
	d->best = experiment_best(e);
	if (d->best &&
	    (trial_objective(e, d->best, &d->best_v) || !isfinite(d->best_v)))
		d->best = NULL;
	return 0;
}

/* ---- the empty plot ---- */

static void render_empty(struct svg *s, struct experiment *e, const char *why)
{
	char title[256];

	snprintf(title, sizeof(title), "%s: no plot yet", e->name);
	svg_begin(s, EMPTY_H, title);
	svg_label(s, 20, 40, "font-size=\"16\" font-weight=\"bold\"", e->name,
		  LABEL_MAX);
	svg_label(s, 20, 80, "font-size=\"14\" fill=\"#555555\"", why, 200);
	svg_label(s, 20, 110, "fill=\"#777777\"",
		  "Trials appear here as they report the objective metric.",
		  200);
	svg_end(s);
}

static void empty_reason(struct experiment *e, char *buf, size_t size)
{
	if (!e->spec)
		snprintf(buf, size,
			 "No experiment yet: write a Katib "
			 "Experiment to spec.yaml.");
	else if (!e->ntrials)
		snprintf(buf, size, "No trials yet (state %s).",
			 experiment_state_name(e->state));
	else
		snprintf(buf, size,
			 "%zu trial(s), none has reported %.60s yet "
			 "(state %s).",
			 e->ntrials, e->spec->objective.metric,
			 experiment_state_name(e->state));
}

/* ---- objective panel: header ---- */

static void draw_header(struct svg *s, const struct plot_data *d, double top,
			size_t drawn)
{
	char line[512], v[64];
	struct experiment *e = d->e;

	snprintf(line, sizeof(line), "%s: %.60s per trial (%s)", e->name,
		 d->metric, d->maximize ? "maximize" : "minimize");
	svg_label(s, MARGIN_L, top + 24,
		  "font-size=\"16\" font-weight=\"bold\"", line, 120);
	if (d->best) {
		format_value(d->best_v, v, sizeof(v));
		snprintf(line, sizeof(line), "best: trial %d, %.60s = %s",
			 d->best->number, d->metric, v);
	} else {
		snprintf(line, sizeof(line), "best: none yet");
	}
	snprintf(line + strlen(line), sizeof(line) - strlen(line),
		 "  \xc2\xb7  %zu trial(s), experiment %s", e->ntrials,
		 experiment_state_name(e->state));
	if (drawn < d->nval)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "  \xc2\xb7  %zu of %zu points drawn", drawn, d->nval);
	svg_label(s, MARGIN_L, top + 44, "fill=\"#555555\"", line, 160);
}

/* One legend entry at *x, *y: kind 0 a dot, 1 a line, 2 a dashed line. */
static void legend_item(struct svg *s, double *x, double *y, const char *colour,
			int kind, const char *label)
{
	double w = 18 + 7.0 * (double)strlen(label) + 16;

	if (*x + w > PLOT_WIDTH - MARGIN_R && *x > MARGIN_L) {
		*x = MARGIN_L;
		*y += 16;
	}
	if (kind == 0)
		svg_printf(s,
			   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
			   "fill=\"%s\"/>\n",
			   *x + 4, *y - 4, colour);
	else
		svg_printf(s,
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			   "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
			   *x - 4, *y - 4, *x + 14, *y - 4, colour,
			   kind == 2 ? " stroke-dasharray=\"6,4\"" : "");
	svg_label(s, *x + 18, *y, NULL, label, 40);
	*x += w;
}

static void draw_legend(struct svg *s, const struct plot_data *d, double y)
{
	const struct trial_counts *c = &d->e->counts;
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
		legend_item(s, &x, &y, state_colour[i], 0, label);
	}
	legend_item(s, &x, &y, BEST_COLOUR, 1, "best so far");
	if (d->e->spec->objective.has_goal) {
		format_value(d->e->spec->objective.goal, v, sizeof(v));
		snprintf(label, sizeof(label), "goal %s", v);
		legend_item(s, &x, &y, GOAL_COLOUR, 2, label);
	}
}

/* ---- objective panel: axes ---- */

static void draw_y_axis(struct svg *s, const struct frame *f,
			const struct axis *a)
{
	double maxabs = fmax(fabs(a->lo), fabs(a->hi)), v, y;
	char buf[48];
	int i;

	for (i = 0; (v = axis_tick(a, a->lo, i)) <= a->hi + a->step / 2; i++) {
		y = map(v, a->lo, a->hi, f->y1, f->y0);
		svg_line(s, f->x0, y, f->x1, y, "stroke=\"" GRID_COLOUR "\"");
		svg_line(s, f->x0 - 5, y, f->x0, y,
			 "stroke=\"" AXIS_COLOUR "\"");
		format_tick(v, a->step, maxabs, buf, sizeof(buf));
		svg_label(s, f->x0 - 8, y + 4, "text-anchor=\"end\"", buf,
			  TICK_MAX);
	}
}

static void draw_x_axis(struct svg *s, const struct frame *f,
			const struct axis *a)
{
	double v, x;
	char buf[48];
	int i;

	for (i = 0; (v = axis_tick(a, a->lo, i)) <= a->hi + a->step / 2; i++) {
		x = map(v, a->lo, a->hi, f->x0, f->x1);
		svg_line(s, x, f->y1, x, f->y1 + 5,
			 "stroke=\"" AXIS_COLOUR "\"");
		snprintf(buf, sizeof(buf), "%.0f", v);
		svg_label(s, x, f->y1 + 19, "text-anchor=\"middle\"", buf,
			  TICK_MAX);
	}
}

static void draw_axes_labels(struct svg *s, const struct plot_data *d,
			     const struct frame *f)
{
	char label[160];
	double cy = (f->y0 + f->y1) / 2;

	svg_printf(s,
		   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		   "height=\"%.1f\" fill=\"none\" stroke=\"" AXIS_COLOUR
		   "\"/>\n",
		   f->x0, f->y0, f->x1 - f->x0, f->y1 - f->y0);
	svg_label(s, (f->x0 + f->x1) / 2, f->y1 + 38, "text-anchor=\"middle\"",
		  "trial", 10);
	snprintf(label, sizeof(label), "%.60s (%s is better)", d->metric,
		 d->maximize ? "higher" : "lower");
	svg_printf(s,
		   "<text x=\"20\" y=\"%.1f\" text-anchor=\"middle\" "
		   "transform=\"rotate(-90 20 %.1f)\">",
		   cy, cy);
	svg_text(s, label, 70);
	svg_printf(s, "</text>\n");
}

/* ---- objective panel: marks ---- */

static void draw_goal(struct svg *s, const struct plot_data *d,
		      const struct frame *f, const struct axis *ya)
{
	const struct objective_spec *o = &d->e->spec->objective;
	double y;

	if (!o->has_goal || !isfinite(o->goal))
		return;
	y = map(o->goal, ya->lo, ya->hi, f->y1, f->y0);
	svg_line(s, f->x0, y, f->x1, y,
		 "stroke=\"" GOAL_COLOUR "\" stroke-width=\"1.5\" "
		 "stroke-dasharray=\"6,4\"");
	svg_label(s, f->x1 - 4, y - 5,
		  "text-anchor=\"end\" fill=\"" GOAL_COLOUR "\"", "goal", 10);
}

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
static void draw_running_best(struct svg *s, const struct plot_data *d,
			      const struct frame *f, const struct axis *xa,
			      const struct axis *ya)
{
	struct experiment *e = d->e;
	struct xy *pts = NULL;
	size_t i, n = 0;
	double best = 0;
	int have = 0;

	for (i = 0; i < e->ntrials && !s->err; i++) {
		double v = d->val[i];

		if (isnan(v) || !counts_best(e->trials[i]->state) ||
		    (have && !better(d, v, best)))
			continue;
		best = v;
		have = 1;
		if (best_line_add(&pts, &n,
				  map(e->trials[i]->number, xa->lo, xa->hi,
				      f->x0, f->x1),
				  map(v, ya->lo, ya->hi, f->y1, f->y0)))
			s->err = -ENOMEM;
	}
	if (n && !s->err && e->ntrials)
		best_line_add(&pts, &n,
			      map(e->trials[e->ntrials - 1]->number, xa->lo,
				  xa->hi, f->x0, f->x1),
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
static size_t select_points(const struct plot_data *d, const struct frame *f,
			    const struct axis *xa, unsigned char *sel)
{
	size_t i, nb = (size_t)((f->x1 - f->x0) / BUCKET_PX) + 1, n = 0;
	size_t *lo, *hi, k;

	for (i = 0; i < d->e->ntrials; i++)
		sel[i] = !isnan(d->val[i]) && d->nval <= PLOT_MAX_POINTS;
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
	for (i = 0; i < d->e->ntrials; i++) {
		if (isnan(d->val[i]))
			continue;
		k = (size_t)((map(d->e->trials[i]->number, xa->lo, xa->hi,
				  f->x0, f->x1) -
			      f->x0) /
			     BUCKET_PX);
		k = k < nb ? k : nb - 1;
		if (lo[k] == SIZE_MAX || d->val[i] < d->val[lo[k]])
			lo[k] = i;
		if (hi[k] == SIZE_MAX || d->val[i] > d->val[hi[k]])
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

static void draw_points(struct svg *s, const struct plot_data *d,
			const struct frame *f, const struct axis *xa,
			const struct axis *ya, const unsigned char *sel)
{
	struct experiment *e = d->e;
	size_t i;
	int st;

	for (st = 0; st < NSTATES; st++) {
		int open = 0;

		for (i = 0; i < e->ntrials; i++) {
			if (!sel[i] || (int)e->trials[i]->state != st)
				continue;
			if (!open++)
				svg_printf(s,
					   "<g fill=\"%s\" stroke=\"#ffffff\" "
					   "stroke-width=\"0.5\">\n",
					   state_colour[st]);
			svg_printf(
				s,
				"<circle cx=\"%.1f\" cy=\"%.1f\" "
				"r=\"4\"/>\n",
				map(e->trials[i]->number, xa->lo, xa->hi, f->x0,
				    f->x1),
				map(d->val[i], ya->lo, ya->hi, f->y1, f->y0));
		}
		if (open)
			svg_printf(s, "</g>\n");
	}
}

/* Trials without a value: a tick above the x axis, one per column. */
static void draw_rug(struct svg *s, const struct plot_data *d,
		     const struct frame *f, const struct axis *xa)
{
	size_t nb = (size_t)((f->x1 - f->x0) / BUCKET_PX) + 1, i, k;
	unsigned char *seen = calloc(nb, 1);
	int st;

	if (!seen) {
		s->err = -ENOMEM;
		return;
	}
	for (st = 0; st < NSTATES; st++) {
		int open = 0;

		memset(seen, 0, nb);
		for (i = 0; i < d->e->ntrials; i++) {
			double x;

			if (!isnan(d->val[i]) ||
			    (int)d->e->trials[i]->state != st)
				continue;
			x = map(d->e->trials[i]->number, xa->lo, xa->hi, f->x0,
				f->x1);
			k = (size_t)((x - f->x0) / BUCKET_PX);
			if (k >= nb || seen[k]++)
				continue;
			if (!open++)
				svg_printf(s,
					   "<path stroke=\"%s\" "
					   "stroke-width=\"2\" d=\"",
					   state_colour[st]);
			svg_printf(s, "M%.1f %.1fv-9", x, f->y1 - 1);
		}
		if (open)
			svg_printf(s, "\"/>\n");
	}
	free(seen);
}

static void draw_best_ring(struct svg *s, const struct plot_data *d,
			   const struct frame *f, const struct axis *xa,
			   const struct axis *ya)
{
	double x, y;

	if (!d->best)
		return;
	x = map(d->best->number, xa->lo, xa->hi, f->x0, f->x1);
	y = map(d->best_v, ya->lo, ya->hi, f->y1, f->y0);
	svg_printf(s,
		   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7.5\" "
		   "fill=\"none\" stroke=\"" BEST_COLOUR
		   "\" stroke-width=\"2\"/>\n",
		   x, y);
}

static void objective_axes(const struct plot_data *d, struct axis *xa,
			   struct axis *ya)
{
	const struct experiment_spec *sp = d->e->spec;
	double xmax = (double)d->e->ntrials, lo = d->lo, hi = d->hi;

	if (sp->max_trial_count > 0 && sp->max_trial_count > xmax &&
	    sp->max_trial_count <= 1000000)
		xmax = sp->max_trial_count;
	axis_nice(xa, 0, xmax < 1 ? 1 : xmax, 8, 1);
	if (sp->objective.has_goal && isfinite(sp->objective.goal)) {
		lo = fmin(lo, sp->objective.goal);
		hi = fmax(hi, sp->objective.goal);
	}
	axis_nice(ya, lo, hi, 6, 0);
}

static int draw_objective_panel(struct svg *s, const struct plot_data *d,
				double top)
{
	struct frame f = { MARGIN_L, top + 100, PLOT_WIDTH - MARGIN_R,
			   top + OBJ_H - 50 };
	unsigned char *sel = malloc(d->e->ntrials ? d->e->ntrials : 1);
	struct axis xa, ya;
	size_t drawn;

	if (!sel)
		return -ENOMEM;
	objective_axes(d, &xa, &ya);
	drawn = select_points(d, &f, &xa, sel);
	if (drawn == (size_t)-1) {
		free(sel);
		return -ENOMEM;
	}
	draw_header(s, d, top, drawn);
	draw_legend(s, d, top + 66);
	draw_y_axis(s, &f, &ya);
	draw_x_axis(s, &f, &xa);
	draw_axes_labels(s, d, &f);
	draw_goal(s, d, &f, &ya);
	draw_running_best(s, d, &f, &xa, &ya);
	draw_rug(s, d, &f, &xa);
	draw_points(s, d, &f, &xa, &ya, sel);
	draw_best_ring(s, d, &f, &xa, &ya);
	free(sel);
	return s->err;
}

/* ---- parallel coordinates ---- */

enum pc_kind { PC_LINEAR, PC_LOG, PC_CAT };

struct pc_axis {
	const char *name;
	enum pc_kind kind;
	double lo, hi;
	const char **cats; /* strings borrowed from the spec or trials */
	size_t ncats;
	int own_cats; /* cats array is ours to free */
};

static int parse_num(const char *s, double *v)
{
	char *end;

	if (!s || !*s)
		return -1;
	*v = strtod(s, &end);
	return *end || !isfinite(*v) ? -1 : 0;
}

static const struct param_spec *find_param(const struct experiment_spec *sp,
					   const char *name)
{
	size_t i;

	for (i = 0; i < sp->nparams; i++)
		if (!strcmp(sp->params[i].name, name))
			return &sp->params[i];
	return NULL;
}

static const char *trial_value(const struct trial *t, size_t i)
{
	return i < t->nvalues ? t->values[i] : NULL;
}

/* Widen a numeric axis to cover every value; -1 if one is not a number. */
static int pc_cover_values(struct pc_axis *a, struct experiment *e, size_t j,
			   int have)
{
	size_t i;
	double v;

	for (i = 0; i < e->ntrials; i++) {
		const char *s = trial_value(e->trials[i], j);

		if (!s)
			continue;
		if (parse_num(s, &v))
			return -1;
		if (a->kind == PC_LOG && v <= 0)
			a->kind = PC_LINEAR;
		if (!have || v < a->lo)
			a->lo = v;
		if (!have || v > a->hi)
			a->hi = v;
		have = 1;
	}
	if (!have)
		a->lo = 0, a->hi = 1;
	return 0;
}

/* Categories from the values themselves, in order of appearance. */
static int pc_infer_cats(struct pc_axis *a, struct experiment *e, size_t j)
{
	size_t i, k;

	a->kind = PC_CAT;
	a->cats = calloc(PC_MAX_CAT, sizeof(*a->cats));
	if (!a->cats)
		return -ENOMEM;
	a->own_cats = 1;
	for (i = 0; i < e->ntrials && a->ncats < PC_MAX_CAT; i++) {
		const char *s = trial_value(e->trials[i], j);

		if (!s)
			continue;
		for (k = 0; k < a->ncats && strcmp(a->cats[k], s); k++)
			;
		if (k == a->ncats)
			a->cats[a->ncats++] = s;
	}
	return 0;
}

static int pc_axis_setup(struct pc_axis *a, struct experiment *e, size_t j)
{
	const struct param_spec *p = find_param(e->spec, e->value_names[j]);

	memset(a, 0, sizeof(*a));
	a->name = e->value_names[j];
	if (p && (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE)) {
		a->kind = PC_CAT;
		a->cats = (const char **)p->list;
		a->ncats = p->nlist;
		return 0;
	}
	if (p) {
		a->kind = (p->distribution == DIST_LOG_UNIFORM ||
			   p->distribution == DIST_LOG_NORMAL) &&
					  p->min_value > 0
				  ? PC_LOG
				  : PC_LINEAR;
		a->lo = p->min_value;
		a->hi = p->max_value;
		if (!pc_cover_values(a, e, j, 1))
			return 0;
	}
	a->kind = PC_LINEAR;
	if (!pc_cover_values(a, e, j, 0))
		return 0;
	return pc_infer_cats(a, e, j);
}

/* Position of value s on a, 0 (bottom) .. 1 (top); -1 if not placeable. */
static int pc_position(const struct pc_axis *a, const char *s, double *pos)
{
	double v, w;
	size_t k;

	if (!s)
		return -1;
	if (a->kind == PC_CAT) {
		for (k = 0; k < a->ncats; k++)
			if (!strcmp(a->cats[k], s) ||
			    (!parse_num(a->cats[k], &w) && !parse_num(s, &v) &&
			     v == w))
				break;
		if (k == a->ncats)
			return -1;
		*pos = a->ncats > 1 ? (double)k / (double)(a->ncats - 1) : 0.5;
		return 0;
	}
	if (parse_num(s, &v))
		return -1;
	if (a->kind == PC_LOG)
		*pos = v > 0 ? map(log(v), log(a->lo), log(a->hi), 0, 1) : 0;
	else
		*pos = map(v, a->lo, a->hi, 0, 1);
	return 0;
}

static void pc_tick(struct svg *s, double x, double y, const char *label)
{
	svg_line(s, x - 4, y, x, y, "stroke=\"" AXIS_COLOUR "\"");
	svg_label(s, x - 6, y + 3.5, "text-anchor=\"end\" font-size=\"10\"",
		  label, TICK_MAX);
}

static double pc_y(const struct frame *f, double pos)
{
	return f->y1 - pos * (f->y1 - f->y0);
}

static void pc_ticks_cat(struct svg *s, const struct pc_axis *a, double x,
			 const struct frame *f)
{
	size_t k, every = a->ncats > 12 ? (a->ncats + 11) / 12 : 1;

	for (k = 0; k < a->ncats; k += every)
		pc_tick(s, x,
			pc_y(f,
			     a->ncats > 1 ? (double)k / (a->ncats - 1) : 0.5),
			a->cats[k]);
}

/*
 * Log-axis ticks: with mults 1 the powers of ten, with 3 the 1-2-5 series,
 * inside the range. Draws them only when draw is set; returns how many.
 */
static int log_ticks(struct svg *s, const struct pc_axis *a, double x,
		     const struct frame *f, int mults, int draw)
{
	static const double mult[] = { 1, 2, 5 };
	double e, v;
	char buf[48];
	int m, n = 0;

	for (e = floor(log10(a->lo)); e <= ceil(log10(a->hi)); e++) {
		for (m = 0; m < mults; m++) {
			v = mult[m] * pow(10, e);
			if (v < a->lo * (1 - 1e-9) || v > a->hi * (1 + 1e-9))
				continue;
			n++;
			if (!draw)
				continue;
			snprintf(buf, sizeof(buf), "%g", v);
			pc_tick(s, x,
				pc_y(f,
				     map(log(v), log(a->lo), log(a->hi), 0, 1)),
				buf);
		}
	}
	return n;
}

/* Powers of ten inside the range, or 1-2-5 steps, or just the ends. */
static void pc_ticks_log(struct svg *s, const struct pc_axis *a, double x,
			 const struct frame *f)
{
	char buf[48];

	if (log_ticks(s, a, x, f, 1, 0) >= 2) {
		log_ticks(s, a, x, f, 1, 1);
		return;
	}
	if (log_ticks(s, a, x, f, 3, 0) >= 2) {
		log_ticks(s, a, x, f, 3, 1);
		return;
	}
	snprintf(buf, sizeof(buf), "%.4g", a->lo);
	pc_tick(s, x, pc_y(f, 0), buf);
	snprintf(buf, sizeof(buf), "%.4g", a->hi);
	pc_tick(s, x, pc_y(f, 1), buf);
}

/* Nice ticks inside [lo, hi] (the axis spans exactly the range). */
static void pc_ticks_linear(struct svg *s, const struct pc_axis *a, double x,
			    const struct frame *f)
{
	double lo = a->lo, hi = a->hi, v, first;
	struct axis ax;
	char buf[48];
	int i;

	widen(&lo, &hi);
	axis_nice(&ax, lo, hi, 5, 0);
	first = ceil(lo / ax.step - 1e-9) * ax.step;
	for (i = 0; (v = axis_tick(&ax, first, i)) <= hi + ax.step * 1e-9;
	     i++) {
		format_tick(v, ax.step, fmax(fabs(lo), fabs(hi)), buf,
			    sizeof(buf));
		pc_tick(s, x, pc_y(f, map(v, lo, hi, 0, 1)), buf);
	}
}

static void pc_draw_axis(struct svg *s, const struct pc_axis *a, double x,
			 const struct frame *f, double spacing)
{
	size_t chars = (size_t)(spacing / 7.5);

	svg_line(s, x, f->y0, x, f->y1,
		 "stroke=\"" AXIS_COLOUR "\" stroke-width=\"1.5\"");
	svg_label(s, x, f->y0 - 12,
		  "text-anchor=\"middle\" font-weight=\"bold\"", a->name,
		  chars < 4	      ? 4
		  : chars > LABEL_MAX ? LABEL_MAX
				      : chars);
	if (a->kind == PC_CAT)
		pc_ticks_cat(s, a, x, f);
	else if (a->kind == PC_LOG)
		pc_ticks_log(s, a, x, f);
	else
		pc_ticks_linear(s, a, x, f);
	if (a->kind == PC_LOG)
		svg_label(s, x, f->y1 + 16,
			  "text-anchor=\"middle\" font-size=\"10\" "
			  "fill=\"#777777\"",
			  "log", 4);
}

/* A vertical bar in the objective colours beside its axis. */
static void pc_colour_bar(struct svg *s, const struct plot_data *d, double x,
			  const struct frame *f)
{
	char c[16];
	int i;

	svg_printf(s, "<defs><linearGradient id=\"katibfs-objective\" "
		      "x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n");
	for (i = 0; i <= 4; i++) {
		viridis(d->maximize ? i / 4.0 : 1 - i / 4.0, c, sizeof(c));
		svg_printf(s, "<stop offset=\"%.2f\" stop-color=\"%s\"/>\n",
			   i / 4.0, c);
	}
	svg_printf(s, "</linearGradient></defs>\n");
	svg_printf(s,
		   "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"%.1f\" "
		   "fill=\"url(#katibfs-objective)\"/>\n",
		   x + 4, f->y0, f->y1 - f->y0);
}

struct line_sort {
	const struct plot_data *d;
	size_t idx;
};

static int cmp_lines(const void *pa, const void *pb)
{
	const struct line_sort *a = pa, *b = pb;
	double ga = goodness(a->d, a->d->val[a->idx]);
	double gb = goodness(b->d, b->d->val[b->idx]);

	return ga < gb	 ? -1
	       : ga > gb ? 1
			 : (a->idx > b->idx) - (a->idx < b->idx);
}

/* The trials drawn as lines, worst first; NULL on ENOMEM. */
static struct line_sort *pc_select_lines(const struct plot_data *d, size_t *n)
{
	struct line_sort *l = malloc((d->nval + 1) * sizeof(*l));
	size_t i, k = 0, seen = 0;
	size_t stride =
		d->nval > PLOT_MAX_LINES
			? (d->nval + PLOT_MAX_LINES - 1) / PLOT_MAX_LINES
			: 1;

	if (!l)
		return NULL;
	for (i = 0; i < d->e->ntrials; i++) {
		if (isnan(d->val[i]))
			continue;
		if (seen++ % stride == 0 || d->e->trials[i] == d->best)
			l[k++] = (struct line_sort){ d, i };
	}
	qsort(l, k, sizeof(*l), cmp_lines);
	*n = k;
	return l;
}

static void pc_draw_line(struct svg *s, const struct plot_data *d,
			 const struct pc_axis *axes, size_t naxes,
			 const struct frame *f, size_t idx)
{
	struct trial *t = d->e->trials[idx];
	double pos[PLOT_MAX_AXES + 1], spacing;
	char c[16];
	size_t j;

	for (j = 0; j < naxes; j++)
		if (pc_position(&axes[j], trial_value(t, j), &pos[j]))
			return; /* a value off every axis: skip the trial */
	pos[naxes] = map(d->val[idx], d->lo, d->hi, 0, 1);
	spacing = (f->x1 - f->x0) / (double)naxes;
	viridis(goodness(d, d->val[idx]), c, sizeof(c));
	svg_printf(s, "<polyline stroke=\"%s\"%s points=\"", c,
		   t == d->best ? " stroke-width=\"3\" stroke-opacity=\"1\""
				: "");
	for (j = 0; j <= naxes; j++)
		svg_printf(s, "%s%.1f,%.1f", j ? " " : "",
			   f->x0 + spacing * (double)j, pc_y(f, pos[j]));
	svg_printf(s, "\"/>\n");
}

static void pc_draw_lines(struct svg *s, const struct plot_data *d,
			  const struct pc_axis *axes, size_t naxes,
			  const struct frame *f, size_t *drawn)
{
	struct line_sort *l = pc_select_lines(d, drawn);
	size_t i;

	if (!l) {
		s->err = -ENOMEM;
		return;
	}
	svg_printf(s, "<g fill=\"none\" stroke-width=\"1.2\" "
		      "stroke-opacity=\"0.75\">\n");
	for (i = 0; i < *drawn; i++)
		if (d->e->trials[l[i].idx] != d->best)
			pc_draw_line(s, d, axes, naxes, f, l[i].idx);
	if (d->best)
		pc_draw_line(s, d, axes, naxes, f,
			     (size_t)(d->best->number - 1));
	svg_printf(s, "</g>\n");
	free(l);
}

static void pc_header(struct svg *s, const struct plot_data *d, double top,
		      size_t naxes, size_t drawn)
{
	char line[256];

	snprintf(line, sizeof(line),
		 "Parameters of each trial, coloured by %.60s (yellow is "
		 "better)",
		 d->metric);
	svg_label(s, MARGIN_L, top + 24,
		  "font-size=\"14\" font-weight=\"bold\"", line, 120);
	line[0] = '\0';
	if (naxes < d->e->nvalue_names)
		snprintf(line, sizeof(line), "first %zu of %zu parameters  ",
			 naxes, d->e->nvalue_names);
	if (drawn < d->nval)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "a sample of %zu of %zu trials drawn, the best among "
			 "them",
			 drawn, d->nval);
	if (line[0])
		svg_label(s, MARGIN_L, top + 42, "fill=\"#555555\"", line, 120);
}

static int draw_parallel_panel(struct svg *s, const struct plot_data *d,
			       double top)
{
	struct experiment *e = d->e;
	size_t naxes = e->nvalue_names < PLOT_MAX_AXES ? e->nvalue_names
						       : PLOT_MAX_AXES;
	struct frame f = { MARGIN_L, top + 80, PLOT_WIDTH - MARGIN_R - 20,
			   top + PC_H - 30 };
	struct pc_axis axes[PLOT_MAX_AXES + 1];
	double spacing = (f.x1 - f.x0) / (double)naxes;
	size_t j, drawn = 0;
	int rc = 0;

	for (j = 0; j < naxes && !rc; j++)
		rc = pc_axis_setup(&axes[j], e, j);
	if (!rc) {
		axes[naxes] = (struct pc_axis){ .name = d->metric,
						.kind = PC_LINEAR,
						.lo = d->lo,
						.hi = d->hi };
		svg_line(s, 0, top, PLOT_WIDTH, top, "stroke=\"#cccccc\"");
		pc_draw_lines(s, d, axes, naxes, &f, &drawn);
		pc_header(s, d, top, naxes, drawn);
		pc_colour_bar(s, d, f.x1, &f);
		for (j = 0; j <= naxes; j++)
			pc_draw_axis(s, &axes[j], f.x0 + spacing * (double)j,
				     &f, spacing);
	}
	for (j = 0; j < naxes; j++)
		if (axes[j].own_cats)
			free(axes[j].cats);
	return rc ? rc : s->err;
}

/* ---- the document ---- */

static int render_plots(struct svg *s, struct plot_data *d)
{
	int two = d->e->nvalue_names >= 2;
	char title[256];
	int rc;

	snprintf(title, sizeof(title), "%s: %s per trial (%s)", d->e->name,
		 d->metric, d->maximize ? "maximize" : "minimize");
	svg_begin(s, OBJ_H + (two ? PC_H : 0), title);
	rc = draw_objective_panel(s, d, 0);
	if (!rc && two)
		rc = draw_parallel_panel(s, d, OBJ_H);
	svg_end(s);
	return rc ? rc : s->err;
}

int plot_render(struct experiment *e, struct strbuf *out)
{
	struct svg s = { out, 0 };
	struct plot_data d;
	char why[256];
	int rc;

	if (!e->spec) {
		empty_reason(e, why, sizeof(why));
		render_empty(&s, e, why);
		return s.err;
	}
	rc = data_collect(e, &d);
	if (rc)
		return rc;
	if (!d.nval) {
		empty_reason(e, why, sizeof(why));
		render_empty(&s, e, why);
		rc = s.err;
	} else {
		rc = render_plots(&s, &d);
	}
	free(d.val);
	return rc;
}
