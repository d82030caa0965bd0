/*
 * bench_functions.h - the seven test functions of ../shared/bench/
 * functions.py in C (same spaces, budgets, optima and formulas), and the
 * Katib Experiment YAML for one of them. Header-only, for the in-process
 * benchmarks algo_harness.c and latency.c.
 */
#ifndef BENCH_FUNCTIONS_H
#define BENCH_FUNCTIONS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BF_MAX_PARAMS 8

struct bf_param {
	const char *name;
	const char *type; /* double, int, categorical */
	double low, high;
	int log;
	const char *choices[4];
	int nchoices;
};

struct bf_function {
	const char *name;
	int nparams;
	struct bf_param params[BF_MAX_PARAMS];
	int budget;
	double f_opt;
	double (*f)(const double *x, const char *const *s);
	/* > 0: a noisy function. f is its noiseless value; each evaluation
	 * adds noise * bf_noise(seed, trial index), and regret is the
	 * noiseless value of the trial with the best observed value. Run
	 * only when named (algo_harness --functions). */
	double noise;
};

static double bf_branin(const double *x, const char *const *s)
{
	double b = 5.1 / (4.0 * M_PI * M_PI), c = 5.0 / M_PI;
	double t = 1.0 / (8.0 * M_PI),
	       u = x[1] - b * x[0] * x[0] + c * x[0] - 6;

	(void)s;
	return u * u + 10.0 * (1.0 - t) * cos(x[0]) + 10.0;
}

