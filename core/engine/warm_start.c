/*
 * warm_start.c - katibfs/warm-start (INTERFACE.md, "Beyond Katib:
 * annotations"): `katibfs/warm-start: "exp-a, exp-b"` gives the Succeeded
 * trials of those experiments to this one's algorithm as history before
 * its first suggestion, as Optuna's add_trials does.
 *
 * When the experiment starts, each Succeeded trial of each named
 * experiment (with an objective value, on the same objective metric) is
 * taken if every parameter of this search space has a value there that
 * fits it (param_value_check(), the check the queue uses); `events` says
 * how many came from each and why the others did not fit. The entries are
 * kept in e->warm and in the store (a source may be deleted later, and the
 * algorithm's state counts on the same history at every mount); they are
 * not trials: not run, not counted against maxTrialCount, not in
 * trials.csv; `status` shows `warm_start=N`. The algorithm sees them ahead
 * of the experiment's own trials (warm_start_history()), numbered -1, -2,
 * ..., with state Succeeded.
 *
 * Owns: e->warm, e->warm_source and e->combined (freed by
 * experiment_warm_free(), model.c).
 */
#include "engine/warm_start.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD	    "metadata.annotations[" WARM_START_ANNOTATION "]"
#define REASONS_MAX 6

/* Why trials of one source did not fit, for events. */
struct tally {
	size_t taken, misfit;
	struct {
		char what[128];
		size_t n;
	} reason[REASONS_MAX];
	size_t nreasons;
};

static void tally_misfit(struct tally *t, const char *what)
{
	size_t i;

	t->misfit++;
	for (i = 0; i < t->nreasons; i++)
		if (!strcmp(t->reason[i].what, what)) {
			t->reason[i].n++;
			return;
		}
	if (t->nreasons == REASONS_MAX)
		return; /* counted in misfit, not named */
	snprintf(t->reason[i].what, sizeof(t->reason[i].what), "%s", what);
	t->reason[i].n = 1;
	t->nreasons++;
}

int warm_start_check_locked(struct katib *k, const char *exp,
			    const struct experiment_spec *spec,
			    struct kb_error *err)
{
	const struct algorithm_ops *ops = algorithm_find(spec->algorithm.name);
	char unknown[512] = "";
	size_t i, len = 0, n = 0;

	if (!spec->nwarm_start)
		return 0;
	for (i = 0; i < spec->nwarm_start; i++) {
		if (!strcmp(spec->warm_start[i], exp))
			return kb_error_set(
				err, -EINVAL, FIELD, 0,
				"names this experiment itself (%s); "
				"name earlier experiments whose "
				"trials should be its history",
				exp);
		if (katib_find_locked(k, spec->warm_start[i]))
			continue;
		n++;
		len += (size_t)snprintf(unknown + len, sizeof(unknown) - len,
					"%s%s", len ? ", " : "",
					spec->warm_start[i]);
		if (len >= sizeof(unknown))
			len = sizeof(unknown) - 1;
	}
	if (n)
		return kb_error_set(err, -EINVAL, FIELD, 0,
				    "no experiment%s named %s on this mount "
				    "(ls the mount point for their names)",
				    n > 1 ? "s" : "", unknown);
	if (ops && ops->foreign_refused)
		return kb_error_set(err, -EINVAL, FIELD, 0,
				    "%s cannot take history it did not "
				    "suggest: %s",
				    ops->name, ops->foreign_refused);
	return 0;
}

