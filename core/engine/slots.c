/*
 * slots.c - KATIB_TRIAL_SLOT and devices per trial (core/engine/slots.h).
 *
 * Nothing is kept besides the trials' own fields: the slots and devices in
 * use are those of the running trials, found by walking the active trials
 * (few) whenever a trial starts. A re-adopted trial's are read back from
 * its directory the first time they are needed.
 */
#include "engine/slots.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the record in the trial directory ---- */

/* The head of the backend's record file, else (a trial started by an
 * earlier katibfs) its own `slot` file: n bytes into text, or -1. */
static ssize_t slot_text(struct katib *k, const char *dir, char *text,
			 size_t size)
{
	static const char *const files[] = { NULL, LEGACY_SLOT_FILE };
	char path[PATH_MAX + 64];
	ssize_t n = -1;
	size_t i;
	int fd;

	for (i = 0; i < 2 && n < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
			 files[i] ? files[i] : k->backend->record_file);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, text, size - 1);
		close(fd);
		if (n > 0 && strncmp(text, "slot=", 5))
			n = -1;
	}
	return n;
}

/* A trial running since before a restart: its slot and devices, if any. */
static void slot_read(struct katib *k, struct experiment *e, struct trial *t)
{
	char dir[PATH_MAX], text[SLOT_TEXT_MAX];
	char *dev;
	ssize_t n;

	t->live->slot_known = 1;
	t->live->slot = -1;
	trial_dir_path(k, e->name, t->number, dir, sizeof(dir));
	n = slot_text(k, dir, text, sizeof(text));
	if (n <= 0)
		return;
	text[n] = '\0';
	if (sscanf(text, "slot=%d", &t->live->slot) != 1)
		t->live->slot = -1;
	dev = strstr(text, "\ndevices=");
	if (!dev)
		return;
	dev += strlen("\ndevices=");
	dev[strcspn(dev, "\n")] = '\0';
	free(t->live->devices);
	t->live->devices = *dev ? strdup(dev) : NULL;
}

/* ---- what is in use ---- */

/* A trial that holds a slot: running (its process may be being spawned). */
static int holds_slot(const struct trial *t)
{
	return t->state == TRIAL_RUNNING;
}

/*
 * Make the slots and devices of e's running trials known: the number of
 * active trials (e->active[0..n), some not running). e->active is not
 * compacted here (experiment_active() would), since callers may be in the
 * middle of a loop over it.
 */
static size_t active_known(struct katib *k, struct experiment *e)
{
	size_t i, n = e->nactive;

	for (i = 0; i < n; i++) {
		struct trial *t = e->active[i];

		if (holds_slot(t) && !t->live->slot_known)
			slot_read(k, e, t);
	}
	return n;
}

/* Is `dev` one of the comma-separated devices in `list`? */
static int in_device_list(const char *list, const char *dev)
{
	size_t len = strlen(dev);

	while (list && *list) {
		size_t n = strcspn(list, ",");

		if (n == len && !strncmp(list, dev, len))
			return 1;
		list += n + (list[n] == ',');
	}
	return 0;
}

/* Some running trial on the mount holds dev. */
static int device_taken(struct katib *k, const char *dev)
{
	size_t i, j, n;

	for (i = 0; i < k->nexps; i++) {
		struct experiment *x = k->exps[i];

		if (x->deleted || !x->spec)
			continue;
		n = active_known(k, x);
		for (j = 0; j < n; j++)
			if (holds_slot(x->active[j]) &&
			    in_device_list(x->active[j]->live->devices, dev))
				return 1;
	}
	return 0;
}

static size_t devices_free(struct katib *k, const struct experiment_spec *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->ndevices; i++)
		n += !device_taken(k, s->devices[i]);
	return n;
}

/* ---- the calls ---- */

