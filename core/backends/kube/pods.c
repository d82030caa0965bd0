/*
 * pods.c - what the pod watch's cache says of a trial's pods (backend_i.h):
 * its primary pod, a pod's phase, a container's state and problems (image
 * pulls, crash loops), whether the trial's object has finished, and when
 * a pod that never showed up can be given up on. Owns nothing: the cache
 * is the watch's, read under p->lock.
 */
#include "backends/kube/backend_i.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Does label selector sel ("k=v,k2=v2") hold for the labels object? */
static int selector_matches(const char *sel, const cJSON *labels)
{
	char buf[2048], *term, *save = NULL, *eq;
	const char *v;

	snprintf(buf, sizeof(buf), "%s", sel ? sel : "");
	for (term = strtok_r(buf, ",", &save); term;
	     term = strtok_r(NULL, ",", &save)) {
		eq = strchr(term, '=');
		if (!eq)
			continue;
		*eq = '\0';
		v = cJSON_GetStringValue(cJSON_GetObjectItem(labels, term));
		if (!v || strcmp(v, eq + 1))
			return 0;
	}
	return 1;
}

const cJSON *k8s_cached_pod(struct ktrial *t)
{
	const cJSON *it;
	size_t plen = strlen(t->name);

	cJSON_ArrayForEach(it, t->pw->objs)
	{
		const cJSON *md = cJSON_GetObjectItem(it, "metadata");
		const char *n =
			cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"));

		if (!n || strncmp(n, t->name, plen) || n[plen] != '-')
			continue;
		if (selector_matches(t->selector,
				     cJSON_GetObjectItem(md, "labels")))
			return it;
	}
	return NULL;
}

const char *k8s_pod_phase(const cJSON *pod)
{
	const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(pod, "status"), "phase"));

	return ph ? ph : "Pending";
}

int k8s_phase_done(const char *phase)
{
	return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
}

int k8s_object_finished(struct ktrial *t)
{
	int done;

	pthread_mutex_lock(&t->p->lock);
	done = t->terminal_since > 0 || t->terminating;
	pthread_mutex_unlock(&t->p->lock);
	return done;
}

/* The status of container `name` in the pod (containers and
 * initContainers), or NULL. */
static const cJSON *container_status(const cJSON *pod, const char *name)
{
	const cJSON *st = cJSON_GetObjectItem(pod, "status"), *cs;
	int i;

	for (i = 0; i < 2; i++)
		cJSON_ArrayForEach(
			cs, cJSON_GetObjectItem(st, i ? "initContainerStatuses"
						      : "containerStatuses"))
		{
			const char *n = cJSON_GetStringValue(
				cJSON_GetObjectItem(cs, "name"));

			if (n && !strcmp(n, name))
				return cs;
		}
	return NULL;
}

int k8s_container_problem(const cJSON *pod, const char *name, char *buf,
			  size_t size)
{
	const cJSON *state =
		cJSON_GetObjectItem(container_status(pod, name), "state");
	const cJSON *w = cJSON_GetObjectItem(state, "waiting");
	const cJSON *x = cJSON_GetObjectItem(state, "terminated");
	const cJSON *ec = cJSON_GetObjectItem(x, "exitCode");
	const char *reason =
		cJSON_GetStringValue(cJSON_GetObjectItem(w ? w : x, "reason"));
	const char *msg =
		cJSON_GetStringValue(cJSON_GetObjectItem(w ? w : x, "message"));
	int code = cJSON_IsNumber(ec) ? ec->valueint : 0;

	if (w && reason && strcmp(reason, "ContainerCreating") &&
	    strcmp(reason, "PodInitializing")) {
		snprintf(buf, size, "cannot start: %s%s%s", reason,
			 msg ? ": " : "", msg ? msg : "");
		return 1;
	}
	if (!x || code == 0)
		return 0;
	snprintf(buf, size, "%s with exit code %d",
		 reason && !strcmp(reason, "StartError") ? "could not start"
							 : "ended",
		 code);
	if (reason || msg)
		snprintf(buf + strlen(buf), size - strlen(buf), " (%s%s%s)",
			 reason ? reason : "", reason && msg ? ": " : "",
			 msg ? msg : "");
	return 1;
}

int k8s_container_ended(const cJSON *pod, const char *name, int *code)
{
	const cJSON *x = cJSON_GetObjectItem(
		cJSON_GetObjectItem(container_status(pod, name), "state"),
		"terminated");
	const cJSON *ec = cJSON_GetObjectItem(x, "exitCode");

	*code = cJSON_IsNumber(ec) ? ec->valueint : 1;
	return x != NULL;
}

int k8s_pod_never(struct ktrial *t, double since)
{
	double now = k8s_now(), contact;

	pthread_mutex_lock(&t->p->lock);
	contact = t->pw->contact;
	pthread_mutex_unlock(&t->p->lock);
	return (now - since > POD_GRACE && contact > since + POD_GRACE) ||
	       now - since > POD_GIVE_UP;
}
