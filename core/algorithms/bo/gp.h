/*
 * gp.h - the Gaussian process surrogate of bayesianoptimization (gp.c).
 *
 * Points are encoded in [0, 1]^d; targets are standardised by the caller.
 * theta holds the d + 2 log hyperparameters: log lengthscale per
 * dimension, log signal variance, log noise variance (the white-noise
 * term, fitted with the others by marginal likelihood). Predictions are
 * of the latent function (the noise is not added to the variance).
 */
#ifndef KATIB_BO_GP_H
#define KATIB_BO_GP_H

#include <stddef.h>

#include "katib/algorithm.h"

/*
 * A large model: more points than this (bayesianoptimization refits at
 * every suggestion up to here) takes the faster paths where the rounding
 * differs (gp_predict of one point): every model up to it computes bit
 * for bit what the regret tables were measured with.
 */
#define GP_LARGE 300

/*
 * Two uses: the fit's GP (gp_alloc: cap points, factored whole by
 * gp_factor with rows n apart, for the likelihood) and the model kept in
 * bo_priv (gp_model_new: grown by gp_append, factor rows ld apart).
 */
struct gp {
	size_t n, cap, d;
	double *X;     /* cap x d */
	double *y;     /* standardised targets */
	double *L;     /* Cholesky factor of K (lower) */
	size_t ld;     /* model: distance between rows of L */
	double *alpha; /* K^-1 y */
	double *theta; /* d + 2 log hyperparameters */
	double *ils2;  /* 1 / ls^2 per dimension */
	double sf2, noise;
	double *work; /* fit: n x n scratch (LML) */
	double *expo; /* fit: n x n, the kernel's exp factor per pair */
	double *row;  /* model: cap + 1 scratch for gp_append */
	int fast; /* fit of a large model: LAPACK without LAPACKE's copies */
	int factored; /* fit: L and alpha are of theta (gp_neg_lml) */
};

/* fit_theta's `quick` for a large model, whose suggestion must stay cheap:
 * from `warm`, a few steps; without one, the default start only, then
 * at the next suggestion FIT_SECOND: the second fixed start, kept if it
 * is better than `warm` (the first's result). */
#define FIT_QUICK  1
#define FIT_SECOND 2

/* Fit theta to n points (X, standardised y) (on a subset of at most 100
 * when there are more: the best 30 and an even spread); warm start from
 * `warm` (or NULL); quick: 0 or as above. */
int fit_theta(const double *X, const double *y, size_t n, size_t d,
	      const double *warm, int quick, struct rng *r, double *theta);

/* A model at theta of the (at most 100) points fit_theta fits theta to,
 * factored (owned by the caller: gp_model_free), or NULL. */
struct gp *gp_subset_model(const double *X, const double *y, size_t n, size_t d,
			   const double *theta);

/* A model GP of dimension d at theta with no points (owned by the
 * caller: gp_model_free), or NULL. */
struct gp *gp_model_new(size_t d, const double *theta);
void gp_model_free(struct gp *gp);

/* Its first m points X (m x d) factored (from the rows gp_factor_part
 * left when gp->n says so). */
int gp_factor_block(struct gp *gp, const double *X, size_t m);
/* The first part of gp_factor_block(gp, X, m) (all of it up to GP_LARGE
 * points; ~70% of the rows and a third of the work above). */
int gp_factor_part(struct gp *gp, const double *X, size_t m);
/* Append point x to the factor (its target set by the caller): O(n^2). */
int gp_append(struct gp *gp, const double *x);
/* Append the t points X (t x d) as one group (targets set by the caller):
 * O(n^2 t) in one pass over the factor. The rows' bits depend on the
 * earlier rows, the points, theta and t. */
int gp_append_group(struct gp *gp, const double *X, size_t t);
/* alpha = K^-1 y from the factor. */
void gp_solve_alpha(struct gp *gp);
/* Add one point (x, y) without refitting: O(n^2). */
int gp_add(struct gp *gp, const double *x, double y);

/* Mean and variance (latent) at m points Xc (m x d): O(n^2 m); var NULL:
 * the mean only, O(n m). */
int gp_predict(const struct gp *gp, const double *Xc, size_t m, double *mu,
	       double *var);

/* Points a large model's variance bound conditions on (gp_predict_screen). */
#define GP_SCREEN 16

/* The mean (as gp_predict computes it) and an upper bound on the
 * variance at m points Xc: the variance given only the GP_SCREEN points
 * each covaries with most (more data never raises it). O(n m): to choose
 * the few points worth an O(n^2) variance (gp_var_of_cov). Kc (m x n):
 * each point's covariances with the model's points. */
int gp_predict_screen(const struct gp *gp, const double *Xc, size_t m,
		      double *mu, double *var_hi, double *Kc);

/* The variance at k points from their covariances, the rows of B (k x
 * n; overwritten): O(n^2 k). */
void gp_var_of_cov(const struct gp *gp, double *B, size_t k, double *var);

/* Mean, variance and their gradients at one point (ks, v: n scratch; dk:
 * n x d scratch). */
void gp_predict_grad(const struct gp *gp, const double *x, double *mu,
		     double *var, double *dmu, double *dvar, double *ks,
		     double *v, double *dk);

#endif
