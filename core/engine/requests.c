/*
 * requests.c - what a user's write asks of the daemon: mkdir, rmdir, a
 * spec, a control word, a pushed metric. Each is decided under the model
 * lock, recorded in the store, explained in `events`, and answered with an
 * errno (include/katib/katib.h).
 *
 * Owns nothing past a request: a new experiment or spec goes to the model, a
 * replaced spec to katib_spec_retire_locked().
 */
#include "engine/daemon.h"
#include "controller.h"
#include "engine/warm_start.h"
#include "recover.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_MAX 4096

/* Record a rejected write: events line, and err for the caller. */
static int reject(struct katib *k, struct experiment *e, int code,
		  struct kb_error *err, const char *what)
{
	char msg[1024];

	kb_error_format(err, msg, sizeof(msg));
	if (e)
		experiment_event(k, e, "rejected %s: %s", what, msg);
	return code;
}

/* What is wrong with a name spec_validate_name() refused, in a few words. */
static void name_problem(const char *exp, char *buf, size_t size)
{
	size_t len = strlen(exp);

	if (!strcmp(exp, "events"))
		snprintf(buf, size, "that is the mount's own events file");
	else if (len > EXPERIMENT_NAME_MAX)
		snprintf(buf, size, "%zu characters", len);
	else
		snprintf(buf, size, "not a valid name");
}

/* A name mkdir cannot take: the reason in err, and a line in
 * MOUNTPOINT/events that states the whole rule. */
static int reject_name(struct katib *k, const char *exp, struct kb_error *err)
{
	char why[64];
	int rc = spec_validate_name(exp, err);

	if (!rc && strcmp(exp, "events"))
		return 0;
	if (!rc)
		rc = kb_error_set(err, -EINVAL, "metadata.name", 0,
				  "\"events\" is the mount's own events file");
	name_problem(exp, why, sizeof(why));
	pthread_mutex_lock(&k->lock);
	store_begin(k->store);
	katib_event(k,
		    "rejected mkdir %s: %s; an experiment name "
		    "is " EXPERIMENT_NAME_RULE " (e.g. random-search-1)",
		    exp, why);
	katib_commit_locked(k);
	katib_unlock_synced(k);
	return rc;
}

int katib_mkdir(struct katib *k, const char *exp, struct kb_error *err)
{
	struct experiment *e;
	int rc;

	rc = reject_name(k, exp, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&k->lock);
	if (katib_find_settled_locked(k, exp)) {
		rc = -EEXIST;
		goto out;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(exp))) {
		free(e);
		rc = -ENOMEM;
		goto out;
	}
	strbuf_init(&e->events);
	e->state = EXP_CREATED;
	snprintf(e->reason, sizeof(e->reason), "ExperimentCreated");
	e->created = now_epoch();
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	if (k->nexps == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct experiment **p = realloc(k->exps, cap * sizeof(*p));

		if (!p) {
			experiment_free(e);
			rc = -ENOMEM;
			goto out;
		}
		k->exps = p;
		k->cap = cap;
	}
	k->exps[k->nexps++] = e;
	store_begin(k->store);
	experiment_save_locked(k, e);
	experiment_event(k, e,
			 "experiment created; write a Katib Experiment to "
			 "spec.yaml to start it");
	katib_commit_locked(k); /* a failure is shown in status and events */
	rc = 0;
	katib_queue_notify(k, NULL, 0, KFILE_NONE);
out:
	katib_unlock_synced(k); /* returns once it is on disk */
	return rc;
}

/*
 * The experiment named exp for a request that changes it, once no rmdir of
 * it is under way: such a request waits (on k->changed, the lock dropped)
 * as it used to wait for the lock that rmdir held through its store write,
 * and then finds the experiment gone, or back if the write failed.
 */
struct experiment *katib_find_settled_locked(struct katib *k, const char *exp)
{
	struct experiment *e;

	while ((e = katib_find_locked(k, exp)) && e->removing)
		pthread_cond_wait(&k->changed, &k->lock);
	return e;
}

