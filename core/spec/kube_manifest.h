/*
 * kube_manifest.h - render a trial for a cluster (core/spec/trial_render.c).
 */
#ifndef KATIB_KUBE_MANIFEST_H
#define KATIB_KUBE_MANIFEST_H

#include "katib/spec.h"

/*
 * As spec_render_trial() (core/spec/trial_render.c), for backends that send the
 * manifest rather than run a command: the primary container may have no
 * `command` (the image's ENTRYPOINT runs), and metadata.labels carry
 * katib.kubeflow.org/experiment and katib.kubeflow.org/trial as sent.
 * out->manifest is always set; out->argv holds command + args when there is a
 * command (wrapped in `sh -c` as Katib's webhook does, see spec_render_trial),
 * else just the args behind a placeholder argv[0] of "" (never to be
 * executed; such a container is not wrapped, as Katib would need the
 * image's ENTRYPOINT for it).
 */
int spec_render_manifest(const struct experiment_spec *spec,
			 const char *trial_name, const char *namespace,
			 const struct assignment *assignments, size_t n,
			 struct trial_command *out, struct kb_error *err);

#endif