long slots_limit(struct katib *k, struct experiment *e, long limit)
{
	const struct experiment_spec *s = e->spec;
	long cap;

	if (!s->ndevices)
		return limit;
	cap = (long)s->ndevices / s->devices_per_trial;
	if (cap >= limit)
		return limit;
	if (!e->devices_noted)
		experiment_event(k, e,
				 "at most %ld trial%s at once, not "
				 "parallelTrialCount %ld: %zu devices (%s), "
				 "%d per trial",
				 cap, cap == 1 ? "" : "s", limit, s->ndevices,
				 DEVICES_ANNOTATION, s->devices_per_trial);
	e->devices_noted = 1;
	return cap;
}

long slots_room(struct katib *k, struct experiment *e)
{
	const struct experiment_spec *s = e->spec;

	if (!s->ndevices)
		return LONG_MAX;
	return (long)(devices_free(k, s) / (size_t)s->devices_per_trial);
}

/* The smallest slot no running trial of e holds. */
static int slot_free(struct katib *k, struct experiment *e)
{
	size_t i, n = active_known(k, e);
	int slot;

	for (slot = 0;; slot++) {
		for (i = 0; i < n; i++)
			if (holds_slot(e->active[i]) &&
			    e->active[i]->live->slot == slot)
				break;
		if (i == n)
			return slot;
	}
}

/* devices_per_trial free devices of s, comma-separated, into *out. */
static int take_devices(struct katib *k, const struct experiment_spec *s,
			char **out)
{
	struct strbuf b = { 0 };
	size_t i;
	int got = 0;

	for (i = 0; i < s->ndevices && got < s->devices_per_trial; i++) {
		if (device_taken(k, s->devices[i]))
			continue;
		strbuf_printf(&b, "%s%s", got ? "," : "", s->devices[i]);
		got++;
	}
	if (got < s->devices_per_trial) {
		strbuf_free(&b);
		return -EAGAIN;
	}
	*out = strbuf_finish(&b, NULL);
	return *out ? 0 : -ENOMEM;
}

/* cmd->env + entry, replacing an entry of the same name. */
static int env_set(struct trial_command *cmd, const char *name,
		   const char *value)
{
	size_t len = strlen(name), i;
	char *entry, **grown;

	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (i = 0; i < cmd->nenv; i++) {
		if (!strncmp(cmd->env[i], name, len) &&
		    cmd->env[i][len] == '=') {
			free(cmd->env[i]);
			cmd->env[i] = entry;
			return 0;
		}
	}
	grown = realloc(cmd->env, (cmd->nenv + 2) * sizeof(*grown));
	if (!grown) {
		free(entry);
		return -ENOMEM;
	}
	cmd->env = grown;
	cmd->env[cmd->nenv++] = entry;
	cmd->env[cmd->nenv] = NULL;
	return 0;
}

int slots_assign(struct katib *k, struct experiment *e, struct trial *t,
		 struct trial_command *cmd, struct kb_error *err)
{
	char *devices = NULL, slot[16];
	int rc;

	if (e->spec->ndevices && (rc = take_devices(k, e->spec, &devices)))
		return kb_error_set(err, rc, DEVICES_ANNOTATION, 0,
				    rc == -EAGAIN ? "every device is taken"
						  : "out of memory");
	t->live->slot = slot_free(k, e);
	t->live->slot_known = 1;
	free(t->live->devices);
	t->live->devices = devices;
	snprintf(slot, sizeof(slot), "%d", t->live->slot);
	rc = env_set(cmd, "KATIB_TRIAL_SLOT", slot);
	if (!rc && devices)
		rc = env_set(cmd, "CUDA_VISIBLE_DEVICES", devices);
	if (rc)
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	return 0;
}

int slots_record(const struct trial *t, char *buf, size_t size,
		 struct kb_error *err)
{
	int len = snprintf(buf, size, "slot=%d\ndevices=%s\n", t->live->slot,
			   t->live->devices ? t->live->devices : "");

	if (len < 0 || (size_t)len >= size)
		return kb_error_set(err, -E2BIG, DEVICES_ANNOTATION, 0,
				    "the trial's devices are too long a list");
	return 0;
}

void slots_release(struct trial *t)
{
	t->live->slot = -1;
	t->live->slot_known = 1;
	free(t->live->devices);
	t->live->devices = NULL;
}
