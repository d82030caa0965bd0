/*
 * test_multiobjective.c - multi-objective experiments (katibfs/objectives):
 *   - the annotation parsed (a maximized objective's metric strategy
 *     max), and every bad input refused naming it (an
 *     objective not in additionalMetricNames with a did-you-mean, a
 *     duplicate, the first objective again, a bad direction, a malformed
 *     list, too many), single-objective algorithms and medianstop refusing
 *     such a spec;
 *   - core/algorithms/pareto.c: dominance, ranks, the incremental front
 *     against a brute-force one on random points, exact hypervolume against
 *     known areas and volumes, contributions, greedy subset selection;
 *   - the experiment's front (core/engine/model.c) as trials end in any
 *     order, some failing or missing an objective: what pareto.csv and
 *     status.json show is the brute-force front, and a rebuild (after a
 *     restart) gives the same;
 *   - multi-objective TPE and ParEGO (bayesianoptimization): the same seed
 *     and history give the same suggestions; on ZDT1 the front after 60
 *     trials dominates more than random search's.
 * Random inputs print their seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "katib/spec.h"

#include "algorithms/pareto.h"
#include "engine/controller.h"
#include "engine/daemon.h"
#include "views/render.h"

#include "fixtures.h"

/* ---- specs ---- */

/* ZDT1's search space: x0, x1 and x2 in [0, 1], passed to the trial. */
#define ZDT1_PARAMETER(N)                                                      \
	"    - name: x" N "\n"                                                 \
	"      parameterType: double\n"                                        \
	"      feasibleSpace: {min: \"0\", max: \"1\"}\n"
static const char zdt1_space[] =
	ZDT1_PARAMETER("0") ZDT1_PARAMETER("1") ZDT1_PARAMETER("2");
static const char zdt1_trial_parameters[] =
	"      - {name: x0, reference: x0}\n"
	"      - {name: x1, reference: x1}\n"
	"      - {name: x2, reference: x2}\n";
static const char zdt1_arguments[] =
	"                  - \"${trialParameters.x0}\"\n"
	"                  - \"${trialParameters.x1}\"\n"
	"                  - \"${trialParameters.x2}\"\n";

/* The base spec on ZDT1, minimizing f1 beside the metrics f2, latency and
 * size, with katibfs/objectives `objectives`, `algorithm` seeded with
 * `seed` and `extra` spec lines. */
static char *spec_with(const char *objectives, const char *algorithm, int seed,
		       const char *extra)
{
	char annotation[512], algo[256], counts[256];

	snprintf(annotation, sizeof(annotation),
		 "metadata:\n"
		 "  annotations:\n"
		 "    katibfs/objectives: \"%s\"\n",
		 objectives);
	snprintf(algo, sizeof(algo),
		 "    algorithmName: %s\n"
		 "    algorithmSettings: [{name: random_state, value: "
		 "\"%d\"}]\n",
		 algorithm, seed);
	snprintf(counts, sizeof(counts), "%s  maxTrialCount: 100\n", extra);
	return fixture_variant(
		FIXTURE_BASE_SPEC, "metadata:\n", annotation,
		"    goal: 0.001\n", "", "    objectiveMetricName: loss\n",
		"    objectiveMetricName: f1\n"
		"    additionalMetricNames: [f2, latency, size]\n",
		FIXTURE_RANDOM, algo,
		"  parallelTrialCount: 3\n  maxTrialCount: 12\n", counts,
		FIXTURE_DOUBLES, zdt1_space, FIXTURE_TRIAL_PARAMETERS,
		zdt1_trial_parameters, FIXTURE_ARGUMENTS, zdt1_arguments, NULL);
}

static int parse(const char *objectives, const char *algorithm, int seed,
		 const char *extra, struct experiment_spec **s, char *msg,
		 size_t size)
{
	char *y = spec_with(objectives, algorithm, seed, extra);
	int rc = fixture_parse(y, s, msg, size);

	free(y);
	return rc;
}

