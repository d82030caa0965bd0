/*
 * metrics.c - parse trial output into observations (Katib's TEXT and JSON
 * collectors, plus the push format) and aggregate them per metric.
 *
 * The rules follow KATIB.md c.1 (parseLogsInTextFormat); deviations are
 * marked "katibfs:" in the comments. A parser is immutable once built;
 * match data is allocated per call so several threads may share it.
 *
 * Owns: a metrics parser (metrics_parser_new(), metrics_parser_free(): its
 * compiled patterns and metric names) and the metric summaries' values
 * (metric_summaries_free()).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "collectors/metrics.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define FORMAT_FIELD "spec.metricsCollectorSpec.source.filter.metricsFormat"

struct metrics_parser {
	pcre2_code **re;
	size_t nre;
	char **names;
	size_t nnames;
};

/* ---- small text helpers ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Trim [*s, *s + *len) in place (pointer and length). */
static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

static void copy_value(char *dst, const char *src, size_t len)
{
	if (len >= METRIC_VALUE_MAX)
		len = METRIC_VALUE_MAX - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* 1 if s (NUL-terminated) is a whole finite number as strtod reads it. */
static int parse_number(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || is_space(*s))
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || !isfinite(v))
		return 0;
	*out = v;
	return 1;
}

/* ---- numbers and times ---- */

