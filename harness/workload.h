/*
 * workload.h - libpq probes: writers, the role watcher and the final read-back.
 *
 * Writers race a non-blocking connection to every member with
 * target_session_attrs=read-write and keep the first that answers, under their own
 * deadline (libpq's connect_timeout has a 2 s floor and one hung host would stall a
 * multi-host string). Every write inserts one row with a unique id (run, writer, seq)
 * and is recorded as ok / fail / indeterminate with monotonic timestamps.
 */
#ifndef BISE_WORKLOAD_H
#define BISE_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "driver.h"
#include "event.h"
#include "scenario.h"

#define WORKLOAD_TABLE "bise_writes"

struct workload;

/*
 * Create the table on the primary (if needed) and start the writer threads and the
 * watcher thread. members: every member's endpoint (roles are not trusted).
 */
struct workload *workload_start(const char *run_id, const struct workload_spec *spec,
				const struct member *members, int nmembers,
				int64_t watch_interval_us, struct event_log *log);

/* Stop writers (in-flight writes finish or time out), then the watcher; frees. */
void workload_stop(struct workload *w);

/* Writes attempted so far, ok so far (for progress lines). */
void workload_counts(struct workload *w, int64_t *attempted, int64_t *ok);

/* Name of the member the watcher last saw as primary ("" if none). */
void workload_current_primary(struct workload *w, char *buf, size_t len);

/*
 * Read back every row of run_id from the current primary and append readback events
 * (ranges per writer, duplicates) and readback_done. Logs its own error.
 */
bool workload_readback(const char *run_id, const struct member *members, int nmembers,
		       int writers, int64_t timeout_us, struct event_log *log);

#endif
