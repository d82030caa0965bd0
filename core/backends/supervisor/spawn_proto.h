/*
 * spawn_proto.h - the wire format between the daemon and its fork server,
 * `katibfs-shim --serve` (core/backends/supervisor/spawn_server.c; the
 * daemon's side is in core/backends/executor_local.c).
 *
 * Over a SOCK_STREAM socketpair (the server's fd 3), one request at a
 * time: a struct spawn_request carrying the trial's locked `supervisor`
 * record as SCM_RIGHTS, then `len` bytes: `argc` NUL-terminated strings
 * (the per-trial supervisor's argv, as for katibfs-shim without --serve)
 * and `envc` more (its environment). The reply is a struct spawn_reply,
 * with a pidfd of the new supervisor as SCM_RIGHTS when err is 0.
 */
#ifndef KATIB_SPAWN_PROTO_H
#define KATIB_SPAWN_PROTO_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define SPAWN_MAGIC   0x6b667331u /* "kfs1" */
#define SPAWN_MAX_LEN (16u << 20) /* bytes of strings in one request */

struct spawn_request {
	uint32_t magic;
	uint32_t len;  /* bytes of strings that follow */
	uint32_t argc; /* strings of argv, then envc of the environment */
	uint32_t envc;
};

struct spawn_reply {
	int32_t err; /* 0, or the errno that kept the supervisor from forking */
	int32_t pid; /* the supervisor's */
};

/* One message of len bytes, with fd attached unless it is -1; what
 * sendmsg returned. */
static inline ssize_t spawn_send(int sock, const void *buf, size_t len, int fd)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (fd >= 0) {
		memset(control, 0, sizeof(control));
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* len bytes and the fd that came with them (*fd -1: none); what recvmsg
 * returned (0: the other end has gone). */
static inline ssize_t spawn_recv(int sock, void *buf, size_t len, int *fd)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c;
	     c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

#endif
