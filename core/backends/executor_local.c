/*
 * executor_local.c - trials as local processes under katibfs-shim, a small
 * supervisor program of ours (core/backends/executor_local.h,
 * core/backends/supervisor/katibfs-shim.c).
 *
 * A plain trial (no collector view, shared file or Custom collector) is
 * forked by the daemon's fork server (core/backends/spawn_client.c,
 * supervisor/spawn_server.c), which supervises it itself: it holds the
 * trial's locked record, records the exit before reaping it, and writes
 * that exit on a pipe the controller polls (run->pidfd) before closing it
 * (the record is read back only after a restart). Any other trial gets a
 * supervisor of its own, forked by that server (posix_spawn of
 * katibfs-shim if there is none), without copying or waiting on the
 * daemon's address space; everything it needs comes in its argv, its
 * environment (the trial's) and fd 3 (the locked record). While a trial
 * runs, a thread of this backend makes the next one's directory, record
 * (locked) and log ahead under a hidden name (core/backends/prepared.h);
 * the next start takes them by one rename. Owns the backend's private
 * state (struct local_backend: whether the kernel gives trials private
 * collector paths, probed once; the directories made ahead, and the
 * record of the one last taken until its start) and, per trial,
 * run->priv (struct local_run: the supervisor's or plain trial's pid and
 * pidfds, freed by local_release).
 *
 * What a trivial trial costs (500 x `/bin/echo objective=1`, random,
 * parallelTrialCount 1, bench/bench_slice.py; per trial, all processes,
 * the bench's status polling included; --state on tmpfs, nice -10 at a
 * load average of 8-9 on 2 cores, so only the proportions travel; both
 * with the store's writer thread):
 *
 *                          a supervisor per trial  the server supervises
 *   processes              fork server -> fork     fork server -> vfork
 *                          supervisor -> fork      trial -> exec echo
 *                          trial -> exec echo
 *   hand-offs on the       5: trial -> supervisor  4: trial -> server
 *     critical path        -> daemon -> server     -> daemon -> server
 *                          -> supervisor -> trial  -> trial
 *   syscalls (perf)        297 (daemon 138,        253 (daemon 101,
 *                          server+shim 49)         server 41; echo 110)
 *   CPU (perf task-clock)  3.2-4.3 ms (daemon      3.1-3.2 ms (daemon
 *                          1.41-1.85, server and   1.40-1.46, server and
 *                          shim .68-.97, echo      the trial's vfork
 *                          1.09-1.46)              .37-.38, echo 1.28-1.33)
 *   files created          3 (dir, supervisor, log), unchanged; since
 *                          made ahead (prepared.h): 1 rename at the start
 *   fsyncs                 none (WAL, synchronous=NORMAL: 8 checkpoint
 *                          fsyncs in 500 trials)
 *
 * The loop spends ~1.1 ms per iteration (one fork, echo's own start: ld.so,
 * locale files, cpuid in a VM). Where a trial's wall time goes (uprobes
 * and tracepoints, medians, from the end of one echo): the server sees it
 * +0.22 ms (most of it echo's own exit), the ended trial is read and
 * recorded +0.40, the next one created and its commit handed to the
 * store's writer +0.43, on disk +0.65, the spawn request +0.72, the trial
 * forked +1.08 and exec'd +1.32 (the tracing itself slows each step). The
 * controller's share is the engine's (the metrics, the suggestion, the
 * store); the server's reply and the Running commit come after the fork,
 * beside the trial. On this machine's ext4 /tmp (no journal) under others'
 * churn a mkdir took 1.9 ms and each file creation 0.6-1.9 ms (tmpfs: 0.03
 * ms for all three): there the three inodes a trial needs were most of its
 * cost, which a loop that creates none does not pay.
 *
 * Since the next trial's directory, record and log are made ahead by the
 * backend's thread (prepared.h), the start does one rename and the trial
 * opens an existing log. Measured the same way against the build before,
 * alternated, 2 x 300 trials each, load average 5-7 (medians, ms from the
 * end of one echo; before -> after):
 *
 *                          ext4 /tmp                tmpfs /dev/shm
 *   exit seen (probe)      0.48 0.38 -> 0.15 0.23   0.44 0.43 -> 0.48 0.46
 *   store_sync called      0.63 0.50 -> 0.27 0.36   0.55 0.54 -> 0.62 0.60
 *   spawn request          1.02 0.85 -> 0.54 0.64   0.75 0.74 -> 0.91 0.84
 *   forked                 1.46 1.22 -> 0.76 0.94   1.01 1.20 -> 1.12 1.12
 *   exec'd                 2.26 1.86 -> 1.20 1.45   1.62 1.97 -> 1.89 1.68
 *
 * On ext4 the commit, mkdir and record before the spawn request took
 * 0.39/0.35 ms and now 0.27/0.28 (the commit alone), and the child's log
 * creation and exec 0.80/0.64 ms, now 0.44/0.51. On tmpfs nothing moved
 * beyond the noise: an inode costs microseconds there. What is left
 * between one echo's end and the next's exec, in every run: the pass that
 * records the exit (~0.1 ms), the store's commit of the exit and the next
 * trial's Pending row (~0.25 ms, 11 WAL pages, written by the controller
 * itself), the daemon's request (environment, ~1.7 KB) and the server's
 * wake-up (~0.25 ms), the vfork and the child's set-up and execve (~0.4
 * ms); besides, the parameter-importance ranking runs on the controller
 * thread (23% of its CPU samples over 300 trials of random, perf) and
 * an exit that comes during it waits for its end.
 */
