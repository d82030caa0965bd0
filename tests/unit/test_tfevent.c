/*
 * test_tfevent.c - the TensorFlowEvent reader (core/collectors/tfevent.c):
 * CRC32C, TFRecord framing, the Event/Summary/Value/TensorProto wire
 * format (TF1 simple_value and TF2 scalar tensors), Katib's naming rule,
 * and the directory reader: records taken once each, a record still being
 * written taken once complete, corrupt and truncated records reported and
 * skipped, offsets rebuilt from the derived log after a restart.
 *
 * The event files are written here by a writer of our own (pb_* and
 * record()), from the format's definition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/tfevent.h"

/* ---- a writer ---- */

struct buf {
	uint8_t d[4096];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void varint(struct buf *b, uint64_t v)
{
	uint8_t c;

	do {
		c = v & 0x7F;
		v >>= 7;
		if (v)
			c |= 0x80;
		put(b, &c, 1);
	} while (v);
}

static void key(struct buf *b, int num, int wire)
{
	varint(b, (uint64_t)num << 3 | (uint64_t)wire);
}

static void fixed64(struct buf *b, int num, double v)
{
	key(b, num, 1);
	put(b, &v, 8); /* little-endian host */
}

static void fixed32f(struct buf *b, int num, float v)
{
	key(b, num, 5);
	put(b, &v, 4);
}

static void bytes(struct buf *b, int num, const void *p, size_t n)
{
	key(b, num, 2);
	varint(b, n);
	put(b, p, n);
}

/* Event{wall_time, step, summary{value{tag, <value>}}} with the value's
 * own bytes given (field 2 simple_value or 8 tensor). */
static void event(struct buf *out, double wall, int64_t step, const char *tag,
		  const struct buf *value)
{
	struct buf v = { 0 }, s = { 0 };

	bytes(&v, 1, tag, strlen(tag));
	put(&v, value->d, value->n);
	bytes(&s, 1, v.d, v.n);
	fixed64(out, 1, wall);
	key(out, 2, 0);
	varint(out, (uint64_t)step);
	bytes(out, 5, s.d, s.n);
}

static void simple_event(struct buf *out, double wall, int64_t step,
			 const char *tag, float value)
{
	struct buf v = { 0 };

	fixed32f(&v, 2, value);
	event(out, wall, step, tag, &v);
}

/* TensorProto{dtype, tensor_shape{}, body} as Value.tensor */
static void tensor_event(struct buf *out, double wall, const char *tag,
			 int dtype, const struct buf *body, int dims)
{
	struct buf t = { 0 }, v = { 0 }, shape = { 0 }, dim = { 0 };

	key(&t, 1, 0);
	varint(&t, (uint64_t)dtype);
	if (dims) {
		key(&dim, 1, 0);
		varint(&dim, (uint64_t)dims);
		bytes(&shape, 2, dim.d, dim.n);
	}
	bytes(&t, 2, shape.d, shape.n);
	put(&t, body->d, body->n);
	bytes(&v, 8, t.d, t.n);
	event(out, wall, 1, tag, &v);
}

/* The TFRecord framing of data. */
static void record(struct buf *out, const struct buf *data)
{
	uint64_t len = data->n;
	uint32_t c = tfrecord_masked_crc(&len, 8);

	put(out, &len, 8);
	put(out, &c, 4);
	put(out, data->d, data->n);
	c = tfrecord_masked_crc(data->d, data->n);
	put(out, &c, 4);
}

/* ---- decoding ---- */

struct seen {
	char tag[64][32];
	char value[64][48];
	double wall[64];
	int n;
};

static void collect(void *ctx, const struct tfevent_scalar *s)
{
	struct seen *w = ctx;

	assert_true(w->n < 64);
	snprintf(w->tag[w->n], sizeof(w->tag[0]), "%.*s", (int)s->tag_len,
		 s->tag);
	snprintf(w->value[w->n], sizeof(w->value[0]), "%s", s->value);
	w->wall[w->n] = s->wall_time;
	w->n++;
}

static void test_crc32c(void **state)
{
	(void)state;
	/* the check value of CRC-32C */
	assert_int_equal(crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c("", 0), 0);
}

static void test_simple_value(void **state)
{
	struct buf e = { 0 };
	struct seen w = { 0 };

	(void)state;
	simple_event(&e, 1700000000.5, 3, "accuracy", 0.9f);
	assert_int_equal(tfevent_decode(e.d, e.n, collect, &w), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.tag[0], "accuracy");
	/* as Katib: Python's str() of the float32 as a double */
	assert_string_equal(w.value[0], "0.8999999761581421");
	assert_true(w.wall[0] == 1700000000.5);
}

static void test_tensors(void **state)
{
	struct buf e = { 0 }, body = { 0 }, packed = { 0 };
	struct seen w = { 0 };
	float f = 0.25f, two[2] = { 1, 2 };
	double d = 0.1;
	int64_t i = 42;

	(void)state;
	/* float_val, packed */
	put(&packed, &(float){ 0.9f }, 4);
	bytes(&body, 5, packed.d, packed.n);
	tensor_event(&e, 1, "loss", 1, &body, 0);
	assert_int_equal(tfevent_decode(e.d, e.n, collect, &w), 0);
	/* double_val */
	memset(&e, 0, sizeof(e));
	memset(&body, 0, sizeof(body));
	bytes(&body, 6, &d, 8);
	tensor_event(&e, 1, "d", 2, &body, 0);
	assert_int_equal(tfevent_decode(e.d, e.n, collect, &w), 0);
	/* tensor_content, the TF2 writer's usual form */
	memset(&e, 0, sizeof(e));
	memset(&body, 0, sizeof(body));
	bytes(&body, 4, &f, 4);
	tensor_event(&e, 1, "c", 1, &body, 0);
	assert_int_equal(tfevent_decode(e.d, e.n, collect, &w), 0);
	/* int64_val */
	memset(&e, 0, sizeof(e));
	memset(&body, 0, sizeof(body));
	packed.n = 0;
	varint(&packed, (uint64_t)i);
	bytes(&body, 10, packed.d, packed.n);
	tensor_event(&e, 1, "i", 9, &body, 0);
	assert_int_equal(tfevent_decode(e.d, e.n, collect, &w), 0);
	/* a vector of two is not a scalar: skipped */
	memset(&e, 0, sizeof(e));
	memset(&body, 0, sizeof(body));
	bytes(&body, 4, two, 8);
	tensor_event(&e, 1, "v", 1, &body, 2);
	assert_int_equal(tfevent_decode(e.d, e.n, collect, &w), 0);
	assert_int_equal(w.n, 4);
	assert_string_equal(w.value[0], "0.9"); /* numpy's str of float32 */
	assert_string_equal(w.value[1], "0.1");
	assert_string_equal(w.value[2], "0.25");
	assert_string_equal(w.value[3], "42");
}

static void test_malformed(void **state)
{
	struct buf e = { 0 };
	struct seen w = { 0 };
	uint8_t junk[] = { 0x0A, 0x7F, 0x01 }; /* a length past the end */

	(void)state;
	assert_int_equal(tfevent_decode(junk, sizeof(junk), collect, &w),
			 -EBADMSG);
	simple_event(&e, 1, 1, "x", 1);
	assert_int_equal(tfevent_decode(e.d, e.n - 2, collect, &w), -EBADMSG);
	assert_int_equal(w.n, 0);
	/* file_version only (the first event of every file): nothing */
	memset(&e, 0, sizeof(e));
	fixed64(&e, 1, 5);
	bytes(&e, 3, "brain.Event:2", 13);
	assert_int_equal(tfevent_decode(e.d, e.n, collect, &w), 0);
	assert_int_equal(w.n, 0);
}

static void test_framing(void **state)
{
	struct buf e = { 0 }, r = { 0 };
	const uint8_t *data;
	uint64_t len, size;

	(void)state;
	simple_event(&e, 1, 1, "x", 1);
	record(&r, &e);
	assert_int_equal(tfrecord_next(r.d, r.n, &data, &len, &size),
			 TFRECORD_OK);
	assert_int_equal(len, e.n);
	assert_int_equal(size, r.n);
	assert_int_equal(tfrecord_next(r.d, r.n - 1, &data, &len, &size),
			 TFRECORD_PARTIAL);
	assert_int_equal(tfrecord_next(r.d, 11, &data, &len, &size),
			 TFRECORD_PARTIAL);
	r.d[r.n - 1] ^= 1;
	assert_int_equal(tfrecord_next(r.d, r.n, &data, &len, &size),
			 TFRECORD_BAD_DATA);
	assert_int_equal(size, r.n);
	r.d[9] ^= 1;
	assert_int_equal(tfrecord_next(r.d, r.n, &data, &len, &size),
			 TFRECORD_BAD_LENGTH);
}

static void test_naming(void **state)
{
	(void)state;
	/* a bare name: tags that start with it, in any directory */
	assert_true(tfevent_metric_matches("accuracy", "accuracy", 8, "/x"));
	assert_true(tfevent_metric_matches("accuracy", "accuracy_1", 10, "/"));
	assert_false(tfevent_metric_matches("accuracy", "acc", 3, "/x"));
	assert_false(tfevent_metric_matches("accuracy", "loss", 4, "/x"));
	/* dir/name: the file's directory ends with dir */
	assert_true(tfevent_metric_matches("train/accuracy", "accuracy", 8,
					   "/var/log/katib/tfevent/train"));
	assert_false(tfevent_metric_matches("train/accuracy", "accuracy", 8,
					    "/var/log/katib/tfevent/test"));
	assert_true(tfevent_metric_matches("a/b/loss", "loss", 4, "/t/a/b"));
}

/* ---- the directory reader ---- */

struct problems {
	char what[8][512];
	int n;
};

static void on_problem(void *ctx, const char *file, const char *what)
{
	struct problems *p = ctx;

	assert_true(p->n < 8);
	snprintf(p->what[p->n++], sizeof(p->what[0]), "%s: %s", file, what);
}

static char root[256];
static struct strbuf written; /* every poll's output, as the derived log */

static int setup_dir(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_tfevent.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];

