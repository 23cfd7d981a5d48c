/*
 * metrics_reads.c - what the reader probes saw: read unavailability per routing target,
 * staleness of what reads returned, and reads served by a deposed primary. Pure.
 */
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NODES (2 * METRICS_MAX_STANDBYS)

static int cmp_read_end(const void *a, const void *b)
{
	const struct read_event *x = *(const struct read_event *const *)a;
	const struct read_event *y = *(const struct read_event *const *)b;

	if (x->end_us != y->end_us)
		return x->end_us < y->end_us ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * The write-unavailability rule (metrics_failover.c) applied to the reads of one target:
 * gaps between consecutive ok reads merged by completion time; a gap holding a failed read
 * completed at or after the fault is an outage; the longest wins, an open one wins over all.
 */
static void read_window(const struct events *ev, const struct metrics *m, enum read_target target,
			struct read_window *w)
{
	const struct read_event **order = xmalloc((ev->nreads + 1) * sizeof(*order));
	int64_t earliest = 0, prev_ok = 0;
	bool have_prev = false, gap_outage = false;
	size_t n = 0;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < ev->nreads; i++) {
		if (ev->reads[i].target != target)
			continue;
		if (n == 0 || ev->reads[i].start_us < earliest)
			earliest = ev->reads[i].start_us;
		order[n++] = &ev->reads[i];
	}
	w->seen = n > 0;
	if (!m->fault_seen || n == 0) {
		free(order);
		return;
	}
	qsort(order, n, sizeof(*order), cmp_read_end);
	for (size_t i = 0; i < n; i++) {
		const struct read_event *r = order[i];
		int64_t start;

		if (!r->ok) {
			if (r->end_us >= m->t_fault_us)
				gap_outage = w->outage_seen = true;
			continue;
		}
		if (gap_outage) {
			start = have_prev ? prev_ok : earliest;
			if (!w->outage_closed || r->end_us - start > w->dur_us) {
				w->start_us = start;
				w->end_us = r->end_us;
				w->dur_us = r->end_us - start;
			}
			w->outage_closed = true;
			gap_outage = false;
		}
		prev_ok = r->end_us;
		have_prev = true;
	}
	if (gap_outage) {
		w->outage_closed = false;
		w->start_us = have_prev ? prev_ok : earliest;
		w->end_us = 0;
		w->dur_us = 0;
	}
	free(order);
}

struct ack {
	int64_t seq;
	int64_t at_us;
};

static int cmp_ack(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The first acknowledged write of writer 0 with a sequence above s; NULL when none. */
static const struct ack *next_ack(const struct ack *acks, size_t n, int64_t s)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (acks[mid].seq <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? &acks[lo] : NULL;
}

/*
 * A read sent at t0 that saw seq s of writer 0 is stale by t0 - ack(next) when the next
 * acknowledged write of writer 0 (the lowest acked seq above s: failed writes also use a
 * seq) was acknowledged before t0. t0, not the read's completion: only a write acked
 * before the read was sent is one the read must see, whatever the read's own latency.
 */
static void staleness(const struct events *ev, struct metrics *m)
{
	struct ack *acks = xmalloc((ev->nwrites + 1) * sizeof(*acks));
	double *ages = xmalloc((ev->nreads + 1) * sizeof(*ages));
	struct series_stats st;
	size_t nacks = 0;
	int64_t nages = 0;

	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];

		if (w->writer == 0 && metrics_acked(w->outcome))
			acks[nacks++] = (struct ack){ w->seq, w->end_us };
	}
	qsort(acks, nacks, sizeof(*acks), cmp_ack);
	for (size_t i = 0; i < ev->nreads; i++) {
		const struct read_event *r = &ev->reads[i];
		const struct ack *next;
		int64_t age = 0;

		if (!r->ok)
			continue;
		next = next_ack(acks, nacks, r->seq_seen);
		if (next && next->at_us < r->start_us)
			age = r->start_us - next->at_us;
		if (age > 0)
			m->stale_reads++;
		ages[nages++] = (double)age;
	}
	m->staleness_checked = nages > 0 && nacks > 0;
	if (m->staleness_checked) {
		metrics_series(ages, nages, &st);
		m->max_staleness_us = (int64_t)st.max;
		m->p95_staleness_us = (int64_t)st.p95;
	}
	free(acks);
	free(ages);
}

static int node_slot(const char **names, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	if (*n == MAX_NODES)
		return -1;
	names[*n] = name;
	return (*n)++;
}

