/*
 * render.c - the text of every snapshot file, rendered from the model under
 * its lock (core/views/render.h). Formats are the ABI documented in the
 * README: key=value files are valid sh, trials.csv is RFC 4180 CSV,
 * status.json follows Katib's ExperimentStatus field names.
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

/* Sum the durations of the ended trials at the head of e->trials once: an
 * ended trial's times never change. In trial order, as the sum always was. */
static void durations_update(struct experiment *e)
{
	while (e->durations.done < e->ntrials &&
	       trial_state_is_terminal(e->trials[e->durations.done]->state))
		add_duration(e->trials[e->durations.done++], &e->durations.sum,
			     &e->durations.n);
}

/*
 * eta_seconds: the trials still to finish, in waves of parallelTrialCount,
 * times the mean duration of the finished ones. Only while running and
 * once something has finished.
 */
static void render_eta(struct experiment *e, const struct trial_counts *c,
		       struct strbuf *b)
{
	const struct experiment_spec *s = e->spec;
	double sum, left;
	int n, todo;
	size_t i;

	if (e->state != EXP_RUNNING)
		return;
	durations_update(e);
	sum = e->durations.sum;
	n = e->durations.n;
	for (i = e->durations.done; i < e->ntrials; i++)
		add_duration(e->trials[i], &sum, &n);
	todo = s->max_trial_count - (c->total - c->pending - c->running);
	if (!n || todo <= 0)
		return;
	left = (double)((todo + s->parallel_trial_count - 1) /
			s->parallel_trial_count) *
	       (sum / n);
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
 * first that has not (an ended trial's row never changes again).
 */
static int trials_csv_update(struct experiment *e)
{
	struct trials_csv_cache *c = &e->csv;
	struct strbuf h;
	int rc;

	strbuf_init(&h);
	rc = csv_header(e, &h);
	if (rc)
		goto out;
	if (!c->text.data || c->header_len != h.len ||
	    memcmp(c->text.data, h.data, h.len)) {
		trials_csv_cache_reset(c);
		rc = strbuf_append(&c->text, h.data, h.len);
		if (rc)
			goto out;
		c->header_len = h.len;
	}
	while (!rc && c->nrows < e->ntrials &&
	       trial_state_is_terminal(e->trials[c->nrows]->state))
		rc = csv_row(e, e->trials[c->nrows++], &c->text);
out:
	if (rc)
		trials_csv_cache_reset(c); /* never keep a partial row */
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
	int rc = trials_csv_update(e);

	if (!rc)
		rc = strbuf_append(b, e->csv.text.data, e->csv.text.len);
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

static cJSON *assignments_json(const struct experiment *e,
			       const struct trial *t)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", e->value_names[i]);
		cJSON_AddStringToObject(o, "value", t->values[i]);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *observation_json(const struct experiment *e,
			       const struct trial *t)
{
	cJSON *obs = cJSON_CreateObject(), *ms = cJSON_CreateArray();
	char buf[METRIC_VALUE_MAX];
	size_t i;

	for (i = 0; i < nmetrics(e) && i < t->nsummaries; i++) {
		const struct metric_summary *s = &t->summaries[i];
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(
			m, "name", metrics_parser_metric(e->parser, (int)i));
		if (s->numeric) {
			format_double(s->min, buf, sizeof(buf));
			cJSON_AddStringToObject(m, "min", buf);
			format_double(s->max, buf, sizeof(buf));
			cJSON_AddStringToObject(m, "max", buf);
		} else {
			cJSON_AddStringToObject(m, "min", "unavailable");
			cJSON_AddStringToObject(m, "max", "unavailable");
		}
		cJSON_AddStringToObject(m, "latest",
					s->count ? metric_summary_latest(s)
						 : "unavailable");
		cJSON_AddItemToArray(ms, m);
	}
	cJSON_AddItemToObject(obs, "metrics", ms);
	return obs;
}

static void add_time(cJSON *o, const char *key, double t)
{
	char ts[40];

	if (t <= 0)
		return;
	format_rfc3339(t, ts, sizeof(ts));
	cJSON_AddStringToObject(o, key, ts);
}

static void add_condition(cJSON *conds, const char *type, int on,
			  const char *reason)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "status", on ? "True" : "False");
	cJSON_AddStringToObject(c, "reason", reason);
	cJSON_AddItemToArray(conds, c);
}

static void add_trial_lists(cJSON *root, const struct experiment *e)
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
		lists[i] = cJSON_AddArrayToObject(root, keys[i]);
	for (i = 0; i < e->ntrials; i++)
		cJSON_AddItemToArray(lists[e->trials[i]->state],
				     cJSON_CreateString(e->trials[i]->name));
}

/* paretoOptimalTrials: each trial of the front as currentOptimalTrial
 * shows the best one (a katibfs addition; Katib has one objective). */
static void add_pareto_trials(cJSON *root, const struct experiment *e)
{
	cJSON *a = cJSON_AddArrayToObject(root, "paretoOptimalTrials"), *o;
	const struct trial *t;
	size_t i;

	for (i = 0; a && i < e->pareto.n; i++) {
		t = experiment_trial(e, e->pareto.ids[i]);
		if (!t || !(o = cJSON_CreateObject()))
			continue;
		cJSON_AddStringToObject(o, "trialName", t->name);
		cJSON_AddNumberToObject(o, "trial", t->number);
		cJSON_AddItemToObject(o, "parameterAssignments",
				      assignments_json(e, t));
		cJSON_AddItemToObject(o, "observation", observation_json(e, t));
		cJSON_AddItemToArray(a, o);
	}
}

