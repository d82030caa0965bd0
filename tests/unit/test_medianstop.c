/* test_medianstop.c - the median stopping rule's decisions, every
 * observation judged however many arrive at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "katib/algorithm.h"

struct es_fixture {
	struct experiment_spec spec;
	struct algorithm_setting settings[2];
	struct history_trial trials[8];
	struct search_history hist;
};

static void es_init(struct es_fixture *f, int maximize, const char *min_trials,
		    const char *start_step)
{
	memset(f, 0, sizeof(*f));
	f->spec.objective.maximize = maximize;
	f->spec.objective.metric = "loss";
	f->spec.has_early_stopping = 1;
	f->spec.early_stopping.name = "medianstop";
	f->spec.early_stopping.settings = f->settings;
	if (min_trials) {
		f->settings[f->spec.early_stopping.nsettings].name =
			"min_trials_required";
		f->settings[f->spec.early_stopping.nsettings++].value =
			(char *)min_trials;
	}
	if (start_step) {
		f->settings[f->spec.early_stopping.nsettings].name =
			"start_step";
		f->settings[f->spec.early_stopping.nsettings++].value =
			(char *)start_step;
	}
	f->hist.trials = f->trials;
}

static struct history_trial *add(struct es_fixture *f, enum history_state s,
				 const double *series, size_t n)
{
	struct history_trial *t = &f->trials[f->hist.ntrials++];

	t->state = s;
	t->series = series;
	t->nseries = n;
	t->number = (int)f->hist.ntrials;
	t->has_objective = n > 0;
	return t;
}

static const struct early_stopping_ops *ops(void)
{
	const struct early_stopping_ops *o = early_stopping_find("medianstop");

	assert_non_null(o);
	assert_true(o->implemented);
	return o;
}

static const double good1[] = { 0.9, 0.7, 0.5, 0.4, 0.3 };
static const double good2[] = { 0.8, 0.6, 0.5, 0.5, 0.2 };
static const double good3[] = { 1.0, 0.9, 0.6, 0.45, 0.4 };
static const double outlier[] = { 9, 9, 9, 9, 9 };

static void test_stops_bad_trial(void **state)
{
	struct es_fixture f;
	static const double bad[] = { 2, 1.5, 1.2, 0.8 };
	struct history_trial *t;
	char why[256] = "";

	(void)state;
	es_init(&f, 0, NULL, NULL);
	add(&f, HISTORY_SUCCEEDED, good1, 5);
	add(&f, HISTORY_SUCCEEDED, good2, 5);
	add(&f, HISTORY_SUCCEEDED, good3, 5);
	t = add(&f, HISTORY_PENDING, bad, 3);
	/* before start_step (4): never */
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		0);
	t->nseries = 4;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		1);
	/* bests at step 4: 0.4, 0.5, 0.45 -> median 0.45 */
	assert_string_equal(why, "loss best 0.8 after 4 steps is worse than "
				 "the median 0.45 of 3 completed trials at "
				 "step 4");
}

static void test_median_not_mean(void **state)
{
	struct es_fixture f;
	static const double mid[] = { 2, 1.5, 1.2, 0.6 };
	struct history_trial *t;
	char why[256] = "";

	(void)state;
	/* bests at 4: 0.4, 0.5, 9 -> median 0.5, mean 3.3: 0.6 is stopped by
	 * the median, it would pass Katib's mean */
	es_init(&f, 0, "3", "4");
	add(&f, HISTORY_SUCCEEDED, good1, 5);
	add(&f, HISTORY_SUCCEEDED, good2, 5);
	add(&f, HISTORY_SUCCEEDED, outlier, 5);
	t = add(&f, HISTORY_PENDING, mid, 4);
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		1);
	static const double fine[] = { 2, 1.5, 1.2, 0.45 };
	t->series = fine;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		0);
}

static void test_min_trials_required(void **state)
{
	struct es_fixture f;
	static const double bad[] = { 5, 5, 5, 5 };
	struct history_trial *t;
	char why[256];

	(void)state;
	es_init(&f, 0, NULL, NULL);
	add(&f, HISTORY_SUCCEEDED, good1, 5);
	add(&f, HISTORY_SUCCEEDED, good2, 5);
	add(&f, HISTORY_FAILED, good3, 5);	  /* not completed */
	add(&f, HISTORY_EARLY_STOPPED, good3, 5); /* not completed */
	add(&f, HISTORY_PENDING, good3, 5);	  /* running */
	t = add(&f, HISTORY_PENDING, bad, 4);
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		0);
	f.trials[2].state = HISTORY_SUCCEEDED;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		1);
}

