/*
 * forest.c - regression trees, random forests and extra trees (see
 * forest.h for the contract).
 *
 * The tree builder keeps, for every feature, the node's samples sorted by
 * that feature (one presort, then a stable partition at each split), so a
 * node of m samples costs O(m * d) whatever the splitter: a full tree on n
 * samples costs about O(n * d * depth). Owns nothing beyond the call but
 * the nodes it returns in the tree.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/forest.h"

/* scikit-learn's FEATURE_THRESHOLD: values closer than this are equal. */
#define FEATURE_EPS 1e-7

/* A node still to build: its samples are idx[f][start..end) for every f. */
struct pending {
	size_t start, end;
	int parent; /* -1 for the root */
	int is_left;
	int depth;
};

struct split {
	int feature; /* -1: none found */
	double threshold;
	double proxy; /* sum_l^2 / w_l + sum_r^2 / w_r, larger is better */
	size_t n_left;
};

struct builder {
	const struct forest_data *data;
	const struct forest_tree_options *o;
	struct rng *r;
	size_t n, d, m;	      /* m: samples with weight > 0 */
	const double *xc;     /* d x n, column-major copy of x */
	double *own_xc;	      /* xc when this builder made it */
	double *w, *wy;	      /* n: each sample's weight, weight * y */
	uint32_t *idx;	      /* d x m: per feature, samples sorted by it */
	uint32_t *tmp;	      /* m scratch for the partition */
	unsigned char *left;  /* n: the sample goes left at this split */
	size_t *features;     /* d: the features in drawing order */
	struct pending *todo; /* the stack of nodes to build */
	size_t ntodo;
};

void forest_tree_options_default(struct forest_tree_options *o)
{
	o->splitter = FOREST_SPLIT_BEST;
	o->max_depth = 0;
	o->min_samples_split = 2;
	o->min_samples_leaf = 1;
	o->max_features = 0;
}

void forest_options_default(struct forest_options *o, enum forest_kind kind)
{
	memset(o, 0, sizeof(*o));
	o->n_trees = 100;
	o->bootstrap = kind == FOREST_RANDOM;
	forest_tree_options_default(&o->tree);
	if (kind == FOREST_EXTRA)
		o->tree.splitter = FOREST_SPLIT_RANDOM;
}

static int cmp_by_column(const void *a, const void *b, void *ctx)
{
	const double *col = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (col[i] < col[j])
		return -1;
	if (col[i] > col[j])
		return 1;
	return (i > j) - (i < j);
}

static double *column_major(const double *x, size_t n, size_t d)
{
	double *xc = malloc(n * d * sizeof(*xc) + 1);
	size_t i, f;

	if (!xc)
		return NULL;
	for (i = 0; i < n; i++)
		for (f = 0; f < d; f++)
			xc[f * n + i] = x[i * d + f];
	return xc;
}

static void presort_columns(const double *xc, size_t n, size_t d,
			    uint32_t *order)
{
	size_t i, f;

	for (f = 0; f < d; f++) {
		uint32_t *o = order + f * n;

		for (i = 0; i < n; i++)
			o[i] = (uint32_t)i;
		qsort_r(o, n, sizeof(*o), cmp_by_column, (void *)(xc + f * n));
	}
}

int forest_presort(const double *x, size_t n, size_t d, uint32_t **order)
{
	double *xc;

	*order = NULL;
	if (n > UINT32_MAX)
		return -EINVAL;
	xc = column_major(x, n, d);
	*order = malloc(n * d * sizeof(**order) + 1);
	if (!xc || !*order) {
		free(xc);
		free(*order);
		*order = NULL;
		return -ENOMEM;
	}
	presort_columns(xc, n, d, *order);
	free(xc);
	return 0;
}

