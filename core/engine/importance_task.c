/*
 * importance_task.c - the `importance` file kept up to date on the
 * controller thread (see importance_task.h). Owns the snapshot of a pass;
 * the ranking it stores is owned by the experiment (freed by
 * experiment_free()).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "algorithms/importance.h"
#include "engine/importance_task.h"

#define NOT_ENOUGH "# not enough trials yet\n"
#define NOT_RANKED "# the trials' assignments are not the spec's parameters\n"
#define RANK_SEED  20140601 /* fixed: the same trials, the same file */
#define RANK_SHARE 9	    /* wait 9x a ranking's time before the next */

struct snapshot {
	struct importance_space space;
	double *x, *y;
	size_t n;
	int succeeded; /* e->counts.succeeded when taken */
};

static void snapshot_free(struct snapshot *s)
{
	importance_space_free(&s->space);
	free(s->x);
	free(s->y);
	memset(s, 0, sizeof(*s));
}

/* The trials' values are the spec's parameters, in order (not the case
 * for the NAS algorithms, whose assignments are their own). */
static int values_are_params(const struct experiment *e)
{
	size_t i;

	if (e->nvalue_names != e->spec->nparams)
		return 0;
	for (i = 0; i < e->nvalue_names; i++)
		if (strcmp(e->value_names[i], e->spec->params[i].name))
			return 0;
	return 1;
}

static int eligible(const struct experiment *e, const struct trial *t,
		    double *y)
{
	/* a non-finite objective is left out, as Optuna does */
	return t->state == TRIAL_SUCCEEDED && t->nvalues == e->spec->nparams &&
	       !trial_objective(e, t, y) && isfinite(*y);
}

/* Row i of the snapshot from trial t; skipped when a value does not fit
 * the space (0 either way, -ENOMEM never: the rows are allocated). */
static void add_row(struct snapshot *s, const struct experiment *e,
		    const struct trial *t, double y)
{
	double *row = s->x + s->n * s->space.ncolumns;

	if (importance_encode(&s->space, e->spec->params, t->values, row))
		return;
	s->y[s->n++] = y;
}

/* Keep the sample's rows for every `stride`-th eligible trial: at most
 * 2 * IMPORTANCE_MAX_TRIALS (then every other one goes, stride doubles). */
static int sample_add(struct experiment *e, size_t index)
{
	size_t i;

	if (e->importance_seen++ % e->importance_stride)
		return 0;
	if (e->importance_nrows == 2 * IMPORTANCE_MAX_TRIALS) {
		for (i = 0; 2 * i < e->importance_nrows; i++)
			e->importance_rows[i] = e->importance_rows[2 * i];
		e->importance_nrows = i;
		e->importance_stride *= 2;
		if ((e->importance_seen - 1) % e->importance_stride)
			return 0;
	}
	if (!e->importance_rows) {
		e->importance_rows = malloc(2 * IMPORTANCE_MAX_TRIALS *
					    sizeof(*e->importance_rows));
		if (!e->importance_rows)
			return -ENOMEM;
	}
	e->importance_rows[e->importance_nrows++] = (uint32_t)index;
	return 0;
}

/* Under the lock: the ended trials not yet looked at, up to the first
 * still running, into e's sample (all of it again for a new spec). */
static int sample_update_locked(struct experiment *e)
{
	double y;

	if (e->importance_generation != e->generation ||
	    !e->importance_stride) {
		e->importance_generation = e->generation;
		e->importance_nrows = e->importance_scanned = 0;
		e->importance_seen = 0;
		e->importance_stride = 1;
	}
	for (; e->importance_scanned < e->ntrials; e->importance_scanned++) {
		const struct trial *t = e->trials[e->importance_scanned];

		if (!trial_state_is_terminal(t->state))
			break;
		if (eligible(e, t, &y) &&
		    sample_add(e, e->importance_scanned)) {
			e->importance_stride = 0; /* start again next time */
			return -ENOMEM;
		}
	}
	return 0;
}

/* The k-th of the candidate trials: the sample's, then those after it. */
static size_t candidate(const struct experiment *e, const uint32_t *tail,
			size_t k)
{
	return k < e->importance_nrows ? e->importance_rows[k]
				       : tail[k - e->importance_nrows];
}

/*
 * Under the lock: the Succeeded trials with an objective, encoded; an
 * evenly spaced IMPORTANCE_MAX_TRIALS of them when there are more. The
 * ended trials are sampled once (sample_update_locked); only those after
 * the first still running are looked at each time.
 */
