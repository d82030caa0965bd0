/*
 * mo_harness.c - in-process multi-objective benchmark of a katibfs search
 * algorithm on ZDT1 and ZDT2 (Zitzler, Deb, Thiele 2000) with 5 variables
 * in [0, 1], both objectives minimised (katibfs/objectives).
 *
 *   mo_harness ALGORITHM [--seeds 10] [--seed-start 1] [--budget 100]
 *              [--functions zdt1,zdt2] [--out file.json]
 *
 * As algo_harness.c: for each function and seed the Experiment YAML (with
 * random_state=seed) is parsed with spec_parse(), then N trials run one at
 * a time as suggest -> evaluate -> history, each history entry carrying
 * both objectives. Writes every trial's (f1, f2) per run as JSON for
 * bench/bench_multiobjective.py, which measures the fronts' hypervolume
 * beside Optuna's; prints the median hypervolume (reference 1.1, 11).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "katib/spec.h"

#include "algorithms/pareto.h"

#define NVARS 5

struct zdt {
	const char *name;
	int kind; /* 1: ZDT1 (convex front), 2: ZDT2 (concave front) */
};

static const struct zdt zdts[] = { { "zdt1", 1 }, { "zdt2", 2 } };

static void zdt_eval(const struct zdt *z, const double *x, double *f)
{
	double g = 0, r;
	int i;

	for (i = 1; i < NVARS; i++)
		g += x[i];
	g = 1 + 9 * g / (NVARS - 1);
	r = x[0] / g;
	f[0] = x[0];
	f[1] = g * (z->kind == 1 ? 1 - sqrt(r) : 1 - r * r);
}

/* seed < 0: no random_state setting (an algorithm that takes none). */
static char *zdt_yaml(const char *alg, int seed, int budget)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	if (!f)
		return NULL;
	fprintf(f,
		"apiVersion: kubeflow.org/v1beta1\nkind: Experiment\n"
		"metadata:\n  name: zdt\n  annotations:\n"
		"    katibfs/objectives: \"f2=minimize\"\nspec:\n"
		"  objective:\n    type: minimize\n"
		"    objectiveMetricName: f1\n"
		"    additionalMetricNames: [f2]\n"
		"  algorithm:\n    algorithmName: %s\n",
		alg);
	if (seed >= 0)
		fprintf(f,
			"    algorithmSettings:\n"
			"      - name: random_state\n        value: \"%d\"\n",
			seed);
	fprintf(f,
		"  parallelTrialCount: 1\n  maxTrialCount: %d\n"
		"  parameters:\n",
		budget);
	for (i = 0; i < NVARS; i++)
		fprintf(f,
			"    - name: x%d\n      parameterType: double\n"
			"      feasibleSpace: {min: \"0\", max: \"1\"}\n",
			i);
	fprintf(f, "  trialTemplate:\n    primaryContainerName: main\n"
		   "    trialParameters:\n");
	for (i = 0; i < NVARS; i++)
		fprintf(f, "      - name: x%d\n        reference: x%d\n", i, i);
	fprintf(f, "    trialSpec:\n      apiVersion: batch/v1\n"
		   "      kind: Job\n      spec:\n        template:\n"
		   "          spec:\n            restartPolicy: Never\n"
		   "            containers:\n              - name: main\n"
		   "                image: none\n"
		   "                command:\n"
		   "                  - \"true\"\n");
	for (i = 0; i < NVARS; i++)
		fprintf(f, "                  - \"${trialParameters.x%d}\"\n",
			i);
	fclose(f);
	return buf;
}

/* One run: n trials' objectives into f (2 per trial). Returns trials run,
 * or -1. */
