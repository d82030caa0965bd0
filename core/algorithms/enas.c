/*
 * enas.c - ENAS neural architecture search (Katib's TensorFlow service).
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

#define POSITIVE_OR_NONE SETTING_MIN_OPEN | SETTING_NONE_OK
#define UNIT		 (SETTING_MIN_OPEN) /* (0, 1] */

static const struct setting_rule enas_rules[] = {
    {"controller_hidden_size", SETTING_INT, 1, INFINITY, 0, NULL},
    {"controller_temperature", SETTING_DOUBLE, 0, INFINITY, POSITIVE_OR_NONE,
     NULL},
    {"controller_tanh_const", SETTING_DOUBLE, 0, INFINITY, POSITIVE_OR_NONE,
     NULL},
    {"controller_entropy_weight", SETTING_DOUBLE, 0, INFINITY, POSITIVE_OR_NONE,
     NULL},
    {"controller_baseline_decay", SETTING_DOUBLE, 0, 1, UNIT, NULL},
    {"controller_learning_rate", SETTING_DOUBLE, 0, 1, UNIT, NULL},
    {"controller_skip_target", SETTING_DOUBLE, 0, 1, UNIT, NULL},
    {"controller_skip_weight", SETTING_DOUBLE, 0, INFINITY, POSITIVE_OR_NONE,
     NULL},
    {"controller_train_steps", SETTING_INT, 1, INFINITY, 0, NULL},
    {"controller_log_every_steps", SETTING_INT, 1, INFINITY, 0, NULL},
    {NULL},
};

static int enas_validate(const struct experiment_spec *spec,
			 struct kb_error *err)
{
	int rc = settings_validate(&spec->algorithm, enas_rules, 0, err);

	return rc ? rc : nas_config_validate(spec, 1, err);
}

const struct algorithm_ops algorithm_enas = {
    .name = "enas",
    .implemented = 0,
    .validate = enas_validate,
};
