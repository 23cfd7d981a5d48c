/*
 * metrics.c - a loaded event log -> the numbers users care about. Pure: no I/O, no clocks,
 * so `bise report` recomputes exactly what the run reported. Definitions follow the
 * project's measurement notes (measurements.md).
 */
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/*
 * The client got a commit either way; ok_unreplicated only says the commit is local to
 * the primary (it counts as acknowledged for data loss, and as available for the WUW).
 */
static bool acked(enum write_outcome o)
{
	return o == WRITE_OK || o == WRITE_OK_UNREPLICATED;
}

static void count_outcomes(const struct events *ev, struct metrics *m)
{
	m->attempted = (int64_t)ev->nwrites;
	for (size_t i = 0; i < ev->nwrites; i++) {
		switch (ev->writes[i].outcome) {
		case WRITE_OK:
			m->ok++;
			break;
		case WRITE_FAIL:
			m->fail++;
			break;
		case WRITE_INDETERMINATE:
			m->indeterminate++;
			break;
		case WRITE_OK_UNREPLICATED:
			m->ok_unreplicated++;
			break;
		}
	}
}

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

/* By completion time; equal times keep log order so the result is deterministic. */
static int cmp_end(const void *a, const void *b)
{
	const struct write_event *x = *(const struct write_event *const *)a;
	const struct write_event *y = *(const struct write_event *const *)b;

	if (x->end_us != y->end_us)
		return x->end_us < y->end_us ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Write-unavailability window over all writers merged by completion time. Walk the gaps
 * between consecutive acknowledged writes; a gap holding a non-ok outcome completed at or
 * after t_fault is an outage. We report the LONGEST such gap, not the first: with several
 * writers, a write already in flight when the primary died can still be acknowledged just
 * after the first failure, splitting the real outage into a short gap followed by the long
 * one. An outage still open at the end of the log wins over any closed one (never recovered).
 */
static void write_unavailability(const struct events *ev, struct metrics *m)
{
	const struct write_event **order;
	int64_t earliest_start = 0, prev_ack = 0;
	bool have_prev = false, gap_outage = false;

	if (!m->fault_seen || ev->nwrites == 0)
		return;
	order = xmalloc(ev->nwrites * sizeof(*order));
	for (size_t i = 0; i < ev->nwrites; i++) {
		order[i] = &ev->writes[i];
		if (i == 0 || ev->writes[i].start_us < earliest_start)
			earliest_start = ev->writes[i].start_us;
	}
	qsort(order, ev->nwrites, sizeof(*order), cmp_end);
	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = order[i];
		int64_t start;

		if (!acked(w->outcome)) {
			if (w->end_us >= m->t_fault_us)
				gap_outage = m->outage_seen = true;
			continue;
		}
		if (gap_outage) {
			start = have_prev ? prev_ack : earliest_start;
			if (!m->outage_closed || w->end_us - start > m->wuw_dur_us) {
				m->outage_start_us = start;
				m->outage_end_us = w->end_us;
				m->wuw_dur_us = w->end_us - start;
			}
			m->outage_closed = true;
			gap_outage = false;
		}
		prev_ack = w->end_us;
		have_prev = true;
	}
	if (gap_outage) {
		/* Open-ended: its length is unknown, so no duration is reported. */
		m->outage_closed = false;
		m->outage_start_us = have_prev ? prev_ack : earliest_start;
		m->outage_end_us = 0;
		m->wuw_dur_us = 0;
	}
	free(order);
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

		if (!acked(w->outcome) || w->end_us < m->t_promote_us || strcmp(w->node, m->new_primary) != 0)
			continue;
		if (!m->routing_seen || w->end_us < m->t_ok_new_us)
			m->t_ok_new_us = w->end_us;
		m->routing_seen = true;
	}
	if (m->routing_seen)
		m->routing_dur_us = m->t_ok_new_us - m->t_promote_us;
}

/* Mean spacing of write starts (all writers) before the fault: the WUW's granularity. */
static void resolution(const struct events *ev, struct metrics *m)
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
	m->resolution_us = count >= 2 ? (last - first) / (count - 1) : 0;
}

/* ---- data loss ---- */

struct span {
	int writer;
	int64_t first;
	int64_t last;
};

static int cmp_id(const void *a, const void *b)
{
	const struct write_event *x = *(const struct write_event *const *)a;
	const struct write_event *y = *(const struct write_event *const *)b;

	if (x->writer != y->writer)
		return x->writer < y->writer ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->writer != y->writer)
		return x->writer < y->writer ? -1 : 1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->last > y->last) - (x->last < y->last);
}

/* Is (writer, seq) < the end of span s? Used to advance the span cursor. */
static bool span_before(const struct span *s, int writer, int64_t seq)
{
	return s->writer < writer || (s->writer == writer && s->last < seq);
}

