/*
 * sobol.h - the scrambled Sobol sequence (core/algorithms/sobol.c): the
 * sobol algorithm's points, and the startup points of tpe and
 * multivariate-tpe (core/algorithms/tpe_common.c).
 */
#ifndef KATIB_SOBOL_H
#define KATIB_SOBOL_H

#include <stddef.h>
#include <stdint.h>

#include "katib/spec.h"

#define SOBOL_MAX_DIMS 64

/*
 * Point number `index` of the `ndims`-dimensional Sobol sequence
 * (Joe-Kuo direction numbers), scrambled by a linear matrix scramble and
 * a random digital shift drawn from `seed`, in u[0..ndims-1], each in
 * (0, 1). Dimensions past SOBOL_MAX_DIMS are filled from a hash of
 * (seed, index, dim). Returns 0.
 */
int sobol_point(uint64_t index, size_t ndims, uint64_t seed, double *u);

/*
 * A coordinate u in (0, 1) as a value of p: uniform, log-uniform, or the
 * inverse normal CDF (normal/logNormal), ints and steps by equal bins,
 * lists by floor(u * len). Heap string, NULL on ENOMEM.
 */
char *sobol_map(const struct param_spec *p, double u);

#endif
