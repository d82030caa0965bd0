/*
 * main.c - the katibfs program: command line, `katibfs check`, mounting.
 *
 *   katibfs [-f] [-d] [-s] [--state DIR] [--backend local|kubernetes]
 *           [--kubeconfig FILE] [--context NAME] [--namespace NS]
 *           [--kube-qps N] [--kube-burst N] [--configmaps DIR]
 *           [-o opt,...] MOUNTPOINT
 *   katibfs check [--configmaps DIR] SPEC.yaml
 *   katibfs --help | --version
 *
 * One process is the FUSE server and the daemon. Without -f (or -d) the
 * program forks before anything starts: the child opens the core (its
 * threads must live in the process that serves), mounts, and only then
 * tells the waiting parent, which exits 0, or 1 if the child failed, so a
 * script can use the mount as soon as `katibfs` returns.
 *
 * One daemon per state directory and per mount point (lock.c): both locks
 * are taken before the fork, so a second katibfs fails at once with who
 * holds them and changes nothing; the child inherits the flocks and
 * records its own pid.
 *
 * Access: without -o allow_other the kernel lets only the mounting user
 * (not even root) reach the tree. With allow_other, others may read, and
 * default_permissions is always added, so the kernel checks the tree's
 * modes (0644/0755, owned by the mounting user); fs.c checks the caller's
 * uid on every write path as well (owner or root, as the kernel does).
 * A non-root user needs `user_allow_other` in /etc/fuse.conf for
 * allow_other; we say so before trying, rather than let fusermount3 fail.
 */
#include "fs.h"
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "katib/backend.h"
#include "katib/spec.h"
#include "util/mkdir_p.h"

#ifndef KATIBFS_VERSION
#define KATIBFS_VERSION "0.0.0"
#endif

#define MAX_OPTS 64

struct options {
	int foreground, debug, single;
	const char *state;
	const char *backend;
	const char *kubeconfig;
	const char *context;
	const char *namespace;
	const char *kube_qps, *kube_burst;
	const char *configmaps;
	const char *mountpoint;
	const char *fuse_opts[MAX_OPTS];
	int nfuse_opts;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: katibfs [options] MOUNTPOINT\n"
		"       katibfs check [--configmaps DIR] SPEC.yaml\n"
		"       katibfs --help | --version\n"
		"\n"
		"Kubeflow Katib as a filesystem: mkdir an experiment, write a\n"
		"Katib Experiment into its spec.yaml, watch trials as files.\n"
		"Unmount with fusermount3 -u MOUNTPOINT.\n"
		"\n"
		"options:\n"
		"  -f                     stay in the foreground\n"
		"  -d                     debug: print FUSE requests (implies "
		"-f)\n"
		"  -s                     single-threaded FUSE loop\n"
		"  --state DIR            state directory (default "
		"$XDG_DATA_HOME/katibfs\n"
		"                         or ~/.local/share/katibfs)\n"
		"  --backend local|kubernetes\n"
		"                         where trials run (default local)\n"
		"  --kubeconfig FILE      kubeconfig for the kubernetes "
		"backend\n"
		"                         (default $KUBECONFIG, "
		"~/.kube/config, or\n"
		"                         the in-cluster service account)\n"
		"  --context NAME         kubeconfig context (default: "
		"current)\n"
		"  --namespace NS         namespace for the kubernetes "
		"backend\n"
		"                         (default: the context's, else "
		"default)\n"
		"  --kube-qps N, --kube-burst N\n"
		"                         API requests a second, and at once "
		"(default 50, 100)\n"
		"  --configmaps DIR       local backend: ConfigMap manifests "
		"(*.yaml, *.yml)\n"
		"                         that trialTemplate.configMap "
		"templates are read from\n"
		"  -o OPT[,OPT...]        FUSE mount options (e.g. "
		"allow_other)\n"
		"  -h, --help             this text\n"
		"  -V, --version          the version\n"
		"\n"
		"access: without -o allow_other only the mounting user can "
		"reach\n"
		"the tree (the kernel refuses everyone else, root included). "
		"With\n"
		"-o allow_other every user may read it, and only the mounting "
		"user\n"
		"(and root) may write spec.yaml and control files, mkdir or "
		"rmdir;\n"
		"default_permissions is always on. Writing spec.yaml runs "
		"commands\n"
		"as the mounting user. A non-root user needs the line\n"
		"user_allow_other in /etc/fuse.conf to use -o allow_other.\n"
		"\n"
		"check: validate SPEC.yaml (\"-\" for stdin) and print it "
		"normalized;\n"
		"exit 1 with the reason if it is invalid. With --configmaps "
		"DIR "
		"a\n"
		"trialTemplate.configMap template is read from there and "
		"checked.\n");
}

