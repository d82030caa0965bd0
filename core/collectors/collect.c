/*
 * collect.c - the per-kind work before the controller reads a trial's
 * metrics (see collect.h): TensorFlowEvent's event files into a derived
 * log, the PrometheusMetric scraper's targets, a Custom collector's
 * failure. Owns nothing past a call (the reader is the caller's).
 */
#include "collectors/collect.h"
#include "collectors/collector_path.h"
#include "collectors/prometheus.h"
#include "backends/supervisor/record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAMES 64

enum collect_parse collect_parse_mode(const struct collector_spec *c)
{
	switch (c->kind) {
	case COLLECTOR_PUSH:
	case COLLECTOR_NONE: return COLLECT_NOTHING;
	case COLLECTOR_FILE:
		return c->format == FORMAT_JSON ? COLLECT_JSON : COLLECT_TEXT;
	case COLLECTOR_TFEVENT:
	case COLLECTOR_PROMETHEUS: return COLLECT_NAMED;
	default: return COLLECT_TEXT;
	}
}

int collect_own_log(const struct collector_spec *c, const char *trial_dir,
		    char *buf, size_t size)
{
	const char *name = c->kind == COLLECTOR_TFEVENT	     ? TFEVENT_LOG
			   : c->kind == COLLECTOR_PROMETHEUS ? PROMETHEUS_LOG
			   : c->kind == COLLECTOR_CUSTOM     ? CUSTOM_LOG
							     : NULL;

	if (!name)
		return -ENOENT;
	snprintf(buf, size, "%s/%s", trial_dir, name);
	return 0;
}

static void event(collect_event_fn ev, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void event(collect_event_fn ev, void *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ev)
		ev(ctx, msg);
}

static size_t names_of(const struct metrics_parser *p, char **names)
{
	size_t i, n = metrics_parser_nmetrics(p);

	if (n > MAX_NAMES)
		n = MAX_NAMES;
	for (i = 0; i < n; i++)
		names[i] = (char *)metrics_parser_metric(p, (int)i);
	return n;
}

/* The whole file into a strbuf (the derived log, to rebuild a reader). */
static int read_all(const char *path, struct strbuf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (strbuf_append(b, chunk, (size_t)n))
			break;
	close(fd);
	return b->oom ? -ENOMEM : 0;
}

/* Append text to path in one write (lines and state together); a write
 * cut short (a full disk) is taken back, so the file holds whole lines. */
static int append_whole(const char *path, const struct strbuf *b)
{
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	if (!b->len)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		rc = -errno;
	n = rc ? 0 : write(fd, b->data, b->len);
	if (!rc && n != (ssize_t)b->len) {
		rc = n < 0 ? -errno : -ENOSPC;
		if (ftruncate(fd, st.st_size)) {
			/* nothing better to do: the reader starts over */
		}
	}
	close(fd);
	return rc;
}

struct tf_events {
	collect_event_fn ev;
	void *ctx;
	const char *shown;
};

static void tf_problem(void *arg, const char *file, const char *what)
{
	struct tf_events *t = arg;

	event(t->ev, t->ctx,
	      "TensorFlowEvent collector: %s/%s: %s; the trial's other "
	      "observations are kept",
	      t->shown, file, what);
}

static int update_tfevent(const struct collector_spec *c,
			  const struct metrics_parser *p, const char *log,
			  const char *read_dir, int final,
			  struct tfevent_reader **tf, collect_event_fn ev,
			  void *ctx)
{
	char shown[COLLECTOR_PATH_SIZE], *names[MAX_NAMES];
	struct tf_events te = { ev, ctx, shown };
	struct strbuf b = { 0 };
	int rc, fresh = !*tf;

	if (path_normalize(c->path, shown, sizeof(shown)))
		snprintf(shown, sizeof(shown), "%s", c->path);
	if (!*tf) {
		*tf = tfevent_reader_new();
		if (!*tf)
			return -ENOMEM;
		rc = read_all(log, &b);
		if (!rc)
			rc = tfevent_reader_restore(*tf, b.data ? b.data : "",
						    b.len);
		strbuf_free(&b);
		if (rc)
			return rc;
	}
	rc = tfevent_reader_poll(*tf, read_dir, shown, names,
				 names_of(p, names), final, &b, tf_problem,
				 &te);
	if (!rc)
		rc = append_whole(log, &b);
	if (rc) {
		if (!fresh) /* once, not on every pass until it works */
			event(ev, ctx,
			      "TensorFlowEvent collector: cannot write %s: %s; "
			      "the records are read again on the next pass",
			      log, strerror(-rc));
		/* its offsets ran ahead of the log: rebuilt from the log */
		tfevent_reader_free(*tf);
		*tf = NULL;
	}
	strbuf_free(&b);
	return rc;
}