/* rmdir's deletion on disk, waited for without the model lock: readers go
 * on meanwhile and see the experiment; requests that would change it wait
 * (katib_find_settled_locked). Returns with the lock held, e still there. */
static int delete_on_disk(struct katib *k, struct experiment *e)
{
	int rc = store_delete_experiment(k->store, e->name);
	uint64_t mark = store_mark(k->store);

	if (rc)
		return rc;
	e->removing = 1;
	pthread_mutex_unlock(&k->lock);
	rc = store_sync(k->store, mark);
	pthread_mutex_lock(&k->lock);
	e->removing = 0;
	pthread_cond_broadcast(&k->changed);
	return rc;
}

int katib_rmdir(struct katib *k, const char *exp, struct kb_error *err)
{
	struct experiment *e;
	struct trial_counts c;
	char dir[4096], trash[4200];
	int rc = 0;

	pthread_mutex_lock(&k->lock);
	e = katib_find_settled_locked(k, exp);
	if (!e) {
		rc = -ENOENT;
		goto out;
	}
	experiment_counts(e, &c);
	if (e->state == EXP_RUNNING || c.running || c.pending) {
		kb_error_set(err, -EBUSY, NULL, 0,
			     "experiment is %s with %d trial(s) running; "
			     "write 'stop' to control first",
			     experiment_state_name(e->state), c.running);
		rc = reject(k, e, -EBUSY, err, "rmdir");
		goto out;
	}
	/* on disk before anything goes: a failure leaves it all in place */
	rc = delete_on_disk(k, e);
	if (rc) {
		katib_store_failed_locked(k, rc);
		goto out;
	}
	if (e->spec && k->backend->remove_experiment)
		k->backend->remove_experiment(k->backend_priv, exp, e->spec);
	e->deleted = 1; /* the controller frees it */
	/* one rename here; the controller thread deletes the files (maybe
	 * thousands of trial directories) without the lock */
	snprintf(dir, sizeof(dir), "%s/experiments/%s", k->state_dir, exp);
	snprintf(trash, sizeof(trash), "%s/trash/%s.%llu", k->state_dir, exp,
		 (unsigned long long)++k->name_seq);
	if (rename(dir, trash) && errno != ENOENT)
		experiment_event(k, e, "cannot move %s away: %s", dir,
				 strerror(errno));
	k->trash_pending = 1;
	katib_wake(k);
out:
	katib_unlock_synced(k);
	return rc;
}

static void set_error(struct experiment *e, const struct kb_error *err)
{
	char msg[1024];

	free(e->error);
	e->error = NULL;
	if (!err)
		return;
	kb_error_format(err, msg, sizeof(msg));
	e->error = strdup(msg);
}

/* A valid spec for a Created or Invalid experiment: start it. */
static int start_experiment(struct katib *k, struct experiment *e,
			    struct experiment_spec *spec, const char *text,
			    size_t len, struct kb_error *err)
{
	char *raw = strndup(text, len);
	char *yaml = spec_render_yaml(spec, e->name);
	int rc;

	if (!raw || !yaml) {
		free(raw);
		free(yaml);
		spec_free(spec);
		return -ENOMEM;
	}
	rc = warm_start_check_locked(k, e->name, spec, err);
	if (rc) {
		spec_free(spec);
		free(raw);
		free(yaml);
		return rc;
	}
	katib_spec_retire_locked(k, e->spec);
	e->spec = spec;
	e->generation++; /* a suggestion under way was for the old spec */
	rc = experiment_activate_locked(k, e, NULL, err);
	if (rc) {
		e->spec = NULL;
		spec_free(spec);
		free(raw);
		free(yaml);
		return rc;
	}
	free(e->raw_spec);
	free(e->spec_yaml);
	e->raw_spec = raw;
	e->spec_yaml = yaml;
	set_error(e, NULL);
	e->started = now_epoch();
	if (spec->name && strcmp(spec->name, e->name))
		experiment_event(
			k, e,
			"metadata.name '%s' differs from the directory "
			"name; the experiment is named '%s'",
			spec->name, e->name);
	experiment_set_state_locked(k, e, EXP_RUNNING, "ExperimentRunning");
	warm_start_take_locked(k, e);
	return 0;
}

