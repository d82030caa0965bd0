/*
 * test_suggest_race.c - a suggestion computed off the model lock
 * (core/engine/controller.c, "Suggesting off the model lock") that the
 * experiment outran: paused, stopped, given a new spec or deleted while
 * the algorithm computed. Such a suggestion is dropped (no trial, no
 * event, nothing counted) and the algorithm goes back to the state it last
 * saved, so what follows is what an uninterrupted run does.
 *
 * Deterministic, without sleeps: the binary is linked with
 * -Wl,--wrap=search_history_attach_used (Makefile), and the wrapper holds
 * the controller thread at the call that ends the algorithm's suggest()
 * (search_history_attach_used(NULL, NULL), made with the lock dropped)
 * until the test has changed the experiment and releases it. The product
 * has no hook for this.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "katib/algorithm.h"
#include "katib/katib.h"
#include "engine/daemon.h"

#include "daemon_test_util.h"
#include "fixtures.h"

#define WAIT_MS 20000 /* a wait that passes this fails the test */

/* An algorithm for x and y in [-2, 2], one trial at a time, `echo loss=x`
 * (spec_text(): the name, the algorithm, maxTrialCount, and a step for
 * grid). cmaes: its state (saved as JSON) changes with every suggestion;
 * grid: no state, but its next point is the first that no trial (nor a
 * suggestion made meanwhile, e->used) has. */
static const char spec_fmt[] = FIXTURE_HEAD_FMT
	"  algorithm:\n"
	"    algorithmName: %s\n"
	"    algorithmSettings:\n"
	"      - name: random_state\n"
	"        value: \"7\"\n"
	"  parallelTrialCount: 1\n"
	"  maxTrialCount: %d\n"
	"  maxFailedTrialCount: 1\n"
	"  parameters:\n"
	"    - name: x\n"
	"      parameterType: double\n"
	"      feasibleSpace: {min: \"-2\", max: \"2\"%s}\n"
	"    - name: y\n"
	"      parameterType: double\n"
	"      feasibleSpace: {min: \"-2\", max: \"2\"%s}\n"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - name: x\n"
	"        reference: x\n"
	"      - name: y\n"
	"        reference: y\n"
	"    trialSpec:\n" FIXTURE_JOB_SHELL(
		"echo loss=${trialParameters.x} y=${trialParameters.y}");

/* ---- the hold ---- */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int at;	   /* hold the at-th suggestion made while armed (0: none) */
	int count; /* suggestions made while armed */
	int held, released;
} hold = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0 };

