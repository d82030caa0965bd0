/*
 * fanova.c - functional ANOVA importance over a forest (see fanova.h).
 *
 * For a tree, every leaf is a box of the search space with a constant
 * value. The tree's marginal over the parameter's columns S at x_S is the
 * sum, over the leaves whose box holds x_S, of value times the fraction of
 * the other columns' volume the leaf covers. Its variance under the
 * uniform measure on S is what Optuna's _FanovaTree.get_marginal_variance
 * computes on its grid of split midpoints; here it comes from a sweep over
 * the column's split points (one column) or from leaf-box overlaps
 * (several columns, a one-hot categorical). Owns only scratch memory
 * within a call.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/fanova.h"

/* Columns of one parameter drawn on a grid, at most: beyond, leaf pairs. */
#define GRID_MAX_DIMS  8
#define GRID_MAX_CELLS 8192 /* the difference array's size */

struct scratch {
	/* per tree: every column's sorted distinct split points with its
	 * bounds, cuts[off[c] .. off[c] + ncut[c]) */
	double *cuts;
	size_t *off, *ncut;
	uint32_t *rank;	   /* per split node: its threshold's cut index */
	uint32_t *lo, *hi; /* n_nodes x d: every node's box, as cut indices */
	size_t *leaves;	   /* the leaf node indices */
	double *frac;	   /* per leaf: its share of the box's volume */
	double *centered;  /* per leaf: (value - mean) * share of the other
			    * columns' volume */
	double *cells;	   /* the marginal per cell between cuts */
	size_t *picked;	   /* the leaves that restrict several columns */
	double *weight;	   /* their weights */
	double *grid;	   /* GRID_MAX_CELLS: a few columns' marginal */
	size_t n_leaves;
};

static void scratch_free(struct scratch *s)
{
	free(s->cuts);
	free(s->off);
	free(s->ncut);
	free(s->rank);
	free(s->lo);
	free(s->hi);
	free(s->leaves);
	free(s->frac);
	free(s->centered);
	free(s->cells);
	free(s->picked);
	free(s->weight);
	free(s->grid);
}

static int scratch_init(struct scratch *s, const struct forest *f)
{
	size_t k, most = 1, d = f->n_features;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < f->n_trees; k++)
		if (f->trees[k].n_nodes > most)
			most = f->trees[k].n_nodes;
	s->cuts = malloc((most + 2 * d) * sizeof(double));
	s->off = malloc((d + 1) * sizeof(size_t));
	s->ncut = malloc(d * sizeof(size_t));
	s->rank = malloc(most * sizeof(uint32_t));
	s->lo = malloc(most * d * sizeof(uint32_t));
	s->hi = malloc(most * d * sizeof(uint32_t));
	s->leaves = malloc(most * sizeof(size_t));
	s->frac = malloc(most * sizeof(double));
	s->centered = malloc(most * sizeof(double));
	s->cells = malloc((most + 2) * sizeof(double));
	s->picked = malloc(most * sizeof(size_t));
	s->weight = malloc(most * sizeof(double));
	s->grid = malloc(GRID_MAX_CELLS * sizeof(double));
	if (!s->cuts || !s->off || !s->ncut || !s->rank || !s->lo || !s->hi ||
	    !s->leaves || !s->frac || !s->centered || !s->cells || !s->picked ||
	    !s->weight || !s->grid) {
		scratch_free(s);
		return -ENOMEM;
	}
	return 0;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Index of v in the sorted cuts[0..n) (v is one of them). */
static uint32_t cut_index(const double *cuts, size_t n, double v)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cuts[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

static double split_point(const struct forest_node *n,
			  const struct fanova_space *sp)
{
	return clamp(n->threshold, sp->lo[n->feature], sp->hi[n->feature]);
}

/* Every column's cuts (bounds and the tree's thresholds on it, sorted,
 * distinct) and every split node's rank among its column's cuts. */
static void tree_cuts(struct scratch *s, const struct forest_tree *t,
		      const struct fanova_space *sp)
{
	size_t d = sp->n_columns, c, i;

	for (c = 0; c < d; c++)
		s->ncut[c] = 2;
	for (i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].feature >= 0)
			s->ncut[t->nodes[i].feature]++;
	for (s->off[0] = 0, c = 0; c < d; c++) {
		s->off[c + 1] = s->off[c] + s->ncut[c];
		s->cuts[s->off[c]] = sp->lo[c];
		s->cuts[s->off[c] + 1] = sp->hi[c];
		s->ncut[c] = 2;
	}
	for (i = 0; i < t->n_nodes; i++) {
		const struct forest_node *n = &t->nodes[i];

		if (n->feature >= 0)
			s->cuts[s->off[n->feature] + s->ncut[n->feature]++] =
				split_point(n, sp);
	}
	for (c = 0; c < d; c++) {
		double *cuts = s->cuts + s->off[c];
		size_t u = 1;

		qsort(cuts, s->ncut[c], sizeof(double), cmp_double);
		for (i = 1; i < s->ncut[c]; i++)
			if (cuts[i] != cuts[u - 1])
				cuts[u++] = cuts[i];
		s->ncut[c] = u;
	}
	for (i = 0; i < t->n_nodes; i++) {
		const struct forest_node *n = &t->nodes[i];

		if (n->feature >= 0)
			s->rank[i] = cut_index(s->cuts + s->off[n->feature],
					       s->ncut[n->feature],
					       split_point(n, sp));
	}
}

