/*
 * pbt.c - Population Based Training (Katib's own Python service).
 *
 * As Katib's PbtJobQueue: the first n_population trials sample the space
 * (int/double from arange(min, max + step/2, step), lists uniformly);
 * finished trials join the "current" pool; once it holds more than
 * n_population members the next generation is spawned from it (the
 * bottom truncation_threshold quantile exploits, the rest explores),
 * otherwise requests are served from the previous generation (or, before
 * there is one, from the base space). Explore perturbs every value by
 * x0.8 or x1.2 (ints as int(int(v) * factor), off the step grid as in
 * Katib, so width 32 with step 16 can become 25 or 38; both clamped to
 * [min, max]; lists: +-1 index, wrapping as Python indexes do) or, with
 * resample_probability set, resamples each value with that probability.
 * Failed trials (and early stopped ones without a value) are queued again
 * with the same values, generation and parent.
 *
 * Checkpoints: every trial has <trial_dir>/checkpoint; prepare_trial()
 * has the backend fill it with a copy of the parent's (<experiment
 * dir>/<parent number>/checkpoint; backend op copy_checkpoint, which the
 * local backend has and the kubernetes one has not: there a trial starts
 * from no checkpoint), rewrites every occurrence
 * of suggestion_trial_dir in argv, env values and workingDir to it, and
 * sets KATIB_PBT_GENERATION, KATIB_PBT_PARENT and KATIB_PBT_CHECKPOINT_DIR.
 *
 * Deviations from Katib: an exploiting trial copies the top member's
 * values AND checkpoint (Katib copies the values but keeps its own
 * checkpoint as parent, which is not what PBT prescribes);
 * resample_probability is validated as a number (Katib compares a string
 * with ints); a request never gets fewer assignments than asked.
 *
 * State (JSON, save()/create()): seed and draw counter, every job (trial
 * number, generation, parent, value, processed), the queue and the pools.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "katib/algorithm.h"
#include "katib/backend.h"

static const struct setting_rule pbt_rules[] = {
	{ "suggestion_trial_dir", SETTING_STRING, 0, 0, SETTING_REQUIRED,
	  NULL },
	{ "n_population", SETTING_INT, 5, INFINITY, SETTING_REQUIRED, NULL },
	{ "truncation_threshold", SETTING_DOUBLE, 0, 1, SETTING_REQUIRED,
	  NULL },
	{ "resample_probability", SETTING_DOUBLE, 0, 1, 0, NULL },
	{ .name = NULL },
};

/*
 * PBT samples int/double from arange(min, max + step/2, step). An int
 * without a step takes 1, as Katib's search space does; a double has
 * none to take (Katib's service fails on float("")).
 */
static int pbt_param_check(const struct param_spec *p, size_t i,
			   struct kb_error *err)
{
	char field[96];