/* j as indented JSON and a newline (nothing on ENOMEM: b's oom says so). */
static void append_json(struct strbuf *b, const cJSON *j)
{
	char *txt = cJSON_Print(j);

	if (txt) {
		strbuf_puts(b, txt);
		strbuf_append(b, "\n", 1);
	}
	cJSON_free(txt);
}
static void render_status_json(struct experiment *e, struct strbuf *b)
{
	cJSON *root = cJSON_CreateObject(), *conds;
	struct trial *best = experiment_best(e);
	struct trial_counts c;

	experiment_counts(e, &c);
	cJSON_AddStringToObject(root, "name", e->name);
	cJSON_AddStringToObject(root, "state", experiment_state_name(e->state));
	cJSON_AddStringToObject(root, "reason", e->reason);
	if (e->error)
		cJSON_AddStringToObject(root, "error", e->error);
	add_time(root, "startTime", e->started);
	add_time(root, "completionTime", e->finished);
	conds = cJSON_AddArrayToObject(root, "conditions");
	add_condition(conds, "Created", 1, "ExperimentCreated");
	add_condition(conds, "Running",
		      e->state == EXP_RUNNING || e->state == EXP_PAUSED,
		      e->reason);
	if (e->state == EXP_SUCCEEDED)
		add_condition(conds, "Succeeded", 1, e->reason);
	if (e->state == EXP_FAILED || e->state == EXP_STOPPED)
		add_condition(conds, "Failed", 1, e->reason);
	cJSON_AddNumberToObject(root, "trials", c.total);
	cJSON_AddNumberToObject(root, "trialsPending", c.pending);
	cJSON_AddNumberToObject(root, "trialsRunning", c.running);
	cJSON_AddNumberToObject(root, "trialsSucceeded", c.succeeded);
	cJSON_AddNumberToObject(root, "trialsFailed", c.failed);
	cJSON_AddNumberToObject(root, "trialsKilled", c.killed);
	cJSON_AddNumberToObject(root, "trialsEarlyStopped", c.early_stopped);
	cJSON_AddNumberToObject(root, "trialMetricsUnavailable",
				c.metrics_unavailable);
	if (best) {
		cJSON *o = cJSON_AddObjectToObject(root, "currentOptimalTrial");

		cJSON_AddStringToObject(o, "bestTrialName", best->name);
		cJSON_AddNumberToObject(o, "trial", best->number);
		cJSON_AddItemToObject(o, "parameterAssignments",
				      assignments_json(e, best));
		cJSON_AddItemToObject(o, "observation",
				      observation_json(e, best));
	}
	if (e->spec && spec_objective_count(e->spec) > 1)
		add_pareto_trials(root, e);
	if (e->spec)
		add_trial_lists(root, e);
	append_json(b, root);
	cJSON_Delete(root);
}

/* ---- trial files ---- */

static void render_params(struct experiment *e, struct trial *t,
			  struct strbuf *b)
{
	size_t i;

	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++)
		kv(b, e->value_names[i], t->values[i]);
}

static void render_params_json(struct experiment *e, struct trial *t,
			       struct strbuf *b)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++)
		cJSON_AddStringToObject(o, e->value_names[i], t->values[i]);
	append_json(b, o);
	cJSON_Delete(o);
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

int render_file_locked(struct katib *k, struct experiment *e, struct trial *t,
		       enum kfile f, char **out, size_t *len)
{
	struct strbuf b;

	strbuf_init(&b);
	switch (f) {
	case KFILE_SPEC: render_spec(e, &b); break;
	case KFILE_STATUS: render_status(k, e, &b); break;
	case KFILE_STATUS_JSON: render_status_json(e, &b); break;
	case KFILE_CONTROL: render_control(e, &b); break;
	case KFILE_BEST: render_best(e, &b); break;
	case KFILE_IMPORTANCE: importance_task_render_locked(e, &b); break;
	case KFILE_TRIALS_CSV:
		if (render_trials_csv(e, &b)) {
			strbuf_free(&b);
			return -ENOMEM;
		}
		break;
	case KFILE_T_PARAMS: render_params(e, t, &b); break;
	case KFILE_T_PARAMS_JSON: render_params_json(e, t, &b); break;
	case KFILE_T_METRICS: render_trial_metrics(e, t, &b); break;
	case KFILE_T_STATUS: render_trial_status(t, &b); break;
	case KFILE_T_SPEC:
		if (trial_command(e, t, &b)) {
			strbuf_free(&b);
			return -ENOMEM;
		}
		break;
	case KFILE_T_CONTROL: render_trial_control(t, &b); break;
	case KFILE_QUEUE: queue_render_locked(e, &b); break;
	case KFILE_PARETO_CSV:
		if (render_pareto_csv(e, &b)) {
			strbuf_free(&b);
			return -ENOMEM;
		}
		break;
	case KFILE_EVENTS:
		if (textlog_append_to(&e->events_sealed, &e->events, &b)) {
			strbuf_free(&b);
			return -ENOMEM;
		}
		break;
	case KFILE_T_OBSERVATIONS:
		strbuf_puts(&b, OBSERVATIONS_HEADER);
		if (t->observations.len)
			strbuf_append(&b, t->observations.data,
				      t->observations.len);
		break;
	default: return -EINVAL;
	}
	*out = strbuf_take(&b, len);
	return *out ? 0 : -ENOMEM;
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
