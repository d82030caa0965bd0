/* backend.c - the table of backends (include/katib/backend.h), and what
 * can be said about a backend from its ops alone. A new backend is one
 * file and one line in `backends`.
 *
 * Owns nothing: the table is static.
 */
#include "katib/backend.h"

#include <stdio.h>
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

void backend_names(char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; backends[i] && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? "|" : "", backends[i]->name);
}

int backend_collects(const struct backend_ops *b, enum collector_kind k)
{
	return (b->collectors & BACKEND_COLLECTOR(k)) != 0;
}

void backend_collector_names(const struct backend_ops *b, char *buf,
			     size_t size)
{
	enum collector_kind k, kinds[COLLECTOR_KIND_LAST + 1];
	size_t n = 0, i, len = 0;

	for (k = COLLECTOR_STDOUT; k <= COLLECTOR_KIND_LAST; k++)
		if (backend_collects(b, k))
			kinds[n++] = k;
	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					!i	     ? ""
					: i + 1 == n ? " or "
						     : ", ",
					collector_kind_name(kinds[i]));
}
