/*
 * parzen.h - Tree-structured Parzen Estimators shared by tpe.c and
 * multivariate_tpe.c (core/algorithms/tpe_common.c). Their startup points
 * come from the Sobol sequence (sobol.h), which knows nothing of TPE.
 *
 * The design follows Optuna's TPESampler: observations are split at a
 * gamma quantile of the loss into a "below" (good) and an "above" group;
 * each group is a mixture of truncated Gaussians (plus a prior kernel) in
 * the parameter's internal space (log space for logUniform/logNormal,
 * bins of width step for ints and stepped doubles, category weights for
 * lists). Candidates are drawn from l(x) (below) and the one maximising
 * log l(x) - log g(x) is suggested. Pending trials count as the worst
 * observed loss (a constant liar) so parallel trials spread out.
 *
 * Results depend only on (config, spec, history): the rng is derived from
 * (seed, history size). The cache only memoises parsed history values.
 */
#ifndef KATIB_PARZEN_H
#define KATIB_PARZEN_H

#include <stddef.h>
#include <stdint.h>

#include "katib/algorithm.h"
#include "algorithms/sobol.h" /* the startup points (and test_sobol.c) */

enum tpe_gamma {
	TPE_GAMMA_SQRT, /* below = min(ceil(gamma * sqrt(n)), 25) (hyperopt) */
	TPE_GAMMA_LINEAR, /* below = min(ceil(gamma * n), 25) (optuna) */
};

struct tpe_config {
	int multivariate;
	enum tpe_gamma gamma_kind;
	double gamma;
	double prior_weight;
	int n_candidates;  /* candidates drawn from l(x) per suggestion */
	int n_startup;	   /* trials sampled before the model is used */
	int startup_sobol; /* startup points from a scrambled Sobol sequence */
	uint64_t seed;
};

struct tpe_cache;

struct tpe_cache *tpe_cache_new(void);
void tpe_cache_free(struct tpe_cache *c);

/*
 * Up to `want` assignments into out[] (see algorithm_ops.suggest):
 * the count, or a negative errno with err filled.
 */
int tpe_suggest(struct tpe_cache *c, const struct tpe_config *cfg,
		const struct experiment_spec *spec,
		const struct search_history *h, size_t want, char ***out,
		struct kb_error *err);

/*
 * The algorithm_ops of tpe and multivariate-tpe around tpe_suggest():
 * create() with `cfg` (its seed replaced by seed_restore(spec, state)),
 * then suggest, save ("seed=N") and destroy as the ops take them.
 */
int tpe_algo_create(const struct experiment_spec *spec, const char *state,
		    const struct tpe_config *cfg, void **priv,
		    struct kb_error *err);
int tpe_algo_suggest(void *priv, const struct experiment_spec *spec,
		     const struct search_history *history, size_t want,
		     char ***out, struct kb_error *err);
char *tpe_algo_save(void *priv);
void tpe_algo_destroy(void *priv);

#endif