static void test_maximize_and_steps(void **state)
{
	struct es_fixture f;
	static const double a[] = { 0.1, 0.5, 0.9 };
	static const double b[] = { 0.2, 0.3, 0.8 };
	static const double c[] = { 0.3, 0.4 };
	static const double run[] = { 0.35, 0.36, 0.7 };
	struct history_trial *t;
	char why[256];

	(void)state;
	es_init(&f, 1, "1", "2");
	add(&f, HISTORY_SUCCEEDED, a, 3);
	add(&f, HISTORY_SUCCEEDED, b, 3);
	add(&f, HISTORY_SUCCEEDED, c, 2);
	t = add(&f, HISTORY_PENDING, run, 2);
	/* step 2 bests: 0.5, 0.3, 0.4 -> median 0.4; 0.36 < 0.4 stops */
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		1);
	/* step 3 alone (2 judged before): 0.9, 0.8, 0.4 (c has only 2) ->
	 * 0.8; 0.7 stops */
	t->nseries = 3;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 2, why, sizeof(why)),
		1);
	static const double good[] = { 0.35, 0.6, 0.85 };
	t->series = good;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		0);
}

/* A fast trial: many observations arrive in one controller pass. Each is
 * judged, as Katib's collector judges every line: the trial is stopped at
 * the step where it was worse, though its last value is the best. */
static void test_every_observation_judged(void **state)
{
	struct es_fixture f;
	static const double fast[] = { 2, 1.5, 0.1, 0.05, 0.01 };
	struct history_trial *t;
	char why[256] = "";

	(void)state;
	es_init(&f, 0, NULL, "2");
	add(&f, HISTORY_SUCCEEDED, good1, 5);
	add(&f, HISTORY_SUCCEEDED, good2, 5);
	add(&f, HISTORY_SUCCEEDED, good3, 5);
	t = add(&f, HISTORY_PENDING, fast, 5);
	/* all five new: step 2's best 1.5 is worse than 0.7 (0.7, 0.6, 0.9) */
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		1);
	assert_string_equal(why, "loss best 1.5 after 2 steps is worse than "
				 "the median 0.7 of 3 completed trials at "
				 "step 2");
	/* steps 1-4 judged at earlier passes: only step 5 is new */
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 4, why, sizeof(why)),
		0);
	/* nothing new */
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 5, why, sizeof(why)),
		0);
}

/* 1000 observations in one pass: completed trials at (1 + i/100)/step,
 * the running one at 1/step that stalls at 1/501 from step 501: its best
 * is first worse than the median 1.01/step at step 507. */
static void test_many_observations_one_pass(void **state)
{
	enum { N = 1000 };
	static double done[3][N], run[N];
	struct es_fixture f;
	struct history_trial *t;
	char why[256] = "";
	int i, k;

	(void)state;
	for (i = 0; i < 3; i++)
		for (k = 0; k < N; k++)
			done[i][k] = (1 + i / 100.0) / (k + 1);
	for (k = 0; k < N; k++)
		run[k] = k < 501 ? 1.0 / (k + 1) : 1.0 / 501;
	es_init(&f, 0, NULL, NULL);
	for (i = 0; i < 3; i++)
		add(&f, HISTORY_SUCCEEDED, done[i], N);
	t = add(&f, HISTORY_PENDING, run, N);
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		1);
	assert_non_null(strstr(why, "after 507 steps"));
	/* judged up to 506 before: 507 is the first new one, and stops */
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 506, why, sizeof(why)),
		1);
	assert_non_null(strstr(why, "after 507 steps"));
	/* the first 500 alone never stop it */
	t->nseries = 500;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, 0, why, sizeof(why)),
		0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stops_bad_trial),
		cmocka_unit_test(test_median_not_mean),
		cmocka_unit_test(test_min_trials_required),
		cmocka_unit_test(test_maximize_and_steps),
		cmocka_unit_test(test_every_observation_judged),
		cmocka_unit_test(test_many_observations_one_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
