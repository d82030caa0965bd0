/* test_metrics.c - unit tests for core/collectors/metrics.c (regex/JSON/push
 * parsing, summaries, number and time formatting). Specs are built by hand. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/metrics.h"

#define MAXOBS 16

static char *additional[4];

/* A spec wanting `metric` plus up to 3 more (NULL-terminated varargs). */
static void make_spec(struct experiment_spec *spec, char **formats,
		      size_t nformats, const char *metric, ...)
{
	va_list ap;
	char *s;

	memset(spec, 0, sizeof(*spec));
	spec->objective.metric = (char *)metric;
	spec->objective.additional = additional;
	va_start(ap, metric);
	while ((s = va_arg(ap, char *)) && spec->objective.nadditional < 4)
		additional[spec->objective.nadditional++] = s;
	va_end(ap);
	spec->collector.metrics_format = formats;
	spec->collector.nmetrics_format = nformats;
}

static struct metrics_parser *parser(char **formats, size_t n,
				     const char *metric, const char *more)
{
	struct experiment_spec spec;
	struct metrics_parser *p = NULL;
	struct kb_error err;

	kb_error_clear(&err);
	make_spec(&spec, formats, n, metric, more, NULL);
	assert_int_equal(metrics_parser_new(&spec, &p, &err), 0);
	return p;
}

static size_t parse(struct metrics_parser *p, const char *line,
		    struct observation *o)
{
	return metrics_parse_line(p, line, strlen(line), 0, 1000.0, o, MAXOBS);
}

/* Parse `line` wanting `metric`; expect exactly one observation `value`. */
static void expect_one(const char *metric, const char *line, const char *value)
{
	struct metrics_parser *p = parser(NULL, 0, metric, NULL);
	struct observation o[MAXOBS];

	assert_int_equal(parse(p, line, o), 1);
	assert_int_equal(o[0].metric, 0);
	assert_string_equal(o[0].value, value);
	assert_true(o[0].time == 1000.0);
	metrics_parser_free(p);
}

static void expect_none(const char *metric, const char *line)
{
	struct metrics_parser *p = parser(NULL, 0, metric, NULL);
	struct observation o[MAXOBS];

	assert_int_equal(parse(p, line, o), 0);
	metrics_parser_free(p);
}

static void test_default_examples(void **state)
{
	expect_one("loss", "loss=0.3", "0.3");
	expect_one("accuracy", "accuracy=.98", ".98");
	expect_one("Score", "Score=-7.53e-05", "-7.53e-05");
	expect_one("Score", "Score=-7.53e+05", "-7.53e+05");
	expect_one("Score", "Score=1E0", "1E0");
	expect_one("Score", "Score=1.23E10", "1.23E10");
	expect_one("loss", "loss=123.456", "123.456"); /* Katib #1754 */
	expect_one("loss", "loss = 42", "42");
	expect_one("my-metric", "step 1 my-metric=+5", "+5");
}

static void test_default_two_metrics(void **state)
{
	struct metrics_parser *p = parser(NULL, 0, "loss", "accuracy");
	struct observation o[MAXOBS];

	assert_int_equal(metrics_parser_nmetrics(p), 2);
	assert_string_equal(metrics_parser_metric(p, 1), "accuracy");
	assert_null(metrics_parser_metric(p, 2));
	assert_int_equal(parse(p, "epoch 3: loss=0.5 accuracy=0.9", o), 2);
	assert_int_equal(o[0].metric, 0);
	assert_string_equal(o[0].value, "0.5");
	assert_int_equal(o[1].metric, 1);
	assert_string_equal(o[1].value, "0.9");
	/* all matches, repeated names too */
	assert_int_equal(parse(p, "loss=1 loss=2 loss=3", o), 3);
	assert_string_equal(o[2].value, "3");
	/* max caps the output */
	assert_int_equal(metrics_parse_line(p, "loss=1 loss=2", 13, 0, 0, o, 1),
			 1);
	metrics_parser_free(p);
}

