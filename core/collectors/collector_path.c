/*
 * collector_path.c - the private view of a trial's collector path (see
 * core/collectors/collector_path.h): path arithmetic only, no I/O, so the
 * daemon, the controller and the unit tests agree on every name.
 *
 * Owns nothing: names go into the caller's buffers.
 */
#include "collectors/collector_path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Drop the last component of out (len bytes, "/a/b" -> "/a"). */
static size_t pop_component(char *out, size_t len)
{
	while (len > 1 && out[len - 1] != '/')
		len--;
	if (len > 1)
		len--; /* the slash before it, unless it is the root */
	out[len] = '\0';
	return len;
}

int path_normalize(const char *in, char *out, size_t size)
{
	size_t len = 1;
	const char *p = in;

	if (!in || in[0] != '/')
		return -EINVAL;
	if (size < 2)
		return -ENAMETOOLONG;
	out[0] = '/';
	out[1] = '\0';
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			len = pop_component(out, len);
		} else {
			size_t sep = len > 1;

			if (len + sep + n + 1 > size)
				return -ENAMETOOLONG;
			if (sep)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p += n;
	}
	return 0;
}

int path_within(const char *path, const char *dir)
{
	char p[COLLECTOR_PATH_SIZE], d[COLLECTOR_PATH_SIZE];
	size_t n;

	if (path_normalize(path, p, sizeof(p)) ||
	    path_normalize(dir, d, sizeof(d)))
		return 0;
	n = strlen(d);
	if (n == 1)
		return 1; /* everything is inside "/" */
	return !strncmp(p, d, n) && (p[n] == '\0' || p[n] == '/');
}

int collector_path_is_shared(const struct collector_spec *c)
{
	return (c->kind == COLLECTOR_FILE || c->kind == COLLECTOR_TFEVENT ||
		c->kind == COLLECTOR_CUSTOM) &&
	       c->path && c->path[0] == '/';
}

static int fill(char *out, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(out, COLLECTOR_PATH_SIZE, fmt, a, b);

	return n < 0 || n >= COLLECTOR_PATH_SIZE ? -ENAMETOOLONG : 0;
}

int collector_view(const struct collector_spec *c, const char *trial_dir,
		   struct collector_view *out)
{
	const char *name;
	char *slash;
	int rc;

	if (!collector_path_is_shared(c) || path_within(c->path, trial_dir))
		return 0;
	rc = path_normalize(c->path, out->shared, sizeof(out->shared));
	if (rc)
		return rc;
	memcpy(out->target, out->shared, sizeof(out->target));
	name = strrchr(out->shared, '/') + 1;
	rc = fill(out->backing, "%s/%s", trial_dir, COLLECTOR_DIR);
	rc = rc ? rc : fill(out->leftover, "%s/leftover-%s", trial_dir, name);
	if (rc)
		return rc;
	if (c->kind != COLLECTOR_FILE &&
	    c->path_kind != PATH_KIND_FILE) { /* the directory itself */
		memcpy(out->file, out->backing, sizeof(out->file));
		return 1;
	}
	slash = strrchr(out->target, '/');
	slash[slash == out->target] = '\0'; /* /metrics.log: "/" */
	rc = fill(out->file, "%s/%s", out->backing, name);
	return rc ? rc : 1;
}
