/*
 * paths.c - paths of the mount to nodes (syntax), and a node's existence and
 * attributes (getattr) from the core.
 *
 * Owns nothing: a path is parsed into the caller's struct.
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

/* "1", "42": decimal, no leading zero, > 0, fits an int. */
static int parse_trial(const char *s)
{
	long v = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	return (int)v;
}

/* Split path into at most `max` components; -ENAMETOOLONG/-ENOENT. */
static int split_path(const char *path, char comp[][NAME_MAX + 1], int max)
{
	int n = 0;

	while (*path) {
		size_t len;

		while (*path == '/')
			path++;
		if (!*path)
			break;
		len = strcspn(path, "/");
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		if (n == max)
			return -ENOENT;
		memcpy(comp[n], path, len);
		comp[n][len] = '\0';
		n++;
		path += len;
	}
	return n;
}

/* Syntax only: which node a path names (existence is node_check's). */
int parse_path(const char *path, struct node *nd)
{
	char comp[4][NAME_MAX + 1];
	int n;

	memset(nd, 0, sizeof(*nd));
	if (!path)
		return -ENOENT;
	n = split_path(path, comp, 4);
	if (n < 0)
		return n;
	if (n == 0) {
		nd->kind = NODE_ROOT;
		return 0;
	}
	snprintf(nd->name, sizeof(nd->name), "%s", comp[n - 1]);
	if (n == 1 && !strcmp(comp[0], "README")) {
		nd->kind = NODE_README;
		nd->f = KFILE_README;
		return 0;
	}
	if (n == 1 && !strcmp(comp[0], "events")) {
		nd->kind = NODE_EVENTS;
		nd->f = KFILE_EVENTS;
		return 0;
	}
	snprintf(nd->exp, sizeof(nd->exp), "%s", comp[0]);
	if (n == 1) {
		nd->kind = NODE_EXP;
		return 0;
	}
	if (strcmp(comp[1], "trials")) {
		if (n > 2)
			return -ENOENT;
		nd->f = kfile_experiment_lookup(comp[1]);
		nd->kind = nd->f != KFILE_NONE ? NODE_EXP_FILE : NODE_SCRATCH;
		return 0;
	}
	if (n == 2) {
		nd->kind = NODE_TRIALS;
		return 0;
	}
	nd->trial = parse_trial(comp[2]);
	if (nd->trial < 0) {
		nd->kind = NODE_OTHER;
		return n == 3 ? 0 : -ENOENT;
	}
	if (n == 3) {
		nd->kind = NODE_TRIAL;
		return 0;
	}
	nd->f = kfile_trial_lookup(comp[3]);
	nd->kind = nd->f != KFILE_NONE ? NODE_TRIAL_FILE : NODE_OTHER;
	return 0;
}

int node_is_dir(const struct node *nd)
{
	return nd->kind == NODE_ROOT || nd->kind == NODE_EXP ||
	       nd->kind == NODE_TRIALS || nd->kind == NODE_TRIAL;
}

/* ---- existence and attributes ---- */

int node_check(struct katibfs *fs, const struct node *nd, struct katib_stat *st)
{
	struct katib_stat tmp;
	int rc;

	if (!st)
		st = &tmp;
	memset(st, 0, sizeof(*st));
	switch (nd->kind) {
	case NODE_ROOT:
	case NODE_README:
	case NODE_EVENTS: st->ctime = st->mtime = fs->start; return 0;
	case NODE_OTHER: return -ENOENT;
	case NODE_TRIAL:
	case NODE_TRIAL_FILE:
		return core_err(
			katib_trial_stat(fs->k, nd->exp, nd->trial, st));
	case NODE_SCRATCH:
		rc = katib_experiment_stat(fs->k, nd->exp, st);
		if (rc)
			return core_err(rc);
		pthread_mutex_lock(&fs->scratch_lock);
		rc = scratch_find(fs, nd->exp, nd->name) ? 0 : -ENOENT;
		pthread_mutex_unlock(&fs->scratch_lock);
		return rc;
	default: return core_err(katib_experiment_stat(fs->k, nd->exp, st));
	}
}

