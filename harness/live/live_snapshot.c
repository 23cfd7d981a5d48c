/*
 * live_snapshot.c - what the page and /metrics show, derived from the trial's events as
 * fed so far: the faults in force (applies not yet reverted) with the time left until
 * their planned revert, the last lag row of each standby, the failover window from the
 * metrics layer, the next step. Under the live view's lock.
 */
#include "live_state.h"

#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define FAILOVER_EVERY_US (2 * 1000000LL)
#define LAG_STALE_US (5 * 1000000LL)

static double rel_s(const struct live *l, int64_t mono_us)
{
	return (double)(mono_us - l->origin_mono_us) / 1e6;
}

static double planned_revert_in(const struct live *l, int step, int rep, int64_t now)
{
	for (int i = 0; i < l->ndues; i++)
		if (l->dues[i].step == step && l->dues[i].rep == rep)
			return (double)(l->dues[i].due_mono_us - now) / 1e6;
	return -1;
}

/* Faults in force: applies not yet followed by their revert, in the log's order. */
static void snapshot_faults(struct live *l, int64_t now)
{
	struct live_snapshot *s = &l->snap;

	s->nfaults = 0;
	for (size_t i = 0; i < l->ev.nfaults; i++) {
		const struct fault_event *f = &l->ev.faults[i];
		int k;

		if (strcmp(f->action, "apply") == 0) {
			struct live_fault *x;

			/* A one-shot fault (nothing to revert: requested 0) is never in force. */
			if (s->nfaults == LIVE_MAX_FAULTS || f->requested_ms == 0)
				continue;
			x = &s->faults[s->nfaults++];
			memset(x, 0, sizeof(*x));
			str_copy(x->fault, sizeof(x->fault), f->fault);
			str_copy(x->target, sizeof(x->target), f->target);
			str_copy(x->node, sizeof(x->node), f->node);
			x->step = f->step;
			x->rep = f->rep;
			x->since_s = (double)f->t_us / 1e6;
			continue;
		}
		if (strcmp(f->action, "revert") != 0 && strcmp(f->action, "error") != 0)
			continue;
		for (k = 0; k < s->nfaults; k++)
			if (s->faults[k].step == f->step && s->faults[k].rep == f->rep)
				break;
		if (k < s->nfaults) {
			memmove(&s->faults[k], &s->faults[k + 1], (size_t)(s->nfaults - k - 1) * sizeof(s->faults[0]));
			s->nfaults--;
		}
	}
	for (int k = 0; k < s->nfaults; k++)
		s->faults[k].remaining_s = planned_revert_in(l, s->faults[k].step, s->faults[k].rep, now);
}

/* The latest pg_stat_replication row of each standby, if recent. */
static void snapshot_lag(struct live *l, int64_t now_rel_us)
{
	struct live_snapshot *s = &l->snap;

	s->nlags = 0;
	for (size_t i = l->ev.nlags; i-- > 0;) {
		const struct lag_event *g = &l->ev.lags[i];
		/* A walsender without application_name (a base backup, a rewind) has no member name. */
		const char *name = g->standby[0] ? g->standby : "(unnamed)";
		int k;

		if (now_rel_us - g->t_us > LAG_STALE_US)
			break;
		for (k = 0; k < s->nlags && strcmp(s->lags[k].standby, name) != 0; k++)
			;
		if (k < s->nlags || s->nlags == LIVE_MAX_NODES)
			continue;
		str_copy(s->lags[k].standby, sizeof(s->lags[k].standby), name);
		str_copy(s->lags[k].state, sizeof(s->lags[k].state), g->state);
		s->lags[k].known = g->replay && g->primary_lsn;
		s->lags[k].bytes = s->lags[k].known && g->primary_lsn > g->replay ? g->primary_lsn - g->replay : 0;
		s->nlags++;
	}
}

/*
 * The failover window from the metrics layer, on what the log holds so far: at most every
 * 2 s, and less often as the log grows (never more than 5 % of the pump's time).
 */
static void snapshot_failover(struct live *l, int64_t now)
{
	struct metrics *m;
	int64_t t;

	if (l->ev.nwrites == 0 || now - l->failover_at_us < FAILOVER_EVERY_US ||
	    now - l->failover_at_us < 20 * l->failover_cost_us)
		return;
	t = mono_now_us();
	m = xcalloc(1, sizeof(*m));
	metrics_failover(&l->ev, m);
	if (m->outage_seen) {
		l->snap.failover_seen = true;
		l->snap.failover_open = !m->outage_closed;
		l->snap.failover_trial = l->trial;
		l->snap.failover_s = m->outage_closed ? (double)m->wuw_dur_us / 1e6
						      : (double)(l->ev.writes[l->ev.nwrites - 1].end_us - m->outage_start_us) / 1e6;
		l->snap.failover_start_unc_s = (double)m->failover_start_uncertainty_us / 1e6;
		l->snap.failover_end_unc_s = (double)m->failover_end_uncertainty_us / 1e6;
	}
	free(m);
	l->failover_at_us = mono_now_us();
	l->failover_cost_us = l->failover_at_us - t;
}

void live_snapshot(struct live *l)
{
	struct live_snapshot *s = &l->snap;
	int64_t now = mono_now_us();
	long sec;

	s->t_s = rel_s(l, now);
	s->t0_s = l->ev.baseline_us >= 0 ? (double)l->ev.baseline_us / 1e6 : -1;
	memcpy(s->writes, l->trial_writes, sizeof(s->writes));
	sec = (long)s->t_s - 1;
	s->ok_s = s->err_s = 0;
	if (sec >= 0 && (size_t)sec < l->nbins) {
		s->ok_s = l->bins[sec].ok;
		s->err_s = l->bins[sec].err;
	}
	snapshot_faults(l, now);
	snapshot_lag(l, now - l->origin_mono_us);
	snapshot_failover(l, now);
	s->next_step = l->next_step;
	str_copy(s->next_what, sizeof(s->next_what), l->next_what);
	s->next_timed = l->next_step >= 0 && l->next_due_mono_us >= 0;
	s->next_in_s = s->next_timed ? (double)(l->next_due_mono_us - now) / 1e6 : 0;
	s->waiting = l->waiting;
	free(l->snap_json);
	l->snap_json = live_snapshot_json(l);
	l->snap_seq++;
	l->snap_at_us = now;
}