/* ---- katibfs check ---- */

static char *read_all(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf;
	size_t n = 0;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (buf) {
		n = fread(buf, 1, max, f);
		if (ferror(f)) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

static int check_fail(const struct kb_error *err)
{
	char msg[1024];

	kb_error_format(err, msg, sizeof(msg));
	fprintf(stderr, "katibfs: check: %s\n", msg);
	return 1;
}

/* What validation let pass but the user should hear about. */
static void print_warnings(const struct experiment_spec *spec)
{
	char msg[1024];
	size_t i;

	for (i = 0; spec->warnings && i < spec->warnings->n; i++) {
		kb_error_format(&spec->warnings->items[i], msg, sizeof(msg));
		fprintf(stderr, "katibfs: check: warning: %s\n", msg);
	}
}

/* A configMap template check could not read: say so, once. */
static void unchecked_template(const struct experiment_spec *spec)
{
	const struct trial_template_spec *t = &spec->trial_template;

	if (t->configmap_name && !t->trial_spec)
		fprintf(stderr,
			"katibfs: check: warning: " CONFIGMAP_NAME_FIELD
			": the template in ConfigMap %s/%s was not checked; "
			"pass --configmaps DIR (a directory holding its "
			"manifest) to check it\n",
			t->configmap_namespace, t->configmap_name);
}

static int long_opt(int argc, char **argv, int *i, const char *name,
		    const char **val);

/* katibfs check [--configmaps DIR] SPEC.yaml: 0, or 2 for a usage error. */
static int check_args(int argc, char **argv, const char **dir,
		      const char **file)
{
	int i = 2;

	*dir = NULL;
	if (argc > 2 && long_opt(argc, argv, &i, "--configmaps", dir) < 0)
		return 2;
	if (*dir)
		i++;
	if (argc != i + 1) {
		fprintf(stderr,
			"usage: katibfs check [--configmaps DIR] SPEC.yaml\n");
		return 2;
	}
	*file = argv[i];
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct experiment_spec *spec = NULL, *named = NULL;
	struct configmap_dir cd = { 0 };
	struct template_source src = { configmap_dir_fetch, &cd };
	struct kb_error err;
	const char *name = "experiment", *file, *dir;
	char *text, *out;
	size_t len;
	int rc = check_args(argc, argv, &dir, &file);

	if (rc)
		return rc;
	rc = 1;
	cd.dir = dir;
	text = read_all(file, SPEC_MAX_BYTES + 1, &len);
	if (!text) {
		fprintf(stderr, "katibfs: check: %s: %s\n", file,
			strerror(errno ? errno : ENOMEM));
		return 1;
	}
	kb_error_clear(&err);
	if (spec_parse_with(text, len, name, dir ? &src : NULL, &spec, &err)) {
		rc = check_fail(&err);
		goto out;
	}
	/* Validate as the experiment named in the file would be. */
	if (spec->name && strcmp(spec->name, name)) {
		name = spec->name;
		if (spec_parse_with(text, len, name, dir ? &src : NULL, &named,
				    &err)) {
			rc = check_fail(&err);
			goto out;
		}
	}
	print_warnings(named ? named : spec);
	unchecked_template(spec);
	out = spec_render_yaml(named ? named : spec, name);
	if (!out) {
		fprintf(stderr, "katibfs: check: out of memory\n");
		goto out;
	}
	fputs(out, stdout);
	free(out);
	rc = fflush(stdout) ? 1 : 0;
out:
	spec_free(named);
	spec_free(spec);
	free(text);
	return rc;
}

/* ---- options ---- */

/* "--name VALUE" or "--name=VALUE": 1 matched, 0 not, -1 missing value. */
static int long_opt(int argc, char **argv, int *i, const char *name,
		    const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

static int add_fuse_opt(struct options *o, const char *opt)
{
	if (o->nfuse_opts == MAX_OPTS) {
		fprintf(stderr, "katibfs: too many -o options\n");
		return -1;
	}
	o->fuse_opts[o->nfuse_opts++] = opt;
	return 0;
}

static int parse_long(struct options *o, int argc, char **argv, int *i)
{
	static const char *const names[] = { "--state",	     "--backend",
					     "--kubeconfig", "--context",
					     "--namespace",  "--kube-qps",
					     "--kube-burst", "--configmaps" };
	const char **slots[] = { &o->state,	 &o->backend,	&o->kubeconfig,
				 &o->context,	 &o->namespace, &o->kube_qps,
				 &o->kube_burst, &o->configmaps };
	size_t k;
	int m;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		m = long_opt(argc, argv, i, names[k], slots[k]);
		if (m < 0) {
			fprintf(stderr, "katibfs: %s needs a value\n",
				names[k]);
			return -1;
		}
		if (m)
			return 0;
	}
	fprintf(stderr, "katibfs: unknown option %s\n", argv[*i]);
	return -1;
}

static int parse_short(struct options *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (!strcmp(a, "-f")) {
		o->foreground = 1;
	} else if (!strcmp(a, "-d")) {
		o->debug = o->foreground = 1;
	} else if (!strcmp(a, "-s")) {
		o->single = 1;
	} else if (!strncmp(a, "-o", 2)) {
		if (a[2])
			return add_fuse_opt(o, a + 2);
		if (*i + 1 >= argc) {
			fprintf(stderr, "katibfs: -o needs a value\n");
			return -1;
		}
		return add_fuse_opt(o, argv[++*i]);
	} else {
		fprintf(stderr, "katibfs: unknown option %s\n", a);
		return -1;
	}
	return 0;
}

/* 0, 1 = done (help/version printed), -1 = usage error. */
static int parse_args(struct options *o, int argc, char **argv)
{
	int i, rest = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int rc = 0;

		if (rest || a[0] != '-' || !a[1]) {
			if (o->mountpoint) {
				fprintf(stderr,
					"katibfs: one mountpoint only (%s)\n",
					a);
				return -1;
			}
			o->mountpoint = a;
		} else if (!strcmp(a, "--")) {
			rest = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("katibfs %s (libfuse %s)\n", KATIBFS_VERSION,
			       fuse_pkgversion());
			return 1;
		} else if (a[1] == '-') {
			rc = parse_long(o, argc, argv, &i);
		} else {
			rc = parse_short(o, argc, argv, &i);
		}
		if (rc)
			return -1;
	}
	if (!o->mountpoint) {
		fprintf(stderr, "katibfs: no mountpoint (try --help)\n");
		return -1;
	}
	return 0;
}

/* ---- state directory ---- */

/* The state directory as an absolute path (heap), created if missing. */
static char *state_dir(const char *given)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char buf[PATH_MAX];
	char *abs;
	int rc;

	if (given)
		snprintf(buf, sizeof(buf), "%s", given);
	else if (xdg && *xdg)
		snprintf(buf, sizeof(buf), "%s/katibfs", xdg);
	else if (home && *home)
		snprintf(buf, sizeof(buf), "%s/.local/share/katibfs", home);
	else
		snprintf(buf, sizeof(buf), ".katibfs");
	rc = mkdir_p(buf, 0700);
	if (rc) {
		fprintf(stderr, "katibfs: state directory %s: %s\n", buf,
			strerror(-rc));
		return NULL;
	}
	abs = realpath(buf, NULL);
	if (!abs)
		fprintf(stderr, "katibfs: state directory %s: %s\n", buf,
			strerror(errno));
	return abs;
}

