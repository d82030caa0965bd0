/*
 * store.c - sqlite persistence of experiments, trials, observations and
 * events (see core/engine/store.h).
 *
 * WAL mode with synchronous=NORMAL: a commit appends to the WAL without an
 * fsync, so a power cut may lose the last few commits but never corrupts
 * the database; a daemon crash loses nothing the writer committed.
 * Automatic checkpoints are off; the controller asks for them
 * (store_checkpoint) and the writer runs them.
 *
 * Owns: struct store (store_open(), store_close()): the sqlite connection,
 * its statements, the transaction being built and the writer thread.
 */
#include "engine/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_PUT_EXP,
	ST_PUT_ALGO_STATE,
	ST_DEL_EXP,
	ST_DEL_EXP_TRIALS,
	ST_DEL_EXP_OBS,
	ST_DEL_EXP_EVENTS,
	ST_PUT_TRIAL,
	ST_CLEAR_OBS,
	ST_ADD_OBS,
	ST_ADD_EVENT,
	ST_PUT_QUEUED,
	ST_DEL_QUEUED,
	ST_DEL_EXP_QUEUE,
	ST_PUT_WARM,
	ST_DEL_EXP_WARM,
	ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_PUT_EXP] =
		"INSERT OR REPLACE INTO experiments(name, raw_spec, "
		"state, reason, error, created, started, finished, "
		"algo_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_PUT_ALGO_STATE] = "UPDATE experiments SET algo_state = ?2 "
			      "WHERE name = ?1",
	[ST_DEL_EXP] = "DELETE FROM experiments WHERE name = ?1",
	[ST_DEL_EXP_TRIALS] = "DELETE FROM trials WHERE exp = ?1",
	[ST_DEL_EXP_OBS] = "DELETE FROM observations WHERE exp = ?1",
	[ST_DEL_EXP_EVENTS] = "DELETE FROM events WHERE exp = ?1",
	[ST_PUT_TRIAL] = "INSERT OR REPLACE INTO trials(exp, number, name, "
			 "state, reason, message, assignments, exit_code, "
			 "term_signal, created, started, finished, command, "
			 "log_parsed, pid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			 "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[ST_CLEAR_OBS] =
		"DELETE FROM observations WHERE exp = ?1 AND trial = ?2",
	[ST_ADD_OBS] = "INSERT INTO observations(exp, trial, time, metric, "
		       "value) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_ADD_EVENT] = "INSERT INTO events(exp, time, message) VALUES (?1, "
			 "?2, ?3)",
	[ST_PUT_QUEUED] = "INSERT OR REPLACE INTO queue(exp, seq, line) "
			  "VALUES (?1, ?2, ?3)",
	[ST_DEL_QUEUED] = "DELETE FROM queue WHERE exp = ?1 AND seq = ?2",
	[ST_DEL_EXP_QUEUE] = "DELETE FROM queue WHERE exp = ?1",
	[ST_PUT_WARM] = "INSERT OR REPLACE INTO warm_start(exp, seq, source, "
			"line, objective) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_DEL_EXP_WARM] = "DELETE FROM warm_start WHERE exp = ?1",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS experiments("
	" name TEXT PRIMARY KEY, raw_spec TEXT, state INTEGER NOT NULL,"
	" reason TEXT, error TEXT, created REAL, started REAL, finished REAL,"
	" algo_state TEXT);"
	"CREATE TABLE IF NOT EXISTS trials("
	" exp TEXT NOT NULL, number INTEGER NOT NULL, name TEXT NOT NULL,"
	" state INTEGER NOT NULL, reason TEXT, message TEXT,"
	" assignments TEXT NOT NULL, exit_code INTEGER, term_signal INTEGER,"
	" created REAL, started REAL, finished REAL, command TEXT,"
	" log_parsed INTEGER, pid INTEGER, PRIMARY KEY(exp, number));"
	"CREATE TABLE IF NOT EXISTS observations("
	" id INTEGER PRIMARY KEY, exp TEXT NOT NULL, trial INTEGER NOT NULL,"
	" time REAL, metric TEXT NOT NULL, value TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS observations_by_trial"
	" ON observations(exp, trial);"
	"CREATE TABLE IF NOT EXISTS events("
	" id INTEGER PRIMARY KEY, exp TEXT NOT NULL, time REAL,"
	" message TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_by_exp ON events(exp);"
	"CREATE TABLE IF NOT EXISTS queue("
	" exp TEXT NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,"
	" PRIMARY KEY(exp, seq));"
	"CREATE TABLE IF NOT EXISTS warm_start("
	" exp TEXT NOT NULL, seq INTEGER NOT NULL, source TEXT NOT NULL,"
	" line TEXT NOT NULL, objective REAL NOT NULL,"
	" PRIMARY KEY(exp, seq));";

/*
 * The writer. Callers (under katib->lock) build each transaction as a
 * compact list of statements with their values (struct strbuf `building`:
 * per statement its id, its argument count and each argument's type and
 * bytes) and store_commit() hands it over whole; the writer thread runs
 * what has piled up (for up to GROUP_DELAY_NS) in one sqlite transaction
 * (a group commit: each handed-over transaction is all or nothing, and so
 * is the group), never under the model lock. Transactions are numbered in
 * hand-over order (store_mark); store_sync() waits until one is on disk,
 * writing the pile itself when no one is writing (a trial's start then
 * costs no hand-off to another thread). One thread writes at a time.
 *
 * A failure rolls the group back and the writer then skips everything
 * until a rewrite (a transaction holding store_clear_all()) commits: the
 * database stays a consistent prefix of what was handed over, and
 * store_failed() tells the daemon, which rewrites the whole model.
 */
#define ARG_NULL_TEXT UINT32_MAX /* a 's' argument that is NULL */
#define TX_REWRITE    1		 /* holds store_clear_all() */
#define OP_CLEAR_ALL  ST_COUNT	 /* not a prepared statement */
/* How long the writer lets transactions pile up when nobody waits for
 * them (the most a daemon killed then loses; adoption at the next mount
 * finds its trials through their directories, as ever) */
#define GROUP_DELAY_NS 20000000L

/* What precedes each transaction in the queue. */
struct tx_head {
	uint32_t len; /* bytes of statements after this head */
	uint32_t flags;
	int32_t error; /* the transaction could not be built: -ENOMEM */
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];

	/* the callers' side: one at a time (katib->lock) */
	struct strbuf building;
	int in_tx;
	uint32_t build_flags;
	int build_error;

	/* handed over; guarded by qlock */
	pthread_mutex_t qlock;
	pthread_cond_t work, done;
	struct strbuf queue;
	uint64_t queued;   /* transactions handed over */
	uint64_t finished; /* of those, run or skipped by the writer */
	uint64_t durable;  /* the database holds everything up to here */
	int failed;	   /* the writer's error, until a rewrite commits */
	char errmsg[256];
	int checkpoint, stop;
	int waiters; /* in store_sync: write now */
	int writing; /* a thread writes `batch` (write_pending_locked) */
	struct strbuf batch;
	int dropped; /* a transaction never reached the queue (-ENOMEM) */
	pthread_t writer;
	int writer_started; /* store_open's and store_close's only */
	int writer_running; /* till it stops (for store_sync) */
};

