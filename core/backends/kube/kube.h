/*
 * kube.h - the small Kubernetes client under the kubernetes backend
 * (core/backends/kube/, core/backends/executor_kubernetes.c).
 *
 *   kubeconfig.c  where the cluster is and who we are, read as kubectl
 *                 does (--kubeconfig, $KUBECONFIG, ~/.kube/config, the
 *                 in-cluster service account)
 *   client.c      libcurl requests with timeouts, a token bucket,
 *                 Retry-After on 429, backoff with jitter on 5xx and
 *                 network errors, clear 401/403 errors, single-flight
 *                 API discovery, streams, shared keep-alive connections
 *   gjson.c       the GJSON path subset Katib's success/failure
 *                 conditions use
 *   collectors.c  the metrics collectors as Katib injects them into the
 *                 primary pod, and the TensorFlowEvent sidecar's stream
 *
 * The backend itself (executor_kubernetes.c) has its other files here
 * too, sharing backend_i.h, which lists them.
 *
 * Nothing here is called with the model lock held: the backend's own
 * threads make the requests.
 */
#ifndef KATIB_KUBE_H
#define KATIB_KUBE_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "katib/error.h"
#include "katib/spec.h"

/* ---- kubeconfig ---- */

struct kube_config {
	char *source;  /* file read, or "in-cluster" */
	char *context; /* context used (NULL in-cluster) */
	char *server;  /* https://host:port, no trailing slash */
	char *ca_file; /* certificate-authority (absolute) */
	char *ca_data; /* certificate-authority-data (PEM) */
	size_t ca_len;
	char *cert_file, *key_file;
	char *cert_data, *key_data; /* PEM */
	size_t cert_len, key_len;
	char *token;	  /* bearer token, or NULL */
	char *token_file; /* re-read on every use (rotated tokens) */
	int insecure;	  /* insecure-skip-tls-verify */
	char *namespace;  /* context namespace, or NULL */
	/* exec credential plugin (client.authentication.k8s.io) */
	char **exec_argv; /* NULL-terminated, or NULL */
	char **exec_env;  /* "NAME=value", NULL-terminated, or NULL */
	char *exec_api_version;
};

/*
 * Load the configuration as kubectl would: `path` (--kubeconfig) if given,
 * else the first existing file of $KUBECONFIG (colon-separated), else
 * ~/.kube/config, else the in-cluster service account
 * ($KUBERNETES_SERVICE_HOST/PORT and the files in
 * $KATIBFS_SERVICEACCOUNT_DIR or /var/run/secrets/kubernetes.io/
 * serviceaccount). `context` (--context) overrides current-context.
 * 0, or -ENOENT/-EINVAL with err naming the file and field.
 */
int kube_config_load(const char *path, const char *context,
		     struct kube_config *out, struct kb_error *err);
/* Parse kubeconfig text (for tests); dir resolves relative file paths. */
int kube_config_parse(const char *text, size_t len, const char *dir,
		      const char *context, struct kube_config *out,
		      struct kb_error *err);
void kube_config_free(struct kube_config *c);

/* ---- client ---- */

#define KUBE_CONNECT_TIMEOUT 5	/* seconds, every request */
#define KUBE_REQUEST_TIMEOUT 30 /* seconds, requests that are not streams */
#define KUBE_RETRIES	     6	/* attempts on 429/5xx/network errors */
#define KUBE_DEFAULT_QPS     50 /* client-side rate limit, as client-go's */
#define KUBE_DEFAULT_BURST   100

struct kube_client;

struct kube_response {
	long status; /* HTTP status, 0 if none arrived */
	char *body;  /* NUL-terminated, heap */
	size_t len;
};

/* cfg is moved into the client (and zeroed). */
int kube_client_new(struct kube_config *cfg, struct kube_client **out,
		    struct kb_error *err);
void kube_client_free(struct kube_client *c);
/* Make every later request (and running stream) give up soon. */
void kube_client_cancel(struct kube_client *c);
/* The client-side token bucket: qps requests a second on average, up to
 * burst at once (--kube-qps, --kube-burst; <= 0: the defaults). */
void kube_client_set_rate(struct kube_client *c, double qps, double burst);
/* notify(arg, msg) once when requests start failing to connect and once
 * when the server answers again (for the experiments' events). Called on
 * a backend thread, without any of the client's locks. */
void kube_client_set_notify(struct kube_client *c,
			    void (*notify)(void *arg, const char *msg),
			    void *arg);