static int warm_append(struct experiment *e, const char *source, char **values,
		       double objective)
{
	struct history_trial *w;
	char **s;
	size_t cap;

	if (e->nwarm == e->warm_cap) {
		cap = e->warm_cap ? e->warm_cap * 2 : 16;
		w = realloc(e->warm, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		e->warm = w;
		s = realloc(e->warm_source, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		e->warm_source = s;
		e->warm_cap = cap;
	}
	if (!(e->warm_source[e->nwarm] = strdup(source)))
		return -ENOMEM;
	w = &e->warm[e->nwarm];
	memset(w, 0, sizeof(*w));
	w->values = values;
	w->state = HISTORY_SUCCEEDED;
	w->has_objective = 1;
	w->objective = objective;
	w->number = -(int)++e->nwarm;
	return 0;
}

/* t's assignment in spec's space (heap values), or NULL with why. */
static char **trial_fit(const struct experiment *src, const struct trial *t,
			const struct experiment_spec *spec, char *why,
			size_t size)
{
	char **values =
		calloc(spec->nparams ? spec->nparams : 1, sizeof(*values));
	const struct param_spec *p;
	size_t i, j;

	for (i = 0; values && i < spec->nparams; i++) {
		p = &spec->params[i];
		for (j = 0; j < src->nvalue_names && j < t->nvalues; j++)
			if (!strcmp(src->value_names[j], p->name))
				break;
		if (j == src->nvalue_names || j == t->nvalues) {
			snprintf(why, size, "with no value for %s", p->name);
			goto misfit;
		}
		if (param_value_check(p, t->values[j], &values[i], NULL)) {
			snprintf(why, size, "with %s outside this search space",
				 p->name);
			goto misfit;
		}
	}
	if (!values)
		snprintf(why, size, "(out of memory)");
	return values;
misfit:
	assignment_values_free(values, spec->nparams);
	return NULL;
}

/* Take the fitting Succeeded trials of src into e. */
static void take_from(struct katib *k, struct experiment *e,
		      struct experiment *src, struct tally *tl)
{
	const char *metric = e->spec->objective.metric;
	char why[128], **values, *line;
	size_t i;
	double v;

	for (i = 0; i < src->ntrials; i++) {
		const struct trial *t = src->trials[i];

		if (t->state != TRIAL_SUCCEEDED || trial_objective(src, t, &v))
			continue;
		if (!src->spec || strcmp(src->spec->objective.metric, metric)) {
			snprintf(why, sizeof(why),
				 "(their objective is %s, not %s)",
				 src->spec ? src->spec->objective.metric : "?",
				 metric);
			tally_misfit(tl, why);
			continue;
		}
		values = trial_fit(src, t, e->spec, why, sizeof(why));
		if (!values) {
			tally_misfit(tl, why);
			continue;
		}
		line = assignment_line(e->spec, values);
		if (!line || warm_append(e, src->name, values, v)) {
			free(line);
			assignment_values_free(values, e->spec->nparams);
			tally_misfit(tl, "(out of memory)");
			continue;
		}
		store_put_warm(k->store, e->name, (long)e->nwarm, src->name,
			       line, v);
		free(line);
		tl->taken++;
	}
}

static void tally_text(const char *source, const struct tally *tl,
		       struct strbuf *b)
{
	size_t i, named = 0;

	strbuf_printf(b, "%zu trial%s from %s", tl->taken,
		      tl->taken == 1 ? "" : "s", source);
	if (!tl->misfit)
		return;
	strbuf_printf(b, " (%zu Succeeded did not fit: ", tl->misfit);
	for (i = 0; i < tl->nreasons; i++) {
		strbuf_printf(b, "%s%zu %s", i ? ", " : "", tl->reason[i].n,
			      tl->reason[i].what);
		named += tl->reason[i].n;
	}
	if (named < tl->misfit)
		strbuf_printf(b, ", %zu for other reasons", tl->misfit - named);
	strbuf_printf(b, ")");
}

/* What the algorithm makes of them. */
static void use_text(const struct experiment *e, struct strbuf *b)
{
	const char *name = e->spec->algorithm.name;

	if (!e->nwarm)
		strbuf_printf(b, "nothing to use");
	else if (e->spec->nsuggestion_command)
		strbuf_printf(b, "given to the suggestion command in its "
				 "\"trials\"");
	else if (!strcmp(name, "grid"))
		strbuf_printf(b, "grid does not use history: it skips the "
				 "points already evaluated");
	else if (!strcmp(name, "random") || !strcmp(name, "sobol"))
		strbuf_printf(b,
			      "%s does not use history: those points are only "
			      "not suggested again",
			      name);
	else if (!strcmp(name, "cmaes"))
		strbuf_printf(b, "cmaes starts its first generation from the "
				 "best of them");
	else
		strbuf_printf(b,
			      "given to %s as history before its first "
			      "suggestion",
			      name);
}

void warm_start_take_locked(struct katib *k, struct experiment *e)
{
	const struct experiment_spec *s = e->spec;
	struct experiment *src;
	struct tally tl;
	struct strbuf b;
	size_t i;

	if (!s || !s->nwarm_start || e->nwarm)
		return;
	strbuf_init(&b);
	strbuf_printf(&b, "warm start: ");
	for (i = 0; i < s->nwarm_start; i++) {
		memset(&tl, 0, sizeof(tl));
		src = katib_find_locked(k, s->warm_start[i]);
		if (src && src != e)
			take_from(k, e, src, &tl);
		strbuf_printf(&b, "%s", i ? "; " : "");
		tally_text(s->warm_start[i], &tl, &b);
		if (!src)
			strbuf_printf(&b, " (gone)");
	}
	strbuf_printf(&b,
		      "; %zu in all, not run again and not counted against "
		      "maxTrialCount; ",
		      e->nwarm);
	use_text(e, &b);
	experiment_event(k, e, "%s", b.data ? b.data : "warm start");
	strbuf_free(&b);
}

int warm_start_load(struct experiment *e, const char *source, const char *line,
		    double objective)
{
	char **values;
	int rc;

	if (!e->spec || !line || !source ||
	    assignment_parse_line(e->spec, line, strlen(line), &values, NULL))
		return 0;
	rc = warm_append(e, source, values, objective);
	if (rc)
		assignment_values_free(values, e->spec->nparams);
	return rc;
}

int warm_start_rewrite_locked(struct katib *k, struct experiment *e)
{
	size_t i;
	char *line;
	int rc = 0;

	for (i = 0; !rc && i < e->nwarm; i++) {
		line = assignment_line(e->spec, e->warm[i].values);
		rc = line ? store_put_warm(k->store, e->name, (long)i + 1,
					   e->warm_source[i], line,
					   e->warm[i].objective)
			  : -ENOMEM;
		free(line);
	}
	return rc;
}

int warm_start_history(struct experiment *e,
		       const struct search_history *trials,
		       struct search_history *out)
{
	size_t n = e->nwarm + trials->ntrials, cap, i;
	struct history_trial *c;

	*out = *trials;
	if (!e->nwarm)
		return 0;
	if (n + 1 > e->combined_cap) {
		cap = e->combined_cap ? e->combined_cap : 64;
		while (cap < n + 1) /* one zeroed entry past the end */
			cap *= 2;
		c = realloc(e->combined, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		e->combined = c;
		e->combined_cap = cap;
	}
	memcpy(e->combined, e->warm, e->nwarm * sizeof(*e->combined));
	if (trials->ntrials)
		memcpy(e->combined + e->nwarm, trials->trials,
		       trials->ntrials * sizeof(*e->combined));
	memset(&e->combined[n], 0, sizeof(*e->combined));
	for (i = 0; e->used && i < e->nwarm; i++)
		if (assignment_set_add(e->used, e->warm[i].values) < 0)
			return -ENOMEM;
	out->trials = e->combined;
	out->ntrials = n;
	return 0;
}