static int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW: return 0;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN: return -EROFS;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	default: return -EIO;
	}
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* ---- building (callers, under katib->lock) ---- */

static void put_bytes(struct store *s, const void *p, size_t n)
{
	if (strbuf_append(&s->building, p, n))
		s->build_error = -ENOMEM;
}

/* Hand the transaction built so far to the writer. */
static void hand_over(struct store *s)
{
	struct tx_head h = { 0 };
	int whole = s->building.data && !s->building.oom;

	h.error = -ENOMEM; /* unless it is whole */
	if (whole) {
		h.len = (uint32_t)(s->building.len - sizeof(h));
		h.flags = s->build_flags;
		h.error = s->build_error;
		memcpy(s->building.data, &h, sizeof(h));
	}
	pthread_mutex_lock(&s->qlock);
	if (!s->queue.len)
		pthread_cond_signal(&s->work); /* a group starts */
	if (whole && !s->queue.len) {	       /* the usual case: no copy */
		struct strbuf t = s->queue;

		s->queue = s->building;
		s->building = t;
		s->queued++;
	} else if (whole && !strbuf_append(&s->queue, s->building.data,
					   s->building.len)) {
		s->queued++;
	} else {
		/* not built, or no room for it: the writer must fail as for
		 * a write error (the daemon then rewrites everything) */
		h.len = 0;
		h.flags = 0;
		h.error = -ENOMEM;
		if (!strbuf_append(&s->queue, (const char *)&h, sizeof(h)))
			s->queued++;
		else
			s->dropped = -ENOMEM; /* the writer's next batch */
	}
	pthread_mutex_unlock(&s->qlock);
	s->building.len = 0;
	s->building.oom = 0;
}

