/*
 * sobol.c - scrambled Sobol sequence (Katib's goptuna Sobol service).
 *
 * Katib's sobol reads no settings and refuses none (goptuna); katibfs
 * takes any too, with a warning for each (spec_warn()), and refuses only a
 * random_state that is not an integer.
 *
 * Suggestion number k (k = trials so far, + i within a batch) is point k
 * of the Sobol sequence in Gray-code order over the parameters (Joe-Kuo
 * new-joe-kuo-6.21201 direction numbers for the first 64 dimensions),
 * scrambled by a random lower-triangular linear matrix scramble and a
 * random digital shift (Owen-style LMS + DS, as scipy's scramble=True). The
 * scramble is drawn from a seed chosen at the first create() and persisted
 * through save(), so restarts continue the same sequence.
 *
 * Each coordinate u in (0, 1) maps to its parameter: uniform in [min, max],
 * log-uniform for logUniform, the inverse normal CDF (mu = (min+max)/2,
 * sigma = (max-min)/6, as hyperopt) for normal/logNormal, clamped; ints
 * and steps by bins of width step; lists by floor(u * len). Points whose
 * assignment a trial already has (small discrete spaces) are replaced by
 * random unused ones; a full finite space ends the search.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "algorithms/sobol.h"

#define SOBOL_BITS 32

struct sobol_priv {
	uint64_t seed;
};

/* {primitive polynomial (with both end terms), degree, m_1..m_s} */
static const struct {
	uint16_t poly;
	uint8_t degree;
	uint16_t m[9];
} joe_kuo[SOBOL_MAX_DIMS] = {
	{ 1, 0, { 1 } },
	{ 3, 1, { 1 } },
	{ 7, 2, { 1, 3 } },
	{ 11, 3, { 1, 3, 1 } },
	{ 13, 3, { 1, 1, 1 } },
	{ 19, 4, { 1, 1, 3, 3 } },
	{ 25, 4, { 1, 3, 5, 13 } },
	{ 37, 5, { 1, 1, 5, 5, 17 } },
	{ 41, 5, { 1, 1, 5, 5, 5 } },
	{ 47, 5, { 1, 1, 7, 11, 19 } },
	{ 55, 5, { 1, 1, 5, 1, 1 } },
	{ 59, 5, { 1, 1, 1, 3, 11 } },
	{ 61, 5, { 1, 3, 5, 5, 31 } },
	{ 67, 6, { 1, 3, 3, 9, 7, 49 } },
	{ 91, 6, { 1, 1, 1, 15, 21, 21 } },
	{ 97, 6, { 1, 3, 1, 13, 27, 49 } },
	{ 103, 6, { 1, 1, 1, 15, 7, 5 } },
	{ 109, 6, { 1, 3, 1, 15, 13, 25 } },
	{ 115, 6, { 1, 1, 5, 5, 19, 61 } },
	{ 131, 7, { 1, 3, 7, 11, 23, 15, 103 } },
	{ 137, 7, { 1, 3, 7, 13, 13, 15, 69 } },
	{ 143, 7, { 1, 1, 3, 13, 7, 35, 63 } },
	{ 145, 7, { 1, 3, 5, 9, 1, 25, 53 } },
	{ 157, 7, { 1, 3, 1, 13, 9, 35, 107 } },
	{ 167, 7, { 1, 3, 1, 5, 27, 61, 31 } },
	{ 171, 7, { 1, 1, 5, 11, 19, 41, 61 } },
	{ 185, 7, { 1, 3, 5, 3, 3, 13, 69 } },
	{ 191, 7, { 1, 1, 7, 13, 1, 19, 1 } },
	{ 193, 7, { 1, 3, 7, 5, 13, 19, 59 } },
	{ 203, 7, { 1, 1, 3, 9, 25, 29, 41 } },
	{ 211, 7, { 1, 3, 5, 13, 23, 1, 55 } },
	{ 213, 7, { 1, 3, 7, 3, 13, 59, 17 } },
	{ 229, 7, { 1, 3, 1, 3, 5, 53, 69 } },
	{ 239, 7, { 1, 1, 5, 5, 23, 33, 13 } },
	{ 241, 7, { 1, 1, 7, 7, 1, 61, 123 } },
	{ 247, 7, { 1, 1, 7, 9, 13, 61, 49 } },
	{ 253, 7, { 1, 3, 3, 5, 3, 55, 33 } },
	{ 285, 8, { 1, 3, 1, 15, 31, 13, 49, 245 } },
	{ 299, 8, { 1, 3, 5, 15, 31, 59, 63, 97 } },
	{ 301, 8, { 1, 3, 1, 11, 11, 11, 77, 249 } },
	{ 333, 8, { 1, 3, 1, 11, 27, 43, 71, 9 } },
	{ 351, 8, { 1, 1, 7, 15, 21, 11, 81, 45 } },
	{ 355, 8, { 1, 3, 7, 3, 25, 31, 65, 79 } },
	{ 357, 8, { 1, 3, 1, 1, 19, 11, 3, 205 } },
	{ 361, 8, { 1, 1, 5, 9, 19, 21, 29, 157 } },
	{ 369, 8, { 1, 3, 7, 11, 1, 33, 89, 185 } },
	{ 391, 8, { 1, 3, 3, 3, 15, 9, 79, 71 } },
	{ 397, 8, { 1, 3, 7, 11, 15, 39, 119, 27 } },
	{ 425, 8, { 1, 1, 3, 1, 11, 31, 97, 225 } },
	{ 451, 8, { 1, 1, 1, 3, 23, 43, 57, 177 } },
	{ 463, 8, { 1, 3, 7, 7, 17, 17, 37, 71 } },
	{ 487, 8, { 1, 3, 1, 5, 27, 63, 123, 213 } },
	{ 501, 8, { 1, 1, 3, 5, 11, 43, 53, 133 } },
	{ 529, 9, { 1, 3, 5, 5, 29, 17, 47, 173, 479 } },
	{ 539, 9, { 1, 3, 3, 11, 3, 1, 109, 9, 69 } },
	{ 545, 9, { 1, 1, 1, 5, 17, 39, 23, 5, 343 } },
	{ 557, 9, { 1, 3, 1, 5, 25, 15, 31, 103, 499 } },
	{ 563, 9, { 1, 1, 1, 11, 11, 17, 63, 105, 183 } },
	{ 601, 9, { 1, 1, 5, 11, 9, 29, 97, 231, 363 } },
	{ 607, 9, { 1, 1, 5, 15, 19, 45, 41, 7, 383 } },
	{ 617, 9, { 1, 3, 7, 7, 31, 19, 83, 137, 221 } },
	{ 623, 9, { 1, 1, 1, 3, 23, 15, 111, 223, 83 } },
	{ 631, 9, { 1, 1, 5, 13, 31, 15, 55, 25, 161 } },
	{ 637, 9, { 1, 1, 3, 13, 25, 47, 39, 87, 257 } },
};

