/*
 * katib.c - the daemon's API (include/katib/katib.h): opening the state,
 * the directory structure, reads, and the user's writes. The controller
 * thread (controller.c) does everything slow.
 */
#include "katib/daemon.h"
#include "collectors/prometheus.h"
#include "controller.h"
#include "engine/queue.h"
#include "engine/warm_start.h"
#include "recover.h"
#include "views/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KATIBFS_VERSION
#define KATIBFS_VERSION "0.0.0"
#endif

/* ---- files of the tree ---- */

static const struct {
	const char *name;
	enum kfile_class cls;
	int writable;
	int trial; /* 1: lives in trials/N/ */
} kfiles[] = {
	[KFILE_README] = { "README", KCLASS_IMMUTABLE, 0, 0 },
	[KFILE_SPEC] = { "spec.yaml", KCLASS_SNAPSHOT, 1, 0 },
	[KFILE_STATUS] = { "status", KCLASS_SNAPSHOT, 0, 0 },
	[KFILE_STATUS_JSON] = { "status.json", KCLASS_SNAPSHOT, 0, 0 },
	[KFILE_CONTROL] = { "control", KCLASS_SNAPSHOT, 1, 0 },
	[KFILE_BEST] = { "best", KCLASS_SNAPSHOT, 0, 0 },
	[KFILE_TRIALS_CSV] = { "trials.csv", KCLASS_SNAPSHOT, 0, 0 },
	[KFILE_EVENTS] = { "events", KCLASS_STREAM, 0, 0 },
	[KFILE_T_PARAMS] = { "params", KCLASS_IMMUTABLE, 0, 1 },
	[KFILE_T_PARAMS_JSON] = { "params.json", KCLASS_IMMUTABLE, 0, 1 },
	[KFILE_T_METRICS] = { "metrics", KCLASS_SNAPSHOT, 1, 1 },
	[KFILE_T_OBSERVATIONS] = { "observations", KCLASS_STREAM, 0, 1 },
	[KFILE_T_STATUS] = { "status", KCLASS_SNAPSHOT, 0, 1 },
	[KFILE_T_LOG] = { "log", KCLASS_STREAM, 0, 1 },
	[KFILE_T_SPEC] = { "spec", KCLASS_SNAPSHOT, 0, 1 },
	[KFILE_T_CONTROL] = { "control", KCLASS_SNAPSHOT, 1, 1 },
	[KFILE_PLOT] = { "plot.svg", KCLASS_SNAPSHOT, 0, 0 },
	[KFILE_QUEUE] = { "queue", KCLASS_SNAPSHOT, 1, 0 },
	[KFILE_PARETO_CSV] = { "pareto.csv", KCLASS_SNAPSHOT, 0, 0 },
	[KFILE_IMPORTANCE] = { "importance", KCLASS_SNAPSHOT, 0, 0 },
};

#define NKFILES (sizeof(kfiles) / sizeof(kfiles[0]))

const char *kfile_name(enum kfile f)
{
	return f > KFILE_NONE && (size_t)f < NKFILES ? kfiles[f].name : NULL;
}

static enum kfile kfile_lookup(const char *name, int trial)
{
	size_t i;

	for (i = KFILE_SPEC; i < NKFILES; i++)
		if (kfiles[i].trial == trial && !strcmp(kfiles[i].name, name))
			return (enum kfile)i;
	return KFILE_NONE;
}

enum kfile kfile_experiment_lookup(const char *name)
{
	return kfile_lookup(name, 0);
}

enum kfile kfile_trial_lookup(const char *name)
{
	return kfile_lookup(name, 1);
}

enum kfile_class kfile_class(enum kfile f)
{
	return kfiles[f].cls;
}

int kfile_writable(enum kfile f)
{
	return f > KFILE_NONE && (size_t)f < NKFILES && kfiles[f].writable;
}

/* ---- helpers for the other core files ---- */

struct experiment *katib_find_locked(struct katib *k, const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < k->nexps; i++)
		if (!k->exps[i]->deleted && !strcmp(k->exps[i]->name, name))
			return k->exps[i];
	return NULL;
}

void katib_wake(struct katib *k)
{
	uint64_t one = 1;

	if (write(k->wake_fd, &one, sizeof(one)) < 0)
		return; /* counter saturated: the controller is awake anyway */
}