static int take_snapshot_locked(struct experiment *e, struct snapshot *s)
{
	size_t i, total, ntail = 0, k, want;
	uint32_t *tail;
	double y;

	memset(s, 0, sizeof(*s));
	s->succeeded = e->counts.succeeded;
	if (sample_update_locked(e))
		return -ENOMEM;
	tail = malloc((e->ntrials - e->importance_scanned + 1) * sizeof(*tail));
	if (!tail)
		return -ENOMEM;
	for (i = e->importance_scanned; i < e->ntrials; i++)
		if (eligible(e, e->trials[i], &y))
			tail[ntail++] = (uint32_t)i;
	total = e->importance_nrows + ntail;
	want = total < IMPORTANCE_MAX_TRIALS ? total : IMPORTANCE_MAX_TRIALS;
	if (importance_space_init(&s->space, e->spec->params,
				  e->spec->nparams)) {
		free(tail);
		return -ENOMEM;
	}
	s->x = malloc((want * s->space.ncolumns + 1) * sizeof(*s->x));
	s->y = malloc((want + 1) * sizeof(*s->y));
	if (!s->x || !s->y) {
		free(tail);
		snapshot_free(s);
		return -ENOMEM;
	}
	/* candidate k is taken when it starts a new stride */
	for (k = 0; k < total && want; k++) {
		const struct trial *t = e->trials[candidate(e, tail, k)];

		if ((k + 1) * want / total > k * want / total && s->n < want &&
		    eligible(e, t, &y))
			add_row(s, e, t, y);
	}
	free(tail);
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Without the lock: the ranking of the snapshot, or NULL (too few trials,
 * nothing varied yet, no memory: the file says not enough trials). */
static struct importance_ranking *rank_snapshot(const struct snapshot *s)
{
	struct importance_ranking *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (importance_rank(&s->space, s->x, s->y, s->n, RANK_SEED, r)) {
		free(r);
		return NULL;
	}
	return r;
}

static void store_locked(struct experiment *e, const struct snapshot *s,
			 struct importance_ranking *r, double cost)
{
	if (e->importance) {
		importance_ranking_free(e->importance);
		free(e->importance);
	}
	e->importance = r;
	e->importance_succeeded = s->succeeded;
	e->importance_next = now_seconds() + RANK_SHARE * cost;
}

/* What e needs now: 0 nothing, 1 a ranking, 2 a ranking not yet due. */
static int needs_ranking_locked(struct experiment *e, double now)
{
	if (!e->spec || e->deleted ||
	    e->counts.succeeded == e->importance_succeeded)
		return 0;
	if (!values_are_params(e)) {
		e->importance_note = NOT_RANKED;
		e->importance_succeeded = e->counts.succeeded;
		return 0;
	}
	e->importance_note = NULL;
	if (e->counts.succeeded < IMPORTANCE_MIN_TRIALS) {
		e->importance_succeeded = e->counts.succeeded;
		return 0;
	}
	/* above IMPORTANCE_MAX_TRIALS, 1% more (the sample then changes
	 * by about 10 trials): a cheap snapshot must not mean more CPU */
	if (e->importance_succeeded > IMPORTANCE_MAX_TRIALS &&
	    e->counts.succeeded - e->importance_succeeded <
		    e->importance_succeeded / 100)
		return 0;
	return now < e->importance_next ? 2 : 1;
}

/* Rank experiment i if due; *wait lowered to when a deferred one is. */
static void run_one(struct katib *k, size_t i, double *wait)
{
	struct importance_ranking *r;
	struct experiment *e = NULL;
	struct snapshot s;
	double start = now_seconds();
	int need = 0, rc = -1;

	pthread_mutex_lock(&k->lock);
	if (i < k->nexps) {
		e = k->exps[i];
		need = needs_ranking_locked(e, start);
	}
	if (need == 1)
		rc = take_snapshot_locked(e, &s);
	else if (need == 2 && (*wait < 0 || e->importance_next - start < *wait))
		*wait = e->importance_next - start;
	pthread_mutex_unlock(&k->lock);
	if (rc)
		return;
	r = rank_snapshot(&s);
	/* e stays allocated: only this thread frees experiments */
	pthread_mutex_lock(&k->lock);
	store_locked(e, &s, r, now_seconds() - start);
	pthread_mutex_unlock(&k->lock);
	snapshot_free(&s);
}

int importance_task_run(struct katib *k)
{
	double wait = -1;
	size_t i, n;

	pthread_mutex_lock(&k->lock);
	n = k->nexps;
	pthread_mutex_unlock(&k->lock);
	for (i = 0; i < n; i++)
		run_one(k, i, &wait);
	return wait < 0 ? -1 : (int)(wait * 1000) + 1;
}

int importance_task_render_locked(const struct experiment *e, struct strbuf *b)
{
	if (!e->importance)
		return strbuf_puts(b, e->importance_note ? e->importance_note
							 : NOT_ENOUGH);
	return importance_format(e->importance, b);
}
