/*
 * metrics.h - turn trial output into observations, and observations into
 * the values that count.
 *
 * A struct metrics_parser is built once per experiment from its collector
 * spec: the regexes (Katib's default, or spec.metricsCollectorSpec.source.
 * filter.metricsFormat compiled with PCRE2, which reads RE2 syntax), the
 * metric names wanted, and the format (TEXT lines or JSON lines). It is
 * immutable after creation and safe to use from several threads.
 *
 * metrics_parse_line() applies Katib's TEXT rules (c.1 in KATIB.md): a line
 * that names no wanted metric is skipped; an RFC3339 timestamp before the
 * first space is the observation's time; every match of every regex whose
 * name (group 1, trimmed) equals a wanted metric yields an observation with
 * value = group 2, trimmed. JSON lines: the object's members named like a
 * wanted metric, with string or number values; `timestamp` as RFC3339 or
 * epoch seconds.
 *
 * struct metric_summary aggregates observations as Katib's trial
 * observation does: min and max over numeric values, latest by timestamp
 * (ties: the later one), and the value that counts under a strategy.
 */
#ifndef KATIB_METRICS_H
#define KATIB_METRICS_H

#include <stddef.h>

#include "katib/error.h"
#include "katib/spec.h"

#define METRICS_DEFAULT_FORMAT                                                 \
	"([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?([Ee][+-]?\\d+)?)"
#define METRICS_MAX_LINE 65536 /* longer lines are cut here before parsing */
/* A value's bytes, at most (longer ones are cut): text values such as
 * DARTS's Best-Genotype run to several hundred bytes. */
#define METRIC_VALUE_MAX 2048
/* latest values shorter than this need no heap: 23 bytes hold every
 * double's shortest round-trip form but the longest negative subnormals
 * (an ended trial keeps one summary per metric: 64 bytes, not 72) */
#define METRIC_LATEST_INLINE 24

struct metrics_parser;

/* One observation. `time` is seconds since the epoch (0 = no timestamp). */
struct observation {
	double time;
	int metric; /* index into the parser's metric names */
	char value[METRIC_VALUE_MAX];
};

/*
 * Build a parser for `spec` (its collector and metric names). Push and
 * StdOut/File TEXT use the regexes; File JSON uses JSON. A regex that does
 * not compile or has fewer than two groups: -EINVAL with err naming
 * spec.metricsCollectorSpec.source.filter.metricsFormat[i].
 */
int metrics_parser_new(const struct experiment_spec *spec,
		       struct metrics_parser **out, struct kb_error *err);
void metrics_parser_free(struct metrics_parser *p);

/*
 * What the experiment's collector expects to find, for a message about a
 * trial that reported no objective: "the StdOut collector expects lines
 * like loss=0.97 in the trial's output", with the File collector's path or
 * the spec's metricsFormat regexes where they apply.
 */
void metrics_expectation(const struct experiment_spec *spec, char *buf,
			 size_t size);

/* Check a metricsFormat list alone (used by spec validation). */
int metrics_validate_formats(char *const *formats, size_t n,
			     struct kb_error *err);

size_t metrics_parser_nmetrics(const struct metrics_parser *p);
const char *metrics_parser_metric(const struct metrics_parser *p, int i);

/*
 * Parse one line (no trailing newline needed; len bytes, need not be NUL
 * terminated). Appends up to `max` observations to `out` and returns how
 * many. `json` selects JSON-lines parsing; otherwise the regexes. `now` is
 * the time given to observations without a timestamp of their own.
 */
size_t metrics_parse_line(const struct metrics_parser *p, const char *line,
			  size_t len, int json, double now,
			  struct observation *out, size_t max);

/*
 * One line of a collector's derived log (TensorFlowEvent, PrometheusMetric:
 * "[RFC3339 ]name=value", name exactly a wanted metric; '#' lines are the
 * collector's own state): the observations, at most max.
 */
size_t metrics_parse_named(const struct metrics_parser *p, const char *line,
			   size_t len, double now, struct observation *out,
			   size_t max);

/* The PrometheusMetric collector's port and path (Katib's defaults). */
int prom_port(const struct collector_spec *c);
const char *prom_path(const struct collector_spec *c);

/*
 * Parse a push write (`name=value` lines, as appended to trials/N/metrics).
 * Lines may carry an RFC3339 timestamp prefix. A line that is not
 * name=value with a wanted name: -EINVAL, err says which line and what the
 * wanted names are; nothing is appended in that case. On success returns
 * the number of observations (<= max).
 */
int metrics_parse_push(const struct metrics_parser *p, const char *text,
		       size_t len, double now, struct observation *out,
		       size_t max, struct kb_error *err);

/* Running aggregate of one metric's observations. */
struct metric_summary {
	int count;   /* observations seen */
	int numeric; /* numeric observations seen */
	double min, max;
	double latest_time;
	/* the latest value: in latest_inline when it fits (numbers nearly
	 * always do), else in latest_long (heap, owned);
	 * metric_summary_latest() */
	char latest_inline[METRIC_LATEST_INLINE];
	char *latest_long;
};

void metric_summary_init(struct metric_summary *s);
void metric_summary_add(struct metric_summary *s, double time,
			const char *value);
/* The latest value observed ("" before any). */
const char *metric_summary_latest(const struct metric_summary *s);
/* Free what s owns (not s itself). */
void metric_summary_release(struct metric_summary *s);
/* Free what the first n summaries own, then the array. */
void metric_summaries_free(struct metric_summary *s, size_t n);

/*
 * The value that counts under `strategy`: min/max fall back to latest when
 * no numeric value was seen. Writes it as text to buf (shortest round-trip
 * form for numbers). Returns 0, or -ENODATA when nothing was observed.
 * *numeric is set to whether the result is a number and *value to it.
 * buf may be NULL (size 0) when only the number is wanted.
 */
int metric_summary_value(const struct metric_summary *s,
			 enum metric_strategy strategy, char *buf, size_t size,
			 double *value, int *numeric);

/* Shortest text that strtod() reads back as exactly v ("0.1", "1e-05"). */
void format_double(double v, char *buf, size_t size);

/* Parse an RFC3339(-Nano) time at the start of s; returns bytes used or 0. */
size_t parse_rfc3339(const char *s, size_t len, double *out);

#endif
