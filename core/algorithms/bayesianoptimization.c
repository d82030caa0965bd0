/*
 * bayesianoptimization.c - Bayesian optimisation with a Gaussian process
 * (Katib's scikit-optimize service, base_estimator GP).
 *
 * Space: every int/double parameter is one coordinate in [0, 1], linear
 * or logarithmic as its distribution says (logUniform/logNormal with
 * min > 0; unlike Katib's skopt service, which forces log-uniform on every
 * double, the declared distribution is honoured and min <= 0 is fine).
 * Each categorical/discrete parameter is one-hot (one coordinate per list
 * entry). The acquisition is optimised in this relaxed box; a point is
 * then rounded: ints and steps by param_format(), one-hot by argmax.
 *
 * Model: GP with a constant mean and a Matern 5/2 ARD kernel on the
 * standardised objective (minimised; maximize objectives are negated),
 * plus a noise term. Lengthscales, signal variance and noise are fitted by
 * maximising the log marginal likelihood (weak log-normal priors, L-BFGS
 * on the log parameters with box bounds, analytic gradients, Cholesky
 * through LAPACKE), warm started from the previous fit plus restarts.
 * The fit runs at every suggestion up to 300 observations, then each time
 * their number has grown by 1/8; in between, the model is kept and each
 * new observation appends a row to its Cholesky factor (O(n^2), not
 * O(n^3)), so a suggestion at 1,000 trials takes ~20 ms.
 *
 * Acquisition: EI, PI (xi = 0.01) and LCB (kappa = 1.96) on the
 * standardised scale; gp_hedge picks one of the three by a softmax over
 * their gains (skopt's rule, eta = 1; gains in standardised units). It is
 * optimised over many random candidates plus perturbations of the best
 * observed points, then the best few are refined by L-BFGS with the
 * analytic gradient (acq_optimizer sampling skips the refinement).
 *
 * Pending trials and the other points of one batch enter as a kriging
 * believer: the GP's mean at the point is taken as its value. The first
 * n_initial_points trials come from a Latin hypercube. Suggestion k of a
 * call draws from an rng seeded by (random_state, trials so far), so the
 * same spec, history and state give the same trials. No suggestion repeats
 * an earlier trial or another one of the same batch.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <cjson/cJSON.h>

#include "katib/algorithm.h"
#include "algorithms/bo/gp.h"
#include "algorithms/bo/lbfgs.h"
#include "algorithms/linalg.h"
#include "algorithms/parego.h"

static const char *const estimators[] = { "GP", "RF", "ET", "GBRT", NULL };
static const char *const acq_funcs[] = { "gp_hedge", "LCB",  "EI", "PI",
					 "EIps",     "PIps", NULL };
static const char *const acq_optimizers[] = { "auto", "sampling", "lbfgs",
					      NULL };

static const struct setting_rule bo_rules[] = {
	{ "base_estimator", SETTING_CHOICE, 0, 0, 0, estimators },
	{ "n_initial_points", SETTING_INT, 0, INFINITY, 0, NULL },
	{ "acq_func", SETTING_CHOICE, 0, 0, 0, acq_funcs },
	{ "acq_optimizer", SETTING_CHOICE, 0, 0, 0, acq_optimizers },
	{ "random_state", SETTING_INT, 0, INFINITY, 0, NULL },
	{ .name = NULL },
};

#define SETTING_FIELD(n) "spec.algorithm.algorithmSettings[" n "]"

enum acq_kind { ACQ_EI, ACQ_PI, ACQ_LCB, ACQ_HEDGE };
#define NACQ 3

#define XI	     0.01
#define KAPPA	     1.96
#define DUP_TRIES    64
#define REFIT_ALL    300 /* refit at every suggestion up to this many */
#define REFIT_GROWTH 8	 /* then when n grew by 1/8 since the last fit */

/* ---- settings ---- */

static int bo_reject(const struct experiment_spec *spec, const char *name,
		     const char *value, const char *why, struct kb_error *err)
{
	const struct algorithm_setting *s =
		setting_find(&spec->algorithm, name);
	char field[128];

	if (!s || !s->value || strcmp(s->value, value))
		return 0;
	snprintf(field, sizeof(field), "spec.algorithm.algorithmSettings[%s]",
		 name);
	return kb_error_set(err, -EINVAL, field, 0,
			    "'%s' is not supported by "
			    "katibfs: %s",
			    value, why);
}