#include "backends/executor_local.h"
#include "collectors/collect.h"
#include "collectors/collector_path.h"
#include "spec/trial_script.h"
#include "util/dirtree.h"
#include "backends/prepared.h"
#include "backends/shell_line.h"
#include "backends/spawn_client.h"
#include "backends/supervisor/spawn_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* ---- environment ---- */

static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env && *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int env_skip(const struct trial_command *cmd, const char *entry)
{
	const char *eq = strchr(entry, '=');
	char key[256];

	if (!eq || (size_t)(eq - entry) >= sizeof(key))
		return 1;
	snprintf(key, sizeof(key), "%.*s", (int)(eq - entry), entry);
	return env_get(cmd->env, key) || !strcmp(key, "KATIB_TRIAL_NAME") ||
	       !strcmp(key, "KATIB_TRIAL_DIR");
}

/* daemon env (minus what the spec overrides) + spec env + ours */
static char **build_env(const struct trial_command *cmd, const char *name,
			const char *dir)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + cmd->nenv + TRIAL_OWN_ENV_MAX + 1, sizeof(char *));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (!env_skip(cmd, environ[i]))
			env[k++] = strdup(environ[i]);
	for (i = 0; i < cmd->nenv; i++)
		env[k++] = strdup(cmd->env[i]);
	if (trial_own_env(cmd, name, dir, env + k) < 0)
		env[k] = NULL;
	return env;
}

static void free_env(char **env)
{
	char **p;

	for (p = env; p && *p; p++)
		free(*p);
	free(env);
}

/*
 * The executable as execve() needs it: a name with a '/' is taken relative
 * to the working directory; a bare name is searched in the trial's PATH.
 */
static int resolve_exe(const char *name, const char *cwd, const char *path,
		       char *out, size_t size, struct kb_error *err)
{
	const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin";
	int saw_eacces = 0;

	if (strchr(name, '/')) {
		if (name[0] == '/')
			snprintf(out, size, "%s", name);
		else
			snprintf(out, size, "%s/%s", cwd, name);
		if (!access(out, X_OK))
			return 0;
		return kb_error_set(err, -errno, "command", 0,
				    "cannot run '%s': %s", out,
				    strerror(errno));
	}
	while (*p) {
		size_t len = strcspn(p, ":");

		snprintf(out, size, "%.*s/%s", (int)len, len ? p : ".", name);
		if (!access(out, X_OK)) {
			struct stat st;

			if (!stat(out, &st) && S_ISREG(st.st_mode))
				return 0;
		}
		saw_eacces |= errno == EACCES;
		p += len + (p[len] == ':');
	}
	if (saw_eacces)
		return kb_error_set(err, -EACCES, "command", 0,
				    "cannot run '%s': permission denied", name);
	return kb_error_set(err, -ENOENT, "command", 0,
			    "command '%s' not found in PATH=%s", name,
			    path ? path : "(unset)");
}

/* ---- finding the supervisor program ---- */

static char shim_path[4096];
static pthread_once_t shim_once = PTHREAD_ONCE_INIT;

/*
 * katibfs-shim is looked for in $KATIBFS_SHIM, beside the running binary,
 * in ../libexec/katibfs/ from it (make install), and one directory up
 * (build/tests/ for the unit tests).
 */
