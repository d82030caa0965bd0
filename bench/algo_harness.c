/*
 * algo_harness.c - in-process optimisation benchmark for any katibfs
 * search algorithm on the seven functions of ../shared/bench/.
 *
 *   algo_harness ALGORITHM [--seeds 10] [--seed-start 1] [--functions a,b]
 *                [--set name=value]... [--parallel 1] [--budget N]
 *                [--out file.json]
 *
 * For each function and seed: the Experiment YAML (as functions.py
 * --katib-experiment writes it, with random_state=seed when the algorithm
 * takes it, otherwise the seed goes in as saved state "seed=N") is parsed
 * with spec_parse(), then N trials run as suggest -> evaluate -> history,
 * `parallel` suggestions at a time (the later ones seeing the earlier as
 * pending); --budget N runs N trials instead of the function's budget.
 * A noisy function (cvacc) runs only when named in --functions: each
 * evaluation adds its seeded noise, and the regret is the noiseless value
 * of the best observed trial (the JSON then has a "truth" array too).
 * Prints median [Q1, Q3] regret at N/2 and N and writes the
 * candidate JSON (schema katibfs-bench/candidate/1) for compare.py.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "katib/algorithm.h"
#include "katib/spec.h"

#include "bench_functions.h"

#define MAX_SET 16

struct options {
	const char *algorithm;
	int seeds, seed_start, parallel, budget;
	const char *functions;
	const char *out;
	char *set[MAX_SET];
	int nset;
};

struct run {
	const struct bf_function *fn;
	int seed, budget;
	double *values; /* as observed (noise added, for a noisy function) */
	double *truth;	/* noiseless values */
	int n;
	double ask_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* numpy's linear-interpolated quantile of sorted v[0..n-1]. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1), f = floor(pos);
	int i = (int)f;

	if (n <= 0)
		return NAN;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * (pos - f);
}

/* Parse the spec with random_state=seed if the algorithm takes it;
 * otherwise without (then *state_seed = 1). */
static struct experiment_spec *make_spec(const struct options *o,
					 const struct bf_function *fn, int seed,
					 int *state_seed)
{
	char *set[MAX_SET + 1], rs[64], *yaml;
	struct experiment_spec *spec = NULL;
	struct kb_error err;
	int i, pass;

	for (pass = 0; pass < 2 && !spec; pass++) {
		for (i = 0; i < o->nset; i++)
			set[i] = o->set[i];
		snprintf(rs, sizeof(rs), "random_state=%d", seed);
		if (!pass)
			set[i++] = rs;
		yaml = bf_experiment_yaml(fn, o->algorithm, set, i, o->parallel,
					  o->budget ? o->budget : fn->budget);
		kb_error_clear(&err);
		if (yaml &&
		    spec_parse(yaml, strlen(yaml), "bench", &spec, &err)) {
			spec = NULL;
			if (pass)
				fprintf(stderr, "spec: %s: %s\n", err.field,
					err.message);
		}
		*state_seed = pass;
		free(yaml);
	}
	return spec;
}

static int run_one(const struct options *o, const struct algorithm_ops *ops,
		   struct run *r)
{
	const struct bf_function *fn = r->fn;
	struct history_trial *t = calloc((size_t)r->budget, sizeof(*t));
	char ***out = calloc((size_t)o->parallel, sizeof(*out));
	struct search_history h = { t, 0 };
	struct experiment_spec *spec;
	struct kb_error err;
	char state[64];
	void *priv = NULL;
	int use_state, n, i, rc = -1;
	double t0;

	r->values = calloc((size_t)r->budget, sizeof(double));
	r->truth = calloc((size_t)r->budget, sizeof(double));
	spec = make_spec(o, fn, r->seed, &use_state);
	if (!t || !out || !r->values || !r->truth || !spec)
		goto out;
	snprintf(state, sizeof(state), "seed=%d\n", r->seed);
	kb_error_clear(&err);
	if (ops->create(spec, use_state ? state : NULL, &priv, &err)) {
		fprintf(stderr, "create: %s\n", err.message);
		goto out;
	}
	while ((int)h.ntrials < r->budget) {
		int want = r->budget - (int)h.ntrials;

		want = want < o->parallel ? want : o->parallel;
		t0 = now_ms();
		n = ops->suggest(priv, spec, &h, (size_t)want, out, &err);
		r->ask_ms += now_ms() - t0;
		if (n <= 0) {
			if (n < 0)
				fprintf(stderr, "suggest: %s\n", err.message);
			break;
		}
		for (i = 0; i < n; i++) {
			t[h.ntrials + i].values = out[i];
			t[h.ntrials + i].state = HISTORY_PENDING;
			t[h.ntrials + i].number = (int)h.ntrials + i + 1;
		}
		for (i = 0; i < n; i++) {
			struct history_trial *x = &t[h.ntrials + i];

			r->truth[r->n] = bf_eval(fn, x->values);
			x->objective = r->truth[r->n];
			if (fn->noise > 0)
				x->objective +=
					fn->noise * bf_noise(r->seed, r->n);
			x->has_objective = 1;
			x->state = HISTORY_SUCCEEDED;
			r->values[r->n++] = x->objective;
		}
		h.ntrials += (size_t)n;
	}
	r->ask_ms /= r->n ? r->n : 1;
	rc = 0;
out:
	if (priv)
		ops->destroy(priv);
	for (i = 0; t && i < (int)h.ntrials; i++)
		assignment_values_free(t[i].values, (size_t)fn->nparams);
	free(t);
	free(out);
	spec_free(spec);
	return rc;
}

/* The regret after k trials: the noiseless value of the trial with the
 * best observed value (the one a user would pick), minus the optimum. */
