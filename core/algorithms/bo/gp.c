/*
 * gp.c - the Gaussian process of the Bayesian optimisation (gp.h):
 * constant mean, Matern 5/2 ARD kernel times a signal variance, plus a
 * white-noise term; hyperparameters by maximum a posteriori (weak
 * log-normal priors) with L-BFGS on their logs and analytic gradients.
 * The model GP grows its Cholesky factor a row or a group at a time; a
 * large one is factored in two parts (gp_factor_part) and screens many
 * points by a variance bound (gp_predict_screen) before the O(n^2)
 * variance of the few that matter (gp_var_of_cov).
 *
 * Owns: the GP models (gp_model_new(), gp_subset_model(), gp_model_free())
 * with their points, factors and hyperparameters; scratch is per call.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/bo/gp.h"
#include "algorithms/bo/lbfgs.h"
#include "algorithms/linalg.h"

#define LOG_LS_MIN	 (-4.6) /* lengthscale 0.01 */
#define LOG_LS_MAX	 2.3	/* 10 */
#define LOG_SF_MIN	 (-3.0)
#define LOG_SF_MAX	 3.0
#define LOG_NOISE_MIN	 (-13.8) /* 1e-6 */
#define LOG_NOISE_MAX	 0.4	 /* 1.5: the data may be all noise */
#define FIT_MAX		 100	 /* points in the likelihood fit */
#define FIT_BEST	 30
#define REFIT_ITERATIONS 15 /* L-BFGS steps of a quick refit */

#define SQRT5 2.23606797749978969640

/* The kernel between a and b; *e = its exp(-sqrt(5) r) factor. */
static double matern_e(const double *a, const double *b, const double *ils2,
		       size_t d, double sf2, double *e)
{
	double r2 = 0, r, t;
	size_t k;

	for (k = 0; k < d; k++) {
		t = a[k] - b[k];
		r2 += t * t * ils2[k];
	}
	r = sqrt(r2);
	*e = exp(-SQRT5 * r);
	return sf2 * (1 + SQRT5 * r + 5.0 / 3.0 * r2) * *e;
}

static double matern(const double *a, const double *b, const double *ils2,
		     size_t d, double sf2)
{
	double e;

	return matern_e(a, b, ils2, d, sf2, &e);
}

/* The n points X (n x d) transposed (d x n, owned by the caller), or
 * NULL. */
static double *transposed(const double *X, size_t n, size_t d)
{
	double *T = malloc((n * d > 0 ? n * d : 1) * sizeof(*T));
	size_t i, k;

	for (i = 0; T && i < n; i++)
		for (k = 0; k < d; k++)
			T[k * n + i] = X[i * d + k];
	return T;
}

/*
 * The kernel between x and each of the first n points into K[n]: what
 * matern(point i, x) gives, bit for bit (the same operations in the same
 * order), a coordinate at a time over all points (XT: the points
 * transposed, rows ldt apart), which runs 15-25% faster.
 */
static void kernel_row(const struct gp *gp, const double *XT, size_t ldt,
		       size_t n, const double *x, double *K)
{
	size_t i, k;
	double t, r;

	for (i = 0; i < n; i++)
		K[i] = 0;
	for (k = 0; k < gp->d; k++)
		for (i = 0; i < n; i++) {
			t = XT[k * ldt + i] - x[k];
			K[i] += t * t * gp->ils2[k];
		}
	for (i = 0; i < n; i++) {
		r = sqrt(K[i]);
		K[i] = gp->sf2 * (1 + SQRT5 * r + 5.0 / 3.0 * K[i]) *
		       exp(-SQRT5 * r);
	}
}

static void gp_set_theta(struct gp *gp, const double *theta)
{
	size_t k;

	if (theta != gp->theta)
		memcpy(gp->theta, theta, (gp->d + 2) * sizeof(*theta));
	gp->factored = 0;
	for (k = 0; k < gp->d; k++)
		gp->ils2[k] = exp(-2 * theta[k]);
	gp->sf2 = exp(theta[gp->d]);
	gp->noise = exp(theta[gp->d + 1]);
}

/* K (n x n) at the current theta; each pair's exp factor kept in
 * gp->expo for the gradient (lml_kernel_grad), which needs the same. */
