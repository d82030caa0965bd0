/*
 * plot_importance.c - plot.svg's parameter importance panel: the ranking of
 * the `importance` file (core/engine/importance_task.c) as horizontal bars,
 * most important on top. Not drawn until there is a ranking. Owns the copy
 * of the ranking it collects (freed by imp_release()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/importance.h"
#include "views/plot_i.h"

#define IMP_MAX_BARS 12
#define IMP_BAR_H    22
#define IMP_TOP	     54 /* title and note above the bars */
#define IMP_LABEL_W  150
#define IMP_COLOUR   "#1f77b4"

struct imp_priv {
	size_t n, total;
	char *names[IMP_MAX_BARS];
	double scores[IMP_MAX_BARS];
};

static void imp_release(void *priv)
{
	struct imp_priv *p = priv;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p);
}

static int imp_collect(struct experiment *e, const struct plot_data *d,
		       void **priv)
{
	const struct importance_ranking *r = e->importance;
	struct imp_priv *p;
	size_t i;

	*priv = NULL;
	if (!r || r->n == 0)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->total = r->n;
	for (i = 0; i < r->n && i < IMP_MAX_BARS; i++) {
		p->names[i] = strdup(r->names[i]);
		p->scores[i] = r->scores[i];
		p->n = i + 1;
		if (!p->names[i]) {
			imp_release(p);
			return -ENOMEM;
		}
	}
	*priv = p;
	return 0;
}

static int imp_height(const struct plot_data *d, const void *priv)
{
	const struct imp_priv *p = priv;

	return p ? IMP_TOP + (int)p->n * IMP_BAR_H + 16 : 0;
}

static void imp_bar(struct svg *s, const struct imp_priv *p, size_t i, double y,
		    double x0, double full)
{
	double w = p->scores[0] > 0 ? p->scores[i] / p->scores[0] * full : 0;
	char value[32];

	svg_label(s, x0 - 8, y + 15, "text-anchor=\"end\"", p->names[i],
		  LABEL_MAX / 2);
	svg_printf(s,
		   "<rect class=\"importance-bar\" x=\"%.1f\" y=\"%.1f\" "
		   "width=\"%.1f\" height=\"%d\" fill=\"" IMP_COLOUR "\"/>\n",
		   x0, y + 3, w, IMP_BAR_H - 6);
	snprintf(value, sizeof(value), "%.3f", p->scores[i]);
	svg_label(s, x0 + w + 6, y + 15, "fill=\"" NOTE_COLOUR "\"", value,
		  TICK_MAX);
}

static int imp_draw(struct svg *s, const struct plot_data *d, const void *priv,
		    double top)
{
	const struct imp_priv *p = priv;
	double x0 = MARGIN_L + IMP_LABEL_W;
	double full = PLOT_WIDTH - MARGIN_R - 60 - x0;
	char note[160];
	size_t i;

	plot_band(s, top);
	svg_label(s, MARGIN_L, top + 24,
		  "font-size=\"14\" font-weight=\"bold\"",
		  "Parameter importance (functional ANOVA)", 120);
	snprintf(note, sizeof(note),
		 "share of the variation of %.60s each parameter explains, "
		 "Succeeded trials%s",
		 d->metric, p->n < p->total ? "; the first ones" : "");
	svg_label(s, MARGIN_L, top + 42, "fill=\"" NOTE_COLOUR "\"", note, 130);
	for (i = 0; i < p->n; i++)
		imp_bar(s, p, i, top + IMP_TOP + (double)i * IMP_BAR_H, x0,
			full);
	return s->err;
}

const struct plot_panel plot_importance_panel = {
	.name = "importance",
	.collect = imp_collect,
	.release = imp_release,
	.height = imp_height,
	.draw = imp_draw,
};