/* The share of column c's range between cuts a and b. */
static double width(const struct scratch *s, const struct fanova_space *sp,
		    size_t c, uint32_t a, uint32_t b)
{
	const double *cuts = s->cuts + s->off[c];

	return b > a ? (cuts[b] - cuts[a]) / (sp->hi[c] - sp->lo[c]) : 0;
}

/* The leaf's share of the box along the columns [c0, c1). */
static double share_in(const struct scratch *s, const struct fanova_space *sp,
		       size_t node, size_t c0, size_t c1)
{
	const uint32_t *lo = s->lo + node * sp->n_columns;
	const uint32_t *hi = s->hi + node * sp->n_columns;
	double share = 1;
	size_t j;

	for (j = c0; j < c1; j++)
		share *= width(s, sp, j, lo[j], hi[j]);
	return share;
}

/* Each node's box (children after parents) and the leaves' shares. */
static void tree_boxes(struct scratch *s, const struct forest_tree *t,
		       const struct fanova_space *sp)
{
	size_t d = sp->n_columns, i, c;

	tree_cuts(s, t, sp);
	for (c = 0; c < d; c++) {
		s->lo[c] = 0;
		s->hi[c] = (uint32_t)(s->ncut[c] - 1);
	}
	s->n_leaves = 0;
	for (i = 0; i < t->n_nodes; i++) {
		const struct forest_node *n = &t->nodes[i];
		size_t l, r, f;

		if (n->feature < 0) {
			s->frac[s->n_leaves] = share_in(s, sp, i, 0, d);
			s->leaves[s->n_leaves++] = i;
			continue;
		}
		l = (size_t)n->left;
		r = (size_t)n->right;
		f = (size_t)n->feature;
		memcpy(s->lo + l * d, s->lo + i * d, d * sizeof(uint32_t));
		memcpy(s->hi + l * d, s->hi + i * d, d * sizeof(uint32_t));
		memcpy(s->lo + r * d, s->lo + i * d, d * sizeof(uint32_t));
		memcpy(s->hi + r * d, s->hi + i * d, d * sizeof(uint32_t));
		/* a threshold outside the node's box leaves a side empty */
		if (s->rank[i] < s->hi[i * d + f])
			s->hi[l * d + f] = s->rank[i] > s->lo[i * d + f]
						   ? s->rank[i]
						   : s->lo[i * d + f];
		if (s->rank[i] > s->lo[i * d + f])
			s->lo[r * d + f] = s->rank[i] < s->hi[i * d + f]
						   ? s->rank[i]
						   : s->hi[i * d + f];
	}
}

/* The leaves' volume-weighted mean and variance: the tree's variance. */
static double tree_variance(const struct scratch *s,
			    const struct forest_tree *t, double *mean)
{
	double m = 0, var = 0;
	size_t i;

	for (i = 0; i < s->n_leaves; i++)
		m += s->frac[i] * t->nodes[s->leaves[i]].value;
	for (i = 0; i < s->n_leaves; i++) {
		double e = t->nodes[s->leaves[i]].value - m;

		var += s->frac[i] * e * e;
	}
	*mean = m;
	return var;
}

static void center_leaves(struct scratch *s, const struct forest_tree *t,
			  const struct fanova_space *sp, double mean, size_t c0,
			  size_t c1)
{
	size_t i;

	for (i = 0; i < s->n_leaves; i++) {
		double own = share_in(s, sp, s->leaves[i], c0, c1);
		double v = t->nodes[s->leaves[i]].value - mean;

		s->centered[i] = own > 0 ? v * s->frac[i] / own : 0;
	}
}