/* idx[f] = order[f] without the samples of weight 0. */
static void fill_sorted(struct builder *b, const uint32_t *order)
{
	size_t f, i, k;

	for (f = 0; f < b->d; f++) {
		const uint32_t *o = order + f * b->n;
		uint32_t *dst = b->idx + f * b->m;

		for (i = k = 0; i < b->n; i++)
			if (b->w[o[i]] > 0)
				dst[k++] = o[i];
	}
}

static void builder_free(struct builder *b)
{
	free(b->own_xc);
	free(b->w);
	free(b->wy);
	free(b->idx);
	free(b->tmp);
	free(b->left);
	free(b->features);
	free(b->todo);
}

static int builder_init(struct builder *b, const struct forest_data *data,
			const struct forest_tree_options *o, struct rng *r,
			const double *xc)
{
	uint32_t *order = NULL;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->data = data;
	b->o = o;
	b->r = r;
	b->n = data->n;
	b->d = data->d;
	b->w = malloc(b->n * sizeof(*b->w) + 1);
	b->wy = malloc(b->n * sizeof(*b->wy) + 1);
	if (!b->w || !b->wy) {
		builder_free(b);
		return -ENOMEM;
	}
	for (i = 0; i < b->n; i++) {
		b->w[i] = data->w ? data->w[i] : 1.0;
		b->wy[i] = b->w[i] * data->y[i];
		b->m += b->w[i] > 0;
	}
	if (!xc)
		xc = b->own_xc = column_major(data->x, b->n, b->d);
	b->xc = xc;
	b->idx = malloc(b->d * b->m * sizeof(*b->idx) + 1);
	b->tmp = malloc(b->m * sizeof(*b->tmp) + 1);
	b->left = malloc(b->n + 1);
	b->features = malloc(b->d * sizeof(*b->features) + 1);
	b->todo = malloc((b->m + 1) * sizeof(*b->todo));
	if (!data->order)
		order = malloc(b->n * b->d * sizeof(*order) + 1);
	if (!b->xc || !b->idx || !b->tmp || !b->left || !b->features ||
	    !b->todo || (!data->order && !order)) {
		free(order);
		builder_free(b);
		return -ENOMEM;
	}
	if (!data->order)
		presort_columns(b->xc, b->n, b->d, order);
	fill_sorted(b, data->order ? data->order : order);
	free(order);
	for (i = 0; i < b->d; i++)
		b->features[i] = i;
	return 0;
}

static int add_node(struct forest_tree *t, const struct pending *p)
{
	struct forest_node *node;

	if (t->n_nodes == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		void *nodes = realloc(t->nodes, cap * sizeof(*t->nodes));

		if (!nodes)
			return -ENOMEM;
		t->nodes = nodes;
		t->cap = cap;
	}
	node = &t->nodes[t->n_nodes];
	memset(node, 0, sizeof(*node));
	node->feature = -1;
	node->left = node->right = -1;
	node->depth = p->depth;
	node->n_samples = (int)(p->end - p->start);
	if (p->parent >= 0) {
		if (p->is_left)
			t->nodes[p->parent].left = (int)t->n_nodes;
		else
			t->nodes[p->parent].right = (int)t->n_nodes;
	}
	return (int)t->n_nodes++;
}

/* The node's weight, weighted mean and weighted variance. */
static void node_stats(const struct builder *b, const struct pending *p,
		       struct forest_node *node)
{
	const uint32_t *s = b->idx; /* feature 0's order: any will do */
	const double *y = b->data->y;
	double w = 0, sum = 0, sq = 0;
	size_t i;

	for (i = p->start; i < p->end; i++) {
		w += b->w[s[i]];
		sum += b->wy[s[i]];
	}
	node->weight = w;
	node->value = w > 0 ? sum / w : 0;
	for (i = p->start; i < p->end; i++) {
		double e = y[s[i]] - node->value;

		sq += b->w[s[i]] * e * e;
	}
	node->impurity = w > 0 ? sq / w : 0;
}

