/*
 * fs.c - the FUSE layer of katibfs (high-level, path-based libfuse 3): the
 * operations table, shared helpers and the life cycle. The handlers live in
 * ops.c (open files), dirs.c (directories and names), paths.c (path to node,
 * attributes), scratch.c (editor scratch files) and notify.c; fs_i.h is
 * what they share.
 *
 * The tree (INTERFACE.md):
 *
 *   /README  /events  /<exp>/  /<exp>/<file>  /<exp>/trials/ /<exp>/trials/<N>/
 *   /<exp>/trials/<N>/<file>
 *
 * Every path is parsed into a struct node; every user action becomes one
 * call on the core. Open files carry a struct handle in fi->fh:
 *
 *   snapshot files   rendered once at open into the handle (direct_io), so
 *                    a reader in pieces sees one consistent state;
 *   streams          read through katib_stream_read (direct_io);
 *   immutable files  rendered at open, keep_cache;
 *   spec.yaml        written into a per-handle buffer (offsets, O_TRUNC,
 *                    O_APPEND; without O_TRUNC it starts from the current
 *                    spec), submitted in flush, whose error is close()'s;
 *   control, trials/N/control, trials/N/metrics
 *                    line files: every complete line written is submitted
 *                    at once (so `echo bogus > control` fails in write(2),
 *                    which even a shell builtin reports); a last line
 *                    without a newline is submitted in flush.
 *
 * Scratch files: editors and `sed -i` save through a temporary file in the
 * same directory and rename it onto the target. Inside an experiment
 * directory any name that is not one of the experiment's files may be
 * created; it lives in memory only (capped), and rename(scratch, spec.yaml)
 * submits its content as a spec write (the verdict is rename's result).
 *
 * Cache invalidation: the core's notify callback (a core thread) only queues
 * a path; our notifier thread calls fuse_invalidate_path. No handler and no
 * core thread ever waits on the kernel.
 *
 * fuse_config: nullpath_ok, so fh-based operations get no path (unlinked
 * scratch files stay usable), and hard_remove.
 *
 * Owns: struct katibfs (katibfs_new(), katibfs_free()).
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

struct katibfs *kfs(void)
{
	return fuse_get_context()->private_data;
}

/*
 * Who may change the tree: the mounting user, and root (uid 0), whom the
 * kernel's default_permissions lets through too (CAP_DAC_OVERRIDE); we do
 * as the kernel does. Without allow_other the kernel lets nobody else reach
 * the mount at all; with it, main.c adds default_permissions, so modes
 * 0644/0755 owned by the mounting user already stop others from writing.
 * Every handler that changes something checks here as well, so the rule
 * does not hang on the kernel option alone.
 */
int owner_only(const struct katibfs *fs)
{
	uid_t uid = fuse_get_context()->uid;

	return uid == fs->uid || uid == 0 ? 0 : -EACCES;
}

int core_err(int rc)
{
	if (rc >= 0)
		return rc;
	return rc < -4095 ? -EIO : rc;
}

static int fs_statfs(const char *path, struct statvfs *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_namemax = NAME_MAX;
	return 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->attr_timeout = 1.0;
	cfg->entry_timeout = 1.0;
	cfg->negative_timeout = 0.0;
	cfg->use_ino = 0;
	cfg->hard_remove = 1;
	cfg->nullpath_ok = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	cfg->direct_io = 0;
	return fuse_get_context()->private_data;
}

static const struct fuse_operations katibfs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.truncate = fs_truncate,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.create = fs_create,
	.mknod = fs_mknod,
	.unlink = fs_unlink,
	.rename = fs_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
	.statfs = fs_statfs,
};

const struct fuse_operations *katibfs_operations(void)
{
	return &katibfs_ops;
}

/* ---- life cycle ---- */

struct katibfs *katibfs_new(struct katib *k)
{
	struct katibfs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->k = k;
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->start);
	pthread_mutex_init(&fs->scratch_lock, NULL);
	pthread_mutex_init(&fs->nlock, NULL);
	pthread_cond_init(&fs->ncond, NULL);
	return fs;
}

void katibfs_free(struct katibfs *fs)
{
	struct scratch *s;

	if (!fs)
		return;
	katibfs_stop_notify(fs);
	while ((s = fs->scratch)) {
		fs->scratch = s->next;
		strbuf_free(&s->buf);
		free(s);
	}
	pthread_cond_destroy(&fs->ncond);
	pthread_mutex_destroy(&fs->nlock);
	pthread_mutex_destroy(&fs->scratch_lock);
	free(fs);
}
