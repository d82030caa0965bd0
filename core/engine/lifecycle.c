/*
 * lifecycle.c - what katib_open() and katib_close() (core/engine/katib.c) do
 * besides allocating: the state directory, the backend opened with its
 * callbacks (its news go to the events), the store loaded into the model
 * (every experiment that was running activated again), and the lines that
 * start and stop a mount in MOUNTPOINT/events.
 *
 * Above the controller (it activates the loaded experiments) and the
 * recovery (it commits); nothing below calls it. Owns nothing past a
 * call: the loaded experiments go to k->exps.
 */
#include "engine/lifecycle.h"
#include "collectors/metrics.h"
#include "engine/controller.h"
#include "engine/queue.h"
#include "engine/recover.h"
#include "engine/warm_start.h"
#include "util/mkdir_p.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KATIBFS_VERSION
#define KATIBFS_VERSION "0.0.0"
#endif

static int add_experiment(struct katib *k, struct experiment *e)
{
	if (k->nexps == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct experiment **p = realloc(k->exps, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		k->exps = p;
		k->cap = cap;
	}
	k->exps[k->nexps++] = e;
	return 0;
}

/* At open, before the controller runs: nothing else holds k->lock, and
 * a configMap source is read from the backend again (bounded). */
static int load_experiment(void *arg, struct experiment *e,
			   const char *algo_state)
{
	struct katib *k = arg;
	struct kb_error err;
	int rc;

	rc = add_experiment(k, e);
	if (rc) {
		experiment_free(e);
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	if (!e->raw_spec || e->state == EXP_CREATED || e->state == EXP_INVALID)
		return 0;
	kb_error_clear(&err);
	rc = katib_parse_spec(k, e->raw_spec, strlen(e->raw_spec), e->name,
			      &e->spec, &err);
	if (!rc)
		rc = experiment_activate_locked(k, e, algo_state, &err);
	if (!rc) {
		e->spec_yaml = spec_render_yaml(e->spec, e->name);
		rc = e->spec_yaml ? 0 : -ENOMEM;
	}
	if (rc) {
		char msg[1024];

		/* A spec that this version no longer accepts: keep the
		 * record, show why, run nothing. */
		kb_error_format(&err, msg, sizeof(msg));
		free(e->error);
		e->error = strdup(msg);
		e->state = EXP_INVALID;
		return 0;
	}
	return 0;
}

/*
 * The state a trial the store has as not ended must end in: 0, or the
 * kill's when its row has a kill's reason (trial_request_kill_locked
 * records it before the trial's SIGTERM). Such a kill is carried out
 * again (the controller sends SIGTERM), or was: a trial that ended
 * meanwhile ends as the kill said, not as failed by the signal.
 */
static int kill_decided(const struct trial *t)
{
	const char *r = trial_reason(t);

	if (trial_state_is_terminal(t->state) || !*r ||
	    !strcmp(r, "TrialCreated") || !strcmp(r, "TrialRunning"))
		return 0;
	if (!strcmp(r, "TrialEarlyStopped"))
		return TRIAL_EARLY_STOPPED;
	if (!strcmp(r, "Timeout"))
		return TRIAL_FAILED;
	return TRIAL_KILLED; /* KilledByUser, ExperimentStopped, ... */
}

static int load_trial(void *arg, struct experiment *e, struct trial *t)
{
	if (experiment_append_trial(e, t)) {
		trial_free(t);
		return -ENOMEM;
	}
	if (t->live)
		t->live->kill_reason = kill_decided(t);
	trial_set_mtime(t, e->mtime);
	return trial_init_metrics(e, t);
}

static int load_observation(void *arg, struct experiment *e, struct trial *t,
			    double time, const char *metric, const char *value)
{
	struct observation o;
	size_t i, n = e->parser ? metrics_parser_nmetrics(e->parser) : 0;

	for (i = 0; i < n; i++)
		if (!strcmp(metrics_parser_metric(e->parser, (int)i), metric))
			break;
	if (i == n)
		return 0;
	memset(&o, 0, sizeof(o));
	o.time = time;
	o.metric = (int)i;
	snprintf(o.value, sizeof(o.value), "%s", value);
	trial_record_observation(e, t, &o);
	return 0;
}

static int load_queued(void *arg, struct experiment *e, long seq,
		       const char *line)
{
	return queue_load(e, seq, line);
}

static int load_warm(void *arg, struct experiment *e, const char *source,
		     const char *line, double objective)
{
	return warm_start_load(e, source, line, objective);
}

static int load_event(void *arg, struct experiment *e, double time,
		      const char *message)
{
	struct katib *k = arg;
	char ts[40];

	format_rfc3339(time, ts, sizeof(ts));
	if (!e)
		return strbuf_printf(&k->events, "%s %s\n", ts, message);
	if (strbuf_printf(&e->events, "%s %s\n", ts, message) < 0)
		return -ENOMEM;
	return textlog_seal(&e->events_sealed, &e->events);
}

static void wake_cb(void *arg)
{
	katib_wake(arg);
}

/* A backend's news (the cluster unreachable, back): the mount-wide
 * events and every running experiment's. */
static void backend_event_cb(void *arg, const char *msg)
{
	struct katib *k = arg;
	size_t i;

	pthread_mutex_lock(&k->lock);
	store_begin(k->store);
	katib_event(k, "%s", msg);
	for (i = 0; i < k->nexps; i++)
		if (!k->exps[i]->deleted && k->exps[i]->state == EXP_RUNNING)
			experiment_event(k, k->exps[i], "%s", msg);
	katib_commit_locked(k);
	pthread_mutex_unlock(&k->lock);
}

/* A backend's news about one trial: its experiment's events. */
static void backend_trial_event_cb(void *arg, const char *experiment,
				   int number, const char *msg)
{
	struct katib *k = arg;
	size_t i;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < k->nexps; i++)
		if (!k->exps[i]->deleted &&
		    !strcmp(k->exps[i]->name, experiment)) {
			store_begin(k->store);
			experiment_event(k, k->exps[i], "trial %d: %s", number,
					 msg);
			katib_commit_locked(k);
			break;
		}
	pthread_mutex_unlock(&k->lock);
}

/* The first line of a mount in MOUNTPOINT/events. */
#define STOP_LINE "katibfs stopped (pid "

/* The mount-wide events of earlier mounts end with a stop line, unless the
 * last daemon died (SIGKILL, a crash, the machine going down). */
static int stopped_cleanly(const struct strbuf *events)
{
	const char *last;

	if (!events->len)
		return 1;		       /* a new state directory */
	last = events->data + events->len - 1; /* its '\n' */
	while (last > events->data && last[-1] != '\n')
		last--;
	last = strchr(last, ' ');
	return last && !strncmp(last + 1, STOP_LINE, strlen(STOP_LINE));
}

void lifecycle_log_start(struct katib *k, const struct katib_options *opt)
{
	int clean = stopped_cleanly(&k->events);

	store_begin(k->store);
	katib_event(k, "katibfs %s started (pid %ld): backend %s, state %s%s%s",
		    KATIBFS_VERSION, (long)getpid(), k->backend->name,
		    k->state_dir, opt->mountpoint ? ", mounted on " : "",
		    opt->mountpoint ? opt->mountpoint : "");
	if (!clean)
		katib_event(k,
			    "the previous katibfs on this state did not stop "
			    "cleanly (killed, crashed, or the machine went "
			    "down)");
	katib_commit_locked(k);
}

/* The last: what goes on without the daemon. */
void lifecycle_log_stop(struct katib *k)
{
	size_t i, j, running = 0;

	if (!k->serving)
		return;
	pthread_mutex_lock(&k->lock);
	for (i = 0; i < k->nexps; i++)
		for (j = 0; !k->exps[i]->deleted && j < k->exps[i]->ntrials;
		     j++)
			running +=
				k->exps[i]->trials[j]->state == TRIAL_RUNNING;
	store_begin(k->store);
	if (running)
		katib_event(k,
			    STOP_LINE
			    "%ld); %zu trial%s still "
			    "running go%s on and %s re-adopted at the next "
			    "mount",
			    (long)getpid(), running, running == 1 ? "" : "s",
			    running == 1 ? "es" : "",
			    running == 1 ? "is" : "are");
	else
		katib_event(k, STOP_LINE "%ld); no trial was running",
			    (long)getpid());
	katib_commit_locked(k);
	pthread_mutex_unlock(&k->lock);
}

int lifecycle_state_dir(struct katib *k, const char *path, struct kb_error *err)
{
	char dir[4096];
	int rc;

	k->state_dir = realpath(path, NULL);
	if (!k->state_dir) {
		rc = mkdir_p(path, 0755);
		k->state_dir = rc ? NULL : realpath(path, NULL);
	}
	if (!k->state_dir)
		return kb_error_set(err, -errno, "--state", 0,
				    "cannot use state directory %s: %s", path,
				    strerror(errno));
	snprintf(dir, sizeof(dir), "%s/trash", k->state_dir);
	rc = mkdir_p(dir, 0755); /* rmdir moves experiments here */
	snprintf(dir, sizeof(dir), "%s/experiments", k->state_dir);
	if (!rc)
		rc = mkdir_p(dir, 0755);
	if (rc)
		return kb_error_set(err, rc, "--state", 0,
				    "cannot create %s: %s", dir, strerror(-rc));
	return 0;
}

int lifecycle_backend_open(struct katib *k, const struct backend_ops *backend,
			   const struct katib_options *opt,
			   struct kb_error *err)
{
	struct backend_options bo = {
		.state_dir = k->state_dir,
		.kubeconfig = opt->kubeconfig,
		.context = opt->context,
		.namespace = opt->namespace,
		.wake = wake_cb,
		.wake_arg = k,
		.kube_qps = opt->kube_qps,
		.kube_burst = opt->kube_burst,
		.configmaps = opt->configmaps,
		.event = backend_event_cb,
		.trial_event = backend_trial_event_cb,
	};
	int rc = backend->open(&bo, &k->backend_priv, err);

	if (!rc)
		k->backend = backend;
	return rc;
}

int lifecycle_load(struct katib *k, struct kb_error *err)
{
	struct store_loader loader = {
		.experiment = load_experiment,
		.trial = load_trial,
		.observation = load_observation,
		.event = load_event,
		.queued = load_queued,
		.warm = load_warm,
		.arg = k,
	};
	size_t i, j;
	int rc;

	rc = store_load(k->store, &loader);
	if (rc)
		return kb_error_set(err, rc, "--state", 0,
				    "cannot load the state database: %s",
				    strerror(-rc));
	for (i = 0; i < k->nexps; i++) { /* the trials' metrics are in now */
		struct experiment *e = k->exps[i];

		for (j = 0; j < e->ntrials; j++) /* their growth slack off */
			trial_compact(e, e->trials[j]);
		experiment_pareto_rebuild(e);
	}
	return 0;
}
