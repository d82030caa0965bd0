/*
 * tpe_common.c - Parzen estimators for tpe.c and multivariate_tpe.c.
 *
 * See core/algorithms/parzen.h for the design. Internals:
 *
 *  - Each parameter becomes a `struct dim`: numeric ones live in an
 *    internal space (log for logUniform/logNormal) with bounds widened by
 *    half a step for ints and stepped doubles, whose kernels are scored by
 *    the probability mass of the value's bin; lists are categorical.
 *  - The cache keeps every history trial's parsed values (validated by
 *    comparing the value strings, so a different history simply rebuilds
 *    it) and, for the univariate model, per numeric dimension the trial
 *    indices sorted by value. The "above" mixture is then read off in
 *    sorted order in O(n), and a candidate is scored only against the
 *    kernels within a few bandwidths (binary search), plus the few wide
 *    ones. An instance's first suggestion parses the whole history (at
 *    1,000 trials of 6 parameters 1.1-1.8 ms of CPU, 6,000 strtod): that
 *    is once per instance, made at a mount, for a new spec, or after a
 *    suggestion computed off the model lock was dropped (controller.c),
 *    and off the lock; later suggestions parse only the new trials.
 *  - Univariate (cfg->multivariate = 0, kept but unused by the two
 *    algorithms): one mixture per parameter, Optuna's neighbour-gap
 *    bandwidths with the magic clip. Multivariate (tpe and multivariate-
 *    tpe): one joint mixture with bandwidths SIGMA0 n^(-1/(d+4)) * range,
 *    SIGMA0 = 0.1 (Optuna: 0.2), plus n_candidates/3 extra candidates
 *    drawn around the best trial, all scored by log l - log g.
 *
 * Owns: the state of tpe and multivariate-tpe (tpe_algo_create(),
 * tpe_algo_destroy()): the cache of observations, the Parzen mixtures and a
 * suggestion's work arrays.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "algorithms/pareto.h"
#include "algorithms/parzen.h"
#include "algorithms/sobol.h"

#define LOG_SQRT_2PI 0.91893853320467274178
#define WINDOW_Z     6.0 /* kernels beyond this many sigmas are ignored */
#define FORGET	     25	 /* Optuna's default_weights: last 25 weigh 1 */
#define BELOW_MAX    25
#define PRUNE_LOG                                                              \
	25.0 /* multivariate: kernels this far below the                       \
	      * prior's term are ignored */
#define PERTURB_TRIES 64
#define GRID_TOL      1e-9
#define SIGMA0	      0.1 /* Optuna: 0.2; half explores less, better */
#define LOCAL_SCALE   0.5 /* local candidates: bandwidth fraction */

enum group { G_EXCL, G_BELOW, G_ABOVE };

struct dim {
	const struct param_spec *p;
	int cat, log, fixed;
	double q;	 /* bin width in value space (0: continuous) */
	double vlo, vhi; /* first and last value (grid points if q) */
	double lo, hi;	 /* internal bounds */
	double range, prior_mu, prior_sigma;
	size_t ncat;
};

struct tpe_cache {
	uint64_t sig;
	size_t d, n, cap;
	/* per trial: its value strings, NUL separated, at text + key[i] */
	size_t *key;
	char *text;
	size_t text_len, text_cap;
	int *num;  /* per trial: its number (0: none) */
	double *x; /* n * d internal values */
	unsigned char *ok;
	/* per dim: ok trials by x (numeric dims), kept only for the
	 * univariate model that reads them (keep_sorted) */
	uint32_t **sorted;
	size_t nsorted;
	int keep_sorted;
	uint32_t *ht; /* open addressing: trial index + 1, by key */
	size_t htcap;
};

/* ---- small maths ---- */

/*
 * log(Phi(zb) - Phi(za)), za <= zb, computed on the accurate side. With
 * zb >= 0, erfc(-zb/sqrt 2) is in [1, 2]; an erfc(-za/sqrt 2) below 2^-54
 * (its argument above 6.5: below 4e-20) is under half an ulp of it and
 * cannot change the difference's bits, so it is not computed (a kernel
 * far above the lower bound: half of them, at a fifth of a suggestion).
 */
static double log_phi_diff(double za, double zb)
{
	double d, hi;

	if (za > 0) {
		d = 0.5 * (erfc(za * M_SQRT1_2) - erfc(zb * M_SQRT1_2));
	} else {
		hi = erfc(-zb * M_SQRT1_2);
		d = 0.5 * (zb >= 0 && -za * M_SQRT1_2 > 6.5
				   ? hi
				   : hi - erfc(-za * M_SQRT1_2));
	}
	return log(d > 1e-300 ? d : 1e-300);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- dimensions ---- */

static double to_internal(const struct dim *dm, double v)
{
	return dm->log ? log(v) : v;
}

static double to_value(const struct dim *dm, double x)
{
	return dm->log ? exp(x) : x;
}

static void dim_grid(struct dim *dm, const struct param_spec *p)
{
	double n;

	if (p->type == PARAM_INT) {
		dm->q = p->step_value > 0 ? p->step_value : 1;
		dm->vlo = ceil(p->min_value);
		n = floor((floor(p->max_value) - dm->vlo) / dm->q);
	} else if (p->step_value > 0) {
		dm->q = p->step_value;
		dm->vlo = p->min_value;
		n = floor((p->max_value - p->min_value) / dm->q + GRID_TOL);
	} else {
		dm->vlo = p->min_value;
		dm->vhi = p->max_value;
		return;
	}
	dm->vhi = dm->vlo + (n > 0 ? n : 0) * dm->q;
}

static void dim_init(struct dim *dm, const struct param_spec *p)
{
	double lo, hi;

	memset(dm, 0, sizeof(*dm));
	dm->p = p;
	if (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE) {
		dm->cat = 1;
		dm->ncat = p->nlist;
		dm->fixed = p->nlist <= 1;
		return;
	}
	dim_grid(dm, p);
	dm->log = dm->vlo > 0 && (p->distribution == DIST_LOG_UNIFORM ||
				  p->distribution == DIST_LOG_NORMAL);
	if (dm->q > 0 && dm->vhi <= dm->vlo) {
		dm->fixed = 1;
		return;
	}
	if (dm->q > 0) {
		lo = dm->vlo - dm->q / 2;
		hi = dm->vhi + dm->q / 2;
		if (dm->log && lo <= 0)
			lo = dm->vlo * dm->vlo / (dm->vlo + dm->q / 2);
	} else {
		lo = dm->vlo;
		hi = dm->vhi;
	}
	dm->lo = to_internal(dm, lo);
	dm->hi = to_internal(dm, hi);
	dm->range = dm->hi - dm->lo;
	if (!(dm->range > 0) || !isfinite(dm->range)) {
		dm->fixed = 1;
		return;
	}
	dm->prior_mu = (dm->lo + dm->hi) / 2;
	dm->prior_sigma = dm->range;
	if (p->distribution == DIST_NORMAL ||
	    p->distribution == DIST_LOG_NORMAL)
		dm->prior_sigma = dm->range / 6;
}

/* Snap an internal value onto the parameter's values (internal space). */
static double dim_snap(const struct dim *dm, double x)
{
	double v;

	if (dm->cat)
		return clampd(nearbyint(x), 0, (double)dm->ncat - 1);
	v = clampd(to_value(dm, x), dm->vlo, dm->vhi);
	if (dm->q > 0)
		v = dm->vlo + nearbyint((v - dm->vlo) / dm->q) * dm->q;
	v = clampd(v, dm->vlo, dm->vhi);
	return clampd(to_internal(dm, v), dm->lo, dm->hi);
}

/* The bin [a, b] of a snapped internal value (discrete dims). */
static void dim_bin(const struct dim *dm, double x, double *a, double *b)
{
	double v = to_value(dm, x);

	*a = v - dm->q / 2 <= 0 && dm->log ? dm->lo
					   : to_internal(dm, v - dm->q / 2);
	*b = to_internal(dm, v + dm->q / 2);
	*a = clampd(*a, dm->lo, dm->hi);
	*b = clampd(*b, dm->lo, dm->hi);
}

static int dim_parse(const struct dim *dm, const char *s, double *x)
{
	char *end;
	double v;
	size_t i;

	if (!s)
		return -1;
	if (dm->cat) {
		for (i = 0; i < dm->ncat; i++)
			if (dm->p->list[i] && !strcmp(dm->p->list[i], s)) {
				*x = (double)i;
				return 0;
			}
		return -1;
	}
	v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || (dm->log && v <= 0))
		return -1;
	*x = dm->fixed ? 0 : to_internal(dm, v);
	return 0;
}