/* One column: the marginal is a step function between the tree's split
 * points on it; add each leaf over its cells, then sum size * m^2. */
static double marginal_variance_1d(struct scratch *s,
				   const struct fanova_space *sp, size_t c)
{
	size_t d = sp->n_columns, u = s->ncut[c], i;
	double run = 0, var = 0;

	memset(s->cells, 0, u * sizeof(double));
	for (i = 0; i < s->n_leaves; i++) {
		size_t node = s->leaves[i];

		s->cells[s->lo[node * d + c]] += s->centered[i];
		s->cells[s->hi[node * d + c]] -= s->centered[i];
	}
	for (i = 0; i + 1 < u; i++) {
		run += s->cells[i];
		var += width(s, sp, c, (uint32_t)i, (uint32_t)i + 1) * run *
		       run;
	}
	return var;
}

/*
 * A few columns (a one-hot categorical of up to GRID_MAX_DIMS choices):
 * the marginal is constant on the grid of their cuts. Each leaf adds its
 * weight over its sub-grid through a difference array (2^dims corners);
 * prefix sums along every dimension give the marginal per cell.
 */
struct grid {
	size_t c0, dims;
	size_t n[GRID_MAX_DIMS];      /* cells along each dimension */
	size_t stride[GRID_MAX_DIMS]; /* in the (n + 1)-wide array */
	size_t total;		      /* the difference array's size */
};

/* 0 if the columns' grid fits GRID_MAX_CELLS, else -E2BIG. */
static int grid_init(struct grid *g, const struct scratch *s, size_t c0,
		     size_t c1)
{
	size_t j;

	if (c1 - c0 > GRID_MAX_DIMS)
		return -E2BIG;
	g->c0 = c0;
	g->dims = c1 - c0;
	g->total = 1;
	for (j = 0; j < g->dims; j++) {
		g->n[j] = s->ncut[c0 + j] - 1;
		g->stride[j] = g->total;
		g->total *= g->n[j] + 1;
		if (g->total > GRID_MAX_CELLS)
			return -E2BIG;
	}
	return 0;
}

/* Corners whose coordinate is a dimension's end (n) fall outside every
 * cell: only the dimensions the leaf ends inside take both corners. */
static void grid_add_leaf(const struct grid *g, struct scratch *s, size_t node,
			  size_t d, double w)
{
	const uint32_t *a = s->lo + node * d + g->c0;
	const uint32_t *b = s->hi + node * d + g->c0;
	size_t j, mask, base = 0, nact = 0, step[GRID_MAX_DIMS];

	for (j = 0; j < g->dims; j++) {
		base += a[j] * g->stride[j];
		if (b[j] < g->n[j])
			step[nact++] = (b[j] - a[j]) * g->stride[j];
	}
	for (mask = 0; mask < ((size_t)1 << nact); mask++) {
		size_t idx = base;
		int odd = 0;

		for (j = 0; j < nact; j++)
			if (mask >> j & 1) {
				idx += step[j];
				odd ^= 1;
			}
		s->grid[idx] += odd ? -w : w;
	}
}

/* The marginal's variance from the summed grid: cells whose every
 * coordinate is inside (not the difference array's last row). */
static double grid_variance(const struct grid *g, const struct scratch *s,
			    const struct fanova_space *sp)
{
	size_t idx, j;
	double var = 0;

	for (idx = 0; idx < g->total; idx++) {
		double share = 1;

		for (j = 0; j < g->dims && share > 0; j++) {
			size_t k = idx / g->stride[j] % (g->n[j] + 1);

			share = k == g->n[j] ? 0
					     : share * width(s, sp, g->c0 + j,
							     (uint32_t)k,
							     (uint32_t)k + 1);
		}
		var += share * s->grid[idx] * s->grid[idx];
	}
	return var;
}

static double marginal_variance_grid(struct scratch *s, const struct grid *g,
				     const struct fanova_space *sp)
{
	size_t i, j, idx;

	memset(s->grid, 0, g->total * sizeof(double));
	for (i = 0; i < s->n_leaves; i++)
		if (s->centered[i] != 0)
			grid_add_leaf(g, s, s->leaves[i], sp->n_columns,
				      s->centered[i]);
	for (j = 0; j < g->dims; j++)
		for (idx = 0; idx < g->total; idx++)
			if (idx / g->stride[j] % (g->n[j] + 1))
				s->grid[idx] += s->grid[idx - g->stride[j]];
	return grid_variance(g, s, sp);
}

