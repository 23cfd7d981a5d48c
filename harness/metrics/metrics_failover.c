/*
 * metrics_failover.c - the client's view of a failover: the write-unavailability window,
 * with the uncertainty of its edges, promotion and routing phases, and when the platform's
 * role labels followed the new primary (label switch). Pure.
 */
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void find_fault(const struct events *ev, struct metrics *m)
{
	for (size_t i = 0; i < ev->nfaults; i++) {
		const struct fault_event *f = &ev->faults[i];

		if (strcmp(f->action, "apply") != 0)
			continue;
		/* Appends from several threads may land slightly out of order: take the earliest. */
		if (!m->fault_seen || f->t_us < m->t_fault_us)
			m->t_fault_us = f->t_us;
		m->fault_seen = true;
	}
}

/*
 * One attempt as the window sees it: a write (acked or not) or a failed connection
 * attempt of a writer that had no connection (connect events; a connection made is no
 * evidence about writes and is left out), or a dropped path probe that counts
 * (path_probe_counts). seq keeps log order for equal times.
 */
struct attempt {
	int64_t start_us;
	int64_t end_us;
	bool acked;
	bool connect;
	size_t seq;
};

/* By completion time; equal times keep log order so the result is deterministic. */
static int cmp_end(const void *a, const void *b)
{
	const struct attempt *x = a, *y = b;

	if (x->end_us != y->end_us)
		return x->end_us < y->end_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Faults that drop or hold packets at random: a probe lost there shows no outage. */
static bool shapes_packets(const char *fault)
{
	return strcmp(fault, "packet-loss") == 0 || strcmp(fault, "latency") == 0 || strcmp(fault, "bandwidth") == 0;
}

/* After such a fault's revert, packets it held may still arrive late (netdelay's queue). */
#define SHAPED_SETTLE_US 1000000

/* A fault that shapes packets was in force from before c ended until after c was sent. */
static bool shaped_around(const struct events *ev, const struct path_event *c)
{
	for (size_t i = 0; i < ev->nfaults; i++) {
		const struct fault_event *a = &ev->faults[i];
		int64_t until = INT64_MAX;

		if (strcmp(a->action, "apply") != 0 || !shapes_packets(a->fault) || a->t_us > c->end_us)
			continue;
		for (size_t j = 0; j < ev->nfaults; j++) {
			const struct fault_event *r = &ev->faults[j];

			if (strcmp(r->action, "revert") == 0 && r->step == a->step && r->rep == a->rep &&
			    strcmp(r->fault, a->fault) == 0 && r->t_us >= a->t_us && r->t_us < until)
				until = r->t_us;
		}
		if (until == INT64_MAX || until + SHAPED_SETTLE_US > c->start_us)
			return true;
	}
	return false;
}

/*
 * A path probe dropped on its way to or from c->node (a later one was answered) shows that
 * no member took writes at its send only when that node was the primary all along: no
 * promotion and no other node seen primary since the fault. And only when no fault that
 * drops or holds packets at random was in force around it: there a lost or overtaken
 * probe proves nothing.
 */
static bool path_probe_counts(const struct events *ev, const struct metrics *m, const struct path_event *c)
{
	if (!c->node[0] || m->promote_seen || shaped_around(ev, c))
		return false;
	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *n = &ev->nodes[i];

		if (n->role == NODE_PRIMARY && n->t_us >= m->t_fault_us && strcmp(n->node, c->node) != 0)
			return false;
	}
	return true;
}

/* A failure (a failed attempt or a dropped path probe) as the k-th attempt. */
static void add_failure(struct attempt *all, size_t *k, int64_t start_us, int64_t end_us)
{
	all[*k].start_us = start_us;
	all[*k].end_us = end_us;
	all[*k].acked = false;
	all[*k].connect = true;
	all[*k].seq = *k;
	(*k)++;
}

static struct attempt *collect(const struct events *ev, const struct metrics *m, size_t *n)
{
	struct attempt *all = xmalloc((ev->nwrites + ev->nconnects + ev->npaths + 1) * sizeof(*all));
	size_t k = 0;

