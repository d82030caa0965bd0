/*
 * latency.c - in-process suggestion latency of a katibfs algorithm on
 * hartmann6, as ../shared/bench/optuna_baseline.py measures Optuna's ask():
 * the history grows with the algorithm's own suggestions (or random ones,
 * --fill random, for slow algorithms) and, for each size H, the `asks`
 * suggestions issued with H..H+asks-1 completed trials are timed one by
 * one (suggest() only: history building and evaluation excluded).
 *
 *   latency ALGORITHM [--sizes 100,500,1000,2000] [--asks 20]
 *           [--fill self|random] [--seed 1] [--cpu] [--restart]
 *           [--into candidate.json] [--set name=value]...
 *
 * --restart: each timed ask is made by an instance created afresh from the
 * state the previous one saved (the first suggestion after a daemon
 * restart: models rebuilt from the history).
 *
 * Prints a table of the first ask and median [Q1, Q3], p99, max ms; --into adds
 * the "latency" field
 * ({"function", "sizes": {"H": [ms, ...]}}) to a candidate JSON file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "katib/algorithm.h"
#include "katib/spec.h"

#include "bench_functions.h"

#define MAX_SIZES 16

#define MAX_SET 8

struct options {
	const char *algorithm, *into;
	long sizes[MAX_SIZES];
	int nsizes, asks, fill_random, seed, cpu, restart;
	char *set[MAX_SET]; /* algorithm settings name=value */
	int nset;
};

static int use_cpu_clock;

/* Wall time, or with --cpu this thread's CPU time (without the other
 * jobs' preemption on a shared machine). */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(use_cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC,
		      &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1), f = floor(pos);
	int i = (int)f;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * (pos - f);
}

static struct experiment_spec *make_spec(const struct bf_function *fn,
					 const struct options *o, int *state)
{
	struct experiment_spec *spec = NULL;
	char rs[64], *set[MAX_SET + 1], *yaml;
	struct kb_error err;
	int pass, i;

	for (i = 0; i < o->nset; i++)
		set[i + 1] = o->set[i];
	snprintf(rs, sizeof(rs), "random_state=%d", o->seed);
	set[0] = rs;
	for (pass = 0; pass < 2 && !spec; pass++) { /* 1: no random_state */
		yaml = bf_experiment_yaml(fn, o->algorithm, set + pass,
					  o->nset + 1 - pass, 1, 100000);
		if (yaml &&
		    spec_parse(yaml, strlen(yaml), "latency", &spec, &err))
			spec = NULL;
		*state = pass;
		free(yaml);
	}
	return spec;
}

static int add_to_json(const struct options *o, double **ms)
{
	cJSON *root = NULL, *lat, *sizes, *arr;
	char key[32], *text = NULL;
	long len;
	FILE *f = fopen(o->into, "r");
	int i, j, rc = -1;

	if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = calloc(1, (size_t)len + 1)) &&
	    fread(text, 1, (size_t)len, f) == (size_t)len)
		root = cJSON_Parse(text);
	if (f)
		fclose(f);
	free(text);
	if (!root) {
		fprintf(stderr, "latency: cannot read %s\n", o->into);
		return -1;
	}
	cJSON_DeleteItemFromObject(root, "latency");
	lat = cJSON_AddObjectToObject(root, "latency");
	cJSON_AddStringToObject(lat, "function", "hartmann6");
	cJSON_AddStringToObject(lat, "covers",
				"in-process suggest() of one assignment");
	sizes = cJSON_AddObjectToObject(lat, "sizes");
	for (i = 0; i < o->nsizes; i++) {
		snprintf(key, sizeof(key), "%ld", o->sizes[i]);
		arr = cJSON_AddArrayToObject(sizes, key);
		for (j = 0; j < o->asks; j++)
			cJSON_AddItemToArray(arr, cJSON_CreateNumber(ms[i][j]));
	}
	text = cJSON_Print(root);
	f = text ? fopen(o->into, "w") : NULL;
	if (f && fputs(text, f) >= 0 && fputc('\n', f) != EOF)
		rc = 0;
	if (f && fclose(f))
		rc = -1;
	free(text);
	cJSON_Delete(root);
	return rc;
}