void katib_queue_notify(struct katib *k, const char *exp, int trial,
			enum kfile f)
{
	struct notification *n;

	if (!k->notify)
		return;
	if (k->nqueue == k->qcap) {
		size_t cap = k->qcap ? k->qcap * 2 : 64;

		n = realloc(k->queue, cap * sizeof(*n));
		if (!n)
			return;
		k->queue = n;
		k->qcap = cap;
	}
	n = &k->queue[k->nqueue++];
	snprintf(n->exp, sizeof(n->exp), "%s", exp ? exp : "");
	n->trial = trial;
	n->file = f;
}

/* One line, "<RFC3339> message", to `events` (memory, store, kernel). */
static void add_event(struct katib *k, struct strbuf *events,
		      struct timespec *mtime, const char *exp, const char *fmt,
		      va_list ap)
{
	char msg[2048], ts[40];
	double now = now_epoch();
	char *nl;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	while ((nl = strchr(msg, '\n')))
		*nl = ' ';
	format_rfc3339(now, ts, sizeof(ts));
	strbuf_printf(events, "%s %s\n", ts, msg);
	clock_gettime(CLOCK_REALTIME, mtime);
	store_add_event(k->store, exp, now, msg);
	katib_queue_notify(k, exp, 0, KFILE_EVENTS);
	katib_wake(k);
}

void experiment_event(struct katib *k, struct experiment *e, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_event(k, &e->events, &e->mtime, e->name, fmt, ap);
	va_end(ap);
	textlog_seal(&e->events_sealed, &e->events); /* -ENOMEM: stays text */
}

void katib_event(struct katib *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_event(k, &k->events, &k->events_mtime, "", fmt, ap);
	va_end(ap);
}

void experiment_save_locked(struct katib *k, struct experiment *e)
{
	/* the algorithm may be running off the lock (e->algo_busy): then
	 * the state it last saved is written again, not asked for */
	if (e->algo && e->algo_priv && e->algo->save && !e->algo_busy) {
		free(e->algo_state);
		e->algo_state = e->algo->save(e->algo_priv);
	}
	store_put_experiment(k->store, e, e->algo_state);
	clock_gettime(CLOCK_REALTIME, &e->mtime);
}

void trial_dir_path(const struct katib *k, const char *exp, int trial,
		    char *buf, size_t size)
{
	snprintf(buf, size, "%s/experiments/%s/%d", k->state_dir, exp, trial);
}

void trial_log_path(const struct katib *k, const char *exp, int trial,
		    char *buf, size_t size)
{
	snprintf(buf, size, "%s/experiments/%s/%d/log", k->state_dir, exp,
		 trial);
}

/* ---- open / close ---- */

