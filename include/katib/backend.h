/*
 * backend.h - where trials run. One file per backend behind one small
 * interface, found by name in the table in core/backend.c:
 *
 *   local        core/executor_local.c: a process under a supervisor of ours
 *   kubernetes   (not built yet) the Kubernetes object of the trialTemplate
 *
 * The controller thread is the only caller, with the model lock held, so
 * no op may block: slow work (the network) belongs on the backend's own
 * threads, which call the `wake` callback given at open() when something
 * changed. A backend that has no pollable fd for a trial (run->pidfd < 0)
 * is probed on every controller pass (a few per second while trials run).
 *
 * A trial's output must end up appended to `log_path`, where the
 * controller reads metrics and `tail -f trials/N/log` reads it.
 */
#ifndef KATIB_BACKEND_H
#define KATIB_BACKEND_H

#include <sys/types.h>

#include "katib/error.h"
#include "katib/spec.h"

/* What a backend keeps about a running trial (in struct trial). */
struct trial_run {
	pid_t pid;	  /* local: the supervisor, or 0 */
	int pidfd;	  /* pollable: readable when the trial ended, or -1 */
	int child;	  /* local: the supervisor is our child */
	char handle[128]; /* remote backends: the object's name */
};

/* Everything a backend may need to know about one trial. */
struct backend_trial {
	const char *experiment;
	const struct experiment_spec *spec;
	int number;
	const char *name;		 /* <experiment>-<suffix>, as Katib */
	const char *dir;		 /* the trial's directory in --state */
	const char *log_path;		 /* append the trial's output here */
	const struct trial_command *cmd; /* rendered command and manifest */
};

enum trial_probe {
	PROBE_NEVER_STARTED, /* no trace of it: start it (once) */
	PROBE_RUNNING,
	PROBE_EXITED, /* exit_code/term_signal say how */
	PROBE_LOST,   /* it was started and vanished */
};

struct backend_options {
	const char *state_dir;
	const char *kubeconfig;
	const char *context;
	const char *namespace;
	void (*wake)(void *arg); /* something changed: run a pass */
	void *wake_arg;
	/* kubernetes: --kube-qps, --kube-burst (client-side rate limit), or
	 * NULL for the defaults */
	const char *kube_qps, *kube_burst;
	/* news for the events of every running experiment (the cluster is
	 * unreachable, answers again); wake_arg is its arg. Call it with none
	 * of the backend's locks held. */
	void (*event)(void *arg, const char *msg);
};

struct backend_ops {
	const char *name;
	int (*open)(const struct backend_options *opt, void **priv,
		    struct kb_error *err);
	void (*close)(void *priv);
	/* Start t; fill run. -ENOENT/-EACCES/... with err when it cannot. */
	int (*start)(void *priv, const struct backend_trial *t,
		     struct trial_run *run, struct kb_error *err);
	/* Where t stands (at mount, and when its pidfd fired). */
	enum trial_probe (*probe)(void *priv, const struct backend_trial *t,
				  struct trial_run *run, int *exit_code,
				  int *term_signal);
	/* Ask t to end: force 0 = politely (SIGTERM, delete), 1 = now. */
	int (*terminate)(void *priv, const struct backend_trial *t,
			 struct trial_run *run, int force);
	/* Forget run (close what it holds); the trial itself goes on. */
	void (*release)(void *priv, struct trial_run *run);
	/* Optional: the experiment is being deleted (rmdir); remove what is
	 * left of it where trials ran (retained cluster objects). Queues the
	 * work; must not block. */
	void (*remove_experiment)(void *priv, const char *experiment,
				  const struct experiment_spec *spec);
	/* Optional: the namespace trials go to when the spec names none
	 * (--namespace, else the context's, else "default"); rendered into
	 * the manifest and ${trialSpec.Namespace}. NULL: "default". */
	const char *(*default_namespace)(void *priv);
	/* Optional: 0 when each trial can have a private view of a collector
	 * path that trials would otherwise share (include/katib/
	 * collector_path.h), else a negative errno and `why` what refused
	 * it: such trials then run one at a time. NULL: trials never share a
	 * filesystem (pods). */
	int (*private_paths)(void *priv, char *why, size_t size);
};

const struct backend_ops *backend_find(const char *name);

#endif
