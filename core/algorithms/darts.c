/*
 * darts.c - DARTS (Katib's pass-through service: the search runs in the trial).
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

#define NONNEG(n) { n, SETTING_DOUBLE, 0, INFINITY, 0, NULL }
#define ATLEAST1(n) { n, SETTING_INT, 1, INFINITY, 0, NULL }

/* Unknown names are passed through to the trial, as Katib does. */
static const struct setting_rule darts_rules[] = {
	ATLEAST1("num_epochs"),
	NONNEG("w_lr"),
	NONNEG("w_lr_min"),
	NONNEG("w_momentum"),
	NONNEG("w_weight_decay"),
	NONNEG("w_grad_clip"),
	NONNEG("alpha_lr"),
	NONNEG("alpha_weight_decay"),
	{ "batch_size", SETTING_INT, 1, INFINITY, SETTING_NONE_OK, NULL },
	{ "num_workers", SETTING_INT, 0, INFINITY, 0, NULL },
	ATLEAST1("init_channels"),
	ATLEAST1("print_step"),
	ATLEAST1("num_nodes"),
	ATLEAST1("stem_multiplier"),
	{ NULL },
};

static int darts_validate(const struct experiment_spec *spec,
			  struct kb_error *err)
{
	int rc = settings_validate(&spec->algorithm, darts_rules, 1, err);

	return rc ? rc : nas_config_validate(spec, 0, err);
}

const struct algorithm_ops algorithm_darts = {
	.name = "darts",
	.implemented = 0,
	.validate = darts_validate,
};
