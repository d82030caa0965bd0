/*
 * bayesianoptimization.c - Bayesian optimisation as Katib's
 * scikit-optimize service runs it (skopt's Optimizer), with each
 * base_estimator: GP (bo/gp.c), RF, ET and GBRT (bo/trees.c on the forest
 * module). This file owns the settings, the encoded space, the history
 * as data, the acquisition and the suggestion loop.
 *
 * Space: every int/double parameter is one coordinate in [0, 1], linear
 * or logarithmic as its distribution says (logUniform/logNormal with
 * min > 0; unlike Katib's skopt service, which forces log-uniform on every
 * double, the declared distribution is honoured and min <= 0 is fine).
 * Each categorical/discrete parameter is one-hot (one coordinate per list
 * entry). The acquisition is optimised in this relaxed box; a point is
 * then rounded: ints and steps by param_format(), one-hot by argmax.
 *
 * Models work on the standardised objective (minimised; maximize
 * objectives are negated; or any values given to
 * bayesopt_suggest_values(), bo/bo.h). The GP (Matern 5/2 ARD plus a
 * fitted white-noise term) is kept between suggestions: it is refitted at
 * every suggestion up to 300 observations, then each time their number
 * has grown by 1/8; in between new observations join its Cholesky factor
 * in groups (O(n^2) each, gp_build). Past 300 (a "large" GP) no
 * suggestion does two of the O(n^3)-ish steps: a scheduled refit is
 * spread over three suggestions (model_refit_later), a model from nothing
 * (a warm start) fits one start per suggestion for two and suggests by
 * the model of the fit's points meanwhile, candidates get the O(n^2)
 * variance only where it can matter (screen_candidates) and only the
 * hedge's pick is refined. Past MODEL_MAX (768) observations the model is
 * bounded: a refit's block is 768 of them (the best half and a spread,
 * model_rows), the later ones appended until the next refit 96 later; so
 * a suggestion costs about the same at 5,000 trials as at 1,000 (~10 ms
 * of CPU on a loaded 2-core machine, the heaviest ~25), plus the O(n)
 * reading of the history (~8 ms at 5,000).
 * Tree models are fitted afresh at each suggestion (40-60 ms at 1,000).
 *
 * Acquisition: EI, PI (xi = 0.01) and LCB (kappa = 1.96) on the
 * standardised scale; gp_hedge picks one of the three by a softmax over
 * their gains (skopt's rule, eta = 1; each gain drops by the model's mean
 * at that acquisition's last pick). It is optimised over many random
 * candidates plus perturbations of the best observed points; for the GP
 * the best few are refined by L-BFGS with the analytic gradient
 * (acq_optimizer auto/lbfgs; sampling skips it; trees always sample, as
 * skopt). The incumbent and a rule that explores when the best has
 * stopped moving are described at target_set().
 *
 * Pending trials and the other points of one batch enter as a kriging
 * believer (GP: its mean at the point) or a constant liar at the lowest
 * observed value (trees: skopt's cl_min). The first n_initial_points
 * trials come from a Latin hypercube. Suggestion k of a call draws from an
 * rng seeded by (random_state, trials so far), so the same spec, history
 * and state give the same trials. No suggestion repeats an earlier trial
 * or another one of the same batch.
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
#include "algorithms/bo/bo.h"
#include "algorithms/bo/gp.h"
#include "algorithms/bo/lbfgs.h"
#include "algorithms/bo/trees.h"
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
/* In the order of estimators[]. */
enum estimator { EST_GP, EST_RF, EST_ET, EST_GBRT };
#define NACQ 3

#define XI		0.01
#define KAPPA		1.96
#define STALL		5   /* every STALL-th trial without a new best ... */
#define STALL_KAPPA	5.0 /* ... is LCB with this kappa (see target_set) */
#define DUP_TRIES	64
#define TREE_CANDIDATES 2000	 /* random points a tree model scores */
#define REFIT_ALL	GP_LARGE /* refit at every suggestion up to this */
#define REFIT_GROWTH	8   /* then when n grew by 1/8 since the last fit */
#define GROUP		16  /* points appended to the factor at once */
#define SCREEN_TOP	4   /* large GP: candidates in exact order (screen) */
#define MODEL_MAX	768 /* a refit's block at most: a subset past it */

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

/* The index of the setting's value in choices (the first by default). */
static int setting_choice(const struct experiment_spec *spec, const char *name,
			  const char *const *choices)
{
	const struct algorithm_setting *s =
		setting_find(&spec->algorithm, name);
	int i;

	for (i = 0; s && s->value && choices[i]; i++)
		if (!strcmp(s->value, choices[i]))
			return i;
	return 0;
}

/* scikit-optimize's Optimizer refuses acq_optimizer lbfgs with a tree
 * estimator ("requires acq_optimizer='sampling'"): Katib's experiment
 * then fails when its first suggestion is asked; here it is refused at
 * once. */
static int bo_check_trees(const struct experiment_spec *spec,
			  struct kb_error *err)
{
	int est = setting_choice(spec, "base_estimator", estimators);