/* Direction numbers v[0..31] of dimension j (bit 31 = first digit). */
static void directions(size_t j, uint32_t *v)
{
	unsigned s = joe_kuo[j].degree, poly = joe_kuo[j].poly, k, i;

	if (j == 0) {
		for (k = 0; k < SOBOL_BITS; k++)
			v[k] = 1u << (SOBOL_BITS - 1 - k);
		return;
	}
	for (k = 0; k < s && k < SOBOL_BITS; k++)
		v[k] = (uint32_t)joe_kuo[j].m[k] << (SOBOL_BITS - 1 - k);
	for (k = s; k < SOBOL_BITS; k++) {
		v[k] = v[k - s] ^ (v[k - s] >> s);
		for (i = 1; i < s; i++)
			if ((poly >> (s - i)) & 1)
				v[k] ^= v[k - i];
	}
}

/* Apply a random lower-triangular unit-diagonal GF(2) matrix to v: output
 * digit k (from the top) = digit k xor a random subset of digits < k. */
static uint32_t lms(uint32_t v, const uint32_t *rows)
{
	uint32_t out = 0;
	unsigned k;

	for (k = 0; k < SOBOL_BITS; k++)
		out |= (uint32_t)__builtin_parity(v & rows[k])
		       << (SOBOL_BITS - 1 - k);
	return out;
}