static int is_leaf(const struct builder *b, const struct pending *p,
		   const struct forest_node *node)
{
	size_t m = p->end - p->start;

	return m < (size_t)b->o->min_samples_split ||
	       m < 2 * (size_t)b->o->min_samples_leaf ||
	       (b->o->max_depth > 0 && p->depth >= b->o->max_depth) ||
	       node->impurity <= DBL_EPSILON;
}

/* Whether a split with these left sums beats a best proxy bp (-INFINITY
 * when none yet): sl^2/wl + sr^2/wr > bp, without dividing (weights > 0). */
static int beats(double bp, double wl, double sl, double w, double sum)
{
	double wr = w - wl, sr = sum - sl;

	return sl * sl * wr + sr * sr * wl > bp * wl * wr;
}

static void take(struct split *best, int f, double threshold, double wl,
		 double sl, double w, double sum, size_t n_left)
{
	best->feature = f;
	best->threshold = threshold;
	best->proxy = sl * sl / wl + (sum - sl) * (sum - sl) / (w - wl);
	best->n_left = n_left;
}

/* Every threshold between two distinct values of feature f. */
static void best_threshold(const struct builder *b, const struct pending *p,
			   const struct forest_node *node, int f,
			   struct split *best)
{
	const uint32_t *s = b->idx + (size_t)f * b->m;
	const double *col = b->xc + (size_t)f * b->n;
	size_t leaf = (size_t)b->o->min_samples_leaf, m = p->end - p->start;
	double w = node->weight, sum = node->value * node->weight;
	double wl = 0, sl = 0, a = col[s[p->start]], bp = best->proxy;
	size_t i;

	for (i = p->start; i + 1 < p->end; i++) {
		double c = col[s[i + 1]], mid;
		size_t n_left = i + 1 - p->start;

		wl += b->w[s[i]];
		sl += b->wy[s[i]];
		if (c <= a + FEATURE_EPS || n_left < leaf ||
		    !beats(bp, wl, sl, w, sum)) {
			a = c;
			continue;
		}
		if (m - n_left < leaf)
			break;
		mid = a / 2.0 + c / 2.0;
		if (mid == c || isinf(mid))
			mid = a;
		take(best, f, mid, wl, sl, w, sum, n_left);
		bp = best->proxy;
		a = c;
	}
}

/* One uniform threshold in (min, max) of feature f (extra trees). */
static void random_threshold(const struct builder *b, const struct pending *p,
			     const struct forest_node *node, int f, double lo,
			     double hi, struct split *best)
{
	const uint32_t *s = b->idx + (size_t)f * b->m;
	const double *col = b->xc + (size_t)f * b->n;
	size_t leaf = (size_t)b->o->min_samples_leaf, m = p->end - p->start;
	double thr = lo + rng_uniform(b->r) * (hi - lo), wl = 0, sl = 0;
	size_t i;

	if (thr >= hi)
		thr = lo;
	for (i = p->start; i < p->end && col[s[i]] <= thr; i++) {
		wl += b->w[s[i]];
		sl += b->wy[s[i]];
	}
	if (i - p->start < leaf || m - (i - p->start) < leaf)
		return;
	if (beats(best->proxy, wl, sl, node->weight,
		  node->value * node->weight))
		take(best, f, thr, wl, sl, node->weight,
		     node->value * node->weight, i - p->start);
}

/* features[j] swapped with a uniform one of features[j..d). */
static void draw_feature(struct builder *b, size_t j)
{
	size_t k = j + (size_t)(rng_uniform(b->r) * (double)(b->d - j));
	size_t tmp = b->features[j];

	if (k >= b->d)
		k = b->d - 1;
	b->features[j] = b->features[k];
	b->features[k] = tmp;
}

/* Draw features without replacement until max_features non-constant
 * ones have been tried (scikit-learn's rule). */
