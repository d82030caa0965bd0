/*
 * pareto.h - Pareto dominance, the non-dominated front kept as points
 * arrive, and hypervolume (core/algorithms/pareto.c), for multi-objective
 * experiments (katibfs/objectives): the experiment's pareto.csv and the
 * multi-objective TPE's split of the history.
 *
 * Every vector here is a loss: each objective minimised (a maximised one
 * is negated by the caller). Points are m doubles, stored row after row.
 */
#ifndef KATIB_PARETO_H
#define KATIB_PARETO_H

#include <stddef.h>

/* 1 if a dominates b: no worse in every objective, better in one. */
int pareto_dominates(const double *a, const double *b, size_t m);

/*
 * The non-domination rank of the n points (0: dominated by none; 1: only
 * by rank-0 points; ...) into rank[], rank after rank until at least
 * `need` points have one (n: all); the others get -1. Returns the number
 * of ranks assigned. O(n^2 m) per rank.
 */
int pareto_ranks(const double *pts, size_t n, size_t m, size_t need, int *rank);

/*
 * The hypervolume the n points dominate up to the reference point ref
 * (exact; points not better than ref in every objective add nothing).
 * O(n log n) for m = 2, slicing (O(n^(m-1) log n)) above. NAN on ENOMEM.
 */
double hypervolume(const double *pts, size_t n, size_t m, const double *ref);

/*
 * Optuna's reference point for a set: per objective, the worst value w
 * moved outwards by 10% (max(1.1 w, 0.9 w)), and a small positive number
 * where that is 0.
 */
void pareto_reference(const double *pts, size_t n, size_t m, double *ref);

/*
 * Each point's exclusive hypervolume contribution (the volume only it
 * dominates) into contrib[]. 0 or -ENOMEM.
 */
int hypervolume_contributions(const double *pts, size_t n, size_t m,
			      const double *ref, double *contrib);

/*
 * Greedy hypervolume subset selection: k of the n points, each step the
 * one adding the most hypervolume to those chosen so far (a 1 - 1/e
 * approximation). Indices into chosen[0..k-1]. 0 or -ENOMEM.
 */
int hypervolume_select(const double *pts, size_t n, size_t m, const double *ref,
		       size_t k, size_t *chosen);

/*
 * The non-dominated points seen so far, each with an id (a trial number),
 * kept in increasing id order. Adding a point is O(front * m). Points with
 * equal vectors are all kept (neither dominates). Owns its arrays.
 */
struct pareto_front {
	size_t m, n, cap;
	int *ids;
	double *loss; /* n * m */
};

void pareto_front_init(struct pareto_front *f, size_t m);
void pareto_front_free(struct pareto_front *f);
/* Forget every point (m kept). */
void pareto_front_clear(struct pareto_front *f);
/* 1 if (id, loss) joined the front (dropping those it dominates), 0 if a
 * point of the front dominates it, -ENOMEM. */
int pareto_front_add(struct pareto_front *f, int id, const double *loss);
/* 1 if id is on the front. */
int pareto_front_contains(const struct pareto_front *f, int id);

#endif