void format_double(double v, char *buf, size_t size)
{
	int prec;

	if (!size)
		return;
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (!isfinite(v) || strtod(buf, NULL) == v)
			return;
	}
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/* "+HH:MM" / "-HH:MM" / "Z" at s; returns bytes used or 0. */
static size_t parse_zone(const char *s, size_t len, int *offset)
{
	int hh, mm;

	if (len >= 1 && s[0] == 'Z') {
		*offset = 0;
		return 1;
	}
	if (len < 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return 0;
	if (!digits(s + 1, 2, &hh) || !digits(s + 4, 2, &mm) || hh > 23 ||
	    mm > 59)
		return 0;
	*offset = (hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1);
	return 6;
}

size_t parse_rfc3339(const char *s, size_t len, double *out)
{
	int y, mo, d, h, mi, se, offset;
	double frac = 0, scale = 0.1;
	size_t i = 19, z;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || se > 59)
		return 0;
	if (s[i] == '.') {
		if (++i >= len || !isdigit((unsigned char)s[i]))
			return 0;
		for (; i < len && isdigit((unsigned char)s[i]); i++) {
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	z = parse_zone(s + i, len - i, &offset);
	if (!z)
		return 0;
	*out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600 +
	       mi * 60 + se - offset + frac;
	return i + z;
}

/* The timestamp Katib takes from a line: the text before the first space,
 * when it is a whole RFC3339 time. Returns its length or 0. */
static size_t line_timestamp(const char *line, size_t len, double *t)
{
	size_t tok = 0;
	double v;

	while (tok < len && line[tok] != ' ')
		tok++;
	if (!tok || parse_rfc3339(line, tok, &v) != tok)
		return 0;
	*t = v;
	return tok;
}

/* ---- parser construction ---- */

static int compile_one(const char *fmt, size_t i, pcre2_code **out,
		       struct kb_error *err)
{
	char field[sizeof(FORMAT_FIELD) + 32];
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	uint32_t ncap = 0;
	pcre2_code *re;
	int code;

	snprintf(field, sizeof(field), FORMAT_FIELD "[%zu]", i);
	re = pcre2_compile((PCRE2_SPTR)fmt, PCRE2_ZERO_TERMINATED, 0, &code,
			   &off, NULL);
	if (!re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return kb_error_set(err, -EINVAL, field, 0,
				    "invalid regular expression at offset %zu: "
				    "%s",
				    (size_t)off, (char *)msg);
	}
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	if (ncap < 2) {
		pcre2_code_free(re);
		return kb_error_set(err, -EINVAL, field, 0,
				    "needs at least two capture groups (1st = "
				    "metric name, 2nd = value), has %u",
				    (unsigned)ncap);
	}
	if (out)
		*out = re;
	else
		pcre2_code_free(re);
	return 0;
}

int metrics_validate_formats(char *const *formats, size_t n,
			     struct kb_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = compile_one(formats[i], i, NULL, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_name(struct metrics_parser *p, const char *name)
{
	size_t i;

	if (!name || !*name)
		return 0;
	for (i = 0; i < p->nnames; i++)
		if (!strcmp(p->names[i], name))
			return 0;
	p->names[p->nnames] = strdup(name);
	if (!p->names[p->nnames])
		return -ENOMEM;
	p->nnames++;
	return 0;
}

static int collect_names(struct metrics_parser *p,
			 const struct experiment_spec *spec)
{
	const struct objective_spec *o = &spec->objective;
	size_t i;
	int rc;

	p->names = calloc(o->nadditional + 1, sizeof(*p->names));
	if (!p->names)
		return -ENOMEM;
	rc = add_name(p, o->metric);
	for (i = 0; !rc && i < o->nadditional; i++)
		rc = add_name(p, o->additional[i]);
	return rc;
}

static int compile_all(struct metrics_parser *p, const struct collector_spec *c,
		       struct kb_error *err)
{
	static const char *const def = METRICS_DEFAULT_FORMAT;
	char *const *fmts = c->metrics_format;
	size_t n = c->nmetrics_format, i;
	int rc;

	if (!n) {
		fmts = (char *const *)&def;
		n = 1;
	}
	p->re = calloc(n, sizeof(*p->re));
	if (!p->re)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = compile_one(fmts[i], i, &p->re[i], err);
		if (rc)
			return rc;
		p->nre++;
	}
	return 0;
}

int metrics_parser_new(const struct experiment_spec *spec,
		       struct metrics_parser **out, struct kb_error *err)
{
	struct metrics_parser *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = collect_names(p, spec);
	if (rc)
		goto out;
	rc = compile_all(p, &spec->collector, err);
out:
	if (rc) {
		if (rc == -ENOMEM)
			kb_error_set(err, rc, NULL, 0, "out of memory");
		metrics_parser_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* "lines like loss=0.97" or "lines matching the metricsFormat regex(es) ..." */
static void expected_lines(const struct experiment_spec *spec, char *buf,
			   size_t size)
{
	const struct collector_spec *c = &spec->collector;
	size_t i, off;

	if (c->kind == COLLECTOR_FILE && c->format == FORMAT_JSON) {
		snprintf(buf, size, "JSON lines like {\"%s\": \"0.97\"}",
			 spec->objective.metric);
		return;
	}
	if (!c->nmetrics_format) {
		snprintf(buf, size, "lines like %s=0.97",
			 spec->objective.metric);
		return;
	}
	off = (size_t)snprintf(buf, size,
			       "lines where one of the metricsFormat regexes "
			       "finds the name %s and a value:",
			       spec->objective.metric);
	for (i = 0; i < c->nmetrics_format && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, " %s",
					c->metrics_format[i]);
}

int prom_port(const struct collector_spec *c)
{
	const cJSON *v = cJSON_GetObjectItem(c->http_get, "port");

	return cJSON_IsNumber(v) ? v->valueint : 8080;
}

const char *prom_path(const struct collector_spec *c)
{
	const cJSON *v = cJSON_GetObjectItem(c->http_get, "path");

	return cJSON_IsString(v) ? v->valuestring : "/metrics";
}

void metrics_expectation(const struct experiment_spec *spec, char *buf,
			 size_t size)
{
	const struct collector_spec *c = &spec->collector;
	char lines[300];

	expected_lines(spec, lines, sizeof(lines));
	switch (c->kind) {
	case COLLECTOR_FILE:
		snprintf(buf, size,
			 "the File collector reads %s and expects %s",
			 c->path ? c->path : "(no path)", lines);
		break;
	case COLLECTOR_PUSH:
		snprintf(buf, size,
			 "the Push collector expects %s appended to "
			 "trials/N/metrics",
			 lines);
		break;
	case COLLECTOR_TFEVENT:
		snprintf(
			buf, size,
			"the TensorFlowEvent collector reads TensorBoard event "
			"files under %s and expects scalars whose tag starts "
			"with %s (metric a/b: tag b... in a directory a)",
			c->path ? c->path : "(no path)",
			spec->objective.metric);
		break;
	case COLLECTOR_PROMETHEUS:
		snprintf(buf, size,
			 "the PrometheusMetric collector scrapes "
			 "http://127.0.0.1:%d%s every few seconds while the "
			 "trial runs and expects a sample named %s",
			 prom_port(c), prom_path(c), spec->objective.metric);
		break;
	case COLLECTOR_CUSTOM:
		snprintf(buf, size,
			 "the Custom collector's output is expected to hold %s",
			 lines);
		break;
	default:
		snprintf(buf, size,
			 "the %s collector expects %s in the trial's output",
			 collector_kind_name(c->kind), lines);
	}
}

void metrics_parser_free(struct metrics_parser *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nre; i++)
		pcre2_code_free(p->re[i]);
	for (i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->re);
	free(p->names);
	free(p);
}

size_t metrics_parser_nmetrics(const struct metrics_parser *p)
{
	return p->nnames;
}

const char *metrics_parser_metric(const struct metrics_parser *p, int i)
{
	if (i < 0 || (size_t)i >= p->nnames)
		return NULL;
	return p->names[i];
}

static int metric_index(const struct metrics_parser *p, const char *name,
			size_t len)
{
	size_t i;

	for (i = 0; i < p->nnames; i++)
		if (strlen(p->names[i]) == len &&
		    !memcmp(p->names[i], name, len))
			return (int)i;
	return -1;
}

/* 1 if the line contains some wanted metric name as a substring. */
static int line_mentions(const struct metrics_parser *p, const char *line,
			 size_t len)
{
	size_t i;

	for (i = 0; i < p->nnames; i++)
		if (memmem(line, len, p->names[i], strlen(p->names[i])))
			return 1;
	return 0;
}

/* ---- TEXT lines ---- */

struct emit {
	struct observation *out;
	size_t max, n;
	double time;
};

static void emit_obs(struct emit *e, int metric, const char *v, size_t len)
{
	struct observation *o;

	/* The value is kept as a C string: cut it at a NUL byte (a custom
	 * regex or a JSON string may take one), so that what is stored is
	 * what the checks below saw. */
	len = strnlen(v, len);
	/* katibfs: Katib stores an empty value ("x=" with the default
	 * regex); we drop it, it can never be a number and only hides the
	 * real observations. */
	if (!len || e->n >= e->max)
		return;
	o = &e->out[e->n++];
	o->time = e->time;
	o->metric = metric;
	copy_value(o->value, v, len);
}

static void take_match(const struct metrics_parser *p, const char *line,
		       const PCRE2_SIZE *ov, struct emit *e)
{
	const char *name, *val;
	size_t nlen, vlen;
	int m;

	/* An optional group that did not take part is PCRE2_UNSET (~0):
	 * look before adding it to a pointer. */
	if (ov[2] == PCRE2_UNSET || ov[4] == PCRE2_UNSET)
		return;
	name = line + ov[2];
	val = line + ov[4];
	nlen = ov[3] - ov[2];
	vlen = ov[5] - ov[4];
	trim(&name, &nlen);
	trim(&val, &vlen);
	m = metric_index(p, name, nlen);
	if (m >= 0)
		emit_obs(e, m, val, vlen);
}

/* All matches of re in line, as Go's FindAllStringSubmatch finds them:
 * after an empty match advance one byte, and an empty match right where
 * the previous match ended is not reported. */
static void match_all(const struct metrics_parser *p, const pcre2_code *re,
		      const char *line, size_t len, struct emit *e)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	PCRE2_SIZE pos = 0, prev_end = PCRE2_UNSET, *ov;
	int accept, rc;

	if (!md)
		return;
	while (pos <= len && e->n < e->max) {
		rc = pcre2_match(re, (PCRE2_SPTR)line, len, pos, 0, md, NULL);
		if (rc < 0)
			break;
		ov = pcre2_get_ovector_pointer(md);
		accept = 1;
		if (ov[1] == ov[0]) {
			if (ov[0] == prev_end)
				accept = 0;
			pos = ov[1] + 1;
		} else {
			pos = ov[1];
		}
		prev_end = ov[1];
		if (accept && rc >= 3)
			take_match(p, line, ov, e);
	}
	pcre2_match_data_free(md);
}

static size_t parse_text(const struct metrics_parser *p, const char *line,
			 size_t len, double now, struct observation *out,
			 size_t max)
{
	struct emit e = { out, max, 0, now };
	size_t i;

	if (!line_mentions(p, line, len))
		return 0;
	/* Katib uses Go's zero time when there is no timestamp; we use the
	 * time the line was read, which is what a user means. */
	line_timestamp(line, len, &e.time);
	for (i = 0; i < p->nre && e.n < max; i++)
		match_all(p, p->re[i], line, len, &e);
	return e.n;
}

/* ---- JSON lines ---- */

static double json_time(const cJSON *obj, double now)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "timestamp");
	const char *s;
	double v;

	if (cJSON_IsNumber(t))
		return t->valuedouble;
	if (cJSON_IsString(t) && t->valuestring) {
		s = t->valuestring;
		if (parse_rfc3339(s, strlen(s), &v) == strlen(s))
			return v;
	}
	return now;
}

static void json_member(const struct metrics_parser *p, const cJSON *obj,
			size_t i, struct emit *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, p->names[i]);
	char num[64];
	const char *s;
	size_t len;

	if (cJSON_IsString(v) && v->valuestring) {
		s = v->valuestring;
		len = strlen(s);
		trim(&s, &len);
		emit_obs(e, (int)i, s, len);
	} else if (cJSON_IsNumber(v)) {
		/* katibfs: Katib ignores numbers (only strings count);
		 * {"loss": 0.5} is what people write, so we take it. */
		format_double(v->valuedouble, num, sizeof(num));
		emit_obs(e, (int)i, num, strlen(num));
	}
}