static void gp_kernel_matrix(const struct gp *gp, double *K)
{
	size_t n = gp->n, d = gp->d, i, j;

	for (i = 0; i < n; i++) {
		K[i * n + i] = gp->sf2 + gp->noise + 1e-9;
		for (j = 0; j < i; j++)
			K[i * n + j] = K[j * n + i] =
				matern_e(gp->X + i * d, gp->X + j * d, gp->ils2,
					 d, gp->sf2, gp->expo + i * n + j);
	}
}

/* Factor K for the current theta: L and alpha (a large model's fit:
 * without LAPACKE's row-major copies, not the same rounding). */
static int gp_factor(struct gp *gp)
{
	size_t n = gp->n;
	int rc;

	gp_kernel_matrix(gp, gp->L);
	if (gp->fast) {
		rc = linalg_cholesky_lower_large(gp->L, n, n);
		memcpy(gp->alpha, gp->y, n * sizeof(*gp->alpha));
		if (!rc)
			linalg_cho_solve_vec(gp->L, n, n, gp->alpha);
		return rc;
	}
	rc = linalg_cholesky(gp->L, n);
	if (rc)
		return rc;
	memcpy(gp->alpha, gp->y, n * sizeof(*gp->alpha));
	return linalg_cho_solve(gp->L, n, gp->alpha, 1);
}

/* Log-normal priors on the hyperparameters: mean, sd of the log. */
static void prior(const struct gp *gp, size_t k, double *mu, double *sd)
{
	if (k < gp->d) {
		*mu = log(0.4);
		*sd = 1.2;
	} else if (k == gp->d) {
		*mu = 0;
		*sd = 1.5;
	} else {
		*mu = log(1e-4);
		*sd = 3;
	}
}

/* Gradient of the LML w.r.t. the log lengthscales and log sf2, given
 * W = alpha alpha^T - K^-1 in gp->work. */
static void lml_kernel_grad(const struct gp *gp, double *g)
{
	size_t n = gp->n, d = gp->d, i, j, k;
	const double *xi, *xj, *W = gp->work;
	double r2, r, e, c, t, w;

	for (i = 0; i < n; i++) {
		xi = gp->X + i * d;
		g[d] += 0.5 * W[i * n + i] * gp->sf2;
		for (j = 0; j < i; j++) {
			xj = gp->X + j * d;
			w = W[i * n + j];
			r2 = 0;
			for (k = 0; k < d; k++) {
				t = xi[k] - xj[k];
				r2 += t * t * gp->ils2[k];
			}
			r = sqrt(r2);
			e = gp->expo[i * n + j];
			g[d] += w * gp->sf2 * (1 + SQRT5 * r + 5.0 / 3 * r2) *
				e;
			c = w * gp->sf2 * (5.0 / 3.0) * (1 + SQRT5 * r) * e;
			for (k = 0; k < d; k++) {
				t = xi[k] - xj[k];
				g[k] += c * t * t * gp->ils2[k];
			}
		}
	}
}

/* Negative log posterior of theta and its gradient (g may be NULL): the
 * same value, to the bit, whether g is asked or not; when the factor is
 * of this theta already (the call before was for its value), it is not
 * redone (lbfgs' value_first). */
static double gp_neg_lml(const double *theta, double *g, void *ctx)
{
	struct gp *gp = ctx;
	size_t n = gp->n, np = gp->d + 2, i, j, k;
	double lml = 0, mu, sd, tr = 0;

	if (!gp->factored || memcmp(theta, gp->theta, np * sizeof(*theta))) {
		gp_set_theta(gp, theta);
		if (gp_factor(gp))
			return INFINITY;
		gp->factored = 1;
	}
	for (i = 0; i < n; i++)
		lml -= 0.5 * gp->y[i] * gp->alpha[i] + log(gp->L[i * n + i]);
	if (g) {
		memcpy(gp->work, gp->L, n * n * sizeof(*gp->work));
		if (gp->fast ? linalg_cho_inverse_lower(gp->work, n)
			     : linalg_cho_inverse(gp->work, n))
			return INFINITY;
		for (i = 0; i < n; i++) /* the lower triangle is read */
			for (j = 0; j <= i; j++)
				gp->work[i * n + j] =
					gp->alpha[i] * gp->alpha[j] -
					gp->work[i * n + j];
		memset(g, 0, np * sizeof(*g));
		lml_kernel_grad(gp, g);
		for (i = 0; i < n; i++)
			tr += gp->work[i * n + i];
		g[gp->d + 1] = 0.5 * gp->noise * tr;
	}
	for (k = 0; k < np; k++) {
		prior(gp, k, &mu, &sd);
		lml -= 0.5 * (theta[k] - mu) * (theta[k] - mu) / (sd * sd);
		if (g)
			g[k] = -(g[k] - (theta[k] - mu) / (sd * sd));
	}
	return -lml;
}

