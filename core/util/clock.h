/*
 * clock.h - wall-clock time as the daemon records it (core/util/clock.c):
 * seconds since the epoch as a double, and its RFC3339 text.
 */
#ifndef KATIB_UTIL_CLOCK_H
#define KATIB_UTIL_CLOCK_H

#include <stddef.h>

double now_epoch(void);
/* RFC3339 UTC with microseconds, into buf (>= 32 bytes). */
void format_rfc3339(double t, char *buf, size_t size);

#endif
