/*
 * executor_kubernetes.c - the kubernetes backend (include/katib/backend.h):
 * each trial is the Kubernetes object its trialTemplate describes.
 *
 * The controller calls in with the model lock held, so nothing here
 * touches the network on the caller's thread:
 *
 *   start()      records the trial (and its manifest, in <dir>/kubernetes.json
 *                so a restart can finish what was begun) and hands the
 *                creation to the worker thread;
 *   probe()      answers from the watch cache: successCondition /
 *                failureCondition (GJSON) on the latest object;
 *   terminate()  hands a delete to the worker.
 *
 * Threads: one worker (creates, deletes), one watch per apiVersion/kind/
 * namespace (list by label katib.kubeflow.org/experiment, then watch from
 * its resourceVersion with bookmarks; relist on 410 Gone), and one log
 * follower per running trial that appends the primary container's log of
 * the primary pod to log_path. A follower that reconnects (or a daemon
 * mounted again) skips the bytes log_path already has, so nothing is
 * duplicated. Each calls the wake callback when something changed.
 *
 * Owns: the backend's state from open to close (the API client, the watches
 * and their threads) and each trial's handle (trial_run.priv, freed by
 * release).
 */
#include "katib/backend.h"
#include "backends/kube/kube.h"
#include "collectors/collect.h"
#include "collectors/collector_path.h"
#include "collectors/prometheus.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MARKER_FILE	 "kubernetes.json"
#define COLLECTOR_LOG	 "collector.log"
#define TFEVENT_STREAM	 "tfevent-stream.log"
#define LABEL_EXPERIMENT "katib.kubeflow.org/experiment"
#define LABEL_TRIAL	 "katib.kubeflow.org/trial"
#define LOST_GRACE	 15.0  /* created, yet absent from a synced watch */
#define LOG_GRACE	 30.0  /* object finished, log still streaming */
#define WATCH_SECONDS	 60    /* server-side timeout of one watch request */
#define LOG_SETTLE	 5.0   /* a log stream ended: wait for the pod's news */
#define POD_GRACE	 5.0   /* object finished, no pod seen: no log */
#define POD_GIVE_UP	 120.0 /* ... even when the pod watch is silent */

struct kwatch {
	char api_version[128], kind[64], ns[64];
	char selector[256]; /* labelSelector, url-encoded */
	char path[512];
	char rv[64];
	int synced;
	double contact; /* last list or event (bookmarks too) received */
	int fails;	/* failed lists/watches in a row (backoff) */
	cJSON *objs;	/* name -> latest object */
	pthread_t thread;
	int started;
	struct kpriv *p;
	struct kwatch *next;
};

struct ktrial {
	char name[128], ns[64];
	char experiment[64];
	char api_version[128], kind[64];
	char dir[4096], log_path[4096];
	char container[128];
	char *selector; /* labelSelector of the primary pod */
	char *success, *failure;
	char *manifest; /* to create, until created */
	int retain;
	int number;
	enum collector_kind ckind;
	/* the container whose log carries the collector's output (File and
	 * TensorFlowEvent sidecars, Custom), or "", and its copy in dir */
	char side[128], side_log[64];
	int side_noted; /* its container's failure is in events */
	/* Custom: the primary container ended at (0: not ended) while the
	 * collector's runs on; past COLLECTOR_EXIT_GRACE it is stopped (the
	 * object deleted) and the trial ends on the primary's exit code,
	 * stopped_code (-1: not stopped) */
	double primary_ended_at;
	int stopped_code;
	/* PrometheusMetric: scraped through the pod proxy */
	int prom_port;
	char prom_path[512];
	struct prom_series series;
	pthread_t scrape_thread;
	int scrape_started, scrape_done;
	int created;
	double created_at;
	char error[1000];	  /* creation failed: why */
	double retry_at, backoff; /* creation: the server was unreachable */
	int terminating, delete_queued, delete_done;
	int reported;
	double terminal_since;
	struct kwatch *w;  /* of the trial object's kind */
	struct kwatch *pw; /* of the pods in its namespace */
	pthread_t log_thread;
	int log_started, log_done, log_exited;
	int restarts;	    /* of the primary container, seen so far */
	off_t log_base;	    /* where its current instance's log begins */
	int previous_asked; /* its ?previous=true log fetched (once) */
	struct kpriv *p;
	struct ktrial *next;
};

/* rmdir of an experiment: delete whatever of it is left in the cluster. */
struct ksweep {
	char experiment[64], ns[64];
	char api_version[128], kind[64];
	struct ksweep *next;
};

struct kpriv {
	struct ksweep *sweeps; /* queued, done by the worker */
	struct kube_client *client;
	char ns[64];
	void (*wake)(void *arg);
	void *wake_arg;
	void (*trial_event)(void *arg, const char *experiment, int number,
			    const char *msg);
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int stop; /* read by the threads without the lock */
	int draining;	 /* closing: finish the queue, start nothing */
	struct ktrial *trials;
	struct kwatch *watches;
	unsigned long news; /* watch caches changed so many times */
	pthread_t worker;
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wake(struct kpriv *p)
{
	if (p->wake)
		p->wake(p->wake_arg);
}

/* Sleep up to ms, returning early when the backend closes. */
static void nap(struct kpriv *p, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	if (!p->stop)
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	pthread_mutex_unlock(&p->lock);
}

/* Sleep up to ms, or until a watch cache changes after `seen` (p->news
 * then): no change is missed between looking and sleeping. */
static void nap_news(struct kpriv *p, unsigned long seen, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->stop && p->news == seen &&
	       pthread_cond_timedwait(&p->cond, &p->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&p->lock);
}

/*
 * After the fails-th failure in a row (connection refused, a stream cut
 * at once): wait 250 ms doubling up to max_ms (at most 16 s), half of it
 * random (jitter),
 * so that many followers do not hammer a server that is down in step.
 */
static void backoff_nap(struct kpriv *p, int *fails, long max_ms)
{
	long ms = 250L << (*fails < 6 ? *fails : 6);

	if (ms > max_ms)
		ms = max_ms;
	nap(p, ms / 2 + rand() % (ms / 2 + 1));
	(*fails)++;
}

/* Append text to a trial's log (errors the user should read there). */
static void log_note(const char *path, const char *fmt, const char *msg)
{
	FILE *f = fopen(path, "a");

	if (!f)
		return;
	fprintf(f, fmt, msg);
	fclose(f);
}

/* A line "trial N: msg" in the trial's experiment's events (no lock of
 * ours held). */
static void trial_event(struct ktrial *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void trial_event(struct ktrial *t, const char *fmt, ...)
{
	char msg[1500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->p->trial_event)
		t->p->trial_event(t->p->wake_arg, t->experiment, t->number,
				  msg);
}

/* ---- watches ---- */

static void watch_set(struct kwatch *w, const char *type, cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItem(obj, "metadata");
	const char *name =
		cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"));
	const char *rv = cJSON_GetStringValue(
		cJSON_GetObjectItem(md, "resourceVersion"));

	if (rv)
		snprintf(w->rv, sizeof(w->rv), "%s", rv);
	if (!name || !strcmp(type, "BOOKMARK"))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(w->objs, name);
	if (strcmp(type, "DELETED"))
		cJSON_AddItemToObject(w->objs, name, cJSON_Duplicate(obj, 1));
}

static int watch_list(struct kwatch *w)
{
	struct kpriv *p = w->p;
	struct kube_response r;
	struct kb_error err;
	char path[1024], what[700];
	cJSON *j, *items, *it, *objs;

	kb_error_clear(&err);
	snprintf(path, sizeof(path), "%s?labelSelector=%s", w->path,
		 w->selector);
	snprintf(what, sizeof(what), "list %s", w->path);
	if (kube_request(p->client, "GET", path, NULL, NULL, what, &r, &err))
		return -EIO;
	j = r.status == 200 ? cJSON_Parse(r.body) : NULL;
	kube_response_free(&r);
	items = cJSON_GetObjectItem(j, "items");
	objs = cJSON_CreateObject();
	if (!j || !objs) {
		cJSON_Delete(j);
		cJSON_Delete(objs);
		return -EIO;
	}
	cJSON_ArrayForEach(it, items)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(
			cJSON_GetObjectItem(it, "metadata"), "name"));

		if (name)
			cJSON_AddItemToObject(objs, name,
					      cJSON_Duplicate(it, 1));
	}
	pthread_mutex_lock(&p->lock);
	cJSON_Delete(w->objs);
	w->objs = objs;
	snprintf(w->rv, sizeof(w->rv), "%s",
		 cJSON_GetStringValue(cJSON_GetObjectItem(
			 cJSON_GetObjectItem(j, "metadata"), "resourceVersion"))
			 ?: "");
	w->synced = 1;
	w->contact = now_mono();
	p->news++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	cJSON_Delete(j);
	wake(p);
	return 0;
}

