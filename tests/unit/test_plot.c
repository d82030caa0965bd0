/*
 * test_plot.c - plot.svg (core/views/plot.c) from experiments built by hand: a
 * spec from spec_parse(), trials with objective summaries. Every document
 * is checked to be well-formed XML by python3's xml.dom.minidom (the parser
 * IPython.display.SVG uses), and its structure is checked here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/model.h"
#include "views/plot.h"
#include "views/plot_i.h"
#include "katib/spec.h"

#include "fixtures.h"

static const char spec_fmt[] =
	"apiVersion: kubeflow.org/v1beta1\n"
	"kind: Experiment\n"
	"metadata:\n"
	"  name: plot-test\n"
	"spec:\n"
	"  objective:\n"
	"    type: %s\n"
	"    goal: %s\n"
	"    objectiveMetricName: accuracy\n"
	"  algorithm:\n"
	"    algorithmName: random\n"
	"%s"
	"  maxTrialCount: 30\n"
	"  parameters:\n"
	"    - name: lr\n"
	"      parameterType: double\n"
	"      feasibleSpace: {min: \"0.001\", max: \"0.1\", "
	"distribution: logUniform}\n"
	"%s"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - name: lr\n"
	"        reference: lr\n"
	"%s"
	"    trialSpec:\n" FIXTURE_JOB "                image: python:3\n"
	"                command: [sh, -c, \"echo ${trialParameters.lr}%s\"]\n"
	"            restartPolicy: Never\n";

static const char more_params[] =
	"    - name: optimizer\n"
	"      parameterType: categorical\n"
	"      feasibleSpace:\n"
	"        list: [sgd, adam, \"a<b&c\", \"\xc3\xbc\"]\n"
	"    - name: layers\n"
	"      parameterType: int\n"
	"      feasibleSpace: {min: \"1\", max: \"5\"}\n";

static const char more_refs[] = "      - name: optimizer\n"
				"        reference: optimizer\n"
				"      - name: layers\n"
				"        reference: layers\n";

static const char medianstop_yaml[] = "  earlyStopping:\n"
				      "    algorithmName: medianstop\n"
				      "    algorithmSettings:\n"
				      "      - name: min_trials_required\n"
				      "        value: \"3\"\n"
				      "      - name: start_step\n"
				      "        value: \"4\"\n";

static const char *const optimizers[] = { "sgd", "adam", "a<b&c", "\xc3\xbc" };

static struct experiment *make_exp_es(const char *type, const char *goal,
				      const char *params, const char *early)
{
	struct experiment *e = calloc(1, sizeof(*e));
	struct kb_error err;
	char yaml[4096];
	size_t i;
	int n;

	assert_non_null(e);
	e->name = strdup("plot-test");
	e->state = EXP_RUNNING;
	strbuf_init(&e->events);
	if (!type)
		return e;
	n = snprintf(yaml, sizeof(yaml), spec_fmt, type, goal, early, params,
		     *params ? more_refs : "",
		     *params ? " ${trialParameters.optimizer} "
			       "${trialParameters.layers}"
			     : "");
	if (spec_parse(yaml, (size_t)n, "plot-test", &e->spec, &err))
		fail_msg("spec: %s (%s line %d)", err.message, err.field,
			 err.line);
	for (i = 0; i < e->spec->nparams; i++)
		e->value_names[i] = e->spec->params[i].name;
	e->nvalue_names = e->spec->nparams;
	return e;
}

static struct experiment *make_exp(const char *type, const char *goal,
				   const char *params)
{
	return make_exp_es(type, goal, params, "");
}

/* A trial with the given values and objective (NULL: none yet). */
static void add_trial(struct experiment *e, enum trial_state st,
		      const char *objective, const char *const *values)
{
	struct trial *t = trial_alloc();
	char name[TRIAL_NAME_MAX];
	size_t i;

	assert_non_null(t);
	t->number = (int)e->ntrials + 1;
	snprintf(name, sizeof(name), "plot-test-%08d", t->number);
	assert_int_equal(trial_set_name(e, t, name), 0);
	t->state = st;
	t->exit_code = -1;
	t->nvalues = e->nvalue_names;
	t->values = calloc(t->nvalues + 1, sizeof(*t->values));
	for (i = 0; i < t->nvalues; i++)
		t->values[i] = strdup(values[i]);
	if (objective) {
		t->summaries = calloc(1, sizeof(*t->summaries));
		metric_summary_init(&t->summaries[0]);
		metric_summary_add(&t->summaries[0], 1.0, objective);
		t->nsummaries = 1;
	}
	assert_int_equal(experiment_append_trial(e, t), 0);
}