static void open_tx(struct store *s)
{
	struct tx_head h = { 0 };

	s->building.len = 0;
	s->building.oom = 0;
	s->build_flags = 0;
	s->build_error = 0;
	put_bytes(s, &h, sizeof(h)); /* filled by hand_over() */
}

/*
 * Append statement `id` with its parameters ?1, ?2, ... from the
 * arguments, one letter of `fmt` each: s text (a NULL pointer binds
 * NULL), i int, l long, L int64_t, d double, n NULL (takes no argument).
 * Outside a transaction it is one. 0 or -ENOMEM.
 */
static int stmt_exec(struct store *s, int id, const char *fmt, ...)
{
	unsigned char head[2] = { (unsigned char)id,
				  (unsigned char)strlen(fmt) };
	int own = !s->in_tx;
	va_list ap;

	if (own)
		store_begin(s);
	put_bytes(s, head, sizeof(head));
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		unsigned char type = (unsigned char)*fmt;
		int64_t v = 0;
		double d;
		const char *t;
		uint32_t n;

		put_bytes(s, &type, 1);
		switch (*fmt) {
		case 's':
			t = va_arg(ap, const char *);
			n = t ? (uint32_t)strlen(t) : ARG_NULL_TEXT;
			put_bytes(s, &n, sizeof(n));
			if (t)
				put_bytes(s, t, n);
			break;
		case 'i': v = va_arg(ap, int); goto integer;
		case 'l': v = va_arg(ap, long); goto integer;
		case 'L':
			v = va_arg(ap, int64_t);
		integer:
			put_bytes(s, &v, sizeof(v));
			break;
		case 'd':
			d = va_arg(ap, double);
			put_bytes(s, &d, sizeof(d));
			break;
		default: break;
		}
	}
	va_end(ap);
	if (own)
		return store_commit(s);
	return s->build_error;
}

int store_begin(struct store *s)
{
	if (!s->in_tx++)
		open_tx(s);
	return 0;
}

int store_commit(struct store *s)
{
	int rc;

	if (!s->in_tx || --s->in_tx)
		return 0;
	rc = s->build_error ? s->build_error : s->building.oom ? -ENOMEM : 0;
	hand_over(s);
	return rc;
}

uint64_t store_mark(struct store *s)
{
	uint64_t seq;

	pthread_mutex_lock(&s->qlock);
	seq = s->queued;
	pthread_mutex_unlock(&s->qlock);
	return seq;
}

static void write_pending_locked(struct store *s);

/* 0 when everything up to seq is on disk, else the writer's error. */
static int synced_locked(const struct store *s, uint64_t seq)
{
	if (s->durable >= seq)
		return 0;
	return s->failed ? s->failed : -EIO;
}

int store_sync(struct store *s, uint64_t seq)
{
	int rc;

	pthread_mutex_lock(&s->qlock);
	s->waiters++;
	while (s->finished < seq && s->writer_running) {
		if (!s->writing) /* write it here, at once */
			write_pending_locked(s);
		else
			pthread_cond_wait(&s->done, &s->qlock);
	}
	s->waiters--;
	rc = synced_locked(s, seq);
	pthread_mutex_unlock(&s->qlock);
	return rc;
}

