/*
 * hyperband.c - Hyperband (Katib's own Python service).
 *
 * Not implemented in katibfs yet (implemented = 0): only the settings are
 * validated, exactly as Katib's service does, so that `katibfs check`
 * accepts and rejects the same specs. Implementing it touches this file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"

#define HB_FIELD "spec.algorithm.algorithmSettings"

static const struct setting_rule hyperband_rules[] = {
    {"resource_name", SETTING_STRING, 0, 0, SETTING_REQUIRED, NULL},
    {"r_l", SETTING_DOUBLE, 0, INFINITY, SETTING_MIN_OPEN | SETTING_REQUIRED,
     NULL},
    {"eta", SETTING_DOUBLE, -INFINITY, INFINITY, 0, NULL},
    {NULL},
};

/* resource_name must name an int or double parameter. */
static int hb_resource_check(const struct experiment_spec *spec,
			     const char *name, struct kb_error *err)
{
	size_t i;

	for (i = 0; i < spec->nparams; i++) {
		if (!spec->params[i].name || strcmp(spec->params[i].name, name))
			continue;
		if (spec->params[i].type == PARAM_INT ||
		    spec->params[i].type == PARAM_DOUBLE)
			return 0;
		return kb_error_set(err, -EINVAL, HB_FIELD "[resource_name]", 0,
				    "parameter '%s' must be int or double to "
				    "carry the resource",
				    name);
	}
	return kb_error_set(err, -EINVAL, HB_FIELD "[resource_name]", 0,
			    "'%s' is not one of spec.parameters", name);
}

/* Katib: eta = int(float(v)), <= 0 means the default 3. */
static int hb_eta(const struct algorithm_spec *a, double *eta,
		  struct kb_error *err)
{
	const struct algorithm_setting *s = setting_find(a, "eta");

	*eta = 3;
	if (!s)
		return 0;
	*eta = trunc(strtod(s->value, NULL));
	if (*eta <= 0)
		*eta = 3;
	if (*eta >= 2)
		return 0;
	return kb_error_set(err, -EINVAL, HB_FIELD "[eta]", 0,
			    "must be >= 2 (or <= 0 for the default 3), got "
			    "'%s'",
			    s->value);
}

static int hyperband_validate(const struct experiment_spec *spec,
			      struct kb_error *err)
{
	const struct algorithm_spec *a = &spec->algorithm;
	double r_l, eta, need;
	int rc, s_max;

	rc = settings_validate(a, hyperband_rules, 0, err);
	if (!rc)
		rc = hb_resource_check(
		    spec, setting_find(a, "resource_name")->value, err);
	if (!rc)
		rc = hb_eta(a, &eta, err);
	if (rc)
		return rc;
	r_l = strtod(setting_find(a, "r_l")->value, NULL);
	s_max = (int)(log(r_l) / log(eta));
	need = ceil(pow(eta, s_max));
	if (spec->parallel_trial_count >= need)
		return 0;
	return kb_error_set(err, -EINVAL, "spec.parallelTrialCount", 0,
			    "hyperband with r_l=%g and eta=%g needs "
			    "parallelTrialCount >= %.0f (eta^s_max, s_max = "
			    "%d), got %d",
			    r_l, eta, need, s_max, spec->parallel_trial_count);
}

const struct algorithm_ops algorithm_hyperband = {
    .name = "hyperband",
    .implemented = 0,
    .validate = hyperband_validate,
};
