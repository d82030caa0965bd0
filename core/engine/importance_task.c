/*
 * importance_task.c - the `importance` file kept up to date by a thread of
 * its own, the ranker (see importance_task.h). Owns the ranker (struct
 * ranker, k->ranker: started and joined with the controller) and the
 * snapshot of a pass; the ranking it stores is owned by the experiment
 * (freed by experiment_free()).
 *
 * The controller's pass calls importance_task_kick_locked(): it stores a
 * finished ranking, and when an experiment's Succeeded count calls for
 * one (the pacing of needs_ranking_locked: RANK_SHARE, the 1% rule) takes
 * the snapshot and hands it to the ranker, one at a time. The ranker, at
 * a low priority (RANK_NICE: 19 and SCHED_IDLE kept trials no faster, and
 * under others' load left a ranking seconds late), sleeps on a semaphore
 * till then, ranks without any lock, and leaves the
 * result for the controller's next pass, waking it only if none comes
 * within RESULT_GRACE_MS. It takes no lock the controller or a reader
 * waits for: preempted while holding k->lock, a thread of that priority
 * would stall them behind every other job on the machine.
 *
 * Lifetime: an experiment is busy (e->importance_busy) from its snapshot
 * till its result is stored, both by the controller under k->lock. The
 * controller's free path (reap_deleted) keeps a deleted experiment in the
 * list while it is busy and frees it (with the result stored into it) at
 * the first pass after the result comes back: the ranker never touches
 * the experiment, only the snapshot, and nothing is freed under it. The
 * controller and the ranker stop together (controller_stop): the ranker is at
 * most one ranking away (about 50 ms of CPU at 1,000 trials).
 */
#include <errno.h>
#include <math.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "algorithms/importance.h"
#include "engine/importance_task.h"

#define NOT_ENOUGH	"# not enough trials yet\n"
#define NOT_RANKED	"# the trials' assignments are not the spec's parameters\n"
#define RANK_SEED	20140601 /* fixed: the same trials, the same file */
#define RANK_SHARE	9  /* wait 9x a ranking's CPU time before the next */
#define RANK_NICE	10 /* the ranker's nice value: below the trials' */
#define RESULT_GRACE_MS 20 /* a result waits that long for a pass */

struct snapshot {
	struct importance_space space;
	double *x, *y;
	size_t n;
	int succeeded; /* e->counts.succeeded when taken */
};

static void snapshot_free(struct snapshot *s)
{
	importance_space_free(&s->space);
	free(s->x);
	free(s->y);
	memset(s, 0, sizeof(*s));
}

/* The trials' values are the spec's parameters, in order (not the case
 * for the NAS algorithms, whose assignments are their own). */
static int values_are_params(const struct experiment *e)
{
	size_t i;

	if (e->nvalue_names != e->spec->nparams)
		return 0;
	for (i = 0; i < e->nvalue_names; i++)
		if (strcmp(e->value_names[i], e->spec->params[i].name))
			return 0;
	return 1;
}

static int eligible(const struct experiment *e, const struct trial *t,
		    double *y)
{
	/* a non-finite objective is left out, as Optuna does */
	return t->state == TRIAL_SUCCEEDED && t->nvalues == e->spec->nparams &&
	       !trial_objective(e, t, y) && isfinite(*y);
}

/* Row i of the snapshot from trial t; skipped when a value does not fit
 * the space (0 either way, -ENOMEM never: the rows are allocated). */
static void add_row(struct snapshot *s, const struct experiment *e,
		    const struct trial *t, double y)
{
	double *row = s->x + s->n * s->space.ncolumns;

	if (importance_encode(&s->space, e->spec->params, t->values, row))
		return;
	s->y[s->n++] = y;
}

/* Keep the sample's rows for every `stride`-th eligible trial: at most
 * 2 * IMPORTANCE_MAX_TRIALS (then every other one goes, stride doubles). */