/* ---- mounting ---- */

/* Is `name` (exactly) one of the comma-separated -o options? */
static int has_fuse_opt(const struct options *o, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < o->nfuse_opts; i++) {
		const char *p = o->fuse_opts[i];

		while (*p) {
			size_t len = strcspn(p, ",");

			if (len == n && !strncmp(p, name, n))
				return 1;
			p += len;
			if (*p == ',')
				p++;
		}
	}
	return 0;
}

/* /etc/fuse.conf has a user_allow_other line (comments aside)? */
static int fuse_conf_allows_other(void)
{
	FILE *f = fopen("/etc/fuse.conf", "r");
	char line[256];
	int ok = 0;

	if (!f)
		return 0;
	while (!ok && fgets(line, sizeof(line), f)) {
		char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "user_allow_other", 16) &&
		    strchr(" \t\r\n", p[16]))
			ok = 1;
	}
	fclose(f);
	return ok;
}

/* allow_other as a non-root user needs /etc/fuse.conf's consent. */
static int check_allow_other(const struct options *o)
{
	if (!has_fuse_opt(o, "allow_other") || geteuid() == 0)
		return 0;
	if (fuse_conf_allows_other())
		return 0;
	fprintf(stderr,
		"katibfs: -o allow_other needs the line user_allow_other in "
		"/etc/fuse.conf\n"
		"         (ask your administrator), or mount without it\n");
	return -1;
}

