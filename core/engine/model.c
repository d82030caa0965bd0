/*
 * model.c - the in-memory experiment/trial model: names, counts,
 * the current optimal trial. See core/engine/model.h.
 *
 * Owns: every experiment and trial (experiment_free(), trial_free()) with
 * their observations, summaries, caches and arenas; the spec is freed
 * through spec_free().
 *
 * What an ended trial costs (issue 11; bench/bench_scale.py's trivial
 * trials: one double parameter, one observation; bytes as allocated):
 *   struct trial                    152 (a 160-byte malloc chunk; its
 *                                       running part, struct trial_live,
 *                                       80, is freed as it ends)
 *   in the experiment's arena e->sealed (no chunk header, 8-byte steps):
 *     its name                       16
 *     its values, one block          40 (the pointers, then the strings)
 *     its script, packed            ~88 (of ~440 bytes; util/textdelta.h)
 *     its metric summary             64 (collectors/metrics.h)
 *     its observations' rows        ~48 (the CSV header is not kept)
 *     its series                      8
 *   its history entry                56 (experiment_history())
 *   e->used's slot                  ~21 (8 bytes, the table 2-4 times
 *                                       the trials; the trial's own
 *                                       values, not a copy)
 *   e->trials                        ~8
 *   trials.csv's cached row         ~52 (core/views/render.c)
 *   the experiment's events lines   ~24 (deflated; util/textlog.h)
 * about 590 bytes; at 100,000 trials the daemon's RSS was 85 MB (0.85 KB
 * per trial): ~14 MB at rest (11.5 of it shared libraries' pages), ~6 MB
 * fixed (FUSE's four 1 MB worker buffers, sqlite's page cache, at most
 * 2 MB), the rest malloc's chunk headers and freed transient buffers.
 * Before (232-byte record with an inline name, values and the set's copy
 * of them on the heap, 72-byte summaries): 0.99-1.06 KB per trial.
 */
#include "engine/model.h"
#include "collectors/tfevent.h"
#include "algorithms/importance.h"
#include "util/arena.h"
#include "util/textdelta.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static const char *const trial_states[] = {
	[TRIAL_PENDING] = "Pending",
	[TRIAL_RUNNING] = "Running",
	[TRIAL_SUCCEEDED] = "Succeeded",
	[TRIAL_FAILED] = "Failed",
	[TRIAL_KILLED] = "Killed",
	[TRIAL_EARLY_STOPPED] = "EarlyStopped",
	[TRIAL_METRICS_UNAVAILABLE] = "MetricsUnavailable",
};

static const char *const experiment_states[] = {
	[EXP_CREATED] = "Created", [EXP_RUNNING] = "Running",
	[EXP_PAUSED] = "Paused",   [EXP_SUCCEEDED] = "Succeeded",
	[EXP_FAILED] = "Failed",   [EXP_STOPPED] = "Stopped",
	[EXP_INVALID] = "Invalid",
};

const char *trial_state_name(enum trial_state s)
{
	return trial_states[s];
}

const char *experiment_state_name(enum experiment_state s)
{
	return experiment_states[s];
}

int trial_state_is_terminal(enum trial_state s)
{
	return s != TRIAL_PENDING && s != TRIAL_RUNNING;
}

int experiment_state_is_finished(enum experiment_state s)
{
	return s == EXP_SUCCEEDED || s == EXP_FAILED || s == EXP_STOPPED;
}

_Static_assert(EXPERIMENT_NAME_MAX + 10 <= TRIAL_NAME_MAX,
	       "a trial's name is <experiment>-<8 chars>");

/*
 * Trial reasons, interned: a few distinct words shared by every trial (a
 * pointer each instead of a copy). The list only grows (a reason read
 * from the store that is none of these joins it) and lives as long as the
 * process; its lock is taken only for a word not in the list.
 */
