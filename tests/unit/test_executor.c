/*
 * test_executor.c - the local backend (core/backends/executor_local.c): a trial
 * under its supervisor, its exit recorded in the trial directory, signals
 * through the supervisor, adoption by a second observer, start errors; an
 * `sh -c` line of plain words run without the shell, as the shell would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "backends/executor_local.h"

struct fixture {
	char dir[64];
	char log[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/katib-exec-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void command(struct trial_command *c, char **argv, char **env)
{
	memset(c, 0, sizeof(*c));
	c->argv = argv;
	for (c->argc = 0; argv[c->argc]; c->argc++)
		;
	c->env = env;
	for (c->nenv = 0; env && env[c->nenv]; c->nenv++)
		;
}

/* Wait for the supervisor to end and return what the directory says. */
static enum trial_probe wait_end(struct fixture *f, struct trial_run *run,
				 int *code, int *sig)
{
	struct pollfd p = { .fd = run->pidfd, .events = POLLIN };
	enum trial_probe r;
	int i;

	if (run->pidfd >= 0) {
		assert_int_equal(poll(&p, 1, 10000), 1);
		return local_probe(f->dir, run, code, sig);
	}
	/* no pidfd (valgrind does not know pidfd_open): poll the record */
	for (i = 0; i < 1000; i++) {
		r = local_probe(f->dir, run, code, sig);
		if (r != PROBE_RUNNING)
			return r;
		usleep(10000);
	}
	fail_msg("the trial did not end");
	return PROBE_LOST;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_exit_and_log(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c",
			 "echo out $KATIB_TRIAL_NAME $FOO; echo err >&2; "
			 "pwd; exit 7",
			 NULL };
	char *env[] = { "FOO=bar", NULL };
	struct trial_command c;
	struct trial_run run;
	struct kb_error err = { 0 };
	int code = -1, sig = -1;
	char *log;

	command(&c, argv, env);
	assert_int_equal(local_start(&c, "exp-abc", f->dir, f->log, &run, &err),
			 0);
	assert_int_equal(wait_end(f, &run, &code, &sig), PROBE_EXITED);
	assert_int_equal(code, 7);
	assert_int_equal(sig, 0);
	log = slurp(f->log);
	assert_non_null(strstr(log, "out exp-abc bar\n"));
	assert_non_null(strstr(log, "err\n"));
	assert_non_null(strstr(log, f->dir)); /* ran in the trial dir */
	local_release(&run);
}

static void test_terminate(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "sleep 30 & sleep 30; echo never", NULL };
	struct trial_command c;
	struct trial_run run;
	int code = 0, sig = 0;

	command(&c, argv, NULL);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, NULL), 0);
	usleep(100000);
	assert_int_equal(local_probe(f->dir, &run, &code, &sig), PROBE_RUNNING);
	assert_int_equal(local_terminate(&run, 0), 0);
	assert_int_equal(wait_end(f, &run, &code, &sig), PROBE_EXITED);
	assert_int_equal(sig, 15);
	assert_int_equal(code, 128 + 15);
	assert_null(strstr(slurp(f->log), "never"));
	local_release(&run);
}

static void test_adopt(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "sleep 0.5; exit 3", NULL };
	struct trial_command c;
	struct trial_run run, other = { .pidfd = -1 };
	int code = 0, sig = 0;

	command(&c, argv, NULL);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, NULL), 0);
	/* a second observer (a daemon mounted again) finds it running */
	assert_int_equal(local_probe(f->dir, &other, &code, &sig),
			 PROBE_RUNNING);
	assert_int_equal(wait_end(f, &other, &code, &sig), PROBE_EXITED);
	assert_int_equal(code, 3);
	assert_int_equal(local_probe(f->dir, &run, &code, &sig), PROBE_EXITED);
	local_release(&other);
	local_release(&run);
}

static void test_start_errors(void **state)
{
	struct fixture *f = *state;
	char *missing[] = { "no-such-command-katibfs", NULL };
	char *relative[] = { "./nope", NULL };
	struct trial_command c;
	struct trial_run run;
	struct kb_error err = { 0 };
	int code, sig;

	command(&c, missing, NULL);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, &err),
			 -ENOENT);
	assert_non_null(strstr(err.message, "no-such-command-katibfs"));
	assert_int_equal(local_probe(f->dir, &run, &code, &sig),
			 PROBE_NEVER_STARTED);
	command(&c, relative, NULL);
	kb_error_clear(&err);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, &err),
			 -ENOENT);
	c.working_dir = "/no/such/dir";
	kb_error_clear(&err);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, &err),
			 -ENOENT);
	assert_string_equal(err.field, "workingDir");
}

/* A daemon killed between creating the record and forking leaves an empty,
 * unlocked file: the trial never ran and must be started, not lost. */
static void test_empty_record(void **state)
{
	struct fixture *f = *state;
	struct trial_run run = { .pidfd = -1 };
	char path[256];
	int code, sig;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/" SUPERVISOR_FILE, f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(local_probe(f->dir, &run, &code, &sig),
			 PROBE_NEVER_STARTED);
	/* a supervisor that recorded itself and vanished: lost */
	fp = fopen(path, "w");
	fprintf(fp, "pid 12345 12346\n");
	fclose(fp);
	assert_int_equal(local_probe(f->dir, &run, &code, &sig), PROBE_LOST);
}