int store_done(struct store *s, uint64_t seq, int *rc)
{
	int done;

	pthread_mutex_lock(&s->qlock);
	done = s->finished >= seq;
	*rc = synced_locked(s, seq);
	pthread_mutex_unlock(&s->qlock);
	return done;
}

int store_failed(struct store *s)
{
	int rc;

	pthread_mutex_lock(&s->qlock);
	rc = s->failed;
	pthread_mutex_unlock(&s->qlock);
	return rc;
}

void store_errmsg(struct store *s, char *buf, size_t size)
{
	pthread_mutex_lock(&s->qlock);
	snprintf(buf, size, "%s", s->errmsg);
	pthread_mutex_unlock(&s->qlock);
}

void store_checkpoint(struct store *s)
{
	pthread_mutex_lock(&s->qlock);
	s->checkpoint = 1;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->qlock);
}

/* ---- the writer thread ---- */

static const char *take(const char **p, size_t n)
{
	const char *at = *p;

	*p += n;
	return at;
}

/* Run one statement at *p (advanced past it); 0 or a negative errno. */
static int run_stmt(struct store *s, const char **p)
{
	unsigned char id = (unsigned char)*take(p, 1);
	unsigned char n = (unsigned char)*take(p, 1);
	sqlite3_stmt *st = id < ST_COUNT ? s->stmt[id] : NULL;
	int i, rc;

	for (i = 1; i <= n; i++) {
		char type = *take(p, 1);
		uint32_t len;
		int64_t v;
		double d;

		switch (type) {
		case 's':
			memcpy(&len, take(p, sizeof(len)), sizeof(len));
			if (len == ARG_NULL_TEXT) {
				sqlite3_bind_null(st, i);
				break;
			}
			sqlite3_bind_text(st, i, take(p, len), (int)len,
					  SQLITE_STATIC);
			break;
		case 'd':
			memcpy(&d, take(p, sizeof(d)), sizeof(d));
			sqlite3_bind_double(st, i, d);
			break;
		case 'n': sqlite3_bind_null(st, i); break;
		default:
			memcpy(&v, take(p, sizeof(v)), sizeof(v));
			sqlite3_bind_int64(st, i, v);
			break;
		}
	}
	if (id == OP_CLEAR_ALL)
		return sql_errno(sqlite3_exec(
			s->db,
			"DELETE FROM experiments; DELETE FROM trials; "
			"DELETE FROM observations; DELETE FROM events; "
			"DELETE FROM queue; DELETE FROM warm_start;",
			NULL, NULL, NULL));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return sql_errno(rc);
}

static int run_tx(struct store *s, const char *p, const char *end)
{
	int rc = 0;

	while (!rc && p < end)
		rc = run_stmt(s, &p);
	return rc;
}

/* What a batch did, for the waiters. */
struct batch_result {
	uint64_t durable;
	int failed;
	char errmsg[256];
};

static void batch_fail(struct store *s, int open, int rc,
		       struct batch_result *r)
{
	if (rc && !r->failed)
		snprintf(r->errmsg, sizeof(r->errmsg), "%s",
			 rc == -ENOMEM && !open ? "out of memory"
						: sqlite3_errmsg(s->db));
	if (open)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	r->failed = rc;
}

/*
 * Run the transactions of one batch (numbered from first) as one sqlite
 * transaction; skipped after a failure until a rewrite. Returns how many
 * the batch held.
 */
static uint64_t run_batch(struct store *s, const struct strbuf *b,
			  uint64_t first, struct batch_result *r)
{
	const char *p = b->data, *end = b->data + b->len;
	uint64_t seq = first, last = 0;
	int open = 0, rc;

	for (; p + sizeof(struct tx_head) <= end; seq++) {
		struct tx_head h;

		memcpy(&h, p, sizeof(h));
		p += sizeof(h) + h.len;
		if (h.error) {
			batch_fail(s, open, h.error, r);
			open = 0;
			continue;
		}
		if (r->failed && !(h.flags & TX_REWRITE))
			continue;
		if (!open) {
			rc = sql_errno(sqlite3_exec(s->db, "BEGIN IMMEDIATE",
						    NULL, NULL, NULL));
			if (rc) {
				batch_fail(s, 0, rc, r);
				continue;
			}
			open = 1;
		}
		if (h.flags & TX_REWRITE)
			r->failed = 0;
		rc = run_tx(s, p - h.len, p);
		if (rc) {
			batch_fail(s, 1, rc, r);
			open = 0;
			continue;
		}
		last = seq;
	}
	if (open) {
		rc = sql_errno(sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL));
		if (rc)
			batch_fail(s, 1, rc, r);
		else if (last)
			r->durable = last;
	}
	return seq - first;
}

