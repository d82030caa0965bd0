/*
 * controller.c - the one thread that runs experiments.
 *
 * Each pass (controller_tick) takes the model lock, reaps trials whose
 * process ended (pidfds tell which), reads new output of running trials,
 * enforces kills, decides completion as Katib's experiment controller does
 * (goal, maxFailedTrialCount, maxTrialCount, and an algorithm that has no
 * more to give), and starts new trials up to parallelTrialCount. All the
 * store writes of one pass are one transaction. Spawning trials and an
 * algorithm's suggestions happen after that commit, off the lock (see
 * "Starting trials off the model lock" and "Suggesting off the model
 * lock"). Kernel-cache notifications queued during the pass are fired
 * after the lock is gone.
 *
 * Owns: the trials being started off the lock (k->launches, their commands)
 * and the specs retired meanwhile (k->retired), until the spawns are done.
 */
#include "collectors/collect.h"
#include "collectors/collector_path.h"
#include "engine/daemon.h"
#include "spec/kube_manifest.h"
#include "spec/trial_script.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "controller.h"
#include "algorithms/suggestion_command.h"
#include "engine/command.h"
#include "engine/history_snapshot.h"
#include "engine/queue.h"
#include "engine/importance_task.h"
#include "engine/slots.h"
#include "engine/warm_start.h"
#include "recover.h"

#define TAIL_INTERVAL	 0.25 /* s between reads of running trials' output */
#define KILL_GRACE	 3.0  /* s between SIGTERM and SIGKILL */
#define READ_CHUNK	 (1 << 20) /* output read per trial per pass */
#define MAX_OBSERVATIONS 100000	   /* per trial; more are counted, not kept */

static const char name_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

/* ---- states and events ---- */

void experiment_set_state_locked(struct katib *k, struct experiment *e,
				 enum experiment_state s, const char *reason)
{
	e->state = s;
	e->generation++; /* a suggestion under way is for the old state */
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	if (experiment_state_is_finished(s))
		e->finished = now_epoch();
	experiment_event(k, e, "experiment %s (%s)", experiment_state_name(s),
			 reason);
	experiment_save_locked(k, e);
}

static void trial_touch(struct katib *k, struct experiment *e, struct trial *t)
{
	trial_touch_mtime(t);
	e->mtime = trial_mtime(t);
	store_put_trial_of(k->store, e, t);
}

int trial_init_metrics(struct experiment *e, struct trial *t)
{
	size_t i, n = e->parser ? metrics_parser_nmetrics(e->parser) : 0;

	if (trial_unseal(t))
		return -ENOMEM;
	metric_summaries_free(t->summaries, t->nsummaries);
	t->nsummaries = 0;
	t->summaries = calloc(n ? n : 1, sizeof(*t->summaries));
	if (!t->summaries)
		return -ENOMEM;
	t->nsummaries = n;
	for (i = 0; i < n; i++)
		metric_summary_init(&t->summaries[i]);
	trial_observations_clear(t);
	t->nseries = 0;
	if (t->live) /* NULL: a loaded trial that had ended */
		t->live->series_checked = 0;
	return 0; /* the CSV's header is not kept (OBSERVATIONS_HEADER) */
}

int trial_add_observations_locked(struct katib *k, struct experiment *e,
				  struct trial *t,
				  const struct observation *obs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (obs[i].metric < 0 || (size_t)obs[i].metric >= t->nsummaries)
			continue;
		if (t->nobservations >= MAX_OBSERVATIONS) {
			if (t->nobservations++ == MAX_OBSERVATIONS)
				experiment_event(
					k, e,
					"trial %d reported more than %d "
					"observations; later ones are "
					"not recorded",
					t->number, MAX_OBSERVATIONS);
			continue;
		}
		trial_record_observation(e, t, &obs[i]);
		store_add_observation(
			k->store, e->name, t->number, obs[i].time,
			metrics_parser_metric(e->parser, obs[i].metric),
			obs[i].value);
	}
	if (n) {
		trial_touch_mtime(t);
		e->mtime = trial_mtime(t);
		katib_queue_notify(k, e->name, t->number, KFILE_T_OBSERVATIONS);
	}
	return 0;
}

/* ---- activation ---- */

int experiment_activate_locked(struct katib *k, struct experiment *e,
			       const char *algo_state, struct kb_error *err)
{
	const struct algorithm_ops *ops;
	struct metrics_parser *parser = NULL;
	const struct early_stopping_ops *early = NULL;
	struct experiment_spec *spec = e->spec;
	void *priv = NULL;
	enum collector_kind ck = spec->collector.kind;
	int rc;

	ops = spec->nsuggestion_command ? &algorithm_suggestion_command
					: algorithm_find(spec->algorithm.name);
	if (!ops || !ops->implemented)
		return kb_error_set(
			err, -EINVAL, "spec.algorithm.algorithmName", 0,
			"algorithm '%s' is valid Katib but not "
			"built into katibfs yet; available now: %s",
			spec->algorithm.name, algorithm_implemented_names());
	if (spec->has_early_stopping) {
		early = early_stopping_find(spec->early_stopping.name);
		if (!early || !early->implemented)
			return kb_error_set(
				err, -EINVAL,
				"spec.earlyStopping.algorithmName", 0,
				"early stopping '%s' is not built into "
				"katibfs yet; remove spec.earlyStopping",
				spec->early_stopping.name);
	}
	if (!backend_collects(k->backend, ck)) {
		char kinds[128];

		backend_collector_names(k->backend, kinds, sizeof(kinds));
		return kb_error_set(
			err, -EINVAL,
			"spec.metricsCollectorSpec.collector.kind", 0,
			"collector %s is not available on the %s "
			"backend; use %s%s",
			collector_kind_name(ck), k->backend->name, kinds,
			ck == COLLECTOR_PUSH
				? " (Push takes writes to trials/N/metrics, "
				  "which a trial running elsewhere cannot "
				  "reach)"
				: "");
	}
	if (spec->ndevices && !k->backend->trial_slots)
		return kb_error_set(
			err, -EINVAL,
			"metadata.annotations[" DEVICES_ANNOTATION "]", 0,
			"the %s backend does not hand out devices; the cluster "
			"does: request them in the trial template's container, "
			"resources.limits (e.g. nvidia.com/gpu: 1)",
			k->backend->name);
	rc = metrics_parser_new(spec, &parser, err);
	if (rc)
		return rc;
	rc = ops->create(spec, algo_state, &priv, err);
	if (rc) {
		metrics_parser_free(parser);
		return rc;
	}
	if (ops->use_backend)
		ops->use_backend(priv, k->backend, k->backend_priv);
	if (e->algo && e->algo_priv && e->algo->destroy)
		e->algo->destroy(e->algo_priv);
	metrics_parser_free(e->parser);
	e->algo = ops;
	e->algo_priv = priv;
	free(e->algo_state); /* what experiment_save_locked() writes while
			      * the algorithm suggests, until it saves */
	e->algo_state = algo_state ? strdup(algo_state) : NULL;
	history_snapshot_free(&e->snapshot);
	e->parser = parser;
	experiment_caches_reset(e); /* derived with the old parser */
	experiment_pareto_rebuild(e);
	e->early = early;
	e->nvalue_names = algorithm_assignment_names(
		ops, priv, spec, e->value_names, KATIB_MAX_VALUES);
	return 0;
}

/* ---- reading trial output ---- */

static void source_path(struct katib *k, struct experiment *e, struct trial *t,
			char *buf, size_t size)
{
	char dir[4096];

	trial_dir_path(k, e->name, t->number, dir, sizeof(dir));
	if (!collect_own_log(&e->spec->collector, dir, buf, size))
		return;
	if (e->spec->collector.kind != COLLECTOR_FILE ||
	    !e->spec->collector.path) {
		trial_log_path(k, e->name, t->number, buf, size);
		return;
	}
	k->backend->collector_file(k->backend_priv, &e->spec->collector, dir,
				   buf, size);
}

