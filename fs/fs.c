/*
 * fs.c - the FUSE handlers of katibfs (high-level, path-based libfuse 3).
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
 */
#include "fs.h"

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

#include "katib/spec.h"

#define WRITE_MAX	   (SPEC_MAX_BYTES + 1) /* the core reports EFBIG beyond */
#define SCRATCH_MAX_FILES  32			/* per experiment */
#define NOTIFY_MAX_PENDING 1024
#define KFILE_SCAN_MAX	   64 /* enum kfile values probed by readdir */

/* ---- growable byte buffers ---- */

struct kbuf {
	char *p;
	size_t len, cap;
};

static void kbuf_free(struct kbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int kbuf_reserve(struct kbuf *b, size_t want)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (want <= b->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* pwrite into b, zero-filling a hole, capped at max bytes: bytes written. */
static ssize_t kbuf_pwrite(struct kbuf *b, const char *data, size_t n,
			   off_t off, size_t max)
{
	size_t o = (size_t)off;

	if (off < 0)
		return -EINVAL;
	if (o >= max)
		return n ? -EFBIG : 0;
	if (n > max - o)
		n = max - o;
	if (kbuf_reserve(b, o + n))
		return -ENOMEM;
	if (o > b->len)
		memset(b->p + b->len, 0, o - b->len);
	memcpy(b->p + o, data, n);
	if (o + n > b->len)
		b->len = o + n;
	return (ssize_t)n;
}

static int kbuf_truncate(struct kbuf *b, off_t size, size_t max)
{
	size_t s = (size_t)size;

	if (size < 0)
		return -EINVAL;
	if (s > max)
		return -EFBIG;
	if (kbuf_reserve(b, s))
		return -ENOMEM;
	if (s > b->len)
		memset(b->p + b->len, 0, s - b->len);
	b->len = s;
	return 0;
}

static ssize_t kbuf_pread(const struct kbuf *b, char *out, size_t n, off_t off)
{
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= b->len)
		return 0;
	if (n > b->len - (size_t)off)
		n = b->len - (size_t)off;
	memcpy(out, b->p + off, n);
	return (ssize_t)n;
}

/* ---- the filesystem object ---- */

struct scratch {
	struct scratch *next;
	char exp[NAME_MAX + 1];
	char name[NAME_MAX + 1];
	struct kbuf data;
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

static struct katibfs *kfs(void)
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
static int owner_only(const struct katibfs *fs)
{
	uid_t uid = fuse_get_context()->uid;

	return uid == fs->uid || uid == 0 ? 0 : -EACCES;
}

static int core_err(int rc)
{
	if (rc >= 0)
		return rc;
	return rc < -4095 ? -EIO : rc;
}

/* ---- paths ---- */

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
static int parse_path(const char *path, struct node *nd)
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

static int node_is_dir(const struct node *nd)
{
	return nd->kind == NODE_ROOT || nd->kind == NODE_EXP ||
	       nd->kind == NODE_TRIALS || nd->kind == NODE_TRIAL;
}

/* ---- scratch files (callers hold scratch_lock) ---- */

static struct scratch *scratch_find(struct katibfs *fs, const char *exp,
				    const char *name)
{
	struct scratch *s;

	for (s = fs->scratch; s; s = s->next)
		if (!strcmp(s->exp, exp) && !strcmp(s->name, name))
			return s;
	return NULL;
}

static size_t scratch_count(struct katibfs *fs, const char *exp)
{
	struct scratch *s;
	size_t n = 0;

	for (s = fs->scratch; s; s = s->next)
		n += !strcmp(s->exp, exp);
	return n;
}

static void scratch_unref(struct scratch *s)
{
	if (--s->refs > 0 || s->linked)
		return;
	kbuf_free(&s->data);
	free(s);
}

static void scratch_unlink(struct katibfs *fs, struct scratch *s)
{
	struct scratch **pp;

	for (pp = &fs->scratch; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->linked = 0;
	s->refs++;
	scratch_unref(s);
}

static void scratch_drop_experiment(struct katibfs *fs, const char *exp)
{
	struct scratch *s, *next;

	pthread_mutex_lock(&fs->scratch_lock);
	for (s = fs->scratch; s; s = next) {
		next = s->next;
		if (!strcmp(s->exp, exp))
			scratch_unlink(fs, s);
	}
	pthread_mutex_unlock(&fs->scratch_lock);
}

static int scratch_create(struct katibfs *fs, const struct node *nd,
			  mode_t mode, struct scratch **out)
{
	struct scratch *s;
	int rc = 0;

	pthread_mutex_lock(&fs->scratch_lock);
	if (scratch_find(fs, nd->exp, nd->name)) {
		rc = -EEXIST;
		goto out;
	}
	if (scratch_count(fs, nd->exp) >= SCRATCH_MAX_FILES) {
		rc = -ENOSPC;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(s->exp, sizeof(s->exp), "%s", nd->exp);
	snprintf(s->name, sizeof(s->name), "%s", nd->name);
	s->mode = mode & 07777;
	s->linked = 1;
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	s->next = fs->scratch;
	fs->scratch = s;
	if (out) {
		s->refs++;
		*out = s;
	}
out:
	pthread_mutex_unlock(&fs->scratch_lock);
	return rc;
}

/* ---- existence and attributes ---- */

static int node_check(struct katibfs *fs, const struct node *nd,
		      struct katib_stat *st)
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
static int resolve(struct katibfs *fs, const char *path, struct node *nd)
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

static void fill_times(struct stat *sb, const struct timespec *mtime)
{
	sb->st_atim = *mtime;
	sb->st_mtim = *mtime;
	sb->st_ctim = *mtime;
}

static int dir_nlink(struct katibfs *fs, const struct node *nd, nlink_t *nl)
{
	char **names = NULL;
	int *numbers = NULL;
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
		rc = katib_list_trials(fs->k, nd->exp, &numbers, &n);
		free(numbers);
		*nl = 2 + n;
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
			*size = (off_t)s->data.len;
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

static mode_t node_mode(const struct node *nd)
{
	if (node_is_dir(nd))
		return S_IFDIR | 0755;
	if (nd->kind == NODE_SCRATCH)
		return S_IFREG | 0644;
	return S_IFREG | (kfile_writable(nd->f) ? 0644 : 0444);
}

static int node_getattr(struct katibfs *fs, const struct node *nd,
			struct stat *sb)
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
		rc = dir_nlink(fs, nd, &nl);
	else
		rc = file_size(fs, nd, &size, &mtime);
	if (rc)
		return rc;
	memset(sb, 0, sizeof(*sb));
	sb->st_mode = node_mode(nd);
	sb->st_nlink = nl;
	sb->st_uid = fs->uid;
	sb->st_gid = fs->gid;
	sb->st_size = size;
	sb->st_blksize = 4096;
	sb->st_blocks = (size + 511) / 512;
	fill_times(sb, &mtime);
	return 0;
}

/* ---- open files ---- */

enum handle_mode {
	H_RENDERED, /* snapshot or immutable: content in buf */
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
	struct kbuf buf;  /* rendered content or the spec being written */
	struct kbuf pend; /* H_LINES: a line not yet submitted */
	int dirty;	  /* H_SPEC: DIRTY_WRITTEN or DIRTY_TRUNCATED */
	struct scratch *sc;
};

/* H_SPEC: written to, or emptied by O_TRUNC and not written (yet). */
enum { DIRTY_WRITTEN = 1, DIRTY_TRUNCATED = 2 };

static struct handle *fh_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

static struct handle *handle_new(const struct node *nd, enum handle_mode m)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->node = *nd;
	h->mode = m;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

static void handle_free(struct katibfs *fs, struct handle *h)
{
	if (h->sc) {
		pthread_mutex_lock(&fs->scratch_lock);
		scratch_unref(h->sc);
		pthread_mutex_unlock(&fs->scratch_lock);
	}
	kbuf_free(&h->buf);
	kbuf_free(&h->pend);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int handle_render(struct katibfs *fs, struct handle *h)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = katib_render(fs->k,
			  h->node.kind == NODE_README ? NULL : h->node.exp,
			  h->node.trial, h->node.f, &text, &len);
	if (rc) {
		free(text);
		return core_err(rc);
	}
	kbuf_free(&h->buf);
	h->buf.p = text;
	h->buf.len = h->buf.cap = len;
	return 0;
}

/* Submit a line file's text to the core. */
static int lines_submit(struct katibfs *fs, const struct node *nd,
			const char *text, size_t len)
{
	struct kb_error err;
	int rc;

	kb_error_clear(&err);
	switch (nd->f) {
	case KFILE_CONTROL:
		rc = katib_write_control(fs->k, nd->exp, text, len, &err);
		break;
	case KFILE_T_CONTROL:
		rc = katib_write_trial_control(fs->k, nd->exp, nd->trial, text,
					       len, &err);
		break;
	case KFILE_T_METRICS:
		rc = katib_push_metrics(fs->k, nd->exp, nd->trial, text, len,
					&err);
		break;
	default: rc = -EACCES; break;
	}
	return core_err(rc);
}

static int spec_submit(struct katibfs *fs, const char *exp, const char *text,
		       size_t len)
{
	struct kb_error err;

	kb_error_clear(&err);
	return core_err(katib_write_spec(fs->k, exp, text, len, &err));
}

static int open_scratch(struct katibfs *fs, const struct node *nd,
			struct fuse_file_info *fi)
{
	struct handle *h;
	struct scratch *s;

	h = handle_new(nd, H_SCRATCH);
	if (!h)
		return -ENOMEM;
	pthread_mutex_lock(&fs->scratch_lock);
	s = scratch_find(fs, nd->exp, nd->name);
	if (s) {
		s->refs++;
		if (fi->flags & O_TRUNC) {
			s->data.len = 0;
			clock_gettime(CLOCK_REALTIME, &s->mtime);
		}
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	if (!s) {
		handle_free(fs, h);
		return -ENOENT;
	}
	h->sc = s;
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

static int open_write(struct katibfs *fs, struct handle *h,
		      struct fuse_file_info *fi)
{
	int rc = 0;

	if (h->node.f == KFILE_SPEC) {
		h->mode = H_SPEC;
		/* Without O_TRUNC the file starts as the current spec; with
		 * it the file is empty (see fs_flush and fs_release). */
		if (!(fi->flags & O_TRUNC))
			rc = handle_render(fs, h);
		else
			h->dirty = DIRTY_TRUNCATED;
	} else {
		h->mode = H_LINES;
		if ((fi->flags & O_ACCMODE) == O_RDWR)
			rc = handle_render(fs, h);
	}
	fi->direct_io = 1;
	return rc;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	int wr = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct handle *h;
	struct node nd;
	int rc;

	rc = resolve(fs, path, &nd);
	if (rc)
		return rc;
	if (node_is_dir(&nd))
		return -EISDIR;
	if (wr && (rc = owner_only(fs)))
		return rc;
	if (nd.kind == NODE_SCRATCH)
		return open_scratch(fs, &nd, fi);
	if (wr && !kfile_writable(nd.f))
		return -EACCES;
	h = handle_new(&nd, H_RENDERED);
	if (!h)
		return -ENOMEM;
	if (wr) {
		rc = open_write(fs, h, fi);
	} else if (kfile_class(nd.f) == KCLASS_STREAM) {
		h->mode = H_STREAM;
		fi->direct_io = 1;
	} else {
		rc = handle_render(fs, h);
		if (kfile_class(nd.f) == KCLASS_IMMUTABLE)
			fi->keep_cache = 1;
		else
			fi->direct_io = 1;
	}
	if (rc) {
		handle_free(fs, h);
		return rc;
	}
	fi->fh = (uintptr_t)h;
	return 0;
}

static int fs_read(const char *path, char *out, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h = fh_of(fi);
	ssize_t n;

	switch (h->mode) {
	case H_STREAM:
		n = katib_stream_read(fs->k, h->node.exp, h->node.trial,
				      h->node.f, out, size, off);
		return (int)core_err((int)n);
	case H_SCRATCH:
		pthread_mutex_lock(&fs->scratch_lock);
		n = kbuf_pread(&h->sc->data, out, size, off);
		pthread_mutex_unlock(&fs->scratch_lock);
		return (int)n;
	default:
		pthread_mutex_lock(&h->lock);
		n = kbuf_pread(&h->buf, out, size, off);
		pthread_mutex_unlock(&h->lock);
		return (int)n;
	}
}

/* H_LINES: append, then submit every complete line at once. */
static int lines_write(struct katibfs *fs, struct handle *h, const char *data,
		       size_t size)
{
	ssize_t n;
	char *nl;
	size_t done;
	int rc;

	n = kbuf_pwrite(&h->pend, data, size, (off_t)h->pend.len, WRITE_MAX);
	if (n < 0)
		return (int)n;
	nl = memrchr(h->pend.p, '\n', h->pend.len);
	if (!nl)
		return (int)n;
	done = (size_t)(nl - h->pend.p) + 1;
	rc = lines_submit(fs, &h->node, h->pend.p, done);
	memmove(h->pend.p, h->pend.p + done, h->pend.len - done);
	h->pend.len -= done;
	return rc ? rc : (int)n;
}

static int fs_write(const char *path, const char *data, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h = fh_of(fi);
	ssize_t n;

	/* a descriptor passed to another user writes nothing either */
	if ((n = owner_only(fs)))
		return (int)n;
	switch (h->mode) {
	case H_SCRATCH:
		pthread_mutex_lock(&fs->scratch_lock);
		if (fi->flags & O_APPEND)
			off = (off_t)h->sc->data.len;
		n = kbuf_pwrite(&h->sc->data, data, size, off, WRITE_MAX);
		clock_gettime(CLOCK_REALTIME, &h->sc->mtime);
		pthread_mutex_unlock(&fs->scratch_lock);
		return (int)n;
	case H_SPEC:
		pthread_mutex_lock(&h->lock);
		if (fi->flags & O_APPEND)
			off = (off_t)h->buf.len;
		n = kbuf_pwrite(&h->buf, data, size, off, WRITE_MAX);
		if (n > 0)
			h->dirty = DIRTY_WRITTEN;
		pthread_mutex_unlock(&h->lock);
		return (int)n;
	case H_LINES:
		pthread_mutex_lock(&h->lock);
		n = lines_write(fs, h, data, size);
		pthread_mutex_unlock(&h->lock);
		return (int)n;
	default: return -EACCES;
	}
}

/*
 * close(2): commit what this handle wrote; the verdict is close's. A spec
 * emptied by O_TRUNC and never written is EINVAL, but submitted (with its
 * events line) only at release: a shell's `cat x > spec.yaml` closes the
 * fd it opened before cat writes through the dup'ed one.
 */
static int fs_flush(const char *path, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h = fh_of(fi);
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	if (h->mode == H_SPEC && h->dirty == DIRTY_TRUNCATED && !h->buf.len) {
		rc = -EINVAL;
	} else if (h->mode == H_SPEC && h->dirty) {
		h->dirty = 0;
		rc = spec_submit(fs, h->node.exp, h->buf.p ? h->buf.p : "",
				 h->buf.len);
	} else if (h->mode == H_LINES && h->pend.len) {
		rc = lines_submit(fs, &h->node, h->pend.p, h->pend.len);
		h->pend.len = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = fh_of(fi);

	/* `: > spec.yaml`: an empty spec, rejected with an events line */
	if (h->mode == H_SPEC && h->dirty == DIRTY_TRUNCATED && !h->buf.len)
		spec_submit(kfs(), h->node.exp, "", 0);
	handle_free(kfs(), h);
	return 0;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	return 0;
}

static int fs_getattr(const char *path, struct stat *sb,
		      struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h;
	struct node nd;
	int rc;

	if (!fi || !fi->fh) {
		rc = parse_path(path, &nd);
		return rc ? rc : node_getattr(fs, &nd, sb);
	}
	h = fh_of(fi);
	if (h->mode == H_SCRATCH) {
		memset(sb, 0, sizeof(*sb));
		sb->st_mode = S_IFREG | 0644;
		sb->st_nlink = h->sc->linked ? 1 : 0;
		sb->st_uid = fs->uid;
		sb->st_gid = fs->gid;
		sb->st_blksize = 4096;
		pthread_mutex_lock(&fs->scratch_lock);
		sb->st_size = (off_t)h->sc->data.len;
		fill_times(sb, &h->sc->mtime);
		pthread_mutex_unlock(&fs->scratch_lock);
		sb->st_blocks = (sb->st_size + 511) / 512;
		return 0;
	}
	rc = node_getattr(fs, &h->node, sb);
	if (rc)
		return rc;
	if (h->mode == H_RENDERED || h->mode == H_SPEC) {
		pthread_mutex_lock(&h->lock);
		sb->st_size = (off_t)h->buf.len;
		pthread_mutex_unlock(&h->lock);
		sb->st_blocks = (sb->st_size + 511) / 512;
	}
	return 0;
}

/*
 * truncate: on an open handle it edits the handle's buffer; by path, 0 on a
 * writable file is accepted and does nothing (the write that follows is
 * what counts), since an empty spec is never a spec.
 */
static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h;
	struct scratch *s;
	struct node nd;
	int rc;

	if ((rc = owner_only(fs)))
		return rc;
	if (fi && fi->fh) {
		h = fh_of(fi);
		if (h->mode == H_SCRATCH) {
			pthread_mutex_lock(&fs->scratch_lock);
			rc = kbuf_truncate(&h->sc->data, size, WRITE_MAX);
			clock_gettime(CLOCK_REALTIME, &h->sc->mtime);
			pthread_mutex_unlock(&fs->scratch_lock);
			return rc;
		}
		pthread_mutex_lock(&h->lock);
		if (h->mode == H_SPEC)
			rc = kbuf_truncate(&h->buf, size, WRITE_MAX);
		else if (h->mode == H_LINES)
			rc = size ? -EINVAL : 0;
		else
			rc = -EACCES;
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	rc = resolve(fs, path, &nd);
	if (rc)
		return rc;
	if (node_is_dir(&nd))
		return -EISDIR;
	if (nd.kind == NODE_SCRATCH) {
		pthread_mutex_lock(&fs->scratch_lock);
		s = scratch_find(fs, nd.exp, nd.name);
		rc = s ? kbuf_truncate(&s->data, size, WRITE_MAX) : -ENOENT;
		if (s)
			clock_gettime(CLOCK_REALTIME, &s->mtime);
		pthread_mutex_unlock(&fs->scratch_lock);
		return rc;
	}
	if (!kfile_writable(nd.f))
		return -EACCES;
	return size ? -EINVAL : 0;
}

/* ---- directories ---- */

static int fs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h;
	struct node nd;
	int rc;

	rc = resolve(fs, path, &nd);
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

static int fs_releasedir(const char *path, struct fuse_file_info *fi)
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

static int readdir_files(void *buf, fuse_fill_dir_t filler, int trial)
{
	int f, rc = 0;

	/* Every file the core names, so a new one appears by itself. */
	for (f = KFILE_NONE + 1; f < KFILE_SCAN_MAX && !rc; f++) {
		const char *name = kfile_name((enum kfile)f);

		if (!name)
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

	rc = readdir_files(buf, filler, 0);
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

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
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
	case NODE_TRIAL: return readdir_files(buf, filler, 1);
	default: return -ENOTDIR;
	}
}

static int fs_mkdir(const char *path, mode_t mode)
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

static int fs_rmdir(const char *path)
{
	struct katibfs *fs = kfs();
	struct kb_error err;
	struct node nd;
	int rc;

	rc = resolve(fs, path, &nd);
	if (rc)
		return rc;
	if (!node_is_dir(&nd))
		return -ENOTDIR;
	if ((rc = owner_only(fs)))
		return rc;
	if (nd.kind != NODE_EXP)
		return -EPERM;
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

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
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

static int fs_mknod(const char *path, mode_t mode, dev_t rdev)
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

static int fs_unlink(const char *path)
{
	struct katibfs *fs = kfs();
	struct scratch *s;
	struct node nd;
	int rc;

	rc = resolve(fs, path, &nd);
	if (rc)
		return rc;
	if (node_is_dir(&nd))
		return -EISDIR;
	if ((rc = owner_only(fs)))
		return rc;
	if (nd.kind != NODE_SCRATCH)
		return -EPERM;
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
		len = s->data.len;
		text = malloc(len + 1);
		if (text)
			memcpy(text, s->data.p ? s->data.p : "", len);
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

static int fs_rename(const char *from, const char *to, unsigned int flags)
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

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
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
	rc = resolve(fs, path, &nd);
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
static int fs_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
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

static int fs_utimens(const char *path, const struct timespec tv[2],
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
	rc = resolve(fs, path, &nd);
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
		kbuf_free(&s->data);
		free(s);
	}
	pthread_cond_destroy(&fs->ncond);
	pthread_mutex_destroy(&fs->nlock);
	pthread_mutex_destroy(&fs->scratch_lock);
	free(fs);
}
