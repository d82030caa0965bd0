/*
 * fuzz_control.c - libFuzzer harness for the control-word parser and the
 * push-metrics path, driven through the public API (katib.h): the parser
 * is static inside core/engine/requests.c.
 *
 * One struct katib for the whole run (katib_open starts the controller
 * thread), on a temporary state directory made in LLVMFuzzerInitialize and
 * removed at exit. Two experiments:
 *   "idle"     created with katib_mkdir only: every word is parsed and
 *              refused (-EBUSY / -EINVAL), fully deterministic;
 *   "run-<g>"  a running Push experiment whose trial sleeps.
 * Byte 0 of the input picks the target, the rest (at most MAX_TEXT bytes)
 * is written:
 *   0: katib_write_control("idle")
 *   1: katib_write_control("run-<g>")
 *   2: katib_write_trial_control("run-<g>", running trial)
 *   3: katib_push_metrics("run-<g>", running trial)
 *   4: katib_write_trial_control / katib_push_metrics on trial numbers
 *      that do not exist, and on experiment names from the input
 * After each input the harness puts things back: a paused experiment is
 * resumed, a stopped one replaced by a new generation, a killed trial
 * followed to the next one, so that every input starts from the same
 * state (the trial number and generation aside).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "katib/katib.h"
#include "../unit/fixtures.h"

#define MAX_TEXT   8192 /* a bit over the parser's 4096 limit */
#define MAX_TRIALS 64	/* per generation, then a fresh one */
#define MAX_PUSHES 2000 /* per trial, then a fresh one */
#define WAIT_MS	   20000

/* clang-format off */
static const char spec_fmt[] =
	FIXTURE_HEAD_FMT
	"    additionalMetricNames: [accuracy]\n"
	"  metricsCollectorSpec:\n"
	"    collector:\n"
	"      kind: Push\n"
	"  algorithm:\n"
	"    algorithmName: random\n"
	"  parallelTrialCount: 1\n"
	FIXTURE_X_JOB("[sh, -c, \"exec sleep 300\", \"${trialParameters.x}\"]")
	"            restartPolicy: Never\n";
/* clang-format on */

static struct katib *k;
static char state_dir[64];
static char run_exp[32];
static int gen, cur_trial, ntrials_gen;
static unsigned long pushes;

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_control: %s: %d (%s)\n", what, rc,
		strerror(rc < 0 ? -rc : rc));
	abort();
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The value of key= in a status file, into buf ("" if absent). */
static void status_value(const char *exp, int trial, const char *key, char *buf,
			 size_t size)
{
	enum kfile f = trial ? KFILE_T_STATUS : KFILE_STATUS;
	char *text = NULL, *p, *end;
	size_t len, klen = strlen(key);

	buf[0] = '\0';
	if (katib_render(k, exp, trial, f, &text, &len))
		return;
	for (p = text; p && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			end = strchr(p, '\n');
			snprintf(buf, size, "%.*s",
				 (int)(end ? end - p : (long)strlen(p)), p);
			break;
		}
	}
	free(text);
}

/* The newest trial of exp, or 0. */
static int last_trial(const char *exp)
{
	int *nums = NULL, last = 0;
	size_t n = 0;

	if (katib_list_trials(k, exp, &nums, &n) == 0 && n)
		last = nums[n - 1];
	free(nums);
	return last;
}

/* A fresh generation: a new running experiment with a running trial. */
static void new_generation(void)
{
	char spec[4096], old[32];
	struct kb_error err;
	int n, rc;

	snprintf(old, sizeof(old), "%s", run_exp);
	if (old[0]) {
		katib_write_control(k, old, "stop", 4, NULL);
		/* Deleted once its trials are gone; a leftover is harmless. */
		for (n = 0; n < 200; n++) {
			if (katib_rmdir(k, old, NULL) != -EBUSY)
				break;
			sleep_ms(10);
		}
	}
	snprintf(run_exp, sizeof(run_exp), "run-%d", ++gen);
	rc = katib_mkdir(k, run_exp, NULL);
	if (rc)
		die("katib_mkdir", rc);
	n = snprintf(spec, sizeof(spec), spec_fmt, run_exp);
	kb_error_clear(&err);
	rc = katib_write_spec(k, run_exp, spec, (size_t)n, &err);
	if (rc) {
		fprintf(stderr, "%s (line %d)\n", err.message, err.line);
		die("katib_write_spec", rc);
	}
	cur_trial = 0;
	ntrials_gen = 0;
}

/* Wait until the newest trial of run_exp is Running and newer than
 * `after`; it becomes cur_trial. */
