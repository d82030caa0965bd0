/*
 * mux.h - the I/O thread of a Kubernetes client (mux.c): one libcurl multi
 * handle that carries every transfer of the client (requests, watches, log
 * follows), so that with HTTP/2 they are streams of one connection.
 * Private to core/backends/kube/.
 */
#ifndef KATIB_KUBE_MUX_H
#define KATIB_KUBE_MUX_H

#include <curl/curl.h>
#include <stddef.h>

/* Over HTTP/1.1 every transfer in flight needs a connection of its own
 * (each open log stream and watch holds one): at most this many to the
 * server, later transfers wait for one. Over HTTP/2 a connection carries
 * up to KUBE_MAX_STREAMS transfers (or fewer, if the server says so). */
#define KUBE_MAX_CONNECTIONS 512
#define KUBE_MAX_STREAMS     250

struct kube_mux;

/* A piece of a response body, on the caller's thread: status is the
 * answer's HTTP status. Non-zero: stop the transfer. */
typedef int (*kube_piece_fn)(void *arg, long status, const char *buf,
			     size_t len);

/* 0, or -ENOMEM / -EAGAIN (no thread). */
int kube_mux_new(struct kube_mux **out);
/* No transfer may be in flight. */
void kube_mux_free(struct kube_mux *m);
/* End every transfer in flight, and every later one at once
 * (CURLE_ABORTED_BY_CALLBACK). */
void kube_mux_cancel(struct kube_mux *m);

/*
 * Run easy handle h on the I/O thread and wait for its end, as
 * curl_easy_perform(). With piece, the body goes to piece on this thread
 * (h's own write function is replaced; a piece returning non-zero ends the
 * transfer with CURLE_WRITE_ERROR); without, h's callbacks run on the I/O
 * thread while this one waits. h is the caller's again when this returns.
 */
CURLcode kube_mux_perform(struct kube_mux *m, CURL *h, kube_piece_fn piece,
			  void *arg);

#endif