/* A watch event longer than this ends the stream (a relist follows). */
#define WATCH_LINE_MAX (64 * 1024 * 1024)

struct watch_stream {
	struct kwatch *w;
	struct strbuf line; /* the event being received */
	int gone;	    /* 410: relist */
	int events;
};

static void watch_line(struct watch_stream *s)
{
	struct kpriv *p = s->w->p;
	cJSON *ev = cJSON_Parse(s->line.data);
	const char *type =
		cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
	cJSON *obj = cJSON_GetObjectItem(ev, "object");

	if (!type || !obj) {
		cJSON_Delete(ev);
		return;
	}
	if (!strcmp(type, "ERROR")) {
		cJSON *code = cJSON_GetObjectItem(obj, "code");

		s->gone = cJSON_IsNumber(code) && code->valueint == 410;
		if (!s->gone)
			s->gone = 2; /* other errors: watch again */
	} else {
		pthread_mutex_lock(&p->lock);
		watch_set(s->w, type, obj);
		s->w->contact = now_mono();
		pthread_mutex_unlock(&p->lock);
		s->events++;
	}
	cJSON_Delete(ev);
}

static int watch_data(void *arg, const char *buf, size_t len)
{
	struct watch_stream *s = arg;
	const char *end = buf + len, *nl;
	size_t n;

	while (buf < end) {
		nl = memchr(buf, '\n', (size_t)(end - buf));
		n = (size_t)((nl ? nl : end) - buf);
		if (s->line.len + n + 2 > WATCH_LINE_MAX ||
		    strbuf_append(&s->line, buf, n))
			return 1;
		if (!nl)
			break;
		buf = nl + 1;
		if (s->line.len)
			watch_line(s);
		s->line.len = 0;
		if (s->gone)
			return 1;
	}
	if (s->events) {
		s->events = 0;
		pthread_mutex_lock(&s->w->p->lock);
		s->w->p->news++;
		pthread_cond_broadcast(&s->w->p->cond); /* log followers */
		pthread_mutex_unlock(&s->w->p->lock);
		wake(s->w->p);
	}
	return s->w->p->stop;
}

/* Watch from w->rv until the stream ends: 1 = relist, 0 = watch again. */
static int watch_once(struct kwatch *w)
{
	struct watch_stream s = { .w = w };
	struct kb_error err;
	char path[1024], rv[64];
	double started;
	long status;
	int rc;

	kb_error_clear(&err);
	pthread_mutex_lock(&w->p->lock);
	snprintf(rv, sizeof(rv), "%s", w->rv);
	pthread_mutex_unlock(&w->p->lock);
	snprintf(path, sizeof(path),
		 "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&"
		 "labelSelector=%s&resourceVersion=%s",
		 w->path, WATCH_SECONDS, w->selector, rv);
	started = now_mono();
	rc = kube_stream(w->p->client, path, WATCH_SECONDS + 30, watch_data, &s,
			 &status, &err);
	strbuf_free(&s.line);
	if (s.gone == 1 || status == 410)
		return 1;
	if (rc || status != 200 || now_mono() - started < 1)
		backoff_nap(w->p, &w->fails,
			    16000); /* a server that hangs up */
	else
		w->fails = 0;
	return 0;
}

static void *watch_main(void *arg)
{
	struct kwatch *w = arg;
	struct kpriv *p = w->p;
	struct kb_error err;
	int relist = 1;

	while (!p->stop) {
		kb_error_clear(&err);
		if (kube_collection_path(p->client, w->api_version, w->kind,
					 w->ns, w->path, sizeof(w->path), NULL,
					 0, &err) == 0)
			break;
		nap(p, 2000);
	}
	while (!p->stop) {
		if (relist && watch_list(w)) {
			backoff_nap(p, &w->fails, 16000);
			continue;
		}
		relist = watch_once(w);
	}
	return NULL;
}

/* The watch of apiVersion/kind in ns, started if new. Lock held. */
static struct kwatch *watch_for(struct kpriv *p, const char *av,
				const char *kind, const char *ns,
				const char *selector)
{
	struct kwatch *w;
	char sel[256];

	kube_urlencode(selector, sel, sizeof(sel));
	for (w = p->watches; w; w = w->next)
		if (!strcmp(w->api_version, av) && !strcmp(w->kind, kind) &&
		    !strcmp(w->ns, ns) && !strcmp(w->selector, sel))
			return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	snprintf(w->api_version, sizeof(w->api_version), "%s", av);
	snprintf(w->kind, sizeof(w->kind), "%s", kind);
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	snprintf(w->selector, sizeof(w->selector), "%s", sel);
	w->objs = cJSON_CreateObject();
	w->p = p;
	if (!w->objs || pthread_create(&w->thread, NULL, watch_main, w)) {
		cJSON_Delete(w->objs);
		free(w);
		return NULL;
	}
	w->started = 1;
	w->next = p->watches;
	p->watches = w;
	return w;
}

/* ---- pod logs ---- */

/* A follower of one container's log: TensorFlowEvent's also mirrors the
 * frames of the copy into the trial's collector/ (done: how far). */
struct follower {
	struct ktrial *t;
	char pod[256];
	const char *container;
	char out[4200];
	int tfevent;
	off_t done;
};

struct log_stream {
	struct ktrial *t;
	struct follower *f; /* NULL: the primary container */
	int fd;
	off_t skip;
};

static void tfevent_problem(void *ctx, const char *what)
{
	trial_event(ctx, "TensorFlowEvent collector: %s", what);
}

/* The frames the TensorFlowEvent sidecar's log brought so far, into the
 * trial's copy of the event directory. */
static void tfevent_mirror(struct follower *f)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/" COLLECTOR_DIR, f->t->dir);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return;
	kube_tfevent_mirror(f->out, &f->done, dir, tfevent_problem, f->t);
}

static int log_data(void *arg, const char *buf, size_t len)
{
	struct log_stream *s = arg;
	ssize_t n;

	if (s->skip >= (off_t)len) {
		s->skip -= (off_t)len;
		return s->t->p->stop;
	}
	buf += s->skip;
	len -= (size_t)s->skip;
	s->skip = 0;
	while (len) {
		n = write(s->fd, buf, len);
		if (n <= 0)
			return 1;
		buf += n;
		len -= (size_t)n;
	}
	if (s->f && s->f->tfevent)
		tfevent_mirror(s->f);
	wake(s->t->p);
	return s->t->p->stop;
}

static void note_restarts(struct ktrial *t, const cJSON *pod);
static void write_marker(struct ktrial *t);

/* Does label selector sel ("k=v,k2=v2") hold for the labels object? */
static int selector_matches(const char *sel, const cJSON *labels)
{
	char buf[2048], *term, *save = NULL, *eq;
	const char *v;

	snprintf(buf, sizeof(buf), "%s", sel ? sel : "");
	for (term = strtok_r(buf, ",", &save); term;
	     term = strtok_r(NULL, ",", &save)) {
		eq = strchr(term, '=');
		if (!eq)
			continue;
		*eq = '\0';
		v = cJSON_GetStringValue(cJSON_GetObjectItem(labels, term));
		if (!v || strcmp(v, eq + 1))
			return 0;
	}
	return 1;
}

/*
 * The primary pod of t in the namespace's pod watch cache (lock held):
 * named <trial>-..., labelled as the selector says. NULL when none yet.
 */
static const cJSON *cached_pod(struct ktrial *t)
{
	const cJSON *it;
	size_t plen = strlen(t->name);

	cJSON_ArrayForEach(it, t->pw->objs)
	{
		const cJSON *md = cJSON_GetObjectItem(it, "metadata");
		const char *n =
			cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"));

		if (!n || strncmp(n, t->name, plen) || n[plen] != '-')
			continue;
		if (selector_matches(t->selector,
				     cJSON_GetObjectItem(md, "labels")))
			return it;
	}
	return NULL;
}

static const char *pod_phase_of(const cJSON *pod)
{
	const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(pod, "status"), "phase"));

	return ph ? ph : "Pending";
}

/*
 * A container restarted (restartPolicy OnFailure): its new instance's log
 * starts empty, so what is in log_path from now on is counted from here.
 */
static void note_restarts(struct ktrial *t, const cJSON *pod)
{
	const cJSON *cs;
	struct stat st;
	int n = 0;

	cJSON_ArrayForEach(
		cs, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "status"),
					"containerStatuses"))
	{
		const char *name =
			cJSON_GetStringValue(cJSON_GetObjectItem(cs, "name"));
		const cJSON *rc = cJSON_GetObjectItem(cs, "restartCount");

		if (name && !strcmp(name, t->container) && cJSON_IsNumber(rc))
			n = rc->valueint;
	}
	pthread_mutex_lock(&t->p->lock);
	if (n > t->restarts) {
		t->restarts = n;
		t->log_base = stat(t->log_path, &st) ? 0 : st.st_size;
		write_marker(t);
	}
	pthread_mutex_unlock(&t->p->lock);
}

