/*
 * prometheus.h - the PrometheusMetric collector (core/collectors/
 * prometheus.c): the text exposition format, and a scraper thread.
 *
 * prom_parse() reads Prometheus' text format (version 0.0.4): comment
 * lines (# HELP, # TYPE, anything after #), samples
 * `name{label="value",...} value [timestamp_ms]` with label values
 * escaped (\\ \" \n), values as Go's ParseFloat reads them (+Inf, -Inf,
 * NaN too). A malformed line is counted and skipped.
 *
 * The scraper: one thread for the daemon, started by the first
 * prom_scraper_watch(). Every PROM_SCRAPE_INTERVAL seconds it GETs each
 * watched trial's http://127.0.0.1:PORT/PATH (libcurl, short timeouts, a
 * bounded body) with no lock held, parses it, and appends a line
 * "RFC3339 name=value" per sample of a wanted metric whose value changed
 * since the previous scrape to the trial's derived log (the sample's own
 * timestamp, else the scrape's time). Appends happen under the scraper's
 * mutex and only while the target is watched, so once
 * prom_scraper_forget() returned nothing more is written: the controller
 * then reads the log a last time. The controller's calls only take that
 * mutex briefly; they never wait for a scrape. Owns its targets (freed by
 * forget and prom_scraper_shutdown).
 */
#ifndef KATIB_PROMETHEUS_H
#define KATIB_PROMETHEUS_H

#include <stddef.h>

#define PROM_SCRAPE_INTERVAL 2.0       /* s between scrapes of one target */
#define PROM_MAX_BODY	     (4 << 20) /* bytes of a scrape read */

/* One sample: the metric's name, its labels as written (the text between
 * the braces, or ""), its value, and its timestamp in seconds (0: none). */
struct prom_sample {
	const char *name;
	size_t name_len;
	const char *labels;
	size_t labels_len;
	double value;
	double timestamp;
};

typedef void (*prom_sample_fn)(void *ctx, const struct prom_sample *s);

/* Parse text[0..len); returns the number of malformed lines skipped. */
int prom_parse(const char *text, size_t len, prom_sample_fn fn, void *ctx);

/*
 * The metrics a target is scraped for and the last value seen of each:
 * prom_series_take() parses a scrape's body and appends a line
 * "RFC3339 name=value" to lines for each wanted sample whose value
 * changed since the previous take (the sample's own timestamp, else now).
 * Returns the malformed lines skipped. Used by the scraper below and by
 * the kubernetes backend's (through the API server's pod proxy). Owns its
 * copies of the names and values (prom_series_free).
 */
struct prom_series {
	char **metrics;
	char **last; /* the previous value text of each metric, or NULL */
	size_t n;
};

struct strbuf;
int prom_series_init(struct prom_series *s, char *const *metrics, size_t n);
void prom_series_free(struct prom_series *s);
int prom_series_take(struct prom_series *s, const char *body, size_t len,
		     double now, struct strbuf *lines);

/* How a target's scrapes went, for the trial's events. */
struct prom_status {
	int tries, answered; /* scrapes tried, and that got a 2xx answer */
	int bad_lines;	     /* malformed lines skipped, in all */
	char last_error[200];
};

/*
 * Scrape http://127.0.0.1:port/path for `log` (the trial's derived log;
 * it identifies the target) with the metric names wanted. Idempotent: a
 * target already watched is left as it is. 0, -ENOMEM, or the error of
 * starting the thread.
 */
int prom_scraper_watch(const char *log, int port, const char *path,
		       char *const *metrics, size_t n);

/* Stop scraping for `log`; its status into *st (zeroed when it was not
 * watched). Returns 1 when it was, else 0. */
int prom_scraper_forget(const char *log, struct prom_status *st);

/* The status so far of a watched target: 1, or 0 when not watched. */
int prom_scraper_status(const char *log, struct prom_status *st);

/* Stop the thread and forget every target (at unmount). */
void prom_scraper_shutdown(void);

#endif
