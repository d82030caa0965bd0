/*
 * medianstop.h - what the median stopping rule (medianstop.c) exposes
 * beyond its early_stopping_ops: its settings, for views that draw the
 * rule (core/views/plot_curves.c).
 */
#ifndef KATIB_MEDIANSTOP_H
#define KATIB_MEDIANSTOP_H

#include "katib/spec.h"

/* The rule's min_trials_required and start_step for spec, defaults
 * filled in as the rule applies them. */
void medianstop_settings(const struct experiment_spec *spec, long *min_trials,
			 long *start_step);

#endif
