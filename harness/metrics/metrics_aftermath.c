/*
 * metrics_aftermath.c - what happened around and after the failover, for the report that
 * explains a failure: the detection phase where the platform shows it, a rollback (the
 * old primary back as the only primary on an older timeline), a second outage after the
 * writes had recovered, and when the cluster was healthy again. Pure.
 */
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/*
 * A gap between acks shorter than this is a write or two failing among flowing ones (a
 * connection dropped once), not an outage: only longer ones are counted as outages.
 */
#define OUTAGE_MIN_US 1000000

/*
 * Detection: the first control-plane sign after the fault, where the log has one: the
 * platform's label of the old primary leaving "primary" (api_role). After the promotion it
 * no longer separates detection from promotion, so it is not claimed then.
 */
static void detection(const struct events *ev, struct metrics *m)
{
	if (!m->fault_seen || !m->label_old_primary[0])
		return;
	for (size_t i = 0; i < ev->napi_roles; i++) {
		const struct api_role_event *a = &ev->api_roles[i];

		if (a->t_us <= m->t_fault_us || a->role == API_ROLE_PRIMARY ||
		    strcmp(a->node, m->label_old_primary) != 0)
			continue;
		if (m->promote_seen && a->t_us > m->t_promote_us)
			continue;
		if (!m->detect_seen || a->t_us < m->t_detect_us)
			m->t_detect_us = a->t_us;
		m->detect_seen = true;
	}
	if (m->detect_seen)
		m->detection_dur_us = m->t_detect_us - m->t_fault_us;
}

#define ROLLBACK_MAX_NODES 16

/*
 * Rollback: after the promotion, the first sample after which every instance last seen as
 * primary serves a timeline older than the newest one a primary was seen on. Two primaries
 * on different timelines at once are a split brain, not yet a rollback.
 */
static void rollback(const struct events *ev, struct metrics *m)
{
	char names[ROLLBACK_MAX_NODES][EVENT_NODE_LEN];
	enum node_role role[ROLLBACK_MAX_NODES];
	int tli[ROLLBACK_MAX_NODES], n = 0, newest = 0;

	if (!m->promote_seen)
		return;
	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *s = &ev->nodes[i];
		int k, oldest_primary = -1;
		bool any = false, all_older = true;

		for (k = 0; k < n && strcmp(names[k], s->node) != 0; k++)
			;
		if (k == n) {
			if (n == ROLLBACK_MAX_NODES)
				continue;
			str_copy(names[n++], EVENT_NODE_LEN, s->node);
		}
		role[k] = s->role;
		tli[k] = s->timeline;
		if (s->role == NODE_PRIMARY && s->timeline > newest)
			newest = s->timeline;
		if (s->t_us < m->t_promote_us)
			continue;
		for (int j = 0; j < n; j++) {
			if (role[j] != NODE_PRIMARY)
				continue;
			any = true;
			all_older = all_older && tli[j] < newest;
			if (oldest_primary < 0 || tli[j] < tli[oldest_primary])
				oldest_primary = j;
		}
		if (!any || !all_older)
			continue;
		m->rollback_seen = true;
		m->t_rollback_us = s->t_us;
		m->rollback_timeline = tli[oldest_primary];
		m->rollback_from_timeline = newest;
		str_copy(m->rollback_node, sizeof(m->rollback_node), names[oldest_primary]);
		return;
	}
}

/* By completion time; equal times keep log order so the result is deterministic. */
static int cmp_end(const void *a, const void *b)
{
	const struct write_event *x = *(const struct write_event *const *)a;
	const struct write_event *y = *(const struct write_event *const *)b;

	if (x->end_us != y->end_us)
		return x->end_us < y->end_us ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Count an outage [start, end) (end < 0: still open at the end of the log). */
static void outage_found(struct metrics *m, int64_t start, int64_t end)
{
	m->outages++;
	if (m->outages != 2)
		return;
	m->second_outage_seen = true;
	m->second_outage_start_us = start;
	m->second_outage_closed = end >= 0;
	m->second_outage_end_us = end >= 0 ? end : 0;
	m->second_outage_dur_us = end >= 0 ? end - start : 0;
}

/*
 * Outages after the fault, in order: gaps between consecutive acks (all writers merged by
 * completion) holding a failed or indeterminate write completed after the fault, at least
 * OUTAGE_MIN_US long; one still open at the end counts when its failures span that long.
 * The second one is the "second outage": writes were back, then lost again.
 */
static void outages(const struct events *ev, struct metrics *m)
{
	const struct write_event **order;
	int64_t prev_ack = 0, last_fail = 0;
	bool have_prev = false, failing = false;

	if (!m->fault_seen || ev->nwrites == 0)
		return;
	order = xmalloc(ev->nwrites * sizeof(*order));
	for (size_t i = 0; i < ev->nwrites; i++)
		order[i] = &ev->writes[i];
	qsort(order, ev->nwrites, sizeof(*order), cmp_end);
	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = order[i];

		if (!metrics_acked(w->outcome)) {
			if (w->end_us >= m->t_fault_us) {
				failing = true;
				last_fail = w->end_us;
			}
			continue;
		}
		/* The write-unavailability window itself always counts, however short. */
		if (failing && have_prev &&
		    (w->end_us - prev_ack >= OUTAGE_MIN_US || (m->outage_closed && prev_ack == m->outage_start_us)))
			outage_found(m, prev_ack, w->end_us);
		failing = false;
		prev_ack = w->end_us;
		have_prev = true;
	}
	if (failing && have_prev && last_fail - prev_ack >= OUTAGE_MIN_US)
		outage_found(m, prev_ack, -1);
	free(order);
}

static void healthy(const struct events *ev, struct metrics *m)
{
	m->healthy_seen = ev->healthy_seen;
	m->healthy_ok = ev->healthy_ok;
	m->healthy_seconds = ev->healthy_seconds;
	if (ev->healthy_seen && ev->healthy_ok)
		m->t_healthy_us = ev->healthy_us;
}

void metrics_aftermath(const struct events *ev, struct metrics *m)
{
	detection(ev, m);
	rollback(ev, m);
	outages(ev, m);
	healthy(ev, m);
}
