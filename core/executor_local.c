/*
 * executor_local.c - run trials as local processes (include/katib/executor.h).
 *
 * posix_spawn (vfork-based in glibc) keeps the per-trial cost near that of
 * a shell starting the same command; exec failures come back as its
 * return value, so "command not found" is reported, not hidden in a log.
 */
#include "katib/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int env_has(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env && *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return 1;
	return 0;
}

/* daemon env (minus what the spec overrides) + spec env + ours */
static char **build_env(const struct trial_command *cmd, const char *name,
			const char *dir)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + cmd->nenv + 4, sizeof(char *));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		char key[256];

		if (!eq || (size_t)(eq - environ[i]) >= sizeof(key))
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(eq - environ[i]),
			 environ[i]);
		if (env_has(cmd->env, key) || !strcmp(key, "KATIB_TRIAL_NAME") ||
		    !strcmp(key, "KATIB_TRIAL_DIR"))
			continue;
		env[k++] = strdup(environ[i]);
	}
	for (i = 0; i < cmd->nenv; i++)
		env[k++] = strdup(cmd->env[i]);
	if (asprintf(&env[k++], "KATIB_TRIAL_NAME=%s", name) < 0)
		env[k - 1] = NULL;
	if (asprintf(&env[k++], "KATIB_TRIAL_DIR=%s", dir) < 0)
		env[k - 1] = NULL;
	if (!env_has(cmd->env, "PYTHONUNBUFFERED"))
		env[k++] = strdup("PYTHONUNBUFFERED=1");
	return env;
}

static void free_env(char **env)
{
	char **p;

	for (p = env; p && *p; p++)
		free(*p);
	free(env);
}

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
			attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				      POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawnattr_setpgroup(attr, 0);
	if (!rc)
		rc = posix_spawnattr_setsigmask(attr, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(attr, &all);
	return rc;
}

static int setup_files(posix_spawn_file_actions_t *fa, const char *log_path,
		       const char *cwd)
{
	int rc = posix_spawn_file_actions_init(fa);

	if (!rc)
		rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null",
						      O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(
			fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, 1, 2);
	if (!rc && cwd)
		rc = posix_spawn_file_actions_addchdir_np(fa, cwd);
	return rc;
}

int local_spawn(const struct trial_command *cmd, const char *trial_name,
		const char *trial_dir, const char *log_path, pid_t *pid,
		int *pidfd, struct kb_error *err)
{
	const char *cwd = cmd->working_dir ? cmd->working_dir : trial_dir;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char **env = build_env(cmd, trial_name, trial_dir);
	int rc;

	if (!env)
		return -ENOMEM;
	rc = setup_attr(&attr);
	if (!rc)
		rc = setup_files(&fa, log_path, cwd);
	if (rc) {
		free_env(env);
		return kb_error_set(err, -rc, NULL, 0,
				    "cannot prepare the trial process: %s",
				    strerror(rc));
	}
	rc = posix_spawnp(pid, cmd->argv[0], &fa, &attr, cmd->argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free_env(env);
	if (rc)
		return kb_error_set(err, -rc, "command", 0,
				    "cannot run '%s' (working directory %s): %s",
				    cmd->argv[0], cwd, strerror(rc));
	*pidfd = pidfd_open_compat(*pid);
	return 0;
}

int local_signal(pid_t pgid, int sig)
{
	if (pgid <= 0)
		return -ESRCH;
	return kill(-pgid, sig) ? -errno : 0;
}

int local_reap(pid_t pid, int *exit_code, int *term_signal)
{
	int status;
	pid_t r = waitpid(pid, &status, WNOHANG);

	if (r == 0)
		return 0;
	if (r < 0)
		return -errno;
	*term_signal = 0;
	if (WIFEXITED(status)) {
		*exit_code = WEXITSTATUS(status);
	} else {
		*term_signal = WTERMSIG(status);
		*exit_code = 128 + *term_signal;
	}
	kill(-pid, SIGKILL); /* leftovers of the trial's process group */
	return 1;
}

int local_is_trial(pid_t pid, const char *name)
{
	char path[64], want[128], buf[65536];
	size_t wl, i;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	wl = (size_t)snprintf(want, sizeof(want), "KATIB_TRIAL_NAME=%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (i = 0; i < (size_t)n; i += strlen(buf + i) + 1) {
		buf[n] = '\0';
		if (!strncmp(buf + i, want, wl + 1))
			return 1;
	}
	return 0;
}