static int phase_done(const char *phase)
{
	return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
}

/* Is the trial's object finished (or gone)? */
static int object_finished(struct ktrial *t)
{
	int done;

	pthread_mutex_lock(&t->p->lock);
	done = t->terminal_since > 0 || t->terminating;
	pthread_mutex_unlock(&t->p->lock);
	return done;
}

/*
 * A log stream ended: wait (a few seconds at most) for the pod watch to
 * say why. 1 = the pod is done or gone, stop following; 0 = follow again
 * (the container restarted, or the stream was cut while it runs).
 */
static int collector_overstays(struct ktrial *t, const char *pod,
			       const cJSON *obj);

static int pod_settled(struct ktrial *t, const char *pod, int primary)
{
	double deadline = now_mono() + LOG_SETTLE;
	const cJSON *obj;
	cJSON *copy;
	int restarts, gone, done, changed;
	unsigned long seen;

	pthread_mutex_lock(&t->p->lock);
	restarts = t->restarts;
	pthread_mutex_unlock(&t->p->lock);
	while (!t->p->stop && now_mono() < deadline) {
		pthread_mutex_lock(&t->p->lock);
		seen = t->p->news;
		obj = cJSON_GetObjectItemCaseSensitive(t->pw->objs, pod);
		copy = obj ? cJSON_Duplicate(obj, 1) : NULL;
		gone = t->pw->synced && !obj;
		pthread_mutex_unlock(&t->p->lock);
		if (gone)
			return 1;
		done = copy && phase_done(pod_phase_of(copy));
		if (copy)
			note_restarts(t, copy);
		if (copy && primary && collector_overstays(t, pod, copy))
			done = 1; /* the pod goes with the object */
		cJSON_Delete(copy);
		if (done)
			return 1;
		pthread_mutex_lock(&t->p->lock);
		changed = t->restarts > restarts;
		pthread_mutex_unlock(&t->p->lock);
		if (changed)
			return 0;
		nap_news(t->p, seen, 500);
	}
	return 0;
}

/* The primary container's restarts as the pod watch has them now. */
static void refresh_restarts(struct ktrial *t, const char *pod)
{
	const cJSON *obj;
	cJSON *copy;

	pthread_mutex_lock(&t->p->lock);
	obj = cJSON_GetObjectItemCaseSensitive(t->pw->objs, pod);
	copy = obj ? cJSON_Duplicate(obj, 1) : NULL;
	pthread_mutex_unlock(&t->p->lock);
	if (copy)
		note_restarts(t, copy);
	cJSON_Delete(copy);
}

/*
 * The primary container restarted before its log stream began: its
 * earlier instance's output is not in the copy (empty). Fetch it once
 * with ?previous=true (kubectl logs --previous) and put it first; the
 * kubelet keeps one terminated instance, so when more were missed only
 * the last of them is there. A 400 (none) leaves the copy as it is.
 */
static void fetch_previous(struct ktrial *t, const char *pod)
{
	struct kube_response r;
	struct kb_error err;
	char path[1024], what[700];
	struct stat st;
	int missed, fd;
	size_t off;
	ssize_t n;

	pthread_mutex_lock(&t->p->lock);
	missed = t->restarts > 0 && t->log_base == 0 && !t->previous_asked &&
		 (stat(t->log_path, &st) || st.st_size == 0);
	t->previous_asked |= missed;
	pthread_mutex_unlock(&t->p->lock);
	if (!missed)
		return;
	kb_error_clear(&err);
	snprintf(path, sizeof(path),
		 "/api/v1/namespaces/%s/pods/%s/log?container=%s&previous=true",
		 t->ns, pod, t->container);
	snprintf(what, sizeof(what),
		 "get the previous log of container %s of pod %s/%s",
		 t->container, t->ns, pod);
	if (kube_request(t->p->client, "GET", path, NULL, NULL, what, &r, &err))
		return;
	fd = r.status == 200 && r.len
		     ? open(t->log_path,
			    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)
		     : -1;
	for (off = 0; fd >= 0 && off < r.len; off += (size_t)n)
		if ((n = write(fd, r.body + off, r.len - off)) <= 0)
			break;
	if (fd >= 0) {
		pthread_mutex_lock(&t->p->lock);
		t->log_base = fstat(fd, &st) ? 0 : st.st_size;
		write_marker(t);
		pthread_mutex_unlock(&t->p->lock);
		close(fd);
		wake(t->p);
	}
	kube_response_free(&r);
}

/* Stream one container's log once into out; 1 when the pod is done.
 * *fails counts the failed requests in a row (backoff). */
static int follow_once(struct ktrial *t, const char *pod, const char *container,
		       const char *out, struct follower *f, int *fails)
{
	struct log_stream s = { .t = t, .f = f };
	struct kb_error err;
	struct stat st;
	char path[1024];
	long status;
	int rc;

	kb_error_clear(&err);
	s.fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (s.fd < 0)
		return 1;
	s.skip = fstat(s.fd, &st) ? 0 : st.st_size;
	if (!strcmp(out, t->log_path)) { /* the primary: this instance */
		pthread_mutex_lock(&t->p->lock);
		s.skip = s.skip > t->log_base ? s.skip - t->log_base : 0;
		pthread_mutex_unlock(&t->p->lock);
	}
	snprintf(path, sizeof(path),
		 "/api/v1/namespaces/%s/pods/%s/log?container=%s&follow=true",
		 t->ns, pod, container);
	rc = kube_stream(t->p->client, path, 0, log_data, &s, &status, &err);
	close(s.fd);
	if (status == 404)
		return 1;
	if (status != 200) { /* not started yet, or the server is away */
		/* short: a finished trial waits LOG_GRACE at most for it */
		backoff_nap(t->p, fails, 2000);
		return 0;
	}
	*fails = 0;
	if (rc)
		return 0; /* cut before its end: go on where it stopped */
	return pod_settled(t, pod, f == NULL);
}

/* The status of container `name` in the pod (containers and
 * initContainers), or NULL. */
static const cJSON *container_status(const cJSON *pod, const char *name)
{
	const cJSON *st = cJSON_GetObjectItem(pod, "status"), *cs;
	int i;

	for (i = 0; i < 2; i++)
		cJSON_ArrayForEach(
			cs, cJSON_GetObjectItem(st, i ? "initContainerStatuses"
						      : "containerStatuses"))
		{
			const char *n = cJSON_GetStringValue(
				cJSON_GetObjectItem(cs, "name"));

			if (n && !strcmp(n, name))
				return cs;
		}
	return NULL;
}

/*
 * What is wrong with container `name` of the pod, for events: waiting for
 * a reason that is not its normal start (an image that cannot be pulled,
 * a crash loop, a bad config), or ended with a non-zero exit code. 0 when
 * nothing is.
 */
static int container_problem(const cJSON *pod, const char *name, char *buf,
			     size_t size)
{
	const cJSON *state =
		cJSON_GetObjectItem(container_status(pod, name), "state");
	const cJSON *w = cJSON_GetObjectItem(state, "waiting");
	const cJSON *x = cJSON_GetObjectItem(state, "terminated");
	const cJSON *ec = cJSON_GetObjectItem(x, "exitCode");
	const char *reason =
		cJSON_GetStringValue(cJSON_GetObjectItem(w ? w : x, "reason"));
	const char *msg =
		cJSON_GetStringValue(cJSON_GetObjectItem(w ? w : x, "message"));
	int code = cJSON_IsNumber(ec) ? ec->valueint : 0;

	if (w && reason && strcmp(reason, "ContainerCreating") &&
	    strcmp(reason, "PodInitializing")) {
		snprintf(buf, size, "cannot start: %s%s%s", reason,
			 msg ? ": " : "", msg ? msg : "");
		return 1;
	}
	if (!x || code == 0)
		return 0;
	snprintf(buf, size, "%s with exit code %d",
		 reason && !strcmp(reason, "StartError") ? "could not start"
							 : "ended",
		 code);
	if (reason || msg)
		snprintf(buf + strlen(buf), size - strlen(buf), " (%s%s%s)",
			 reason ? reason : "", reason && msg ? ": " : "",
			 msg ? msg : "");
	return 1;
}

/* The Custom collector's container failed: say so in events, once. */
static void note_custom(struct ktrial *t, const char *pod)
{
	const cJSON *obj;
	char what[1000];
	int bad;

	pthread_mutex_lock(&t->p->lock);
	obj = cJSON_GetObjectItemCaseSensitive(t->pw->objs, pod);
	bad = !t->side_noted && obj &&
	      container_problem(obj, t->side, what, sizeof(what));
	if (bad)
		t->side_noted = 1;
	pthread_mutex_unlock(&t->p->lock);
	if (bad)
		trial_event(t,
			    "Custom collector (collector.customCollector): "
			    "container %s of pod %s/%s %s; the trial's other "
			    "observations are kept",
			    t->side, t->ns, pod, what);
}

