/*
 * scratch.c - editor scratch files: the in-memory files an editor or `sed -i`
 * creates inside an experiment directory before renaming onto spec.yaml.
 * Callers hold fs->scratch_lock unless a function says otherwise.
 *
 * Owns: the scratch files (scratch_create()), freed once unlinked and
 * closed.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_i.h"

/* ---- scratch files (callers hold scratch_lock) ---- */

struct scratch *scratch_find(struct katibfs *fs, const char *exp,
			     const char *name)
{
	struct scratch *s;

	for (s = fs->scratch; s; s = s->next)
		if (!strcmp(s->exp, exp) && !strcmp(s->name, name))
			return s;
	return NULL;
}

static size_t scratch_count(struct katibfs *fs, const char *exp)
{
	struct scratch *s;
	size_t n = 0;

	for (s = fs->scratch; s; s = s->next)
		n += !strcmp(s->exp, exp);
	return n;
}

void scratch_unref(struct scratch *s)
{
	if (--s->refs > 0 || s->linked)
		return;
	strbuf_free(&s->buf);
	free(s);
}

void scratch_unlink(struct katibfs *fs, struct scratch *s)
{
	struct scratch **pp;

	for (pp = &fs->scratch; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->linked = 0;
	s->refs++;
	scratch_unref(s);
}

void scratch_drop_experiment(struct katibfs *fs, const char *exp)
{
	struct scratch *s, *next;

	pthread_mutex_lock(&fs->scratch_lock);
	for (s = fs->scratch; s; s = next) {
		next = s->next;
		if (!strcmp(s->exp, exp))
			scratch_unlink(fs, s);
	}
	pthread_mutex_unlock(&fs->scratch_lock);
}

int scratch_create(struct katibfs *fs, const struct node *nd, mode_t mode,
		   struct scratch **out)
{
	struct scratch *s;
	int rc = 0;

	pthread_mutex_lock(&fs->scratch_lock);
	if (scratch_find(fs, nd->exp, nd->name)) {
		rc = -EEXIST;
		goto out;
	}
	if (scratch_count(fs, nd->exp) >= SCRATCH_MAX_FILES) {
		rc = -ENOSPC;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(s->exp, sizeof(s->exp), "%s", nd->exp);
	snprintf(s->name, sizeof(s->name), "%s", nd->name);
	s->mode = mode & 07777;
	s->linked = 1;
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	s->next = fs->scratch;
	fs->scratch = s;
	if (out) {
		s->refs++;
		*out = s;
	}
out:
	pthread_mutex_unlock(&fs->scratch_lock);
	return rc;
}
