/*
 * kthreads.c - what the kubernetes backend's threads share (backend_i.h):
 * the monotonic clock, the controller's wake callback, naps that end when
 * the backend closes (or, nap_news, when a watch cache changes), backoff
 * with jitter, and notes for the user in a trial's log and its
 * experiment's events. Owns nothing.
 */
#include "backends/kube/backend_i.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double k8s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void k8s_wake(struct kpriv *p)
{
	if (p->wake)
		p->wake(p->wake_arg);
}

/* CLOCK_REALTIME ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

void k8s_nap(struct kpriv *p, long ms)
{
	struct timespec ts = deadline_in(ms);

	pthread_mutex_lock(&p->lock);
	if (!p->stop)
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	pthread_mutex_unlock(&p->lock);
}

void k8s_nap_news(struct kpriv *p, unsigned long seen, long ms)
{
	struct timespec ts = deadline_in(ms);

	pthread_mutex_lock(&p->lock);
	while (!p->stop && p->news == seen &&
	       pthread_cond_timedwait(&p->cond, &p->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&p->lock);
}

void k8s_backoff_nap(struct kpriv *p, int *fails, long max_ms)
{
	long ms = 250L << (*fails < 6 ? *fails : 6);

	if (ms > max_ms)
		ms = max_ms;
	k8s_nap(p, ms / 2 + rand() % (ms / 2 + 1));
	(*fails)++;
}

void k8s_log_note(const char *path, const char *fmt, const char *msg)
{
	FILE *f = fopen(path, "a");

	if (!f)
		return;
	fprintf(f, fmt, msg);
	fclose(f);
}

void k8s_trial_event(struct ktrial *t, const char *fmt, ...)
{
	char msg[1500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->p->trial_event)
		t->p->trial_event(t->p->wake_arg, t->experiment, t->number,
				  msg);
}