/* Has container `name` of the pod ended (state terminated)? Its exit
 * code into *code. */
static int container_ended(const cJSON *pod, const char *name, int *code)
{
	const cJSON *x = cJSON_GetObjectItem(
		cJSON_GetObjectItem(container_status(pod, name), "state"),
		"terminated");
	const cJSON *ec = cJSON_GetObjectItem(x, "exitCode");

	*code = cJSON_IsNumber(ec) ? ec->valueint : 1;
	return x != NULL;
}

/*
 * A Custom collector that does not end when the training does would keep
 * the pod, and the trial, running for ever (as on Katib). Once the primary
 * container has ended, it has COLLECTOR_EXIT_GRACE seconds to end too;
 * then the trial's object is deleted (which stops it) and the trial ends
 * on the primary's exit code, with what the collector printed until it
 * was stopped. 1 once that is decided (obj: the pod, in a copy).
 */
static int collector_overstays(struct ktrial *t, const char *pod,
			       const cJSON *obj)
{
	int code = 0, side_code, stop = 0;
	double now = now_mono();

	if (t->ckind != COLLECTOR_CUSTOM || !t->side[0])
		return 0;
	pthread_mutex_lock(&t->p->lock);
	if (t->stopped_code >= 0) {
		stop = -1; /* decided already */
	} else if (!container_ended(obj, t->container, &code) ||
		   container_ended(obj, t->side, &side_code)) {
		t->primary_ended_at = 0;
	} else if (!t->primary_ended_at) {
		t->primary_ended_at = now;
	} else if (now - t->primary_ended_at >= COLLECTOR_EXIT_GRACE) {
		t->stopped_code = code;
		t->delete_queued = 1; /* retain or not: it would run on */
		write_marker(t);
		pthread_cond_broadcast(&t->p->cond);
		stop = 1;
	}
	pthread_mutex_unlock(&t->p->lock);
	if (stop == 1)
		trial_event(t,
			    "Custom collector (collector.customCollector): "
			    "container %s of pod %s/%s did not exit within "
			    "%d s of the primary container's end and was "
			    "stopped (%s %s deleted%s); the trial ends on the "
			    "primary's exit code %d, with the observations "
			    "collected (a collector should end when the trial "
			    "does)",
			    t->side, t->ns, pod, COLLECTOR_EXIT_GRACE, t->kind,
			    t->name,
			    t->retain ? ", retain notwithstanding" : "", code);
	return stop != 0;
}

/* The collector's container (sidecar or Custom) into <dir>/side_log. */
static void *side_main(void *arg)
{
	struct follower *f = arg;
	struct ktrial *t = f->t;
	int fails = 0, done = 0;

	while (!t->p->stop && !done) {
		done = follow_once(t, f->pod, f->container, f->out, f, &fails);
		if (t->ckind == COLLECTOR_CUSTOM)
			note_custom(t, f->pod);
	}
	if (f->tfevent)
		tfevent_mirror(f);
	return NULL;
}

/* Follow the primary container (and the collector's, if any). */
static void follow_pod(struct ktrial *t, const char *pod)
{
	struct follower f = { .t = t, .container = t->side };
	pthread_t th;
	int side = 0, fails = 0;

	if (t->side[0]) {
		snprintf(f.pod, sizeof(f.pod), "%s", pod);
		snprintf(f.out, sizeof(f.out), "%s/%s", t->dir, t->side_log);
		f.tfevent = t->ckind == COLLECTOR_TFEVENT;
		side = !pthread_create(&th, NULL, side_main, &f);
	}
	for (;;) {
		double started = now_mono();

		refresh_restarts(t, pod); /* restarted while we were away? */
		fetch_previous(t, pod);
		if (t->p->stop || follow_once(t, pod, t->container, t->log_path,
					      NULL, &fails))
			break;
		if (now_mono() - started < 1)
			nap(t->p, 500); /* no busy loop on quick hang-ups */
	}
	if (side)
		pthread_join(th, NULL);
}

/*
 * The object ended at `since` and no pod of it is in the cache: is that
 * the truth? Only once the pod watch has heard from the server (events,
 * bookmarks, a list) well after that: a lagging watch (cut, relisting,
 * throttled) is no proof.
 */
static int pod_never(struct ktrial *t, double since)
{
	double now = now_mono(), contact;

	pthread_mutex_lock(&t->p->lock);
	contact = t->pw->contact;
	pthread_mutex_unlock(&t->p->lock);
	return (now - since > POD_GRACE && contact > since + POD_GRACE) ||
	       now - since > POD_GIVE_UP;
}

static void *log_main(void *arg)
{
	struct ktrial *t = arg;
	struct kpriv *p = t->p;
	const cJSON *obj;
	cJSON *copy;
	char pod[256];
	double missing_since = 0;
	unsigned long seen;
	int pending;

	while (!p->stop) {
		pthread_mutex_lock(&p->lock);
		seen = p->news;
		obj = t->pw->synced ? cached_pod(t) : NULL;
		copy = obj ? cJSON_Duplicate(obj, 1) : NULL;
		pthread_mutex_unlock(&p->lock);
		if (!copy) { /* the object ended without a pod: give up */
			if (!object_finished(t))
				missing_since = 0;
			else if (!missing_since)
				missing_since = now_mono();
			else if (pod_never(t, missing_since))
				break;
			nap_news(p, seen, 1000); /* woken by the pod watch */
			continue;
		}
		snprintf(pod, sizeof(pod), "%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(copy, "metadata"),
				 "name")));
		pending = !strcmp(pod_phase_of(copy), "Pending");
		note_restarts(t, copy);
		cJSON_Delete(copy);
		if (pending) {
			if (t->ckind == COLLECTOR_CUSTOM) /* image pull... */
				note_custom(t, pod);
			nap_news(p, seen, 1000);
			continue;
		}
		follow_pod(t, pod);
		break;
	}
	pthread_mutex_lock(&p->lock);
	t->log_done = !p->stop;
	t->log_exited = 1;
	pthread_mutex_unlock(&p->lock);
	wake(p);
	return NULL;
}

/* ---- the worker: creates and deletes ---- */

