/*
 * error.h - the one error type of katibfs.
 *
 * Every core function returns 0 or a negative errno. When the failure is the
 * user's (a bad spec, a bad control word) the caller may pass a struct
 * kb_error, which the callee fills with a human message, the field path it is
 * about ("spec.parameters[0].feasibleSpace.min") and the YAML line (0 when it
 * has none). The struct is caller-owned, fixed-size, and never allocates.
 */
#ifndef KATIB_ERROR_H
#define KATIB_ERROR_H

#include <stddef.h>

struct kb_error {
	char message[512];
	char field[256];
	int line;
};

/* Clear err (NULL is allowed everywhere an error pointer is taken). */
void kb_error_clear(struct kb_error *err);

/*
 * Record an error: field may be NULL or "", line 0 when unknown. Returns
 * `code` so callers can write `return kb_error_set(err, -EINVAL, ...)`.
 * Only the first error recorded sticks: a later call on an already-set
 * error keeps the first message (the most specific one wins).
 */
int kb_error_set(struct kb_error *err, int code, const char *field, int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Format as one line: "<field>: <message> (line N)", omitting what is
 * absent. Writes at most `size` bytes including the NUL.
 */
void kb_error_format(const struct kb_error *err, char *buf, size_t size);

#endif
