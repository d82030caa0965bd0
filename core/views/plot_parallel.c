/*
 * plot_parallel.c - the parallel coordinates panel of plot.svg (a panel as
 * core/views/plot_i.h describes), drawn with two or more parameters.
 *
 * One vertical axis per parameter (at most PLOT_MAX_AXES: logarithmic for
 * logUniform/logNormal, categorical and discrete axes with their values,
 * numeric axes inferred from values the spec does not describe) and one
 * for the objective over the useful range. One line per trial with a value
 * (a sample of PLOT_MAX_LINES above that, always with the best), coloured
 * on a sequential scale from light (worst) to dark (best), the better ones
 * thicker and drawn later, the best last; Failed and MetricsUnavailable
 * trials as grey dashed lines across the parameter axes, drawn first.
 * Labels sit on white boxes drawn after the lines, so no line crosses
 * them; a value off the objective axis ends at its edge, marked.
 *
 * collect() (under the model lock) sets the axes up and computes every
 * drawn line's position on each parameter axis; the struct pc_priv it
 * returns owns the axis names, categories and positions.
 */
#include "views/plot_i.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PC_H	       400
#define PC_MAX_CAT     64 /* categories inferred from values */
#define FAILED_COLOUR  "#8c8c8c"
#define BEST_PC_COLOUR "#08306b"

enum pc_kind { PC_LINEAR, PC_LOG, PC_CAT };

struct pc_axis {
	char *name;
	enum pc_kind kind;
	double lo, hi;
	char **cats;
	size_t ncats;
};

struct pc_priv {
	size_t naxes;	/* parameter axes drawn */
	size_t nparams; /* parameters in all */
	struct pc_axis axes[PLOT_MAX_AXES];
	size_t nlines;	/* lines with a value, worst first, best last */
	size_t nfailed; /* then the failed ones */
	size_t failed_total;
	long *idx;   /* nlines + nfailed indices into plot_data trials */
	double *pos; /* naxes positions (0..1, NAN: off) per line */
};

/* ---- axes (under the lock) ---- */

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

static int pc_add_cat(struct pc_axis *a, const char *s)
{
	size_t k;

	for (k = 0; k < a->ncats && strcmp(a->cats[k], s); k++)
		;
	if (k < a->ncats)
		return 0;
	a->cats[a->ncats] = strdup(s);
	if (!a->cats[a->ncats])
		return -ENOMEM;
	a->ncats++;
	return 0;
}

/* Categories from the spec's list, or from the values themselves in order
 * of appearance (at most PC_MAX_CAT). */
static int pc_cats(struct pc_axis *a, struct experiment *e, size_t j,
		   const struct param_spec *p)
{
	size_t i, max = p ? p->nlist : PC_MAX_CAT;
	int rc = 0;

	a->kind = PC_CAT;
	a->cats = calloc(max ? max : 1, sizeof(*a->cats));
	if (!a->cats)
		return -ENOMEM;
	for (i = 0; p && i < p->nlist && !rc; i++)
		rc = pc_add_cat(a, p->list[i]);
	for (i = 0; !p && i < e->ntrials && a->ncats < max && !rc; i++) {
		const char *s = trial_value(e->trials[i], j);

		if (s)
			rc = pc_add_cat(a, s);
	}
	return rc;
}

static int pc_axis_setup(struct pc_axis *a, struct experiment *e, size_t j)
{
	const struct param_spec *p = find_param(e->spec, e->value_names[j]);

	a->name = strdup(e->value_names[j]);
	if (!a->name)
		return -ENOMEM;
	if (p && (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE))
		return pc_cats(a, e, j, p);
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
	return pc_cats(a, e, j, NULL);
}

