/*
 * plot_pareto.c - the Pareto front panel of plot.svg (a panel as
 * core/views/plot_i.h describes), drawn for multi-objective experiments
 * (katibfs/objectives): the first objective across, the second up, one
 * dot per trial with both values, the trials on the front (e->pareto,
 * kept by the controller as trials end) solid and joined by a step line
 * (the boundary of what they dominate), the dominated ones faded. With
 * more than two objectives, the front is that of all objectives, and the
 * step line joins those of its trials no other of them beats on the first
 * two.
 *
 * collect() (under the model lock) copies the two values and the front
 * flag of each trial; the struct pf_priv it returns owns them.
 */
#include "views/plot_i.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_H	     420
#define FRONT_COLOUR "#d62728"
#define FADED_COLOUR "#7f7f7f"

struct pf_point {
	double x, y;   /* the first two objectives, as reported */
	double lx, ly; /* the same as losses (minimised) */
	int front;
};

struct pf_priv {
	char xname[LABEL_MAX + 1], yname[LABEL_MAX + 1];
	int xmax, ymax; /* maximised? */
	size_t n, nfront;
	struct pf_point *p;
};

static void pareto_release(void *priv)
{
	struct pf_priv *pf = priv;

	if (pf)
		free(pf->p);
	free(pf);
}

static int pareto_collect(struct experiment *e, const struct plot_data *d,
			  void **priv)
{
	double v[SPEC_MAX_OBJECTIVES];
	struct pf_priv *pf;
	struct pf_point *q;
	size_t i;

	*priv = NULL;
	if (!e->spec || spec_objective_count(e->spec) < 2)
		return 0;
	pf = calloc(1, sizeof(*pf));
	if (!pf || !(pf->p = calloc(e->ntrials + 1, sizeof(*pf->p)))) {
		pareto_release(pf);
		return -ENOMEM;
	}
	snprintf(pf->xname, sizeof(pf->xname), "%s",
		 spec_objective(e->spec, 0, &pf->xmax));
	snprintf(pf->yname, sizeof(pf->yname), "%s",
		 spec_objective(e->spec, 1, &pf->ymax));
	for (i = 0; i < e->ntrials; i++) {
		const struct trial *t = e->trials[i];

		if (!plot_counts_best(t->state) ||
		    trial_objective_values(e, t, v, NULL))
			continue;
		q = &pf->p[pf->n++];
		q->x = v[0];
		q->y = v[1];
		q->lx = pf->xmax ? -v[0] : v[0];
		q->ly = pf->ymax ? -v[1] : v[1];
		q->front = t->state == TRIAL_SUCCEEDED &&
			   pareto_front_contains(&e->pareto, t->number);
		pf->nfront += q->front;
	}
	*priv = pf;
	return 0;
}

static int pareto_height(const struct plot_data *d, const void *priv)
{
	const struct pf_priv *pf = priv;

	return pf && pf->n ? PF_H : 0;
}

static int by_loss_x(const void *a, const void *b)
{
	const struct pf_point *p = a, *q = b;

	if (p->lx != q->lx)
		return p->lx < q->lx ? -1 : 1;
	return (p->ly > q->ly) - (p->ly < q->ly);
}

static double px(const struct frame *f, const struct axis *a, double v)
{
	return map(v, a->lo, a->hi, f->x0, f->x1);
}

static double py(const struct frame *f, const struct axis *a, double v)
{
	return map(v, a->lo, a->hi, f->y1, f->y0);
}

/*
 * The step line: the front's points by the first loss, each joined to the
 * next across, then up or down, skipping those another front point beats
 * on both drawn objectives (more than two objectives).
 */
static int draw_steps(struct svg *s, const struct pf_priv *pf,
		      const struct frame *f, const struct axis *xa,
		      const struct axis *ya)
{
	struct pf_point *fr = malloc((pf->nfront + 1) * sizeof(*fr));
	size_t i, k = 0;
	double last_ly = INFINITY;
	int started = 0;

	if (!fr)
		return -ENOMEM;
	for (i = 0; i < pf->n; i++)
		if (pf->p[i].front)
			fr[k++] = pf->p[i];
	qsort(fr, k, sizeof(*fr), by_loss_x);
	svg_printf(s, "<path class=\"pareto-front\" fill=\"none\" "
		      "stroke=\"" FRONT_COLOUR "\" stroke-width=\"1.5\" d=\"");
	for (i = 0; i < k; i++) {
		if (fr[i].ly >= last_ly)
			continue; /* beaten on the two drawn objectives */
		if (started)
			svg_printf(s, "H%.1fV%.1f", px(f, xa, fr[i].x),
				   py(f, ya, fr[i].y));
		else
			svg_printf(s, "M%.1f %.1f", px(f, xa, fr[i].x),
				   py(f, ya, fr[i].y));
		started = 1;
		last_ly = fr[i].ly;
	}
	svg_printf(s, "\"/>\n");
	free(fr);
	return 0;
}

