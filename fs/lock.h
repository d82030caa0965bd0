/*
 * lock.h - one katibfs daemon per state directory and per mount point.
 *
 * Two flock(2) locks held for the daemon's whole life: STATE/lock, and a
 * file keyed by the mount point's canonical path in the user's runtime
 * directory. Each file holds the holder's pid, state directory and mount
 * point, so a second katibfs can say who is there. The kernel drops an
 * flock when the last descriptor of it closes, so a killed daemon leaves
 * no stale lock; the descriptors are close-on-exec (trials keep running
 * after the daemon, and must not keep its locks), and a fork() shares
 * them, so the daemonized child holds what its parent took.
 */
#ifndef KATIBFS_LOCK_H
#define KATIBFS_LOCK_H

#include <sys/types.h>

struct daemon_lock {
	int state_fd; /* STATE/lock */
	int mount_fd; /* RUNTIME/mounts/<hash of the mount point> */
	char *state;  /* canonical paths (heap, owned) */
	char *mountpoint;
};

/* The mount point as an absolute path without symlinks, also when it is a
 * dead FUSE mount that cannot be stat'ed (heap; NULL + errno). */
char *lock_canonical_mountpoint(const char *given);

/*
 * Take the mount point's lock (before the state directory exists: nothing
 * is created in it). 0, or -1 after printing why on stderr: another
 * katibfs serves it, or it is already a FUSE mount.
 */
int lock_mountpoint(struct daemon_lock *l, const char *mountpoint);

/* Take STATE/lock. 0, or -1 after printing why (another daemon uses it). */
int lock_state(struct daemon_lock *l, const char *state);

/* Record pid (the process that lives on) in both lock files. */
void lock_record(const struct daemon_lock *l, pid_t pid);

/* Say in both files that this daemon is unmounted and finishing, so that
 * a new katibfs waits for it rather than fail. */
void lock_stopping(const struct daemon_lock *l);

/* Close what this process holds (the daemon's exit releases it too). */
void lock_release(struct daemon_lock *l);

#endif
