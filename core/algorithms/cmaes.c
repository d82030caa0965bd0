/*
 * cmaes.c - CMA-ES (Katib's goptuna CMA-ES service).
 *
 * Hansen's (mu/mu_w, lambda)-CMA-ES as in "The CMA Evolution Strategy: A
 * Tutorial": weighted recombination, cumulative step-size adaptation,
 * rank-one and rank-mu covariance updates, eigendecomposition of C by
 * LAPACKE_dsyevd after every generation.
 *
 * Space: every parameter is one coordinate of [0, 1]^d. int/double are
 * linear or logarithmic (logUniform/logNormal with min > 0); ints and
 * steps cover [min - step/2, max + step/2] so that each grid point gets an
 * equal share, and are rounded only when a candidate is formatted.
 * Categorical/discrete parameters are a continuous coordinate too, cut
 * into equal intervals, one per list entry (index = floor(u * n)): the
 * ranking moves them like any other coordinate. Candidates outside the box
 * are resampled (then clipped).
 *
 * The mean starts at the centre of the box with sigma = the `sigma`
 * setting (a fraction of each parameter's range, default 0.25).
 *
 * The current generation's candidates live in the state: each suggest()
 * matches finished trials back to them by their assignment (values are
 * unique: no suggestion repeats a trial), replaces failed or lost ones by
 * new samples, and updates the distribution once lambda of them have an
 * objective. A candidate whose rounding repeats an earlier trial is
 * resampled; when that keeps failing the search has collapsed onto the
 * grid. More parallel slots than lambda get extra samples of the same
 * distribution.
 *
 * Trials cmaes did not suggest (EXP/queue, a warm start: every history
 * entry whose index it neither issued nor took in before) are taken in
 * once they have an objective: before the first generation, the mean
 * starts at the best of them; later, each joins the current generation as
 * a done candidate, its step from the mean clipped to the Mahalanobis
 * length of a typical sample (Hansen 2011, "Injecting external solutions
 * into CMA-ES"), so one far point cannot blow up the covariance. The
 * indices already accounted for are kept in the state.
 *
 * Restarts (restart_strategy): ipop doubles lambda and restarts from a
 * random mean when sigma collapses (sigma * max sqrt(C_ii) < 1e-6), the
 * best values stagnate (range < 1e-12 over 10 + 30 d / lambda
 * generations), C is ill-conditioned (> 1e14), or no new point can be
 * found; bipop alternates such large-population runs with small ones
 * (Hansen 2009) by their evaluation budgets. none never restarts (a
 * collapsed search then proposes uniform random points).
 *
 * Reproducible: candidate i of generation g in run r draws from an rng
 * seeded by (random_state, r, g, i, attempt). The whole state is JSON
 * (cJSON) in save(), so an unmount/mount resumes exactly.
 *
 * Owns: the algorithm's state (cmaes_create(), cmaes_destroy()): its runs,
 * generations, candidates and the assignments seen.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "katib/algorithm.h"
#include "algorithms/linalg.h"

static const char *const restart_strategies[] = { "ipop", "bipop", "none",
						  NULL };

static const struct setting_rule cmaes_rules[] = {
	/* goptuna reads it with strconv.Atoi: any integer */
	{ "random_state", SETTING_INT, -INFINITY, INFINITY, 0, NULL },
	{ "sigma", SETTING_DOUBLE, 0, INFINITY, SETTING_MIN_OPEN, NULL },
	{ "restart_strategy", SETTING_CHOICE, 0, 0, 0, restart_strategies },
	{ .name = NULL },
};

#define SIGMA_DEFAULT (1.0 / 6)
#define TOL_X	      1e-6
#define TOL_FUN	      1e-12
#define MAX_COND      1e14
#define SAMPLE_TRIES  50
#define DUP_TRIES     30

/* Goptuna: at least two int/double parameters, names unique. */
static int cmaes_params_check(const struct experiment_spec *spec,
			      struct kb_error *err)
{
	size_t i, j, numeric = 0;
	char field[64];

	for (i = 0; i < spec->nparams; i++) {
		if (spec->params[i].type == PARAM_INT ||
		    spec->params[i].type == PARAM_DOUBLE)
			numeric++;
		for (j = 0; j < i; j++) {
			if (!spec->params[i].name || !spec->params[j].name ||
			    strcmp(spec->params[i].name, spec->params[j].name))
				continue;
			snprintf(field, sizeof(field),
				 "spec.parameters[%zu].name", i);
			return kb_error_set(err, -EINVAL, field, 0,
					    "duplicate parameter name '%s'",
					    spec->params[i].name);
		}
	}
	if (numeric >= 2)
		return 0;
	return kb_error_set(err, -EINVAL, "spec.parameters", 0,
			    "cmaes needs at least 2 int or double parameters, "
			    "found %zu",
			    numeric);
}

static int cmaes_validate(const struct experiment_spec *spec,
			  struct kb_error *err)
{
	int rc = settings_validate(&spec->algorithm, cmaes_rules, 1, err);

	if (!rc)
		settings_warn_unknown(spec, cmaes_rules,
				      "Katib's cmaes service, goptuna, "
				      "ignores it too");
	return rc ? rc : cmaes_params_check(spec, err);
}

/* ---- state ---- */

enum restart { RESTART_NONE, RESTART_IPOP, RESTART_BIPOP };

enum cand_state { CAND_FRESH, CAND_ISSUED, CAND_DONE };

