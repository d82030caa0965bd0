/*
 * fuzz_collectors.c - libFuzzer harness for the TensorFlowEvent and
 * PrometheusMetric collectors' parsers.
 *
 * Input: byte 0 picks the mode, the rest is the data.
 *   mode 0: TFRecord stream: tfrecord_next() record after record, each
 *           whole record's data through tfevent_decode();
 *   mode 1: one serialized Event through tfevent_decode();
 *   mode 2: Prometheus text format through prom_parse();
 *   mode 3: a derived log through tfevent_reader_restore().
 * Checks: a record's size never runs past the input and is its data plus
 * 16 bytes; every scalar has a tag inside the input and a value that
 * reads back as a number; every sample's name and labels lie inside the
 * input and a name is non-empty.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/prometheus.h"
#include "collectors/tfevent.h"

struct bounds {
	const uint8_t *start, *end;
};

static void inside(const struct bounds *b, const void *p, size_t n)
{
	const uint8_t *q = p;

	if (n && (q < b->start || q + n > b->end))
		abort();
}

static void on_scalar(void *ctx, const struct tfevent_scalar *s)
{
	char *end;

	inside(ctx, s->tag, s->tag_len);
	if (!s->tag_len || !memchr(s->value, '\0', sizeof(s->value)))
		abort();
	strtod(s->value, &end);
	if (end == s->value || *end)
		abort(); /* a value that is not a number */
}

static void on_sample(void *ctx, const struct prom_sample *s)
{
	inside(ctx, s->name, s->name_len);
	inside(ctx, s->labels, s->labels_len);
	if (!s->name_len)
		abort();
}

static void records(const uint8_t *d, size_t n, struct bounds *b)
{
	const uint8_t *data;
	uint64_t len, size;
	enum tfrecord_status st;

	while (n) {
		st = tfrecord_next(d, n, &data, &len, &size);
		if (st == TFRECORD_PARTIAL || st == TFRECORD_BAD_LENGTH)
			return;
		if (size > n || size != len + 16)
			abort();
		if (st == TFRECORD_OK)
			tfevent_decode(data, len, on_scalar, b);
		d += size;
		n -= size;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounds b = { data + 1, data + size };
	struct tfevent_reader *r;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: records(data + 1, size - 1, &b); break;
	case 1: tfevent_decode(data + 1, size - 1, on_scalar, &b); break;
	case 2:
		prom_parse((const char *)data + 1, size - 1, on_sample, &b);
		break;
	case 3:
		r = tfevent_reader_new();
		if (r)
			tfevent_reader_restore(r, (const char *)data + 1,
					       size - 1);
		tfevent_reader_free(r);
		break;
	}
	return 0;
}
