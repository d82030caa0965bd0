/*
 * multivariate_tpe.c - multivariate TPE (Katib's optuna
 * TPESampler(multivariate=True) service).
 *
 * Not implemented in katibfs yet (implemented = 0): only the settings are
 * validated, exactly as Katib's service does, so that `katibfs check`
 * accepts and rejects the same specs. Implementing it touches this file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "katib/algorithm.h"

static const struct setting_rule mtpe_rules[] = {
    {"n_startup_trials", SETTING_INT, 0, INFINITY, 0, NULL},
    {"n_ei_candidates", SETTING_INT, 0, INFINITY, 0, NULL},
    {"random_state", SETTING_INT, 0, INFINITY, 0, NULL},
    {NULL},
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

const struct algorithm_ops algorithm_multivariate_tpe = {
    .name = "multivariate-tpe",
    .implemented = 0,
    .validate = mtpe_validate,
};
