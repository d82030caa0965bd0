/*
 * sobol.c - the Sobol sequence: Katib's sobol algorithm (its goptuna
 * service), and the scrambled points tpe starts from.
 *
 * Without random_state, the sequence Katib's goptuna sampler draws
 * (github.com/c-bata/goptuna/sobol, as Katib's converter builds it:
 * sobol.NewSampler(), no scrambling, no skip): suggestion k (k = trials
 * so far, + i within a batch) is point k + 1 of the unscrambled sequence
 * (point 0, the origin, is never drawn), in Gray-code order, Joe-Kuo
 * new-joe-kuo-6.21201 direction numbers, the parameters taking the
 * dimensions in the byte order of their names as goptuna sorts them.
 * Katib's service ignores random_state; here it selects:
 *
 * With random_state, the same points under a nested uniform (Owen)
 * scramble, hash-based as Burley ("Practical Hash-based Owen Scrambling",
 * JCGT 2020) with Vegdahl's improved Laine-Karras hash: each coordinate's
 * bits are reversed, permuted by a hash in which a bit depends only on
 * the bits above it in the original order (a random permutation of every
 * subinterval of every level, Owen 1998), and reversed back, the hash
 * seeded by random_state and the dimension. Different seeds give
 * different sequences; each keeps the net's stratification, every point
 * is uniform, and suggestion k is point k (from 0).
 *
 * Katib's sobol reads no settings and refuses none (goptuna); katibfs
 * takes any other too, with a warning for each (spec_warn()), and refuses
 * only a random_state that is not an integer.
 *
 * sobol_point() (tpe's startup points) scrambles by a random
 * lower-triangular linear matrix scramble and a digital shift instead.
 *
 * Each coordinate u in (0, 1) maps to its parameter: uniform in [min, max],
 * log-uniform for logUniform, the inverse normal CDF (mu = (min+max)/2,
 * sigma = (max-min)/6, as hyperopt) for normal/logNormal, clamped; ints
 * and steps by bins of width step; lists by floor(u * len). For a uniform
 * double that is goptuna's value; goptuna ignores `distribution` and its
 * ints and steps never reach max (floor(u * (max - min))), katibfs's do.
 * Points whose assignment a trial already has (small discrete spaces)
 * are replaced by random unused ones; a full finite space ends the search.
 * Past 64 dimensions (or 2^32 points) coordinates are pseudo-random.
 *
 * Owns: the sobol algorithm's state (sobol_create(), sobol_destroy()); a
 * value sobol_map() returns is the caller's.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "katib/algorithm.h"
#include "algorithms/sobol.h"

#define SOBOL_BITS 32

struct sobol_priv {
	int scrambled; /* random_state given: Owen-scrambled */
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

/* Coordinate j of the unscrambled point with Gray code `gray`. */
static uint32_t sobol_plain(size_t j, uint64_t gray)
{
	uint32_t v[SOBOL_BITS], x = 0;
	unsigned k;

	directions(j, v);
	for (k = 0; k < SOBOL_BITS && gray; k++, gray >>= 1)
		if (gray & 1)
			x ^= v[k];
	return x;
}

static uint32_t reverse_bits(uint32_t x)
{
	x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
	x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
	x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
	x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
	return (x >> 16) | (x << 16);
}

/*
 * Nested uniform scramble of x (bit 31 = the first binary digit): on the
 * reversed bits, an add and multiplications by even constants change a
 * bit only from the bits below it, i.e. from the digits before it, which
 * is what an Owen permutation tree does (Vegdahl's LK hash, Burley 2020).
 */
