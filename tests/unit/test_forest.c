/* test_forest.c - the regression trees and ensembles of
 * core/algorithms/forest.c: a tree's shape and statistics, exact fit of
 * distinct points, sample weights as repeated rows, the limits (depth,
 * leaf size, features), determinism by seed, random forests and extra
 * trees that generalize, and the law-of-total-variance std. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algorithms/forest.h"

#define N 200
#define D 4

static double xs[N * D], ys[N];

/* y = 10 x0 + x1 + 0 x2 + 0 x3 on uniform points, seed printed. */
static void make_data(uint64_t seed, double noise)
{
	struct rng r;
	size_t i, f;

	printf("# data seed %llu\n", (unsigned long long)seed);
	rng_seed(&r, seed);
	for (i = 0; i < N; i++) {
		for (f = 0; f < D; f++)
			xs[i * D + f] = rng_uniform(&r);
		ys[i] = 10 * xs[i * D] + xs[i * D + 1] + noise * rng_normal(&r);
	}
}

/* Every node's shape and statistics agree with its children's. */
static void check_tree(const struct forest_tree *t, size_t d)
{
	size_t i;

	assert_true(t->n_nodes >= 1);
	assert_int_equal(t->nodes[0].depth, 0);
	for (i = 0; i < t->n_nodes; i++) {
		const struct forest_node *n = &t->nodes[i], *l, *r;

		if (n->feature < 0) {
			assert_int_equal(n->left, -1);
			assert_int_equal(n->right, -1);
			continue;
		}
		assert_true((size_t)n->feature < d);
		assert_true((size_t)n->left > i && (size_t)n->right > i);
		assert_true((size_t)n->left < t->n_nodes);
		assert_true((size_t)n->right < t->n_nodes);
		l = &t->nodes[n->left];
		r = &t->nodes[n->right];
		assert_int_equal(l->depth, n->depth + 1);
		assert_int_equal(r->depth, n->depth + 1);
		assert_int_equal(l->n_samples + r->n_samples, n->n_samples);
		assert_true(fabs(l->weight + r->weight - n->weight) < 1e-9);
		assert_true(fabs(l->value * l->weight + r->value * r->weight -
				 n->value * n->weight) < 1e-6);
		assert_true(n->impurity >= 0);
	}
}

static int tree_fit(struct forest_tree *t, const double *w,
		    const struct forest_tree_options *o, uint64_t seed)
{
	struct forest_data data = { xs, N, D, ys, w, NULL };
	struct rng r;

	rng_seed(&r, seed);
	return forest_tree_fit(t, &data, o, &r);
}

/* A full tree reproduces distinct training points exactly. */
static void test_tree_exact(void **state)
{
	struct forest_tree_options o;
	struct forest_tree t = { 0 };
	size_t i, leaves = 0;

	(void)state;
	make_data(1, 0.1);
	forest_tree_options_default(&o);
	assert_int_equal(tree_fit(&t, NULL, &o, 7), 0);
	check_tree(&t, D);
	assert_int_equal(t.nodes[0].n_samples, N);
	for (i = 0; i < N; i++)
		assert_true(fabs(forest_tree_predict(&t, xs + i * D) - ys[i]) <
			    1e-12);
	for (i = 0; i < t.n_nodes; i++)
		leaves += t.nodes[i].feature < 0;
	assert_int_equal(leaves, N);
	/* the root splits on the feature that explains most */
	assert_int_equal(t.nodes[0].feature, 0);
	forest_tree_free(&t);
}

