/* test_importance.c - fANOVA over a forest (core/algorithms/fanova.c) and
 * the parameter ranking of a search space (core/algorithms/importance.c):
 * exact variance fractions on step functions (one column and a group of
 * columns), the encoding of log-scaled, int and categorical parameters,
 * and, on the trials of tests/fixtures/importance.txt, the order known by
 * construction and Optuna 3.1's FanovaImportanceEvaluator's top ranks
 * (that file is written by tests/fixtures/gen_importance.py). */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algorithms/fanova.h"
#include "algorithms/forest.h"
#include "algorithms/importance.h"

/* A 4 x 4 x 4 grid of cell centres on [0,1]^3 and y = g(x). */
#define G  4
#define GN (G * G * G)

static double gx[GN * 3], gy[GN];

static void grid(double (*g)(const double *))
{
	size_t i;

	for (i = 0; i < GN; i++) {
		gx[i * 3] = (double)(i % G) / G + 0.125;
		gx[i * 3 + 1] = (double)(i / G % G) / G + 0.125;
		gx[i * 3 + 2] = (double)(i / G / G) / G + 0.125;
		gy[i] = g(gx + i * 3);
	}
}

/* One exact tree (no bootstrap): fANOVA then is the function's own. */
static void one_tree(struct forest *f)
{
	struct forest_options o;

	forest_options_default(&o, FOREST_RANDOM);
	o.n_trees = 1;
	o.bootstrap = 0;
	assert_int_equal(forest_fit(f, gx, GN, 3, gy, &o), 0);
}

static double steps(const double *x)
{
	return 1.0 * (x[0] > 0.5) + 2.0 * (x[1] > 0.25) + 0 * x[2];
}

static double steps_in_two(const double *x)
{
	return 1.0 * (x[0] > 0.5) + 1.0 * (x[2] > 0.5);
}

/* y = [x0 > .5] + 2 [x1 > .25]: variances 1/4 and 4 * 3/16, so the
 * fractions are 0.25 : 0.75 : 0 exactly. */
static void test_fanova_exact(void **state)
{
	double lo[3] = { 0, 0, 0 }, hi[3] = { 1, 1, 1 }, imp[3];
	size_t start[4] = { 0, 1, 2, 3 };
	struct fanova_space s = { 3, lo, hi, 3, start };
	struct forest f;

	(void)state;
	grid(steps);
	one_tree(&f);
	assert_int_equal(fanova_importance(&f, &s, imp), 0);
	assert_true(fabs(imp[0] - 0.25) < 1e-12);
	assert_true(fabs(imp[1] - 0.75) < 1e-12);
	assert_true(fabs(imp[2]) < 1e-12);
	forest_free(&f);
}

/* A parameter of two columns (as a one-hot categorical is): the group's
 * marginal variance, by the leaf-pair path. */
static void test_fanova_group(void **state)
{
	double lo[3] = { 0, 0, 0 }, hi[3] = { 1, 1, 1 }, imp[2];
	size_t start[3] = { 0, 2, 3 };
	struct fanova_space s = { 3, lo, hi, 2, start };
	struct forest f;

	(void)state;
	grid(steps); /* all of it in columns 0 and 1 */
	one_tree(&f);
	assert_int_equal(fanova_importance(&f, &s, imp), 0);
	assert_true(fabs(imp[0] - 1) < 1e-12);
	assert_true(fabs(imp[1]) < 1e-12);
	forest_free(&f);
	grid(steps_in_two); /* half in column 0, half in column 2 */
	one_tree(&f);
	assert_int_equal(fanova_importance(&f, &s, imp), 0);
	assert_true(fabs(imp[0] - 0.5) < 1e-12);
	assert_true(fabs(imp[1] - 0.5) < 1e-12);
	forest_free(&f);
}

/* A parameter of nine columns (past the grid: the leaf-pair path) and
 * one of one column, each explaining half: y = [x0 > .5] + [x9 > .5] on
 * points of {0.25, 0.75}^10, so every split is at 0.5. */
