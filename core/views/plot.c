/*
 * plot.c - plot.svg (core/views/plot.h): the document and its panels.
 *
 * The document is the panels of panels[] stacked top to bottom, each as
 * high as its height() says (0: left out). How to make a panel is in
 * core/views/plot_i.h; in short a panel is a file plot_<name>.c with
 *
 *	const struct plot_panel plot_<name>_panel = {
 *		.name = "<name>",
 *		.collect = <name>_collect, (optional: under the model lock,
 *					    copy what draw needs)
 *		.release = <name>_release, (frees what collect returned)
 *		.height = <name>_height,   (pixels; 0: not drawn)
 *		.draw = <name>_draw,	   (no lock: write the band at top)
 *	};
 *
 * and a row below. plot_snapshot() copies the common data (struct
 * plot_data) and calls every collect() under the lock;
 * plot_render_snapshot() lays the panels out and draws them without it.
 *
 * Owns: the snapshot (its struct plot_data and the panels' priv).
 */
#include "views/plot_i.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_H 150

const char *const plot_state_colour[NSTATES] = {
	[TRIAL_PENDING] = "#9e9e9e",
	[TRIAL_RUNNING] = "#ff7f0e",
	[TRIAL_SUCCEEDED] = "#1f77b4",
	[TRIAL_FAILED] = "#d62728",
	[TRIAL_KILLED] = "#9467bd",
	[TRIAL_EARLY_STOPPED] = "#8c564b",
	[TRIAL_METRICS_UNAVAILABLE] = "#e377c2",
};

/* The panels, top to bottom. */
static const struct plot_panel *const panels[] = {
	&plot_objective_panel,
	&plot_pareto_panel,
	&plot_curves_panel,
	&plot_parallel_panel,
	/* once `importance` has a ranking */
	&plot_importance_panel,
};

#define NPANELS (sizeof(panels) / sizeof(panels[0]))

struct plot_snapshot {
	struct plot_data d;
	char *why; /* the empty plot's reason, or NULL */
	void *priv[NPANELS];
};

/* ---- helpers for the panels ---- */

int plot_better(const struct plot_data *d, double a, double b)
{
	return d->maximize ? a > b : a < b;
}

int plot_counts_best(enum trial_state s)
{
	return s == TRIAL_SUCCEEDED || s == TRIAL_EARLY_STOPPED;
}

double plot_goodness(const struct plot_data *d, double v)
{
	double g = d->vhi > d->vlo ? (v - d->vlo) / (d->vhi - d->vlo) : 1;

	g = clampd(g, 0, 1);
	return d->maximize ? g : 1 - g;
}

void plot_value_span(const struct plot_data *d, double *lo, double *hi)
{
	double span = *hi > *lo ? *hi - *lo : fabs(*lo) + 1;

	if (d->has_goal && d->goal > *lo - span && d->goal < *hi + span) {
		*lo = fmin(*lo, d->goal);
		*hi = fmax(*hi, d->goal);
	}
}

void plot_value_axis(const struct plot_data *d, double lo, double hi,
		     struct axis *a)
{
	plot_value_span(d, &lo, &hi);
	axis_nice(a, lo, hi, 6, 0);
}

void plot_goal_line(struct svg *s, const struct plot_data *d,
		    const struct frame *f, const struct axis *a)
{
	int clip;
	double y;

	if (!d->has_goal)
		return;
	y = plot_y(f, a, d->goal, &clip);
	svg_line(s, f->x0, y, f->x1, y,
		 "stroke=\"" GOAL_COLOUR "\" stroke-width=\"1.5\" "
		 "stroke-dasharray=\"6,4\"");
	if (clip)
		plot_clip_marker(s, f->x1 - 8, y, clip > 0, GOAL_COLOUR);
}

void plot_goal_label(struct svg *s, const struct plot_data *d,
		     const struct frame *f, const struct axis *a)
{
	char label[64], num[48];
	int clip;
	double y;

	if (!d->has_goal)
		return;
	y = plot_y(f, a, d->goal, &clip);
	format_value(d->goal, num, sizeof(num));
	snprintf(label, sizeof(label), "goal %s%s", num,
		 clip > 0   ? " \xe2\x86\x91"
		 : clip < 0 ? " \xe2\x86\x93"
			    : "");
	svg_label_boxed(s, f->x1 - 16, y < f->y0 + 16 ? y + 15 : y - 5, 'e', 11,
			"class=\"goal\" fill=\"" GOAL_COLOUR "\"", label, 30);
}

/* ---- the common data ---- */

static int data_collect(struct experiment *e, struct plot_data *d)
{
	const struct objective_spec *o = &e->spec->objective;
	struct trial *best;
	size_t i;

	d->name = strdup(e->name);
	d->metric = strdup(o->metric ? o->metric : "objective");
	d->trials = malloc((e->ntrials ? e->ntrials : 1) * sizeof(*d->trials));
	if (!d->name || !d->metric || !d->trials)
		return -ENOMEM;
	d->state = e->state;
	d->counts = e->counts;
	d->maximize = o->maximize;
	d->has_goal = o->has_goal && isfinite(o->goal);
	d->goal = o->goal;
	d->max_trial_count = e->spec->max_trial_count;
	d->ntrials = e->ntrials;
	d->best = -1;
	best = experiment_best(e);
	for (i = 0; i < e->ntrials; i++) {
		struct plot_trial *p = &d->trials[i];
		double x;

		p->number = e->trials[i]->number;
		p->state = e->trials[i]->state;
		p->value = NAN;
		if (!trial_objective(e, e->trials[i], &x) && isfinite(x)) {
			p->value = x;
			if (!d->nval || x < d->lo)
				d->lo = x;
			if (!d->nval || x > d->hi)
				d->hi = x;
			d->nval++;
		}
		if (e->trials[i] == best && !isnan(p->value)) {
			d->best = (long)i;
			d->best_v = p->value;
		}
	}
	return 0;
}