static int cmp_node_t(const void *a, const void *b)
{
	const struct node_event *x = *(const struct node_event *const *)a;
	const struct node_event *y = *(const struct node_event *const *)b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_read_start(const void *a, const void *b)
{
	const struct read_event *x = *(const struct read_event *const *)a;
	const struct read_event *y = *(const struct read_event *const *)b;

	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * A read answered by a server out of recovery on node N is served by a deposed primary
 * when, before the read was sent, the watcher had seen another node as primary on a
 * timeline newer than the one N answered on. Sent-before, not answered-before: the sample
 * then proves the newer primary existed while the read was served. The read's own
 * timeline matters: a replica's sampled timeline lags (its receiver's), so judging by
 * N's samples would call a freshly promoted, not yet sampled primary deposed. Reads that
 * carry no timeline fall back to N's latest sampled one; a node with none is not judged.
 */
static void deposed(const struct events *ev, struct metrics *m)
{
	const char *names[MAX_NODES];
	int latest_tli[MAX_NODES] = { 0 }, primary_tli[MAX_NODES] = { 0 }, nnames = 0;
	const struct node_event **samples = xmalloc((ev->nnodes + 1) * sizeof(*samples));
	const struct read_event **reads = xmalloc((ev->nreads + 1) * sizeof(*reads));
	size_t nreads = 0, k = 0;

	for (size_t i = 0; i < ev->nnodes; i++)
		samples[i] = &ev->nodes[i];
	qsort(samples, ev->nnodes, sizeof(*samples), cmp_node_t);
	for (size_t i = 0; i < ev->nreads; i++)
		if (ev->reads[i].ok)
			reads[nreads++] = &ev->reads[i];
	qsort(reads, nreads, sizeof(*reads), cmp_read_start);
	m->deposed_checked = nreads > 0 && ev->nnodes > 0;
	for (size_t i = 0; i < nreads; i++) {
		const struct read_event *r = reads[i];
		int me, tli;

		for (; k < ev->nnodes && samples[k]->t_us <= r->start_us; k++) {
			const struct node_event *s = samples[k];
			int slot = node_slot(names, &nnames, s->node);

			if (slot < 0 || s->timeline <= 0)
				continue;
			latest_tli[slot] = s->timeline;
			if (s->role == NODE_PRIMARY && s->timeline > primary_tli[slot])
				primary_tli[slot] = s->timeline;
		}
		if (r->in_recovery)
			continue;
		me = node_slot(names, &nnames, r->node);
		if (me < 0)
			continue;
		tli = r->timeline > 0 ? r->timeline : latest_tli[me];
		if (tli == 0)
			continue;
		for (int j = 0; j < nnames; j++) {
			if (j == me || primary_tli[j] <= tli)
				continue;
			if (m->deposed_reads == 0) {
				m->first_deposed_us = r->end_us;
				str_copy(m->deposed_node, sizeof(m->deposed_node), r->node);
			}
			m->deposed_reads++;
			break;
		}
	}
	free(samples);
	free(reads);
}

void metrics_reads(const struct events *ev, struct metrics *m)
{
	m->reads = (int64_t)ev->nreads;
	for (size_t i = 0; i < ev->nreads; i++) {
		if (!ev->reads[i].ok) {
			m->reads_fail++;
			continue;
		}
		m->reads_ok++;
		if (ev->reads[i].in_recovery)
			m->reads_replica++;
	}
	if (ev->nreads == 0)
		return;
	for (int t = 0; t < METRICS_READ_TARGETS; t++)
		read_window(ev, m, (enum read_target)t, &m->read_windows[t]);
	staleness(ev, m);
	deposed(ev, m);
}

/* The worst window over the targets read: an open one is never, else the longest. */
static void value_read_unavailability(const struct metrics *m, struct metric_value *o)
{
	if (m->reads == 0) {
		o->reason = "no reader probes in this run";
		return;
	}
	if (!m->fault_seen) {
		o->reason = "no fault was applied";
		return;
	}
	o->observed = true;
	for (int t = 0; t < METRICS_READ_TARGETS; t++) {
		const struct read_window *w = &m->read_windows[t];

		if (w->outage_seen && !w->outage_closed) {
			o->never = true;
			o->value = 0;
			o->fail_reason = "reads never recovered";
			return;
		}
		if (w->outage_closed && (double)w->dur_us > o->value)
			o->value = (double)w->dur_us;
	}
}

void metrics_reads_value(const struct metrics *m, enum metric_id id, struct metric_value *o)
{
	switch (id) {
	case METRIC_READ_UNAVAILABILITY:
		value_read_unavailability(m, o);
		break;
	case METRIC_MAX_STALENESS:
		o->observed = m->staleness_checked;
		o->value = (double)m->max_staleness_us;
		o->reason = m->staleness_checked ? NULL : "no ok read, or no acknowledged write of writer 0";
		break;
	case METRIC_DEPOSED_READS:
		o->observed = m->deposed_checked;
		o->value = (double)m->deposed_reads;
		o->reason = m->deposed_checked ? NULL : "no ok read, or no role samples";
		break;
	default:
		o->reason = "not a read metric";
		break;
	}
}