static int bo_validate(const struct experiment_spec *spec, struct kb_error *err)
{
	static const char *const trees[] = { "RF", "ET", "GBRT", NULL };
	int rc, i;

	rc = settings_validate(&spec->algorithm, bo_rules, 0, err);
	for (i = 0; !rc && trees[i]; i++)
		rc = bo_reject(spec, "base_estimator", trees[i],
			       "only the Gaussian process (GP) estimator is "
			       "implemented",
			       err);
	if (!rc)
		rc = bo_reject(spec, "acq_func", "EIps",
			       "per-second acquisition needs a trial duration "
			       "model; use EI",
			       err);
	if (!rc)
		rc = bo_reject(spec, "acq_func", "PIps",
			       "per-second acquisition needs a trial duration "
			       "model; use PI",
			       err);
	if (!rc && !spec->nparams)
		rc = kb_error_set(err, -EINVAL, "spec.parameters", 0,
				  "bayesianoptimization needs parameters");
	return rc;
}

/* ---- private state ---- */

struct gp;

struct bo_priv {
	uint64_t seed;
	long n_initial;
	enum acq_kind acq;
	int refine;    /* acq_optimizer != sampling */
	size_t d;      /* encoded dimension of theta/last */
	double *theta; /* log ls[d], log sf2, log noise; NULL = none */
	size_t fit_n;  /* observations when theta was last fitted */
	double gains[NACQ];
	double *last; /* NACQ x d: last hedge candidates */
	int has_last;
	/* The GP at theta, kept between suggestions (owned; NULL until the
	 * first model): its rows are the completed observations in history
	 * order (then the last call's believers); its Cholesky factor is
	 * the first fit_n rows as a block, then grown a row at a time. Not
	 * saved: rebuilt from the history after a restart, to the same bits
	 * (see model_build). */
	struct gp *model;
};

/* ---- the encoded space ---- */

struct bo_space {
	const struct experiment_spec *spec;
	size_t d;
	size_t *off;	 /* per param: first coordinate */
	double *lo, *hi; /* per param: transformed bounds */
	int *logscale;	 /* per param */
};

static int is_cat(const struct param_spec *p)
{
	return p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE;
}

static void space_free(struct bo_space *s)
{
	free(s->off);
	free(s->lo);
	free(s->hi);
	free(s->logscale);
}

static int space_init(struct bo_space *s, const struct experiment_spec *spec)
{
	size_t i, n = spec->nparams ? spec->nparams : 1;
	const struct param_spec *p;

	memset(s, 0, sizeof(*s));
	s->spec = spec;
	s->off = calloc(n, sizeof(*s->off));
	s->lo = calloc(n, sizeof(*s->lo));
	s->hi = calloc(n, sizeof(*s->hi));
	s->logscale = calloc(n, sizeof(*s->logscale));
	if (!s->off || !s->lo || !s->hi || !s->logscale) {
		space_free(s);
		return -ENOMEM;
	}
	for (i = 0; i < spec->nparams; i++) {
		p = &spec->params[i];
		s->off[i] = s->d;
		if (is_cat(p)) {
			s->d += p->nlist ? p->nlist : 1;
			continue;
		}
		s->logscale[i] = p->min_value > 0 &&
				 (p->distribution == DIST_LOG_UNIFORM ||
				  p->distribution == DIST_LOG_NORMAL);
		s->lo[i] = s->logscale[i] ? log(p->min_value) : p->min_value;
		s->hi[i] = s->logscale[i] ? log(p->max_value) : p->max_value;
		s->d++;
	}
	return 0;
}

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Encode one value string of param i into x; 0, or -1 if unknown. */
static int encode_value(const struct bo_space *s, size_t i, const char *v,
			double *x)
{
	const struct param_spec *p = &s->spec->params[i];
	double *u = x + s->off[i], t;
	char *end;
	size_t k;

	if (!v)
		return -1;
	if (is_cat(p)) {
		for (k = 0; k < p->nlist; k++)
			u[k] = 0;
		for (k = 0; k < p->nlist; k++)
			if (!strcmp(p->list[k], v))
				break;
		if (k == p->nlist)
			return -1;
		u[k] = 1;
		return 0;
	}
	t = strtod(v, &end);
	if (end == v || !isfinite(t))
		return -1;
	if (s->logscale[i])
		t = log(t > 0 ? t : p->min_value);
	u[0] = s->hi[i] > s->lo[i]
		       ? clamp01((t - s->lo[i]) / (s->hi[i] - s->lo[i]))
		       : 0.5;
	return 0;
}

static int encode(const struct bo_space *s, char *const *values, double *x)
{
	size_t i;

	for (i = 0; i < s->spec->nparams; i++)
		if (encode_value(s, i, values[i], x))
			return -1;
	return 0;
}

static char *decode_param(const struct bo_space *s, size_t i, const double *x)
{
	const struct param_spec *p = &s->spec->params[i];
	const double *u = x + s->off[i];
	size_t k, best = 0;
	double t;

	if (is_cat(p)) {
		for (k = 1; k < p->nlist; k++)
			if (u[k] > u[best])
				best = k;
		return param_format(p, (double)best);
	}
	t = s->lo[i] + clamp01(u[0]) * (s->hi[i] - s->lo[i]);
	return param_format(p, s->logscale[i] ? exp(t) : t);
}