static void wait_trial(int after)
{
	char st[64];
	int t, ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		t = last_trial(run_exp);
		if (t > after) {
			status_value(run_exp, t, "state", st, sizeof(st));
			if (!strcmp(st, "Running")) {
				cur_trial = t;
				ntrials_gen++;
				pushes = 0;
				return;
			}
		}
		sleep_ms(1);
	}
	status_value(run_exp, 0, "state", st, sizeof(st));
	fprintf(stderr, "experiment %s is %s\n", run_exp, st);
	die("no running trial", -ETIMEDOUT);
}

/* Back to: run_exp Running with cur_trial Running. */
static void restore(int trial_gone)
{
	char st[64];

	status_value(run_exp, 0, "state", st, sizeof(st));
	if (!strcmp(st, "Paused")) {
		katib_write_control(k, run_exp, "resume", 6, NULL);
		status_value(run_exp, 0, "state", st, sizeof(st));
	}
	if (strcmp(st, "Running") || ntrials_gen >= MAX_TRIALS) {
		new_generation();
		wait_trial(0);
		return;
	}
	if (!trial_gone && pushes >= MAX_PUSHES) {
		katib_write_trial_control(k, run_exp, cur_trial, "kill", 4,
					  NULL);
		trial_gone = 1;
	}
	if (!trial_gone) {
		status_value(run_exp, cur_trial, "state", st, sizeof(st));
		trial_gone = strcmp(st, "Running") != 0;
	}
	if (trial_gone)
		wait_trial(cur_trial);
}

static void cleanup(void)
{
	char cmd[128];

	if (k)
		katib_close(k);
	k = NULL;
	if (state_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", state_dir);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct katib_options opt = { 0 };
	struct kb_error err;
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	int rc;

	snprintf(state_dir, sizeof(state_dir), "%s/katibfs-fuzz-XXXXXX", base);
	if (!mkdtemp(state_dir))
		die("mkdtemp", -errno);
	opt.state_dir = state_dir;
	kb_error_clear(&err);
	rc = katib_open(&opt, &k, &err);
	if (rc) {
		fprintf(stderr, "%s\n", err.message);
		die("katib_open", rc);
	}
	atexit(cleanup);
	rc = katib_mkdir(k, "idle", NULL);
	if (rc)
		die("katib_mkdir idle", rc);
	new_generation();
	wait_trial(0);
	return 0;
}

static void check_err(int rc, const struct kb_error *err)
{
	/* A refused write must say why; -ENOENT comes from lookups. */
	if (rc && rc != -ENOENT && !err->message[0])
		die("write refused without a message", rc);
	if (rc > 0)
		die("positive return", rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	struct kb_error err;
	char name[48];
	size_t len;
	int rc, gone = 0;

	if (size < 1)
		return 0;
	len = size - 1 > MAX_TEXT ? MAX_TEXT : size - 1;
	kb_error_clear(&err);
	switch (data[0] % 5) {
	case 0:
		rc = katib_write_control(k, "idle", text, len, &err);
		if (!rc)
			die("idle experiment accepted a control write", rc);
		check_err(rc, &err);
		return 0;
	case 1: rc = katib_write_control(k, run_exp, text, len, &err); break;
	case 2:
		rc = katib_write_trial_control(k, run_exp, cur_trial, text, len,
					       &err);
		gone = rc == 0;
		break;
	case 3:
		rc = katib_push_metrics(k, run_exp, cur_trial, text, len, &err);
		pushes++;
		break;
	default:
		rc = katib_write_trial_control(k, run_exp, cur_trial + 1000,
					       text, len, &err);
		if (rc != -ENOENT)
			die("trial control on a missing trial", rc);
		rc = katib_push_metrics(k, run_exp, -(int)len, text, len, &err);
		if (rc != -ENOENT)
			die("push to a missing trial", rc);
		/* The text as an experiment name: must not be found (or be
		 * one of ours), never crash. */
		snprintf(name, sizeof(name), "%.*s", (int)(len < 47 ? len : 47),
			 text);
		kb_error_clear(&err);
		rc = katib_write_control(k, name, "resume", 6, &err);
		if (rc == 0 && strcmp(name, run_exp))
			die("control on an unknown experiment", rc);
		check_err(rc, &err);
		kb_error_clear(&err);
		rc = katib_push_metrics(k, name, 1, "loss=1", 6, &err);
		check_err(rc, &err);
		restore(0);
		return 0;
	}
	check_err(rc, &err);
	restore(gone);
	return 0;
}
