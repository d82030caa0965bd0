/*
 * prometheus.c - the PrometheusMetric collector: the text exposition
 * format's parser and the daemon's scraper thread (see prometheus.h).
 *
 * Owns the target list (struct target, each with its metric names and
 * the previous value of each, for "changed since the last scrape"), the
 * thread, and one libcurl easy handle used only by that thread.
 */
#include "collectors/prometheus.h"
#include "collectors/metrics.h"
#include "engine/model.h"
#include "util/strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the text format ---- */

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

/* A label value after its opening quote: the position after the closing
 * quote, or NULL. */
static const char *label_value(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (++p >= end ||
			    (*p != '\\' && *p != '"' && *p != 'n'))
				return NULL;
		}
	}
	return NULL;
}

/* The label set after '{': the position after '}', or NULL. */
static const char *label_set(const char *p, const char *end)
{
	for (;;) {
		p = skip_blank(p, end);
		if (p < end && *p == '}')
			return p + 1;
		if (p >= end || !is_name_start(*p) || *p == ':')
			return NULL;
		while (p < end && is_name_char(*p) && *p != ':')
			p++;
		p = skip_blank(p, end);
		if (p >= end || *p++ != '=')
			return NULL;
		p = skip_blank(p, end);
		if (p >= end || *p++ != '"')
			return NULL;
		p = label_value(p, end);
		if (!p)
			return NULL;
		p = skip_blank(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}')
			return NULL;
	}
}

/* A whole token [p, q) as a number (Go's ParseFloat: +Inf, NaN...). */
static int token_number(const char *p, const char *q, double *out)
{
	char tok[64], *end;

	if (q - p <= 0 || q - p >= (long)sizeof(tok))
		return -1;
	memcpy(tok, p, (size_t)(q - p));
	tok[q - p] = '\0';
	if ((tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) ||
	    strchr(tok, 'p') || strchr(tok, 'P'))
		return -1; /* hex floats are not in the format */
	errno = 0;
	*out = strtod(tok, &end);
	return *end ? -1 : 0;
}

/* A whole token [p, q) as an int64 (a timestamp in milliseconds). */
static int token_int(const char *p, const char *q, long long *out)
{
	char tok[32], *end;
	size_t i = 0;

	if (q - p <= 0 || q - p >= (long)sizeof(tok))
		return -1;
	memcpy(tok, p, (size_t)(q - p));
	tok[q - p] = '\0';
	if (tok[0] == '-' || tok[0] == '+')
		i = 1;
	if (!tok[i] || strspn(tok + i, "0123456789") != strlen(tok + i))
		return -1;
	errno = 0;
	*out = strtoll(tok, &end, 10);
	return errno || *end ? -1 : 0;
}

static const char *token_end(const char *p, const char *end)
{
	while (p < end && !is_blank(*p))
		p++;
	return p;
}

/* One line (no newline): 1 a sample, 0 nothing, -1 malformed. */
static int parse_line(const char *p, const char *end, struct prom_sample *s)
{
	const char *q;
	long long ts;

	p = skip_blank(p, end);
	if (p >= end || *p == '#')
		return 0;
	if (!is_name_start(*p))
		return -1;
	s->name = p;
	while (p < end && is_name_char(*p))
		p++;
	s->name_len = (size_t)(p - s->name);
	s->labels = "";
	s->labels_len = 0;
	q = skip_blank(p, end);
	if (q < end && *q == '{') {
		s->labels = q + 1;
		p = label_set(q + 1, end);
		if (!p)
			return -1;
		s->labels_len = (size_t)(p - 1 - s->labels);
	}
	if (p >= end || !is_blank(*p))
		return -1;
	p = skip_blank(p, end);
	q = token_end(p, end);
	if (token_number(p, q, &s->value))
		return -1;
	s->timestamp = 0;
	p = skip_blank(q, end);
	if (p < end) {
		q = token_end(p, end);
		if (token_int(p, q, &ts))
			return -1;
		s->timestamp = (double)ts / 1000.0;
		if (skip_blank(q, end) != end)
			return -1;
	}
	return 1;
}

