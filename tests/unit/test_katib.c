/*
 * test_katib.c - the daemon API (katib.h) end to end without FUSE: a state
 * directory in /tmp, experiments driven through the same calls the mount
 * makes, trials run as real local processes.
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

#include "katib/katib.h"

#include "daemon_test_util.h"
#include "fixtures.h"

static const char spec_fmt[] =
	FIXTURE_HEAD_FMT "%s"
			 "  algorithm:\n"
			 "    algorithmName: random\n"
			 "    algorithmSettings:\n"
			 "      - name: random_state\n"
			 "        value: \"7\"\n"
			 "  parallelTrialCount: %d\n"
			 "  maxTrialCount: %d\n"
			 "  maxFailedTrialCount: %d\n"
			 "  parameters:\n"
			 "    - name: x\n"
			 "      parameterType: double\n"
			 "      feasibleSpace: {min: \"-2\", max: \"2\"}\n"
			 "  trialTemplate:\n"
			 "    primaryContainerName: training-container\n"
			 "    trialParameters:\n"
			 "      - name: x\n"
			 "        reference: x\n"
			 "    trialSpec:\n" FIXTURE_JOB_SHELL("%s");

static int write_spec(struct katib *k, const char *name, const char *extra,
		      int parallel, int max, const char *script,
		      struct kb_error *err)
{
	char buf[8192];
	int n = snprintf(buf, sizeof(buf), spec_fmt, name, extra, parallel, max,
			 max < 3 ? max : 3, script);

	return katib_write_spec(k, name, buf, (size_t)n, err);
}

static int setup(void **state)
{
	*state = daemon_start("unit", NULL);
	return 0;
}

static int teardown(void **state)
{
	daemon_stop(*state);
	return 0;
}

static void test_full_run(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char *s;
	int *nums = NULL;
	size_t n = 0;

	assert_int_equal(katib_mkdir(f->k, "exp1", &err), 0);
	assert_int_equal(katib_mkdir(f->k, "exp1", &err), -EEXIST);
	assert_int_equal(write_spec(f->k, "exp1", "", 2, 5,
				    "echo loss=${trialParameters.x}", &err),
			 0);
	assert_int_equal(katib_wait_finished(f->k, "exp1", 20000), 0);
	s = daemon_render(f->k, "exp1", 0, KFILE_STATUS);
	assert_has(s, "state=Succeeded\n");
	assert_has(s, "reason=MaxTrialsReached\n");
	assert_has(s, "trials=5\n");
	assert_has(s, "succeeded=5\n");
	free(s);
	assert_int_equal(katib_list_trials(f->k, "exp1", &nums, &n), 0);
	assert_int_equal(n, 5);
	free(nums);
	s = daemon_render(f->k, "exp1", 0, KFILE_TRIALS_CSV);
	assert_has(s, "trial,state,x,loss\n1,Succeeded,");
	free(s);
	s = daemon_render(f->k, "exp1", 1, KFILE_T_METRICS);
	assert_has(s, "loss=");
	free(s);
	s = daemon_render(f->k, "exp1", 0, KFILE_BEST);
	assert_has(s, "trial=");
	free(s);
	assert_int_equal(katib_rmdir(f->k, "exp1", &err), 0);
	assert_int_equal(
		katib_experiment_stat(f->k, "exp1", &(struct katib_stat){ 0 }),
		-ENOENT);
}

static void test_invalid_spec(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char *s;

	assert_int_equal(katib_mkdir(f->k, "bad", &err), 0);
	assert_int_equal(katib_write_spec(f->k, "bad", "spec: [", 7, &err),
			 -EINVAL);
	s = daemon_render(f->k, "bad", 0, KFILE_STATUS);
	assert_has(s, "state=Invalid\n");
	assert_has(s, "error='");
	free(s);
	s = daemon_render(f->k, "bad", 0, KFILE_EVENTS);
	assert_has(s, "rejected spec.yaml");
	free(s);
	assert_int_equal(katib_mkdir(f->k, "Bad_Name", &err), -EINVAL);
}

static void test_failures_and_goal(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char *s;

	assert_int_equal(katib_mkdir(f->k, "fails", &err), 0);
	assert_int_equal(write_spec(f->k, "fails", "", 1, 10,
				    "exit 3; echo ${trialParameters.x}", &err),
			 0);
	assert_int_equal(katib_wait_finished(f->k, "fails", 20000), 0);
	s = daemon_render(f->k, "fails", 0, KFILE_STATUS);
	assert_has(s, "state=Failed\nreason=MaxFailedReached\n");
	assert_has(s, "failed=3\n");
	free(s);
	s = daemon_render(f->k, "fails", 1, KFILE_T_STATUS);
	assert_has(s, "exit_code=3\n");
	free(s);

	assert_int_equal(katib_mkdir(f->k, "goal", &err), 0);
	assert_int_equal(write_spec(f->k, "goal", "    goal: 5\n", 1, 10,
				    "echo loss=1 x=${trialParameters.x}", &err),
			 0);
	assert_int_equal(katib_wait_finished(f->k, "goal", 20000), 0);
	s = daemon_render(f->k, "goal", 0, KFILE_STATUS);
	assert_has(s, "state=Succeeded\nreason=GoalReached\ntrials=1\n");
	free(s);

	assert_int_equal(katib_mkdir(f->k, "nometric", &err), 0);
	assert_int_equal(write_spec(f->k, "nometric", "", 1, 3,
				    "echo hello ${trialParameters.x}", &err),
			 0);
	assert_int_equal(katib_wait_finished(f->k, "nometric", 20000), 0);
	s = daemon_render(f->k, "nometric", 0, KFILE_STATUS);
	assert_has(s, "state=Failed\nreason=MaxFailedReached\n");
	assert_has(s, "metrics_unavailable=3\n");
	free(s);
}

/* Wait until the controller has created trial n. */
static void wait_trial(struct katib *k, const char *exp, int n)
{
	int i, *nums = NULL;
	size_t cnt = 0;

	for (i = 0; i < 2000; i++) {
		assert_int_equal(katib_list_trials(k, exp, &nums, &cnt), 0);
		free(nums);
		if (cnt >= (size_t)n)
			return;
		usleep(5000);
	}
	fail_msg("trial %d of %s never appeared", n, exp);
}