static char **decode(const struct bo_space *s, const double *x)
{
	size_t n = s->spec->nparams, i;
	char **v = calloc(n ? n : 1, sizeof(*v));

	for (i = 0; v && i < n; i++) {
		v[i] = decode_param(s, i, x);
		if (!v[i]) {
			assignment_values_free(v, n);
			return NULL;
		}
	}
	return v;
}

/* x snapped to what its decoded values encode to. */
static int snap(const struct bo_space *s, double *x)
{
	char **v = decode(s, x);
	int rc;

	if (!v)
		return -ENOMEM;
	rc = encode(s, v, x);
	assignment_values_free(v, s->spec->nparams);
	return rc ? -EINVAL : 0;
}

/* A uniform point of the relaxed box, one-hot categoricals. */
static void random_point(const struct bo_space *s, struct rng *r, double *x)
{
	const struct param_spec *p;
	size_t i, k;

	for (i = 0; i < s->spec->nparams; i++) {
		p = &s->spec->params[i];
		if (!is_cat(p)) {
			x[s->off[i]] = rng_uniform(r);
			continue;
		}
		for (k = 0; k < p->nlist; k++)
			x[s->off[i] + k] = 0;
		if (p->nlist)
			x[s->off[i] + (size_t)(rng_uniform(r) * p->nlist)] = 1;
	}
}

/* A perturbation of base: gaussian steps of scale sd, categories switched
 * with probability 0.2. */
static void local_point(const struct bo_space *s, struct rng *r,
			const double *base, double sd, double *x)
{
	const struct param_spec *p;
	size_t i, k;

	memcpy(x, base, s->d * sizeof(*x));
	for (i = 0; i < s->spec->nparams; i++) {
		p = &s->spec->params[i];
		if (!is_cat(p)) {
			x[s->off[i]] =
				clamp01(base[s->off[i]] + sd * rng_normal(r));
			continue;
		}
		if (p->nlist < 2 || rng_uniform(r) >= 0.2)
			continue;
		for (k = 0; k < p->nlist; k++)
			x[s->off[i] + k] = 0;
		x[s->off[i] + (size_t)(rng_uniform(r) * p->nlist)] = 1;
	}
}

/* Row `row` of a Latin hypercube of n rows seeded by seed. */
static void lhs_point(const struct bo_space *s, uint64_t seed, size_t n,
		      size_t row, double *x)
{
	const struct param_spec *p;
	size_t i, k, j, *perm = malloc(n * sizeof(*perm)), c;
	struct rng r;
	double u;

	for (i = 0; i < s->spec->nparams; i++) {
		rng_seed(&r, seed ^ seed_mix64(0x1a5ULL + i));
		c = row;
		if (perm) { /* Fisher-Yates: stratum of `row` in column i */
			for (k = 0; k < n; k++)
				perm[k] = k;
			for (k = n; k-- > 1;) {
				j = (size_t)(rng_uniform(&r) * (double)(k + 1));
				c = perm[k];
				perm[k] = perm[j];
				perm[j] = c;
			}
			c = perm[row];
		}
		u = ((double)c + rng_uniform(&r)) / (double)n;
		p = &s->spec->params[i];
		if (!is_cat(p)) {
			x[s->off[i]] = u;
			continue;
		}
		for (k = 0; k < p->nlist; k++)
			x[s->off[i] + k] = 0;
		if (p->nlist)
			x[s->off[i] + (size_t)(u * p->nlist)] = 1;
	}
	free(perm);
}

/* ---- acquisition (to minimise: negative EI/PI, LCB) ---- */

static double norm_pdf(double z)
{
	return exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

static double norm_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2));
}

/* Acquisition value and d/dmu, d/dsd. */
static double acq_value(enum acq_kind a, double mu, double sd, double ybest,
			double *dmu, double *dsd)
{
	double imp = ybest - mu - XI, z = imp / sd, pdf, cdf;

	switch (a) {
	case ACQ_LCB:
		*dmu = 1;
		*dsd = -KAPPA;
		return mu - KAPPA * sd;
	case ACQ_PI:
		pdf = norm_pdf(z);
		*dmu = pdf / sd;
		*dsd = z * pdf / sd;
		return -norm_cdf(z);
	default:
		pdf = norm_pdf(z);
		cdf = norm_cdf(z);
		*dmu = cdf;
		*dsd = -pdf;
		return -(imp * cdf + sd * pdf);
	}
}