/* The objective's observations of the last trial added (its series). */
static void set_series(struct experiment *e, const double *v, size_t n)
{
	struct trial *t = e->trials[e->ntrials - 1];

	t->series = malloc((n ? n : 1) * sizeof(*t->series));
	assert_non_null(t->series);
	memcpy(t->series, v, n * sizeof(*v));
	t->nseries = t->series_cap = n;
}

/* KATIBFS_PLOT_KEEP=DIR keeps every SVG rendered, to look at them. */
static void keep(const char *path)
{
	static int n;
	const char *dir = getenv("KATIBFS_PLOT_KEEP");
	char to[512];

	if (!dir) {
		unlink(path);
		return;
	}
	snprintf(to, sizeof(to), "%s/plot-%d.svg", dir, ++n);
	if (rename(path, to))
		unlink(path);
}

/*
 * What the parser saw in the last document rendered: one line per element
 * with a class, "<panel> <class>", in document order (panel: the id of the
 * enclosing <g class="panel">, without "panel-").
 */
static char summary[1 << 18];

static const char summary_py[] =
	"import sys, xml.dom.minidom as m\n"
	"d = m.parse(sys.argv[1])\n"
	"assert d.documentElement.tagName == 'svg'\n"
	"def walk(n, panel):\n"
	"    for c in n.childNodes:\n"
	"        if c.nodeType != c.ELEMENT_NODE: continue\n"
	"        cls = c.getAttribute('class')\n"
	"        p = panel\n"
	"        if cls == 'panel': p = c.getAttribute('id')[6:]\n"
	"        elif cls: print(p, cls)\n"
	"        walk(c, p)\n"
	"walk(d.documentElement, '-')\n";

/* Lines of summary that are exactly "<panel> <cls>". */
static size_t nclass(const char *panel, const char *cls)
{
	char want[128];
	const char *p = summary;
	size_t n = 0, len;

	len = (size_t)snprintf(want, sizeof(want), "%s %s\n", panel, cls);
	for (; (p = strstr(p, want)); p += len)
		if (p == summary || p[-1] == '\n')
			n++;
	return n;
}

/* Render e; the SVG must be well-formed XML. Caller frees. */
static char *render(struct experiment *e, size_t *len)
{
	char path[] = "/tmp/katib-plot-XXXXXX", cmd[256];
	struct strbuf b;
	FILE *f, *p;
	size_t n;
	int fd;

	strbuf_init(&b);
	assert_int_equal(plot_render(e, &b), 0);
	assert_non_null(b.data);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c \"$KATIBFS_SUMMARY_PY\" %s",
		 path);
	setenv("KATIBFS_SUMMARY_PY", summary_py, 1);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(summary, 1, sizeof(summary) - 1, p);
	summary[n] = '\0';
	if (pclose(p)) {
		fprintf(stderr, "%s\n", b.data);
		fail_msg("plot.svg is not well-formed XML (kept in %s)", path);
	}
	keep(path);
	if (len)
		*len = b.len;
	return b.data;
}

static void assert_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("'%s' not found in:\n%.3000s", needle, text);
}

static void assert_lacks(const char *text, const char *needle)
{
	if (strstr(text, needle))
		fail_msg("'%s' found in:\n%.3000s", needle, text);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)); text++)
		n++;
	return n;
}

static void assert_svg_header(const char *svg, const char *height)
{
	char want[96];

	assert_has(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"");
	assert_has(svg, "xmlns=\"http://www.w3.org/2000/svg\"");
	assert_has(svg, "version=\"1.1\"");
	snprintf(want, sizeof(want), "width=\"800\" height=\"%s\"", height);
	assert_has(svg, want);
	snprintf(want, sizeof(want), "viewBox=\"0 0 800 %s\"", height);
	assert_has(svg, want);
	assert_has(svg, "</svg>\n");
}

