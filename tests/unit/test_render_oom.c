/*
 * test_render_oom.c - every file katib_render() makes (core/views/render.c)
 * when an allocation fails: -ENOMEM and no text at all (never a part of
 * one), nothing leaked, and the next render whole again. The same for the
 * texts open files read (katib_open_text), and for trials.csv with its
 * kept rows (core/util/chunks.h) rebuilt from nothing at each try.
 *
 * The failure is injected: the binary is linked with ld --wrap for malloc,
 * calloc, realloc, free, strdup and strndup (Makefile), so the library's
 * calls come here, and cJSON allocates through hooks set here. For each
 * file the n-th allocation of a render fails, for n = 1, 2, ... until a
 * render makes fewer than n. Only the test thread's allocations are
 * counted and tracked (the controller thread runs meanwhile, untouched).
 * Not covered: what glibc allocates for itself (asprintf, stdio).
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

#include <cjson/cJSON.h>

#include "katib/katib.h"
#include "engine/daemon.h"

#include "daemon_test_util.h"
#include "fixtures.h"

#define MAX_LIVE  4096 /* allocations of one render still live, at most */
#define MAX_ALLOC 2000 /* allocations of one render, at most */

/* ---- the allocator ---- */

static _Thread_local int test_thread; /* untrack what this thread frees */
static _Thread_local int armed;	      /* count and track its allocations */
static _Thread_local long fail_at;    /* fail the fail_at-th (0: none) */
static _Thread_local long nallocs;
static _Thread_local int failed; /* the failure was injected */
static void *live[MAX_LIVE];	 /* the test thread's alone */
static size_t nlive;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static int fail_now(void)
{
	if (!armed)
		return 0;
	if (++nallocs != fail_at)
		return 0;
	failed = 1;
	return 1;
}

static void *track(void *p)
{
	if (armed && p) {
		if (nlive == MAX_LIVE)
			abort(); /* cmocka cannot fail from here */
		live[nlive++] = p;
	}
	return p;
}

