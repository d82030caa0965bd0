/*
 * trees.c - RF, ET and GBRT surrogates of bayesianoptimization (trees.h),
 * on the tree module core/algorithms/forest.[ch]: forests as
 * scikit-optimize's RandomForestRegressor / ExtraTreesRegressor
 * (n_estimators 100, min_samples_leaf 3, min_variance 0), and
 * scikit-learn's GradientBoostingRegressor(loss="quantile") as
 * scikit-optimize's GradientBoostingQuantileRegressor uses it (30 stages,
 * learning rate 0.1, depth 3; the init is the alpha-quantile of y; each
 * stage fits a tree to the quantile loss's negative gradient, then sets
 * each leaf to the alpha-quantile of the residuals of its samples).
 * A bo_trees owns its forest or its three boosted models.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/bo/trees.h"
#include "algorithms/forest.h"

#define FOREST_TREES	100
#define FOREST_MIN_LEAF 3
#define GBRT_STAGES	30
#define GBRT_RATE	0.1
#define GBRT_DEPTH	3
#define GBRT_QUANTILES	3

static const double gbrt_alpha[GBRT_QUANTILES] = { 0.16, 0.5, 0.84 };

struct bo_gbrt {
	double init;
	struct forest_tree trees[GBRT_STAGES];
	size_t ntrees;
};

struct bo_trees {
	enum bo_trees_kind kind;
	size_t d;
	struct forest forest;		      /* RF, ET */
	struct bo_gbrt *gbrt[GBRT_QUANTILES]; /* GBRT: q16, q50, q84 */
};

/* ---- gradient-boosted quantile regression ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* scikit-learn's _weighted_percentile with unit weights: the smallest
 * sorted v[i] whose count i + 1 reaches alpha * n. Sorts v. */
static double quantile_of(double *v, size_t n, double alpha)
{
	double want = alpha * (double)n;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i + 1 < n && (double)(i + 1) < want; i++)
		;
	return v[i];
}

void bo_gbrt_free(struct bo_gbrt *g)
{
	size_t k;

	if (!g)
		return;
	for (k = 0; k < g->ntrees; k++)
		forest_tree_free(&g->trees[k]);
	free(g);
}

double bo_gbrt_predict(const struct bo_gbrt *g, const double *x)
{
	double f = g->init;
	size_t k;

	for (k = 0; k < g->ntrees; k++)
		f += GBRT_RATE * forest_tree_predict(&g->trees[k], x);
	return f;
}

/* Each leaf of t: the alpha-quantile of the residuals y - F of the
 * samples that fall in it (leaf[i]: sample i's leaf; tmp: n scratch). */
static void gbrt_leaf_values(struct forest_tree *t, const size_t *leaf,
			     const double *y, const double *F, size_t n,
			     double alpha, double *tmp)
{
	size_t node, i, m;

	for (node = 0; node < t->n_nodes; node++) {
		if (t->nodes[node].feature >= 0)
			continue;
		for (i = m = 0; i < n; i++)
			if (leaf[i] == node)
				tmp[m++] = y[i] - F[i];
		if (m)
			t->nodes[node].value = quantile_of(tmp, m, alpha);
	}
}

/* One boosting stage on the current predictions F (updated). */
static int gbrt_stage(struct bo_gbrt *g, const double *X, const double *y,
		      size_t n, size_t d, double alpha, struct rng *r,
		      double *F, double *grad, size_t *leaf)
{
	struct forest_tree_options o;
	struct forest_tree *t = &g->trees[g->ntrees];
	struct forest_data data = { X, n, d, grad, NULL, NULL };
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		grad[i] = y[i] > F[i] ? alpha : alpha - 1;
	forest_tree_options_default(&o);
	o.max_depth = GBRT_DEPTH;
	memset(t, 0, sizeof(*t));
	rc = forest_tree_fit(t, &data, &o, r);
	if (rc)
		return rc;
	g->ntrees++;
	for (i = 0; i < n; i++)
		leaf[i] = forest_tree_apply(t, X + i * d);
	gbrt_leaf_values(t, leaf, y, F, n, alpha, grad);
	for (i = 0; i < n; i++)
		F[i] += GBRT_RATE * t->nodes[leaf[i]].value;
	return 0;
}

