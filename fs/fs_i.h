/*
 * fs_i.h - what the files of the FUSE layer share (private to fs/): the
 * struct katibfs, parsed paths (struct node), open-file handles, scratch
 * files, and the functions one file of fs/ calls in another.
 */
#ifndef KATIBFS_FS_I_H
#define KATIBFS_FS_I_H

#include "fs.h"

#include <sys/stat.h>
#include <time.h>

#include "katib/spec.h"
#include "util/strbuf.h"

#define WRITE_MAX	   (SPEC_MAX_BYTES + 1) /* the core reports EFBIG beyond */
#define SCRATCH_MAX_FILES  32			/* per experiment */
#define NOTIFY_MAX_PENDING 1024
#define KFILE_SCAN_MAX	   64 /* enum kfile values probed by readdir */

struct scratch {
	struct scratch *next;
	char exp[NAME_MAX + 1];
	char name[NAME_MAX + 1];
	struct strbuf buf;
	mode_t mode;
	struct timespec mtime;
	int refs;   /* open handles */
	int linked; /* still in the list */
};

struct npath {
	struct npath *next;
	char path[];
};

struct katibfs {
	struct katib *k;
	uid_t uid;
	gid_t gid;
	struct timespec start;

	pthread_mutex_t scratch_lock;
	struct scratch *scratch;

	pthread_mutex_t nlock;
	pthread_cond_t ncond;
	struct npath *nhead, *ntail;
	size_t npending;
	int nstop, nrunning;
	pthread_t nthread;
	struct fuse *fuse;
};

enum node_kind {
	NODE_ROOT,
	NODE_README,
	NODE_EVENTS, /* the mount-wide events (exp "") */
	NODE_EXP,
	NODE_EXP_FILE,
	NODE_TRIALS,
	NODE_TRIAL,
	NODE_TRIAL_FILE,
	NODE_SCRATCH, /* unknown name directly inside an experiment */
	NODE_OTHER,   /* unknown name anywhere else: never exists */
};

struct node {
	enum node_kind kind;
	char exp[NAME_MAX + 1];
	int trial;
	enum kfile f;
	char name[NAME_MAX + 1]; /* last component */
};

enum handle_mode {
	H_RENDERED, /* snapshot or immutable: content in text */
	H_STREAM,   /* katib_stream_read */
	H_SPEC,	    /* spec.yaml opened for writing: buf is the file */
	H_LINES,    /* control/metrics for writing: lines in pend */
	H_SCRATCH,  /* a scratch file */
	H_DIR,	    /* an open directory (readdir) */
};

struct handle {
	struct node node;
	enum handle_mode mode;
	pthread_mutex_t lock;
	struct katib_text *text; /* H_RENDERED: fixed at open, read unlocked */
	struct strbuf buf;  /* the spec being written, or a line file's text */
	struct strbuf pend; /* H_LINES: a line not yet submitted */
	int dirty;	    /* H_SPEC: DIRTY_WRITTEN or DIRTY_TRUNCATED */
	struct scratch *sc;
};

/* H_SPEC: written to, or emptied by O_TRUNC and not written (yet). */
enum { DIRTY_WRITTEN = 1, DIRTY_TRUNCATED = 2 };

/* fs.c */
struct katibfs *kfs(void);
int owner_only(const struct katibfs *fs);
int core_err(int rc);

/* paths.c */
int parse_path(const char *path, struct node *nd);
int node_is_dir(const struct node *nd);
int node_check(struct katibfs *fs, const struct node *nd,
	       struct katib_stat *st);
int node_resolve(struct katibfs *fs, const char *path, struct node *nd);
void stat_set_times(struct stat *sb, const struct timespec *mtime);
mode_t node_mode(const struct node *nd);
int node_getattr(struct katibfs *fs, const struct node *nd, struct stat *sb);
/* The same for a file whose size is known (an open snapshot's). */
int node_getattr_sized(struct katibfs *fs, const struct node *nd, off_t size,
		       struct stat *sb);

/* scratch.c */
struct scratch *scratch_find(struct katibfs *fs, const char *exp,
			     const char *name);
void scratch_unref(struct scratch *s);
void scratch_unlink(struct katibfs *fs, struct scratch *s);
void scratch_drop_experiment(struct katibfs *fs, const char *exp);
int scratch_create(struct katibfs *fs, const struct node *nd, mode_t mode,
		   struct scratch **out);

/* ops.c */
struct handle *fh_of(struct fuse_file_info *fi);
struct handle *handle_new(const struct node *nd, enum handle_mode m);
void handle_free(struct katibfs *fs, struct handle *h);
int spec_submit(struct katibfs *fs, const char *exp, const char *text,
		size_t len);
int open_scratch(struct katibfs *fs, const struct node *nd,
		 struct fuse_file_info *fi);
int fs_open(const char *path, struct fuse_file_info *fi);
int fs_read(const char *path, char *out, size_t size, off_t off,
	    struct fuse_file_info *fi);
int fs_write(const char *path, const char *data, size_t size, off_t off,
	     struct fuse_file_info *fi);
int fs_flush(const char *path, struct fuse_file_info *fi);
int fs_release(const char *path, struct fuse_file_info *fi);
int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi);
int fs_getattr(const char *path, struct stat *sb, struct fuse_file_info *fi);
int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi);

/* dirs.c */
int fs_opendir(const char *path, struct fuse_file_info *fi);
int fs_releasedir(const char *path, struct fuse_file_info *fi);
int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
	       struct fuse_file_info *fi, enum fuse_readdir_flags flags);
int fs_mkdir(const char *path, mode_t mode);
int fs_rmdir(const char *path);
int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_mknod(const char *path, mode_t mode, dev_t rdev);
int fs_unlink(const char *path);
int fs_rename(const char *from, const char *to, unsigned int flags);
int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi);
int fs_utimens(const char *path, const struct timespec tv[2],
	       struct fuse_file_info *fi);

#endif
