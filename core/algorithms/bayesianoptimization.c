/*
 * bayesianoptimization.c - Bayesian optimisation (Katib's scikit-optimize
 * service).
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

static const char *const estimators[] = {"GP", "RF", "ET", "GBRT", NULL};
static const char *const acq_funcs[] = {"gp_hedge", "LCB",  "EI", "PI",
					"EIps",	    "PIps", NULL};
static const char *const acq_optimizers[] = {"auto", "sampling", "lbfgs", NULL};

static const struct setting_rule bo_rules[] = {
    {"base_estimator", SETTING_CHOICE, 0, 0, 0, estimators},
    {"n_initial_points", SETTING_INT, 0, INFINITY, 0, NULL},
    {"acq_func", SETTING_CHOICE, 0, 0, 0, acq_funcs},
    {"acq_optimizer", SETTING_CHOICE, 0, 0, 0, acq_optimizers},
    {"random_state", SETTING_INT, 0, INFINITY, 0, NULL},
    {NULL},
};

/* skopt samples every double as Real(min, max, "log-uniform"). */
static int bo_param_check(const struct param_spec *p, size_t i,
			  struct kb_error *err)
{
	char field[96];

	if (p->type != PARAM_DOUBLE || p->min_value > 0)
		return 0;
	snprintf(field, sizeof(field), "spec.parameters[%zu].feasibleSpace.min",
		 i);
	return kb_error_set(err, -EINVAL, field, 0,
			    "bayesianoptimization samples double parameters "
			    "on a log scale, so min must be > 0 (parameter "
			    "'%s')",
			    p->name ? p->name : "");
}

static int bo_validate(const struct experiment_spec *spec, struct kb_error *err)
{
	size_t i;
	int rc;

	rc = settings_validate(&spec->algorithm, bo_rules, 0, err);
	for (i = 0; !rc && i < spec->nparams; i++)
		rc = bo_param_check(&spec->params[i], i, err);
	return rc;
}

const struct algorithm_ops algorithm_bayesianoptimization = {
    .name = "bayesianoptimization",
    .implemented = 0,
    .validate = bo_validate,
};