static void test_fanova_wide_group(void **state)
{
	double x[64 * 10], y[64], lo[10], hi[10], imp[2];
	size_t start[3] = { 0, 9, 10 }, i, j;
	struct fanova_space s = { 10, lo, hi, 2, start };
	struct forest_options o;
	struct forest f;
	struct rng r;

	(void)state;
	rng_seed(&r, 5);
	for (j = 0; j < 10; j++) {
		lo[j] = 0;
		hi[j] = 1;
	}
	for (i = 0; i < 64; i++) {
		for (j = 0; j < 10; j++)
			x[i * 10 + j] = rng_uniform(&r) < 0.5 ? 0.25 : 0.75;
		y[i] = (x[i * 10] > 0.5) + (x[i * 10 + 9] > 0.5);
	}
	forest_options_default(&o, FOREST_RANDOM);
	o.n_trees = 4;
	assert_int_equal(forest_fit(&f, x, 64, 10, y, &o), 0);
	assert_int_equal(fanova_importance(&f, &s, imp), 0);
	assert_true(fabs(imp[0] - 0.5) < 1e-12);
	assert_true(fabs(imp[1] - 0.5) < 1e-12);
	forest_free(&f);
}

static void test_fanova_errors(void **state)
{
	double lo[3] = { 0, 0, 0 }, hi[3] = { 1, 1, 1 }, imp[3];
	size_t start[4] = { 0, 1, 2, 3 };
	struct fanova_space s = { 3, lo, hi, 3, start };
	struct forest f;
	size_t i;

	(void)state;
	grid(steps);
	for (i = 0; i < GN; i++)
		gy[i] = 7; /* nothing varies */
	one_tree(&f);
	assert_int_equal(fanova_importance(&f, &s, imp), -EDOM);
	hi[1] = 0; /* an empty box */
	assert_int_equal(fanova_importance(&f, &s, imp), -EINVAL);
	hi[1] = 1;
	s.n_columns = 2;
	assert_int_equal(fanova_importance(&f, &s, imp), -EINVAL);
	forest_free(&f);
}

/* ---- search spaces ---- */

#define MAXP 8

struct fixture_case {
	char name[32];
	struct param_spec params[MAXP];
	size_t nparams;
	char ***values; /* per trial, per parameter */
	double *y;
	size_t n, cap;
	char expect[MAXP][32];
	size_t nexpect;
	char optuna_name[MAXP][32];
	double optuna_score[MAXP];
	size_t noptuna;
};

static void case_free(struct fixture_case *c)
{
	size_t i, p;

	for (p = 0; p < c->nparams; p++) {
		free(c->params[p].name);
		for (i = 0; i < c->params[p].nlist; i++)
			free(c->params[p].list[i]);
		free(c->params[p].list);
	}
	for (i = 0; i < c->n; i++) {
		for (p = 0; p < c->nparams; p++)
			free(c->values[i][p]);
		free(c->values[i]);
	}
	free(c->values);
	free(c->y);
	memset(c, 0, sizeof(*c));
}

static void parse_param(struct fixture_case *c, char *rest)
{
	struct param_spec *p = &c->params[c->nparams++];
	char *name = strtok(rest, " "), *kind = strtok(NULL, " "), *tok;

	assert_true(c->nparams <= MAXP);
	p->name = strdup(name);
	if (!strcmp(kind, "categorical")) {
		p->type = PARAM_CATEGORICAL;
		p->list = calloc(16, sizeof(char *));
		while ((tok = strtok(NULL, " ")) && p->nlist < 16)
			p->list[p->nlist++] = strdup(tok);
		return;
	}
	p->type = !strcmp(kind, "int") ? PARAM_INT : PARAM_DOUBLE;
	p->min_value = strtod(strtok(NULL, " "), NULL);
	p->max_value = strtod(strtok(NULL, " "), NULL);
	tok = strtok(NULL, " ");
	p->distribution =
		!strcmp(tok, "logUniform") ? DIST_LOG_UNIFORM : DIST_UNIFORM;
}

static void parse_trial(struct fixture_case *c, char *rest)
{
	size_t p;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->values = realloc(c->values, c->cap * sizeof(*c->values));
		c->y = realloc(c->y, c->cap * sizeof(*c->y));
	}
	c->values[c->n] = calloc(c->nparams, sizeof(char *));
	for (p = 0; p < c->nparams; p++)
		c->values[c->n][p] = strdup(strtok(p ? NULL : rest, " "));
	c->y[c->n++] = strtod(strtok(NULL, " "), NULL);
}