/* Parent side of the fork: exit status once the child is serving. */
static int wait_for_child(int fd, pid_t pid)
{
	char c = 0;
	ssize_t n;
	int status;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n == 1 && c == 'k')
		return 0;
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status))
		return WEXITSTATUS(status);
	return 1;
}

/* Child side: detach from the terminal and tell the parent we serve. */
static void detach(int fd)
{
	int null = open("/dev/null", O_RDWR);

	if (chdir("/"))
		(void)0;
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	if (write(fd, "k", 1) != 1)
		(void)0;
	close(fd);
}

static struct fuse *new_fuse(const struct options *o, struct katibfs *fs,
			     const char *argv0)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse *fuse = NULL;
	int i;

	if (fuse_opt_add_arg(&args, argv0) || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, "fsname=katibfs,subtype=katibfs,"
				    "default_permissions"))
		goto out;
	for (i = 0; i < o->nfuse_opts; i++)
		if (fuse_opt_add_arg(&args, "-o") ||
		    fuse_opt_add_arg(&args, o->fuse_opts[i]))
			goto out;
	if (o->debug && fuse_opt_add_arg(&args, "-d"))
		goto out;
	fuse = fuse_new(&args, katibfs_operations(),
			sizeof(struct fuse_operations), fs);
out:
	fuse_opt_free_args(&args);
	return fuse;
}

static int loop(struct fuse *fuse, int single)
{
	struct fuse_loop_config *cfg;
	int rc;

	if (single)
		return fuse_loop(fuse);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_idle_threads(cfg, 10);
	fuse_loop_cfg_set_max_threads(cfg, 32);
	rc = fuse_loop_mt(fuse, cfg);
	fuse_loop_cfg_destroy(cfg);
	return rc;
}

