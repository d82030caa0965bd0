/*
 * lockhold.c - who holds a pthread mutex, how long and how often: an
 * LD_PRELOAD library for measuring the model lock (k->lock) of a running
 * katibfs (issue 11, "Reads never wait").
 *
 *   make build/lockhold.so      (make bench builds it too)
 *   LOCKHOLD_OUT=/tmp/holds.txt LD_PRELOAD=build/lockhold.so katibfs ...
 *
 * Every pthread_mutex_lock/unlock (and the unlock+lock inside
 * pthread_cond_wait) is timed per mutex. At exit (or on SIGUSR2, so a
 * daemonized katibfs can be asked) it writes, for the mutexes locked most
 * often, a histogram of hold times and, per place that took the lock
 * (the caller's return address, as "binary+offset" for addr2line -f -e),
 * the count, total and longest hold. Mutexes of sqlite and libraries show
 * up too; the model lock is the one whose sites are in katibfs.
 *
 * Owns: fixed static tables (no allocation inside the wrappers).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NMUTEX	 64  /* mutexes tracked (the first seen) */
#define NSITE	 256 /* lock sites per table (all mutexes) */
#define NBUCKET	 8   /* <0.1 <1 <5 <10 <20 <50 <100 >=100 ms */
#define MAX_HELD 16  /* mutexes one thread holds at once */

struct site {
	const void *mutex;
	void *where;
	_Atomic uint64_t count, total_ns, max_ns;
};

struct mutex_stat {
	const void *mutex;
	_Atomic uint64_t count, total_ns, max_ns;
	_Atomic uint64_t bucket[NBUCKET];
};

static struct mutex_stat mutexes[NMUTEX];
static struct site sites[NSITE];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t owner; /* a forked child that exits writes nothing */

struct held {
	const void *mutex;
	void *where;
	uint64_t since;
};
static __thread struct held held[MAX_HELD];
static __thread int nheld;
static __thread int inside; /* our own table_lock */

static int (*real_lock)(pthread_mutex_t *);
static int (*real_unlock)(pthread_mutex_t *);
static int (*real_trylock)(pthread_mutex_t *);
static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *,
				  const struct timespec *);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void resolve(void)
{
	if (real_lock)
		return;
	real_lock = dlsym(RTLD_NEXT, "pthread_mutex_lock");
	real_unlock = dlsym(RTLD_NEXT, "pthread_mutex_unlock");
	real_trylock = dlsym(RTLD_NEXT, "pthread_mutex_trylock");
	real_cond_wait = dlvsym(RTLD_NEXT, "pthread_cond_wait", "GLIBC_2.3.2");
	real_cond_timedwait =
		dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
	if (!real_cond_wait)
		real_cond_wait = dlsym(RTLD_NEXT, "pthread_cond_wait");
	if (!real_cond_timedwait)
		real_cond_timedwait =
			dlsym(RTLD_NEXT, "pthread_cond_timedwait");
}

static void atomic_max(_Atomic uint64_t *m, uint64_t v)
{
	uint64_t cur = atomic_load(m);

	while (v > cur && !atomic_compare_exchange_weak(m, &cur, v))
		;
}

static struct mutex_stat *mutex_slot(const void *m)
{
	int i;

	for (i = 0; i < NMUTEX && mutexes[i].mutex; i++)
		if (mutexes[i].mutex == m)
			return &mutexes[i];
	inside = 1;
	real_lock(&table_lock);
	for (i = 0; i < NMUTEX && mutexes[i].mutex && mutexes[i].mutex != m;
	     i++)
		;
	if (i < NMUTEX && !mutexes[i].mutex)
		mutexes[i].mutex = m;
	real_unlock(&table_lock);
	inside = 0;
	return i < NMUTEX ? &mutexes[i] : NULL;
}

static struct site *site_slot(const void *m, void *where)
{
	int i;

	for (i = 0; i < NSITE && sites[i].where; i++)
		if (sites[i].where == where && sites[i].mutex == m)
			return &sites[i];
	inside = 1;
	real_lock(&table_lock);
	for (i = 0; i < NSITE && sites[i].where &&
		    !(sites[i].where == where && sites[i].mutex == m);
	     i++)
		;
	if (i < NSITE && !sites[i].where) {
		sites[i].mutex = m;
		sites[i].where = where;
	}
	real_unlock(&table_lock);
	inside = 0;
	return i < NSITE ? &sites[i] : NULL;
}