struct cand {
	double *x;     /* d */
	char **values; /* when issued */
	enum cand_state state;
	double f;    /* minimised objective when done */
	long at;     /* history index it was issued as */
	int attempt; /* resamples so far */
};

struct cma {
	uint64_t seed;
	enum restart strategy;
	size_t d, nparams;
	double sigma0;
	int lambda0;
	/* the current run */
	int restarts, lambda, mu, gen;
	double *w, mueff, cc, cs, c1, cmu, damps, chin;
	double *m, sigma, *C, *B, *D, *pc, *ps;
	double *fbest; /* best f of each generation, ring */
	int nfbest, fbest_cap;
	/* bipop budgets */
	long evals_large, evals_small, evals_run;
	int n_large, small_run;
	/* the current generation */
	struct cand *cands;
	int ncand, cand_cap;
	/* history indices issued or taken in (sorted, for foreign trials) */
	long *seen;
	size_t nseen, seen_cap;
};

static void rng_for(const struct cma *c, struct rng *r, uint64_t a, uint64_t b)
{
	uint64_t s = c->seed;

	s = seed_mix64(s ^ (uint64_t)c->restarts * 0x9e3779b97f4a7c15ULL);
	s = seed_mix64(s ^ (uint64_t)c->gen * 0xc2b2ae3d27d4eb4fULL);
	s = seed_mix64(s ^ a * 0x165667b19e3779f9ULL);
	rng_seed(r, seed_mix64(s ^ b));
}

static void cand_clear(struct cand *k, size_t nparams)
{
	assignment_values_free(k->values, nparams);
	k->values = NULL;
}

static void cands_free(struct cma *c)
{
	int i;

	for (i = 0; i < c->ncand; i++) {
		cand_clear(&c->cands[i], c->nparams);
		free(c->cands[i].x);
	}
	free(c->cands);
	c->cands = NULL;
	c->ncand = c->cand_cap = 0;
}

static void run_free(struct cma *c)
{
	free(c->w);
	free(c->m);
	free(c->C);
	free(c->B);
	free(c->D);
	free(c->pc);
	free(c->ps);
	free(c->fbest);
	c->w = c->m = c->C = c->B = c->D = c->pc = c->ps = c->fbest = NULL;
}

static void cma_free(struct cma *c)
{
	if (!c)
		return;
	cands_free(c);
	run_free(c);
	free(c->seen);
	free(c);
}

/* Weights for lambda: Hansen's 2016 tutorial, negative ones included
 * (active CMA), as the cmaes library Optuna uses does. */
static void run_weights(struct cma *c, double d)
{
	double pos = 0, pos2 = 0, neg = 0, neg2 = 0, mueff_neg, amin;
	int i;

	for (i = 0; i < c->lambda; i++) {
		c->w[i] = log((c->lambda + 1) / 2.0) - log(i + 1.0);
		if (c->w[i] >= 0) {
			pos += c->w[i];
			pos2 += c->w[i] * c->w[i];
		} else {
			neg -= c->w[i];
			neg2 += c->w[i] * c->w[i];
		}
	}
	c->mueff = pos * pos / pos2;
	mueff_neg = neg2 > 0 ? neg * neg / neg2 : 0;
	c->c1 = 2 / ((d + 1.3) * (d + 1.3) + c->mueff);
	c->cmu = fmin(1 - c->c1 - 1e-8, 2 * (c->mueff - 2 + 1 / c->mueff) /
						((d + 2) * (d + 2) + c->mueff));
	amin = fmin(1 + c->c1 / c->cmu, 1 + 2 * mueff_neg / (c->mueff + 2));
	amin = fmin(amin, (1 - c->c1 - c->cmu) / (d * c->cmu));
	for (i = 0; i < c->lambda; i++)
		c->w[i] = c->w[i] >= 0 ? c->w[i] / pos
			  : neg > 0    ? amin * c->w[i] / neg
				       : 0;
}

/* Strategy parameters for lambda (Hansen's defaults). */
static int run_params(struct cma *c)
{
	double d = (double)c->d;

	c->mu = c->lambda / 2;
	free(c->w);
	c->w = malloc((size_t)c->lambda * sizeof(*c->w));
	if (!c->w)
		return -ENOMEM;
	run_weights(c, d);
	c->cc = (4 + c->mueff / d) / (d + 4 + 2 * c->mueff / d);
	c->cs = (c->mueff + 2) / (d + c->mueff + 5);
	c->damps = 1 + 2 * fmax(0, sqrt((c->mueff - 1) / (d + 1)) - 1) + c->cs;
	c->chin = sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d * d));
	c->fbest_cap = 10 + (int)ceil(30 * d / c->lambda);
	free(c->fbest);
	c->fbest = calloc((size_t)c->fbest_cap, sizeof(*c->fbest));
	c->nfbest = 0;
	return c->fbest ? 0 : -ENOMEM;
}

static int run_alloc(struct cma *c)
{
	size_t d = c->d;

	c->m = calloc(d, sizeof(*c->m));
	c->C = calloc(d * d, sizeof(*c->C));
	c->B = calloc(d * d, sizeof(*c->B));
	c->D = calloc(d, sizeof(*c->D));
	c->pc = calloc(d, sizeof(*c->pc));
	c->ps = calloc(d, sizeof(*c->ps));
	if (!c->m || !c->C || !c->B || !c->D || !c->pc || !c->ps)
		return -ENOMEM;
	return 0;
}

