/*
 * test_rmdir_wait.c - rmdir waits for its deletion to reach the disk with
 * the model lock dropped (core/engine/requests.c, delete_on_disk): readers
 * go on meanwhile and still see the experiment; a request that would
 * change it (a control write, a mkdir of the same name) waits for the
 * outcome, as it waited for the lock before, and then finds it gone; if
 * the write failed, the experiment stays and the request goes on with it.
 *
 * Deterministic: the binary is linked with -Wl,--wrap=store_sync
 * (Makefile), and the wrapper holds the thread that armed it (the rmdir's)
 * in its first store_sync until the test releases it. A request that must
 * wait is checked not to have returned for HOLD_MS, far longer than it
 * takes without the wait (microseconds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "katib/katib.h"
#include "engine/store.h"

#include "daemon_test_util.h"

#define WAIT_MS 20000 /* a wait that passes this fails the test */
#define HOLD_MS 300   /* a request that must wait has not returned by then */

/* ---- the wrapper ---- */

int __real_store_sync(struct store *s, uint64_t mark);
int __wrap_store_sync(struct store *s, uint64_t mark);

static _Thread_local int hold_here; /* this thread's next sync is held */
static pthread_mutex_t hlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hcond = PTHREAD_COND_INITIALIZER;
static int held, released, fail_with;

int __wrap_store_sync(struct store *s, uint64_t mark)
{
	int rc = __real_store_sync(s, mark);

	if (!hold_here)
		return rc;
	hold_here = 0;
	pthread_mutex_lock(&hlock);
	held = 1;
	pthread_cond_broadcast(&hcond);
	while (!released)
		pthread_cond_wait(&hcond, &hlock);
	pthread_mutex_unlock(&hlock);
	return fail_with ? fail_with : rc;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait for flag (under hlock) up to ms: 1 if it came. */
static int wait_flag(const int *flag, int ms)
{
	struct timespec until;
	int got;

	deadline_in(&until, ms);
	pthread_mutex_lock(&hlock);
	while (!*flag && pthread_cond_timedwait(&hcond, &hlock, &until) == 0)
		;
	got = *flag;
	pthread_mutex_unlock(&hlock);
	return got;
}

static void release(void)
{
	pthread_mutex_lock(&hlock);
	released = 1;
	pthread_cond_broadcast(&hcond);
	pthread_mutex_unlock(&hlock);
}

/* ---- the calls, each in a thread of its own ---- */

enum call { RMDIR, CONTROL, MKDIR, READ };

struct job {
	struct katib *k;
	enum call call;
	int rc, done;
	pthread_t thread;
};

/* 0 if status renders and shows the experiment as it was */
static int read_status(struct katib *k)
{
	char *out = NULL;
	size_t len;
	int rc = katib_render(k, "gone", 0, KFILE_STATUS, &out, &len);

	if (!rc && !strstr(out, "state=Created"))
		rc = -EINVAL;
	free(out);
	return rc;
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct kb_error err = { 0 };
	int rc;

	switch (j->call) {
	case RMDIR:
		hold_here = 1;
		rc = katib_rmdir(j->k, "gone", &err);
		break;
	case CONTROL:
		rc = katib_write_control(j->k, "gone", "pause\n", 6, &err);
		break;
	case MKDIR: rc = katib_mkdir(j->k, "gone", &err); break;
	default: rc = read_status(j->k); break;
	}
	pthread_mutex_lock(&hlock);
	j->rc = rc;
	j->done = 1;
	pthread_cond_broadcast(&hcond);
	pthread_mutex_unlock(&hlock);
	return NULL;
}

static void start(struct job *j, struct katib *k, enum call call)
{
	j->k = k;
	j->call = call;
	j->done = 0;
	assert_int_equal(pthread_create(&j->thread, NULL, run_job, j), 0);
}

static int finish(struct job *j)
{
	if (!wait_flag(&j->done, WAIT_MS))
		fail_msg("call %d did not return within %d ms", j->call,
			 WAIT_MS);
	pthread_join(j->thread, NULL);
	return j->rc;
}

/* rmdir held in its store wait, a request `call` started meanwhile: it
 * waits (a reader does not). */
static void hold_rmdir(struct daemon_fixture *f, struct job *rm,
		       struct job *req, enum call call)
{
	struct kb_error err = { 0 };
	struct job rd;

	held = released = 0;
	assert_int_equal(katib_mkdir(f->k, "gone", &err), 0);
	start(rm, f->k, RMDIR);
	if (!wait_flag(&held, WAIT_MS))
		fail_msg("rmdir never waited for the store");
	/* a reader does not wait, and sees the experiment still */
	start(&rd, f->k, READ);
	assert_int_equal(finish(&rd), 0);
	start(req, f->k, call);
	if (wait_flag(&req->done, HOLD_MS))
		fail_msg("a request on the experiment did not wait for rmdir");
}

/* rmdir with the store's write ending in fail (0: written), and a request
 * `call` made meanwhile: what each returns. */
static void removal(int fail, enum call call, int rmdir_rc, int call_rc)
{
	struct daemon_fixture *f = daemon_start("rmdirwait", NULL);
	struct job rm, req;
	char *status;

	fail_with = fail;
	hold_rmdir(f, &rm, &req, call);
	release();
	assert_int_equal(finish(&rm), rmdir_rc);
	assert_int_equal(finish(&req), call_rc);
	/* there is an experiment of that name only if it stayed or mkdir
	 * made a new one */
	if (fail || call == MKDIR) {
		status = daemon_render(f->k, "gone", 0, KFILE_STATUS);
		assert_non_null(strstr(status, "state=Created"));
		free(status);
	}
	fail_with = 0;
	daemon_stop(f);
}

/* The control write finds it gone (it found a Created experiment to say
 * EBUSY to before the rmdir); a mkdir makes a new one. */
static void test_removed(void **state)
{
	removal(0, CONTROL, 0, -ENOENT);
	removal(0, MKDIR, 0, 0);
}

/* It stays: the control write goes on with it, mkdir finds it. */
static void test_write_failed(void **state)
{
	removal(-EIO, CONTROL, -EIO, -EBUSY);
	removal(-EIO, MKDIR, -EIO, -EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_write_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