static struct reason_word {
	struct reason_word *next;
	char text[];
} * reason_words;
static pthread_mutex_t reason_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const known_reasons[] = {
	"TrialCreated",
	"TrialRunning",
	"TrialSucceeded",
	"TrialFailed",
	"MetricsUnavailable",
	"StartFailed",
	"Lost",
	"Killed",
	"Timeout",
	"EarlyStopped",
	"TrialEarlyStopped",
	"KilledByUser",
	"ExperimentFinished",
	"",
};

static const char *reason_intern(const char *reason)
{
	struct reason_word *w;
	size_t i, len;

	for (i = 0; i < sizeof(known_reasons) / sizeof(known_reasons[0]); i++)
		if (!strcmp(known_reasons[i], reason))
			return known_reasons[i];
	pthread_mutex_lock(&reason_lock);
	for (w = reason_words; w; w = w->next)
		if (!strcmp(w->text, reason))
			break;
	len = strlen(reason);
	if (!w && (w = malloc(sizeof(*w) + len + 1))) {
		memcpy(w->text, reason, len + 1);
		w->next = reason_words;
		reason_words = w;
	}
	pthread_mutex_unlock(&reason_lock);
	return w ? w->text : ""; /* out of memory: no reason */
}

void trial_set_reason(struct trial *t, const char *reason)
{
	t->reason = reason ? reason_intern(reason) : NULL;
}

const char *trial_reason(const struct trial *t)
{
	return t->reason ? t->reason : "";
}

int trial_live_new(struct trial *t)
{
	if (t->live)
		return 0;
	t->live = calloc(1, sizeof(*t->live));
	if (!t->live)
		return -ENOMEM;
	t->live->run.pidfd = -1;
	t->live->slot = -1;
	return 0;
}

void trial_live_free(struct trial *t)
{
	if (!t->live)
		return;
	free(t->live->devices);
	tfevent_reader_free(t->live->tfevent);
	free(t->live);
	t->live = NULL;
}

struct trial *trial_alloc(void)
{
	struct trial *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->exit_code = -1;
	t->name = ""; /* not the heap's (trial_set_name) */
	t->sealed = SEALED_NAME;
	return t;
}

int trial_set_name(struct experiment *e, struct trial *t, const char *name)
{
	size_t len = strnlen(name, TRIAL_NAME_MAX - 1);
	char *p = arena_alloc(&e->sealed, len + 1);

	if (!(t->sealed & SEALED_NAME))
		free((char *)t->name);
	t->sealed |= SEALED_NAME;
	if (!p) { /* out of memory: on the heap */
		t->sealed &= ~SEALED_NAME;
		p = malloc(len + 1);
	}
	t->name = p;
	if (!p)
		return -ENOMEM;
	memcpy(p, name, len);
	p[len] = '\0';
	return 0;
}

void trial_values_pack(struct experiment *e, struct trial *t)
{
	size_t i, size = (t->nvalues + 1) * sizeof(char *);
	char **v, *at;

	if (!t->values || (t->sealed & SEALED_VALUES))
		return;
	for (i = 0; i < t->nvalues; i++)
		size += t->values[i] ? strlen(t->values[i]) + 1 : 0;
	v = arena_alloc(&e->sealed, size);
	if (!v)
		return; /* they stay as they were (NAS values may be large) */
	at = (char *)(v + t->nvalues + 1);
	for (i = 0; i < t->nvalues; i++) {
		v[i] = NULL;
		if (t->values[i]) {
			v[i] = strcpy(at, t->values[i]);
			at += strlen(at) + 1;
		}
		free(t->values[i]);
	}
	v[t->nvalues] = NULL;
	free(t->values);
	t->values = v;
	t->sealed |= SEALED_VALUES;
}

void trial_set_mtime(struct trial *t, struct timespec ts)
{
	t->mtime_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void trial_touch_mtime(struct trial *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	trial_set_mtime(t, ts);
}

struct timespec trial_mtime(const struct trial *t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t->mtime_ns / 1000000000),
		.tv_nsec = (long)(t->mtime_ns % 1000000000),
	};

	return ts;
}

