/*
 * render.c - the text of every snapshot file, rendered from the model under
 * its lock (core/views/render.h). Formats are the ABI documented in the
 * README: key=value files are valid sh, trials.csv is RFC 4180 CSV,
 * status.json follows Katib's ExperimentStatus field names.
 *
 * Owns nothing past a call: the text rendered is the caller's; trials.csv's
 * kept rows are the experiment's (model.h).
 */
#include "views/render.h"
#include "engine/queue.h"
#include "views/plot.h"
#include "engine/importance_task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static int is_bare(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ"
			    "0123456789._+-:/@%,",
			    *s))
			return 0;
	return 1;
}

/* key=value, the value bare when it is a plain token, else sh-quoted. */
static void kv(struct strbuf *b, const char *key, const char *value)
{
	strbuf_printf(b, "%s=", key);
	if (value && is_bare(value))
		strbuf_append(b, value, strlen(value));
	else if (value && *value)
		strbuf_shell_quote(b, value);
	strbuf_append(b, "\n", 1);
}

static void kv_int(struct strbuf *b, const char *key, long v)
{
	strbuf_printf(b, "%s=%ld\n", key, v);
}

static void kv_time(struct strbuf *b, const char *key, double t)
{
	char ts[40] = "";

	if (t > 0)
		format_rfc3339(t, ts, sizeof(ts));
	kv(b, key, ts);
}

/* The value of metric i of t under its strategy, or "" */
static void metric_text(const struct experiment *e, const struct trial *t,
			size_t i, char *buf, size_t size)
{
	const char *name = metrics_parser_metric(e->parser, (int)i);
	double v;
	int numeric;

	buf[0] = '\0';
	if (i >= t->nsummaries ||
	    metric_summary_value(&t->summaries[i],
				 spec_metric_strategy(e->spec, name), buf, size,
				 &v, &numeric))
		buf[0] = '\0';
}

static size_t nmetrics(const struct experiment *e)
{
	return e->parser ? metrics_parser_nmetrics(e->parser) : 0;
}

static void add_duration(const struct trial *t, double *sum, int *n)
{
	if (trial_state_is_terminal(t->state) && t->started > 0 &&
	    t->finished >= t->started) {
		*sum += t->finished - t->started;
		(*n)++;
	}
}

/* Sum the durations of the ended trials at the head of e->trials once, and
 * the earliest end among them: an ended trial's times never change. In
 * trial order, as the sum always was. */
static void durations_update(struct experiment *e)
{
	const struct trial *t;

	while (e->durations.done < e->ntrials &&
	       trial_state_is_terminal(e->trials[e->durations.done]->state)) {
		t = e->trials[e->durations.done++];
		add_duration(t, &e->durations.sum, &e->durations.n);
		if (t->finished > 0 && (e->durations.first_end <= 0 ||
					t->finished < e->durations.first_end))
			e->durations.first_end = t->finished;
	}
}

/* The starts eta_seconds' rate is taken over: at least ETA_MIN_STARTS and
 * ETA_MIN_SECONDS of them when there are, at most ETA_MAX_STARTS. */
#define ETA_MIN_STARTS	16
#define ETA_MIN_SECONDS 5.0
#define ETA_MAX_STARTS	1024

/*
 * The rate trials start at once the experiment is under way: the newest
 * starts after the first trial ended (the first wave starts at once), over
 * the time from the oldest of them until now. Whatever limits it shows in
 * it: the trials' length, parallelTrialCount, devices, the machine's load,
 * the daemon. Walks back from the newest trial (starts are in creation
 * order), over ETA_MAX_STARTS at most. 0 while fewer than 5 have started
 * so.
 */
static double start_rate(const struct experiment *e, double first_end,
			 double now)
{
	double from = 0;
	size_t i = e->ntrials;
	int seen = 0;

	if (first_end <= 0)
		return 0;
	while (i-- > 0 && seen < ETA_MAX_STARTS &&
	       (seen <= ETA_MIN_STARTS || now - from < ETA_MIN_SECONDS)) {
		const struct trial *t = e->trials[i];

		if (t->started < first_end)
			continue;
		from = t->started;
		seen++;
	}
	if (seen < 5 || now <= from)
		return 0;
	return (seen - 1) / (now - from);
}