static void theta_bounds(size_t d, double *lo, double *hi)
{
	size_t k;

	for (k = 0; k < d; k++) {
		lo[k] = LOG_LS_MIN;
		hi[k] = LOG_LS_MAX;
	}
	lo[d] = LOG_SF_MIN;
	hi[d] = LOG_SF_MAX;
	lo[d + 1] = LOG_NOISE_MIN;
	hi[d + 1] = LOG_NOISE_MAX;
}

static void theta_default(size_t d, double *theta)
{
	size_t k;

	for (k = 0; k < d; k++)
		theta[k] = log(0.4);
	theta[d] = 0;
	theta[d + 1] = log(1e-3);
}

/*
 * Fit theta: the warm start (or the default), a "mostly noise" start (the
 * default lengthscales with a noise variance of 0.3 on the standardised
 * scale: from the low-noise default alone, L-BFGS settles in the mode
 * that explains noise by short lengthscales), the default after a warm
 * start, then random restarts; `quick` (a large model, whose suggestion
 * must stay cheap): a scheduled refit (FIT_QUICK with a warm start) takes
 * the warm start only, for at most REFIT_ITERATIONS steps; a first fit (no
 * warm start, e.g. an experiment warm-started with 1,000 trials) the two
 * fixed starts only, one per suggestion: FIT_QUICK the default, then
 * FIT_SECOND the "mostly noise" one, kept if better than `warm` (the
 * first's result) on this data.
 */
static int gp_fit_theta(struct gp *gp, const double *warm, int quick,
			struct rng *r)
{
	size_t np = gp->d + 2, k, n = gp->n;
	double *lo = malloc(3 * np * sizeof(*lo)), *hi, *cur, *best, f;
	double fbest = INFINITY;
	struct lbfgs_problem pr;
	int starts, s = 0, maxit, rc = 0;

	best = malloc(np * sizeof(*best));
	if (!lo || !best) {
		rc = -ENOMEM;
		goto out;
	}
	hi = lo + np;
	cur = hi + np;
	theta_bounds(gp->d, lo, hi);
	gp->fast = quick != 0;
	pr = (struct lbfgs_problem){ gp_neg_lml, gp, np, lo, hi, 1 };
	starts = n <= 60 ? 4 : !warm ? 3 : n % 8 ? 1 : 2;
	maxit = n <= 60 ? 60 : 30;
	theta_default(gp->d, best);
	if (quick == FIT_QUICK && warm) {
		starts = 1;
		maxit = REFIT_ITERATIONS;
	} else if (quick == FIT_QUICK) { /* a first fit: the default start */
		starts = 1;
	} else if (quick == FIT_SECOND) { /* then the noise start */
		memcpy(best, warm, np * sizeof(*best));
		fbest = gp_neg_lml(best, NULL, gp);
		warm = NULL;
		s = 1;
		starts = 2;
	}
	for (; s < starts; s++) {
		if (s == 0 && warm)
			memcpy(cur, warm, np * sizeof(*cur));
		else if (s == 0 || (s == 2 && warm))
			theta_default(gp->d, cur);
		else if (s == 1) {
			theta_default(gp->d, cur);
			cur[gp->d + 1] = log(0.3);
		} else
			for (k = 0; k < np; k++)
				cur[k] = lo[k] +
					 (hi[k] - lo[k]) *
						 (0.2 + 0.6 * rng_uniform(r));
		f = lbfgs(&pr, cur, maxit);
		if (f < fbest) {
			fbest = f;
			memcpy(best, cur, np * sizeof(*best));
		}
	}
	gp_set_theta(gp, best);
out:
	free(lo);
	free(best);
	return rc;
}

static void gp_free(struct gp *gp);
static int gp_alloc(struct gp *gp, size_t d, size_t cap);

static int cmp_y(const void *a, const void *b, void *ctx)
{
	const double *y = ctx;
	double x = y[*(const size_t *)a], z = y[*(const size_t *)b];

	return x < z ? -1 : x > z;
}

/* The points of the likelihood fit: all n, or when there are more than
 * FIT_MAX the FIT_BEST best and an even spread of the others (idx: n
 * scratch, the chosen indices first); returns how many. */