static void test_annotation_parsed(void **state)
{
	struct experiment_spec *s;
	char msg[1024];
	int max;

	(void)state;
	assert_int_equal(parse(" f2=minimize ,size=maximize", "tpe", 1, "", &s,
			       msg, sizeof(msg)),
			 0);
	assert_int_equal(spec_objective_count(s), 3);
	assert_string_equal(spec_objective(s, 0, &max), "f1");
	assert_int_equal(max, 0);
	assert_string_equal(spec_objective(s, 1, &max), "f2");
	assert_int_equal(max, 0);
	assert_string_equal(spec_objective(s, 2, &max), "size");
	assert_int_equal(max, 1);
	/* a maximized objective counts its highest observation; a plain
	 * additional metric keeps the first objective's rule */
	assert_int_equal(spec_metric_strategy(s, "size"), STRATEGY_MAX);
	assert_int_equal(spec_metric_strategy(s, "f2"), STRATEGY_MIN);
	assert_int_equal(spec_metric_strategy(s, "latency"), STRATEGY_MIN);
	spec_free(s);
}

/* The spec is refused; the message holds every one of the words. */
static void refused(const char *objectives, const char *algorithm,
		    const char *extra, const char *const *words)
{
	struct experiment_spec *s;
	char msg[1024];

	assert_int_equal(
		parse(objectives, algorithm, 1, extra, &s, msg, sizeof(msg)),
		-EINVAL);
	for (; *words; words++)
		if (!strstr(msg, *words))
			fail_msg("\"%s\" not in: %s", *words, msg);
}

static void test_annotation_errors(void **state)
{
	(void)state;
	refused("f2=minimize, sise=minimize", "tpe", "",
		(const char *const[]){ "katibfs/objectives", "\"sise\"",
				       "additionalMetricNames",
				       "did you mean size?", NULL });
	refused("f2=minimize, f2=maximize", "tpe", "",
		(const char *const[]){ "katibfs/objectives", "\"f2\" twice",
				       NULL });
	refused("f1=minimize", "tpe", "",
		(const char *const[]){ "katibfs/objectives",
				       "already the first objective", NULL });
	refused("f2=minimise", "tpe", "",
		(const char *const[]){ "katibfs/objectives",
				       "minimize or maximize",
				       "did you mean minimize?", NULL });
	refused("f2 minimize", "tpe", "",
		(const char *const[]){ "katibfs/objectives", "comma-separated",
				       NULL });
	refused("f2=minimize,", "tpe", "",
		(const char *const[]){ "katibfs/objectives", "comma-separated",
				       NULL });
	refused("", "tpe", "",
		(const char *const[]){ "katibfs/objectives", "comma-separated",
				       NULL });
	refused("f2=minimize, latency=minimize, size=minimize, x=minimize",
		"tpe", "",
		(const char *const[]){ "katibfs/objectives", "at most 4",
				       NULL });
	refused("f2=minimize", "cmaes", "",
		(const char *const[]){ "algorithmName",
				       "cmaes optimizes a single objective",
				       "katibfs/objectives", NULL });
	refused("f2=minimize", "hyperband", "",
		(const char *const[]){ "hyperband optimizes a single", NULL });
	refused("f2=minimize", "tpe",
		"  earlyStopping: {algorithmName: medianstop}\n",
		(const char *const[]){ "spec.earlyStopping", "medianstop",
				       NULL });
}

/* ---- pareto.c ---- */

static double urand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_dominance_and_ranks(void **state)
{
	/* (1,3) (2,2) (3,1) front; (2,3) behind the first two; (3,3) last */
	const double p[] = { 1, 3, 2, 2, 3, 1, 2, 3, 3, 3, 1, 3 };
	int rank[6];

	(void)state;
	assert_true(pareto_dominates(p + 0, p + 6, 2));
	assert_false(pareto_dominates(p + 0, p + 2, 2));
	assert_false(pareto_dominates(p + 0, p + 10, 2)); /* equal */
	assert_int_equal(pareto_ranks(p, 6, 2, 6, rank), 3);
	assert_int_equal(rank[0], 0);
	assert_int_equal(rank[1], 0);
	assert_int_equal(rank[2], 0);
	assert_int_equal(rank[3], 1);
	assert_int_equal(rank[4], 2);
	assert_int_equal(rank[5], 0);
	/* only as many ranks as needed for 5 points */
	assert_int_equal(pareto_ranks(p, 6, 2, 4, rank), 1);
	assert_int_equal(pareto_ranks(p, 6, 2, 5, rank), 2);
	assert_int_equal(rank[4], -1);
}