/* Let more transactions join the group, unless someone waits for it. */
static void group_wait_locked(struct store *s)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += GROUP_DELAY_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!s->waiters && !s->stop && !s->checkpoint &&
	       pthread_cond_timedwait(&s->work, &s->qlock, &until) == 0)
		;
}

/*
 * Write everything handed over so far (qlock held; dropped meanwhile).
 * One thread at a time (`writing`): the writer thread, or a thread in
 * store_sync() that finds it idle and writes itself rather than wait
 * for it to be scheduled. The batch buffer and the connection belong to
 * whoever set `writing`.
 */
static void write_pending_locked(struct store *s)
{
	struct batch_result r = { 0 };
	uint64_t first, n;
	int checkpoint;

	s->writing = 1;
	{
		struct strbuf t = s->batch;

		s->batch = s->queue;
		s->queue = t;
		s->queue.len = 0;
	}
	first = s->finished + 1;
	checkpoint = s->checkpoint;
	s->checkpoint = 0;
	r.durable = s->durable;
	r.failed = s->failed;
	if (s->dropped && !r.failed) {
		r.failed = s->dropped;
		snprintf(r.errmsg, sizeof(r.errmsg), "out of memory");
	}
	s->dropped = 0;
	pthread_mutex_unlock(&s->qlock);

	n = run_batch(s, &s->batch, first, &r);
	if (checkpoint)
		sqlite3_wal_checkpoint_v2(
			s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (s->batch.cap > (1u << 20))
		strbuf_free(&s->batch); /* a rewrite's: give it back */
	s->batch.len = 0;

	pthread_mutex_lock(&s->qlock);
	s->finished = first - 1 + n;
	s->durable = r.durable;
	if (r.failed) /* the message of the failure it is in */
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", r.errmsg);
	s->failed = r.failed;
	s->writing = 0;
	if (s->queue.len) /* handed over meanwhile (no signal then) */
		pthread_cond_signal(&s->work);
	pthread_cond_broadcast(&s->done);
}

static void *writer_main(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->qlock);
	for (;;) {
		while ((!s->queue.len || s->writing) && !s->stop &&
		       !s->checkpoint)
			pthread_cond_wait(&s->work, &s->qlock);
		if (s->writing) { /* stop or checkpoint: after that one */
			pthread_cond_wait(&s->done, &s->qlock);
			continue;
		}
		if (!s->queue.len && !s->checkpoint)
			break; /* stop, and everything is written */
		group_wait_locked(s);
		if (!s->writing) /* else a store_sync() took it meanwhile */
			write_pending_locked(s);
	}
	s->writer_running = 0;
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->qlock);
	return NULL;
}

int store_open(const char *state_dir, struct store **out, struct kb_error *err)
{
	struct store *s = calloc(1, sizeof(*s));
	pthread_condattr_t monotonic;
	char path[4096];
	int rc, i;

	if (!s)
		return -ENOMEM;

	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->work, &monotonic);
	pthread_cond_init(&s->done, NULL);
	pthread_condattr_destroy(&monotonic);
	snprintf(path, sizeof(path), "%s/katibfs.db", state_dir);
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(s->db, 5000);
	rc = sqlite3_exec(
		s->db,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		"PRAGMA wal_autocheckpoint=0; PRAGMA foreign_keys=OFF;",
		NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
	for (i = 0; rc == SQLITE_OK && i < ST_COUNT; i++)
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
					NULL);
	if (rc != SQLITE_OK)
		goto fail;
	s->writer_running = 1;
	rc = pthread_create(&s->writer, NULL, writer_main, s);
	s->writer_started = !rc;
	if (rc) {
		s->writer_running = 0;
		kb_error_set(err, -rc, "--state", 0,
			     "cannot start the state database's writer: %s",
			     strerror(rc));
		store_close(s);
		return -rc;
	}
	*out = s;
	return 0;