static void scramble_rows(struct rng *r, uint32_t *rows)
{
	unsigned k;
	uint32_t above;

	for (k = 0; k < SOBOL_BITS; k++) {
		uint32_t diag = 1u << (SOBOL_BITS - 1 - k);

		above = k ? (uint32_t)(~0u << (SOBOL_BITS - k)) : 0;
		rows[k] = diag | ((uint32_t)rng_next(r) & above);
	}
}

static uint32_t sobol_coordinate(size_t j, uint64_t gray, uint64_t seed)
{
	uint32_t v[SOBOL_BITS], rows[SOBOL_BITS], x = 0;
	struct rng r;
	unsigned k;

	rng_seed(&r, seed ^ seed_mix64(0x50b01ULL + j));
	scramble_rows(&r, rows);
	directions(j, v);
	for (k = 0; k < SOBOL_BITS; k++)
		v[k] = lms(v[k], rows);
	for (k = 0; k < SOBOL_BITS && gray; k++, gray >>= 1)
		if (gray & 1)
			x ^= v[k];
	return x ^ (uint32_t)rng_next(&r); /* digital shift */
}

int sobol_point(uint64_t index, size_t ndims, uint64_t seed, double *u)
{
	uint64_t gray = index ^ (index >> 1);
	struct rng r;
	size_t j;

	for (j = 0; j < ndims; j++) {
		if (j < SOBOL_MAX_DIMS && index < (1ULL << SOBOL_BITS)) {
			u[j] = ((double)sobol_coordinate(j, gray, seed) + 0.5) *
			       0x1.0p-32;
			continue;
		}
		rng_seed(&r, seed ^ seed_mix64(index * 1315423911ULL + j));
		u[j] = (rng_uniform(&r) * 0x1.0p32 + 0.5) * 0x1.0p-32;
	}
	return 0;
}

/* ---- mapping a coordinate onto a parameter ---- */

static double phi_cdf(double z)
{
	return 0.5 * erfc(-z * M_SQRT1_2);
}

/* The standard normal quantile (Acklam, refined; |error| < 1e-13). */
static double normal_quantile(double p)
{
	static const double a[] = {
		-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
		-3.066479806614716e+01, 2.506628277459239e+00
	};
	static const double b[] = { -5.447609879822406e+01,
				    1.615858368580409e+02,
				    -1.556989798598866e+02,
				    6.680131188771972e+01,
				    -1.328068155288572e+01 };
	static const double c[] = {
		-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
		4.374664141464968e+00,	2.938163982698783e+00
	};
	static const double d[] = { 7.784695709041462e-03,
				    3.224671290700398e-01,
				    2.445134137142996e+00,
				    3.754408661907416e+00 };
	double q, r, x, e;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) *
			     q +
		     c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) *
			      q +
		      c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) *
			     r +
		     a[5]) *
		    q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) *
			     r +
		     1);
	}
	/* one Halley step */
	e = phi_cdf(x) - p;
	r = e * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - r / (1 + x * r / 2);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The value range [lo, hi] a coordinate spans: grid points +- step/2 for
 * ints and stepped doubles, so every point gets an equal share. */
static void value_range(const struct param_spec *p, double *lo, double *hi,
			double *q)
{
	double first, n;

	*q = p->type == PARAM_INT ? (p->step_value > 0 ? p->step_value : 1)
				  : p->step_value;
	if (!(*q > 0)) {
		*q = 0;
		*lo = p->min_value;
		*hi = p->max_value;
		return;
	}
	first = p->type == PARAM_INT ? ceil(p->min_value) : p->min_value;
	n = floor(((p->type == PARAM_INT ? floor(p->max_value) : p->max_value) -
		   first) /
			  *q +
		  1e-9);
	*lo = first - *q / 2;
	*hi = first + (n > 0 ? n : 0) * *q + *q / 2;
}

