/*
 * katibfs-shim - the supervisor of one local trial (see
 * core/backends/executor_local.h for the protocol).
 *
 * A small static program, so that starting it costs the daemon one
 * vfork+exec rather than a fork of its whole address space. The daemon
 * starts it in a new session with the trial's environment and fd 3 open on
 * the trial's `supervisor` record, locked (flock) before the spawn: the
 * lock lives as long as this process, which is how a daemon mounted later
 * tells a running trial from an ended one.
 *
 *   katibfs-shim [-s] [-v TARGET BACKING] [-k SHARED FILE LEFTOVER]
 *                [-c OUT N CARGV0 CARGS...] [-e NAME=VALUE]... [-g S]
 *                LOG CWD EXE -- ARGV0 ARGS...
 *   katibfs-shim --probe DIR
 *   katibfs-shim --serve
 *
 * It forks the trial into its own process group (stdin /dev/null, stdout
 * and stderr appended to LOG, in CWD), writes "pid <self> <trial>", then
 * waits: SIGTERM/SIGINT/SIGHUP are forwarded to the trial's group as
 * SIGTERM, SIGUSR1 as SIGKILL. When the trial ends it kills what is left of
 * its group and writes "exit <code> <signal>" (code 128+signal when killed
 * by one).
 *
 * The collector's path (core/collectors/collector_path.h):
 *   -v  the trial runs in a mount namespace of its own (unshare
 *       CLONE_NEWNS; where that is refused, as for a user that is not
 *       root, CLONE_NEWUSER|CLONE_NEWNS with its uid and gid mapped to
 *       themselves), mounts private, in which TARGET is a bind mount of
 *       BACKING. A missing TARGET is created on the host, or where that is
 *       not allowed, in the namespace only (a tmpfs over its deepest
 *       existing ancestor that shows the ancestor's entries again). Set up in
 * the trial's process, never in the daemon, so nothing of it outlives the
 * trial. If it cannot be, the trial does not run (its log says why; exit 127).
 *   -k  no namespaces (the daemon runs such trials one at a time):
 *       SHARED's directory is created if missing, a SHARED file left from
 *       before is moved to LEFTOVER before the trial starts, and the trial's
 * SHARED file to FILE when it has ended, before the exit is recorded.
 *   -K  the same for a directory SHARED (TensorFlowEvent): what is in it
 *       is moved into the directory LEFTOVER before, into FILE after.
 *   -c  a Custom metrics collector runs beside the trial: N words of argv
 *       (CARGV0 looked up in the trial's PATH), in CWD with the trial's
 *       environment (plus each -e NAME=VALUE, the customCollector's env)
 *       and collector view, its own process group, stdout and
 *       stderr appended to OUT. When the trial has ended it has S seconds
 *       (-g S, default 0) to end on its own (a collector should, as one
 *       in a pod must); one still running then gets SIGTERM, SIGKILL after
 *       COLLECTOR_GRACE seconds, and "collector-stopped <S> <signal that
 *       ended it>" is recorded. A trial killed (SIGTERM, SIGUSR1) gives
 *       its collector no time. All of it before the exit is recorded. If
 *       the collector could not start or ended badly on its own,
 *       "collector-failed <code> <signal>" is recorded first.
 *   -s  ARGV is what `sh -c LINE` would exec (core/backends/shell_line.c)
 *       and runs in its place: PWD is set as the shell sets it, and the
 *       exit recorded is the shell's: killed by the signal this process
 *       forwarded, as the shell would have been; a trial killed by another
 *       signal gets the shell's line in its log ("Segmentation fault") and
 *       is recorded as exit 128+signal.
 *   --probe  tries -v's namespace with DIR bound onto itself and exits 0,
 *       or with the errno that refused it.
 *   --serve  the daemon's fork server (spawn_server.c): supervisors are
 *       forked from it, each then exactly as if exec'd with its argv; a
 *       plain trial (no -v, -k, -K or -c) it forks and supervises itself,
 *       with shim_run_trial() and shim_exit_status() from here.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "util/mkdir_p.h"

#define RECORD_FD	3
#define COLLECTOR_GRACE 3 /* s between SIGTERM and SIGKILL */

extern char **environ;