fail:
	kb_error_set(err, sql_errno(rc) ? sql_errno(rc) : -EIO, "--state", 0,
		     "cannot open state database %s: %s", path,
		     s->db ? sqlite3_errmsg(s->db) : "out of memory");
	rc = sql_errno(rc) ? sql_errno(rc) : -EIO;
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	int i;

	if (!s)
		return;
	pthread_mutex_lock(&s->qlock);
	s->stop = 1;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->qlock);
	if (s->writer_started) /* it writes what was handed over first */
		pthread_join(s->writer, NULL);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db) {
		sqlite3_wal_checkpoint_v2(
			s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_close(s->db);
	}
	strbuf_free(&s->building);
	strbuf_free(&s->queue);
	strbuf_free(&s->batch);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->qlock);
	free(s);
}

int store_put_experiment(struct store *s, const struct experiment *e,
			 const char *algo_state)
{
	return stmt_exec(s, ST_PUT_EXP, "ssissddds", e->name, e->raw_spec,
			 (int)e->state, e->reason, e->error, e->created,
			 e->started, e->finished, algo_state);
}

int store_put_algo_state(struct store *s, const char *exp,
			 const char *algo_state)
{
	return stmt_exec(s, ST_PUT_ALGO_STATE, "ss", exp, algo_state);
}

int store_delete_experiment(struct store *s, const char *exp)
{
	static const enum stmt_id ids[] = { ST_DEL_EXP,	      ST_DEL_EXP_TRIALS,
					    ST_DEL_EXP_OBS,   ST_DEL_EXP_EVENTS,
					    ST_DEL_EXP_QUEUE, ST_DEL_EXP_WARM };
	size_t i;
	int rc = store_begin(s), rc2;

	for (i = 0; !rc && i < sizeof(ids) / sizeof(ids[0]); i++)
		rc = stmt_exec(s, ids[i], "s", exp);
	rc2 = store_commit(s);
	return rc ? rc : rc2;
}

int store_clear_all(struct store *s)
{
	if (!s->in_tx)
		return -EINVAL;
	s->build_flags |= TX_REWRITE;
	return stmt_exec(s, OP_CLEAR_ALL, "");
}

static char *values_json(const struct trial *t)
{
	cJSON *a = cJSON_CreateArray();
	char *txt;
	size_t i;

	for (i = 0; a && i < t->nvalues; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(t->values[i]));
	txt = a ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	return txt;
}

/* t's row, with its script as the text `command`. */
static int put_trial(struct store *s, const char *exp, const struct trial *t,
		     const char *command)
{
	char *values = values_json(t);
	int rc;

	if (!values)
		return -ENOMEM;
	/* an ended trial's log is parsed to its end: the count no longer
	 * matters (its live part is gone). The last column (pid) is kept for
	 * old databases: trials are re-adopted through their directories
	 * (include/katib/backend.h), never a saved pid. */
	rc = stmt_exec(s, ST_PUT_TRIAL, "sisisssiidddsLn", exp, t->number,
		       t->name, (int)t->state, trial_reason(t), t->message,
		       values, t->exit_code, t->term_signal, t->created,
		       t->started, t->finished, command,
		       (int64_t)(t->live ? t->live->log_parsed : 0));
	cJSON_free(values);
	return rc;
}

int store_put_trial(struct store *s, const char *exp, const struct trial *t)
{
	return t->command_packed ? -EINVAL : put_trial(s, exp, t, t->command);
}

int store_put_trial_of(struct store *s, const struct experiment *e,
		       const struct trial *t)
{
	struct strbuf unpacked = { 0 }; /* an ended trial's script */
	int rc;

	if (!t->command_packed)
		return put_trial(s, e->name, t, t->command);
	rc = trial_command(e, t, &unpacked);
	if (!rc)
		rc = put_trial(s, e->name, t,
			       unpacked.data ? unpacked.data : "");
	strbuf_free(&unpacked);
	return rc;
}