static struct timespec deadline_in(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

void __real_search_history_attach_used(const struct search_history *h,
				       struct assignment_set *used);
void __wrap_search_history_attach_used(const struct search_history *h,
				       struct assignment_set *used);

/* The controller thread, its suggestion computed and the lock dropped. A
 * test that failed meanwhile must not hang the daemon: the hold gives up
 * after WAIT_MS (the test has failed by then). */
void __wrap_search_history_attach_used(const struct search_history *h,
				       struct assignment_set *used)
{
	struct timespec until = deadline_in(WAIT_MS);

	__real_search_history_attach_used(h, used);
	if (h)
		return; /* the start of a suggest(), not its end */
	pthread_mutex_lock(&hold.mu);
	if (hold.at && ++hold.count == hold.at) {
		hold.held = 1;
		pthread_cond_broadcast(&hold.cv);
		while (!hold.released &&
		       !pthread_cond_timedwait(&hold.cv, &hold.mu, &until))
			;
	}
	pthread_mutex_unlock(&hold.mu);
}

static void arm(int at)
{
	pthread_mutex_lock(&hold.mu);
	hold.at = at;
	hold.count = hold.held = hold.released = 0;
	pthread_mutex_unlock(&hold.mu);
}

static void disarm(void)
{
	pthread_mutex_lock(&hold.mu);
	hold.at = 0;
	hold.released = 1;
	pthread_cond_broadcast(&hold.cv);
	pthread_mutex_unlock(&hold.mu);
}

static void wait_held(void)
{
	struct timespec until = deadline_in(WAIT_MS);
	int held;

	pthread_mutex_lock(&hold.mu);
	while (!hold.held &&
	       !pthread_cond_timedwait(&hold.cv, &hold.mu, &until))
		;
	held = hold.held;
	pthread_mutex_unlock(&hold.mu);
	if (!held)
		fail_msg("no suggestion reached the hold in %d ms", WAIT_MS);
}

static int in_model(struct katib *k, const struct experiment *e)
{
	size_t i;

	for (i = 0; i < k->nexps; i++)
		if (k->exps[i] == e)
			return 1;
	return 0;
}

/*
 * Let the held suggestion go and return once the controller has taken it
 * back under the lock (e->algo_busy 0, or e freed after an rmdir): the
 * model lock is held from before the release, so the controller can only
 * take it once this thread waits on k->changed, and it decides in that
 * one critical section.
 */
static void release_and_settle(struct katib *k, const char *exp)
{
	struct timespec until = deadline_in(WAIT_MS);
	struct experiment *e = NULL;
	size_t i;
	int busy;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < k->nexps; i++)
		if (!strcmp(k->exps[i]->name, exp))
			e = k->exps[i]; /* deleted or not */
	if (!e || e->algo_busy != 1) {
		pthread_mutex_unlock(&k->lock);
		fail_msg("%s is not suggesting off the lock", exp);
	}
	pthread_mutex_lock(&hold.mu);
	hold.released = 1;
	hold.at = 0;
	pthread_cond_broadcast(&hold.cv);
	pthread_mutex_unlock(&hold.mu);
	while ((busy = in_model(k, e) && e->algo_busy) &&
	       !pthread_cond_timedwait(&k->changed, &k->lock, &until))
		;
	pthread_mutex_unlock(&k->lock);
	if (busy)
		fail_msg("the controller did not take the suggestion back");
}

/* ---- the daemon ---- */

static int setup(void **state)
{
	*state = daemon_start("race", NULL);
	return 0;
}

static int teardown(void **state)
{
	disarm(); /* a failed test may have left the controller held */
	daemon_stop(*state);
	return 0;
}

static int spec_text(char *buf, size_t size, const char *exp, const char *algo,
		     int max)
{
	const char *step = strcmp(algo, "grid") ? "" : ", step: \"1\"";

	return snprintf(buf, size, spec_fmt, exp, algo, max, step, step);
}

static void start(struct katib *k, const char *exp, const char *algo, int max)
{
	struct kb_error err = { 0 };
	char buf[4096];
	int n = spec_text(buf, sizeof(buf), exp, algo, max);

	assert_int_equal(katib_mkdir(k, exp, &err), 0);
	assert_int_equal(katib_write_spec(k, exp, buf, (size_t)n, &err), 0);
}

static void control(struct katib *k, const char *exp, const char *word)
{
	struct kb_error err = { 0 };

	assert_int_equal(katib_write_control(k, exp, word, strlen(word), &err),
			 0);
}

static void assert_file_has(struct katib *k, const char *exp, enum kfile f,
			    const char *needle, int want)
{
	char *s = daemon_render(k, exp, 0, f);

	if ((strstr(s, needle) != NULL) != want)
		fail_msg("'%s' %s in %s's %s:\n%s", needle,
			 want ? "not found" : "found", exp, kfile_name(f), s);
	free(s);
}

static size_t ntrials(struct katib *k, const char *exp)
{
	int *nums = NULL;
	size_t n = 0;

	assert_int_equal(katib_list_trials(k, exp, &nums, &n), 0);
	free(nums);
	return n;
}

/* exp held at its second suggestion: trial 1 has run, trial 2 is being
 * computed off the lock. */
static void start_held(struct katib *k, const char *exp, const char *algo,
		       int max)
{
	arm(2);
	start(k, exp, algo, max);
	wait_held();
	assert_int_equal(ntrials(k, exp), 1);
}