void trial_observations_clear(struct trial *t)
{
	if (!(t->sealed & SEALED_OBSERVATIONS))
		free(t->observations.data);
	t->sealed &= ~SEALED_OBSERVATIONS;
	memset(&t->observations, 0, sizeof(t->observations));
	t->nobservations = 0;
}

void trial_free(struct trial *t)
{
	size_t i;

	if (!t)
		return;
	if (!(t->sealed & SEALED_VALUES)) {
		for (i = 0; t->values && i < t->nvalues; i++)
			free(t->values[i]);
		free(t->values);
	}
	if (!(t->sealed & SEALED_NAME))
		free((char *)t->name);
	free(t->message);
	trial_live_free(t);
	if (!(t->sealed & SEALED_COMMAND))
		free(t->command);
	if (t->sealed & SEALED_SUMMARIES) /* their long values are owned */
		for (i = 0; i < t->nsummaries; i++)
			metric_summary_release(&t->summaries[i]);
	else
		metric_summaries_free(t->summaries, t->nsummaries);
	if (!(t->sealed & SEALED_SERIES))
		free(t->series);
	free(t->objectives);
	if (!(t->sealed & SEALED_OBSERVATIONS))
		free(t->observations.data);
	free(t);
}

void experiment_free(struct experiment *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->ntrials; i++)
		trial_free(e->trials[i]);
	free(e->trials);
	free(e->active);
	free(e->command_ref);
	arena_free(&e->sealed); /* after its trials */
	if (e->algo && e->algo_priv && e->algo->destroy)
		e->algo->destroy(e->algo_priv);
	metrics_parser_free(e->parser);
	experiment_queue_free(e);
	experiment_warm_free(e); /* before the spec: it says how many values */
	spec_free(e->spec);
	free(e->name);
	free(e->error);
	free(e->raw_spec);
	free(e->spec_yaml);
	strbuf_free(&e->events);
	textlog_free(&e->events_sealed);
	experiment_caches_reset(e);
	history_snapshot_free(&e->snapshot);
	free(e->algo_state);
	pareto_front_free(&e->pareto);
	if (e->importance)
		importance_ranking_free(e->importance);
	free(e->importance);
	free(e->importance_rows);
	free(e);
}

void experiment_warm_free(struct experiment *e)
{
	size_t i;

	for (i = 0; i < e->nwarm; i++) {
		assignment_values_free(e->warm[i].values,
				       e->spec ? e->spec->nparams : 0);
		free(e->warm_source[i]);
	}
	free(e->warm);
	free(e->warm_source);
	free(e->combined);
	e->warm = e->combined = NULL;
	e->warm_source = NULL;
	e->nwarm = e->warm_cap = e->combined_cap = 0;
}

void experiment_queue_free(struct experiment *e)
{
	size_t i;

	for (i = 0; i < e->nqueued; i++)
		assignment_values_free(e->queued[i].values,
				       e->queued[i].nvalues);
	free(e->queued);
	e->queued = NULL;
	e->nqueued = e->queued_cap = 0;
}

void trials_csv_cache_reset(struct trials_csv_cache *c)
{
	chunks_reset(&c->text);
	c->header_len = c->nrows = 0;
}

int trial_objective(const struct experiment *e, const struct trial *t,
		    double *value)
{
	int numeric = 0;

	if (!e->spec || !t->nsummaries)
		return -ENODATA;
	if (metric_summary_value(
		    &t->summaries[0],
		    spec_metric_strategy(e->spec, e->spec->objective.metric),
		    NULL, 0, value, &numeric))
		return -ENODATA;
	return numeric ? 0 : -ENODATA;
}

/* The index in t->summaries of metric `name`, or -1. */
static int metric_index(const struct experiment *e, const char *name)
{
	size_t i, n = e->parser ? metrics_parser_nmetrics(e->parser) : 0;

	for (i = 0; i < n; i++)
		if (!strcmp(metrics_parser_metric(e->parser, (int)i), name))
			return (int)i;
	return -1;
}