int store_clear_observations(struct store *s, const char *exp, int trial)
{
	return stmt_exec(s, ST_CLEAR_OBS, "si", exp, trial);
}

int store_add_observation(struct store *s, const char *exp, int trial,
			  double time, const char *metric, const char *value)
{
	return stmt_exec(s, ST_ADD_OBS, "sidss", exp, trial, time, metric,
			 value);
}

int store_put_queued(struct store *s, const char *exp, long seq,
		     const char *line)
{
	return stmt_exec(s, ST_PUT_QUEUED, "sls", exp, seq, line);
}

int store_delete_queued(struct store *s, const char *exp, long seq)
{
	return stmt_exec(s, ST_DEL_QUEUED, "sl", exp, seq);
}

int store_put_warm(struct store *s, const char *exp, long seq,
		   const char *source, const char *line, double objective)
{
	return stmt_exec(s, ST_PUT_WARM, "slssd", exp, seq, source, line,
			 objective);
}

int store_add_event(struct store *s, const char *exp, double time,
		    const char *message)
{
	return stmt_exec(s, ST_ADD_EVENT, "sds", exp, time, message);
}

/* ---- loading ---- */

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v ? strdup((const char *)v) : NULL;
}

static void col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(buf, size, "%s", v ? (const char *)v : "");
}

static int parse_values(const char *json, struct trial *t)
{
	cJSON *a = cJSON_Parse(json ? json : "[]");
	cJSON *it;
	size_t n = 0;

	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return -EIO;
	}
	t->values = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
	if (!t->values) {
		cJSON_Delete(a);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(it, a)
	{
		t->values[n++] =
			strdup(cJSON_IsString(it) ? it->valuestring : "");
	}
	t->nvalues = n;
	cJSON_Delete(a);
	return 0;
}

static struct trial *load_trial_row(struct experiment *e, sqlite3_stmt *st)
{
	struct trial *t = trial_alloc();
	char name[TRIAL_NAME_MAX];

	if (!t)
		return NULL;
	t->number = sqlite3_column_int(st, 0);
	col_copy(st, 1, name, sizeof(name));
	if (trial_set_name(e, t, name)) {
		trial_free(t);
		return NULL;
	}
	t->state = (enum trial_state)sqlite3_column_int(st, 2);
	trial_set_reason(t, (const char *)sqlite3_column_text(st, 3));
	t->message = col_dup(st, 4);
	t->exit_code = sqlite3_column_int(st, 6);
	t->term_signal = sqlite3_column_int(st, 7);
	t->created = sqlite3_column_double(st, 8);
	t->started = sqlite3_column_double(st, 9);
	t->finished = sqlite3_column_double(st, 10);
	t->command = col_dup(st, 11);
	if (trial_live_new(t)) { /* freed once appended if it had ended;
				  * run re-adopted through its directory */
		trial_free(t);
		return NULL;
	}
	t->live->log_parsed = sqlite3_column_int64(st, 12);
	if (parse_values((const char *)sqlite3_column_text(st, 5), t)) {
		trial_free(t);
		return NULL;
	}
	trial_values_pack(e, t);
	return t;
}

/* One row of a per-experiment query, handed to the loader's callback. */
typedef int row_fn(struct store *s, const struct store_loader *l,
		   struct experiment *e, sqlite3_stmt *st);

/* Run `sql` (with ?1, where it has one, = the experiment's name) and feed
 * each row to fn. */
static int load_rows(struct store *s, const struct store_loader *l,
		     struct experiment *e, const char *sql, row_fn *fn)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sql_errno(rc);
	if (sqlite3_bind_parameter_count(st))
		bind_text(st, 1, e ? e->name : ""); /* "": the mount's own */
	rc = 0;
	while (!rc && sqlite3_step(st) == SQLITE_ROW)
		rc = fn(s, l, e, st);
	sqlite3_finalize(st);
	return rc;
}

static int trial_row(struct store *s, const struct store_loader *l,
		     struct experiment *e, sqlite3_stmt *st)
{
	struct trial *t = load_trial_row(e, st);