/*
 * eta_seconds: while running, once a trial has ended. With d the mean
 * length of the ended trials: the trials not yet started at the rate trials
 * start (start_rate()), the last one then taking d; once all have started,
 * until the last running one has had d. Before the rate is known, the
 * trials still to finish in waves of the trials running at once (at most
 * parallelTrialCount) times d. In the steady state of trials of length d,
 * parallelTrialCount at a time and nothing else in the way, all three
 * agree; under load, or with fewer at once, the rate says how long it
 * really takes.
 */
static void render_eta(struct experiment *e, const struct trial_counts *c,
		       struct strbuf *b)
{
	const struct experiment_spec *s = e->spec;
	double sum, d, left, rate, now = now_epoch(), first_end, last = 0;
	int n, todo, unstarted, waves, at_once;
	size_t i;

	if (e->state != EXP_RUNNING)
		return;
	durations_update(e);
	sum = e->durations.sum;
	n = e->durations.n;
	first_end = e->durations.first_end;
	for (i = e->durations.done; i < e->ntrials; i++) {
		const struct trial *t = e->trials[i];

		add_duration(t, &sum, &n);
		if (trial_state_is_terminal(t->state) && t->finished > 0 &&
		    (first_end <= 0 || t->finished < first_end))
			first_end = t->finished;
		if (t->state == TRIAL_RUNNING && t->started > last)
			last = t->started;
	}
	todo = s->max_trial_count - (c->total - c->pending - c->running);
	if (!n || todo <= 0)
		return;
	d = sum / n;
	unstarted = todo - c->running;
	rate = start_rate(e, first_end, now);
	if (unstarted <= 0) {
		left = last + d - now;
		if (left < 0)
			left = 0;
	} else if (rate > 0) {
		left = unstarted / rate + d;
	} else {
		at_once = c->running > 0 && c->running < s->parallel_trial_count
				  ? c->running
				  : s->parallel_trial_count;
		waves = (todo + at_once - 1) / at_once;
		left = waves * d;
	}
	strbuf_printf(b, "eta_seconds=%.0f\n", left);
}

static void render_status(struct katib *k, struct experiment *e,
			  struct strbuf *b)
{
	struct trial_counts c;
	struct trial *best = experiment_best(e);
	char val[METRIC_VALUE_MAX] = "", msg[512];
	double v;

	experiment_counts(e, &c);
	kv(b, "state", experiment_state_name(e->state));
	kv(b, "reason", e->reason);
	experiment_status_message(e, msg, sizeof(msg));
	if (msg[0])
		kv(b, "message", msg);
	kv_int(b, "trials", c.total);
	kv_int(b, "pending", c.pending);
	kv_int(b, "running", c.running);
	kv_int(b, "succeeded", c.succeeded);
	kv_int(b, "failed", c.failed);
	kv_int(b, "killed", c.killed);
	kv_int(b, "early_stopped", c.early_stopped);
	kv_int(b, "metrics_unavailable", c.metrics_unavailable);
	if (e->spec && e->spec->nwarm_start) /* history, not trials */
		kv_int(b, "warm_start", (long)e->nwarm);
	if (e->spec && e->spec->max_trial_count >= 0) {
		strbuf_printf(b, "progress=%d/%d\n",
			      c.total - c.pending - c.running,
			      e->spec->max_trial_count);
		render_eta(e, &c, b);
	}
	if (best && !trial_objective(e, best, &v))
		format_double(v, val, sizeof(val));
	else if (best) /* a text objective (DARTS's Best-Genotype) */
		metric_text(e, best, 0, val, sizeof(val));
	if (best)
		kv_int(b, "best_trial", best->number);
	else
		kv(b, "best_trial", "");
	kv(b, "best_objective", val);
	if (e->spec && spec_objective_count(e->spec) > 1)
		kv_int(b, "pareto_size", (long)e->pareto.n);
	kv_time(b, "start_time", e->started);
	kv_time(b, "completion_time", e->finished);
	if (e->error)
		kv(b, "error", e->error);
	if (k->store_error)
		kv(b, "state_error", k->store_message);
}

