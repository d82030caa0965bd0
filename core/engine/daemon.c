/*
 * daemon.c - the services the daemon's modules share (core/engine/daemon.h):
 * finding an experiment, events (an experiment's and the mount-wide),
 * kernel-cache notifications queued for the controller to fire, waking the
 * controller, saving an experiment's row, the trial's paths under the
 * state directory, what a backend is told of a trial, and parsing a spec
 * with the backend as the source of a configMap template.
 *
 * The bottom of the engine: it calls the model and the store, never the
 * controller, the recovery (core/engine/recover.c) or the API
 * (core/engine/katib.c). Owns: k->queue (the notifications, freed by
 * katib_close()) and the lines it appends to the events.
 */
#include "engine/daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct experiment *katib_find_locked(struct katib *k, const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < k->nexps; i++)
		if (!k->exps[i]->deleted && !strcmp(k->exps[i]->name, name))
			return k->exps[i];
	return NULL;
}

void katib_wake(struct katib *k)
{
	uint64_t one = 1;

	if (write(k->wake_fd, &one, sizeof(one)) < 0)
		return; /* counter saturated: the controller is awake anyway */
}

void katib_queue_notify(struct katib *k, const char *exp, int trial,
			enum kfile f)
{
	struct notification *n;

	if (!k->notify)
		return;
	if (k->nqueue == k->qcap) {
		size_t cap = k->qcap ? k->qcap * 2 : 64;

		n = realloc(k->queue, cap * sizeof(*n));
		if (!n)
			return;
		k->queue = n;
		k->qcap = cap;
	}
	n = &k->queue[k->nqueue++];
	snprintf(n->exp, sizeof(n->exp), "%s", exp ? exp : "");
	n->trial = trial;
	n->file = f;
}

/* One line, "<RFC3339> message", to `events` (memory, store, kernel). */
static void add_event(struct katib *k, struct strbuf *events,
		      struct timespec *mtime, const char *exp, const char *fmt,
		      va_list ap)
{
	char msg[2048], ts[40];
	double now = now_epoch();
	char *nl;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	while ((nl = strchr(msg, '\n')))
		*nl = ' ';
	format_rfc3339(now, ts, sizeof(ts));
	strbuf_printf(events, "%s %s\n", ts, msg);
	clock_gettime(CLOCK_REALTIME, mtime);
	store_add_event(k->store, exp, now, msg);
	katib_queue_notify(k, exp, 0, KFILE_EVENTS);
	katib_wake(k);
}

void experiment_event(struct katib *k, struct experiment *e, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_event(k, &e->events, &e->mtime, e->name, fmt, ap);
	va_end(ap);
	textlog_seal(&e->events_sealed, &e->events); /* -ENOMEM: stays text */
}

void katib_event(struct katib *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_event(k, &k->events, &k->events_mtime, "", fmt, ap);
	va_end(ap);
}

/* The algorithm's state into e->algo_state. The algorithm may be running
 * off the lock (e->algo_busy): then the state it last saved stays, to be
 * written again, not asked for. */
static void algo_state_take(struct experiment *e)
{
	if (e->algo && e->algo_priv && e->algo->save && !e->algo_busy) {
		free(e->algo_state);
		e->algo_state = e->algo->save(e->algo_priv);
	}
}

void experiment_save_locked(struct katib *k, struct experiment *e)
{
	algo_state_take(e);
	store_put_experiment(k->store, e, e->algo_state);
	clock_gettime(CLOCK_REALTIME, &e->mtime);
}

void experiment_save_algo_locked(struct katib *k, struct experiment *e)
{
	algo_state_take(e);
	store_put_algo_state(k->store, e->name, e->algo_state);
}

void trial_dir_path(const struct katib *k, const char *exp, int trial,
		    char *buf, size_t size)
{
	snprintf(buf, size, "%s/experiments/%s/%d", k->state_dir, exp, trial);
}

void trial_log_path(const struct katib *k, const char *exp, int trial,
		    char *buf, size_t size)
{
	snprintf(buf, size, "%s/experiments/%s/%d/log", k->state_dir, exp,
		 trial);
}

static int backend_configmap(void *arg, const char *exp_ns, const char *ns,
			     const char *name, const char *key, char **text,
			     struct kb_error *err)
{
	struct katib *k = arg;

	return k->backend->read_configmap(k->backend_priv, exp_ns, ns, name,
					  key, text, err);
}

int katib_parse_spec(struct katib *k, const char *text, size_t len,
		     const char *name, struct experiment_spec **out,
		     struct kb_error *err)
{
	struct template_source src = { .fetch = backend_configmap, .arg = k };

	return spec_parse_with(text, len, name, &src, out, err);
}

void backend_trial_of(const struct katib *k, const struct experiment *e,
		      const struct trial *t, const struct trial_command *cmd,
		      char *dir, size_t dirsize, char *log, size_t logsize,
		      struct backend_trial *out)
{
	trial_dir_path(k, e->name, t->number, dir, dirsize);
	trial_log_path(k, e->name, t->number, log, logsize);
	out->experiment = e->name;
	out->spec = e->spec;
	out->number = t->number;
	out->name = t->name;
	out->dir = dir;
	out->log_path = log;
	out->cmd = cmd;
}