/* Wait until trial n of exp has observed its objective once (its first
 * output line is parsed). */
static void wait_observed(struct katib *k, const char *exp, int n)
{
	char *s;
	int i, seen;

	for (i = 0; i < 2000; i++) {
		s = daemon_render(k, exp, n, KFILE_T_STATUS);
		seen = s && strstr(s, "observations=1\n");
		free(s);
		if (seen)
			return;
		usleep(5000);
	}
	fail_msg("trial %d of %s observed nothing in 10 s", n, exp);
}

static void test_control(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char *s;

	assert_int_equal(katib_mkdir(f->k, "ctl", &err), 0);
	assert_int_equal(write_spec(f->k, "ctl", "", 2, 6,
				    "sleep 30; echo ${trialParameters.x}",
				    &err),
			 0);
	wait_trial(f->k, "ctl", 2);
	assert_int_equal(katib_rmdir(f->k, "ctl", &err), -EBUSY);
	assert_int_equal(katib_write_control(f->k, "ctl", "jump\n", 5, &err),
			 -EINVAL);
	assert_int_equal(katib_write_control(f->k, "ctl", "pause\n", 6, &err),
			 0);
	s = daemon_render(f->k, "ctl", 0, KFILE_STATUS);
	assert_has(s, "state=Paused\n");
	free(s);
	assert_int_equal(
		katib_write_trial_control(f->k, "ctl", 1, "kill", 4, &err), 0);
	assert_int_equal(katib_write_control(f->k, "ctl", "stop", 4, &err), 0);
	assert_int_equal(katib_wait_finished(f->k, "ctl", 20000), 0);
	s = daemon_render(f->k, "ctl", 1, KFILE_T_STATUS);
	assert_has(s, "state=Killed\n");
	free(s);
	s = daemon_render(f->k, "ctl", 0, KFILE_STATUS);
	assert_has(s, "state=Stopped\n");
	free(s);
	assert_int_equal(katib_rmdir(f->k, "ctl", &err), 0);
}

