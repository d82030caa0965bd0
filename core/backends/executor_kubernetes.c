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
 * This file is the backend_ops (and trialTemplate.configMap's reading);
 * the threads and the trial table are in core/backends/kube/ (listed in
 * kube/backend_i.h).
 *
 * Owns: the backend's state from open to close (the API client, the watches
 * and their threads) and each trial's handle (trial_run.priv, freed by
 * release).
 */
#include "backends/kube/backend_i.h"
#include "collectors/collector_path.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int k8s_start(void *priv, const struct backend_trial *bt,
		     struct trial_run *run, struct kb_error *err)
{
	struct kpriv *p = priv;
	const char *ns = k8s_trial_ns(p, bt);
	char av[128], kind[64], *manifest;
	struct ktrial *t;

	if (!bt->cmd || !bt->cmd->manifest)
		return kb_error_set(err, -EINVAL, "spec.trialTemplate", 0,
				    "no rendered trial manifest");
	manifest = k8s_prepare_manifest(bt, ns, av, sizeof(av), kind,
					sizeof(kind), err);
	if (!manifest)
		return err && err->message[0] ? -EINVAL : -ENOMEM;
	pthread_mutex_lock(&p->lock);
	t = k8s_find_trial(p, bt->name);
	if (!t)
		t = k8s_trial_new(p, bt, av, kind, ns);
	if (t && !t->created) {
		free(t->manifest);
		t->manifest = manifest;
		manifest = NULL;
		k8s_write_marker(t);
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
		t = k8s_trial_new(p, bt, av, kind, ns);
	if (t) {
		t->created = cJSON_IsTrue(cJSON_GetObjectItem(m, "created"));
		rs = cJSON_GetObjectItem(m, "restarts");
		lb = cJSON_GetObjectItem(m, "logBase");
		t->restarts = cJSON_IsNumber(rs) ? rs->valueint : 0;
		t->log_base = cJSON_IsNumber(lb) ? (off_t)lb->valuedouble : 0;
		cs = cJSON_GetObjectItem(m, "collectorStopped");
		if (cJSON_IsNumber(cs))
			t->stopped_code = cs->valueint;
		t->created_at = k8s_now();
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
	double now = k8s_now();
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
	t = k8s_find_trial(p, bt->name);
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
	t = k8s_find_trial(p, bt->name);
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
	if (pthread_create(&p->worker, NULL, k8s_worker_main, p)) {
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
		k8s_trial_free(t);
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