static int run_one(const struct algorithm_ops *ops, const struct zdt *z,
		   int seed, int budget, double *f)
{
	struct history_trial *t = calloc((size_t)budget, sizeof(*t));
	double *objs = calloc((size_t)budget * 2, sizeof(double));
	struct search_history h = { t, 0 };
	struct experiment_spec *spec = NULL;
	char *yaml = zdt_yaml(ops->name, seed, budget), **out[1], state[64];
	const char *saved = NULL;
	double x[NVARS];
	struct kb_error err;
	void *priv = NULL;
	int n = -1, j;

	kb_error_clear(&err);
	if (yaml && spec_parse(yaml, strlen(yaml), "zdt", &spec, &err)) {
		/* no random_state: the seed goes in as saved state */
		free(yaml);
		yaml = zdt_yaml(ops->name, -1, budget);
		snprintf(state, sizeof(state), "seed=%d\n", seed);
		saved = state;
		spec = NULL;
		kb_error_clear(&err);
		if (yaml && spec_parse(yaml, strlen(yaml), "zdt", &spec, &err))
			spec = NULL;
	}
	if (!t || !objs || !yaml || !spec ||
	    ops->create(spec, saved, &priv, &err)) {
		fprintf(stderr, "mo_harness: %s: %s\n", err.field, err.message);
		goto out;
	}
	while ((int)h.ntrials < budget) {
		struct history_trial *e = &t[h.ntrials];

		if (ops->suggest(priv, spec, &h, 1, out, &err) != 1) {
			fprintf(stderr, "mo_harness: suggest: %s\n",
				err.message);
			break;
		}
		e->values = out[0];
		e->number = (int)h.ntrials + 1;
		for (j = 0; j < NVARS; j++)
			x[j] = strtod(e->values[j], NULL);
		zdt_eval(z, x, objs + 2 * h.ntrials);
		e->objectives = objs + 2 * h.ntrials;
		e->objective = e->objectives[0];
		e->has_objective = 1;
		e->state = HISTORY_SUCCEEDED;
		h.ntrials++;
	}
	n = (int)h.ntrials;
	memcpy(f, objs, (size_t)n * 2 * sizeof(double));
out:
	if (priv)
		ops->destroy(priv);
	for (j = 0; j < (int)h.ntrials; j++)
		assignment_values_free(t[j].values, NVARS);
	free(t);
	free(objs);
	free(yaml);
	spec_free(spec);
	return n;
}

static void write_run(FILE *out, int first, const char *fn, int seed,
		      const double *f, int n)
{
	int i;

	fprintf(out, "%s\n {\"function\": \"%s\", \"seed\": %d, \"points\": [",
		first ? "" : ",", fn, seed);
	for (i = 0; i < n; i++)
		fprintf(out, "%s[%.17g, %.17g]", i ? ", " : "", f[2 * i],
			f[2 * i + 1]);
	fprintf(out, "]}");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int seeds = 10, seed_start = 1, budget = 100, i, s, n, rc = 0;
	const char *functions = "zdt1,zdt2", *outpath = NULL;
	static const double ref[2] = { 1.1, 11 };
	const struct algorithm_ops *ops;
	double *f, hv[256];
	FILE *out = NULL;
	int first = 1;
	size_t z;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mo_harness ALGORITHM [--seeds 10] "
				"[--seed-start 1] [--budget 100] "
				"[--functions zdt1,zdt2] [--out file.json]\n");
		return 2;
	}
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seeds"))
			seeds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed-start"))
			seed_start = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--budget"))
			budget = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--functions"))
			functions = argv[i + 1];
		else if (!strcmp(argv[i], "--out"))
			outpath = argv[i + 1];
	}
	ops = algorithm_find(argv[1]);
	if (!ops || !ops->implemented || seeds < 1 || seeds > 256 ||
	    budget < 1) {
		fprintf(stderr, "mo_harness: bad algorithm or options\n");
		return 2;
	}
	f = calloc((size_t)budget * 2, sizeof(double));
	if (outpath && !(out = fopen(outpath, "w"))) {
		perror(outpath);
		return 1;
	}
	if (out)
		fprintf(out, "{\"algorithm\": \"%s\", \"runs\": [", ops->name);
	for (z = 0; f && z < sizeof(zdts) / sizeof(zdts[0]); z++) {
		if (!strstr(functions, zdts[z].name))
			continue;
		for (s = 0; s < seeds; s++) {
			n = run_one(ops, &zdts[z], seed_start + s, budget, f);
			if (n < budget)
				rc = 1;
			hv[s] = hypervolume(f, (size_t)(n > 0 ? n : 0), 2, ref);
			if (out)
				write_run(out, first, zdts[z].name,
					  seed_start + s, f, n);
			first = 0;
		}
		qsort(hv, (size_t)seeds, sizeof(double), cmp_double);
		printf("%s %s N=%d: median hypervolume %.4f (ref 1.1, 11)\n",
		       ops->name, zdts[z].name, budget,
		       seeds % 2 ? hv[seeds / 2]
				 : (hv[seeds / 2 - 1] + hv[seeds / 2]) / 2);
	}
	if (out) {
		fprintf(out, "\n]}\n");
		fclose(out);
	}
	free(f);
	return rc;
}
