/*
 * lbfgs.h - a small L-BFGS minimiser with box bounds (projected steps),
 * for the Bayesian optimisation's kernel hyperparameters and acquisition.
 */
#ifndef KATIB_BO_LBFGS_H
#define KATIB_BO_LBFGS_H

#include <stddef.h>

struct lbfgs_problem {
	/* f at x; its gradient into g when g is not NULL */
	double (*f)(const double *x, double *g, void *ctx);
	void *ctx;
	size_t n;
	const double *lo, *hi; /* box bounds, n each */
	/* 1: the line search asks f alone at each step it tries, then f with
	 * the gradient at the one it takes (for an f whose value is much
	 * cheaper than its gradient, and that returns the same value both
	 * times); 0: f with the gradient at every step tried */
	int value_first;
};

/* Minimise from x (in place, projected into the box) for at most maxit
 * iterations; returns f at the final x. */
double lbfgs(const struct lbfgs_problem *pr, double *x, int maxit);

/* a . b over n */
double bo_dot(const double *a, const double *b, size_t n);

#endif