static void draw_points(struct svg *s, const struct pf_priv *pf,
			const struct frame *f, const struct axis *xa,
			const struct axis *ya, int front)
{
	const struct pf_point *q;
	size_t i;

	svg_printf(s, "<g class=\"%s\" fill=\"%s\" fill-opacity=\"%s\">\n",
		   front ? "pareto-trials" : "dominated-trials",
		   front ? FRONT_COLOUR : FADED_COLOUR, front ? "1" : "0.3");
	for (i = 0; i < pf->n; i++) {
		q = &pf->p[i];
		if (q->front == front)
			svg_printf(
				s,
				"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"/>\n",
				px(f, xa, q->x), py(f, ya, q->y),
				front ? "4" : "3");
	}
	svg_printf(s, "</g>\n");
}

/* The x axis of a value (plot_x_axis() labels trial numbers). */
static void value_x_axis(struct svg *s, const struct frame *f,
			 const struct axis *a)
{
	double v, x, maxabs = fmax(fabs(a->lo), fabs(a->hi));
	char buf[48];
	int i;

	for (i = 0; (v = axis_tick(a, a->lo, i)) <= a->hi + a->step / 2; i++) {
		x = px(f, a, v);
		svg_line(s, x, f->y0, x, f->y1, "stroke=\"" GRID_COLOUR "\"");
		svg_line(s, x, f->y1, x, f->y1 + 5,
			 "stroke=\"" AXIS_COLOUR "\"");
		format_tick(v, a->step, maxabs, buf, sizeof(buf));
		svg_label(s, x, f->y1 + 19, "text-anchor=\"middle\"", buf,
			  TICK_MAX);
	}
}

/* The title, the counts, the frame and what each axis is. */
static void pareto_labels(struct svg *s, const struct pf_priv *pf,
			  const struct frame *f, double top)
{
	char line[256], xl[96], yl[96];

	snprintf(line, sizeof(line), "Pareto front: %.40s and %.40s", pf->xname,
		 pf->yname);
	svg_label(s, MARGIN_L, top + 24,
		  "font-size=\"16\" font-weight=\"bold\"", line, 120);
	snprintf(line, sizeof(line),
		 "%zu trial(s) on the front (red, joined), %zu dominated "
		 "(faded)",
		 pf->nfront, pf->n - pf->nfront);
	svg_label(s, MARGIN_L, top + 44, "fill=\"" NOTE_COLOUR "\"", line, 160);
	snprintf(xl, sizeof(xl), "%.40s (%s is better)", pf->xname,
		 pf->xmax ? "higher" : "lower");
	snprintf(yl, sizeof(yl), "%.40s (%s is better)", pf->yname,
		 pf->ymax ? "higher" : "lower");
	plot_frame(s, f, xl, yl);
}

static int pareto_draw(struct svg *s, const struct plot_data *d,
		       const void *priv, double top)
{
	const struct pf_priv *pf = priv;
	struct frame f = { MARGIN_L, top + 70, PLOT_WIDTH - MARGIN_R,
			   top + PF_H - 50 };
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
	struct axis xa, ya;
	size_t i;
	int rc;

	plot_band(s, top);
	for (i = 0; i < pf->n; i++) {
		xlo = fmin(xlo, pf->p[i].x);
		xhi = fmax(xhi, pf->p[i].x);
		ylo = fmin(ylo, pf->p[i].y);
		yhi = fmax(yhi, pf->p[i].y);
	}
	widen(&xlo, &xhi);
	widen(&ylo, &yhi);
	axis_nice(&xa, xlo, xhi, 8, 0);
	axis_nice(&ya, ylo, yhi, 6, 0);
	plot_y_axis(s, &f, &ya);
	value_x_axis(s, &f, &xa);
	draw_points(s, pf, &f, &xa, &ya, 0);
	rc = draw_steps(s, pf, &f, &xa, &ya);
	if (rc)
		return rc;
	draw_points(s, pf, &f, &xa, &ya, 1);
	pareto_labels(s, pf, &f, top);
	return s->err;
}

const struct plot_panel plot_pareto_panel = {
	.name = "pareto",
	.collect = pareto_collect,
	.release = pareto_release,
	.height = pareto_height,
	.draw = pareto_draw,
};
