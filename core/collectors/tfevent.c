/*
 * tfevent.c - TensorBoard event files read from their format's definition
 * (TFRecord framing, protobuf wire format of tensorboard.Event, Summary,
 * Summary.Value, TensorProto and TensorShapeProto), no TensorFlow.
 *
 * Owns the reader's per-file offsets (struct tfevent_reader). See
 * tfevent.h for what a poll writes and how it survives a restart.
 */
#include "collectors/tfevent.h"
#include "collectors/metrics.h"
#include "util/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK	   (4u << 20)  /* bytes read from a file at a time */
#define MAX_RECORD (64u << 20) /* a larger record is skipped */
#define MAX_DEPTH  16	       /* directory levels walked */
#define MAX_REL	   4096

/* ---- CRC32C ---- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = 0xFFFFFFFFu;

	if (!crc_table[1])
		crc_init(); /* idempotent: racing threads write the same */
	while (len--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

uint32_t tfrecord_masked_crc(const void *data, size_t len)
{
	uint32_t c = crc32c(data, len);

	return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

enum tfrecord_status tfrecord_next(const uint8_t *buf, size_t len,
				   const uint8_t **data, uint64_t *data_len,
				   uint64_t *size)
{
	uint64_t n;

	*size = 0;
	*data_len = 0;
	if (len < 12)
		return TFRECORD_PARTIAL;
	if (le32(buf + 8) != tfrecord_masked_crc(buf, 8))
		return TFRECORD_BAD_LENGTH;
	n = le64(buf);
	*data_len = n;
	if (n > UINT64_MAX - 16)
		return TFRECORD_BAD_LENGTH;
	*size = n + 16;
	if (len < *size)
		return TFRECORD_PARTIAL;
	*data = buf + 12;
	if (le32(buf + 12 + n) != tfrecord_masked_crc(buf + 12, n))
		return TFRECORD_BAD_DATA;
	return TFRECORD_OK;
}

/* ---- protobuf wire format ---- */

struct pb {
	const uint8_t *p, *end;
};

struct pb_field {
	uint32_t num;
	int wire;	      /* 0 varint, 1 64-bit, 2 bytes, 5 32-bit */
	uint64_t v;	      /* varint, or the fixed bits */
	const uint8_t *bytes; /* wire 2 */
	size_t len;
};

static int pb_varint(struct pb *b, uint64_t *out)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64 && b->p < b->end; shift += 7) {
		uint8_t c = *b->p++;

		v |= (uint64_t)(c & 0x7F) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* The next field of b: 1, 0 at the end, or -EBADMSG. */
static int pb_next(struct pb *b, struct pb_field *f)
{
	uint64_t key, n;

	if (b->p >= b->end)
		return 0;
	if (pb_varint(b, &key) || key >> 3 == 0 || key >> 3 > UINT32_MAX)
		return -EBADMSG;
	f->num = (uint32_t)(key >> 3);
	f->wire = (int)(key & 7);
	f->bytes = NULL;
	f->len = 0;
	switch (f->wire) {
	case 0: return pb_varint(b, &f->v) ? -EBADMSG : 1;
	case 1:
		if (b->end - b->p < 8)
			return -EBADMSG;
		f->v = le64(b->p);
		b->p += 8;
		return 1;
	case 5:
		if (b->end - b->p < 4)
			return -EBADMSG;
		f->v = le32(b->p);
		b->p += 4;
		return 1;
	case 2:
		if (pb_varint(b, &n) || n > (uint64_t)(b->end - b->p))
			return -EBADMSG;
		f->bytes = b->p;
		f->len = (size_t)n;
		b->p += n;
		return 1;
	default: /* groups (3, 4) are not in these messages */ return -EBADMSG;
	}
}

static float bits_float(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static double bits_double(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/* numpy's str() of a float32: the shortest text that reads back as f. */
static void format_float32(float f, char *buf, size_t size)
{
	int prec;

	if (!isfinite(f)) {
		format_double((double)f, buf, size);
		return;
	}
	for (prec = 1; prec <= 9; prec++) {
		snprintf(buf, size, "%.*g", prec, (double)f);
		if (strtof(buf, NULL) == f)
			return;
	}
}

/* ---- TensorProto ---- */

enum { DT_FLOAT = 1, DT_DOUBLE = 2, DT_INT32 = 3, DT_INT64 = 9 };

struct tensor {
	uint64_t dtype;
	uint64_t elements; /* product of the shape's sizes (rank 0: 1) */
	int nvalues;	   /* values seen in the xxx_val fields */
	double value;	   /* the first of them */
	const uint8_t *content;
	size_t content_len;
};

static int shape_elements(const uint8_t *p, size_t len, uint64_t *out)
{
	struct pb b = { p, p + len }, d;
	struct pb_field f, g;
	int rc;

	*out = 1;
	while ((rc = pb_next(&b, &f)) > 0) {
		if (f.num != 2 || f.wire != 2) /* dim */
			continue;
		d.p = f.bytes;
		d.end = f.bytes + f.len;
		while ((rc = pb_next(&d, &g)) > 0)
			if (g.num == 1 && g.wire == 0) /* size */
				*out *= g.v;
		if (rc < 0)
			return rc;
	}
	return rc;
}

/* One element of a repeated numeric field, packed or not. */
static void tensor_take(struct tensor *t, const struct pb_field *f, int kind)
{
	struct pb b = { NULL, NULL };
	uint64_t v;

	if (f->wire != 2) { /* unpacked: one value */
		v = f->v;
	} else if (kind == 'f') {
		if (f->len < 4)
			return;
		v = le32(f->bytes);
		t->nvalues += (int)(f->len / 4) - 1;
	} else if (kind == 'd') {
		if (f->len < 8)
			return;
		v = le64(f->bytes);
		t->nvalues += (int)(f->len / 8) - 1;
	} else {
		b.p = f->bytes;
		b.end = f->bytes + f->len;
		if (pb_varint(&b, &v))
			return;
		while (b.p < b.end && !pb_varint(&b, &(uint64_t){ 0 }))
			t->nvalues++;
	}
	if (t->nvalues++ > 0)
		return;
	t->value = kind == 'f'	 ? (double)bits_float((uint32_t)v)
		   : kind == 'd' ? bits_double(v)
		   : kind == 'i' ? (double)(int32_t)v
				 : (double)(int64_t)v;
}

static int tensor_parse(const uint8_t *p, size_t len, struct tensor *t)
{
	struct pb b = { p, p + len };
	struct pb_field f;
	int rc;

	memset(t, 0, sizeof(*t));
	t->elements = 1;
	while ((rc = pb_next(&b, &f)) > 0) {
		if (f.num == 1 && f.wire == 0)
			t->dtype = f.v;
		else if (f.num == 2 && f.wire == 2)
			rc = shape_elements(f.bytes, f.len, &t->elements);
		else if (f.num == 4 && f.wire == 2) {
			t->content = f.bytes;
			t->content_len = f.len;
		} else if (f.num == 5)
			tensor_take(t, &f, 'f');
		else if (f.num == 6)
			tensor_take(t, &f, 'd');
		else if (f.num == 7)
			tensor_take(t, &f, 'i');
		else if (f.num == 10)
			tensor_take(t, &f, 'l');
		if (rc < 0)
			return rc;
	}
	return rc;
}

/* The text of a one-element numeric tensor, or 0 when it is not one. */
static int tensor_scalar(const struct tensor *t, char *buf, size_t size)
{
	size_t width = t->dtype == DT_FLOAT || t->dtype == DT_INT32 ? 4 : 8;
	uint64_t raw;
	double v = t->value;

	if (t->elements != 1 ||
	    (t->dtype != DT_FLOAT && t->dtype != DT_DOUBLE &&
	     t->dtype != DT_INT32 && t->dtype != DT_INT64))
		return 0;
	if (t->content) {
		if (t->content_len != width)
			return 0;
		raw = width == 4 ? le32(t->content) : le64(t->content);
		v = t->dtype == DT_FLOAT    ? (double)bits_float((uint32_t)raw)
		    : t->dtype == DT_DOUBLE ? bits_double(raw)
		    : t->dtype == DT_INT32  ? (double)(int32_t)raw
					    : (double)(int64_t)raw;
	} else if (t->nvalues < 1) {
		v = 0; /* proto3: every value its default */
	}
	if (t->dtype == DT_FLOAT)
		format_float32((float)v, buf, size);
	else if (t->dtype == DT_DOUBLE)
		format_double(v, buf, size);
	else
		snprintf(buf, size, "%.0f", v);
	return 1;
}

/* ---- Event, Summary, Value ---- */

static int value_decode(const uint8_t *p, size_t len, struct tfevent_scalar *s)
{
	struct pb b = { p, p + len };
	struct pb_field f;
	struct tensor t;
	int rc, found = 0;

	s->tag = "";
	s->tag_len = 0;
	while ((rc = pb_next(&b, &f)) > 0) {
		if (f.num == 1 && f.wire == 2) {
			s->tag = (const char *)f.bytes;
			s->tag_len = f.len;
		} else if (f.num == 2 && f.wire == 5) { /* simple_value */
			/* Python's str(float) of the float32 */
			format_double((double)bits_float((uint32_t)f.v),
				      s->value, sizeof(s->value));
			found = 1;
		} else if (f.num == 8 && f.wire == 2) { /* tensor */
			if (tensor_parse(f.bytes, f.len, &t))
				return -EBADMSG;
			found = tensor_scalar(&t, s->value, sizeof(s->value));
		}
	}
	return rc < 0 ? rc : found;
}

static int summary_decode(const uint8_t *p, size_t len,
			  struct tfevent_scalar *s, tfevent_scalar_fn fn,
			  void *ctx)
{
	struct pb b = { p, p + len };
	struct pb_field f;
	int rc;

	while ((rc = pb_next(&b, &f)) > 0) {
		if (f.num != 1 || f.wire != 2)
			continue;
		rc = value_decode(f.bytes, f.len, s);
		if (rc < 0)
			return rc;
		if (rc > 0 && s->tag_len)
			fn(ctx, s);
	}
	return rc;
}

int tfevent_decode(const uint8_t *data, size_t len, tfevent_scalar_fn fn,
		   void *ctx)
{
	struct pb b = { data, data + len };
	struct tfevent_scalar s = { 0 };
	const uint8_t *summary = NULL;
	size_t summary_len = 0;
	struct pb_field f;
	int rc;

	/* wall_time and step may come after the summary: find them first */
	while ((rc = pb_next(&b, &f)) > 0) {
		if (f.num == 1 && f.wire == 1)
			s.wall_time = bits_double(f.v);
		else if (f.num == 2 && f.wire == 0)
			s.step = (int64_t)f.v;
		else if (f.num == 5 && f.wire == 2) {
			summary = f.bytes;
			summary_len = f.len;
		}
	}
	if (rc < 0)
		return -EBADMSG;
	if (!summary)
		return 0;
	return summary_decode(summary, summary_len, &s, fn, ctx) < 0 ? -EBADMSG
								     : 0;
}

/* ---- Katib's naming rule ---- */

static int ends_with(const char *s, const char *suffix, size_t n)
{
	size_t len = strlen(s);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

int tfevent_metric_matches(const char *metric, const char *tag, size_t tag_len,
			   const char *file_dir)
{
	const char *slash = strrchr(metric, '/');
	const char *base = slash ? slash + 1 : metric;
	size_t n = strlen(base);

	if (tag_len < n || memcmp(tag, base, n))
		return 0;
	/* Python's os.path.dirname("a/b") is "a"; "a//b" gives "a/" */
	return !slash || ends_with(file_dir, metric, (size_t)(slash - metric));
}

/* ---- the directory reader ---- */

struct tf_file {
	char *rel;
	uint64_t off;
	int dead; /* the rest of the file cannot be read */
};

struct tfevent_reader {
	struct tf_file *files;
	size_t n, cap;
};

struct tfevent_reader *tfevent_reader_new(void)
{
	return calloc(1, sizeof(struct tfevent_reader));
}

void tfevent_reader_free(struct tfevent_reader *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->files[i].rel);
	free(r->files);
	free(r);
}

static struct tf_file *reader_file(struct tfevent_reader *r, const char *rel)
{
	struct tf_file *f;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->files[i].rel, rel))
			return &r->files[i];
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;

		f = realloc(r->files, cap * sizeof(*f));
		if (!f)
			return NULL;
		r->files = f;
		r->cap = cap;
	}
	f = &r->files[r->n];
	f->rel = strdup(rel);
	if (!f->rel)
		return NULL;
	f->off = 0;
	f->dead = 0;
	r->n++;
	return f;
}

int tfevent_reader_restore(struct tfevent_reader *r, const char *text,
			   size_t len)
{
	const size_t plen = strlen(TFEVENT_STATE_PREFIX);
	const char *p = text, *end = text + len, *nl;
	char line[MAX_REL + 64], rel[MAX_REL];
	unsigned long long off;
	struct tf_file *f;
	int dead, used;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* never written whole: not a state */
		if ((size_t)(nl - p) <= plen ||
		    (size_t)(nl - p) >= sizeof(line) ||
		    memcmp(p, TFEVENT_STATE_PREFIX, plen))
			continue;
		memcpy(line, p + plen, (size_t)(nl - p) - plen);
		line[(nl - p) - plen] = '\0';
		if (sscanf(line, "%llu %d %n", &off, &dead, &used) != 2 ||
		    !line[used])
			continue;
		snprintf(rel, sizeof(rel), "%s", line + used);
		f = reader_file(r, rel);
		if (!f)
			return -ENOMEM;
		f->off = off;
		f->dead = dead;
	}
	return 0;
}

