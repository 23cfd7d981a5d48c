/*
 * metrics_loss.c - what the final primary kept: the read-back accounting (lost, recovered,
 * phantom) and the recovery point (RPO) in seconds and in WAL bytes. Pure.
 */
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The earliest write start: where the history begins when nothing before a loss survived. */
static int64_t first_write_start(const struct events *ev)
{
	int64_t first = 0;

	for (size_t i = 0; i < ev->nwrites; i++)
		if (i == 0 || ev->writes[i].start_us < first)
			first = ev->writes[i].start_us;
	return first;
}

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

/* Sums over read-back figures a log may carry anywhere in int64: saturated, never wrapped. */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Rows in [first, last] (first <= last, checked by the reader): up to 2^64, saturated. */
static int64_t span_rows(int64_t first, int64_t last)
{
	uint64_t n = (uint64_t)last - (uint64_t)first;

	return n >= (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n + 1;
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
			*rows = sat_add(*rows, span_rows(r->ranges[j].first, r->ranges[j].last));
		}
		for (size_t j = 0; j < r->ndups; j++) {
			sp[n++] = (struct span){ r->writer, r->dups[j].seq, r->dups[j].seq };
			*rows = sat_add(*rows, sat_add(r->dups[j].count, -1));
			*extra = sat_add(*extra, sat_add(r->dups[j].count, -1));
		}
	}
	qsort(sp, n, sizeof(*sp), cmp_span);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && sp[k - 1].writer == sp[i].writer &&
		    (sp[k - 1].last == INT64_MAX || sp[i].first <= sp[k - 1].last + 1)) {
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
static void data_loss(const struct events *ev, struct metrics *m, bool *lost)
{
	const struct write_event **ids;
	struct span *sp;
	size_t nspans, cur = 0;
	int64_t rows, extra, set_size = 0, attempted_found = 0, acked_total = 0, acked_found = 0;
	int64_t *kept_acks, first_lost = 0, last_lost = 0, last_kept = 0;
	bool have_kept = false;

	m->readback_seen = ev->readback_done;
	if (!m->readback_seen)
		return;
	sp = found_set(ev, &nspans, &rows, &extra);
	for (size_t i = 0; i < nspans; i++)
		set_size = sat_add(set_size, span_rows(sp[i].first, sp[i].last));
	ids = xmalloc(ev->nwrites * sizeof(*ids));
	kept_acks = xmalloc(ev->nwrites * sizeof(*kept_acks));
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
			if (found) {
				kept_acks[acked_found++] = w->end_us;
			} else {
				if (lost)
					lost[w - ev->writes] = true;
				if (m->lost == 0 || w->end_us < first_lost)
					first_lost = w->end_us;
				if (m->lost == 0 || w->end_us > last_lost)
					last_lost = w->end_us;
				m->lost++;
			}
			acked_total++;
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
	m->phantom = sat_add(sat_add(set_size, -attempted_found), extra);
	/* Each side counted on its own: overlapping ranges or a dup outside them unbalance it. */
	m->balanced = m->found == sat_add(sat_add(sat_add(acked_found, m->recovered), m->failed_found),
					  m->phantom) &&
		      acked_total == acked_found + m->lost;
	/*
	 * RPO seconds: the acknowledged history the clients lost, from the last surviving ack
	 * before the first lost one to the last lost ack. That is the notes' "last ok on the old
	 * primary" whenever the loss is a suffix of the old primary's acks (the failover case),
	 * and it stays right when the old primary is restarted and serves writes again.
	 */
	m->rpo_time_seen = true;
	if (m->lost > 0) {
		for (int64_t i = 0; i < acked_found; i++) {
			if (kept_acks[i] < first_lost && (!have_kept || kept_acks[i] > last_kept)) {
				last_kept = kept_acks[i];
				have_kept = true;
			}
		}
		/* Nothing survived before it: the history is lost back to the first write. */
		if (!have_kept)
			last_kept = first_write_start(ev);
		m->rpo_dur_us = last_lost - last_kept;
	}
	free(kept_acks);
	free(ids);
	free(sp);
}

/*
 * RPO bytes: the old primary's last sampled position on its timeline minus the switch
 * point, approximated by the promoted standby's last sampled received (or replayed)
 * position before promotion: a promoted standby replays all it received. Both are
 * samples, so the result is known to the WAL written in one watcher period.
 */
static void rpo_bytes(const struct events *ev, struct metrics *m)
{
	const struct node_event *old = NULL, *sw = NULL;

	if (!m->promote_seen || !m->old_primary[0])
		return;
	m->rpo_bytes_seen = true;
	if (strcmp(m->old_primary, m->new_primary) == 0)
		return; /* promoted in place: it kept its own WAL */
	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *n = &ev->nodes[i];

		if (n->role == NODE_PRIMARY && n->timeline == m->old_timeline &&
		    strcmp(n->node, m->old_primary) == 0 && (!old || n->t_us >= old->t_us))
			old = n;
		if (n->role == NODE_REPLICA && n->t_us < m->t_promote_us && strcmp(n->node, m->new_primary) == 0 &&
		    (!sw || n->t_us >= sw->t_us))
			sw = n;
	}
	if (!old || !sw) {
		m->rpo_bytes_seen = false;
		return;
	}
	m->old_primary_lsn = old->lsn;
	m->switch_lsn = sw->rlsn > sw->lsn ? sw->rlsn : sw->lsn;
	m->rpo_bytes = m->old_primary_lsn > m->switch_lsn ? (int64_t)(m->old_primary_lsn - m->switch_lsn) : 0;
}

bool metrics_readback_has(const struct events *ev, int writer, int64_t seq)
{
	for (size_t i = 0; i < ev->nreadbacks; i++) {
		const struct readback_event *r = &ev->readbacks[i];

		if (r->writer != writer || (ev->readback_node[0] && strcmp(r->node, ev->readback_node) != 0))
			continue;
		for (size_t j = 0; j < r->nranges; j++)
			if (r->ranges[j].first <= seq && seq <= r->ranges[j].last)
				return true;
		for (size_t j = 0; j < r->ndups; j++)
			if (r->dups[j].seq == seq)
				return true;
	}
	return false;
}

void metrics_lost_writes(const struct events *ev, bool *lost)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	memset(lost, 0, ev->nwrites * sizeof(*lost));
	data_loss(ev, m, lost);
	free(m);
}

void metrics_loss(const struct events *ev, struct metrics *m)
{
	data_loss(ev, m, NULL);
	rpo_bytes(ev, m);
}