static int restartable(const struct experiment *e,
		       const struct experiment_spec *spec, struct kb_error *err)
{
	if (e->spec->resume_policy == RESUME_NEVER)
		return kb_error_set(err, -EPERM, "spec.resumePolicy", 0,
				    "experiment is %s and its resumePolicy is "
				    "Never, which is fixed at creation: it "
				    "cannot run more trials. To go on from "
				    "where it stood, continue it in a new "
				    "experiment that takes its trials as "
				    "history: mkdir NEW && cp %s/spec.yaml "
				    "NEW/spec.yaml, and there add the "
				    "annotation " WARM_START_ANNOTATION
				    ": \"%s\" and set maxTrialCount to the "
				    "trials still to run (resumePolicy: "
				    "LongRunning lets that one be extended in "
				    "place later)",
				    experiment_state_name(e->state), e->name,
				    e->name);
	if (e->state != EXP_SUCCEEDED || strcmp(e->reason, "MaxTrialsReached"))
		return kb_error_set(err, -EPERM, NULL, 0,
				    "only an experiment that succeeded with "
				    "MaxTrialsReached can be restarted; this "
				    "one is %s (%s). To run more trials, "
				    "continue it in a new experiment (mkdir "
				    "NEW && cp %s/spec.yaml NEW/spec.yaml) "
				    "with the annotation " WARM_START_ANNOTATION
				    ": \"%s\", which gives it these trials "
				    "as history",
				    experiment_state_name(e->state), e->reason,
				    e->name, e->name);
	if (spec->max_trial_count >= 0 &&
	    (size_t)spec->max_trial_count <= e->ntrials)
		return kb_error_set(err, -EPERM, "spec.maxTrialCount", 0,
				    "must exceed the %zu trials already run "
				    "to restart the experiment",
				    e->ntrials);
	return 0;
}

/* A valid spec for a started experiment: the editable fields change. */
static int update_experiment(struct katib *k, struct experiment *e,
			     struct experiment_spec *spec, const char *text,
			     size_t len, struct kb_error *err)
{
	struct experiment_spec *old = e->spec;
	int finished = experiment_state_is_finished(e->state);
	char *raw, *yaml;
	int rc;

	rc = spec_check_update(old, spec, err);
	if (!rc && finished && old->max_trial_count == spec->max_trial_count &&
	    old->parallel_trial_count == spec->parallel_trial_count &&
	    old->max_failed_trial_count == spec->max_failed_trial_count)
		goto same; /* the same spec written again */
	if (!rc && finished)
		rc = restartable(e, spec, err);
	if (rc) {
		spec_free(spec);
		return rc;
	}
	raw = strndup(text, len);
	yaml = spec_render_yaml(spec, e->name);
	if (!raw || !yaml) {
		free(raw);
		free(yaml);
		spec_free(spec);
		return -ENOMEM;
	}
	experiment_event(k, e,
			 "spec updated: parallelTrialCount=%d "
			 "maxTrialCount=%d maxFailedTrialCount=%d",
			 spec->parallel_trial_count, spec->max_trial_count,
			 spec->max_failed_trial_count);
	e->spec = spec;
	e->generation++; /* a suggestion under way was for the old spec */
	/* the value names point into the spec: take them from the new one */
	e->nvalue_names = algorithm_assignment_names(
		e->algo, e->algo_priv, spec, e->value_names, KATIB_MAX_VALUES);
	katib_spec_retire_locked(k, old);
	free(e->raw_spec);
	free(e->spec_yaml);
	e->raw_spec = raw;
	e->spec_yaml = yaml;
	set_error(e, NULL);
	if (finished) {
		e->finished = 0;
		e->exhausted = 0;
		experiment_set_state_locked(k, e, EXP_RUNNING,
					    "ExperimentRestarting");
	} else {
		experiment_save_locked(k, e);
	}
	katib_wake(k);
	return 0;
same:
	spec_free(spec);
	set_error(e, NULL);
	experiment_save_locked(k, e);
	return 0;
}

