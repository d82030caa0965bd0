/*
 * hyperband.c - Hyperband (Katib's own Python service), ending cleanly.
 *
 * As Katib's service: s_max = int(log(r_l) / log(eta)), b_l = (s_max + 1)
 * r_l, brackets s = s_max .. 0 with n = ceil((s_max + 1) eta^s / (s + 1))
 * and r = r_l eta^-s. The master rung of a bracket samples n assignments
 * uniformly in [min, max] (int rounded, lists uniform) with resource_name
 * set to int(r); child rung i takes the top ceil(n_{i-1} / eta) trials of
 * the previous rung, once all of it has finished, with the resource set to
 * int(r eta^i). Trials of a rung that failed take no part in the ranking.
 *
 * Differences from Katib: n is the bracket's own n (Katib overwrites it with
 * the request size); when the last bracket is done suggest() returns 0 and
 * the experiment ends (Katib stalls, #1168, #1366); a rung is emitted over
 * as many requests as it takes. While a rung waits for its trials,
 * suggest() returns fewer than asked (the controller asks again as each
 * trial ends: trial_finish() in core/engine/controller.c).
 *
 * State (JSON, save()/create()): the seed, the bracket (s, i, n, r), the
 * trial numbers of the current rung, the assignments of a child rung still
 * to emit, the master samples left, and whether the search is over.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "katib/algorithm.h"

#define HB_FIELD "spec.algorithm.algorithmSettings"

static const struct setting_rule hyperband_rules[] = {
	{ "resource_name", SETTING_STRING, 0, 0, SETTING_REQUIRED, NULL },
	{ "r_l", SETTING_DOUBLE, 0, INFINITY,
	  SETTING_MIN_OPEN | SETTING_REQUIRED, NULL },
	{ "eta", SETTING_DOUBLE, -INFINITY, INFINITY, 0, NULL },
	{ .name = NULL },
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

/*
 * Katib's service reads eta twice, differently: its validator checks
 * parallelTrialCount with int(float(v)), its brackets use float(v). Both
 * agree only on whole numbers, so a fractional eta is refused rather than
 * truncated. <= 0 means the default 3 in both.
 */
static int hb_eta(const struct algorithm_spec *a, double *eta,
		  struct kb_error *err)
{
	const struct algorithm_setting *s = setting_find(a, "eta");
	double v;

	*eta = 3;
	if (!s)
		return 0;
	v = strtod(s->value, NULL);
	if (v <= 0)
		return 0;
	if (v < 2)
		return kb_error_set(err, -EINVAL, HB_FIELD "[eta]", 0,
				    "must be >= 2 (or <= 0 for the default "
				    "3), got '%s'",
				    s->value);
	if (v != floor(v))
		return kb_error_set(
			err, -EINVAL, HB_FIELD "[eta]", 0,
			"must be a whole number, got '%s': Katib's hyperband "
			"checks parallelTrialCount with int(eta) = %.0f but "
			"builds its brackets with eta = %s, so no run matches "
			"both; use %.0f or %.0f",
			s->value, floor(v), s->value, floor(v), ceil(v));
	*eta = v;
	return 0;
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

struct hb_priv {
	uint64_t seed;
	uint64_t samples; /* master samples drawn so far */
	double eta, r_l;
	int s_max, s, i; /* current bracket and rung */
	int n;		 /* the bracket's n */
	double r;	 /* the bracket's r */
	int done;
	int master_left; /* master samples still to emit */
	int *rung;	 /* trial numbers of the current rung */
	size_t nrung;
	char ***queue; /* child assignments still to emit */
	size_t nqueue, qhead;
	size_t nparams, resource;
};

static uint64_t hb_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A seed derived from the experiment's name (Katib's hyperband has no
 * random_state): the same spec gives the same trials. */
static uint64_t hb_name_seed(const struct experiment_spec *spec)
{
	const char *p = spec->name ? spec->name : "";
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return hb_mix64(h);
}

static void hb_bracket(struct hb_priv *p)
{
	p->i = 0;
	if (p->s < 0) {
		p->done = 1;
		p->master_left = 0;
		return;
	}
	p->n = (int)ceil((double)(p->s_max + 1) * pow(p->eta, p->s) /
			 (double)(p->s + 1));
	p->r = p->r_l * pow(p->eta, -p->s);
	p->master_left = p->n;
}

static void hb_queue_clear(struct hb_priv *p)
{
	size_t k;

	for (k = p->qhead; k < p->nqueue; k++)
		assignment_values_free(p->queue[k], p->nparams);
	free(p->queue);
	p->queue = NULL;
	p->nqueue = p->qhead = 0;
}