int bo_gbrt_fit(const double *X, const double *y, size_t n, size_t d,
		double alpha, uint64_t seed, struct bo_gbrt **out)
{
	struct bo_gbrt *g = calloc(1, sizeof(*g));
	double *F = malloc((n ? n : 1) * sizeof(*F));
	double *grad = malloc((n ? n : 1) * sizeof(*grad));
	size_t *leaf = malloc((n ? n : 1) * sizeof(*leaf)), i, k;
	struct rng r;
	int rc = -ENOMEM;

	*out = NULL;
	if (!g || !F || !grad || !leaf)
		goto out;
	rc = -EINVAL;
	if (!n || !(alpha > 0 && alpha < 1))
		goto out;
	memcpy(grad, y, n * sizeof(*y));
	g->init = quantile_of(grad, n, alpha);
	for (i = 0; i < n; i++)
		F[i] = g->init;
	rng_seed(&r, seed);
	rc = 0;
	for (k = 0; k < GBRT_STAGES && !rc; k++)
		rc = gbrt_stage(g, X, y, n, d, alpha, &r, F, grad, leaf);
	if (!rc) {
		*out = g;
		g = NULL;
	}
out:
	bo_gbrt_free(g);
	free(F);
	free(grad);
	free(leaf);
	return rc;
}

/* ---- the surrogate ---- */

void bo_trees_free(struct bo_trees *t)
{
	size_t q;

	if (!t)
		return;
	if (t->kind == BO_TREES_GBRT)
		for (q = 0; q < GBRT_QUANTILES; q++)
			bo_gbrt_free(t->gbrt[q]);
	else
		forest_free(&t->forest);
	free(t);
}

static int forest_surrogate(struct bo_trees *t, const double *X,
			    const double *y, size_t n, size_t d, uint64_t seed)
{
	struct forest_options o;

	forest_options_default(&o, t->kind == BO_TREES_RF ? FOREST_RANDOM
							  : FOREST_EXTRA);
	o.n_trees = FOREST_TREES;
	o.tree.min_samples_leaf = FOREST_MIN_LEAF;
	o.min_variance = 0;
	o.seed = seed;
	return forest_fit(&t->forest, X, n, d, y, &o);
}

int bo_trees_fit(enum bo_trees_kind kind, const double *X, const double *y,
		 size_t n, size_t d, uint64_t seed, struct bo_trees **out)
{
	struct bo_trees *t = calloc(1, sizeof(*t));
	size_t q;
	int rc = 0;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->kind = kind;
	t->d = d;
	if (kind != BO_TREES_GBRT)
		rc = forest_surrogate(t, X, y, n, d, seed);
	for (q = 0; kind == BO_TREES_GBRT && q < GBRT_QUANTILES && !rc; q++)
		rc = bo_gbrt_fit(X, y, n, d, gbrt_alpha[q], seed + q,
				 &t->gbrt[q]);
	if (rc) {
		bo_trees_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void bo_trees_predict(const struct bo_trees *t, const double *Xc, size_t m,
		      double *mu, double *var)
{
	size_t j;
	double sd, lo, hi;
	const double *x;

	for (j = 0; j < m; j++) {
		x = Xc + j * t->d;
		if (t->kind != BO_TREES_GBRT) {
			forest_predict(&t->forest, x, &mu[j], &sd);
			var[j] = sd * sd;
			continue;
		}
		lo = bo_gbrt_predict(t->gbrt[0], x);
		mu[j] = bo_gbrt_predict(t->gbrt[1], x);
		hi = bo_gbrt_predict(t->gbrt[2], x);
		sd = fabs(hi - lo) / 2;
		var[j] = sd * sd;
	}
}