char *sobol_map(const struct param_spec *p, double u)
{
	double lo, hi, q, v, mu, sigma;
	int logscale;

	if (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE) {
		if (!p->nlist)
			return NULL;
		return strdup(p->list[(size_t)clampd(
			floor(u * (double)p->nlist), 0, (double)p->nlist - 1)]);
	}
	value_range(p, &lo, &hi, &q);
	logscale = (p->distribution == DIST_LOG_UNIFORM ||
		    p->distribution == DIST_LOG_NORMAL) &&
		   p->min_value > 0;
	if (logscale && lo <= 0)
		lo = p->min_value / 2;
	if (logscale) {
		lo = log(lo);
		hi = log(hi);
	}
	if (p->distribution == DIST_NORMAL ||
	    p->distribution == DIST_LOG_NORMAL) {
		mu = (lo + hi) / 2;
		sigma = (hi - lo) / 6;
		v = clampd(mu + sigma * normal_quantile(u), lo, hi);
	} else {
		v = lo + u * (hi - lo);
	}
	if (logscale)
		v = exp(v);
	return param_format(p, v);
}

/* ---- the algorithm ---- */

/* Katib's sobol service (goptuna) reads no setting and refuses none. */
static const struct setting_rule sobol_rules[] = {
	{ "random_state", SETTING_INT, -INFINITY, INFINITY, 0, NULL },
	{ .name = NULL },
};

static int sobol_validate(const struct experiment_spec *spec,
			  struct kb_error *err)
{
	const struct algorithm_setting *s =
		setting_find(&spec->algorithm, "random_state");
	int rc = settings_validate(&spec->algorithm, sobol_rules, 1, err);

	if (rc)
		return rc;
	settings_warn_unknown(spec, sobol_rules,
			      "Katib's sobol service, goptuna, ignores it too");
	if (s)
		spec_warn(spec,
			  "spec.algorithm.algorithmSettings[random_state]",
			  "ignored: katibfs's sobol draws its scramble from a "
			  "seed of its own, kept in its state (Katib's sobol "
			  "service ignores random_state too)");
	return 0;
}

static int sobol_create(const struct experiment_spec *spec, const char *state,
			void **priv, struct kb_error *err)
{
	struct sobol_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	p->seed = seed_restore(NULL, state);
	*priv = p;
	return 0;
}

static char *sobol_save(void *priv)
{
	struct sobol_priv *p = priv;

	return seed_save(p->seed);
}

static void sobol_destroy(void *priv)
{
	free(priv);
}

static char **sobol_assignment(const struct experiment_spec *spec,
			       uint64_t seed, uint64_t k, double *u)
{
	char **v = calloc(spec->nparams ? spec->nparams : 1, sizeof(*v));
	size_t j;

	if (!v)
		return NULL;
	sobol_point(k, spec->nparams, seed, u);
	for (j = 0; j < spec->nparams; j++) {
		v[j] = sobol_map(&spec->params[j], u[j]);
		if (!v[j]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

struct sobol_ctx {
	uint64_t seed;
	double *u; /* nparams + 1 coordinates */
};

/* Suggestion number k: the Sobol point, or a random unused one. */
static char **suggest_one(void *ctx, const struct experiment_spec *spec,
			  uint64_t k, const struct assignment_set *used,
			  size_t total, int *rc)
{
	struct sobol_ctx *c = ctx;
	char **v = sobol_assignment(spec, c->seed, k, c->u);
	struct rng r;

	*rc = v ? 0 : -ENOMEM;
	if (!v || !assignment_set_contains(used, v))
		return v;
	assignment_values_free(v, spec->nparams);
	rng_seed(&r, c->seed ^ seed_mix64(k + 0x9e3779b97f4a7c15ULL));
	return search_random_unused(spec, &r, used, total, rc);
}

static int sobol_suggest(void *priv, const struct experiment_spec *spec,
			 const struct search_history *history, size_t want,
			 char ***out, struct kb_error *err)
{
	struct sobol_priv *p = priv;
	struct sobol_ctx c = { p->seed,
			       calloc(spec->nparams + 1, sizeof(double)) };
	int rc;

	if (!c.u)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	rc = search_suggest_distinct(spec, history, want, out, err, suggest_one,
				     &c);
	free(c.u);
	return rc;
}

const struct algorithm_ops algorithm_sobol = {
	.name = "sobol",
	.implemented = 1,
	.validate = sobol_validate,
	.create = sobol_create,
	.suggest = sobol_suggest,
	.save = sobol_save,
	.destroy = sobol_destroy,
};
