/*
 * spawn_server.c - katibfs-shim --serve: the daemon's fork server.
 *
 * Exec'ing katibfs-shim for every trial cost the daemon's controller about
 * as much as the trial's own program (a vfork that waits for the exec, then
 * the static program's start). This process is that exec done once: the
 * daemon starts it in a session of its own with fd 3 on a socketpair, and
 * for each trial sends the supervisor's argv, environment and locked
 * record (core/backends/supervisor/spawn_proto.h); it forks, and the child
 * becomes exactly the supervisor katibfs-shim would have been (supervise()
 * in a new session, fd 3 on the record, default signals, an empty mask).
 * The reply carries a pidfd of the child, taken before this process can
 * reap it, so it names that process and no other.
 *
 * It holds nothing a trial needs: every supervisor is a process of its own
 * that holds its record's lock and records the exit, as before, so a
 * daemon (or this server) killed with SIGKILL leaves every trial running
 * and re-adoptable. It reaps its children (signalfd) and exits when the
 * daemon's end of the socket closes. Owns the request being served only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"
#include "spawn_proto.h"

#define SOCK_FD 3

extern char **environ;

static int read_full(char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(SOCK_FD, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* n strings from *p (within end) as a NULL-terminated vector, or NULL. */
static char **strings(char **p, const char *end, uint32_t n)
{
	char **v = calloc((size_t)n + 1, sizeof(char *));
	uint32_t i;

	for (i = 0; v && i < n; i++) {
		char *nul = memchr(*p, '\0', (size_t)(end - *p));

		if (!nul) {
			free(v);
			return NULL;
		}
		v[i] = *p;
		*p = nul + 1;
	}
	return v;
}

static void send_reply(int err, pid_t pid, int pidfd)
{
	struct spawn_reply r = { .err = err, .pid = pid };

	spawn_send(SOCK_FD, &r, sizeof(r), pidfd);
}

/* In the child: what posix_spawn with SETSID, SETSIGMASK and SETSIGDEF
 * gave the supervisor, then the supervisor itself. */
static void become_supervisor(int record, int sfd, char **argv, int argc,
			      char **envp)
{
	sigset_t none;

	sigemptyset(&none);
	close(sfd);
	if (dup2(record, SOCK_FD) < 0) /* the socket goes */
		_exit(127);
	if (record != SOCK_FD)
		close(record);
	setsid();
	/* the server was spawned with every signal default (SETSIGDEF) and
	 * changed only these two */
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = envp;
	_exit(supervise(argc, argv));
}

/* One request: fork its supervisor and reply. 1 when the daemon has gone. */
static int serve_one(int sfd)
{
	struct spawn_request h;
	char *data = NULL, *p, **argv = NULL, **envp = NULL;
	int record, err = 0, pidfd = -1;
	pid_t pid = -1;
	ssize_t n = spawn_recv(SOCK_FD, &h, sizeof(h), &record);

	if (n <= 0)
		return 1;
	if (n != sizeof(h) || h.magic != SPAWN_MAGIC || h.len > SPAWN_MAX_LEN ||
	    !h.argc || record < 0) {
		err = EPROTO;
		goto reply;
	}
	data = malloc((size_t)h.len + 1);
	if (!data || read_full(data, h.len)) {
		free(data);
		if (record >= 0)
			close(record);
		return 1; /* out of step with the daemon: it starts another */
	}
	p = data;
	argv = strings(&p, data + h.len, h.argc);
	envp = argv ? strings(&p, data + h.len, h.envc) : NULL;
	if (!envp) {
		err = argv ? ENOMEM : EPROTO;
		goto reply;
	}
	pid = fork();
	if (pid == 0)
		become_supervisor(record, sfd, argv, (int)h.argc, envp);
	if (pid < 0)
		err = errno;
	else
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
reply:
	send_reply(err, pid, pidfd);
	if (pidfd >= 0)
		close(pidfd);
	if (record >= 0)
		close(record); /* the supervisor holds the lock now */
	free(envp);
	free(argv);
	free(data);
	return 0;
}

int spawn_serve(void)
{
	struct pollfd p[2];
	sigset_t chld;
	int sfd;

	syscall(SYS_close_range, SOCK_FD + 1, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return 1;
	p[0].fd = SOCK_FD;
	p[1].fd = sfd;
	for (;;) {
		struct signalfd_siginfo si;

		p[0].events = p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents) {
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
		if (p[0].revents && serve_one(sfd))
			return 0;
	}
}
