/*
 * dirtree.h - recursive copy and removal of directory trees
 * (core/util/dirtree.c). Private to core/: beside its code, not in include/.
 */
#ifndef KATIB_DIRTREE_H
#define KATIB_DIRTREE_H

/* Copy the contents of directory src into directory dst (both fds stay
 * open): regular files (copy_file_range where it can), symlinks and
 * directories; fifos, sockets and devices are skipped. 0 or -errno. */
int dirtree_copy(int src, int dst);

/* Remove `name` under directory fd `dir` (AT_FDCWD: a path) and all below
 * it; 0 also when it does not exist, else -errno. */
int dirtree_remove(int dir, const char *name);

#endif
