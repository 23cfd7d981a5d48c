/*
 * metrics.h - pure functions: a const event log -> what users care about (see README and
 * the measurement notes). The computation is split by concern: metrics_failover.c (write
 * unavailability, promotion, routing), metrics_loss.c (read-back accounting, RPO),
 * metrics_lag.c (replication lag, time to full redundancy), metrics_splitbrain.c and
 * metrics_trials.c (one number per metric and statistics across trials).
 */
#ifndef BISE_METRICS_H
#define BISE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "slo_spec.h" /* enum metric_id: the metrics a scenario can name */

#define METRICS_MAX_STANDBYS 8

enum lag_phase { LAG_BEFORE, LAG_DURING, LAG_AFTER, LAG_NPHASES };

/* Nearest-rank statistics of one series; n == 0 when it had no sample. */
struct series_stats {
	int64_t n;
	double max;
	double p50;
	double p95;
};

/* Replication lag of one standby in one phase (before / during / after the faults). */
struct lag_stats {
	struct series_stats bytes;       /* primary position - replay position */
	struct series_stats flush_bytes; /* primary position - flush position */
	struct series_stats time_s;      /* replay_lag column, only while bytes > 0 */
	struct series_stats est_s;       /* clock-free estimate from the sampled primary positions */
};

/* Read unavailability of one read target (enum read_target), same rule as the WUW. */
struct read_window {
	bool seen;          /* reads with this target were recorded */
	bool outage_seen;   /* a failed read after the fault */
	bool outage_closed; /* an ok read ended it */
	int64_t start_us;   /* last ok read before the outage */
	int64_t end_us;     /* first ok read that ended it */
	int64_t dur_us;
};

#define METRICS_READ_TARGETS 3

struct standby_lag {
	char name[EVENT_NODE_LEN];
	struct lag_stats phase[LAG_NPHASES];
};

#define METRICS_MAX_FAULTS 32

/*
 * One applied fault's timing (metrics_faults.c), in microseconds since the log origin
 * unless named *_latency, *_late or *_us durations. A time is when the fault (or its
 * revert) took effect as the backend observed it; apply_by / revert_by say how
 * ("nft-commit", "cgroup-frozen", "api-accepted", "returned": nothing observed, the call's
 * return; "" in logs of an older bise, stamped at the call's start or return).
 */
