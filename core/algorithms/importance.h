/*
 * importance.h - parameter importance of an experiment's search space
 * (core/algorithms/importance.c): its parameters encoded as forest
 * columns the way Optuna's _SearchSpaceTransform does for its fANOVA
 * evaluator, a random forest fitted to the first objective (64 trees,
 * depth 64, split 2, leaf 1: FanovaImportanceEvaluator's), and the
 * fANOVA scores (algorithms/fanova.h), ranked.
 *
 * Encoding: an int, double or discrete parameter is one column, on the
 * log scale when its distribution is logUniform or logNormal (Optuna 3.1
 * keeps log parameters linear here; katibfs follows the "on their
 * log scale"); a categorical one is one 0/1 column per choice. A parameter
 * with a single possible value scores 0 and is left out of the forest, as
 * Optuna does.
 *
 * Ownership: an importance_space owns copies of the names and bounds (it
 * outlives the spec it was made from: a snapshot); an importance_ranking
 * owns its names and scores. Both are freed by their _free().
 */
#ifndef KATIB_IMPORTANCE_H
#define KATIB_IMPORTANCE_H

#include <stddef.h>
#include <stdint.h>

#include "katib/spec.h"
#include "util/strbuf.h"

/* Fewer Succeeded trials with an objective than this: not ranked. */
#define IMPORTANCE_MIN_TRIALS 5
/* Above this many, an evenly spaced sample of this many is used. */
#define IMPORTANCE_MAX_TRIALS 1000

struct importance_space {
	size_t nparams;
	char **names;	      /* nparams */
	size_t *column_start; /* nparams + 1; equal bounds: no column */
	size_t ncolumns;
	double *lo, *hi; /* ncolumns: the box */
};

struct importance_ranking {
	size_t n;
	char **names;	/* most important first */
	double *scores; /* summing to 1 */
};

int importance_space_init(struct importance_space *s,
			  const struct param_spec *params, size_t nparams);
void importance_space_free(struct importance_space *s);

/*
 * One trial's values (strings, one per parameter of params, in order) as
 * a row of s->ncolumns numbers. -EINVAL when a value is not a number,
 * not a choice, or outside the box.
 */
int importance_encode(const struct importance_space *s,
		      const struct param_spec *params, char *const *values,
		      double *row);

/*
 * Rank s's parameters on the rows x (n x s->ncolumns) and objective
 * values y. -EAGAIN with fewer than IMPORTANCE_MIN_TRIALS rows or when
 * the model explains no variation (the objective has not varied yet);
 * -ENOMEM.
 */
int importance_rank(const struct importance_space *s, const double *x,
		    const double *y, size_t n, uint64_t seed,
		    struct importance_ranking *out);

/* Append r to b as "name=score\n" lines, highest first. 0 or -ENOMEM. */
int importance_format(const struct importance_ranking *r, struct strbuf *b);

void importance_ranking_free(struct importance_ranking *r);

#endif
