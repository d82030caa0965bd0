/*
 * backend.h - where trials run. One file per backend behind this one
 * interface, listed by one line in the table in core/backends/backend.c:
 *
 *   local        core/backends/executor_local.c: a process under a supervisor
 * of ours kubernetes   core/backends/executor_kubernetes.c: the trialTemplate's
 * object in a cluster (core/backends/kube/)
 *
 * The controller never asks which backend it has: whatever differs between
 * them is a field or an op below (the collectors it can read, whether
 * trials run a manifest or a command, where a File collector's output is
 * read, private collector paths, checkpoints between trials).
 *
 * The controller thread is the only caller, with the model lock held, so
 * no op may block (read_configmap aside: see there): slow work (the
 * network) belongs on the backend's own threads, which call the `wake`
 * callback given at open() when something changed. A backend that has no
 * pollable fd for a trial (run->pidfd < 0) is probed on every controller
 * pass (a few per second while trials run).
 *
 * A trial's output must end up appended to `log_path`, where the
 * controller reads metrics and `tail -f trials/N/log` reads it.
 *
 * Ownership: the backend owns what open() puts in *priv (freed by close)
 * and, per trial, run->priv and run->pidfd (set by start or probe, closed
 * and freed by release, which the controller calls once a trial ended and
 * for every trial at unmount). Nothing in struct trial_run is persisted:
 * after a restart a backend re-adopts a trial from its directory (probe
 * with run->priv NULL and run->pidfd -1), never from memory.
 */
#ifndef KATIB_BACKEND_H
#define KATIB_BACKEND_H

#include <sys/types.h>

#include "katib/error.h"
#include "katib/spec.h"

/* What a backend keeps about a running trial (in struct trial). */
struct trial_run {
	int pidfd;  /* pollable: readable when the trial ended, or -1 */
	void *priv; /* the backend's own handle on the trial, or NULL */
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
	/* trial_slots: lines the engine keeps with the trial's process
	 * (core/engine/slots.h: its slot and devices), or NULL; start writes
	 * them at the head of record_file before the process starts */
	const char *record_head;
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
	/* news about one trial (its collector failed, a scrape target never
	 * answered): a line "trial N: msg" in its experiment's events;
	 * wake_arg is its arg. Called as event. */
	void (*trial_event)(void *arg, const char *experiment, int number,
			    const char *msg);
	/* --configmaps DIR (absolute), where trialTemplate.configMap sources
	 * are read from, or NULL (always, unless configmaps_dir) */
	const char *configmaps;
};

/* A bit of backend_ops.collectors. */
#define BACKEND_COLLECTOR(kind) (1u << (kind))

