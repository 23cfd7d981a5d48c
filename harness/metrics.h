/* metrics.h - pure functions: a const event log -> what users care about (see README). */
#ifndef BISE_METRICS_H
#define BISE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

struct metrics {
	/* write outcomes */
	int64_t attempted;
	int64_t ok;
	int64_t fail;
	int64_t indeterminate;
	int64_t ok_unreplicated;

	/* failover, microseconds since the log origin unless named *_dur_us */
	bool fault_seen;
	int64_t t_fault_us;           /* first fault apply */
	bool outage_seen;             /* a non-ok write after t_fault */
	bool outage_closed;           /* an ok write ended it */
	int64_t outage_start_us;      /* last ok before the outage */
	int64_t outage_end_us;        /* first ok that ended it */
	int64_t wuw_dur_us;           /* write-unavailability window = failover_time */
	bool promote_seen;            /* a watcher saw a new primary on a newer timeline */
	int64_t t_promote_us;
	char old_primary[EVENT_NODE_LEN];
	char new_primary[EVENT_NODE_LEN];
	int old_timeline;
	int new_timeline;
	int64_t promotion_dur_us;     /* t_fault -> t_promote */
	bool routing_seen;
	int64_t t_ok_new_us;          /* first ok on the new primary after t_promote */
	int64_t routing_dur_us;       /* t_promote -> t_ok_new */
	int64_t resolution_us;        /* mean spacing of write attempts before the fault */

	/* data loss, from the read-back of the final primary */
	bool readback_seen;
	int64_t found;                /* rows read back, duplicates included */
	int64_t lost;                 /* acknowledged, not found */
	int64_t recovered;            /* indeterminate, found */
	int64_t indeterminate_missing;/* indeterminate, not found */
	int64_t failed_found;         /* classified fail yet found: a classification error */
	int64_t phantom;              /* found, never attempted, plus duplicate copies */
	int64_t duplicates;           /* extra copies of any id: count - 1 summed */
	bool balanced;                /* found == ok_found + recovered + failed_found + phantom */

	/* recovery */
	bool healthy_seen;
	bool healthy_ok;
	double healthy_seconds;
	double provision_seconds;
};

/* Compute every metric from a loaded log. Never fails: unobserved parts stay *_seen=false. */
void metrics_compute(const struct events *ev, struct metrics *out);

#endif
