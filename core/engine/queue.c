/*
 * queue.c - EXP/queue (INTERFACE.md, "queue"): `echo "lr=0.01 layers=3" >>
 * EXP/queue` runs exactly that as the next trial.
 *
 * A write is taken whole: every line is checked against the search space
 * (assignment_parse_line(), core/spec/search_space.c) before any of them is
 * queued, so a bad line queues nothing. Lines wait in e->queued, oldest
 * first, and in the store's queue table (they survive a remount); the
 * controller takes them (queue_pop_locked()) before it asks the algorithm
 * for more, and the trials they become are in the history like any other,
 * so the algorithm takes their results as its own observations. Algorithms
 * that cannot (algorithm_ops.foreign_refused) refuse the write.
 *
 * Owns: the queued assignments of each experiment (e->queued), freed by
 * experiment_queue_free() (model.c).
 */
#include "engine/queue.h"
#include "engine/recover.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX	10000	  /* lines waiting per experiment */
#define QUEUE_WRITE_MAX (1 << 20) /* bytes per write */

static int queue_append(struct experiment *e, long seq, char **values)
{
	struct queued_trial *q;
	size_t cap;

	if (e->nqueued == e->queued_cap) {
		cap = e->queued_cap ? e->queued_cap * 2 : 8;
		q = realloc(e->queued, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		e->queued = q;
		e->queued_cap = cap;
	}
	e->queued[e->nqueued].seq = seq;
	e->queued[e->nqueued].values = values;
	e->queued[e->nqueued].nvalues = e->spec->nparams;
	e->nqueued++;
	if (seq > e->queue_seq)
		e->queue_seq = seq;
	return 0;
}

void queue_render_locked(const struct experiment *e, struct strbuf *b)
{
	size_t i, j;

	for (i = 0; e->spec && i < e->nqueued; i++) {
		for (j = 0; j < e->queued[i].nvalues; j++)
			strbuf_printf(b, "%s%s=%s", j ? " " : "",
				      e->spec->params[j].name,
				      e->queued[i].values[j]);
		strbuf_printf(b, "\n");
	}
}

int queue_load(struct experiment *e, long seq, const char *line)
{
	char **values;
	int rc;

	if (!e->spec || !line ||
	    assignment_parse_line(e->spec, line, strlen(line), &values, NULL))
		return 0;
	rc = queue_append(e, seq, values);
	if (rc)
		assignment_values_free(values, e->spec->nparams);
	return rc;
}

char **queue_pop_locked(struct katib *k, struct experiment *e)
{
	char **values;

	if (!e->nqueued)
		return NULL;
	values = e->queued[0].values;
	store_delete_queued(k->store, e->name, e->queued[0].seq);
	memmove(e->queued, e->queued + 1,
		(e->nqueued - 1) * sizeof(*e->queued));
	e->nqueued--;
	katib_queue_notify(k, e->name, 0, KFILE_QUEUE);
	return values;
}

/* Whether e takes queued trials now: 0, or -EBUSY/-EINVAL with err. */
static int queue_open(const struct experiment *e, struct kb_error *err)
{
	if (!e->spec)
		return kb_error_set(err, -EINVAL, NULL, 0,
				    "the experiment has no spec yet: write "
				    "spec.yaml first; a queued line assigns "
				    "every parameter of its search space");
	if (experiment_state_is_finished(e->state))
		return kb_error_set(err, -EBUSY, NULL, 0,
				    "the experiment has ended (%s, %s): a "
				    "queued trial would never run",
				    experiment_state_name(e->state), e->reason);
	if (e->algo && e->algo->foreign_refused)
		return kb_error_set(err, -EINVAL,
				    "spec.algorithm.algorithmName", 0,
				    "%s cannot run queued trials: %s",
				    e->algo->name, e->algo->foreign_refused);
	return 0;
}

/* The lines of text as assignments into *out (n of them); all or none. */
static int queue_parse(const struct experiment *e, const char *text, size_t len,
		       char ****out, size_t *n, struct kb_error *err)
{
	const char *p = text, *end = text + len, *nl;
	size_t cap = 0, lineno = 0, i;
	char ***v = NULL, ***grown;
	int rc = 0;

	*n = 0;
	for (; p < end && !rc; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lineno++;
		if (strspn(p, " \t\r") >= (size_t)(nl - p))
			continue; /* a blank line */
		if (e->nqueued + *n >= QUEUE_MAX) {
			rc = kb_error_set(err, -EINVAL, NULL, 0,
					  "%d lines are waiting already; let "
					  "some run first",
					  QUEUE_MAX);
			break;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			v = grown;
		}
		rc = assignment_parse_line(e->spec, p, (size_t)(nl - p), &v[*n],
					   err);
		if (!rc)
			(*n)++;
		else if (lineno > 1 && err && err->message[0]) {
			char msg[sizeof(err->message)];

			snprintf(msg, sizeof(msg), "line %zu: %s", lineno,
				 err->message);
			memcpy(err->message, msg, sizeof(msg));
		}
	}
	if (!rc && !*n)
		rc = kb_error_set(err, -EINVAL, NULL, 0,
				  "empty write; a line is name=value for "
				  "every parameter, separated by spaces");
	if (rc) {
		for (i = 0; i < *n; i++)
			assignment_values_free(v[i], e->spec->nparams);
		free(v);
		*n = 0;
		return rc;
	}
	*out = v;
	return 0;
}

static void queue_add_parsed(struct katib *k, struct experiment *e, char ***v,
			     size_t n)
{
	size_t i;
	char *line;

	for (i = 0; i < n; i++) {
		line = assignment_line(e->spec, v[i]);
		if (!line || queue_append(e, e->queue_seq + 1, v[i])) {
			free(line);
			assignment_values_free(v[i], e->spec->nparams);
			experiment_event(k, e, "queue: out of memory");
			continue;
		}
		store_put_queued(k->store, e->name, e->queue_seq, line);
		experiment_event(k, e, "queued: %s (%zu waiting)", line,
				 e->nqueued);
		free(line);
	}
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	katib_queue_notify(k, e->name, 0, KFILE_QUEUE);
}

int katib_write_queue(struct katib *k, const char *exp, const char *text,
		      size_t len, struct kb_error *err)
{
	struct experiment *e;
	char ***v = NULL;
	char msg[1024];
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&k->lock);
	e = katib_find_settled_locked(k, exp);
	if (!e) {
		rc = -ENOENT;
		goto out;
	}
	store_begin(k->store);
	rc = len > QUEUE_WRITE_MAX
		     ? kb_error_set(err, -EINVAL, NULL, 0,
				    "queue write too long (%zu bytes)", len)
		     : queue_open(e, err);
	if (!rc)
		rc = queue_parse(e, text, len, &v, &n, err);
	if (rc) {
		kb_error_format(err, msg, sizeof(msg));
		experiment_event(k, e, "rejected queue write: %s", msg);
	} else {
		queue_add_parsed(k, e, v, n);
		free(v);
	}
	katib_commit_locked(k);
	katib_wake(k);
out:
	katib_unlock_synced(k);
	return rc;
}
