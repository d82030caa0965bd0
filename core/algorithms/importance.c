/*
 * importance.c - a search space as forest columns, the forest, the fANOVA
 * ranking and its text (see importance.h). Owns nothing past a call but
 * what it returns.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/fanova.h"
#include "algorithms/forest.h"
#include "algorithms/importance.h"
#include "util/strbuf.h"

/* FanovaImportanceEvaluator's forest (optuna/importance/_fanova). */
#define FANOVA_TREES 64
#define FANOVA_DEPTH 64

static int log_scaled(const struct param_spec *p)
{
	return (p->type == PARAM_INT || p->type == PARAM_DOUBLE) &&
	       (p->distribution == DIST_LOG_UNIFORM ||
		p->distribution == DIST_LOG_NORMAL) &&
	       p->min_value > 0;
}

static int parse_number(const char *s, double *v)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	*v = strtod(s, &end);
	return *end || !isfinite(*v) ? -EINVAL : 0;
}

/* The numeric range of a discrete list (every entry a number). */
static int discrete_range(const struct param_spec *p, double *lo, double *hi)
{
	size_t i;

	for (i = 0; i < p->nlist; i++) {
		double v;

		if (parse_number(p->list[i], &v))
			return -EINVAL;
		if (i == 0 || v < *lo)
			*lo = v;
		if (i == 0 || v > *hi)
			*hi = v;
	}
	return p->nlist ? 0 : -EINVAL;
}

static int is_categorical(const struct param_spec *p)
{
	double lo, hi;

	return p->type == PARAM_CATEGORICAL ||
	       (p->type == PARAM_DISCRETE && discrete_range(p, &lo, &hi));
}

/* How many columns p takes (0 when it has one value) and their box. */
static size_t param_columns(const struct param_spec *p, double *lo, double *hi)
{
	size_t j;

	if (is_categorical(p)) {
		if (p->nlist < 2)
			return 0;
		for (j = 0; j < p->nlist; j++) {
			lo[j] = 0;
			hi[j] = 1;
		}
		return p->nlist;
	}
	if (p->type == PARAM_DISCRETE) {
		discrete_range(p, lo, hi);
	} else {
		*lo = p->min_value;
		*hi = p->max_value;
	}
	if (log_scaled(p)) {
		*lo = log(*lo);
		*hi = log(*hi);
	}
	return *hi > *lo ? 1 : 0;
}

void importance_space_free(struct importance_space *s)
{
	size_t p;

	for (p = 0; s->names && p < s->nparams; p++)
		free(s->names[p]);
	free(s->names);
	free(s->column_start);
	free(s->lo);
	free(s->hi);
	memset(s, 0, sizeof(*s));
}

static size_t columns_needed(const struct param_spec *params, size_t nparams)
{
	size_t p, n = 0;

	for (p = 0; p < nparams; p++)
		n += is_categorical(&params[p]) ? params[p].nlist : 1;
	return n;
}

int importance_space_init(struct importance_space *s,
			  const struct param_spec *params, size_t nparams)
{
	size_t p, most = columns_needed(params, nparams);

	memset(s, 0, sizeof(*s));
	s->nparams = nparams;
	s->names = calloc(nparams + 1, sizeof(*s->names));
	s->column_start = calloc(nparams + 1, sizeof(*s->column_start));
	s->lo = calloc(most + 1, sizeof(*s->lo));
	s->hi = calloc(most + 1, sizeof(*s->hi));
	if (!s->names || !s->column_start || !s->lo || !s->hi)
		goto nomem;
	for (p = 0; p < nparams; p++) {
		s->names[p] = strdup(params[p].name);
		if (!s->names[p])
			goto nomem;
		s->column_start[p] = s->ncolumns;
		s->ncolumns += param_columns(&params[p], s->lo + s->ncolumns,
					     s->hi + s->ncolumns);
	}
	s->column_start[nparams] = s->ncolumns;
	return 0;
nomem:
	importance_space_free(s);
	return -ENOMEM;
}

static int encode_choice(const struct param_spec *p, const char *value,
			 double *cols)
{
	size_t j, hit = p->nlist;

	for (j = 0; j < p->nlist; j++) {
		cols[j] = 0;
		if (!strcmp(p->list[j], value))
			hit = j;
	}
	if (hit == p->nlist)
		return -EINVAL;
	cols[hit] = 1;
	return 0;
}