/* Weight 2 is the row twice; weight 0 leaves the row out. */
static void test_weights(void **state)
{
	struct forest_tree_options o;
	struct forest_tree a = { 0 }, b = { 0 };
	double w[N], x2[(N + 10) * D], y2[N + 10];
	struct forest_data data = { x2, 0, D, y2, NULL, NULL };
	struct rng r;
	size_t i, k = 0;

	(void)state;
	make_data(2, 0.5);
	forest_tree_options_default(&o);
	o.min_samples_leaf = 3; /* leaves average: weights matter */
	for (i = 0; i < N; i++) {
		w[i] = i < 10 ? 2 : (i % 7 == 0 ? 0 : 1);
		if (w[i] == 0)
			continue;
		memcpy(x2 + k * D, xs + i * D, sizeof(double) * D);
		y2[k++] = ys[i];
	}
	assert_int_equal(tree_fit(&a, w, &o, 3), 0);
	check_tree(&a, D);
	/* weight 2: the same totals as the row repeated */
	assert_true(fabs(a.nodes[0].weight - (double)(k + 10)) < 1e-9);
	for (i = 0; i < 10; i++) {
		memcpy(x2 + k * D, xs + i * D, sizeof(double) * D);
		y2[k++] = ys[i];
	}
	data.n = k;
	rng_seed(&r, 3);
	assert_int_equal(forest_tree_fit(&b, &data, &o, &r), 0);
	assert_true(fabs(a.nodes[0].value - b.nodes[0].value) < 1e-9);
	assert_true(fabs(a.nodes[0].impurity - b.nodes[0].impurity) < 1e-9);
	assert_int_equal(a.nodes[0].feature, b.nodes[0].feature);
	assert_true(fabs(a.nodes[0].threshold - b.nodes[0].threshold) < 1e-12);
	forest_tree_free(&a);
	forest_tree_free(&b);
}

static void test_limits(void **state)
{
	struct forest_tree_options o;
	struct forest_tree t = { 0 };
	size_t i;

	(void)state;
	make_data(3, 0.1);
	forest_tree_options_default(&o);
	o.max_depth = 3;
	o.min_samples_leaf = 5;
	assert_int_equal(tree_fit(&t, NULL, &o, 1), 0);
	check_tree(&t, D);
	for (i = 0; i < t.n_nodes; i++) {
		assert_true(t.nodes[i].depth <= 3);
		assert_true(t.nodes[i].n_samples >= 5);
	}
	/* one feature per split, drawn at random: other features appear */
	o.max_depth = 0;
	o.min_samples_leaf = 1;
	o.max_features = 1;
	assert_int_equal(tree_fit(&t, NULL, &o, 1), 0);
	check_tree(&t, D);
	for (i = 0; i < t.n_nodes; i++)
		if (t.nodes[i].feature == 3)
			break;
	assert_true(i < t.n_nodes);
	o.min_samples_leaf = 0;
	assert_int_equal(tree_fit(&t, NULL, &o, 1), -EINVAL);
	forest_tree_free(&t);
}

/* Extra trees: thresholds strictly inside the node's range. */
static void test_random_splitter(void **state)
{
	struct forest_tree_options o;
	struct forest_tree t = { 0 };
	size_t i;

	(void)state;
	make_data(4, 0.1);
	forest_tree_options_default(&o);
	o.splitter = FOREST_SPLIT_RANDOM;
	assert_int_equal(tree_fit(&t, NULL, &o, 5), 0);
	check_tree(&t, D);
	for (i = 0; i < N; i++)
		assert_true(fabs(forest_tree_predict(&t, xs + i * D) - ys[i]) <
			    1e-12);
	for (i = 0; i < t.n_nodes; i++)
		if (t.nodes[i].feature >= 0)
			assert_true(t.nodes[i].threshold > 0 &&
				    t.nodes[i].threshold < 1);
	forest_tree_free(&t);
}

static int same_forest(const struct forest *a, const struct forest *b)
{
	size_t k;

	if (a->n_trees != b->n_trees)
		return 0;
	for (k = 0; k < a->n_trees; k++)
		if (a->trees[k].n_nodes != b->trees[k].n_nodes ||
		    memcmp(a->trees[k].nodes, b->trees[k].nodes,
			   a->trees[k].n_nodes * sizeof(struct forest_node)))
			return 0;
	return 1;
}

static void test_deterministic(void **state)
{
	enum forest_kind kinds[] = { FOREST_RANDOM, FOREST_EXTRA };
	struct forest a, b, c;
	struct forest_options o;
	size_t i;

	(void)state;
	make_data(5, 0.2);
	for (i = 0; i < 2; i++) {
		forest_options_default(&o, kinds[i]);
		o.n_trees = 8;
		o.seed = 42;
		assert_int_equal(forest_fit(&a, xs, N, D, ys, &o), 0);
		assert_int_equal(forest_fit(&b, xs, N, D, ys, &o), 0);
		o.seed = 43;
		assert_int_equal(forest_fit(&c, xs, N, D, ys, &o), 0);
		assert_true(same_forest(&a, &b));
		assert_false(same_forest(&a, &c));
		forest_free(&a);
		forest_free(&b);
		forest_free(&c);
	}
}

