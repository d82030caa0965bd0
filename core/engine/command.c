/*
 * command.c - the controller's side of katibfs/suggestion-command: what
 * the program is told and what is made of its answer.
 *
 * When the controller wants trials, the document of INTERFACE.md is built
 * under the lock (a snapshot: the experiment's name, its normalized spec
 * body, every trial with its state, parameters and the metrics that count,
 * the warm-start history, and how many assignments are wanted) and handed
 * to a run thread (sc_start()); the controller goes on. When the run ends,
 * the thread wakes the controller, whose next pass takes the output
 * (sc_take()), checks every assignment like a queued line (sc_parse()) and
 * creates the trials. A failure (the program cannot start, exits non-zero,
 * is killed, overruns the time limit, prints something that is not an
 * array of assignments, or an assignment outside the search space) is an
 * events line quoting its last stderr line, and another run follows; the
 * third in a row fails the experiment with that reason. An empty array
 * means the program's search is over (SuggestionEndReached).
 *
 * Owns: nothing beyond a call; the failure count is e->command_failures.
 */
#include "engine/command.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "algorithms/suggestion_command.h"

#define FAILURES_MAX 3

static void wake(void *arg)
{
	katib_wake(arg);
}

/* {"<name>": "<value>", ...} of one assignment. */
static cJSON *params_json(const char *const *names, char *const *values,
			  size_t n)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; o && i < n; i++)
		cJSON_AddStringToObject(o, names[i], values[i]);
	return o;
}

/* The metrics that count (after metricStrategies): numbers as numbers. */
static cJSON *metrics_json(const struct experiment *e, const struct trial *t)
{
	cJSON *o = cJSON_CreateObject();
	char val[METRIC_VALUE_MAX];
	const char *name;
	int numeric;
	double v;
	size_t i;

	for (i = 0; o && i < t->nsummaries; i++) {
		name = metrics_parser_metric(e->parser, (int)i);
		if (metric_summary_value(&t->summaries[i],
					 spec_metric_strategy(e->spec, name),
					 val, sizeof(val), &v, &numeric))
			continue;
		if (numeric)
			cJSON_AddNumberToObject(o, name, v);
		else
			cJSON_AddStringToObject(o, name, val);
	}
	return o;
}

static void add_trials(const struct experiment *e, cJSON *a)
{
	const char *names[KATIB_MAX_VALUES];
	cJSON *t, *m;
	size_t i;

	for (i = 0; i < e->spec->nparams && i < KATIB_MAX_VALUES; i++)
		names[i] = e->spec->params[i].name;
	for (i = 0; i < e->nwarm; i++) { /* history, not trials: no number */
		t = cJSON_CreateObject();
		cJSON_AddNullToObject(t, "number");
		cJSON_AddStringToObject(t, "state", "Succeeded");
		cJSON_AddItemToObject(t, "params",
				      params_json(names, e->warm[i].values,
						  e->spec->nparams));
		m = cJSON_AddObjectToObject(t, "metrics");
		cJSON_AddNumberToObject(m, e->spec->objective.metric,
					e->warm[i].objective);
		cJSON_AddStringToObject(t, "warmStart", e->warm_source[i]);
		cJSON_AddItemToArray(a, t);
	}
	for (i = 0; i < e->ntrials; i++) {
		const struct trial *tr = e->trials[i];

		t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "number", tr->number);
		cJSON_AddStringToObject(t, "state",
					trial_state_name(tr->state));
		cJSON_AddItemToObject(t, "params",
				      params_json(e->value_names, tr->values,
						  tr->nvalues < e->nvalue_names
							  ? tr->nvalues
							  : e->nvalue_names));
		cJSON_AddItemToObject(t, "metrics", metrics_json(e, tr));
		cJSON_AddItemToArray(a, t);
	}
}