static void record(const char *word, long a, long b)
{
	dprintf(RECORD_FD, "%s %ld %ld\n", word, a, b);
}

/* A line for the trial's log (the supervisor's own stdout is /dev/null). */
static void note(const char *log, const char *fmt, ...)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	va_list ap;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	close(fd);
}

/* ---- the collector's path ---- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		rc = -errno;
	close(fd);
	return rc;
}

/* Map the user (and group) to themselves in a new user namespace. */
static int map_self(uid_t uid, gid_t gid)
{
	char line[64];
	int rc;

	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	rc = write_file("/proc/self/uid_map", line);
	if (!rc) {
		rc = write_file("/proc/self/setgroups", "deny");
		if (rc == -ENOENT)
			rc = 0; /* a kernel before 3.19 */
	}
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return rc ? rc : write_file("/proc/self/gid_map", line);
}

/* The deepest directory of path that exists, into out. */
static void existing_ancestor(const char *path, char *out, size_t size)
{
	struct stat st;
	char *slash;

	snprintf(out, size, "%s", path);
	while (stat(out, &st)) {
		slash = strrchr(out, '/');
		if (!slash || slash == out) {
			snprintf(out, size, "/");
			return;
		}
		*slash = '\0';
	}
}

/*
 * Entry `name` of the directory open as dir (hidden now by a tmpfs at
 * top) shown again at the same place: a symlink copied, anything else a
 * bind mount of the original.
 */
static void reveal(DIR *dir, const char *top, const char *name)
{
	char src[512], dst[4096], link[4096];
	struct stat st;
	ssize_t n;
	int fd;

	if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	snprintf(dst, sizeof(dst), "%s/%s", top, name);
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dirfd(dir), name, link, sizeof(link) - 1);
		if (n >= 0) {
			link[n] = '\0';
			symlink(link, dst); /* best effort, as below */
		}
		return;
	}
	if (S_ISDIR(st.st_mode))
		mkdir(dst, 0755);
	else if ((fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0)
		close(fd);
	snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", dirfd(dir), name);
	mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
}

/*
 * target is missing and may not be created on the host (a user who is not
 * root, a read-only filesystem): in this namespace only, a tmpfs over its
 * deepest existing ancestor shows that directory's entries as they are
 * and lets target be made. Never over "/".
 */
static int overlay_ancestor(const char *target, int why)
{
	struct dirent *de;
	char top[4096];
	DIR *dir;
	int fd;

	existing_ancestor(target, top, sizeof(top));
	if (!strcmp(top, "/"))
		return why;
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return why;
	}
	if (mount("katibfs", top, "tmpfs", 0, "mode=0755")) {
		closedir(dir);
		return why;
	}
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			reveal(dir, top, de->d_name);
	closedir(dir);
	return mkdir_p(target, 0755);
}

/* /proc/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape_mount_path(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] &&
		    s[3]) {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/*
 * The namespace's copies of katibfs mounts are detached: a copy would keep
 * its daemon's FUSE connection open, so unmounting katibfs on the host
 * would leave the daemon running (and its state locked) until every such
 * trial ended. Best effort: a user namespace may not detach them.
 */
static void detach_katibfs(void)
{
	char line[8192], path[4096], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %4095s %63s", path, type) == 2 &&
		    !strcmp(type, "fuse.katibfs")) {
			unescape_mount_path(path);
			umount2(path, MNT_DETACH);
		}
	fclose(f);
}

/* This process (and what it starts) sees backing at target. */
static int private_view(const char *target, const char *backing)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int rc;

	if (unshare(CLONE_NEWNS)) {
		if (errno != EPERM)
			return -errno;
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
			return -errno;
		rc = map_self(uid, gid);
		if (rc)
			return rc;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	detach_katibfs();
	rc = mkdir_p(target, 0755);
	if (rc == -EACCES || rc == -EPERM || rc == -EROFS)
		rc = overlay_ancestor(target, rc);
	if (rc)
		return rc;
	return mount(backing, target, NULL, MS_BIND | MS_REC, NULL) ? -errno
								    : 0;
}

/* rename, or copy and unlink across filesystems */
static int move_file(const char *from, const char *to)
{
	char buf[65536];
	int in, out, rc = 0;
	ssize_t n;

	if (!rename(from, to))
		return 0;
	if (errno != EXDEV)
		return -errno;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || close(out))
		rc = -errno;
	close(in);
	return rc ? rc : unlink(from) ? -errno : 0;
}

