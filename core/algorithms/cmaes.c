/*
 * cmaes.c - CMA-ES (Katib's goptuna CMA-ES service).
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

static const char *const restart_strategies[] = {"ipop", "bipop", "none", NULL};

static const struct setting_rule cmaes_rules[] = {
    {"random_state", SETTING_INT, 0, INFINITY, 0, NULL},
    {"sigma", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"restart_strategy", SETTING_CHOICE, 0, 0, 0, restart_strategies},
    {NULL},
};

/* Goptuna: at least two int/double parameters, names unique. */
static int cmaes_params_check(const struct experiment_spec *spec,
			      struct kb_error *err)
{
	size_t i, j, numeric = 0;
	char field[64];

	for (i = 0; i < spec->nparams; i++) {
		if (spec->params[i].type == PARAM_INT ||
		    spec->params[i].type == PARAM_DOUBLE)
			numeric++;
		for (j = 0; j < i; j++) {
			if (!spec->params[i].name || !spec->params[j].name ||
			    strcmp(spec->params[i].name, spec->params[j].name))
				continue;
			snprintf(field, sizeof(field),
				 "spec.parameters[%zu].name", i);
			return kb_error_set(err, -EINVAL, field, 0,
					    "duplicate parameter name '%s'",
					    spec->params[i].name);
		}
	}
	if (numeric >= 2)
		return 0;
	return kb_error_set(err, -EINVAL, "spec.parameters", 0,
			    "cmaes needs at least 2 int or double parameters, "
			    "found %zu",
			    numeric);
}

static int cmaes_validate(const struct experiment_spec *spec,
			  struct kb_error *err)
{
	int rc = settings_validate(&spec->algorithm, cmaes_rules, 0, err);

	return rc ? rc : cmaes_params_check(spec, err);
}

const struct algorithm_ops algorithm_cmaes = {
    .name = "cmaes",
    .implemented = 0,
    .validate = cmaes_validate,
};