static void render_best(struct experiment *e, struct strbuf *b)
{
	struct trial *t = experiment_best(e);
	char val[METRIC_VALUE_MAX];
	size_t i;

	if (!t) {
		strbuf_printf(b, "# no trial has an objective value yet\n");
		return;
	}
	kv_int(b, "trial", t->number);
	kv(b, "name", t->name);
	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++)
		kv(b, e->value_names[i], t->values[i]);
	for (i = 0; i < nmetrics(e); i++) {
		metric_text(e, t, i, val, sizeof(val));
		kv(b, metrics_parser_metric(e->parser, (int)i), val);
	}
}

static int csv_header(const struct experiment *e, struct strbuf *b)
{
	size_t j;
	int rc = strbuf_append(b, "trial,state", 11);

	for (j = 0; j < e->nvalue_names; j++) {
		rc |= strbuf_append(b, ",", 1);
		rc |= strbuf_csv(b, e->value_names[j]);
	}
	for (j = 0; j < nmetrics(e); j++) {
		rc |= strbuf_append(b, ",", 1);
		rc |= strbuf_csv(b, metrics_parser_metric(e->parser, (int)j));
	}
	rc |= strbuf_append(b, "\n", 1);
	return rc ? -ENOMEM : 0;
}

static int csv_row(const struct experiment *e, const struct trial *t,
		   struct strbuf *b)
{
	char val[METRIC_VALUE_MAX];
	size_t j;
	int rc = strbuf_printf(b, "%d,%s", t->number,
			       trial_state_name(t->state));

	for (j = 0; j < e->nvalue_names; j++) {
		rc |= strbuf_append(b, ",", 1);
		rc |= strbuf_csv(b, j < t->nvalues ? t->values[j] : "");
	}
	for (j = 0; j < nmetrics(e); j++) {
		metric_text(e, t, j, val, sizeof(val));
		rc |= strbuf_append(b, ",", 1);
		rc |= strbuf_csv(b, val);
	}
	rc |= strbuf_append(b, "\n", 1);
	return rc ? -ENOMEM : 0;
}

/*
 * Bring e->csv up to date: start again when the header changed, then
 * append the rows of the trials that ended, in creation order, up to the
 * first that has not (an ended trial's row never changes again). A row is
 * rendered apart and appended whole, so on ENOMEM the cache keeps the
 * rows it had, each whole (open files hold the chunks they read).
 */
static int trials_csv_update(struct experiment *e)
{
	struct trials_csv_cache *c = &e->csv;
	struct strbuf h, row;
	int rc;

	strbuf_init(&h);
	strbuf_init(&row);
	rc = csv_header(e, &h);
	if (rc)
		goto out; /* the cache is as it was */
	if (c->header_len != h.len ||
	    !chunks_begin_with(&c->text, h.data, h.len)) {
		trials_csv_cache_reset(c);
		rc = chunks_append(&c->text, h.data, h.len);
		if (rc)
			goto out;
		c->header_len = h.len;
	}
	while (c->nrows < e->ntrials &&
	       trial_state_is_terminal(e->trials[c->nrows]->state)) {
		row.len = 0;
		rc = csv_row(e, e->trials[c->nrows], &row);
		if (!rc)
			rc = chunks_append(&c->text, row.data, row.len);
		if (rc)
			break;
		c->nrows++;
	}
out:
	strbuf_free(&row);
	strbuf_free(&h);
	return rc;
}

/* The rows after the cached ones: trials still pending or running, and
 * those that ended after one of them. */
static int csv_tail(const struct experiment *e, struct strbuf *b)
{
	size_t i;
	int rc = 0;

	for (i = e->csv.nrows; !rc && i < e->ntrials; i++)
		rc = csv_row(e, e->trials[i], b);
	return rc;
}

static int render_trials_csv(struct experiment *e, struct strbuf *b)
{
	const struct chunks *c = &e->csv.text;
	int rc = trials_csv_update(e);

	if (!rc)
		rc = strbuf_reserve(b, b->len + c->len);
	if (!rc) {
		b->len += chunks_read(c, b->data + b->len, c->len, 0);
		b->data[b->len] = '\0';
	}
	return rc ? rc : csv_tail(e, b);
}