static size_t fit_subset(const double *y, size_t n, size_t *idx)
{
	size_t m = n < FIT_MAX ? n : FIT_MAX, i, *sorted;

	for (i = 0; i < n; i++)
		idx[i] = i;
	if (n <= FIT_MAX)
		return m;
	qsort_r(idx, n, sizeof(*idx), cmp_y, (void *)y);
	sorted = idx;
	for (i = FIT_BEST; i < m; i++) /* ascending: in place */
		idx[i] = sorted[FIT_BEST + (i - FIT_BEST) * (n - FIT_BEST) /
						   (FIT_MAX - FIT_BEST)];
	return m;
}

/*
 * Fit the hyperparameters to n points (X, standardised y) into theta, on
 * a subset of at most FIT_MAX points when there are more (fit_subset):
 * the likelihood costs O(n^3) per evaluation.
 */
int fit_theta(const double *X, const double *y, size_t n, size_t d,
	      const double *warm, int quick, struct rng *r, double *theta)
{
	size_t m, *idx, i;
	struct gp sub;
	int rc;

	idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	m = fit_subset(y, n, idx);
	rc = gp_alloc(&sub, d, m);
	if (rc) {
		free(idx);
		return rc;
	}
	for (i = 0; i < m; i++) {
		memcpy(sub.X + i * d, X + idx[i] * d, d * sizeof(*sub.X));
		sub.y[i] = y[idx[i]];
	}
	sub.n = m;
	rc = gp_fit_theta(&sub, warm, quick, r);
	if (!rc)
		memcpy(theta, sub.theta, (d + 2) * sizeof(*theta));
	gp_free(&sub);
	free(idx);
	return rc;
}

/* The model at theta of the points fit_theta fits to (X, y: n points). */
struct gp *gp_subset_model(const double *X, const double *y, size_t n, size_t d,
			   const double *theta)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx)), m, i;
	struct gp *gp = idx ? gp_model_new(d, theta) : NULL;
	double *S = NULL;

	if (!gp)
		goto out;
	m = fit_subset(y, n, idx);
	S = malloc((m ? m : 1) * d * sizeof(*S));
	if (!S)
		goto fail;
	for (i = 0; i < m; i++)
		memcpy(S + i * d, X + idx[i] * d, d * sizeof(*S));
	if (gp_factor_block(gp, S, m))
		goto fail;
	for (i = 0; i < m; i++)
		gp->y[i] = y[idx[i]];
	gp_solve_alpha(gp);
	goto out;
fail:
	gp_model_free(gp);
	gp = NULL;
out:
	free(S);
	free(idx);
	return gp;
}

static void gp_free(struct gp *gp)
{
	free(gp->X);
	free(gp->y);
	free(gp->L);
	free(gp->alpha);
	free(gp->theta);
	free(gp->ils2);
	free(gp->work);
	free(gp->expo);
	free(gp->row);
}

void gp_model_free(struct gp *gp)
{
	if (gp) {
		gp_free(gp);
		free(gp);
	}
}

static int gp_alloc(struct gp *gp, size_t d, size_t cap)
{
	memset(gp, 0, sizeof(*gp));
	gp->d = d;
	gp->cap = cap ? cap : 1;
	gp->ld = gp->cap;
	gp->X = malloc(gp->cap * d * sizeof(*gp->X));
	gp->y = malloc(gp->cap * sizeof(*gp->y));
	gp->L = malloc(gp->cap * gp->cap * sizeof(*gp->L));
	gp->alpha = malloc(gp->cap * sizeof(*gp->alpha));
	gp->work = malloc(gp->cap * gp->cap * sizeof(*gp->work));
	gp->expo = malloc(gp->cap * gp->cap * sizeof(*gp->expo));
	gp->theta = malloc((d + 2) * sizeof(*gp->theta));
	gp->ils2 = malloc((d ? d : 1) * sizeof(*gp->ils2));
	if (!gp->X || !gp->y || !gp->L || !gp->alpha || !gp->work ||
	    !gp->expo || !gp->theta || !gp->ils2) {
		gp_free(gp);
		return -ENOMEM;
	}
	return 0;
}

/* Mean and variance at m points Xc (m x d) in the standardised scale;
 * var NULL: the mean only (no triangular solve). */
