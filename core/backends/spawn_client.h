/*
 * spawn_client.h - starting a local trial's supervisor (katibfs-shim):
 * forked by the daemon's fork server, or else spawned directly
 * (core/backends/spawn_client.c).
 */
#ifndef KATIB_SPAWN_CLIENT_H
#define KATIB_SPAWN_CLIENT_H

#include <sys/types.h>

/* A started supervisor (or plain trial), as spawn_supervisor left it. */
struct spawned {
	pid_t pid; /* the supervisor's (0: unknown), or the plain trial's */
	int pidfd; /* readable once the trial has ended and is recorded */
	int child; /* 1: this process's child, to reap */
	int sigfd; /* a plain trial's pidfd, or -1 */
	unsigned server; /* a plain trial's server (spawn_signal), or 0 */
};

/*
 * Start katibfs-shim with argv (argv[0] its path) and env, in a session of
 * its own, signals default and unmasked, fds 0-2 on /dev/null and fd 3 on
 * record_fd. Returns 0 with s filled: pidfd a pidfd of the supervisor (-1
 * if none), or for a plain trial the fork server supervises itself (server
 * not 0), a pipe that reads end of file once its exit is recorded, pid and
 * sigfd the trial's. 0 with pid 0 when the request reached the server and
 * no reply came back (whether the supervisor runs, only its record can
 * tell); or a negative errno, and nothing was started.
 */
int spawn_supervisor(char **argv, char **env, int record_fd, struct spawned *s);

/* SIGKILL (kill_it) or SIGTERM for the group of a plain trial, through the
 * server that supervises it, as a trial's own supervisor forwards them;
 * -ESRCH when that server is no longer this process's (the trial's pidfd
 * is left). */
int spawn_signal(const struct spawned *s, int kill_it);

#endif