static uint32_t owen_scramble(uint32_t x, uint32_t seed)
{
	x = reverse_bits(x);
	x ^= x * 0x3d20adeau;
	x += seed;
	x *= (seed >> 16) | 1;
	x ^= x * 0x05526c56u;
	x ^= x * 0x53a22864u;
	return reverse_bits(x);
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

/* Coordinate j of point `index` as a double in (0, 1) from the 32-bit
 * digits x, or pseudo-random where the sequence has no more. */
static double unit(uint32_t x)
{
	return ((double)x + 0.5) * 0x1.0p-32;
}

static double beyond(uint64_t index, size_t j, uint64_t seed)
{
	struct rng r;

	rng_seed(&r, seed ^ seed_mix64(index * 1315423911ULL + j));
	return (rng_uniform(&r) * 0x1.0p32 + 0.5) * 0x1.0p-32;
}

static int in_table(uint64_t index, size_t j)
{
	return j < SOBOL_MAX_DIMS && index < (1ULL << SOBOL_BITS);
}

/* Point `index` of the Owen-scrambled sequence (seed: random_state). */
static void sobol_point_owen(uint64_t index, size_t ndims, uint64_t seed,
			     double *u)
{
	uint64_t gray = index ^ (index >> 1);
	size_t j;

	for (j = 0; j < ndims; j++)
		u[j] = in_table(index, j)
			       ? unit(owen_scramble(
					 sobol_plain(j, gray),
					 (uint32_t)seed_mix64(seed ^
							      (0x0e11ULL + j))))
			       : beyond(index, j, seed);
}

/* Point `index` of the unscrambled sequence (Katib's goptuna). */
static void sobol_point_plain(uint64_t index, size_t ndims, double *u)
{
	uint64_t gray = index ^ (index >> 1);
	size_t j;

	for (j = 0; j < ndims; j++)
		u[j] = in_table(index, j)
			       ? (double)sobol_plain(j, gray) * 0x1.0p-32
			       : beyond(index, j, 0);
}

int sobol_point(uint64_t index, size_t ndims, uint64_t seed, double *u)
{
	uint64_t gray = index ^ (index >> 1);
	size_t j;

	for (j = 0; j < ndims; j++)
		u[j] = in_table(index, j)
			       ? unit(sobol_coordinate(j, gray, seed))
			       : beyond(index, j, seed);
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
	int rc = settings_validate(&spec->algorithm, sobol_rules, 1, err);

	if (rc)
		return rc;
	settings_warn_unknown(spec, sobol_rules,
			      "Katib's sobol service, goptuna, ignores it too");
	return 0;
}

/* random_state, any integer (Katib takes negative ones too): 1 and *seed
 * set, or 0 without one. */
static int sobol_random_state(const struct experiment_spec *spec,
			      uint64_t *seed)
{
	const struct algorithm_setting *s =
		setting_find(&spec->algorithm, "random_state");
	long v;

	if (!s || setting_int(s, LONG_MIN, LONG_MAX, &v, NULL))
		return 0;
	*seed = (uint64_t)v;
	return 1;
}

static int sobol_create(const struct experiment_spec *spec, const char *state,
			void **priv, struct kb_error *err)
{
	struct sobol_priv *p = calloc(1, sizeof(*p));

	(void)state; /* everything follows from the spec */
	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	p->scrambled = sobol_random_state(spec, &p->seed);
	*priv = p;
	return 0;
}

/* Stateless: the points follow from the spec and the trial count. */
static char *sobol_save(void *priv)
{
	(void)priv;
	return NULL;
}

static void sobol_destroy(void *priv)
{
	free(priv);
}

struct sobol_ctx {
	const struct sobol_priv *p;
	double *u;    /* nparams coordinates */
	size_t *dims; /* the dimension of each parameter */
};

/* Goptuna gives the dimensions to the parameters sorted by name. */
static void dims_by_name(const struct experiment_spec *spec, size_t *dims)
{
	size_t i, j;

	for (i = 0; i < spec->nparams; i++) {
		dims[i] = 0;
		for (j = 0; j < spec->nparams; j++)
			dims[i] += strcmp(spec->params[j].name,
					  spec->params[i].name) < 0 ||
				   (!strcmp(spec->params[j].name,
					    spec->params[i].name) &&
				    j < i);
	}
}

static char **sobol_assignment(const struct experiment_spec *spec,
			       struct sobol_ctx *c, uint64_t k)
{
	char **v = calloc(spec->nparams ? spec->nparams : 1, sizeof(*v));
	size_t j;

	if (!v)
		return NULL;
	if (c->p->scrambled)
		sobol_point_owen(k, spec->nparams, c->p->seed, c->u);
	else
		sobol_point_plain(k + 1, spec->nparams, c->u);
	for (j = 0; j < spec->nparams; j++) {
		v[j] = sobol_map(&spec->params[j],
				 c->u[c->p->scrambled ? j : c->dims[j]]);
		if (!v[j]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

/* Suggestion number k: the Sobol point, or a random unused one. */
static char **suggest_one(void *ctx, const struct experiment_spec *spec,
			  uint64_t k, const struct assignment_set *used,
			  size_t total, int *rc)
{
	struct sobol_ctx *c = ctx;
	char **v = sobol_assignment(spec, c, k);
	struct rng r;

	*rc = v ? 0 : -ENOMEM;
	if (!v || !assignment_set_contains(used, v))
		return v;
	assignment_values_free(v, spec->nparams);
	rng_seed(&r, c->p->seed ^ seed_mix64(k + 0x9e3779b97f4a7c15ULL));
	return search_random_unused(spec, &r, used, total, rc);
}

static int sobol_suggest(void *priv, const struct experiment_spec *spec,
			 const struct search_history *history, size_t want,
			 char ***out, struct kb_error *err)
{
	struct sobol_ctx c = { priv, calloc(spec->nparams + 1, sizeof(double)),
			       calloc(spec->nparams + 1, sizeof(size_t)) };
	int rc;

	if (!c.u || !c.dims) {
		rc = kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	dims_by_name(spec, c.dims);
	rc = search_suggest_distinct(spec, history, want, out, err, suggest_one,
				     &c);
out:
	free(c.u);
	free(c.dims);
	return rc;
}

const struct algorithm_ops algorithm_sobol = {
	.name = "sobol",
	.implemented = 1,
	.suggests_in_microseconds = 1,
	.validate = sobol_validate,
	.create = sobol_create,
	.suggest = sobol_suggest,
	.save = sobol_save,
	.destroy = sobol_destroy,
	.multi_objective = 1,
};