/*
 * The read-back as a sorted, merged set of (writer, seq) spans; a dup's seq is added too
 * so a dup missing from the ranges still counts as found. Also the row count as the
 * read-back reported it (ranges + extra copies), kept apart so the balance can fail.
 * Only the final primary's read-back counts when readback_done names it.
 */
static struct span *found_set(const struct events *ev, size_t *nspans, int64_t *rows, int64_t *extra)
{
	struct span *sp;
	size_t n = 0, cap = 0, k = 0;

	*rows = *extra = 0;
	for (size_t i = 0; i < ev->nreadbacks; i++)
		cap += ev->readbacks[i].nranges + ev->readbacks[i].ndups;
	sp = xmalloc(cap * sizeof(*sp));
	for (size_t i = 0; i < ev->nreadbacks; i++) {
		const struct readback_event *r = &ev->readbacks[i];

		if (ev->readback_node[0] && strcmp(r->node, ev->readback_node) != 0)
			continue;
		for (size_t j = 0; j < r->nranges; j++) {
			sp[n++] = (struct span){ r->writer, r->ranges[j].first, r->ranges[j].last };
			*rows += r->ranges[j].last - r->ranges[j].first + 1;
		}
		for (size_t j = 0; j < r->ndups; j++) {
			sp[n++] = (struct span){ r->writer, r->dups[j].seq, r->dups[j].seq };
			*rows += r->dups[j].count - 1;
			*extra += r->dups[j].count - 1;
		}
	}
	qsort(sp, n, sizeof(*sp), cmp_span);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && sp[k - 1].writer == sp[i].writer && sp[i].first <= sp[k - 1].last + 1) {
			if (sp[i].last > sp[k - 1].last)
				sp[k - 1].last = sp[i].last;
		} else {
			sp[k++] = sp[i];
		}
	}
	*nspans = k;
	return sp;
}

/*
 * Classify every attempted id against the read-back with one merge walk over both sorted
 * lists: O(n log n) for a million writes. An id logged twice takes its last outcome (the
 * writers never reuse one; if it happens, the later record is the later knowledge).
 */
static void data_loss(const struct events *ev, struct metrics *m)
{
	const struct write_event **ids;
	struct span *sp;
	size_t nspans, cur = 0;
	int64_t rows, extra, set_size = 0, attempted_found = 0, acked_total = 0, acked_found = 0;

	m->readback_seen = ev->readback_done;
	if (!m->readback_seen)
		return;
	sp = found_set(ev, &nspans, &rows, &extra);
	for (size_t i = 0; i < nspans; i++)
		set_size += sp[i].last - sp[i].first + 1;
	ids = xmalloc(ev->nwrites * sizeof(*ids));
	for (size_t i = 0; i < ev->nwrites; i++)
		ids[i] = &ev->writes[i];
	qsort(ids, ev->nwrites, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = ids[i];
		bool found;

		if (i + 1 < ev->nwrites && ids[i + 1]->writer == w->writer && ids[i + 1]->seq == w->seq)
			continue; /* a later record of the same id follows */
		while (cur < nspans && span_before(&sp[cur], w->writer, w->seq))
			cur++;
		found = cur < nspans && sp[cur].writer == w->writer && sp[cur].first <= w->seq;
		if (found)
			attempted_found++;
		switch (w->outcome) {
		case WRITE_OK:
		case WRITE_OK_UNREPLICATED:
			acked_total++;
			if (found)
				acked_found++;
			else
				m->lost++;
			break;
		case WRITE_INDETERMINATE:
			if (found)
				m->recovered++;
			else
				m->indeterminate_missing++;
			break;
		case WRITE_FAIL:
			if (found)
				m->failed_found++;
			break;
		}
	}
	m->found = rows;
	m->duplicates = extra;
	m->phantom = set_size - attempted_found + extra;
	/* Each side counted on its own: overlapping ranges or a dup outside them unbalance it. */
	m->balanced = m->found == acked_found + m->recovered + m->failed_found + m->phantom &&
		      acked_total == acked_found + m->lost;
	free(ids);
	free(sp);
}

void metrics_compute(const struct events *ev, struct metrics *out)
{
	memset(out, 0, sizeof(*out));
	count_outcomes(ev, out);
	find_fault(ev, out);
	write_unavailability(ev, out);
	promotion(ev, out);
	routing(ev, out);
	resolution(ev, out);
	data_loss(ev, out);
	out->healthy_seen = ev->healthy_seen;
	out->healthy_ok = ev->healthy_ok;
	out->healthy_seconds = ev->healthy_seconds;
	out->provision_seconds = ev->provision_seconds;
}