/* A file or directory tree moved: renamed, or copied and removed across
 * filesystems. */
static int move_tree(const char *from, const char *to)
{
	char a[4096], b[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (lstat(from, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return move_file(from, to);
	if (!rename(from, to))
		return 0;
	if (errno != EXDEV)
		return -errno;
	if (mkdir(to, 0755) && errno != EEXIST)
		return -errno;
	d = opendir(from);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && !rc) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		rc = move_tree(a, b);
	}
	closedir(d);
	return rc ? rc : rmdir(from) ? -errno : 0;
}

/* -K: what is in the shared directory changes hands (its entries move;
 * the directory itself stays, as a volume's mountpoint would). */
static void keep_shared_dir(const struct shim_options *o, int before)
{
	const char *to = before ? o->leftover : o->file;
	char from[4096], dest[4096];
	struct dirent *de;
	int rc = 0, moved = 0;
	DIR *d;

	mkdir_p(o->shared, 0755);
	d = opendir(o->shared);
	if (!d)
		return;
	while ((de = readdir(d)) && !rc) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!moved++ && mkdir(to, 0755) && errno != EEXIST)
			rc = -errno;
		snprintf(from, sizeof(from), "%s/%s", o->shared, de->d_name);
		snprintf(dest, sizeof(dest), "%s/%s", to, de->d_name);
		if (!rc)
			rc = move_tree(from, dest);
	}
	closedir(d);
	if ((before && moved) || rc)
		note(o->log, "katibfs: %s what was in %s %s %s%s%s\n",
		     rc ? "could not move" : "moved", o->shared,
		     before ? "(left there before this trial started) to"
			    : "to",
		     to, rc ? ": " : "", rc ? strerror(-rc) : "");
}

/* -k: the shared file changes hands between trials run one at a time. */
static void keep_shared(const struct shim_options *o, int before)
{
	const char *to = before ? o->leftover : o->file;
	char dir[4096], *slash;
	int rc;

	if (o->shared_dir) {
		keep_shared_dir(o, before);
		return;
	}
	if (before) { /* its directory, as a pod's volume mount makes it */
		snprintf(dir, sizeof(dir), "%s", o->shared);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir_p(dir, 0755);
		}
	}
	if (access(o->shared, F_OK))
		return;
	snprintf(dir, sizeof(dir), "%s", to);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	rc = move_file(o->shared, to);
	if (before || rc)
		note(o->log, "katibfs: %s %s %s %s%s%s\n",
		     rc ? "could not move" : "moved", o->shared,
		     before ? "(left there before this trial started) to"
			    : "to",
		     to, rc ? ": " : "", rc ? strerror(-rc) : "");
}

/*
 * Default signals for a child: only the mask needs it. This program sets
 * no disposition, and starts with every one default (posix_spawn's
 * SETSIGDEF, or the fork server's reset), so there is none to undo (64
 * sigaction calls per trial saved).
 */
static void default_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The collector's start pipe (write end, close-on-exec) in its child, -1
 * elsewhere: a byte written says it could not start, EOF that it did. */
static int start_fd = -1;

/* A child that could not be set up or exec'd: said on the start pipe (for
 * the collector), exit 127 as a shell would. */
_Noreturn static void child_fail(void)
{
	if (start_fd >= 0 && write(start_fd, "x", 1) < 0)
		_exit(127);
	_exit(127);
}

/* In a child: its own group, output to `out`, the collector view, default
 * signals, in CWD. Returns only when all is set. */
static void child_setup(const struct shim_options *o, const char *out,
			const char *who)
{
	int fd, rc;

	setpgid(0, 0);
	/* close-on-exec: only their copies at 0-2 reach the program */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	close(RECORD_FD);
	if (o->target && (rc = private_view(o->target, o->backing))) {
		dprintf(2, "katibfs: cannot give the %s a private %s: %s\n",
			who, o->target, strerror(-rc));
		child_fail();
	}
	default_signals();
	if (chdir(o->cwd)) {
		dprintf(2, "katibfs: cannot enter %s: %s\n", o->cwd,
			strerror(errno));
		child_fail();
	}
}

