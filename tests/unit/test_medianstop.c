/* test_medianstop.c - the median stopping rule's decisions. */
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
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 0);
	t->nseries = 4;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 1);
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
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 1);
	static const double fine[] = { 2, 1.5, 1.2, 0.45 };
	t->series = fine;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 0);
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
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 0);
	f.trials[2].state = HISTORY_SUCCEEDED;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 1);
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
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 1);
	/* step 3: 0.9, 0.8, 0.4 (c has only 2) -> 0.8; 0.7 stops */
	t->nseries = 3;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 1);
	static const double good[] = { 0.35, 0.6, 0.85 };
	t->series = good;
	assert_int_equal(
		ops()->should_stop(&f.spec, &f.hist, t, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stops_bad_trial),
		cmocka_unit_test(test_median_not_mean),
		cmocka_unit_test(test_min_trials_required),
		cmocka_unit_test(test_maximize_and_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