static void parse_list(char *rest, char names[][32], double *scores, size_t *n)
{
	char *tok;

	for (tok = strtok(rest, " "); tok && *n < MAXP;
	     tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');

		if (eq) {
			*eq = 0;
			scores[*n] = strtod(eq + 1, NULL);
		}
		snprintf(names[(*n)++], 32, "%s", tok);
	}
}

/* The next case of the fixture; 0 at its end. */
static int read_case(FILE *in, struct fixture_case *c)
{
	char line[4096];
	double ignored[MAXP];

	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), in)) {
		char *rest = strchr(line, ' ');

		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "end"))
			return 1;
		if (line[0] == '#' || !rest)
			continue;
		*rest++ = 0;
		if (!strcmp(line, "case"))
			snprintf(c->name, sizeof(c->name), "%s", rest);
		else if (!strcmp(line, "param"))
			parse_param(c, rest);
		else if (!strcmp(line, "trial"))
			parse_trial(c, rest);
		else if (!strcmp(line, "expect"))
			parse_list(rest, c->expect, ignored, &c->nexpect);
		else if (!strcmp(line, "optuna") && !c->noptuna)
			parse_list(rest, c->optuna_name, c->optuna_score,
				   &c->noptuna);
		else if (!strcmp(line, "optuna-log")) {
			/* what katibfs computes: log parameters on their log
			 * scale (it comes after the "optuna" line) */
			c->noptuna = 0;
			parse_list(rest, c->optuna_name, c->optuna_score,
				   &c->noptuna);
		}
	}
	return 0;
}

/* $IMPORTANCE_FIXTURE (make bench: Optuna re-run live), else the
 * committed tests/fixtures/importance.txt. */
static FILE *open_fixture(void)
{
	char path[4096], file[] = __FILE__;
	const char *env = getenv("IMPORTANCE_FIXTURE");
	FILE *in;

	snprintf(path, sizeof(path), "%s/../fixtures/importance.txt",
		 dirname(file));
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	in = fopen(path, "r");
	if (!in)
		fail_msg("cannot open %s", path);
	return in;
}

static int rank_case(const struct fixture_case *c, struct importance_ranking *r)
{
	struct importance_space s;
	double *x;
	size_t i;
	int rc;

	assert_int_equal(importance_space_init(&s, c->params, c->nparams), 0);
	x = calloc(c->n * s.ncolumns + 1, sizeof(*x));
	for (i = 0; i < c->n; i++)
		assert_int_equal(importance_encode(&s, c->params, c->values[i],
						   x + i * s.ncolumns),
				 0);
	rc = importance_rank(&s, x, c->y, c->n, 0, r);
	free(x);
	importance_space_free(&s);
	return rc;
}

static size_t position(const struct importance_ranking *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->names[i], name))
			return i;
	fail_msg("%s not ranked", name);
	return 0;
}

static void print_ranking(const struct fixture_case *c,
			  const struct importance_ranking *r)
{
	size_t i;

	printf("# %s: katibfs", c->name);
	for (i = 0; i < r->n; i++)
		printf(" %s=%.4f", r->names[i], r->scores[i]);
	printf("; optuna");
	for (i = 0; i < c->noptuna; i++)
		printf(" %s=%.4f", c->optuna_name[i], c->optuna_score[i]);
	printf("\n");
}

/* The order by construction holds, the scores sum to 1, Optuna's ranking
 * agrees wherever Optuna's scores are apart by more than 0.005 (closer
 * ones are noise of the two forests), and every score is within 0.01 of
 * Optuna's. */
static void check_case(const struct fixture_case *c)
{
	struct importance_ranking r;
	double sum = 0;
	size_t i, j;

	assert_int_equal(rank_case(c, &r), 0);
	print_ranking(c, &r);
	assert_int_equal(r.n, c->nparams);
	for (i = 0; i < r.n; i++)
		sum += r.scores[i];
	assert_true(fabs(sum - 1) < 1e-9);
	for (i = 0; i < c->nexpect; i++)
		assert_int_equal(position(&r, c->expect[i]), i);
	assert_string_equal(r.names[0], c->optuna_name[0]);
	for (i = 0; i < c->noptuna; i++)
		for (j = i + 1; j < c->noptuna; j++)
			if (c->optuna_score[i] - c->optuna_score[j] > 0.005)
				assert_true(position(&r, c->optuna_name[i]) <
					    position(&r, c->optuna_name[j]));
	for (i = 0; i < c->noptuna; i++)
		assert_true(fabs(r.scores[position(&r, c->optuna_name[i])] -
				 c->optuna_score[i]) < 0.01);
	importance_ranking_free(&r);
}

