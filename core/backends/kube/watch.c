/*
 * watch.c - the kubernetes backend's watches (backend_i.h): one per
 * apiVersion, kind, namespace and label selector, each a thread that lists
 * the objects, then watches from the list's resourceVersion with
 * bookmarks, relisting on 410 Gone; its cache (kwatch.objs: name -> latest
 * object) is read under p->lock. Owns the watches, freed by k8s_close.
 */
#include "backends/kube/backend_i.h"
#include "util/strbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	w->contact = k8s_now();
	p->news++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	cJSON_Delete(j);
	k8s_wake(p);
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
		s->w->contact = k8s_now();
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
		k8s_wake(s->w->p);
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
	started = k8s_now();
	rc = kube_stream(w->p->client, path, WATCH_SECONDS + 30, watch_data, &s,
			 &status, &err);
	strbuf_free(&s.line);
	if (s.gone == 1 || status == 410)
		return 1;
	if (rc || status != 200 || k8s_now() - started < 1)
		k8s_backoff_nap(w->p, &w->fails,
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
		k8s_nap(p, 2000);
	}
	while (!p->stop) {
		if (relist && watch_list(w)) {
			k8s_backoff_nap(p, &w->fails, 16000);
			continue;
		}
		relist = watch_once(w);
	}
	return NULL;
}

struct kwatch *k8s_watch_for(struct kpriv *p, const char *av, const char *kind,
			     const char *ns, const char *selector)
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