/* What one poll of one file needs. */
struct poll_ctx {
	char *const *metrics;
	size_t n;
	const char *file_dir; /* the file's directory as the trial sees it */
	struct strbuf *out;
	tfevent_problem_fn problem;
	void *ctx;
	const char *rel;
};

static void take_scalar(void *arg, const struct tfevent_scalar *s)
{
	struct poll_ctx *c = arg;
	char ts[64];
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!tfevent_metric_matches(c->metrics[i], s->tag, s->tag_len,
					    c->file_dir))
			continue;
		format_rfc3339(s->wall_time, ts, sizeof(ts));
		strbuf_printf(c->out, "%s %s=%s\n", ts, c->metrics[i],
			      s->value);
	}
}

static void problem(struct poll_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct poll_ctx *c, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->problem)
		c->problem(c->ctx, c->rel, what);
}

/*
 * Take the records in buf[0..len), which starts at file offset `at`.
 * Returns the bytes used; *stop set when the file can be read no further
 * (a bad length) or more bytes are needed (*need: the whole record).
 */
static size_t take_records(struct poll_ctx *c, const uint8_t *buf, size_t len,
			   uint64_t at, struct tf_file *f, uint64_t *need)
{
	const uint8_t *data;
	uint64_t dlen, size;
	size_t pos = 0;

	*need = 0;
	while (pos < len) {
		switch (tfrecord_next(buf + pos, len - pos, &data, &dlen,
				      &size)) {
		case TFRECORD_OK:
			if (tfevent_decode(data, dlen, take_scalar, c))
				problem(c,
					"the record at offset %" PRIu64
					" is not a TensorFlow Event; skipped",
					at + pos);
			break;
		case TFRECORD_BAD_DATA:
			problem(c,
				"the record at offset %" PRIu64 " (%" PRIu64
				" bytes) fails its CRC32C "
				"check; skipped",
				at + pos, dlen);
			break;
		case TFRECORD_BAD_LENGTH:
			problem(c,
				"%s at offset %" PRIu64
				" (its length fails its CRC32C check); "
				"the rest of the file is not read",
				at + pos ? "corrupt record"
					 : "not a TFRecord event file",
				at + pos);
			f->dead = 1;
			return pos;
		case TFRECORD_PARTIAL: *need = size; return pos;
		}
		pos += (size_t)size;
	}
	return pos;
}