int gp_predict(const struct gp *gp, const double *Xc, size_t m, double *mu,
	       double *var)
{
	size_t n = gp->n, d = gp->d, i, j;
	double *V = malloc((n * m > 0 ? n * m : 1) * sizeof(*V)), s;

	if (!V)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++)
			V[i * m + j] = matern(gp->X + i * d, Xc + j * d,
					      gp->ils2, d, gp->sf2);
	for (j = 0; j < m; j++) {
		s = 0;
		for (i = 0; i < n; i++)
			s += V[i * m + j] * gp->alpha[i];
		mu[j] = s;
	}
	if (!var)
		goto out;
	if (m == 1 && n > GP_LARGE) /* dtrsv: dtrsm is slow for one */
		linalg_tri_solve_vec(gp->L, gp->ld, n, V);
	else
		linalg_tri_solve_lower(gp->L, gp->ld, n, V, m);
	for (j = 0; j < m; j++)
		var[j] = gp->sf2;
	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++)
			var[j] -= V[i * m + j] * V[i * m + j];
	for (j = 0; j < m; j++)
		if (var[j] < 1e-12)
			var[j] = 1e-12;
out:
	free(V);
	return 0;
}

/* The indices of the q largest of the n covariances k[] into top[] (fewer
 * when n < q), largest first; returns how many. */
static size_t largest(const double *k, size_t n, size_t q, size_t *top)
{
	size_t i, c = 0, p;
	double floor = -INFINITY; /* the q-th largest so far, once q */

	for (i = 0; i < n; i++) {
		if (k[i] <= floor)
			continue;
		p = c < q ? c++ : q - 1;
		for (; p > 0 && k[top[p - 1]] < k[i]; p--)
			top[p] = top[p - 1];
		top[p] = i;
		if (c == q)
			floor = k[top[q - 1]];
	}
	return c;
}

/*
 * The variance at a point given only the GP_SCREEN points S it covaries
 * with most (k: its n covariances): sf2 - k_S^T (K_SS + noise I)^-1 k_S
 * by a small Cholesky (a: q x q, b: q scratch). More data never raises a
 * GP's variance, so this bounds the variance given all n points from
 * above; sf2 (the trivial bound) if the small factor fails.
 */
static double var_bound(const struct gp *gp, const double *k, size_t *top,
			double *a, double *b)
{
	size_t q = largest(k, gp->n, GP_SCREEN, top), i, j, l;
	double s, v = gp->sf2;

	for (i = 0; i < q; i++) {
		for (j = 0; j <= i; j++) {
			s = i == j ? gp->sf2 + gp->noise + 1e-9
				   : matern(gp->X + top[i] * gp->d,
					    gp->X + top[j] * gp->d, gp->ils2,
					    gp->d, gp->sf2);
			for (l = 0; l < j; l++)
				s -= a[i * q + l] * a[j * q + l];
			if (i == j && !(s > 0))
				return gp->sf2;
			a[i * q + j] = i == j ? sqrt(s) : s / a[j * q + j];
		}
		s = k[top[i]];
		for (l = 0; l < i; l++)
			s -= a[i * q + l] * b[l];
		b[i] = s / a[i * q + i];
		v -= b[i] * b[i];
	}
	return v < 1e-12 ? 1e-12 : v;
}

/* Mean (summed as gp_predict sums it) and variance bound, a point at a
 * time: O(n) each; the covariances kept as the rows of Kc. */
int gp_predict_screen(const struct gp *gp, const double *Xc, size_t m,
		      double *mu, double *var_hi, double *Kc)
{
	size_t n = gp->n, d = gp->d, top[GP_SCREEN], i, j;
	double a[GP_SCREEN * GP_SCREEN], b[GP_SCREEN], s, *k;
	double *XT = transposed(gp->X, n, d);

	if (!XT)
		return -ENOMEM;
	for (j = 0; j < m; j++) {
		k = Kc + j * n;
		kernel_row(gp, XT, n, n, Xc + j * d, k);
		s = 0;
		for (i = 0; i < n; i++)
			s += k[i] * gp->alpha[i];
		mu[j] = s;
		var_hi[j] = var_bound(gp, k, top, a, b);
	}
	free(XT);
	return 0;
}

/* The variances from the covariances: rows x of B become L^-1 x (one
 * triangular solve for the k of them, BLAS-3). */