static void update_prometheus(const struct collector_spec *c,
			      const struct metrics_parser *p, const char *log,
			      int final, collect_event_fn ev, void *ctx)
{
	char *names[MAX_NAMES];
	struct prom_status st;
	int rc;

	if (!final) {
		rc = prom_scraper_watch(log, prom_port(c), prom_path(c), names,
					names_of(p, names));
		if (rc)
			event(ev, ctx,
			      "PrometheusMetric collector: cannot scrape: %s",
			      strerror(-rc));
		return;
	}
	if (!prom_scraper_forget(log, &st))
		return; /* ended before its first pass: never watched */
	if (st.tries && !st.answered)
		event(ev, ctx,
		      "PrometheusMetric collector: http://127.0.0.1:%d%s "
		      "never answered (%d tries, every %.0f s; last: %s)",
		      prom_port(c), prom_path(c), st.tries,
		      PROM_SCRAPE_INTERVAL, st.last_error);
	if (st.bad_lines)
		event(ev, ctx,
		      "PrometheusMetric collector: http://127.0.0.1:%d%s: %d "
		      "malformed lines of the text format were skipped",
		      prom_port(c), prom_path(c), st.bad_lines);
}

/* The last line of path (at most size-1 bytes), for a message. */
static void last_line(const char *path, char *buf, size_t size)
{
	char tail[512];
	struct stat st;
	ssize_t n;
	char *nl;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf[0] = '\0';
	if (fd < 0)
		return;
	if (!fstat(fd, &st) && st.st_size > 0) {
		off_t at = st.st_size > (off_t)sizeof(tail) - 1
				   ? st.st_size - (off_t)sizeof(tail) + 1
				   : 0;

		n = pread(fd, tail, sizeof(tail) - 1, at);
		if (n > 0) {
			tail[n] = '\0';
			while (n > 0 && tail[n - 1] == '\n')
				tail[--n] = '\0';
			nl = strrchr(tail, '\n');
			snprintf(buf, size, "%s", nl ? nl + 1 : tail);
		}
	}
	close(fd);
}

/* katibfs-shim's "collector-stopped GRACE SIG" or "collector-failed CODE
 * SIG" line, if it wrote one. */
static void report_custom(const char *trial_dir, const char *log,
			  collect_event_fn ev, void *ctx)
{
	char path[4096], buf[1024], last[300], *line;
	long code = 0, sig = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/" SUPERVISOR_FILE, trial_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	line = strstr(buf, "collector-stopped ");
	if (line &&
	    sscanf(line, "collector-stopped %ld %ld", &code, &sig) == 2) {
		event(ev, ctx,
		      "Custom collector (collector.customCollector) did not "
		      "exit within %ld s of the trial's end and was stopped "
		      "(%s); the trial ends on its own exit status, with the "
		      "observations collected (a collector should end when the "
		      "trial does)",
		      code, sig == 9 ? "SIGTERM, then SIGKILL" : "SIGTERM");
		return;
	}
	line = strstr(buf, "collector-failed ");
	if (!line || sscanf(line, "collector-failed %ld %ld", &code, &sig) != 2)
		return;
	last_line(log, last, sizeof(last));
	event(ev, ctx,
	      "Custom collector (collector.customCollector) %s %ld%s%s%s; "
	      "the trial's other observations are kept",
	      sig ? "was killed by signal" : "exited with code",
	      sig ? sig : code, last[0] ? "; its output ends: \"" : "", last,
	      last[0] ? "\"" : "");
}

int collect_update(const struct collector_spec *c,
		   const struct metrics_parser *p, const char *trial_dir,
		   const char *read_dir, int final, struct tfevent_reader **tf,
		   collect_event_fn ev, void *ctx)
{
	char log[4096];

	if (collect_own_log(c, trial_dir, log, sizeof(log)))
		return 0;
	switch (c->kind) {
	case COLLECTOR_TFEVENT:
		return update_tfevent(c, p, log, read_dir, final, tf, ev, ctx);
	case COLLECTOR_PROMETHEUS:
		update_prometheus(c, p, log, final, ev, ctx);
		return 0;
	case COLLECTOR_CUSTOM:
		if (final && !cJSON_GetArraySize(cJSON_GetObjectItem(
				     c->custom_collector, "command")))
			event(ev, ctx,
			      "Custom collector not started: "
			      "spec.metricsCollectorSpec.collector."
			      "customCollector has no command, and katibfs "
			      "runs it as a local process (an image's "
			      "entrypoint is not known here); give it a "
			      "command");
		else if (final)
			report_custom(trial_dir, log, ev, ctx);
		return 0;
	default: return 0;
	}
}