static void find_shim(void)
{
	static const char *const rel[] = { "/katibfs-shim",
					   "/../libexec/katibfs/katibfs-shim",
					   "/../katibfs-shim" };
	const char *env = getenv("KATIBFS_SHIM");
	char self[4096], *slash;
	ssize_t n;
	size_t i;

	if (env && !access(env, X_OK)) {
		snprintf(shim_path, sizeof(shim_path), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(shim_path, sizeof(shim_path), "%s%s", self, rel[i]);
		if (!access(shim_path, X_OK))
			return;
	}
	shim_path[0] = '\0';
}

/*
 * What the supervisor does with the collector's path: nothing, -v (a
 * private view) or -k (no namespaces: the trials take turns).
 */
enum view_mode { VIEW_NONE, VIEW_PRIVATE, VIEW_TAKE_TURNS };

/* A Custom collector's command line (customCollector's command + args),
 * for katibfs-shim -c; owned by the caller (custom_argv_free). */
struct custom_argv {
	char *out;   /* <trial dir>/collector-output.log */
	char **argv; /* NULL-terminated; the strings belong to the spec */
	size_t argc;
	char count[16];
	char **env; /* NAME=VALUE of customCollector.env (owned) */
	size_t nenv;
};

static void custom_argv_free(struct custom_argv *c)
{
	size_t i;

	for (i = 0; i < c->nenv; i++)
		free(c->env[i]);
	free(c->env);
	free(c->out);
	free(c->argv);
}

/* customCollector.env: the entries with a name and a literal value
 * (valueFrom needs a cluster). 0 or -ENOMEM. */
static int custom_env(const cJSON *list, struct custom_argv *c)
{
	const cJSON *e, *name, *value;

	c->env = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(char *));
	if (!c->env)
		return -ENOMEM;
	cJSON_ArrayForEach(e, list)
	{
		name = cJSON_GetObjectItem(e, "name");
		value = cJSON_GetObjectItem(e, "value");
		if (!cJSON_IsString(name) || !cJSON_IsString(value))
			continue;
		if (asprintf(&c->env[c->nenv], "%s=%s", name->valuestring,
			     value->valuestring) < 0)
			return -ENOMEM;
		c->nenv++;
	}
	return 0;
}

static void add_strings(const cJSON *list, struct custom_argv *c)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, list) if (cJSON_IsString(s)) c->argv[c->argc++] =
		s->valuestring;
}

/* 0 (c->argc 0: no collector to run), or -ENOMEM. */
static int custom_argv(const struct collector_spec *spec, const char *trial_dir,
		       struct custom_argv *c)
{
	const cJSON *cmd = cJSON_GetObjectItem(spec->custom_collector,
					       "command"),
		    *args = cJSON_GetObjectItem(spec->custom_collector, "args");

	memset(c, 0, sizeof(*c));
	if (spec->kind != COLLECTOR_CUSTOM || !cJSON_GetArraySize(cmd))
		return 0; /* no command: the controller says so in events */
	c->argv = calloc((size_t)(cJSON_GetArraySize(cmd) +
				  cJSON_GetArraySize(args) + 1),
			 sizeof(char *));
	if (!c->argv || asprintf(&c->out, "%s/" CUSTOM_LOG, trial_dir) < 0) {
		free(c->argv);
		c->argv = NULL;
		c->out = NULL;
		return -ENOMEM;
	}
	add_strings(cmd, c);
	add_strings(args, c);
	snprintf(c->count, sizeof(c->count), "%zu", c->argc);
	return custom_env(cJSON_GetObjectItem(spec->custom_collector, "env"),
			  c);
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

/* shim [-s] [-v TARGET BACKING | -k|-K SHARED FILE LEFTOVER]
 *      [-c OUT N CARGV... [-e NAME=VALUE]... -g GRACE] LOG CWD EXE -- argv */
static char **shim_argv(const struct trial_command *cmd, const char *log,
			const char *cwd, const char *exe, int as_shell,
			enum view_mode mode, const struct collector_view *view,
			const struct custom_argv *custom)
{
	char **v = calloc(cmd->argc + custom->argc + 2 * custom->nenv + 17,
			  sizeof(char *));
	size_t i, k = 0;

	if (!v)
		return NULL;
	v[k++] = shim_path;
	if (as_shell)
		v[k++] = "-s";
	if (mode == VIEW_PRIVATE) {
		v[k++] = "-v";
		v[k++] = (char *)view->target;
		v[k++] = (char *)view->backing;
	} else if (mode == VIEW_TAKE_TURNS) {
		/* a directory (TensorFlowEvent) is read where it is backed */
		v[k++] = strcmp(view->file, view->backing) ? "-k" : "-K";
		v[k++] = (char *)view->shared;
		v[k++] = (char *)view->file;
		v[k++] = (char *)view->leftover;
	}
	if (custom->argc) {
		v[k++] = "-c";
		v[k++] = custom->out;
		v[k++] = (char *)custom->count;
		for (i = 0; i < custom->argc; i++)
			v[k++] = custom->argv[i];
		for (i = 0; i < custom->nenv; i++) {
			v[k++] = "-e";
			v[k++] = custom->env[i];
		}
		v[k++] = "-g";
		v[k++] = STRINGIFY(COLLECTOR_EXIT_GRACE);
	}
	v[k++] = (char *)log;
	v[k++] = (char *)cwd;
	v[k++] = (char *)exe;
	v[k++] = "--";
	for (i = 0; i < cmd->argc; i++)
		v[k++] = cmd->argv[i];
	return v;
}

/* ---- the daemon's side ---- */

/*
 * `sh -c LINE` whose LINE is plain words (core/backends/shell_line.c): the
 * words, for the supervisor to run in the shell's place (-s), and their
 * program in exe. NULL when the shell must run it: also when the program
 * is not found (the shell's own message and 127 then), or would be hidden
 * by the collector's private view, or a bare name with no PATH set (the
 * shell's default PATH is its own).
 */
static char **shell_words(const struct trial_command *cmd, const char *cwd,
			  char **env, enum view_mode mode,
			  const struct collector_view *view, char *exe,
			  size_t size)
{
	const char *path = env_get(env, "PATH");
	char **words;

	if (cmd->argc != 3 || strcmp(cmd->argv[0], "sh") ||
	    strcmp(cmd->argv[1], "-c"))
		return NULL;
	words = shell_line_words(cmd->argv[2]);
	if (words &&
	    ((!path && !strchr(words[0], '/')) ||
	     resolve_exe(words[0], cwd, path, exe, size, NULL) ||
	     (mode == VIEW_PRIVATE && path_within(exe, view->target)))) {
		free(words);
		words = NULL;
	}
	return words;
}

/* words: what runs in place of `sh -c` (shell_words), or NULL; exe the
 * program that runs. */
static int spawn_shim(const struct trial_command *cmd, char **words,
		      const char *log, const char *cwd, const char *exe,
		      char **env, int record_fd, enum view_mode mode,
		      const struct collector_view *view,
		      const struct custom_argv *custom, struct spawned *sp,
		      struct kb_error *err)
{
	struct trial_command direct = *cmd;
	char **argv;
	int rc;