int render_trials_csv_size_locked(struct experiment *e, size_t *size)
{
	struct strbuf tail;
	int rc = trials_csv_update(e);

	strbuf_init(&tail);
	if (!rc)
		rc = csv_tail(e, &tail);
	*size = e->csv.text.len + tail.len;
	strbuf_free(&tail);
	return rc;
}

int render_trials_csv_text_locked(struct experiment *e, struct katib_text **out)
{
	struct strbuf tail;
	int rc = trials_csv_update(e);

	*out = NULL;
	strbuf_init(&tail);
	if (!rc)
		rc = csv_tail(e, &tail);
	if (!rc)
		*out = chunks_snapshot(&e->csv.text, tail.data, tail.len);
	if (!*out) {
		strbuf_free(&tail);
		return rc ? rc : -ENOMEM;
	}
	return 0; /* the snapshot took tail.data */
}

/* ---- pareto.csv ---- */

/* The value of objective i of t as trials.csv writes it, or "". */
static void objective_text(const struct experiment *e, const struct trial *t,
			   size_t i, char *buf, size_t size)
{
	const char *name = spec_objective(e->spec, i, NULL);
	size_t j;

	buf[0] = '\0';
	for (j = 0; j < nmetrics(e); j++)
		if (!strcmp(metrics_parser_metric(e->parser, (int)j), name))
			metric_text(e, t, j, buf, size);
}

/* trial,<values...>,<objectives...>: a row per trial on the front (kept by
 * the controller as trials end, core/engine/model.c), by trial number. */
static int render_pareto_csv(const struct experiment *e, struct strbuf *b)
{
	size_t nobj = spec_objective_count(e->spec), i, j;
	char val[METRIC_VALUE_MAX];
	const struct trial *t;
	int rc = strbuf_append(b, "trial", 5);

	for (j = 0; j < e->nvalue_names; j++) {
		rc |= strbuf_append(b, ",", 1);
		rc |= strbuf_csv(b, e->value_names[j]);
	}
	for (j = 0; j < nobj; j++) {
		rc |= strbuf_append(b, ",", 1);
		rc |= strbuf_csv(b, spec_objective(e->spec, j, NULL));
	}
	rc |= strbuf_append(b, "\n", 1);
	for (i = 0; i < e->pareto.n && !rc; i++) {
		t = experiment_trial(e, e->pareto.ids[i]);
		if (!t)
			continue;
		rc |= strbuf_printf(b, "%d", t->number);
		for (j = 0; j < e->nvalue_names; j++) {
			rc |= strbuf_append(b, ",", 1);
			rc |= strbuf_csv(b, j < t->nvalues ? t->values[j] : "");
		}
		for (j = 0; j < nobj; j++) {
			objective_text(e, t, j, val, sizeof(val));
			rc |= strbuf_append(b, ",", 1);
			rc |= strbuf_csv(b, val);
		}
		rc |= strbuf_append(b, "\n", 1);
	}
	return rc ? -ENOMEM : 0;
}

static void render_control(struct experiment *e, struct strbuf *b)
{
	const char *accepts = "";

	switch (e->state) {
	case EXP_RUNNING: accepts = "pause stop"; break;
	case EXP_PAUSED: accepts = "resume stop"; break;
	default: break;
	}
	kv(b, "state", experiment_state_name(e->state));
	kv(b, "accepts", accepts);
}

/* ---- status.json ---- */

/*
 * The JSON files are built with cJSON, whose calls fail quietly (a NULL
 * parent or item is skipped): each item goes through jadd(), which counts
 * a failure in *oom and frees an item it could not attach, so that a
 * document missing a part is never rendered.
 */
static cJSON *jadd(int *oom, cJSON *parent, const char *key, cJSON *item)
{
	if (!item || !parent ||
	    !(key ? cJSON_AddItemToObject(parent, key, item)
		  : cJSON_AddItemToArray(parent, item))) {
		cJSON_Delete(item);
		*oom = 1;
		return NULL;
	}
	return item;
}

/* key: s (nothing for a NULL s, as cJSON_AddStringToObject does). */
static void jstr(int *oom, cJSON *o, const char *key, const char *s)
{
	if (s)
		jadd(oom, o, key, cJSON_CreateString(s));
}

