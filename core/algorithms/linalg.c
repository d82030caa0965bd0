/*
 * linalg.c - Cholesky, triangular solves and symmetric eigendecomposition
 * through LAPACKE/OpenBLAS, for the Gaussian process of
 * bayesianoptimization and the covariance of cmaes.
 *
 * Owns nothing: every matrix and vector is the caller's.
 */
#include "algorithms/linalg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

void linalg_single_thread(void)
{
	static int done;

	if (done)
		return;
	openblas_set_num_threads(1);
	done = 1;
}

int linalg_cholesky(double *a, size_t n)
{
	size_t i, j;

	if (!n)
		return 0;
	if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, a,
			   (lapack_int)n))
		return -EDOM;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			a[i * n + j] = 0;
	return 0;
}

int linalg_cho_solve(const double *l, size_t n, double *b, size_t nrhs)
{
	if (!n || !nrhs)
		return 0;
	if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n,
			   (lapack_int)nrhs, l, (lapack_int)n, b,
			   (lapack_int)nrhs))
		return -EDOM;
	return 0;
}

int linalg_tri_solve_lower(const double *l, size_t ld, size_t n, double *b,
			   size_t nrhs)
{
	if (!n || !nrhs)
		return 0;
	cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans,
		    CblasNonUnit, (int)n, (int)nrhs, 1.0, l, (int)ld, b,
		    (int)nrhs);
	return 0;
}

int linalg_cholesky_lower(double *a, size_t ld, size_t n)
{
	if (!n)
		return 0;
	if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, a,
			   (lapack_int)ld))
		return -EDOM;
	return 0;
}

int linalg_cholesky_lower_large(double *a, size_t ld, size_t n)
{
	/* row-major lower is column-major upper: the same memory */
	if (n && LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, a,
				     (lapack_int)ld))
		return -EDOM;
	return 0;
}

int linalg_cholesky_append(double *l, size_t ld, size_t n, double *k)
{
	double s = k[n];
	size_t i;

	if (n)
		cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans,
			    CblasNonUnit, (int)n, l, (int)ld, k, 1);
	for (i = 0; i < n; i++) /* in order: the same bits every time */
		s -= k[i] * k[i];
	if (!(s > 0) || !isfinite(s))
		return -EDOM;
	k[n] = sqrt(s);
	memcpy(l + n * ld, k, (n + 1) * sizeof(*k));
	return 0;
}

int linalg_cholesky_extend(double *l, size_t ld, size_t n, size_t t)
{
	double *panel = l + n * ld;

	if (!t)
		return 0;
	if (n) {
		cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans,
			    CblasNonUnit, (int)t, (int)n, 1.0, l, (int)ld,
			    panel, (int)ld);
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)t,
			    (int)n, -1.0, panel, (int)ld, 1.0, panel + n,
			    (int)ld);
	}
	return linalg_cholesky_lower(panel + n, ld, t);
}

void linalg_tri_solve_rows(const double *l, size_t ld, size_t n, double *b,
			   size_t nrhs)
{
	if (n && nrhs)
		cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans,
			    CblasNonUnit, (int)nrhs, (int)n, 1.0, l, (int)ld, b,
			    (int)n);
}

void linalg_tri_solve_vec(const double *l, size_t ld, size_t n, double *b)
{
	if (n)
		cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans,
			    CblasNonUnit, (int)n, l, (int)ld, b, 1);
}

void linalg_cho_solve_vec(const double *l, size_t ld, size_t n, double *b)
{
	if (!n)
		return;
	cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit,
		    (int)n, l, (int)ld, b, 1);
	cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)n,
		    l, (int)ld, b, 1);
}

int linalg_cho_inverse(double *l, size_t n)
{
	size_t i, j;

	if (!n)
		return 0;
	if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, l,
			   (lapack_int)n))
		return -EDOM;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			l[i * n + j] = l[j * n + i];
	return 0;
}

int linalg_cho_inverse_lower(double *l, size_t n)
{
	if (n && LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, l,
				     (lapack_int)n))
		return -EDOM;
	return 0;
}

int linalg_sym_eig(double *a, size_t n, double *w)
{
	if (!n)
		return 0;
	if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)n, a,
			   (lapack_int)n, w))
		return -EDOM;
	return 0;
}