struct collect_ctx {
	struct katib *k;
	struct experiment *e;
	struct trial *t;
};

static void collect_event(void *arg, const char *msg)
{
	struct collect_ctx *c = arg;

	experiment_event(c->k, c->e, "trial %d: %s", c->t->number, msg);
}

/* A line longer than the parser reads: say so once, where it is. */
static void long_line_event(struct katib *k, struct experiment *e,
			    struct trial *t, off_t at, size_t len, int whole)
{
	char path[4096];

	source_path(k, e, t, path, sizeof(path));
	experiment_event(k, e,
			 "trial %d: a line of %s%zu bytes at offset %lld of %s "
			 "is longer than katibfs reads for metrics (%d bytes): "
			 "only its first %d bytes were parsed; the trial's "
			 "other lines are read as usual",
			 t->number, whole ? "" : "at least ", len,
			 (long long)at, path, METRICS_MAX_LINE,
			 METRICS_MAX_LINE);
}

static void parse_lines(struct katib *k, struct experiment *e, struct trial *t,
			const char *buf, size_t len, off_t at)
{
	enum collect_parse mode = collect_parse_mode(&e->spec->collector);
	struct observation obs[64];
	const char *p = buf, *end = buf + len, *nl;
	double now = now_epoch();

	for (; p < end; p = nl + 1) {
		size_t n, llen;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		llen = (size_t)(nl - p);
		if (llen > METRICS_MAX_LINE)
			long_line_event(k, e, t, at + (p - buf), llen,
					nl < end);
		if (mode == COLLECT_NAMED)
			n = metrics_parse_named(e->parser, p, llen, now, obs,
						64);
		else
			n = metrics_parse_line(e->parser, p, llen,
					       mode == COLLECT_JSON, now, obs,
					       64);
		trial_add_observations_locked(k, e, t, obs, n);
	}
}

/* Before reading: the collector's own work (collect.h). */
static void collector_update(struct katib *k, struct experiment *e,
			     struct trial *t, int final)
{
	struct collect_ctx c = { k, e, t };
	char dir[4096], read_dir[4096];

	if ((e->spec->collector.kind != COLLECTOR_TFEVENT &&
	     e->spec->collector.kind != COLLECTOR_PROMETHEUS &&
	     e->spec->collector.kind != COLLECTOR_CUSTOM) ||
	    (k->backend->collects_itself &
	     BACKEND_COLLECTOR(e->spec->collector.kind)))
		return;
	trial_dir_path(k, e->name, t->number, dir, sizeof(dir));
	read_dir[0] = '\0';
	if (e->spec->collector.path)
		k->backend->collector_file(k->backend_priv, &e->spec->collector,
					   dir, read_dir, sizeof(read_dir));
	collect_update(&e->spec->collector, e->parser, dir, read_dir, final,
		       &t->live->tfevent, collect_event, &c);
}

/* The read starts inside a line (the rest of one longer than a chunk):
 * how many bytes of buf belong to it (up to its newline, included). */
static size_t rest_of_line(int fd, off_t start, const char *buf, size_t n)
{
	const char *nl;
	char before;

	if (start <= 0 || pread(fd, &before, 1, start - 1) != 1 ||
	    before == '\n')
		return 0;
	nl = memchr(buf, '\n', n);
	return nl ? (size_t)(nl - buf) + 1 : n;
}

/*
 * Parse what the trial wrote since last time (a chunk). Only whole lines
 * unless `final` (the trial ended: a last line without newline counts
 * too). Returns 1 when there is more to read.
 */
static int read_chunk(struct katib *k, struct experiment *e, struct trial *t,
		      int final)
{
	char path[4096];
	struct stat st;
	off_t start;
	ssize_t n;
	char *buf;
	size_t use, skip;
	int fd;

	source_path(k, e, t, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	start = t->live->log_parsed;
	if (fstat(fd, &st) || st.st_size <= start) {
		close(fd);
		return 0;
	}
	buf = malloc(READ_CHUNK);
	n = buf ? pread(fd, buf, READ_CHUNK, start) : -1;
	skip = n > 0 ? rest_of_line(fd, start, buf, (size_t)n) : 0;
	close(fd);
	if (n <= 0) {
		free(buf);
		return 0;
	}
	use = (size_t)n;
	if (!final || (size_t)n == READ_CHUNK) {
		char *nl = memrchr(buf, '\n', use);

		use = nl ? (size_t)(nl - buf) + 1 : 0;
		if (!use && (size_t)n == READ_CHUNK)
			use = (size_t)n; /* one giant line: take it whole */
	}
	if (skip > use)
		skip = use; /* the rest of a giant line: said already */
	parse_lines(k, e, t, buf + skip, use - skip, start + (off_t)skip);
	t->live->log_parsed += (off_t)use;
	free(buf);
	/* the offset goes to the store with the observations it produced,
	 * so a daemon mounted again never counts a line twice */
	store_put_trial_of(k->store, e, t);
	return final && t->live->log_parsed < st.st_size;
}

static void read_output(struct katib *k, struct experiment *e, struct trial *t,
			int final)
{
	char path[4096];
	struct stat st;

	if (collect_parse_mode(&e->spec->collector) != COLLECT_NOTHING) {
		collector_update(k, e, t, final);
		while (read_chunk(k, e, t, final))
			; /* more than one chunk */
	}
	trial_log_path(k, e->name, t->number, path, sizeof(path));
	if (!stat(path, &st) && st.st_size != t->live->log_size) {
		t->live->log_size = st.st_size;
		katib_queue_notify(k, e->name, t->number, KFILE_T_LOG);
	}
}

/* ---- trial lifecycle ---- */

static void trial_name(struct katib *k, struct experiment *e, char *buf,
		       size_t size)
{
	struct rng r;
	char suffix[9];
	int i;

	rng_seed(&r, (uint64_t)now_epoch() * 1000003u ^ ++k->name_seq ^
			     (uint64_t)e->ntrials << 32);
	for (i = 0; i < 8; i++)
		suffix[i] = name_alphabet[rng_next(&r) %
					  (sizeof(name_alphabet) - 1)];
	suffix[8] = '\0';
	snprintf(buf, size, "%s-%s", e->name, suffix);
}

/* "lr=0.01 momentum=0.5", the trial's assignment for events. */
static void assignment_text(const struct experiment *e, const struct trial *t,
			    struct strbuf *b)
{
	size_t i;

	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++) {
		const char *v = t->values[i];

		strbuf_printf(b, "%s%s=%.*s%s", i ? " " : "", e->value_names[i],
			      60, v, strlen(v) > 60 ? "..." : "");
	}
}

/* One line a person wants to read as it scrolls by in `tail -f events`. */
static void trial_end_event(struct katib *k, struct experiment *e,
			    struct trial *t, const char *message)
{
	const char *metric = e->spec->objective.metric;
	char val[METRIC_VALUE_MAX], bval[METRIC_VALUE_MAX];
	struct trial *best = experiment_best(e);
	struct strbuf b;
	double v;

	strbuf_init(&b);
	strbuf_printf(&b, "trial %d %s", t->number, trial_state_name(t->state));
	if (t->state != TRIAL_SUCCEEDED)
		strbuf_printf(&b, " (%s)", trial_reason(t));
	if (t->started > 0)
		strbuf_printf(&b, " after %.1fs", t->finished - t->started);
	if (!trial_objective(e, t, &v)) {
		format_double(v, val, sizeof(val));
		strbuf_printf(&b, ": %s=%s", metric, val);
	}
	if (message)
		strbuf_printf(&b, ": %s", message);
	if (best && best != t && !trial_objective(e, best, &v)) {
		format_double(v, bval, sizeof(bval));
		strbuf_printf(&b, "; best is trial %d (%s=%s)", best->number,
			      metric, bval);
	} else if (best == t) {
		strbuf_printf(&b, "; the best so far");
	}
	experiment_event(k, e, "%s", b.data ? b.data : "");
	strbuf_free(&b);
}