static size_t parse_json(const struct metrics_parser *p, const char *line,
			 size_t len, double now, struct observation *out,
			 size_t max)
{
	struct emit e = { out, max, 0, now };
	cJSON *obj;
	size_t i;

	/* Katib fails the whole collection on a non-object line; we skip
	 * the line (a trial printing other text must not lose metrics). */
	obj = cJSON_ParseWithLength(line, len);
	if (!obj)
		return 0;
	if (cJSON_IsObject(obj)) {
		e.time = json_time(obj, now);
		for (i = 0; i < p->nnames; i++)
			json_member(p, obj, i, &e);
	}
	cJSON_Delete(obj);
	return e.n;
}

size_t metrics_parse_line(const struct metrics_parser *p, const char *line,
			  size_t len, int json, double now,
			  struct observation *out, size_t max)
{
	if (len > METRICS_MAX_LINE)
		len = METRICS_MAX_LINE;
	if (!max)
		return 0;
	return json ? parse_json(p, line, len, now, out, max)
		    : parse_text(p, line, len, now, out, max);
}

size_t metrics_parse_named(const struct metrics_parser *p, const char *line,
			   size_t len, double now, struct observation *out,
			   size_t max)
{
	struct kb_error err = { 0 };
	int n;

	if (!len || line[0] == '#')
		return 0;
	n = metrics_parse_push(p, line, len, now, out, max, &err);
	return n < 0 ? 0 : (size_t)n;
}