/* Position of value s on a, 0 (bottom) .. 1 (top); NAN if not placeable. */
static double pc_position(const struct pc_axis *a, const char *s)
{
	double v, w;
	size_t k;

	if (!s)
		return NAN;
	if (a->kind == PC_CAT) {
		for (k = 0; k < a->ncats; k++)
			if (!strcmp(a->cats[k], s) ||
			    (!parse_num(a->cats[k], &w) && !parse_num(s, &v) &&
			     v == w))
				break;
		if (k == a->ncats)
			return NAN;
		return a->ncats > 1 ? (double)k / (double)(a->ncats - 1) : 0.5;
	}
	if (parse_num(s, &v))
		return NAN;
	if (a->kind == PC_LOG)
		return v > 0 ? map(log(v), log(a->lo), log(a->hi), 0, 1) : 0;
	return map(v, a->lo, a->hi, 0, 1);
}

/* ---- which lines (under the lock) ---- */

struct line_sort {
	const struct plot_data *d;
	long idx;
};

/* Worse first, the best trial last. */
static int cmp_lines(const void *pa, const void *pb)
{
	const struct line_sort *a = pa, *b = pb;
	double va = a->d->trials[a->idx].value, vb = b->d->trials[b->idx].value;

	if (a->idx == a->d->best || b->idx == b->d->best)
		return (a->idx == a->d->best) - (b->idx == b->d->best);
	return plot_better(a->d, vb, va) ? -1
	       : plot_better(a->d, va, vb)
		       ? 1
		       : (a->idx > b->idx) - (a->idx < b->idx);
}

static int pc_failed(const struct plot_trial *t)
{
	return isnan(t->value) && (t->state == TRIAL_FAILED ||
				   t->state == TRIAL_METRICS_UNAVAILABLE);
}

/* The lines drawn: a stride sample of the trials with a value (with the
 * best), worst first; then a sample of the failed ones. */
static int pc_select(const struct plot_data *d, struct pc_priv *p)
{
	struct line_sort *l = malloc((d->nval + 1) * sizeof(*l));
	size_t i, k = 0, seen = 0, stride, fstride;

	p->idx = malloc((d->nval + PLOT_MAX_FAILED + 1) * sizeof(*p->idx));
	if (!l || !p->idx) {
		free(l);
		return -ENOMEM;
	}
	stride = d->nval > PLOT_MAX_LINES
			 ? (d->nval + PLOT_MAX_LINES - 1) / PLOT_MAX_LINES
			 : 1;
	for (i = 0; i < d->ntrials; i++) {
		if (isnan(d->trials[i].value))
			continue;
		if (seen++ % stride == 0 || (long)i == d->best)
			l[k++] = (struct line_sort){ d, (long)i };
	}
	qsort(l, k, sizeof(*l), cmp_lines);
	for (i = 0; i < k; i++)
		p->idx[i] = l[i].idx;
	p->nlines = k;
	free(l);
	for (i = 0; i < d->ntrials; i++)
		p->failed_total += pc_failed(&d->trials[i]);
	fstride = p->failed_total > PLOT_MAX_FAILED
			  ? (p->failed_total + PLOT_MAX_FAILED - 1) /
				    PLOT_MAX_FAILED
			  : 1;
	for (i = 0, seen = 0; i < d->ntrials; i++)
		if (pc_failed(&d->trials[i]) && seen++ % fstride == 0)
			p->idx[p->nlines + p->nfailed++] = (long)i;
	return 0;
}

static void pc_release(void *priv)
{
	struct pc_priv *p = priv;
	size_t j, k;

	if (!p)
		return;
	for (j = 0; j < p->naxes; j++) {
		free(p->axes[j].name);
		for (k = 0; k < p->axes[j].ncats; k++)
			free(p->axes[j].cats[k]);
		free(p->axes[j].cats);
	}
	free(p->idx);
	free(p->pos);
	free(p);
}

