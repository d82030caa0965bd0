/*
 * clock.c - wall-clock time as the daemon records it: now_epoch() and
 * format_rfc3339() (core/util/clock.h). Owns nothing.
 */
#include "util/clock.h"

#include <stdio.h>
#include <time.h>

double now_epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void format_rfc3339(double t, char *buf, size_t size)
{
	time_t sec = (time_t)t;
	long usec = (long)((t - (double)sec) * 1e6);
	struct tm tm;

	if (usec < 0)
		usec = 0;
	if (usec > 999999)
		usec = 999999;
	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, usec);
}
