/*
 * importance.c - the cost of one parameter-importance ranking (forest fit
 * plus fANOVA, core/algorithms/importance.h) as the controller computes
 * it, on N random trials of 10 parameters (8 uniform doubles, a
 * log-uniform double, a categorical of 4 choices) with a known order of
 * importance: y = sum_j 10 / 2^j * x_j^2 (j = 0..7) + 3 [choice = "c"],
 * lr without effect.
 *
 *   importance [--sizes 100,1000] [--reps 7] [--seed 1]
 *
 * Prints, per size, the median and max wall and CPU milliseconds of a
 * ranking (target: under 50 ms at 1,000 trials), and whether the ranking
 * put x0 first and lr below the top four. Exit 1 if not.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "algorithms/importance.h"
#include "katib/algorithm.h"

#define NP	 10
#define MAX_REPS 64

static char *choices[] = { "a", "b", "c", "d" };

static void make_space(struct param_spec *p)
{
	static char names[8][4];
	int j;

	memset(p, 0, NP * sizeof(*p));
	for (j = 0; j < 8; j++) {
		snprintf(names[j], sizeof(names[j]), "x%d", j);
		p[j].name = names[j];
		p[j].type = PARAM_DOUBLE;
		p[j].max_value = 1;
	}
	p[8].name = "lr";
	p[8].type = PARAM_DOUBLE;
	p[8].distribution = DIST_LOG_UNIFORM;
	p[8].min_value = 1e-5;
	p[8].max_value = 1;
	p[9].name = "choice";
	p[9].type = PARAM_CATEGORICAL;
	p[9].list = choices;
	p[9].nlist = 4;
}

/* n trials encoded into x (n x ncolumns) with their objective in y. */
static int make_trials(const struct importance_space *s,
		       const struct param_spec *p, size_t n, uint64_t seed,
		       double *x, double *y)
{
	char buf[NP][32], *values[NP];
	struct rng r;
	size_t i;
	int j;

	rng_seed(&r, seed);
	for (i = 0; i < n; i++) {
		double v, sum = 0;

		for (j = 0; j < 8; j++) {
			v = rng_uniform(&r);
			sum += ldexp(10, -j) * v * v;
			snprintf(buf[j], sizeof(buf[j]), "%.17g", v);
		}
		v = exp(log(1e-5) * (1 - rng_uniform(&r)));
		snprintf(buf[8], sizeof(buf[8]), "%.17g", v);
		j = (int)(rng_uniform(&r) * 4);
		snprintf(buf[9], sizeof(buf[9]), "%s", choices[j]);
		sum += j == 2 ? 3 : 0;
		for (j = 0; j < NP; j++)
			values[j] = buf[j];
		if (importance_encode(s, p, values, x + i * s->ncolumns))
			return -1;
		y[i] = sum;
	}
	return 0;
}

static double clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double u = *(const double *)a, v = *(const double *)b;

	return (u > v) - (u < v);
}

static int ranked_right(const struct importance_ranking *r)
{
	int j;

	for (j = 0; j < 4 && j < (int)r->n; j++)
		if (!strcmp(r->names[j], "lr"))
			return 0;
	return r->n == NP && !strcmp(r->names[0], "x0");
}

static int bench_size(size_t n, int reps, uint64_t seed)
{
	struct param_spec p[NP];
	struct importance_space s;
	struct importance_ranking r;
	double wall[MAX_REPS], cpu[MAX_REPS], *x, *y;
	int k, ok = 1;

	make_space(p);
	if (importance_space_init(&s, p, NP))
		return 1;
	x = malloc(n * s.ncolumns * sizeof(*x));
	y = malloc(n * sizeof(*y));
	if (!x || !y || make_trials(&s, p, n, seed, x, y))
		return 1;
	for (k = 0; k < reps; k++) {
		double w0 = clock_ms(CLOCK_MONOTONIC);
		double c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);

		if (importance_rank(&s, x, y, n, 20140601, &r))
			return 1;
		cpu[k] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
		wall[k] = clock_ms(CLOCK_MONOTONIC) - w0;
		ok &= ranked_right(&r);
		if (k == reps - 1)
			printf("  ranking at %zu trials: %s=%.3f %s=%.3f "
			       "%s=%.3f "
			       "... %s=%.4f\n",
			       n, r.names[0], r.scores[0], r.names[1],
			       r.scores[1], r.names[2], r.scores[2],
			       r.names[NP - 1], r.scores[NP - 1]);
		importance_ranking_free(&r);
	}
	qsort(wall, (size_t)reps, sizeof(double), cmp_double);
	qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
	printf("%8zu %6d %10.1f %10.1f %10.1f %10.1f  %s\n", n, NP,
	       wall[reps / 2], wall[reps - 1], cpu[reps / 2], cpu[reps - 1],
	       ok ? "x0 first, lr not in the top 4" : "WRONG ORDER");
	free(x);
	free(y);
	importance_space_free(&s);
	return !ok;
}

int main(int argc, char **argv)
{
	const char *sizes = "100,1000";
	int reps = 7, i, rc = 0;
	uint64_t seed = 1;
	char *list, *tok, *save;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--sizes"))
			sizes = argv[i + 1];
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 10);
	}
	if (reps < 1 || reps > MAX_REPS)
		reps = 7;
	printf("importance ranking (64 trees, fANOVA), seed %llu, %d reps; "
	       "target < 50 ms at 1000 trials\n",
	       (unsigned long long)seed, reps);
	printf("%8s %6s %10s %10s %10s %10s\n", "trials", "params", "wall_med",
	       "wall_max", "cpu_med", "cpu_max");
	list = strdup(sizes);
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		rc |= bench_size(strtoul(tok, NULL, 10), reps, seed);
	free(list);
	return rc;
}