static void test_timestamp(void **state)
{
	struct metrics_parser *p = parser(NULL, 0, "loss", NULL);
	struct observation o[MAXOBS];

	assert_int_equal(parse(p, "2024-01-02T03:04:05.123456789Z loss=0.2", o),
			 1);
	assert_string_equal(o[0].value, "0.2");
	assert_true(fabs(o[0].time - 1704164645.123456789) < 1e-5);
	assert_int_equal(parse(p, "2024-01-02T05:04:05+02:00 loss=0.1", o), 1);
	assert_true(o[0].time == 1704164645.0);
	/* not a timestamp: the default time */
	assert_int_equal(parse(p, "2024-13-02T03:04:05Z loss=0.2", o), 1);
	assert_true(o[0].time == 1000.0);
	metrics_parser_free(p);
}

static void test_no_match(void **state)
{
	expect_none("loss", "accuracy=0.3"); /* another metric */
	expect_none("loss", "lossy=3");	     /* name must equal */
	expect_none("loss", "loss is 0.3");  /* no = */
	expect_none("loss", "");
	expect_none("loss", "loss="); /* empty value: skipped */
	expect_none("loss", "val_loss=0.1");
}

static void test_custom_formats(void **state)
{
	char *f1[] = { "{metricName: ([\\w|-]+), metricValue: "
		       "((-?\\d+)(\\.\\d+)?)}" };
	char *f2[] = { "(\\w+\\s\\w+)\\s:\\s((-?\\d+)(\\.\\d+)?)" };
	char *f3[] = { "([\\w-]+)=(Genotype.*)" };
	struct observation o[MAXOBS];
	struct metrics_parser *p;

	p = parser(f1, 1, "loss", "accuracy");
	assert_int_equal(parse(p,
			       "{metricName: accuracy, metricValue: 0.87}"
			       " {metricName: loss, metricValue: -12.5}",
			       o),
			 2);
	assert_int_equal(o[0].metric, 1);
	assert_string_equal(o[0].value, "0.87");
	assert_string_equal(o[1].value, "-12.5");
	assert_int_equal(parse(p, "loss=0.3", o), 0);
	metrics_parser_free(p);

	p = parser(f2, 1, "Validation auc", NULL);
	assert_int_equal(parse(p, "[10] Validation auc : 0.72", o), 1);
	assert_string_equal(o[0].value, "0.72");
	metrics_parser_free(p);

	p = parser(f3, 1, "Best-Genotype", NULL);
	assert_int_equal(
		parse(p,
		      "Best-Genotype=Genotype(normal=[[('sep_conv_3x3', 0)]])",
		      o),
		1);
	assert_string_equal(o[0].value,
			    "Genotype(normal=[[('sep_conv_3x3', 0)]])");
	metrics_parser_free(p);
}

static void test_multiple_formats_and_empty_matches(void **state)
{
	char *f[] = { "(a*)(b*)", "(loss):(\\d+)" };
	struct observation o[MAXOBS];
	struct metrics_parser *p = parser(f, 2, "loss", NULL);

	/* the first regex matches empty strings everywhere: must end */
	assert_int_equal(parse(p, "xx loss:7 loss:8", o), 2);
	assert_string_equal(o[0].value, "7");
	assert_string_equal(o[1].value, "8");
	metrics_parser_free(p);
}

static void test_bad_formats(void **state)
{
	char *bad[] = { "([\\w-]+)=(\\d+)", "([a-z" };
	char *one[] = { "loss=(\\d+)" };
	char *noncap[] = { "(?:x)(a)=(b)" };
	struct experiment_spec spec;
	struct metrics_parser *p = NULL;
	struct kb_error err;

	kb_error_clear(&err);
	make_spec(&spec, bad, 2, "loss", NULL);
	assert_int_equal(metrics_parser_new(&spec, &p, &err), -EINVAL);
	assert_null(p);
	assert_string_equal(
		err.field,
		"spec.metricsCollectorSpec.source.filter.metricsFormat[1]");
	assert_non_null(strstr(err.message, "offset"));

	kb_error_clear(&err);
	assert_int_equal(metrics_validate_formats(one, 1, &err), -EINVAL);
	assert_string_equal(
		err.field,
		"spec.metricsCollectorSpec.source.filter.metricsFormat[0]");
	assert_non_null(strstr(err.message, "two capture groups"));

	kb_error_clear(&err);
	assert_int_equal(metrics_validate_formats(noncap, 1, &err), 0);
	assert_int_equal(metrics_validate_formats(bad, 1, NULL), 0);
}