	if (words) {
		for (direct.argc = 0; words[direct.argc]; direct.argc++)
			;
		direct.argv = words;
	}
	argv = shim_argv(&direct, log, cwd, exe, words != NULL, mode, view,
			 custom);
	rc = argv ? spawn_supervisor(argv, env, record_fd, sp) : -ENOMEM;
	free(argv);
	if (rc)
		return kb_error_set(err, rc, NULL, 0,
				    "cannot start the trial supervisor %s: %s",
				    shim_path, strerror(-rc));
	return 0;
}

/*
 * A private view hides what was in its directory, as a pod's volume
 * mount does: refuse one that would hide the trial's working directory or
 * its program, rather than start a trial that cannot run.
 */
static int check_view(const struct collector_view *view, const char *cwd,
		      const char *exe, struct kb_error *err)
{
	const char *hidden = path_within(cwd, view->target)   ? cwd
			     : path_within(exe, view->target) ? exe
							      : NULL;

	if (!strcmp(view->target, "/"))
		return kb_error_set(
			err, -EINVAL,
			"spec.metricsCollectorSpec.source.fileSystemPath", 0,
			"each trial sees its own empty directory of %s (as a "
			"pod's volume), which cannot be /; use a directory of "
			"its own, e.g. /var/log/katib/metrics.log",
			view->shared);
	if (!hidden)
		return 0;
	return kb_error_set(err, -EINVAL,
			    "spec.metricsCollectorSpec.source.fileSystemPath",
			    0,
			    "each trial sees its own empty %s (as a pod's "
			    "volume), which would hide %s; give the "
			    "collector a directory of its own, e.g. "
			    "/var/log/katib/metrics.log",
			    view->target, hidden);
}

/* What run->priv holds (owned by the run: local_release frees it and
 * closes sp.sigfd and server_pidfd). */
struct local_run {
	struct spawned sp; /* pid: the supervisor, or a plain trial; child:
			      we spawned it, to reap */
	int direct;	   /* pid is a plain trial a fork server supervises */
	int server_pidfd;  /* that server's, from the record, or -1 */
};

static pid_t run_pid(const struct trial_run *run)
{
	const struct local_run *lr = run->priv;

	return lr ? lr->sp.pid : 0;
}

static int run_is_child(const struct trial_run *run)
{
	const struct local_run *lr = run->priv;

	return lr && lr->sp.child;
}

/* The record, locked, with the engine's head (or nothing) in it. */
static int open_record(const char *trial_dir, const char *head,
		       struct kb_error *err)
{
	char path[4096];
	size_t n = head ? strlen(head) : 0;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/" SUPERVISOR_FILE, trial_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		  0644);
	if (fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB) &&
	    (!n || write(fd, head, n) == (ssize_t)n))
		return fd;
	rc = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	return kb_error_set(err, rc, NULL, 0, "cannot write and lock %s: %s",
			    path, strerror(-rc));
}

/* The record made ahead (prepared.h), empty and locked, with the head. */
static int fill_record(int fd, const char *head, struct kb_error *err)
{
	size_t n = head ? strlen(head) : 0;

	if (!n || write(fd, head, n) == (ssize_t)n)
		return fd;
	close(fd);
	return kb_error_set(err, -EIO, NULL, 0,
			    "cannot write the trial's record: %s",
			    strerror(errno ? errno : EIO));
}