/* PWD as sh sets it at its start: kept if it names the working directory,
 * else the directory's path. */
static void shell_pwd(void)
{
	const char *pwd = getenv("PWD");
	struct stat a, b;
	char cwd[4096];

	if (pwd && pwd[0] == '/' && !stat(pwd, &a) && !stat(".", &b) &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return;
	if (getcwd(cwd, sizeof(cwd)))
		setenv("PWD", cwd, 1);
}

/* -s: the exit the shell would have had. */
static void shell_status(const struct shim_options *o, int status,
			 int forwarded, int *code, int *sig)
{
	if (forwarded) { /* it went to the shell too, which died of it */
		*sig = forwarded;
		return;
	}
	if (!WIFSIGNALED(status))
		return;
	if (*sig != SIGINT && *sig != SIGPIPE) /* dash's sprint_status */
		note(o->log, "%s%s\n", strsignal(*sig),
		     WCOREDUMP(status) ? " (core dumped)" : "");
	*code = 128 + *sig;
	*sig = 0;
}

void shim_exit_status(const struct shim_options *o, int status, int forwarded,
		      int *code, int *sig)
{
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (o->as_shell)
		shell_status(o, status, forwarded, code, sig);
	if (*sig)
		*code = 128 + *sig;
}

void shim_run_trial(const struct shim_options *o)
{
	child_setup(o, o->log, "trial");
	if (o->as_shell && !o->pwd_ready)
		shell_pwd();
	execve(o->exe, o->argv, environ);
	dprintf(2, "katibfs: cannot execute %s: %s\n", o->exe, strerror(errno));
	child_fail();
}

static void run_collector(const struct shim_options *o)
{
	int i;

	child_setup(o, o->cout, "custom collector");
	for (i = 0; i < o->ncenv; i++)
		putenv(o->cenv[i]);
	execvp(o->cargv[0], o->cargv);
	dprintf(2,
		"katibfs: cannot start the custom collector %s "
		"(spec.metricsCollectorSpec.collector.customCollector): %s\n",
		o->cargv[0], strerror(errno));
	child_fail();
}

/* A collector that ended on its own: recorded when it went badly. */
static void collector_ended(int status)
{
	if (WIFSIGNALED(status))
		record("collector-failed", 128 + WTERMSIG(status),
		       WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		record("collector-failed", WEXITSTATUS(status), 0);
}

/* Wait until the collector ends or `seconds` have passed: 1 if it ended
 * (status set). SIGCHLD is blocked; other children's are taken too. */
static int collector_wait(pid_t pid, int seconds, int *status)
{
	struct timespec end, now, left;
	siginfo_t info;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return 0;
		sigtimedwait(&chld, &info, &left);
	}
}

/* The trial ended: the collector has `grace` seconds to end on its own,
 * then it gets SIGTERM, and SIGKILL COLLECTOR_GRACE seconds later. */
static void stop_collector(pid_t pid, int grace)
{
	int status, sig = SIGTERM;

	if (collector_wait(pid, grace, &status)) {
		collector_ended(status);
		return;
	}
	kill(-pid, SIGTERM);
	if (!collector_wait(pid, COLLECTOR_GRACE, &status)) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		sig = SIGKILL;
	}
	if (grace)
		record("collector-stopped", grace, sig);
	kill(-pid, SIGKILL); /* what is left of its group */
}

/* Fork the collector and wait until it has exec'd or failed to (not for
 * its end): one that could not start is recorded now, whatever the trial
 * does meanwhile, not left to race the trial's end and its grace. Returns
 * its pid, or 0 when it is not running. */
static pid_t start_collector(const struct shim_options *o)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0) {
		record("collector-failed", 127, 0);
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		start_fd = p[1];
		run_collector(o);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		record("collector-failed", 127, 0);
		return 0;
	}
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 1 && waitpid(pid, &status, 0) == pid) {
		collector_ended(status);
		return 0;
	}
	return pid;
}

/* A signal for the trial's group; the first one sent is remembered. */
static void forward(pid_t child, int sig, int *forwarded)
{
	kill(-child, sig);
	if (!*forwarded)
		*forwarded = sig;
}