static int sample_add(struct experiment *e, size_t index)
{
	size_t i;

	if (e->importance_seen++ % e->importance_stride)
		return 0;
	if (e->importance_nrows == 2 * IMPORTANCE_MAX_TRIALS) {
		for (i = 0; 2 * i < e->importance_nrows; i++)
			e->importance_rows[i] = e->importance_rows[2 * i];
		e->importance_nrows = i;
		e->importance_stride *= 2;
		if ((e->importance_seen - 1) % e->importance_stride)
			return 0;
	}
	if (!e->importance_rows) {
		e->importance_rows = malloc(2 * IMPORTANCE_MAX_TRIALS *
					    sizeof(*e->importance_rows));
		if (!e->importance_rows)
			return -ENOMEM;
	}
	e->importance_rows[e->importance_nrows++] = (uint32_t)index;
	return 0;
}

/* Under the lock: the ended trials not yet looked at, up to the first
 * still running, into e's sample (all of it again for a new spec). */
static int sample_update_locked(struct experiment *e)
{
	double y;

	if (e->importance_generation != e->generation ||
	    !e->importance_stride) {
		e->importance_generation = e->generation;
		e->importance_nrows = e->importance_scanned = 0;
		e->importance_seen = 0;
		e->importance_stride = 1;
	}
	for (; e->importance_scanned < e->ntrials; e->importance_scanned++) {
		const struct trial *t = e->trials[e->importance_scanned];

		if (!trial_state_is_terminal(t->state))
			break;
		if (eligible(e, t, &y) &&
		    sample_add(e, e->importance_scanned)) {
			e->importance_stride = 0; /* start again next time */
			return -ENOMEM;
		}
	}
	return 0;
}

/* The k-th of the candidate trials: the sample's, then those after it. */
static size_t candidate(const struct experiment *e, const uint32_t *tail,
			size_t k)
{
	return k < e->importance_nrows ? e->importance_rows[k]
				       : tail[k - e->importance_nrows];
}

/*
 * Under the lock: the Succeeded trials with an objective, encoded; an
 * evenly spaced IMPORTANCE_MAX_TRIALS of them when there are more. The
 * ended trials are sampled once (sample_update_locked); only those after
 * the first still running are looked at each time.
 */
static int take_snapshot_locked(struct experiment *e, struct snapshot *s)
{
	size_t i, total, ntail = 0, k, want;
	uint32_t *tail;
	double y;

	memset(s, 0, sizeof(*s));
	s->succeeded = e->counts.succeeded;
	if (sample_update_locked(e))
		return -ENOMEM;
	tail = malloc((e->ntrials - e->importance_scanned + 1) * sizeof(*tail));
	if (!tail)
		return -ENOMEM;
	for (i = e->importance_scanned; i < e->ntrials; i++)
		if (eligible(e, e->trials[i], &y))
			tail[ntail++] = (uint32_t)i;
	total = e->importance_nrows + ntail;
	want = total < IMPORTANCE_MAX_TRIALS ? total : IMPORTANCE_MAX_TRIALS;
	if (importance_space_init(&s->space, e->spec->params,
				  e->spec->nparams)) {
		free(tail);
		return -ENOMEM;
	}
	s->x = malloc((want * s->space.ncolumns + 1) * sizeof(*s->x));
	s->y = malloc((want + 1) * sizeof(*s->y));
	if (!s->x || !s->y) {
		free(tail);
		snapshot_free(s);
		return -ENOMEM;
	}
	/* candidate k is taken when it starts a new stride */
	for (k = 0; k < total && want; k++) {
		const struct trial *t = e->trials[candidate(e, tail, k)];

		if ((k + 1) * want / total > k * want / total && s->n < want &&
		    eligible(e, t, &y))
			add_row(s, e, t, y);
	}
	free(tail);
	return 0;
}

static double clock_seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

/* Without the lock: the ranking of the snapshot, or NULL (too few trials,
 * nothing varied yet, no memory: the file says not enough trials). */
