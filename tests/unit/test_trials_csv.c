/*
 * test_trials_csv.c - trials.csv rendered incrementally (the rows of ended
 * trials kept, the rest rendered per read) reads exactly as a whole render
 * would, whatever order trials end in, and its stat size is its length;
 * the active list and the kept history follow trials as they end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/daemon.h"
#include "views/render.h"

struct csv_fixture {
	struct experiment e;
	struct trial t[4];
	char *values[4][2];
};

static void add_trial(struct csv_fixture *f, int i, const char *x)
{
	struct trial *t = &f->t[i];

	memset(t, 0, sizeof(*t));
	t->number = i + 1;
	t->state = TRIAL_PENDING;
	f->values[i][0] = (char *)x;
	t->values = f->values[i];
	t->nvalues = 1;
	assert_int_equal(experiment_append_trial(&f->e, t), 0);
}

static char *csv(struct csv_fixture *f)
{
	char *out = NULL;
	size_t len = 0, size = 0;

	assert_int_equal(render_file_locked(NULL, &f->e, NULL, KFILE_TRIALS_CSV,
					    &out, &len),
			 0);
	assert_int_equal(strlen(out), len);
	assert_int_equal(render_trials_csv_size_locked(&f->e, &size), 0);
	assert_int_equal(size, len);
	return out;
}

static void expect_csv(struct csv_fixture *f, const char *want)
{
	char *s = csv(f);

	assert_string_equal(s, want);
	free(s);
}

static void release(struct csv_fixture *f)
{
	experiment_caches_reset(&f->e);
	free(f->e.trials);
	free(f->e.active);
}

static void test_rows_follow_states_in_any_order(void **state)
{
	struct csv_fixture f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.e.value_names[0] = "x";
	f.e.nvalue_names = 1;
	add_trial(&f, 0, "a");
	add_trial(&f, 1, "b");
	expect_csv(&f, "trial,state,x\n1,Pending,a\n2,Pending,b\n");
	trial_set_state(&f.e, &f.t[0], TRIAL_RUNNING);
	trial_set_state(&f.e, &f.t[1], TRIAL_RUNNING);
	trial_set_state(&f.e, &f.t[1], TRIAL_SUCCEEDED);
	/* trial 2 ended before trial 1: still in creation order */
	expect_csv(&f, "trial,state,x\n1,Running,a\n2,Succeeded,b\n");
	assert_int_equal(experiment_active(&f.e), 1);
	assert_ptr_equal(f.e.active[0], &f.t[0]);
	trial_set_state(&f.e, &f.t[0], TRIAL_FAILED);
	expect_csv(&f, "trial,state,x\n1,Failed,a\n2,Succeeded,b\n");
	assert_int_equal(f.e.csv.nrows, 2);
	assert_int_equal(experiment_active(&f.e), 0);
	add_trial(&f, 2, "c,d");
	expect_csv(&f, "trial,state,x\n1,Failed,a\n2,Succeeded,b\n"
		       "3,Pending,\"c,d\"\n");
	/* a new column: the kept rows are rendered again */
	f.e.value_names[1] = "y";
	f.e.nvalue_names = 2;
	expect_csv(&f, "trial,state,x,y\n1,Failed,a,\n2,Succeeded,b,\n"
		       "3,Pending,\"c,d\",\n");
	release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_follow_states_in_any_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