void gp_var_of_cov(const struct gp *gp, double *B, size_t k, double *var)
{
	size_t n = gp->n, i, j;

	linalg_tri_solve_rows(gp->L, gp->ld, n, B, k);
	for (j = 0; j < k; j++) {
		var[j] = gp->sf2;
		for (i = 0; i < n; i++)
			var[j] -= B[j * n + i] * B[j * n + i];
		if (var[j] < 1e-12)
			var[j] = 1e-12;
	}
}

/* Mean, variance and their gradients at one point (ks, v: n scratch;
 * dk: n x d scratch). */
void gp_predict_grad(const struct gp *gp, const double *x, double *mu,
		     double *var, double *dmu, double *dvar, double *ks,
		     double *v, double *dk)
{
	size_t n = gp->n, d = gp->d, i, k;
	double r2, r, t, c, e;
	const double *xi;

	for (i = 0; i < n; i++) {
		xi = gp->X + i * d;
		r2 = 0;
		for (k = 0; k < d; k++) {
			t = x[k] - xi[k];
			r2 += t * t * gp->ils2[k];
		}
		r = sqrt(r2);
		e = exp(-SQRT5 * r);
		ks[i] = gp->sf2 * (1 + SQRT5 * r + 5.0 / 3 * r2) * e;
		c = -gp->sf2 * (5.0 / 3.0) * (1 + SQRT5 * r) * e;
		for (k = 0; k < d; k++)
			dk[i * d + k] = c * (x[k] - xi[k]) * gp->ils2[k];
	}
	memcpy(v, ks, n * sizeof(*v));
	linalg_cho_solve_vec(gp->L, gp->ld, n, v);
	*mu = bo_dot(ks, gp->alpha, n);
	*var = gp->sf2 - bo_dot(ks, v, n);
	for (k = 0; k < d; k++) {
		dmu[k] = 0;
		dvar[k] = 0;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < d; k++) {
			dmu[k] += dk[i * d + k] * gp->alpha[i];
			dvar[k] -= 2 * dk[i * d + k] * v[i];
		}
	if (*var < 1e-12) {
		*var = 1e-12;
		for (k = 0; k < d; k++)
			dvar[k] = 0;
	}
}

/* 64-byte aligned doubles (so OpenBLAS takes the same path for every
 * row, whatever the capacity); not initialised. */
static double *aligned_doubles(size_t n)
{
	size_t bytes = (n * sizeof(double) + 63) & ~(size_t)63;

	return aligned_alloc(64, bytes ? bytes : 64);
}

/* A model GP of dimension d at theta, with no points. */
struct gp *gp_model_new(size_t d, const double *theta)
{
	struct gp *gp = calloc(1, sizeof(*gp));

	if (!gp)
		return NULL;
	gp->d = d;
	gp->theta = malloc((d + 2) * sizeof(*gp->theta));
	gp->ils2 = malloc((d ? d : 1) * sizeof(*gp->ils2));
	if (!gp->theta || !gp->ils2) {
		gp_free(gp);
		free(gp);
		return NULL;
	}
	gp_set_theta(gp, theta);
	return gp;
}

/* Room for `need` points: rows of L move to the new leading dimension. */
static int gp_reserve(struct gp *gp, size_t need)
{
	size_t d = gp->d ? gp->d : 1, cap, i;
	double *p, *L;

	if (need <= gp->cap)
		return 0;
	cap = gp->cap * 2 > need ? gp->cap * 2 : need;
	cap = (cap + 7) & ~(size_t)7;
	if ((p = realloc(gp->X, cap * d * sizeof(*p))))
		gp->X = p;
	if (p && (p = realloc(gp->y, cap * sizeof(*p))))
		gp->y = p;
	if (p && (p = realloc(gp->alpha, cap * sizeof(*p))))
		gp->alpha = p;
	L = p ? aligned_doubles(cap * cap) : NULL;
	p = L ? aligned_doubles(cap + 1) : NULL;
	if (!p) {
		free(L);
		return -ENOMEM;
	}
	for (i = 0; i < gp->n; i++)
		memcpy(L + i * cap, gp->L + i * gp->ld, (i + 1) * sizeof(*L));
	free(gp->L);
	free(gp->row);
	gp->L = L;
	gp->row = p;
	gp->ld = gp->cap = cap;
	return 0;
}

/* Append point x to the model's factor (its target is set by the
 * caller): O(n^2). Row i depends only on points 0..i and theta. */