	(void)state;
	strbuf_free(&written);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void append_file(const char *rel, const void *p, size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void poll(struct tfevent_reader *r, int final, struct strbuf *out,
		 struct problems *p)
{
	char *metrics[] = { "train/accuracy", "loss" };

	assert_int_equal(tfevent_reader_poll(r, root, "/var/log/tf", metrics, 2,
					     final, out, on_problem, p),
			 0);
	if (out->len)
		strbuf_append(&written, out->data, out->len);
}

static void test_reader(void **state)
{
	struct buf e1 = { 0 }, e2 = { 0 }, e3 = { 0 }, r = { 0 }, bad = { 0 };
	struct tfevent_reader *rd = tfevent_reader_new(), *again;
	struct strbuf out = { 0 };
	struct problems p = { 0 };
	char dir[300];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/train", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	simple_event(&e1, 1700000000, 1, "accuracy", 0.5f);
	simple_event(&e2, 1700000001, 2, "loss", 2.0f);
	simple_event(&e3, 1700000002, 3, "accuracy", 0.75f);
	/* two whole records and the first 10 bytes of a third */
	record(&r, &e1);
	record(&r, &e2);
	record(&r, &e3);
	append_file("train/events.out.tfevents.1", r.d, r.n - e3.n - 6);
	poll(rd, 0, &out, &p);
	assert_int_equal(count(out.data, "train/accuracy=0.5\n"), 1);
	assert_int_equal(count(out.data, "loss=2\n"), 1);
	assert_int_equal(count(out.data, "=0.75"), 0);
	assert_int_equal(p.n, 0);
	/* nothing new: nothing written */
	strbuf_free(&out);
	poll(rd, 0, &out, &p);
	assert_int_equal(out.len, 0);
	/* the rest of the torn record: taken once */
	append_file("train/events.out.tfevents.1", r.d + r.n - e3.n - 6,
		    e3.n + 6);
	poll(rd, 0, &out, &p);
	assert_int_equal(count(out.data, "train/accuracy=0.75\n"), 1);
	assert_int_equal(count(out.data, "=0.5\n"), 0);
	/* a record whose data fails its CRC, then a good one: the bad one
	 * is skipped with a problem, the good one taken */
	record(&bad, &e1);
	bad.d[14] ^= 0x40;
	record(&bad, &e2);
	append_file("train/events.out.tfevents.1", bad.d, bad.n);
	strbuf_free(&out);
	poll(rd, 0, &out, &p);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.what[0], "train/events.out.tfevents.1"));
	assert_non_null(strstr(p.what[0], "CRC32C"));
	assert_int_equal(count(out.data, "loss=2\n"), 1);
	assert_int_equal(count(out.data, "accuracy"), 0);
	/* in another directory: loss counts, train/accuracy does not */
	append_file("events.out.tfevents.2", r.d, r.n);
	strbuf_free(&out);
	poll(rd, 0, &out, &p);
	assert_int_equal(count(out.data, "loss=2\n"), 1);
	assert_int_equal(count(out.data, "accuracy"), 0);
	/* a file that ends in the middle of a record when the trial ended */
	append_file("events.out.tfevents.2", r.d, 20);
	strbuf_free(&out);
	poll(rd, 1, &out, &p);
	assert_int_equal(p.n, 2);
	assert_non_null(strstr(p.what[1], "truncated"));