static void test_long_line(void **state)
{
	static char line[METRICS_MAX_LINE + 100];
	struct metrics_parser *p = parser(NULL, 0, "loss", NULL);
	struct observation o[MAXOBS];

	memset(line, ' ', sizeof(line));
	memcpy(line, "loss=1", 6);
	memcpy(line + METRICS_MAX_LINE + 10, "loss=2", 6);
	assert_int_equal(
		metrics_parse_line(p, line, sizeof(line), 0, 0, o, MAXOBS), 1);
	assert_string_equal(o[0].value, "1");
	metrics_parser_free(p);
}

static size_t pjson(struct metrics_parser *p, const char *line,
		    struct observation *o)
{
	return metrics_parse_line(p, line, strlen(line), 1, 5.0, o, MAXOBS);
}

static void test_json(void **state)
{
	struct metrics_parser *p = parser(NULL, 0, "loss", "accuracy");
	struct observation o[MAXOBS];

	assert_int_equal(pjson(p,
			       "{\"loss\": \"0.49\", \"accuracy\": 0.8, "
			       "\"timestamp\": 1700000000.5}",
			       o),
			 2);
	assert_string_equal(o[0].value, "0.49");
	assert_string_equal(o[1].value, "0.8");
	assert_true(o[0].time == 1700000000.5);
	assert_int_equal(pjson(p,
			       "{\"loss\": 1e-05, \"timestamp\": "
			       "\"2024-01-02T03:04:05Z\"}",
			       o),
			 1);
	assert_string_equal(o[0].value, "1e-05");
	assert_true(o[0].time == 1704164645.0);
	assert_int_equal(pjson(p, "{\"loss\": \"0.1\"}", o), 1);
	assert_true(o[0].time == 5.0);
	assert_int_equal(pjson(p, "not json", o), 0);
	assert_int_equal(pjson(p, "[1,2]", o), 0);
	assert_int_equal(pjson(p, "{\"lossy\": \"1\", \"loss\": true}", o), 0);
	metrics_parser_free(p);
}

static int push(struct metrics_parser *p, const char *text,
		struct observation *o, struct kb_error *err)
{
	kb_error_clear(err);
	return metrics_parse_push(p, text, strlen(text), 7.0, o, MAXOBS, err);
}

static void test_push_ok(void **state)
{
	struct metrics_parser *p = parser(NULL, 0, "loss", "accuracy");
	struct observation o[MAXOBS];
	struct kb_error err;

	assert_int_equal(push(p,
			      "loss=0.5\n\n  accuracy = 0.9 \r\n"
			      "2024-01-02T03:04:05Z loss=0.25\nloss=nan-ish",
			      o, &err),
			 4);
	assert_int_equal(o[1].metric, 1);
	assert_string_equal(o[1].value, "0.9");
	assert_true(o[1].time == 7.0);
	assert_true(o[2].time == 1704164645.0);
	assert_string_equal(o[3].value, "nan-ish");
	assert_int_equal(push(p, "", o, &err), 0);
	metrics_parser_free(p);
}

static void test_push_errors(void **state)
{
	struct metrics_parser *p = parser(NULL, 0, "loss", "accuracy");
	struct observation o[MAXOBS];
	struct kb_error err;

	assert_int_equal(push(p, "loss=0.5\nacc=0.3\n", o, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.message, "unknown metric 'acc'"));
	assert_non_null(strstr(err.message, "loss, accuracy"));
	assert_int_equal(push(p, "loss 0.5", o, &err), -EINVAL);
	assert_non_null(strstr(err.message, "name=value"));
	assert_int_equal(push(p, "loss=", o, &err), -EINVAL);
	assert_int_equal(push(p, "loss=1 2", o, &err), -EINVAL);
	assert_int_equal(push(p, "=1", o, &err), -EINVAL);
	assert_int_equal(
		metrics_parse_push(p, "loss=1\nloss=2", 13, 0, o, 1, &err),
		-E2BIG);
	{ /* a line longer than the parser reads: refused, not cut */
		size_t n = METRICS_MAX_LINE + 100;
		char *big = malloc(n + 8);

		assert_non_null(big);
		memcpy(big, "loss=0.5\nloss=", 14);
		memset(big + 14, '1', n - 14);
		kb_error_clear(&err);
		assert_int_equal(
			metrics_parse_push(p, big, n, 0, o, MAXOBS, &err),
			-EINVAL);
		assert_int_equal(err.line, 2);
		assert_non_null(strstr(err.message, "longer than katibfs"));
		free(big);
	}
	metrics_parser_free(p);
}