/* The spec's warnings (spec_warn()), one `events` line each. */
static void warn_events(struct katib *k, struct experiment *e,
			const struct experiment_spec *spec)
{
	char msg[1024];
	size_t i;

	for (i = 0; spec->warnings && i < spec->warnings->n; i++) {
		kb_error_format(&spec->warnings->items[i], msg, sizeof(msg));
		experiment_event(k, e, "warning: %s", msg);
	}
}

int katib_write_spec(struct katib *k, const char *exp, const char *text,
		     size_t len, struct kb_error *err)
{
	struct experiment_spec *spec = NULL;
	struct experiment *e;
	int rc, parsed;

	/* Off the lock: a configMap source is read from the backend (the
	 * cluster), which may take a while. */
	parsed = katib_parse_spec(k, text, len, exp, &spec, err);
	pthread_mutex_lock(&k->lock);
	e = katib_find_settled_locked(k, exp);
	if (!e) {
		spec_free(spec);
		rc = -ENOENT;
		goto out;
	}
	store_begin(k->store);
	rc = parsed;
	if (!rc)
		warn_events(k, e, spec);
	if (!rc && (e->state == EXP_CREATED || e->state == EXP_INVALID))
		rc = start_experiment(k, e, spec, text, len, err);
	else if (!rc)
		rc = update_experiment(k, e, spec, text, len, err);
	if (rc) {
		spec_locate_error(text, len, err);
		set_error(e, err);
		if (e->state == EXP_CREATED || e->state == EXP_INVALID) {
			free(e->raw_spec);
			e->raw_spec = strndup(text, len);
			e->state = EXP_INVALID;
			snprintf(e->reason, sizeof(e->reason), "InvalidSpec");
		}
		experiment_save_locked(k, e);
		reject(k, e, rc, err, "spec.yaml");
	}
	katib_commit_locked(k);
out:
	katib_unlock_synced(k);
	return rc;
}

/* ---- control ---- */

static int control_word(struct katib *k, struct experiment *e, const char *w,
			struct kb_error *err)
{
	int running = e->state == EXP_RUNNING, paused = e->state == EXP_PAUSED;

	if (!strcmp(w, "pause")) {
		if (paused)
			return 0;
		if (!running)
			return kb_error_set(err, -EBUSY, NULL, 0,
					    "cannot pause: experiment is %s",
					    experiment_state_name(e->state));
		experiment_set_state_locked(k, e, EXP_PAUSED, "PausedByUser");
		return 0;
	}
	if (!strcmp(w, "resume")) {
		if (running)
			return 0;
		if (!paused)
			return kb_error_set(err, -EBUSY, NULL, 0,
					    "cannot resume: experiment is %s",
					    experiment_state_name(e->state));
		experiment_set_state_locked(k, e, EXP_RUNNING, "ResumedByUser");
		return 0;
	}
	if (!strcmp(w, "stop")) {
		if (e->state == EXP_STOPPED)
			return 0;
		if (!running && !paused)
			return kb_error_set(err, -EBUSY, NULL, 0,
					    "cannot stop: experiment is %s",
					    experiment_state_name(e->state));
		experiment_set_state_locked(k, e, EXP_STOPPED, "StoppedByUser");
		return 0;
	}
	return kb_error_set(err, -EINVAL, NULL, 0,
			    "unknown control word '%.64s'; accepted: pause, "
			    "resume, stop",
			    w);
}

/* Split text into newline/space separated words and apply f to each. */
static int for_each_word(const char *text, size_t len,
			 int (*f)(void *, const char *, struct kb_error *),
			 void *arg, struct kb_error *err)
{
	char buf[CONTROL_MAX + 1], *save = NULL, *w;
	int rc = 0, n = 0;

	if (len > CONTROL_MAX)
		return kb_error_set(err, -EINVAL, NULL, 0,
				    "control write too long (%zu bytes)", len);
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (w = strtok_r(buf, " \t\r\n", &save); w && !rc;
	     w = strtok_r(NULL, " \t\r\n", &save), n++)
		rc = f(arg, w, err);
	if (!rc && !n)
		rc = kb_error_set(err, -EINVAL, NULL, 0,
				  "empty control write; accepted words: "
				  "pause, resume, stop (trials: kill)");
	return rc;
}