/* record: the trial's record made ahead with its directory, or -1. */
static int start_trial(const struct trial_command *cmd, const char *trial_name,
		       const char *trial_dir, const char *log_path,
		       const char *head, int record, enum view_mode mode,
		       const struct collector_view *view,
		       const struct custom_argv *custom, struct trial_run *run,
		       struct kb_error *err)
{
	const char *cwd = cmd->working_dir ? cmd->working_dir : trial_dir;
	char exe[4096];
	char **env = NULL, **words = NULL;
	struct local_run *lr;
	struct spawned sp;
	struct stat st;
	int rc, fd = -1;

	run->pidfd = -1;
	run->priv = NULL;
	pthread_once(&shim_once, find_shim);
	if (!shim_path[0])
		return kb_error_set(err, -ENOENT, NULL, 0,
				    "the trial supervisor katibfs-shim was not "
				    "found beside katibfs nor in "
				    "../libexec/katibfs/ (set KATIBFS_SHIM)");
	if (stat(cwd, &st) || !S_ISDIR(st.st_mode))
		return kb_error_set(err, -ENOENT, "workingDir", 0,
				    "working directory %s does not exist", cwd);
	lr = calloc(1, sizeof(*lr));
	env = lr ? build_env(cmd, trial_name, trial_dir) : NULL;
	if (!env) {
		free(lr);
		return -ENOMEM;
	}
	/* the program that runs: a plain line's own (no walk of PATH for
	 * the shell it replaces), or the command's */
	words = shell_words(cmd, cwd, env, mode, view, exe, sizeof(exe));
	rc = words ? 0
		   : resolve_exe(cmd->argv[0], cwd, env_get(env, "PATH"), exe,
				 sizeof(exe), err);
	if (!rc && mode == VIEW_PRIVATE) {
		rc = check_view(view, cwd, exe, err);
		if (!rc && mkdir(view->backing, 0755) && errno != EEXIST)
			rc = kb_error_set(err, -errno, NULL, 0,
					  "cannot create %s: %s", view->backing,
					  strerror(errno));
	}
	if (rc)
		goto out;
	fd = record >= 0 ? fill_record(record, head, err)
			 : open_record(trial_dir, head, err);
	record = -1;
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	rc = spawn_shim(cmd, words, log_path, cwd, exe, env, fd, mode, view,
			custom, &sp, err);
	if (rc)
		goto out;
	run->pidfd =
		sp.pidfd >= 0 || !sp.pid ? sp.pidfd : sys_pidfd_open(sp.pid);
	sp.pidfd = -1; /* the run's */
	lr->sp = sp;
	lr->direct = sp.server != 0;
	lr->server_pidfd = -1;
	run->priv = lr;
	lr = NULL;
out:
	if (fd >= 0)
		close(fd); /* the supervisor holds the lock now */
	if (record >= 0)
		close(record);
	free(lr);
	free(words);
	free_env(env);
	return rc;
}

int local_start(const struct trial_command *cmd, const char *trial_name,
		const char *trial_dir, const char *log_path,
		struct trial_run *run, struct kb_error *err)
{
	struct custom_argv none = { 0 };

	return start_trial(cmd, trial_name, trial_dir, log_path, NULL, -1,
			   VIEW_NONE, NULL, &none, run, err);
}

/* The supervisor file: after the engine's head (at most SLOT_TEXT_MAX
 * bytes), "pid <supervisor> <trial>" or, for a plain trial its fork server
 * supervises, "pid <trial> <trial> <server>"; then the exit. */
struct record {
	pid_t pid;    /* the supervisor's, or a plain trial's */
	pid_t trial;  /* the trial's */
	pid_t server; /* a plain trial's fork server, or 0 */
	int has_exit, code, sig;
};

static int read_record(int fd, struct record *r)
{
	char buf[8192], *line, *save = NULL;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	memset(r, 0, sizeof(*r));
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		long a, b, c = 0;

		if (sscanf(line, "pid %ld %ld %ld", &a, &b, &c) >= 2) {
			r->pid = (pid_t)a;
			r->trial = (pid_t)b;
			r->server = (pid_t)c;
		} else if (sscanf(line, "exit %ld %ld", &a, &b) == 2) {
			r->has_exit = 1;
			r->code = (int)a;
			r->sig = (int)b;
		}
	}
	return 0;
}

static int fd_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) > 0;
}

/* The supervisor (or plain trial) its record names, for a run that had
 * another or none (a trial found after a restart). Called while the record
 * is locked and checked again after: its pids are then the processes'. */
static void adopt_pid(struct trial_run *run, const struct record *r)
{
	struct local_run *lr;

	local_release(run);
	/* without it (ENOMEM) the pid is only compared again */
	lr = calloc(1, sizeof(*lr));
	run->priv = lr;
	if (!lr)
		return;
	lr->sp.pid = r->pid;
	lr->sp.sigfd = -1;
	lr->direct = r->pid == r->trial;
	lr->server_pidfd =
		lr->direct && r->server > 0 ? sys_pidfd_open(r->server) : -1;
}

