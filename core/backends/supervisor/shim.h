/*
 * shim.h - the two halves of the katibfs-shim program: the per-trial
 * supervisor (katibfs-shim.c) and the daemon's fork server that starts
 * supervisors without an exec each and supervises plain trials itself
 * (spawn_server.c), with the supervisor's trial start and exit status.
 */
#ifndef KATIB_SHIM_H
#define KATIB_SHIM_H

/* A supervisor's command line (katibfs-shim [options] LOG CWD EXE -- ARGV),
 * parsed; the strings are argv's. */
struct shim_options {
	const char *target, *backing;	      /* -v */
	const char *shared, *file, *leftover; /* -k, -K */
	int shared_dir;			      /* -K: shared is a directory */
	int as_shell;			      /* -s */
	const char *log, *cwd, *exe;
	char **argv;
	const char *cout; /* -c */
	char **cargv;	  /* NULL-terminated copy */
	char **cenv;	  /* -e NAME=VALUE for the collector, or NULL */
	int ncenv;
	int cgrace; /* -g: s the collector has to end after the trial */
	/* -s: the environment's PWD is already what sh would make it (the
	 * fork server decides it before its vfork: the child must not
	 * allocate in the memory it shares with the server) */
	int pwd_ready;
};

/* 0, or 2 after the usage message. */
int shim_parse_options(int argc, char **argv, struct shim_options *o);

/* In the trial's process, forked by its supervisor: its own group, its
 * log, view and working directory, then the exec; never returns. */
_Noreturn void shim_run_trial(const struct shim_options *o);

/* The exit recorded for a trial that ended with wait status `status`
 * (forwarded: the first signal its supervisor forwarded, or 0): code
 * 128+signal when killed by one. */
void shim_exit_status(const struct shim_options *o, int status, int forwarded,
		      int *code, int *sig);

/* One trial's supervisor, argv as for katibfs-shim (fd 3: the locked
 * record); the process's exit status. */
int supervise(int argc, char **argv);

/* katibfs-shim --serve (fd 3: the daemon's socket); returns when the
 * daemon has gone. */
int spawn_serve(void);

#endif