static void test_push_and_reopen(void **state)
{
	struct daemon_fixture *f = *state;
	struct katib_options opt = { .state_dir = f->dir };
	struct kb_error err = { 0 };
	char *before, *after;

	assert_int_equal(katib_mkdir(f->k, "push", &err), 0);
	assert_int_equal(write_spec(f->k, "push",
				    "  metricsCollectorSpec:\n"
				    "    collector:\n      kind: Push\n",
				    1, 1, "sleep 1; echo ${trialParameters.x}",
				    &err),
			 0);
	wait_trial(f->k, "push", 1);
	assert_int_equal(
		katib_push_metrics(f->k, "push", 1, "lozz=1\n", 7, &err),
		-EINVAL);
	assert_int_equal(katib_push_metrics(f->k, "push", 1,
					    "loss=0.5\nloss=0.25\n", 19, &err),
			 0);
	assert_int_equal(katib_wait_finished(f->k, "push", 20000), 0);
	before = daemon_render(f->k, "push", 0, KFILE_TRIALS_CSV);
	assert_has(before, "1,Succeeded,");
	assert_has(before, ",0.25\n");
	katib_close(f->k);
	assert_int_equal(katib_open(&opt, &f->k, NULL), 0);
	after = daemon_render(f->k, "push", 0, KFILE_TRIALS_CSV);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* The katibfs/trial-timeout annotation kills a trial that runs too long. */
static void test_trial_timeout(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char buf[8192], spec[8192], *s;
	const char *cut;
	int n;

	snprintf(buf, sizeof(buf), spec_fmt, "slow", "", 1, 1, 1,
		 "sleep 30; echo loss=${trialParameters.x}");
	cut = strstr(buf, "metadata:\n") + strlen("metadata:\n");
	n = snprintf(spec, sizeof(spec),
		     "%.*s  annotations:\n    katibfs/trial-timeout: 500ms\n%s",
		     (int)(cut - buf), buf, cut);
	assert_int_equal(katib_mkdir(f->k, "slow", &err), 0);
	assert_int_equal(katib_write_spec(f->k, "slow", spec, (size_t)n, &err),
			 0);
	assert_int_equal(katib_wait_finished(f->k, "slow", 20000), 0);
	s = daemon_render(f->k, "slow", 1, KFILE_T_STATUS);
	assert_has(s, "state=Failed\nreason=Timeout\n");
	free(s);
}

/* MOUNTPOINT/events as the mount reads it (exp NULL). */
static char *mount_events(struct katib *k)
{
	struct timespec mtime;
	off_t size;
	char *buf;

	assert_int_equal(
		katib_stream_stat(k, NULL, 0, KFILE_EVENTS, &size, &mtime), 0);
	buf = calloc(1, (size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(katib_stream_read(k, NULL, 0, KFILE_EVENTS, buf,
					   (size_t)size, 0),
			 size);
	return buf;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)); text++)
		n++;
	return n;
}

/* Trials outlive the daemon: close while they run, open again, and
 * every trial ends once with its metrics counted once. */
static void test_readopt(void **state)
{
	struct daemon_fixture *f = *state;
	struct katib_options opt = { .state_dir = f->dir };
	struct kb_error err = { 0 };
	char *s;
	int i;

	assert_int_equal(katib_mkdir(f->k, "adopt", &err), 0);
	assert_int_equal(
		write_spec(f->k, "adopt", "", 2, 4,
			   "echo loss=${trialParameters.x}; sleep 2; echo done",
			   &err),
		0);
	wait_trial(f->k, "adopt", 2);
	wait_observed(f->k, "adopt", 1); /* parsed before the close */
	wait_observed(f->k, "adopt", 2);
	katib_close(f->k);
	usleep(500000); /* trials 1 and 2 still run: re-adopted */
	assert_int_equal(katib_open(&opt, &f->k, NULL), 0);
	s = mount_events(f->k); /* trials 1 and 2, found running or ended */
	assert_has(s, "after the restart: ");
	assert_has(s, "adopt/1");
	assert_has(s, "adopt/2");
	free(s);
	assert_int_equal(katib_wait_finished(f->k, "adopt", 20000), 0);
	s = daemon_render(f->k, "adopt", 0, KFILE_STATUS);
	assert_has(s, "state=Succeeded\n");
	assert_has(s, "trials=4\n");
	assert_has(s, "succeeded=4\n");
	free(s);
	for (i = 1; i <= 4; i++) {
		s = daemon_render(f->k, "adopt", i, KFILE_T_STATUS);
		assert_has(s, "observations=1\n");
		free(s);
	}
}

/* The mount-wide events: start, rejected names, stop; kept across opens. */
static void test_mount_events(void **state)
{
	struct daemon_fixture *f = *state;
	struct katib_options opt = { .state_dir = f->dir };
	struct kb_error err = { 0 };
	char *s;

	s = mount_events(f->k);
	assert_has(s, " katibfs " KATIBFS_VERSION " started (pid ");
	assert_has(s, "backend local, state ");
	free(s);
	assert_int_equal(katib_mkdir(f->k, "Bad", &err), -EINVAL);
	assert_int_equal(katib_mkdir(f->k, "events", &err), -EINVAL);
	assert_int_equal(katib_mkdir(f->k, "good", &err), 0);
	s = mount_events(f->k);
	assert_has(s, "rejected mkdir Bad: not a valid name; an experiment "
		      "name is 1 to 40 characters");
	assert_has(s, "rejected mkdir events: that is the mount's own events "
		      "file");
	assert_int_equal(count(s, "rejected mkdir"), 2);
	free(s);
	katib_close(f->k);
	assert_int_equal(katib_open(&opt, &f->k, NULL), 0);
	s = mount_events(f->k);
	assert_int_equal(count(s, " started (pid "), 2);
	assert_has(s, "katibfs stopped (pid ");
	assert_has(s, "no trial was running\n");
	assert_int_equal(count(s, "did not stop cleanly"), 0);
	assert_int_equal(count(s, "after the restart"), 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_spec, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failures_and_goal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_and_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_readopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mount_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trial_timeout, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