struct acq_ctx {
	const struct gp *gp;
	enum acq_kind kind;
	double ybest;
	double *ks, *v, *dk, *dmu, *dvar;
};

static double acq_objective(const double *x, double *g, void *ctx)
{
	struct acq_ctx *c = ctx;
	double mu, var, sd, fmu, fsd, f;
	size_t k;

	gp_predict_grad(c->gp, x, &mu, &var, c->dmu, c->dvar, c->ks, c->v,
			c->dk);
	sd = sqrt(var);
	f = acq_value(c->kind, mu, sd, c->ybest, &fmu, &fsd);
	if (g)
		for (k = 0; k < c->gp->d; k++)
			g[k] = fmu * c->dmu[k] + fsd * c->dvar[k] / (2 * sd);
	return f;
}

/* ---- data from the history ---- */

struct bo_data {
	double *X, *y; /* completed: n x d, raw minimised y */
	size_t n;
	double *P; /* pending: np x d */
	size_t np;
};

static void data_free(struct bo_data *b)
{
	free(b->X);
	free(b->y);
	free(b->P);
}

static int data_collect(const struct bo_space *s,
			const struct search_history *h, struct bo_data *b)
{
	size_t d = s->d, i, cap = h->ntrials ? h->ntrials : 1;
	const struct history_trial *t;
	double *x;

	memset(b, 0, sizeof(*b));
	b->X = malloc(cap * d * sizeof(*b->X));
	b->y = malloc(cap * sizeof(*b->y));
	b->P = malloc(cap * d * sizeof(*b->P));
	if (!b->X || !b->y || !b->P) {
		data_free(b);
		return -ENOMEM;
	}
	for (i = 0; i < h->ntrials; i++) {
		t = &h->trials[i];
		if (!t->values)
			continue;
		if (t->state == HISTORY_PENDING) {
			if (!encode(s, t->values, b->P + b->np * d))
				b->np++;
			continue;
		}
		if (t->state == HISTORY_FAILED || !t->has_objective ||
		    !isfinite(t->objective))
			continue;
		x = b->X + b->n * d;
		if (encode(s, t->values, x))
			continue;
		b->y[b->n++] = s->spec->objective.maximize ? -t->objective
							   : t->objective;
	}
	return 0;
}

/* ---- one suggestion ---- */

struct bo_call {
	struct bo_priv *p;
	const struct bo_space *s;
	struct gp *gp; /* p->model, once built */
	struct rng rng;
	double ybest; /* standardised best observed */
	struct assignment_set *used;
};

static int candidate_ok(struct bo_call *c, const double *x, char ***out)
{
	char **v = decode(c->s, x);

	if (!v)
		return -ENOMEM;
	if (assignment_set_contains(c->used, v)) {
		assignment_values_free(v, c->s->spec->nparams);
		return 0;
	}
	*out = v;
	return 1;
}