static int bucket_of(uint64_t ns)
{
	static const uint64_t limits[NBUCKET - 1] = { 100000,	1000000,
						      5000000,	10000000,
						      20000000, 50000000,
						      100000000 };
	int b = 0;

	while (b < NBUCKET - 1 && ns >= limits[b])
		b++;
	return b;
}

static void took(const void *m, void *where)
{
	if (inside || nheld >= MAX_HELD)
		return;
	held[nheld].mutex = m;
	held[nheld].where = where;
	held[nheld].since = now_ns();
	nheld++;
}

static void released(const void *m)
{
	struct mutex_stat *ms;
	struct site *s;
	uint64_t ns;
	int i;

	if (inside)
		return;
	for (i = nheld - 1; i >= 0 && held[i].mutex != m; i--)
		;
	if (i < 0)
		return;
	ns = now_ns() - held[i].since;
	ms = mutex_slot(m);
	s = site_slot(m, held[i].where);
	held[i] = held[--nheld];
	if (ms) {
		atomic_fetch_add(&ms->count, 1);
		atomic_fetch_add(&ms->total_ns, ns);
		atomic_max(&ms->max_ns, ns);
		atomic_fetch_add(&ms->bucket[bucket_of(ns)], 1);
	}
	if (s) {
		atomic_fetch_add(&s->count, 1);
		atomic_fetch_add(&s->total_ns, ns);
		atomic_max(&s->max_ns, ns);
	}
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	int rc;

	resolve();
	rc = real_lock(m);
	if (!rc)
		took(m, __builtin_return_address(0));
	return rc;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int rc;

	resolve();
	rc = real_trylock(m);
	if (!rc)
		took(m, __builtin_return_address(0));
	return rc;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	resolve();
	released(m);
	return real_unlock(m);
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	int rc;

	resolve();
	released(m);
	rc = real_cond_wait(c, m);
	took(m, __builtin_return_address(0));
	return rc;
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
			   const struct timespec *ts)
{
	int rc;

	resolve();
	released(m);
	rc = real_cond_timedwait(c, m, ts);
	took(m, __builtin_return_address(0));
	return rc;
}

static void site_name(void *where, char *buf, size_t size)
{
	Dl_info info;

	if (dladdr(where, &info) && info.dli_fname)
		snprintf(buf, size, "%s+0x%lx", info.dli_fname,
			 (unsigned long)((char *)where -
					 (char *)info.dli_fbase));
	else
		snprintf(buf, size, "%p", where);
}

static void report(void)
{
	static const char *const names[NBUCKET] = { "<0.1", "<1",   "<5",
						    "<10",  "<20",  "<50",
						    "<100", ">=100" };
	const char *path = getenv("LOCKHOLD_OUT");
	FILE *f;
	char name[512];
	int i, j, b;

	if (getpid() != owner)
		return;
	f = path ? fopen(path, "w") : stderr;
	if (!f)
		return;
	inside = 1;
	for (i = 0; i < NMUTEX && mutexes[i].mutex; i++) {
		struct mutex_stat *ms = &mutexes[i];

		if (ms->count < 1000)
			continue;
		fprintf(f, "mutex %p: %llu holds, %.1f ms total, max %.2f ms;",
			ms->mutex, (unsigned long long)ms->count,
			ms->total_ns / 1e6, ms->max_ns / 1e6);
		for (b = 0; b < NBUCKET; b++)
			fprintf(f, " %s:%llu", names[b],
				(unsigned long long)ms->bucket[b]);
		fprintf(f, "\n");
		for (j = 0; j < NSITE && sites[j].where; j++) {
			struct site *s = &sites[j];

			if (s->mutex != ms->mutex)
				continue;
			site_name(s->where, name, sizeof(name));
			fprintf(f,
				"  %-60s %9llu holds %10.1f ms total "
				"%8.2f ms max %7.3f ms mean\n",
				name, (unsigned long long)s->count,
				s->total_ns / 1e6, s->max_ns / 1e6,
				s->count ? s->total_ns / 1e6 / s->count : 0);
		}
	}
	inside = 0;
	if (f != stderr)
		fclose(f);
}

static void on_usr2(int sig)
{
	(void)sig;
	report(); /* not async-signal-safe; a measuring tool only */
}

__attribute__((constructor)) static void init(void)
{
	resolve();
	owner = getpid();
	signal(SIGUSR2, on_usr2);
	atexit(report);
}
