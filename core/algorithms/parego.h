/*
 * parego.h - ParEGO (Knowles 2006): several objectives optimised by a
 * single-objective algorithm through random scalarisations
 * (core/algorithms/parego.c). bayesianoptimization uses it.
 */
#ifndef KATIB_PAREGO_H
#define KATIB_PAREGO_H

#include <stdint.h>

#include "katib/algorithm.h"

/* A single-objective algorithm_ops.suggest. */
typedef int (*parego_inner_fn)(void *priv, const struct experiment_spec *spec,
			       const struct search_history *history,
			       size_t want, char ***out, struct kb_error *err);

/*
 * algorithm_ops.suggest for several objectives over `inner`: for each of
 * the `want` suggestions, a weight vector drawn uniformly from the simplex
 * (from seed and the suggestion's number), every observed trial's
 * objectives normalised to [0, 1] over the history's range and scalarised
 * by the augmented Tchebycheff function max_j w_j f_j + 0.05 sum_j w_j f_j
 * (minimised); `inner` then suggests one assignment from the history with
 * that scalar as the objective, the batch's earlier suggestions pending.
 * A single-objective spec goes to `inner` unchanged.
 */
int parego_suggest(void *priv, const struct experiment_spec *spec,
		   const struct search_history *history, size_t want,
		   char ***out, struct kb_error *err, parego_inner_fn inner,
		   uint64_t seed);

#endif