static void test_no_spec(void **state)
{
	struct experiment *e = make_exp(NULL, NULL, NULL);
	char *svg = render(e, NULL);

	assert_svg_header(svg, "150");
	assert_has(svg, "write a Katib Experiment to spec.yaml");
	free(svg);
	experiment_free(e);
}

static void test_no_values(void **state)
{
	struct experiment *e = make_exp("maximize", "0.99", "");
	const char *v[] = { "0.01" };
	char *svg;

	svg = render(e, NULL);
	assert_has(svg, "No trials yet");
	free(svg);
	add_trial(e, TRIAL_RUNNING, NULL, v);
	add_trial(e, TRIAL_FAILED, NULL, v);
	svg = render(e, NULL);
	assert_svg_header(svg, "150");
	assert_has(svg, "2 trial(s), none has reported accuracy yet");
	free(svg);
	experiment_free(e);
}

/* Three parameters, mixed states: both panels and all the marks. */
static struct experiment *make_full(void)
{
	static const char *const lrs[] = { "0.001", "0.003", "0.01", "0.03",
					   "0.1" };
	struct experiment *e = make_exp("maximize", "0.99", more_params);
	char acc[32], layers[8];
	const char *v[3];
	int i;

	for (i = 0; i < 20; i++) {
		enum trial_state st = i == 7	? TRIAL_FAILED
				      : i == 18 ? TRIAL_RUNNING
				      : i == 19 ? TRIAL_PENDING
						: TRIAL_SUCCEEDED;

		snprintf(acc, sizeof(acc), "%.4f", 0.5 + 0.47 * (i % 9) / 8.0);
		snprintf(layers, sizeof(layers), "%d", 1 + i % 5);
		v[0] = lrs[i % 5];
		v[1] = optimizers[i % 4];
		v[2] = layers;
		add_trial(e, st,
			  st == TRIAL_FAILED || st == TRIAL_PENDING ? NULL
								    : acc,
			  v);
	}
	return e;
}

static void test_full(void **state)
{
	struct experiment *e = make_full();
	char *svg = render(e, NULL);

	assert_svg_header(svg, "830");
	/* title: metric and direction */
	assert_has(svg, "<title>plot-test: accuracy per trial (maximize)");
	assert_has(svg, "accuracy (higher is better)");
	/* best: trial 9 has the highest accuracy (0.97) */
	assert_has(svg, "best: trial 9, accuracy = 0.97");
	/* the running best and the goal */
	assert_has(svg, "<polyline fill=\"none\" stroke=\"#2ca02c\"");
	assert_has(svg, "stroke-dasharray=\"6,4\"");
	assert_has(svg, "goal 0.99");
	/* nice ticks: 0.5 .. 1.0 by 0.1; trials 0 .. 30 (maxTrialCount) */
	assert_has(svg, ">0.5</text>");
	assert_has(svg, ">0.6</text>");
	assert_has(svg, ">1.0</text>");
	assert_has(svg, ">30</text>");
	assert_lacks(svg, "0.60000");
	/* points coloured by state; no-value trials on the axis */
	assert_has(svg, "<g fill=\"#1f77b4\"");	     /* Succeeded */
	assert_has(svg, "<g fill=\"#ff7f0e\"");	     /* Running */
	assert_has(svg, "<path stroke=\"#d62728\""); /* Failed, no value */
	assert_has(svg, "<path stroke=\"#9e9e9e\""); /* Pending */
	assert_int_equal(count(svg, "r=\"4\"/>"), 18);
	assert_has(svg, "Succeeded 17");
	/* parallel coordinates: axes, log axis, categories escaped */
	assert_has(svg, "Parameters of each trial, coloured by accuracy");
	assert_has(svg, ">lr</text>");
	assert_has(svg, ">optimizer</text>");
	assert_has(svg, ">layers</text>");
	assert_has(svg, ">log</text>");
	assert_has(svg, ">0.01</text>");
	assert_has(svg, ">a&lt;b&amp;c</text>");
	assert_has(svg, ">\xc3\xbc</text>");
	/* the colour bar's gradient, named after the experiment */
	assert_has(svg, "<linearGradient id=\"katibfs-objective-plot-test\"");
	assert_has(svg, "fill=\"url(#katibfs-objective-plot-test)\"");
	/* the best line is the last line drawn, failed trials grey */
	assert_has(svg, "class=\"pc-line pc-best\"");
	assert_lacks(strstr(svg, "pc-best") + 1, "class=\"pc-line");
	assert_has(strstr(svg, "pc-best"),
		   "<title>trial 9 (Succeeded)</title>");
	assert_int_equal(count(svg, "class=\"pc-failed\""), 1);
	assert_int_equal(count(svg, "class=\"pc-line"), 17 + 1);
	free(svg);
	experiment_free(e);
}

