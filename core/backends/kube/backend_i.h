/*
 * backend_i.h - the kubernetes backend's insides, shared by its files and
 * by nothing else: its state (struct kpriv), a trial's (struct ktrial), a
 * watch's (struct kwatch), and what each file gives the others.
 *
 *   executor_kubernetes.c  backend_ops: start, probe, terminate, release,
 *                          open, close; configMap templates
 *   kube/trials.c          the trial table; a trial's selectors, watches,
 *                          manifest and marker file
 *   kube/worker.c          the worker thread: creates, deletes, sweeps
 *   kube/watch.c           the watches and their caches
 *   kube/pods.c            what the pod cache says of a trial's pods
 *   kube/pod_logs.c        the log followers
 *   kube/scrape.c          PrometheusMetric scraping
 *   kube/kthreads.c        the threads' clock, naps, wakes and notes
 *
 * p->lock guards the trial list, the watches' caches and every ktrial
 * field the threads share; the threads read p->stop without it. The
 * network is only ever used by the backend's own threads.
 */
#ifndef KATIB_KUBE_BACKEND_I_H
#define KATIB_KUBE_BACKEND_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "backends/kube/kube.h"
#include "collectors/prometheus.h"
#include "katib/backend.h"

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

/* ---- kube/kthreads.c ---- */

/* CLOCK_MONOTONIC in seconds. */
double k8s_now(void);

/* Tell the controller something changed (its wake callback). */
void k8s_wake(struct kpriv *p);

/* Sleep up to ms, returning early when the backend closes. */
void k8s_nap(struct kpriv *p, long ms);

/* Sleep up to ms, or until a watch cache changes after `seen` (p->news
 * then): no change is missed between looking and sleeping. */
void k8s_nap_news(struct kpriv *p, unsigned long seen, long ms);

/*
 * After the fails-th failure in a row (connection refused, a stream cut
 * at once): wait 250 ms doubling up to max_ms (at most 16 s), half of it
 * random (jitter), so that many followers do not hammer a server that is down
 * in step.
 */
void k8s_backoff_nap(struct kpriv *p, int *fails, long max_ms);

/* Append text to a trial's log (errors the user should read there). */
void k8s_log_note(const char *path, const char *fmt, const char *msg);

/* A line "trial N: msg" in the trial's experiment's events (no lock of
 * ours held). */
void k8s_trial_event(struct ktrial *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- kube/watch.c ---- */

/* The watch of apiVersion/kind in ns, started if new. Lock held. */
struct kwatch *k8s_watch_for(struct kpriv *p, const char *av, const char *kind,
			     const char *ns, const char *selector);

/* ---- kube/pods.c ---- */

/*
 * The primary pod of t in the namespace's pod watch cache (lock held):
 * named <trial>-..., labelled as the selector says. NULL when none yet.
 */
const cJSON *k8s_cached_pod(struct ktrial *t);

/* The pod's status.phase ("Pending" when it has none yet). */
const char *k8s_pod_phase(const cJSON *pod);

/* Is a pod in this phase done (Succeeded or Failed)? */
int k8s_phase_done(const char *phase);

/* Is the trial's object finished (or gone)? */
int k8s_object_finished(struct ktrial *t);

/*
 * What is wrong with container `name` of the pod, for events: waiting for
 * a reason that is not its normal start (an image that cannot be pulled,
 * a crash loop, a bad config), or ended with a non-zero exit code. 0 when
 * nothing is.
 */
int k8s_container_problem(const cJSON *pod, const char *name, char *buf,
			  size_t size);

/* Has container `name` of the pod ended (state terminated)? Its exit
 * code into *code. */
int k8s_container_ended(const cJSON *pod, const char *name, int *code);

/*
 * The object ended at `since` and no pod of it is in the cache: is that
 * the truth? Only once the pod watch has heard from the server (events,
 * bookmarks, a list) well after that: a lagging watch (cut, relisting,
 * throttled) is no proof.
 */
int k8s_pod_never(struct ktrial *t, double since);

/* ---- kube/pod_logs.c ---- */

/* Start t's log follower (the worker does, once t is created; lock held). */
void k8s_start_log(struct ktrial *t);

/* ---- kube/scrape.c ---- */

/* Start t's PrometheusMetric scraper (as k8s_start_log). */
void k8s_start_scrape(struct ktrial *t);

/* ---- kube/worker.c ---- */

/* The worker thread (arg: the struct kpriv), until the backend closes. */
void *k8s_worker_main(void *arg);

/* ---- kube/trials.c ---- */

/* Write t's marker file (kubernetes.json in its directory): its object,
 * whether it was created, its log's restarts, the manifest until created. */
void k8s_write_marker(struct ktrial *t);

/* Free t and what it owns (its threads have ended; the caller took it
 * off the table). */
void k8s_trial_free(struct ktrial *t);

/* The trial named `name` in the table, or NULL (lock held). */
struct ktrial *k8s_find_trial(struct kpriv *p, const char *name);

/* The trial's namespace: its spec's, else the backend's default. */
const char *k8s_trial_ns(struct kpriv *p, const struct backend_trial *bt);

/* A new trial in the table for bt, whose object is av/kind in ns, with
 * its watches (lock held). NULL when out of memory. */
struct ktrial *k8s_trial_new(struct kpriv *p, const struct backend_trial *bt,
			     const char *av, const char *kind, const char *ns);

/* The rendered manifest with our namespace and labels, as text. */
char *k8s_prepare_manifest(const struct backend_trial *bt, const char *ns,
			   char *av, size_t avsize, char *kind, size_t ksize,
			   struct kb_error *err);

#endif
