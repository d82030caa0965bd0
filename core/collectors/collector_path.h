/*
 * collector_path.h - where a local trial's collector file or directory
 * really is (core/collectors/collector_path.c; pure string work, no I/O).
 *
 * A File collector's fileSystemPath (/var/log/katib/metrics.log) and a
 * TensorFlowEvent collector's directory are absolute: on Kubernetes each
 * pod has its own, on the local backend they would be one file for every
 * trial. So each trial gets a private view, as a pod's volume is private:
 * the trial runs in a mount namespace of its own in which the path's
 * directory (the "target": the file's directory, or the event directory)
 * is a bind mount of <trial dir>/collector (the "backing" directory).
 * The trial writes where its spec says; katibfs reads the backing copy.
 *
 * Where the kernel refuses namespaces the trials of such an experiment run
 * one at a time on the shared path, and katibfs-shim moves the file into
 * <trial dir>/collector when the trial ends (and a file left there from
 * before into <trial dir>/leftover-<name> before it starts), so the trial's
 * file ends up in the same place either way.
 */
#ifndef KATIB_COLLECTOR_PATH_H
#define KATIB_COLLECTOR_PATH_H

#include <stddef.h>

#include "katib/spec.h"

#define COLLECTOR_DIR	    "collector"
#define COLLECTOR_PATH_SIZE 4096

struct collector_view {
	char shared[COLLECTOR_PATH_SIZE];   /* the spec's path, normalized */
	char target[COLLECTOR_PATH_SIZE];   /* the directory made private */
	char backing[COLLECTOR_PATH_SIZE];  /* <trial dir>/collector */
	char file[COLLECTOR_PATH_SIZE];	    /* what katibfs reads (File:
					       backing/<name>; else backing) */
	char leftover[COLLECTOR_PATH_SIZE]; /* <trial dir>/leftover-<name> */
};

/*
 * Lexically normalize an absolute path: repeated and trailing slashes, "."
 * and ".." (never above "/"). 0, -EINVAL (not absolute) or -ENAMETOOLONG.
 */
int path_normalize(const char *in, char *out, size_t size);

/* 1 when `path` is `dir` or inside it (both normalized first), else 0. */
int path_within(const char *path, const char *dir);

/* 1 when the collector reads a path that trials would share (a File,
 * TensorFlowEvent or Custom collector with an absolute path), else 0. A
 * Custom collector's path is a file (kind File) or a directory. */
int collector_path_is_shared(const struct collector_spec *c);

/*
 * The trial's view of its collector path. 1: out is filled and the trial
 * needs a private view; 0: nothing to do (no path, a relative one, or one
 * inside trial_dir already); -ENAMETOOLONG. The target may be "/" (a file
 * /metrics.log), which no view can replace: the caller refuses it.
 */
int collector_view(const struct collector_spec *c, const char *trial_dir,
		   struct collector_view *out);

#endif
