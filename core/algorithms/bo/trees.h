/*
 * trees.h - the tree surrogates of bayesianoptimization (trees.c), as
 * scikit-optimize's base_estimator RF, ET and GBRT build them:
 *
 *   RF    100 trees, bootstrap, best splits, min_samples_leaf 3; mean and
 *         std over the trees (law of total variance, forest.h);
 *   ET    the same with extra trees (all samples, random thresholds);
 *   GBRT  gradient-boosted quantile regression (30 stages of depth-3
 *         trees, learning rate 0.1) at the quantiles 0.16, 0.5 and 0.84;
 *         mean = the 0.5 quantile, std = (q84 - q16) / 2.
 *
 * A bo_trees owns its trees; inputs are only read.
 */
#ifndef KATIB_BO_TREES_H
#define KATIB_BO_TREES_H

#include <stddef.h>
#include <stdint.h>

enum bo_trees_kind { BO_TREES_RF, BO_TREES_ET, BO_TREES_GBRT };

struct bo_trees;

/* Fit to n points X (n x d) with targets y; *out owned by the caller
 * (bo_trees_free). The same inputs and seed give the same model. */
int bo_trees_fit(enum bo_trees_kind kind, const double *X, const double *y,
		 size_t n, size_t d, uint64_t seed, struct bo_trees **out);

/* Mean and variance (std^2) at m points Xc (m x d). */
void bo_trees_predict(const struct bo_trees *t, const double *Xc, size_t m,
		      double *mu, double *var);

void bo_trees_free(struct bo_trees *t);

/*
 * Gradient-boosted quantile regression alone (used by the GBRT kind, and
 * by tests): fit to (X, y) at quantile alpha in (0, 1), then predict at
 * m points into out. 0 or a negative errno.
 */
struct bo_gbrt;
int bo_gbrt_fit(const double *X, const double *y, size_t n, size_t d,
		double alpha, uint64_t seed, struct bo_gbrt **out);
double bo_gbrt_predict(const struct bo_gbrt *g, const double *x);
void bo_gbrt_free(struct bo_gbrt *g);

#endif
