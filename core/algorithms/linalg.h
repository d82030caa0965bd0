/*
 * linalg.h - the little dense linear algebra the model-based algorithms
 * need, over LAPACKE/CBLAS (OpenBLAS). Matrices are row-major n x n
 * arrays of doubles. Every function returns 0 or a negative errno
 * (-EDOM when the matrix is not positive definite or LAPACK fails).
 */
#ifndef KATIB_LINALG_H
#define KATIB_LINALG_H

#include <stddef.h>

/* Pin OpenBLAS to one thread (small matrices; call once, idempotent). */
void linalg_single_thread(void);

/* In place: the lower Cholesky factor L of symmetric positive definite a
 * (upper triangle zeroed). */
int linalg_cholesky(double *a, size_t n);

/* Solve (L L^T) x = b in place for nrhs right-hand sides stored as the
 * columns of the row-major n x nrhs matrix b. */
int linalg_cho_solve(const double *l, size_t n, double *b, size_t nrhs);

/* Solve L x = b in place (b is n x nrhs row-major; L's rows are ld
 * apart). */
int linalg_tri_solve_lower(const double *l, size_t ld, size_t n, double *b,
			   size_t nrhs);

/* In place: the lower Cholesky factor of the n x n matrix a whose rows
 * are ld apart; only the lower triangle is read and written. */
int linalg_cholesky_lower(double *a, size_t ld, size_t n);

/* The same factor as linalg_cholesky_lower (not the same rounding) by
 * LAPACK's column-major upper factorisation of the same memory: without
 * the transposed copy (n^2 doubles allocated, written and read twice),
 * NaN check and LAPACKE's copy back, 25-30% less time at n = 1,000. */
int linalg_cholesky_lower_large(double *a, size_t ld, size_t n);

/*
 * Grow the lower Cholesky factor l of an n x n matrix (rows ld apart, ld >
 * n) by one row: k[0..n-1] are the new point's covariances with the n
 * earlier ones, k[n] its variance. On return row n of l (and k) holds the
 * new row of the factor: O(n^2), where refactoring is O(n^3). Row i of a
 * factor grown this way depends only on rows 0..i of the matrix, and the
 * same inputs give the same bits. -EDOM if not positive definite.
 */
int linalg_cholesky_append(double *l, size_t ld, size_t n, double *k);

/*
 * Grow the lower Cholesky factor l of an n x n matrix (rows ld apart) by
 * t rows at once: rows n..n+t-1 of l hold the matrix's new rows (columns
 * 0..n+i, the lower triangle) and are replaced by the factor's. One
 * triangular solve for all t (dtrsm: one pass over l where t appends make
 * t), then the t x t block. -EDOM if not positive definite.
 */
int linalg_cholesky_extend(double *l, size_t ld, size_t n, size_t t);

/* Solve L x = b in place for the nrhs right-hand sides stored as the
 * rows of b (nrhs x n row-major; L's rows ld apart): for a few, 2x faster
 * than linalg_tri_solve_lower with them as columns. */
void linalg_tri_solve_rows(const double *l, size_t ld, size_t n, double *b,
			   size_t nrhs);

/* Solve L x = b in place for one right-hand side b[n] (L's rows ld
 * apart): one triangular solve, 5x faster than linalg_tri_solve_lower
 * with nrhs 1 at n = 1,000 (but not the same rounding). */
void linalg_tri_solve_vec(const double *l, size_t ld, size_t n, double *b);

/* Solve (L L^T) x = b in place for one right-hand side b[n] (two
 * triangular solves, no copy; L's rows ld apart). */
void linalg_cho_solve_vec(const double *l, size_t ld, size_t n, double *b);

/* In place: the inverse of (L L^T) from its Cholesky factor (full
 * symmetric matrix written to l). */
int linalg_cho_inverse(double *l, size_t n);

/* In place: the lower triangle of the inverse of (L L^T) from its factor
 * (rows n apart; the upper triangle is left as it was), without
 * LAPACKE's row-major copies: not linalg_cho_inverse's rounding. */
int linalg_cho_inverse_lower(double *l, size_t n);

/*
 * Symmetric eigendecomposition of a (only its lower triangle read):
 * eigenvalues ascending in w[n], eigenvectors as the columns of the
 * row-major n x n matrix a (a[i * n + k] = component i of vector k).
 */
int linalg_sym_eig(double *a, size_t n, double *w);

#endif
