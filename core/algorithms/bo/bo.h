/*
 * bo.h - bayesianoptimization's suggestion on values other than the
 * objective (core/algorithms/bayesianoptimization.c), for an algorithm
 * that scalarises several objectives (ParEGO) into one value per trial
 * and lets this Bayesian optimisation propose the next points.
 */
#ifndef KATIB_BO_H
#define KATIB_BO_H

#include <stddef.h>

#include "katib/algorithm.h"

/*
 * bayesianoptimization's suggest() (priv from its create()), modelling
 * y[i] for history trial i, to be MINIMISED (NAN: trial i has no value;
 * pending trials' y are ignored) instead of the objective; y NULL: the
 * objective (negated for maximize), as suggest() does.
 */
int bayesopt_suggest_values(void *priv, const struct experiment_spec *spec,
			    const struct search_history *history,
			    const double *y, size_t want, char ***out,
			    struct kb_error *err);

#endif