static void untrack(void *p)
{
	size_t i;

	if (!test_thread || !p)
		return;
	for (i = 0; i < nlive; i++)
		if (live[i] == p) {
			live[i] = live[--nlive];
			return;
		}
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : track(__real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : track(__real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (fail_now())
		return NULL;
	q = __real_realloc(p, n);
	if (q) {
		untrack(p);
		track(q);
	}
	return q;
}

void __wrap_free(void *p)
{
	untrack(p);
	__real_free(p);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : track(__real_strdup(s));
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : track(__real_strndup(s, n));
}

/* cJSON's (a library of its own, so not wrapped by the linker). */
static void *json_malloc(size_t n)
{
	return __wrap_malloc(n);
}

static void json_free(void *p)
{
	__wrap_free(p);
}

/* ---- the test ---- */

/* Minimize loss, maximize acc (katibfs/objectives: pareto.csv too). */
static const char spec_fmt[] =
	"apiVersion: kubeflow.org/v1beta1\n"
	"kind: Experiment\n"
	"metadata:\n"
	"  name: %s\n"
	"  annotations:\n"
	"    katibfs/objectives: \"acc=maximize\"\n"
	"spec:\n"
	"  objective:\n"
	"    type: minimize\n"
	"    objectiveMetricName: loss\n"
	"    additionalMetricNames: [acc]\n"
	"  algorithm:\n"
	"    algorithmName: random\n"
	"  parallelTrialCount: 2\n"
	"  maxTrialCount: 4\n"
	"  maxFailedTrialCount: 1\n"
	"  parameters:\n"
	"    - name: x\n"
	"      parameterType: double\n"
	"      feasibleSpace: {min: \"-2\", max: \"2\"}\n"
	"    - name: opt\n"
	"      parameterType: categorical\n"
	"      feasibleSpace: {list: [sgd, \"a,b\"]}\n"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - {name: x, reference: x}\n"
	"      - {name: opt, reference: opt}\n"
	"    trialSpec:\n" FIXTURE_JOB_SHELL(
		"echo loss=${trialParameters.x} acc=${trialParameters.x} "
		"opt=${trialParameters.opt}");

static int setup(void **state)
{
	struct daemon_fixture *f;
	struct kb_error err = { 0 };
	char spec[4096];
	int n;

	cJSON_InitHooks(&(cJSON_Hooks){ json_malloc, json_free });
	test_thread = 1;
	f = daemon_start("oom", NULL);
	n = snprintf(spec, sizeof(spec), spec_fmt, "oom");
	assert_int_equal(katib_mkdir(f->k, "oom", &err), 0);
	assert_int_equal(katib_write_spec(f->k, "oom", spec, (size_t)n, &err),
			 0);
	assert_int_equal(katib_wait_finished(f->k, "oom", 20000), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	daemon_stop(*state);
	cJSON_InitHooks(NULL);
	return 0;
}

/* Render f of trial (0: the experiment's) with its n-th allocation
 * failing: 1 if that allocation came (and the render held up), 0 if the
 * render made fewer. With cold, trials.csv's kept rows are built again
 * during the try and forgotten after it (what a try leaves there is the
 * experiment's, not a leak). */
static void csv_forget(struct katib *k);
static void cold_after(struct katib *k, int cold, int rc, const char *whole);

/* Count this thread's allocations from now, the n-th failing. */
static void arm(struct katib *k, long n, int cold)
{
	if (cold)
		csv_forget(k);
	nlive = 0;
	nallocs = 0;
	failed = 0;
	fail_at = n;
	armed = 1;
}

/* Stop counting: 1 if the failure came. */
static int disarm(void)
{
	armed = 0;
	return failed;
}

/* After a try: nothing of it is left allocated. */
static void settle(struct katib *k, int cold, int rc, const char *whole,
		   const char *what, enum kfile f, long n)
{
	cold_after(k, cold, rc, whole);
	if (nlive)
		fail_msg("%s %s with allocation %ld failing: %zu "
			 "allocation(s) leaked",
			 what, kfile_name(f), n, nlive);
}

static int render_failing(struct katib *k, int trial, enum kfile f, long n,
			  const char *whole, int cold)
{
	char *out = NULL;
	size_t len = 0;
	int rc, hit;

	arm(k, n, cold);
	rc = katib_render(k, "oom", trial, f, &out, &len);
	hit = disarm();
	if (rc == 0 && strcmp(out, whole))
		fail_msg("%s with allocation %ld failing: %d bytes of %d:\n%s",
			 kfile_name(f), n, (int)len, (int)strlen(whole), out);
	if (rc == 0 && !hit)
		assert_int_equal(len, strlen(whole));
	if (rc && (rc != -ENOMEM || out))
		fail_msg("%s with allocation %ld failing: %d, %s",
			 kfile_name(f), n, rc, out ? "and a text" : "no text");
	free(out);
	settle(k, cold, rc, whole, "render", f, n);
	return hit;
}

/* Forget trials.csv's kept rows (freed here, so untracked). */
static void csv_forget(struct katib *k)
{
	struct experiment *e;

	pthread_mutex_lock(&k->lock);
	e = katib_find_locked(k, "oom");
	assert_non_null(e);
	trials_csv_cache_reset(&e->csv);
	pthread_mutex_unlock(&k->lock);
}

/* After a cold try: what a failed one kept of trials.csv's rows is whole
 * rows (the next render, from them, is right); then forget them. */
static void cold_after(struct katib *k, int cold, int rc, const char *whole)
{
	char *again;

	if (!cold)
		return;
	if (rc) {
		again = daemon_render(k, "oom", 0, KFILE_TRIALS_CSV);
		if (strcmp(again, whole))
			fail_msg("trials.csv after a failed try: %s", again);
		free(again);
	}
	csv_forget(k);
}

/* katib_open_text's text, read whole in odd-sized pieces. */
static char *text_read_all(const struct katib_text *t)
{
	size_t size = katib_text_size(t), got = 0, n;
	char *buf = __real_malloc(size + 1);

	assert_non_null(buf);
	while ((n = katib_text_read(t, buf + got, 7, (off_t)got)))
		got += n;
	assert_int_equal(got, size);
	assert_int_equal(katib_text_read(t, buf, 7, (off_t)size + 3), 0);
	buf[got] = '\0';
	return buf;
}

/* katib_open_text as render_failing does katib_render (cold the same). */
static int open_failing(struct katib *k, int trial, enum kfile f, long n,
			const char *whole, int cold)
{
	struct katib_text *t = NULL;
	char *text;
	int rc, hit;

	arm(k, n, cold);
	rc = katib_open_text(k, "oom", trial, f, &t);
	hit = disarm();
	if (rc == 0) {
		text = text_read_all(t);
		if (strcmp(text, whole))
			fail_msg("open %s with allocation %ld failing: %s",
				 kfile_name(f), n, text);
		__real_free(text);
	}
	if (rc && (rc != -ENOMEM || t))
		fail_msg("open %s with allocation %ld failing: %d, %s",
			 kfile_name(f), n, rc, t ? "and a text" : "no text");
	katib_text_free(t);
	settle(k, cold, rc, whole, "open", f, n);
	return hit;
}

enum how { RENDER, OPEN, RENDER_COLD, OPEN_COLD };

static int try_failing(enum how how, struct katib *k, int trial, enum kfile f,
		       long n, const char *whole)
{
	switch (how) {
	case RENDER: return render_failing(k, trial, f, n, whole, 0);
	case OPEN: return open_failing(k, trial, f, n, whole, 0);
	case RENDER_COLD: return render_failing(k, trial, f, n, whole, 1);
	default: return open_failing(k, trial, f, n, whole, 1);
	}
}

static void check_file_how(struct katib *k, int trial, enum kfile f,
			   enum how how)
{
	static const char *const names[] = { "render", "open", "render cold",
					     "open cold" };
	char *whole = daemon_render(k, "oom", trial, f), *again;
	long n = 1;

	while (try_failing(how, k, trial, f, n, whole))
		if (++n > MAX_ALLOC)
			fail_msg("%s: more than %d allocations", kfile_name(f),
				 MAX_ALLOC);
	again = daemon_render(k, "oom", trial, f);
	assert_string_equal(again, whole);
	printf("%-11s %-16s %3ld allocation(s), each failing in turn: "
	       "-ENOMEM\n",
	       names[how], kfile_name(f), n - 1);
	free(again);
	free(whole);
}

static void check_file(struct katib *k, int trial, enum kfile f)
{
	check_file_how(k, trial, f, RENDER);
	check_file_how(k, trial, f, OPEN);
}

/* Every file the daemon renders (plot.svg and README aside), of the
 * experiment (trial 0) and of its trial 1. */
static const struct {
	int trial;
	enum kfile f;
} files[] = {
	{ 0, KFILE_SPEC },	  { 0, KFILE_STATUS },
	{ 0, KFILE_STATUS_JSON }, { 0, KFILE_CONTROL },
	{ 0, KFILE_BEST },	  { 0, KFILE_TRIALS_CSV },
	{ 0, KFILE_EVENTS },	  { 0, KFILE_QUEUE },
	{ 0, KFILE_PARETO_CSV },  { 0, KFILE_IMPORTANCE },
	{ 1, KFILE_T_PARAMS },	  { 1, KFILE_T_PARAMS_JSON },
	{ 1, KFILE_T_METRICS },	  { 1, KFILE_T_OBSERVATIONS },
	{ 1, KFILE_T_STATUS },	  { 1, KFILE_T_SPEC },
	{ 1, KFILE_T_CONTROL },
};

static void test_every_file(void **state)
{
	struct daemon_fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_file(f->k, files[i].trial, files[i].f);
}

/* trials.csv's rows kept in chunks, built from nothing under failures:
 * the rows a failed try kept are whole, and the text always right. */
static void test_trials_csv_cold(void **state)
{
	struct daemon_fixture *f = *state;

	check_file_how(f->k, 0, KFILE_TRIALS_CSV, RENDER_COLD);
	check_file_how(f->k, 0, KFILE_TRIALS_CSV, OPEN_COLD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_file),
		cmocka_unit_test(test_trials_csv_cold),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