/* B and D from C; -EDOM if C is not positive definite. */
static int eigen(struct cma *c)
{
	size_t d = c->d, i;
	int rc;

	memcpy(c->B, c->C, d * d * sizeof(*c->B));
	rc = linalg_sym_eig(c->B, d, c->D);
	if (rc)
		return rc;
	for (i = 0; i < d; i++) {
		if (!(c->D[i] > 0))
			return -EDOM;
		c->D[i] = sqrt(c->D[i]);
	}
	return 0;
}

/* A fresh run: mean (centre or random), sigma, C = I. */
static int run_start(struct cma *c, int random_mean, double sigma)
{
	struct rng r;
	size_t i;
	int rc;

	rc = run_params(c);
	if (rc)
		return rc;
	rng_for(c, &r, 0xfeed, 0);
	memset(c->C, 0, c->d * c->d * sizeof(*c->C));
	for (i = 0; i < c->d; i++) {
		c->m[i] = random_mean ? rng_uniform(&r) : 0.5;
		c->C[i * c->d + i] = 1;
		c->pc[i] = c->ps[i] = 0;
	}
	c->sigma = sigma;
	c->gen = 0;
	c->evals_run = 0;
	cands_free(c);
	return eigen(c);
}

/* ---- the space ---- */

static int is_cat(const struct param_spec *p)
{
	return p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE;
}

static int is_log(const struct param_spec *p)
{
	return p->min_value > 0 && (p->distribution == DIST_LOG_UNIFORM ||
				    p->distribution == DIST_LOG_NORMAL);
}

/* Transformed bounds of a numeric parameter. */
static void bounds(const struct param_spec *p, double *lo, double *hi)
{
	double step = p->type == PARAM_INT && !(p->step_value > 0)
			      ? 1
			      : p->step_value;

	if (is_log(p)) {
		*lo = log(p->min_value);
		*hi = log(p->max_value);
		return;
	}
	*lo = p->min_value - step / 2;
	*hi = p->max_value + step / 2;
}

static char *decode_param(const struct param_spec *p, double u)
{
	double lo, hi, t;

	u = u < 0 ? 0 : u > 1 ? 1 : u;
	if (is_cat(p)) {
		if (!p->nlist)
			return NULL;
		t = floor(u * (double)p->nlist);
		return param_format(p, t >= p->nlist ? p->nlist - 1 : t);
	}
	bounds(p, &lo, &hi);
	t = lo + u * (hi - lo);
	if (is_log(p))
		t = exp(t);
	return param_format(p, t);
}

