/*
 * test_importance_task.c - when the controller ranks an experiment's
 * parameters again (core/engine/importance_task.c): after every new
 * Succeeded trial up to IMPORTANCE_MAX_TRIALS, and above that only once 1%
 * more have succeeded since the last ranking; never before RANK_SHARE
 * times the last one's CPU time; on the ranker thread, woken by a kick.
 * The experiment is built in memory (no daemon, no store); its rankings
 * are real.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "algorithms/importance.h"
#include "engine/daemon.h"
#include "engine/importance_task.h"
#include "fixtures.h"

struct task_fixture {
	struct katib k;
	struct experiment *e, *exps[1];
};

static char *number(double v)
{
	char buf[32];
	char *s;

	snprintf(buf, sizeof(buf), "%.6f", v);
	s = strdup(buf);
	assert_non_null(s);
	return s;
}

/* n more Succeeded trials, their loss set by lr (momentum plays no part). */
static void succeed(struct task_fixture *f, int n)
{
	struct experiment *e = f->e;
	struct trial *t;
	double lr, momentum;
	char *loss;

	while (n--) {
		t = calloc(1, sizeof(*t));
		assert_non_null(t);
		t->values = calloc(2, sizeof(*t->values));
		t->summaries = calloc(1, sizeof(*t->summaries));
		assert_non_null(t->values);
		assert_non_null(t->summaries);
		t->number = (int)e->ntrials + 1;
		t->state = TRIAL_SUCCEEDED;
		lr = 0.01 + 0.04 * (double)(t->number % 97) / 97;
		momentum = 0.5 + 0.4 * (double)(t->number % 89) / 89;
		t->values[0] = number(lr);
		t->values[1] = number(momentum);
		t->nvalues = 2;
		metric_summary_init(&t->summaries[0]);
		loss = number(100 * lr);
		metric_summary_add(&t->summaries[0], 0, loss);
		free(loss);
		t->nsummaries = 1;
		assert_int_equal(experiment_append_trial(e, t), 0);
	}
}

static void fixture_init(struct task_fixture *f, int trials)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(pthread_mutex_init(&f->k.lock, NULL), 0);
	f->e = calloc(1, sizeof(*f->e));
	assert_non_null(f->e);
	f->e->name = strdup("imp");
	f->e->spec = fixture_parse_ok(FIXTURE_BASE_SPEC);
	f->e->value_names[0] = "lr";
	f->e->value_names[1] = "momentum";
	f->e->nvalue_names = 2;
	f->exps[0] = f->e;
	f->k.exps = f->exps;
	f->k.nexps = 1;
	succeed(f, trials);
}

static void fixture_release(struct task_fixture *f)
{
	experiment_free(f->e);
	pthread_mutex_destroy(&f->k.lock);
}

/* A controller pass with the experiment's ranking due (its time share
 * spent): the Succeeded count the ranking then stands for. */
static int pass(struct task_fixture *f)
{
	f->e->importance_next = 0;
	assert_int_equal(importance_task_run(&f->k), -1);
	assert_non_null(f->e->importance);
	return f->e->importance_succeeded;
}

/* Up to IMPORTANCE_MAX_TRIALS, one more Succeeded trial is ranked again. */
static void test_each_trial_up_to_max(void **state)
{
	struct task_fixture f;

	(void)state;
	fixture_init(&f, IMPORTANCE_MAX_TRIALS - 1);
	assert_int_equal(pass(&f), IMPORTANCE_MAX_TRIALS - 1);
	assert_int_equal(pass(&f), IMPORTANCE_MAX_TRIALS - 1); /* no change */
	succeed(&f, 1);
	assert_int_equal(pass(&f), IMPORTANCE_MAX_TRIALS);
	succeed(&f, 1); /* the last ranking was at the bound, not above it */
	assert_int_equal(pass(&f), IMPORTANCE_MAX_TRIALS + 1);
	fixture_release(&f);
}

/* Above IMPORTANCE_MAX_TRIALS a ranking waits for 1% more Succeeded trials
 * than the last one stood for: 1,200 -> 12 more, 1,212 -> 12 more. */
static void test_one_percent_above_max(void **state)
{
	struct task_fixture f;

	(void)state;
	fixture_init(&f, 1200);
	assert_int_equal(pass(&f), 1200);
	succeed(&f, 11);
	assert_int_equal(pass(&f), 1200);
	succeed(&f, 1);
	assert_int_equal(pass(&f), 1212);
	succeed(&f, 11);
	assert_int_equal(pass(&f), 1212);
	succeed(&f, 1);
	assert_int_equal(pass(&f), 1224);
	fixture_release(&f);
}

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A ranking defers the next by RANK_SHARE times its cost: a new Succeeded
 * trial right after one is not ranked, and the pass says when it will be. */
static void test_deferred_by_share(void **state)
{
	struct task_fixture f;
	int wait;

	(void)state;
	fixture_init(&f, 100);
	assert_int_equal(pass(&f), 100);
	f.e->importance_next = monotonic() + 60; /* as after a 6 s ranking */
	succeed(&f, 1);
	wait = importance_task_run(&f.k);
	assert_true(wait > 59000 && wait <= 60001); /* ms */
	assert_int_equal(f.e->importance_succeeded, 100);
	assert_int_equal(pass(&f), 101);
	fixture_release(&f);
}

/* Controller passes (importance_task_kick_locked), each after the ranker
 * woke the controller or 10 ms, till e's ranking stands for `want`
 * Succeeded trials: what it stands for then (30 s at most: a timeout
 * fails the test). */
static int controller_passes(struct task_fixture *f, int want)
{
	struct pollfd pfd = { .fd = f->k.wake_fd, .events = POLLIN };
	uint64_t v;
	int got = -1, tries;

	for (tries = 0; tries < 3000 && got != want; tries++) {
		pthread_mutex_lock(&f->k.lock);
		importance_task_kick_locked(&f->k);
		got = f->e->importance ? f->e->importance_succeeded : -1;
		pthread_mutex_unlock(&f->k.lock);
		if (got != want && poll(&pfd, 1, 10) > 0 &&
		    read(f->k.wake_fd, &v, sizeof(v)) < 0)
			v = 0;
	}
	return got;
}

/* The ranker thread: handed what is there at the first pass, then what
 * succeeded since (the share spent: importance_next cleared); the
 * experiment busy only meanwhile; stopped at once when idle. */
static void test_ranker_thread(void **state)
{
	struct task_fixture f;

	(void)state;
	fixture_init(&f, 50);
	f.k.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(f.k.wake_fd >= 0);
	assert_int_equal(importance_task_start(&f.k), 0);
	assert_int_equal(controller_passes(&f, 50), 50);
	assert_int_equal(f.e->importance_busy, 0);
	pthread_mutex_lock(&f.k.lock);
	succeed(&f, 10);
	f.e->importance_next = 0;
	importance_task_kick_locked(&f.k);
	assert_int_equal(f.e->importance_busy, 1); /* handed over */
	pthread_mutex_unlock(&f.k.lock);
	assert_int_equal(controller_passes(&f, 60), 60);
	assert_int_equal(f.e->importance_busy, 0);
	importance_task_stop(&f.k);
	assert_null(f.k.ranker);
	close(f.k.wake_fd);
	fixture_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_trial_up_to_max),
		cmocka_unit_test(test_one_percent_above_max),
		cmocka_unit_test(test_deferred_by_share),
		cmocka_unit_test(test_ranker_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
