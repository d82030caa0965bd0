/*
 * spawn_client.h - starting a local trial's supervisor (katibfs-shim):
 * forked by the daemon's fork server, or else spawned directly
 * (core/backends/spawn_client.c).
 */
#ifndef KATIB_SPAWN_CLIENT_H
#define KATIB_SPAWN_CLIENT_H

#include <sys/types.h>

/*
 * Start katibfs-shim with argv (argv[0] its path) and env, in a session of
 * its own, signals default and unmasked, fds 0-2 on /dev/null and fd 3 on
 * record_fd. Returns 0 with *pid, *pidfd (-1 if none) and *child (1: it is
 * this process's child, to reap); 0 with *pid 0 when the request reached
 * the server and no reply came back (whether the supervisor runs, only its
 * record can tell); or a negative errno, and nothing was started.
 */
int spawn_supervisor(char **argv, char **env, int record_fd, pid_t *pid,
		     int *pidfd, int *child);

#endif
