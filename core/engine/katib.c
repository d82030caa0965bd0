/*
 * katib.c - the daemon's API (include/katib/katib.h) but for the user's
 * writes (core/engine/requests.c, core/engine/queue.c): opening and closing
 * a state directory, the files of the tree, listing, stat, rendering and
 * streaming reads. The controller thread (core/engine/controller.c) does
 * everything slow; what opening does is core/engine/lifecycle.c's, the
 * services shared inside the daemon core/engine/daemon.c's.
 *
 * The top of the engine: nothing in core/ calls it. Owns struct katib
 * (katib_open() allocates it, katib_close() frees it and what it holds).
 */
#include "engine/daemon.h"
#include "collectors/prometheus.h"
#include "engine/controller.h"
#include "engine/lifecycle.h"
#include "views/plot.h"
#include "views/render.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- open / close ---- */

int katib_open(const struct katib_options *opt, struct katib **out,
	       struct kb_error *err)
{
	const struct backend_ops *backend = backend_find(opt->backend);
	struct katib *k;
	int rc;

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
	rc = lifecycle_state_dir(k, opt->state_dir, err);
	if (rc)
		goto fail;
	rc = store_open(k->state_dir, &k->store, err);
	if (rc)
		goto fail;
	k->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->wake_fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = lifecycle_backend_open(k, backend, opt, err);
	if (!rc)
		rc = lifecycle_load(k, err);
	if (rc)
		goto fail;
	lifecycle_log_start(k, opt);
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
	lifecycle_log_stop(k);
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
		st->ntrials = e->ntrials;
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
		st->mtime = trial_mtime(t);
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

/* A rendered text, taken whole into a snapshot (freed on failure). */
static int text_of(char *text, size_t len, int rc, struct katib_text **out)
{
	*out = rc ? NULL : text_snapshot(text, len);
	if (*out)
		return 0;
	free(text);
	return rc ? rc : -ENOMEM;
}

int katib_open_text(struct katib *k, const char *exp, int trial, enum kfile f,
		    struct katib_text **out)
{
	struct experiment *e;
	struct trial *t;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (f != KFILE_TRIALS_CSV) {
		rc = katib_render(k, exp, trial, f, &text, &len);
		return text_of(text, len, rc, out);
	}
	pthread_mutex_lock(&k->lock);
	rc = resolve_locked(k, exp, trial, f, &e, &t);
	if (!rc)
		rc = render_trials_csv_text_locked(e, out);
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
		*mtime = trial_mtime(t);
		break;
	case KFILE_T_LOG:
		trial_log_path(k, e->name, t->number, path, sizeof(path));
		if (stat(path, &st)) {
			*size = 0;
			*mtime = trial_mtime(t);
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