struct fault_timing_metric {
	char fault[32];
	char node[EVENT_NODE_LEN];
	int step;
	int rep;
	char apply_by[32];
	char revert_by[32];
	int64_t apply_effect_us;
	int64_t apply_latency_us;  /* called -> effect; -1 when not logged */
	bool apply_late_known;
	int64_t apply_late_us;     /* effect - the plan's deadline (> 0: late) */
	int64_t requested_us;      /* time in force asked for; -1 when not logged */
	bool reverted;             /* a revert (or restart) was paired with it */
	int64_t revert_effect_us;
	int64_t revert_latency_us; /* -1 when not logged */
	bool revert_late_known;
	int64_t revert_late_us;
	int64_t effective_us;      /* revert effect - apply effect */
	bool duration_known;       /* reverted, and requested_us was logged */
	int64_t duration_error_us; /* effective - requested */
};

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
	/*
	 * As far as the writes prove it (write_unavailability in metrics_failover.c), the
	 * service was lost within [start_lo, start_hi] and came back within [end_lo, end_hi].
	 * Set with outage_closed only: without an end no uncertainty is claimed (all 0).
	 */
	int64_t outage_start_lo_us;   /* latest send of an ack before the outage */
	int64_t outage_start_hi_us;   /* earliest completion of a non-ok attempt in it */
	int64_t outage_end_lo_us;     /* latest send of a non-ok attempt before the first ack */
	int64_t outage_end_hi_us;     /* the first ack's completion (= outage_end_us) */
	int64_t failover_start_uncertainty_us; /* start_hi - start_lo */
	int64_t failover_end_uncertainty_us;   /* end_hi - end_lo */
	int64_t failover_uncertainty_us; /* their sum: the true window is wuw_dur_us +- this */
	/*
	 * The server's recovery apart from the client's: the first read-write connection a
	 * server accepted (answered) after the window began, from connect events. After a
	 * freeze it can come well before the first ack, or a connection sent during the
	 * pause waits in the server's backlog (accept_wait).
	 */
	bool accept_seen;
	int64_t t_accept_us;          /* when the server answered that connection */
	int64_t accept_dur_us;        /* outage_start -> t_accept = server_accept_time */
	int64_t accept_wait_us;       /* that connection's send -> t_accept */
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
	int64_t write_spacing_us;     /* mean spacing of write attempts before the fault */
	int64_t t_heal_us;            /* last fault revert (the first apply when nothing reverts) */

	/* the platform's view of roles (api_role events: a Kubernetes watch of the pods) */
	bool api_roles_seen;          /* the backend logged api_role events */
	bool label_switch_seen;       /* after the fault another pod was labelled primary */
	int64_t t_label_switch_us;
	int64_t label_switch_dur_us;  /* t_fault -> t_label_switch = label_switch_time */
	char label_old_primary[EVENT_NODE_LEN]; /* labelled primary at the fault ("" unknown) */
	char label_new_primary[EVENT_NODE_LEN];

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

	/* RPO: rpo_time_seen needs a read-back; rpo_bytes_seen a promotion onto another node */
	bool rpo_time_seen;
	int64_t rpo_dur_us;           /* last lost ack - last surviving ack before the first lost one */
	bool rpo_bytes_seen;
	int64_t rpo_bytes;            /* old primary's last sampled position - switch point */
	uint64_t old_primary_lsn;
	uint64_t switch_lsn;

	/* replication lag, from lag events */
	bool lag_seen;
	int nstandbys;
	struct standby_lag standbys[METRICS_MAX_STANDBYS];
	double max_lag_bytes;         /* every standby, every phase */
	double max_lag_est_s;         /* clock-free estimate: the max_lag_time SLO */
	double max_lag_col_s;         /* replay_lag column while behind */

	/* time to full redundancy: heal -> every replica streams and replayed heal's position */
	bool redundancy_checked;      /* a fault was applied and lag was sampled */
	bool redundancy_reached;
	int64_t redundancy_dur_us;
	uint64_t heal_lsn;            /* the primary's position at heal time */
	char redundancy_missing[EVENT_NODE_LEN]; /* a replica that never caught up */

	/* split brain: two instances seen out of recovery at once */
	bool split_brain_checked;     /* two or more instances were sampled */
	int split_brains;             /* periods */
	int64_t split_brain_dur_us;   /* summed lengths (lower bound from samples) */
	int64_t split_brain_start_us; /* the first period */
	int64_t split_brain_end_us;
	int64_t split_brain_writes;   /* ok writes acknowledged by the losing side during one */
	int64_t split_brain_lost;     /* ... of which missing from the read-back */
	char split_brain_loser[EVENT_NODE_LEN];
	int64_t split_brain_resolution_us; /* watcher period: each edge is known to this */

	/* reader probes (metrics_reads.c) */
	int64_t reads;
	int64_t reads_ok;
	int64_t reads_fail;
	int64_t reads_replica;        /* ok reads answered by a server in recovery */
	struct read_window read_windows[METRICS_READ_TARGETS];
	bool staleness_checked;       /* ok reads and acknowledged writes of writer 0 */
	int64_t stale_reads;          /* ok reads that missed a write acknowledged before they were sent */
	int64_t max_staleness_us;
	int64_t p95_staleness_us;     /* nearest rank over every ok read (fresh ones count as 0) */
	bool deposed_checked;         /* ok reads and role samples */
	int64_t deposed_reads;        /* answered as primary after another primary on a newer timeline was seen */
	int64_t first_deposed_us;
	char deposed_node[EVENT_NODE_LEN];

	/* around and after the failover (metrics_aftermath.c) */
	bool detect_seen;             /* a control-plane sign before the promotion (api_role) */
	int64_t t_detect_us;
	int64_t detection_dur_us;     /* t_fault -> t_detect */
	bool rollback_seen;           /* after the promotion, only primaries on an older timeline */
	int64_t t_rollback_us;
	char rollback_node[EVENT_NODE_LEN];
	int rollback_timeline;        /* the older timeline it serves */
	int rollback_from_timeline;   /* the newest timeline a primary had been seen on */
	int outages;                  /* write outages after the fault (gaps of 1 s or more, and the WUW) */
	bool second_outage_seen;      /* writes were back, then unavailable again */
	bool second_outage_closed;
	int64_t second_outage_start_us;
	int64_t second_outage_end_us;
	int64_t second_outage_dur_us;

	/* each fault's timing (metrics_faults.c), the first METRICS_MAX_FAULTS applies */
	int nfault_timings;
	struct fault_timing_metric fault_timings[METRICS_MAX_FAULTS];
	bool fault_duration_seen;      /* a reverted fault with its requested duration logged */
	int64_t max_duration_error_us; /* effective - requested of the fault where it is largest in size */
	bool fault_lateness_seen;      /* an apply or revert with its deadline logged */
	int64_t max_fault_late_us;     /* the latest effect against its deadline, applies and reverts */

	/* recovery */
	bool healthy_seen;
	bool healthy_ok;
	double healthy_seconds;
	int64_t t_healthy_us;         /* when the wait for health ended healthy (healthy_ok) */
	double provision_seconds;
};

