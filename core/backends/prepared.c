/*
 * prepared.c - the next trial's directory made ahead by a worker thread
 * (see prepared.h). Each experiment directory asked for has an entry: what
 * is wanted (a directory ready, or none) and what is on disk, which only
 * the worker changes, outside the table's lock; a take moves a ready one
 * into place from the caller's thread. Owns the entries (their paths and
 * ready records) and the thread.
 */
#include "backends/prepared.h"
#include "backends/supervisor/record.h" /* SUPERVISOR_FILE */
#include "util/dirtree.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The trial's log in its directory, as trial_log_path() names it
 * (core/engine/daemon.c). */
#define LOG_NAME "log"

enum disk {
	DISK_UNKNOWN, /* a crash may have left one: remove it */
	DISK_NONE,
	DISK_MAKING, /* the worker is at it */
	DISK_READY,  /* made; record holds its fd */
	DISK_REMOVING,
};

struct entry {
	char *exp_dir;
	int want; /* 1: keep one ready; 0: none */
	enum disk disk;
	int record; /* DISK_READY: the record, locked */
	int failed; /* the last making failed: not again until wanted anew */
};

struct prepared_dirs {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct entry *entries;
	size_t n, cap;
	pthread_t thread;
	int started, stop;
};

static void prepared_path(const char *exp_dir, const char *name, char *buf,
			  size_t size)
{
	snprintf(buf, size, "%s/" PREPARED_NAME "%s%s", exp_dir,
		 name ? "/" : "", name ? name : "");
}

/* ---- the worker's filesystem work (no lock held) ---- */

static void remove_dir(const char *exp_dir)
{
	char path[4096];

	prepared_path(exp_dir, NULL, path, sizeof(path));
	dirtree_remove(AT_FDCWD, path);
}

/* The directory, its record (locked) and its log: the record's fd, or
 * -errno with nothing left behind. The experiment's directory is not
 * made here: gone (rmdir), nothing is prepared. */
static int make_dir(const char *exp_dir)
{
	char path[4096];
	int fd, log, rc;

	prepared_path(exp_dir, NULL, path, sizeof(path));
	if (mkdir(path, 0755)) {
		if (errno != EEXIST)
			return -errno;
		dirtree_remove(AT_FDCWD, path); /* a crash's, half made */
		if (mkdir(path, 0755))
			return -errno;
	}
	prepared_path(exp_dir, SUPERVISOR_FILE, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB))
		goto fail;
	prepared_path(exp_dir, LOG_NAME, path, sizeof(path));
	log = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (log < 0)
		goto fail;
	close(log);
	return fd;
fail:
	rc = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	remove_dir(exp_dir);
	return rc;
}

/* ---- the worker ---- */

/* The index of the next entry with work, marked as being worked on; -1
 * when there is none. */
static long next_job_locked(struct prepared_dirs *pd)
{
	size_t i;

	for (i = 0; i < pd->n; i++) {
		struct entry *x = &pd->entries[i];

		if (x->disk == DISK_UNKNOWN ||
		    (!x->want && x->disk == DISK_READY)) {
			x->disk = DISK_REMOVING;
			return (long)i;
		}
		if (x->want && !x->failed && x->disk == DISK_NONE) {
			x->disk = DISK_MAKING;
			return (long)i;
		}
	}
	return -1;
}

/* Entries with nothing wanted and nothing on disk go. */
static void forget_idle_locked(struct prepared_dirs *pd)
{
	size_t i = 0;

	while (i < pd->n) {
		struct entry *x = &pd->entries[i];

		if (!x->want && x->disk == DISK_NONE) {
			free(x->exp_dir);
			*x = pd->entries[--pd->n];
		} else {
			i++;
		}
	}
}

/* Entry i's job (only this thread removes or moves entries, so i stays
 * its). */
static void do_job(struct prepared_dirs *pd, size_t i)
{
	struct entry *x = &pd->entries[i];
	char *dir = strdup(x->exp_dir);
	enum disk was = x->disk;
	int fd = x->record, rc = -ENOMEM;

	x->record = -1;
	pthread_mutex_unlock(&pd->lock);
	if (was == DISK_REMOVING) {
		if (fd >= 0)
			close(fd);
		if (dir)
			remove_dir(dir);
	} else if (dir) {
		rc = make_dir(dir);
	}
	free(dir);
	pthread_mutex_lock(&pd->lock);
	x = &pd->entries[i]; /* the table may have grown meanwhile */
	if (was == DISK_REMOVING) {
		x->disk = DISK_NONE;
	} else if (rc >= 0) {
		x->disk = DISK_READY; /* discarded meanwhile: removed next */
		x->record = rc;
	} else {
		x->disk = DISK_UNKNOWN; /* removed, made when wanted again */
		x->failed = 1;
	}
}

