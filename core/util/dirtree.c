/*
 * dirtree.c - recursive copy and removal of directory trees, with *at()
 * calls on directory fds (no path grows with the depth). The local
 * backend's checkpoint copy between trials (core/backends/executor_local.c)
 * uses it. Owns nothing beyond each call.
 */
#include "util/dirtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int copy_file(int src, int dst, const char *name, mode_t mode)
{
	char buf[65536];
	int in, out, rc = 0;
	ssize_t n, w;

	in = openat(src, name, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(dst, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		     mode & 07777);
	if (out < 0) {
		rc = -errno;
		goto out;
	}
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
	    errno != EOPNOTSUPP) {
		rc = -errno;
		goto out;
	}
	while (n < 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		w = write(out, buf, (size_t)n);
		if (w != n) {
			rc = w < 0 ? -errno : -EIO;
			goto out;
		}
		n = -1;
	}
	if (n < 0)
		rc = -errno;
out:
	if (out >= 0 && close(out) && !rc)
		rc = -errno;
	close(in);
	return rc;
}

static int copy_entry(int src, int dst, const char *name)
{
	char target[4096];
	struct stat st;
	ssize_t n;
	int s, d, rc;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, name, st.st_mode);
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		return symlinkat(target, dst, name) ? -errno : 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0; /* fifos, sockets, devices: not checkpoints */
	if (mkdirat(dst, name, st.st_mode & 07777) && errno != EEXIST)
		return -errno;
	s = openat(src, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s < 0)
		return -errno;
	d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		rc = -errno;
		close(s);
		return rc;
	}
	rc = dirtree_copy(s, d);
	close(s);
	close(d);
	return rc;
}

int dirtree_copy(int src, int dst)
{
	struct dirent *e;
	DIR *d;
	int fd = dup(src), rc = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		rc = copy_entry(src, dst, e->d_name);
	}
	closedir(d);
	return rc;
}

static int remove_contents(int fd)
{
	struct dirent *e;
	DIR *d = fdopendir(fd);
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (!rc && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = dirtree_remove(dirfd(d), e->d_name);
	closedir(d);
	return rc;
}

int dirtree_remove(int dir, const char *name)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dir, name, 0) ? -errno : 0;
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = remove_contents(fd);
	if (!rc && unlinkat(dir, name, AT_REMOVEDIR))
		rc = -errno;
	return rc;
}