static void jnum(int *oom, cJSON *o, const char *key, double v)
{
	jadd(oom, o, key, cJSON_CreateNumber(v));
}

static cJSON *assignments_json(const struct experiment *e,
			       const struct trial *t, int *oom)
{
	cJSON *a = cJSON_CreateArray(), *o;
	size_t i;

	for (i = 0; a && i < e->nvalue_names && i < t->nvalues; i++) {
		o = jadd(oom, a, NULL, cJSON_CreateObject());
		jstr(oom, o, "name", e->value_names[i]);
		jstr(oom, o, "value", t->values[i]);
	}
	return a;
}

static void add_metric_json(cJSON *ms, const char *name,
			    const struct metric_summary *s, int *oom)
{
	cJSON *m = jadd(oom, ms, NULL, cJSON_CreateObject());
	char buf[METRIC_VALUE_MAX];

	jstr(oom, m, "name", name);
	if (s->numeric) {
		format_double(s->min, buf, sizeof(buf));
		jstr(oom, m, "min", buf);
		format_double(s->max, buf, sizeof(buf));
		jstr(oom, m, "max", buf);
	} else {
		jstr(oom, m, "min", "unavailable");
		jstr(oom, m, "max", "unavailable");
	}
	jstr(oom, m, "latest",
	     s->count ? metric_summary_latest(s) : "unavailable");
}

static cJSON *observation_json(const struct experiment *e,
			       const struct trial *t, int *oom)
{
	cJSON *obs = cJSON_CreateObject();
	cJSON *ms = jadd(oom, obs, "metrics", cJSON_CreateArray());
	size_t i;

	for (i = 0; ms && i < nmetrics(e) && i < t->nsummaries; i++)
		add_metric_json(ms, metrics_parser_metric(e->parser, (int)i),
				&t->summaries[i], oom);
	return obs;
}

static void add_time(cJSON *o, const char *key, double t, int *oom)
{
	char ts[40];

	if (t <= 0)
		return;
	format_rfc3339(t, ts, sizeof(ts));
	jstr(oom, o, key, ts);
}

static void add_condition(cJSON *conds, const char *type, int on,
			  const char *reason, int *oom)
{
	cJSON *c = jadd(oom, conds, NULL, cJSON_CreateObject());

	jstr(oom, c, "type", type);
	jstr(oom, c, "status", on ? "True" : "False");
	jstr(oom, c, "reason", reason);
}

static void add_trial_lists(cJSON *root, const struct experiment *e, int *oom)
{
	static const char *const keys[] = {
		[TRIAL_PENDING] = "pendingTrialList",
		[TRIAL_RUNNING] = "runningTrialList",
		[TRIAL_SUCCEEDED] = "succeededTrialList",
		[TRIAL_FAILED] = "failedTrialList",
		[TRIAL_KILLED] = "killedTrialList",
		[TRIAL_EARLY_STOPPED] = "earlyStoppedTrialList",
		[TRIAL_METRICS_UNAVAILABLE] = "metricsUnavailableTrialList",
	};
	cJSON *lists[sizeof(keys) / sizeof(keys[0])];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		lists[i] = jadd(oom, root, keys[i], cJSON_CreateArray());
	for (i = 0; !*oom && i < e->ntrials; i++)
		jadd(oom, lists[e->trials[i]->state], NULL,
		     cJSON_CreateString(e->trials[i]->name));
}

/* A trial as currentOptimalTrial shows it, under `key` of o (NULL: an
 * item of the array o); name_key names its trial name. */
static void add_trial_json(cJSON *o, const char *key, const char *name_key,
			   const struct experiment *e, const struct trial *t,
			   int *oom)
{
	cJSON *j = jadd(oom, o, key, cJSON_CreateObject());

	jstr(oom, j, name_key, t->name);
	jnum(oom, j, "trial", t->number);
	jadd(oom, j, "parameterAssignments", assignments_json(e, t, oom));
	jadd(oom, j, "observation", observation_json(e, t, oom));
}

/* paretoOptimalTrials: each trial of the front as currentOptimalTrial
 * shows the best one (a katibfs addition; Katib has one objective). */