static struct importance_ranking *rank_snapshot(const struct snapshot *s)
{
	struct importance_ranking *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (importance_rank(&s->space, s->x, s->y, s->n, RANK_SEED, r)) {
		free(r);
		return NULL;
	}
	return r;
}

static void store_locked(struct experiment *e, const struct snapshot *s,
			 struct importance_ranking *r, double cost)
{
	if (e->importance) {
		importance_ranking_free(e->importance);
		free(e->importance);
	}
	e->importance = r;
	e->importance_succeeded = s->succeeded;
	e->importance_next = now_seconds() + RANK_SHARE * cost;
}

/* What e needs now: 0 nothing, 1 a ranking, 2 a ranking not yet due. */
static int needs_ranking_locked(struct experiment *e, double now)
{
	if (!e->spec || e->deleted ||
	    e->counts.succeeded == e->importance_succeeded)
		return 0;
	if (!values_are_params(e)) {
		e->importance_note = NOT_RANKED;
		e->importance_succeeded = e->counts.succeeded;
		return 0;
	}
	e->importance_note = NULL;
	if (e->counts.succeeded < IMPORTANCE_MIN_TRIALS) {
		e->importance_succeeded = e->counts.succeeded;
		return 0;
	}
	/* above IMPORTANCE_MAX_TRIALS, 1% more (the sample then changes
	 * by about 10 trials): a cheap snapshot must not mean more CPU */
	if (e->importance_succeeded > IMPORTANCE_MAX_TRIALS &&
	    e->counts.succeeded - e->importance_succeeded <
		    e->importance_succeeded / 100)
		return 0;
	return now < e->importance_next ? 2 : 1;
}

/* One ranking: the snapshot of e (taken under the lock), its result and
 * the CPU time it took (made without the lock). */
struct job {
	struct experiment *e; /* busy till the result is stored */
	struct snapshot s;
	struct importance_ranking *r;
	double cost;
};

/* Under the lock: e's snapshot into j if a ranking of e is due (0), else
 * -1, with *wait lowered to when a deferred one is. */
static int job_take_locked(struct experiment *e, double now, struct job *j,
			   double *wait)
{
	int need = e->importance_busy ? 0 : needs_ranking_locked(e, now);

	if (need == 2 && (*wait < 0 || e->importance_next - now < *wait))
		*wait = e->importance_next - now;
	if (need != 1 || take_snapshot_locked(e, &j->s))
		return -1;
	j->e = e;
	j->r = NULL;
	e->importance_busy = 1; /* not freed till the result is stored */
	return 0;
}

static void job_rank(struct job *j)
{
	double cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID);

	j->r = rank_snapshot(&j->s);
	j->cost = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu;
}

/* Under the lock: the result into its experiment, which lets it go. */
static void job_store_locked(struct job *j)
{
	store_locked(j->e, &j->s, j->r, j->cost);
	j->e->importance_busy = 0;
	snapshot_free(&j->s);
	j->e = NULL;
}

static int wait_ms(double wait)
{
	return wait < 0 ? -1 : (int)(wait * 1000) + 1;
}

int importance_task_run(struct katib *k)
{
	double wait = -1;
	struct job j;
	size_t i, n;
	int rc = -1;

	pthread_mutex_lock(&k->lock);
	n = k->nexps;
	pthread_mutex_unlock(&k->lock);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&k->lock);
		if (i < k->nexps)
			rc = job_take_locked(k->exps[i], now_seconds(), &j,
					     &wait);
		pthread_mutex_unlock(&k->lock);
		if (rc)
			continue;
		job_rank(&j);
		pthread_mutex_lock(&k->lock);
		job_store_locked(&j);
		pthread_mutex_unlock(&k->lock);
		rc = -1;
	}
	return wait_ms(wait);
}