int gp_append(struct gp *gp, const double *x)
{
	size_t n = gp->n, d = gp->d, j;
	double *xn;
	int rc = gp_reserve(gp, n + 1);

	if (rc)
		return rc;
	xn = gp->X + n * d;
	memcpy(xn, x, d * sizeof(*x));
	for (j = 0; j < n; j++)
		gp->row[j] = matern(xn, gp->X + j * d, gp->ils2, d, gp->sf2);
	gp->row[n] = gp->sf2 + gp->noise + 1e-9;
	rc = linalg_cholesky_append(gp->L, gp->ld, n, gp->row);
	if (!rc)
		gp->n = n + 1;
	return rc;
}

/* Append the t points X as one group (linalg_cholesky_extend). */
int gp_append_group(struct gp *gp, const double *X, size_t t)
{
	size_t n = gp->n, d = gp->d, i;
	double *XT;
	int rc = gp_reserve(gp, n + t);

	if (rc)
		return rc;
	memcpy(gp->X + n * d, X, t * d * sizeof(*X));
	if (!(XT = transposed(gp->X, n + t, d)))
		return -ENOMEM;
	for (i = n; i < n + t; i++) {
		kernel_row(gp, XT, n + t, i, gp->X + i * d, gp->L + i * gp->ld);
		gp->L[i * gp->ld + i] = gp->sf2 + gp->noise + 1e-9;
	}
	free(XT);
	rc = linalg_cholesky_extend(gp->L, gp->ld, n, t);
	if (!rc)
		gp->n = n + t;
	return rc;
}

/* The rows of a large block factored first (gp_factor_block): 75%,
 * whole groups of 16: 42% of the flops, 56% of the kernel. */
static size_t block_split(size_t m)
{
	return m > GP_LARGE ? m * 3 / 4 / 16 * 16 : m;
}

/* The model's first m points X factored by LAPACK as one block, O(m^3). */
static int factor_rows(struct gp *gp, const double *X, size_t m)
{
	size_t d = gp->d, i;
	double *XT;
	int rc;

	gp->n = 0;
	memcpy(gp->X, X, m * d * sizeof(*X));
	if (!(XT = transposed(gp->X, m, d)))
		return -ENOMEM;
	for (i = 0; i < m; i++) {
		kernel_row(gp, XT, m, i, gp->X + i * d, gp->L + i * gp->ld);
		gp->L[i * gp->ld + i] = gp->sf2 + gp->noise + 1e-9;
	}
	free(XT);
	rc = m > GP_LARGE ? linalg_cholesky_lower_large(gp->L, gp->ld, m)
			  : linalg_cholesky_lower(gp->L, gp->ld, m);
	if (!rc)
		gp->n = m;
	return rc;
}

/*
 * The model's first m points X (m x d) factored: what a refit leaves,
 * before rows are appended. Up to GP_LARGE one LAPACK block; a large one
 * in two parts, the first block_split(m) rows then the others appended
 * as one group (linalg_cholesky_extend), so that the first part can be
 * done one suggestion ahead (gp_factor_part): when the model has exactly
 * those rows of X already (gp->n), only the second part is done, with
 * the same bits.
 */
int gp_factor_block(struct gp *gp, const double *X, size_t m)
{
	size_t k = block_split(m);
	int rc = 0;

	if (gp->n != k || gp->cap < m)
		rc = gp_factor_part(gp, X, m);
	if (!rc && k < m)
		rc = gp_append_group(gp, X + k * gp->d, m - k);
	return rc;
}

int gp_factor_part(struct gp *gp, const double *X, size_t m)
{
	/* room for the points appended until the next refit (at 9/8 m) and
	 * a batch's believers: growing the factor later copies it (8 ms at
	 * 1,000) */
	int rc = gp_reserve(gp, m + m / 8 + 32);

	return rc ? rc : factor_rows(gp, X, block_split(m));
}

/* alpha = K^-1 y from the factor: O(n^2). */
void gp_solve_alpha(struct gp *gp)
{
	memcpy(gp->alpha, gp->y, gp->n * sizeof(*gp->alpha));
	linalg_cho_solve_vec(gp->L, gp->ld, gp->n, gp->alpha);
}

/* Add one point (x, y) to the model without refitting: O(n^2). */
int gp_add(struct gp *gp, const double *x, double y)
{
	int rc = gp_append(gp, x);

	if (rc)
		return rc;
	gp->y[gp->n - 1] = y;
	gp_solve_alpha(gp);
	return 0;
}