static double regret_at(const struct run *r, int k)
{
	double best = INFINITY;
	int i, at = -1;

	for (i = 0; i < k && i < r->n; i++)
		if (r->values[i] < best) {
			best = r->values[i];
			at = i;
		}
	return at < 0 ? INFINITY : r->truth[at] - r->fn->f_opt;
}

static void summary(const struct run *runs, int nruns, int seeds)
{
	double v[2][256], ask[256];
	int i, j, k;

	printf("| function | N | regret @N/2 median [Q1, Q3] | "
	       "regret @N median [Q1, Q3] | ask ms |\n|---|---|---|---|---|\n");
	for (i = 0; i < nruns; i += seeds) {
		const struct bf_function *fn = runs[i].fn;

		for (j = 0; j < seeds && j < 256; j++) {
			for (k = 0; k < 2; k++)
				v[k][j] = regret_at(&runs[i + j],
						    k ? runs[i].budget
						      : runs[i].budget / 2);
			ask[j] = runs[i + j].ask_ms;
		}
		for (k = 0; k < 2; k++)
			qsort(v[k], (size_t)j, sizeof(double), cmp_double);
		qsort(ask, (size_t)j, sizeof(double), cmp_double);
		printf("| %s | %d | %.3g [%.3g, %.3g] | %.3g [%.3g, %.3g] | "
		       "%.3f |\n",
		       fn->name, runs[i].budget, quantile(v[0], j, 0.5),
		       quantile(v[0], j, 0.25), quantile(v[0], j, 0.75),
		       quantile(v[1], j, 0.5), quantile(v[1], j, 0.25),
		       quantile(v[1], j, 0.75), quantile(ask, j, 0.5));
	}
}

static int write_json(const struct options *o, const struct run *runs,
		      int nruns)
{
	FILE *f = fopen(o->out, "w");
	int i, j;

	if (!f) {
		perror(o->out);
		return -1;
	}
	fprintf(f,
		"{\"schema\": \"katibfs-bench/candidate/1\", "
		"\"tool\": \"katibfs\", \"version\": \"in-process\", "
		"\"algorithm\": \"%s\", \"parallel\": %d,\n \"runs\": [\n",
		o->algorithm, o->parallel);
	for (i = 0; i < nruns; i++) {
		fprintf(f,
			"  {\"function\": \"%s\", \"seed\": %d, "
			"\"values\": [",
			runs[i].fn->name, runs[i].seed);
		for (j = 0; j < runs[i].n; j++)
			fprintf(f, "%s%.17g", j ? ", " : "", runs[i].values[j]);
		if (runs[i].fn->noise > 0) {
			fprintf(f, "], \"truth\": [");
			for (j = 0; j < runs[i].n; j++)
				fprintf(f, "%s%.17g", j ? ", " : "",
					runs[i].truth[j]);
		}
		fprintf(f, "]}%s\n", i + 1 < nruns ? "," : "");
	}
	fprintf(f, " ]}\n");
	return fclose(f);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: algo_harness ALGORITHM [--seeds 10] [--seed-start 1] "
		"[--functions a,b] [--set name=value]... [--parallel 1] "
		"[--budget N] [--out file.json]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->seeds = 10;
	o->seed_start = 1;
	o->parallel = 1;
	if (argc < 2 || argv[1][0] == '-')
		usage();
	o->algorithm = argv[1];
	for (i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--seeds"))
			o->seeds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed-start"))
			o->seed_start = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--parallel"))
			o->parallel = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--budget"))
			o->budget = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--functions"))
			o->functions = argv[++i];
		else if (!strcmp(argv[i], "--out"))
			o->out = argv[++i];
		else if (!strcmp(argv[i], "--set") && o->nset < MAX_SET)
			o->set[o->nset++] = argv[++i];
		else
			usage();
	}
	if (o->seeds < 1 || o->seeds > 256 || o->parallel < 1)
		usage();
}

/* Named in --functions; with none, every noiseless function. */
static int selected(const struct options *o, const struct bf_function *fn)
{
	const char *p = o->functions, *name = fn->name;
	size_t l = strlen(name);

	if (!p)
		return !(fn->noise > 0);
	while ((p = strstr(p, name))) {
		if ((p == o->functions || p[-1] == ',') &&
		    (p[l] == ',' || !p[l]))
			return 1;
		p += l;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct algorithm_ops *ops;
	struct run *runs;
	struct options o;
	int nruns = 0, rc = 0, s;
	size_t i;

	parse_args(argc, argv, &o);
	ops = algorithm_find(o.algorithm);
	if (!ops || !ops->implemented) {
		fprintf(stderr, "algo_harness: '%s' is %s\n", o.algorithm,
			ops ? "not implemented" : "unknown");
		return 2;
	}
	runs = calloc(BF_COUNT * (size_t)o.seeds, sizeof(*runs));
	if (!runs)
		return 1;
	for (i = 0; i < BF_COUNT; i++) {
		if (!selected(&o, &bf_functions[i]))
			continue;
		for (s = 0; s < o.seeds; s++) {
			runs[nruns].fn = &bf_functions[i];
			runs[nruns].seed = o.seed_start + s;
			runs[nruns].budget = o.budget > 0
						     ? o.budget
						     : bf_functions[i].budget;
			if (run_one(&o, ops, &runs[nruns]))
				rc = 1;
			nruns++;
		}
	}
	printf("algorithm %s, %d seeds, parallel %d\n\n", o.algorithm, o.seeds,
	       o.parallel);
	summary(runs, nruns, o.seeds);
	if (o.out && write_json(&o, runs, nruns))
		rc = 1;
	for (s = 0; s < nruns; s++) {
		free(runs[s].values);
		free(runs[s].truth);
	}
	free(runs);
	return rc;
}