static void trial_finish(struct katib *k, struct experiment *e, struct trial *t,
			 enum trial_state s, const char *reason,
			 const char *message)
{
	trial_set_state(e, t, s);
	/* an algorithm that had nothing to give (hyperband waiting for a
	 * rung to finish) is asked again: it may have more now */
	e->exhausted = 0;
	trial_set_reason(t, reason);
	if (message) {
		free(t->message);
		t->message = strdup(message);
	}
	t->finished = now_epoch();
	if (t->live) { /* NULL: it never ran (trial_compact freed it) */
		slots_release(t);
		k->backend->release(k->backend_priv, &t->live->run);
		trial_live_free(t);
	}
	trial_touch(k, e, t);
	trial_end_event(k, e, t, message);
}

/* metadata.namespace of the spec, else the backend's default. */
static const char *trial_namespace(const struct katib *k,
				   const struct experiment *e)
{
	const char *ns = e->spec->namespace;

	if (!ns && k->backend->default_namespace)
		ns = k->backend->default_namespace(k->backend_priv);
	return ns ? ns : "default";
}

/*
 * Starting trials off the model lock. trial_start() prepares a trial under
 * the lock (its command and slot; Running in memory) and
 * queues it in k->launches; after the pass's commit, controller_tick()
 * drops the lock to make the queued trials' directories and spawn them
 * (backend->start: a fork and exec, or a queued cluster request) and takes
 * it again to record what happened (launch_finish). Meanwhile a kill finds
 * the trial Running with no process yet: launch_finish signals it once it
 * has one. A spec replaced by a request meanwhile stays alive
 * (katib_spec_retire_locked), since the spawn reads it.
 */
struct launch {
	struct experiment *e;
	struct trial *t;
	const struct experiment_spec *spec; /* e->spec when it was queued */
	struct trial_command cmd;
	struct trial_run run;
	struct kb_error err;
	char dir[4096], log[4096];
	int rc;
	/* the algorithm's prepare_trial (PBT: the parent's checkpoint
	 * copied into the trial's directory), run off the lock before the
	 * spawn; e->algo_busy counts it until launch_finish */
	int (*prepare)(void *priv, const struct experiment_spec *spec,
		       int number, char *const *values, const char *trial_dir,
		       struct trial_command *cmd, struct kb_error *err);
	void *algo_priv;
};

static struct launch *launch_new(struct katib *k)
{
	struct launch *l;

	if (k->nlaunches == k->launches_cap) {
		size_t cap = k->launches_cap ? k->launches_cap * 2 : 8;

		l = realloc(k->launches, cap * sizeof(*l));
		if (!l)
			return NULL;
		k->launches = l;
		k->launches_cap = cap;
	}
	l = &k->launches[k->nlaunches++];
	memset(l, 0, sizeof(*l));
	l->run.pidfd = -1;
	return l;
}

/* The trial's command rendered from the template into cmd. */
static int trial_render(struct katib *k, struct experiment *e, struct trial *t,
			struct trial_command *cmd, struct kb_error *err)
{
	struct assignment *as;
	size_t i;
	int rc;

	as = calloc(e->nvalue_names + 1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	for (i = 0; i < e->nvalue_names && i < t->nvalues; i++) {
		as[i].name = (char *)e->value_names[i];
		as[i].value = t->values[i];
	}
	if (!k->backend->renders_manifest)
		rc = spec_render_trial(e->spec, t->name, trial_namespace(k, e),
				       as, i, cmd, err);
	else /* the image's entrypoint may run: no command needed */
		rc = spec_render_manifest(e->spec, t->name,
					  trial_namespace(k, e), as, i, cmd,
					  err);
	free(as);
	return rc;
}

static void exp_dir_path(const struct katib *k, const char *exp, char *buf,
			 size_t size)
{
	snprintf(buf, size, "%s/experiments/%s", k->state_dir, exp);
}

/* The trial's directory (and its experiment's): no lock needed. The one
 * the backend made ahead if it has one ready (one rename), else a new
 * one. */
static int trial_mkdir(const struct katib *k, const char *exp, const char *dir,
		       struct kb_error *err)
{
	char path[4096];