int trial_objective_values(const struct experiment *e, const struct trial *t,
			   double *out, const char **missing)
{
	size_t i, nobj = e->spec ? spec_objective_count(e->spec) : 0;
	const char *name;
	int idx, numeric;

	for (i = 0; i < nobj; i++) {
		name = spec_objective(e->spec, i, NULL);
		idx = metric_index(e, name);
		numeric = 0;
		if (idx < 0 || (size_t)idx >= t->nsummaries ||
		    metric_summary_value(&t->summaries[idx],
					 spec_metric_strategy(e->spec, name),
					 NULL, 0, &out[i], &numeric) ||
		    !numeric) {
			if (missing)
				*missing = name;
			return -ENODATA;
		}
	}
	return 0;
}

/* t's objectives as a loss (every one minimised) into loss[]. */
static int trial_loss(const struct experiment *e, const struct trial *t,
		      double *loss)
{
	size_t i, nobj = spec_objective_count(e->spec);
	int max;

	if (trial_objective_values(e, t, loss, NULL))
		return -ENODATA;
	for (i = 0; i < nobj; i++) {
		spec_objective(e->spec, i, &max);
		if (max)
			loss[i] = -loss[i];
	}
	return 0;
}

/* Offer t, which just succeeded, to the front. */
static void pareto_offer(struct experiment *e, const struct trial *t)
{
	double loss[KATIB_MAX_VALUES];

	if (!trial_loss(e, t, loss))
		pareto_front_add(&e->pareto, t->number, loss);
}

void experiment_pareto_rebuild(struct experiment *e)
{
	size_t i, nobj = e->spec ? spec_objective_count(e->spec) : 1;

	pareto_front_clear(&e->pareto);
	e->pareto.m = nobj;
	if (nobj < 2)
		return;
	for (i = 0; i < e->ntrials; i++)
		if (e->trials[i]->state == TRIAL_SUCCEEDED)
			pareto_offer(e, e->trials[i]);
}

static int better(const struct experiment *e, double a, double b)
{
	return e->spec->objective.maximize ? a > b : a < b;
}

static int counts_best(enum trial_state s)
{
	return s == TRIAL_SUCCEEDED || s == TRIAL_EARLY_STOPPED;
}

/* 1 if t's objective is text (DARTS's Best-Genotype), else 0. */
static int objective_is_text(const struct experiment *e, const struct trial *t)
{
	char buf[2];
	int numeric = 1;

	if (!e->spec || !t->nsummaries ||
	    metric_summary_value(
		    &t->summaries[0],
		    spec_metric_strategy(e->spec, e->spec->objective.metric),
		    buf, sizeof(buf), NULL, &numeric))
		return 0;
	return !numeric && buf[0];
}

/*
 * Whether best-eligible t should replace best as the optimal trial. As
 * Katib's status_util.go: a text objective makes the latest trial that
 * has one optimal (whatever the numeric ones); otherwise the better value.
 */
static int beats(const struct experiment *e, const struct trial *t,
		 const struct trial *best)
{
	double v, bv;
	int text = objective_is_text(e, t);

	if (!text && trial_objective(e, t, &v))
		return 0; /* no value */
	if (!best)
		return 1;
	if (objective_is_text(e, best))
		return text && t->number > best->number;
	if (text || trial_objective(e, best, &bv))
		return 1;
	return better(e, v, bv);
}

struct trial *experiment_best(struct experiment *e)
{
	struct trial *best = NULL;
	size_t i;

	if (!e->spec)
		return NULL;
	if (e->best_valid)
		return e->best;
	for (i = 0; i < e->ntrials; i++) {
		struct trial *t = e->trials[i];

		if (counts_best(t->state) && beats(e, t, best))
			best = t;
	}
	e->best = best;
	e->best_valid = 1;
	return best;
}