static void hyperband_destroy(void *priv)
{
	struct hb_priv *p = priv;

	if (!p)
		return;
	hb_queue_clear(p);
	free(p->rung);
	free(p);
}

static int hb_rung_add(struct hb_priv *p, int number)
{
	int *r = realloc(p->rung, (p->nrung + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	p->rung = r;
	p->rung[p->nrung++] = number;
	return 0;
}

/* ---- state ---- */

static int hb_load_queue(struct hb_priv *p, const cJSON *q)
{
	const cJSON *a, *v;
	size_t k;

	cJSON_ArrayForEach(a, q)
	{
		char ***nq = realloc(p->queue, (p->nqueue + 1) * sizeof(*nq));

		if (!nq)
			return -ENOMEM;
		p->queue = nq;
		p->queue[p->nqueue] = calloc(p->nparams + 1, sizeof(char *));
		if (!p->queue[p->nqueue])
			return -ENOMEM;
		k = 0;
		cJSON_ArrayForEach(v, a)
		{
			if (k < p->nparams && cJSON_IsString(v))
				p->queue[p->nqueue][k] = strdup(v->valuestring);
			if (k < p->nparams && !p->queue[p->nqueue][k])
				return -ENOMEM;
			k++;
		}
		p->nqueue++;
		if (k != p->nparams)
			return -EINVAL;
	}
	return 0;
}

static int hb_json_int(const cJSON *o, const char *key, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valueint : def;
}

static int hb_load(struct hb_priv *p, const char *state)
{
	cJSON *j = cJSON_Parse(state), *v;
	int rc = -EINVAL;

	if (!j)
		return -EINVAL;
	v = cJSON_GetObjectItemCaseSensitive(j, "seed");
	if (!cJSON_IsString(v) ||
	    sscanf(v->valuestring, "%lu", (unsigned long *)&p->seed) != 1)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(j, "samples");
	if (cJSON_IsString(v))
		p->samples = strtoull(v->valuestring, NULL, 10);
	p->s = hb_json_int(j, "s", p->s_max);
	p->i = hb_json_int(j, "i", 0);
	p->done = hb_json_int(j, "done", 0);
	hb_bracket(p);
	p->done = hb_json_int(j, "done", 0);
	p->i = hb_json_int(j, "i", 0);
	p->master_left = hb_json_int(j, "master_left", 0);
	rc = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(
				      j, "rung")) if (!rc && cJSON_IsNumber(v))
		rc = hb_rung_add(p, v->valueint);
	if (!rc)
		rc = hb_load_queue(
			p, cJSON_GetObjectItemCaseSensitive(j, "queue"));
out:
	cJSON_Delete(j);
	return rc;
}

static char *hyperband_save(void *priv)
{
	struct hb_priv *p = priv;
	cJSON *j = cJSON_CreateObject(), *a, *q;
	char buf[32], *s = NULL;
	size_t k, m;

	if (!j)
		return NULL;
	snprintf(buf, sizeof(buf), "%lu", (unsigned long)p->seed);
	cJSON_AddStringToObject(j, "seed", buf);
	snprintf(buf, sizeof(buf), "%lu", (unsigned long)p->samples);
	cJSON_AddStringToObject(j, "samples", buf);
	/* Katib's status.algorithmSettings names, for readers */
	cJSON_AddNumberToObject(j, "s_max", p->s_max);
	cJSON_AddNumberToObject(j, "b_l", (p->s_max + 1) * p->r_l);
	cJSON_AddNumberToObject(j, "n", p->n);
	cJSON_AddNumberToObject(j, "r", p->r);
	cJSON_AddNumberToObject(j, "s", p->s);
	cJSON_AddNumberToObject(j, "i", p->i);
	cJSON_AddNumberToObject(j, "done", p->done);
	cJSON_AddNumberToObject(j, "master_left", p->master_left);
	a = cJSON_AddArrayToObject(j, "rung");
	for (k = 0; a && k < p->nrung; k++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(p->rung[k]));
	a = cJSON_AddArrayToObject(j, "queue");
	for (k = p->qhead; a && k < p->nqueue; k++) {
		q = cJSON_CreateArray();
		for (m = 0; q && m < p->nparams; m++)
			cJSON_AddItemToArray(
				q, cJSON_CreateString(p->queue[k][m]));
		cJSON_AddItemToArray(a, q);
	}
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static size_t hb_resource_index(const struct experiment_spec *spec)
{
	const char *name =
		setting_find(&spec->algorithm, "resource_name")->value;
	size_t i;

	for (i = 0; i < spec->nparams; i++)
		if (spec->params[i].name && !strcmp(spec->params[i].name, name))
			return i;
	return 0;
}

static int hyperband_create(const struct experiment_spec *spec,
			    const char *state, void **priv,
			    struct kb_error *err)
{
	struct hb_priv *p;
	int rc;

	rc = hyperband_validate(spec, err);
	if (rc)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	hb_eta(&spec->algorithm, &p->eta, NULL);
	p->r_l = strtod(setting_find(&spec->algorithm, "r_l")->value, NULL);
	p->s_max = (int)(log(p->r_l) / log(p->eta));
	p->nparams = spec->nparams;
	p->resource = hb_resource_index(spec);
	p->seed = hb_name_seed(spec);
	p->s = p->s_max;
	hb_bracket(p);
	if (state && *state) {
		hyperband_destroy(p);
		p = calloc(1, sizeof(*p));
		if (!p)
			return kb_error_set(err, -ENOMEM, NULL, 0,
					    "out of memory");
		hb_eta(&spec->algorithm, &p->eta, NULL);
		p->r_l = strtod(setting_find(&spec->algorithm, "r_l")->value,
				NULL);
		p->s_max = (int)(log(p->r_l) / log(p->eta));
		p->nparams = spec->nparams;
		p->resource = hb_resource_index(spec);
		rc = hb_load(p, state);
		if (rc) {
			hyperband_destroy(p);
			return kb_error_set(err, rc, NULL, 0,
					    "hyperband: cannot restore the "
					    "saved state");
		}
	}
	*priv = p;
	return 0;
}

/* ---- suggestions ---- */

static char *hb_resource_value(double r)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", (long)r); /* Katib: str(int(r)) */
	return strdup(buf);
}

/* Katib's master bracket: uniform in [min, max], whatever the
 * distribution; lists uniformly. */
static char *hb_sample(const struct param_spec *ps, struct rng *r)
{
	double u = rng_uniform(r);

	if (ps->type == PARAM_CATEGORICAL || ps->type == PARAM_DISCRETE) {
		if (!ps->nlist)
			return NULL;
		return strdup(
			ps->list[(size_t)(u * (double)ps->nlist) % ps->nlist]);
	}
	return param_format(ps, ps->min_value +
					u * (ps->max_value - ps->min_value));
}

static char **hb_master(struct hb_priv *p, const struct experiment_spec *spec)
{
	char **v = calloc(spec->nparams + 1, sizeof(*v));
	struct rng r;
	size_t k;

	if (!v)
		return NULL;
	rng_seed(&r, p->seed ^ hb_mix64(p->samples++ + 0x9e3779b97f4a7c15ULL));
	for (k = 0; k < spec->nparams; k++) {
		v[k] = k == p->resource ? hb_resource_value(p->r)
					: hb_sample(&spec->params[k], &r);
		if (!v[k]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

static const struct history_trial *hb_find(const struct search_history *h,
					   int number)
{
	size_t k;

	if (number >= 1 && (size_t)number <= h->ntrials &&
	    h->trials[number - 1].number == number)
		return &h->trials[number - 1];
	for (k = 0; k < h->ntrials; k++)
		if (h->trials[k].number == number)
			return &h->trials[k];
	return NULL;
}

/* 1 while some trial of the rung has not finished (or, emitted by this very
 * call, is not in the history yet). */
static int hb_rung_pending(const struct hb_priv *p,
			   const struct search_history *h)
{
	const struct history_trial *t;
	size_t k;

	for (k = 0; k < p->nrung; k++) {
		t = hb_find(h, p->rung[k]);
		if (!t || t->state == HISTORY_PENDING)
			return 1;
	}
	return 0;
}

struct hb_ranked {
	const struct history_trial *t;
	int maximize;
};

static int hb_cmp(const void *a, const void *b)
{
	const struct hb_ranked *x = a, *y = b;
	double u = x->t->objective, v = y->t->objective;

	if (u == v)
		return (x->t->number > y->t->number) -
		       (x->t->number < y->t->number);
	if (x->maximize)
		return u > v ? -1 : 1;
	return u < v ? -1 : 1;
}

/* The finished trials of the rung with an objective, best first. */
static size_t hb_rank(const struct hb_priv *p, const struct search_history *h,
		      int maximize, struct hb_ranked *out)
{
	const struct history_trial *t;
	size_t k, n = 0;

	for (k = 0; k < p->nrung; k++) {
		t = hb_find(h, p->rung[k]);
		if (!t || !t->has_objective ||
		    (t->state != HISTORY_SUCCEEDED &&
		     t->state != HISTORY_EARLY_STOPPED))
			continue;
		out[n].t = t;
		out[n++].maximize = maximize;
	}
	qsort(out, n, sizeof(*out), hb_cmp);
	return n;
}

static char **hb_copy(const struct hb_priv *p, const struct history_trial *t,
		      double r_i)
{
	char **v = calloc(p->nparams + 1, sizeof(*v));
	size_t k;

	for (k = 0; v && k < p->nparams; k++) {
		v[k] = k == p->resource ? hb_resource_value(r_i)
					: strdup(t->values[k]);
		if (!v[k]) {
			assignment_values_free(v, p->nparams);
			return NULL;
		}
	}
	return v;
}

/* The next child rung from the finished rung: top ceil(n_i / eta). */
static int hb_child(struct hb_priv *p, const struct search_history *h,
		    int maximize)
{
	struct hb_ranked *ranked;
	size_t n, top, k;
	double n_i = ceil(p->n * pow(p->eta, -p->i)), r_i;

	ranked = calloc(p->nrung + 1, sizeof(*ranked));
	if (!ranked)
		return -ENOMEM;
	n = hb_rank(p, h, maximize, ranked);
	top = (size_t)ceil(n_i / p->eta);
	if (top > n)
		top = n;
	p->i++;
	r_i = (double)(long)(p->r * pow(p->eta, p->i));
	hb_queue_clear(p);
	p->queue = calloc(top + 1, sizeof(*p->queue));
	for (k = 0; p->queue && k < top; k++) {
		p->queue[k] = hb_copy(p, ranked[k].t, r_i);
		if (!p->queue[k])
			break;
		p->nqueue++;
	}
	free(ranked);
	if (!p->queue || p->nqueue < top)
		return -ENOMEM;
	if (!top) /* nothing of the rung finished well: next bracket */
		p->i = p->s;
	return 0;
}

/* The rung is emitted and finished: next rung or next bracket. */
static int hb_advance(struct hb_priv *p, const struct search_history *h,
		      int maximize)
{
	int rc = 0;

	if (p->i < p->s)
		rc = hb_child(p, h, maximize);
	else
		p->i = p->s;
	if (!rc && !p->nqueue) {
		p->s--;
		hb_bracket(p);
	}
	free(p->rung);
	p->rung = NULL;
	p->nrung = 0;
	return rc;
}

static int hb_next_number(const struct search_history *h)
{
	int max = 0;
	size_t k;

	for (k = 0; k < h->ntrials; k++)
		if (h->trials[k].number > max)
			max = h->trials[k].number;
	return max + 1;
}

/* One assignment, or NULL with *rc 0 when nothing can be emitted now. */
static char **hb_next(struct hb_priv *p, const struct experiment_spec *spec,
		      const struct search_history *h, int *rc)
{
	char **v;

	*rc = 0;
	while (!p->done) {
		if (p->master_left > 0) {
			v = hb_master(p, spec);
			if (v)
				p->master_left--;
			*rc = v ? 0 : -ENOMEM;
			return v;
		}
		if (p->qhead < p->nqueue) {
			v = p->queue[p->qhead];
			p->queue[p->qhead++] = NULL;
			if (p->qhead == p->nqueue)
				hb_queue_clear(p);
			return v;
		}
		if (hb_rung_pending(p, h))
			return NULL;
		*rc = hb_advance(p, h, spec->objective.maximize);
		if (*rc)
			return NULL;
	}
	return NULL;
}

static int hyperband_suggest(void *priv, const struct experiment_spec *spec,
			     const struct search_history *history, size_t want,
			     char ***out, struct kb_error *err)
{
	struct hb_priv *p = priv;
	int next = hb_next_number(history), rc = 0;
	size_t n = 0;
	char **v;

	while (n < want) {
		v = hb_next(p, spec, history, &rc);
		if (!v)
			break;
		rc = hb_rung_add(p, next + (int)n);
		out[n++] = v;
		if (rc)
			break;
	}
	if (rc) {
		while (n)
			assignment_values_free(out[--n], spec->nparams);
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	return (int)n;
}

const struct algorithm_ops algorithm_hyperband = {
	.name = "hyperband",
	.implemented = 1,
	.validate = hyperband_validate,
	.create = hyperband_create,
	.suggest = hyperband_suggest,
	.save = hyperband_save,
	.destroy = hyperband_destroy,
	.foreign_refused =
		"hyperband decides every trial's resource budget by its "
		"brackets and rungs; a trial from outside has no place in them",
};