static double bf_hartmann6(const double *x, const char *const *s)
{
	static const double alpha[4] = { 1.0, 1.2, 3.0, 3.2 };
	static const double a[4][6] = { { 10.0, 3.0, 17.0, 3.5, 1.7, 8.0 },
					{ 0.05, 10.0, 17.0, 0.1, 8.0, 14.0 },
					{ 3.0, 3.5, 1.7, 10.0, 17.0, 8.0 },
					{ 17.0, 8.0, 0.05, 10.0, 0.1, 14.0 } };
	static const double p[4][6] = {
		{ 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 },
		{ 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
		{ 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 },
		{ 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 }
	};
	double total = 0, inner, d;
	int i, j;

	(void)s;
	for (i = 0; i < 4; i++) {
		inner = 0;
		for (j = 0; j < 6; j++) {
			d = x[j] - p[i][j];
			inner += a[i][j] * d * d;
		}
		total += alpha[i] * exp(-inner);
	}
	return -total;
}

static double bf_rosenbrock4(const double *x, const char *const *s)
{
	double t = 0;
	int i;

	(void)s;
	for (i = 0; i < 3; i++)
		t += 100.0 * (x[i + 1] - x[i] * x[i]) *
			     (x[i + 1] - x[i] * x[i]) +
		     (x[i] - 1.0) * (x[i] - 1.0);
	return t;
}

static double bf_ackley5(const double *x, const char *const *s)
{
	double s1 = 0, s2 = 0;
	int i;

	(void)s;
	for (i = 0; i < 5; i++) {
		s1 += x[i] * x[i];
		s2 += cos(2.0 * M_PI * x[i]);
	}
	return -20.0 * exp(-0.2 * sqrt(s1 / 5)) - exp(s2 / 5) + 20.0 + M_E;
}

static double bf_levy4(const double *x, const char *const *s)
{
	double w[4], t, mid = 0, t3;
	int i;

	(void)s;
	for (i = 0; i < 4; i++)
		w[i] = 1.0 + (x[i] - 1.0) / 4.0;
	t = sin(M_PI * w[0]);
	for (i = 0; i < 3; i++) {
		double sn = sin(M_PI * w[i] + 1.0);

		mid += (w[i] - 1) * (w[i] - 1) * (1 + 10 * sn * sn);
	}
	t3 = sin(2.0 * M_PI * w[3]);
	return t * t + mid + (w[3] - 1) * (w[3] - 1) * (1 + t3 * t3);
}

static double bf_mixed(const double *x, const char *const *s)
{
	static const double tab[3][4] = { { 0.50, -2.0, 3.0, 3 },
					  { 0.00, 1.5, -1.0, 7 },
					  { 0.25, 3.5, 2.5, 9 } };
	int k = s[3][0] - 'a';
	double dx, dy, dn;

	if (k < 0 || k > 2)
		return NAN;
	dx = x[0] - tab[k][1];
	dy = x[1] - tab[k][2];
	dn = x[2] - tab[k][3];
	return tab[k][0] + 0.25 * (dx * dx + dy * dy) +
	       0.2 * (2.0 - cos(M_PI * dx) - cos(M_PI * dy)) + 0.1 * dn * dn;
}

static double bf_lrbowl(const double *x, const char *const *s)
{
	double u = log10(x[0]), bs = x[1];
	double d = u - (log10(3e-4) + log10(bs / 32.0)), l2 = log2(bs) - 7.0;

	(void)s;
	return 0.2 + (d < 0 ? 0.5 * d * d : 2.0 * d * d) + 0.02 * l2 * l2;
}

/*
 * cvacc: a cross-validated error rate (1 - accuracy) as a real model's
 * tuning gives it, minimised. lr and l2 (log-uniform), layers (int),
 * dropout and batch_size (log-uniform int) shape a smooth accuracy of at
 * most 0.95; the best lr grows with the batch size, an lr 10^1.2 above
 * it diverges to chance (0.10), and nothing scores below chance: flat
 * plateaus. The accuracy is that of a 100-sample validation fold, so it
 * is quantised to 0.01 (plateaus everywhere), and the fold's draw adds
 * Gaussian noise of sd 0.015 (see bf_noise). Same formula as
 * bench/noisy_functions.py.
 */
static double bf_cvacc(const double *x, const char *const *s)
{
	double a = log10(x[0]), b = log10(x[1]), acc;
	double best = -3.0 + 0.8 * log10(x[4] / 64.0);

	(void)s;
	if (a > best + 1.2)
		acc = 0.10;
	else
		acc = 0.95 - 0.12 * (a - best) * (a - best) -
		      0.02 * (b + 4) * (b + 4) -
		      0.004 * (x[2] - 6) * (x[2] - 6) -
		      0.2 * (x[3] - 0.35) * (x[3] - 0.35);
	if (acc < 0.10)
		acc = 0.10;
	return 1.0 - floor(acc * 100 + 1e-9) / 100;
}

/* splitmix64 (the same in bench/noisy_functions.py). */
static inline unsigned long long bf_mix64(unsigned long long z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The standard normal noise of evaluation k (0, 1, ...) of run `seed`:
 * Box-Muller on two splitmix64 draws, so Python gives the same bits. */
static inline double bf_noise(int seed, int k)
{
	unsigned long long st =
		(unsigned long long)seed * 1000003ULL + (unsigned long long)k;
	double u1 = ((double)(bf_mix64(2 * st + 1) >> 11) + 0.5) /
		    9007199254740992.0;
	double u2 = (double)(bf_mix64(2 * st + 2) >> 11) / 9007199254740992.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

#define BF_D(n, lo, hi)                                                        \
	{                                                                      \
		n, "double", lo, hi, 0, { 0 }, 0                               \
	}

static const struct bf_function bf_functions[] = {
	{ "branin",
	  2,
	  { BF_D("x1", -5, 10), BF_D("x2", 0, 15) },
	  50,
	  0.397887357729738,
	  bf_branin,
	  0 },
	{ "hartmann6",
	  6,
	  { BF_D("x1", 0, 1), BF_D("x2", 0, 1), BF_D("x3", 0, 1),
	    BF_D("x4", 0, 1), BF_D("x5", 0, 1), BF_D("x6", 0, 1) },
	  100,
	  -3.3223680114155147,
	  bf_hartmann6,
	  0 },
	{ "rosenbrock4",
	  4,
	  { BF_D("x1", -5, 10), BF_D("x2", -5, 10), BF_D("x3", -5, 10),
	    BF_D("x4", -5, 10) },
	  100,
	  0.0,
	  bf_rosenbrock4,
	  0 },
	{ "ackley5",
	  5,
	  { BF_D("x1", -32.768, 32.768), BF_D("x2", -32.768, 32.768),
	    BF_D("x3", -32.768, 32.768), BF_D("x4", -32.768, 32.768),
	    BF_D("x5", -32.768, 32.768) },
	  100,
	  0.0,
	  bf_ackley5,
	  0 },
	{ "levy4",
	  4,
	  { BF_D("x1", -10, 10), BF_D("x2", -10, 10), BF_D("x3", -10, 10),
	    BF_D("x4", -10, 10) },
	  100,
	  0.0,
	  bf_levy4,
	  0 },
	{ "mixed",
	  4,
	  { BF_D("x1", -5, 5),
	    BF_D("x2", -5, 5),
	    { "n", "int", 1, 10, 0, { 0 }, 0 },
	    { "kind", "categorical", 0, 0, 0, { "a", "b", "c" }, 3 } },
	  100,
	  0.0,
	  bf_mixed,
	  0 },
	{ "lrbowl",
	  2,
	  { { "lr", "double", 1e-5, 1e-1, 1, { 0 }, 0 },
	    { "batch_size", "int", 16, 512, 0, { 0 }, 0 } },
	  50,
	  0.2,
	  bf_lrbowl,
	  0 },
	{ "cvacc",
	  5,
	  { { "lr", "double", 1e-5, 1, 1, { 0 }, 0 },
	    { "l2", "double", 1e-7, 1e-1, 1, { 0 }, 0 },
	    { "layers", "int", 1, 12, 0, { 0 }, 0 },
	    BF_D("dropout", 0, 0.9),
	    { "batch_size", "int", 16, 512, 1, { 0 }, 0 } },
	  20,
	  1.0 - 0.95, /* bf_cvacc at the optimum, to the bit */
	  bf_cvacc,
	  0.015 },
};

#define BF_COUNT (sizeof(bf_functions) / sizeof(bf_functions[0]))

static inline const struct bf_function *bf_find(const char *name)
{
	size_t i;

	for (i = 0; i < BF_COUNT; i++)
		if (!strcmp(bf_functions[i].name, name))
			return &bf_functions[i];
	return NULL;
}

/* f at an assignment given as strings in parameter order. */
static inline double bf_eval(const struct bf_function *fn, char *const *v)
{
	double x[BF_MAX_PARAMS] = { 0 };
	const char *s[BF_MAX_PARAMS] = { 0 };
	int i;

	for (i = 0; i < fn->nparams; i++) {
		s[i] = v[i];
		if (strcmp(fn->params[i].type, "categorical"))
			x[i] = strtod(v[i], NULL);
	}
	return fn->f(x, s);
}

static inline void bf_num(char *buf, size_t size, double v)
{
	snprintf(buf, size, "%.17g", v);
}

/*
 * The Experiment (functions.py --katib-experiment) with algorithm `alg`,
 * `nset` settings "name=value", parallelism `parallel` and max trials
 * `max`. Heap string.
 */
static inline char *bf_experiment_yaml(const struct bf_function *fn,
				       const char *alg, char *const *set,
				       int nset, int parallel, int max)
{
	char *buf = NULL, num[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i, j;

	if (!f)
		return NULL;
	fprintf(f,
		"apiVersion: kubeflow.org/v1beta1\nkind: Experiment\n"
		"metadata:\n  name: bench-%s\nspec:\n  objective:\n"
		"    type: minimize\n    objectiveMetricName: objective\n"
		"  algorithm:\n    algorithmName: %s\n",
		fn->name, alg);
	if (nset)
		fprintf(f, "    algorithmSettings:\n");
	for (i = 0; i < nset; i++) {
		const char *eq = strchr(set[i], '=');

		fprintf(f, "      - name: \"%.*s\"\n        value: \"%s\"\n",
			(int)(eq ? eq - set[i] : (long)strlen(set[i])), set[i],
			eq ? eq + 1 : "");
	}
	fprintf(f,
		"  parallelTrialCount: %d\n  maxTrialCount: %d\n"
		"  parameters:\n",
		parallel, max);
	for (i = 0; i < fn->nparams; i++) {
		const struct bf_param *p = &fn->params[i];

		fprintf(f,
			"    - name: %s\n      parameterType: %s\n"
			"      feasibleSpace:\n",
			p->name, p->type);
		if (p->nchoices) {
			fprintf(f, "        list: [");
			for (j = 0; j < p->nchoices; j++)
				fprintf(f, "%s\"%s\"", j ? ", " : "",
					p->choices[j]);
			fprintf(f, "]\n");
			continue;
		}
		bf_num(num, sizeof(num), p->low);
		fprintf(f, "        min: \"%s\"\n", num);
		bf_num(num, sizeof(num), p->high);
		fprintf(f, "        max: \"%s\"\n", num);
		if (p->log)
			fprintf(f, "        distribution: logUniform\n");
	}
	fprintf(f, "  trialTemplate:\n    primaryContainerName: main\n"
		   "    trialParameters:\n");
	for (i = 0; i < fn->nparams; i++)
		fprintf(f, "      - name: %s\n        reference: %s\n",
			fn->params[i].name, fn->params[i].name);
	fprintf(f, "    trialSpec:\n      apiVersion: batch/v1\n"
		   "      kind: Job\n      spec:\n        template:\n"
		   "          spec:\n            restartPolicy: Never\n"
		   "            containers:\n              - name: main\n"
		   "                image: none\n                command:\n"
		   "                  - \"true\"\n");
	for (i = 0; i < fn->nparams; i++)
		fprintf(f,
			"                  - \"--%s=${trialParameters.%s}\"\n",
			fn->params[i].name, fn->params[i].name);
	fclose(f);
	return buf;
}

#endif