/* Parse path and check that its node exists now. */
int node_resolve(struct katibfs *fs, const char *path, struct node *nd)
{
	int rc = parse_path(path, nd);

	return rc ? rc : node_check(fs, nd, NULL);
}

static int render_size(struct katibfs *fs, const struct node *nd, off_t *size)
{
	size_t len = 0;
	int rc;

	rc = katib_render_size(fs->k, nd->kind == NODE_README ? NULL : nd->exp,
			       nd->trial, nd->f, &len);
	if (rc)
		return core_err(rc);
	*size = (off_t)len;
	return 0;
}

void stat_set_times(struct stat *sb, const struct timespec *mtime)
{
	sb->st_atim = *mtime;
	sb->st_mtim = *mtime;
	sb->st_ctim = *mtime;
}

/* A directory's links: 2, and one per subdirectory (st: its node_check). */
static int dir_nlink(struct katibfs *fs, const struct node *nd,
		     const struct katib_stat *st, nlink_t *nl)
{
	char **names = NULL;
	size_t i, n = 0;
	int rc = 0;

	*nl = 2;
	if (nd->kind == NODE_EXP) {
		*nl = 3;
	} else if (nd->kind == NODE_ROOT) {
		rc = katib_list_experiments(fs->k, &names, &n);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		*nl = 2 + n;
	} else if (nd->kind == NODE_TRIALS) {
		*nl = 2 + st->ntrials; /* counted, not listed */
	}
	return core_err(rc);
}

static int file_size(struct katibfs *fs, const struct node *nd, off_t *size,
		     struct timespec *mtime)
{
	int rc;

	if (nd->kind == NODE_SCRATCH) {
		struct scratch *s;

		pthread_mutex_lock(&fs->scratch_lock);
		s = scratch_find(fs, nd->exp, nd->name);
		if (s) {
			*size = (off_t)s->buf.len;
			*mtime = s->mtime;
		}
		pthread_mutex_unlock(&fs->scratch_lock);
		return s ? 0 : -ENOENT;
	}
	if (kfile_class(nd->f) == KCLASS_STREAM) {
		rc = katib_stream_stat(fs->k, nd->exp, nd->trial, nd->f, size,
				       mtime);
		return core_err(rc);
	}
	return render_size(fs, nd, size);
}

mode_t node_mode(const struct node *nd)
{
	if (node_is_dir(nd))
		return S_IFDIR | 0755;
	if (nd->kind == NODE_SCRATCH)
		return S_IFREG | 0644;
	return S_IFREG | (kfile_writable(nd->f) ? 0644 : 0444);
}

static void fill_stat(struct katibfs *fs, const struct node *nd, nlink_t nl,
		      off_t size, const struct timespec *mtime, struct stat *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->st_mode = node_mode(nd);
	sb->st_nlink = nl;
	sb->st_uid = fs->uid;
	sb->st_gid = fs->gid;
	sb->st_size = size;
	sb->st_blksize = 4096;
	sb->st_blocks = (size + 511) / 512;
	stat_set_times(sb, mtime);
}

int node_getattr(struct katibfs *fs, const struct node *nd, struct stat *sb)
{
	struct katib_stat st;
	struct timespec mtime;
	off_t size = 0;
	nlink_t nl = 1;
	int rc;

	rc = node_check(fs, nd, &st);
	if (rc)
		return rc;
	mtime = st.mtime;
	if (node_is_dir(nd))
		rc = dir_nlink(fs, nd, &st, &nl);
	else
		rc = file_size(fs, nd, &size, &mtime);
	if (rc)
		return rc;
	fill_stat(fs, nd, nl, size, &mtime, sb);
	return 0;
}

int node_getattr_sized(struct katibfs *fs, const struct node *nd, off_t size,
		       struct stat *sb)
{
	struct katib_stat st;
	int rc = node_check(fs, nd, &st);

	if (!rc)
		fill_stat(fs, nd, 1, size, &st.mtime, sb);
	return rc;
}