	exp_dir_path(k, exp, path, sizeof(path));
	if (k->backend->take_prepared &&
	    !k->backend->take_prepared(k->backend_priv, path, dir))
		return 0;
	mkdir(path, 0755);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return kb_error_set(err, -errno, NULL, 0,
				    "cannot create %s: %s", dir,
				    strerror(errno));
	return 0;
}

/* trials/N/spec: the script of what is run (or the manifest). */
static void trial_set_script(struct katib *k, struct experiment *e,
			     struct trial *t, const struct launch *l)
{
	if (!(t->sealed & SEALED_COMMAND))
		free(t->command);
	t->sealed &= ~SEALED_COMMAND;
	t->command_packed = 0; /* a text again (it ran before) */
	t->command =
		k->backend->renders_manifest && l->cmd.manifest
			? strdup(l->cmd.manifest)
			: trial_script(e->name, t->number, t->name, l->dir,
				       l->cmd.working_dir ? l->cmd.working_dir
							  : l->dir,
				       &l->cmd);
}

/* Prepare t under the lock and queue it; controller_tick spawns it. */
static void trial_start(struct katib *k, struct experiment *e, struct trial *t)
{
	struct launch *l = launch_new(k);
	struct kb_error oom;
	char msg[1024];
	int rc;

	if (!l) {
		kb_error_set(&oom, -ENOMEM, NULL, 0, "out of memory");
		kb_error_format(&oom, msg, sizeof(msg));
		trial_finish(k, e, t, TRIAL_FAILED, "StartFailed", msg);
		return;
	}
	kb_error_clear(&l->err);
	rc = trial_render(k, e, t, &l->cmd, &l->err);
	trial_dir_path(k, e->name, t->number, l->dir, sizeof(l->dir));
	trial_log_path(k, e->name, t->number, l->log, sizeof(l->log));
	/* the directory is made off the lock (launch_one), and filled
	 * there by the algorithm (PBT's checkpoint) */
	if (!rc && k->backend->trial_slots)
		rc = slots_assign(k, e, t, &l->cmd, &l->err);
	if (rc) {
		kb_error_format(&l->err, msg, sizeof(msg));
		trial_command_free(&l->cmd);
		k->nlaunches--;
		trial_finish(k, e, t, TRIAL_FAILED, "StartFailed", msg);
		return;
	}
	l->prepare = e->algo->prepare_trial;
	if (l->prepare) { /* the script once the algorithm edited it */
		l->algo_priv = e->algo_priv;
		e->algo_busy++;
	} else {
		trial_set_script(k, e, t, l);
	}
	t->started = now_epoch();
	t->live->log_parsed = 0;
	l->e = e;
	l->t = t;
	l->spec = e->spec;
	/* Running from now on, as it was when spawning under the lock: the
	 * counts, the limit and a kill see it so; the store records it once
	 * its process exists (launch_finish) */
	trial_set_state(e, t, TRIAL_RUNNING);
	trial_set_reason(t, "TrialRunning");
}

/* Without the lock: the trial's directory and slot record, then spawn it. */
static int launch_one(struct katib *k, struct launch *l)
{
	struct backend_trial bt = {
		.experiment = l->e->name,
		.spec = l->spec,
		.number = l->t->number,
		.name = l->t->name,
		.dir = l->dir,
		.log_path = l->log,
		.cmd = &l->cmd,
	};
	char head[SLOT_TEXT_MAX];
	int rc = trial_mkdir(k, l->e->name, l->dir, &l->err);

	if (!rc && l->prepare)
		rc = l->prepare(l->algo_priv, l->spec, l->t->number,
				l->t->values, l->dir, &l->cmd, &l->err);
	if (!rc && k->backend->trial_slots) {
		rc = slots_record(l->t, head, sizeof(head), &l->err);
		bt.record_head = head;
	}
	if (!rc)
		rc = k->backend->start(k->backend_priv, &bt, &l->run, &l->err);
	return rc;
}

/* Without the lock: spawn every queued trial. */
static void launch_all(struct katib *k)
{
	size_t i;

	for (i = 0; i < k->nlaunches; i++)
		k->launches[i].rc = launch_one(k, &k->launches[i]);
}

static void backend_terminate(struct katib *k, struct experiment *e,
			      struct trial *t, int force);

/* A trial of e started and more may follow: the backend makes the next
 * one's directory while it runs (kept ready until discarded). */
static void prepare_next_locked(struct katib *k, struct experiment *e)
{
	const struct experiment_spec *s = e->spec;
	char dir[4096];

	if (!k->backend->prepare_next || e->next_prepared ||
	    e->state != EXP_RUNNING ||
	    (s->max_trial_count >= 0 &&
	     (long)e->ntrials >= (long)s->max_trial_count))
		return;
	exp_dir_path(k, e->name, dir, sizeof(dir));
	k->backend->prepare_next(k->backend_priv, dir);
	e->next_prepared = 1;
}

/* No more trials of e for now (ended, paused, stopped, deleted): the
 * directory made ahead goes, unseen. */
static void discard_next_locked(struct katib *k, struct experiment *e)
{
	char dir[4096];

	if (!e->next_prepared)
		return;
	exp_dir_path(k, e->name, dir, sizeof(dir));
	k->backend->discard_prepared(k->backend_priv, dir);
	e->next_prepared = 0;
}

/* Under the lock again: what became of one queued trial. */
static void launch_finish(struct katib *k, struct launch *l)
{
	struct experiment *e = l->e;
	struct trial *t = l->t;
	struct strbuf b = { 0 };
	char msg[1024];

	if (l->prepare) {
		e->algo_busy--;
		if (!l->rc)
			trial_set_script(k, e, t, l);
	}
	trial_command_free(&l->cmd);
	if (l->rc) {
		kb_error_format(&l->err, msg, sizeof(msg));
		trial_finish(k, e, t, TRIAL_FAILED, "StartFailed", msg);
		return;
	}
	t->live->run = l->run;
	if (t->live->kill_reason) /* killed while it was being spawned: */
		t->live->kill_deadline = 0; /* poll_trial sends it again */
	trial_touch(k, e, t);
	assignment_text(e, t, &b);
	experiment_event(k, e, "trial %d started: %s", t->number,
			 b.data ? b.data : "");
	strbuf_free(&b);
	prepare_next_locked(k, e);
}

/*
 * Nothing may be spawned (the store failed to record the trials): they
 * stay Pending, to start after recovery.
 */
static void launch_cancel(struct katib *k, struct launch *l)
{
	trial_set_state(l->e, l->t, TRIAL_PENDING);
	trial_set_reason(l->t, "TrialCreated");
	slots_release(l->t);
	trial_command_free(&l->cmd);
	if (l->prepare)
		l->e->algo_busy--;
	(void)k;
}

void katib_spec_retire_locked(struct katib *k, struct experiment_spec *spec)
{
	struct experiment_spec **grown;

	if (!spec || !k->launching) {
		spec_free(spec);
		return;
	}
	if (k->nretired == k->retired_cap) {
		size_t cap = k->retired_cap ? k->retired_cap * 2 : 4;

		grown = realloc(k->retired, cap * sizeof(*grown));
		if (!grown) {
			/* cannot park it: keep it alive for good (a leak
			 * of one spec, not a use after free) */
			return;
		}
		k->retired = grown;
		k->retired_cap = cap;
	}
	k->retired[k->nretired++] = spec;
}

/* Off-lock work is over: the specs replaced meanwhile can go. */
static void retired_free_locked(struct katib *k)
{
	size_t i;

	k->launching = 0;
	for (i = 0; i < k->nretired; i++)
		spec_free(k->retired[i]);
	k->nretired = 0;
}

/* None of the queued trials may be spawned. */
static void launch_cancel_all(struct katib *k)
{
	size_t i;

	for (i = 0; i < k->nlaunches; i++)
		launch_cancel(k, &k->launches[i]);
	k->nlaunches = 0;
}

/*
 * Spawn what the locked part of a pass queued, off the lock, and record
 * it. Called with k->lock held, after the pass's commit: every queued
 * trial is on record (Pending) before its process exists, since the
 * spawn waits (without the lock) until the store has written that
 * commit, so a crash from here on finds it and its directory tells the
 * rest; if the write failed, nothing is spawned and the trials start
 * after recovery. Returns with the lock held, having dropped it while
 * waiting and spawning.
 */
static void launch_queued_locked(struct katib *k)
{
	uint64_t mark;
	size_t i;
	int rc;

	if (!k->nlaunches)
		return;
	if (k->store_error) {
		launch_cancel_all(k);
		return;
	}
	mark = store_mark(k->store);
	k->launching = 1;
	pthread_mutex_unlock(&k->lock);
	rc = store_sync(k->store, mark);
	if (!rc)
		launch_all(k);
	pthread_mutex_lock(&k->lock);
	if (rc) {
		katib_store_failed_locked(k, rc);
		launch_cancel_all(k);
		retired_free_locked(k);
		return;
	}
	store_begin(k->store);
	for (i = 0; i < k->nlaunches; i++)
		launch_finish(k, &k->launches[i]);
	katib_commit_locked(k);
	k->nlaunches = 0;
	retired_free_locked(k);
}

static void backend_terminate(struct katib *k, struct experiment *e,
			      struct trial *t, int force)
{
	char dir[4096], log[4096];
	struct backend_trial bt;

	backend_trial_of(k, e, t, NULL, dir, sizeof(dir), log, sizeof(log),
			 &bt);
	k->backend->terminate(k->backend_priv, &bt, &t->live->run, force);
}

void trial_request_kill_locked(struct katib *k, struct experiment *e,
			       struct trial *t, enum trial_state state,
			       const char *reason)
{
	if (t->state == TRIAL_PENDING) {
		trial_finish(k, e, t, state, reason, NULL);
		return;
	}
	if (t->state != TRIAL_RUNNING || t->live->kill_reason)
		return;
	t->live->kill_reason = (int)state;
	trial_set_reason(t, reason);
	/* the decision is on disk before the trial hears of it (poll_trial):
	 * a daemon killed meanwhile finds the trial running (and decides
	 * again) or ending for this reason (lifecycle.c), never failed by a
	 * SIGTERM nobody recorded. The row is the next transaction. */
	t->live->kill_deadline = 0;
	t->live->kill_mark = store_mark(k->store) + 1;
	trial_touch(k, e, t);
	katib_wake(k);
}

/* The process ended: decide the trial's state as Katib does. */
/*
 * The last non-empty line of the trial's log (at most `size` - 1 bytes),
 * so that a failure in `events` says why: a traceback's last line, a
 * "command not found", a cluster's 403 (the kubernetes backend writes its
 * errors into the log). Empty when the log is.
 */
static void last_log_line(struct katib *k, struct experiment *e,
			  struct trial *t, char *out, size_t size)
{
	char path[4096], buf[512], *end, *start;
	struct stat st;
	ssize_t n;
	int fd;