static void *worker_main(void *arg)
{
	struct prepared_dirs *pd = arg;
	long i;

	pthread_mutex_lock(&pd->lock);
	for (;;) {
		forget_idle_locked(pd);
		i = next_job_locked(pd);
		if (i >= 0) {
			do_job(pd, (size_t)i);
			continue;
		}
		if (pd->stop)
			break;
		pthread_cond_wait(&pd->work, &pd->lock);
	}
	pthread_mutex_unlock(&pd->lock);
	return NULL;
}

/* ---- the caller's side ---- */

int prepared_open(struct prepared_dirs **out)
{
	struct prepared_dirs *pd = calloc(1, sizeof(*pd));

	if (!pd)
		return -ENOMEM;
	pthread_mutex_init(&pd->lock, NULL);
	pthread_cond_init(&pd->work, NULL);
	*out = pd;
	return 0;
}

/* exp_dir's index in the table, or -1. */
static long find_locked(const struct prepared_dirs *pd, const char *exp_dir)
{
	size_t i;

	for (i = 0; i < pd->n; i++)
		if (!strcmp(pd->entries[i].exp_dir, exp_dir))
			return (long)i;
	return -1;
}

/* exp_dir's entry, added (nothing known on disk) if new; NULL: no memory.
 * Starts the worker on first use. */
static struct entry *entry_locked(struct prepared_dirs *pd, const char *exp_dir)
{
	struct entry *x;
	long i = find_locked(pd, exp_dir);

	if (i >= 0)
		return &pd->entries[i];
	if (!pd->started) {
		if (pthread_create(&pd->thread, NULL, worker_main, pd))
			return NULL;
		pd->started = 1;
	}
	if (pd->n == pd->cap) {
		size_t cap = pd->cap ? pd->cap * 2 : 4;

		x = realloc(pd->entries, cap * sizeof(*x));
		if (!x)
			return NULL;
		pd->entries = x;
		pd->cap = cap;
	}
	x = &pd->entries[pd->n];
	memset(x, 0, sizeof(*x));
	x->exp_dir = strdup(exp_dir);
	if (!x->exp_dir)
		return NULL;
	x->disk = DISK_UNKNOWN;
	x->record = -1;
	pd->n++;
	return x;
}

static void set_want(struct prepared_dirs *pd, const char *exp_dir, int want)
{
	struct entry *x;

	pthread_mutex_lock(&pd->lock);
	x = entry_locked(pd, exp_dir);
	if (x) {
		x->want = want;
		x->failed = 0; /* wanted again: one more try */
		pthread_cond_signal(&pd->work);
	}
	pthread_mutex_unlock(&pd->lock);
}

void prepared_want(struct prepared_dirs *pd, const char *exp_dir)
{
	if (pd)
		set_want(pd, exp_dir, 1);
}

void prepared_discard(struct prepared_dirs *pd, const char *exp_dir)
{
	if (pd)
		set_want(pd, exp_dir, 0);
}

int prepared_take(struct prepared_dirs *pd, const char *exp_dir,
		  const char *trial_dir, int *record_fd)
{
	char path[4096];
	long i;
	int fd = -1, rc = 0;

	if (!pd)
		return -EAGAIN;
	pthread_mutex_lock(&pd->lock);
	i = find_locked(pd, exp_dir);
	if (i >= 0 && pd->entries[i].want &&
	    pd->entries[i].disk == DISK_READY) {
		fd = pd->entries[i].record;
		pd->entries[i].record = -1;
		/* the worker keeps off it until the rename is done */
		pd->entries[i].disk = DISK_MAKING;
	}
	pthread_mutex_unlock(&pd->lock);
	if (fd < 0)
		return -EAGAIN;
	prepared_path(exp_dir, NULL, path, sizeof(path));
	if (renameat2(AT_FDCWD, path, AT_FDCWD, trial_dir, RENAME_NOREPLACE)) {
		rc = -errno;
		close(fd);
	}
	pthread_mutex_lock(&pd->lock);
	/* still there (the worker removes no entry being made), maybe moved;
	 * taken: the worker makes the next one; else it removes this one */
	i = find_locked(pd, exp_dir);
	pd->entries[i].disk = rc ? DISK_UNKNOWN : DISK_NONE;
	pthread_cond_signal(&pd->work);
	pthread_mutex_unlock(&pd->lock);
	if (!rc)
		*record_fd = fd;
	return rc;
}

void prepared_close(struct prepared_dirs *pd)
{
	size_t i;

	if (!pd)
		return;
	pthread_mutex_lock(&pd->lock);
	for (i = 0; i < pd->n; i++)
		pd->entries[i].want = 0;
	pd->stop = 1;
	pthread_cond_signal(&pd->work);
	pthread_mutex_unlock(&pd->lock);
	if (pd->started)
		pthread_join(pd->thread, NULL); /* it removes them first */
	for (i = 0; i < pd->n; i++) {
		if (pd->entries[i].record >= 0)
			close(pd->entries[i].record);
		free(pd->entries[i].exp_dir);
	}
	free(pd->entries);
	pthread_cond_destroy(&pd->work);
	pthread_mutex_destroy(&pd->lock);
	free(pd);
}