	return t ? l->trial(l->arg, e, t) : -ENOMEM;
}

static int observation_row(struct store *s, const struct store_loader *l,
			   struct experiment *e, sqlite3_stmt *st)
{
	struct trial *t = experiment_trial(e, sqlite3_column_int(st, 0));

	if (!t)
		return 0; /* a trial that is gone: nothing to attach it to */
	return l->observation(l->arg, e, t, sqlite3_column_double(st, 1),
			      (const char *)sqlite3_column_text(st, 2),
			      (const char *)sqlite3_column_text(st, 3));
}

static int queued_row(struct store *s, const struct store_loader *l,
		      struct experiment *e, sqlite3_stmt *st)
{
	if (!l->queued)
		return 0;
	return l->queued(l->arg, e, (long)sqlite3_column_int64(st, 0),
			 (const char *)sqlite3_column_text(st, 1));
}

static int warm_row(struct store *s, const struct store_loader *l,
		    struct experiment *e, sqlite3_stmt *st)
{
	if (!l->warm)
		return 0;
	return l->warm(l->arg, e, (const char *)sqlite3_column_text(st, 0),
		       (const char *)sqlite3_column_text(st, 1),
		       sqlite3_column_double(st, 2));
}

#define EVENTS_SQL "SELECT time, message FROM events WHERE exp = ?1 ORDER BY id"

static int event_row(struct store *s, const struct store_loader *l,
		     struct experiment *e, sqlite3_stmt *st)
{
	return l->event(l->arg, e, sqlite3_column_double(st, 0),
			(const char *)sqlite3_column_text(st, 1));
}

/* An experiment's rows in the other tables, in the order they load. */
static const struct {
	const char *sql;
	row_fn *fn;
} children[] = {
	{ "SELECT number, name, state, reason, message, assignments, "
	  "exit_code, term_signal, created, started, finished, command, "
	  "log_parsed, pid FROM trials WHERE exp = ?1 ORDER BY number",
	  trial_row },
	{ "SELECT trial, time, metric, value FROM observations WHERE exp = ?1 "
	  "ORDER BY id",
	  observation_row },
	{ "SELECT seq, line FROM queue WHERE exp = ?1 ORDER BY seq",
	  queued_row },
	{ "SELECT source, line, objective FROM warm_start WHERE exp = ?1 "
	  "ORDER BY seq",
	  warm_row },
	{ EVENTS_SQL, event_row },
};

static struct experiment *load_experiment_row(sqlite3_stmt *st)
{
	struct experiment *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->name = col_dup(st, 0);
	e->raw_spec = col_dup(st, 1);
	e->state = (enum experiment_state)sqlite3_column_int(st, 2);
	col_copy(st, 3, e->reason, sizeof(e->reason));
	e->error = col_dup(st, 4);
	e->created = sqlite3_column_double(st, 5);
	e->started = sqlite3_column_double(st, 6);
	e->finished = sqlite3_column_double(st, 7);
	strbuf_init(&e->events);
	if (!e->name) {
		experiment_free(e);
		return NULL;
	}
	return e;
}

static int experiment_row(struct store *s, const struct store_loader *l,
			  struct experiment *none, sqlite3_stmt *st)
{
	struct experiment *e = load_experiment_row(st);
	size_t i;
	int rc;

	if (!e)
		return -ENOMEM;
	rc = l->experiment(l->arg, e, (const char *)sqlite3_column_text(st, 8));
	for (i = 0; !rc && i < sizeof(children) / sizeof(children[0]); i++)
		rc = load_rows(s, l, e, children[i].sql, children[i].fn);
	return rc;
}

int store_load(struct store *s, const struct store_loader *l)
{
	int rc;

	store_sync(s, store_mark(s)); /* the writer idle from here */
	rc = load_rows(s, l, NULL,
		       "SELECT name, raw_spec, state, reason, error, "
		       "created, started, finished, algo_state FROM "
		       "experiments ORDER BY name",
		       experiment_row);

	if (!rc) /* the mount-wide events: exp "", e NULL */
		rc = load_rows(s, l, NULL, EVENTS_SQL, event_row);
	return rc;
}