static int pc_collect(struct experiment *e, const struct plot_data *d,
		      void **priv)
{
	struct pc_priv *p;
	size_t j, i, n;
	int rc = 0;

	*priv = NULL;
	if (e->nvalue_names < 2)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nparams = e->nvalue_names;
	for (j = 0; j < e->nvalue_names && j < PLOT_MAX_AXES && !rc; j++) {
		p->naxes++;
		rc = pc_axis_setup(&p->axes[j], e, j);
	}
	if (!rc)
		rc = pc_select(d, p);
	n = p->nlines + p->nfailed;
	if (!rc && !(p->pos = malloc((n ? n : 1) * p->naxes * sizeof(double))))
		rc = -ENOMEM;
	for (i = 0; !rc && i < n; i++) {
		struct trial *t = e->trials[p->idx[i]];

		for (j = 0; j < p->naxes; j++)
			p->pos[i * p->naxes + j] =
				pc_position(&p->axes[j], trial_value(t, j));
	}
	if (rc) {
		pc_release(p);
		return rc;
	}
	*priv = p;
	return 0;
}

/* ---- drawing (no lock) ---- */

/* Light (0, worst) to dark (1, best): a blue sequential scale whose
 * lightness falls steadily, so order reads at a glance. */
static void sequential(double g, char *buf, size_t size)
{
	static const int stops[][3] = {
		{ 0xb8, 0xd0, 0xe6 }, { 0x8a, 0xb6, 0xd9 },
		{ 0x54, 0x9c, 0xcd }, { 0x21, 0x6d, 0xb0 },
		{ 0x08, 0x30, 0x6b },
	};
	double x;
	int i, c[3], k;

	g = clampd(isnan(g) ? 0 : g, 0, 1);
	x = g * 4;
	i = x >= 4 ? 3 : (int)x;
	x -= i;
	for (k = 0; k < 3; k++)
		c[k] = (int)lround(stops[i][k] +
				   x * (stops[i + 1][k] - stops[i][k]));
	snprintf(buf, size, "#%02x%02x%02x", c[0], c[1], c[2]);
}

struct pc_view {
	const struct plot_data *d;
	const struct pc_priv *p;
	struct frame f;
	double spacing;
	double olo, ohi; /* the objective axis */
};

static double pc_y(const struct frame *f, double pos)
{
	return f->y1 - pos * (f->y1 - f->y0);
}

static double pc_x(const struct pc_view *v, size_t j)
{
	return v->f.x0 + v->spacing * (double)j;
}

/* The objective's position, clamped; *clip -1 below, 1 above, 0 on. */
static double pc_objective_pos(const struct pc_view *v, double x, int *clip)
{
	*clip = x < v->olo ? -1 : x > v->ohi ? 1 : 0;
	return map(clampd(x, v->olo, v->ohi), v->olo, v->ohi, 0, 1);
}

static void pc_draw_line(struct svg *s, const struct pc_view *v, size_t i)
{
	const struct plot_trial *t = &v->d->trials[v->p->idx[i]];
	const double *pos = v->p->pos + i * v->p->naxes;
	int failed = i >= v->p->nlines, best = v->p->idx[i] == v->d->best;
	size_t j, naxes = v->p->naxes;
	double g = failed ? 0 : plot_goodness(v->d, t->value), o = 0;
	int clip = 0;
	char c[16];

	for (j = 0; j < naxes; j++)
		if (isnan(pos[j]))
			return; /* a value off every axis: skip the trial */
	if (failed) {
		svg_printf(
			s,
			"<polyline class=\"pc-failed\" stroke=\"" FAILED_COLOUR
			"\" stroke-width=\"1\" stroke-dasharray=\"4,3\" "
			"points=\"");
	} else {
		o = pc_objective_pos(v, t->value, &clip);
		sequential(g, c, sizeof(c));
		svg_printf(s,
			   "<polyline class=\"pc-line%s\" stroke=\"%s\" "
			   "stroke-width=\"%.2f\" stroke-opacity=\"%.2f\" "
			   "points=\"",
			   best ? " pc-best" : "", best ? BEST_PC_COLOUR : c,
			   best ? 3.5 : 0.8 + 1.7 * g,
			   best ? 1.0 : 0.55 + 0.4 * g);
	}
	for (j = 0; j < naxes; j++)
		svg_printf(s, "%s%.1f,%.1f", j ? " " : "", pc_x(v, j),
			   pc_y(&v->f, pos[j]));
	if (!failed)
		svg_printf(s, " %.1f,%.1f", pc_x(v, naxes), pc_y(&v->f, o));
	svg_printf(s, "\"><title>trial %d (%s)</title></polyline>\n", t->number,
		   trial_state_name(t->state));
	if (clip)
		plot_clip_marker(s, pc_x(v, naxes), pc_y(&v->f, o), clip > 0,
				 best ? BEST_PC_COLOUR : c);
}