/* Requests made so far (all verbs, retries included). */
unsigned long kube_client_requests(struct kube_client *c);

/*
 * One request: verb, path (+query), optional JSON body. Retries 429, 5xx
 * and network errors with backoff. Returns 0 with resp filled for any HTTP
 * answer (check resp->status), or a negative errno with err saying what
 * failed. 401/403 answers also fill err ("<verb> <what>: 403 Forbidden:
 * ...; needs RBAC ...") and return -EACCES (resp left empty). `what` names the
 * request in messages ("create jobs.batch in namespace default").
 */
int kube_request(struct kube_client *c, const char *verb, const char *path,
		 const char *body, const char *content_type, const char *what,
		 struct kube_response *resp, struct kb_error *err);
void kube_response_free(struct kube_response *r);
/* A GET as kube_request(), all of it (retries, backoff, Retry-After)
 * within `seconds` (at least 1): for a caller that someone waits on. */
int kube_get_within(struct kube_client *c, const char *path, const char *what,
		    double seconds, struct kube_response *resp,
		    struct kb_error *err);
/*
 * A GET through the API server to something behind it (a pod's proxy
 * subresource): as kube_request, except that a 5xx answer is the
 * target's (503: nothing listens there) and is returned, not retried.
 */
int kube_get_through(struct kube_client *c, const char *path, const char *what,
		     struct kube_response *resp, struct kb_error *err);

/*
 * A streaming GET (watch, log follow): `data` is called with each piece as
 * it arrives (return 0 to go on, non-zero to stop). No retry. Returns 0
 * when the stream ended (*status set), or a negative errno.
 */
int kube_stream(struct kube_client *c, const char *path, long max_seconds,
		int (*data)(void *arg, const char *buf, size_t len), void *arg,
		long *status, struct kb_error *err);

/* The message of a Status object in body, or the body itself. */
void kube_status_message(const char *body, char *buf, size_t size);

/*
 * Discovery: the REST collection path of apiVersion/kind in namespace ns
 * ("/apis/batch/v1/namespaces/default/jobs"); cached. plural may be NULL.
 * -ENOENT with err when the server does not serve that kind.
 */
int kube_collection_path(struct kube_client *c, const char *api_version,
			 const char *kind, const char *ns, char *buf,
			 size_t size, char *plural, size_t plural_size,
			 struct kb_error *err);

/* Percent-encode s for a query string. */
void kube_urlencode(const char *s, char *buf, size_t size);

/* ---- GJSON subset ---- */

/*
 * Evaluate a GJSON path on root: a.b.c, array indexes, `#` (count, or map
 * when more follows), `#(path op value)` (first match) and `#(...)#` (all
 * matches) with ==, !=, <, <=, >, >=, % and !% (wildcards * and ?), the
 * `|` pipe, `@this` and `[p1,p2]` multipaths. Returns a new value (free
 * with cJSON_Delete) or NULL when nothing matches.
 */
cJSON *kube_gjson_get(const cJSON *root, const char *path);

/*
 * Katib's test of successCondition/failureCondition: the path yields
 * something that is not null, false or an empty array. 1 or 0.
 */
int kube_gjson_match(const cJSON *root, const char *path);

/* ---- metrics collectors (collectors.c) ---- */

/* The name of the container katibfs adds for a File or TensorFlowEvent
 * collector (a native sidecar whose log carries the collector's output). */
#define KUBE_COLLECTOR_CONTAINER "katibfs-metrics-collector"

/*
 * Add what the spec's collector needs to the trial object obj (its pod
 * template holding the primary container): the File and TensorFlowEvent
 * sidecars, the Custom collector's container. 0, or -EINVAL with err
 * naming the field.
 */
int kube_inject_collector(cJSON *obj, const struct experiment_spec *spec,
			  struct kb_error *err);

/* The Custom collector's container name (its own, or Katib's default). */
const char *kube_custom_container(const struct collector_spec *c);

/* A problem for the trial's events. */
typedef void (*kube_problem_fn)(void *ctx, const char *what);

/*
 * Take the whole frames of the TensorFlowEvent sidecar's stream (a copy
 * of its log at `stream`) after byte *done, write their bytes into the
 * copy of the event directory at dir (at their offsets: bytes the copy
 * has already are not written again), and move *done past them. A frame
 * still arriving is left for the next call. 0 or a negative errno.
 */
int kube_tfevent_mirror(const char *stream, off_t *done, const char *dir,
			kube_problem_fn problem, void *ctx);

#endif
