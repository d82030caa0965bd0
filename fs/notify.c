/*
 * notify.c - kernel cache invalidation: the core's notify callback (a core
 * thread, no core lock held) only queues a path; the notifier thread calls
 * fuse_invalidate_path, so no handler and no core thread waits on the kernel.
 *
 * Owns: the queued paths, until the notifier thread has sent them.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_i.h"

/* ---- cache invalidation ---- */

static void notify_push(struct katibfs *fs, const char *path)
{
	struct npath *p;
	size_t len = strlen(path);

	pthread_mutex_lock(&fs->nlock);
	if (fs->nstop || fs->npending >= NOTIFY_MAX_PENDING)
		goto out; /* attr_timeout catches up */
	for (p = fs->nhead; p; p = p->next)
		if (!strcmp(p->path, path))
			goto out;
	p = malloc(sizeof(*p) + len + 1);
	if (!p)
		goto out;
	memcpy(p->path, path, len + 1);
	p->next = NULL;
	if (fs->ntail)
		fs->ntail->next = p;
	else
		fs->nhead = p;
	fs->ntail = p;
	fs->npending++;
	pthread_cond_signal(&fs->ncond);
out:
	pthread_mutex_unlock(&fs->nlock);
}

/* The core's callback (a core thread, no core lock held): queue only. */
static void on_notify(void *arg, const char *exp, int trial, enum kfile f)
{
	struct katibfs *fs = arg;
	const char *name = f != KFILE_NONE ? kfile_name(f) : NULL;
	char path[PATH_MAX];

	if (!exp || !*exp) {
		snprintf(path, sizeof(path), "/%s", name ? name : "");
		notify_push(fs, path);
		return;
	}
	if (trial > 0) {
		snprintf(path, sizeof(path), "/%s/trials", exp);
		if (!name)
			notify_push(fs, path);
		snprintf(path, sizeof(path), "/%s/trials/%d%s%s", exp, trial,
			 name ? "/" : "", name ? name : "");
	} else {
		snprintf(path, sizeof(path), "/%s%s%s", exp, name ? "/" : "",
			 name ? name : "");
	}
	notify_push(fs, path);
}

static void *notify_main(void *arg)
{
	struct katibfs *fs = arg;
	struct npath *p;

	pthread_mutex_lock(&fs->nlock);
	for (;;) {
		while (!fs->nhead && !fs->nstop)
			pthread_cond_wait(&fs->ncond, &fs->nlock);
		if (fs->nstop)
			break;
		p = fs->nhead;
		fs->nhead = p->next;
		if (!fs->nhead)
			fs->ntail = NULL;
		fs->npending--;
		pthread_mutex_unlock(&fs->nlock);
		fuse_invalidate_path(fs->fuse, p->path); /* -ENOENT: unseen */
		free(p);
		pthread_mutex_lock(&fs->nlock);
	}
	pthread_mutex_unlock(&fs->nlock);
	return NULL;
}

int katibfs_start_notify(struct katibfs *fs, struct fuse *fuse)
{
	int rc;

	fs->fuse = fuse;
	fs->nstop = 0;
	rc = pthread_create(&fs->nthread, NULL, notify_main, fs);
	if (rc)
		return -rc;
	fs->nrunning = 1;
	katib_set_notify(fs->k, on_notify, fs);
	return 0;
}

void katibfs_stop_notify(struct katibfs *fs)
{
	struct npath *p;

	if (!fs->nrunning)
		return;
	katib_set_notify(fs->k, NULL, NULL);
	pthread_mutex_lock(&fs->nlock);
	fs->nstop = 1;
	pthread_cond_signal(&fs->ncond);
	pthread_mutex_unlock(&fs->nlock);
	pthread_join(fs->nthread, NULL);
	fs->nrunning = 0;
	while ((p = fs->nhead)) {
		fs->nhead = p->next;
		free(p);
	}
	fs->ntail = NULL;
	fs->npending = 0;
}