/* Both kinds predict held-out points of y = 10 x0 + x1 well, and a
 * random forest's trees differ (bootstrap). */
static void test_generalizes(void **state)
{
	enum forest_kind kinds[] = { FOREST_RANDOM, FOREST_EXTRA };
	struct forest f;
	struct forest_options o;
	struct rng r;
	size_t i, k;

	(void)state;
	make_data(6, 0.0);
	rng_seed(&r, 99);
	for (k = 0; k < 2; k++) {
		double se = 0, x[D], mean, std;

		forest_options_default(&o, kinds[k]);
		o.n_trees = 32;
		o.seed = 1;
		assert_int_equal(forest_fit(&f, xs, N, D, ys, &o), 0);
		for (i = 0; i < f.n_trees; i++)
			check_tree(&f.trees[i], D);
		for (i = 0; i < 200; i++) {
			size_t j;

			for (j = 0; j < D; j++)
				x[j] = rng_uniform(&r);
			forest_predict(&f, x, &mean, &std);
			se += pow(mean - 10 * x[0] - x[1], 2);
			assert_true(std >= 0);
		}
		/* var(y) is about 8.4; a good fit is far below */
		printf("# kind %zu held-out mse %.4f\n", k, se / 200);
		assert_true(se / 200 < 0.3);
		forest_free(&f);
	}
}

/* std = sqrt(mean(var_leaf + value^2) - mean^2), var floored. */
static void test_std(void **state)
{
	struct forest f;
	struct forest_options o;
	double x[D] = { 0.5, 0.5, 0.5, 0.5 }, mean, std, sum = 0, sq = 0;
	size_t k;

	(void)state;
	make_data(7, 1.0);
	forest_options_default(&o, FOREST_RANDOM);
	o.n_trees = 16;
	o.tree.min_samples_leaf = 3;
	o.min_variance = 0.01;
	o.seed = 3;
	assert_int_equal(forest_fit(&f, xs, N, D, ys, &o), 0);
	for (k = 0; k < f.n_trees; k++) {
		const struct forest_node *leaf =
			&f.trees[k].nodes[forest_tree_apply(&f.trees[k], x)];

		sum += leaf->value;
		sq += fmax(leaf->impurity, 0.01) + leaf->value * leaf->value;
	}
	forest_predict(&f, x, &mean, &std);
	assert_true(fabs(mean - sum / 16) < 1e-12);
	assert_true(fabs(std - sqrt(sq / 16 - mean * mean)) < 1e-9);
	assert_true(std > 0.1);
	forest_free(&f);
}

/* Constant targets or one sample: a single leaf; constant features are
 * never split on. */
static void test_degenerate(void **state)
{
	struct forest_tree_options o;
	struct forest_tree t = { 0 };
	double x[6] = { 1, 5, 1, 6, 1, 7 }, y[3] = { 2, 2, 2 };
	double y2[3] = { 1, 2, 3 };
	struct forest_data data = { x, 3, 2, y, NULL, NULL };
	struct rng r;

	(void)state;
	rng_seed(&r, 1);
	forest_tree_options_default(&o);
	assert_int_equal(forest_tree_fit(&t, &data, &o, &r), 0);
	assert_int_equal(t.n_nodes, 1);
	assert_true(t.nodes[0].value == 2);
	data.y = y2;
	assert_int_equal(forest_tree_fit(&t, &data, &o, &r), 0);
	check_tree(&t, 2);
	assert_int_equal(t.n_nodes, 5);
	assert_int_equal(t.nodes[0].feature, 1);
	data.n = 1;
	assert_int_equal(forest_tree_fit(&t, &data, &o, &r), 0);
	assert_int_equal(t.n_nodes, 1);
	data.n = 0;
	assert_int_equal(forest_tree_fit(&t, &data, &o, &r), -EINVAL);
	forest_tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_exact),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_random_splitter),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_generalizes),
		cmocka_unit_test(test_std),
		cmocka_unit_test(test_degenerate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