int importance_encode(const struct importance_space *s,
		      const struct param_spec *params, char *const *values,
		      double *row)
{
	size_t p;

	for (p = 0; p < s->nparams; p++) {
		size_t c = s->column_start[p], n = s->column_start[p + 1] - c;
		double v;

		if (!values[p])
			return -EINVAL;
		if (n == 0)
			continue; /* one value: not a column */
		if (is_categorical(&params[p])) {
			if (encode_choice(&params[p], values[p], row + c))
				return -EINVAL;
			continue;
		}
		if (parse_number(values[p], &v))
			return -EINVAL;
		if (log_scaled(&params[p]))
			v = v > 0 ? log(v) : -HUGE_VAL;
		/* a little slack for values formatted with rounding */
		if (v < s->lo[c] - 1e-9 * fabs(s->lo[c]) - 1e-12 ||
		    v > s->hi[c] + 1e-9 * fabs(s->hi[c]) + 1e-12)
			return -EINVAL;
		row[c] = v < s->lo[c] ? s->lo[c] : v > s->hi[c] ? s->hi[c] : v;
	}
	return 0;
}

void importance_ranking_free(struct importance_ranking *r)
{
	size_t i;

	for (i = 0; r->names && i < r->n; i++)
		free(r->names[i]);
	free(r->names);
	free(r->scores);
	memset(r, 0, sizeof(*r));
}

/* Scores of the parameters with columns, by fANOVA on a fitted forest. */
static int score_columns(const struct importance_space *s, const double *x,
			 const double *y, size_t n, uint64_t seed,
			 double *scores)
{
	size_t p, k = 0, *start = calloc(s->nparams + 1, sizeof(*start));
	double *part = calloc(s->nparams + 1, sizeof(*part));
	struct fanova_space fs = { s->ncolumns, s->lo, s->hi, 0, start };
	struct forest_options o;
	struct forest f;
	int rc;

	if (!start || !part) {
		rc = -ENOMEM;
		goto out;
	}
	for (p = 0; p < s->nparams; p++)
		if (s->column_start[p + 1] > s->column_start[p])
			start[k++] = s->column_start[p];
	start[k] = s->ncolumns;
	fs.n_params = k;
	forest_options_default(&o, FOREST_RANDOM);
	o.n_trees = FANOVA_TREES;
	o.tree.max_depth = FANOVA_DEPTH;
	o.seed = seed;
	rc = forest_fit(&f, x, n, s->ncolumns, y, &o);
	if (rc < 0)
		goto out;
	rc = fanova_importance(&f, &fs, part);
	forest_free(&f);
	for (p = 0, k = 0; rc == 0 && p < s->nparams; p++)
		scores[p] = s->column_start[p + 1] > s->column_start[p]
				    ? part[k++]
				    : 0;
out:
	free(start);
	free(part);
	return rc == -EDOM ? -EAGAIN : rc;
}

static int by_score(const void *a, const void *b, void *ctx)
{
	const double *sc = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (sc[i] != sc[j])
		return sc[i] < sc[j] ? 1 : -1;
	return (i > j) - (i < j); /* ties: the spec's order */
}

static int ranking_fill(const struct importance_space *s, const double *scores,
			struct importance_ranking *out)
{
	size_t i, *order = malloc(s->nparams * sizeof(*order) + 1);

	out->names = calloc(s->nparams + 1, sizeof(*out->names));
	out->scores = calloc(s->nparams + 1, sizeof(*out->scores));
	if (!order || !out->names || !out->scores)
		goto nomem;
	for (i = 0; i < s->nparams; i++)
		order[i] = i;
	qsort_r(order, s->nparams, sizeof(*order), by_score, (void *)scores);
	for (i = 0; i < s->nparams; i++) {
		out->names[i] = strdup(s->names[order[i]]);
		out->scores[i] = scores[order[i]];
		out->n = i + 1;
		if (!out->names[i])
			goto nomem;
	}
	free(order);
	return 0;
nomem:
	free(order);
	importance_ranking_free(out);
	return -ENOMEM;
}

int importance_rank(const struct importance_space *s, const double *x,
		    const double *y, size_t n, uint64_t seed,
		    struct importance_ranking *out)
{
	double *scores;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n < IMPORTANCE_MIN_TRIALS || s->ncolumns == 0)
		return -EAGAIN;
	scores = calloc(s->nparams + 1, sizeof(*scores));
	if (!scores)
		return -ENOMEM;
	rc = score_columns(s, x, y, n, seed, scores);
	if (rc == 0)
		rc = ranking_fill(s, scores, out);
	free(scores);
	return rc;
}

int importance_format(const struct importance_ranking *r, struct strbuf *b)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strbuf_printf(b, "%s=%.6f\n", r->names[i], r->scores[i]))
			return -ENOMEM;
	return 0;
}