/* The stale suggestion left nothing: one trial, no second one started. */
static void assert_dropped(struct katib *k, const char *exp)
{
	assert_int_equal(ntrials(k, exp), 1);
	assert_file_has(k, exp, KFILE_EVENTS, "trial 1 started", 1);
	assert_file_has(k, exp, KFILE_EVENTS, "trial 2 started", 0);
	assert_file_has(k, exp, KFILE_STATUS, "trials=1\n", 1);
}

/* Paused while suggesting: nothing is created while paused, and after
 * resume the trials are those of the same experiment never paused: the
 * dropped suggestion neither advanced the algorithm (it went back to its
 * saved state) nor took a point from the search (e->used). */
static void pause_resume(struct katib *k, const char *algo)
{
	char ref[64], exp[64], *want, *got;

	snprintf(ref, sizeof(ref), "%s-ref", algo);
	snprintf(exp, sizeof(exp), "%s-paused", algo);
	start(k, ref, algo, 4);
	assert_int_equal(katib_wait_finished(k, ref, WAIT_MS), 0);
	want = daemon_render(k, ref, 0, KFILE_TRIALS_CSV);

	start_held(k, exp, algo, 4);
	control(k, exp, "pause");
	release_and_settle(k, exp);
	assert_dropped(k, exp);
	assert_file_has(k, exp, KFILE_STATUS, "state=Paused\n", 1);

	control(k, exp, "resume");
	assert_int_equal(katib_wait_finished(k, exp, WAIT_MS), 0);
	assert_file_has(k, exp, KFILE_STATUS,
			"state=Succeeded\nreason=MaxTrialsReached\ntrials=4\n",
			1);
	got = daemon_render(k, exp, 0, KFILE_TRIALS_CSV);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_pause(void **state)
{
	struct daemon_fixture *f = *state;

	pause_resume(f->k, "cmaes");
	pause_resume(f->k, "grid");
}

/* Stopped while suggesting: it stays stopped with its one trial. */
static void test_stop(void **state)
{
	struct daemon_fixture *f = *state;

	start_held(f->k, "stopped", "cmaes", 4);
	control(f->k, "stopped", "stop");
	release_and_settle(f->k, "stopped");
	assert_dropped(f->k, "stopped");
	assert_file_has(f->k, "stopped", KFILE_STATUS, "state=Stopped\n", 1);
	assert_int_equal(katib_wait_finished(f->k, "stopped", WAIT_MS), 0);
	assert_dropped(f->k, "stopped");
}

/* A new spec while suggesting (maxTrialCount 4 -> 1): the suggestion was
 * for the old one; the experiment ends with the one trial it allows. */
static void test_new_spec(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char buf[4096];
	int n;

	start_held(f->k, "respec", "cmaes", 4);
	n = spec_text(buf, sizeof(buf), "respec", "cmaes", 1);
	assert_int_equal(katib_write_spec(f->k, "respec", buf, (size_t)n, &err),
			 0);
	release_and_settle(f->k, "respec");
	assert_int_equal(katib_wait_finished(f->k, "respec", WAIT_MS), 0);
	assert_dropped(f->k, "respec");
	assert_file_has(f->k, "respec", KFILE_STATUS,
			"state=Succeeded\nreason=MaxTrialsReached\n", 1);
}

/* Stopped and deleted while suggesting: nothing of it comes back, not its
 * directory nor a trial in an experiment made again under its name. */
static void test_delete(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char path[256];

	start_held(f->k, "gone", "cmaes", 4);
	control(f->k, "gone", "stop");
	assert_int_equal(katib_rmdir(f->k, "gone", &err), 0);
	release_and_settle(f->k, "gone");
	assert_int_equal(katib_list_trials(f->k, "gone", &(int *){ NULL },
					   &(size_t){ 0 }),
			 -ENOENT);
	snprintf(path, sizeof(path), "%s/experiments/gone", f->dir);
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(katib_mkdir(f->k, "gone", &err), 0);
	assert_int_equal(ntrials(f->k, "gone"), 0);
	assert_file_has(f->k, "gone", KFILE_EVENTS, "trial", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