	out[0] = '\0';
	trial_log_path(k, e->name, t->number, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = fstat(fd, &st) ? -1
			   : pread(fd, buf, sizeof(buf) - 1,
				   st.st_size > (off_t)sizeof(buf) - 1
					   ? st.st_size - (off_t)sizeof(buf) + 1
					   : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	end = buf + n;
	while (end > buf &&
	       (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	snprintf(out, size, "%s", start);
}

/* Why a trial killed by katibfs/trial-timeout ended, or NULL for others. */
static const char *timeout_message(const struct experiment *e,
				   const struct trial *t, char *buf,
				   size_t size)
{
	const cJSON *a = cJSON_GetObjectItem(e->spec->annotations,
					     TRIAL_TIMEOUT_ANNOTATION);
	const char *as_written = cJSON_IsString(a) ? a->valuestring : "";
	char secs[64];

	if (strcmp(trial_reason(t), "Timeout"))
		return NULL;
	format_double(e->spec->trial_timeout, secs, sizeof(secs));
	/* "30m" as the user wrote it; plain seconds get their unit */
	if (!*as_written ||
	    strspn(as_written, "0123456789.") == strlen(as_written)) {
		strncat(secs, "s", sizeof(secs) - strlen(secs) - 1);
		as_written = secs;
	}
	snprintf(buf, size,
		 "killed after the trial timeout of %s "
		 "(" TRIAL_TIMEOUT_ANNOTATION ")",
		 as_written);
	return buf;
}

/* A trial that ended well but reported no objective: say what was wanted. */
static void no_objective_message(struct katib *k, struct experiment *e,
				 struct trial *t, char *buf, size_t size)
{
	char last[200], want[600];

	last_log_line(k, e, t, last, sizeof(last));
	metrics_expectation(e->spec, want, sizeof(want));
	snprintf(buf, size,
		 "no value of the objective metric '%s' was observed; %s%s%s; "
		 "%s",
		 e->spec->objective.metric,
		 last[0] ? "its log ends with \"" : "its log is empty", last,
		 last[0] ? "\"" : "", want);
}

/*
 * Multi-objective: 1 and msg filled when t reported no numeric value of
 * one of the objectives (katibfs/objectives) after the first.
 */
static int missing_objective_message(const struct experiment *e,
				     const struct trial *t, char *msg,
				     size_t size)
{
	double v[SPEC_MAX_OBJECTIVES];
	const char *missing = NULL;

	if (spec_objective_count(e->spec) < 2 ||
	    !trial_objective_values(e, t, v, &missing) || !missing ||
	    !strcmp(missing, e->spec->objective.metric))
		return 0;
	snprintf(msg, size,
		 "no numeric value of the objective metric '%s' (one of "
		 "the objectives of " OBJECTIVES_ANNOTATION
		 ") was observed; a multi-objective trial must report "
		 "every objective",
		 missing);
	return 1;
}

static void trial_exited(struct katib *k, struct experiment *e, struct trial *t,
			 int code, int sig)
{
	char msg[1024], last[200];
	double v;

	t->exit_code = code;
	t->term_signal = sig;
	read_output(k, e, t, 1);
	if (t->live->kill_reason) {
		trial_finish(k, e, t, (enum trial_state)t->live->kill_reason,
			     t->reason,
			     timeout_message(e, t, msg, sizeof(msg)));
		return;
	}
	if (code < 0) {
		trial_finish(k, e, t, TRIAL_FAILED, "Lost",
			     "the trial's supervisor ended without recording "
			     "an exit status (killed?)");
		return;
	}
	if (code != 0) {
		last_log_line(k, e, t, last, sizeof(last));
		if (sig)
			snprintf(msg, sizeof(msg), "killed by signal %d (%s)",
				 sig, strsignal(sig));
		else
			snprintf(msg, sizeof(msg), "exited with code %d", code);
		if (last[0])
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 "; its log ends: %s", last);
		trial_finish(k, e, t, TRIAL_FAILED, "TrialFailed", msg);
		return;
	}
	if (e->spec->collector.kind != COLLECTOR_NONE &&
	    trial_objective(e, t, &v) &&
	    !(t->nsummaries && t->summaries[0].count)) {
		no_objective_message(k, e, t, msg, sizeof(msg));
		trial_finish(k, e, t, TRIAL_METRICS_UNAVAILABLE,
			     "MetricsUnavailable", msg);
		return;
	}
	if (missing_objective_message(e, t, msg, sizeof(msg))) {
		trial_finish(k, e, t, TRIAL_METRICS_UNAVAILABLE,
			     "MetricsUnavailable", msg);
		return;
	}
	trial_finish(k, e, t, TRIAL_SUCCEEDED, "TrialSucceeded", NULL);
}

static int pidfd_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd < 0 || poll(&p, 1, 0) > 0;
}

/* What the backend says about a trial's process. */
static void probe_trial(struct katib *k, struct experiment *e, struct trial *t)
{
	char dir[4096], log[4096];
	struct backend_trial bt;
	int code = 0, sig = 0;

	backend_trial_of(k, e, t, NULL, dir, sizeof(dir), log, sizeof(log),
			 &bt);
	switch (k->backend->probe(k->backend_priv, &bt, &t->live->run, &code,
				  &sig)) {
	case PROBE_RUNNING: break;
	case PROBE_EXITED: trial_exited(k, e, t, code, sig); break;
	case PROBE_NEVER_STARTED:
		if (t->state == TRIAL_PENDING)
			break; /* it starts when its turn comes */
		trial_exited(k, e, t, -1, 0);
		break;
	case PROBE_LOST: trial_exited(k, e, t, -1, 0); break;
	}
}

static void poll_trial(struct katib *k, struct experiment *e, struct trial *t,
		       double now)
{
	int rc; /* a failed store is the rewrite's business: kill anyway */

	if (pidfd_ready(t->live->run.pidfd)) {
		probe_trial(k, e, t);
		if (t->state != TRIAL_RUNNING)
			return;
	}
	if (t->live->kill_reason && !t->live->kill_deadline &&
	    store_done(k->store, t->live->kill_mark, &rc)) {
		backend_terminate(k, e, t, 0); /* its kill is recorded */
		t->live->kill_deadline = now + KILL_GRACE;
	} else if (t->live->kill_reason && t->live->kill_deadline &&
		   now >= t->live->kill_deadline) {
		backend_terminate(k, e, t, 1);
		t->live->kill_deadline = now + KILL_GRACE;
	}
	if (e->spec->trial_timeout > 0 && !t->live->kill_reason &&
	    now - t->started > e->spec->trial_timeout)
		trial_request_kill_locked(k, e, t, TRIAL_FAILED, "Timeout");
}

/* ---- scheduling and completion ---- */

static void kill_active(struct katib *k, struct experiment *e,
			const char *reason)
{
	size_t i, n = experiment_active(e);

	for (i = 0; i < n && i < e->nactive; i++)
		if (!trial_state_is_terminal(e->active[i]->state))
			trial_request_kill_locked(k, e, e->active[i],
						  TRIAL_KILLED, reason);
}

static int goal_reached(struct experiment *e)
{
	const struct objective_spec *o = &e->spec->objective;
	struct trial *best;
	double v;

	if (!o->has_goal)
		return 0;
	best = experiment_best(e);
	if (!best || trial_objective(e, best, &v))
		return 0;
	return o->maximize ? v >= o->goal : v <= o->goal;
}

/* Katib's completion check, plus "the algorithm has no more". */
static int check_completion(struct katib *k, struct experiment *e)
{
	const struct experiment_spec *s = e->spec;
	struct trial_counts c;
	char why[512];
	int failed, done;

	experiment_counts(e, &c);
	failed = c.failed + c.metrics_unavailable;
	done = c.succeeded + c.failed + c.killed + c.early_stopped +
	       c.metrics_unavailable;
	if (goal_reached(e)) {
		experiment_set_state_locked(k, e, EXP_SUCCEEDED, "GoalReached");
	} else if (s->max_failed_trial_count >= 0 && failed > 0 &&
		   failed >= s->max_failed_trial_count) {
		experiment_set_state_locked(k, e, EXP_FAILED,
					    "MaxFailedReached");
		experiment_status_message(e, why, sizeof(why));
		experiment_event(k, e, "MaxFailedReached: %s", why);
	} else if (s->max_trial_count >= 0 && done >= s->max_trial_count) {
		experiment_set_state_locked(k, e, EXP_SUCCEEDED,
					    "MaxTrialsReached");
	} else if (e->exhausted && !c.pending && !c.running && !e->nqueued) {
		experiment_set_state_locked(k, e, EXP_SUCCEEDED,
					    "SuggestionEndReached");
	} else {
		return 0;
	}
	kill_active(k, e, "ExperimentFinished");
	return 1;
}

static struct trial *trial_new(struct katib *k, struct experiment *e,
			       char **values)
{
	struct trial *t = trial_alloc();
	char name[TRIAL_NAME_MAX];

	if (!t)
		return NULL;
	t->number = (int)e->ntrials + 1;
	trial_name(k, e, name, sizeof(name));
	t->values = values;
	t->nvalues = e->nvalue_names;
	t->created = now_epoch();
	trial_set_reason(t, "TrialCreated");
	if (trial_set_name(e, t, name) || trial_live_new(t) ||
	    trial_init_metrics(e, t) || experiment_append_trial(e, t)) {
		t->values = NULL;
		t->nvalues = 0;
		trial_free(t);
		return NULL;
	}
	trial_values_pack(e, t); /* nothing points at them yet */
	trial_touch(k, e, t);
	return t;
}

static void free_assignments(char ***v, size_t from, size_t n, size_t np)
{
	size_t i, j;

	for (i = from; i < n; i++) {
		for (j = 0; v[i] && j < np; j++)
			free(v[i][j]);
		free(v[i]);
	}
	free(v);
}

/*
 * What the algorithm gave (n assignments in out, or a negative errno with
 * err) becomes trials, under the lock; out is freed.
 */
static void suggestions_commit(struct katib *k, struct experiment *e,
			       size_t want, char ***out, int n, int waiting,
			       struct kb_error *err)
{
	char msg[1024];
	int i;

	if (n < 0) {
		kb_error_format(err, msg, sizeof(msg));
		experiment_event(k, e, "algorithm %s failed: %s",
				 e->spec->algorithm.name, msg);
		experiment_set_state_locked(k, e, EXP_FAILED,
					    "AlgorithmFailed");
		kill_active(k, e, "ExperimentFinished");
		free(out);
		return;
	}
	if ((size_t)n < want && !waiting)
		e->exhausted = 1;
	for (i = 0; i < n; i++) {
		struct trial *t = trial_new(k, e, out[i]);

		if (!t) {
			free_assignments(out, (size_t)i, (size_t)n,
					 e->nvalue_names);
			return;
		}
		out[i] = NULL;
		trial_start(k, e, t);
	}
	free(out);
	if (n)
		experiment_save_algo_locked(k, e);
}

/*
 * Ask the algorithm for `want` assignments and create those trials: a
 * built-in algorithm is asked after the pass's commit, off the lock
 * (suggest_off_lock), unless a suggestion costs it microseconds (random,
 * sobol); a suggestion command's run is started or taken.
 */
static void create_trials(struct katib *k, struct experiment *e, size_t want)
{
	struct search_history own, hist;
	struct kb_error err;
	char ***out = NULL;
	int n, waiting = 0;

	if (!e->spec->nsuggestion_command &&
	    !e->algo->suggests_in_microseconds) {
		e->suggest_want = want;
		return;
	}
	/* the warm-start history first, then the trials' */
	if (experiment_history(e, &own) || warm_start_history(e, &own, &hist))
		return;
	kb_error_clear(&err);
	out = calloc(want, sizeof(*out));
	search_history_attach_used(&hist, e->used);
	if (!out)
		n = kb_error_set(&err, -ENOMEM, NULL, 0, "out of memory");
	else if (e->spec->nsuggestion_command) /* a program: off the lock */
		n = command_suggest_locked(k, e, want, out, &waiting, &err);
	else /* a draw: cheaper than a copy of the history */
		n = e->algo->suggest(e->algo_priv, e->spec, &hist, want, out,
				     &err);
	search_history_attach_used(NULL, NULL);
	suggestions_commit(k, e, want, out, n, waiting, &err);
}

/* Start up to `want` trials from EXP/queue, oldest first; how many. */
static long start_queued(struct katib *k, struct experiment *e, long want)
{
	struct trial *t;
	long n = 0;
	char **v;

	while (n < want && (v = queue_pop_locked(k, e))) {
		t = trial_new(k, e, v);
		if (!t) {
			assignment_values_free(v, e->spec->nparams);
			break;
		}
		experiment_event(k, e,
				 "trial %d comes from the queue (%zu still "
				 "waiting)",
				 t->number, e->nqueued);
		trial_start(k, e, t);
		n++;
	}
	return n;
}

/* Running trials of experiments other than e whose collector path is e's. */
static int others_on_path(struct katib *k, struct experiment *e)
{
	const char *p = e->spec->collector.path;
	struct trial_counts c;
	int n = 0;
	size_t i;

	for (i = 0; i < k->nexps; i++) {
		struct experiment *x = k->exps[i];

		if (x == e || x->deleted || !x->spec ||
		    !collector_path_is_shared(&x->spec->collector) ||
		    !path_within(x->spec->collector.path, p) ||
		    !path_within(p, x->spec->collector.path))
			continue;
		experiment_counts(x, &c);
		n += c.running;
	}
	return n;
}

/*
 * parallelTrialCount, or one trial at a time (across experiments) when
 * every trial would write the same collector path and the backend cannot
 * give each its own view of it. `events` says which, once per mount.
 */
static long parallel_limit(struct katib *k, struct experiment *e)
{
	const struct collector_spec *c = &e->spec->collector;
	char why[256] = "";
	int refused;

	if (!collector_path_is_shared(c) || !k->backend->private_paths)
		return e->spec->parallel_trial_count;
	refused = k->backend->private_paths(k->backend_priv, why, sizeof(why));
	if (!e->collector_noted && !refused)
		experiment_event(k, e,
				 "each trial has its own %s, as in a pod: a "
				 "private mount of " COLLECTOR_DIR "/ in the "
				 "trial's directory under %s, where katibfs "
				 "reads it",
				 c->path, k->state_dir);
	else if (!e->collector_noted && e->spec->parallel_trial_count > 1)
		experiment_event(k, e,
				 "trials run one at a time, not %d: each "
				 "would write the collector's %s, and katibfs "
				 "cannot give each its own (%s)",
				 e->spec->parallel_trial_count, c->path, why);
	e->collector_noted = 1;
	if (!refused)
		return e->spec->parallel_trial_count;
	return others_on_path(k, e) ? 0 : 1;
}

static void schedule(struct katib *k, struct experiment *e)
{
	long limit = slots_limit(k, e, parallel_limit(k, e));
	const struct experiment_spec *s = e->spec;
	struct trial_counts c;
	long room;
	size_t i, n;

	experiment_counts(e, &c);
	/* trials put back to Pending (a restart) start first */
	n = c.pending ? experiment_active(e) : 0;
	for (i = 0; c.pending && i < n && i < e->nactive; i++) {
		if (c.running >= limit || slots_room(k, e) < 1)
			return;
		if (e->active[i]->state != TRIAL_PENDING)
			continue;
		trial_start(k, e, e->active[i]);
		experiment_counts(e, &c);
	}
	room = limit - c.running - c.pending;
	if (s->max_trial_count >= 0 && s->max_trial_count - c.total < room)
		room = s->max_trial_count - c.total;
	if (room > 0 && slots_room(k, e) < room)
		room = slots_room(k, e);
	if (room > 0 && e->nqueued)
		room -= start_queued(k, e, room);
	if (room > 0 && !e->exhausted)
		create_trials(k, e, (size_t)room);
}

/* Ask the early stopping rule about t when it reported something new. */
static void check_early_stop(struct katib *k, struct experiment *e,
			     struct trial *t)
{
	struct search_history hist;
	char why[512] = "";
	size_t judged = t->live->series_checked;
	int stop;

	if (!e->early || t->live->kill_reason ||
	    t->nseries == t->live->series_checked)
		return;
	t->live->series_checked = t->nseries;
	if (experiment_history(e, &hist))
		return;
	stop = e->early->should_stop(e->spec, &hist,
				     &hist.trials[t->number - 1], judged, why,
				     sizeof(why));
	if (stop <= 0)
		return;
	experiment_event(k, e, "trial %d early stopped: %s", t->number, why);
	trial_request_kill_locked(k, e, t, TRIAL_EARLY_STOPPED,
				  "TrialEarlyStopped");
}

static void tick_experiment(struct katib *k, struct experiment *e,
			    const short *revents, double now, int tail)
{
	size_t i, n = experiment_active(e);

	/* only the trials that had not ended: an ended one costs nothing */
	for (i = 0; i < n && i < e->nactive; i++) {
		struct trial *t = e->active[i];

		if (t->state != TRIAL_RUNNING)
			continue;
		if (tail)
			read_output(k, e, t, 0);
		check_early_stop(k, e, t);
		poll_trial(k, e, t, now);
	}
	(void)revents;
	if (e->state == EXP_STOPPED) {
		kill_active(k, e, "ExperimentStopped");
		return;
	}
	if (e->state != EXP_RUNNING && e->state != EXP_PAUSED)
		return;
	if (check_completion(k, e))
		return;
	if (e->state == EXP_RUNNING && !k->store_error)
		schedule(k, e);
	check_completion(k, e);
}

/* Ended, with nothing left running: a pass has nothing to do for it. */
static int experiment_idle(struct experiment *e)
{
	return experiment_state_is_finished(e->state) && !experiment_active(e);
}

static void reap_deleted(struct katib *k)
{
	size_t i, j = 0;

	for (i = 0; i < k->nexps; i++) {
		struct experiment *e = k->exps[i];

		if (e->deleted)
			discard_next_locked(k, e);
		if (e->deleted && !e->importance_busy) {
			experiment_free(e);
		} else { /* being ranked: freed once the ranker lets go */
			k->exps[j++] = e;
		}
	}
	k->nexps = j;
}

/*
 * Suggesting off the model lock. A pass that wants trials from a built-in
 * algorithm says how many (e->suggest_want, create_trials); after the
 * pass's commit and launches, the history is copied (history_snapshot.h:
 * running trials' series included), the lock is dropped while the
 * algorithm suggests on the copy, and retaken to create the trials, in
 * the same pass as before: the same history gives the same suggestions
 * (random_state). Meanwhile e->algo_busy keeps requests from asking the
 * algorithm for its state (experiment_save_locked writes the one it last
 * saved), a spec replaced is parked (k->launching), and e stays allocated
 * (only this thread frees experiments). If the experiment changed
 * meanwhile (e->generation: stopped, paused, restarted, a new spec) or
 * was deleted, the result is dropped and the algorithm goes back to the
 * state it last saved, as a daemon mounted again would find it: a
 * dropped suggestion never counts.
 */
static void suggestion_drop_locked(struct katib *k, struct experiment *e,
				   char ***out, int n, size_t nvalues)
{
	struct kb_error err;
	void *priv = NULL;

	free_assignments(out, 0, n > 0 ? (size_t)n : 0, nvalues);
	if (e->deleted)
		return;
	/* the batch went into e->used: build it again from the trials */
	experiment_caches_reset(e);
	kb_error_clear(&err);
	if (e->algo->create(e->spec, e->algo_state, &priv, &err))
		return; /* keep the one that suggested */
	if (e->algo->use_backend)
		e->algo->use_backend(priv, k->backend, k->backend_priv);
	if (e->algo->destroy)
		e->algo->destroy(e->algo_priv);
	e->algo_priv = priv;
}

static void suggest_off_lock(struct katib *k, struct experiment *e)
{
	const struct experiment_spec *spec = e->spec;
	const struct algorithm_ops *algo = e->algo;
	void *priv = e->algo_priv;
	size_t want = e->suggest_want, nvalues = e->nvalue_names;
	struct search_history own, hist, snap;
	unsigned generation = e->generation;
	struct assignment_set *used;
	struct kb_error err;
	char ***out;
	int n;

	e->suggest_want = 0;
	if (e->deleted || e->state != EXP_RUNNING)
		return;
	/* the warm-start history first, then the trials' */
	if (experiment_history(e, &own) || warm_start_history(e, &own, &hist) ||
	    history_snapshot_take(&e->snapshot, &hist, &snap))
		return;
	kb_error_clear(&err);
	out = calloc(want, sizeof(*out));
	if (!out) {
		kb_error_set(&err, -ENOMEM, NULL, 0, "out of memory");
		store_begin(k->store);
		suggestions_commit(k, e, want, NULL, -ENOMEM, 0, &err);
		katib_commit_locked(k);
		return;
	}
	if (!e->algo_state && e->algo->save) /* for saves meanwhile */
		e->algo_state = e->algo->save(e->algo_priv);
	used = e->used; /* this thread's alone, as the snapshot */
	e->algo_busy++;
	k->launching = 1;
	pthread_mutex_unlock(&k->lock);
	search_history_attach_used(&snap, used);
	n = algo->suggest(priv, spec, &snap, want, out, &err);
	search_history_attach_used(NULL, NULL);
	pthread_mutex_lock(&k->lock);
	e->algo_busy--;
	retired_free_locked(k);
	if (e->deleted || e->generation != generation) {
		suggestion_drop_locked(k, e, out, n, nvalues);
		return;
	}
	store_begin(k->store);
	suggestions_commit(k, e, want, out, n, 0, &err);
	check_completion(k, e);
	katib_commit_locked(k);
	launch_queued_locked(k);
}

/*
 * One pass over everything; returns the poll timeout to use next (ms).
 * The lock is held per experiment, not for the whole pass, so a reader
 * waits for at most one experiment's share of the work; each experiment's
 * writes are one transaction.
 */
static int controller_tick(struct katib *k, int tail)
{
	double now = now_epoch();
	int running = 0, store_error;
	size_t i, n;

	pthread_mutex_lock(&k->lock);
	katib_store_poll_locked(k);
	katib_store_recover_locked(k);
	reap_deleted(k);
	n = k->nexps;
	pthread_mutex_unlock(&k->lock);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&k->lock);
		/* experiments are only appended or marked deleted meanwhile */
		if (i < k->nexps && k->exps[i]->state != EXP_RUNNING)
			discard_next_locked(k, k->exps[i]);
		if (i < k->nexps && k->exps[i]->spec && !k->exps[i]->deleted &&
		    !experiment_idle(k->exps[i])) {
			struct experiment *e = k->exps[i];

			store_begin(k->store);
			tick_experiment(k, e, NULL, now, tail);
			katib_commit_locked(k);
			launch_queued_locked(k);
			if (e->suggest_want)
				suggest_off_lock(k, e);
			if (e->state != EXP_RUNNING)
				discard_next_locked(k, e);
			if (experiment_state_is_finished(e->state))
				history_snapshot_free(&e->snapshot);
			running += e->counts.running;
		}
		pthread_mutex_unlock(&k->lock);
	}
	pthread_mutex_lock(&k->lock);
	store_error = k->store_error;
	pthread_mutex_unlock(&k->lock);
	if (store_error)
		return 1000; /* retry the rewrite */
	return running ? (int)(TAIL_INTERVAL * 1000) : -1;
}

/* ---- the thread ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * Delete what rmdir moved to --state/trash/ (and what a crash left there),
 * without the model lock: only this thread touches trash/.
 */
static void empty_trash(const struct katib *k)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/trash", k->state_dir);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	mkdir(dir, 0755);
}

