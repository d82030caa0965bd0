/*
 * textdelta.h - a text kept as its difference from a reference text
 * (core/util/textdelta.c).
 *
 * The trials of one experiment run scripts that differ in a few bytes (the
 * trial's number, name, directory and values): kept as copies of runs of a
 * reference script plus the bytes that differ, an ended trial's script
 * costs about a fifth of its text. The packed form is self-delimiting and
 * owns no pointer; it reads back only against the same reference bytes.
 */
#ifndef KATIBFS_TEXTDELTA_H
#define KATIBFS_TEXTDELTA_H

#include <stddef.h>

#include "util/strbuf.h"

/*
 * Append to out the packed form of text[0..len) against ref[0..reflen):
 * 0 or -ENOMEM. Any text packs (one unlike ref packs as itself plus a few
 * bytes).
 */
int textdelta_pack(const char *ref, size_t reflen, const char *text, size_t len,
		   struct strbuf *out);

/*
 * Append to out the text that `packed` (as textdelta_pack wrote it) holds
 * against the same ref: 0, -ENOMEM, or -EINVAL when packed is not such a
 * form for this ref (nothing is read past what the form says).
 */
int textdelta_unpack(const char *ref, size_t reflen,
		     const unsigned char *packed, struct strbuf *out);

#endif