/*
 * The ranker thread. It shares no lock with the controller: a thread at
 * the lowest priority preempted while holding k->lock would stall the
 * controller and every reader behind threads of normal priority. The
 * controller hands it one job at a time through `job` and takes the
 * result back through `done` (atomic pointers: the slot belongs to
 * whoever holds it), and wakes it with a semaphore (sem_post never
 * waits); the ranker wakes the controller through k->wake_fd.
 */
struct ranker {
	pthread_t thread;
	sem_t wake;
	_Atomic(struct job *) job, done;
	atomic_int stop;
	int in_flight; /* controller only: slot handed over, not back yet */
	struct job slot;
};

/* After a ranking: wait RESULT_GRACE_MS for the controller's next pass
 * (the next trial's end) to take the result, and wake it only if none
 * came (a pass of its own per ranking would cost what the ranker saves).
 * 1 when a post (a job, a stop) came meanwhile. */
static int hand_back(struct katib *k, struct ranker *r, struct job *j)
{
	double due = now_seconds() + RESULT_GRACE_MS / 1000.0;
	struct timespec ts;

	atomic_store(&r->done, j);
	ts.tv_sec = (time_t)due;
	ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
	if (!sem_clockwait(&r->wake, CLOCK_MONOTONIC, &ts))
		return 1;
	if (atomic_load(&r->done))
		katib_wake(k);
	return 0;
}

static void *ranker_main(void *arg)
{
	struct katib *k = arg;
	struct ranker *r = k->ranker;
	struct job *j;
	int posted = 0;

	/* lowered only, never raised again: no privilege needed */
	setpriority(PRIO_PROCESS, (id_t)gettid(), RANK_NICE);
	while (!atomic_load(&r->stop)) {
		if (!posted && sem_wait(&r->wake))
			continue; /* EINTR */
		posted = 0;
		j = atomic_exchange(&r->job, NULL);
		if (!j)
			continue;
		job_rank(j);
		posted = hand_back(k, r, j);
	}
	return NULL;
}

int importance_task_kick_locked(struct katib *k)
{
	struct ranker *r = k->ranker;
	double now = now_seconds(), wait = -1;
	size_t i;

	if (!r)
		return -1;
	if (atomic_load(&r->done)) {
		job_store_locked(atomic_exchange(&r->done, NULL));
		r->in_flight = 0;
	}
	for (i = 0; i < k->nexps && !r->in_flight; i++) {
		if (job_take_locked(k->exps[i], now, &r->slot, &wait))
			continue;
		r->in_flight = 1;
		atomic_store(&r->job, &r->slot);
		sem_post(&r->wake);
	}
	/* in flight: the ranker's result wakes the controller */
	return r->in_flight ? -1 : wait_ms(wait);
}

int importance_task_start(struct katib *k)
{
	struct ranker *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	if (sem_init(&r->wake, 0, 0)) {
		free(r);
		return -errno;
	}
	k->ranker = r;
	rc = pthread_create(&r->thread, NULL, ranker_main, k);
	if (rc) {
		k->ranker = NULL;
		sem_destroy(&r->wake);
		free(r);
		return -rc;
	}
	return 0;
}

/* After the controller has stopped: at most one ranking away. A job not
 * stored is dropped (its experiment is about to be freed). */
void importance_task_stop(struct katib *k)
{
	struct ranker *r = k->ranker;

	if (!r)
		return;
	atomic_store(&r->stop, 1);
	sem_post(&r->wake);
	pthread_join(r->thread, NULL);
	if (r->in_flight) {
		if (r->slot.r) {
			importance_ranking_free(r->slot.r);
			free(r->slot.r);
		}
		snapshot_free(&r->slot.s);
		r->slot.e->importance_busy = 0;
	}
	sem_destroy(&r->wake);
	k->ranker = NULL;
	free(r);
}

int importance_task_render_locked(const struct experiment *e, struct strbuf *b)
{
	if (!e->importance)
		return strbuf_puts(b, e->importance_note ? e->importance_note
							 : NOT_ENOUGH);
	return importance_format(e->importance, b);
}