/* The trial's pid from the supervisor's record, once it is there. */
static pid_t trial_pid(struct fixture *f)
{
	char path[256];
	long shim, trial = 0;
	int i;

	snprintf(path, sizeof(path), "%s/" SUPERVISOR_FILE, f->dir);
	for (i = 0; i < 1000 && !trial; i++) {
		FILE *fp = fopen(path, "r");

		if (fp && fscanf(fp, "pid %ld %ld", &shim, &trial) != 2)
			trial = 0;
		if (fp)
			fclose(fp);
		if (!trial)
			usleep(10000);
	}
	assert_true(trial > 0);
	return (pid_t)trial;
}

/* `sh -c "/bin/sleep 30"`: sleep runs in the shell's place; killed by a
 * signal that was not the supervisor's, it ends as under dash: its log
 * says so and the status is 128+signal, not the signal. */
static void test_plain_line(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", " /bin/sleep  30 ", NULL };
	char exe[PATH_MAX], proc[64], want[PATH_MAX];
	struct trial_command c;
	struct trial_run run;
	int code = 0, sig = -1, i;
	ssize_t n = -1;
	pid_t pid;

	command(&c, argv, NULL);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, NULL), 0);
	pid = trial_pid(f);
	snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pid);
	assert_non_null(realpath("/bin/sleep", want));
	for (i = 0; i < 500; i++) { /* until it has exec'd */
		n = readlink(proc, exe, sizeof(exe) - 1);
		if (n > 0 && (exe[n] = '\0', !strcmp(exe, want)))
			break;
		usleep(10000);
	}
	assert_string_equal(exe, want);
	assert_int_equal(kill(pid, SIGSEGV), 0);
	assert_int_equal(wait_end(f, &run, &code, &sig), PROBE_EXITED);
	assert_int_equal(code, 128 + SIGSEGV);
	assert_int_equal(sig, 0);
	assert_non_null(strstr(slurp(f->log), "Segmentation fault"));
	local_release(&run);
}

/* PWD is set as the shell sets it: the trial's directory, not ours (env's
 * PWD=/ replaced, or PWD added to an environment without one; the fork
 * server decides it before its vfork), the rest of env kept. */
static void plain_line_pwd(struct fixture *f, char **env)
{
	char *argv[] = { "sh", "-c", "/usr/bin/env", NULL };
	char want[256], *log;
	struct trial_command c;
	struct trial_run run;
	int code = -1, sig = -1;

	command(&c, argv, env);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, NULL), 0);
	assert_int_equal(wait_end(f, &run, &code, &sig), PROBE_EXITED);
	assert_int_equal(code, 0);
	snprintf(want, sizeof(want), "\nPWD=%s\n", f->dir);
	log = slurp(f->log);
	assert_true(strstr(log, want) ||
		    !strncmp(log, want + 1, strlen(want + 1)));
	assert_non_null(strstr(log, "KEEP=1"));
	local_release(&run);
}

static void test_plain_line_pwd(void **state)
{
	char *env[] = { "KEEP=1", "PWD=/", NULL };

	plain_line_pwd(*state, env);
}

static void test_plain_line_no_pwd(void **state)
{
	char *env[] = { "KEEP=1", NULL };

	plain_line_pwd(*state, env);
}

/* A plain trial is supervised by the fork server itself ("pid <trial>
 * <trial> <server>"); a second observer (a daemon mounted again, with no
 * socket to that server) stops it through the server, which forwards the
 * signal to the trial's group as its own supervisor: the exit is the
 * shell's, killed by SIGTERM, and the log says nothing of it. */
static void test_plain_adopted_terminate(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "/bin/sleep 30", NULL };
	struct trial_command c;
	struct trial_run run, other = { .pidfd = -1 };
	int code = 0, sig = 0;
	char path[256];
	long a = 0, b = 0, server = 0;
	pid_t trial = 0;
	FILE *fp;

	command(&c, argv, NULL);
	assert_int_equal(local_start(&c, "t", f->dir, f->log, &run, NULL), 0);
	trial = trial_pid(f);
	snprintf(path, sizeof(path), "%s/" SUPERVISOR_FILE, f->dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "pid %ld %ld %ld", &a, &b, &server), 3);
	fclose(fp);
	assert_int_equal(a, trial);
	assert_int_equal(b, trial);
	assert_true(server > 0 && server != getpid());
	assert_int_equal(local_probe(f->dir, &other, &code, &sig),
			 PROBE_RUNNING);
	assert_int_equal(local_terminate(&other, 0), 0);
	assert_int_equal(wait_end(f, &other, &code, &sig), PROBE_EXITED);
	assert_int_equal(sig, 15);
	assert_int_equal(code, 128 + 15);
	assert_null(strstr(slurp(f->log), "Terminated"));
	assert_int_equal(local_probe(f->dir, &run, &code, &sig), PROBE_EXITED);
	local_release(&other);
	local_release(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_and_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_terminate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plain_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plain_line_pwd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plain_line_no_pwd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plain_adopted_terminate,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