static void write_marker(struct ktrial *t)
{
	char path[4200], tmp[4300];
	cJSON *m = cJSON_CreateObject();
	char *text;
	FILE *f;

	if (!m)
		return;
	cJSON_AddStringToObject(m, "apiVersion", t->api_version);
	cJSON_AddStringToObject(m, "kind", t->kind);
	cJSON_AddStringToObject(m, "namespace", t->ns);
	cJSON_AddStringToObject(m, "name", t->name);
	cJSON_AddBoolToObject(m, "created", t->created);
	cJSON_AddNumberToObject(m, "restarts", t->restarts);
	cJSON_AddNumberToObject(m, "logBase", (double)t->log_base);
	if (t->stopped_code >= 0)
		cJSON_AddNumberToObject(m, "collectorStopped", t->stopped_code);
	if (t->manifest)
		cJSON_AddStringToObject(m, "manifest", t->manifest);
	text = cJSON_Print(m);
	cJSON_Delete(m);
	snprintf(path, sizeof(path), "%s/%s", t->dir, MARKER_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = text ? fopen(tmp, "w") : NULL;
	if (f) {
		fputs(text, f);
		if (!fclose(f))
			rename(tmp, path);
	}
	free(text);
}

static void do_create(struct kpriv *p, struct ktrial *t, const char *manifest)
{
	struct kube_response r;
	struct kb_error err;
	char path[600], what[300], msg[600], plural[128], reason[1000];
	long status;
	int rc;

	kb_error_clear(&err);
	snprintf(what, sizeof(what), "create %s %s in namespace %s", t->kind,
		 t->name, t->ns);
	rc = kube_collection_path(p->client, t->api_version, t->kind, t->ns,
				  path, sizeof(path), plural, sizeof(plural),
				  &err);
	if (!rc)
		rc = kube_request(p->client, "POST", path, manifest, NULL, what,
				  &r, &err);
	if (!rc) {
		status = r.status;
		if (status != 201 && status != 200 && status != 202 &&
		    status != 409) {
			kube_status_message(r.body, msg, sizeof(msg));
			kb_error_set(&err, -EINVAL, "kubernetes", 0,
				     "%s: HTTP %ld: %s", what, status, msg);
			rc = status == 429 || status >= 500 ? -EIO : -EINVAL;
		}
		kube_response_free(&r);
	}
	if (rc == -EIO && !p->stop) {
		/* the server is unreachable or failing: try again later
		 * (creation is idempotent), the trial stays Running */
		pthread_mutex_lock(&p->lock);
		t->backoff = t->backoff ? t->backoff * 2 : 2.0;
		if (t->backoff > 60)
			t->backoff = 60;
		t->retry_at = now_mono() + t->backoff;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (rc == -ECANCELED || p->stop)
		return; /* closing: a later mount creates it (by name) */
	if (rc) {
		/* in the log before the trial can be seen failed: the
		 * controller reads the log one last time then */
		kb_error_format(&err, msg, sizeof(msg));
		snprintf(reason, sizeof(reason), "%s%s%s",
			 strstr(msg, what) ? "" : what,
			 strstr(msg, what) ? "" : ": ", msg);
		log_note(t->log_path, "katibfs: %s\n", reason);
	}
	pthread_mutex_lock(&p->lock);
	if (rc) {
		snprintf(t->error, sizeof(t->error), "%s", reason);
	} else {
		t->created = 1;
		t->created_at = now_mono();
		free(t->manifest);
		t->manifest = NULL;
		write_marker(t);
	}
	pthread_mutex_unlock(&p->lock);
	wake(p);
}

static void do_delete(struct kpriv *p, struct ktrial *t)
{
	struct kube_response r;
	struct kb_error err;
	char path[900], coll[600], what[800];

	kb_error_clear(&err);
	snprintf(what, sizeof(what), "delete %s %s in namespace %s", t->kind,
		 t->name, t->ns);
	if (!kube_collection_path(p->client, t->api_version, t->kind, t->ns,
				  coll, sizeof(coll), NULL, 0, &err)) {
		snprintf(path, sizeof(path), "%s/%s", coll, t->name);
		if (!kube_request(
			    p->client, "DELETE", path,
			    "{\"kind\":\"DeleteOptions\",\"apiVersion\":"
			    "\"v1\",\"propagationPolicy\":\"Background\"}",
			    NULL, what, &r, &err))
			kube_response_free(&r);
	}
	wake(p);
}

/* ---- PrometheusMetric: scraped through the API server's pod proxy ---- */

struct scrape_status {
	int tries, answered, bad_lines;
	char last_error[600];
	char url[900]; /* the proxy path, for messages */
};

/* GET the pod's metrics once; new values into the derived log. */
static void scrape_once(struct ktrial *t, const char *pod,
			struct scrape_status *st)
{
	struct kube_response r;
	struct kb_error err;
	struct strbuf lines = { 0 };
	struct timespec now;
	char what[1000], log[4200], msg[500];
	int fd;

	kb_error_clear(&err);
	snprintf(st->url, sizeof(st->url),
		 "/api/v1/namespaces/%s/pods/%s:%d/proxy%s", t->ns, pod,
		 t->prom_port, t->prom_path);
	snprintf(what, sizeof(what), "scrape %s", st->url);
	st->tries++;
	if (kube_get_through(t->p->client, st->url, what, &r, &err)) {
		kb_error_format(&err, st->last_error, sizeof(st->last_error));
		return;
	}
	if (r.status < 200 || r.status > 299) {
		kube_status_message(r.body, msg, sizeof(msg));
		snprintf(st->last_error, sizeof(st->last_error), "HTTP %ld: %s",
			 r.status, msg);
		kube_response_free(&r);
		return;
	}
	st->answered++;
	clock_gettime(CLOCK_REALTIME, &now);
	st->bad_lines +=
		prom_series_take(&t->series, r.body, r.len,
				 now.tv_sec + now.tv_nsec / 1e9, &lines);
	kube_response_free(&r);
	snprintf(log, sizeof(log), "%s/" PROMETHEUS_LOG, t->dir);
	fd = lines.len ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0644)
		       : -1;
	if (fd >= 0) {
		if (write(fd, lines.data, lines.len) != (ssize_t)lines.len)
			log_note(t->log_path, "katibfs: %s\n",
				 "cannot write " PROMETHEUS_LOG);
		close(fd);
		wake(t->p);
	}
	strbuf_free(&lines);
}

static void scrape_report(struct ktrial *t, const struct scrape_status *st)
{
	if (st->tries && !st->answered)
		trial_event(t,
			    "PrometheusMetric collector: %s (the pod's port "
			    "%d, path %s, through the API server's pod "
			    "proxy) never answered (%d tries, every %.0f s; "
			    "last: %s); the trial's other observations are "
			    "kept",
			    st->url, t->prom_port, t->prom_path, st->tries,
			    PROM_SCRAPE_INTERVAL, st->last_error);
	if (st->bad_lines)
		trial_event(t,
			    "PrometheusMetric collector: %s: %d malformed "
			    "lines of the text format were skipped",
			    st->url, st->bad_lines);
}

/*
 * Scrape the primary pod every PROM_SCRAPE_INTERVAL while it runs, and
 * once more when it (or the trial's object) ended; the trial is not
 * reported ended before this thread is done.
 */
static void *scrape_main(void *arg)
{
	struct ktrial *t = arg;
	struct kpriv *p = t->p;
	struct scrape_status st = { 0 };
	const cJSON *obj;
	char pod[256] = "", phase[32];
	double missing_since = 0;
	unsigned long seen;
	int finished;

	while (!p->stop) {
		pthread_mutex_lock(&p->lock);
		seen = p->news;
		obj = t->pw->synced ? cached_pod(t) : NULL;
		if (obj) {
			snprintf(pod, sizeof(pod), "%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(
					 cJSON_GetObjectItem(obj, "metadata"),
					 "name")));
			snprintf(phase, sizeof(phase), "%s", pod_phase_of(obj));
		}
		finished = t->terminal_since > 0 || t->terminating;
		pthread_mutex_unlock(&p->lock);
		if (obj && !finished && !strcmp(phase, "Running")) {
			scrape_once(t, pod, &st);
			nap(p, (long)(PROM_SCRAPE_INTERVAL * 1000));
			continue;
		}
		if (pod[0] && (finished || phase_done(phase))) {
			scrape_once(t, pod, &st); /* at its end */
			break;
		}
		if (!obj && finished) {
			if (!missing_since)
				missing_since = now_mono();
			else if (pod_never(t, missing_since))
				break;
		}
		nap_news(p, seen, 1000);
	}
	if (!p->stop)
		scrape_report(t, &st);
	pthread_mutex_lock(&p->lock);
	t->scrape_done = !p->stop;
	pthread_mutex_unlock(&p->lock);
	wake(p);
	return NULL;
}

static void start_scrape(struct ktrial *t)
{
	if (pthread_create(&t->scrape_thread, NULL, scrape_main, t) == 0)
		t->scrape_started = 1;
	else
		t->scrape_done = 1;
}

static void start_log(struct ktrial *t)
{
	if (pthread_create(&t->log_thread, NULL, log_main, t) == 0)
		t->log_started = 1;
	else
		t->log_done = 1;
}

static void trial_free(struct ktrial *t)
{
	prom_series_free(&t->series);
	free(t->selector);
	free(t->success);
	free(t->failure);
	free(t->manifest);
	free(t);
}

/* Forget a trial the controller is done with (lock held): 1 if one. */
static int reap(struct kpriv *p)
{
	struct ktrial **pp, *t;

	for (pp = &p->trials; (t = *pp); pp = &t->next) {
		if (!t->reported || (t->delete_queued && !t->delete_done) ||
		    (t->log_started && !t->log_exited) ||
		    (t->scrape_started && !t->scrape_done))
			continue;
		*pp = t->next;
		if (t->log_started)
			pthread_join(t->log_thread, NULL); /* it has ended */
		if (t->scrape_started)
			pthread_join(t->scrape_thread, NULL);
		trial_free(t);
		return 1;
	}
	return 0;
}

/* List the experiment's objects by label and delete each (Background). */
static void do_sweep(struct kpriv *p, const struct ksweep *sw)
{
	char coll[600], sel[300], path[1200], what[300];
	struct kube_response r;
	struct kb_error err;
	cJSON *list, *item;
	struct ktrial t;

	kb_error_clear(&err);
	if (kube_collection_path(p->client, sw->api_version, sw->kind, sw->ns,
				 coll, sizeof(coll), NULL, 0, &err))
		return;
	kube_urlencode("katib.kubeflow.org/experiment=", sel, sizeof(sel));
	snprintf(path, sizeof(path), "%s?labelSelector=%s%s", coll, sel,
		 sw->experiment);
	snprintf(what, sizeof(what), "list %s of experiment %s", sw->kind,
		 sw->experiment);
	if (kube_request(p->client, "GET", path, NULL, NULL, what, &r, &err))
		return;
	list = r.status == 200 ? cJSON_Parse(r.body) : NULL;
	kube_response_free(&r);
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "items"))
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(
			cJSON_GetObjectItem(item, "metadata"), "name"));

		if (!name)
			continue;
		memset(&t, 0, sizeof(t));
		snprintf(t.name, sizeof(t.name), "%s", name);
		snprintf(t.ns, sizeof(t.ns), "%s", sw->ns);
		snprintf(t.api_version, sizeof(t.api_version), "%s",
			 sw->api_version);
		snprintf(t.kind, sizeof(t.kind), "%s", sw->kind);
		do_delete(p, &t);
	}
	cJSON_Delete(list);
}

