/*
 * fanova.h - functional ANOVA over a fitted forest (core/algorithms/
 * fanova.c), as Optuna's FanovaImportanceEvaluator (optuna/importance/
 * _fanova/_tree.py) computes it: for each tree, the variance of the
 * tree's prediction marginalized over every other parameter, uniform over
 * the search box, as a fraction of the tree's total variance; averaged
 * over the trees with a variance, then normalized to sum to 1.
 *
 * A parameter is one or more forest columns: a number is one column, a
 * categorical one-hot is one column per choice (bounds [0, 1]), as
 * Optuna's _SearchSpaceTransform encodes it. Computed exactly from the
 * leaves' boxes (a sweep per column, or leaf pairs for several columns)
 * rather than on Optuna's grid of split midpoints: the same numbers,
 * without the grid's cost.
 */
#ifndef KATIB_FANOVA_H
#define KATIB_FANOVA_H

#include <stddef.h>

#include "algorithms/forest.h"

struct fanova_space {
	size_t n_columns;	    /* the forest's features */
	const double *lo, *hi;	    /* n_columns: the search box */
	size_t n_params;	    /* parameters to score */
	const size_t *column_start; /* n_params + 1: parameter p owns the
				     * columns [start[p], start[p + 1]) */
};

/*
 * importance[p] for each parameter of s, summing to 1. -EINVAL for a
 * space that does not fit the forest (or an empty box), -EDOM when no
 * tree varies or no parameter explains any variation (too few distinct
 * trials), -ENOMEM.
 */
int fanova_importance(const struct forest *f, const struct fanova_space *s,
		      double *importance);

#endif
