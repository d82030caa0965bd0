/*
 * spawn_server.c - katibfs-shim --serve: the daemon's fork server, and the
 * supervisor of its plain trials.
 *
 * Exec'ing katibfs-shim for every trial cost the daemon's controller about
 * as much as the trial's own program (a vfork that waits for the exec, then
 * the static program's start). This process is that exec done once: the
 * daemon starts it in a session of its own with fd 3 on a socketpair, and
 * for each trial sends the supervisor's argv, environment and locked
 * record (core/backends/supervisor/spawn_proto.h).
 *
 * A plain trial (no collector view, shared file or Custom collector: the
 * options that need a process of their own) is forked here directly, one
 * process hand-off fewer at its start and none at its end: this process
 * holds its record (and so its lock), writes "pid <trial> <trial>
 * <server>", and
 * when it ends records its exit as katibfs-shim would, before reaping it
 * (while the record is locked, its pid is the trial's), then closes the
 * pipe whose other end the daemon polls. Signals come as requests on the
 * socket (or, from a daemon mounted later, as SPAWN_SIGNAL_RT) and go to
 * the trial's group as its own supervisor would send them. When the daemon's
 * end of the socket closes (the daemon gone, or killed), the server takes no
 * more requests and exits once the last of its trials has been recorded: a
 * daemon mounted later finds them by their locked records, as it finds any
 * supervisor's.
 *
 * Any other trial gets a supervisor forked from here: the child becomes
 * exactly the supervisor katibfs-shim would have been (supervise() in a
 * new session, fd 3 on the record, default signals, an empty mask). The
 * reply carries a pidfd of it, taken before this process can reap it, so
 * it names that process and no other.
 *
 * Owns the request being served and the table of its plain trials (struct
 * direct: the record, the pipe's write end, the log's path).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"
#include "spawn_proto.h"

#define SOCK_FD 3

extern char **environ;

/* A trial this process supervises itself. */
struct direct {
	pid_t pid;     /* the trial's; its group's id */
	int record;    /* its locked record */
	int done;      /* the write end of the daemon's pipe */
	int forwarded; /* the first signal forwarded, or 0 */
	struct shim_options o;
	char *log; /* o.log's own copy (the request's strings go) */
};

static struct direct *directs;
static size_t ndirect, direct_cap;

static struct direct *direct_find(pid_t pid)
{
	size_t i;

	for (i = 0; i < ndirect; i++)
		if (directs[i].pid == pid)
			return &directs[i];
	return NULL;
}

/* Plain: nothing that katibfs-shim does in a process of its own. */
static int is_plain(const struct shim_options *o)
{
	return !o->target && !o->shared && !o->cargv;
}

/* The trial has ended (not reaped yet: pid is still its own): what is
 * left of its group goes, its exit is recorded, and the daemon hears. */
static void direct_ended(struct direct *d, const siginfo_t *si)
{
	struct spawn_exit ex;
	int status, code, sig;
	ssize_t n;

	kill(-d->pid, SIGKILL);
	if (si->si_code == CLD_EXITED)
		status = (si->si_status & 0xff) << 8;
	else
		status = (si->si_status & 0x7f) |
			 (si->si_code == CLD_DUMPED ? 0x80 : 0);
	d->o.log = d->log;
	shim_exit_status(&d->o, status, d->forwarded, &code, &sig);
	dprintf(d->record, "exit %d %d\n", code, sig);
	close(d->record);
	ex.code = code;
	ex.sig = sig;
	/* the same, for the daemon not to read the record back (a pipe
	 * takes 8 bytes at once; a daemon gone: EPIPE, SIGPIPE ignored) */
	n = write(d->done, &ex, sizeof(ex));
	(void)n;
	close(d->done);
	free(d->log);
	*d = directs[--ndirect];
}

/* Every child that has ended: a plain trial is recorded before it is
 * reaped; a supervisor is only reaped. */
static void reap_children(void)
{
	siginfo_t si;
	pid_t pid;

	for (;;) {
		struct direct *d;

		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) ||
		    !si.si_pid)
			return;
		pid = si.si_pid;
		d = direct_find(pid);
		if (d)
			direct_ended(d, &si);
		waitpid(pid, NULL, 0);
	}
}

/* A signal request: SIGKILL (kill) or SIGTERM for a plain trial's group,
 * the first one remembered for its exit, as katibfs-shim's forward(). */
static void signal_direct(pid_t pid, int kill_it)
{
	struct direct *d = direct_find(pid);
	int sig = kill_it ? SIGKILL : SIGTERM;

	if (!d)
		return; /* ended meanwhile */
	kill(-d->pid, sig);
	if (!d->forwarded)
		d->forwarded = sig;
}