static void test_summary(void **state)
{
	struct metric_summary s;
	char buf[METRIC_VALUE_MAX];
	double v;
	int num;

	metric_summary_init(&s);
	assert_int_equal(metric_summary_value(&s, STRATEGY_MIN, buf,
					      sizeof(buf), &v, &num),
			 -ENODATA);
	metric_summary_add(&s, 1, "0.5");
	metric_summary_add(&s, 3, "0.2");
	metric_summary_add(&s, 2, "0.9");
	metric_summary_add(&s, 3, "0.30");
	assert_int_equal(s.count, 4);
	assert_int_equal(metric_summary_value(&s, STRATEGY_MIN, buf,
					      sizeof(buf), &v, &num),
			 0);
	assert_string_equal(buf, "0.2");
	assert_true(num && v == 0.2);
	metric_summary_value(&s, STRATEGY_MAX, buf, sizeof(buf), &v, &num);
	assert_string_equal(buf, "0.9");
	metric_summary_value(&s, STRATEGY_LATEST, buf, sizeof(buf), &v, &num);
	assert_string_equal(buf, "0.3"); /* tie on time: the later one */

	metric_summary_init(&s);
	metric_summary_add(&s, 1, "Genotype(a)");
	assert_int_equal(metric_summary_value(&s, STRATEGY_MAX, buf,
					      sizeof(buf), &v, &num),
			 0);
	assert_string_equal(buf, "Genotype(a)");
	assert_int_equal(num, 0);
	metric_summary_release(&s);

	/* a DARTS genotype is several hundred bytes: kept whole */
	{
		char geno[700];
		size_t i;

		for (i = 0; i + 1 < sizeof(geno); i++)
			geno[i] =
				"Genotype(normal=[[('sep_conv_3x3', 0)]])"[i %
									   40];
		geno[sizeof(geno) - 1] = '\0';
		metric_summary_init(&s);
		metric_summary_add(&s, 1, "0.5");
		metric_summary_add(&s, 2, geno);
		metric_summary_value(&s, STRATEGY_LATEST, buf, sizeof(buf), &v,
				     &num);
		assert_string_equal(buf, geno);
		metric_summary_add(&s, 3, "0.25"); /* short again */
		metric_summary_value(&s, STRATEGY_LATEST, buf, sizeof(buf), &v,
				     &num);
		assert_string_equal(buf, "0.25");
		metric_summary_release(&s);
	}
}