static struct split find_split(struct builder *b, const struct pending *p,
			       const struct forest_node *node)
{
	size_t want = b->o->max_features ? b->o->max_features : b->d;
	struct split best = { .feature = -1, .proxy = -INFINITY };
	size_t j, tried = 0;

	for (j = 0; j < b->d && tried < want; j++) {
		const uint32_t *s;
		size_t f;
		double lo, hi;

		/* every feature is tried when want >= d: the order only
		 * breaks ties, so the draw is saved */
		if (want < b->d)
			draw_feature(b, j);
		f = b->features[j];
		s = b->idx + f * b->m;
		lo = b->xc[f * b->n + s[p->start]];
		hi = b->xc[f * b->n + s[p->end - 1]];
		if (hi <= lo + FEATURE_EPS)
			continue;
		tried++;
		if (b->o->splitter == FOREST_SPLIT_RANDOM)
			random_threshold(b, p, node, (int)f, lo, hi, &best);
		else
			best_threshold(b, p, node, (int)f, &best);
	}
	return best;
}

/* Reorder every feature's segment: the left samples first, each side
 * still sorted. */
static void partition(struct builder *b, const struct pending *p,
		      const struct split *sp)
{
	const double *col = b->xc + (size_t)sp->feature * b->n;
	size_t f, i;

	for (i = p->start; i < p->end; i++) {
		uint32_t s = b->idx[(size_t)sp->feature * b->m + i];

		b->left[s] = col[s] <= sp->threshold;
	}
	for (f = 0; f < b->d; f++) {
		uint32_t *s = b->idx + f * b->m;
		size_t nl = p->start, nr = 0;

		/* branch-free: the side is a coin flip for the predictor */
		for (i = p->start; i < p->end; i++) {
			uint32_t v = s[i];
			size_t l = b->left[v];

			s[nl] = v;
			b->tmp[nr] = v;
			nl += l;
			nr += 1 - l;
		}
		memcpy(s + nl, b->tmp, nr * sizeof(*s));
	}
}

static void push(struct builder *b, size_t start, size_t end, int parent,
		 int is_left, int depth)
{
	struct pending *q = &b->todo[b->ntodo++];

	q->start = start;
	q->end = end;
	q->parent = parent;
	q->is_left = is_left;
	q->depth = depth;
}

static int build(struct builder *b, struct forest_tree *t)
{
	push(b, 0, b->m, -1, 0, 0);
	while (b->ntodo > 0) {
		struct pending p = b->todo[--b->ntodo];
		struct forest_node *node;
		struct split sp;
		int id = add_node(t, &p);

		if (id < 0)
			return id;
		node = &t->nodes[id];
		node_stats(b, &p, node);
		if (is_leaf(b, &p, node))
			continue;
		sp = find_split(b, &p, node);
		if (sp.feature < 0)
			continue;
		node->feature = sp.feature;
		node->threshold = sp.threshold;
		partition(b, &p, &sp);
		/* right first, so the left subtree is numbered first */
		push(b, p.start + sp.n_left, p.end, id, 0, p.depth + 1);
		push(b, p.start, p.start + sp.n_left, id, 1, p.depth + 1);
	}
	return 0;
}

static int check_options(const struct forest_data *data,
			 const struct forest_tree_options *o)
{
	if (!data->x || !data->y || data->d == 0 || data->d > INT32_MAX ||
	    data->n > UINT32_MAX)
		return -EINVAL;
	if (o->min_samples_split < 2 || o->min_samples_leaf < 1)
		return -EINVAL;
	return 0;
}

/* xc: data->x column-major, or NULL to make it here. */
static int tree_fit(struct forest_tree *t, const struct forest_data *data,
		    const struct forest_tree_options *o, struct rng *r,
		    const double *xc)
{
	struct builder b;
	int rc = check_options(data, o);

	if (rc < 0)
		return rc;
	t->n_nodes = 0;
	t->n_features = data->d;
	rc = builder_init(&b, data, o, r, xc);
	if (rc < 0)
		return rc;
	if (b.m == 0)
		rc = -EINVAL;
	else
		rc = build(&b, t);
	builder_free(&b);
	return rc;
}