/* Compute every metric from a loaded log. Never fails: unobserved parts stay *_seen=false. */
void metrics_compute(const struct events *ev, struct metrics *out);

/* ---- one number per metric, and statistics across trials (metrics_trials.c) ---- */


/*
 * What a metric measured in one run, in its base unit (microseconds, writes, bytes).
 * observed=false: not observable in this run (reason says why). never=true: the thing to
 * be timed never ended (fail_reason says what); it ranks above every number.
 */
struct metric_value {
	bool observed;
	bool never;
	double value;
	const char *reason;
	const char *fail_reason;
};

/* The value of one metric in one trial. */
void metric_value(const struct metrics *m, enum metric_id id, struct metric_value *out);

/* Statistics of one metric across trials (judge_metric_stats); a never counts as +infinity. */
struct trial_stats {
	int trials;   /* trials given */
	int observed; /* trials where the metric was observed (nevers included) */
	int never;    /* of which never ended */
	double min, p50, p95, max; /* INFINITY where a never is ranked; 0 when observed == 0 */
};

/* Nearest-rank percentile (0 < pct <= 100) of n sorted values; 0 when n == 0. */
double metrics_percentile(const double *sorted, int64_t n, double pct);

/* ---- shared by the harness/metrics*.c files only ---- */

/* ok and ok_unreplicated: the client got a commit either way. */
bool metrics_acked(enum write_outcome o);

void metrics_failover(const struct events *ev, struct metrics *m);
void metrics_label_switch(const struct events *ev, struct metrics *m); /* after metrics_failover */
void metrics_loss(const struct events *ev, struct metrics *m);   /* after metrics_failover */
void metrics_lag(const struct events *ev, struct metrics *m);    /* after metrics_failover */
void metrics_split_brain(const struct events *ev, struct metrics *m); /* after metrics_loss */
void metrics_reads(const struct events *ev, struct metrics *m);  /* after metrics_failover */
void metrics_aftermath(const struct events *ev, struct metrics *m); /* after metrics_label_switch */

/*
 * lost[i] (ev->nwrites flags): write i was acknowledged and is missing from the final
 * primary's read-back, as counted in metrics.lost; all false without a read-back.
 */
void metrics_lost_writes(const struct events *ev, bool *lost);

void metrics_faults(const struct events *ev, struct metrics *m);

/* metric_value for the read metrics (METRIC_READ_UNAVAILABILITY .. METRIC_DEPOSED_READS). */
void metrics_reads_value(const struct metrics *m, enum metric_id id, struct metric_value *o);

/* Is (writer, seq) in the final primary's read-back? Linear in its ranges: for few ids. */
bool metrics_readback_has(const struct events *ev, int writer, int64_t seq);

/* Sort values ascending and fill max/p50/p95 (n as given). */
void metrics_series(double *values, int64_t n, struct series_stats *out);

#endif
