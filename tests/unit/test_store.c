/*
 * test_store.c - the sqlite store (core/engine/store.c): what is put comes back
 * in order from store_load(), transactions are all or nothing (and after
 * a failure nothing is written until a rewrite), deletes take everything
 * of an experiment, the writer thread writes every transaction in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/store.h"

struct loaded {
	char names[8][32];
	int nexp;
	int trials, obs, events;
	char first_value[32];
	char last_event[64];
	struct experiment *exps[8];
};

static int on_exp(void *arg, struct experiment *e, const char *algo_state)
{
	struct loaded *l = arg;

	snprintf(l->names[l->nexp], sizeof(l->names[0]), "%s", e->name);
	l->exps[l->nexp++] = e;
	assert_string_equal(algo_state ? algo_state : "", "seed=1");
	return 0;
}

static int on_trial(void *arg, struct experiment *e, struct trial *t)
{
	struct loaded *l = arg;

	l->trials++;
	if (t->nvalues)
		snprintf(l->first_value, sizeof(l->first_value), "%s",
			 t->values[0]);
	/* keep it so that observations find their trial */
	e->trials = realloc(e->trials, (e->ntrials + 1) * sizeof(*e->trials));
	e->trials[e->ntrials++] = t;
	return 0;
}

static int on_obs(void *arg, struct experiment *e, struct trial *t, double time,
		  const char *metric, const char *value)
{
	struct loaded *l = arg;

	l->obs++;
	assert_string_equal(metric, "loss");
	assert_string_equal(value, l->obs % 2 ? "0.5" : "0.25"); /* in order */
	return 0;
}

static int on_event(void *arg, struct experiment *e, double time,
		    const char *message)
{
	struct loaded *l = arg;

	l->events++;
	snprintf(l->last_event, sizeof(l->last_event), "%s", message);
	return 0;
}

static void load(struct store *s, struct loaded *l)
{
	struct store_loader loader = {
		.arg = l,
		.experiment = on_exp,
		.trial = on_trial,
		.observation = on_obs,
		.event = on_event,
	};
	int i;

	memset(l, 0, sizeof(*l));
	assert_int_equal(store_load(s, &loader), 0);
	for (i = 0; i < l->nexp; i++)
		experiment_free(l->exps[i]);
}

static void put_one(struct store *s, const char *name)
{
	char *vals[] = { strdup("0.1"), strdup("7") };
	struct experiment e = { .name = (char *)name, .raw_spec = "spec: {}" };
	struct trial t = { .number = 1,
			   .name = "x-abc",
			   .values = vals,
			   .nvalues = 2,
			   .exit_code = -1 };

	strcpy(e.reason, "ExperimentRunning");
	e.state = EXP_RUNNING;
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_experiment(s, &e, "seed=1"), 0);
	assert_int_equal(store_put_trial(s, name, &t), 0);
	assert_int_equal(store_add_observation(s, name, 1, 1.0, "loss", "0.5"),
			 0);
	assert_int_equal(store_add_observation(s, name, 1, 2.0, "loss", "0.25"),
			 0);
	assert_int_equal(store_add_event(s, name, 3.0, "hello"), 0);
	assert_int_equal(store_commit(s), 0);
	free(vals[0]);
	free(vals[1]);
}

static void test_round_trip(void **state)
{
	char dir[] = "/tmp/katib-store-XXXXXX", cmd[64];
	struct store *s;
	struct loaded l;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, &s, NULL), 0);
	put_one(s, "b-exp");
	put_one(s, "a-exp");
	store_close(s);

	assert_int_equal(store_open(dir, &s, NULL), 0);
	load(s, &l);
	assert_int_equal(l.nexp, 2);
	assert_string_equal(l.names[0], "a-exp"); /* by name */
	assert_int_equal(l.trials, 2);
	assert_string_equal(l.first_value, "0.1");
	assert_int_equal(l.obs, 4);
	assert_int_equal(l.events, 2);
	assert_string_equal(l.last_event, "hello");

	assert_int_equal(store_delete_experiment(s, "a-exp"), 0);
	load(s, &l);
	assert_int_equal(l.nexp, 1);
	assert_int_equal(l.trials, 1);
	assert_int_equal(l.events, 1);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * One failed write: the whole transaction is rolled back and reported by
 * the writer; nothing more is written until a rewrite commits.
 */
static void test_all_or_nothing(void **state)
{
	char dir[] = "/tmp/katib-store-XXXXXX", cmd[64], msg[256];
	struct experiment e = { .name = "c-exp" };
	struct store *s;
	struct loaded l;
	int rc;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, &s, NULL), 0);
	put_one(s, "a-exp");
	assert_int_equal(store_sync(s, store_mark(s)), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_put_experiment(s, &e, "seed=1"), 0);
	/* NULL metric: a NOT NULL constraint fails inside the transaction
	 * (known once the writer runs it) */
	assert_int_equal(store_add_observation(s, "c-exp", 1, 1, NULL, "1"), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_sync(s, store_mark(s)), -EIO);
	assert_int_equal(store_failed(s), -EIO);
	store_errmsg(s, msg, sizeof(msg));
	assert_non_null(strstr(msg, "NOT NULL"));
	load(s, &l);
	assert_int_equal(l.nexp, 1);
	assert_string_equal(l.names[0], "a-exp");
	/* skipped until a rewrite: the database stays a prefix */
	put_one(s, "d-exp");
	assert_int_equal(store_sync(s, store_mark(s)), -EIO);
	assert_int_equal(store_done(s, store_mark(s), &rc), 1);
	assert_int_equal(rc, -EIO);
	load(s, &l);
	assert_int_equal(l.nexp, 1);
	/* a rewrite commits, and the store works on */
	assert_int_equal(store_clear_all(s), -EINVAL); /* not in a tx */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_clear_all(s), 0);
	put_one(s, "a-exp");
	put_one(s, "d-exp");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_sync(s, store_mark(s)), 0);
	assert_int_equal(store_failed(s), 0);
	put_one(s, "e-exp");
	load(s, &l);
	assert_int_equal(l.nexp, 3);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Many transactions handed over while the writer writes: all of them, in
 * order; what was committed survives store_close() without a sync. */
static void test_many_in_order(void **state)
{
	char dir[] = "/tmp/katib-store-XXXXXX", cmd[64], msg[32];
	struct store *s;
	struct loaded l;
	int i;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, &s, NULL), 0);
	put_one(s, "a-exp");
	for (i = 0; i < 2000; i++) {
		snprintf(msg, sizeof(msg), "event %d", i);
		assert_int_equal(store_add_event(s, "a-exp", i, msg), 0);
	}
	assert_int_equal(store_mark(s), 2001);
	store_close(s);
	assert_int_equal(store_open(dir, &s, NULL), 0);
	load(s, &l);
	assert_int_equal(l.events, 2001);
	assert_string_equal(l.last_event, "event 1999");
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_many_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