/* One piece of work, done without the lock: 1 if there was one. */
static int worker_step(struct kpriv *p)
{
	struct ksweep *sw = p->sweeps;
	struct ktrial *t;
	char *manifest;

	if (sw) {
		p->sweeps = sw->next;
		pthread_mutex_unlock(&p->lock);
		do_sweep(p, sw);
		free(sw);
		pthread_mutex_lock(&p->lock);
		return 1;
	}

	for (t = p->trials; t; t = t->next) {
		if (t->manifest && !t->created && !t->error[0] &&
		    now_mono() >= t->retry_at) {
			manifest = strdup(t->manifest);
			pthread_mutex_unlock(&p->lock);
			if (manifest)
				do_create(p, t, manifest);
			free(manifest);
			pthread_mutex_lock(&p->lock);
			return 1;
		}
		if (t->created && !t->log_started && !t->log_done &&
		    !t->terminating && !p->draining) {
			start_log(t);
			if (t->ckind == COLLECTOR_PROMETHEUS)
				start_scrape(t);
		}
		if (t->delete_queued && !t->delete_done) {
			t->delete_done = 1;
			pthread_mutex_unlock(&p->lock);
			do_delete(p, t);
			pthread_mutex_lock(&p->lock);
			return 1;
		}
	}
	return reap(p);
}

static void *worker_main(void *arg)
{
	struct kpriv *p = arg;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if (worker_step(p))
			continue;
		if (p->draining)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---- the trial table ---- */

static struct ktrial *find_trial(struct kpriv *p, const char *name)
{
	struct ktrial *t;

	for (t = p->trials; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static const char *trial_ns(struct kpriv *p, const struct backend_trial *bt)
{
	return bt->spec->namespace ? bt->spec->namespace : p->ns;
}

/* labelSelector for the primary pod (Katib's defaults per kind). */
static char *pod_selector(const struct backend_trial *bt, const char *kind,
			  const char *av)
{
	const struct trial_template_spec *tt = &bt->spec->trial_template;
	char buf[2048] = "";
	size_t o = 0;
	const cJSON *l;

	if (!strcmp(kind, "Job") && !strcmp(av, "batch/v1"))
		o += snprintf(buf + o, sizeof(buf) - o, "job-name=%s",
			      bt->name);
	else if (!strncmp(av, "kubeflow.org/", 13))
		o += snprintf(buf + o, sizeof(buf) - o,
			      "training.kubeflow.org/job-name=%s", bt->name);
	cJSON_ArrayForEach(l, tt->primary_pod_labels)
	{
		if (cJSON_IsString(l) && o < sizeof(buf))
			o += snprintf(buf + o, sizeof(buf) - o, "%s%s=%s",
				      o ? "," : "", l->string, l->valuestring);
	}
	return strdup(buf);
}

/* Does v hold a pod template (a "template" whose spec has containers)? */
static int has_pod_template(const cJSON *v, int depth)
{
	const cJSON *c;

	if (!v || depth > 64)
		return 0;
	cJSON_ArrayForEach(c, v)
	{
		if (c->string && !strcmp(c->string, "template") &&
		    cJSON_IsArray(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(c, "spec"), "containers")))
			return 1;
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
		    has_pod_template(c, depth + 1))
			return 1;
	}
	return 0;
}

/*
 * Which pods the namespace's pod watch for this kind of trial selects:
 * ours (labelled through the pod templates), or, for kinds whose pods
 * come from no template of ours (TrainJob: the runtime's), every pod with
 * the first primaryPodLabels key. One watch per namespace and selector.
 */
static const char *pod_watch_selector(const struct backend_trial *bt)
{
	const struct trial_template_spec *tt = &bt->spec->trial_template;
	const cJSON *first =
		tt->primary_pod_labels ? tt->primary_pod_labels->child : NULL;

	if (has_pod_template(tt->trial_spec, 0) || !first || !first->string)
		return LABEL_EXPERIMENT;
	return first->string;
}

/* What the trial's collector needs of the backend at run time. */
static int collector_setup(struct ktrial *t, const struct backend_trial *bt)
{
	const struct collector_spec *c = &bt->spec->collector;
	const char *names[64];
	size_t n;

	t->number = bt->number;
	t->ckind = c->kind;
	switch (c->kind) {
	case COLLECTOR_FILE:
		snprintf(t->side, sizeof(t->side), KUBE_COLLECTOR_CONTAINER);
		snprintf(t->side_log, sizeof(t->side_log), COLLECTOR_LOG);
		return 0;
	case COLLECTOR_TFEVENT:
		snprintf(t->side, sizeof(t->side), KUBE_COLLECTOR_CONTAINER);
		snprintf(t->side_log, sizeof(t->side_log), TFEVENT_STREAM);
		return 0;
	case COLLECTOR_CUSTOM:
		snprintf(t->side, sizeof(t->side), "%s",
			 kube_custom_container(c));
		snprintf(t->side_log, sizeof(t->side_log), CUSTOM_LOG);
		return 0;
	case COLLECTOR_PROMETHEUS:
		t->prom_port = prom_port(c);
		snprintf(t->prom_path, sizeof(t->prom_path), "%s%s",
			 prom_path(c)[0] == '/' ? "" : "/", prom_path(c));
		n = spec_metric_names(bt->spec, names, 64);
		return prom_series_init(&t->series, (char *const *)names, n);
	default: return 0;
	}
}

static struct ktrial *trial_new(struct kpriv *p, const struct backend_trial *bt,
				const char *av, const char *kind,
				const char *ns)
{
	const struct trial_template_spec *tt = &bt->spec->trial_template;
	struct ktrial *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->p = p;
	snprintf(t->name, sizeof(t->name), "%s", bt->name);
	snprintf(t->experiment, sizeof(t->experiment), "%s", bt->experiment);
	snprintf(t->ns, sizeof(t->ns), "%s", ns);
	snprintf(t->api_version, sizeof(t->api_version), "%s", av);
	snprintf(t->kind, sizeof(t->kind), "%s", kind);
	snprintf(t->dir, sizeof(t->dir), "%s", bt->dir);
	snprintf(t->log_path, sizeof(t->log_path), "%s", bt->log_path);
	snprintf(t->container, sizeof(t->container), "%s",
		 tt->primary_container_name ? tt->primary_container_name
					    : "training-container");
	t->retain = tt->retain;
	t->stopped_code = -1;
	if (collector_setup(t, bt)) {
		trial_free(t);
		return NULL;
	}
	t->selector = pod_selector(bt, kind, av);
	t->success =
		tt->success_condition ? strdup(tt->success_condition) : NULL;
	t->failure =
		tt->failure_condition ? strdup(tt->failure_condition) : NULL;
	t->w = watch_for(p, av, kind, ns, LABEL_EXPERIMENT);
	t->pw = watch_for(p, "v1", "Pod", ns, pod_watch_selector(bt));
	if (!t->selector || !t->w || !t->pw) {
		trial_free(t);
		return NULL;
	}
	t->next = p->trials;
	p->trials = t;
	return t;
}

/* Set our two labels on a labels-holding object's "labels" member. */
static void set_labels(cJSON *md, const char *experiment, const char *trial)
{
	cJSON *labels = cJSON_GetObjectItem(md, "labels");

	if (!cJSON_IsObject(labels)) {
		cJSON_DeleteItemFromObject(md, "labels");
		labels = cJSON_AddObjectToObject(md, "labels");
	}
	cJSON_DeleteItemFromObject(labels, LABEL_EXPERIMENT);
	cJSON_DeleteItemFromObject(labels, LABEL_TRIAL);
	cJSON_AddStringToObject(labels, LABEL_EXPERIMENT, experiment);
	cJSON_AddStringToObject(labels, LABEL_TRIAL, trial);
}

/*
 * Every pod template in the manifest (a "template" whose "spec" has
 * "containers": a Job's, each training-operator replica's) gets our
 * labels too, so the controllers put them on the pods and one pod watch
 * per namespace sees every trial's pods.
 */
static void label_pod_templates(cJSON *v, const char *experiment,
				const char *trial, int depth)
{
	cJSON *c, *md;

	if (!v || depth > 64)
		return;
	cJSON_ArrayForEach(c, v)
	{
		if (c->string && !strcmp(c->string, "template") &&
		    cJSON_IsObject(c) &&
		    cJSON_IsArray(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(c, "spec"), "containers"))) {
			md = cJSON_GetObjectItem(c, "metadata");
			if (!cJSON_IsObject(md)) {
				cJSON_DeleteItemFromObject(c, "metadata");
				md = cJSON_AddObjectToObject(c, "metadata");
			}
			set_labels(md, experiment, trial);
		}
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			label_pod_templates(c, experiment, trial, depth + 1);
	}
}