static char *dim_format(const struct dim *dm, double x)
{
	if (dm->fixed && !dm->cat)
		return param_format(dm->p, dm->vlo);
	if (dm->fixed)
		return param_format(dm->p, 0);
	if (dm->cat)
		return param_format(dm->p, x);
	return param_format(dm->p, to_value(dm, x));
}

static uint64_t spec_signature(const struct experiment_spec *spec)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i, j;

#define MIX(v) (h = seed_mix64(h ^ (uint64_t)(v)))
	MIX(spec->nparams);
	for (i = 0; i < spec->nparams; i++) {
		const struct param_spec *p = &spec->params[i];
		uint64_t bits[3];

		memcpy(&bits[0], &p->min_value, 8);
		memcpy(&bits[1], &p->max_value, 8);
		memcpy(&bits[2], &p->step_value, 8);
		MIX(p->type);
		MIX(p->distribution);
		MIX(bits[0]);
		MIX(bits[1]);
		MIX(bits[2]);
		MIX(p->nlist);
		for (j = 0; j < p->nlist; j++)
			MIX(p->list[j] ? strlen(p->list[j]) + 1 : 0);
		MIX((uintptr_t)p->list);
	}
#undef MIX
	return h;
}

/* ---- the cache of parsed history values ---- */

struct tpe_cache *tpe_cache_new(void)
{
	return calloc(1, sizeof(struct tpe_cache));
}

static void cache_clear(struct tpe_cache *c)
{
	size_t i;

	for (i = 0; c->sorted && i < c->d; i++)
		free(c->sorted[i]);
	free(c->sorted);
	free(c->ht);
	free(c->key);
	free(c->text);
	free(c->num);
	free(c->x);
	free(c->ok);
	memset(c, 0, sizeof(*c));
}

void tpe_cache_free(struct tpe_cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	free(c);
}

static int cache_reset(struct tpe_cache *c, size_t d, uint64_t sig,
		       int keep_sorted)
{
	cache_clear(c);
	c->d = d;
	c->sig = sig;
	c->keep_sorted = keep_sorted;
	c->sorted = calloc(d ? d : 1, sizeof(*c->sorted));
	return c->sorted ? 0 : -ENOMEM;
}

static int cache_grow(struct tpe_cache *c, size_t need)
{
	size_t cap = c->cap ? c->cap : 64, i, d = c->d ? c->d : 1;
	void *p;

	if (need <= c->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(c->key, cap * sizeof(*c->key));
	if (!p)
		return -ENOMEM;
	c->key = p;
	p = realloc(c->num, cap * sizeof(*c->num));
	if (!p)
		return -ENOMEM;
	c->num = p;
	p = realloc(c->x, cap * d * sizeof(*c->x));
	if (!p)
		return -ENOMEM;
	c->x = p;
	p = realloc(c->ok, cap);
	if (!p)
		return -ENOMEM;
	c->ok = p;
	for (i = 0; c->keep_sorted && i < c->d; i++) {
		p = realloc(c->sorted[i], cap * sizeof(**c->sorted));
		if (!p)
			return -ENOMEM;
		c->sorted[i] = p;
	}
	c->cap = cap;
	return 0;
}

static const char *key_of(const struct tpe_cache *c, size_t i)
{
	return c->text + c->key[i];
}

/* Trial i's key (its values, NUL separated) appended to c->text. */
static int add_key(struct tpe_cache *c, size_t i, char *const *values)
{
	size_t len = 1, j, l, cap = c->text_cap ? c->text_cap : 4096;
	char *p;

	for (j = 0; j < c->d; j++)
		len += (values && values[j] ? strlen(values[j]) : 0) + 1;
	while (cap < c->text_len + len)
		cap *= 2;
	if (cap != c->text_cap) {
		if (!(p = realloc(c->text, cap)))
			return -ENOMEM;
		c->text = p;
		c->text_cap = cap;
	}
	c->key[i] = c->text_len;
	p = c->text + c->text_len;
	for (j = 0; j < c->d; j++) {
		l = values && values[j] ? strlen(values[j]) : 0;
		memcpy(p, l ? values[j] : "", l);
		p[l] = '\0';
		p += l + 1;
	}
	*p = '\0';
	c->text_len += len;
	return 0;
}

static int key_equal(const char *k, char *const *values, size_t d)
{
	size_t i;

	for (i = 0; i < d; i++) {
		if (!values || !values[i] || strcmp(k, values[i]))
			return 0;
		k += strlen(k) + 1;
	}
	return 1;
}

static uint64_t hash_values(char *const *v, size_t d)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;
	size_t i;

	for (i = 0; i < d; i++) {
		for (p = (const unsigned char *)(v[i] ? v[i] : ""); *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0x1f) * 1099511628211ULL;
	}
	return h;
}

static uint64_t hash_key(const char *k, size_t d)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < d; i++, k++) {
		for (; *k; k++)
			h = (h ^ (unsigned char)*k) * 1099511628211ULL;
		h = (h ^ 0x1f) * 1099511628211ULL;
	}
	return h;
}

static void ht_put(struct tpe_cache *c, size_t idx)
{
	size_t i = hash_key(key_of(c, idx), c->d) & (c->htcap - 1);

	while (c->ht[i])
		i = (i + 1) & (c->htcap - 1);
	c->ht[i] = (uint32_t)idx + 1;
}

/* Rebuild the table for trials 0..n-1 with room for `need` entries. */
static int ht_rebuild(struct tpe_cache *c, size_t need)
{
	size_t cap = 64, i;

	while (cap < 2 * need + 2)
		cap *= 2;
	free(c->ht);
	c->ht = calloc(cap, sizeof(*c->ht));
	if (!c->ht) {
		c->htcap = 0;
		return -ENOMEM;
	}
	c->htcap = cap;
	for (i = 0; i < c->n; i++)
		ht_put(c, i);
	return 0;
}

/* 1 if some cached trial has exactly these values. */
static int cache_contains(const struct tpe_cache *c, char *const *v)
{
	size_t i;

	if (!c->htcap)
		return 0;
	i = hash_values(v, c->d) & (c->htcap - 1);
	for (; c->ht[i]; i = (i + 1) & (c->htcap - 1))
		if (key_equal(key_of(c, c->ht[i] - 1), v, c->d))
			return 1;
	return 0;
}