int prom_parse(const char *text, size_t len, prom_sample_fn fn, void *ctx)
{
	const char *p = text, *end = text + len, *nl;
	struct prom_sample s;
	int bad = 0, rc;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		rc = parse_line(p, nl > p && nl[-1] == '\r' ? nl - 1 : nl, &s);
		if (rc > 0)
			fn(ctx, &s);
		else if (rc < 0)
			bad++;
	}
	return bad;
}

struct target {
	char *log, *url;
	struct prom_series series;
	struct prom_status st;
	struct target *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct target *targets;
static pthread_t thread;
static int running, stopping, fresh; /* fresh: a new target to scrape */

/* ---- samples into derived lines ---- */

int prom_series_init(struct prom_series *s, char *const *metrics, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->metrics = calloc(n ? n : 1, sizeof(char *));
	s->last = calloc(n ? n : 1, sizeof(char *));
	if (!s->metrics || !s->last) {
		prom_series_free(s);
		return -ENOMEM;
	}
	for (; s->n < n; s->n++)
		if (!(s->metrics[s->n] = strdup(metrics[s->n]))) {
			prom_series_free(s);
			return -ENOMEM;
		}
	return 0;
}

void prom_series_free(struct prom_series *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->metrics[i]);
		free(s->last[i]);
	}
	free(s->metrics);
	free(s->last);
	memset(s, 0, sizeof(*s));
}

struct take {
	struct prom_series *s;
	struct strbuf *lines;
	double now;
};

static void take_sample(void *arg, const struct prom_sample *smp)
{
	struct take *tk = arg;
	struct prom_series *s = tk->s;
	char value[64], ts[64];
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (strlen(s->metrics[i]) != smp->name_len ||
		    memcmp(s->metrics[i], smp->name, smp->name_len))
			continue;
		format_double(smp->value, value, sizeof(value));
		if (s->last[i] && !strcmp(s->last[i], value))
			continue; /* unchanged since the last scrape */
		free(s->last[i]);
		s->last[i] = strdup(value);
		format_rfc3339(smp->timestamp > 0 ? smp->timestamp : tk->now,
			       ts, sizeof(ts));
		strbuf_printf(tk->lines, "%s %s=%s\n", ts, s->metrics[i],
			      value);
	}
}

int prom_series_take(struct prom_series *s, const char *body, size_t len,
		     double now, struct strbuf *lines)
{
	struct take tk = { s, lines, now };

	return prom_parse(body ? body : "", len, take_sample, &tk);
}

/* ---- the scraper ---- */

static void target_free(struct target *t)
{
	if (!t)
		return;
	prom_series_free(&t->series);
	free(t->log);
	free(t->url);
	free(t);
}

static struct target *find_locked(const char *log)
{
	struct target *t;

	for (t = targets; t; t = t->next)
		if (!strcmp(t->log, log))
			return t;
	return NULL;
}

static size_t body_write(char *data, size_t size, size_t n, void *arg)
{
	struct strbuf *b = arg;

	if (b->len + size * n > PROM_MAX_BODY)
		return 0; /* curl fails the transfer: too large */
	return strbuf_append(b, data, size * n) ? 0 : size * n;
}

/* GET url into body: 0, or -1 with why. */
static int fetch(CURL *c, const char *url, struct strbuf *body, char *why,
		 size_t size)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(why, size, "%s",
			 rc == CURLE_WRITE_ERROR
				 ? "the answer is larger than 4 MiB"
			 : errbuf[0] ? errbuf
				     : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(why, size, "HTTP status %ld", code);
		return -1;
	}
	return 0;
}

static void append_log(const char *log, const struct strbuf *lines)
{
	int fd;

	if (!lines->len)
		return;
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, lines->data, lines->len) < 0) {
		/* nothing to do: the next scrape tries again */
	}
	close(fd);
}

/* Scrape one target: url is the thread's copy (t may be forgotten
 * meanwhile: it is looked up again, by log, before anything is kept). */