/* A record too large to hold: skipped unread, once it is all there. */
static int skip_huge(struct poll_ctx *c, struct tf_file *f, uint64_t need,
		     uint64_t file_size)
{
	if (f->off + need > file_size)
		return 0;
	problem(c,
		"the record at offset %" PRIu64 " is %" PRIu64
		" bytes, more than katibfs reads (%u); skipped",
		f->off, need, MAX_RECORD);
	f->off += need;
	return 1;
}

static int poll_file(struct poll_ctx *c, struct tf_file *f, int fd,
		     uint64_t size, int final)
{
	uint64_t need = 0, used;
	uint8_t *buf = NULL;
	size_t want;
	ssize_t got;

	while (!f->dead && f->off < size) {
		want = (size_t)(size - f->off < CHUNK ? size - f->off : CHUNK);
		if (need > MAX_RECORD) {
			if (!skip_huge(c, f, need, size))
				break; /* not all there yet */
			need = 0;
			continue;
		}
		if (need > want && f->off + need <= size)
			want = (size_t)need;
		else if (need > want)
			break; /* the record is still being written */
		free(buf);
		buf = malloc(want);
		if (!buf)
			return -ENOMEM;
		got = pread(fd, buf, want, (off_t)f->off);
		if (got <= 0)
			break;
		used = take_records(c, buf, (size_t)got, f->off, f, &need);
		f->off += used;
		if (!used && (!need || need <= (uint64_t)got))
			break;
	}
	free(buf);
	if (final && !f->dead && f->off < size) {
		problem(c,
			"truncated: the last %" PRIu64 " bytes (from offset "
			"%" PRIu64 ") are not a whole record, and the trial "
			"has ended",
			size - f->off, f->off);
		f->dead = 1;
	}
	return 0;
}