/* The incremental front equals the brute-force non-dominated set. */
static void test_front_incremental(void **state)
{
	uint64_t seed = 20261203, s = seed;
	struct pareto_front f;
	double pts[300 * 3];
	size_t n = 300, m, i, j, k;
	int dominated;

	(void)state;
	print_message("seed %llu\n", (unsigned long long)seed);
	for (m = 2; m <= 3; m++) {
		pareto_front_init(&f, m);
		for (i = 0; i < n; i++) {
			for (j = 0; j < m; j++) /* coarse: ties happen */
				pts[i * m + j] = floor(urand(&s) * 20);
			/* trials end out of order: ids shuffled */
			assert_true(pareto_front_add(&f, (int)((i * 7) % n) + 1,
						     pts + i * m) >= 0);
		}
		for (k = 0, i = 0; i < n; i++) {
			for (dominated = 0, j = 0; j < n && !dominated; j++)
				dominated = pareto_dominates(pts + j * m,
							     pts + i * m, m);
			assert_int_equal(pareto_front_contains(
						 &f, (int)((i * 7) % n) + 1),
					 !dominated);
			k += !dominated;
		}
		assert_int_equal(f.n, k);
		for (i = 1; i < f.n; i++)
			assert_true(f.ids[i - 1] < f.ids[i]);
		pareto_front_free(&f);
	}
}

static void test_hypervolume(void **state)
{
	const double ref2[] = { 4, 4 }, ref3[] = { 2, 2, 2 };
	const double one[] = { 1, 1 };
	const double two[] = { 1, 3, 3, 1, 2, 2, 5, 0 }; /* last is outside */
	const double cube[] = { 0, 0, 1, 1, 1, 0, 0, 1, 1 };
	double con[4], ref[2];
	size_t pick[2];

	(void)state;
	assert_true(fabs(hypervolume(one, 1, 2, ref2) - 9) < 1e-12);
	/* [1,4]x[3,4], [3,4]x[1,4], [2,4]x[2,4]: 3 + 3 + 4 - 1 - 2 - 2
	 * + 1 = 6 */
	assert_true(fabs(hypervolume(two, 4, 2, ref2) - 6) < 1e-12);
	/* boxes [0,2]^2 x [1,2] (4), [1,2]^2 x [0,2] (2) and [0,2] x
	 * [1,2]^2 (inside the first): 4 + 2 - [1,2]^3 = 5 */
	assert_true(fabs(hypervolume(cube, 3, 3, ref3) - 5) < 1e-12);
	assert_int_equal(hypervolume_contributions(two, 3, 2, ref2, con), 0);
	assert_true(fabs(con[0] - 1) < 1e-12); /* [1,2]x[3,4] */
	assert_true(fabs(con[1] - 1) < 1e-12);
	assert_true(fabs(con[2] - 1) < 1e-12); /* [2,3]x[2,3] */
	/* choosing 2 of the three: each pair covers 6 - 1 */
	assert_int_equal(hypervolume_select(two, 3, 2, ref2, 2, pick), 0);
	assert_true(pick[0] != pick[1]);
	assert_true(fabs(hypervolume((double[]){ two[2 * pick[0]],
						 two[2 * pick[0] + 1],
						 two[2 * pick[1]],
						 two[2 * pick[1] + 1] },
				     2, 2, ref2) -
			 5) < 1e-12);
	pareto_reference(two, 3, 2, ref);
	assert_true(fabs(ref[0] - 3.3) < 1e-12 && fabs(ref[1] - 3.3) < 1e-12);
}

