/*
 * pareto.c - Pareto dominance, non-domination ranks, the incremental
 * front and exact hypervolume. See core/algorithms/pareto.h.
 *
 * Hypervolume: a sweep for two objectives; for more, slices along the
 * last objective, each slice the (m-1)-objective hypervolume of the points
 * below it (HSO). Exact and simple; the sets measured here are small (the
 * "below" group of multi-objective TPE, at most 25 points) or
 * two-dimensional (the benchmark's fronts).
 *
 * Owns nothing beyond a struct pareto_front's arrays and scratch freed
 * before each function returns.
 */
#include "algorithms/pareto.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int pareto_dominates(const double *a, const double *b, size_t m)
{
	size_t j;
	int better = 0;

	for (j = 0; j < m; j++) {
		if (a[j] > b[j])
			return 0;
		if (a[j] < b[j])
			better = 1;
	}
	return better;
}

int pareto_ranks(const double *pts, size_t n, size_t m, size_t need, int *rank)
{
	size_t i, j, ranked = 0;
	int r = 0, dominated;

	for (i = 0; i < n; i++)
		rank[i] = -1;
	while (ranked < n && ranked < need) {
		for (i = 0; i < n; i++) {
			if (rank[i] >= 0)
				continue;
			dominated = 0;
			for (j = 0; j < n && !dominated; j++)
				dominated = j != i &&
					    (rank[j] < 0 ||
					     rank[j] >= r + (int)n) &&
					    pareto_dominates(pts + j * m,
							     pts + i * m, m);
			if (!dominated)
				rank[i] = r + n; /* this round's, marked */
		}
		for (i = 0; i < n; i++)
			if (rank[i] >= r + (int)n) {
				rank[i] = r;
				ranked++;
			}
		r++;
	}
	return r;
}

/* ---- hypervolume ---- */

static int cmp_xy(const void *a, const void *b)
{
	const double *p = a, *q = b;

	if (p[0] != q[0])
		return p[0] < q[0] ? -1 : 1;
	return (p[1] > q[1]) - (p[1] < q[1]);
}

static int cmp_last(const void *a, const void *b, void *arg)
{
	size_t m = *(const size_t *)arg;
	double x = ((const double *)a)[m - 1], y = ((const double *)b)[m - 1];

	return (x > y) - (x < y);
}

/* pts (n rows of m, all strictly inside ref) is sorted in place. */
static double hv_sorted(double *pts, size_t n, size_t m, const double *ref);

static double hv_2d(double *pts, size_t n, const double *ref)
{
	double area = 0, ymin = ref[1];
	size_t i;

	qsort(pts, n, 2 * sizeof(double), cmp_xy);
	for (i = 0; i < n; i++) {
		if (pts[2 * i + 1] >= ymin)
			continue;
		area += (ref[0] - pts[2 * i]) * (ymin - pts[2 * i + 1]);
		ymin = pts[2 * i + 1];
	}
	return area;
}

static double hv_slices(double *pts, size_t n, size_t m, const double *ref)
{
	double *proj = malloc(n * (m - 1) * sizeof(double)), *work, vol = 0;
	double z, znext, h;
	size_t i;

	work = malloc(n * (m - 1) * sizeof(double));
	if (!proj || !work) {
		free(proj);
		free(work);
		return NAN;
	}
	qsort_r(pts, n, m * sizeof(double), cmp_last, &m);
	for (i = 0; i < n; i++) {
		memcpy(proj + i * (m - 1), pts + i * m,
		       (m - 1) * sizeof(double));
		z = pts[i * m + m - 1];
		znext = i + 1 < n ? pts[(i + 1) * m + m - 1] : ref[m - 1];
		if (znext <= z)
			continue;
		memcpy(work, proj, (i + 1) * (m - 1) * sizeof(double));
		h = hv_sorted(work, i + 1, m - 1, ref);
		vol += h * (znext - z);
	}
	free(proj);
	free(work);
	return vol;
}

static double hv_sorted(double *pts, size_t n, size_t m, const double *ref)
{
	double lo;
	size_t i;

	if (!n)
		return 0;
	if (m == 1) {
		for (lo = pts[0], i = 1; i < n; i++)
			lo = pts[i] < lo ? pts[i] : lo;
		return ref[0] - lo;
	}
	return m == 2 ? hv_2d(pts, n, ref) : hv_slices(pts, n, m, ref);
}

static int inside(const double *p, size_t m, const double *ref)
{
	size_t j;

	for (j = 0; j < m; j++)
		if (!(p[j] < ref[j]))
			return 0;
	return 1;
}

