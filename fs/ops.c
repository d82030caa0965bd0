/*
 * ops.c - the handlers of open files: open, read, write, flush, release,
 * getattr of an open file, truncate; and struct handle, what an open file
 * carries in fi->fh.
 *
 * Owns: struct handle, one per open file (handle_new(), handle_free()).
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

struct handle *fh_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

struct handle *handle_new(const struct node *nd, enum handle_mode m)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->node = *nd;
	h->mode = m;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void handle_free(struct katibfs *fs, struct handle *h)
{
	if (h->sc) {
		pthread_mutex_lock(&fs->scratch_lock);
		scratch_unref(h->sc);
		pthread_mutex_unlock(&fs->scratch_lock);
	}
	katib_text_free(h->text);
	strbuf_free(&h->buf);
	strbuf_free(&h->pend);
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
	strbuf_free(&h->buf);
	h->buf.data = text;
	h->buf.len = h->buf.cap = len;
	return 0;
}

/* A read-only open of a snapshot or immutable file: its text, fixed now. */
static int handle_snapshot(struct katibfs *fs, struct handle *h)
{
	return core_err(katib_open_text(
		fs->k, h->node.kind == NODE_README ? NULL : h->node.exp,
		h->node.trial, h->node.f, &h->text));
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
	case KFILE_QUEUE:
		rc = katib_write_queue(fs->k, nd->exp, text, len, &err);
		break;
	case KFILE_T_METRICS:
		rc = katib_push_metrics(fs->k, nd->exp, nd->trial, text, len,
					&err);
		break;
	default: rc = -EACCES; break;
	}
	return core_err(rc);
}

int spec_submit(struct katibfs *fs, const char *exp, const char *text,
		size_t len)
{
	struct kb_error err;

	kb_error_clear(&err);
	return core_err(katib_write_spec(fs->k, exp, text, len, &err));
}

int open_scratch(struct katibfs *fs, const struct node *nd,
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
			s->buf.len = 0;
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

/* Parse path for open and check that its node exists, except for a
 * read-only open of a snapshot or immutable file: katib_open_text finds
 * it gone itself, and the model lock is taken once per open, not twice. */
static int open_resolve(struct katibfs *fs, const char *path, int wr,
			struct node *nd)
{
	int rc = parse_path(path, nd);

	if (rc)
		return rc;
	if (!wr && (nd->kind == NODE_EXP_FILE || nd->kind == NODE_TRIAL_FILE) &&
	    kfile_class(nd->f) != KCLASS_STREAM)
		return 0;
	return node_check(fs, nd, NULL);
}

int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	int wr = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct handle *h;
	struct node nd;
	int rc;

	rc = open_resolve(fs, path, wr, &nd);
	if (rc)
		return rc;
	if (node_is_dir(&nd))
		return -EISDIR;
	if (wr && (rc = owner_only(fs)))
		return rc;
	/* a read-only open commits nothing at close (fs_flush): the kernel
	 * need not ask, one round trip less per open+read+close */
	fi->noflush = !wr;
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
		rc = handle_snapshot(fs, h);
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

int fs_read(const char *path, char *out, size_t size, off_t off,
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
		n = strbuf_pread(&h->sc->buf, out, size, off);
		pthread_mutex_unlock(&fs->scratch_lock);
		return (int)n;
	case H_RENDERED: /* fixed at open: no lock */
		return (int)katib_text_read(h->text, out, size, off);
	default:
		pthread_mutex_lock(&h->lock);
		n = strbuf_pread(&h->buf, out, size, off);
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

	n = strbuf_pwrite(&h->pend, data, size, (off_t)h->pend.len, WRITE_MAX);
	if (n < 0)
		return (int)n;
	nl = memrchr(h->pend.data, '\n', h->pend.len);
	if (!nl)
		return (int)n;
	done = (size_t)(nl - h->pend.data) + 1;
	rc = lines_submit(fs, &h->node, h->pend.data, done);
	memmove(h->pend.data, h->pend.data + done, h->pend.len - done);
	h->pend.len -= done;
	return rc ? rc : (int)n;
}

int fs_write(const char *path, const char *data, size_t size, off_t off,
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
			off = (off_t)h->sc->buf.len;
		n = strbuf_pwrite(&h->sc->buf, data, size, off, WRITE_MAX);
		clock_gettime(CLOCK_REALTIME, &h->sc->mtime);
		pthread_mutex_unlock(&fs->scratch_lock);
		return (int)n;
	case H_SPEC:
		pthread_mutex_lock(&h->lock);
		if (fi->flags & O_APPEND)
			off = (off_t)h->buf.len;
		n = strbuf_pwrite(&h->buf, data, size, off, WRITE_MAX);
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
int fs_flush(const char *path, struct fuse_file_info *fi)
{
	struct katibfs *fs = kfs();
	struct handle *h = fh_of(fi);
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	if (h->mode == H_SPEC && h->dirty == DIRTY_TRUNCATED && !h->buf.len) {
		rc = -EINVAL;
	} else if (h->mode == H_SPEC && h->dirty) {
		h->dirty = 0;
		rc = spec_submit(fs, h->node.exp,
				 h->buf.data ? h->buf.data : "", h->buf.len);
	} else if (h->mode == H_LINES && h->pend.len) {
		rc = lines_submit(fs, &h->node, h->pend.data, h->pend.len);
		h->pend.len = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = fh_of(fi);

	/* `: > spec.yaml`: an empty spec, rejected with an events line */
	if (h->mode == H_SPEC && h->dirty == DIRTY_TRUNCATED && !h->buf.len)
		spec_submit(kfs(), h->node.exp, "", 0);
	handle_free(kfs(), h);
	return 0;
}

int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	return 0;
}

int fs_getattr(const char *path, struct stat *sb, struct fuse_file_info *fi)
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
		sb->st_size = (off_t)h->sc->buf.len;
		stat_set_times(sb, &h->sc->mtime);
		pthread_mutex_unlock(&fs->scratch_lock);
		sb->st_blocks = (sb->st_size + 511) / 512;
		return 0;
	}
	if (h->mode == H_RENDERED) /* its size is the snapshot's: no render */
		return node_getattr_sized(fs, &h->node,
					  (off_t)katib_text_size(h->text), sb);
	rc = node_getattr(fs, &h->node, sb);
	if (rc)
		return rc;
	if (h->mode == H_SPEC) {
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
int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
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
			rc = strbuf_truncate(&h->sc->buf, size, WRITE_MAX);
			clock_gettime(CLOCK_REALTIME, &h->sc->mtime);
			pthread_mutex_unlock(&fs->scratch_lock);
			return rc;
		}
		pthread_mutex_lock(&h->lock);
		if (h->mode == H_SPEC)
			rc = strbuf_truncate(&h->buf, size, WRITE_MAX);
		else if (h->mode == H_LINES)
			rc = size ? -EINVAL : 0;
		else
			rc = -EACCES;
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	rc = node_resolve(fs, path, &nd);
	if (rc)
		return rc;
	if (node_is_dir(&nd))
		return -EISDIR;
	if (nd.kind == NODE_SCRATCH) {
		pthread_mutex_lock(&fs->scratch_lock);
		s = scratch_find(fs, nd.exp, nd.name);
		rc = s ? strbuf_truncate(&s->buf, size, WRITE_MAX) : -ENOENT;
		if (s)
			clock_gettime(CLOCK_REALTIME, &s->mtime);
		pthread_mutex_unlock(&fs->scratch_lock);
		return rc;
	}
	if (!kfile_writable(nd.f))
		return -EACCES;
	return size ? -EINVAL : 0;
}