static void cache_truncate(struct tpe_cache *c, size_t n)
{
	size_t i, j, m;

	if (n < c->n)
		c->text_len = c->key[n];
	c->n = n;
	m = 0;
	for (j = 0; c->keep_sorted && j < c->d; j++) {
		m = 0;
		for (i = 0; i < c->nsorted; i++)
			if (c->sorted[j][i] < n)
				c->sorted[j][m++] = c->sorted[j][i];
	}
	if (c->d)
		c->nsorted = m;
	else
		c->nsorted = 0;
	ht_rebuild(c, c->cap);
}

static void sorted_insert(struct tpe_cache *c, size_t j, uint32_t idx)
{
	uint32_t *s = c->sorted[j];
	double v = c->x[(size_t)idx * c->d + j];
	size_t lo = 0, hi = c->nsorted, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (c->x[(size_t)s[mid] * c->d + j] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(s + lo + 1, s + lo, (c->nsorted - lo) * sizeof(*s));
	s[lo] = idx;
}

static int cache_append(struct tpe_cache *c, const struct dim *dims,
			char *const *values, int number)
{
	size_t i = c->n, j;
	double *x;
	int ok = values != NULL;

	if (cache_grow(c, i + 1))
		return -ENOMEM;
	if (add_key(c, i, values))
		return -ENOMEM;
	c->num[i] = number;
	x = c->x + i * c->d;
	for (j = 0; ok && j < c->d; j++)
		ok = !dim_parse(&dims[j], values[j], &x[j]);
	c->ok[i] = (unsigned char)ok;
	c->n++;
	if (2 * c->n + 2 > c->htcap) {
		if (ht_rebuild(c, c->n * 2))
			return -ENOMEM;
	} else {
		ht_put(c, i);
	}
	if (!ok || !c->keep_sorted)
		return 0;
	for (j = 0; j < c->d; j++)
		sorted_insert(c, j, (uint32_t)i);
	c->nsorted++;
	return 0;
}

static int cache_sync(struct tpe_cache *c, const struct dim *dims,
		      const struct experiment_spec *spec,
		      const struct history_trial *t, size_t n, int keep_sorted)
{
	uint64_t sig = spec_signature(spec);
	size_t i;
	int rc;

	if (!c->sorted || c->sig != sig || c->d != spec->nparams ||
	    c->keep_sorted != keep_sorted) {
		rc = cache_reset(c, spec->nparams, sig, keep_sorted);
		if (rc)
			return rc;
	}
	/* A trial's values never change: the same number is the same trial
	 * (no string compares: this loop runs over the whole history at
	 * every suggestion). Unnumbered entries (a batch's own) compare. */
	for (i = 0; i < c->n && i < n; i++)
		if (!(t[i].number > 0 && c->num[i] == t[i].number) &&
		    !key_equal(key_of(c, i), t[i].values, c->d))
			break;
	if (i < c->n)
		cache_truncate(c, i);
	for (; i < n; i++) {
		rc = cache_append(c, dims, t[i].values, t[i].number);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- per-call working state ---- */

struct work {
	const struct tpe_config *cfg;
	const struct experiment_spec *spec;
	const struct tpe_cache *c;
	struct dim *dims;
	size_t d, n;
	double *loss;
	unsigned char *group;
	double *weight; /* per trial, within its group (unnormalised) */
	uint32_t *below, *above; /* member indices in trial order */
	size_t nbelow, nabove;
	double wsum_below, wsum_above;
	double *scratch;
	struct rng rng;
};

static int is_observed(const struct history_trial *t)
{
	return (t->state == HISTORY_SUCCEEDED ||
		t->state == HISTORY_EARLY_STOPPED) &&
	       t->has_objective && isfinite(t->objective);
}

static size_t n_below_for(const struct tpe_config *cfg, size_t n)
{
	double k;

	if (cfg->gamma_kind == TPE_GAMMA_SQRT)
		k = ceil(cfg->gamma * sqrt((double)n));
	else
		k = ceil(cfg->gamma * (double)n);
	if (k > BELOW_MAX)
		k = BELOW_MAX;
	return k < 1 ? 1 : (size_t)k;
}

/* Optuna's default_weights over m members in trial order. */
static double member_weight(size_t rank, size_t m)
{
	size_t ramp;

	if (m < FORGET)
		return 1;
	ramp = m - FORGET;
	if (rank >= ramp)
		return 1;
	if (ramp == 1)
		return 1.0 / (double)m;
	return 1.0 / (double)m +
	       (1 - 1.0 / (double)m) * (double)rank / (double)(ramp - 1);
}

/* Pick the k smallest losses (ties: earlier trial first) as G_BELOW. */
static void select_below(struct work *w, size_t k)
{
	uint32_t *best = w->below;
	size_t nb = 0, i, j;

	for (i = 0; i < w->n; i++) {
		if (w->group[i] != G_ABOVE)
			continue;
		if (nb == k && w->loss[i] >= w->loss[best[nb - 1]])
			continue;
		j = nb < k ? nb++ : nb - 1;
		while (j > 0 && w->loss[best[j - 1]] > w->loss[i]) {
			best[j] = best[j - 1];
			j--;
		}
		best[j] = (uint32_t)i;
	}
	for (i = 0; i < nb; i++)
		w->group[best[i]] = G_BELOW;
}

static void assign_weights(struct work *w)
{
	size_t i, rb = 0, ra = 0;

	w->nbelow = w->nabove = 0;
	for (i = 0; i < w->n; i++) {
		if (w->group[i] == G_BELOW)
			w->below[w->nbelow++] = (uint32_t)i;
		else if (w->group[i] == G_ABOVE)
			w->above[w->nabove++] = (uint32_t)i;
	}
	w->wsum_below = w->wsum_above = 0;
	for (i = 0; i < w->n; i++) {
		if (w->group[i] == G_BELOW) {
			w->weight[i] = member_weight(rb++, w->nbelow);
			w->wsum_below += w->weight[i];
		} else if (w->group[i] == G_ABOVE) {
			w->weight[i] = member_weight(ra++, w->nabove);
			w->wsum_above += w->weight[i];
		}
	}
}

/* ---- several objectives (katibfs/objectives): Optuna's MOTPE ---- */

/* t's objectives as a loss vector (all minimised) into loss[]; 0 if it
 * has none (not observed, or some objective missing). */
static int mo_loss(const struct work *w, const struct history_trial *t,
		   double *loss)
{
	size_t j, m = spec_objective_count(w->spec);
	int max;

	if (!is_observed(t) || !t->objectives)
		return 0;
	for (j = 0; j < m; j++) {
		spec_objective(w->spec, j, &max);
		loss[j] = max ? -t->objectives[j] : t->objectives[j];
		if (!isfinite(loss[j]))
			return 0;
	}
	return 1;
}

/*
 * The k best of the n observed loss vectors L (m each) as Optuna 3.1's
 * multi-objective split: whole non-domination ranks while they fit, the
 * rest of the last rank by greedy hypervolume subset selection. Marks
 * chosen[i]. 0 or -ENOMEM.
 */
static int mo_select(const double *L, size_t n, size_t m, size_t k,
		     unsigned char *chosen)
{
	int *rank = malloc(n * sizeof(int)), r, nr, rc = -ENOMEM;
	size_t i, taken = 0, cnt, *idx = malloc(n * sizeof(size_t));
	size_t *pick = malloc(n * sizeof(size_t));
	double *sub = malloc(n * m * sizeof(double)), ref[SPEC_MAX_OBJECTIVES];

	if (!rank || !idx || !pick || !sub)
		goto out;
	memset(chosen, 0, n);
	nr = pareto_ranks(L, n, m, k, rank);
	for (r = 0; r < nr && taken < k; r++) {
		for (cnt = 0, i = 0; i < n; i++)
			if (rank[i] == r)
				idx[cnt++] = i;
		if (taken + cnt <= k) {
			for (i = 0; i < cnt; i++)
				chosen[idx[i]] = 1;
			taken += cnt;
			continue;
		}
		for (i = 0; i < cnt; i++)
			memcpy(sub + i * m, L + idx[i] * m, m * sizeof(double));
		pareto_reference(sub, cnt, m, ref);
		if (hypervolume_select(sub, cnt, m, ref, k - taken, pick))
			goto out;
		for (i = 0; i < k - taken; i++)
			chosen[idx[pick[i]]] = 1;
		taken = k;
	}
	rc = 0;
out:
	free(rank);
	free(idx);
	free(pick);
	free(sub);
	return rc;
}

/*
 * Below-group weights as Optuna 3.1's MOTPE: each member's hypervolume
 * contribution within the group (reference: the group's worst point moved
 * out by 10%), plus a tiny epsilon, over the largest. The loss of a below
 * member becomes minus its weight, so "the best" (mv_local) is the one
 * contributing most.
 */
static int mo_weights(struct work *w, const double *L, const size_t *obs_of,
		      size_t m)
{
	size_t nb = w->nbelow, i;
	double *pts = malloc((nb ? nb : 1) * m * sizeof(double));
	double *con = malloc((nb ? nb : 1) * sizeof(double));
	double ref[SPEC_MAX_OBJECTIVES], top = 0;
	int rc = -ENOMEM;

	if (!pts || !con)
		goto out;
	for (i = 0; i < nb; i++)
		memcpy(pts + i * m, L + obs_of[w->below[i]] * m,
		       m * sizeof(double));
	pareto_reference(pts, nb, m, ref);
	if (nb > 1 && hypervolume_contributions(pts, nb, m, ref, con))
		goto out;
	for (i = 0; i < nb; i++) {
		con[i] = nb > 1 ? con[i] + 1e-12 : 1;
		top = con[i] > top ? con[i] : top;
	}
	w->wsum_below = 0;
	for (i = 0; i < nb; i++) {
		w->weight[w->below[i]] = top > 0 ? con[i] / top : 1;
		w->loss[w->below[i]] = -w->weight[w->below[i]];
		w->wsum_below += w->weight[w->below[i]];
	}
	rc = 0;
out:
	free(pts);
	free(con);
	return rc;
}

/*
 * split() for several objectives: the observed trials (every objective
 * reported) are split by mo_select(), the below group weighted by
 * mo_weights(); pending trials and the rest are "above". *rc set on
 * failure. Returns the number of trials in the model, 0 if none observed.
 */
static size_t split_multi(struct work *w, const struct history_trial *t,
			  int *rc)
{
	size_t m = spec_objective_count(w->spec), i, nobs = 0, nmodel = 0, k;
	double *L = malloc((w->n ? w->n : 1) * m * sizeof(double));
	size_t *obs_of = malloc((w->n ? w->n : 1) * sizeof(size_t));
	unsigned char *chosen = malloc(w->n ? w->n : 1);

	*rc = -ENOMEM;
	if (!L || !obs_of || !chosen)
		goto out;
	for (i = 0; i < w->n; i++) {
		w->group[i] = G_EXCL;
		w->loss[i] = 0;
		if (!w->c->ok[i])
			continue;
		if (mo_loss(w, &t[i], L + nobs * m)) {
			obs_of[i] = nobs++;
			w->group[i] = G_ABOVE;
		} else if (t[i].state == HISTORY_PENDING) {
			w->group[i] = G_ABOVE;
		}
		nmodel += w->group[i] != G_EXCL;
	}
	*rc = 0;
	if (!nobs)
		goto out;
	k = n_below_for(w->cfg, nmodel);
	*rc = mo_select(L, nobs, m, k < nobs ? k : nobs, chosen);
	for (i = 0; !*rc && i < w->n; i++)
		if (w->group[i] == G_ABOVE && t[i].state != HISTORY_PENDING &&
		    chosen[obs_of[i]])
			w->group[i] = G_BELOW;
	if (!*rc) {
		assign_weights(w);
		*rc = mo_weights(w, L, obs_of, m);
	}
out:
	free(L);
	free(obs_of);
	free(chosen);
	return *rc || !nobs ? 0 : nmodel;
}

/*
 * Losses and groups of the (augmented) history. Returns the number of
 * trials in the model (observed + pending), 0 if nothing is observed.
 */
static size_t split(struct work *w, const struct history_trial *t)
{
	size_t i, nobs = 0, nmodel = 0, k;
	double worst = -INFINITY;

	for (i = 0; i < w->n; i++) {
		w->group[i] = G_EXCL;
		if (!w->c->ok[i])
			continue;
		if (is_observed(&t[i])) {
			w->loss[i] = w->spec->objective.maximize
					     ? -t[i].objective
					     : t[i].objective;
			if (w->loss[i] > worst)
				worst = w->loss[i];
			w->group[i] = G_ABOVE;
			nobs++;
		} else if (t[i].state == HISTORY_PENDING) {
			w->group[i] = G_ABOVE;
			w->loss[i] = INFINITY;
		}
		if (w->group[i] != G_EXCL)
			nmodel++;
	}
	if (!nobs)
		return 0;
	for (i = 0; i < w->n; i++) /* the constant liar */
		if (w->group[i] == G_ABOVE && isinf(w->loss[i]))
			w->loss[i] = worst;
	k = n_below_for(w->cfg, nmodel);
	select_below(w, k < nobs ? k : nobs);
	assign_weights(w);
	return nmodel;
}

/* ---- univariate mixtures ---- */

struct kern {
	double mu, sigma;
	double w;  /* normalised weight (sampling) */
	double lw; /* log w - log Z [- log sigma - log sqrt(2 pi)] */
};

struct mix {
	struct kern *k; /* sorted by mu */
	size_t n;
	size_t *wide, nwide;
	double narrow; /* kernels with sigma <= narrow use the window */
	double *p;     /* categorical: probability per choice */
};

static void mix_free(struct mix *m)
{
	free(m->k);
	free(m->wide);
	free(m->p);
	memset(m, 0, sizeof(*m));
}

static double log_z(const struct dim *dm, double mu, double s)
{
	double za = (dm->lo - mu) / s, zb = (dm->hi - mu) / s;

	if (za < -8 && zb > 8)
		return 0;
	return log_phi_diff(za, zb);
}

/* The bandwidth of kernel i of k[0..n-1]: the larger neighbour gap, the
 * first and last taking their inner gap (Optuna, endpoints ignored). */
static double gap_sigma(const struct kern *k, size_t n, size_t i,
			const struct dim *dm)
{
	double left = k[i].mu - (i ? k[i - 1].mu : dm->lo);
	double right = (i + 1 < n ? k[i + 1].mu : dm->hi) - k[i].mu;

	if (n >= 2 && i == 0)
		return right;
	if (n >= 2 && i == n - 1)
		return left;
	return fmax(left, right);
}

static void kern_finish(struct mix *m, const struct dim *dm)
{
	struct kern *k;
	size_t i;

	for (i = 0; i < m->n; i++) {
		k = &m->k[i];
		k->lw = log(k->w) - log_z(dm, k->mu, k->sigma);
		if (!dm->q)
			k->lw -= log(k->sigma) + LOG_SQRT_2PI;
		if (k->sigma > m->narrow)
			m->wide[m->nwide++] = i;
	}
}

/*
 * A mixture over mus (sorted, n) with unnormalised weights ws, plus the
 * prior kernel: Optuna's neighbour-gap bandwidths with the magic clip.
 */
static int mix_build(struct mix *m, const struct dim *dm, const double *mus,
		     const double *ws, size_t n, double prior_weight)
{
	size_t total = n + 1, i, j, pi;
	double wsum = prior_weight, minsigma;
	struct kern *k;

	memset(m, 0, sizeof(*m));
	m->k = k = malloc(total * sizeof(*k));
	m->wide = malloc(total * sizeof(*m->wide));
	if (!k || !m->wide)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		wsum += ws[i];
	for (pi = 0; pi < n && mus[pi] < dm->prior_mu; pi++)
		;
	for (i = 0, j = 0; i < total; i++) {
		if (i == pi) {
			k[i].mu = dm->prior_mu;
			k[i].w = prior_weight / wsum;
			continue;
		}
		k[i].mu = mus[j];
		k[i].w = ws[j++] / wsum;
	}
	minsigma = dm->range / fmin(100.0, 2.0 + (double)n);
	for (i = 0; i < total; i++)
		k[i].sigma =
			clampd(gap_sigma(k, total, i, dm), minsigma, dm->range);
	k[pi].sigma = dm->prior_sigma;
	m->n = total;
	m->narrow = 3 * minsigma;
	kern_finish(m, dm);
	return 0;
}

static double kern_term(const struct kern *k, const struct dim *dm, double x,
			double a, double b)
{
	double z;

	if (dm->q)
		return k->lw + log_phi_diff((a - k->mu) / k->sigma,
					    (b - k->mu) / k->sigma);
	z = (x - k->mu) / k->sigma;
	return k->lw - 0.5 * z * z;
}

static size_t lower_bound(const struct kern *k, size_t n, double v)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (k[mid].mu < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static double logsumexp(const double *t, size_t n)
{
	double mx = -INFINITY, s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i] > mx)
			mx = t[i];
	if (!isfinite(mx))
		return mx;
	for (i = 0; i < n; i++)
		s += exp(t[i] - mx);
	return mx + log(s);
}

/* log of the mixture's density (mass for discrete dims) at snapped x. */
static double mix_eval(const struct mix *m, const struct dim *dm, double x,
		       double *scratch)
{
	double a = x, b = x, half;
	size_t i, nt = 0;

	if (dm->q)
		dim_bin(dm, x, &a, &b);
	half = WINDOW_Z * m->narrow + (b - a);
	for (i = lower_bound(m->k, m->n, x - half);
	     i < m->n && m->k[i].mu <= x + half; i++)
		if (m->k[i].sigma <= m->narrow)
			scratch[nt++] = kern_term(&m->k[i], dm, x, a, b);
	for (i = 0; i < m->nwide; i++)
		scratch[nt++] = kern_term(&m->k[m->wide[i]], dm, x, a, b);
	return logsumexp(scratch, nt);
}

static double sample_trunc(struct rng *r, double mu, double s, double lo,
			   double hi)
{
	double v;
	int t;

	for (t = 0; t < 64; t++) {
		v = mu + s * rng_normal(r);
		if (v >= lo && v <= hi)
			return v;
	}
	return lo + (hi - lo) * rng_uniform(r);
}

static double mix_sample(const struct mix *m, const struct dim *dm,
			 struct rng *r)
{
	double u = rng_uniform(r), acc = 0;
	size_t i;

	for (i = 0; i + 1 < m->n; i++) {
		acc += m->k[i].w;
		if (u < acc)
			break;
	}
	return dim_snap(
		dm, sample_trunc(r, m->k[i].mu, m->k[i].sigma, dm->lo, dm->hi));
}

/* ---- categorical (univariate): a probability per choice ---- */

static int cat_probs(struct mix *m, const struct dim *dm, const struct work *w,
		     size_t j, const uint32_t *members, size_t nm)
{
	double pw = w->cfg->prior_weight, add = pw / ((double)nm + 1);
	double row = 1 + (double)dm->ncat * add, total = pw, wi;
	size_t i, c, obs;

	m->p = calloc(dm->ncat, sizeof(double));
	if (!m->p)
		return -ENOMEM;
	for (i = 0; i < nm; i++)
		total += w->weight[members[i]];
	for (c = 0; c < dm->ncat; c++)
		m->p[c] = pw / total / (double)dm->ncat;
	for (i = 0; i < nm; i++) {
		wi = w->weight[members[i]] / total;
		obs = (size_t)w->c->x[(size_t)members[i] * w->d + j];
		for (c = 0; c < dm->ncat; c++)
			m->p[c] += wi * add / row;
		m->p[obs] += wi / row;
	}
	return 0;
}

static size_t cat_sample(const double *p, size_t n, struct rng *r)
{
	double u = rng_uniform(r), acc = 0;
	size_t c;

	for (c = 0; c + 1 < n; c++) {
		acc += p[c];
		if (u < acc)
			break;
	}
	return c;
}

/* ---- univariate TPE ---- */

struct cand {
	double x, score;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

/* The numeric mixtures of dim j: l over the below group, g over above. */
static int build_num(struct work *w, size_t j, struct mix *l, struct mix *g)
{
	const struct tpe_cache *c = w->c;
	size_t n = w->nbelow > w->nabove ? w->nbelow : w->nabove, i, m, t;
	double *mus = malloc((n + 1) * sizeof(double)), v;
	double *ws = malloc((n + 1) * sizeof(double));
	uint32_t idx;
	int rc = -ENOMEM;

	if (!mus || !ws)
		goto out;
	for (i = 0; i < w->nbelow; i++) { /* insertion sort, <= 25 */
		idx = w->below[i];
		v = c->x[(size_t)idx * w->d + j];
		for (t = i; t > 0 && mus[t - 1] > v; t--) {
			mus[t] = mus[t - 1];
			ws[t] = ws[t - 1];
		}
		mus[t] = v;
		ws[t] = w->weight[idx];
	}
	rc = mix_build(l, &w->dims[j], mus, ws, w->nbelow,
		       w->cfg->prior_weight);
	if (rc)
		goto out;
	for (i = 0, m = 0; i < c->nsorted; i++) {
		idx = c->sorted[j][i];
		if (idx >= w->n || w->group[idx] != G_ABOVE)
			continue;
		mus[m] = c->x[(size_t)idx * w->d + j];
		ws[m++] = w->weight[idx];
	}
	rc = mix_build(g, &w->dims[j], mus, ws, m, w->cfg->prior_weight);
out:
	free(mus);
	free(ws);
	return rc;
}

/* ncand candidates for dim j, best first. */
static int uv_dim_candidates(struct work *w, size_t j, struct cand *cd,
			     size_t ncand)
{

	const struct dim *dm = &w->dims[j];
	struct mix l, g;
	size_t i;
	int rc;

	memset(&l, 0, sizeof(l));
	memset(&g, 0, sizeof(g));
	if (dm->cat) {
		rc = cat_probs(&l, dm, w, j, w->below, w->nbelow);
		if (!rc)
			rc = cat_probs(&g, dm, w, j, w->above, w->nabove);
		for (i = 0; !rc && i < ncand; i++) {
			cd[i].x = (double)cat_sample(l.p, dm->ncat, &w->rng);
			cd[i].score = log(l.p[(size_t)cd[i].x]) -
				      log(g.p[(size_t)cd[i].x]);
		}
	} else {
		rc = build_num(w, j, &l, &g);
		for (i = 0; !rc && i < ncand; i++) {
			cd[i].x = mix_sample(&l, dm, &w->rng);
			cd[i].score = mix_eval(&l, dm, cd[i].x, w->scratch) -
				      mix_eval(&g, dm, cd[i].x, w->scratch);
		}
	}
	mix_free(&l);
	mix_free(&g);
	if (!rc)
		qsort(cd, ncand, sizeof(*cd), cand_cmp);
	return rc;
}

static char **format_point(const struct work *w, const double *x)
{
	char **v = calloc(w->d ? w->d : 1, sizeof(*v));
	size_t j;

	for (j = 0; v && j < w->d; j++) {
		v[j] = dim_format(&w->dims[j], x[j]);
		if (!v[j]) {
			assignment_values_free(v, w->d);
			return NULL;
		}
	}
	return v;
}

/* Format x and return it unless a trial has it (then NULL, *rc 0). */
static char **try_point(const struct work *w, const double *x, int *rc)
{
	char **v = format_point(w, x);

	*rc = v ? 0 : -ENOMEM;
	if (v && cache_contains(w->c, v)) {
		assignment_values_free(v, w->d);
		return NULL;
	}
	return v;
}

static char **uv_suggest(struct work *w, int *rc)
{
	size_t ncand =
		(size_t)(w->cfg->n_candidates > 0 ? w->cfg->n_candidates : 1);
	struct cand *cd = calloc(w->d * ncand + 1, sizeof(*cd));
	size_t *pos = calloc(w->d + 1, sizeof(*pos)), j;

	double *x = calloc(w->d + 1, sizeof(*x));
	char **v = NULL;
	int t;

	*rc = -ENOMEM;
	if (!cd || !pos || !x)
		goto out;
	*rc = 0;
	for (j = 0; !*rc && j < w->d; j++)
		if (!w->dims[j].fixed)
			*rc = uv_dim_candidates(w, j, cd + j * ncand, ncand);
	for (t = 0; !*rc && t < PERTURB_TRIES; t++) {
		for (j = 0; j < w->d; j++)
			x[j] = cd[j * ncand + pos[j]].x;
		v = try_point(w, x, rc);
		if (v || *rc)
			break;
		j = (size_t)(rng_next(&w->rng) % (w->d ? w->d : 1));
		pos[j] = (pos[j] + 1) % ncand;
	}
out:
	free(cd);
	free(pos);
	free(x);
	return v;
}

/* ---- multivariate TPE: one joint mixture ---- */

struct mvmix {
	size_t n;      /* kernels; the last is the prior */
	double *mu;    /* n * d */
	double *mu_t;  /* d rows of `stride`: mu by dimension, zero-padded */
	double *s;     /* stride: a candidate's log terms (mv_eval) */
	size_t stride; /* n rounded up to a multiple of 4 */
	double *lz;    /* n * d: log Z (numeric dims) */
	double *c;     /* n: log w - sum over continuous dims of log norms */
	double *w;     /* n: normalised weights */
	double *sigma; /* d: observation bandwidths */
	double *lon, *loff;    /* d: categorical log row probabilities */
	double *inv;	       /* d: 1 / sigma */
	double *log_sigma;     /* d: log sigma */
	size_t *cont, ncont;   /* continuous dims */
	size_t *other, nother; /* discrete and categorical dims */
};

static void mv_free(struct mvmix *m)
{
	free(m->mu);
	free(m->mu_t);
	free(m->s);
	free(m->lz);
	free(m->c);
	free(m->w);
	free(m->sigma);
	free(m->lon);
	free(m->loff);
	free(m->inv);
	free(m->log_sigma);
	free(m->cont);
	free(m->other);
	memset(m, 0, sizeof(*m));
}

static double mv_sigma(const struct mvmix *m, const struct dim *dm, size_t k,
		       size_t j)
{
	return k + 1 == m->n ? dm->prior_sigma : m->sigma[j];
}

static void mv_bandwidths(struct mvmix *m, const struct work *w, size_t nm)
{
	double nobs = nm ? (double)nm : 1, pw = w->cfg->prior_weight;
	double add = pw / ((double)nm + 1), row, s, minsigma;
	const struct dim *dm;
	size_t j;

	for (j = 0; j < w->d; j++) {
		dm = &w->dims[j];
		if (dm->cat) {
			row = 1 + (double)dm->ncat * add;
			m->lon[j] = log((1 + add) / row);
			m->loff[j] = log(add / row);
			continue;
		}
		s = SIGMA0 * pow(nobs, -1.0 / ((double)w->d + 4)) * dm->range;
		minsigma = dm->range / fmin(100.0, 2.0 + (double)nm);
		m->sigma[j] = clampd(s, minsigma, dm->range);
	}
	for (j = 0; j < w->d; j++) {
		dm = &w->dims[j];
		if (dm->fixed)
			continue;
		if (!dm->cat && !dm->q) {
			m->inv[j] = 1 / m->sigma[j];
			m->log_sigma[j] = log(m->sigma[j]);
			m->cont[m->ncont++] = j;
		} else {
			m->other[m->nother++] = j;
		}
	}
}

static void mv_kernel(struct mvmix *m, const struct work *w, size_t k,
		      const double *x, double wk)
{
	const struct dim *dm;
	double s, c = log(wk);
	size_t j;

	m->w[k] = wk;
	for (j = 0; j < w->d; j++) {
		dm = &w->dims[j];
		m->mu[k * w->d + j] = x ? x[j] : dm->cat ? -1 : dm->prior_mu;
		m->mu_t[j * m->stride + k] = m->mu[k * w->d + j];
		if (dm->cat || dm->fixed)
			continue;
		s = mv_sigma(m, dm, k, j);
		m->lz[k * w->d + j] = log_z(dm, m->mu[k * w->d + j], s);
		if (!dm->q) /* log(s) as log(sigma) for all but the prior */
			c -= (k + 1 == m->n ? log(s) : m->log_sigma[j]) +
			     LOG_SQRT_2PI + m->lz[k * w->d + j];
	}
	m->c[k] = c;
}

/*
 * A group of more than MV_MAX_KERNELS trials is represented by an even
 * (stratified, in trial order) sample of that many, weighted to carry the
 * whole group's share, with the bandwidth of the whole group: the density
 * is the same up to sampling, and a suggestion costs O(MV_MAX_KERNELS)
 * instead of O(trials) (Optuna's TPE sums over every trial).
 */
#define MV_MAX_KERNELS 128

static int mv_build(struct mvmix *m, const struct work *w,
		    const uint32_t *members, size_t nm)
{
	double total = w->cfg->prior_weight, sum = 0, scale = 1;
	size_t i, ns = nm > MV_MAX_KERNELS ? MV_MAX_KERNELS : nm;
	size_t n = ns + 1, d = w->d ? w->d : 1;

	memset(m, 0, sizeof(*m));
	m->n = n;
	m->mu = malloc(n * d * sizeof(double));
	m->stride = (n + 3) & ~(size_t)3;
	m->mu_t = calloc(m->stride * d, sizeof(double));
	m->s = malloc(m->stride * sizeof(double));
	m->lz = calloc(n * d, sizeof(double));
	m->c = malloc(n * sizeof(double));
	m->w = malloc(n * sizeof(double));
	m->sigma = calloc(d, sizeof(double));
	m->lon = calloc(d, sizeof(double));
	m->loff = calloc(d, sizeof(double));
	m->inv = calloc(d, sizeof(double));
	m->log_sigma = calloc(d, sizeof(double));
	m->cont = calloc(d, sizeof(size_t));
	m->other = calloc(d, sizeof(size_t));
	if (!m->mu || !m->mu_t || !m->s || !m->lz || !m->c || !m->w ||
	    !m->sigma || !m->lon || !m->loff || !m->inv || !m->log_sigma ||
	    !m->cont || !m->other)
		return -ENOMEM;
	mv_bandwidths(m, w, nm);
	for (i = 0; i < nm; i++)
		total += w->weight[members[i]];
	if (ns < nm) {
		for (i = 0; i < ns; i++)
			sum += w->weight[members[i * nm / ns]];
		scale = (total - w->cfg->prior_weight) / sum;
	}
	for (i = 0; i < ns; i++) {
		uint32_t k = members[ns < nm ? i * nm / ns : i];

		mv_kernel(m, w, i, w->c->x + (size_t)k * w->d,
			  w->weight[k] * scale / total);
	}
	mv_kernel(m, w, ns, NULL, w->cfg->prior_weight / total);
	return 0;
}

/* Kernel k's log term from its continuous part s (what
 * mv_continuous_terms left of m->c[k]), adding its discrete and
 * categorical dims at x (bins a..b); -INFINITY when s is below `floor`. */
static double mv_finish(const struct mvmix *m, const struct work *w, size_t k,
			const double *x, const double *a, const double *b,
			double s, double floor)
{
	const double *mu = m->mu + k * w->d;
	const struct dim *dm;
	double sg;
	size_t j, t;

	if (m->ncont && s < floor)
		return -INFINITY;
	for (t = 0; t < m->nother; t++) {
		j = m->other[t];
		dm = &w->dims[j];
		if (dm->cat) {
			if (mu[j] >= 0)
				s += mu[j] == x[j] ? m->lon[j] : m->loff[j];
			else
				s -= log((double)dm->ncat);
		} else {
			sg = mv_sigma(m, dm, k, j);
			s += log_phi_diff((a[j] - mu[j]) / sg,
					  (b[j] - mu[j]) / sg) -
			     m->lz[k * w->d + j];
		}
	}
	return s;
}

/*
 * The continuous part of every kernel's log term at x into m->s[0..n):
 * log c_k - sum over continuous dims of z^2 / 2, a dimension at a time
 * over all kernels (contiguous, vectorisable). Each kernel's sum is taken
 * in the same order as one kernel at a time would, so the same bits; as
 * each step only subtracts, a sum below a floor at the end was below it
 * at every later step, and pruning it at the end drops the same kernels.
 */
static void mv_continuous_terms(const struct mvmix *m, const struct work *w,
				const double *x)
{
	double *restrict s = m->s, xj, inv, z, prior = m->c[m->n - 1];
	double z0, z1, z2, z3;
	const double *restrict mu;
	size_t k, t, j, n = m->n;

	memcpy(s, m->c, n * sizeof(*s));
	for (t = 0; t < m->ncont; t++) {
		j = m->cont[t];
		xj = x[j];
		inv = m->inv[j];
		mu = m->mu_t + j * m->stride;
		/* four at a time (the padding's terms are never read), so
		 * that the compiler may pair them in vector registers */
		for (k = 0; k < m->stride; k += 4) {
			z0 = (xj - mu[k]) * inv;
			z1 = (xj - mu[k + 1]) * inv;
			z2 = (xj - mu[k + 2]) * inv;
			z3 = (xj - mu[k + 3]) * inv;
			s[k] -= 0.5 * z0 * z0;
			s[k + 1] -= 0.5 * z1 * z1;
			s[k + 2] -= 0.5 * z2 * z2;
			s[k + 3] -= 0.5 * z3 * z3;
		}
		z = (xj - mu[n - 1]) * (1 / w->dims[j].prior_sigma);
		prior -= 0.5 * z * z; /* the prior's own bandwidth */
	}
	s[n - 1] = prior;
}

static double mv_eval(const struct mvmix *m, const struct work *w,
		      const double *x, const double *a, const double *b)
{
	double base, t;
	size_t k, nt = 0;

	mv_continuous_terms(m, w, x);
	base = mv_finish(m, w, m->n - 1, x, a, b, m->s[m->n - 1], -INFINITY);
	w->scratch[nt++] = base;
	for (k = 0; k + 1 < m->n; k++) {
		t = mv_finish(m, w, k, x, a, b, m->s[k], base - PRUNE_LOG);
		if (t > -INFINITY)
			w->scratch[nt++] = t;
	}
	return logsumexp(w->scratch, nt);
}

static void mv_sample(const struct mvmix *m, const struct work *w,
		      struct rng *r, double *x)
{
	double u = rng_uniform(r), acc = 0, keep;
	const struct dim *dm;
	const double *mu;
	size_t k, j;

	for (k = 0; k + 1 < m->n; k++) {
		acc += m->w[k];
		if (u < acc)
			break;
	}
	mu = m->mu + k * w->d;
	for (j = 0; j < w->d; j++) {
		dm = &w->dims[j];
		if (dm->fixed) {
			x[j] = 0;
		} else if (dm->cat) {
			keep = exp(m->lon[j]) - exp(m->loff[j]);
			if (mu[j] >= 0 && rng_uniform(r) < keep)
				x[j] = mu[j];
			else
				x[j] = (double)(rng_next(r) % dm->ncat);
		} else {
			x[j] = dim_snap(dm, sample_trunc(r, mu[j],
							 mv_sigma(m, dm, k, j),
							 dm->lo, dm->hi));
		}
	}
}

/* A candidate near one of the best trials: each numeric coordinate moved
 * by a normal of a fraction of the bandwidth, categories kept. */
static void mv_local(const struct mvmix *m, const struct work *w, struct rng *r,
		     double *x)
{
	size_t k, j, best = 0;
	const struct dim *dm;
	const double *mu;

	for (k = 1; k < w->nbelow; k++)
		if (w->loss[w->below[k]] < w->loss[w->below[best]])
			best = k;
	mu = w->c->x + (size_t)w->below[best] * w->d;
	for (j = 0; j < w->d; j++) {
		dm = &w->dims[j];
		if (dm->fixed || dm->cat)
			x[j] = dm->fixed ? 0 : mu[j];
		else
			x[j] = dim_snap(dm,
					sample_trunc(r, mu[j],
						     LOCAL_SCALE * m->sigma[j],
						     dm->lo, dm->hi));
	}
}

static void bins(const struct work *w, const double *x, double *a, double *b)
{
	size_t j;

	for (j = 0; j < w->d; j++)
		if (!w->dims[j].fixed && !w->dims[j].cat && w->dims[j].q)
			dim_bin(&w->dims[j], x[j], &a[j], &b[j]);
}

static char **mv_suggest(struct work *w, int *rc)
{
	size_t ncand =
		(size_t)(w->cfg->n_candidates > 0 ? w->cfg->n_candidates : 1);
	size_t d = w->d ? w->d : 1, i, nl = ncand;
	double *x;

	ncand += (ncand + 2) / 3; /* local candidates around the best */
	x = calloc(ncand * d, sizeof(double));
	double *a = calloc(d, sizeof(double)), *b = calloc(d, sizeof(double));
	struct cand *cd = calloc(ncand, sizeof(*cd));
	struct mvmix l, g;
	char **v = NULL;

	memset(&l, 0, sizeof(l));
	memset(&g, 0, sizeof(g));
	*rc = -ENOMEM;
	if (!x || !a || !b || !cd || mv_build(&l, w, w->below, w->nbelow) ||
	    mv_build(&g, w, w->above, w->nabove))
		goto out;
	for (i = 0; i < ncand; i++) {
		if (i >= nl)
			mv_local(&l, w, &w->rng, x + i * d);
		else
			mv_sample(&l, w, &w->rng, x + i * d);
		bins(w, x + i * d, a, b);
		cd[i].x = (double)i;
		cd[i].score = mv_eval(&l, w, x + i * d, a, b) -
			      mv_eval(&g, w, x + i * d, a, b);
	}
	qsort(cd, ncand, sizeof(*cd), cand_cmp);
	*rc = 0;
	for (i = 0; i < ncand && !v && !*rc; i++)
		v = try_point(w, x + (size_t)cd[i].x * d, rc);
out:
	mv_free(&l);
	mv_free(&g);
	free(x);
	free(a);
	free(b);
	free(cd);
	return v;
}

/* Startup point k of the scrambled Sobol sequence, unless used. */
static char **sobol_unused(const struct experiment_spec *spec, uint64_t seed,
			   size_t k, const struct tpe_cache *c, int *rc)
{
	size_t d = spec->nparams, j;
	double *u = calloc(d, sizeof(double));
	char **v = calloc(d, sizeof(*v));

	*rc = -ENOMEM;
	if (!u || !v)
		goto fail;
	sobol_point(k, d, seed_mix64(seed ^ 0x7b7eULL), u);
	for (j = 0; j < d; j++) {
		v[j] = sobol_map(&spec->params[j], u[j]);
		if (!v[j])
			goto fail;
	}
	free(u);
	*rc = 0;
	if (!cache_contains(c, v))
		return v;
	assignment_values_free(v, d);
	return NULL;
fail:
	free(u);
	assignment_values_free(v, d);
	return NULL;
}

/* ---- driver ---- */

static void work_free(struct work *w)
{
	free(w->loss);
	free(w->group);
	free(w->weight);
	free(w->below);
	free(w->above);
	free(w->scratch);
}

static int work_init(struct work *w, size_t n)
{
	w->n = n;
	w->loss = malloc((n + 1) * sizeof(double));
	w->group = malloc(n + 1);
	w->weight = malloc((n + 1) * sizeof(double));
	w->below = malloc((n + 1) * sizeof(uint32_t));
	w->above = malloc((n + 1) * sizeof(uint32_t));
	w->scratch = malloc((n + 2) * sizeof(double));
	if (!w->loss || !w->group || !w->weight || !w->below || !w->above ||
	    !w->scratch)
		return -ENOMEM;
	return 0;
}

/* The random fallback: needs a set of every assignment so far. */
static char **fallback(const struct experiment_spec *spec, struct rng *r,
		       const struct history_trial *trials, size_t k,
		       size_t total, int *rc)
{
	struct search_history h = { trials, k };
	struct assignment_set *used =
		assignment_set_from_history(&h, spec->nparams);
	char **v;

	if (!used) {
		*rc = -ENOMEM;
		return NULL;
	}
	v = search_random_unused(spec, r, used, total, rc);
	assignment_set_free(used);
	return v;
}

/* Suggestion number k (the history is trials[0..k-1]). */
static char **suggest_one(struct tpe_cache *c, const struct tpe_config *cfg,
			  const struct experiment_spec *spec, struct dim *dims,
			  const struct history_trial *trials, size_t k,
			  size_t total, int *rc)
{
	struct work w;
	char **v = NULL;
	size_t nmodel;

	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	w.spec = spec;
	w.c = c;
	w.dims = dims;
	w.d = spec->nparams;
	rng_seed(&w.rng, cfg->seed ^ seed_mix64(k + 0x9e3779b97f4a7c15ULL));
	*rc = cache_sync(c, dims, spec, trials, k, !cfg->multivariate);
	if (!*rc)
		*rc = work_init(&w, k);
	if (*rc)
		goto out;
	nmodel = spec_objective_count(spec) > 1 ? split_multi(&w, trials, rc)
						: split(&w, trials);
	if (*rc)
		goto out;
	if (nmodel && nmodel >= (size_t)cfg->n_startup && w.d)
		v = cfg->multivariate ? mv_suggest(&w, rc) : uv_suggest(&w, rc);
	else if (cfg->startup_sobol && w.d)
		v = sobol_unused(spec, cfg->seed, k, c, rc);
	if (!v && !*rc)
		v = fallback(spec, &w.rng, trials, k, total, rc);
out:
	work_free(&w);
	return v;
}

int tpe_suggest(struct tpe_cache *c, const struct tpe_config *cfg,
		const struct experiment_spec *spec,
		const struct search_history *h, size_t want, char ***out,
		struct kb_error *err)
{
	size_t d = spec->nparams, total = search_space_grid_size(spec), n = 0;
	struct dim *dims = calloc(d ? d : 1, sizeof(*dims));
	struct history_trial *aug = NULL;
	char **v;
	size_t i;
	int rc = -ENOMEM;

	aug = malloc((h->ntrials + want + 1) * sizeof(*aug));
	if (!dims || !aug)
		goto out;
	for (i = 0; i < d; i++)
		dim_init(&dims[i], &spec->params[i]);
	if (h->ntrials)
		memcpy(aug, h->trials, h->ntrials * sizeof(*aug));
	rc = 0;
	while (n < want) {
		v = suggest_one(c, cfg, spec, dims, aug, h->ntrials + n, total,
				&rc);
		if (!v)
			break;
		out[n] = v;
		memset(&aug[h->ntrials + n], 0, sizeof(*aug));
		aug[h->ntrials + n].values = v;
		aug[h->ntrials + n].state = HISTORY_PENDING;
		n++;
	}
out:
	free(aug);
	free(dims);
	if (rc) {
		while (n)
			assignment_values_free(out[--n], d);
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	return (int)n;
}

/* ---- the algorithm_ops shared by tpe.c and multivariate_tpe.c ---- */

struct tpe_algo {
	struct tpe_config cfg;
	struct tpe_cache *cache;
};

int tpe_algo_create(const struct experiment_spec *spec, const char *state,
		    const struct tpe_config *cfg, void **priv,
		    struct kb_error *err)
{
	struct tpe_algo *p = calloc(1, sizeof(*p));

	if (!p || !(p->cache = tpe_cache_new())) {
		free(p);
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	}
	p->cfg = *cfg;
	p->cfg.seed = seed_restore(spec, state);
	*priv = p;
	return 0;
}

int tpe_algo_suggest(void *priv, const struct experiment_spec *spec,
		     const struct search_history *history, size_t want,
		     char ***out, struct kb_error *err)
{
	struct tpe_algo *p = priv;

	return tpe_suggest(p->cache, &p->cfg, spec, history, want, out, err);
}

char *tpe_algo_save(void *priv)
{
	struct tpe_algo *p = priv;

	return seed_save(p->cfg.seed);
}

void tpe_algo_destroy(void *priv)
{
	struct tpe_algo *p = priv;

	if (!p)
		return;
	tpe_cache_free(p->cache);
	free(p);
}
