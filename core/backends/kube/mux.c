/*
 * mux.c - the one I/O thread of a Kubernetes client (mux.h): a libcurl
 * multi handle carrying every transfer, so that the client holds a few
 * TCP connections however many log streams and watches are open, as
 * client-go does. HTTP/2 (ALPN h2) multiplexes every transfer onto one TLS
 * connection (CURLPIPE_MULTIPLEX; CURLOPT_PIPEWAIT makes a new transfer
 * wait for a connection it may share rather than open one); over HTTP/1.1
 * each transfer in flight needs its own, up to KUBE_MAX_CONNECTIONS.
 *
 * Callers block in kube_mux_perform() as in curl_easy_perform(); the
 * rate limit, retries and backoff stay theirs (client.c). A stream's body
 * is queued and handed to the caller's thread, so a slow consumer never
 * holds up the other transfers' I/O. Owns: the multi handle and the
 * thread; each transfer's record lives on its caller's stack.
 */
#include "backends/kube/mux.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* A stream body not yet taken by its caller, at most this much (more:
 * the transfer ends with a write error; its caller resumes it). */
#define MUX_BACKLOG (16 * 1024 * 1024)

struct kube_mux;

struct xfer {
	CURL *h;
	struct kube_mux *m;
	pthread_cond_t cond;
	kube_piece_fn piece;
	struct strbuf pending; /* body not yet handed over (piece) */
	long status;
	int stop; /* the caller wants no more */
	int done;
	CURLcode result;
	struct xfer *next; /* in the adds queue, then the active list */
};

struct kube_mux {
	CURLM *multi;
	pthread_t thread;
	pthread_mutex_t lock;
	struct xfer *adds;   /* submitted, not yet in the multi (lock) */
	int stops;	     /* some transfer has stop set (lock) */
	int cancelled, quit; /* (lock) */
	struct xfer *active; /* in the multi: the I/O thread's only */
};

/* The transfer ended: its caller takes h back. */
static void finish(struct kube_mux *m, struct xfer *x, CURLcode cc)
{
	pthread_mutex_lock(&m->lock);
	x->done = 1;
	x->result = cc;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&m->lock); /* x may be gone from here on */
}

static void unlink_active(struct kube_mux *m, struct xfer *x)
{
	struct xfer **pp;

	for (pp = &m->active; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			return;
		}
}

/* Into the multi, in the order submitted (the queue is newest first). */
static void start(struct kube_mux *m, struct xfer *adds, int cancelled)
{
	struct xfer *x, *rev = NULL;

	while (adds) {
		x = adds;
		adds = x->next;
		x->next = rev;
		rev = x;
	}
	while (rev) {
		x = rev;
		rev = x->next;
		if (cancelled) {
			finish(m, x, CURLE_ABORTED_BY_CALLBACK);
		} else if (curl_multi_add_handle(m->multi, x->h) != CURLM_OK) {
			finish(m, x, CURLE_FAILED_INIT);
		} else {
			x->next = m->active;
			m->active = x;
		}
	}
}

/* End the transfers whose callers stopped them (all when cancelled). */
static void sweep(struct kube_mux *m, int cancelled)
{
	struct xfer *x = m->active, *next;
	int stop;

	for (; x; x = next) {
		next = x->next;
		pthread_mutex_lock(&m->lock);
		stop = x->stop;
		pthread_mutex_unlock(&m->lock);
		if (!stop && !cancelled)
			continue;
		curl_multi_remove_handle(m->multi, x->h);
		unlink_active(m, x);
		finish(m, x,
		       cancelled ? CURLE_ABORTED_BY_CALLBACK
				 : CURLE_WRITE_ERROR);
	}
}

/* The transfers curl has finished. */
static void reap(struct kube_mux *m)
{
	struct xfer *x;
	CURLMsg *msg;
	CURLcode cc;
	CURL *h;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		h = msg->easy_handle;
		cc = msg->data.result;
		x = NULL;
		curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(m->multi, h);
		if (!x)
			continue;
		unlink_active(m, x);
		finish(m, x, cc);
	}
}

