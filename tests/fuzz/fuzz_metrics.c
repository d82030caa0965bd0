/*
 * fuzz_metrics.c - libFuzzer harness for the metrics parsers.
 *
 * Input: byte 0 picks the mode (and the observation buffer size), the rest
 * is trial output.
 *   mode 0: StdOut, Katib's default regex, TEXT lines;
 *   mode 1: StdOut with a custom metricsFormat: the bytes up to the first
 *           NUL are the formats (one per line, at most 4), the output
 *           follows the NUL;
 *   mode 2: File collector, JSON lines.
 * Every line goes through metrics_parse_line(), the whole output through
 * metrics_parse_push(); the observations feed metric_summary_* and every
 * number printed must read back exactly (format_double). Timestamps found
 * at line starts are formatted again and must parse to the same second.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/metrics.h"
#include "katib/spec.h"
#include "../unit/fixtures.h"

#define MAX_FORMATS 4
#define MAX_OBS	    64

/* clang-format off */
static const char fixed_spec[] =
	FIXTURE_HEAD("fuzz-metrics")
	"    additionalMetricNames: [accuracy, Score, \"valid_1 auc\",\n"
	"      Best-Genotype, Validation-accuracy, timestamp, a]\n"
	"    metricStrategies:\n"
	"      - {name: accuracy, value: max}\n"
	"      - {name: Score, value: latest}\n"
	"  algorithm:\n"
	"    algorithmName: random\n"
	FIXTURE_X_JOB("[sh, -c, \"echo ${trialParameters.x}\"]");
/* clang-format on */

static struct experiment_spec *spec;
static struct metrics_parser *text_parser, *json_parser;

static void die(const char *fmt, const char *s)
{
	fprintf(stderr, "fuzz_metrics: ");
	fprintf(stderr, fmt, s);
	fprintf(stderr, "\n");
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct experiment_spec json_spec;
	struct kb_error err;
	char msg[1024];

	kb_error_clear(&err);
	if (spec_parse(fixed_spec, sizeof(fixed_spec) - 1, "fuzz-metrics",
		       &spec, &err)) {
		kb_error_format(&err, msg, sizeof(msg));
		die("fixed spec does not parse: %s", msg);
	}
	if (metrics_parser_new(spec, &text_parser, &err))
		die("%s", "default parser");
	json_spec = *spec;
	json_spec.collector.kind = COLLECTOR_FILE;
	json_spec.collector.format = FORMAT_JSON;
	json_spec.collector.path = "/tmp/metrics.json";
	json_spec.collector.metrics_format = NULL;
	json_spec.collector.nmetrics_format = 0;
	if (metrics_parser_new(&json_spec, &json_parser, &err))
		die("%s", "json parser");
	return 0;
}

static void check_obs(const struct metrics_parser *p,
		      const struct observation *o, size_t n, size_t max)
{
	size_t i, len;

	if (n > max)
		die("%s", "more observations than asked for");
	for (i = 0; i < n; i++) {
		if (o[i].metric < 0 ||
		    (size_t)o[i].metric >= metrics_parser_nmetrics(p))
			die("%s", "observation of an unknown metric");
		len = strnlen(o[i].value, METRIC_VALUE_MAX);
		if (len == 0 || len >= METRIC_VALUE_MAX)
			die("bad observation value '%.128s'", o[i].value);
	}
}

static void check_summaries(const struct metrics_parser *p,
			    const struct observation *o, size_t n)
{
	static const enum metric_strategy strategies[] = { STRATEGY_MIN,
							   STRATEGY_MAX,
							   STRATEGY_LATEST };
	struct metric_summary s;
	char buf[METRIC_VALUE_MAX + 8], small[6];
	size_t m, i, k;
	double v;
	int num;

	for (m = 0; m < metrics_parser_nmetrics(p); m++) {
		metric_summary_init(&s);
		for (i = 0; i < n; i++)
			if ((size_t)o[i].metric == m)
				metric_summary_add(&s, o[i].time, o[i].value);
		for (k = 0; k < 3; k++) {
			if (metric_summary_value(&s, strategies[k], buf,
						 sizeof(buf), &v, &num)) {
				if (s.count)
					die("%s", "-ENODATA with observations");
				continue;
			}
			if (num && isfinite(v) && strtod(buf, NULL) != v)
				die("summary value '%s' does not read back",
				    buf);
			metric_summary_value(&s, strategies[k], small,
					     sizeof(small), NULL, NULL);
			metric_summary_value(&s, strategies[k], NULL, 0, &v,
					     &num);
		}
		metric_summary_release(&s);
	}
}

