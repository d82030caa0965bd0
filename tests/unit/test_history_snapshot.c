/*
 * test_history_snapshot.c - the history copy an algorithm reads off the
 * model lock: a running trial's series is copied (the trial's may grow and
 * move afterwards without the copy changing), an ended trial's entry is
 * copied once and kept, new entries are appended, and the array ends with
 * a zeroed entry as the controller's history does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/history_snapshot.h"

static struct history_trial entry(int number, enum history_state state,
				  const double *series, size_t nseries)
{
	struct history_trial h = { 0 };

	h.number = number;
	h.state = state;
	h.series = series;
	h.nseries = nseries;
	h.has_objective = nseries > 0;
	h.objective = nseries ? series[nseries - 1] : 0;
	return h;
}

static void test_running_series_copied(void **state)
{
	double ended[] = { 1, 2 }, running[] = { 5, 6, 7 };
	struct history_trial t[2] = {
		entry(1, HISTORY_SUCCEEDED, ended, 2),
		entry(2, HISTORY_PENDING, running, 2),
	};
	struct search_history h = { t, 2 }, out;
	struct history_snapshot s = { 0 };

	(void)state;
	assert_int_equal(history_snapshot_take(&s, &h, &out), 0);
	assert_int_equal(out.ntrials, 2);
	/* an ended trial's series never changes: shared, not copied */
	assert_ptr_equal(out.trials[0].series, ended);
	assert_ptr_not_equal(out.trials[1].series, running);
	assert_int_equal(out.trials[1].nseries, 2);
	running[0] = 50; /* the trial goes on meanwhile */
	t[1].nseries = 3;
	assert_true(out.trials[1].series[0] == 5);
	assert_true(out.trials[1].series[1] == 6);
	assert_int_equal(out.trials[1].nseries, 2);
	/* one zeroed entry past the end */
	assert_null(out.trials[2].values);
	assert_int_equal(out.trials[2].number, 0);
	history_snapshot_free(&s);
}

static void test_incremental(void **state)
{
	double a[] = { 1 }, b[] = { 2, 3 }, c[] = { 4 };
	struct history_trial t[3] = {
		entry(1, HISTORY_SUCCEEDED, a, 1),
		entry(2, HISTORY_PENDING, b, 1),
		entry(3, HISTORY_PENDING, NULL, 0),
	};
	struct search_history h = { t, 2 }, out;
	struct history_snapshot s = { 0 };

	(void)state;
	assert_int_equal(history_snapshot_take(&s, &h, &out), 0);
	assert_int_equal(s.stable, 1);
	/* trial 2 ended, trial 3 was created */
	t[1] = entry(2, HISTORY_FAILED, b, 2);
	h.ntrials = 3;
	assert_int_equal(history_snapshot_take(&s, &h, &out), 0);
	assert_int_equal(out.ntrials, 3);
	assert_int_equal(s.stable, 2);
	assert_int_equal(out.trials[1].state, HISTORY_FAILED);
	assert_int_equal(out.trials[1].nseries, 2);
	assert_int_equal(out.trials[2].number, 3);
	assert_null(out.trials[2].series);
	/* the stable prefix is not read again: what changed there later
	 * (which the controller never does) does not show */
	t[0].objective = 99;
	t[2] = entry(3, HISTORY_PENDING, c, 1);
	assert_int_equal(history_snapshot_take(&s, &h, &out), 0);
	assert_true(out.trials[0].objective == 1);
	assert_true(out.trials[2].series[0] == 4);
	/* a history rebuilt shorter starts over */
	h.ntrials = 1;
	assert_int_equal(history_snapshot_take(&s, &h, &out), 0);
	assert_int_equal(out.ntrials, 1);
	assert_true(out.trials[0].objective == 99);
	history_snapshot_free(&s);
}

static void test_many(void **state)
{
	enum { N = 1000 };
	struct history_trial *t = calloc(N, sizeof(*t));
	double *series = calloc(N, sizeof(*series));
	struct search_history h = { t, 0 }, out;
	struct history_snapshot s = { 0 };
	size_t i, j;

	(void)state;
	assert_non_null(t);
	assert_non_null(series);
	for (i = 0; i < N; i += 100) { /* grows in steps of 100 */
		for (j = i; j < i + 100; j++) {
			series[j] = (double)j;
			t[j] = entry((int)j + 1, HISTORY_PENDING, &series[j],
				     1);
		}
		if (i) /* the previous step ended */
			for (j = i - 100; j < i; j++)
				t[j].state = HISTORY_SUCCEEDED;
		h.ntrials = i + 100;
		assert_int_equal(history_snapshot_take(&s, &h, &out), 0);
		assert_int_equal(s.stable, i);
		for (j = 0; j < h.ntrials; j++) {
			assert_int_equal(out.trials[j].number, (int)j + 1);
			assert_true(out.trials[j].series[0] == (double)j);
		}
	}
	history_snapshot_free(&s);
	free(t);
	free(series);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_running_series_copied),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