	for (size_t i = 0; i < ev->nwrites; i++, k++) {
		all[k].start_us = ev->writes[i].start_us;
		all[k].end_us = ev->writes[i].end_us;
		all[k].acked = metrics_acked(ev->writes[i].outcome);
		all[k].connect = false;
		all[k].seq = k;
	}
	for (size_t i = 0; i < ev->nconnects; i++)
		if (!ev->connects[i].ok)
			add_failure(all, &k, ev->connects[i].start_us, ev->connects[i].end_us);
	for (size_t i = 0; i < ev->npaths; i++)
		if (path_probe_counts(ev, m, &ev->paths[i]))
			add_failure(all, &k, ev->paths[i].start_us, ev->paths[i].end_us);
	*n = k;
	return all;
}

/*
 * Write-unavailability window over all writers merged by completion time. Walk the gaps
 * between consecutive acknowledged writes; a gap holding a non-ok outcome completed at or
 * after t_fault is an outage. We report the LONGEST such gap, not the first: with several
 * writers, a write already in flight when the primary died can still be acknowledged just
 * after the first failure, splitting the real outage into a short gap followed by the long
 * one. An outage still open at the end of the log wins over any closed one (never recovered).
 *
 * An ack proves the service up at some instant between its send (t0) and its completion
 * (t). A failure (failed or indeterminate write, failed connection attempt) sent after the
 * last ack completed, into the gap, was sent into the outage: it shows the service down at
 * its send; one in flight when the last ack completed only somewhere before its own end.
 * So the loss lies after the latest send of an ack before the gap and before the earliest
 * such instant of a failure in it (a write in flight at the loss fails after it, one sent
 * into a dropped path hangs until its timeout); the return lies after the latest send of a failure sent
 * in the window (an attempt sent just before the return can end after the first ack: a
 * connection held up until its deadline, or until a later one of its writer connected;
 * see straggle_end) and before the first ack's completion. These are the edges'
 * uncertainty intervals.
 *
 * A connection attempt sent before the previous ack completed cannot open a gap: it is a
 * straggler of the outage before, counted for that outage's end (straggle_end).
 */
struct wuw_walk {
	bool have_prev;        /* an ack was seen */
	int64_t prev_ack;      /* its completion */
	int64_t max_ack_t0;    /* latest send of any ack so far */
	bool gap_outage;       /* the current gap holds a failure after the fault */
	int64_t gap_min_fail_t;  /* earliest instant such a failure shows the service down */
	int64_t gap_max_fail_t0; /* latest send of such a failure in the gap */
};

static void close_gap(const struct wuw_walk *g, int64_t earliest_start, const struct attempt *ack,
		      struct metrics *m)
{
	int64_t start = g->have_prev ? g->prev_ack : earliest_start;

	if (m->outage_closed && ack->end_us - start <= m->wuw_dur_us)
		return;
	m->outage_start_us = start;
	m->outage_end_us = ack->end_us;
	m->wuw_dur_us = ack->end_us - start;
	/* Without an ack before it the log starts in the outage: its first send bounds it. */
	m->outage_start_lo_us = g->have_prev ? g->max_ack_t0 : earliest_start;
	m->outage_start_hi_us = g->gap_min_fail_t;
	m->outage_end_lo_us = g->gap_max_fail_t0;
	m->outage_end_hi_us = ack->end_us;
}

/*
 * Failures sent in the window that ended after its first ack (a connection attempt at its
 * deadline, or held up until a later one of its writer connected) still bound the return:
 * sent while nothing was acknowledged, they are put down to this outage, unless an
 * attempt sent after the first ack had failed by then (the service may have dropped
 * again, and that could be what they ran into).
 */
static void straggle_end(const struct attempt *all, size_t n, struct metrics *m)
{
	int64_t again = INT64_MAX;

	for (size_t i = 0; i < n; i++)
		if (!all[i].acked && all[i].start_us >= m->outage_end_hi_us && all[i].end_us < again)
			again = all[i].end_us;
	for (size_t i = 0; i < n; i++) {
		const struct attempt *a = &all[i];

		if (a->acked || a->end_us <= m->outage_end_hi_us || a->end_us > again ||
		    a->start_us < m->outage_start_us || a->start_us >= m->outage_end_hi_us)
			continue;
		if (a->start_us > m->outage_end_lo_us)
			m->outage_end_lo_us = a->start_us;
	}
}