static size_t collect_pollfds(struct katib *k, struct pollfd **fds, size_t *cap)
{
	size_t n = 1, i, j;

	for (i = 0; i < k->nexps; i++) {
		struct experiment *e = k->exps[i];
		size_t m = experiment_active(e);

		for (j = 0; j < m; j++) {
			struct trial *t = e->active[j];

			if (t->state != TRIAL_RUNNING || t->live->run.pidfd < 0)
				continue;
			if (n == *cap) {
				struct pollfd *p =
					realloc(*fds, *cap * 2 * sizeof(*p));

				if (!p)
					return n;
				*fds = p;
				*cap *= 2;
			}
			(*fds)[n].fd = t->live->run.pidfd;
			(*fds)[n].events = POLLIN;
			(*fds)[n].revents = 0;
			n++;
		}
	}
	return n;
}

static void fire_notifications(struct katib *k)
{
	struct notification *q;
	katib_notify_fn fn;
	void *arg;
	size_t n, i;

	pthread_mutex_lock(&k->lock);
	q = k->queue;
	n = k->nqueue;
	fn = k->notify;
	arg = k->notify_arg;
	k->queue = NULL;
	k->nqueue = k->qcap = 0;
	pthread_mutex_unlock(&k->lock);
	for (i = 0; fn && i < n; i++) {
		/* skip repeats of the previous entry */
		if (i && !memcmp(&q[i], &q[i - 1], sizeof(q[i])))
			continue;
		fn(arg, q[i].exp[0] ? q[i].exp : NULL, q[i].trial, q[i].file);
	}
	free(q);
}