/* The share of the box along [c0, c1) that leaves a and b both cover. */
static double overlap(const struct scratch *s, const struct fanova_space *sp,
		      size_t a, size_t b, size_t c0, size_t c1)
{
	size_t d = sp->n_columns, j;
	double share = 1;

	for (j = c0; j < c1 && share > 0; j++) {
		uint32_t lo = s->lo[a * d + j] > s->lo[b * d + j]
				      ? s->lo[a * d + j]
				      : s->lo[b * d + j];
		uint32_t hi = s->hi[a * d + j] < s->hi[b * d + j]
				      ? s->hi[a * d + j]
				      : s->hi[b * d + j];

		share *= width(s, sp, j, lo, hi);
	}
	return share;
}

/* Many columns: E[m^2] = sum over leaf pairs of their weights times the
 * share of the box along S that both cover. Leaves that do not restrict
 * S add a constant to m and are summed first. The restricting ones go to
 * picked[], their weights to weight[], their shares to cells[]. */
static double marginal_variance_pairs(struct scratch *s,
				      const struct fanova_space *sp, size_t c0,
				      size_t c1)
{
	double constant = 0, cross = 0, pairs = 0;
	size_t i, j, r = 0;

	for (i = 0; i < s->n_leaves; i++) {
		double own = share_in(s, sp, s->leaves[i], c0, c1);

		if (own >= 1) {
			constant += s->centered[i];
			continue;
		}
		s->picked[r] = s->leaves[i];
		s->weight[r] = s->centered[i];
		s->cells[r++] = own;
	}
	for (i = 0; i < r; i++) {
		cross += s->weight[i] * s->cells[i];
		pairs += s->weight[i] * s->weight[i] * s->cells[i];
		for (j = i + 1; j < r; j++)
			pairs += 2 * s->weight[i] * s->weight[j] *
				 overlap(s, sp, s->picked[i], s->picked[j], c0,
					 c1);
	}
	return constant * constant + 2 * constant * cross + pairs;
}

static int check_space(const struct forest *f, const struct fanova_space *sp)
{
	size_t j, p;

	if (sp->n_columns != f->n_features || sp->n_params == 0 ||
	    f->n_trees == 0 || sp->column_start[0] != 0 ||
	    sp->column_start[sp->n_params] != sp->n_columns)
		return -EINVAL;
	for (p = 0; p < sp->n_params; p++)
		if (sp->column_start[p + 1] <= sp->column_start[p])
			return -EINVAL;
	for (j = 0; j < sp->n_columns; j++)
		if (!(sp->hi[j] > sp->lo[j]))
			return -EINVAL;
	return 0;
}

/* Add tree t's fraction of variance for every parameter to sum[];
 * returns 1 if the tree varies, 0 if not. */
static int tree_fractions(struct scratch *s, const struct forest_tree *t,
			  const struct fanova_space *sp, double *sum)
{
	double mean, var;
	struct grid g;
	size_t p;

	tree_boxes(s, t, sp);
	var = tree_variance(s, t, &mean);
	if (!(var > 0))
		return 0;
	for (p = 0; p < sp->n_params; p++) {
		size_t c0 = sp->column_start[p], c1 = sp->column_start[p + 1];
		double v;

		center_leaves(s, t, sp, mean, c0, c1);
		if (c1 - c0 == 1)
			v = marginal_variance_1d(s, sp, c0);
		else if (grid_init(&g, s, c0, c1) == 0)
			v = marginal_variance_grid(s, &g, sp);
		else
			v = marginal_variance_pairs(s, sp, c0, c1);
		sum[p] += (v > 0 ? v : 0) / var;
	}
	return 1;
}

int fanova_importance(const struct forest *f, const struct fanova_space *sp,
		      double *importance)
{
	struct scratch s;
	size_t k, p, varying = 0;
	double total = 0;
	int rc = check_space(f, sp);

	if (rc < 0)
		return rc;
	rc = scratch_init(&s, f);
	if (rc < 0)
		return rc;
	memset(importance, 0, sp->n_params * sizeof(double));
	for (k = 0; k < f->n_trees; k++)
		varying += (size_t)tree_fractions(&s, &f->trees[k], sp,
						  importance);
	scratch_free(&s);
	for (p = 0; p < sp->n_params; p++)
		total += importance[p];
	if (varying == 0 || !(total > 0))
		return -EDOM;
	/* the mean over varying trees, then normalized: the mean cancels */
	for (p = 0; p < sp->n_params; p++)
		importance[p] /= total;
	return 0;
}