static void add_pareto_trials(cJSON *root, const struct experiment *e, int *oom)
{
	cJSON *a = jadd(oom, root, "paretoOptimalTrials", cJSON_CreateArray());
	const struct trial *t;
	size_t i;

	for (i = 0; a && i < e->pareto.n; i++) {
		t = experiment_trial(e, e->pareto.ids[i]);
		if (t)
			add_trial_json(a, NULL, "trialName", e, t, oom);
	}
}

/* j as indented JSON and a newline, or -ENOMEM (oom: a part of j is
 * missing). */
static int append_json(struct strbuf *b, const cJSON *j, int oom)
{
	char *txt = oom || !j ? NULL : cJSON_Print(j);
	int rc = txt ? strbuf_puts(b, txt) : -ENOMEM;

	if (!rc)
		rc = strbuf_append(b, "\n", 1);
	cJSON_free(txt);
	return rc;
}

static void add_counts(cJSON *root, const struct trial_counts *c, int *oom)
{
	jnum(oom, root, "trials", c->total);
	jnum(oom, root, "trialsPending", c->pending);
	jnum(oom, root, "trialsRunning", c->running);
	jnum(oom, root, "trialsSucceeded", c->succeeded);
	jnum(oom, root, "trialsFailed", c->failed);
	jnum(oom, root, "trialsKilled", c->killed);
	jnum(oom, root, "trialsEarlyStopped", c->early_stopped);
	jnum(oom, root, "trialMetricsUnavailable", c->metrics_unavailable);
}

static int render_status_json(struct experiment *e, struct strbuf *b)
{
	cJSON *root = cJSON_CreateObject(), *conds;
	struct trial *best = experiment_best(e);
	struct trial_counts c;
	int oom = 0, rc;

	experiment_counts(e, &c);
	jstr(&oom, root, "name", e->name);
	jstr(&oom, root, "state", experiment_state_name(e->state));
	jstr(&oom, root, "reason", e->reason);
	jstr(&oom, root, "error", e->error);
	add_time(root, "startTime", e->started, &oom);
	add_time(root, "completionTime", e->finished, &oom);
	conds = jadd(&oom, root, "conditions", cJSON_CreateArray());
	add_condition(conds, "Created", 1, "ExperimentCreated", &oom);
	add_condition(conds, "Running",
		      e->state == EXP_RUNNING || e->state == EXP_PAUSED,
		      e->reason, &oom);
	if (e->state == EXP_SUCCEEDED)
		add_condition(conds, "Succeeded", 1, e->reason, &oom);
	if (e->state == EXP_FAILED || e->state == EXP_STOPPED)
		add_condition(conds, "Failed", 1, e->reason, &oom);
	add_counts(root, &c, &oom);
	if (best)
		add_trial_json(root, "currentOptimalTrial", "bestTrialName", e,
			       best, &oom);
	if (e->spec && spec_objective_count(e->spec) > 1)
		add_pareto_trials(root, e, &oom);
	if (e->spec)
		add_trial_lists(root, e, &oom);
	rc = append_json(b, root, oom);
	cJSON_Delete(root);
	return rc;
}

/* ---- trial files ---- */

static void render_params(struct experiment *e, struct trial *t,
			  struct strbuf *b)
{
	size_t i;

	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++)
		kv(b, e->value_names[i], t->values[i]);
}

static int render_params_json(struct experiment *e, struct trial *t,
			      struct strbuf *b)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;
	int oom = 0, rc;

	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++)
		jstr(&oom, o, e->value_names[i], t->values[i]);
	rc = append_json(b, o, oom);
	cJSON_Delete(o);
	return rc;
}

static void render_trial_metrics(struct experiment *e, struct trial *t,
				 struct strbuf *b)
{
	char val[METRIC_VALUE_MAX];
	size_t i;

	for (i = 0; i < nmetrics(e); i++) {
		metric_text(e, t, i, val, sizeof(val));
		if (val[0])
			kv(b, metrics_parser_metric(e->parser, (int)i), val);
	}
}

