/*
 * tpe.c - Tree-structured Parzen Estimator (Katib's hyperopt.tpe service).
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

static const struct setting_rule tpe_rules[] = {
    {"gamma", SETTING_DOUBLE, 0, 1, SETTING_MIN_OPEN | SETTING_MAX_OPEN, NULL},
    {"prior_weight", SETTING_DOUBLE, 0, INFINITY, SETTING_MIN_OPEN, NULL},
    {"n_EI_candidates", SETTING_INT, 1, INFINITY, 0, NULL},
    {"random_state", SETTING_INT, 0, INFINITY, 0, NULL},
    {NULL},
};

static int tpe_validate(const struct experiment_spec *spec,
			struct kb_error *err)
{
	return settings_validate(&spec->algorithm, tpe_rules, 0, err);
}

const struct algorithm_ops algorithm_tpe = {
    .name = "tpe",
    .implemented = 0,
    .validate = tpe_validate,
};