/* A random assignment not yet used; *out NULL if none was found. */
static int random_unused(struct bo_call *c, double *x, char ***out)
{
	int t, rc;

	*out = NULL;
	for (t = 0; t < DUP_TRIES; t++) {
		random_point(c->s, &c->rng, x);
		rc = candidate_ok(c, x, out);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	return 0;
}

static int cmp_score(const void *a, const void *b, void *ctx)
{
	const double *sc = ctx;
	double x = sc[*(const size_t *)a], y = sc[*(const size_t *)b];

	return x < y ? -1 : x > y;
}

static size_t ncandidates(size_t n)
{
	double m = 1e7 / ((double)n * (double)n + 1);

	return m > 2000 ? 2000 : m < 256 ? 256 : (size_t)m;
}

/* Random and local candidates around the best observed points. */
static void fill_candidates(struct bo_call *c, const struct bo_data *b,
			    double *C, size_t m)
{
	size_t d = c->s->d, j, nloc = b->n ? m / 2 : 0, best[5], nb = 0, i, k;
	static const double sds[] = { 0.02, 0.08, 0.2 };

	for (i = 0; i < b->n; i++) { /* the five best, in order */
		for (k = nb; k > 0 && b->y[best[k - 1]] > b->y[i]; k--)
			if (k < 5)
				best[k] = best[k - 1];
		if (k < 5) {
			best[k] = i;
			if (nb < 5)
				nb++;
		}
	}
	for (j = 0; j < m; j++) {
		if (j < nloc)
			local_point(c->s, &c->rng, b->X + best[j % nb] * d,
				    sds[(j / nb) % 3], C + j * d);
		else
			random_point(c->s, &c->rng, C + j * d);
	}
}

struct acq_best {
	double *x;     /* NACQ x d: refined and snapped */
	double *score; /* NACQ */
};

/*
 * The refinement's budget: each step costs O(n^2) (two triangular solves
 * with the factor), so fewer starts and steps as the history grows keep
 * a suggestion at 1,000 trials within ~30 ms.
 */
static size_t refine_count(size_t n)
{
	return n <= 150 ? 5 : n <= 400 ? 2 : 1;
}

static int refine_iterations(size_t n)
{
	return n <= 150 ? 40 : n <= 400 ? 15 : 6;
}

static int refine(struct bo_call *c, enum acq_kind kind, double *x)
{
	size_t n = c->gp->n, d = c->s->d, k;
	double *w = malloc((2 * n + n * d + 4 * d) * sizeof(*w));
	struct acq_ctx ctx;
	struct lbfgs_problem pr;
	double *lo, *hi;

	if (!w)
		return -ENOMEM;
	ctx = (struct acq_ctx){
		c->gp, kind,	  c->ybest,	     w,
		w + n, w + 2 * n, w + 2 * n + n * d, w + 2 * n + n * d + d
	};
	lo = w + 2 * n + n * d + 2 * d;
	hi = lo + d;
	for (k = 0; k < d; k++) {
		lo[k] = 0;
		hi[k] = 1;
	}
	pr = (struct lbfgs_problem){ acq_objective, &ctx, d, lo, hi };
	lbfgs(&pr, x, refine_iterations(c->gp->n));
	free(w);
	return 0;
}

/*
 * Optimise acquisition `kind` given the candidates' mu/sd: refine the
 * best few, snap them; then write into order[] the indices of the
 * candidates (refined ones first) by score.
 */
static int optimise_one(struct bo_call *c, enum acq_kind kind, const double *C,
			const double *mu, const double *sd, size_t m, double *R,
			size_t nref, size_t *order, double *score)
{
	size_t d = c->s->d, j, total = m + nref;
	double dm, ds, rmu, rvar;
	int rc;

	for (j = 0; j < m; j++)
		score[j] = acq_value(kind, mu[j], sd[j], c->ybest, &dm, &ds);
	for (j = 0; j < total; j++)
		order[j] = j;
	qsort_r(order, m, sizeof(*order), cmp_score, score);
	for (j = 0; j < nref; j++) {
		memcpy(R + j * d, C + order[j] * d, d * sizeof(*R));
		if (c->p->refine) {
			rc = refine(c, kind, R + j * d);
			if (rc)
				return rc;
		}
		rc = snap(c->s, R + j * d);
		if (rc == -ENOMEM)
			return rc;
		rc = gp_predict(c->gp, R + j * d, 1, &rmu, &rvar);
		if (rc)
			return rc;
		score[m + j] =
			acq_value(kind, rmu, sqrt(rvar), c->ybest, &dm, &ds);
	}
	for (j = 0; j < total; j++)
		order[j] = j;
	qsort_r(order, total, sizeof(*order), cmp_score, score);
	return 0;
}

/* The first unused candidate in order (C then R); 1 if found. */
static int first_unused(struct bo_call *c, const double *C, size_t m,
			const double *R, const size_t *order, size_t total,
			double *x, char ***out)
{
	size_t d = c->s->d, j;
	const double *src;
	int rc;

	for (j = 0; j < total; j++) {
		src = order[j] < m ? C + order[j] * d : R + (order[j] - m) * d;
		memcpy(x, src, d * sizeof(*x));
		if (snap(c->s, x) == -ENOMEM)
			return -ENOMEM;
		rc = candidate_ok(c, x, out);
		if (rc)
			return rc;
	}
	return 0;
}

static size_t hedge_pick(struct bo_call *c)
{
	double mx = -INFINITY, p[NACQ], sum = 0, u;
	size_t i;

	for (i = 0; i < NACQ; i++)
		if (c->p->gains[i] > mx)
			mx = c->p->gains[i];
	for (i = 0; i < NACQ; i++) {
		p[i] = exp(c->p->gains[i] - mx);
		sum += p[i];
	}
	u = rng_uniform(&c->rng) * sum;
	for (i = 0; i < NACQ - 1; i++) {
		if (u < p[i])
			return i;
		u -= p[i];
	}
	return NACQ - 1;
}

/* Model-based suggestion: fills x and *out (NULL if nothing unused). */
static int suggest_model(struct bo_call *c, const struct bo_data *b, double *x,
			 char ***out)
{
	size_t d = c->s->d, m = ncandidates(c->gp->n), total, k;
	size_t nref = refine_count(c->gp->n);
	size_t na = c->p->acq == ACQ_HEDGE ? NACQ : 1, a, pick;
	double *C = malloc(m * d * sizeof(*C)), *mu = malloc(m * sizeof(*mu));
	double *sd = malloc(m * sizeof(*sd)), *R, *score;
	size_t *order;
	enum acq_kind kind;
	int rc = -ENOMEM, found = 0;

	total = m + nref;
	R = malloc(na * nref * d * sizeof(*R));
	score = malloc(na * total * sizeof(*score));
	order = malloc(na * total * sizeof(*order));
	*out = NULL;
	if (!C || !mu || !sd || !R || !score || !order)
		goto out;
	fill_candidates(c, b, C, m);
	rc = gp_predict(c->gp, C, m, mu, sd);
	if (rc)
		goto out;
	for (k = 0; k < m; k++)
		sd[k] = sqrt(sd[k]);
	for (a = 0; a < na; a++) {
		kind = c->p->acq == ACQ_HEDGE ? (enum acq_kind)a : c->p->acq;
		rc = optimise_one(c, kind, C, mu, sd, m, R + a * nref * d, nref,
				  order + a * total, score + a * total);
		if (rc)
			goto out;
	}
	pick = 0;
	if (c->p->acq == ACQ_HEDGE) {
		for (a = 0; a < NACQ; a++) { /* remember for the gains */
			k = order[a * total];
			memcpy(c->p->last + a * d,
			       k < m ? C + k * d
				     : R + a * nref * d + (k - m) * d,
			       d * sizeof(*x));
		}
		c->p->has_last = 1;
		pick = hedge_pick(c);
	}
	rc = first_unused(c, C, m, R + pick * nref * d, order + pick * total,
			  total, x, out);
	found = rc > 0;
	rc = rc < 0 ? rc : 0;
	if (!rc && !found)
		rc = random_unused(c, x, out);
out:
	free(C);
	free(mu);
	free(sd);
	free(R);
	free(score);
	free(order);
	return rc;
}

/* skopt's hedge: each acquisition's gain drops by the mean predicted at
 * its last proposal. */
static void hedge_update(struct bo_call *c)
{
	double mu, var;
	size_t a;

	if (c->p->acq != ACQ_HEDGE || !c->p->has_last || !c->p->last)
		return;
	for (a = 0; a < NACQ; a++)
		if (!gp_predict(c->gp, c->p->last + a * c->s->d, 1, &mu, &var))
			c->p->gains[a] -= mu;
	c->p->has_last = 0;
}

/*
 * Refit the hyperparameters now? At every suggestion up to REFIT_ALL
 * observations (a fit costs ~10 ms whatever n: it uses at most FIT_MAX
 * points), then each time their number has grown by 1/REFIT_GROWTH since
 * the last fit (a geometric schedule: ~10 fits from 300 to 1,000), when the
 * O(n^3) refactoring it implies would dominate.
 * A function of the saved state and the history only, so a restarted
 * daemon decides the same.
 */
static int refit_due(const struct bo_priv *p, size_t n, size_t d)
{
	if (!p->theta || p->d != d || n <= REFIT_ALL || n < p->fit_n)
		return 1;
	return n >= p->fit_n + p->fit_n / REFIT_GROWTH;
}

/* Fit theta (warm started from the last fit) into p->theta; drops the
 * model, whose factor was for the old theta. */
static int model_refit(struct bo_call *c, const struct bo_data *b,
		       const double *ys)
{
	struct bo_priv *p = c->p;
	size_t d = c->s->d;
	double *theta = malloc((d + 2) * sizeof(*theta));
	int rc;

	if (!theta)
		return -ENOMEM;
	rc = fit_theta(b->X, ys, b->n, d,
		       p->theta && p->d == d ? p->theta : NULL,
		       b->n > REFIT_ALL, &c->rng, theta);
	if (!rc && (p->d != d || !p->theta)) {
		free(p->theta);
		p->theta = malloc((d + 2) * sizeof(*p->theta));
		free(p->last);
		p->last = calloc(NACQ * d, sizeof(*p->last));
		p->has_last = 0;
		p->d = d;
		if (!p->theta || !p->last)
			rc = -ENOMEM;
	}
	if (!rc) {
		memcpy(p->theta, theta, (d + 2) * sizeof(*theta));
		p->fit_n = b->n;
	}
	free(theta);
	gp_model_free(p->model);
	p->model = NULL;
	return rc;
}

/* How many leading rows of the model are the first observations of b
 * (same points in the same order): their factor rows are kept. */
static size_t model_prefix(const struct gp *gp, const struct bo_data *b)
{
	size_t d = gp->d, i, n = gp->n < b->n ? gp->n : b->n;

	for (i = 0; i < n; i++)
		if (memcmp(gp->X + i * d, b->X + i * d, d * sizeof(*b->X)))
			break;
	return i;
}

/*
 * The GP on the completed observations (standardised) with pending points
 * as believers. The factor is the first fit_n points (those of the last
 * refit) factored as a block, then one row appended per later point
 * (O(n^2) each); rows kept from the last call are reused. It is a function
 * of the points' order, theta and fit_n only, so the model rebuilt after
 * a restart has the same bits.
 */
static int model_build(struct bo_call *c, const struct bo_data *b)
{
	struct bo_priv *p = c->p;
	size_t d = c->s->d, i;
	double mean = 0, var = 0, sdv, mu, pv, *ys;
	int rc = 0;

	ys = malloc((b->n ? b->n : 1) * sizeof(*ys));
	if (!ys)
		return -ENOMEM;
	for (i = 0; i < b->n; i++)
		mean += b->y[i];
	mean /= (double)b->n;
	for (i = 0; i < b->n; i++)
		var += (b->y[i] - mean) * (b->y[i] - mean);
	sdv = sqrt(var / (double)b->n);
	if (!(sdv > 1e-12))
		sdv = 1;
	c->ybest = INFINITY;
	for (i = 0; i < b->n; i++) {
		ys[i] = (b->y[i] - mean) / sdv;
		if (ys[i] < c->ybest)
			c->ybest = ys[i];
	}
	if (refit_due(p, b->n, d))
		rc = model_refit(c, b, ys);
	if (!rc && !p->model && !(p->model = gp_model_new(d, p->theta)))
		rc = -ENOMEM;
	if (rc)
		goto out;
	c->gp = p->model;
	c->gp->n = model_prefix(c->gp, b);
	if (c->gp->n < p->fit_n)
		rc = gp_factor_block(c->gp, b->X, p->fit_n);
	for (i = c->gp->n; i < b->n && !rc; i++)
		rc = gp_append(c->gp, b->X + i * d);
	if (rc)
		goto out;
	memcpy(c->gp->y, ys, b->n * sizeof(*ys));
	gp_solve_alpha(c->gp);
	hedge_update(c);
	for (i = 0; i < b->np && !rc; i++) {
		rc = gp_predict(c->gp, b->P + i * d, 1, &mu, &pv);
		if (!rc)
			rc = gp_add(c->gp, b->P + i * d, mu);
	}
out:
	free(ys);
	return rc;
}

/* The number of completed observations needed before modelling. */
static size_t model_min(void)
{
	return 2;
}

static int suggest_batch(struct bo_call *c, const struct bo_data *b,
			 const struct search_history *h, size_t want,
			 char ***out, size_t *count)
{
	size_t d = c->s->d, k, ninit = (size_t)c->p->n_initial;
	double *x = malloc((d ? d : 1) * sizeof(*x)), mu, var;
	int modelled = 0, rc = 0, found;
	char **v;

	if (!x)
		return -ENOMEM;
	for (k = 0; k < want; k++) {
		v = NULL;
		if (h->ntrials + k < ninit || b->n < model_min()) {
			lhs_point(c->s, c->p->seed, ninit > 0 ? ninit : 1,
				  (h->ntrials + k) % (ninit > 0 ? ninit : 1),
				  x);
			found = ninit > h->ntrials + k ? candidate_ok(c, x, &v)
						       : 0;
			rc = found < 0 ? found : 0;
			if (!rc && !v)
				rc = random_unused(c, x, &v);
		} else {
			if (!modelled) {
				rc = model_build(c, b);
				modelled = 1;
			}
			if (!rc)
				rc = suggest_model(c, b, x, &v);
			if (!rc && v && k + 1 < want &&
			    !gp_predict(c->gp, x, 1, &mu, &var))
				rc = gp_add(c->gp, x, mu);
		}
		if (rc || !v) {
			assignment_values_free(v, c->s->spec->nparams);
			break;
		}
		out[(*count)++] = v;
		rc = assignment_set_add(c->used, v);
		if (rc < 0)
			break;
		rc = 0;
	}
	free(x);
	return rc;
}

static int bo_suggest(void *priv, const struct experiment_spec *spec,
		      const struct search_history *history, size_t want,
		      char ***out, struct kb_error *err)
{
	struct bo_call c;
	struct bo_space s;
	struct bo_data b;
	size_t n = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = space_init(&s, spec);
	if (rc)
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	rc = data_collect(&s, history, &b);
	if (rc) {
		space_free(&s);
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	c.p = priv;
	c.s = &s;
	rng_seed(&c.rng,
		 c.p->seed ^ seed_mix64(history->ntrials + 0x5bd1e995ULL));
	c.used = assignment_set_from_history(history, spec->nparams);
	rc = c.used ? suggest_batch(&c, &b, history, want, out, &n) : -ENOMEM;
	assignment_set_free(c.used);
	data_free(&b);
	space_free(&s);
	if (rc) {
		while (n)
			assignment_values_free(out[--n], spec->nparams);
		return kb_error_set(err, rc, NULL, 0,
				    "bayesianoptimization: %s",
				    rc == -ENOMEM ? "out of memory"
						  : "the Gaussian process "
						    "could not be fitted");
	}
	return (int)n;
}

/* ---- create / save / destroy ---- */

static void bo_destroy(void *priv)
{
	struct bo_priv *p = priv;

	if (!p)
		return;
	free(p->theta);
	free(p->last);
	gp_model_free(p->model);
	free(p);
}

static void state_load(struct bo_priv *p, const char *state, int seeded)
{
	cJSON *j = cJSON_Parse(state), *e;
	size_t d;

	if (!j)
		return;
	e = cJSON_GetObjectItem(j, "seed");
	if (!seeded && cJSON_IsString(e))
		p->seed = strtoull(e->valuestring, NULL, 10);
	state_json_doubles(cJSON_GetObjectItem(j, "gains"), p->gains, NACQ);
	e = cJSON_GetObjectItem(j, "fit_n");
	if (cJSON_IsNumber(e) && e->valuedouble > 0)
		p->fit_n = (size_t)e->valuedouble;
	e = cJSON_GetObjectItem(j, "d");
	d = cJSON_IsNumber(e) && e->valuedouble > 0 ? (size_t)e->valuedouble
						    : 0;
	if (d) {
		p->theta = malloc((d + 2) * sizeof(*p->theta));
		p->last = calloc(NACQ * d, sizeof(*p->last));
		if (p->theta && p->last &&
		    !state_json_doubles(cJSON_GetObjectItem(j, "theta"),
					p->theta, d + 2)) {
			p->d = d;
			p->has_last = !state_json_doubles(
				cJSON_GetObjectItem(j, "last"), p->last,
				NACQ * d);
		} else {
			free(p->theta);
			free(p->last);
			p->theta = p->last = NULL;
		}
	}
	cJSON_Delete(j);
}

static int bo_create(const struct experiment_spec *spec, const char *state,
		     void **priv, struct kb_error *err)
{
	struct bo_priv *p = calloc(1, sizeof(*p));
	const struct algorithm_setting *s;
	int seeded;

	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	linalg_single_thread();
	seeded = setting_random_state(spec, &p->seed);
	if (!seeded)
		p->seed = seed_from_time();
	p->n_initial = 10;
	s = setting_find(&spec->algorithm, "n_initial_points");
	if (s && setting_int(s, 0, 1L << 30, &p->n_initial, err)) {
		free(p);
		return -EINVAL;
	}
	p->acq = ACQ_HEDGE;
	s = setting_find(&spec->algorithm, "acq_func");
	if (s && s->value)
		p->acq = !strcmp(s->value, "EI")    ? ACQ_EI
			 : !strcmp(s->value, "PI")  ? ACQ_PI
			 : !strcmp(s->value, "LCB") ? ACQ_LCB
						    : ACQ_HEDGE;
	s = setting_find(&spec->algorithm, "acq_optimizer");
	p->refine = !(s && s->value && !strcmp(s->value, "sampling"));
	if (state)
		state_load(p, state, seeded);
	*priv = p;
	return 0;
}

static char *bo_save(void *priv)
{
	struct bo_priv *p = priv;
	cJSON *j = cJSON_CreateObject();
	char seed[32], *text;

	if (!j)
		return NULL;
	snprintf(seed, sizeof(seed), "%" PRIu64, p->seed);
	cJSON_AddStringToObject(j, "seed", seed);
	cJSON_AddItemToObject(j, "gains", state_json_array(p->gains, NACQ));
	if (p->theta) {
		cJSON_AddNumberToObject(j, "d", (double)p->d);
		cJSON_AddNumberToObject(j, "fit_n", (double)p->fit_n);
		cJSON_AddItemToObject(j, "theta",
				      state_json_array(p->theta, p->d + 2));
		if (p->has_last)
			cJSON_AddItemToObject(
				j, "last",
				state_json_array(p->last, NACQ * p->d));
	}
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

/* Several objectives (katibfs/objectives): ParEGO's random scalarisations,
 * one per suggestion, each handed to bo_suggest (core/algorithms/parego.c). */
static int bo_suggest_objectives(void *priv, const struct experiment_spec *spec,
				 const struct search_history *history,
				 size_t want, char ***out, struct kb_error *err)
{
	return parego_suggest(priv, spec, history, want, out, err, bo_suggest,
			      ((struct bo_priv *)priv)->seed);
}

const struct algorithm_ops algorithm_bayesianoptimization = {
	.name = "bayesianoptimization",
	.implemented = 1,
	.validate = bo_validate,
	.create = bo_create,
	.suggest = bo_suggest_objectives,
	.save = bo_save,
	.destroy = bo_destroy,
	.multi_objective = 1,
};
