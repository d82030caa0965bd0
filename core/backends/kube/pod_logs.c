/*
 * pod_logs.c - a running trial's log follower (backend_i.h): a thread that
 * waits for the primary pod, then streams the primary container's log
 * into the trial's log_path (and a collector sidecar's or Custom
 * container's into the trial directory, mirroring TensorFlowEvent frames),
 * following again after a cut or a restart without writing a byte twice.
 * Owns its followers (on its thread's stack).
 */
#include "backends/kube/backend_i.h"
#include "collectors/collect.h"
#include "collectors/collector_path.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	k8s_trial_event(ctx, "TensorFlowEvent collector: %s", what);
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
	k8s_wake(s->t->p);
	return s->t->p->stop;
}

static void note_restarts(struct ktrial *t, const cJSON *pod);

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
		k8s_write_marker(t);
	}
	pthread_mutex_unlock(&t->p->lock);
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
	double deadline = k8s_now() + LOG_SETTLE;
	const cJSON *obj;
	cJSON *copy;
	int restarts, gone, done, changed;
	unsigned long seen;

	pthread_mutex_lock(&t->p->lock);
	restarts = t->restarts;
	pthread_mutex_unlock(&t->p->lock);
	while (!t->p->stop && k8s_now() < deadline) {
		pthread_mutex_lock(&t->p->lock);
		seen = t->p->news;
		obj = cJSON_GetObjectItemCaseSensitive(t->pw->objs, pod);
		copy = obj ? cJSON_Duplicate(obj, 1) : NULL;
		gone = t->pw->synced && !obj;
		pthread_mutex_unlock(&t->p->lock);
		if (gone)
			return 1;
		done = copy && k8s_phase_done(k8s_pod_phase(copy));
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
		k8s_nap_news(t->p, seen, 500);
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
		k8s_write_marker(t);
		pthread_mutex_unlock(&t->p->lock);
		close(fd);
		k8s_wake(t->p);
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
		k8s_backoff_nap(t->p, fails, 2000);
		return 0;
	}
	*fails = 0;
	if (rc)
		return 0; /* cut before its end: go on where it stopped */
	return pod_settled(t, pod, f == NULL);
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
	      k8s_container_problem(obj, t->side, what, sizeof(what));
	if (bad)
		t->side_noted = 1;
	pthread_mutex_unlock(&t->p->lock);
	if (bad)
		k8s_trial_event(
			t,
			"Custom collector (collector.customCollector): "
			"container %s of pod %s/%s %s; the trial's other "
			"observations are kept",
			t->side, t->ns, pod, what);
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
	double now = k8s_now();

	if (t->ckind != COLLECTOR_CUSTOM || !t->side[0])
		return 0;
	pthread_mutex_lock(&t->p->lock);
	if (t->stopped_code >= 0) {
		stop = -1; /* decided already */
	} else if (!k8s_container_ended(obj, t->container, &code) ||
		   k8s_container_ended(obj, t->side, &side_code)) {
		t->primary_ended_at = 0;
	} else if (!t->primary_ended_at) {
		t->primary_ended_at = now;
	} else if (now - t->primary_ended_at >= COLLECTOR_EXIT_GRACE) {
		t->stopped_code = code;
		t->delete_queued = 1; /* retain or not: it would run on */
		k8s_write_marker(t);
		pthread_cond_broadcast(&t->p->cond);
		stop = 1;
	}
	pthread_mutex_unlock(&t->p->lock);
	if (stop == 1)
		k8s_trial_event(
			t,
			"Custom collector (collector.customCollector): "
			"container %s of pod %s/%s did not exit within "
			"%d s of the primary container's end and was "
			"stopped (%s %s deleted%s); the trial ends on the "
			"primary's exit code %d, with the observations "
			"collected (a collector should end when the trial "
			"does)",
			t->side, t->ns, pod, COLLECTOR_EXIT_GRACE, t->kind,
			t->name, t->retain ? ", retain notwithstanding" : "",
			code);
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
		double started = k8s_now();

		refresh_restarts(t, pod); /* restarted while we were away? */
		fetch_previous(t, pod);
		if (t->p->stop || follow_once(t, pod, t->container, t->log_path,
					      NULL, &fails))
			break;
		if (k8s_now() - started < 1)
			k8s_nap(t->p, 500); /* no busy loop on quick hang-ups */
	}
	if (side)
		pthread_join(th, NULL);
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
		obj = t->pw->synced ? k8s_cached_pod(t) : NULL;
		copy = obj ? cJSON_Duplicate(obj, 1) : NULL;
		pthread_mutex_unlock(&p->lock);
		if (!copy) { /* the object ended without a pod: give up */
			if (!k8s_object_finished(t))
				missing_since = 0;
			else if (!missing_since)
				missing_since = k8s_now();
			else if (k8s_pod_never(t, missing_since))
				break;
			k8s_nap_news(p, seen,
				     1000); /* woken by the pod watch */
			continue;
		}
		snprintf(pod, sizeof(pod), "%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(copy, "metadata"),
				 "name")));
		pending = !strcmp(k8s_pod_phase(copy), "Pending");
		note_restarts(t, copy);
		cJSON_Delete(copy);
		if (pending) {
			if (t->ckind == COLLECTOR_CUSTOM) /* image pull... */
				note_custom(t, pod);
			k8s_nap_news(p, seen, 1000);
			continue;
		}
		follow_pod(t, pod);
		break;
	}
	pthread_mutex_lock(&p->lock);
	t->log_done = !p->stop;
	t->log_exited = 1;
	pthread_mutex_unlock(&p->lock);
	k8s_wake(p);
	return NULL;
}

void k8s_start_log(struct ktrial *t)
{
	if (pthread_create(&t->log_thread, NULL, log_main, t) == 0)
		t->log_started = 1;
	else
		t->log_done = 1;
}
