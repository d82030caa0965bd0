/*
 * spawn_client.c - the daemon's end of its fork server, katibfs-shim
 * --serve (core/backends/supervisor/spawn_server.c, spawn_proto.h).
 *
 * One server per process, started at the first request: posix_spawn
 * of katibfs-shim in a session of its own, fd 3 on the other end of a
 * socketpair. A plain trial is then forked by that small static process,
 * which supervises it itself; any other trial's supervisor is a fork of it
 * instead of a vfork+exec of the program from the daemon, which kept the
 * controller waiting for the exec. The server ends when this process's end
 * of the socket has closed and its own trials have been recorded; the
 * supervisors it forked run on. Owns the server's pid and socket (struct
 * server, under its mutex).
 */
#include "backends/spawn_client.h"
#include "supervisor/spawn_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SERVER_REPLY_MS 10000 /* a fork server that says nothing is gone */

extern char **environ;

static int setup_attr(posix_spawnattr_t *attr)
{
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	rc = posix_spawnattr_init(attr);
	if (!rc)
		rc = posix_spawnattr_setflags(
			attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
				      POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawnattr_setsigmask(attr, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(attr, &all);
	return rc;
}

static int setup_files(posix_spawn_file_actions_t *fa, int record_fd)
{
	int rc = posix_spawn_file_actions_init(fa);

	if (!rc)
		rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null",
						      O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(fa, 1, "/dev/null",
						      O_WRONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, 1, 2);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, record_fd, 3);
	return rc;
}

/*
 * One per process, started at the first trial: katibfs-shim --serve in a
 * session of its own, on the other end of server.sock. It ends when that
 * socket closes (this process gone): supervisors forked from it run on.
 */
static struct {
	pthread_mutex_t lock;
	pid_t pid;
	int sock;
	unsigned generation; /* counts the servers started */
} server = { PTHREAD_MUTEX_INITIALIZER, 0, -1, 0 };

/* Our end closes: the server takes no more requests and exits once its
 * own trials are recorded (never killed: it supervises them). Reaped
 * here if it has already gone, else left to init once we exit. */
static void server_stop(void)
{
	if (server.sock >= 0)
		close(server.sock);
	if (server.pid > 0)
		waitpid(server.pid, NULL, WNOHANG);
	server.sock = -1;
	server.pid = 0;
}

static int server_start(char *shim)
{
	char *argv[] = { shim, "--serve", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	rc = setup_attr(&attr);
	if (!rc) {
		rc = setup_files(&fa, sv[1]);
		if (!rc) {
			rc = posix_spawn(&server.pid, shim, &fa, &attr, argv,
					 environ);
			posix_spawn_file_actions_destroy(&fa);
		}
		posix_spawnattr_destroy(&attr);
	}
	close(sv[1]);
	if (rc) {
		close(sv[0]);
		server.pid = 0;
		return -rc;
	}
	server.sock = sv[0];
	server.generation++;
	return 0;
}

/* The request's strings: argv then env, each NUL-terminated. */
static char *request_strings(char **argv, char **env, struct spawn_request *h)
{
	char **v, *buf, *p;
	size_t len = 0;

	memset(h, 0, sizeof(*h));
	h->magic = SPAWN_MAGIC;
	for (v = argv; *v; v++, h->argc++)
		len += strlen(*v) + 1;
	for (v = env; v && *v; v++, h->envc++)
		len += strlen(*v) + 1;
	if (len > SPAWN_MAX_LEN || !(buf = malloc(len ? len : 1)))
		return NULL;
	p = buf;
	for (v = argv; *v; v++)
		p = stpcpy(p, *v) + 1;
	for (v = env; v && *v; v++)
		p = stpcpy(p, *v) + 1;
	h->len = (uint32_t)len;
	return buf;
}

/* The header with record_fd attached, then the strings. 0 or -errno. */
static int send_request(const struct spawn_request *h, const char *data,
			int record_fd)
{
	int fds[SPAWN_MAX_FDS] = { record_fd, -1 };
	size_t off = 0;
	ssize_t n = spawn_send(server.sock, h, sizeof(*h), fds);

	if (n != (ssize_t)sizeof(*h))
		return n < 0 ? -errno : -EIO;
	while (off < h->len) {
		n = send(server.sock, data + off, h->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

/* The reply and its fds (-1 where none came). 0 or -errno. */
static int recv_reply(struct spawn_reply *r, int fds[SPAWN_MAX_FDS])
{
	struct pollfd p = { .fd = server.sock, .events = POLLIN };
	ssize_t n;
	int i;

	for (i = 0; i < SPAWN_MAX_FDS; i++)
		fds[i] = -1;
	if (poll(&p, 1, SERVER_REPLY_MS) != 1)
		return -ETIMEDOUT;
	n = spawn_recv(server.sock, r, sizeof(*r), fds);
	return n == (ssize_t)sizeof(*r) ? 0 : n < 0 ? -errno : -EIO;
}

/* -EAGAIN: the server never had the request (it forks only once it has
 * all of it); -ESRCH: it went, and no reply came. */
static int server_request(char **argv, char **env, int record_fd,
			  struct spawned *s)
{
	int fds[SPAWN_MAX_FDS], rc = -EAGAIN, attempt, i;
	struct spawn_request h;
	struct spawn_reply r;
	char *data = request_strings(argv, env, &h);

	if (!data)
		return -EAGAIN;
	pthread_mutex_lock(&server.lock);
	for (attempt = 0; attempt < 2 && rc == -EAGAIN; attempt++) {
		if (server.sock < 0 && server_start(argv[0]))
			break;
		if (send_request(&h, data, record_fd)) {
			server_stop(); /* gone: a new one for the retry */
			continue;
		}
		rc = recv_reply(&r, fds); /* fills fds, whatever comes */
		if (rc) {
			server_stop();
			rc = -ESRCH;
		} else if (r.err) {
			rc = -r.err;
		} else {
			s->pid = r.pid;
			s->pidfd = fds[0];
			fds[0] = -1;
			if (r.flags & SPAWN_DIRECT) {
				s->server = server.generation;
				s->sigfd = fds[1];
				fds[1] = -1;
			}
		}
		for (i = 0; i < SPAWN_MAX_FDS; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	pthread_mutex_unlock(&server.lock);
	free(data);
	return rc;
}

int spawn_supervisor(char **argv, char **env, int record_fd, struct spawned *s)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	memset(s, 0, sizeof(*s));
	s->pidfd = s->sigfd = -1;
	rc = server_request(argv, env, record_fd, s);
	if (rc == -ESRCH) {
		s->pid = 0;
		return 0;
	}
	if (rc != -EAGAIN)
		return rc;
	s->child = 1;
	rc = setup_attr(&attr);
	if (!rc) {
		rc = setup_files(&fa, record_fd);
		if (!rc) {
			rc = posix_spawn(&s->pid, argv[0], &fa, &attr, argv,
					 env);
			posix_spawn_file_actions_destroy(&fa);
		}
		posix_spawnattr_destroy(&attr);
	}
	return -rc;
}

int spawn_signal(const struct spawned *s, int kill_it)
{
	struct spawn_request h = { .magic = SPAWN_SIGNAL_MAGIC,
				   .argc = (uint32_t)s->pid,
				   .envc = kill_it ? 1 : 0 };
	int fds[SPAWN_MAX_FDS] = { -1, -1 }, rc = -ESRCH;

	pthread_mutex_lock(&server.lock);
	if (s->server && s->server == server.generation && server.sock >= 0 &&
	    spawn_send(server.sock, &h, sizeof(h), fds) == (ssize_t)sizeof(h))
		rc = 0;
	pthread_mutex_unlock(&server.lock);
	return rc;
}