	if (p->type != PARAM_DOUBLE || p->step_value > 0)
		return 0;
	snprintf(field, sizeof(field),
		 "spec.parameters[%zu].feasibleSpace.step", i);
	return kb_error_set(err, -EINVAL, field, 0,
			    "pbt needs a step for double parameters ('%s'); "
			    "an int without one takes 1",
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

/* ---- state ---- */

struct pbt_job {
	int number; /* trial number */
	int generation;
	int parent;    /* trial number, 0 = none */
	int processed; /* its end was taken into account */
	double metric; /* objective, scaled so that larger is better */
};

struct pbt_queued {
	char **values;
	int generation;
	int parent;
};

struct pbt_priv {
	uint64_t seed, draws;
	long population;
	double truncation, resample; /* resample < 0: perturb */
	char *trial_dir; /* suggestion_trial_dir, trailing '/' cut */
	size_t nparams;
	int seeded;
	struct pbt_job *jobs;
	size_t njobs;
	struct pbt_queued *queue;
	size_t nqueue;
	int *previous, *current;
	size_t nprevious, ncurrent;
	struct rng rng; /* re-seeded from (seed, draws) per use */
	const struct backend_ops *backend; /* NULL: the local backend */
	void *backend_priv;
};

static uint64_t pbt_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A fresh stream per use: reproducible across save()/create(). */
static struct rng *pbt_rng(struct pbt_priv *p)
{
	rng_seed(&p->rng, p->seed ^ pbt_mix64(++p->draws));
	return &p->rng;
}

static uint64_t pbt_seed(const struct experiment_spec *spec)
{
	const char *s = spec->name ? spec->name : "";
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return pbt_mix64(h ^ 0x5bd1e995);
}

static void pbt_destroy(void *priv)
{
	struct pbt_priv *p = priv;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nqueue; i++)
		assignment_values_free(p->queue[i].values, p->nparams);
	free(p->queue);
	free(p->jobs);
	free(p->previous);
	free(p->current);
	free(p->trial_dir);
	free(p);
}

static int int_push(int **a, size_t *n, int v)
{
	int *b = realloc(*a, (*n + 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	*a = b;
	b[(*n)++] = v;
	return 0;
}

/* Takes ownership of values. */
static int pbt_enqueue(struct pbt_priv *p, char **values, int generation,
		       int parent)
{
	struct pbt_queued *q = realloc(p->queue, (p->nqueue + 1) * sizeof(*q));

	if (!q) {
		assignment_values_free(values, p->nparams);
		return -ENOMEM;
	}
	p->queue = q;
	q[p->nqueue].values = values;
	q[p->nqueue].generation = generation;
	q[p->nqueue++].parent = parent;
	return 0;
}

static struct pbt_job *pbt_job(struct pbt_priv *p, int number)
{
	size_t i;

	for (i = 0; i < p->njobs; i++)
		if (p->jobs[i].number == number)
			return &p->jobs[i];
	return NULL;
}

static int pbt_job_add(struct pbt_priv *p, const struct pbt_job *j)
{
	struct pbt_job *b = realloc(p->jobs, (p->njobs + 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	p->jobs = b;
	b[p->njobs++] = *j;
	return 0;
}

/* ---- sampling and perturbing ---- */

/* Katib: np.arange(min, max + step/2, step), as int for int. */
static size_t pbt_arange_len(const struct param_spec *ps)
{
	double step = ps->step_value > 0 ? ps->step_value : 1;
	double n = ceil((ps->max_value + step / 2 - ps->min_value) / step);

	return n < 1 ? 1 : (size_t)n;
}

/* A perturbed value leaves the step grid, as in Katib: ints are
 * int(int(v) * factor), doubles v * factor, both only clamped. */
static char *pbt_format_free(const struct param_spec *ps, double v)
{
	struct param_spec q = *ps;

	q.step_value = 0;
	return param_format(&q, v);
}

static char *pbt_sample(const struct param_spec *ps, struct rng *r)
{
	size_t n;
	double v;

	if (ps->type == PARAM_CATEGORICAL || ps->type == PARAM_DISCRETE)
		return ps->nlist ? strdup(ps->list[rng_next(r) % ps->nlist])
				 : NULL;
	n = pbt_arange_len(ps);
	v = ps->min_value + (double)(rng_next(r) % n) *
				    (ps->step_value > 0 ? ps->step_value : 1);
	if (ps->type == PARAM_INT)
		v = trunc(v);
	return param_format(ps, v);
}

static char *pbt_perturb(const struct param_spec *ps, const char *value,
			 struct rng *r)
{
	double f = (rng_next(r) & 1) ? 1.2 : 0.8, v;
	size_t i;
	long idx;

	if (ps->type == PARAM_CATEGORICAL || ps->type == PARAM_DISCRETE) {
		for (i = 0; i < ps->nlist; i++)
			if (!strcmp(ps->list[i], value))
				break;
		if (i == ps->nlist)
			i = 0;
		idx = (long)i + ((rng_next(r) & 1) ? 1 : -1);
		if (idx >= (long)ps->nlist)
			idx = 0;
		if (idx < 0) /* Python: list[-1] */
			idx = (long)ps->nlist - 1;
		return strdup(ps->list[idx]);
	}
	v = strtod(value, NULL);
	if (ps->type == PARAM_INT)
		v = trunc(trunc(v) * f);
	else
		v *= f;
	if (v < ps->min_value)
		v = ps->min_value;
	if (v > ps->max_value)
		v = ps->max_value;
	return pbt_format_free(ps, v);
}

static char **pbt_values_new(size_t n)
{
	return calloc(n + 1, sizeof(char *));
}

static char **pbt_base(struct pbt_priv *p, const struct experiment_spec *spec)
{
	char **v = pbt_values_new(spec->nparams);
	struct rng *r = pbt_rng(p);
	size_t i;

	for (i = 0; v && i < spec->nparams; i++) {
		v[i] = pbt_sample(&spec->params[i], r);
		if (!v[i]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

static char **pbt_explore(struct pbt_priv *p,
			  const struct experiment_spec *spec, char *const *old)
{
	char **v = pbt_values_new(spec->nparams);
	struct rng *r = pbt_rng(p);
	size_t i;

	for (i = 0; v && i < spec->nparams; i++) {
		const struct param_spec *ps = &spec->params[i];

		if (p->resample < 0)
			v[i] = pbt_perturb(ps, old[i], r);
		else if (rng_uniform(r) < p->resample)
			v[i] = pbt_sample(ps, r);
		else
			v[i] = strdup(old[i]);
		if (!v[i]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

static int pbt_seed_base(struct pbt_priv *p, const struct experiment_spec *spec,
			 size_t count)
{
	char **v;
	int rc;

	while (count--) {
		v = pbt_base(p, spec);
		if (!v)
			return -ENOMEM;
		rc = pbt_enqueue(p, v, 0, 0);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- generations ---- */

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* numpy.quantile (linear interpolation) of sorted v. */
static double quantile(const double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1), lo = floor(pos);
	size_t i = (size_t)lo;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - lo) * (v[i + 1] - v[i]);
}

static void shuffle(int *a, size_t n, struct rng *r)
{
	size_t i, j;
	int t;

	for (i = n; i > 1; i--) {
		j = rng_next(r) % i;
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

struct pbt_segments {
	int *exploit, *explore, *upper;
	size_t nexploit, nexplore, nupper;
};

static void segments_free(struct pbt_segments *s)
{
	free(s->exploit);
	free(s->explore);
	free(s->upper);
}

/* Katib's _segment_sample_pool. */
static int pbt_segment(struct pbt_priv *p, const int *pool, size_t n,
		       size_t count, struct pbt_segments *s)
{
	double *v = malloc((n + 1) * sizeof(*v)), lo, hi, m;
	size_t i, keep;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		v[i] = pbt_job(p, pool[i])->metric;
	qsort(v, n, sizeof(*v), cmp_dbl);
	lo = quantile(v, n, p->truncation);
	hi = quantile(v, n, 1 - p->truncation);
	free(v);
	for (i = 0; !rc && i < n; i++) {
		m = pbt_job(p, pool[i])->metric;
		if (m < lo) {
			rc = int_push(&s->exploit, &s->nexploit, pool[i]);
			continue;
		}
		rc = int_push(&s->explore, &s->nexplore, pool[i]);
		if (!rc && m >= hi)
			rc = int_push(&s->upper, &s->nupper, pool[i]);
	}
	shuffle(s->exploit, s->nexploit, pbt_rng(p));
	shuffle(s->explore, s->nexplore, pbt_rng(p));
	keep = (size_t)((double)count * p->truncation);
	if (s->nexploit > keep)
		s->nexploit = keep;
	if (s->nexplore > count - s->nexploit)
		s->nexplore = count - s->nexploit;
	return rc;
}

static char **pbt_history_values(const struct search_history *h, int number)
{
	size_t i;

	for (i = 0; i < h->ntrials; i++)
		if (h->trials[i].number == number)
			return h->trials[i].values;
	return NULL;
}

static char **values_dup(char *const *src, size_t n)
{
	char **v = pbt_values_new(n);
	size_t i;

	for (i = 0; v && i < n; i++) {
		v[i] = strdup(src[i]);
		if (!v[i]) {
			assignment_values_free(v, n);
			return NULL;
		}
	}
	return v;
}

static int pbt_spawn(struct pbt_priv *p, const struct experiment_spec *spec,
		     const struct search_history *h,
		     const struct pbt_segments *s)
{
	char *const *src;
	char **v;
	size_t i;
	int rc = 0, top;

	for (i = 0; !rc && i < s->nexploit && s->nupper; i++) {
		top = s->upper[rng_next(pbt_rng(p)) % s->nupper];
		src = pbt_history_values(h, top);
		v = src ? values_dup(src, spec->nparams) : NULL;
		rc = v ? pbt_enqueue(p, v, pbt_job(p, top)->generation + 1, top)
		       : -ENOMEM;
	}
	for (i = 0; !rc && i < s->nexplore; i++) {
		src = pbt_history_values(h, s->explore[i]);
		v = src ? pbt_explore(p, spec, src) : NULL;
		rc = v ? pbt_enqueue(p, v,
				     pbt_job(p, s->explore[i])->generation + 1,
				     s->explore[i])
		       : -ENOMEM;
	}
	return rc;
}

/* Katib's generate(min_count). */
static int pbt_generate(struct pbt_priv *p, const struct experiment_spec *spec,
			const struct search_history *h, size_t min_count)
{
	struct pbt_segments s;
	int rc;

	if (p->ncurrent <= (size_t)p->population) {
		if (!p->nprevious)
			return pbt_seed_base(p, spec, min_count);
		rc = pbt_segment(p, p->previous, p->nprevious, min_count, &s);
	} else {
		rc = pbt_segment(p, p->current, p->ncurrent,
				 (size_t)p->population, &s);
		free(p->previous);
		p->previous = p->current;
		p->nprevious = p->ncurrent;
		p->current = NULL;
		p->ncurrent = 0;
	}
	if (!rc)
		rc = pbt_spawn(p, spec, h, &s);
	segments_free(&s);
	return rc;
}

/* Katib's update() over every trial that ended since the last call. */
static int pbt_update(struct pbt_priv *p, const struct experiment_spec *spec,
		      const struct search_history *h)
{
	double scale = spec->objective.maximize ? 1 : -1;
	struct pbt_job *j;
	char **v;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < h->ntrials; i++) {
		const struct history_trial *t = &h->trials[i];

		j = pbt_job(p, t->number);
		if (!j || j->processed || t->state == HISTORY_PENDING)
			continue;
		j->processed = 1;
		if (t->state == HISTORY_FAILED || !t->has_objective) {
			v = values_dup(t->values, spec->nparams);
			rc = v ? pbt_enqueue(p, v, j->generation, j->parent)
			       : -ENOMEM;
			continue;
		}
		j->metric = scale * t->objective;
		rc = int_push(&p->current, &p->ncurrent, t->number);
	}
	return rc;
}

static int pbt_next_number(const struct search_history *h)
{
	int max = 0;
	size_t i;

	for (i = 0; i < h->ntrials; i++)
		if (h->trials[i].number > max)
			max = h->trials[i].number;
	return max + 1;
}

static int pbt_fill(struct pbt_priv *p, const struct experiment_spec *spec,
		    const struct search_history *h, size_t want)
{
	int rc = 0, tries;

	if (!p->seeded) {
		rc = pbt_seed_base(p, spec, (size_t)p->population);
		p->seeded = 1;
	}
	for (tries = 0; !rc && p->nqueue < want && tries < 8; tries++)
		rc = pbt_generate(p, spec, h, want);
	if (!rc && p->nqueue < want)
		rc = pbt_seed_base(p, spec, want - p->nqueue);
	return rc;
}

static int pbt_suggest(void *priv, const struct experiment_spec *spec,
		       const struct search_history *history, size_t want,
		       char ***out, struct kb_error *err)
{
	struct pbt_priv *p = priv;
	struct pbt_job j;
	int next = pbt_next_number(history), rc;
	size_t n;

	rc = pbt_update(p, spec, history);
	if (!rc)
		rc = pbt_fill(p, spec, history, want);
	for (n = 0; !rc && n < want && n < p->nqueue; n++) {
		memset(&j, 0, sizeof(j));
		j.number = next + (int)n;
		j.generation = p->queue[n].generation;
		j.parent = p->queue[n].parent;
		rc = pbt_job_add(p, &j);
		if (!rc)
			out[n] = p->queue[n].values;
	}
	if (rc) {
		while (n)
			out[--n] = NULL;
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	memmove(p->queue, p->queue + n, (p->nqueue - n) * sizeof(*p->queue));
	p->nqueue -= n;
	return (int)n;
}

/* ---- save and restore ---- */

static cJSON *int_array(const int *a, size_t n)
{
	cJSON *j = cJSON_CreateArray();
	size_t i;

	for (i = 0; j && i < n; i++)
		cJSON_AddItemToArray(j, cJSON_CreateNumber(a[i]));
	return j;
}

static cJSON *pbt_jobs_json(const struct pbt_priv *p)
{
	cJSON *a = cJSON_CreateArray(), *o;
	size_t i;

	for (i = 0; a && i < p->njobs; i++) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "number", p->jobs[i].number);
		cJSON_AddNumberToObject(o, "generation", p->jobs[i].generation);
		cJSON_AddNumberToObject(o, "parent", p->jobs[i].parent);
		cJSON_AddNumberToObject(o, "processed", p->jobs[i].processed);
		cJSON_AddNumberToObject(o, "metric", p->jobs[i].metric);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *pbt_queue_json(const struct pbt_priv *p)
{
	cJSON *a = cJSON_CreateArray(), *o, *v;
	size_t i, k;

	for (i = 0; a && i < p->nqueue; i++) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "generation",
					p->queue[i].generation);
		cJSON_AddNumberToObject(o, "parent", p->queue[i].parent);
		v = cJSON_AddArrayToObject(o, "values");
		for (k = 0; v && k < p->nparams; k++)
			cJSON_AddItemToArray(
				v, cJSON_CreateString(p->queue[i].values[k]));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static char *pbt_save(void *priv)
{
	struct pbt_priv *p = priv;
	cJSON *j = cJSON_CreateObject();
	char buf[32], *s;

	if (!j)
		return NULL;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)p->seed);
	cJSON_AddStringToObject(j, "seed", buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)p->draws);
	cJSON_AddStringToObject(j, "draws", buf);
	cJSON_AddNumberToObject(j, "seeded", p->seeded);
	cJSON_AddItemToObject(j, "jobs", pbt_jobs_json(p));
	cJSON_AddItemToObject(j, "queue", pbt_queue_json(p));
	cJSON_AddItemToObject(j, "previous",
			      int_array(p->previous, p->nprevious));
	cJSON_AddItemToObject(j, "current", int_array(p->current, p->ncurrent));
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static int num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valueint : 0;
}

static int pbt_load_queue(struct pbt_priv *p, const cJSON *a)
{
	const cJSON *o, *v;
	char **vals;
	size_t k;
	int rc = 0;

	cJSON_ArrayForEach(o, a)
	{
		vals = pbt_values_new(p->nparams);
		if (!vals)
			return -ENOMEM;
		k = 0;
		cJSON_ArrayForEach(
			v, cJSON_GetObjectItemCaseSensitive(o, "values"))
		{
			if (k < p->nparams && cJSON_IsString(v))
				vals[k] = strdup(v->valuestring);
			k++;
		}
		for (k = 0; k < p->nparams; k++)
			if (!vals[k]) {
				assignment_values_free(vals, p->nparams);
				return -EINVAL;
			}
		rc = pbt_enqueue(p, vals, num(o, "generation"),
				 num(o, "parent"));
		if (rc)
			return rc;
	}
	return 0;
}

static int pbt_load(struct pbt_priv *p, const char *state)
{
	cJSON *j = cJSON_Parse(state), *o, *v;
	struct pbt_job job;
	int rc = 0;

	if (!j)
		return -EINVAL;
	v = cJSON_GetObjectItemCaseSensitive(j, "seed");
	if (cJSON_IsString(v))
		p->seed = strtoull(v->valuestring, NULL, 10);
	v = cJSON_GetObjectItemCaseSensitive(j, "draws");
	if (cJSON_IsString(v))
		p->draws = strtoull(v->valuestring, NULL, 10);
	p->seeded = num(j, "seeded");
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(j, "jobs"))
	{
		job.number = num(o, "number");
		job.generation = num(o, "generation");
		job.parent = num(o, "parent");
		job.processed = num(o, "processed");
		v = cJSON_GetObjectItemCaseSensitive(o, "metric");
		job.metric = cJSON_IsNumber(v) ? v->valuedouble : 0;
		if (!rc)
			rc = pbt_job_add(p, &job);
	}
	cJSON_ArrayForEach(
		v, cJSON_GetObjectItemCaseSensitive(j, "previous")) if (!rc)
		rc = int_push(&p->previous, &p->nprevious, v->valueint);
	cJSON_ArrayForEach(
		v, cJSON_GetObjectItemCaseSensitive(j, "current")) if (!rc) rc =
		int_push(&p->current, &p->ncurrent, v->valueint);
	if (!rc)
		rc = pbt_load_queue(
			p, cJSON_GetObjectItemCaseSensitive(j, "queue"));
	cJSON_Delete(j);
	return rc;
}

static int pbt_create(const struct experiment_spec *spec, const char *state,
		      void **priv, struct kb_error *err)
{
	const struct algorithm_spec *a = &spec->algorithm;
	const struct algorithm_setting *s;
	struct pbt_priv *p;
	size_t len;
	int rc;

	rc = pbt_validate(spec, err);
	if (rc)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	p->nparams = spec->nparams;
	p->population =
		strtol(setting_find(a, "n_population")->value, NULL, 10);
	p->truncation =
		strtod(setting_find(a, "truncation_threshold")->value, NULL);
	s = setting_find(a, "resample_probability");
	p->resample = s ? strtod(s->value, NULL) : -1;
	p->trial_dir = strdup(setting_find(a, "suggestion_trial_dir")->value);
	p->seed = pbt_seed(spec);
	rc = p->trial_dir ? 0 : -ENOMEM;
	len = p->trial_dir ? strlen(p->trial_dir) : 0;
	while (len > 1 && p->trial_dir[len - 1] == '/')
		p->trial_dir[--len] = '\0';
	if (!rc && state && *state)
		rc = pbt_load(p, state);
	if (rc) {
		pbt_destroy(p);
		return kb_error_set(err, rc, NULL, 0,
				    rc == -ENOMEM ? "out of memory"
						  : "pbt: cannot restore the "
						    "saved state");
	}
	*priv = p;
	return 0;
}

/* ---- checkpoints: prepare_trial ---- */

/* A fresh <trial_dir>/checkpoint holding a copy of the parent's, made by
 * the backend (none copies nothing: the trial starts without one). */
static int pbt_checkpoint(const struct pbt_priv *p, const char *trial_dir,
			  int parent, const char *ckpt, struct kb_error *err)
{
	const struct backend_ops *b =
		p->backend ? p->backend : backend_find(NULL);
	char src[4096], *slash;

	if (!b || !b->copy_checkpoint)
		return 0;
	snprintf(src, sizeof(src), "%s", trial_dir);
	slash = strrchr(src, '/');
	if (parent && slash)
		snprintf(slash + 1, sizeof(src) - (size_t)(slash + 1 - src),
			 "%d/checkpoint", parent);
	return b->copy_checkpoint(p->backend_priv, parent && slash ? src : NULL,
				  ckpt, err);
}

/* s with every occurrence of `from` replaced by `to` (heap), or NULL if
 * there is none or on ENOMEM (*rc). */
static char *replace_all(const char *s, const char *from, const char *to,
			 int *rc)
{
	size_t lf = strlen(from), lt = strlen(to), n = 0, len;
	const char *p, *q;
	char *out, *o;

	*rc = 0;
	for (p = s; (q = strstr(p, from)); p = q + lf)
		n++;
	if (!n)
		return NULL;
	len = strlen(s) + n * lt - n * lf;
	out = malloc(len + 1);
	if (!out) {
		*rc = -ENOMEM;
		return NULL;
	}
	for (o = out, p = s; (q = strstr(p, from)); p = q + lf) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, lt);
		o += lt;
	}
	strcpy(o, p);
	return out;
}

static int rewrite(char **slot, const char *from, const char *to)
{
	int rc;
	char *r;

	if (!*slot)
		return 0;
	r = replace_all(*slot, from, to, &rc);
	if (r) {
		free(*slot);
		*slot = r;
	}
	return rc;
}

static int env_set(struct trial_command *cmd, const char *name,
		   const char *value)
{
	size_t len = strlen(name), i;
	char *e, **env;

	if (asprintf(&e, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (i = 0; i < cmd->nenv; i++)
		if (!strncmp(cmd->env[i], name, len) &&
		    cmd->env[i][len] == '=') {
			free(cmd->env[i]);
			cmd->env[i] = e;
			return 0;
		}
	env = realloc(cmd->env, (cmd->nenv + 2) * sizeof(*env));
	if (!env) {
		free(e);
		return -ENOMEM;
	}
	cmd->env = env;
	env[cmd->nenv++] = e;
	env[cmd->nenv] = NULL;
	return 0;
}

/* Point argv, env values and workingDir at the trial's checkpoint. */
static int pbt_rewrite(const struct pbt_priv *p, struct trial_command *cmd,
		       const char *ckpt)
{
	size_t i, len;
	char *eq, *v;
	int rc = 0;

	if (!*p->trial_dir || !strcmp(p->trial_dir, "/"))
		return 0;
	for (i = 0; !rc && i < cmd->argc; i++)
		rc = rewrite(&cmd->argv[i], p->trial_dir, ckpt);
	for (i = 0; !rc && i < cmd->nenv; i++) {
		eq = strchr(cmd->env[i], '=');
		if (!eq)
			continue;
		v = replace_all(eq + 1, p->trial_dir, ckpt, &rc);
		if (!v)
			continue;
		len = (size_t)(eq - cmd->env[i]) + 1;
		eq = malloc(len + strlen(v) + 1);
		if (eq) {
			memcpy(eq, cmd->env[i], len);
			strcpy(eq + len, v);
			free(cmd->env[i]);
			cmd->env[i] = eq;
		}
		rc = eq ? 0 : -ENOMEM;
		free(v);
	}
	if (!rc)
		rc = rewrite(&cmd->working_dir, p->trial_dir, ckpt);
	return rc;
}

static int pbt_prepare_trial(void *priv, const struct experiment_spec *spec,
			     int number, char *const *values,
			     const char *trial_dir, struct trial_command *cmd,
			     struct kb_error *err)
{
	struct pbt_priv *p = priv;
	const struct pbt_job *j = pbt_job(p, number);
	char ckpt[4096], buf[32];
	int parent = j ? j->parent : 0, rc;

	(void)spec;
	(void)values;
	snprintf(ckpt, sizeof(ckpt), "%s/checkpoint", trial_dir);
	rc = pbt_checkpoint(p, trial_dir, parent, ckpt, err);
	if (rc)
		return rc;
	rc = pbt_rewrite(p, cmd, ckpt);
	snprintf(buf, sizeof(buf), "%d", j ? j->generation : 0);
	if (!rc)
		rc = env_set(cmd, "KATIB_PBT_GENERATION", buf);
	snprintf(buf, sizeof(buf), "%d", parent);
	if (!rc)
		rc = env_set(cmd, "KATIB_PBT_PARENT", parent ? buf : "");
	if (!rc)
		rc = env_set(cmd, "KATIB_PBT_CHECKPOINT_DIR", ckpt);
	if (rc)
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	return 0;
}

static void pbt_use_backend(void *priv, const struct backend_ops *backend,
			    void *backend_priv)
{
	struct pbt_priv *p = priv;

	p->backend = backend;
	p->backend_priv = backend_priv;
}

const struct algorithm_ops algorithm_pbt = {
	.name = "pbt",
	.implemented = 1,
	.validate = pbt_validate,
	.create = pbt_create,
	.suggest = pbt_suggest,
	.save = pbt_save,
	.destroy = pbt_destroy,
	.prepare_trial = pbt_prepare_trial,
	.use_backend = pbt_use_backend,
	.foreign_refused = "pbt runs trials as a population, each resuming "
			   "from its parent's checkpoint; a trial from outside "
			   "has no parent or generation",
};