/* The document of INTERFACE.md (heap text), or NULL on ENOMEM. */
static char *command_input(const struct experiment *e, size_t count)
{
	cJSON *j = cJSON_CreateObject(), *a;
	char *text;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "experiment", e->name);
	cJSON_AddItemToObject(j, "spec", spec_render_json(e->spec));
	a = cJSON_AddArrayToObject(j, "trials");
	if (a)
		add_trials(e, a);
	cJSON_AddNumberToObject(j, "count", (double)count);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

/* Why the run failed, in `why`; 0 when it did not. */
static int run_failed(const struct sc_raw *raw, char *why, size_t size)
{
	if (!raw->spawned)
		snprintf(why, size, "%s", raw->stderr_last);
	else if (raw->timed_out)
		snprintf(why, size,
			 "it did not answer within %g s and was killed "
			 "(" SC_TIMEOUT_ENV " sets the limit)",
			 sc_timeout());
	else if (raw->signal)
		snprintf(why, size, "it was killed by signal %d (%s)",
			 raw->signal, strsignal(raw->signal));
	else if (raw->exit_status)
		snprintf(why, size, "it exited with status %d",
			 raw->exit_status);
	else
		return 0;
	return -1;
}

/* Record a failed run; -EIO (err set) at the third in a row. */
static int command_failed(struct katib *k, struct experiment *e,
			  const struct sc_raw *raw, const char *why,
			  struct kb_error *err)
{
	char quote[320] = "";

	if (raw->spawned && raw->stderr_last[0])
		snprintf(quote, sizeof(quote), "; its last stderr line: '%s'",
			 raw->stderr_last);
	e->command_failures++;
	experiment_event(k, e, "suggestion command failed (%d in a row): %s%s",
			 e->command_failures, why, quote);
	if (e->command_failures < FAILURES_MAX)
		return 0;
	return kb_error_set(
		err, -EIO,
		"metadata.annotations[" SUGGESTION_COMMAND_ANNOTATION "]", 0,
		"failed %d times in a row; the last time %s%s", FAILURES_MAX,
		why, quote);
}

static int command_result(struct katib *k, struct experiment *e,
			  struct sc_raw *raw, size_t want, char ***out,
			  int *waiting, struct kb_error *err)
{
	struct kb_error perr;
	char why[1024], msg[768];
	size_t n = 0, extra = 0;
	int rc;

	kb_error_clear(&perr);
	if (run_failed(raw, why, sizeof(why)))
		goto failed;
	if (sc_parse(e->spec, raw->out, raw->out_len, want, out, &n, &extra,
		     &perr)) {
		kb_error_format(&perr, msg, sizeof(msg));
		snprintf(why, sizeof(why), "its output does not fit: %s", msg);
		goto failed;
	}
	e->command_failures = 0;
	if (extra)
		experiment_event(
			k, e,
			"the suggestion command gave %zu assignment(s) "
			"more than the %zu wanted; they are dropped",
			extra, want);
	if (!n)
		experiment_event(k, e,
				 "the suggestion command gave no assignment: "
				 "its search is over");
	*waiting = n && n < want; /* more may come: ask again */
	if (*waiting)
		katib_wake(k);
	return (int)n;
failed:
	rc = command_failed(k, e, raw, why, err);
	if (!rc) { /* run it again */
		*waiting = 1;
		katib_wake(k);
	}
	return rc;
}

int command_suggest_locked(struct katib *k, struct experiment *e, size_t want,
			   char ***out, int *waiting, struct kb_error *err)
{
	struct sc_raw raw;
	int rc;

	*waiting = 0;
	if (sc_take(e->algo_priv, &raw)) {
		rc = command_result(k, e, &raw, want, out, waiting, err);
		sc_raw_free(&raw);
		return rc;
	}
	*waiting = 1;
	if (sc_running(e->algo_priv))
		return 0;
	rc = sc_start(e->algo_priv, e->spec, command_input(e, want), wake, k);
	if (rc)
		return kb_error_set(err, rc, NULL, 0,
				    "cannot start the suggestion command: %s",
				    strerror(-rc));
	return 0;
}