static void test_one_parameter(void **state)
{
	struct experiment *e = make_exp("minimize", "0.1", "");
	const char *v[] = { "0.05" };
	char *svg;

	add_trial(e, TRIAL_SUCCEEDED, "0.7", v);
	add_trial(e, TRIAL_SUCCEEDED, "0.7", v); /* flat: range widened */
	svg = render(e, NULL);
	assert_svg_header(svg, "430");
	assert_has(svg, "(minimize)");
	assert_has(svg, "lower is better");
	assert_lacks(svg, "Parameters of each trial");
	free(svg);
	experiment_free(e);
}

/* Values off the spec, bad UTF-8, control characters, inferred axes. */
static void test_hostile_text(void **state)
{
	struct experiment *e = make_exp("maximize", "0.99", more_params);
	const char *bad[] = { "0.01", "\x01<x>\xff\xc3", "7", "\xe2\x80" };
	const char *good[] = { "0.02", "sgd", "2", "abc" };

	e->value_names[3] = "arch \"q\" & <x>"; /* an algorithm's name */
	e->nvalue_names = 4;
	add_trial(e, TRIAL_SUCCEEDED, "0.6", bad);
	add_trial(e, TRIAL_SUCCEEDED, "0.8", good);
	add_trial(e, TRIAL_SUCCEEDED, "nan", good);
	add_trial(e, TRIAL_SUCCEEDED, "-inf", good);
	free(render(e, NULL));
	e->nvalue_names = 3;
	experiment_free(e);
}

/* 10,000 trials: decimated, bounded, still valid. */
static void test_many_trials(void **state)
{
	struct experiment *e = make_exp("minimize", "0.001", more_params);
	char acc[32], lr[32], layers[8];
	const char *v[3] = { lr, NULL, layers };
	size_t len;
	char *svg;
	int i;

	for (i = 0; i < 10000; i++) {
		snprintf(acc, sizeof(acc), "%.6f",
			 1.0 / (1 + i) + 0.1 * ((i * 7919) % 101) / 100.0);
		snprintf(lr, sizeof(lr), "%.6f", 0.001 + (i % 97) / 1000.0);
		snprintf(layers, sizeof(layers), "%d", 1 + i % 5);
		v[1] = optimizers[i % 4];
		add_trial(e, i % 13 ? TRIAL_SUCCEEDED : TRIAL_FAILED,
			  i % 13 ? acc : NULL, v);
	}
	svg = render(e, &len);
	assert_has(svg, "points drawn");
	/* parallel coordinates: the subtitle counts the lines drawn */
	{
		size_t lines = nclass("parallel", "pc-line") +
			       nclass("parallel", "pc-line pc-best");
		char want[96];

		assert_int_equal(nclass("parallel", "pc-line pc-best"), 1);
		assert_true(lines > PLOT_MAX_LINES / 2 &&
			    lines <= PLOT_MAX_LINES + 1);
		snprintf(want, sizeof(want),
			 "%zu of 9230 trials drawn, the best among them",
			 lines);
		assert_has(svg, want);
		assert_has(svg, "grey dashed: 770 failed trial(s) without a "
				"value (a sample drawn)");
		assert_true(nclass("parallel", "pc-failed") <= PLOT_MAX_FAILED);
		assert_true(nclass("parallel", "pc-failed") >
			    PLOT_MAX_FAILED / 2);
	}
	assert_true(count(svg, "<circle") <= 2 * (720 / 2 + 1) + 2);
	assert_true(count(svg, "<polyline") <=
		    PLOT_MAX_LINES + PLOT_MAX_FAILED + 2);
	if (len > 512 * 1024)
		fail_msg("plot.svg of 10,000 trials is %zu bytes", len);
	free(svg);
	experiment_free(e);
}