/* ---- push ---- */

static void wanted_list(const struct metrics_parser *p, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nnames && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
			      p->names[i]);
}

static int push_error(const struct metrics_parser *p, int lineno,
		      struct kb_error *err, const char *what, const char *s,
		      size_t len)
{
	char names[256];

	wanted_list(p, names, sizeof(names));
	if (len > 64)
		len = 64;
	return kb_error_set(err, -EINVAL, NULL, lineno,
			    "%s '%.*s'; write name=value lines with name one "
			    "of: %s",
			    what, (int)len, s, names);
}

/* A value is a number or one non-empty token without whitespace or NUL. */
static int push_value_ok(const char *v, size_t len)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (is_space(v[i]) || !v[i])
			return 0;
	return 1;
}

static int push_line(const struct metrics_parser *p, const char *s, size_t len,
		     int lineno, struct emit *e, struct kb_error *err)
{
	const char *eq, *name, *val;
	size_t ts, nlen, vlen;
	int m;

	ts = line_timestamp(s, len, &e->time);
	if (ts) {
		s += ts;
		len -= ts;
		trim(&s, &len);
	}
	eq = memchr(s, '=', len);
	if (!eq)
		return push_error(p, lineno, err, "not name=value:", s, len);
	name = s;
	nlen = (size_t)(eq - s);
	val = eq + 1;
	vlen = len - nlen - 1;
	trim(&name, &nlen);
	trim(&val, &vlen);
	m = metric_index(p, name, nlen);
	if (m < 0)
		return push_error(p, lineno, err, "unknown metric", name, nlen);
	if (!push_value_ok(val, vlen))
		return push_error(p, lineno, err,
				  "value must be a number or one word, got",
				  val, vlen);
	if (e->n >= e->max)
		return kb_error_set(err, -E2BIG, NULL, lineno,
				    "more than %zu observations in one write",
				    e->max);
	emit_obs(e, m, val, vlen);
	return 0;
}