/* The rendered manifest with our namespace and labels, as text. */
static char *prepare_manifest(const struct backend_trial *bt, const char *ns,
			      char *av, size_t avsize, char *kind, size_t ksize,
			      struct kb_error *err)
{
	cJSON *obj = cJSON_Parse(bt->cmd->manifest), *md;
	const char *a, *k;
	char *text = NULL;

	a = cJSON_GetStringValue(cJSON_GetObjectItem(obj, "apiVersion"));
	k = cJSON_GetStringValue(cJSON_GetObjectItem(obj, "kind"));
	md = cJSON_GetObjectItem(obj, "metadata");
	if (!a || !k || !cJSON_IsObject(md)) {
		kb_error_set(err, -EINVAL, "spec.trialTemplate.trialSpec", 0,
			     "the rendered trial has no apiVersion, kind or "
			     "metadata");
		goto out;
	}
	snprintf(av, avsize, "%s", a);
	snprintf(kind, ksize, "%s", k);
	cJSON_DeleteItemFromObject(md, "namespace");
	cJSON_AddStringToObject(md, "namespace", ns);
	set_labels(md, bt->experiment, bt->name);
	label_pod_templates(cJSON_GetObjectItem(obj, "spec"), bt->experiment,
			    bt->name, 0);
	if (kube_inject_collector(obj, bt->spec, err))
		goto out;
	text = cJSON_PrintUnformatted(obj);
out:
	cJSON_Delete(obj);
	return text;
}

/* ---- backend_ops ---- */

static int k8s_start(void *priv, const struct backend_trial *bt,
		     struct trial_run *run, struct kb_error *err)
{
	struct kpriv *p = priv;
	const char *ns = trial_ns(p, bt);
	char av[128], kind[64], *manifest;
	struct ktrial *t;

	if (!bt->cmd || !bt->cmd->manifest)
		return kb_error_set(err, -EINVAL, "spec.trialTemplate", 0,
				    "no rendered trial manifest");
	manifest = prepare_manifest(bt, ns, av, sizeof(av), kind, sizeof(kind),
				    err);
	if (!manifest)
		return err && err->message[0] ? -EINVAL : -ENOMEM;
	pthread_mutex_lock(&p->lock);
	t = find_trial(p, bt->name);
	if (!t)
		t = trial_new(p, bt, av, kind, ns);
	if (t && !t->created) {
		free(t->manifest);
		t->manifest = manifest;
		manifest = NULL;
		write_marker(t);
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	free(manifest);
	if (!t)
		return kb_error_set(err, -ENOMEM, "", 0, "out of memory");
	run->pidfd = -1;
	run->priv = NULL; /* trials are found by name */
	return 0;
}

/* After a restart: what <dir>/kubernetes.json says about the trial. */
static struct ktrial *adopt(struct kpriv *p, const struct backend_trial *bt)
{
	char path[4200], *text = NULL;
	const cJSON *rs, *lb, *cs;
	cJSON *m;
	struct ktrial *t = NULL;
	const char *av, *kind, *ns, *man;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", bt->dir, MARKER_FILE);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	text = calloc(1, SPEC_MAX_BYTES * 2 + 1);
	n = text ? (long)fread(text, 1, SPEC_MAX_BYTES * 2, f) : 0;
	fclose(f);
	m = n > 0 ? cJSON_Parse(text) : NULL;
	free(text);
	av = cJSON_GetStringValue(cJSON_GetObjectItem(m, "apiVersion"));
	kind = cJSON_GetStringValue(cJSON_GetObjectItem(m, "kind"));
	ns = cJSON_GetStringValue(cJSON_GetObjectItem(m, "namespace"));
	man = cJSON_GetStringValue(cJSON_GetObjectItem(m, "manifest"));
	if (av && kind && ns)
		t = trial_new(p, bt, av, kind, ns);
	if (t) {
		t->created = cJSON_IsTrue(cJSON_GetObjectItem(m, "created"));
		rs = cJSON_GetObjectItem(m, "restarts");
		lb = cJSON_GetObjectItem(m, "logBase");
		t->restarts = cJSON_IsNumber(rs) ? rs->valueint : 0;
		t->log_base = cJSON_IsNumber(lb) ? (off_t)lb->valuedouble : 0;
		cs = cJSON_GetObjectItem(m, "collectorStopped");
		if (cJSON_IsNumber(cs))
			t->stopped_code = cs->valueint;
		t->created_at = now_mono();
		if (!t->created && man)
			t->manifest = strdup(man); /* finish what was begun */
		pthread_cond_broadcast(&p->cond);
	}
	cJSON_Delete(m);
	return t;
}

static enum trial_probe finished(struct ktrial *t, int code, int sig,
				 int *exit_code, int *term_signal)
{
	*exit_code = code;
	*term_signal = sig;
	if (!t->reported) {
		t->reported = 1;
		if (!t->retain && !t->delete_queued) {
			t->delete_queued = 1;
			pthread_cond_broadcast(&t->p->cond);
		}
	}
	return PROBE_EXITED;
}

static enum trial_probe probe_locked(struct kpriv *p, struct ktrial *t,
				     int *exit_code, int *term_signal)
{
	const cJSON *obj;
	double now = now_mono();
	int code;

	if (t->error[0])
		return finished(t, 1, 0, exit_code, term_signal);
	if (t->terminating &&
	    (t->retain || (!t->created && !t->manifest) ||
	     (t->w->synced && !cJSON_GetObjectItem(t->w->objs, t->name))))
		return finished(t, 1, 15, exit_code, term_signal);
	if (!t->w->synced || !t->created)
		return PROBE_RUNNING;
	obj = cJSON_GetObjectItemCaseSensitive(t->w->objs, t->name);
	if (t->stopped_code >= 0) /* its Custom collector overstayed */
		code = t->stopped_code;
	else if (!obj) {
		if (t->terminating)
			return finished(t, 1, 15, exit_code, term_signal);
		/* lost: absent although the watch has heard from the
		 * server for a while since it was created */
		if (now - t->created_at > LOST_GRACE &&
		    t->w->contact - t->created_at > LOST_GRACE)
			return PROBE_LOST;
		return PROBE_RUNNING;
	} else if (t->failure && kube_gjson_match(obj, t->failure))
		code = 1;
	else if (t->success && kube_gjson_match(obj, t->success))
		code = 0;
	else
		return PROBE_RUNNING;
	if (t->terminal_since <= 0)
		t->terminal_since = now;
	if ((!t->log_done || (t->scrape_started && !t->scrape_done)) &&
	    now - t->terminal_since < LOG_GRACE)
		return PROBE_RUNNING;
	return finished(t, code, 0, exit_code, term_signal);
}

static enum trial_probe k8s_probe(void *priv, const struct backend_trial *bt,
				  struct trial_run *run, int *exit_code,
				  int *term_signal)
{
	struct kpriv *p = priv;
	struct ktrial *t;
	enum trial_probe r;

	pthread_mutex_lock(&p->lock);
	t = find_trial(p, bt->name);
	if (!t && !(t = adopt(p, bt))) {
		pthread_mutex_unlock(&p->lock);
		return PROBE_NEVER_STARTED;
	}
	run->pidfd = -1;
	r = probe_locked(p, t, exit_code, term_signal);
	pthread_mutex_unlock(&p->lock);
	return r;
}

static int k8s_terminate(void *priv, const struct backend_trial *bt,
			 struct trial_run *run, int force)
{
	struct kpriv *p = priv;
	struct ktrial *t;

	pthread_mutex_lock(&p->lock);
	t = find_trial(p, bt->name);
	if (t) {
		t->terminating = 1;
		if (!t->created) { /* not sent yet: never send it */
			free(t->manifest);
			t->manifest = NULL;
		}
		if (!t->retain)
			t->delete_queued = 1;
		if (force && t->delete_done && !t->retain)
			t->delete_done = 0; /* ask again */
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return t ? 0 : -ESRCH;
}

static void k8s_release(void *priv, struct trial_run *run)
{
	run->pidfd = -1;
}

/* --kube-qps / --kube-burst: a positive number, or NULL (the default). */
static int rate_option(const char *text, const char *name, double *out,
		       struct kb_error *err)
{
	char *end;

	*out = 0;
	if (!text)
		return 0;
	*out = strtod(text, &end);
	if (end == text || *end || !(*out > 0) || *out > 1e6)
		return kb_error_set(err, -EINVAL, name, 0,
				    "'%s' is not a positive number of API "
				    "requests %s (e.g. %s)",
				    text,
				    strcmp(name, "--kube-qps") ? "at once"
							       : "a second",
				    strcmp(name, "--kube-qps") ? "100" : "50");
	return 0;
}

static int k8s_open(const struct backend_options *opt, void **priv,
		    struct kb_error *err)
{
	struct kube_config cfg;
	struct kpriv *p;
	double qps, burst;
	int rc;

