/*
 * pbt.c - Population Based Training (Katib's own Python service).
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

static const struct setting_rule pbt_rules[] = {
    {"suggestion_trial_dir", SETTING_STRING, 0, 0, SETTING_REQUIRED, NULL},
    {"n_population", SETTING_INT, 5, INFINITY, SETTING_REQUIRED, NULL},
    {"truncation_threshold", SETTING_DOUBLE, 0, 1, SETTING_REQUIRED, NULL},
    {"resample_probability", SETTING_DOUBLE, 0, 1, 0, NULL},
    {NULL},
};

/* PBT samples int/double from arange(min, max + step/2, step). */
static int pbt_param_check(const struct param_spec *p, size_t i,
			   struct kb_error *err)
{
	char field[96];

	if ((p->type != PARAM_INT && p->type != PARAM_DOUBLE) ||
	    p->step_value > 0)
		return 0;
	snprintf(field, sizeof(field),
		 "spec.parameters[%zu].feasibleSpace.step", i);
	return kb_error_set(err, -EINVAL, field, 0,
			    "pbt needs a step for int and double parameters "
			    "('%s')",
			    p->name ? p->name : "");
}

static int pbt_validate(const struct experiment_spec *spec,
			struct kb_error *err)
{
	size_t i;
	int rc;

	rc = settings_validate(&spec->algorithm, pbt_rules, 0, err);
	for (i = 0; !rc && i < spec->nparams; i++)
		rc = pbt_param_check(&spec->params[i], i, err);
	return rc;
}

const struct algorithm_ops algorithm_pbt = {
    .name = "pbt",
    .implemented = 0,
    .validate = pbt_validate,
};