struct walk {
	struct tfevent_reader *r;
	struct poll_ctx c;
	const char *root, *shown;
	int final;
	int rc;
};

static void visit_file(struct walk *w, const char *rel, uint64_t size)
{
	char path[MAX_REL * 2], dir[MAX_REL * 2];
	struct tf_file *f = reader_file(w->r, rel);
	const char *slash = strrchr(rel, '/');
	uint64_t off;
	int fd, dead;

	if (!f) {
		w->rc = -ENOMEM;
		return;
	}
	if (f->dead || (f->off == size && !w->final))
		return;
	off = f->off;
	dead = f->dead;
	if (size < f->off) {
		w->c.rel = rel;
		problem(&w->c,
			"shrank from %" PRIu64 " to %" PRIu64
			" bytes (rewritten?); it is no longer read",
			f->off, size);
		f->dead = 1;
	} else {
		snprintf(path, sizeof(path), "%s/%s", w->root, rel);
		snprintf(dir, sizeof(dir), "%s%s%.*s", w->shown,
			 slash ? "/" : "", slash ? (int)(slash - rel) : 0, rel);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		w->c.file_dir = dir;
		w->c.rel = rel;
		if (poll_file(&w->c, f, fd, size, w->final))
			w->rc = -ENOMEM;
		close(fd);
	}
	if (f->off != off || f->dead != dead)
		strbuf_printf(w->c.out,
			      TFEVENT_STATE_PREFIX "%" PRIu64 " %d %s\n",
			      f->off, f->dead, rel);
}

static void walk_dir(struct walk *w, const char *rel, int depth)
{
	char path[MAX_REL * 2], sub[MAX_REL];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", w->root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && !w->rc) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
			     de->d_name) >= (int)sizeof(sub) ||
		    strchr(de->d_name, '\n'))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
			walk_dir(w, sub, depth + 1);
		else if (S_ISREG(st.st_mode))
			visit_file(w, sub, (uint64_t)st.st_size);
	}
	closedir(d);
}

int tfevent_reader_poll(struct tfevent_reader *r, const char *dir,
			const char *shown_dir, char *const *metrics, size_t n,
			int final, struct strbuf *out,
			tfevent_problem_fn problem_fn, void *ctx)
{
	struct walk w = { 0 };

	w.r = r;
	w.root = dir;
	w.shown = shown_dir ? shown_dir : dir;
	w.final = final;
	w.c.metrics = metrics;
	w.c.n = n;
	w.c.out = out;
	w.c.problem = problem_fn;
	w.c.ctx = ctx;
	walk_dir(&w, "", 0);
	return w.rc ? w.rc : out->oom ? -ENOMEM : 0;
}