static int mkdir_p(const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

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

/* ---- specs ---- */

static int backend_configmap(void *arg, const char *exp_ns, const char *ns,
			     const char *name, const char *key, char **text,
			     struct kb_error *err)
{
	struct katib *k = arg;

	return k->backend->read_configmap(k->backend_priv, exp_ns, ns, name,
					  key, text, err);
}

int katib_parse_spec(struct katib *k, const char *text, size_t len,
		     const char *name, struct experiment_spec **out,
		     struct kb_error *err)
{
	struct template_source src = { .fetch = backend_configmap, .arg = k };

	return spec_parse_with(text, len, name, &src, out, err);
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

static int load_trial(void *arg, struct experiment *e, struct trial *t)
{
	if (experiment_append_trial(e, t)) {
		trial_free(t);
		return -ENOMEM;
	}
	t->mtime = e->mtime;
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

void backend_trial_of(const struct katib *k, const struct experiment *e,
		      const struct trial *t, const struct trial_command *cmd,
		      char *dir, size_t dirsize, char *log, size_t logsize,
		      struct backend_trial *out)
{
	trial_dir_path(k, e->name, t->number, dir, dirsize);
	trial_log_path(k, e->name, t->number, log, logsize);
	out->experiment = e->name;
	out->spec = e->spec;
	out->number = t->number;
	out->name = t->name;
	out->dir = dir;
	out->log_path = log;
	out->cmd = cmd;
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

static void log_start(struct katib *k, const struct katib_options *opt)
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
static void log_stop(struct katib *k)
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

int katib_open(const struct katib_options *opt, struct katib **out,
	       struct kb_error *err)
{
	struct store_loader loader = {
		.experiment = load_experiment,
		.trial = load_trial,
		.observation = load_observation,
		.event = load_event,
		.queued = load_queued,
		.warm = load_warm,
	};
	struct katib *k;
	size_t i;
	int rc;

	const struct backend_ops *backend = backend_find(opt->backend);

	if (!backend)
		return kb_error_set(err, -ENOTSUP, "--backend", 0,
				    "backend '%s' is not built into katibfs "
				    "yet; use local",
				    opt->backend);
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->changed, NULL);
	strbuf_init(&k->events);
	clock_gettime(CLOCK_REALTIME, &k->events_mtime);
	k->wake_fd = -1;
	k->state_dir = realpath(opt->state_dir, NULL);
	if (!k->state_dir) {
		rc = mkdir_p(opt->state_dir);
		k->state_dir = rc ? NULL : realpath(opt->state_dir, NULL);
	}
	if (!k->state_dir) {
		rc = kb_error_set(err, -errno, "--state", 0,
				  "cannot use state directory %s: %s",
				  opt->state_dir, strerror(errno));
		goto fail;
	}
	{
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/trash", k->state_dir);
		rc = mkdir_p(dir); /* rmdir moves experiments here */
		snprintf(dir, sizeof(dir), "%s/experiments", k->state_dir);
		if (!rc)
			rc = mkdir_p(dir);
		if (rc) {
			kb_error_set(err, rc, "--state", 0,
				     "cannot create %s: %s", dir,
				     strerror(-rc));
			goto fail;
		}
	}
	rc = store_open(k->state_dir, &k->store, err);
	if (rc)
		goto fail;
	k->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->wake_fd < 0) {
		rc = -errno;
		goto fail;
	}
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

		rc = backend->open(&bo, &k->backend_priv, err);
		if (rc)
			goto fail;
		k->backend = backend;
	}
	loader.arg = k;
	rc = store_load(k->store, &loader);
	if (rc) {
		kb_error_set(err, rc, "--state", 0,
			     "cannot load the state database: %s",
			     strerror(-rc));
		goto fail;
	}
	for (i = 0; i < k->nexps; i++) { /* the trials' metrics are in now */
		struct experiment *e = k->exps[i];
		size_t j;

		for (j = 0; j < e->ntrials; j++) /* their growth slack off */
			trial_compact(e, e->trials[j]);
		experiment_pareto_rebuild(e);
	}
	log_start(k, opt);
	rc = controller_start(k);
	if (rc)
		goto fail;
	k->serving = 1;
	*out = k;
	return 0;
fail:
	katib_close(k);
	return rc;
}

void katib_close(struct katib *k)
{
	size_t i;

	if (!k)
		return;
	log_stop(k);
	controller_stop(k);
	prom_scraper_shutdown();
	if (k->backend)
		k->backend->close(k->backend_priv);
	for (i = 0; i < k->nexps; i++)
		experiment_free(k->exps[i]);
	free(k->exps);
	free(k->launches); /* empty: the controller has stopped */
	free(k->retired);
	store_close(k->store);
	if (k->wake_fd >= 0)
		close(k->wake_fd);
	free(k->queue);
	strbuf_free(&k->events);
	free(k->state_dir);
	pthread_cond_destroy(&k->changed);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void katib_set_notify(struct katib *k, katib_notify_fn fn, void *arg)
{
	pthread_mutex_lock(&k->lock);
	k->notify = fn;
	k->notify_arg = arg;
	pthread_mutex_unlock(&k->lock);
}

/* ---- directory structure ---- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int katib_list_experiments(struct katib *k, char ***names, size_t *n)
{
	size_t i, m = 0;
	char **v;

	pthread_mutex_lock(&k->lock);
	v = calloc(k->nexps + 1, sizeof(*v));
	for (i = 0; v && i < k->nexps; i++)
		if (!k->exps[i]->deleted)
			v[m++] = strdup(k->exps[i]->name);
	pthread_mutex_unlock(&k->lock);
	if (!v)
		return -ENOMEM;
	qsort(v, m, sizeof(*v), cmp_names);
	*names = v;
	*n = m;
	return 0;
}

static void epoch_to_ts(double t, struct timespec *ts)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
}

int katib_experiment_stat(struct katib *k, const char *exp,
			  struct katib_stat *st)
{
	struct experiment *e;

	pthread_mutex_lock(&k->lock);
	e = katib_find_locked(k, exp);
	if (e) {
		epoch_to_ts(e->created, &st->ctime);
		st->mtime = e->mtime;
	}
	pthread_mutex_unlock(&k->lock);
	return e ? 0 : -ENOENT;
}

int katib_list_trials(struct katib *k, const char *exp, int **numbers,
		      size_t *n)
{
	struct experiment *e;
	int rc = 0;
	size_t i;

	pthread_mutex_lock(&k->lock);
	e = katib_find_locked(k, exp);
	if (!e) {
		rc = -ENOENT;
		goto out;
	}
	*numbers = malloc((e->ntrials + 1) * sizeof(int));
	if (!*numbers) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < e->ntrials; i++)
		(*numbers)[i] = e->trials[i]->number;
	*n = e->ntrials;
out:
	pthread_mutex_unlock(&k->lock);
	return rc;
}

int katib_trial_stat(struct katib *k, const char *exp, int trial,
		     struct katib_stat *st)
{
	struct experiment *e;
	struct trial *t = NULL;

	pthread_mutex_lock(&k->lock);
	e = katib_find_locked(k, exp);
	if (e)
		t = experiment_trial(e, trial);
	if (t) {
		epoch_to_ts(t->created, &st->ctime);
		st->mtime = t->mtime;
	}
	pthread_mutex_unlock(&k->lock);
	return t ? 0 : -ENOENT;
}

/* ---- reading ---- */

/* pareto.csv exists while the spec has several objectives. */
static int experiment_multi_objective(const struct experiment *e)
{
	return e->spec && spec_objective_count(e->spec) > 1;
}

int katib_has_file(struct katib *k, const char *exp, enum kfile f)
{
	struct experiment *e;
	int has;

	if (f != KFILE_PARETO_CSV)
		return 1;
	pthread_mutex_lock(&k->lock);
	e = katib_find_locked(k, exp);
	has = e && experiment_multi_objective(e);
	pthread_mutex_unlock(&k->lock);
	return has;
}

/* Resolve exp/trial for a file; trial files need a trial. */
static int resolve_locked(struct katib *k, const char *exp, int trial,
			  enum kfile f, struct experiment **e, struct trial **t)
{
	*e = NULL;
	*t = NULL;
	if (f == KFILE_README)
		return 0;
	if (f == KFILE_EVENTS && (!exp || !*exp))
		return trial > 0 ? -ENOENT : 0; /* MOUNTPOINT/events */
	if (f <= KFILE_NONE || (size_t)f >= NKFILES)
		return -ENOENT;
	*e = katib_find_locked(k, exp);
	if (!*e)
		return -ENOENT;
	if (f == KFILE_PARETO_CSV && !experiment_multi_objective(*e))
		return -ENOENT;
	if (!kfiles[f].trial)
		return trial > 0 ? -ENOENT : 0;
	*t = experiment_trial(*e, trial);
	return *t ? 0 : -ENOENT;
}

/* plot.svg: copied under the lock, drawn without it (core/views/plot.h). */
static int render_plot(struct katib *k, const char *exp, char **out,
		       size_t *len)
{
	struct plot_snapshot *snap = NULL;
	struct experiment *e;
	struct trial *t;
	struct strbuf b;
	int rc;

	pthread_mutex_lock(&k->lock);
	rc = resolve_locked(k, exp, 0, KFILE_PLOT, &e, &t);
	if (!rc)
		rc = plot_snapshot(e, &snap);
	pthread_mutex_unlock(&k->lock);
	if (rc)
		return rc;
	strbuf_init(&b);
	rc = plot_render_snapshot(snap, &b);
	plot_snapshot_free(snap);
	*out = rc ? NULL : strbuf_finish(&b, len);
	if (rc)
		strbuf_free(&b);
	return rc ? rc : *out ? 0 : -ENOMEM;
}

int katib_render(struct katib *k, const char *exp, int trial, enum kfile f,
		 char **out, size_t *len)
{
	struct experiment *e;
	struct trial *t;
	int rc;

	if (f == KFILE_README) {
		*out = render_readme();
		*len = *out ? strlen(*out) : 0;
		return *out ? 0 : -ENOMEM;
	}
	if (f == KFILE_PLOT)
		return render_plot(k, exp, out, len);
	pthread_mutex_lock(&k->lock);
	rc = resolve_locked(k, exp, trial, f, &e, &t);
	if (!rc)
		rc = render_file_locked(k, e, t, f, out, len);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

int katib_render_size(struct katib *k, const char *exp, int trial, enum kfile f,
		      size_t *len)
{
	struct experiment *e;
	struct trial *t;
	char *text = NULL;
	int rc;

	if (f != KFILE_TRIALS_CSV) {
		rc = katib_render(k, exp, trial, f, &text, len);
		free(text);
		return rc;
	}
	pthread_mutex_lock(&k->lock);
	rc = resolve_locked(k, exp, trial, f, &e, &t);
	if (!rc)
		rc = render_trials_csv_size_locked(e, len);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

int katib_stream_stat(struct katib *k, const char *exp, int trial, enum kfile f,
		      off_t *size, struct timespec *mtime)
{
	struct experiment *e;
	struct trial *t;
	char path[4096];
	struct stat st;
	int rc;

	pthread_mutex_lock(&k->lock);
	rc = resolve_locked(k, exp, trial, f, &e, &t);
	if (rc)
		goto out;
	switch (f) {
	case KFILE_EVENTS:
		*size = (off_t)(e ? textlog_sealed_len(&e->events_sealed) +
						e->events.len
				  : k->events.len);
		*mtime = e ? e->mtime : k->events_mtime;
		break;
	case KFILE_T_OBSERVATIONS:
		*size = (off_t)trial_observations_size(t);
		*mtime = t->mtime;
		break;
	case KFILE_T_LOG:
		trial_log_path(k, e->name, t->number, path, sizeof(path));
		if (stat(path, &st)) {
			*size = 0;
			*mtime = t->mtime;
		} else {
			*size = st.st_size;
			*mtime = st.st_mtim;
		}
		break;
	default: rc = -EINVAL;
	}
out:
	pthread_mutex_unlock(&k->lock);
	return rc;
}

static ssize_t copy_range(const struct strbuf *b, char *buf, size_t size,
			  off_t off)
{
	size_t n;

	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= b->len)
		return 0;
	n = b->len - (size_t)off;
	if (n > size)
		n = size;
	memcpy(buf, b->data + off, n);
	return (ssize_t)n;
}

ssize_t katib_stream_read(struct katib *k, const char *exp, int trial,
			  enum kfile f, char *buf, size_t size, off_t off)
{
	struct experiment *e;
	struct trial *t;
	char path[4096];
	ssize_t rc;
	int fd;

	pthread_mutex_lock(&k->lock);
	rc = resolve_locked(k, exp, trial, f, &e, &t);
	if (rc)
		goto out;
	if (f == KFILE_EVENTS) {
		rc = e ? textlog_pread(&e->events_sealed, &e->events, buf, size,
				       off)
		       : copy_range(&k->events, buf, size, off);
	} else if (f == KFILE_T_OBSERVATIONS) {
		rc = trial_observations_read(t, buf, size, off);
	} else if (f == KFILE_T_LOG) {
		trial_log_path(k, e->name, t->number, path, sizeof(path));
		pthread_mutex_unlock(&k->lock);
		/* a local file: read it without holding the model */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : -errno;
		rc = pread(fd, buf, size, off);
		if (rc < 0)
			rc = -errno;
		close(fd);
		return rc;
	} else {
		rc = -EINVAL;
	}
out:
	pthread_mutex_unlock(&k->lock);
	return rc;
}

int katib_wait_finished(struct katib *k, const char *exp, int timeout_ms)
{
	struct timespec deadline;
	struct experiment *e;
	int rc = -ETIMEDOUT;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&k->lock);
	for (;;) {
		struct trial_counts c;

		e = katib_find_locked(k, exp);
		if (!e) {
			rc = -ENOENT;
			break;
		}
		experiment_counts(e, &c);
		if (experiment_state_is_finished(e->state) && !c.running) {
			rc = 0;
			break;
		}
		if (pthread_cond_timedwait(&k->changed, &k->lock, &deadline))
			break;
	}
	pthread_mutex_unlock(&k->lock);
	return rc;
}
