/*
 * pyliteral.h - text as Katib's Python NAS services (ENAS, DARTS) write it
 * into trial parameters: json.dumps(ensure_ascii) of a string, with its
 * double quotes then turned into single ones as Katib does. Used by
 * darts.c and enas.c so both quote alike.
 */
#ifndef KATIB_PYLITERAL_H
#define KATIB_PYLITERAL_H

#include "util/strbuf.h"

/* Append 'str' so quoted: \\ \n \r \t \b \f escaped, a '"' written as
 * \', other control and non-ASCII code points as \uXXXX (surrogate pairs
 * beyond the BMP; invalid UTF-8 as U+FFFD). */
void py_quoted(struct strbuf *b, const char *str);

#endif