static char **decode(const struct experiment_spec *spec, const double *x)
{
	char **v = calloc(spec->nparams ? spec->nparams : 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < spec->nparams; i++) {
		v[i] = decode_param(&spec->params[i], x[i]);
		if (!v[i]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

/* ---- sampling ---- */

static int in_box(const double *x, size_t d)
{
	size_t i;

	for (i = 0; i < d; i++)
		if (x[i] < 0 || x[i] > 1)
			return 0;
	return 1;
}

/* x = m + sigma B D z, resampled into the box, then clipped. */
static void sample_x(const struct cma *c, struct rng *r, double *x, double *z)
{
	size_t d = c->d, i, j;
	int t;

	for (t = 0; t < SAMPLE_TRIES; t++) {
		for (i = 0; i < d; i++)
			z[i] = c->D[i] * rng_normal(r);
		for (i = 0; i < d; i++) {
			x[i] = c->m[i];
			for (j = 0; j < d; j++)
				x[i] += c->sigma * c->B[i * d + j] * z[j];
		}
		if (in_box(x, d))
			return;
	}
	for (i = 0; i < d; i++)
		x[i] = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];
}

/* Fill candidate k with a new sample whose assignment is unused; returns
 * 1 if found, 0 if the search collapsed (k holds a duplicate), or -ENOMEM. */
static int cand_sample(struct cma *c, const struct experiment_spec *spec, int k,
		       const struct assignment_set *used, double *z)
{
	struct cand *cd = &c->cands[k];
	struct rng r;
	int t;

	cand_clear(cd, c->nparams);
	cd->state = CAND_FRESH;
	for (t = 0; t < DUP_TRIES; t++) {
		rng_for(c, &r, (uint64_t)k, (uint64_t)cd->attempt++);
		sample_x(c, &r, cd->x, z);
		cand_clear(cd, c->nparams);
		cd->values = decode(spec, cd->x);
		if (!cd->values)
			return -ENOMEM;
		if (!assignment_set_contains(used, cd->values))
			return 1;
	}
	return 0;
}

/* A uniform point (collapsed runs without restarts). */
static int cand_uniform(struct cma *c, const struct experiment_spec *spec,
			int k, const struct assignment_set *used)
{
	struct cand *cd = &c->cands[k];
	struct rng r;
	size_t i;
	int t;

	for (t = 0; t < DUP_TRIES; t++) {
		rng_for(c, &r, (uint64_t)k + 0x10000, (uint64_t)cd->attempt++);
		for (i = 0; i < c->d; i++)
			cd->x[i] = rng_uniform(&r);
		cand_clear(cd, c->nparams);
		cd->values = decode(spec, cd->x);
		if (!cd->values)
			return -ENOMEM;
		if (!assignment_set_contains(used, cd->values))
			return 1;
	}
	return 0;
}

static int cand_add(struct cma *c)
{
	struct cand *n;
	int cap;

	if (c->ncand == c->cand_cap) {
		cap = c->cand_cap ? 2 * c->cand_cap : 16;
		n = realloc(c->cands, (size_t)cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->cands = n;
		c->cand_cap = cap;
	}
	n = &c->cands[c->ncand];
	memset(n, 0, sizeof(*n));
	n->x = calloc(c->d, sizeof(*n->x));
	if (!n->x)
		return -ENOMEM;
	return c->ncand++;
}

/* ---- the update ---- */

static int cmp_f(const void *a, const void *b)
{
	const struct cand *x = *(const struct cand *const *)a;
	const struct cand *y = *(const struct cand *const *)b;

	return x->f < y->f ? -1 : x->f > y->f;
}

/* C^-1/2 v = B D^-1 B^T v into out. */
static void invsqrt_mul(const struct cma *c, const double *v, double *out,
			double *tmp)
{
	size_t d = c->d, i, j;

	for (j = 0; j < d; j++) {
		tmp[j] = 0;
		for (i = 0; i < d; i++)
			tmp[j] += c->B[i * d + j] * v[i];
		tmp[j] /= c->D[j];
	}
	for (i = 0; i < d; i++) {
		out[i] = 0;
		for (j = 0; j < d; j++)
			out[i] += c->B[i * d + j] * tmp[j];
	}
}

static double update_paths(struct cma *c, const double *yw, double *tmp,
			   int *hsig)
{
	size_t d = c->d, i;
	double *u = tmp + d, norm = 0, cs = c->cs, denom;

	invsqrt_mul(c, yw, u, tmp);
	for (i = 0; i < d; i++) {
		c->ps[i] = (1 - cs) * c->ps[i] +
			   sqrt(cs * (2 - cs) * c->mueff) * u[i];
		norm += c->ps[i] * c->ps[i];
	}
	norm = sqrt(norm);
	denom = sqrt(1 - pow(1 - cs, 2.0 * (c->gen + 1)));
	*hsig = norm / denom / c->chin < 1.4 + 2 / ((double)d + 1);
	for (i = 0; i < d; i++)
		c->pc[i] = (1 - c->cc) * c->pc[i] +
			   (*hsig ? sqrt(c->cc * (2 - c->cc) * c->mueff) : 0) *
				   yw[i];
	return norm;
}

/* Rank-mu weight of rank k: negative ones scaled by d / |C^-1/2 y|^2. */
static double cov_weight(const struct cma *c, const struct cand *k,
			 const double *mold, double *y, double *tmp)
{
	size_t d = c->d, i;
	double n2 = 0;

	if (k == NULL)
		return 0;
	for (i = 0; i < d; i++)
		y[i] = (k->x[i] - mold[i]) / c->sigma;
	invsqrt_mul(c, y, tmp + d, tmp);
	for (i = 0; i < d; i++)
		n2 += tmp[d + i] * tmp[d + i];
	return n2 > 1e-300 ? (double)d / n2 : 0;
}

static int update_cov(struct cma *c, struct cand *const *rank,
		      const double *mold, int hsig)
{
	size_t d = c->d, i, j;
	double *Y = malloc(((size_t)c->lambda * d + 3 * d) * sizeof(*Y));
	double *wc = malloc((size_t)c->lambda * sizeof(*wc)), *tmp, dh, a;
	double wsum = 0, s;
	int k;

	if (!Y || !wc) {
		free(Y);
		free(wc);
		return -ENOMEM;
	}
	tmp = Y + (size_t)c->lambda * d;
	for (k = 0; k < c->lambda; k++) {
		wc[k] = c->w[k];
		wsum += c->w[k];
		s = cov_weight(c, rank[k], mold, Y + k * d, tmp);
		if (c->w[k] < 0)
			wc[k] *= s;
	}
	dh = hsig ? 0 : c->cc * (2 - c->cc);
	a = 1 + c->c1 * dh - c->c1 - c->cmu * wsum;
	for (i = 0; i < d; i++)
		for (j = 0; j <= i; j++) {
			s = 0;
			for (k = 0; k < c->lambda; k++)
				s += wc[k] * Y[k * d + i] * Y[k * d + j];
			c->C[i * d + j] = a * c->C[i * d + j] +
					  c->c1 * c->pc[i] * c->pc[j] +
					  c->cmu * s;
			c->C[j * d + i] = c->C[i * d + j];
		}
	free(Y);
	free(wc);
	return 0;
}

/* One generation's update from the done candidates (>= mu of them). */
static int tell(struct cma *c)
{
	size_t d = c->d, i;
	struct cand **rank = malloc((size_t)c->ncand * sizeof(*rank));
	double *mold = malloc(4 * d * sizeof(*mold)), *yw, *tmp, norm;
	int n = 0, k, hsig, rc;

	if (!rank || !mold) {
		rc = -ENOMEM;
		goto out;
	}
	yw = mold + d;
	tmp = yw + d;
	for (k = 0; k < c->ncand; k++)
		if (c->cands[k].state == CAND_DONE)
			rank[n++] = &c->cands[k];
	qsort(rank, (size_t)n, sizeof(*rank), cmp_f);
	memcpy(mold, c->m, d * sizeof(*mold));
	for (i = 0; i < d; i++) {
		c->m[i] = 0;
		for (k = 0; k < c->mu; k++)
			c->m[i] += c->w[k] * rank[k]->x[i];
		yw[i] = (c->m[i] - mold[i]) / c->sigma;
	}
	norm = update_paths(c, yw, tmp, &hsig);
	rc = update_cov(c, rank, mold, hsig);
	if (rc)
		goto out;
	c->sigma *= exp((c->cs / c->damps) * (norm / c->chin - 1));
	if (c->sigma > 1e3)
		c->sigma = 1e3;
	if (c->nfbest < c->fbest_cap)
		c->fbest[c->nfbest++] = rank[0]->f;
	else {
		memmove(c->fbest, c->fbest + 1,
			(size_t)(c->fbest_cap - 1) * sizeof(*c->fbest));
		c->fbest[c->fbest_cap - 1] = rank[0]->f;
	}
	c->gen++;
	rc = eigen(c);
out:
	free(rank);
	free(mold);
	return rc;
}

/* ---- restarts ---- */

/* 1 if the run should end: sigma collapsed, values stagnate, or C is
 * ill-conditioned. */
static int run_stalled(const struct cma *c)
{
	double mx = 0, lo = INFINITY, hi = -INFINITY;
	size_t i;
	int k;

	for (i = 0; i < c->d; i++)
		mx = fmax(mx, sqrt(c->C[i * c->d + i]));
	if (c->sigma * mx < TOL_X)
		return 1;
	if (c->D[c->d - 1] * c->D[c->d - 1] > MAX_COND * c->D[0] * c->D[0])
		return 1;
	if (c->nfbest < c->fbest_cap)
		return 0;
	for (k = 0; k < c->nfbest; k++) {
		lo = fmin(lo, c->fbest[k]);
		hi = fmax(hi, c->fbest[k]);
	}
	return hi - lo < TOL_FUN * (1 + fabs(lo));
}

static int restart(struct cma *c)
{
	double sigma = c->sigma0, u;
	struct rng r;

	if (c->small_run)
		c->evals_small += c->evals_run;
	else
		c->evals_large += c->evals_run;
	c->restarts++;
	c->small_run = 0;
	if (c->strategy == RESTART_NONE) {
		c->lambda = c->lambda0; /* numerical failure only */
	} else if (c->strategy == RESTART_IPOP) {
		c->lambda = c->lambda0 << (c->restarts < 20 ? c->restarts : 20);
	} else if (c->evals_large <= c->evals_small || c->restarts == 1) {
		c->n_large++;
		c->lambda = c->lambda0 << (c->n_large < 20 ? c->n_large : 20);
	} else {
		rng_for(c, &r, 0xb1b0, 0);
		u = rng_uniform(&r);
		c->lambda = (int)floor(
			c->lambda0 *
			pow(0.5 * (c->lambda0 << c->n_large) / c->lambda0,
			    u * u));
		if (c->lambda < c->lambda0)
			c->lambda = c->lambda0;
		sigma = c->sigma0 * pow(10, -2 * u);
		c->small_run = 1;
	}
	return run_start(c, 1, sigma);
}

/* ---- trials from outside ---- */

static size_t seen_find(const struct cma *c, long at)
{
	size_t lo = 0, hi = c->nseen, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (c->seen[mid] < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int seen_has(const struct cma *c, long at)
{
	size_t i = seen_find(c, at);

	return i < c->nseen && c->seen[i] == at;
}

static int seen_add(struct cma *c, long at)
{
	size_t i = seen_find(c, at), cap;
	long *n;

	if (i < c->nseen && c->seen[i] == at)
		return 0;
	if (c->nseen == c->seen_cap) {
		cap = c->seen_cap ? c->seen_cap * 2 : 64;
		n = realloc(c->seen, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->seen = n;
		c->seen_cap = cap;
	}
	memmove(c->seen + i + 1, c->seen + i, (c->nseen - i) * sizeof(*n));
	c->seen[i] = at;
	c->nseen++;
	return 0;
}

/* The coordinate in [0, 1] of value s of p (decode_param's inverse: a
 * list entry's interval centre). */
static double encode_param(const struct param_spec *p, const char *s)
{
	double lo, hi, t;
	size_t i;

	if (is_cat(p)) {
		for (i = 0; i < p->nlist; i++)
			if (!strcmp(p->list[i], s))
				return (i + 0.5) / (double)p->nlist;
		return 0.5;
	}
	t = strtod(s, NULL);
	if (is_log(p))
		t = t > 0 ? log(t) : log(p->min_value);
	bounds(p, &lo, &hi);
	t = hi > lo ? (t - lo) / (hi - lo) : 0.5;
	return t < 0 ? 0 : t > 1 ? 1 : t;
}

/* The minimised objective of t, or NAN when it has none (yet). */
static double trial_f(const struct experiment_spec *spec,
		      const struct history_trial *t)
{
	if (t->state == HISTORY_PENDING || t->state == HISTORY_FAILED ||
	    !t->has_objective || !isfinite(t->objective) || !t->values)
		return NAN;
	return spec->objective.maximize ? -t->objective : t->objective;
}

/* Clip x's step from the mean to the length of a typical sample in the
 * metric of C: |D^-1 B^T (x - m)| / sigma <= sqrt(d) + 2d / (d + 2). */
static void clip_step(const struct cma *c, double *x)
{
	size_t d = c->d, i, j;
	double norm = 0, z, limit, scale;

	for (j = 0; j < d; j++) {
		z = 0;
		for (i = 0; i < d; i++)
			z += c->B[i * d + j] * (x[i] - c->m[i]);
		z /= c->sigma * c->D[j];
		norm += z * z;
	}
	norm = sqrt(norm);
	limit = sqrt((double)d) + 2.0 * (double)d / ((double)d + 2);
	if (!(norm > limit))
		return;
	scale = limit / norm;
	for (i = 0; i < d; i++)
		x[i] = c->m[i] + (x[i] - c->m[i]) * scale;
}

/* Take in the foreign trials that have an objective now. */
static int cma_take_foreign(struct cma *c, const struct experiment_spec *spec,
			    const struct search_history *h)
{
	int first = !c->ncand && !c->gen && !c->restarts && !c->nseen;
	const struct history_trial *best = NULL;
	double f, fbest = INFINITY;
	size_t i, j;
	int k, rc;

	for (i = 0; i < h->ntrials; i++) {
		f = trial_f(spec, &h->trials[i]);
		if (isnan(f) || seen_has(c, (long)i))
			continue;
		if ((rc = seen_add(c, (long)i)))
			return rc;
		if (first) { /* before anything: start from the best */
			if (f < fbest) {
				fbest = f;
				best = &h->trials[i];
			}
			continue;
		}
		if ((k = cand_add(c)) < 0)
			return k;
		for (j = 0; j < c->d; j++)
			c->cands[k].x[j] = encode_param(&spec->params[j],
							h->trials[i].values[j]);
		clip_step(c, c->cands[k].x);
		c->cands[k].f = f;
		c->cands[k].state = CAND_DONE;
		c->cands[k].at = (long)i;
		c->evals_run++;
	}
	for (j = 0; best && j < c->d; j++)
		c->m[j] = encode_param(&spec->params[j], best->values[j]);
	return 0;
}

/* ---- matching the history ---- */

static int same_values(size_t n, char *const *a, char *const *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!a[i] || !b[i] || strcmp(a[i], b[i]))
			return 0;
	return 1;
}

static const struct history_trial *find_trial(const struct search_history *h,
					      size_t nparams, char *const *v)
{
	size_t i;

	for (i = h->ntrials; i-- > 0;)
		if (h->trials[i].values &&
		    same_values(nparams, h->trials[i].values, v))
			return &h->trials[i];
	return NULL;
}

/* Update the issued candidates from the history: done, or back to fresh
 * (failed, lost). Returns how many are done. */
static int cma_sync(struct cma *c, const struct experiment_spec *spec,
		    const struct search_history *h)
{
	const struct history_trial *t;
	struct cand *k;
	int i, done = 0;

	for (i = 0; i < c->ncand; i++) {
		k = &c->cands[i];
		if (k->state == CAND_ISSUED) {
			t = find_trial(h, c->nparams, k->values);
			if (!t && (long)h->ntrials > k->at) {
				k->state = CAND_FRESH; /* never created */
			} else if (t && t->state == HISTORY_FAILED) {
				k->state = CAND_FRESH;
			} else if (t && t->state != HISTORY_PENDING) {
				if (t->has_objective &&
				    isfinite(t->objective)) {
					k->f = spec->objective.maximize
						       ? -t->objective
						       : t->objective;
					k->state = CAND_DONE;
					c->evals_run++;
				} else {
					k->state = CAND_FRESH;
				}
			}
			if (k->state == CAND_FRESH)
				cand_clear(k, c->nparams);
		}
		done += k->state == CAND_DONE;
	}
	return done;
}

/* A new generation of lambda fresh candidates. */
static int new_generation(struct cma *c)
{
	int i, rc;

	cands_free(c);
	for (i = 0; i < c->lambda; i++) {
		rc = cand_add(c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Give candidate k an unused assignment; 1 if it has one, 0 if the run
 * collapsed and a restart is due. */
static int cand_prepare(struct cma *c, const struct experiment_spec *spec,
			int k, const struct assignment_set *used, double *z)
{
	struct cand *cd = &c->cands[k];
	int rc;

	if (cd->values && !assignment_set_contains(used, cd->values))
		return 1;
	rc = cand_sample(c, spec, k, used, z);
	if (rc || c->strategy != RESTART_NONE)
		return rc;
	return cand_uniform(c, spec, k, used);
}

static int cma_advance(struct cma *c, const struct experiment_spec *spec,
		       const struct search_history *h)
{
	int done, rc = cma_take_foreign(c, spec, h);

	if (rc)
		return rc;
	done = cma_sync(c, spec, h);
	if (c->ncand && done >= c->lambda) {
		rc = tell(c);
		if (rc == -EDOM ||
		    (!rc && c->strategy != RESTART_NONE && run_stalled(c)))
			rc = restart(c);
		if (!rc)
			rc = new_generation(c);
	} else if (!c->ncand) {
		rc = new_generation(c);
	}
	return rc;
}

/* The next candidate to issue (fresh, given an unused assignment), or -1;
 * may restart or grow the generation. */
static int next_cand(struct cma *c, const struct experiment_spec *spec,
		     const struct assignment_set *used, double *z, int *err)
{
	int k, rc, tries;

	for (tries = 0; tries < 4; tries++) {
		for (k = 0; k < c->ncand; k++) {
			if (c->cands[k].state != CAND_FRESH)
				continue;
			rc = cand_prepare(c, spec, k, used, z);
			if (rc < 0) {
				*err = rc;
				return -1;
			}
			if (rc)
				return k;
			break; /* collapsed */
		}
		if (k < c->ncand) { /* collapsed: a new run */
			*err = restart(c);
			if (!*err)
				*err = new_generation(c);
			if (*err)
				return -1;
			continue;
		}
		k = cand_add(c); /* more slots than lambda */
		if (k < 0) {
			*err = k;
			return -1;
		}
	}
	return -1;
}

/* ---- the ops ---- */

static int cmaes_suggest(void *priv, const struct experiment_spec *spec,
			 const struct search_history *history, size_t want,
			 char ***out, struct kb_error *err)
{
	struct cma *c = priv;
	struct assignment_set *used;
	double *z = malloc(c->d * sizeof(*z));
	size_t n = 0, i;
	int k, rc;
	char **v;

	used = assignment_set_from_history(history, spec->nparams);
	rc = z && used ? cma_advance(c, spec, history) : -ENOMEM;
	while (!rc && n < want) {
		k = next_cand(c, spec, used, z, &rc);
		if (k < 0)
			break;
		v = calloc(c->nparams, sizeof(*v));
		for (i = 0; v && i < c->nparams; i++)
			if (!(v[i] = strdup(c->cands[k].values[i])))
				break;
		if (!v || i < c->nparams || assignment_set_add(used, v) < 0) {
			assignment_values_free(v, c->nparams);
			rc = -ENOMEM;
			break;
		}
		c->cands[k].state = CAND_ISSUED;
		c->cands[k].at = (long)(history->ntrials + n);
		if (seen_add(c, c->cands[k].at)) {
			assignment_values_free(v, c->nparams);
			rc = -ENOMEM;
			break;
		}
		out[n++] = v;
	}
	assignment_set_free(used);
	free(z);
	if (rc) {
		while (n)
			assignment_values_free(out[--n], spec->nparams);
		return kb_error_set(err, rc, NULL, 0, "cmaes: %s",
				    rc == -ENOMEM ? "out of memory"
						  : "covariance update failed");
	}
	return (int)n;
}

static void cmaes_destroy(void *priv)
{
	cma_free(priv);
}

static cJSON *cand_json(const struct cma *c, const struct cand *k)
{
	cJSON *j = cJSON_CreateObject(), *v;
	size_t i;

	if (!j)
		return NULL;
	cJSON_AddItemToObject(j, "x", state_json_array(k->x, c->d));
	cJSON_AddNumberToObject(j, "state", k->state);
	cJSON_AddItemToObject(j, "f",
			      state_json_number(isfinite(k->f) ? k->f : 0));
	cJSON_AddNumberToObject(j, "at", (double)k->at);
	cJSON_AddNumberToObject(j, "attempt", k->attempt);
	if (k->values) {
		v = cJSON_AddArrayToObject(j, "values");
		for (i = 0; v && i < c->nparams; i++)
			cJSON_AddItemToArray(v,
					     cJSON_CreateString(k->values[i]));
	}
	return j;
}

static const char *const int_keys[] = { "restarts",  "lambda", "gen", "n_large",
					"small_run", "nfbest", NULL };

static int *int_field(struct cma *c, size_t i)
{
	int *f[] = { &c->restarts, &c->lambda,	  &c->gen,
		     &c->n_large,  &c->small_run, &c->nfbest };

	return f[i];
}

static char *cmaes_save(void *priv)
{
	struct cma *c = priv;
	cJSON *j = cJSON_CreateObject(), *a;
	char seed[32], *text;
	size_t i;
	int k;

	if (!j)
		return NULL;
	snprintf(seed, sizeof(seed), "%" PRIu64, c->seed);
	cJSON_AddStringToObject(j, "seed", seed);
	cJSON_AddNumberToObject(j, "d", (double)c->d);
	for (i = 0; int_keys[i]; i++)
		cJSON_AddNumberToObject(j, int_keys[i], *int_field(c, i));
	cJSON_AddItemToObject(j, "sigma", state_json_number(c->sigma));
	cJSON_AddNumberToObject(j, "evals_large", (double)c->evals_large);
	cJSON_AddNumberToObject(j, "evals_small", (double)c->evals_small);
	cJSON_AddNumberToObject(j, "evals_run", (double)c->evals_run);
	cJSON_AddItemToObject(j, "m", state_json_array(c->m, c->d));
	cJSON_AddItemToObject(j, "C", state_json_array(c->C, c->d * c->d));
	cJSON_AddItemToObject(j, "pc", state_json_array(c->pc, c->d));
	cJSON_AddItemToObject(j, "ps", state_json_array(c->ps, c->d));
	cJSON_AddItemToObject(j, "fbest",
			      state_json_array(c->fbest, (size_t)c->nfbest));
	a = cJSON_AddArrayToObject(j, "cands");
	for (k = 0; a && k < c->ncand; k++)
		cJSON_AddItemToArray(a, cand_json(c, &c->cands[k]));
	a = cJSON_AddArrayToObject(j, "seen");
	for (i = 0; a && i < c->nseen; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)c->seen[i]));
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

static int cand_load(struct cma *c, const cJSON *j)
{
	const cJSON *v = cJSON_GetObjectItem(j, "values"), *e;
	struct cand *k;
	int idx = cand_add(c);
	size_t i = 0;

	if (idx < 0)
		return idx;
	k = &c->cands[idx];
	if (state_json_doubles(cJSON_GetObjectItem(j, "x"), k->x, c->d))
		return -EINVAL;
	k->state = (enum cand_state)cJSON_GetNumberValue(
		cJSON_GetObjectItem(j, "state"));
	k->f = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "f"));
	k->at = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "at"));
	k->attempt =
		(int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "attempt"));
	if (!cJSON_IsArray(v))
		return k->state == CAND_ISSUED ? -EINVAL : 0;
	if ((size_t)cJSON_GetArraySize(v) != c->nparams)
		return -EINVAL;
	k->values = calloc(c->nparams, sizeof(*k->values));
	if (!k->values)
		return -ENOMEM;
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) ||
		    !(k->values[i++] = strdup(e->valuestring)))
			return -EINVAL;
	}
	return 0;
}