/* The <title> of the first element whose class is cls, or "". */
static const char *title_of(const char *svg, const char *cls, char *buf,
			    size_t size)
{
	char want[96];
	const char *p, *t, *end;

	snprintf(want, sizeof(want), "class=\"%s\"", cls);
	buf[0] = '\0';
	p = strstr(svg, want);
	if (!p)
		return buf;
	t = strstr(p, "<title>");
	end = strchr(p, '>');
	if (t && end && t == end + 1) { /* the element's first child */
		t += 7;
		end = strstr(t, "</title>");
		snprintf(buf, size, "%.*s", (int)(end - t), t);
	}
	return buf;
}

/* The last line of summary that starts with prefix, or "". */
static const char *last_line(const char *prefix, char *buf, size_t size)
{
	const char *p = summary, *hit = NULL, *end;
	size_t len = strlen(prefix);

	for (; *p; p = end + 1) {
		end = strchr(p, '\n');
		if (!end)
			break;
		if (!strncmp(p, prefix, len))
			hit = p;
	}
	buf[0] = '\0';
	if (hit)
		snprintf(buf, size, "%.*s", (int)(strchr(hit, '\n') - hit),
			 hit);
	return buf;
}

/*
 * Learning curves with medianstop: 12 trials report 4..15 steps (trial 4
 * also 0 steps: no curve), states mixed. Checked: one curve per trial
 * with observations, the best (lowest final loss) drawn last and only it
 * marked best, the end marks of early-stopped and killed trials, the
 * median from start_step (4) to the longest series (15), one point per
 * step.
 */
static void test_curves_medianstop(void **state)
{
	struct experiment *e =
		make_exp_es("minimize", "0.05", more_params, medianstop_yaml);
	const char *v[3] = { "0.01", "adam", "3" };
	double series[20], final;
	char obj[32], line[128];
	char *svg;
	int i, j, n;

	for (i = 0; i < 13; i++) {
		enum trial_state st = i == 3	? TRIAL_FAILED
				      : i == 5	? TRIAL_EARLY_STOPPED
				      : i == 8	? TRIAL_EARLY_STOPPED
				      : i == 10 ? TRIAL_KILLED
				      : i == 12 ? TRIAL_RUNNING
						: TRIAL_SUCCEEDED;

		n = i == 3 ? 0 : 4 + i % 12;
		for (j = 0; j < n; j++)
			series[j] = 1.0 / (1 + j) + 0.02 * ((i * 7) % 13);
		final = n ? series[n - 1] : 0;
		snprintf(obj, sizeof(obj), "%.6f", final);
		add_trial(e, st, n ? obj : NULL, v);
		set_series(e, series, (size_t)n);
	}
	svg = render(e, NULL);
	/* 12 curves (trial 4 failed before reporting) */
	assert_int_equal(nclass("curves", "curve"), 11);
	assert_int_equal(nclass("curves", "curve curve-best"), 1);
	/* the best is the last curve drawn: trial 7, the lowest final loss
	 * of the Succeeded and EarlyStopped ones */
	assert_string_equal(last_line("curves curve", line, sizeof(line)),
			    "curves curve curve-best");
	assert_string_equal(
		title_of(svg, "curve curve-best", line, sizeof(line)),
		"trial 7 (Succeeded)");
	assert_has(svg, "best: trial 7,");
	assert_int_equal(nclass("curves", "end-early-stopped"), 2);
	assert_int_equal(nclass("curves", "end-killed"), 1);
	assert_int_equal(nclass("curves", "median"), 1);
	assert_has(svg, "medianstop: median of 8");
	/* the median: steps 4..15, a point each */
	{
		const char *m = strstr(svg, "class=\"median\"");
		const char *pts = strstr(m, "points=\"") + 8;
		size_t npts = 1;

		for (; *pts != '"'; pts++)
			npts += *pts == ' ';
		assert_int_equal(npts, 15 - 4 + 1);
	}
	assert_has(svg, "Learning curves: accuracy at each report");
	assert_int_equal(nclass("-", "panel"), 0);
	assert_int_equal(nclass("objective", "clipped"), 0);
	free(svg);
	experiment_free(e);
}