static void scrape_one(CURL *c, const char *log, const char *url)
{
	struct strbuf body = { 0 }, lines = { 0 };
	char why[200] = "";
	int ok = !fetch(c, url, &body, why, sizeof(why));
	struct target *t;

	pthread_mutex_lock(&lock);
	t = find_locked(log);
	if (t) {
		t->st.tries++;
		if (ok) {
			t->st.answered++;
			t->st.bad_lines +=
				prom_series_take(&t->series, body.data,
						 body.len, now_epoch(), &lines);
		} else {
			snprintf(t->st.last_error, sizeof(t->st.last_error),
				 "%s", why);
		}
		append_log(log, &lines);
	}
	pthread_mutex_unlock(&lock);
	strbuf_free(&lines);
	strbuf_free(&body);
}

/* The next target not scraped in this round; copies of its
 * log and url (caller frees). Parsing happens under the mutex: a body is
 * at most 4 MiB, parsed in milliseconds. */
static int next_target(unsigned *seen, char **log, char **url)
{
	struct target *t;
	unsigned i = 0;

	for (t = targets; t; t = t->next, i++) {
		if (i < *seen)
			continue;
		*seen = i + 1;
		*log = strdup(t->log);
		*url = strdup(t->url);
		if (!*log || !*url) {
			free(*log);
			free(*url);
			return 0;
		}
		return 1;
	}
	return 0;
}

static void *scraper_main(void *arg)
{
	CURL *c = curl_easy_init();
	unsigned seen;
	struct timespec until;
	char *log, *url;

	pthread_mutex_lock(&lock);
	while (!stopping) {
		seen = 0;
		while (!stopping && c && next_target(&seen, &log, &url)) {
			pthread_mutex_unlock(&lock);
			scrape_one(c, log, url);
			free(log);
			free(url);
			pthread_mutex_lock(&lock);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)PROM_SCRAPE_INTERVAL;
		while (!stopping && !fresh &&
		       pthread_cond_timedwait(&wake, &lock, &until) == 0)
			;
		fresh = 0;
	}
	pthread_mutex_unlock(&lock);
	if (c)
		curl_easy_cleanup(c);
	return arg;
}

static struct target *target_new(const char *log, int port, const char *path,
				 char *const *metrics, size_t n)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->log = strdup(log);
	if (t->log &&
	    asprintf(&t->url, "http://127.0.0.1:%d%s", port, path) < 0)
		t->url = NULL;
	if (!t->url || prom_series_init(&t->series, metrics, n)) {
		target_free(t);
		return NULL;
	}
	return t;
}

int prom_scraper_watch(const char *log, int port, const char *path,
		       char *const *metrics, size_t n)
{
	struct target *t;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (find_locked(log))
		goto out;
	t = target_new(log, port, path, metrics, n);
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	t->next = targets;
	targets = t;
	fresh = 1;
	pthread_cond_broadcast(&wake);
	if (!running) {
		stopping = 0;
		rc = -pthread_create(&thread, NULL, scraper_main, NULL);
		running = !rc;
	}
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

int prom_scraper_forget(const char *log, struct prom_status *st)
{
	struct target **pp, *t = NULL;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&lock);
	for (pp = &targets; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->log, log)) {
			t = *pp;
			*pp = t->next;
			break;
		}
	if (t)
		*st = t->st;
	pthread_mutex_unlock(&lock);
	target_free(t);
	return t != NULL;
}

int prom_scraper_status(const char *log, struct prom_status *st)
{
	struct target *t;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&lock);
	t = find_locked(log);
	if (t)
		*st = t->st;
	pthread_mutex_unlock(&lock);
	return t != NULL;
}

void prom_scraper_shutdown(void)
{
	struct target *t;

	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	if (running)
		pthread_join(thread, NULL);
	pthread_mutex_lock(&lock);
	running = 0;
	while ((t = targets)) {
		targets = t->next;
		target_free(t);
	}
	pthread_mutex_unlock(&lock);
}