/*
 * The indices already accounted for. A state saved before they were kept
 * has none: every trial with an index below a candidate's counts as seen,
 * so that no trial of the run so far is taken in again as foreign.
 */
static int seen_load(struct cma *c, const cJSON *a)
{
	const cJSON *e;
	long upto = -1, i;
	int k, rc = 0;

	if (cJSON_IsArray(a)) {
		cJSON_ArrayForEach(e, a)
		{
			if (!cJSON_IsNumber(e))
				return -EINVAL;
			if ((rc = seen_add(c, (long)e->valuedouble)))
				return rc;
		}
		return 0;
	}
	for (k = 0; k < c->ncand; k++)
		if (c->cands[k].at > upto)
			upto = c->cands[k].at;
	for (i = 0; !rc && i <= upto; i++)
		rc = seen_add(c, i);
	return rc;
}

/* Restore a saved state; non-zero if it does not fit (fresh start). */
static int state_load(struct cma *c, const cJSON *j)
{
	const cJSON *e;
	size_t i;
	int rc, nf;

	if (cJSON_GetNumberValue(cJSON_GetObjectItem(j, "d")) != (double)c->d)
		return -EINVAL;
	for (i = 0; int_keys[i]; i++) {
		e = cJSON_GetObjectItem(j, int_keys[i]);
		if (!cJSON_IsNumber(e))
			return -EINVAL;
		*int_field(c, i) = (int)e->valuedouble;
	}
	if (c->lambda < 4)
		return -EINVAL;
	nf = c->nfbest;
	rc = run_params(c);
	if (rc)
		return rc;
	c->nfbest = nf < c->fbest_cap ? nf : c->fbest_cap;
	c->sigma = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "sigma"));
	c->evals_large = (long)cJSON_GetNumberValue(
		cJSON_GetObjectItem(j, "evals_large"));
	c->evals_small = (long)cJSON_GetNumberValue(
		cJSON_GetObjectItem(j, "evals_small"));
	c->evals_run =
		(long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "evals_run"));
	if (!(c->sigma > 0) ||
	    state_json_doubles(cJSON_GetObjectItem(j, "m"), c->m, c->d) ||
	    state_json_doubles(cJSON_GetObjectItem(j, "C"), c->C,
			       c->d * c->d) ||
	    state_json_doubles(cJSON_GetObjectItem(j, "pc"), c->pc, c->d) ||
	    state_json_doubles(cJSON_GetObjectItem(j, "ps"), c->ps, c->d) ||
	    state_json_doubles(cJSON_GetObjectItem(j, "fbest"), c->fbest,
			       (size_t)c->nfbest))
		return -EINVAL;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "cands"))
	{
		rc = cand_load(c, e);
		if (rc)
			return rc;
	}
	rc = seen_load(c, cJSON_GetObjectItem(j, "seen"));
	return rc ? rc : eigen(c);
}

