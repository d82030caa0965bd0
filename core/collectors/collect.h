/*
 * collect.h - what the controller reads for a trial's metrics under each
 * collector kind, and the work some kinds need before it is read
 * (core/collectors/collect.c).
 *
 *   StdOut           the trial's log, metricsFormat regexes (metrics.h)
 *   File             the collector file (backend op collector_file),
 *                    TEXT regexes or JSON lines
 *   TensorFlowEvent  <trial dir>/tfevent-metrics.log, derived from the
 *                    event files by collect_update (tfevent.h)
 *   PrometheusMetric <trial dir>/prometheus-metrics.log, appended by the
 *                    scraper thread (prometheus.h)
 *   Custom           <trial dir>/collector-output.log: the collector
 *                    process's stdout and stderr (katibfs-shim runs it),
 *                    metricsFormat regexes
 *   Push, None       nothing is read: Push takes writes to
 *                    trials/N/metrics; None collects nothing and a trial
 *                    succeeds on its exit status
 *
 * Derived logs hold "RFC3339 name=value" lines and '#' state lines
 * (metrics_parse_named). The controller keeps its byte offset in each, as
 * for a log, so nothing is counted twice across restarts.
 */
#ifndef KATIB_COLLECT_H
#define KATIB_COLLECT_H

#include <stddef.h>

#include "collectors/metrics.h"
#include "collectors/tfevent.h"
#include "katib/spec.h"

#define TFEVENT_LOG    "tfevent-metrics.log"
#define PROMETHEUS_LOG "prometheus-metrics.log"
#define CUSTOM_LOG     "collector-output.log"

/* Seconds a Custom collector has, once the trial's primary process (or
 * container) has ended, to end on its own; one still running then is
 * stopped and the trial ends on the primary's result, on both backends. */
#define COLLECTOR_EXIT_GRACE 2

enum collect_parse {
	COLLECT_NOTHING, /* Push, None */
	COLLECT_TEXT,	 /* metricsFormat regexes */
	COLLECT_JSON,	 /* File with format JSON */
	COLLECT_NAMED,	 /* a derived log */
};

enum collect_parse collect_parse_mode(const struct collector_spec *c);

/* The derived log (or Custom output) of the trial in trial_dir into buf;
 * 0, or -ENOENT when the kind reads the trial's log or a File. */
int collect_own_log(const struct collector_spec *c, const char *trial_dir,
		    char *buf, size_t size);

/* A line for the trial's events (the caller prefixes "trial N: "). */
typedef void (*collect_event_fn)(void *ctx, const char *msg);

/*
 * Before the controller reads: TensorFlowEvent reads the new records of
 * the event files under read_dir (the trial's private copy of the spec's
 * directory, or the directory itself) into the derived log, *tf its
 * reader (made here, rebuilt from the derived log after a restart; the
 * caller frees it with tfevent_reader_free when the trial is done);
 * PrometheusMetric makes sure the trial is scraped, and once it ended
 * (final) stops that and says in events if the target never answered;
 * Custom, once ended, says in events how its collector failed if it did.
 * Problems go to ev; the trial's other observations are never touched.
 */
int collect_update(const struct collector_spec *c,
		   const struct metrics_parser *p, const char *trial_dir,
		   const char *read_dir, int final, struct tfevent_reader **tf,
		   collect_event_fn ev, void *ctx);

#endif
