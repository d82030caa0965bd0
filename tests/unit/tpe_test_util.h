/* tpe_test_util.h - spec and history builders for test_tpe.c and
 * test_sobol.c (specs built by hand, as test_algorithm.c does). */
#ifndef TPE_TEST_UTIL_H
#define TPE_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"

#define TU_MAXP 8
#define TU_MAXS 8
#define TU_MAXH 512

struct tu_spec {
	struct experiment_spec spec;
	struct param_spec params[TU_MAXP];
	struct algorithm_setting settings[TU_MAXS];
};

static inline void tu_init(struct tu_spec *t, const char *algorithm)
{
	memset(t, 0, sizeof(*t));
	t->spec.params = t->params;
	t->spec.algorithm.name = (char *)algorithm;
	t->spec.algorithm.settings = t->settings;
	t->spec.parallel_trial_count = 3;
	t->spec.max_trial_count = -1;
	t->spec.max_failed_trial_count = -1;
}

static inline struct param_spec *tu_num(struct tu_spec *t, const char *name,
					enum param_type ty, double min,
					double max, double step,
					enum distribution dist)
{
	struct param_spec *p = &t->params[t->spec.nparams++];

	memset(p, 0, sizeof(*p));
	p->name = (char *)name;
	p->type = ty;
	p->min_value = min;
	p->max_value = max;
	p->step_value = step;
	p->distribution = dist;
	return p;
}

static inline void tu_list(struct tu_spec *t, const char *name, char **list,
			   size_t n)
{
	struct param_spec *p = &t->params[t->spec.nparams++];

	memset(p, 0, sizeof(*p));
	p->name = (char *)name;
	p->type = PARAM_CATEGORICAL;
	p->list = list;
	p->nlist = n;
}

static inline void tu_set(struct tu_spec *t, const char *name,
			  const char *value)
{
	t->settings[t->spec.algorithm.nsettings].name = (char *)name;
	t->settings[t->spec.algorithm.nsettings].value = (char *)value;
	t->spec.algorithm.nsettings++;
}

struct tu_history {
	struct history_trial trials[TU_MAXH];
	struct search_history h;
	size_t nparams;
};

static inline void tu_history_init(struct tu_history *th, size_t nparams)
{
	memset(th, 0, sizeof(*th));
	th->h.trials = th->trials;
	th->nparams = nparams;
}

static inline void tu_history_free(struct tu_history *th)
{
	size_t i;

	for (i = 0; i < th->h.ntrials; i++)
		assignment_values_free(th->trials[i].values, th->nparams);
	th->h.ntrials = 0;
}

/* Append `values` (owned by the history) as pending. */
static inline struct history_trial *tu_add(struct tu_history *th,
					   char **values)
{
	struct history_trial *t = &th->trials[th->h.ntrials++];

	memset(t, 0, sizeof(*t));
	t->values = values;
	t->state = HISTORY_PENDING;
	t->number = (int)th->h.ntrials;
	return t;
}

static inline void tu_complete(struct history_trial *t, double objective)
{
	t->state = HISTORY_SUCCEEDED;
	t->has_objective = 1;
	t->objective = objective;
}

/* 1 if s is a value of p (type, bounds, step, list). */
static inline int tu_feasible(const struct param_spec *p, const char *s)
{
	char *end;
	double v, k, lo;
	size_t i;

	if (!s)
		return 0;
	if (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE) {
		for (i = 0; i < p->nlist; i++)
			if (!strcmp(p->list[i], s))
				return 1;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || *end || v < p->min_value - 1e-12 ||
	    v > p->max_value + 1e-12)
		return 0;
	if (p->type == PARAM_INT && (strchr(s, '.') || strchr(s, 'e')))
		return 0;
	if (p->step_value > 0) {
		lo = p->type == PARAM_INT ? ceil(p->min_value) : p->min_value;
		k = (v - lo) / p->step_value;
		if (fabs(k - nearbyint(k)) > 1e-6)
			return 0;
	}
	return 1;
}

#endif