	rc = rate_option(opt->kube_qps, "--kube-qps", &qps, err);
	if (!rc)
		rc = rate_option(opt->kube_burst, "--kube-burst", &burst, err);
	if (rc)
		return rc;
	rc = kube_config_load(opt->kubeconfig, opt->context, &cfg, err);
	if (rc)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p) {
		kube_config_free(&cfg);
		return kb_error_set(err, -ENOMEM, "", 0, "out of memory");
	}
	snprintf(p->ns, sizeof(p->ns), "%s",
		 opt->namespace	 ? opt->namespace
		 : cfg.namespace ? cfg.namespace
				 : "default");
	rc = kube_client_new(&cfg, &p->client, err);
	if (rc) {
		kube_config_free(&cfg);
		free(p);
		return rc;
	}
	p->wake = opt->wake;
	p->wake_arg = opt->wake_arg;
	p->trial_event = opt->trial_event;
	kube_client_set_rate(p->client, qps, burst);
	if (opt->event)
		kube_client_set_notify(p->client, opt->event, opt->wake_arg);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->worker, NULL, worker_main, p)) {
		kube_client_free(p->client);
		free(p);
		return kb_error_set(err, -EAGAIN, "", 0,
				    "cannot start a thread");
	}
	*priv = p;
	return 0;
}

static void k8s_close(void *priv)
{
	struct kpriv *p = priv;
	struct ktrial *t, *tn;
	struct kwatch *w, *wn;

	if (!p)
		return;
	/* the worker sends what is queued (deletes of finished trials)
	 * before the client is cancelled */
	pthread_mutex_lock(&p->lock);
	p->draining = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->worker, NULL);
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	kube_client_cancel(p->client);
	for (t = p->trials; t; t = t->next) {
		if (t->log_started)
			pthread_join(t->log_thread, NULL);
		if (t->scrape_started)
			pthread_join(t->scrape_thread, NULL);
	}
	for (w = p->watches; w; w = w->next)
		if (w->started)
			pthread_join(w->thread, NULL);
	for (t = p->trials; t; t = tn) {
		tn = t->next;
		trial_free(t);
	}
	for (w = p->watches; w; w = wn) {
		wn = w->next;
		cJSON_Delete(w->objs);
		free(w);
	}
	while (p->sweeps) {
		struct ksweep *sw = p->sweeps;

		p->sweeps = sw->next;
		free(sw);
	}
	kube_client_free(p->client);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void k8s_remove_experiment(void *priv, const char *experiment,
				  const struct experiment_spec *spec)
{
	const cJSON *ts = spec->trial_template.trial_spec;
	const char *av =
		cJSON_GetStringValue(cJSON_GetObjectItem(ts, "apiVersion"));
	const char *kind =
		cJSON_GetStringValue(cJSON_GetObjectItem(ts, "kind"));
	struct kpriv *p = priv;
	struct ksweep *sw;

	if (!av || !kind || !(sw = calloc(1, sizeof(*sw))))
		return;
	snprintf(sw->experiment, sizeof(sw->experiment), "%s", experiment);
	snprintf(sw->ns, sizeof(sw->ns), "%s",
		 spec->namespace ? spec->namespace : p->ns);
	snprintf(sw->api_version, sizeof(sw->api_version), "%s", av);
	snprintf(sw->kind, sizeof(sw->kind), "%s", kind);
	pthread_mutex_lock(&p->lock);
	sw->next = p->sweeps;
	p->sweeps = sw;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* ---- trialTemplate.configMap: the template, read from the cluster ---- */

/* The keys of a ConfigMap's data, "a, b", for a message. */
static void data_keys(const cJSON *data, char *buf, size_t size)
{
	const cJSON *it;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, data) if (used + 1 < size) used +=
		(size_t)snprintf(buf + used, size - used, "%s%s",
				 used ? ", " : "", it->string);
}

/* data[key] of a ConfigMap object (JSON text) in *text. */
static int configmap_data(const char *body, const char *ns, const char *name,
			  const char *key, char **text, struct kb_error *err)
{
	cJSON *j = cJSON_Parse(body), *data = cJSON_GetObjectItem(j, "data");
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(data, key));
	char keys[300];
	int rc = 0;

	if (!j)
		rc = kb_error_set(err, -EIO, CONFIGMAP_NAME_FIELD, 0,
				  "get ConfigMap %s/%s: the answer is not "
				  "JSON",
				  ns, name);
	else if (!v) {
		data_keys(data, keys, sizeof(keys));
		rc = kb_error_set(err, -EINVAL, CONFIGMAP_PATH_FIELD, 0,
				  "ConfigMap %s/%s has no key \"%s\" in its "
				  "data (it has: %s); name one of its keys, or "
				  "add the trial object under that key",
				  ns, name, key, keys[0] ? keys : "nothing");
	} else if (!(*text = strdup(v)))
		rc = -ENOMEM;
	cJSON_Delete(j);
	return rc;
}

/*
 * GET /api/v1/namespaces/NS/configmaps/NAME through the rate-limited
 * client, all of it within BACKEND_CONFIGMAP_TIMEOUT: a close() of
 * spec.yaml waits for it (without the model lock).
 */
static int k8s_read_configmap(void *priv, const char *exp_ns, const char *ns,
			      const char *name, const char *key, char **text,
			      struct kb_error *err)
{
	struct kpriv *p = priv;
	struct kube_response r;
	struct kb_error e;
	char path[1024], ens[300], ename[300], what[700], msg[300];
	int rc;

	*text = NULL;
	kube_urlencode(ns, ens, sizeof(ens));
	kube_urlencode(name, ename, sizeof(ename));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s", ens,
		 ename);
	snprintf(what, sizeof(what), "get configmaps %s in namespace %s", name,
		 ns);
	kb_error_clear(&e);
	rc = kube_get_within(p->client, path, what, BACKEND_CONFIGMAP_TIMEOUT,
			     &r, &e);
	if (rc == -EACCES) /* 401/403: e says which RBAC rule is missing */
		return kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				    "the trial template cannot be read: %s",
				    e.message);
	if (rc)
		return kb_error_set(err, -EIO, CONFIGMAP_NAME_FIELD, 0,
				    "the trial template cannot be read now "
				    "(%s); write the spec again once the "
				    "cluster answers",
				    e.message);
	kube_status_message(r.body, msg, sizeof(msg));
	if (r.status == 404)
		rc = kb_error_set(err, -EINVAL, CONFIGMAP_NAME_FIELD, 0,
				  "there is no ConfigMap %s in namespace %s "
				  "(%s): create it (kubectl apply -f its "
				  "manifest), or name one that exists",
				  name, ns, msg);
	else if (r.status != 200)
		rc = kb_error_set(err, -EIO, CONFIGMAP_NAME_FIELD, 0,
				  "%s: the API server answered %ld (%s); "
				  "write the spec again later",
				  what, r.status, msg);
	else
		rc = configmap_data(r.body, ns, name, key, text, err);
	kube_response_free(&r);
	return rc;
}

/* --namespace, else the context's, else "default" (set at open). */
static const char *k8s_default_namespace(void *priv)
{
	struct kpriv *p = priv;

	return p->ns;
}

/* A File collector's output: the sidecar's stream, appended here. */
static void k8s_collector_file(void *priv, const struct collector_spec *c,
			       const char *trial_dir, char *buf, size_t size)
{
	if (c->kind == COLLECTOR_TFEVENT) /* the event files' copy */
		snprintf(buf, size, "%s/" COLLECTOR_DIR, trial_dir);
	else
		snprintf(buf, size, "%s/" COLLECTOR_LOG, trial_dir);
}

const struct backend_ops kubernetes_backend = {
	.name = "kubernetes",
	.open = k8s_open,
	.close = k8s_close,
	.start = k8s_start,
	.probe = k8s_probe,
	.terminate = k8s_terminate,
	.release = k8s_release,
	.default_namespace = k8s_default_namespace,
	.remove_experiment = k8s_remove_experiment,
	.collectors = BACKEND_COLLECTOR(COLLECTOR_STDOUT) |
		      BACKEND_COLLECTOR(COLLECTOR_FILE) |
		      BACKEND_COLLECTOR(COLLECTOR_TFEVENT) |
		      BACKEND_COLLECTOR(COLLECTOR_PROMETHEUS) |
		      BACKEND_COLLECTOR(COLLECTOR_CUSTOM) |
		      BACKEND_COLLECTOR(COLLECTOR_NONE),
	.collects_itself = BACKEND_COLLECTOR(COLLECTOR_PROMETHEUS) |
			   BACKEND_COLLECTOR(COLLECTOR_CUSTOM),
	.renders_manifest = 1,
	.collector_file = k8s_collector_file,
	.read_configmap = k8s_read_configmap,
};
