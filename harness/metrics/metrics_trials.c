/*
 * metrics_trials.c - one number per metric and trial: what SLOs judge and what the
 * statistics across trials (judge.c) rank. Pure.
 */
#include "metrics.h"

#include <string.h>


static const char no_readback[] = "no read-back: the run ended before recovery";
static const char no_lag[] = "no replication samples (pg_stat_replication) in this run";

static void value_failover(const struct metrics *m, struct metric_value *o)
{
	if (!m->fault_seen) {
		o->reason = "no fault was applied";
	} else if (m->attempted == 0) {
		o->reason = "no writes were measured";
	} else if (!m->outage_seen) {
		/* No write failed after the fault: nothing was unavailable. */
		o->observed = true;
	} else if (!m->outage_closed) {
		o->observed = o->never = true;
		o->fail_reason = "writes never recovered";
	} else {
		o->observed = true;
		o->value = (double)m->wuw_dur_us;
	}
}

static void value_label_switch(const struct metrics *m, struct metric_value *o)
{
	if (!m->api_roles_seen)
		o->reason = "no role events from the platform's API (the backend has no watch)";
	else if (!m->fault_seen)
		o->reason = "no fault was applied";
	else if (!m->label_switch_seen)
		o->reason = m->label_old_primary[0] ? "no other pod was labelled primary after the fault" :
						      "no pod was labelled primary at the fault";
	o->observed = m->label_switch_seen;
	o->value = m->label_switch_seen ? (double)m->label_switch_dur_us : 0;
}

static void value_accept(const struct metrics *m, struct metric_value *o)
{
	if (!m->fault_seen)
		o->reason = "no fault was applied";
	else if (!m->outage_seen)
		o->reason = "no write failed after the fault";
	else if (!m->outage_closed)
		o->reason = "writes never recovered";
	else if (!m->accept_seen)
		o->reason = "no new connection was accepted in the outage (the writers kept theirs, "
			    "or the log has no connect events)";
	o->observed = m->accept_seen;
	o->value = m->accept_seen ? (double)m->accept_dur_us : 0;
}

static void value_recovery(const struct metrics *m, struct metric_value *o)
{
	if (!m->healthy_seen) {
		o->reason = "no wait for health in this run";
		return;
	}
	o->observed = true;
	if (m->healthy_ok) {
		o->value = m->healthy_seconds * 1e6;
	} else {
		o->never = true;
		o->fail_reason = "cluster did not recover within the timeout";
	}
}

static void value_redundancy(const struct metrics *m, struct metric_value *o)
{
	if (!m->redundancy_checked) {
		o->reason = m->fault_seen ? "no replication samples after the heal" : "no fault was applied";
		return;
	}
	o->observed = true;
	if (m->redundancy_reached) {
		o->value = (double)m->redundancy_dur_us;
	} else {
		o->never = true;
		o->fail_reason = "a replica never streamed the primary's position at heal time";
	}
}

/* Observed when cond, with value v; skipped with reason otherwise. */
static void value_if(struct metric_value *o, bool cond, double v, const char *reason)
{
	o->observed = cond;
	o->value = cond ? v : 0;
	o->reason = cond ? NULL : reason;
}

void metric_value(const struct metrics *m, enum metric_id id, struct metric_value *o)
{
	memset(o, 0, sizeof(*o));
	switch (id) {
	case METRIC_FAILOVER_TIME:
		value_failover(m, o);
		break;
	case METRIC_PROMOTION_TIME:
		value_if(o, m->promote_seen, (double)m->promotion_dur_us, "no promotion observed");
		break;
	case METRIC_DATA_LOSS:
		value_if(o, m->readback_seen, (double)m->lost, no_readback);
		break;
	case METRIC_INDETERMINATE_WRITES:
		value_if(o, true, (double)m->indeterminate, NULL);
		break;
	case METRIC_PHANTOM_WRITES:
		value_if(o, m->readback_seen, (double)m->phantom, no_readback);
		break;
	case METRIC_RECOVERY_TIME:
		value_recovery(m, o);
		break;
	case METRIC_MAX_LAG_BYTES:
		value_if(o, m->lag_seen, m->max_lag_bytes, no_lag);
		break;
	case METRIC_MAX_LAG_TIME:
		value_if(o, m->lag_seen, m->max_lag_est_s * 1e6, no_lag);
		break;
	case METRIC_SPLIT_BRAIN_TIME:
		value_if(o, m->split_brain_checked, (double)m->split_brain_dur_us,
			 "fewer than two instances were sampled");
		break;
	case METRIC_SPLIT_BRAIN_WRITES:
		value_if(o, m->split_brain_checked, (double)m->split_brain_writes,
			 "fewer than two instances were sampled");
		break;
	case METRIC_RPO_TIME:
		value_if(o, m->rpo_time_seen, (double)m->rpo_dur_us, no_readback);
		break;
	case METRIC_RPO_BYTES:
		value_if(o, m->rpo_bytes_seen, (double)m->rpo_bytes,
			 "no promotion observed, or no position samples around it");
		break;
	case METRIC_REDUNDANCY_TIME:
		value_redundancy(m, o);
		break;
	case METRIC_READ_UNAVAILABILITY:
	case METRIC_MAX_STALENESS:
	case METRIC_DEPOSED_READS:
		metrics_reads_value(m, id, o);
		break;
	case METRIC_LABEL_SWITCH_TIME:
		value_label_switch(m, o);
		break;
	case METRIC_FAULT_DURATION_ERROR:
		/* In size: a fault cut short is as wrong as one left too long. */
		value_if(o, m->fault_duration_seen,
			 (double)(m->max_duration_error_us < 0 ? -m->max_duration_error_us : m->max_duration_error_us),
			 "no reverted fault with its requested duration in the log");
		break;
	case METRIC_FAULT_LATENESS:
		value_if(o, m->fault_lateness_seen, (double)m->max_fault_late_us,
			 "no fault with its deadline in the log");
		break;
	case METRIC_SERVER_ACCEPT_TIME:
		value_accept(m, o);
		break;
	case METRIC_COUNT:
		o->reason = "unknown metric";
		break;
	}
}
