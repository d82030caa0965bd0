/*
 * mkdir_p.c - `mkdir -p` (see mkdir_p.h). Owns nothing: the path is
 * copied onto the stack.
 */
#ifndef _GNU_SOURCE /* the shim is built without the daemon's flags */
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "mkdir_p.h"

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p, c;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}