/* RFC3339 at the start of the line: format it again, parse it again. */
static void check_time(const char *line, size_t len)
{
	char buf[64];
	struct tm tm;
	double t, t2;
	time_t sec;
	size_t n;

	n = parse_rfc3339(line, len, &t);
	if (!n)
		return;
	if (n > len)
		die("%s", "parse_rfc3339 used more bytes than given");
	if (!isfinite(t))
		die("%s", "parse_rfc3339 gave a non-finite time");
	sec = (time_t)floor(t);
	if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999)
		return;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	if (parse_rfc3339(buf, strlen(buf), &t2) != strlen(buf) ||
	    t2 != (double)sec)
		die("time does not round trip: %s", buf);
}

static void check_double(const uint8_t *data, size_t size)
{
	char buf[40], tiny[4];
	double v;

	if (size < sizeof(v))
		return;
	memcpy(&v, data, sizeof(v));
	format_double(v, buf, sizeof(buf));
	if (isfinite(v) && strtod(buf, NULL) != v)
		die("format_double does not round trip: %s", buf);
	format_double(v, tiny, sizeof(tiny));
	format_double(v, tiny, 0);
}

static void run(const struct metrics_parser *p, int json, const char *text,
		size_t len, size_t max)
{
	struct observation obs[MAX_OBS], all[MAX_OBS * 4];
	const char *line = text, *nl, *end = text + len;
	size_t n, nall = 0, llen;
	struct kb_error err;
	int rc;

	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		llen = nl ? (size_t)(nl - line) : (size_t)(end - line);
		n = metrics_parse_line(p, line, llen, json, 1e9, obs, max);
		check_obs(p, obs, n, max);
		if (nall + n <= sizeof(all) / sizeof(all[0])) {
			memcpy(all + nall, obs, n * sizeof(obs[0]));
			nall += n;
		}
		check_time(line, llen);
		if (!nl)
			break;
		line = nl + 1;
	}
	check_summaries(p, all, nall);

	kb_error_clear(&err);
	rc = metrics_parse_push(p, text, len, 1e9, obs, max, &err);
	if (rc >= 0) {
		check_obs(p, obs, (size_t)rc, max);
		check_summaries(p, obs, (size_t)rc);
	} else if (!err.message[0]) {
		die("%s", "metrics_parse_push failed without a message");
	}
}

static void run_custom(const char *data, size_t size, size_t max)
{
	char *fmts[MAX_FORMATS], *copy, *save = NULL, *f;
	const char *nul = memchr(data, '\0', size);
	struct experiment_spec custom;
	struct metrics_parser *p = NULL;
	struct kb_error err;
	size_t n = 0;
	int valid, rc;

	if (!nul)
		return;
	copy = strndup(data, (size_t)(nul - data));
	if (!copy)
		return;
	for (f = strtok_r(copy, "\n", &save); f && n < MAX_FORMATS;
	     f = strtok_r(NULL, "\n", &save))
		fmts[n++] = f;
	if (!n)
		goto out;
	kb_error_clear(&err);
	valid = metrics_validate_formats(fmts, n, &err) == 0;
	custom = *spec;
	custom.collector.metrics_format = fmts;
	custom.collector.nmetrics_format = n;
	kb_error_clear(&err);
	rc = metrics_parser_new(&custom, &p, &err);
	if (valid != (rc == 0))
		die("%s", "metrics_validate_formats and metrics_parser_new "
			  "disagree");
	if (rc)
		goto out;
	nul++;
	run(p, 0, nul, size - (size_t)(nul - data), max);
	metrics_parser_free(p);
out:
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	size_t max;

	if (size < 1)
		return 0;
	max = 1 + (data[0] >> 2) % MAX_OBS;
	check_double(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0: run(text_parser, 0, text, size - 1, max); break;
	case 1: run_custom(text, size - 1, max); break;
	default: run(json_parser, 1, text, size - 1, max); break;
	}
	return 0;
}