/* A plain trial of ours that has ended: its server wrote the exit it
 * recorded on the pipe (run->pidfd) before closing it. 1 with r set. */
static int own_exit(const struct trial_run *run, struct record *r)
{
	const struct local_run *lr = run->priv;
	struct spawn_exit ex;

	if (!lr || !lr->direct || !lr->sp.server || run->pidfd < 0 ||
	    read(run->pidfd, &ex, sizeof(ex)) != (ssize_t)sizeof(ex))
		return 0;
	r->has_exit = 1;
	r->code = ex.code;
	r->sig = ex.sig;
	return 1;
}

/* A plain trial has ended and its fork server holds the record still:
 * it is writing the exit. Wait for that (bounded), then read it. */
static enum trial_probe await_record(int fd, struct record *r)
{
	int tries;

	for (tries = 0; tries < 200; tries++) {
		if (!flock(fd, LOCK_SH | LOCK_NB)) {
			read_record(fd, r);
			return r->has_exit ? PROBE_EXITED : PROBE_LOST;
		}
		usleep(5000);
	}
	return PROBE_RUNNING;
}

enum trial_probe local_probe(const char *trial_dir, struct trial_run *run,
			     int *exit_code, int *term_signal)
{
	enum trial_probe result = PROBE_LOST;
	struct record r = { 0 };
	char path[4096];
	int fd, tries;

	if (run_is_child(run) && run_pid(run) > 0)
		waitpid(run_pid(run), NULL, WNOHANG); /* reap: the file tells */
	if (own_exit(run, &r)) {
		*exit_code = r.code;
		*term_signal = r.sig;
		return PROBE_EXITED;
	}
	snprintf(path, sizeof(path), "%s/" SUPERVISOR_FILE, trial_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PROBE_NEVER_STARTED;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		read_record(fd, &r);
		/* no line at all: the daemon died between creating the file
		 * and forking the supervisor, so the trial never ran */
		result = r.has_exit ? PROBE_EXITED
			 : r.pid    ? PROBE_LOST
				    : PROBE_NEVER_STARTED;
		goto out;
	}
	/* locked: a supervisor holds it; its pid line may lag the fork */
	for (tries = 0; tries < 200 && !r.pid; tries++) {
		read_record(fd, &r);
		if (!r.pid)
			usleep(5000);
	}
	if (r.pid <= 0)
		goto out;
	if (run_pid(run) != r.pid)
		adopt_pid(run, &r);
	/* a plain trial's: its server records the exit before reaping it,
	 * so while the record is locked the pid is the trial's */
	if (run->pidfd < 0)
		run->pidfd = sys_pidfd_open(r.pid);
	/* still locked after the pidfd exists: the pidfd is that process */
	result = flock(fd, LOCK_SH | LOCK_NB) ? PROBE_RUNNING : PROBE_LOST;
	if (result == PROBE_LOST) {
		read_record(fd, &r);
		result = r.has_exit ? PROBE_EXITED : PROBE_LOST;
	} else if (r.pid == r.trial && fd_ready(run->pidfd)) {
		result = await_record(fd, &r);
	}
out:
	close(fd);
	*exit_code = r.code;
	*term_signal = r.sig;
	return result;
}

/* A plain trial re-adopted from another daemon's fork server: the signal
 * goes through that server (SPAWN_SIGNAL_RT), which forwards it. */
static int signal_server(const struct local_run *lr, int force)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_signo = SPAWN_SIGNAL_RT;
	info.si_code = SI_QUEUE;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = (int)((lr->sp.pid & SPAWN_SIGNAL_PID) |
					(force ? SPAWN_SIGNAL_KILL : 0));
	return (int)syscall(SYS_pidfd_send_signal, lr->server_pidfd,
			    SPAWN_SIGNAL_RT, &info, 0)
		       ? -errno
		       : 0;
}

int local_terminate(const struct trial_run *run, int force)
{
	const struct local_run *lr = run->priv;
	int sig = force ? SIGUSR1 : SIGTERM;

	if (lr && lr->direct) {
		/* a plain trial: through its server, as its own supervisor
		 * would forward it; else to the trial itself */
		if (!spawn_signal(&lr->sp, force))
			return 0;
		if (lr->server_pidfd >= 0 && !signal_server(lr, force))
			return 0;
		sig = force ? SIGKILL : SIGTERM;
		if (lr->sp.sigfd >= 0)
			return sys_pidfd_send_signal(lr->sp.sigfd, sig) ? -errno
									: 0;
		/* re-adopted: run->pidfd is the trial's */
	}
	if (run->pidfd >= 0)
		return sys_pidfd_send_signal(run->pidfd, sig) ? -errno : 0;
	/* no pidfd (an old kernel, valgrind): our own child cannot have
	 * been reaped and its pid reused while run->priv holds it */
	if (run_pid(run) > 0 && run_is_child(run))
		return kill(run_pid(run), sig) ? -errno : 0;
	return -ESRCH;
}

