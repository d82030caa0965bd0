/*
 * sobol.c - Sobol quasi-random sequence (Katib's goptuna Sobol service).
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

/* Sobol takes no settings. Katib's goptuna validator ignores unknown
 * names; katibfs rejects them (a typo should not pass silently). */
static const struct setting_rule sobol_rules[] = {
    {NULL},
};

static int sobol_validate(const struct experiment_spec *spec,
			  struct kb_error *err)
{
	return settings_validate(&spec->algorithm, sobol_rules, 0, err);
}

const struct algorithm_ops algorithm_sobol = {
    .name = "sobol",
    .implemented = 0,
    .validate = sobol_validate,
};
