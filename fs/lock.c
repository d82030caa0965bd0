/*
 * lock.c - one katibfs daemon per state directory and per mount point
 * (see lock.h).
 *
 * A lock file holds "pid=", "state=" and "mountpoint=" lines, and
 * "stopping=1" once its daemon is unmounted and finishing: a new katibfs
 * then waits a little for the lock instead of failing, so that
 * `fusermount3 -u M && katibfs M` works. Mount point locks live in
 * /run/user/UID/katibfs, else /tmp/katibfs-UID (a directory of ours, mode
 * 0700; not $XDG_RUNTIME_DIR, which a sudo or cron shell lacks), named by
 * a hash of the canonical mount point. /proc/self/mountinfo is the safety
 * net when a lock file is not found (another user's katibfs, a runtime
 * directory removed at logout): a FUSE mount on the mount point is refused.
 *
 * Ownership: struct daemon_lock owns its two descriptors and two paths.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOLDER_WAIT_MS	 1000  /* for a new holder to write its lines */
#define STOPPING_WAIT_MS 15000 /* for a stopping holder to exit */

struct holder {
	long pid;
	int stopping;
	char state[PATH_MAX];
	char mountpoint[PATH_MAX];
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- the mount point ---- */

char *lock_canonical_mountpoint(const char *given)
{
	char buf[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], *parent, *out;

	out = realpath(given, NULL);
	if (out)
		return out;
	/* a dead FUSE mount (ENOTCONN): its parent still resolves */
	snprintf(dir, sizeof(dir), "%s", given);
	snprintf(base, sizeof(base), "%s", given);
	parent = realpath(dirname(dir), NULL);
	if (!parent)
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s", strcmp(parent, "/") ? parent : "",
		 basename(base));
	free(parent);
	return strdup(buf);
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The file system type of the topmost mount on `path` ("" if none). */
static void mount_type(const char *path, char *type, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[2 * PATH_MAX];

	type[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *mp = NULL, *sep, *tok;
		int i;

		tok = strtok_r(line, " ", &save);
		for (i = 1; tok && i < 5; i++)
			tok = mp = strtok_r(NULL, " ", &save);
		sep = strstr(save ? save : "", " - ");
		if (!mp || !sep)
			continue;
		unescape_octal(mp);
		if (strcmp(mp, path))
			continue;
		tok = strtok_r(sep + 3, " ", &save);
		snprintf(type, size, "%s", tok ? tok : "?");
	}
	fclose(f);
}

static int is_fuse_type(const char *type)
{
	return !strcmp(type, "fuse") || !strncmp(type, "fuse.", 5) ||
	       !strcmp(type, "fuseblk");
}

/* ---- lock files ---- */

static int read_holder(int fd, struct holder *h)
{
	char buf[3 * PATH_MAX], *line, *save = NULL;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	memset(h, 0, sizeof(*h));
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "pid=", 4))
			h->pid = strtol(line + 4, NULL, 10);
		else if (!strncmp(line, "state=", 6))
			snprintf(h->state, sizeof(h->state), "%s", line + 6);
		else if (!strncmp(line, "mountpoint=", 11))
			snprintf(h->mountpoint, sizeof(h->mountpoint), "%s",
				 line + 11);
		else if (!strcmp(line, "stopping=1"))
			h->stopping = 1;
	}
	return h->pid > 0 && h->state[0] && h->mountpoint[0] ? 0 : -1;
}

/* Who holds fd's lock, once they have written it down. */
static int wait_holder(int fd, struct holder *h)
{
	int waited;

	for (waited = 0; waited < HOLDER_WAIT_MS; waited += 10) {
		if (!read_holder(fd, h))
			return 0;
		sleep_ms(10);
	}
	return -1;
}

/* flock(fd) now, or after a stopping holder exits. 0, or -1 with h filled
 * (h->pid 0 when the holder never said who it is). */
static int take(int fd, struct holder *h)
{
	int waited = 0;

	for (;;) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return 0; /* no flock here (some network fs) */
		if (wait_holder(fd, h) || !h->stopping ||
		    waited >= STOPPING_WAIT_MS)
			return -1;
		sleep_ms(50);
		waited += 50;
	}
}

