/*
 * scrape.c - the PrometheusMetric collector of the kubernetes backend
 * (backend_i.h): a thread per trial that scrapes the primary pod's metrics
 * through the API server's pod proxy while it runs, appending what it
 * reads to the trial's log as name=value lines. Owns nothing but its
 * thread; the series is the trial's (ktrial.series).
 */
#include "backends/kube/backend_i.h"
#include "collectors/collect.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
			k8s_log_note(t->log_path, "katibfs: %s\n",
				     "cannot write " PROMETHEUS_LOG);
		close(fd);
		k8s_wake(t->p);
	}
	strbuf_free(&lines);
}

static void scrape_report(struct ktrial *t, const struct scrape_status *st)
{
	if (st->tries && !st->answered)
		k8s_trial_event(
			t,
			"PrometheusMetric collector: %s (the pod's port "
			"%d, path %s, through the API server's pod "
			"proxy) never answered (%d tries, every %.0f s; "
			"last: %s); the trial's other observations are "
			"kept",
			st->url, t->prom_port, t->prom_path, st->tries,
			PROM_SCRAPE_INTERVAL, st->last_error);
	if (st->bad_lines)
		k8s_trial_event(t,
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
		obj = t->pw->synced ? k8s_cached_pod(t) : NULL;
		if (obj) {
			snprintf(pod, sizeof(pod), "%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(
					 cJSON_GetObjectItem(obj, "metadata"),
					 "name")));
			snprintf(phase, sizeof(phase), "%s",
				 k8s_pod_phase(obj));
		}
		finished = t->terminal_since > 0 || t->terminating;
		pthread_mutex_unlock(&p->lock);
		if (obj && !finished && !strcmp(phase, "Running")) {
			scrape_once(t, pod, &st);
			k8s_nap(p, (long)(PROM_SCRAPE_INTERVAL * 1000));
			continue;
		}
		if (pod[0] && (finished || k8s_phase_done(phase))) {
			scrape_once(t, pod, &st); /* at its end */
			break;
		}
		if (!obj && finished) {
			if (!missing_since)
				missing_since = k8s_now();
			else if (k8s_pod_never(t, missing_since))
				break;
		}
		k8s_nap_news(p, seen, 1000);
	}
	if (!p->stop)
		scrape_report(t, &st);
	pthread_mutex_lock(&p->lock);
	t->scrape_done = !p->stop;
	pthread_mutex_unlock(&p->lock);
	k8s_wake(p);
	return NULL;
}

void k8s_start_scrape(struct ktrial *t)
{
	if (pthread_create(&t->scrape_thread, NULL, scrape_main, t) == 0)
		t->scrape_started = 1;
	else
		t->scrape_done = 1;
}