double hypervolume(const double *pts, size_t n, size_t m, const double *ref)
{
	double *buf, v;
	size_t i, k = 0;

	if (!n || !m)
		return 0;
	buf = malloc(n * m * sizeof(double));
	if (!buf)
		return NAN;
	for (i = 0; i < n; i++)
		if (inside(pts + i * m, m, ref))
			memcpy(buf + m * k++, pts + i * m, m * sizeof(double));
	v = hv_sorted(buf, k, m, ref);
	free(buf);
	return v;
}

void pareto_reference(const double *pts, size_t n, size_t m, double *ref)
{
	size_t i, j;
	double w;

	for (j = 0; j < m; j++) {
		for (w = -INFINITY, i = 0; i < n; i++)
			w = pts[i * m + j] > w ? pts[i * m + j] : w;
		ref[j] = fmax(1.1 * w, 0.9 * w);
		if (ref[j] == 0 || !isfinite(ref[j]))
			ref[j] = isfinite(ref[j]) ? 1e-12 : ref[j];
	}
}

int hypervolume_contributions(const double *pts, size_t n, size_t m,
			      const double *ref, double *contrib)
{
	double *rest = malloc((n ? n : 1) * m * sizeof(double)), all;
	size_t i;

	if (!rest)
		return -ENOMEM;
	all = hypervolume(pts, n, m, ref);
	for (i = 0; i < n; i++) {
		/* every point but i: the rows before it, then after it */
		memcpy(rest, pts, i * m * sizeof(double));
		memcpy(rest + i * m, pts + (i + 1) * m,
		       (n - i - 1) * m * sizeof(double));
		contrib[i] = all - hypervolume(rest, n - 1, m, ref);
	}
	free(rest);
	return isnan(all) ? -ENOMEM : 0;
}

int hypervolume_select(const double *pts, size_t n, size_t m, const double *ref,
		       size_t k, size_t *chosen)
{
	double *sel = malloc((k + 1) * m * sizeof(double)), base = 0, v, best;
	unsigned char *taken = calloc(n ? n : 1, 1);
	size_t c, i, pick;

	if (!sel || !taken) {
		free(sel);
		free(taken);
		return -ENOMEM;
	}
	for (c = 0; c < k && c < n; c++) {
		best = -INFINITY;
		pick = 0;
		for (i = 0; i < n; i++) {
			if (taken[i])
				continue;
			memcpy(sel + c * m, pts + i * m, m * sizeof(double));
			v = hypervolume(sel, c + 1, m, ref) - base;
			if (isnan(v))
				goto nomem;
			if (v > best) {
				best = v;
				pick = i;
			}
		}
		taken[pick] = 1;
		chosen[c] = pick;
		memcpy(sel + c * m, pts + pick * m, m * sizeof(double));
		base += best;
	}
	free(sel);
	free(taken);
	return 0;
nomem:
	free(sel);
	free(taken);
	return -ENOMEM;
}

/* ---- the front, kept as points arrive ---- */

void pareto_front_init(struct pareto_front *f, size_t m)
{
	memset(f, 0, sizeof(*f));
	f->m = m;
}

void pareto_front_free(struct pareto_front *f)
{
	free(f->ids);
	free(f->loss);
	pareto_front_init(f, f->m);
}

void pareto_front_clear(struct pareto_front *f)
{
	f->n = 0;
}

int pareto_front_contains(const struct pareto_front *f, int id)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->ids[i] == id)
			return 1;
	return 0;
}

static int front_reserve(struct pareto_front *f)
{
	size_t cap = f->cap ? f->cap * 2 : 16;
	double *loss;
	int *ids;

	if (f->n < f->cap)
		return 0;
	ids = realloc(f->ids, cap * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	f->ids = ids;
	loss = realloc(f->loss, cap * f->m * sizeof(*loss));
	if (!loss)
		return -ENOMEM;
	f->loss = loss;
	f->cap = cap;
	return 0;
}

int pareto_front_add(struct pareto_front *f, int id, const double *loss)
{
	size_t i, j = 0, at, m = f->m;

	for (i = 0; i < f->n; i++)
		if (pareto_dominates(f->loss + i * m, loss, m))
			return 0;
	for (i = 0; i < f->n; i++) { /* drop what the new point dominates */
		if (pareto_dominates(loss, f->loss + i * m, m))
			continue;
		f->ids[j] = f->ids[i];
		memmove(f->loss + j * m, f->loss + i * m, m * sizeof(double));
		j++;
	}
	f->n = j;
	if (front_reserve(f))
		return -ENOMEM;
	for (at = f->n; at > 0 && f->ids[at - 1] > id; at--)
		;
	memmove(f->ids + at + 1, f->ids + at, (f->n - at) * sizeof(int));
	memmove(f->loss + (at + 1) * m, f->loss + at * m,
		(f->n - at) * m * sizeof(double));
	f->ids[at] = id;
	memcpy(f->loss + at * m, loss, m * sizeof(double));
	f->n++;
	return 1;
}
