/*
 * mkdir_p.h - a directory and its missing parents (core/util/mkdir_p.c),
 * as `mkdir -p` makes them. Linked into the daemon and, on its own, into
 * the static supervisor (katibfs-shim): it needs nothing but libc.
 */
#ifndef KATIB_UTIL_MKDIR_P_H
#define KATIB_UTIL_MKDIR_P_H

#include <sys/types.h>

/* Creates path and each missing directory above it with mode (before the
 * umask); one that exists already, as anything, is left as it is. 0, or
 * -errno of the first mkdir that failed (-ENAMETOOLONG past PATH_MAX). */
int mkdir_p(const char *path, mode_t mode);

#endif