/* 3-objective hypervolume against a Monte Carlo estimate. */
static void test_hypervolume_3d_random(void **state)
{
	uint64_t seed = 77, s = seed;
	const double ref[] = { 1, 1, 1 };
	double pts[20 * 3], q[3], hv;
	size_t i, j, hit = 0, N = 200000;

	(void)state;
	print_message("seed %llu\n", (unsigned long long)seed);
	for (i = 0; i < 20 * 3; i++)
		pts[i] = 0.3 + 0.7 * urand(&s);
	hv = hypervolume(pts, 20, 3, ref);
	for (i = 0; i < N; i++) {
		for (j = 0; j < 3; j++)
			q[j] = urand(&s);
		for (j = 0; j < 20; j++)
			if (pts[3 * j] <= q[0] && pts[3 * j + 1] <= q[1] &&
			    pts[3 * j + 2] <= q[2]) {
				hit++;
				break;
			}
	}
	assert_true(fabs(hv - (double)hit / (double)N) < 0.005);
}

/* ---- the experiment's front (model.c) ---- */

static void observe(struct experiment *e, struct trial *t, int metric, double v)
{
	struct observation o;

	memset(&o, 0, sizeof(o));
	o.metric = metric;
	snprintf(o.value, sizeof(o.value), "%g", v);
	trial_record_observation(e, t, &o);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_experiment_front(void **state)
{
	uint64_t seed = 4242, s = seed;
	struct experiment *e = calloc(1, sizeof(*e));
	double f[60][2], v[2];
	struct trial *t;
	struct kb_error err;
	char msg[512], *out;
	int order[60], i, j, k, dominated, ok[60];
	size_t len, n = 0, front[60];

	(void)state;
	print_message("seed %llu\n", (unsigned long long)seed);
	assert_non_null(e);
	assert_int_equal(parse("f2=maximize", "random", 1, "", &e->spec, msg,
			       sizeof(msg)),
			 0);
	kb_error_clear(&err);
	assert_int_equal(metrics_parser_new(e->spec, &e->parser, &err), 0);
	experiment_pareto_rebuild(e);
	for (i = 0; i < 60; i++) {
		t = trial_alloc();
		assert_non_null(t);
		t->number = i + 1;
		t->state = TRIAL_RUNNING;
		assert_int_equal(experiment_append_trial(e, t), 0);
		assert_int_equal(trial_init_metrics(e, t), 0);
		f[i][0] = floor(urand(&s) * 10);
		f[i][1] = floor(urand(&s) * 10);
		observe(e, t, 0, f[i][0]);
		ok[i] = urand(&s) < 0.8; /* the others fail or miss f2 */
		if (ok[i] || i % 2)
			observe(e, t, 1, f[i][1]);
		order[i] = i;
	}
	for (i = 59; i > 0; i--) { /* trials end in a random order */
		j = (int)(urand(&s) * (i + 1));
		k = order[i];
		order[i] = order[j];
		order[j] = k;
	}
	for (i = 0; i < 60; i++)
		trial_set_state(e, e->trials[order[i]],
				ok[order[i]] ? TRIAL_SUCCEEDED : TRIAL_FAILED);
	/* the brute-force front: f1 minimised, f2 maximised */
	for (i = 0; i < 60; i++) {
		if (!ok[i])
			continue;
		for (dominated = 0, j = 0; j < 60 && !dominated; j++)
			dominated = ok[j] && f[j][0] <= f[i][0] &&
				    f[j][1] >= f[i][1] &&
				    (f[j][0] < f[i][0] || f[j][1] > f[i][1]);
		if (!dominated)
			front[n++] = (size_t)i + 1;
	}
	assert_int_equal(e->pareto.n, n);
	for (i = 0; i < (int)n; i++)
		assert_int_equal(e->pareto.ids[i], (int)front[i]);
	assert_int_equal(
		trial_objective_values(e, e->trials[front[0] - 1], v, NULL), 0);
	assert_true(v[0] == f[front[0] - 1][0] && v[1] == f[front[0] - 1][1]);
	assert_int_equal(
		render_file_locked(NULL, e, NULL, KFILE_PARETO_CSV, &out, &len),
		0);
	assert_true(!strncmp(out, "trial,f1,f2\n", 12));
	assert_int_equal(count_lines(out), n + 1);
	free(out);
	assert_int_equal(render_file_locked(NULL, e, NULL, KFILE_STATUS_JSON,
					    &out, &len),
			 0);
	assert_non_null(strstr(out, "\"paretoOptimalTrials\""));
	free(out);
	/* after a restart the front is built again from the trials */
	experiment_pareto_rebuild(e);
	assert_int_equal(e->pareto.n, n);
	for (i = 0; i < (int)n; i++)
		assert_int_equal(e->pareto.ids[i], (int)front[i]);
	experiment_free(e);
}

/* ---- algorithms ---- */

#define BUDGET 60

static void zdt1(char *const *v, double *f)
{
	double x0 = strtod(v[0], NULL), g;

	g = 1 + 9 * (strtod(v[1], NULL) + strtod(v[2], NULL)) / 2;
	f[0] = x0;
	f[1] = g * (1 - sqrt(x0 / g));
}

/* n trials of `algorithm` on ZDT1 one at a time: the objectives into f,
 * the first assignment's values into first (3 strings). */
static void run(const char *algorithm, int seed, size_t n, double *f,
		char first[3][64])
{
	struct history_trial t[BUDGET];
	struct search_history h = { t, 0 };
	const struct algorithm_ops *ops = algorithm_find(algorithm);
	struct experiment_spec *spec;
	char msg[512], **out[1];
	struct kb_error err;
	void *priv = NULL;
	size_t i, j;

	memset(t, 0, sizeof(t));
	assert_int_equal(parse("f2=minimize", algorithm, seed, "", &spec, msg,
			       sizeof(msg)),
			 0);
	kb_error_clear(&err);
	assert_int_equal(ops->create(spec, NULL, &priv, &err), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(ops->suggest(priv, spec, &h, 1, out, &err), 1);
		t[i].values = out[0];
		t[i].number = (int)i + 1;
		zdt1(t[i].values, f + 2 * i);
		t[i].objectives = f + 2 * i;
		t[i].objective = f[2 * i];
		t[i].has_objective = 1;
		t[i].state = HISTORY_SUCCEEDED;
		h.ntrials++;
	}
	for (j = 0; first && j < 3; j++)
		snprintf(first[j], 64, "%s", t[n - 1].values[j]);
	ops->destroy(priv);
	for (i = 0; i < n; i++)
		assignment_values_free(t[i].values, 3);
	spec_free(spec);
}

static void check_reproducible(const char *algorithm)
{
	double f1[2 * BUDGET], f2[2 * BUDGET];
	char a[3][64], b[3][64];

	run(algorithm, 5, 25, f1, a);
	run(algorithm, 5, 25, f2, b);
	assert_memory_equal(f1, f2, sizeof(double) * 2 * 25);
	assert_string_equal(a[0], b[0]);
	run(algorithm, 6, 25, f2, b);
	assert_true(memcmp(f1, f2, sizeof(double) * 2 * 25) != 0);
}

/* Median hypervolume (ref 1.1, 11) of 5 seeds after BUDGET trials. */
static double median_hv(const char *algorithm)
{
	static const double ref[] = { 1.1, 11 };
	double f[2 * BUDGET], hv[5], t;
	int s, i, j;

	for (s = 0; s < 5; s++) {
		run(algorithm, s + 1, BUDGET, f, NULL);
		hv[s] = hypervolume(f, BUDGET, 2, ref);
	}
	for (i = 1; i < 5; i++)
		for (j = i; j > 0 && hv[j - 1] > hv[j]; j--) {
			t = hv[j];
			hv[j] = hv[j - 1];
			hv[j - 1] = t;
		}
	print_message("%s: median hypervolume %.4f\n", algorithm, hv[2]);
	return hv[2];
}

static void test_motpe(void **state)
{
	(void)state;
	check_reproducible("tpe");
	check_reproducible("multivariate-tpe");
	assert_true(median_hv("tpe") > median_hv("random") + 0.3);
}

static void test_parego(void **state)
{
	(void)state;
	check_reproducible("bayesianoptimization");
	assert_true(median_hv("bayesianoptimization") >
		    median_hv("random") + 0.3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_annotation_parsed),
		cmocka_unit_test(test_annotation_errors),
		cmocka_unit_test(test_dominance_and_ranks),
		cmocka_unit_test(test_front_incremental),
		cmocka_unit_test(test_hypervolume),
		cmocka_unit_test(test_hypervolume_3d_random),
		cmocka_unit_test(test_experiment_front),
		cmocka_unit_test(test_motpe),
		cmocka_unit_test(test_parego),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