	/* a reader rebuilt from everything written takes nothing again */
	again = tfevent_reader_new();
	assert_int_equal(
		tfevent_reader_restore(again, written.data, written.len), 0);
	strbuf_free(&out);
	poll(again, 1, &out, &p);
	assert_int_equal(out.len, 0);
	assert_int_equal(p.n, 2);
	tfevent_reader_free(again);
	strbuf_free(&out);
	tfevent_reader_free(rd);
}

static void test_restore(void **state)
{
	struct buf e1 = { 0 }, r = { 0 };
	struct tfevent_reader *rd = tfevent_reader_new(), *again;
	struct strbuf log = { 0 }, out = { 0 };
	struct problems p = { 0 };

	(void)state;
	simple_event(&e1, 1700000000, 1, "loss", 0.5f);
	record(&r, &e1);
	append_file("events.out.tfevents.3", r.d, r.n);
	poll(rd, 0, &log, &p);
	assert_int_equal(count(log.data, "loss=0.5\n"), 1);
	/* a restart: a new reader from the derived log */
	again = tfevent_reader_new();
	assert_int_equal(tfevent_reader_restore(again, log.data, log.len), 0);
	append_file("events.out.tfevents.3", r.d, r.n);
	poll(again, 0, &out, &p);
	assert_int_equal(count(out.data, "loss=0.5\n"), 1); /* the new one */
	assert_int_equal(p.n, 0);
	strbuf_free(&out);
	strbuf_free(&log);
	tfevent_reader_free(again);
	tfevent_reader_free(rd);
}

static void test_not_an_event_file(void **state)
{
	struct tfevent_reader *rd = tfevent_reader_new();
	struct strbuf out = { 0 };
	struct problems p = { 0 };
	const char text[] = "checkpoint: model.ckpt-100\n";

	(void)state;
	append_file("checkpoint", text, sizeof(text) - 1);
	poll(rd, 0, &out, &p);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.what[0], "not a TFRecord"));
	strbuf_free(&out);
	poll(rd, 1, &out, &p); /* once only */
	assert_int_equal(p.n, 1);
	strbuf_free(&out);
	tfevent_reader_free(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_simple_value),
		cmocka_unit_test(test_tensors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_naming),
		cmocka_unit_test_setup_teardown(test_reader, setup_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_restore, setup_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_not_an_event_file,
						setup_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