/* The useful range of the values (without the lock: it sorts them). */
static int data_useful_range(struct plot_data *d)
{
	double *v = malloc((d->ntrials ? d->ntrials : 1) * sizeof(*v));
	size_t i;
	int rc;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < d->ntrials; i++)
		v[i] = d->trials[i].value;
	rc = plot_useful_range(v, d->ntrials, &d->vlo, &d->vhi);
	free(v);
	if (d->best >= 0) { /* the best is never off the axis */
		d->vlo = fmin(d->vlo, d->best_v);
		d->vhi = fmax(d->vhi, d->best_v);
	}
	return rc;
}

static void data_free(struct plot_data *d)
{
	free(d->name);
	free(d->metric);
	free(d->trials);
}

static char *empty_reason(struct experiment *e)
{
	char buf[256];

	if (!e->spec)
		snprintf(buf, sizeof(buf),
			 "No experiment yet: write a Katib "
			 "Experiment to spec.yaml.");
	else if (!e->ntrials)
		snprintf(buf, sizeof(buf), "No trials yet (state %s).",
			 experiment_state_name(e->state));
	else
		snprintf(buf, sizeof(buf),
			 "%zu trial(s), none has reported %.60s yet "
			 "(state %s).",
			 e->ntrials, e->spec->objective.metric,
			 experiment_state_name(e->state));
	return strdup(buf);
}

void plot_snapshot_free(struct plot_snapshot *snap)
{
	size_t i;

	if (!snap)
		return;
	for (i = 0; i < NPANELS; i++)
		if (snap->priv[i] && panels[i]->release)
			panels[i]->release(snap->priv[i]);
	data_free(&snap->d);
	free(snap->why);
	free(snap);
}

int plot_snapshot(struct experiment *e, struct plot_snapshot **out)
{
	struct plot_snapshot *snap = calloc(1, sizeof(*snap));
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!snap)
		return -ENOMEM;
	if (e->spec)
		rc = data_collect(e, &snap->d);
	else
		snap->d.name = strdup(e->name);
	if (!rc && (!e->spec || !snap->d.nval)) {
		snap->why = empty_reason(e);
		rc = snap->why && snap->d.name ? 0 : -ENOMEM;
	} else {
		for (i = 0; i < NPANELS && !rc; i++)
			if (panels[i]->collect)
				rc = panels[i]->collect(e, &snap->d,
							&snap->priv[i]);
	}
	if (rc) {
		plot_snapshot_free(snap);
		return rc;
	}
	*out = snap;
	return 0;
}

/* ---- the document ---- */

static void render_empty(struct svg *s, const struct plot_snapshot *snap)
{
	char title[256];

	snprintf(title, sizeof(title), "%s: no plot yet", snap->d.name);
	svg_begin(s, EMPTY_H, title);
	svg_label(s, 20, 40, "font-size=\"16\" font-weight=\"bold\"",
		  snap->d.name, LABEL_MAX);
	svg_label(s, 20, 80, "font-size=\"14\" fill=\"" NOTE_COLOUR "\"",
		  snap->why, 200);
	svg_label(s, 20, 110, "fill=\"#777777\"",
		  "Trials appear here as they report the objective metric.",
		  200);
	svg_end(s);
}

int plot_render_snapshot(const struct plot_snapshot *snap, struct strbuf *out)
{
	struct plot_data dv = snap->d, *d = &dv;
	struct svg s = { out, 0 };
	int heights[NPANELS], total = 0, top = 0;
	char title[256];
	size_t i;

	if (snap->why) {
		render_empty(&s, snap);
		return s.err;
	}
	s.err = data_useful_range(d);
	if (s.err)
		return s.err;
	for (i = 0; i < NPANELS; i++) {
		heights[i] = panels[i]->height(d, snap->priv[i]);
		total += heights[i];
	}
	snprintf(title, sizeof(title), "%s: %s per trial (%s)", d->name,
		 d->metric, d->maximize ? "maximize" : "minimize");
	svg_begin(&s, total, title);
	for (i = 0; i < NPANELS && !s.err; i++) {
		if (!heights[i])
			continue;
		svg_printf(&s, "<g class=\"panel\" id=\"panel-%s\">\n",
			   panels[i]->name);
		s.err = panels[i]->draw(&s, d, snap->priv[i], top);
		svg_printf(&s, "</g>\n");
		top += heights[i];
	}
	svg_end(&s);
	return s.err;
}

int plot_render(struct experiment *e, struct strbuf *out)
{
	struct plot_snapshot *snap;
	int rc = plot_snapshot(e, &snap);

	if (rc)
		return rc;
	rc = plot_render_snapshot(snap, out);
	plot_snapshot_free(snap);
	return rc;
}