static int cma_init(struct cma *c, const struct experiment_spec *spec)
{
	const struct algorithm_setting *s;
	int rc;

	c->d = c->nparams = spec->nparams;
	c->sigma0 = SIGMA_DEFAULT;
	s = setting_find(&spec->algorithm, "sigma");
	if (s && setting_double_bounds(s, 0, INFINITY, SETTING_MIN_OPEN,
				       &c->sigma0, NULL))
		c->sigma0 = SIGMA_DEFAULT;
	c->strategy = RESTART_IPOP;
	s = setting_find(&spec->algorithm, "restart_strategy");
	if (s && s->value && !strcmp(s->value, "none"))
		c->strategy = RESTART_NONE;
	else if (s && s->value && !strcmp(s->value, "bipop"))
		c->strategy = RESTART_BIPOP;
	c->lambda0 = 4 + (int)floor(3 * log((double)c->d));
	c->lambda = c->lambda0;
	rc = run_alloc(c);
	return rc ? rc : run_start(c, 0, c->sigma0);
}

static int cmaes_create(const struct experiment_spec *spec, const char *state,
			void **priv, struct kb_error *err)
{
	struct cma *c = calloc(1, sizeof(*c));
	cJSON *j = state ? cJSON_Parse(state) : NULL, *e;
	int seeded, rc = -ENOMEM;

	if (!c || !spec->nparams)
		goto fail;
	linalg_single_thread();
	seeded = setting_random_state(spec, &c->seed);
	e = cJSON_GetObjectItem(j, "seed");
	if (!seeded)
		c->seed = cJSON_IsString(e) ? strtoull(e->valuestring, NULL, 10)
					    : seed_from_time();
	rc = cma_init(c, spec);
	if (rc)
		goto fail;
	if (j && state_load(c, j)) { /* unusable state: start over */
		cands_free(c);
		c->restarts = c->n_large = c->small_run = 0;
		c->lambda = c->lambda0;
		rc = run_start(c, 0, c->sigma0);
		if (rc)
			goto fail;
	}
	cJSON_Delete(j);
	*priv = c;
	return 0;
fail:
	cJSON_Delete(j);
	cma_free(c);
	return kb_error_set(err, rc ? rc : -EINVAL, NULL, 0,
			    "cmaes: cannot start (%s)",
			    rc == -ENOMEM ? "out of memory" : "no parameters");
}

const struct algorithm_ops algorithm_cmaes = {
	.name = "cmaes",
	.implemented = 1,
	.validate = cmaes_validate,
	.create = cmaes_create,
	.suggest = cmaes_suggest,
	.save = cmaes_save,
	.destroy = cmaes_destroy,
};
