/*
 * dirs.c - the handlers of directories and names: readdir, mkdir, rmdir,
 * create/mknod/unlink/rename of scratch files and rename onto spec.yaml, and
 * the chmod/chown/utimens that editors issue while saving.
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

/* ---- directories ---- */

int fs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h;
	struct node nd;
	int rc;

	rc = node_resolve(fs, path, &nd);
	if (!rc && !node_is_dir(&nd))
		rc = -ENOTDIR;
	if (rc)
		return rc;
	h = handle_new(&nd, H_DIR);
	if (!h)
		return -ENOMEM;
	fi->fh = (uintptr_t)h;
	return 0;
}

int fs_releasedir(const char *path, struct fuse_file_info *fi)
{
	handle_free(kfs(), fh_of(fi));
	return 0;
}

static int fill(void *buf, fuse_fill_dir_t filler, const char *name)
{
	return filler(buf, name, NULL, 0, 0) ? -ENOMEM : 0;
}

static int readdir_root(struct katibfs *fs, void *buf, fuse_fill_dir_t filler)
{
	char **names = NULL;
	size_t i, n = 0;
	int rc;

	rc = fill(buf, filler, "README");
	if (!rc)
		rc = fill(buf, filler, "events");
	if (!rc)
		rc = core_err(katib_list_experiments(fs->k, &names, &n));
	for (i = 0; i < n; i++) {
		if (!rc)
			rc = fill(buf, filler, names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int readdir_files(struct katibfs *fs, const char *exp, void *buf,
			 fuse_fill_dir_t filler, int trial)
{
	int f, rc = 0;

	/* Every file the core names, so a new one appears by itself. */
	for (f = KFILE_NONE + 1; f < KFILE_SCAN_MAX && !rc; f++) {
		const char *name = kfile_name((enum kfile)f);

		if (!name || (!trial && !katib_has_file(fs->k, exp, f)))
			continue;
		if (trial ? kfile_trial_lookup(name) == (enum kfile)f
			  : kfile_experiment_lookup(name) == (enum kfile)f)
			rc = fill(buf, filler, name);
	}
	return rc;
}

static int readdir_exp(struct katibfs *fs, const char *exp, void *buf,
		       fuse_fill_dir_t filler)
{
	struct scratch *s;
	int rc;

	rc = readdir_files(fs, exp, buf, filler, 0);
	if (!rc)
		rc = fill(buf, filler, "trials");
	pthread_mutex_lock(&fs->scratch_lock);
	for (s = fs->scratch; s && !rc; s = s->next)
		if (!strcmp(s->exp, exp))
			rc = fill(buf, filler, s->name);
	pthread_mutex_unlock(&fs->scratch_lock);
	return rc;
}

static int readdir_trials(struct katibfs *fs, const char *exp, void *buf,
			  fuse_fill_dir_t filler)
{
	int *numbers = NULL;
	char name[16];
	size_t i, n = 0;
	int rc;

	rc = core_err(katib_list_trials(fs->k, exp, &numbers, &n));
	for (i = 0; i < n && !rc; i++) {
		snprintf(name, sizeof(name), "%d", numbers[i]);
		rc = fill(buf, filler, name);
	}
	free(numbers);
	return rc;
}

int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
	       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct katibfs *fs = kfs();
	const struct node *nd = &fh_of(fi)->node;
	int rc;

	rc = fill(buf, filler, ".");
	if (!rc)
		rc = fill(buf, filler, "..");
	if (rc)
		return rc;
	switch (nd->kind) {
	case NODE_ROOT: return readdir_root(fs, buf, filler);
	case NODE_EXP: return readdir_exp(fs, nd->exp, buf, filler);
	case NODE_TRIALS: return readdir_trials(fs, nd->exp, buf, filler);
	case NODE_TRIAL: return readdir_files(fs, NULL, buf, filler, 1);
	default: return -ENOTDIR;
	}
}

int fs_mkdir(const char *path, mode_t mode)
{
	struct katibfs *fs = kfs();
	struct kb_error err;
	struct node nd;
	int rc;

	if ((rc = owner_only(fs)))
		return rc;
	rc = parse_path(path, &nd);
	if (rc)
		return rc == -ENAMETOOLONG ? -EINVAL : rc;
	if (nd.kind != NODE_EXP)
		return -EPERM;
	kb_error_clear(&err);
	return core_err(katib_mkdir(fs->k, nd.exp, &err));
}

/* path as a node the owner removes: a directory or a file as `dir` says
 * (else ENOTDIR or EISDIR), of `kind` (else EPERM). */
static int resolve_removable(struct katibfs *fs, const char *path, int dir,
			     enum node_kind kind, struct node *nd)
{
	int rc = node_resolve(fs, path, nd);

	if (rc)
		return rc;
	if (!node_is_dir(nd) != !dir)
		return dir ? -ENOTDIR : -EISDIR;
	if ((rc = owner_only(fs)))
		return rc;
	return nd->kind == kind ? 0 : -EPERM;
}

int fs_rmdir(const char *path)
{
	struct katibfs *fs = kfs();
	struct kb_error err;
	struct node nd;
	int rc;

	rc = resolve_removable(fs, path, 1, NODE_EXP, &nd);
	if (rc)
		return rc;
	kb_error_clear(&err);
	rc = core_err(katib_rmdir(fs->k, nd.exp, &err));
	if (!rc)
		scratch_drop_experiment(fs, nd.exp);
	return rc;
}

/* ---- creating, removing, renaming ---- */

/* May `nd` be created as a scratch file? */
static int scratch_allowed(struct katibfs *fs, const struct node *nd)
{
	struct katib_stat st;

	if (nd->kind != NODE_SCRATCH)
		return -EACCES;
	return core_err(katib_experiment_stat(fs->k, nd->exp, &st));
}

int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h;
	struct node nd;
	int rc;

	if ((rc = owner_only(fs)))
		return rc;
	rc = parse_path(path, &nd);
	if (rc)
		return rc == -ENOENT ? -EACCES : rc;
	if (nd.kind != NODE_SCRATCH) {
		if (!node_check(fs, &nd, NULL))
			return fs_open(path, fi); /* exists: a plain open */
		return -EACCES;
	}
	rc = scratch_allowed(fs, &nd);
	if (rc)
		return rc;
	h = handle_new(&nd, H_SCRATCH);
	if (!h)
		return -ENOMEM;
	rc = scratch_create(fs, &nd, mode, &h->sc);
	if (rc == -EEXIST && !(fi->flags & O_EXCL)) {
		handle_free(fs, h);
		return open_scratch(fs, &nd, fi);
	}
	if (rc) {
		handle_free(fs, h);
		return rc;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

int fs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct katibfs *fs = kfs();
	struct node nd;
	int rc;

	if ((rc = owner_only(fs)))
		return rc;
	rc = parse_path(path, &nd);
	if (rc)
		return rc == -ENOENT ? -EACCES : rc;
	if (!S_ISREG(mode))
		return -EPERM;
	rc = scratch_allowed(fs, &nd);
	return rc ? rc : scratch_create(fs, &nd, mode, NULL);
}

int fs_unlink(const char *path)
{
	struct katibfs *fs = kfs();
	struct scratch *s;
	struct node nd;
	int rc;

	rc = resolve_removable(fs, path, 0, NODE_SCRATCH, &nd);
	if (rc)
		return rc;
	pthread_mutex_lock(&fs->scratch_lock);
	s = scratch_find(fs, nd.exp, nd.name);
	if (s)
		scratch_unlink(fs, s);
	pthread_mutex_unlock(&fs->scratch_lock);
	return s ? 0 : -ENOENT;
}

/* rename(scratch, spec.yaml): submit the scratch content as the spec. */
static int rename_onto_spec(struct katibfs *fs, const struct node *from,
			    unsigned int flags)
{
	struct scratch *s;
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (flags & RENAME_NOREPLACE)
		return -EEXIST;
	if (flags)
		return -EINVAL;
	pthread_mutex_lock(&fs->scratch_lock);
	s = scratch_find(fs, from->exp, from->name);
	if (!s) {
		rc = -ENOENT;
	} else {
		len = s->buf.len;
		text = malloc(len + 1);
		if (text)
			memcpy(text, s->buf.data ? s->buf.data : "", len);
		else
			rc = -ENOMEM;
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	if (rc)
		return rc;
	rc = spec_submit(fs, from->exp, text, len);
	free(text);
	if (rc)
		return rc; /* POSIX: a failed rename changes nothing */
	pthread_mutex_lock(&fs->scratch_lock);
	s = scratch_find(fs, from->exp, from->name);
	if (s)
		scratch_unlink(fs, s);
	pthread_mutex_unlock(&fs->scratch_lock);
	return 0;
}

static int rename_scratch(struct katibfs *fs, const struct node *from,
			  const struct node *to, unsigned int flags)
{
	struct scratch *s, *old;
	int rc = 0;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	pthread_mutex_lock(&fs->scratch_lock);
	s = scratch_find(fs, from->exp, from->name);
	old = scratch_find(fs, to->exp, to->name);
	if (!s)
		rc = -ENOENT;
	else if (old == s)
		rc = 0;
	else if (old && (flags & RENAME_NOREPLACE))
		rc = -EEXIST;
	else {
		if (old)
			scratch_unlink(fs, old);
		snprintf(s->name, sizeof(s->name), "%s", to->name);
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	return rc;
}

int fs_rename(const char *from, const char *to, unsigned int flags)
{
	struct katibfs *fs = kfs();
	struct node a, b;
	int rc;

	rc = parse_path(from, &a);
	if (!rc)
		rc = node_check(fs, &a, NULL);
	if (!rc)
		rc = owner_only(fs);
	if (rc)
		return rc;
	if (a.kind != NODE_SCRATCH)
		return -EPERM;
	rc = parse_path(to, &b);
	if (rc)
		return rc == -ENOENT ? -EPERM : rc;
	if (b.kind != NODE_SCRATCH && b.kind != NODE_EXP_FILE)
		return -EPERM;
	if (strcmp(a.exp, b.exp))
		return -EXDEV;
	if (b.kind == NODE_SCRATCH)
		return rename_scratch(fs, &a, &b, flags);
	if (b.f != KFILE_SPEC)
		return -EPERM;
	return rename_onto_spec(fs, &a, flags);
}

/* ---- attributes people set while saving files ---- */

int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct scratch *s = NULL;
	struct node nd;
	int rc;

	if (owner_only(fs))
		return -EPERM; /* chmod(2) by someone else than the owner */
	if (fi && fi->fh) {
		if (fh_of(fi)->mode != H_SCRATCH)
			return (mode & 07777) == (node_mode(&fh_of(fi)->node) &
						  07777)
				       ? 0
				       : -EPERM;
		pthread_mutex_lock(&fs->scratch_lock);
		fh_of(fi)->sc->mode = mode & 07777;
		pthread_mutex_unlock(&fs->scratch_lock);
		return 0;
	}
	rc = node_resolve(fs, path, &nd);
	if (rc)
		return rc;
	/* The tree's modes are fixed; setting the same one (cp -p) is fine. */
	if (nd.kind != NODE_SCRATCH)
		return (mode & 07777) == (node_mode(&nd) & 07777) ? 0 : -EPERM;
	pthread_mutex_lock(&fs->scratch_lock);
	s = scratch_find(fs, nd.exp, nd.name);
	if (s)
		s->mode = mode & 07777;
	pthread_mutex_unlock(&fs->scratch_lock);
	return s ? 0 : -ENOENT;
}

/* chown to the mounting user (what cp -p and sed -i do) is accepted. */
int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct node nd;
	int rc;

	if (owner_only(fs))
		return -EPERM;
	if (fi && fi->fh) {
		nd = fh_of(fi)->node;
		if (fh_of(fi)->mode == H_SCRATCH)
			return 0;
	} else {
		rc = parse_path(path, &nd);
		if (!rc)
			rc = node_check(fs, &nd, NULL);
		if (rc)
			return rc;
	}
	if (nd.kind == NODE_SCRATCH)
		return 0;
	if ((uid == (uid_t)-1 || uid == fs->uid) &&
	    (gid == (gid_t)-1 || gid == fs->gid))
		return 0;
	return -EPERM;
}

int fs_utimens(const char *path, const struct timespec tv[2],
	       struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct node nd;
	struct scratch *s;
	int rc;

	if ((rc = owner_only(fs)))
		return rc;
	if (fi && fi->fh) {
		if (fh_of(fi)->mode != H_SCRATCH)
			return 0;
		s = fh_of(fi)->sc;
		pthread_mutex_lock(&fs->scratch_lock);
		clock_gettime(CLOCK_REALTIME, &s->mtime);
		if (tv && tv[1].tv_nsec != UTIME_NOW &&
		    tv[1].tv_nsec != UTIME_OMIT)
			s->mtime = tv[1];
		pthread_mutex_unlock(&fs->scratch_lock);
		return 0;
	}
	rc = node_resolve(fs, path, &nd);
	if (rc || nd.kind != NODE_SCRATCH)
		return rc; /* times of the tree are the model's: no-op */
	pthread_mutex_lock(&fs->scratch_lock);
	s = scratch_find(fs, nd.exp, nd.name);
	if (s && tv && tv[1].tv_nsec != UTIME_OMIT) {
		clock_gettime(CLOCK_REALTIME, &s->mtime);
		if (tv[1].tv_nsec != UTIME_NOW)
			s->mtime = tv[1];
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	return 0;
}