/* Without medianstop no median; a trial without observations: no panel. */
static void test_curves_plain(void **state)
{
	struct experiment *e = make_exp("maximize", "0.99", more_params);
	const char *v[3] = { "0.01", "adam", "3" };
	const double series[] = { 0.5, 0.7, 0.8 };
	char *svg;

	add_trial(e, TRIAL_SUCCEEDED, "0.8", v);
	svg = render(e, NULL);
	assert_lacks(svg, "Learning curves");
	free(svg);
	set_series(e, series, 3);
	svg = render(e, NULL);
	assert_int_equal(nclass("curves", "curve curve-best"), 1);
	assert_int_equal(nclass("curves", "median"), 0);
	assert_lacks(svg, "medianstop");
	free(svg);
	experiment_free(e);
}

/*
 * One diverged trial (loss 1e6, and 1e6 in the middle of its curve) among
 * losses of 0.1 .. 0.9: every panel keeps the useful range, and draws the
 * outlier at the edge, marked.
 */
static void test_outlier_clipped(void **state)
{
	struct experiment *e = make_exp("minimize", "0.05", more_params);
	char obj[32], lr[16], layers[8];
	const char *v[3] = { lr, NULL, layers };
	double series[6];
	char *svg;
	int i, j;

	for (i = 0; i < 20; i++) {
		double x = i == 13 ? 1e6 : 0.1 + 0.04 * i;

		snprintf(obj, sizeof(obj), "%g", x);
		snprintf(lr, sizeof(lr), "%g", 0.001 + 0.004 * i);
		snprintf(layers, sizeof(layers), "%d", 1 + i % 5);
		v[1] = optimizers[i % 4];
		add_trial(e, TRIAL_SUCCEEDED, obj, v);
		for (j = 0; j < 6; j++)
			series[j] = x + 0.1 * (6 - j);
		if (i == 7)
			series[2] = 1e6;
		set_series(e, series, 6);
	}
	svg = render(e, NULL);
	assert_int_equal(nclass("objective", "clipped"), 1);
	/* trial 14's whole curve, trial 8's third step */
	assert_int_equal(nclass("curves", "clipped"), 2);
	assert_int_equal(nclass("parallel", "clipped"), 1);
	assert_has(svg, "1 off the axis");
	/* the axis spans the others (0.1 .. 1.46), not 1e6 */
	assert_has(svg, ">0.1</text>");
	assert_lacks(svg, "1e+06</text>");
	assert_lacks(svg, ">1000000</text>");
	free(svg);
	experiment_free(e);
}

/* 500 trials with curves: at most PLOT_MAX_CURVES drawn, the subtitle
 * says which; the best 10 are among them, the best last. */
static void test_curves_many(void **state)
{
	struct experiment *e = make_exp("maximize", "0.99", more_params);
	const char *v[3] = { "0.01", "adam", "3" };
	double series[30];
	char obj[32], line[128];
	char *svg;
	int i, j;

	for (i = 0; i < 500; i++) {
		double top = 0.5 + 0.4 * ((i * 7919) % 500) / 500.0;

		for (j = 0; j < 30; j++)
			series[j] = top * (1 - 1.0 / (2 + j));
		snprintf(obj, sizeof(obj), "%.6f", series[29]);
		add_trial(e, TRIAL_SUCCEEDED, obj, v);
		set_series(e, series, 30);
	}
	svg = render(e, NULL);
	assert_int_equal(nclass("curves", "curve") + 1, PLOT_MAX_CURVES);
	assert_has(svg,
		   "40 of 500 trials drawn: the best 10 and an even sample");
	assert_string_equal(last_line("curves curve", line, sizeof(line)),
			    "curves curve curve-best");
	free(svg);
	experiment_free(e);
}