/* The earlier of two poll timeouts (-1: none). */
static int sooner(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

static void *controller_main(void *arg)
{
	struct katib *k = arg;
	size_t cap = 16, n;
	struct pollfd *fds = calloc(cap, sizeof(*fds));
	double last_tail = 0, last_checkpoint = now_epoch();
	int timeout = 0, trash;

	if (!fds)
		return NULL;
	empty_trash(k); /* what a crash left after an rmdir */
	for (;;) {
		double now;
		uint64_t v;
		int tail;

		pthread_mutex_lock(&k->lock);
		if (k->stop) {
			pthread_mutex_unlock(&k->lock);
			break;
		}
		pthread_mutex_unlock(&k->lock);
		now = now_epoch();
		tail = now - last_tail >= TAIL_INTERVAL;
		if (tail)
			last_tail = now;
		timeout = controller_tick(k, tail);
		pthread_mutex_lock(&k->lock);
		timeout = sooner(timeout, importance_task_kick_locked(k));
		n = collect_pollfds(k, &fds, &cap);
		pthread_cond_broadcast(&k->changed);
		pthread_mutex_unlock(&k->lock);
		fire_notifications(k);
		pthread_mutex_lock(&k->lock);
		trash = k->trash_pending;
		k->trash_pending = 0;
		pthread_mutex_unlock(&k->lock);
		if (trash)
			empty_trash(k);
		if (now - last_checkpoint > 10) {
			store_checkpoint(k->store);
			last_checkpoint = now;
		}
		fds[0].fd = k->wake_fd;
		fds[0].events = POLLIN;
		fds[0].revents = 0;
		if (poll(fds, n, timeout) > 0 && (fds[0].revents & POLLIN))
			if (read(k->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
	}
	free(fds);
	return NULL;
}

/* What adopt_trials() found, for the mount-wide events. */
struct adoption {
	struct strbuf running, ended, waiting;
	size_t nrunning, nended, nwaiting;
};

#define ADOPTION_NAMES_MAX 20 /* listed per kind; the rest are counted */

static void adoption_add(struct strbuf *b, size_t *n,
			 const struct experiment *e, const struct trial *t,
			 int with_state)
{
	if (++*n > ADOPTION_NAMES_MAX)
		return;
	strbuf_printf(b, "%s%s/%d", *n > 1 ? ", " : "", e->name, t->number);
	if (with_state)
		strbuf_printf(b, " (%s)", trial_state_name(t->state));
}

static void adoption_part(char *buf, size_t size, size_t n,
			  const struct strbuf *names, const char *what)
{
	size_t len = strlen(buf);

	if (!n)
		return;
	snprintf(buf + len, size - len, "%s%zu %s: %s%s", len ? "; " : "", n,
		 what, names->data ? names->data : "",
		 n > ADOPTION_NAMES_MAX ? ", ..." : "");
}

static void adoption_report(struct katib *k, struct adoption *a)
{
	char msg[2048] = "";

	if (!a->nrunning && !a->nended && !a->nwaiting)
		return;
	adoption_part(msg, sizeof(msg), a->nrunning, &a->running,
		      a->nrunning == 1 ? "trial still running, re-adopted"
				       : "trials still running, re-adopted");
	adoption_part(msg, sizeof(msg), a->nended, &a->ended,
		      "ended while katibfs was down");
	adoption_part(msg, sizeof(msg), a->nwaiting, &a->waiting,
		      "not started yet, start when their turn comes");
	katib_event(k, "after the restart: %s", msg);
	strbuf_free(&a->running);
	strbuf_free(&a->ended);
	strbuf_free(&a->waiting);
}

/*
 * At mount: trials the store has as Pending or Running may have a
 * supervisor that outlived the daemon. Their directories say which are
 * running (re-adopted: output is read on from the offset already parsed),
 * which ended meanwhile (their exit is collected), and which never started
 * (they start, once).
 */
static void adopt_trials(struct katib *k)
{
	struct adoption a = { 0 };
	size_t i, j;

	store_begin(k->store);
	for (i = 0; i < k->nexps; i++) {
		struct experiment *e = k->exps[i];

		/* a directory made ahead by a daemon that died is no trial */
		e->next_prepared = k->backend->discard_prepared != NULL;
		discard_next_locked(k, e);
		for (j = 0; e->spec && e->parser && j < e->ntrials; j++) {
			struct trial *t = e->trials[j];

			if (trial_state_is_terminal(t->state))
				continue;
			probe_trial(k, e, t);
			if (trial_state_is_terminal(t->state))
				adoption_add(&a.ended, &a.nended, e, t, 1);
			else if (t->live->run.pidfd >= 0 ||
				 t->state == TRIAL_RUNNING)
				adoption_add(&a.running, &a.nrunning, e, t, 0);
			else
				adoption_add(&a.waiting, &a.nwaiting, e, t, 0);
			if (trial_state_is_terminal(t->state) ||
			    t->live->run.pidfd < 0 || t->state == TRIAL_RUNNING)
				continue;
			/* found running while the store said Pending */
			trial_set_state(e, t, TRIAL_RUNNING);
			trial_touch(k, e, t);
		}
	}
	adoption_report(k, &a);
	katib_commit_locked(k);
}

int controller_start(struct katib *k)
{
	int rc;

	adopt_trials(k);
	rc = importance_task_start(k);
	if (rc)
		return rc;
	rc = pthread_create(&k->controller, NULL, controller_main, k);
	if (rc) {
		importance_task_stop(k);
		return -rc;
	}
	k->controller_running = 1;
	return 0;
}

/* Trials go on without the daemon; only our handles on them close. */
static void release_trials(struct katib *k)
{
	size_t i, j;

	for (i = 0; i < k->nexps; i++)
		for (j = 0; j < k->exps[i]->ntrials; j++)
			if (k->exps[i]->trials[j]->live)
				k->backend->release(
					k->backend_priv,
					&k->exps[i]->trials[j]->live->run);
}

void controller_stop(struct katib *k)
{
	if (!k->controller_running)
		return;
	pthread_mutex_lock(&k->lock);
	k->stop = 1;
	pthread_mutex_unlock(&k->lock);
	katib_wake(k);
	pthread_join(k->controller, NULL);
	k->controller_running = 0;
	importance_task_stop(k);
	release_trials(k);
}
