/*
 * forest.h - regression trees and tree ensembles (core/algorithms/forest.c):
 * random forests and extra trees as scikit-learn's RandomForestRegressor
 * and ExtraTreesRegressor build them, and the single-tree builder under
 * both, for other ensembles (gradient-boosted trees fit forest_tree_fit()
 * to their residuals and overwrite the leaf values).
 *
 * A tree is a flat array of nodes, readable by callers (fANOVA walks it):
 * nodes[0] is the root and every child comes after its parent (built
 * depth first, as scikit-learn does). A sample goes left when
 * x[feature] <= threshold.
 *
 * Ownership: a forest_tree owns its nodes, a forest owns its trees; free
 * them with forest_tree_free() / forest_free(). Inputs are only read.
 * Everything is deterministic given the seed (or the rng passed in).
 * Functions return 0 or a negative errno (-EINVAL for bad options or
 * shapes, -ENOMEM).
 */
#ifndef KATIB_FOREST_H
#define KATIB_FOREST_H

#include <stddef.h>
#include <stdint.h>

#include "katib/algorithm.h" /* struct rng */

struct forest_node {
	int feature;	  /* split feature; -1 for a leaf */
	int left, right;  /* children (node indices); -1 for a leaf */
	double threshold; /* x[feature] <= threshold goes left */
	double value;	  /* weighted mean target of the node's samples;
			   * callers may overwrite leaf values (GBRT) */
	double impurity;  /* weighted variance of those targets */
	double weight;	  /* sum of the node's sample weights */
	int n_samples;	  /* distinct samples in the node */
	int depth;	  /* root = 0 */
};

struct forest_tree {
	struct forest_node *nodes; /* nodes[0] = root; owned */
	size_t n_nodes, cap;
	size_t n_features;
};

enum forest_splitter {
	FOREST_SPLIT_BEST,   /* best threshold of each feature (CART) */
	FOREST_SPLIT_RANDOM, /* one uniform threshold per feature (extra
			      * trees) */
};

struct forest_tree_options {
	enum forest_splitter splitter;
	int max_depth;	       /* <= 0: unlimited */
	int min_samples_split; /* a node with fewer samples is a leaf (>= 2) */
	int min_samples_leaf;  /* each child keeps at least this many (>= 1) */
	size_t max_features;   /* features tried per split; 0 = all */
};

/*
 * What a tree is fitted to. x is n x d, row-major; y the n per-sample
 * targets; w the n sample weights (NULL: all 1; a weight of 0 leaves the
 * sample out, as a bootstrap count of 0 does). order, when not NULL, is
 * forest_presort()'s d x n array for this x (saves the sort when many
 * trees are fitted on one x with different y or w).
 */
struct forest_data {
	const double *x;
	size_t n, d;
	const double *y;
	const double *w;
	const uint32_t *order;
};

/* Defaults: best splitter, unlimited depth, split 2, leaf 1, all
 * features (scikit-learn's DecisionTreeRegressor). */
void forest_tree_options_default(struct forest_tree_options *o);

/* Per feature f, the sample indices sorted by x[i * d + f] (ties by
 * index): a heap array of d * n, *order, owned by the caller. */
int forest_presort(const double *x, size_t n, size_t d, uint32_t **order);

/* Fit t (its previous nodes are dropped) to data under o, drawing from r
 * (feature order and random thresholds). A node is split on the feature
 * and threshold that most reduce the weighted squared error (the same
 * choice as Friedman's MSE, scikit-learn's criterion for boosting). */
int forest_tree_fit(struct forest_tree *t, const struct forest_data *data,
		    const struct forest_tree_options *o, struct rng *r);

/* The leaf x (d values) falls in, as a node index. */
size_t forest_tree_apply(const struct forest_tree *t, const double *x);

/* The value of that leaf. */
double forest_tree_predict(const struct forest_tree *t, const double *x);

void forest_tree_free(struct forest_tree *t);

enum forest_kind {
	FOREST_RANDOM, /* RandomForestRegressor: bootstrap, best splits */
	FOREST_EXTRA,  /* ExtraTreesRegressor: all samples, random splits */
};

struct forest_options {
	size_t n_trees;
	int bootstrap; /* each tree on n draws with replacement */
	struct forest_tree_options tree;
	double min_variance; /* floor of a leaf's variance in
			      * forest_predict()'s std (scikit-optimize) */
	uint64_t seed;
};

/* scikit-learn's defaults for the kind: 100 trees, all features, split
 * 2, leaf 1; bootstrap for FOREST_RANDOM only; min_variance 0. */
void forest_options_default(struct forest_options *o, enum forest_kind kind);

struct forest {
	struct forest_tree *trees; /* n_trees, owned */
	size_t n_trees;
	size_t n_features;
	double min_variance;
};

/* Fit f (zeroed or freed before) to x (n x d) and y. Tree k draws from
 * its own rng seeded from (o->seed, k): the same seed, the same forest. */
int forest_fit(struct forest *f, const double *x, size_t n, size_t d,
	       const double *y, const struct forest_options *o);

/*
 * The forest's prediction at x: *mean, the mean of the trees' values;
 * *std (when not NULL) as scikit-optimize's forests compute it, by the
 * law of total variance over the trees: sqrt(mean over trees of (leaf
 * variance, floored at min_variance, + leaf value^2) - mean^2).
 */
void forest_predict(const struct forest *f, const double *x, double *mean,
		    double *std);

void forest_free(struct forest *f);

#endif