struct backend_ops {
	const char *name; /* --backend NAME; only for messages and lookup */
	/* The backend's state in *priv; close frees it, after every
	 * trial's release. */
	int (*open)(const struct backend_options *opt, void **priv,
		    struct kb_error *err);
	void (*close)(void *priv);
	/* Start t, once: leaves a trace (its directory, its object) so a
	 * probe after a crash says NEVER_STARTED only if it never ran. run
	 * holds nothing on entry (it is overwritten); fills run->pidfd and
	 * run->priv. -ENOENT/-EACCES/... with err when it cannot: then
	 * nothing started and run holds nothing (pidfd -1, priv NULL). */
	int (*start)(void *priv, const struct backend_trial *t,
		     struct trial_run *run, struct kb_error *err);
	/* Where t stands (at mount, and when its pidfd fired). run may hold
	 * nothing (pidfd -1, priv NULL: a trial found after a restart); the
	 * probe then re-adopts it from its trace and may fill run. */
	enum trial_probe (*probe)(void *priv, const struct backend_trial *t,
				  struct trial_run *run, int *exit_code,
				  int *term_signal);
	/* Ask t to end: force 0 = politely (SIGTERM, delete), 1 = now. The
	 * end is seen by a later probe; run stays as it is. */
	int (*terminate)(void *priv, const struct backend_trial *t,
			 struct trial_run *run, int force);
	/* Forget run: close run->pidfd, free run->priv, leave them -1 and
	 * NULL; the trial itself goes on. Called when a trial ended and for
	 * every trial at unmount; harmless on a run that holds nothing. */
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
	/* The metrics collector kinds (spec.metricsCollectorSpec.collector.
	 * kind) whose output it brings back: BACKEND_COLLECTOR(kind) bits. */
	unsigned collectors;
	/* Of those, the kinds whose derived log (core/collectors/collect.h)
	 * the backend writes itself, saying what went wrong through
	 * trial_event: the controller only reads that log (no local scraper
	 * or collector process for them). */
	unsigned collects_itself;
	/* 1: a trial is the trialTemplate's manifest (spec_render_manifest:
	 * the image's entrypoint may run, no command is needed) and the
	 * manifest is what trials/N/command shows; 0: the primary
	 * container's command runs (spec_render_trial) and is shown. */
	int renders_manifest;
	/* 1: takes --configmaps DIR (backend_options.configmaps: ConfigMap
	 * manifests in files); 0: reads ConfigMaps elsewhere (a cluster),
	 * and katibfs refuses the option */
	int configmaps_dir;
	/* 1: trials are processes of this machine, which get
	 * KATIB_TRIAL_SLOT and, with the katibfs/devices annotation, devices
	 * of their own in CUDA_VISIBLE_DEVICES (core/engine/slots.h); 0: the
	 * cluster places trials, and the devices annotation is refused. */
	int trial_slots;
	/* trial_slots: the file in a trial's directory that begins with
	 * backend_trial.record_head (read back after a restart). */
	const char *record_file;
	/* Where the controller reads a File collector's output (c->path
	 * set) for the trial whose directory is trial_dir: a path of this
	 * machine in buf. Required. Pure: it may be asked at any time, also
	 * before the trial started and after it ended. */
	void (*collector_file)(void *priv, const struct collector_spec *c,
			       const char *trial_dir, char *buf, size_t size);
	/* Optional: make `to` a fresh directory (whatever was there is
	 * removed: a restarted trial starts over) holding a copy of the
	 * contents of directory `from`; `from` NULL or missing: empty. For
	 * an algorithm that hands files between trials (PBT's checkpoints,
	 * include/katib/algorithm.h use_backend), called from its
	 * prepare_trial. 0, or a negative errno with err. NULL: the
	 * backend keeps no files between trials; such algorithms run
	 * without (PBT: the trial starts from no checkpoint). */
	int (*copy_checkpoint)(void *priv, const char *from, const char *to,
			       struct kb_error *err);
	/* Optional, the three together: the next trial's directory made
	 * ahead while trials run (core/backends/prepared.h). prepare_next:
	 * keep one ready in exp_dir (the experiment's directory in --state),
	 * made by the backend's own thread, under a name no trial has; it is
	 * no trial until taken. take_prepared: trial_dir made from it by one
	 * rename, and its start then finds its trace there ready: 0, or a
	 * negative errno (none ready: the caller makes trial_dir itself).
	 * discard_prepared: none any more; remove it and whatever a crash
	 * left in exp_dir. None of them waits for the filesystem's work. */
	void (*prepare_next)(void *priv, const char *exp_dir);
	int (*take_prepared)(void *priv, const char *exp_dir,
			     const char *trial_dir);
	void (*discard_prepared)(void *priv, const char *exp_dir);
	/* The template of a trialTemplate.configMap, as a template_source's
	 * fetch (include/katib/spec.h): data[key] of ConfigMap ns/name. The
	 * one op called without the model lock, from the thread that takes
	 * a spec (a FUSE handler, the daemon's start), so it may wait for
	 * the network, a bounded time (BACKEND_CONFIGMAP_TIMEOUT). Required. */
	int (*read_configmap)(void *priv, const char *exp_ns, const char *ns,
			      const char *name, const char *key, char **text,
			      struct kb_error *err);
};

/* Seconds read_configmap may take, retries included. */
#define BACKEND_CONFIGMAP_TIMEOUT 10

/* The backend called `name` (NULL: "local"), or NULL. */
const struct backend_ops *backend_find(const char *name);

/* Every backend built in, as "local|kubernetes", in buf (for messages). */
void backend_names(char *buf, size_t size);

/* Whether b's trials can use collector kind k. */
int backend_collects(const struct backend_ops *b, enum collector_kind k);

/* The collector kinds b can use, as "StdOut, File or Push", in buf. */
void backend_collector_names(const struct backend_ops *b, char *buf,
			     size_t size);

#endif
