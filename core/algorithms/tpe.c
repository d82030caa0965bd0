/*
 * tpe.c - Tree-structured Parzen Estimator (Katib's hyperopt.tpe service).
 *
 * Settings as Katib's hyperopt service: gamma (0 < g < 1, default 0.25),
 * prior_weight (> 0, default 1.0), n_EI_candidates (int > 0, default 24),
 * random_state (int >= 0), plus n_startup_trials (int >= 0, default 10:
 * Katib forces hyperopt's n_startup_jobs to the request size instead).
 *
 * The model (core/algorithms/tpe_common.c) is a joint Parzen estimator
 * over all parameters, as multivariate-tpe's: measured on ../shared/bench,
 * the independent per-parameter model of hyperopt/Optuna's default was
 * clearly worse. gamma scales the good group: below = min(ceil(0.4 * gamma
 * * n), 25), so the default 0.25 gives Optuna's 10%. The first
 * n_startup_trials suggestions are scrambled Sobol points. Unlike
 * multivariate-tpe, normal/logNormal parameters are accepted (their prior
 * kernel is the hyperopt normal, sigma = range/6).
 *
 * Owns nothing of its own: its state is tpe_common.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "algorithms/parzen.h"

static const struct setting_rule tpe_rules[] = {
	{ "gamma", SETTING_DOUBLE, 0, 1, SETTING_MIN_OPEN | SETTING_MAX_OPEN,
	  NULL },
	{ "prior_weight", SETTING_DOUBLE, 0, INFINITY, SETTING_MIN_OPEN, NULL },
	{ "n_EI_candidates", SETTING_INT, 1, INFINITY, 0, NULL },
	{ "random_state", SETTING_INT, 0, INFINITY, 0, NULL },
	{ "n_startup_trials", SETTING_INT, 0, INFINITY, 0, NULL },
	{ .name = NULL },
};

static int tpe_validate(const struct experiment_spec *spec,
			struct kb_error *err)
{
	return settings_validate(&spec->algorithm, tpe_rules, 0, err);
}

static double setting_or(const struct experiment_spec *spec, const char *name,
			 double def)
{
	const struct algorithm_setting *s =
		setting_find(&spec->algorithm, name);
	char *end;
	double v;

	if (!s || !s->value)
		return def;
	v = strtod(s->value, &end);
	return end == s->value || *end || !isfinite(v) ? def : v;
}

static int tpe_create(const struct experiment_spec *spec, const char *state,
		      void **priv, struct kb_error *err)
{
	struct tpe_config cfg = {
		.multivariate = 1,
		.startup_sobol = 1,
		.gamma_kind = TPE_GAMMA_LINEAR,
		.gamma = 0.4 * setting_or(spec, "gamma", 0.25),
		.prior_weight = setting_or(spec, "prior_weight", 1.0),
		.n_candidates = (int)setting_or(spec, "n_EI_candidates", 24),
		.n_startup = (int)setting_or(spec, "n_startup_trials", 10),
	};

	return tpe_algo_create(spec, state, &cfg, priv, err);
}

const struct algorithm_ops algorithm_tpe = {
	.name = "tpe",
	.implemented = 1,
	.validate = tpe_validate,
	.create = tpe_create,
	.suggest = tpe_algo_suggest,
	.save = tpe_algo_save,
	.destroy = tpe_algo_destroy,
	.multi_objective = 1,
};