/* Failed first, then worst to best: the best is the last line drawn. */
static void pc_draw_lines(struct svg *s, const struct pc_view *v)
{
	size_t i;

	svg_printf(s, "<g fill=\"none\" stroke-linejoin=\"round\">\n");
	for (i = v->p->nlines; i < v->p->nlines + v->p->nfailed; i++)
		pc_draw_line(s, v, i);
	for (i = 0; i < v->p->nlines; i++)
		pc_draw_line(s, v, i);
	svg_printf(s, "</g>\n");
}

static void pc_tick(struct svg *s, double x, double y, const char *label)
{
	svg_line(s, x - 4, y, x, y, "stroke=\"" AXIS_COLOUR "\"");
	svg_label_boxed(s, x - 6, y + 3.5, 'e', 10, NULL, label, TICK_MAX);
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
static void pc_ticks_linear(struct svg *s, double lo, double hi, double x,
			    const struct frame *f)
{
	double v, first;
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

static void pc_axis_line(struct svg *s, const struct pc_view *v, double x,
			 const char *name)
{
	size_t chars = (size_t)(v->spacing / 7.5);

	svg_line(s, x, v->f.y0, x, v->f.y1,
		 "stroke=\"" AXIS_COLOUR "\" stroke-width=\"1.5\"");
	svg_label(s, x, v->f.y0 - 12,
		  "text-anchor=\"middle\" font-weight=\"bold\"", name,
		  chars < 4	      ? 4
		  : chars > LABEL_MAX ? LABEL_MAX
				      : chars);
}

static void pc_draw_axis(struct svg *s, const struct pc_view *v, size_t j)
{
	const struct pc_axis *a = &v->p->axes[j];
	double x = pc_x(v, j);

	pc_axis_line(s, v, x, a->name);
	if (a->kind == PC_CAT)
		pc_ticks_cat(s, a, x, &v->f);
	else if (a->kind == PC_LOG)
		pc_ticks_log(s, a, x, &v->f);
	else
		pc_ticks_linear(s, a->lo, a->hi, x, &v->f);
	if (a->kind == PC_LOG)
		svg_label(s, x, v->f.y1 + 16,
			  "text-anchor=\"middle\" font-size=\"10\" "
			  "fill=\"#777777\"",
			  "log", 4);
}

/* The colour bar's id, unique to the experiment: several plots shown in
 * one page (a notebook) do not take each other's gradient. Letters,
 * digits and '-' of the name (a DNS label) only. */
static void gradient_id(const struct plot_data *d, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "katibfs-objective-"), i;

	for (i = 0; d->name[i] && n + 1 < size; i++)
		buf[n++] =
			isalnum((unsigned char)d->name[i]) ? d->name[i] : '-';
	buf[n] = '\0';
}

/* The objective axis: its colour bar, ticks and the goal. */
static void pc_draw_objective_axis(struct svg *s, const struct pc_view *v)
{
	const struct frame *f = &v->f;
	double x = pc_x(v, v->p->naxes), lo = v->olo, hi = v->ohi, y;
	char c[16], id[80];
	int i, clip;

	gradient_id(v->d, id, sizeof(id));
	svg_printf(s,
		   "<defs><linearGradient id=\"%s\" "
		   "x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n",
		   id);
	for (i = 0; i <= 4; i++) {
		sequential(v->d->maximize ? i / 4.0 : 1 - i / 4.0, c,
			   sizeof(c));
		svg_printf(s, "<stop offset=\"%.2f\" stop-color=\"%s\"/>\n",
			   i / 4.0, c);
	}
	svg_printf(s, "</linearGradient></defs>\n");
	svg_printf(s,
		   "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"%.1f\" "
		   "fill=\"url(#%s)\"/>\n",
		   x + 4, f->y0, f->y1 - f->y0, id);
	pc_axis_line(s, v, x, v->d->metric);
	pc_ticks_linear(s, lo, hi, x, f);
	if (!v->d->has_goal)
		return;
	y = pc_y(f, pc_objective_pos(v, v->d->goal, &clip));
	svg_line(s, x - 6, y, x + 16, y,
		 "stroke=\"" GOAL_COLOUR "\" stroke-width=\"2\" "
		 "stroke-dasharray=\"3,2\"");
	svg_label_boxed(s, x + 18, y + 4, 's', 10,
			"class=\"goal\" fill=\"" GOAL_COLOUR "\"",
			clip > 0   ? "goal \xe2\x86\x91"
			: clip < 0 ? "goal \xe2\x86\x93"
				   : "goal",
			8);
}

static void pc_header(struct svg *s, const struct pc_view *v, double top)
{
	const struct plot_data *d = v->d;
	char line[320];

	snprintf(line, sizeof(line),
		 "Parameters of each trial, coloured by %.60s (darker is "
		 "better, the best drawn last)",
		 d->metric);
	svg_label(s, MARGIN_L, top + 24,
		  "font-size=\"14\" font-weight=\"bold\"", line, 120);
	line[0] = '\0';
	if (v->p->failed_total)
		snprintf(line, sizeof(line),
			 "grey dashed: %zu failed trial(s) without a value%s",
			 v->p->failed_total,
			 v->p->nfailed < v->p->failed_total
				 ? " (a sample drawn)"
				 : "");
	if (v->p->nlines < d->nval)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "%s%zu of %zu trials drawn, the best among them",
			 line[0] ? "  \xc2\xb7  " : "", v->p->nlines, d->nval);
	if (v->p->naxes < v->p->nparams)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "%sthe first %zu of %zu parameters",
			 line[0] ? "  \xc2\xb7  " : "", v->p->naxes,
			 v->p->nparams);
	if (line[0])
		svg_label(s, MARGIN_L, top + 42, "fill=\"" NOTE_COLOUR "\"",
			  line, 130);
}

static int pc_height(const struct plot_data *d, const void *priv)
{
	return priv ? PC_H : 0;
}

static int pc_draw(struct svg *s, const struct plot_data *d, const void *priv,
		   double top)
{
	struct pc_view v = { .d = d,
			     .p = priv,
			     .f = { MARGIN_L, top + 80,
				    PLOT_WIDTH - MARGIN_R - 20,
				    top + PC_H - 30 } };
	size_t j;

	v.spacing = (v.f.x1 - v.f.x0) / (double)v.p->naxes;
	v.olo = d->vlo;
	v.ohi = d->vhi;
	plot_value_span(d, &v.olo, &v.ohi);
	widen(&v.olo, &v.ohi);
	plot_band(s, top);
	pc_header(s, &v, top);
	pc_draw_lines(s, &v);
	for (j = 0; j < v.p->naxes; j++)
		pc_draw_axis(s, &v, j);
	pc_draw_objective_axis(s, &v);
	return s->err;
}

const struct plot_panel plot_parallel_panel = {
	.name = "parallel",
	.collect = pc_collect,
	.release = pc_release,
	.height = pc_height,
	.draw = pc_draw,
};