static void fmt(double v, const char *want)
{
	char buf[64];

	format_double(v, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_format_double(void **state)
{
	fmt(0.1, "0.1");
	fmt(1e-05, "1e-05");
	fmt(0.1 + 0.2, "0.30000000000000004");
	fmt(3, "3");
	fmt(-7.53e5, "-753000");
	fmt(1.0 / 3, "0.3333333333333333");
}

static void test_rfc3339(void **state)
{
	double t;

	assert_int_equal(parse_rfc3339("1970-01-01T00:00:00Z", 20, &t), 20);
	assert_true(t == 0);
	assert_int_equal(parse_rfc3339("2000-02-29T12:00:00.5-01:30 x", 29, &t),
			 27);
	assert_true(t == 951831000.5);
	assert_int_equal(parse_rfc3339("2001-02-29T12:00:00Z", 20, &t), 0);
	assert_int_equal(parse_rfc3339("2001-02-28T24:00:00Z", 20, &t), 0);
	assert_int_equal(parse_rfc3339("2001-02-28T12:00:00", 19, &t), 0);
	assert_int_equal(parse_rfc3339("2001-02-28T12:00:00.Z", 21, &t), 0);
	assert_int_equal(parse_rfc3339("2001-02-28", 10, &t), 0);
}

/* What a MetricsUnavailable trial's message says the collector expects. */
static void test_expectation(void **state)
{
	char *fmts[] = { "(\\w+):\\s*([0-9.]+)" };
	struct experiment_spec spec;
	char buf[512];

	make_spec(&spec, NULL, 0, "accuracy", NULL);
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_string_equal(buf, "the StdOut collector expects lines like "
				 "accuracy=0.97 in the trial's output");
	make_spec(&spec, fmts, 1, "loss", NULL);
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_string_equal(buf, "the StdOut collector expects lines where "
				 "one of the metricsFormat regexes finds the "
				 "name loss and a value: (\\w+):\\s*([0-9.]+) "
				 "in the trial's output");
	make_spec(&spec, NULL, 0, "loss", NULL);
	spec.collector.kind = COLLECTOR_FILE;
	spec.collector.path = "/var/log/katib/metrics.log";
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_string_equal(buf, "the File collector reads "
				 "/var/log/katib/metrics.log and expects "
				 "lines like loss=0.97");
	spec.collector.format = FORMAT_JSON;
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_string_equal(buf, "the File collector reads "
				 "/var/log/katib/metrics.log and expects "
				 "JSON lines like {\"loss\": \"0.97\"}");
	spec.collector.kind = COLLECTOR_PUSH;
	spec.collector.format = FORMAT_TEXT;
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_string_equal(buf, "the Push collector expects lines like "
				 "loss=0.97 appended to trials/N/metrics");
	/* a small buffer truncates */
	metrics_expectation(&spec, buf, 10);
	assert_int_equal(strlen(buf), 9);
}

/* The derived logs of the TensorFlowEvent and PrometheusMetric collectors:
 * "[RFC3339 ]name=value" with any name (slashes, colons), '#' lines are
 * state. */
static void test_named(void **state)
{
	struct metrics_parser *p = parser(NULL, 0, "train/accuracy", "loss");
	struct observation o[MAXOBS];
	const char *l1 = "2023-11-14T22:13:20.5Z train/accuracy=0.75",
		   *l2 = "loss=2", *l3 = "# tfevent-offset 42 0 train/x",
		   *l4 = "other=1";

	(void)state;
	assert_int_equal(metrics_parse_named(p, l1, strlen(l1), 7, o, MAXOBS),
			 1);
	assert_int_equal(o[0].metric, 0);
	assert_string_equal(o[0].value, "0.75");
	assert_true(o[0].time == 1700000000.5);
	assert_int_equal(metrics_parse_named(p, l2, strlen(l2), 7, o, MAXOBS),
			 1);
	assert_int_equal(o[0].metric, 1);
	assert_true(o[0].time == 7);
	assert_int_equal(metrics_parse_named(p, l3, strlen(l3), 7, o, MAXOBS),
			 0);
	assert_int_equal(metrics_parse_named(p, l4, strlen(l4), 7, o, MAXOBS),
			 0);
	metrics_parser_free(p);
}

static void test_expectation_collectors(void **state)
{
	struct experiment_spec spec;
	char buf[512];

	(void)state;
	make_spec(&spec, NULL, 0, "train/accuracy", NULL);
	spec.collector.kind = COLLECTOR_TFEVENT;
	spec.collector.path = "/var/log/katib/tfevent/";
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_non_null(strstr(buf, "TensorBoard event files under "
				    "/var/log/katib/tfevent/"));
	spec.collector.kind = COLLECTOR_PROMETHEUS;
	spec.collector.http_get = NULL; /* Katib's defaults */
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_non_null(strstr(buf, "http://127.0.0.1:8080/metrics"));
	spec.collector.kind = COLLECTOR_CUSTOM;
	metrics_expectation(&spec, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Custom collector's output"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_examples),
		cmocka_unit_test(test_default_two_metrics),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_custom_formats),
		cmocka_unit_test(test_multiple_formats_and_empty_matches),
		cmocka_unit_test(test_bad_formats),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_push_ok),
		cmocka_unit_test(test_push_errors),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_expectation),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_expectation_collectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