void local_release(struct trial_run *run)
{
	struct local_run *lr = run->priv;

	if (run->pidfd >= 0)
		close(run->pidfd);
	run->pidfd = -1;
	if (lr && lr->sp.sigfd >= 0)
		close(lr->sp.sigfd);
	if (lr && lr->server_pidfd >= 0)
		close(lr->server_pidfd);
	free(lr);
	run->priv = NULL;
}

/* ---- private collector paths: can this kernel give them? ---- */

struct local_backend {
	char *state_dir;
	char *configmaps; /* --configmaps DIR, or NULL */
	/* trial directories made ahead (prepared.h), and the record of the
	 * one last taken, until its start (-1: none) */
	struct prepared_dirs *prepared;
	int taken_record;
	char taken_dir[4096];
	int probed;
	int views; /* 0, or the negative errno that refused them */
	char why[256];
};

/*
 * katibfs-shim --probe STATE: the namespace a trial would get. Run once
 * per daemon, when an experiment first needs it (a few ms).
 */
static int run_probe(const char *dir, char *why, size_t size)
{
	char *argv[] = { shim_path, "--probe", (char *)dir, NULL };
	int status, rc;
	pid_t pid;

	if (getenv("KATIBFS_TEST_NO_NAMESPACES")) {
		snprintf(why, size,
			 "namespaces are turned off by "
			 "KATIBFS_TEST_NO_NAMESPACES (for tests)");
		return -EPERM;
	}
	pthread_once(&shim_once, find_shim);
	if (!shim_path[0]) {
		snprintf(why, size, "katibfs-shim was not found");
		return -ENOENT;
	}
	rc = posix_spawn(&pid, shim_path, NULL, NULL, argv, environ);
	if (rc) {
		snprintf(why, size, "cannot run %s: %s", shim_path,
			 strerror(rc));
		return -rc;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
	if (rc)
		snprintf(why, size,
			 "the kernel refuses trials a private mount namespace"
			 "%s: %s",
			 geteuid() ? " (through a user namespace)" : "",
			 strerror(rc));
	return -rc;
}

static int lb_private_paths(void *priv, char *why, size_t size)
{
	struct local_backend *lb = priv;

	if (!lb->probed) {
		lb->views = run_probe(lb->state_dir, lb->why, sizeof(lb->why));
		lb->probed = 1;
	}
	if (why && size)
		snprintf(why, size, "%s", lb->why);
	return lb->views;
}

/* ---- as a backend ---- */

static void lb_close(void *priv);

static int lb_open(const struct backend_options *opt, void **priv,
		   struct kb_error *err)
{
	struct local_backend *lb = calloc(1, sizeof(*lb));

	if (!lb ||
	    !(lb->state_dir = strdup(opt->state_dir ? opt->state_dir : "/")) ||
	    (opt->configmaps && !(lb->configmaps = strdup(opt->configmaps)))) {
		if (lb)
			free(lb->state_dir);
		free(lb);
		return -ENOMEM;
	}
	lb->taken_record = -1;
	if (prepared_open(&lb->prepared)) {
		lb_close(lb);
		return -ENOMEM;
	}
	*priv = lb;
	return 0;
}

static void lb_close(void *priv)
{
	struct local_backend *lb = priv;

	if (lb) {
		prepared_close(lb->prepared);
		if (lb->taken_record >= 0)
			close(lb->taken_record);
		free(lb->state_dir);
		free(lb->configmaps);
	}
	free(lb);
}

/* The record of trial_dir's directory if it was made ahead (the caller's
 * now), else -1. */
static int taken_record(void *priv, const char *trial_dir)
{
	struct local_backend *lb = priv;
	int fd = lb->taken_record;

	if (fd < 0 || strcmp(lb->taken_dir, trial_dir))
		return -1;
	lb->taken_record = -1;
	return fd;
}

static void lb_prepare_next(void *priv, const char *exp_dir)
{
	prepared_want(((struct local_backend *)priv)->prepared, exp_dir);
}

/* The controller's thread only, as lb_start that uses what it took. */
static int lb_take_prepared(void *priv, const char *exp_dir,
			    const char *trial_dir)
{
	struct local_backend *lb = priv;
	int fd, rc = prepared_take(lb->prepared, exp_dir, trial_dir, &fd);

	if (rc)
		return rc;
	if (lb->taken_record >= 0) /* a start that never came */
		close(lb->taken_record);
	lb->taken_record = fd;
	snprintf(lb->taken_dir, sizeof(lb->taken_dir), "%s", trial_dir);
	return 0;
}

static void lb_discard_prepared(void *priv, const char *exp_dir)
{
	prepared_discard(((struct local_backend *)priv)->prepared, exp_dir);
}

static int lb_start(void *priv, const struct backend_trial *t,
		    struct trial_run *run, struct kb_error *err)
{
	struct collector_view view;
	struct custom_argv custom;
	enum view_mode mode = VIEW_NONE;
	int rc = collector_view(&t->spec->collector, t->dir, &view);

	if (rc < 0)
		return kb_error_set(err, rc,
				    "spec.metricsCollectorSpec.source."
				    "fileSystemPath",
				    0, "%s: %s", t->spec->collector.path,
				    strerror(-rc));
	if (rc == 1 && !lb_private_paths(priv, NULL, 0))
		mode = VIEW_PRIVATE;
	else if (rc == 1)
		mode = VIEW_TAKE_TURNS;
	if (custom_argv(&t->spec->collector, t->dir, &custom)) {
		custom_argv_free(&custom);
		return -ENOMEM;
	}
	rc = start_trial(t->cmd, t->name, t->dir, t->log_path, t->record_head,
			 taken_record(priv, t->dir), mode, &view, &custom, run,
			 err);
	custom_argv_free(&custom);
	return rc;
}

static enum trial_probe lb_probe(void *priv, const struct backend_trial *t,
				 struct trial_run *run, int *exit_code,
				 int *term_signal)
{
	return local_probe(t->dir, run, exit_code, term_signal);
}

static int lb_terminate(void *priv, const struct backend_trial *t,
			struct trial_run *run, int force)
{
	return local_terminate(run, force);
}

static void lb_release(void *priv, struct trial_run *run)
{
	local_release(run);
}

/* A File collector's output: the trial's own copy (include/katib/
 * collector_path.h), the shared path only while trials take turns on it;
 * a relative path is in the trial's directory. */
static void lb_collector_file(void *priv, const struct collector_spec *c,
			      const char *trial_dir, char *buf, size_t size)
{
	struct collector_view view;

	if (collector_view(c, trial_dir, &view) == 1)
		snprintf(buf, size, "%s",
			 access(view.backing, F_OK) ? view.shared : view.file);
	else if (c->path[0] == '/')
		snprintf(buf, size, "%s", c->path);
	else
		snprintf(buf, size, "%s/%s", trial_dir, c->path);
}

/* PBT's checkpoints: trials share this machine's filesystem, so a copy. */
static int lb_copy_checkpoint(void *priv, const char *from, const char *to,
			      struct kb_error *err)
{
	int src, dst, rc;

	rc = dirtree_remove(AT_FDCWD, to);
	if (!rc && mkdir(to, 0755))
		rc = -errno;
	if (rc)
		return kb_error_set(err, rc, NULL, 0, "cannot create %s: %s",
				    to, strerror(-rc));
	src = from ? open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (src < 0)
		return 0; /* nothing saved there */
	dst = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = dst < 0 ? -errno : dirtree_copy(src, dst);
	if (dst >= 0)
		close(dst);
	close(src);
	if (rc)
		return kb_error_set(err, rc, NULL, 0,
				    "cannot copy checkpoint %s to %s: %s", from,
				    to, strerror(-rc));
	return 0;
}

/* No cluster here: the ConfigMap manifests of --configmaps DIR. */
static int lb_read_configmap(void *priv, const char *exp_ns, const char *ns,
			     const char *name, const char *key, char **text,
			     struct kb_error *err)
{
	struct local_backend *lb = priv;
	struct configmap_dir cd = { .dir = lb->configmaps };

	return configmap_dir_fetch(&cd, exp_ns, ns, name, key, text, err);
}

const struct backend_ops local_backend = {
	.name = "local",
	.open = lb_open,
	.close = lb_close,
	.start = lb_start,
	.probe = lb_probe,
	.terminate = lb_terminate,
	.release = lb_release,
	.private_paths = lb_private_paths,
	.trial_slots = 1,
	.record_file = SUPERVISOR_FILE,
	.collectors = BACKEND_COLLECTOR(COLLECTOR_STDOUT) |
		      BACKEND_COLLECTOR(COLLECTOR_FILE) |
		      BACKEND_COLLECTOR(COLLECTOR_TFEVENT) |
		      BACKEND_COLLECTOR(COLLECTOR_PROMETHEUS) |
		      BACKEND_COLLECTOR(COLLECTOR_CUSTOM) |
		      BACKEND_COLLECTOR(COLLECTOR_PUSH) |
		      BACKEND_COLLECTOR(COLLECTOR_NONE),
	.renders_manifest = 0,
	.configmaps_dir = 1,
	.collector_file = lb_collector_file,
	.copy_checkpoint = lb_copy_checkpoint,
	.prepare_next = lb_prepare_next,
	.take_prepared = lb_take_prepared,
	.discard_prepared = lb_discard_prepared,
	.read_configmap = lb_read_configmap,
};