/* *priv replaced by an instance created from the state it saves. */
static int restart(const struct algorithm_ops *ops,
		   const struct experiment_spec *spec, void **priv)
{
	struct kb_error err;
	char *state = ops->save ? ops->save(*priv) : NULL;
	int rc;

	ops->destroy(*priv);
	*priv = NULL;
	rc = ops->create(spec, state, priv, &err);
	free(state);
	if (rc)
		fprintf(stderr, "latency: restart: %s\n", err.message);
	return rc;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	char *p, *end;
	int i, j;

	memset(o, 0, sizeof(*o));
	for (i = j = 1; i < argc; i++) /* --cpu, --restart take no value */
		if (!strcmp(argv[i], "--cpu"))
			o->cpu = 1;
		else if (!strcmp(argv[i], "--restart"))
			o->restart = 1;
		else
			argv[j++] = argv[i];
	argc = j;
	o->asks = 20;
	o->seed = 1;
	if (argc < 2 || argv[1][0] == '-')
		goto usage;
	o->algorithm = argv[1];
	o->nsizes = 4;
	o->sizes[0] = 100, o->sizes[1] = 500, o->sizes[2] = 1000;
	o->sizes[3] = 2000;
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--asks")) {
			o->asks = atoi(argv[i + 1]);
		} else if (!strcmp(argv[i], "--set") && o->nset < MAX_SET) {
			o->set[o->nset++] = argv[i + 1];
		} else if (!strcmp(argv[i], "--seed")) {
			o->seed = atoi(argv[i + 1]);
		} else if (!strcmp(argv[i], "--into")) {
			o->into = argv[i + 1];
		} else if (!strcmp(argv[i], "--fill")) {
			o->fill_random = !strcmp(argv[i + 1], "random");
		} else if (!strcmp(argv[i], "--sizes")) {
			o->nsizes = 0;
			for (p = argv[i + 1]; *p && o->nsizes < MAX_SIZES;) {
				o->sizes[o->nsizes++] = strtol(p, &end, 10);
				p = *end == ',' ? end + 1 : end;
				if (end == p && *p)
					goto usage;
			}
		} else {
			goto usage;
		}
	}
	if (i == argc && o->asks > 0 && o->nsizes > 0)
		return;
usage:
	fprintf(stderr, "usage: latency ALGORITHM [--sizes 100,500,1000,2000] "
			"[--asks 20] [--fill self|random] [--seed 1] [--cpu] "
			"[--restart] [--into candidate.json] "
			"[--set name=value]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const struct bf_function *fn = bf_find("hartmann6");
	const struct algorithm_ops *ops, *rnd = algorithm_find("random");
	struct experiment_spec *spec;
	struct history_trial *t;
	struct search_history h;
	struct kb_error err;
	struct options o;
	double *ms[MAX_SIZES], t0;
	void *priv = NULL, *rpriv = NULL;
	char state[64], **out[1];
	long total;
	int use_state = 0, si, k, n, rc = 0;

	parse_args(argc, argv, &o);
	use_cpu_clock = o.cpu;
	ops = algorithm_find(o.algorithm);
	if (!ops || !ops->implemented) {
		fprintf(stderr, "latency: '%s' is not available\n",
			o.algorithm);
		return 2;
	}
	spec = make_spec(fn, &o, &use_state);
	total = o.sizes[o.nsizes - 1] + o.asks;
	t = calloc((size_t)total, sizeof(*t));
	if (!spec || !t)
		return 1;
	snprintf(state, sizeof(state), "seed=%d\n", o.seed);
	if (ops->create(spec, use_state ? state : NULL, &priv, &err) ||
	    rnd->create(spec, state, &rpriv, &err)) {
		fprintf(stderr, "latency: %s\n", err.message);
		return 1;
	}
	h.trials = t;
	h.ntrials = 0;
	for (si = 0; si < o.nsizes; si++) {
		ms[si] = calloc((size_t)o.asks, sizeof(double));
		while ((long)h.ntrials < o.sizes[si] + o.asks) {
			k = (int)h.ntrials - (int)o.sizes[si];
			if (k >= 0 && o.restart && restart(ops, spec, &priv))
				return 1;
			t0 = now_ms();
			if (k < 0 && o.fill_random)
				n = rnd->suggest(rpriv, spec, &h, 1, out, &err);
			else
				n = ops->suggest(priv, spec, &h, 1, out, &err);
			t0 = now_ms() - t0;
			if (n != 1) {
				fprintf(stderr, "latency: suggest gave %d\n",
					n);
				return 1;
			}
			if (k >= 0)
				ms[si][k] = t0;
			t[h.ntrials].values = out[0];
			t[h.ntrials].number = (int)h.ntrials + 1;
			t[h.ntrials].state = HISTORY_SUCCEEDED;
			t[h.ntrials].has_objective = 1;
			t[h.ntrials].objective = bf_eval(fn, out[0]);
			h.ntrials++;
		}
	}
	printf("suggestion latency of %s on hartmann6 (ms of %s, %d asks per "
	       "size, in process%s; first: the first ask at that size)\n\n"
	       "| history | first | median | Q1 | Q3 | p99 | max |\n"
	       "|---|---|---|---|---|---|---|\n",
	       o.algorithm, o.cpu ? "CPU time" : "wall time", o.asks,
	       o.restart ? ", each by an instance restarted from the saved "
			   "state"
			 : "");
	for (si = 0; si < o.nsizes; si++) {
		double s[1024];
		int m = o.asks < 1024 ? o.asks : 1024;

		memcpy(s, ms[si], (size_t)m * sizeof(double));
		qsort(s, (size_t)m, sizeof(double), cmp_double);
		printf("| %ld | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n",
		       o.sizes[si], ms[si][0], quantile(s, m, 0.5),
		       quantile(s, m, 0.25), quantile(s, m, 0.75),
		       quantile(s, m, 0.99), s[m - 1]);
	}
	if (o.into && add_to_json(&o, ms))
		rc = 1;
	ops->destroy(priv);
	rnd->destroy(rpriv);
	for (k = 0; k < (int)h.ntrials; k++)
		assignment_values_free(t[k].values, spec->nparams);
	for (si = 0; si < o.nsizes; si++)
		free(ms[si]);
	free(t);
	spec_free(spec);
	return rc;
}