static void render_trial_status(struct trial *t, struct strbuf *b)
{
	kv(b, "state", trial_state_name(t->state));
	kv(b, "reason", trial_reason(t));
	kv(b, "name", t->name);
	if (t->exit_code >= 0)
		kv_int(b, "exit_code", t->exit_code);
	else
		kv(b, "exit_code", "");
	if (t->term_signal)
		kv_int(b, "signal", t->term_signal);
	kv_time(b, "start_time", t->started);
	kv_time(b, "end_time", t->finished);
	kv_int(b, "observations", (long)t->nobservations);
	if (t->message)
		kv(b, "message", t->message);
}

static void render_trial_control(struct trial *t, struct strbuf *b)
{
	kv(b, "state", trial_state_name(t->state));
	kv(b, "accepts", trial_state_is_terminal(t->state) ? "" : "kill");
}

static void render_spec(struct experiment *e, struct strbuf *b)
{
	const char *s = e->spec_yaml;

	if (e->state == EXP_INVALID || !s)
		s = e->raw_spec;
	if (s)
		strbuf_append(b, s, strlen(s));
}

/*
 * The text of f, whole, or -ENOMEM and nothing: the key=value renderers
 * append without checking each call, and b's oom flag (strbuf_finish)
 * says whether any append failed; the others return their failure.
 */
int render_file_locked(struct katib *k, struct experiment *e, struct trial *t,
		       enum kfile f, char **out, size_t *len)
{
	struct strbuf b;
	int rc = 0;

	strbuf_init(&b);
	switch (f) {
	case KFILE_SPEC: render_spec(e, &b); break;
	case KFILE_STATUS: render_status(k, e, &b); break;
	case KFILE_STATUS_JSON: rc = render_status_json(e, &b); break;
	case KFILE_CONTROL: render_control(e, &b); break;
	case KFILE_BEST: render_best(e, &b); break;
	case KFILE_IMPORTANCE: rc = importance_task_render_locked(e, &b); break;
	case KFILE_TRIALS_CSV: rc = render_trials_csv(e, &b); break;
	case KFILE_T_PARAMS: render_params(e, t, &b); break;
	case KFILE_T_PARAMS_JSON: rc = render_params_json(e, t, &b); break;
	case KFILE_T_METRICS: render_trial_metrics(e, t, &b); break;
	case KFILE_T_STATUS: render_trial_status(t, &b); break;
	case KFILE_T_SPEC: rc = trial_command(e, t, &b); break;
	case KFILE_T_CONTROL: render_trial_control(t, &b); break;
	case KFILE_QUEUE: queue_render_locked(e, &b); break;
	case KFILE_PARETO_CSV: rc = render_pareto_csv(e, &b); break;
	case KFILE_EVENTS:
		rc = textlog_append_to(&e->events_sealed, &e->events, &b);
		break;
	case KFILE_T_OBSERVATIONS:
		strbuf_puts(&b, OBSERVATIONS_HEADER);
		if (t->observations.len)
			strbuf_append(&b, t->observations.data,
				      t->observations.len);
		break;
	default: return -EINVAL;
	}
	*out = rc ? NULL : strbuf_finish(&b, len);
	if (*out)
		return 0;
	strbuf_free(&b);
	*len = 0;
	return -ENOMEM;
}

char *render_readme(void)
{
	static const char text[] =
		"katibfs: Kubeflow Katib as a filesystem.\n"
		"\n"
		"  mkdir NAME                  create an experiment\n"
		"  cp exp.yaml NAME/spec.yaml  start it (a Katib v1beta1 "
		"Experiment)\n"
		"  cat NAME/status             state, counts, best trial\n"
		"  cat NAME/trials.csv         every trial: params, metrics\n"
		"  tail -f NAME/events         what happens, as it happens\n"
		"  echo pause > NAME/control   pause | resume | stop\n"
		"  NAME/trials/N/              params, metrics, log, status, "
		"spec, control (kill)\n"
		"  rmdir NAME                  delete a finished or stopped "
		"experiment\n"
		"  tail -f events              this mount: start, stop, "
		"trials re-adopted,\n"
		"                              rejected mkdir names\n"
		"\n"
		"NAME (as Kubernetes wants it):\n"
		"  " EXPERIMENT_NAME_RULE ".\n"
		"\n"
		"See `man katibfs` or the README of the katibfs sources.\n";

	return strdup(text);
}
