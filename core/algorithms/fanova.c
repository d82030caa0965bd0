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
#include <stdlib.h>
#include <string.h>

#include "algorithms/fanova.h"

struct scratch {
	double *lo, *hi;  /* n_nodes x d: every node's box */
	size_t *leaves;	  /* the leaf node indices */
	double *frac;	  /* per leaf: its share of the box's volume */
	double *centered; /* per leaf: (value - mean) * share of the other
			   * columns' volume */
	double *cuts;	  /* the column's split points and bounds */
	double *cells;	  /* the marginal per cell between cuts */
	size_t *picked;	  /* the leaves that restrict several columns */
	size_t n_leaves, cap_nodes;
};

static void scratch_free(struct scratch *s)
{
	free(s->lo);
	free(s->hi);
	free(s->leaves);
	free(s->frac);
	free(s->centered);
	free(s->cuts);
	free(s->cells);
	free(s->picked);
}

static int scratch_init(struct scratch *s, const struct forest *f)
{
	size_t k, most = 1, d = f->n_features;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < f->n_trees; k++)
		if (f->trees[k].n_nodes > most)
			most = f->trees[k].n_nodes;
	s->cap_nodes = most;
	s->lo = malloc(most * d * sizeof(double));
	s->hi = malloc(most * d * sizeof(double));
	s->leaves = malloc(most * sizeof(size_t));
	s->frac = malloc(most * sizeof(double));
	s->centered = malloc(most * sizeof(double));
	s->cuts = malloc((most + 2) * sizeof(double));
	s->cells = malloc((most + 2) * sizeof(double));
	s->picked = malloc(most * sizeof(size_t));
	if (!s->lo || !s->hi || !s->leaves || !s->frac || !s->centered ||
	    !s->cuts || !s->cells || !s->picked) {
		scratch_free(s);
		return -ENOMEM;
	}
	return 0;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Each node's box (children after parents) and the leaves' shares. */
static void tree_boxes(struct scratch *s, const struct forest_tree *t,
		       const struct fanova_space *sp)
{
	size_t d = sp->n_columns, i, j;

	memcpy(s->lo, sp->lo, d * sizeof(double));
	memcpy(s->hi, sp->hi, d * sizeof(double));
	s->n_leaves = 0;
	for (i = 0; i < t->n_nodes; i++) {
		const struct forest_node *n = &t->nodes[i];
		double *lo = s->lo + i * d, *hi = s->hi + i * d, thr, share = 1;
		size_t l, r, f;

		if (n->feature < 0) {
			for (j = 0; j < d; j++)
				share *= (hi[j] - lo[j]) /
					 (sp->hi[j] - sp->lo[j]);
			s->frac[s->n_leaves] = share;
			s->leaves[s->n_leaves++] = i;
			continue;
		}
		l = (size_t)n->left;
		r = (size_t)n->right;
		f = (size_t)n->feature;
		thr = clamp(n->threshold, lo[f], hi[f]);
		memcpy(s->lo + l * d, lo, d * sizeof(double));
		memcpy(s->hi + l * d, hi, d * sizeof(double));
		memcpy(s->lo + r * d, lo, d * sizeof(double));
		memcpy(s->hi + r * d, hi, d * sizeof(double));
		s->hi[l * d + f] = thr;
		s->lo[r * d + f] = thr;
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

/* The leaf's share of the box along the columns [c0, c1). */
static double share_in(const struct scratch *s, const struct fanova_space *sp,
		       size_t node, size_t c0, size_t c1)
{
	const double *lo = s->lo + node * sp->n_columns;
	const double *hi = s->hi + node * sp->n_columns;
	double share = 1;
	size_t j;

	for (j = c0; j < c1; j++)
		share *= (hi[j] - lo[j]) / (sp->hi[j] - sp->lo[j]);
	return share;
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Index of v in the sorted cuts[0..n) (v is one of them). */
static size_t cut_index(const double *cuts, size_t n, double v)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cuts[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One column: the marginal is a step function between the tree's split
 * points on it; add each leaf over its cells, then sum size * m^2. */
static double marginal_variance_1d(struct scratch *s,
				   const struct forest_tree *t,
				   const struct fanova_space *sp, size_t c)
{
	size_t d = sp->n_columns, n = 0, u, i;
	double range = sp->hi[c] - sp->lo[c], run = 0, var = 0;

	s->cuts[n++] = sp->lo[c];
	s->cuts[n++] = sp->hi[c];
	for (i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].feature == (int)c)
			s->cuts[n++] = clamp(t->nodes[i].threshold, sp->lo[c],
					     sp->hi[c]);
	qsort(s->cuts, n, sizeof(double), cmp_double);
	for (u = 1, i = 1; i < n; i++)
		if (s->cuts[i] != s->cuts[u - 1])
			s->cuts[u++] = s->cuts[i];
	memset(s->cells, 0, u * sizeof(double));
	for (i = 0; i < s->n_leaves; i++) {
		size_t node = s->leaves[i];

		s->cells[cut_index(s->cuts, u, s->lo[node * d + c])] +=
			s->centered[i];
		s->cells[cut_index(s->cuts, u, s->hi[node * d + c])] -=
			s->centered[i];
	}
	for (i = 0; i + 1 < u; i++) {
		run += s->cells[i];
		var += (s->cuts[i + 1] - s->cuts[i]) / range * run * run;
	}
	return var;
}

/* The share of the box along [c0, c1) that leaves a and b both cover. */
static double overlap(const struct scratch *s, const struct fanova_space *sp,
		      size_t a, size_t b, size_t c0, size_t c1)
{
	size_t d = sp->n_columns, j;
	double share = 1;

	for (j = c0; j < c1 && share > 0; j++) {
		double lo = s->lo[a * d + j] > s->lo[b * d + j]
				    ? s->lo[a * d + j]
				    : s->lo[b * d + j];
		double hi = s->hi[a * d + j] < s->hi[b * d + j]
				    ? s->hi[a * d + j]
				    : s->hi[b * d + j];

		share *= hi > lo ? (hi - lo) / (sp->hi[j] - sp->lo[j]) : 0;
	}
	return share;
}

/* Several columns: E[m^2] = sum over leaf pairs of their weights times
 * the share of the box along S that both cover. Leaves that do not
 * restrict S add a constant to m and are summed first. The restricting
 * ones go to picked[], their weights to cuts[], their shares to cells[]. */
static double marginal_variance_nd(struct scratch *s,
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
		s->cuts[r] = s->centered[i];
		s->cells[r++] = own;
	}
	for (i = 0; i < r; i++) {
		cross += s->cuts[i] * s->cells[i];
		pairs += s->cuts[i] * s->cuts[i] * s->cells[i];
		for (j = i + 1; j < r; j++)
			pairs += 2 * s->cuts[i] * s->cuts[j] *
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
	size_t p;

	tree_boxes(s, t, sp);
	var = tree_variance(s, t, &mean);
	if (!(var > 0))
		return 0;
	for (p = 0; p < sp->n_params; p++) {
		size_t c0 = sp->column_start[p], c1 = sp->column_start[p + 1];
		double v;

		center_leaves(s, t, sp, mean, c0, c1);
		v = c1 - c0 == 1 ? marginal_variance_1d(s, t, sp, c0)
				 : marginal_variance_nd(s, sp, c0, c1);
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
