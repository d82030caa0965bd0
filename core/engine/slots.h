/*
 * slots.h - KATIB_TRIAL_SLOT and the devices of each running trial (the
 * katibfs/devices and katibfs/devices-per-trial annotations).
 *
 * A trial that starts gets the smallest slot (0, 1, ...) that no running
 * trial of its experiment holds, and, when the experiment lists devices,
 * devices_per_trial of them that no running trial on the mount holds (two
 * experiments listing the same GPU never share it either). Both go into the
 * trial's environment (KATIB_TRIAL_SLOT, CUDA_VISIBLE_DEVICES) and, as
 * "slot=N\ndevices=LIST\n", at the head of the backend's record of the
 * trial (backend_ops.record_file: the local backend's `supervisor`, one
 * file fewer per trial than a file of their own; `slot` from an earlier
 * katibfs is still read), from which a daemon mounted again later reads
 * them back for the trials it re-adopts, so that none is handed out twice.
 *
 * All calls but slots_record run on the controller thread with k->lock
 * held. A trial's
 * t->devices is owned by the trial (trial_free frees it).
 */
#ifndef KATIB_SLOTS_H
#define KATIB_SLOTS_H

#include "engine/daemon.h"
#include "katib/error.h"
#include "katib/spec.h"

#define LEGACY_SLOT_FILE "slot" /* written before the record held them */
#define SLOT_TEXT_MAX	 4096

/*
 * parallelTrialCount capped by the devices: at most devices /
 * devices-per-trial trials at once. `events` says so once when it caps.
 */
long slots_limit(struct katib *k, struct experiment *e, long limit);

/* How many more of e's trials the devices free now let start (LONG_MAX
 * when e lists none). */
long slots_room(struct katib *k, struct experiment *e);

/*
 * Give t (about to start) a slot and its devices, and add
 * KATIB_TRIAL_SLOT and CUDA_VISIBLE_DEVICES to cmd->env (replacing the
 * container's own CUDA_VISIBLE_DEVICES). 0, or -EAGAIN when the devices are
 * taken (the caller checked slots_room first) or -ENOMEM, with err set.
 */
int slots_assign(struct katib *k, struct experiment *e, struct trial *t,
		 struct trial_command *cmd, struct kb_error *err);

/*
 * t's slot and devices as the text for backend_trial.record_head, into
 * buf (SLOT_TEXT_MAX bytes do). Needs no lock (it reads only what
 * slots_assign set, on the controller thread). 0 or -E2BIG with err set.
 */
int slots_record(const struct trial *t, char *buf, size_t size,
		 struct kb_error *err);

/* t ended: its slot and devices are free again. */
void slots_release(struct trial *t);

#endif