static void write_unavailability(const struct events *ev, struct metrics *m)
{
	struct attempt *all;
	struct wuw_walk g = { 0 };
	int64_t earliest_start = 0;
	size_t n;

	if (!m->fault_seen || ev->nwrites == 0)
		return;
	all = collect(ev, m, &n);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || all[i].start_us < earliest_start)
			earliest_start = all[i].start_us;
	qsort(all, n, sizeof(*all), cmp_end);
	for (size_t i = 0; i < n; i++) {
		const struct attempt *w = &all[i];

		if (!w->acked) {
			int64_t down_by;

			if (w->end_us < m->t_fault_us || (w->connect && g.have_prev && w->start_us < g.prev_ack))
				continue;
			/*
			 * Sent after the last ack completed: its send, or the fault's effect if it was
			 * sent before that (the service was up until then); in flight then: its end.
			 */
			down_by = w->end_us;
			if (g.have_prev && w->start_us >= g.prev_ack) {
				down_by = w->start_us > m->t_fault_us ? w->start_us : m->t_fault_us;
				if (down_by > w->end_us)
					down_by = w->end_us;
			}
			if (!g.gap_outage || down_by < g.gap_min_fail_t)
				g.gap_min_fail_t = down_by;
			if (!g.gap_outage || w->start_us > g.gap_max_fail_t0)
				g.gap_max_fail_t0 = w->start_us;
			g.gap_outage = m->outage_seen = true;
			continue;
		}
		if (g.gap_outage) {
			close_gap(&g, earliest_start, w, m);
			m->outage_closed = true;
			g.gap_outage = false;
		}
		if (!g.have_prev || w->start_us > g.max_ack_t0)
			g.max_ack_t0 = w->start_us;
		g.prev_ack = w->end_us;
		g.have_prev = true;
	}
	if (g.gap_outage) {
		/* Open-ended: its length is unknown, so no duration and no uncertainty. */
		m->outage_closed = false;
		m->outage_start_us = g.have_prev ? g.prev_ack : earliest_start;
		m->outage_end_us = 0;
		m->wuw_dur_us = 0;
		m->outage_start_lo_us = m->outage_start_hi_us = 0;
		m->outage_end_lo_us = m->outage_end_hi_us = 0;
	}
	if (m->outage_closed) {
		straggle_end(all, n, m);
		m->failover_start_uncertainty_us = m->outage_start_hi_us - m->outage_start_lo_us;
		m->failover_end_uncertainty_us = m->outage_end_hi_us - m->outage_end_lo_us;
		m->failover_uncertainty_us = m->failover_start_uncertainty_us + m->failover_end_uncertainty_us;
	}
	free(all);
}

/*
 * The server's recovery: the earliest answer of a server to a connection that became
 * read-write, after the window began. The first ack (the window's end) is the client's.
 */
static void server_accept(const struct events *ev, struct metrics *m)
{
	if (!m->outage_closed)
		return;
	for (size_t i = 0; i < ev->nconnects; i++) {
		const struct connect_event *c = &ev->connects[i];

		if (!c->ok || c->acc_us < 0 || c->acc_us <= m->outage_start_us)
			continue;
		if (m->accept_seen && c->acc_us >= m->t_accept_us)
			continue;
		m->accept_seen = true;
		m->t_accept_us = c->acc_us;
		m->accept_wait_us = c->acc_us - c->start_us;
	}
	if (m->accept_seen)
		m->accept_dur_us = m->t_accept_us - m->outage_start_us;
}

/*
 * Old primary: the last primary sample at or before t_fault. Promotion: the first sample
 * after it of any primary on a newer timeline, the old node included (a restarted
 * postmaster promotes in place onto a new timeline). Without any sample before the fault
 * there is no baseline timeline, so no promotion is claimed.
 */
static void promotion(const struct events *ev, struct metrics *m)
{
	const struct node_event *old = NULL, *neu = NULL;
	bool baseline = false;
	int old_tli = 0;

	if (!m->fault_seen)
		return;
	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *n = &ev->nodes[i];

		if (n->t_us > m->t_fault_us)
			continue;
		baseline = true;
		if (n->timeline > old_tli)
			old_tli = n->timeline;
		if (n->role == NODE_PRIMARY && (!old || n->t_us >= old->t_us))
			old = n;
	}
	if (!baseline)
		return;
	/* With a known old primary its timeline is the baseline; else the newest seen. */
	if (old) {
		old_tli = old->timeline;
		str_copy(m->old_primary, sizeof(m->old_primary), old->node);
	}
	m->old_timeline = old_tli;
	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *n = &ev->nodes[i];

		if (n->t_us <= m->t_fault_us || n->role != NODE_PRIMARY || n->timeline <= old_tli)
			continue;
		if (!neu || n->t_us < neu->t_us)
			neu = n;
	}
	if (!neu)
		return;
	m->promote_seen = true;
	m->t_promote_us = neu->t_us;
	m->promotion_dur_us = neu->t_us - m->t_fault_us;
	m->new_timeline = neu->timeline;
	str_copy(m->new_primary, sizeof(m->new_primary), neu->node);
}

