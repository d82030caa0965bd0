/*
 * multivariate_tpe.c - multivariate TPE (Katib's optuna
 * TPESampler(multivariate=True, constant_liar=True) service).
 *
 * Settings as Katib's optuna service: n_startup_trials (int >= 0, default
 * 10), n_ei_candidates (int >= 0, default 24; 0 draws one candidate),
 * random_state (int >= 0). normal/logNormal parameters are rejected as
 * Katib does (#2666).
 *
 * One joint Parzen mixture over all parameters (core/algorithms/
 * tpe_common.c) with bandwidth 0.1 n^(-1/(d+4)) * range (half Optuna's) and
 * Optuna's default gamma, below = min(ceil(0.1 n), 25); Sobol startup
 * points; a third more candidates drawn near the best trial. Pending
 * trials count as the worst observed loss (constant liar).
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

static const struct setting_rule mtpe_rules[] = {
	{ "n_startup_trials", SETTING_INT, 0, INFINITY, 0, NULL },
	{ "n_ei_candidates", SETTING_INT, 0, INFINITY, 0, NULL },
	{ "random_state", SETTING_INT, 0, INFINITY, 0, NULL },
	{ .name = NULL },
};

/* Optuna has no normal distributions (Katib #2666 fails loudly). */
static int mtpe_param_check(const struct param_spec *p, size_t i,
			    struct kb_error *err)
{
	char field[96];

	if (p->type != PARAM_INT && p->type != PARAM_DOUBLE)
		return 0;
	if (p->distribution != DIST_NORMAL &&
	    p->distribution != DIST_LOG_NORMAL)
		return 0;
	snprintf(field, sizeof(field),
		 "spec.parameters[%zu].feasibleSpace.distribution", i);
	return kb_error_set(err, -EINVAL, field, 0,
			    "multivariate-tpe does not support '%s' "
			    "(parameter '%s'); use uniform or logUniform",
			    p->distribution == DIST_NORMAL ? "normal"
							   : "logNormal",
			    p->name ? p->name : "");
}

static int mtpe_validate(const struct experiment_spec *spec,
			 struct kb_error *err)
{
	size_t i;
	int rc;

	rc = settings_validate(&spec->algorithm, mtpe_rules, 0, err);
	for (i = 0; !rc && i < spec->nparams; i++)
		rc = mtpe_param_check(&spec->params[i], i, err);
	return rc;
}

static long setting_long_or(const struct experiment_spec *spec,
			    const char *name, long def)
{
	const struct algorithm_setting *s =
		setting_find(&spec->algorithm, name);
	long v;

	if (!s || setting_int(s, 0, INT32_MAX, &v, NULL))
		return def;
	return v;
}

static int mtpe_create(const struct experiment_spec *spec, const char *state,
		       void **priv, struct kb_error *err)
{
	struct tpe_config cfg = {
		.multivariate = 1,
		.startup_sobol = 1,
		.gamma_kind = TPE_GAMMA_LINEAR,
		.gamma = 0.1,
		.prior_weight = 1.0,
		.n_candidates =
			(int)setting_long_or(spec, "n_ei_candidates", 24),
		.n_startup = (int)setting_long_or(spec, "n_startup_trials", 10),
	};

	return tpe_algo_create(spec, state, &cfg, priv, err);
}

const struct algorithm_ops algorithm_multivariate_tpe = {
	.name = "multivariate-tpe",
	.implemented = 1,
	.validate = mtpe_validate,
	.create = mtpe_create,
	.suggest = tpe_algo_suggest,
	.save = tpe_algo_save,
	.destroy = tpe_algo_destroy,
	.multi_objective = 1,
};
