/*
 * katibfs-shim - the supervisor of one local trial (see
 * include/katib/executor.h for the protocol).
 *
 * A small static program, so that starting it costs the daemon one
 * vfork+exec rather than a fork of its whole address space. The daemon
 * starts it in a new session with the trial's environment and fd 3 open on
 * the trial's `supervisor` record, locked (flock) before the spawn: the
 * lock lives as long as this process, which is how a daemon mounted later
 * tells a running trial from an ended one.
 *
 *   katibfs-shim LOG CWD EXE -- ARGV0 ARGS...
 *
 * It forks the trial into its own process group (stdin /dev/null, stdout
 * and stderr appended to LOG, in CWD), writes "pid <self> <trial>", then
 * waits: SIGTERM/SIGINT/SIGHUP are forwarded to the trial's group as
 * SIGTERM, SIGUSR1 as SIGKILL. When the trial ends it kills what is left of
 * its group and writes "exit <code> <signal>" (code 128+signal when killed
 * by one).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECORD_FD 3

extern char **environ;

static void record(const char *word, long a, long b)
{
	dprintf(RECORD_FD, "%s %ld %ld\n", word, a, b);
}

static void run_trial(const char *log, const char *cwd, const char *exe,
		      char **argv)
{
	struct sigaction dfl;
	sigset_t none;
	int fd, sig;

	setpgid(0, 0);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (fd > 2)
		close(fd);
	close(RECORD_FD);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(cwd))
		dprintf(2, "katibfs: cannot enter %s: %s\n", cwd,
			strerror(errno));
	else
		execve(exe, argv, environ);
	dprintf(2, "katibfs: cannot execute %s: %s\n", exe, strerror(errno));
	_exit(127);
}

int main(int argc, char **argv)
{
	int status = 0, code, sig;
	siginfo_t info;
	sigset_t set;
	pid_t child;

	if (argc < 6 || strcmp(argv[4], "--")) {
		fprintf(stderr, "usage: katibfs-shim LOG CWD EXE -- ARGV...\n"
				"(started by katibfs for each local trial)\n");
		return 2;
	}
	syscall(SYS_close_range, RECORD_FD + 1, ~0U, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	child = fork();
	if (child < 0) {
		record("exit", 127, 0);
		return 1;
	}
	if (child == 0)
		run_trial(argv[1], argv[2], argv[3], argv + 5);
	record("pid", (long)getpid(), (long)child);
	for (;;) {
		if (sigwaitinfo(&set, &info) < 0)
			continue;
		if (info.si_signo == SIGUSR1)
			kill(-child, SIGKILL);
		else if (info.si_signo != SIGCHLD)
			kill(-child, SIGTERM);
		else if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	kill(-child, SIGKILL); /* what is left of the trial's group */
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	record("exit", sig ? 128 + sig : code, sig);
	return 0;
}