struct control_ctx {
	struct katib *k;
	struct experiment *e;
	struct trial *t;
};

static int exp_word(void *arg, const char *w, struct kb_error *err)
{
	struct control_ctx *c = arg;

	return control_word(c->k, c->e, w, err);
}

int katib_write_control(struct katib *k, const char *exp, const char *text,
			size_t len, struct kb_error *err)
{
	struct control_ctx c = { .k = k };
	int rc;

	pthread_mutex_lock(&k->lock);
	c.e = katib_find_settled_locked(k, exp);
	if (!c.e) {
		rc = -ENOENT;
		goto out;
	}
	store_begin(k->store);
	rc = for_each_word(text, len, exp_word, &c, err);
	if (rc)
		reject(k, c.e, rc, err, "control write");
	katib_commit_locked(k);
	katib_wake(k);
out:
	katib_unlock_synced(k);
	return rc;
}

static int trial_word(void *arg, const char *w, struct kb_error *err)
{
	struct control_ctx *c = arg;

	if (strcmp(w, "kill"))
		return kb_error_set(err, -EINVAL, NULL, 0,
				    "unknown trial control word '%.64s'; "
				    "accepted: kill",
				    w);
	if (trial_state_is_terminal(c->t->state))
		return kb_error_set(err, -EBUSY, NULL, 0,
				    "trial %d already ended (%s)", c->t->number,
				    trial_state_name(c->t->state));
	trial_request_kill_locked(c->k, c->e, c->t, TRIAL_KILLED,
				  "KilledByUser");
	return 0;
}

int katib_write_trial_control(struct katib *k, const char *exp, int trial,
			      const char *text, size_t len,
			      struct kb_error *err)
{
	struct control_ctx c = { .k = k };
	char what[64];
	int rc;

	pthread_mutex_lock(&k->lock);
	c.e = katib_find_settled_locked(k, exp);
	c.t = c.e ? experiment_trial(c.e, trial) : NULL;
	if (!c.t) {
		rc = -ENOENT;
		goto out;
	}
	store_begin(k->store);
	rc = for_each_word(text, len, trial_word, &c, err);
	snprintf(what, sizeof(what), "trials/%d/control write", trial);
	if (rc)
		reject(k, c.e, rc, err, what);
	katib_commit_locked(k);
	katib_wake(k);
out:
	katib_unlock_synced(k);
	return rc;
}

#define PUSH_MAX_OBS 4096

int katib_push_metrics(struct katib *k, const char *exp, int trial,
		       const char *text, size_t len, struct kb_error *err)
{
	struct observation *obs = NULL;
	struct experiment *e;
	struct trial *t = NULL;
	char what[64];
	int rc, n;

	pthread_mutex_lock(&k->lock);
	e = katib_find_settled_locked(k, exp);
	t = e ? experiment_trial(e, trial) : NULL;
	if (!t) {
		rc = -ENOENT;
		goto out;
	}
	snprintf(what, sizeof(what), "trials/%d/metrics write", trial);
	if (trial_state_is_terminal(t->state) || !e->parser) {
		rc = kb_error_set(err, -EPERM, NULL, 0,
				  "trial %d has ended (%s); metrics are taken "
				  "only while it runs",
				  trial, trial_state_name(t->state));
		reject(k, e, rc, err, what);
		goto out;
	}
	obs = calloc(PUSH_MAX_OBS, sizeof(*obs));
	if (!obs) {
		rc = -ENOMEM;
		goto out;
	}
	n = metrics_parse_push(e->parser, text, len, now_epoch(), obs,
			       PUSH_MAX_OBS, err);
	if (n < 0) {
		rc = reject(k, e, n, err, what);
		goto out;
	}
	store_begin(k->store);
	rc = trial_add_observations_locked(k, e, t, obs, (size_t)n);
	katib_commit_locked(k);
out:
	katib_unlock_synced(k);
	free(obs);
	return rc;
}
