/*
 * daemon_test_util.h - what the suites that drive the daemon API (katib.h)
 * without FUSE share (test_katib.c, test_kube_e2e.c, test_suggest_race.c):
 * the daemon opened on a new state directory in /tmp and closed with it
 * removed, a file rendered, a text checked for a line. Each
 * tests/unit/test_*.c is built alone, so everything here is static inline.
 * The fixture is the caller's (daemon_stop() frees it), as is every
 * rendered text.
 */
#ifndef DAEMON_TEST_UTIL_H
#define DAEMON_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "katib/katib.h"

struct daemon_fixture {
	char dir[64];
	struct katib_options opt;
	struct katib *k;
};

/* The daemon on /tmp/katib-NAME-XXXXXX with the options opt (NULL: the
 * defaults, the local backend) but the state directory; fails the test
 * with the daemon's message if it does not open. */
static inline struct daemon_fixture *
daemon_start(const char *name, const struct katib_options *opt)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	struct kb_error err = { 0 };
	char msg[600];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/katib-%s-XXXXXX", name);
	assert_non_null(mkdtemp(f->dir));
	if (opt)
		f->opt = *opt;
	f->opt.state_dir = f->dir;
	if (katib_open(&f->opt, &f->k, &err)) {
		kb_error_format(&err, msg, sizeof(msg));
		fail_msg("katib_open: %s", msg);
	}
	return f;
}

/* Close the daemon and remove its state directory (kept when
 * KATIBFS_TEST_KEEP is set, to look at it after a failure). */
static inline void daemon_stop(struct daemon_fixture *f)
{
	char cmd[128];

	if (!f)
		return;
	katib_close(f->k);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (!getenv("KATIBFS_TEST_KEEP"))
		assert_int_equal(system(cmd), 0);
	free(f);
}

/* EXP's file f (of trial `trial` for a trial's file), or the test fails. */
static inline char *daemon_render(struct katib *k, const char *exp, int trial,
				  enum kfile f)
{
	char *out = NULL;
	size_t len;

	assert_int_equal(katib_render(k, exp, trial, f, &out, &len), 0);
	return out;
}

static inline void assert_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("'%s' not found in:\n%s", needle, text);
}

#endif
