/* backend.c - the table of backends (include/katib/backend.h). */
#include "katib/backend.h"

#include <string.h>

extern const struct backend_ops local_backend;
extern const struct backend_ops kubernetes_backend;

static const struct backend_ops *const backends[] = {
	&local_backend,
	&kubernetes_backend,
	NULL,
};

const struct backend_ops *backend_find(const char *name)
{
	size_t i;

	for (i = 0; backends[i]; i++)
		if (!strcmp(backends[i]->name, name ? name : "local"))
			return backends[i];
	return NULL;
}
