/*
 * timeseries.h - a const event log -> fixed-width time bins for the reports: write rates,
 * latency of acknowledged writes, the primary the watcher saw, replication lag per standby,
 * fault intervals and primary changes. Pure: no I/O, no clocks.
 */
#ifndef BISE_TIMESERIES_H
#define BISE_TIMESERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define TIMESERIES_BIN_US 100000       /* the default bin: 100 ms */
#define TIMESERIES_MAX_NODES 8         /* instances and standbys tracked by name */
#define TIMESERIES_MAX_SPAN_US (6LL * 3600 * 1000000) /* longer logs are refused */

/* One bin [t_us, t_us + bin_us). Counts are of outcomes known (write "t") inside it. */
struct ts_bin {
	int64_t t_us;
	int64_t ok;            /* ok and ok_unreplicated */
	int64_t fail;
	int64_t indeterminate;
	int64_t connect_fail;  /* connection attempts of writers without a connection that failed */
	double ok_per_s;       /* the counts scaled to one second */
	double fail_per_s;
	double indeterminate_per_s;
	double connect_fail_per_s;
	double latency_p50_ms; /* t - t0 of the acknowledged writes; 0 when ok == 0 */
	double latency_p95_ms;
	double latency_max_ms;
	int primary;           /* index into nodes: the watcher's primary at the bin's end; -1 none */
	bool in_fault;         /* overlaps a fault interval */
	/* Max of primary_lsn - replay over the bin's lag samples; -1 when none (index: standbys). */
	double lag_bytes[TIMESERIES_MAX_NODES];
	/* Writes acknowledged in this bin by nodes[k] and missing from the read-back (index: nodes). */
	int64_t lost[TIMESERIES_MAX_NODES];
};

/* A fault from its apply to its revert (or restart); open ones end with the log. */
struct ts_fault {
	int64_t start_us;
	int64_t end_us;
	bool closed; /* a revert was logged */
	int step;
	char fault[32];
	char node[EVENT_NODE_LEN];
};

/* The watcher's primary became another instance (from[0] == '\0': the first one seen). */
struct ts_change {
	int64_t t_us;
	char from[EVENT_NODE_LEN];
	char to[EVENT_NODE_LEN];
	int timeline;
};

struct timeseries {
	int64_t bin_us;
	int64_t end_us; /* the last event of the log */
	size_t nbins;
	struct ts_bin *bins;
	int nnodes; /* instances the watcher sampled in order of first sample, then writes' nodes */
	char nodes[TIMESERIES_MAX_NODES][EVENT_NODE_LEN];
	/* Lost writes by the node that acknowledged them (index: nodes): in all, and most in one bin. */
	int64_t lost_by_node[TIMESERIES_MAX_NODES];
	int64_t lost_bin_max[TIMESERIES_MAX_NODES];
	int nstandbys; /* standbys with lag samples, in order of first sample; 0 when none */
	char standbys[TIMESERIES_MAX_NODES][EVENT_NODE_LEN];
	size_t nfaults;
	struct ts_fault *faults;
	size_t nchanges;
	struct ts_change *changes;
};

/*
 * Bin a loaded log into bins of bin_us (> 0) from time 0 to its last event. Lag columns
 * stay empty (nstandbys == 0) for logs without lag events. False (logged) for a log longer
 * than TIMESERIES_MAX_SPAN_US or more than TIMESERIES_MAX_NODES names; out is then empty.
 */
bool timeseries_compute(const struct events *ev, int64_t bin_us, struct timeseries *out);

/* Free what timeseries_compute allocated; a zeroed struct is fine. */
void timeseries_free(struct timeseries *ts);

#endif