static int *count_slot(struct trial_counts *c, enum trial_state s)
{
	switch (s) {
	case TRIAL_PENDING: return &c->pending;
	case TRIAL_RUNNING: return &c->running;
	case TRIAL_SUCCEEDED: return &c->succeeded;
	case TRIAL_FAILED: return &c->failed;
	case TRIAL_KILLED: return &c->killed;
	case TRIAL_EARLY_STOPPED: return &c->early_stopped;
	default: return &c->metrics_unavailable;
	}
}

void experiment_counts(const struct experiment *e, struct trial_counts *c)
{
	*c = e->counts;
}

void experiment_status_message(const struct experiment *e, char *buf,
			       size_t size)
{
	const struct trial_counts *c = &e->counts;

	buf[0] = '\0';
	if (e->state != EXP_FAILED || strcmp(e->reason, "MaxFailedReached") ||
	    !e->spec)
		return;
	if (!c->metrics_unavailable) {
		snprintf(buf, size,
			 "%d trials failed, reaching "
			 "maxFailedTrialCount (%d)",
			 c->failed, e->spec->max_failed_trial_count);
		return;
	}
	snprintf(buf, size,
		 "%d trials failed and %d reported no objective "
		 "(MetricsUnavailable); maxFailedTrialCount (%d) counts both, "
		 "as "
		 "Katib does. A MetricsUnavailable trial's status message= "
		 "says what its collector expected",
		 c->failed, c->metrics_unavailable,
		 e->spec->max_failed_trial_count);
}

