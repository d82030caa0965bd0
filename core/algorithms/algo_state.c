/*
 * algo_state.c - JSON helpers for the state blobs that algorithms save and
 * load (bayesianoptimization, cmaes): numbers written exactly, so that a
 * restarted experiment resumes bit for bit, and arrays of them read back.
 *
 * Owns nothing: the cJSON values it makes are the caller's.
 */
#include <math.h>
#include <stdio.h>

#include "katib/algorithm.h"

/* An exact number: cJSON prints only 15 digits when they compare equal
 * within its epsilon, which would break exact resumption. */
cJSON *state_json_number(double v)
{
	char buf[40];

	if (!isfinite(v))
		return cJSON_CreateNull();
	snprintf(buf, sizeof(buf), "%.17g", v);
	return cJSON_CreateRaw(buf);
}

cJSON *state_json_array(const double *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, state_json_number(v[i]));
	return a;
}

int state_json_doubles(const cJSON *a, double *out, size_t n)
{
	size_t i = 0;
	const cJSON *e;

	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
		return -1;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsNumber(e))
			return -1;
		out[i++] = e->valuedouble;
	}
	return 0;
}
