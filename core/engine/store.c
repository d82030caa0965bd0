/*
 * store.c - sqlite persistence of experiments, trials, observations and
 * events (see core/engine/store.h).
 *
 * WAL mode with synchronous=NORMAL: a commit appends to the WAL without an
 * fsync, so a power cut may lose the last few commits but never corrupts
 * the database; a daemon crash loses nothing committed. Automatic
 * checkpoints are off; store_checkpoint() runs them from the controller.
 */
#include "engine/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_PUT_EXP,
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

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	int in_tx;
	int tx_failed; /* first error inside the open transaction */
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

/* A sqlite result code as 0 or a negative errno; a failure inside the
 * open transaction marks it failed (finish_tx() then rolls it back). */
static int tx_result(struct store *s, int rc)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if (s->in_tx && !s->tx_failed)
		s->tx_failed = sql_errno(rc);
	return sql_errno(rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/*
 * Run the prepared statement `id` once with its parameters ?1, ?2, ...
 * bound from the arguments, one letter of `fmt` each: s text (a NULL
 * pointer binds NULL), i int, l long, L int64_t, d double, n NULL (takes
 * no argument). 0 or a negative errno.
 */
static int stmt_exec(struct store *s, enum stmt_id id, const char *fmt, ...)
{
	sqlite3_stmt *st = s->stmt[id];
	va_list ap;
	int i, rc;

	va_start(ap, fmt);
	for (i = 1; *fmt; fmt++, i++) {
		switch (*fmt) {
		case 's': bind_text(st, i, va_arg(ap, const char *)); break;
		case 'i': sqlite3_bind_int(st, i, va_arg(ap, int)); break;
		case 'l': sqlite3_bind_int64(st, i, va_arg(ap, long)); break;
		case 'L': sqlite3_bind_int64(st, i, va_arg(ap, int64_t)); break;
		case 'd': sqlite3_bind_double(st, i, va_arg(ap, double)); break;
		default: sqlite3_bind_null(st, i); break;
		}
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return tx_result(s, rc);
}

int store_open(const char *state_dir, struct store **out, struct kb_error *err)
{
	struct store *s = calloc(1, sizeof(*s));
	char path[4096];
	int rc, i;

	if (!s)
		return -ENOMEM;
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
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db) {
		sqlite3_wal_checkpoint_v2(
			s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_close(s->db);
	}
	free(s);
}

int store_begin(struct store *s)
{
	int rc;

	if (s->in_tx++)
		return 0;
	s->tx_failed = 0;
	rc = stmt_exec(s, ST_BEGIN, "");
	if (rc)
		s->in_tx = 0;
	return rc;
}

/* End the open transaction: COMMIT, or ROLLBACK if any write failed. */
static int finish_tx(struct store *s)
{
	int rc = s->tx_failed;

	if (!rc)
		rc = stmt_exec(s, ST_COMMIT, "");
	if (rc)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->tx_failed = 0;
	return rc;
}

int store_commit(struct store *s)
{
	if (!s->in_tx || --s->in_tx)
		return 0;
	return finish_tx(s);
}

int store_flush(struct store *s)
{
	int rc;

	if (!s->in_tx)
		return 0;
	rc = finish_tx(s);
	if (!rc)
		rc = stmt_exec(s, ST_BEGIN, "");
	else
		stmt_exec(s, ST_BEGIN,
			  ""); /* carry on; the caller hears of the error */
	return rc;
}

const char *store_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

void store_checkpoint(struct store *s)
{
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
				  NULL);
}

int store_put_experiment(struct store *s, const struct experiment *e,
			 const char *algo_state)
{
	return stmt_exec(s, ST_PUT_EXP, "ssissddds", e->name, e->raw_spec,
			 (int)e->state, e->reason, e->error, e->created,
			 e->started, e->finished, algo_state);
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
	static const char sql[] = "DELETE FROM experiments; DELETE FROM "
				  "trials; DELETE FROM observations; "
				  "DELETE FROM events; DELETE FROM queue; "
				  "DELETE FROM warm_start;";
	return tx_result(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL));
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

static struct trial *load_trial_row(sqlite3_stmt *st)
{
	struct trial *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->number = sqlite3_column_int(st, 0);
	col_copy(st, 1, t->name, sizeof(t->name));
	t->state = (enum trial_state)sqlite3_column_int(st, 2);
	trial_set_reason(t, (const char *)sqlite3_column_text(st, 3));
	t->message = col_dup(st, 4);
	t->exit_code = sqlite3_column_int(st, 6);
	t->term_signal = sqlite3_column_int(st, 7);
	t->created = sqlite3_column_double(st, 8);
	t->started = sqlite3_column_double(st, 9);
	t->finished = sqlite3_column_double(st, 10);
	t->command = col_dup(st, 11);
	strbuf_init(&t->observations);
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
	trial_values_pack(t);
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
	struct trial *t = load_trial_row(st);

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
	int rc = load_rows(s, l, NULL,
			   "SELECT name, raw_spec, state, reason, error, "
			   "created, started, finished, algo_state FROM "
			   "experiments ORDER BY name",
			   experiment_row);

	if (!rc) /* the mount-wide events: exp "", e NULL */
		rc = load_rows(s, l, NULL, EVENTS_SQL, event_row);
	return rc;
}
