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

/* Unknown names are passed through to the trial, as Katib does. */
static const struct setting_rule darts_rules[] = {
    {"num_epochs", SETTING_INT, 1, INFINITY, 0, NULL},
    {"w_lr", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"w_lr_min", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"w_momentum", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"w_weight_decay", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"w_grad_clip", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"alpha_lr", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"alpha_weight_decay", SETTING_DOUBLE, 0, INFINITY, 0, NULL},
    {"batch_size", SETTING_INT, 1, INFINITY, SETTING_NONE_OK, NULL},
    {"num_workers", SETTING_INT, 0, INFINITY, 0, NULL},
    {"init_channels", SETTING_INT, 1, INFINITY, 0, NULL},
    {"print_step", SETTING_INT, 1, INFINITY, 0, NULL},
    {"num_nodes", SETTING_INT, 1, INFINITY, 0, NULL},
    {"stem_multiplier", SETTING_INT, 1, INFINITY, 0, NULL},
    {NULL},
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