int forest_tree_fit(struct forest_tree *t, const struct forest_data *data,
		    const struct forest_tree_options *o, struct rng *r)
{
	return tree_fit(t, data, o, r, NULL);
}

size_t forest_tree_apply(const struct forest_tree *t, const double *x)
{
	size_t i = 0;

	while (t->nodes[i].feature >= 0)
		i = x[t->nodes[i].feature] <= t->nodes[i].threshold
			    ? (size_t)t->nodes[i].left
			    : (size_t)t->nodes[i].right;
	return i;
}

double forest_tree_predict(const struct forest_tree *t, const double *x)
{
	return t->nodes[forest_tree_apply(t, x)].value;
}

void forest_tree_free(struct forest_tree *t)
{
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

/* n draws with replacement: the count of each sample. */
static void bootstrap_counts(struct rng *r, size_t n, double *w)
{
	size_t i;

	memset(w, 0, n * sizeof(*w));
	for (i = 0; i < n; i++) {
		size_t k = (size_t)(rng_uniform(r) * (double)n);

		w[k < n ? k : n - 1] += 1;
	}
}

static int fit_trees(struct forest *f, struct forest_data *data,
		     const struct forest_options *o, double *w,
		     const double *xc)
{
	size_t k;
	int rc;

	for (k = 0; k < o->n_trees; k++) {
		struct rng r;

		rng_seed(&r, seed_mix64(o->seed ^ seed_mix64(k + 1)));
		if (o->bootstrap)
			bootstrap_counts(&r, data->n, w);
		rc = tree_fit(&f->trees[k], data, &o->tree, &r, xc);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int forest_fit(struct forest *f, const double *x, size_t n, size_t d,
	       const double *y, const struct forest_options *o)
{
	struct forest_data data = { x, n, d, y, NULL, NULL };
	uint32_t *order = NULL;
	double *w = NULL, *xc = NULL;
	int rc;

	memset(f, 0, sizeof(*f));
	if (n == 0 || d == 0 || o->n_trees == 0 || n > UINT32_MAX)
		return -EINVAL;
	f->n_features = d;
	f->min_variance = o->min_variance;
	f->trees = calloc(o->n_trees, sizeof(*f->trees));
	if (f->trees)
		f->n_trees = o->n_trees; /* zeroed: forest_free() is safe */
	w = o->bootstrap ? malloc(n * sizeof(*w)) : NULL;
	xc = column_major(x, n, d);
	order = malloc(n * d * sizeof(*order) + 1);
	if (!f->trees || (o->bootstrap && !w) || !xc || !order) {
		rc = -ENOMEM;
		goto out;
	}
	presort_columns(xc, n, d, order);
	data.order = order;
	data.w = w;
	rc = fit_trees(f, &data, o, w, xc);
out:
	free(order);
	free(w);
	free(xc);
	if (rc < 0)
		forest_free(f);
	return rc;
}

void forest_predict(const struct forest *f, const double *x, double *mean,
		    double *std)
{
	double sum = 0, sq = 0, m;
	size_t k;

	for (k = 0; k < f->n_trees; k++) {
		const struct forest_node *leaf =
			&f->trees[k].nodes[forest_tree_apply(&f->trees[k], x)];
		double var = leaf->impurity;

		if (var < f->min_variance)
			var = f->min_variance;
		sum += leaf->value;
		sq += var + leaf->value * leaf->value;
	}
	m = f->n_trees ? sum / (double)f->n_trees : 0;
	*mean = m;
	if (std) {
		double v = f->n_trees ? sq / (double)f->n_trees - m * m : 0;

		*std = v > 0 ? sqrt(v) : 0;
	}
}

void forest_free(struct forest *f)
{
	size_t k;

	for (k = 0; k < f->n_trees; k++)
		forest_tree_free(&f->trees[k]);
	free(f->trees);
	memset(f, 0, sizeof(*f));
}