static void test_fixture(void **state)
{
	struct fixture_case c;
	FILE *in = open_fixture();
	size_t ncases = 0;

	(void)state;
	while (read_case(in, &c)) {
		check_case(&c);
		case_free(&c);
		ncases++;
	}
	case_free(&c);
	fclose(in);
	assert_true(ncases >= 4);
}

static char *cats[] = { "sgd", "adam", "rmsprop" };

/* Encoding: logs, one-hot columns, a one-valued parameter without a
 * column, values outside the space refused. */
static void test_encode(void **state)
{
	struct param_spec p[4] = {
		{ .name = "lr",
		  .type = PARAM_DOUBLE,
		  .distribution = DIST_LOG_UNIFORM,
		  .min_value = 1e-4,
		  .max_value = 1 },
		{ .name = "opt",
		  .type = PARAM_CATEGORICAL,
		  .list = cats,
		  .nlist = 3 },
		{ .name = "fixed",
		  .type = PARAM_INT,
		  .min_value = 3,
		  .max_value = 3 },
		{ .name = "n",
		  .type = PARAM_INT,
		  .min_value = 1,
		  .max_value = 8 },
	};
	char *good[] = { "0.01", "adam", "3", "4" };
	char *bad_choice[] = { "0.01", "lbfgs", "3", "4" };
	char *bad_range[] = { "2", "adam", "3", "4" };
	char *bad_number[] = { "0.01", "adam", "3", "four" };
	struct importance_space s;
	double row[8];

	(void)state;
	assert_int_equal(importance_space_init(&s, p, 4), 0);
	assert_int_equal(s.ncolumns, 5); /* lr, 3 choices, n */
	assert_int_equal(s.column_start[2], s.column_start[3]);
	assert_true(fabs(s.lo[0] - log(1e-4)) < 1e-12 && s.hi[0] == 0);
	assert_int_equal(importance_encode(&s, p, good, row), 0);
	assert_true(fabs(row[0] - log(0.01)) < 1e-12);
	assert_true(row[1] == 0 && row[2] == 1 && row[3] == 0);
	assert_true(row[4] == 4);
	assert_int_equal(importance_encode(&s, p, bad_choice, row), -EINVAL);
	assert_int_equal(importance_encode(&s, p, bad_range, row), -EINVAL);
	assert_int_equal(importance_encode(&s, p, bad_number, row), -EINVAL);
	importance_space_free(&s);
}

/* Too few trials, or an objective that never varied: -EAGAIN; a
 * one-valued parameter ranks last with 0. */
static void test_rank_edges(void **state)
{
	struct param_spec p[2] = {
		{ .name = "x",
		  .type = PARAM_DOUBLE,
		  .min_value = 0,
		  .max_value = 1 },
		{ .name = "k",
		  .type = PARAM_INT,
		  .min_value = 2,
		  .max_value = 2 },
	};
	double x[10], y[10];
	struct importance_space s;
	struct importance_ranking r;
	struct strbuf b;
	size_t i;

	(void)state;
	assert_int_equal(importance_space_init(&s, p, 2), 0);
	for (i = 0; i < 10; i++) {
		x[i] = (double)i / 10;
		y[i] = 1;
	}
	assert_int_equal(importance_rank(&s, x, y, 4, 0, &r), -EAGAIN);
	assert_int_equal(importance_rank(&s, x, y, 10, 0, &r), -EAGAIN);
	for (i = 0; i < 10; i++)
		y[i] = x[i] * x[i];
	assert_int_equal(importance_rank(&s, x, y, 10, 0, &r), 0);
	strbuf_init(&b);
	assert_int_equal(importance_format(&r, &b), 0);
	assert_string_equal(b.data, "x=1.000000\nk=0.000000\n");
	strbuf_free(&b);
	importance_ranking_free(&r);
	importance_space_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanova_exact),
		cmocka_unit_test(test_fanova_group),
		cmocka_unit_test(test_fanova_wide_group),
		cmocka_unit_test(test_fanova_errors),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_rank_edges),
		cmocka_unit_test(test_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