static int serve(const struct options *o, const struct daemon_lock *lk,
		 int notify_fd, const char *argv0)
{
	struct katib_options kopt = {
		.state_dir = lk->state,
		.mountpoint = lk->mountpoint,
		.backend = o->backend,
		.kubeconfig = o->kubeconfig,
		.context = o->context,
		.namespace = o->namespace,
		.kube_qps = o->kube_qps,
		.kube_burst = o->kube_burst,
		.configmaps = o->configmaps,
	};
	struct katibfs *fs = NULL;
	struct fuse *fuse = NULL;
	struct katib *k = NULL;
	struct kb_error err;
	char msg[1024];
	int mounted = 0, rc = 1;

	kb_error_clear(&err);
	if (katib_open(&kopt, &k, &err)) {
		kb_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "katibfs: %s\n", msg);
		goto out;
	}
	fs = katibfs_new(k);
	if (!fs)
		goto out;
	fuse = new_fuse(o, fs, argv0);
	if (!fuse)
		goto out;
	if (fuse_mount(fuse, o->mountpoint))
		goto out;
	mounted = 1;
	if (fuse_set_signal_handlers(fuse_get_session(fuse)))
		goto out;
	if (katibfs_start_notify(fs, fuse))
		goto out;
	if (notify_fd >= 0) {
		detach(notify_fd);
		notify_fd = -1;
	}
	rc = loop(fuse, o->single) ? 1 : 0;
	lock_stopping(lk);
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out:
	if (fs)
		katibfs_stop_notify(fs);
	if (mounted)
		fuse_unmount(fuse);
	katib_close(k);
	if (fuse)
		fuse_destroy(fuse);
	katibfs_free(fs);
	if (notify_fd >= 0)
		close(notify_fd);
	return rc;
}

/* Both locks, in the order that creates nothing for a refused mount. */
static int take_locks(const struct options *o, struct daemon_lock *lk)
{
	char *state;
	int rc;

	if (lock_mountpoint(lk, o->mountpoint))
		return -1;
	state = state_dir(o->state);
	if (!state)
		return -1;
	rc = lock_state(lk, state);
	free(state);
	if (rc)
		return -1;
	lock_record(lk, getpid());
	return 0;
}

static int cmd_mount(const struct options *o, const char *argv0)
{
	struct daemon_lock lk;
	int pipefd[2] = { -1, -1 };
	pid_t pid;
	int rc = 1;

	if (check_allow_other(o))
		return 2;
	if (take_locks(o, &lk))
		goto out;
	if (!o->foreground) {
		if (pipe(pipefd)) {
			perror("katibfs: pipe");
			goto out;
		}
		pid = fork();
		if (pid < 0) {
			perror("katibfs: fork");
			goto out;
		}
		if (pid > 0) {
			close(pipefd[1]);
			rc = wait_for_child(pipefd[0], pid);
			goto out; /* the child holds the locks on */
		}
		close(pipefd[0]);
		setsid();
		lock_record(&lk, getpid());
	}
	rc = serve(o, &lk, pipefd[1], argv0);
out:
	lock_release(&lk);
	return rc;
}

/* --configmaps DIR, for a backend that takes it (backend_ops
 * .configmaps_dir), made absolute (the daemon leaves the working
 * directory). 0, or an exit status. */
static int configmaps_dir(struct options *o)
{
	struct stat st;
	char *abs;

	if (!backend_find(o->backend)->configmaps_dir) {
		fprintf(stderr,
			"katibfs: --configmaps is for the local backend; the "
			"%s backend reads ConfigMaps from the cluster\n",
			o->backend);
		return 2;
	}
	abs = realpath(o->configmaps, NULL);
	if (!abs || stat(abs, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "katibfs: --configmaps %s: %s\n", o->configmaps,
			abs ? "not a directory" : strerror(errno));
		free(abs);
		return 1;
	}
	o->configmaps = abs;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .backend = "local" };
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc, argv);
	/* one malloc arena for every thread: the FUSE workers and the
	 * controller allocate little at a time, and each arena of its own
	 * kept ~5 MB of freed memory resident (issue 11, bench_scale.py) */
	mallopt(M_ARENA_MAX, 1);
	rc = parse_args(&o, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (!backend_find(o.backend)) {
		char names[256];

		backend_names(names, sizeof(names));
		fprintf(stderr, "katibfs: unknown backend '%s' (%s)\n",
			o.backend, names);
		return 2;
	}
	if (o.configmaps) {
		rc = configmaps_dir(&o);
		if (rc)
			return rc;
	}
	rc = cmd_mount(&o, argv[0]);
	free((char *)o.configmaps);
	return rc;
}