int metrics_parse_push(const struct metrics_parser *p, const char *text,
		       size_t len, double now, struct observation *out,
		       size_t max, struct kb_error *err)
{
	struct emit e = { out, max, 0, now };
	const char *line = text, *nl, *end = text + len;
	size_t llen;
	int lineno = 0, rc;

	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		llen = nl ? (size_t)(nl - line) : (size_t)(end - line);
		lineno++;
		/* cut, it could read as a different value: refused whole */
		if (llen > METRICS_MAX_LINE)
			return kb_error_set(
				err, -EINVAL, NULL, lineno,
				"a line of %zu bytes, longer than katibfs "
				"takes (%d); write short name=value lines",
				llen, METRICS_MAX_LINE);
		trim(&line, &llen);
		if (llen) {
			e.time = now;
			rc = push_line(p, line, llen, lineno, &e, err);
			if (rc)
				return rc; /* the caller appends nothing */
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return (int)e.n;
}

/* ---- summaries ---- */

void metric_summary_init(struct metric_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->min = INFINITY;
	s->max = -INFINITY;
	s->latest_time = -INFINITY;
}

/* Keep value as the latest: inline when it fits, else on the heap (on
 * ENOMEM, cut to what fits inline). */
static void summary_set_latest(struct metric_summary *s, const char *value)
{
	size_t len = strlen(value);

	free(s->latest_long);
	s->latest_long = NULL;
	if (len >= sizeof(s->latest_inline))
		s->latest_long = strdup(value);
	snprintf(s->latest_inline, sizeof(s->latest_inline), "%s", value);
}

void metric_summary_add(struct metric_summary *s, double time,
			const char *value)
{
	double v;

	s->count++;
	if (parse_number(value, &v)) {
		s->numeric++;
		if (v < s->min)
			s->min = v;
		if (v > s->max)
			s->max = v;
	}
	if (time >= s->latest_time) {
		s->latest_time = time;
		summary_set_latest(s, value);
	}
}

const char *metric_summary_latest(const struct metric_summary *s)
{
	return s->latest_long ? s->latest_long : s->latest_inline;
}

void metric_summary_release(struct metric_summary *s)
{
	free(s->latest_long);
	s->latest_long = NULL;
}

void metric_summaries_free(struct metric_summary *s, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		metric_summary_release(&s[i]);
	free(s);
}

int metric_summary_value(const struct metric_summary *s,
			 enum metric_strategy strategy, char *buf, size_t size,
			 double *value, int *numeric)
{
	double v = 0;
	int num;

	if (!s->count)
		return -ENODATA;
	if (strategy != STRATEGY_LATEST && s->numeric) {
		v = strategy == STRATEGY_MIN ? s->min : s->max;
		num = 1;
	} else {
		num = parse_number(metric_summary_latest(s), &v);
	}
	if (!buf || !size)
		; /* only the value is wanted */
	else if (num)
		format_double(v, buf, size);
	else
		snprintf(buf, size, "%s", metric_summary_latest(s));
	if (value)
		*value = v;
	if (numeric)
		*numeric = num;
	return 0;
}