static void routing(const struct events *ev, struct metrics *m)
{
	if (!m->promote_seen)
		return;
	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];

		if (!metrics_acked(w->outcome) || w->end_us < m->t_promote_us || strcmp(w->node, m->new_primary) != 0)
			continue;
		if (!m->routing_seen || w->end_us < m->t_ok_new_us)
			m->t_ok_new_us = w->end_us;
		m->routing_seen = true;
	}
	if (m->routing_seen)
		m->routing_dur_us = m->t_ok_new_us - m->t_promote_us;
}

/* Mean spacing of write starts (all writers) before the fault: how densely writes sample. */
static void write_spacing(const struct events *ev, struct metrics *m)
{
	int64_t first = 0, last = 0, count = 0;

	for (size_t i = 0; i < ev->nwrites; i++) {
		int64_t s = ev->writes[i].start_us;

		if (m->fault_seen && s >= m->t_fault_us)
			continue;
		if (count == 0 || s < first)
			first = s;
		if (count == 0 || s > last)
			last = s;
		count++;
	}
	m->write_spacing_us = count >= 2 ? (last - first) / (count - 1) : 0;
}

/* Heal: the last revert; a fault with nothing to revert (process-kill) heals at once. */
static void find_heal(const struct events *ev, struct metrics *m)
{
	m->t_heal_us = m->t_fault_us;
	for (size_t i = 0; i < ev->nfaults; i++) {
		const struct fault_event *f = &ev->faults[i];

		if (strcmp(f->action, "revert") == 0 && f->t_us > m->t_heal_us)
			m->t_heal_us = f->t_us;
	}
}

void metrics_failover(const struct events *ev, struct metrics *m)
{
	find_fault(ev, m);
	/* Before the window: a promotion makes the path probes' evidence void. */
	promotion(ev, m);
	write_unavailability(ev, m);
	server_accept(ev, m);
	routing(ev, m);
	write_spacing(ev, m);
	if (m->fault_seen)
		find_heal(ev, m);
}

/*
 * The platform's view (api_role events from a Kubernetes watch): the pod labelled primary
 * at the fault is the last to become primary at or before it and not relabelled since
 * (else the watcher's old primary); the switch is the first api_role primary after the
 * fault on another pod, the moment an operator's read-write service follows the new one.
 */
void metrics_label_switch(const struct events *ev, struct metrics *m)
{
	const struct api_role_event *first = NULL;

	m->api_roles_seen = ev->napi_roles > 0;
	if (!m->api_roles_seen || !m->fault_seen)
		return;
	for (size_t i = 0; i < ev->napi_roles; i++) {
		const struct api_role_event *a = &ev->api_roles[i];

		if (a->t_us > m->t_fault_us)
			continue;
		if (a->role == API_ROLE_PRIMARY)
			str_copy(m->label_old_primary, sizeof(m->label_old_primary), a->node);
		else if (strcmp(a->node, m->label_old_primary) == 0)
			m->label_old_primary[0] = '\0';
	}
	if (!m->label_old_primary[0])
		str_copy(m->label_old_primary, sizeof(m->label_old_primary), m->old_primary);
	if (!m->label_old_primary[0])
		return;
	for (size_t i = 0; i < ev->napi_roles; i++) {
		const struct api_role_event *a = &ev->api_roles[i];

		if (a->t_us <= m->t_fault_us || a->role != API_ROLE_PRIMARY ||
		    strcmp(a->node, m->label_old_primary) == 0)
			continue;
		/* Appends from several threads may land slightly out of order: take the earliest. */
		if (!first || a->t_us < first->t_us)
			first = a;
	}
	if (!first)
		return;
	m->label_switch_seen = true;
	m->t_label_switch_us = first->t_us;
	m->label_switch_dur_us = first->t_us - m->t_fault_us;
	str_copy(m->label_new_primary, sizeof(m->label_new_primary), first->node);
}
