/*
 * tfevent.h - the TensorFlowEvent collector: scalars from TensorBoard event
 * files, read without TensorFlow (core/collectors/tfevent.c).
 *
 * An event file is a TFRecord stream: each record is a little-endian
 * uint64 length, the masked CRC32C of those 8 bytes, the data, and the
 * masked CRC32C of the data. Each record's data is a serialized
 * tensorboard.Event (protobuf); its Summary's Values carry either a TF1
 * `simple_value` (float) or a TF2 scalar TensorProto (float_val,
 * double_val, int_val, int64_val or tensor_content).
 *
 * A struct tfevent_reader follows one directory tree (Katib's tfevent
 * collector walks it recursively and reads every file) and remembers, per
 * file, the offset up to which records were taken. A poll appends, to a
 * strbuf, one line "RFC3339 metric=value" per wanted metric observed and a
 * state line "# tfevent-offset OFFSET DEAD RELPATH" per file that moved;
 * the collector writes both to the trial's derived log in one write, so a
 * reader rebuilt from that log after a restart (tfevent_reader_restore)
 * takes every record once. Owns its file list (tfevent_reader_free).
 */
#ifndef KATIB_TFEVENT_H
#define KATIB_TFEVENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define TFEVENT_STATE_PREFIX "# tfevent-offset "

/* CRC32C (Castagnoli) and TFRecord's masked form of it. */
uint32_t crc32c(const void *data, size_t len);
uint32_t tfrecord_masked_crc(const void *data, size_t len);

enum tfrecord_status {
	TFRECORD_OK,	     /* a whole record with good checksums */
	TFRECORD_PARTIAL,    /* not all of it is there yet */
	TFRECORD_BAD_LENGTH, /* the length's checksum is wrong */
	TFRECORD_BAD_DATA,   /* the data's checksum is wrong (size known) */
};

/*
 * The record at the start of buf[0..len): its data and, unless
 * BAD_LENGTH or PARTIAL, its whole size (12 + data + 4) in *size.
 */
enum tfrecord_status tfrecord_next(const uint8_t *buf, size_t len,
				   const uint8_t **data, uint64_t *data_len,
				   uint64_t *size);

/* One scalar of an Event. */
struct tfevent_scalar {
	const char *tag; /* not NUL-terminated */
	size_t tag_len;
	double wall_time; /* seconds since the epoch */
	int64_t step;
	char value[48]; /* as Katib writes it: shortest round-trip text */
};

typedef void (*tfevent_scalar_fn)(void *ctx, const struct tfevent_scalar *s);

/*
 * Decode one serialized Event and call fn for each scalar value in its
 * summary (simple_value, or a one-element numeric tensor). 0, or -EBADMSG
 * when the bytes are not a well-formed Event.
 */
int tfevent_decode(const uint8_t *data, size_t len, tfevent_scalar_fn fn,
		   void *ctx);

/*
 * Katib's rule (tfevent_loader.py _should_consider): metric "b" takes the
 * tags that start with "b"; metric "a/b" takes the tags that start with
 * "b" in files whose directory path ends with "a".
 */
int tfevent_metric_matches(const char *metric, const char *tag, size_t tag_len,
			   const char *file_dir);

struct tfevent_reader;

/* A problem for the trial's events: file (relative path), what. */
typedef void (*tfevent_problem_fn)(void *ctx, const char *file,
				   const char *what);

struct tfevent_reader *tfevent_reader_new(void);
void tfevent_reader_free(struct tfevent_reader *r);

/* Take the state lines of a derived log written by earlier polls. */
int tfevent_reader_restore(struct tfevent_reader *r, const char *text,
			   size_t len);

/*
 * Read what is new under dir (recursively) and append the lines for
 * metrics[0..n) to out. shown_dir is where the trial sees dir (its
 * spec's path), for Katib's rule on a metric's directory (NULL: dir). `final`
 * (the trial ended): a record left incomplete at the end of a file is reported
 * as truncated. Corrupt records are skipped and reported through problem. 0 or
 * -ENOMEM; a missing dir is not an error (nothing written yet).
 */
int tfevent_reader_poll(struct tfevent_reader *r, const char *dir,
			const char *shown_dir, char *const *metrics, size_t n,
			int final, struct strbuf *out,
			tfevent_problem_fn problem, void *ctx);

#endif
