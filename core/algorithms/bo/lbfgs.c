/*
 * lbfgs.c - L-BFGS with box projection (lbfgs.h): the two-loop recursion
 * on the free variables, a backtracking Armijo line search on the
 * projected path. Owns nothing beyond one scratch block per call.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/bo/lbfgs.h"

#define LBFGS_MEM 7

static void project(const struct lbfgs_problem *pr, double *x)
{
	size_t i;

	for (i = 0; i < pr->n; i++)
		x[i] = x[i] < pr->lo[i]	  ? pr->lo[i]
		       : x[i] > pr->hi[i] ? pr->hi[i]
					  : x[i];
}

/* Zero gradient components that push against an active bound. */
static void free_grad(const struct lbfgs_problem *pr, const double *x,
		      const double *g, double *pg)
{
	size_t i;

	for (i = 0; i < pr->n; i++)
		pg[i] = (x[i] <= pr->lo[i] && g[i] > 0) ||
					(x[i] >= pr->hi[i] && g[i] < 0)
				? 0
				: g[i];
}

double bo_dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* Two-loop recursion: dir = -H g. */
static void lbfgs_direction(size_t n, const double *g, const double *S,
			    const double *Y, const double *rho, int m, int head,
			    double *dir)
{
	double alpha[LBFGS_MEM], beta, gamma = 1;
	int k, idx;
	size_t i;

	for (i = 0; i < n; i++)
		dir[i] = -g[i];
	for (k = 0; k < m; k++) {
		idx = (head - 1 - k + LBFGS_MEM) % LBFGS_MEM;
		alpha[k] = rho[idx] * bo_dot(S + idx * n, dir, n);
		for (i = 0; i < n; i++)
			dir[i] -= alpha[k] * Y[idx * n + i];
	}
	if (m) {
		idx = (head - 1 + LBFGS_MEM) % LBFGS_MEM;
		gamma = 1.0 / (rho[idx] * bo_dot(Y + idx * n, Y + idx * n, n));
	}
	for (i = 0; i < n; i++)
		dir[i] *= gamma;
	for (k = m - 1; k >= 0; k--) {
		idx = (head - 1 - k + LBFGS_MEM) % LBFGS_MEM;
		beta = rho[idx] * bo_dot(Y + idx * n, dir, n);
		for (i = 0; i < n; i++)
			dir[i] += S[idx * n + i] * (alpha[k] - beta);
	}
}

/* Minimise from x (in place) for at most maxit iterations; returns f. */
double lbfgs(const struct lbfgs_problem *pr, double *x, int maxit)
{
	size_t n = pr->n, i;
	double *w = calloc(n * (2 * LBFGS_MEM + 5), sizeof(*w));
	double *S, *Y, *g, *pg, *dir, *xn, *gn, rho[LBFGS_MEM], f, fn, t, gd;
	int it, m = 0, head = 0, ls;

	project(pr, x);
	if (!w)
		return pr->f(x, NULL, pr->ctx);
	S = w;
	Y = S + n * LBFGS_MEM;
	g = Y + n * LBFGS_MEM;
	pg = g + n;
	dir = pg + n;
	xn = dir + n;
	gn = xn + n;
	f = pr->f(x, g, pr->ctx);
	for (it = 0; it < maxit && isfinite(f); it++) {
		free_grad(pr, x, g, pg);
		if (sqrt(bo_dot(pg, pg, n)) < 1e-8)
			break;
		lbfgs_direction(n, pg, S, Y, rho, m, head, dir);
		for (i = 0; i < n; i++)
			if ((x[i] <= pr->lo[i] && dir[i] < 0) ||
			    (x[i] >= pr->hi[i] && dir[i] > 0))
				dir[i] = 0;
		gd = bo_dot(pg, dir, n);
		if (!(gd < 0)) {
			m = 0;
			for (i = 0; i < n; i++)
				dir[i] = -pg[i];
			gd = -bo_dot(pg, pg, n);
		}
		t = 1;
		for (ls = 0; ls < 20; ls++, t *= 0.5) {
			for (i = 0; i < n; i++)
				xn[i] = x[i] + t * dir[i];
			project(pr, xn);
			fn = pr->f(xn, pr->value_first ? NULL : gn, pr->ctx);
			if (isfinite(fn) && fn <= f + 1e-4 * t * gd)
				break;
		}
		if (ls == 20)
			break;
		if (pr->value_first)
			fn = pr->f(xn, gn, pr->ctx);
		for (i = 0; i < n; i++) {
			S[head * n + i] = xn[i] - x[i];
			Y[head * n + i] = gn[i] - g[i];
		}
		t = bo_dot(S + head * n, Y + head * n, n);
		if (t > 1e-12) {
			rho[head] = 1.0 / t;
			head = (head + 1) % LBFGS_MEM;
			if (m < LBFGS_MEM)
				m++;
		}
		memcpy(x, xn, n * sizeof(*x));
		memcpy(g, gn, n * sizeof(*g));
		t = f - fn;
		f = fn;
		if (t < 1e-10 * (1 + fabs(f)))
			break;
	}
	free(w);
	return f;
}