static void report_holder(const struct holder *h, const char *what)
{
	if (h->pid > 0)
		fprintf(stderr,
			"katibfs: %s is in use by pid %ld (mounted on %s)\n",
			h->state, h->pid, h->mountpoint);
	else
		fprintf(stderr, "katibfs: %s is in use by another katibfs\n",
			what);
}

/* ---- the runtime directory ---- */

/* A directory of ours only: not a symlink, owned by us, mode 0700. */
static int own_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	if (lstat(path, &st) || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int runtime_dir(char *buf, size_t size)
{
	char run[64];
	struct stat st;

	snprintf(run, sizeof(run), "/run/user/%lu", (unsigned long)geteuid());
	if (!lstat(run, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
		snprintf(buf, size, "%s/katibfs", run);
	else
		snprintf(buf, size, "/tmp/katibfs-%lu",
			 (unsigned long)geteuid());
	return own_dir(buf);
}

/* FNV-1a, 64 bits: a file name for any path length. */
static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int open_lock_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	/* a read-only state directory: flock needs no write access */
	if (fd < 0 && (errno == EROFS || errno == EACCES))
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

/* ---- API ---- */

static int refuse_mounted(const char *mp)
{
	struct stat st;
	char type[64];

	mount_type(mp, type, sizeof(type));
	if (!is_fuse_type(type))
		return 0;
	if (strcmp(type, "fuse.katibfs"))
		fprintf(stderr,
			"katibfs: %s is already mounted (%s); unmount it "
			"first or choose another mount point\n",
			mp, type);
	else if (stat(mp, &st) && errno == ENOTCONN)
		fprintf(stderr,
			"katibfs: %s is the mount of a katibfs that is gone "
			"(killed?); unmount it first: fusermount3 -u %s\n",
			mp, mp);
	else
		fprintf(stderr,
			"katibfs: %s is in use by another katibfs (another "
			"user's?)\n",
			mp);
	return -1;
}

int lock_mountpoint(struct daemon_lock *l, const char *mountpoint)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	struct holder h;

	memset(l, 0, sizeof(*l));
	l->state_fd = l->mount_fd = -1;
	l->mountpoint = lock_canonical_mountpoint(mountpoint);
	if (!l->mountpoint) {
		fprintf(stderr, "katibfs: mount point %s: %s\n", mountpoint,
			strerror(errno));
		return -1;
	}
	if (runtime_dir(dir, sizeof(dir))) {
		fprintf(stderr, "katibfs: runtime directory %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/mount-%016llx.lock", dir,
		 (unsigned long long)hash_path(l->mountpoint));
	l->mount_fd = open_lock_file(path);
	if (l->mount_fd < 0) {
		fprintf(stderr, "katibfs: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (take(l->mount_fd, &h)) {
		report_holder(&h, l->mountpoint);
		return -1;
	}
	return refuse_mounted(l->mountpoint);
}

int lock_state(struct daemon_lock *l, const char *state)
{
	char path[PATH_MAX + 8];
	struct holder h;

	l->state = strdup(state);
	if (!l->state)
		return -1;
	snprintf(path, sizeof(path), "%s/lock", state);
	l->state_fd = open_lock_file(path);
	if (l->state_fd < 0) {
		fprintf(stderr, "katibfs: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (take(l->state_fd, &h)) {
		report_holder(&h, state);
		return -1;
	}
	return 0;
}

static void write_holder(int fd, const struct daemon_lock *l, pid_t pid,
			 int stopping)
{
	char buf[3 * PATH_MAX];
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "pid=%ld\nstate=%s\nmountpoint=%s\n%s",
		     (long)pid, l->state ? l->state : "",
		     l->mountpoint ? l->mountpoint : "",
		     stopping ? "stopping=1\n" : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		return; /* only the message of a second katibfs suffers */
}

void lock_record(const struct daemon_lock *l, pid_t pid)
{
	write_holder(l->mount_fd, l, pid, 0);
	write_holder(l->state_fd, l, pid, 0);
}

void lock_stopping(const struct daemon_lock *l)
{
	write_holder(l->mount_fd, l, getpid(), 1);
	write_holder(l->state_fd, l, getpid(), 1);
}

void lock_release(struct daemon_lock *l)
{
	if (l->state_fd >= 0)
		close(l->state_fd);
	if (l->mount_fd >= 0)
		close(l->mount_fd);
	l->state_fd = l->mount_fd = -1;
	free(l->state);
	free(l->mountpoint);
	l->state = l->mountpoint = NULL;
}