/* 0, or 2 after the usage message */
int shim_parse_options(int argc, char **argv, struct shim_options *o)
{
	int i = 1;

	memset(o, 0, sizeof(*o));
	for (;;) {
		if (i < argc && !strcmp(argv[i], "-s")) {
			o->as_shell = 1;
			i++;
		} else if (i + 2 < argc && !strcmp(argv[i], "-v")) {
			o->target = argv[i + 1];
			o->backing = argv[i + 2];
			i += 3;
		} else if (i + 3 < argc && !strcmp(argv[i], "-c") &&
			   atoi(argv[i + 2]) > 0 &&
			   i + 3 + atoi(argv[i + 2]) <= argc) {
			int n = atoi(argv[i + 2]), j;

			o->cout = argv[i + 1];
			o->cargv = calloc((size_t)n + 1, sizeof(char *));
			if (!o->cargv)
				return 2;
			for (j = 0; j < n; j++)
				o->cargv[j] = argv[i + 3 + j];
			i += 3 + n;
		} else if (i + 1 < argc && !strcmp(argv[i], "-e") &&
			   strchr(argv[i + 1], '=')) {
			if (!o->cenv)
				o->cenv = calloc((size_t)argc, sizeof(char *));
			if (!o->cenv)
				return 2;
			o->cenv[o->ncenv++] = argv[i + 1];
			i += 2;
		} else if (i + 1 < argc && !strcmp(argv[i], "-g")) {
			o->cgrace = atoi(argv[i + 1]);
			i += 2;
		} else if (i + 3 < argc &&
			   (!strcmp(argv[i], "-k") || !strcmp(argv[i], "-K"))) {
			o->shared_dir = argv[i][1] == 'K';
			o->shared = argv[i + 1];
			o->file = argv[i + 2];
			o->leftover = argv[i + 3];
			i += 4;
		} else {
			break;
		}
	}
	if (argc - i < 5 || strcmp(argv[i + 3], "--")) {
		fprintf(stderr, "usage: katibfs-shim [-s] [-v TARGET BACKING] "
				"[-k SHARED FILE LEFTOVER] [-c OUT N CARGV...] "
				"[-e NAME=VALUE]... [-g S] "
				"LOG CWD EXE -- ARGV...\n"
				"       katibfs-shim --probe DIR\n"
				"(started by katibfs for each local trial)\n");
		return 2;
	}
	o->log = argv[i];
	o->cwd = argv[i + 1];
	o->exe = argv[i + 2];
	o->argv = argv + i + 4;
	return 0;
}

static int probe(const char *dir)
{
	int rc = private_view(dir, dir);

	return rc ? (-rc > 125 ? 125 : -rc) : 0;
}

int supervise(int argc, char **argv)
{
	int status = 0, cstatus, code, sig, forwarded = 0;
	struct shim_options o;
	siginfo_t info;
	sigset_t set;
	pid_t child, collector = 0;

	if (shim_parse_options(argc, argv, &o))
		return 2;
	syscall(SYS_close_range, RECORD_FD + 1, ~0U, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (o.shared)
		keep_shared(&o, 1);
	child = fork();
	if (child < 0) {
		record("exit", 127, 0);
		return 1;
	}
	if (child == 0)
		shim_run_trial(&o);
	if (o.cargv)
		collector = start_collector(&o);
	record("pid", (long)getpid(), (long)child);
	for (;;) {
		if (sigwaitinfo(&set, &info) < 0)
			continue;
		if (info.si_signo == SIGUSR1)
			forward(child, SIGKILL, &forwarded);
		else if (info.si_signo != SIGCHLD)
			forward(child, SIGTERM, &forwarded);
		else if (collector > 0 &&
			 waitpid(collector, &cstatus, WNOHANG) == collector) {
			collector_ended(cstatus);
			collector = 0;
		}
		if (info.si_signo == SIGCHLD &&
		    waitpid(child, &status, WNOHANG) == child)
			break;
	}
	kill(-child, SIGKILL); /* what is left of the trial's group */
	if (collector > 0)
		stop_collector(collector, forwarded ? 0 : o.cgrace);
	if (o.shared)
		keep_shared(&o, 0);
	shim_exit_status(&o, status, forwarded, &code, &sig);
	record("exit", code, sig);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--probe"))
		return probe(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--serve"))
		return spawn_serve();
	return supervise(argc, argv);
}