	if (est == EST_GP ||
	    setting_choice(spec, "acq_optimizer", acq_optimizers) != 2)
		return 0;
	return kb_error_set(err, -EINVAL,
			    "spec.algorithm.algorithmSettings[acq_optimizer]",
			    0,
			    "'lbfgs' needs a differentiable estimator: "
			    "base_estimator %s takes acq_optimizer sampling "
			    "(or auto, which is sampling for trees), as "
			    "scikit-optimize requires",
			    estimators[est]);
}

static int bo_validate(const struct experiment_spec *spec, struct kb_error *err)
{
	int rc;

	rc = settings_validate(&spec->algorithm, bo_rules, 0, err);
	if (!rc)
		rc = bo_check_trees(spec, err);
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
	enum estimator est;
	enum acq_kind acq;
	int refine;    /* acq_optimizer != sampling */
	size_t d;      /* encoded dimension of theta/last */
	double *theta; /* log ls[d], log sf2, log noise; NULL = none */
	size_t fit_n;  /* observations when theta was last fitted */
	/* A large model's scheduled refit under way (model_refit_later):
	 * its hyperparameters (NULL = none), the n they were fitted at,
	 * and the suggestions before they are taken */
	double *theta_next;
	size_t fit_n_next;
	int next_wait; /* 1: the first part of model_next is still to do */
	/* 1: a large model's first fit has its second start to do at the
	 * next suggestion (FIT_SECOND; saved) */
	int second_start;
	struct gp *model_next; /* its model, part factored (owned; not saved) */
	double gains[NACQ];
	double *last; /* NACQ x d: last hedge candidates */
	int has_last;
	/* The GP at theta, kept between suggestions (owned; NULL until the
	 * first model): its rows are the completed observations in history
	 * order (past MODEL_MAX a subset of those up to fit_n: model_rows;
	 * then the last call's believers); its Cholesky factor is the
	 * first fit_n rows as a block, then grown a group at a time. Not
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

/* What the acquisition compares against, on the standardised scale. */
struct acq_target {
	double ybest; /* the incumbent */
	double xi;    /* EI, PI: the improvement sought beyond it */
	double kappa; /* LCB: sds below the mean */
};

/* Acquisition value and d/dmu, d/dsd. */
static double acq_value(enum acq_kind a, double mu, double sd,
			const struct acq_target *t, double *dmu, double *dsd)
{
	double imp = t->ybest - mu - t->xi, z = imp / sd, pdf, cdf;

	switch (a) {
	case ACQ_LCB:
		*dmu = 1;
		*dsd = -t->kappa;
		return mu - t->kappa * sd;
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
	const struct acq_target *target;
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
	f = acq_value(c->kind, mu, sd, c->target, &fmu, &fsd);
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
	size_t stall; /* completed trials since the best y was last bettered */
};

static void data_free(struct bo_data *b)
{
	free(b->X);
	free(b->y);
	free(b->P);
}

/* The completed trials' points and minimised values (y[i] for trial i
 * when y is not NULL; NAN there: none), the pending trials' points. */
static int data_collect(const struct bo_space *s,
			const struct search_history *h, const double *y,
			struct bo_data *b)
{
	size_t d = s->d, i, cap = h->ntrials ? h->ntrials : 1;
	const struct history_trial *t;
	double *x, best = INFINITY, v;

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
		v = y				  ? y[i]
		    : !t->has_objective		  ? NAN
		    : s->spec->objective.maximize ? -t->objective
						  : t->objective;
		if (t->state == HISTORY_FAILED || !isfinite(v))
			continue;
		x = b->X + b->n * d;
		if (encode(s, t->values, x))
			continue;
		b->y[b->n] = v;
		b->stall = b->y[b->n] < best ? 0 : b->stall + 1;
		best = fmin(best, b->y[b->n]);
		b->n++;
	}
	return 0;
}

/* ---- one suggestion ---- */

struct bo_call {
	struct bo_priv *p;
	const struct bo_space *s;
	size_t want;	   /* suggestions asked in this call */
	struct gp *gp;	   /* GP: p->model, once built (or subset) */
	struct gp *subset; /* a large GP's first suggestion's model (owned) */
	/* trees: the model of this call (owned) and what it was fitted to:
	 * the observations (standardised), then pending and batch points at
	 * the constant lie (tn rows of TX, TY; owned) */
	struct bo_trees *trees;
	double *TX, *TY, lie;
	size_t tn;
	struct rng rng;
	struct acq_target target;
	int explore; /* the next suggestion explores (target_set) */
	struct assignment_set *used;
};

/* Mean and variance of the surrogate (standardised) at m points X. */
static int model_predict(const struct bo_call *c, const double *X, size_t m,
			 double *mu, double *var)
{
	if (!c->trees)
		return gp_predict(c->gp, X, m, mu, var);
	bo_trees_predict(c->trees, X, m, mu, var);
	return 0;
}

/* The points the surrogate was fitted to. */
static size_t model_n(const struct bo_call *c)
{
	return c->trees ? c->tn : c->gp->n;
}

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

/*
 * Candidates: for the GP, half random and half local perturbations of the
 * best observed points; for trees, all random, as skopt's sampling (2,000
 * points where skopt takes 10,000, which took 5x the time for RF's median
 * regret 54 instead of 121 on rosenbrock4 and the same on levy4 and
 * ackley5). Local candidates hurt trees: their mean is flat over a leaf,
 * so EI ties over whole regions and the first tied candidate (a local
 * one) wins, a local search that made RF, ET and GBRT worse than random
 * on levy4.
 */
static void fill_candidates(struct bo_call *c, const struct bo_data *b,
			    double *C, size_t m)
{
	size_t d = c->s->d, j, best[5], nb = 0, i, k;
	size_t nloc = b->n && !c->trees ? m / 2 : 0;
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
		c->gp, kind,	  &c->target,	     w,
		w + n, w + 2 * n, w + 2 * n + n * d, w + 2 * n + n * d + d
	};
	lo = w + 2 * n + n * d + 2 * d;
	hi = lo + d;
	for (k = 0; k < d; k++) {
		lo[k] = 0;
		hi[k] = 1;
	}
	pr = (struct lbfgs_problem){ acq_objective, &ctx, d, lo, hi, 0 };
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
		score[j] = acq_value(kind, mu[j], sd[j], &c->target, &dm, &ds);
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
		rc = model_predict(c, R + j * d, 1, &rmu, &rvar);
		if (rc)
			return rc;
		score[m + j] =
			acq_value(kind, rmu, sqrt(rvar), &c->target, &dm, &ds);
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

/* The best score acquisition a can give a candidate of mean mu whose sd
 * is at most sd_hi (and at least 1e-6, gp_predict's floor): EI and LCB
 * improve with the sd, PI too below the target but with less above it. */
static double acq_bound(enum acq_kind a, double mu, double sd_hi,
			const struct acq_target *t)
{
	double dm, ds, imp = t->ybest - mu - t->xi;

	return acq_value(a, mu, a == ACQ_PI && imp > 0 ? 1e-6 : sd_hi, t, &dm,
			 &ds);
}

/* Candidates of acquisition `kind` by score, the exact one where exact[j]
 * is set, else its bound (order: m indices). */
static void screen_order(struct bo_call *c, enum acq_kind kind,
			 const double *mu, const double *sd,
			 const unsigned char *exact, size_t m, double *key,
			 size_t *order)
{
	double dm, ds;
	size_t j;

	for (j = 0; j < m; j++) {
		key[j] = exact[j] ? acq_value(kind, mu[j], sd[j], &c->target,
					      &dm, &ds)
				  : acq_bound(kind, mu[j], sd[j], &c->target);
		order[j] = j;
	}
	qsort_r(order, m, sizeof(*order), cmp_score, key);
}

/* The exact sd of the k candidates need[] from their covariances (the
 * rows of Kc, n each; B: k x n scratch). */
static void screen_exact(const struct gp *gp, const double *Kc,
			 const size_t *need, size_t k, double *B, double *sd)
{
	size_t n = gp->n, i;

	for (i = 0; i < k; i++)
		memcpy(B + i * n, Kc + need[i] * n, n * sizeof(*B));
	gp_var_of_cov(gp, B, k, B + k * n);
	for (i = 0; i < k; i++)
		sd[need[i]] = sqrt(B[k * n + i]);
}

/*
 * A large GP's candidates (mu, sd of the m points C) without the O(n^2)
 * variance of each: gp_predict_screen gives every candidate its mean and
 * an upper bound on its variance, hence a bound on each acquisition's
 * score (acq_bound). A candidate whose bound is not among the SCREEN_TOP
 * best keys (exact scores, or bounds where the variance is not computed
 * yet) of any acquisition cannot be among its SCREEN_TOP best; so the
 * exact variance is computed, in rounds, for the candidates among the
 * leaders until the leaders of every acquisition are exact. The others
 * keep the bound: the order is exact for the first SCREEN_TOP of each
 * acquisition, approximate after (what first_unused reaches only when
 * those are all used).
 */
static int screen_candidates(struct bo_call *c, const double *C, size_t m,
			     double *mu, double *sd, enum acq_kind acq,
			     size_t na)
{
	size_t n = c->gp->n, *order = malloc(2 * m * sizeof(*order)), *need;
	size_t top = SCREEN_TOP, k, j, a;
	unsigned char *exact = calloc(m, 1);
	double *key = malloc(m * sizeof(*key));
	double *Kc = malloc((2 * m * n + m) * sizeof(*Kc));
	int rc = -ENOMEM;

	if (!exact || !order || !key || !Kc)
		goto out;
	need = order + m;
	rc = gp_predict_screen(c->gp, C, m, mu, sd, Kc);
	for (j = 0; !rc && j < m; j++)
		sd[j] = sqrt(sd[j]);
	while (!rc) {
		k = 0;
		for (a = 0; a < na; a++) {
			screen_order(c,
				     acq == ACQ_HEDGE ? (enum acq_kind)a : acq,
				     mu, sd, exact, m, key, order);
			for (j = 0; j < SCREEN_TOP && j < m; j++)
				if (!exact[order[j]])
					break;
			if (j == SCREEN_TOP || j == m)
				continue; /* this one's leaders are exact */
			for (j = 0; j < top && j < m; j++)
				if (!exact[order[j]]) {
					exact[order[j]] = 1;
					need[k++] = order[j];
				}
		}
		if (!k)
			break;
		top *= 2; /* a round costs a pass over the factor */
		screen_exact(c->gp, Kc, need, k, Kc + m * n, sd);
	}
out:
	free(exact);
	free(order);
	free(key);
	free(Kc);
	return rc;
}

/* Model-based suggestion: fills x and *out (NULL if nothing unused). */
static int suggest_model(struct bo_call *c, const struct bo_data *b, double *x,
			 char ***out)
{
	size_t d = c->s->d, total, k;
	size_t m = c->trees ? TREE_CANDIDATES : ncandidates(model_n(c));
	size_t nref = refine_count(model_n(c));
	enum acq_kind acq = c->explore ? ACQ_LCB : c->p->acq;
	size_t na = acq == ACQ_HEDGE ? NACQ : 1, a, pick;
	double *C = malloc(m * d * sizeof(*C)), *mu = malloc(m * sizeof(*mu));
	double *sd = malloc(m * sizeof(*sd)), *R, *score;
	size_t *order;
	enum acq_kind kind;
	int rc = -ENOMEM, found = 0, large;

	total = m + nref;
	R = malloc(na * nref * d * sizeof(*R));
	score = malloc(na * total * sizeof(*score));
	order = malloc(na * total * sizeof(*order));
	*out = NULL;
	if (!C || !mu || !sd || !R || !score || !order)
		goto out;
	if (c->explore)
		c->target.kappa = STALL_KAPPA;
	fill_candidates(c, b, C, m);
	large = !c->trees && c->gp->n > GP_LARGE;
	rc = large ? screen_candidates(c, C, m, mu, sd, acq, na)
		   : model_predict(c, C, m, mu, sd);
	if (rc)
		goto out;
	for (k = 0; k < m && !large; k++)
		sd[k] = sqrt(sd[k]);
	for (a = 0; a < na; a++) {
		kind = acq == ACQ_HEDGE ? (enum acq_kind)a : acq;
		rc = optimise_one(c, kind, C, mu, sd, m, R + a * nref * d,
				  large && na > 1 ? 0 : nref, order + a * total,
				  score + a * total);
		if (rc)
			goto out;
	}
	pick = 0;
	if (acq == ACQ_HEDGE) {
		for (a = 0; a < NACQ; a++) { /* remember for the gains */
			k = order[a * total];
			memcpy(c->p->last + a * d,
			       k < m ? C + k * d
				     : R + a * nref * d + (k - m) * d,
			       d * sizeof(*x));
		}
		c->p->has_last = 1;
		pick = hedge_pick(c);
		/* a large GP refines the pick's best only (each gain drops by
		 * the mean at that acquisition's best candidate) */
		if (large)
			rc = optimise_one(c, (enum acq_kind)pick, C, mu, sd, m,
					  R + pick * nref * d, nref,
					  order + pick * total,
					  score + pick * total);
		if (rc)
			goto out;
	}
	rc = first_unused(c, C, m, R + pick * nref * d, order + pick * total,
			  total, x, out);
	found = rc > 0;
	rc = rc < 0 ? rc : 0;
	if (!rc && !found)
		rc = random_unused(c, x, out);
out:
	c->explore = 0; /* one exploring suggestion */
	c->target.kappa = KAPPA;
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
	for (a = 0; a < NACQ; a++) /* the mean only: a GP skips the solve */
		if (!model_predict(c, c->p->last + a * c->s->d, 1, &mu,
				   c->trees ? &var : NULL))
			c->p->gains[a] -= mu;
	c->p->has_last = 0;
}

/* The rows of the model's block after a refit at fit_n observations: all
 * of them up to MODEL_MAX, then MODEL_MAX (model_rows). */
static size_t block_size(size_t fit_n)
{
	return fit_n < MODEL_MAX ? fit_n : MODEL_MAX;
}

/*
 * Refit the hyperparameters now? At every suggestion up to REFIT_ALL
 * observations (a fit costs ~10 ms whatever n: it uses at most FIT_MAX
 * points), then each time their number has grown by 1/REFIT_GROWTH since
 * the last fit (a geometric schedule: ~10 fits from 300 to 1,000), when the
 * O(n^3) refactoring it implies would dominate; past MODEL_MAX, each time
 * MODEL_MAX / 8 more have come (the model's size stays bounded).
 * A function of the saved state and the history only, so a restarted
 * daemon decides the same.
 */
static int refit_due(const struct bo_priv *p, size_t n, size_t d)
{
	if (!p->theta || p->d != d || n <= REFIT_ALL || n < p->fit_n)
		return 1;
	return n >= p->fit_n + block_size(p->fit_n) / REFIT_GROWTH;
}

/* Room for the hedge's last candidates at dimension d. */
static int hedge_alloc(struct bo_priv *p, size_t d)
{
	if (p->last && p->d == d)
		return 0;
	free(p->last);
	p->last = calloc(NACQ * (d ? d : 1), sizeof(*p->last));
	p->has_last = 0;
	p->d = d;
	return p->last ? 0 : -ENOMEM;
}

/* Fit theta (warm started from the last fit) into p->theta; drops the
 * model, whose factor was for the old theta. */
static int model_refit(struct bo_call *c, const struct bo_data *b,
		       const double *ys)
{
	struct bo_priv *p = c->p;
	size_t d = c->s->d;
	double *theta = malloc((d + 2) * sizeof(*theta));
	int rc, warm = p->theta && p->d == d;

	if (!theta)
		return -ENOMEM;
	rc = fit_theta(b->X, ys, b->n, d, warm ? p->theta : NULL,
		       b->n > REFIT_ALL ? FIT_QUICK : 0, &c->rng, theta);
	p->second_start = !warm && b->n > REFIT_ALL;
	if (!rc && (p->d != d || !p->theta)) {
		free(p->theta);
		p->theta = malloc((d + 2) * sizeof(*p->theta));
		rc = p->theta ? hedge_alloc(p, d) : -ENOMEM;
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

/* The second start of a large model's first fit (FIT_SECOND): theta
 * replaced by its result if that is better on this suggestion's data. */
static int model_second_start(struct bo_call *c, const struct bo_data *b,
			      const double *ys)
{
	struct bo_priv *p = c->p;

	p->second_start = 0;
	gp_model_free(p->model);
	p->model = NULL;
	return fit_theta(b->X, ys, b->n, c->s->d, p->theta, FIT_SECOND, &c->rng,
			 p->theta);
}

/*
 * A large model's scheduled refit over three suggestions, each of which
 * still suggests with the model it has until the third: the first fits
 * theta (warm, on a bounded subset: fit_theta) into theta_next; the
 * second does the first part of the new model's factorisation
 * (model_next_part: about half the work); the third takes theta_next and
 * that model (model_take_next) and finishes it (gp_build). The fit and
 * the O(n^3) factorisation, 10-35 ms each at 1,000 points, are spread
 * over three suggestions. theta_next and the suggestions left are saved
 * (bo_save): a restarted daemon suggests the same, doing what it lacks of
 * the factorisation in the third (as after any restart; the same bits).
 */
static int model_refit_later(struct bo_call *c, const struct bo_data *b,
			     const double *ys)
{
	struct bo_priv *p = c->p;
	size_t d = c->s->d;
	int rc;

	if (!p->theta_next &&
	    !(p->theta_next = malloc((d + 2) * sizeof(*p->theta_next))))
		return -ENOMEM;
	rc = fit_theta(b->X, ys, b->n, d, p->theta, 1, &c->rng, p->theta_next);
	if (rc) {
		free(p->theta_next);
		p->theta_next = NULL;
		return rc;
	}
	p->fit_n_next = b->n;
	p->next_wait = 1;
	p->second_start = 0;
	return 0;
}

/* The points a model is of (model_rows): rows X (n x d) with targets y,
 * the first `block` of them factored as a block; X and y are the call's
 * data or, past MODEL_MAX, own (freed by rows_free). */
struct model_rows {
	const double *X, *y;
	size_t n, block;
	double *own;
};

static int cmp_y_index(const void *a, const void *b, void *ctx)
{
	const double *y = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (y[i] != y[j])
		return y[i] < y[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

/*
 * The MODEL_MAX of the first m observations a model past MODEL_MAX keeps
 * in its block, in history order, into idx (m scratch; the first
 * MODEL_MAX written): the best half and an even spread of the others by
 * rank (so the model still sees the bad regions), a function of the
 * history and m only (ties by history order), so a restart picks the
 * same.
 */
static int block_pick(const double *y, size_t m, size_t *idx)
{
	size_t half = MODEL_MAX / 2, i, k;
	unsigned char *keep = calloc(m, 1);

	if (!keep)
		return -ENOMEM;
	for (i = 0; i < m; i++)
		idx[i] = i;
	qsort_r(idx, m, sizeof(*idx), cmp_y_index, (void *)y);
	for (i = 0; i < half; i++)
		keep[idx[i]] = 1;
	for (i = 0; i < MODEL_MAX - half; i++)
		keep[idx[half + i * (m - half) / (MODEL_MAX - half)]] = 1;
	for (i = k = 0; i < m; i++)
		if (keep[i])
			idx[k++] = i;
	free(keep);
	return 0;
}

static void rows_free(struct model_rows *r)
{
	free(r->own);
	r->own = NULL;
}

/*
 * The points of the model refitted at fit_n observations, given the
 * call's b (standardised targets ys, or NULL: y not set): its block, the
 * first fit_n observations (past MODEL_MAX, block_pick's MODEL_MAX of
 * them), then every later observation in history order.
 */
static int model_rows(const struct bo_data *b, const double *ys, size_t fit_n,
		      size_t d, struct model_rows *r)
{
	size_t i, t, *idx;

	memset(r, 0, sizeof(*r));
	r->block = block_size(fit_n);
	if (fit_n > b->n)
		return -EINVAL; /* a refit comes first (refit_due) */
	if (fit_n <= MODEL_MAX) {
		r->X = b->X;
		r->y = ys;
		r->n = b->n;
		return 0;
	}
	r->n = r->block + b->n - fit_n;
	idx = malloc(fit_n * sizeof(*idx));
	r->own = idx ? malloc(r->n * (d + 1) * sizeof(*r->own)) : NULL;
	if (!r->own || block_pick(b->y, fit_n, idx)) {
		free(idx);
		rows_free(r);
		return -ENOMEM;
	}
	for (i = 0; i < r->n; i++) {
		t = i < r->block ? idx[i] : fit_n + i - r->block;
		memcpy(r->own + i * d, b->X + t * d, d * sizeof(*r->own));
		r->own[r->n * d + i] = ys ? ys[t] : 0;
	}
	free(idx);
	r->X = r->own;
	r->y = r->own + r->n * d;
	return 0;
}

/* The second suggestion of a refit: the first part of its model (any
 * failure is the third's to report). */
static void model_next_part(struct bo_priv *p, const struct bo_data *b)
{
	struct model_rows r;

	p->next_wait = 0;
	gp_model_free(p->model_next);
	p->model_next = NULL;
	if (b->n < p->fit_n_next ||
	    model_rows(b, NULL, p->fit_n_next, p->d, &r))
		return;
	p->model_next = gp_model_new(p->d, p->theta_next);
	if (p->model_next && gp_factor_part(p->model_next, r.X, r.block)) {
		gp_model_free(p->model_next);
		p->model_next = NULL;
	}
	rows_free(&r);
}

/* The refit of the last suggestion taken: theta_next and its n become
 * theta and fit_n; the model (of the old theta) is dropped. */
static void model_take_next(struct bo_priv *p, size_t d)
{
	if (p->theta_next && p->theta && p->d == d) {
		memcpy(p->theta, p->theta_next, (d + 2) * sizeof(*p->theta));
		p->fit_n = p->fit_n_next;
		gp_model_free(p->model);
		p->model = p->model_next; /* or NULL: factored afresh */
		p->model_next = NULL;
	}
	gp_model_free(p->model_next);
	p->model_next = NULL;
	free(p->theta_next);
	p->theta_next = NULL;
}

/* How many leading rows of the model are the first of r's (same points
 * in the same order): their factor rows are kept. */
static size_t model_prefix(const struct gp *gp, const struct model_rows *r)
{
	size_t d = gp->d, i, n = gp->n < r->n ? gp->n : r->n;

	for (i = 0; i < n; i++)
		if (memcmp(gp->X + i * d, r->X + i * d, d * sizeof(*r->X)))
			break;
	return i;
}

/*
 * The GP on the completed observations (standardised): the factor is the
 * first fit_n points (those of the last refit) factored as a block, then
 * the later points appended in groups of GROUP (fit_n + k GROUP onwards:
 * O(n^2) a point, in one pass over the factor per group), the last group
 * however many there are. Complete groups kept from the last call are
 * reused; the last, incomplete one is redone. It is a function of the
 * points' order, theta and fit_n only, so the model rebuilt after a
 * restart has the same bits, and costs one pass per GROUP points (up to
 * fit_n / 8 of them: ~5 ms at 1,000 where appending them one by one took
 * 30). Past MODEL_MAX the block is a subset (model_rows).
 */
static int gp_build(struct bo_call *c, const struct bo_data *b,
		    const double *ys)
{
	struct bo_priv *p = c->p;
	size_t d = c->s->d, i, t;
	int rc = 0, first = !p->theta || p->d != d, due;
	struct model_rows r;

	if (p->theta_next &&
	    (!p->next_wait || p->d != d || b->n < p->fit_n_next))
		model_take_next(p, d); /* or dropped for another space */
	else if (p->theta_next)
		model_next_part(p, b);
	due = !p->theta_next && refit_due(p, b->n, d);
	if (due && !first && b->n > REFIT_ALL && b->n >= p->fit_n &&
	    b->n <= p->fit_n + 2 * (block_size(p->fit_n) / REFIT_GROWTH)) {
		rc = model_refit_later(c, b, ys);
	} else if (due) {
		/* at once; a large model (from nothing, or past more new
		 * observations than a scheduled refit leaves, whose appending
		 * would cost O(n^2) each) suggests by the fit's points */
		rc = model_refit(c, b, ys);
		first = 1;
	} else if (!p->theta_next && p->second_start) {
		rc = model_second_start(c, b, ys);
		first = 1; /* still by the fit's points */
	}
	if (!rc && first && b->n > REFIT_ALL) {
		/* the fit (a first fit's two starts) and the factorisation
		 * in different suggestions: the fit's by the model of the
		 * fit's points (the best 30 and a spread), the next by the
		 * whole */
		c->gp = c->subset =
			gp_subset_model(b->X, ys, b->n, d, p->theta);
		return c->gp ? 0 : -ENOMEM;
	}
	if (!rc && !p->model && !(p->model = gp_model_new(d, p->theta)))
		rc = -ENOMEM;
	if (!rc)
		rc = model_rows(b, ys, p->fit_n, d, &r);
	if (rc)
		return rc;
	c->gp = p->model;
	i = model_prefix(c->gp, &r);
	if (i > r.block) /* whole groups only */
		i = r.block + (i - r.block) / GROUP * GROUP;
	c->gp->n = i;
	if (c->gp->n < r.block)
		rc = gp_factor_block(c->gp, r.X, r.block);
	for (i = c->gp->n; i < r.n && !rc; i += t) {
		t = r.n - i < GROUP ? r.n - i : GROUP;
		rc = gp_append_group(c->gp, r.X + i * d, t);
	}
	if (!rc) {
		memcpy(c->gp->y, r.y, r.n * sizeof(*r.y));
		gp_solve_alpha(c->gp);
	}
	rows_free(&r);
	return rc;
}

/* The tree model refitted to its points (a seed from the call's rng). */
static int trees_refit(struct bo_call *c)
{
	static const enum bo_trees_kind kinds[] = { BO_TREES_RF, BO_TREES_RF,
						    BO_TREES_ET,
						    BO_TREES_GBRT };

	bo_trees_free(c->trees);
	c->trees = NULL;
	return bo_trees_fit(kinds[c->p->est], c->TX, c->TY, c->tn, c->s->d,
			    rng_next(&c->rng), &c->trees);
}

/* The tree model on the completed observations (standardised); room for
 * the pending and batch points to come. */
static int trees_build(struct bo_call *c, const struct bo_data *b,
		       const double *ys)
{
	size_t d = c->s->d, cap = b->n + b->np + c->want, i;
	int rc = hedge_alloc(c->p, d);

	c->TX = malloc(cap * d * sizeof(*c->TX));
	c->TY = malloc(cap * sizeof(*c->TY));
	if (rc || !c->TX || !c->TY)
		return -ENOMEM;
	memcpy(c->TX, b->X, b->n * d * sizeof(*c->TX));
	memcpy(c->TY, ys, b->n * sizeof(*c->TY));
	c->tn = b->n;
	c->lie = INFINITY; /* scikit-optimize's default "cl_min" */
	for (i = 0; i < b->n; i++)
		c->lie = fmin(c->lie, ys[i]);
	return trees_refit(c);
}

/* Add x to the model as a point whose result is not known yet: the GP
 * takes its own mean there (a kriging believer); trees take the lie and
 * are refitted. No refit of the GP's hyperparameters. */
static int model_add(struct bo_call *c, const double *x, int refit)
{
	size_t d = c->s->d;
	double mu;
	int rc;

	if (!c->trees) {
		rc = gp_predict(c->gp, x, 1, &mu, NULL);
		return rc ? rc : gp_add(c->gp, x, mu);
	}
	memcpy(c->TX + c->tn * d, x, d * sizeof(*x));
	c->TY[c->tn++] = c->lie;
	return refit ? trees_refit(c) : 0;
}

/*
 * The incumbent and the exploration of the acquisition.
 *
 * Incumbent: for the GP, the lowest posterior mean at the observed points
 * (y_i - noise * alpha_i: no solve needed). With noise, the lowest
 * observed value is a lucky draw (biased low), and measuring improvement
 * from it makes EI and PI nearly zero everywhere but next to it, so the
 * search stalls there; with no noise the two are the same. Trees keep
 * scikit-optimize's lowest observed value.
 *
 * Exploration: when the best observed value has not improved for the
 * last STALL completed trials, and those are at least half of all trials
 * (the best is stale: it came from the first half of the search), every
 * STALL-th such trial is an exploring one: LCB with kappa STALL_KAPPA (5
 * sds: the most uncertain promising region) whatever acq_func says. This
 * is for plateaus (a quantised score that no small step changes) and
 * noise (a lucky draw that nothing beats), where EI sits at zero around
 * the incumbent and the search would stay there. The cost is bounded: at
 * most one trial in STALL, and none while the search improves. Measured
 * in make bench (bench/results/README.md): without the "half of all
 * trials" condition, raising exploration after 5 stalled trials hurt the
 * smooth functions (rosenbrock4 73 -> 480), where a GP often goes 5
 * trials without a new best and then finds one; with it, they are
 * unchanged within seed noise.
 */
static void target_set(struct bo_call *c, const struct bo_data *b,
		       const double *ys)
{
	size_t i, n = c->trees ? b->n : c->gp->n;
	double best = INFINITY, v;

	for (i = 0; i < n; i++) { /* the GP's points: ys, or a subset */
		v = c->trees ? ys[i] : c->gp->y[i];
		if (!c->trees)
			v -= c->gp->noise * c->gp->alpha[i];
		best = fmin(best, v);
	}
	c->explore = b->stall >= STALL && b->stall % STALL == 0 &&
		     2 * b->stall >= b->n;
	c->target.ybest = best;
	c->target.xi = XI;
	c->target.kappa = KAPPA;
}

/* ys: the observations standardised (heap, n), or NULL. */
static double *standardise(const struct bo_data *b)
{
	double mean = 0, var = 0, sdv, *ys;
	size_t i;

	ys = malloc((b->n ? b->n : 1) * sizeof(*ys));
	if (!ys)
		return NULL;
	for (i = 0; i < b->n; i++)
		mean += b->y[i];
	mean /= (double)b->n;
	for (i = 0; i < b->n; i++)
		var += (b->y[i] - mean) * (b->y[i] - mean);
	sdv = sqrt(var / (double)b->n);
	if (!(sdv > 1e-12))
		sdv = 1;
	for (i = 0; i < b->n; i++)
		ys[i] = (b->y[i] - mean) / sdv;
	return ys;
}

/* The surrogate on the completed observations, the hedge's gains updated
 * from it, then the pending points added (model_add). */
static int model_build(struct bo_call *c, const struct bo_data *b)
{
	size_t i, d = c->s->d;
	double *ys = standardise(b);
	int rc;

	if (!ys)
		return -ENOMEM;
	rc = c->p->est == EST_GP ? gp_build(c, b, ys) : trees_build(c, b, ys);
	if (!rc) {
		target_set(c, b, ys);
		hedge_update(c);
	}
	for (i = 0; i < b->np && !rc; i++)
		rc = model_add(c, b->P + i * d, i + 1 == b->np);
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
	double *x = malloc((d ? d : 1) * sizeof(*x));
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
			if (!rc && v && k + 1 < want)
				rc = model_add(c, x, 1);
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

int bayesopt_suggest_values(void *priv, const struct experiment_spec *spec,
			    const struct search_history *history,
			    const double *y, size_t want, char ***out,
			    struct kb_error *err)
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
	rc = data_collect(&s, history, y, &b);
	if (rc) {
		space_free(&s);
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	c.p = priv;
	c.s = &s;
	c.want = want;
	rng_seed(&c.rng,
		 c.p->seed ^ seed_mix64(history->ntrials + 0x5bd1e995ULL));
	c.used = assignment_set_from_history(history, spec->nparams);
	rc = c.used ? suggest_batch(&c, &b, history, want, out, &n) : -ENOMEM;
	assignment_set_free(c.used);
	gp_model_free(c.subset);
	bo_trees_free(c.trees);
	free(c.TX);
	free(c.TY);
	data_free(&b);
	space_free(&s);
	if (rc) {
		while (n)
			assignment_values_free(out[--n], spec->nparams);
		return kb_error_set(err, rc, NULL, 0,
				    "bayesianoptimization: %s",
				    rc == -ENOMEM ? "out of memory"
						  : "the model could not be "
						    "fitted");
	}
	return (int)n;
}

static int bo_suggest(void *priv, const struct experiment_spec *spec,
		      const struct search_history *history, size_t want,
		      char ***out, struct kb_error *err)
{
	return bayesopt_suggest_values(priv, spec, history, NULL, want, out,
				       err);
}

/* ---- create / save / destroy ---- */

static void bo_destroy(void *priv)
{
	struct bo_priv *p = priv;

	if (!p)
		return;
	free(p->theta);
	free(p->theta_next);
	gp_model_free(p->model_next);
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
	if (d && !hedge_alloc(p, d))
		p->has_last = !state_json_doubles(
			cJSON_GetObjectItem(j, "last"), p->last, NACQ * d);
	e = cJSON_GetObjectItem(j, "theta"); /* the GP's */
	if (p->last && e) {
		p->theta = malloc((d + 2) * sizeof(*p->theta));
		if (p->theta && state_json_doubles(e, p->theta, d + 2)) {
			free(p->theta);
			p->theta = NULL;
		}
	}
	e = cJSON_GetObjectItem(j, "theta_next"); /* a refit not taken yet */
	if (p->theta && e) {
		p->theta_next = malloc((d + 2) * sizeof(*p->theta_next));
		if (p->theta_next &&
		    state_json_doubles(e, p->theta_next, d + 2)) {
			free(p->theta_next);
			p->theta_next = NULL;
		}
		e = cJSON_GetObjectItem(j, "fit_n_next");
		p->fit_n_next = cJSON_IsNumber(e) && e->valuedouble > 0
					? (size_t)e->valuedouble
					: p->fit_n;
		e = cJSON_GetObjectItem(j, "next_wait");
		p->next_wait = cJSON_IsNumber(e) && e->valuedouble > 0;
	}
	e = cJSON_GetObjectItem(j, "second_start");
	p->second_start = p->theta && cJSON_IsNumber(e) && e->valuedouble > 0;
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
	p->est = (enum estimator)setting_choice(spec, "base_estimator",
						estimators);
	p->acq = ACQ_HEDGE;
	s = setting_find(&spec->algorithm, "acq_func");
	if (s && s->value)
		p->acq = !strcmp(s->value, "EI")    ? ACQ_EI
			 : !strcmp(s->value, "PI")  ? ACQ_PI
			 : !strcmp(s->value, "LCB") ? ACQ_LCB
						    : ACQ_HEDGE;
	/* auto: lbfgs for the GP, sampling for trees (skopt) */
	s = setting_find(&spec->algorithm, "acq_optimizer");
	p->refine = p->est == EST_GP &&
		    !(s && s->value && !strcmp(s->value, "sampling"));
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
	if (p->last) { /* any estimator: the hedge's last picks */
		cJSON_AddNumberToObject(j, "d", (double)p->d);
		if (p->has_last)
			cJSON_AddItemToObject(
				j, "last",
				state_json_array(p->last, NACQ * p->d));
	}
	if (p->theta) { /* the GP's hyperparameters */
		cJSON_AddNumberToObject(j, "fit_n", (double)p->fit_n);
		cJSON_AddItemToObject(j, "theta",
				      state_json_array(p->theta, p->d + 2));
	}
	if (p->theta && p->second_start)
		cJSON_AddNumberToObject(j, "second_start", 1);
	if (p->theta && p->theta_next) {
		cJSON_AddNumberToObject(j, "fit_n_next", (double)p->fit_n_next);
		cJSON_AddNumberToObject(j, "next_wait", p->next_wait);
		cJSON_AddItemToObject(
			j, "theta_next",
			state_json_array(p->theta_next, p->d + 2));
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