static int read_full(char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(SOCK_FD, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* n strings from *p (within end) as a NULL-terminated vector, or NULL. */
static char **strings(char **p, const char *end, uint32_t n)
{
	char **v = calloc((size_t)n + 1, sizeof(char *));
	uint32_t i;

	for (i = 0; v && i < n; i++) {
		char *nul = memchr(*p, '\0', (size_t)(end - *p));

		if (!nul) {
			free(v);
			return NULL;
		}
		v[i] = *p;
		*p = nul + 1;
	}
	return v;
}

static void send_reply(int err, pid_t pid, const int fds[SPAWN_MAX_FDS],
		       unsigned flags)
{
	struct spawn_reply r = { .err = err, .pid = pid, .flags = flags };

	spawn_send(SOCK_FD, &r, sizeof(r), fds);
}

/* -s: the environment with PWD as sh sets it at its start in directory
 * cwd (kept if it names cwd, else cwd's physical path, as getcwd gives
 * it), decided here rather than in the vfork child, whose setenv would
 * allocate in this process's heap and leak there at every trial. *env is
 * envp, changed in place, or when envp has no PWD a new vector (*own, for
 * the caller to free; envp's strings borrowed); pwd holds the entry. */
static int shell_env(char **envp, const char *cwd, char *pwd, size_t size,
		     char ***env, char ***own)
{
	char path[PATH_MAX];
	struct stat a, b;
	size_t i, n;

	*env = envp;
	*own = NULL;
	for (i = 0; envp[i] && strncmp(envp[i], "PWD=", 4); i++)
		;
	if (envp[i] && envp[i][4] == '/' && !stat(envp[i] + 4, &a) &&
	    !stat(cwd, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	if (!realpath(cwd, path))
		return 0; /* the child's chdir fails and says why */
	if (snprintf(pwd, size, "PWD=%s", path) >= (int)size)
		return ENAMETOOLONG;
	if (envp[i]) {
		envp[i] = pwd;
		return 0;
	}
	for (n = i; envp[n]; n++)
		;
	if (!(*own = calloc(n + 2, sizeof(char *))))
		return ENOMEM;
	memcpy(*own, envp, n * sizeof(char *));
	(*own)[n] = pwd;
	*env = *own;
	return 0;
}

/* vfork: no copy of this process's page tables to make and undo at the
 * exec. The child only sets up its own fds, signals and working directory
 * and execs (or _exits), allocating nothing; what it changes in the memory
 * it shares is environ, put back here. The child's pid, or -1. */
static pid_t vfork_trial(int sfd, const struct shim_options *o, char **env)
{
	char **saved_environ = environ;
	pid_t pid = vfork();

	if (pid == 0) {
		close(sfd);
		signal(SIGPIPE, SIG_DFL);
		environ = env;
		shim_run_trial(o); /* closes fd 3, the socket */
	}
	environ = saved_environ;
	return pid;
}

/* Fork a plain trial and keep its record; the pipe's read end and a pidfd
 * of the trial into fds. */
static int start_direct(int record, int sfd, char **argv, int argc, char **envp,
			pid_t *pid, int fds[SPAWN_MAX_FDS])
{
	char **env = envp, **own = NULL;
	char pwd[PATH_MAX + 8];
	struct direct *d;
	int p[2], err;

	if (ndirect == direct_cap) {
		size_t cap = direct_cap ? direct_cap * 2 : 8;

		d = realloc(directs, cap * sizeof(*d));
		if (!d)
			return ENOMEM;
		directs = d;
		direct_cap = cap;
	}
	d = &directs[ndirect];
	memset(d, 0, sizeof(*d));
	if (shim_parse_options(argc, argv, &d->o))
		return EINVAL;
	if (d->o.as_shell) {
		err = shell_env(envp, d->o.cwd, pwd, sizeof(pwd), &env, &own);
		if (err)
			return err;
		d->o.pwd_ready = 1;
	}
	if (!(d->log = strdup(d->o.log))) {
		free(own);
		return ENOMEM;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		err = errno;
		free(d->log);
		free(own);
		return err;
	}
	*pid = vfork_trial(sfd, &d->o, env);
	err = *pid < 0 ? errno : 0;
	free(own);
	if (err) {
		close(p[0]);
		close(p[1]);
		free(d->log);
		return err;
	}
	setpgid(*pid, *pid); /* as the child does: a signal finds its group */
	d->pid = *pid;
	d->record = record;
	d->done = p[1];
	d->o.argv = NULL; /* the request's strings go; only log is kept */
	ndirect++;
	dprintf(record, "pid %ld %ld %ld\n", (long)*pid, (long)*pid,
		(long)getpid());
	fds[0] = p[0];
	fds[1] = (int)syscall(SYS_pidfd_open, *pid, 0);
	return 0;
}

/* In the child: what posix_spawn with SETSID, SETSIGMASK and SETSIGDEF
 * gave the supervisor, then the supervisor itself. */
static void become_supervisor(int record, int sfd, char **argv, int argc,
			      char **envp)
{
	sigset_t none;

	sigemptyset(&none);
	close(sfd);
	if (dup2(record, SOCK_FD) < 0) /* the socket goes */
		_exit(127);
	if (record != SOCK_FD)
		close(record);
	setsid();
	/* the server was spawned with every signal default (SETSIGDEF) and
	 * changed only these two */
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = envp;
	_exit(supervise(argc, argv));
}

/* argv (argc strings) as katibfs-shim would parse it: plain? */
static int request_is_plain(int argc, char **argv)
{
	struct shim_options o;
	int plain = !shim_parse_options(argc, argv, &o) && is_plain(&o);

	free(o.cargv);
	free(o.cenv);
	return plain;
}

/* One request: fork its supervisor (or a plain trial) and reply. 1 when
 * the daemon has gone. */
static int serve_one(int sfd)
{
	struct spawn_request h;
	char *data = NULL, *p, **argv = NULL, **envp = NULL;
	int fds[SPAWN_MAX_FDS] = { -1, -1 }, in[SPAWN_MAX_FDS], record, err = 0,
	    i;
	unsigned flags = 0;
	pid_t pid = -1;
	ssize_t n = spawn_recv(SOCK_FD, &h, sizeof(h), in);

	record = in[0];
	if (in[1] >= 0)
		close(in[1]);

	if (n <= 0)
		return 1;
	if (n == sizeof(h) && h.magic == SPAWN_SIGNAL_MAGIC && !h.len) {
		if (record >= 0)
			close(record);
		signal_direct((pid_t)h.argc, h.envc != 0);
		return 0;
	}
	if (n != sizeof(h) || h.magic != SPAWN_MAGIC || h.len > SPAWN_MAX_LEN ||
	    !h.argc || record < 0) {
		err = EPROTO;
		goto reply;
	}
	data = malloc((size_t)h.len + 1);
	if (!data || read_full(data, h.len)) {
		free(data);
		if (record >= 0)
			close(record);
		return 1; /* out of step with the daemon: it starts another */
	}
	p = data;
	argv = strings(&p, data + h.len, h.argc);
	envp = argv ? strings(&p, data + h.len, h.envc) : NULL;
	if (!envp) {
		err = argv ? ENOMEM : EPROTO;
		goto reply;
	}
	if (request_is_plain((int)h.argc, argv)) {
		err = start_direct(record, sfd, argv, (int)h.argc, envp, &pid,
				   fds);
		if (!err) {
			record = -1; /* kept until the trial's exit */
			flags = SPAWN_DIRECT;
		}
		goto reply;
	}
	pid = fork();
	if (pid == 0)
		become_supervisor(record, sfd, argv, (int)h.argc, envp);
	if (pid < 0)
		err = errno;
	else
		fds[0] = (int)syscall(SYS_pidfd_open, pid, 0);
reply:
	send_reply(err, pid, fds, flags);
	for (i = 0; i < SPAWN_MAX_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (record >= 0)
		close(record); /* the supervisor holds the lock now */
	free(envp);
	free(argv);
	free(data);
	return 0;
}

int spawn_serve(void)
{
	struct pollfd p[2];
	sigset_t chld;
	int sfd, open = 1;

	syscall(SYS_close_range, SOCK_FD + 1, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigaddset(&chld, SPAWN_SIGNAL_RT);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return 1;
	p[0].fd = sfd;
	p[1].fd = SOCK_FD;
	/* the daemon gone: on until the last plain trial is recorded */
	while (open || ndirect) {
		struct signalfd_siginfo si;

		p[0].events = p[1].events = POLLIN;
		if (poll(p, open ? 2 : 1, -1) < 0)
			continue;
		if (p[0].revents) {
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if ((int)si.ssi_signo == SPAWN_SIGNAL_RT)
					signal_direct((pid_t)(si.ssi_int &
							      SPAWN_SIGNAL_PID),
						      !!(si.ssi_int &
							 SPAWN_SIGNAL_KILL));
			reap_children();
		}
		if (open && p[1].revents && serve_one(sfd)) {
			open = 0;
			close(SOCK_FD);
		}
	}
	return 0;
}