/* Above 4000 Succeeded trials the median is of an even sample of 4000,
 * and the legend says so. */
static void test_median_sample(void **state)
{
	struct experiment *e =
		make_exp_es("minimize", "0.05", more_params, medianstop_yaml);
	const char *v[3] = { "0.01", "adam", "3" };
	double series[6];
	char obj[32];
	char *svg;
	int i, j;

	for (i = 0; i < 4100; i++) {
		for (j = 0; j < 6; j++)
			series[j] = 1.0 / (1 + j) + (i % 50) / 100.0;
		snprintf(obj, sizeof(obj), "%.6f", series[5]);
		add_trial(e, TRIAL_SUCCEEDED, obj, v);
		set_series(e, series, 6);
	}
	svg = render(e, NULL);
	assert_has(svg, "medianstop: median of 4000 of 4100 (a sample)");
	assert_int_equal(nclass("curves", "median"), 1);
	free(svg);
	experiment_free(e);
}

/* The useful range: the full range unless values lie far out. */
static void test_useful_range(void **state)
{
	double v[40], lo, hi;
	int i;

	for (i = 0; i < 20; i++) /* uniform: everything */
		v[i] = i / 19.0;
	assert_int_equal(plot_useful_range(v, 20, &lo, &hi), 0);
	assert_true(lo == 0 && hi == 1);
	for (i = 0; i < 12; i++) /* growing steps, but no gap stands out */
		v[i] = (double)(i + 1) * (i + 1);
	assert_int_equal(plot_useful_range(v, 12, &lo, &hi), 0);
	assert_true(lo == 1 && hi == 144);
	v[5] = 1e9; /* one far out */
	for (i = 0; i < 12; i++)
		v[i] = i == 5 ? 1e9 : 0.5 + i / 100.0;
	assert_int_equal(plot_useful_range(v, 12, &lo, &hi), 0);
	assert_true(lo == 0.5 && hi == 0.5 + 11 / 100.0);
	for (i = 0; i < 24; i++) /* a third diverged to one value */
		v[i] = i % 3 == 0 ? 120 : 0.2 + i / 100.0;
	v[7] = NAN;
	assert_int_equal(plot_useful_range(v, 24, &lo, &hi), 0);
	assert_true(lo == 0.2 + 1 / 100.0 && hi == 0.2 + 23 / 100.0);
	for (i = 0; i < 10; i++) /* accuracy 1 mostly, a few failures */
		v[i] = i < 3 ? 0.3 : 1.0;
	assert_int_equal(plot_useful_range(v, 10, &lo, &hi), 0);
	assert_true(lo == 0.3 && hi == 1.0);
	v[0] = NAN;
	assert_int_equal(plot_useful_range(v, 1, &lo, &hi), 0);
	assert_true(lo > hi); /* no value */
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* plot_median() (a selection, not a sort) against the sorted median, on
 * random arrays with many ties; the seed is printed. */
static void test_median(void **state)
{
	unsigned seed = (unsigned)time(NULL);
	double v[64], w[64], want;
	int round, n, i;

	printf("test_median seed %u\n", seed);
	srand(seed);
	for (round = 0; round < 2000; round++) {
		n = 1 + rand() % 64;
		for (i = 0; i < n; i++)
			v[i] = w[i] =
				(double)(rand() % (round % 3 ? 10 : 1000));
		qsort(w, (size_t)n, sizeof(*w), cmp_dbl);
		want = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
		if (plot_median(v, (size_t)n) != want)
			fail_msg("seed %u round %d n %d: median %g", seed,
				 round, n, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_spec),
		cmocka_unit_test(test_no_values),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_one_parameter),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_many_trials),
		cmocka_unit_test(test_curves_medianstop),
		cmocka_unit_test(test_curves_plain),
		cmocka_unit_test(test_outlier_clipped),
		cmocka_unit_test(test_curves_many),
		cmocka_unit_test(test_useful_range),
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_median_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
