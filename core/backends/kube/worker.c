/*
 * worker.c - the kubernetes backend's worker thread (backend_i.h): it
 * creates trial objects (retrying while the server is unreachable),
 * deletes them, starts each created trial's log follower and scraper,
 * frees the trials released and ended, and sweeps what an rmdir left in
 * the cluster. Owns the sweeps it was handed (struct ksweep).
 */
#include "backends/kube/backend_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
		t->retry_at = k8s_now() + t->backoff;
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
		k8s_log_note(t->log_path, "katibfs: %s\n", reason);
	}
	pthread_mutex_lock(&p->lock);
	if (rc) {
		snprintf(t->error, sizeof(t->error), "%s", reason);
	} else {
		t->created = 1;
		t->created_at = k8s_now();
		free(t->manifest);
		t->manifest = NULL;
		k8s_write_marker(t);
	}
	pthread_mutex_unlock(&p->lock);
	k8s_wake(p);
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
	k8s_wake(p);
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
		k8s_trial_free(t);
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
		    k8s_now() >= t->retry_at) {
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
			k8s_start_log(t);
			if (t->ckind == COLLECTOR_PROMETHEUS)
				k8s_start_scrape(t);
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

void *k8s_worker_main(void *arg)
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
