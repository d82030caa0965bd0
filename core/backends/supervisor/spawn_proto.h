/*
 * spawn_proto.h - the wire format between the daemon and its fork server,
 * `katibfs-shim --serve` (core/backends/supervisor/spawn_server.c; the
 * daemon's side is in core/backends/executor_local.c).
 *
 * Over a SOCK_STREAM socketpair (the server's fd 3), one request at a
 * time: a struct spawn_request carrying the trial's locked `supervisor`
 * record as SCM_RIGHTS, then `len` bytes: `argc` NUL-terminated strings
 * (the per-trial supervisor's argv, as for katibfs-shim without --serve)
 * and `envc` more (its environment). The reply is a struct spawn_reply
 * with, when err is 0, fds as SCM_RIGHTS: a pidfd of the new supervisor;
 * or with SPAWN_DIRECT (the server supervises that trial itself; pid is
 * the trial's), the read end of a pipe (non-blocking) on which the server
 * writes a struct spawn_exit and closes its end once the trial's exit is
 * recorded, then a pidfd of the trial.
 *
 * A signal request (magic SPAWN_SIGNAL_MAGIC, len 0, argc a pid the
 * server replied with SPAWN_DIRECT, envc 1 to kill, 0 to stop) has no
 * reply: the server forwards SIGKILL or SIGTERM to that trial's group, as
 * a trial's own supervisor does for SIGUSR1 and SIGTERM. A daemon mounted
 * later (no socket to that server) queues SPAWN_SIGNAL_RT to the server
 * instead (the pid its record names after the trial's), with the trial's
 * pid and SPAWN_SIGNAL_KILL in the value.
 */
#ifndef KATIB_SPAWN_PROTO_H
#define KATIB_SPAWN_PROTO_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define SPAWN_MAGIC	   0x6b667331u /* "kfs1" */
#define SPAWN_SIGNAL_MAGIC 0x6b667332u /* "kfs2" */
#define SPAWN_MAX_LEN	   (16u << 20) /* bytes of strings in one request */

struct spawn_request {
	uint32_t magic;
	uint32_t len;  /* bytes of strings that follow */
	uint32_t argc; /* strings of argv, then envc of the environment */
	uint32_t envc;
};

#define SPAWN_DIRECT 1u /* spawn_reply.flags: the server supervises it */

#define SPAWN_SIGNAL_RT	  (SIGRTMIN + 2)
#define SPAWN_SIGNAL_PID  0x3fffffff /* of the value: the trial's pid */
#define SPAWN_SIGNAL_KILL 0x40000000 /* SIGKILL, not SIGTERM */

struct spawn_reply {
	int32_t err; /* 0, or the errno that kept the supervisor from forking */
	int32_t pid; /* the supervisor's, or with SPAWN_DIRECT the trial's */
	uint32_t flags;
	uint32_t pad;
};

/* What a SPAWN_DIRECT trial's pipe carries before its end of file: the
 * exit as recorded (written once the record holds it). */
struct spawn_exit {
	int32_t code, sig;
};

#define SPAWN_MAX_FDS 2 /* attached to one message */

/* One message of len bytes, with fds[0..1] attached (those not -1); what
 * sendmsg returned. */
static inline ssize_t spawn_send(int sock, const void *buf, size_t len,
				 const int fds[SPAWN_MAX_FDS])
{
	char control[CMSG_SPACE(SPAWN_MAX_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int k = 0, i;
	ssize_t n;

	for (i = 0; i < SPAWN_MAX_FDS; i++)
		k += fds[i] >= 0;
	if (k) {
		memset(control, 0, sizeof(control));
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(k * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(k * sizeof(int));
		for (i = 0, k = 0; i < SPAWN_MAX_FDS; i++)
			if (fds[i] >= 0)
				memcpy(CMSG_DATA(c) + sizeof(int) * k++,
				       &fds[i], sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* len bytes and the fds that came with them, in order (-1: none); what
 * recvmsg returned (0: the other end has gone). */
static inline ssize_t spawn_recv(int sock, void *buf, size_t len,
				 int fds[SPAWN_MAX_FDS])
{
	char control[CMSG_SPACE(SPAWN_MAX_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	size_t i, k;
	ssize_t n;

	for (i = 0; i < SPAWN_MAX_FDS; i++)
		fds[i] = -1;
	do
		n = recvmsg(sock, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c;
	     c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k && i < SPAWN_MAX_FDS; i++)
			memcpy(&fds[i], CMSG_DATA(c) + sizeof(int) * i,
			       sizeof(int));
	}
	return n;
}

#endif