static int series_push(struct trial *t, double v)
{
	if (t->nseries == t->series_cap) {
		uint32_t cap = t->series_cap ? t->series_cap * 2 : 16;
		double *p = realloc(t->series, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->series = p;
		t->series_cap = cap;
	}
	t->series[t->nseries++] = v;
	return 0;
}

/* n bytes appended to x (NUL-terminated, doubling): 0 or -ENOMEM. */
static int text_append(struct trial_text *x, const char *p, size_t n)
{
	size_t cap = x->cap ? x->cap : 64;
	char *q;

	if ((size_t)x->len + n + 1 > UINT32_MAX)
		return -ENOMEM;
	while (cap < (size_t)x->len + n + 1)
		cap *= 2;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	if (cap != x->cap) {
		if (!(q = realloc(x->data, cap)))
			return -ENOMEM;
		x->data = q;
		x->cap = (uint32_t)cap;
	}
	memcpy(x->data + x->len, p, n);
	x->len += (uint32_t)n;
	x->data[x->len] = '\0';
	return 0;
}

int trial_record_observation(const struct experiment *e, struct trial *t,
			     const struct observation *o)
{
	struct strbuf row;
	const char *name;
	char ts[40], *end;
	double v;

	if (!e->parser || o->metric < 0 || (size_t)o->metric >= t->nsummaries)
		return 0;
	if (trial_unseal(t))
		return 0;
	name = metrics_parser_metric(e->parser, o->metric);
	metric_summary_add(&t->summaries[o->metric], o->time, o->value);
	format_rfc3339(o->time, ts, sizeof(ts));
	strbuf_init(&row);
	strbuf_printf(&row, "%s,", ts);
	strbuf_csv(&row, name);
	strbuf_append(&row, ",", 1);
	strbuf_csv(&row, o->value);
	strbuf_append(&row, "\n", 1);
	if (row.oom || text_append(&t->observations, row.data, row.len)) {
		strbuf_free(&row);
		return 0;
	}
	strbuf_free(&row);
	t->nobservations++;
	if (o->metric != 0)
		return 0;
	v = strtod(o->value, &end);
	if (end == o->value || *end || v != v)
		return 0;
	return series_push(t, v) ? 0 : 1;
}

int trial_command(const struct experiment *e, const struct trial *t,
		  struct strbuf *out)
{
	if (!t->command)
		return 0;
	if (!t->command_packed)
		return strbuf_puts(out, t->command);
	if (!e->command_ref)
		return -EINVAL;
	return textdelta_unpack(e->command_ref, strlen(e->command_ref),
				(const unsigned char *)t->command, out);
}

/*
 * t's script packed against e->command_ref (the first script packed
 * becomes it; the experiment owns it and frees it with its trials). The
 * packed form holds no pointer: it is read back against its experiment's
 * reference (trial_command). On failure t keeps its text.
 */
static void command_pack(struct experiment *e, struct trial *t)
{
	struct strbuf b = { 0 };
	char *p;

	if (!t->command || t->command_packed)
		return;
	if (!e->command_ref && !(e->command_ref = strdup(t->command)))
		return;
	if (textdelta_pack(e->command_ref, strlen(e->command_ref), t->command,
			   strlen(t->command), &b)) {
		strbuf_free(&b);
		return;
	}
	if ((p = arena_copy(&e->sealed, b.data, b.len))) {
		strbuf_free(&b);
		t->sealed |= SEALED_COMMAND;
	} else if (!(p = realloc(b.data, b.len))) { /* without the slack */
		strbuf_free(&b);
		return;
	}
	free(t->command);
	t->command = p;
	t->command_packed = 1;
}

/* x's text cut to its content (an ended trial's CSV grows no more):
 * moved into `arena` when it fits (1), else trimmed in place (0). */
static int text_seal(struct trial_text *x, struct arena *arena)
{
	char *p;

	if (!x->data)
		return 0;
	if ((p = arena_copy(arena, x->data, (size_t)x->len + 1))) {
		free(x->data);
		x->data = p;
		x->cap = 0;
		return 1;
	}
	if (x->cap == x->len + 1)
		return 0;
	p = realloc(x->data, (size_t)x->len + 1);
	if (p) {
		x->data = p;
		x->cap = x->len + 1;
	}
	return 0;
}

/* t's series without its growth slack, in `arena` when it fits (1). */
static int series_seal(struct trial *t, struct arena *arena)
{
	double *p;

	if (!t->series)
		return 0;
	if (t->nseries &&
	    (p = arena_copy(arena, t->series, t->nseries * sizeof(*p)))) {
		free(t->series);
		t->series = p;
		t->series_cap = t->nseries;
		return 1;
	}
	if (t->series_cap > t->nseries &&
	    (p = realloc(t->series,
			 (t->nseries ? t->nseries : 1) * sizeof(*p)))) {
		t->series = p;
		t->series_cap = t->nseries ? t->nseries : 1;
	}
	return 0;
}

/* t's metric summaries moved into `arena` when they fit (1). */
static int summaries_seal(struct trial *t, struct arena *arena)
{
	struct metric_summary *p;

	if (!t->summaries || !t->nsummaries ||
	    !(p = arena_copy(arena, t->summaries, t->nsummaries * sizeof(*p))))
		return 0;
	free(t->summaries); /* their long values move with them */
	t->summaries = p;
	return 1;
}

/* A heap copy of the n bytes at p, or NULL. */
static void *heap_copy(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

int trial_unseal(struct trial *t)
{
	void *p;

	if ((t->sealed & SEALED_OBSERVATIONS)) {
		if (!(p = heap_copy(t->observations.data,
				    (size_t)t->observations.len + 1)))
			return -ENOMEM;
		t->observations.data = p;
		t->observations.cap = t->observations.len + 1;
		t->sealed &= ~SEALED_OBSERVATIONS;
	}
	if ((t->sealed & SEALED_SERIES)) {
		if (!(p = heap_copy(t->series, t->nseries * sizeof(double))))
			return -ENOMEM;
		t->series = p;
		t->sealed &= ~SEALED_SERIES;
	}
	if ((t->sealed & SEALED_SUMMARIES)) {
		if (!(p = heap_copy(t->summaries,
				    t->nsummaries * sizeof(*t->summaries))))
			return -ENOMEM;
		t->summaries = p;
		t->sealed &= ~SEALED_SUMMARIES;
	}
	return 0; /* the arena keeps the old copies until the experiment */
}

/* (What an ended trial then costs: the head of this file.) */
void trial_compact(struct experiment *e, struct trial *t)
{
	if (!trial_state_is_terminal(t->state))
		return;
	/* its backend has let go of it (trial_finish compacts it again
	 * after the release) */
	if (t->live && t->live->run.pidfd < 0 && !t->live->run.priv &&
	    !t->live->tfevent)
		trial_live_free(t);
	command_pack(e, t);
	if (!(t->sealed & SEALED_OBSERVATIONS) &&
	    text_seal(&t->observations, &e->sealed))
		t->sealed |= SEALED_OBSERVATIONS;
	if (!(t->sealed & SEALED_SERIES) && series_seal(t, &e->sealed))
		t->sealed |= SEALED_SERIES;
	if (!(t->sealed & SEALED_SUMMARIES) && summaries_seal(t, &e->sealed))
		t->sealed |= SEALED_SUMMARIES;
}

static int grow_trials(struct trial ***v, size_t n, size_t *cap)
{
	size_t c = *cap ? *cap * 2 : 16;
	struct trial **p;

	if (n < *cap)
		return 0;
	p = realloc(*v, c * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

int experiment_append_trial(struct experiment *e, struct trial *t)
{
	int active = !trial_state_is_terminal(t->state);

	if (grow_trials(&e->trials, e->ntrials, &e->cap) ||
	    (active && grow_trials(&e->active, e->nactive, &e->active_cap)))
		return -ENOMEM;
	if (active)
		e->active[e->nactive++] = t;
	e->trials[e->ntrials++] = t;
	trial_compact(e, t); /* one loaded that had ended */
	e->counts.total++;
	(*count_slot(&e->counts, t->state))++;
	if (counts_best(t->state)) /* a new trial (Pending) cannot be best */
		e->best_valid = 0;
	return 0;
}

size_t experiment_active(struct experiment *e)
{
	size_t i, j = 0;

	for (i = 0; i < e->nactive; i++)
		if (!trial_state_is_terminal(e->active[i]->state))
			e->active[j++] = e->active[i];
	e->nactive = j;
	return j;
}

/* A multi-objective entry's objective vector (t->objectives), or NULL. */
static const double *history_objectives(const struct experiment *e,
					struct trial *t)
{
	size_t nobj = spec_objective_count(e->spec);

	if (nobj < 2 ||
	    (t->state != TRIAL_SUCCEEDED && t->state != TRIAL_EARLY_STOPPED))
		return NULL;
	if (!t->objectives && !(t->objectives = calloc(nobj, sizeof(double))))
		return NULL;
	return trial_objective_values(e, t, t->objectives, NULL)
		       ? NULL
		       : t->objectives;
}

static void history_fill(const struct experiment *e, struct trial *t,
			 struct history_trial *h)
{
	h->values = t->values;
	h->series = t->series;
	h->nseries = t->nseries;
	h->number = t->number;
	switch (t->state) {
	case TRIAL_PENDING:
	case TRIAL_RUNNING: h->state = HISTORY_PENDING; break;
	case TRIAL_SUCCEEDED: h->state = HISTORY_SUCCEEDED; break;
	case TRIAL_EARLY_STOPPED: h->state = HISTORY_EARLY_STOPPED; break;
	default: h->state = HISTORY_FAILED;
	}
	h->has_objective = !trial_objective(e, t, &h->objective);
	h->objectives = history_objectives(e, t);
}

static int history_reserve(struct experiment *e)
{
	size_t cap = e->history_cap ? e->history_cap : 16;
	struct history_trial *h;

	while (cap < e->ntrials + 1) /* one zeroed entry past the end */
		cap *= 2;
	if (cap == e->history_cap)
		return 0;
	h = realloc(e->history, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	/* zeroed as entries are added (experiment_history), not here: the
	 * capacity past them stays untouched, so not resident */
	e->history = h;
	e->history_cap = cap;
	return 0;
}

/* t's assignment into e->used, as spec->nparams values (missing ones
 * read as NULL, as a trial loaded with fewer values always did): the
 * trial's own values, which live as long as the set (not a copy), unless
 * it has fewer. */
static int history_add_used(struct experiment *e, const struct trial *t)
{
	size_t i, np = e->spec->nparams;
	char **v;
	int rc;

	if (!t->values)
		return 0;
	if (t->nvalues >= np)
		return assignment_set_borrow(e->used, t->values);
	v = calloc(np, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->nvalues; i++)
		v[i] = t->values[i];
	rc = assignment_set_add(e->used, v);
	free(v);
	return rc;
}

int experiment_history(struct experiment *e, struct search_history *out)
{
	size_t i;

	if (!e->used)
		e->used = assignment_set_new(e->spec->nparams);
	if (!e->used || history_reserve(e))
		return -ENOMEM;
	for (i = e->nhistory; i < e->ntrials; i++) {
		struct trial *t = e->trials[i];

		if (history_add_used(e, t) < 0)
			return -ENOMEM;
		memset(&e->history[i], 0, sizeof(e->history[i]));
		history_fill(e, t, &e->history[i]);
		e->nhistory = i + 1;
	}
	memset(&e->history[e->ntrials], 0, sizeof(e->history[0]));
	/* not compacted here: callers may be walking e->active */
	for (i = 0; i < e->nactive; i++)
		history_fill(e, e->active[i],
			     &e->history[e->active[i]->number - 1]);
	out->trials = e->history;
	out->ntrials = e->ntrials;
	return 0;
}

void experiment_caches_reset(struct experiment *e)
{
	trials_csv_cache_reset(&e->csv);
	free(e->history);
	e->history = NULL;
	e->nhistory = e->history_cap = 0;
	assignment_set_free(e->used);
	e->used = NULL;
}

void trial_set_state(struct experiment *e, struct trial *t, enum trial_state s)
{
	enum trial_state old = t->state;

	(*count_slot(&e->counts, t->state))--;
	(*count_slot(&e->counts, s))++;
	if (e->best == t && !counts_best(s))
		e->best_valid = 0;
	t->state = s;
	trial_compact(e, t); /* before the history points at its series */
	if ((size_t)t->number <= e->nhistory) /* it may leave e->active */
		history_fill(e, t, &e->history[t->number - 1]);
	if (e->pareto.m > 1 && s == TRIAL_SUCCEEDED && old != s)
		pareto_offer(e, t);
	else if (e->pareto.m > 1 &&
		 pareto_front_contains(&e->pareto, t->number))
		experiment_pareto_rebuild(e); /* it left the front */
	if (e->best_valid && counts_best(s) && beats(e, t, e->best))
		e->best = t;
}

size_t trial_observations_size(const struct trial *t)
{
	return strlen(OBSERVATIONS_HEADER) + t->observations.len;
}

ssize_t trial_observations_read(const struct trial *t, char *buf, size_t n,
				off_t off)
{
	size_t hlen = strlen(OBSERVATIONS_HEADER), pos, done = 0, take;

	if (off < 0)
		return -EINVAL;
	pos = (size_t)off;
	if (pos < hlen) {
		take = hlen - pos < n ? hlen - pos : n;
		memcpy(buf, &OBSERVATIONS_HEADER[pos], take);
		done = take;
		pos += take;
	}
	if (done < n && pos - hlen < t->observations.len) {
		take = t->observations.len - (pos - hlen);
		if (take > n - done)
			take = n - done;
		memcpy(buf + done, t->observations.data + (pos - hlen), take);
		done += take;
	}
	return (ssize_t)done;
}

struct trial *experiment_trial(const struct experiment *e, int number)
{
	/* trials are numbered densely from 1 in creation order */
	if (number < 1 || (size_t)number > e->ntrials)
		return NULL;
	return e->trials[number - 1];
}