static void *mux_main(void *arg)
{
	struct kube_mux *m = arg;
	struct xfer *adds;
	int running, stops, cancelled, quit;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		adds = m->adds;
		m->adds = NULL;
		stops = m->stops;
		m->stops = 0;
		cancelled = m->cancelled;
		quit = m->quit;
		pthread_mutex_unlock(&m->lock);
		start(m, adds, cancelled || quit);
		if (stops || cancelled || quit)
			sweep(m, cancelled || quit);
		if (quit)
			break;
		curl_multi_perform(m->multi, &running);
		reap(m);
		curl_multi_poll(m->multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

int kube_mux_new(struct kube_mux **out)
{
	struct kube_mux *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->multi = curl_multi_init();
	if (!m->multi) {
		free(m);
		return -ENOMEM;
	}
	curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)KUBE_MAX_CONNECTIONS);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
			  (long)KUBE_MAX_STREAMS);
	pthread_mutex_init(&m->lock, NULL);
	if (pthread_create(&m->thread, NULL, mux_main, m)) {
		pthread_mutex_destroy(&m->lock);
		curl_multi_cleanup(m->multi);
		free(m);
		return -EAGAIN;
	}
	*out = m;
	return 0;
}

static void poke(struct kube_mux *m)
{
	curl_multi_wakeup(m->multi);
}

void kube_mux_free(struct kube_mux *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->quit = 1;
	pthread_mutex_unlock(&m->lock);
	poke(m);
	pthread_join(m->thread, NULL);
	curl_multi_cleanup(m->multi);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void kube_mux_cancel(struct kube_mux *m)
{
	pthread_mutex_lock(&m->lock);
	m->cancelled = 1;
	pthread_mutex_unlock(&m->lock);
	poke(m);
}

/* curl's write function for a handed-over body (on the I/O thread). */
static size_t queue_piece(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	long status = 0;
	int ok;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	pthread_mutex_lock(&x->m->lock);
	x->status = status;
	ok = !x->stop && x->pending.len + len <= MUX_BACKLOG &&
	     !strbuf_append(&x->pending, p, len);
	if (ok)
		pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->m->lock);
	return ok ? len : 0;
}

/* Hand the queued body to the caller's piece until the transfer ends.
 * Called and returns with the lock held. */
static void take_pieces(struct kube_mux *m, struct xfer *x, void *arg)
{
	struct strbuf got = { 0 }, tmp;
	long status;
	int stopped = 0;

	for (;;) {
		while (!x->done && !x->pending.len)
			pthread_cond_wait(&x->cond, &m->lock);
		if (!x->pending.len)
			break;
		tmp = got;
		got = x->pending;
		x->pending = tmp;
		x->pending.len = 0;
		status = x->status;
		pthread_mutex_unlock(&m->lock);
		if (!stopped && x->piece(arg, status, got.data, got.len)) {
			stopped = 1;
			pthread_mutex_lock(&m->lock);
			x->stop = 1;
			m->stops = 1;
			pthread_mutex_unlock(&m->lock);
			poke(m);
		}
		pthread_mutex_lock(&m->lock);
	}
	strbuf_free(&got);
}

CURLcode kube_mux_perform(struct kube_mux *m, CURL *h, kube_piece_fn piece,
			  void *arg)
{
	struct xfer x = { .h = h, .m = m, .piece = piece };

	pthread_cond_init(&x.cond, NULL);
	curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)&x);
	curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	if (piece) {
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, queue_piece);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	}
	pthread_mutex_lock(&m->lock);
	x.next = m->adds;
	m->adds = &x;
	pthread_mutex_unlock(&m->lock);
	poke(m);
	pthread_mutex_lock(&m->lock);
	if (piece)
		take_pieces(m, &x, arg);
	while (!x.done)
		pthread_cond_wait(&x.cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
	curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
	strbuf_free(&x.pending);
	pthread_cond_destroy(&x.cond);
	return x.result;
}
