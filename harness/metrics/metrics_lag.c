/*
 * metrics_lag.c - replication lag per standby and phase, and the time to full redundancy,
 * from the watcher's pg_stat_replication samples (lag events) and role samples. Pure.
 *
 * Bytes are exact at each sample (the primary's position and the standby's are read in one
 * statement). The lag columns are PostgreSQL's own, trusted only while the standby is
 * behind (they keep their last value, or are NULL, when idle). The clock-free estimate
 * uses only the client's monotonic clock: the sample time minus when the primary's sampled
 * position first reached the standby's replay position, interpolated between the two
 * primary samples around it (constant WAL rate in between): resolution one watcher period.
 */
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* One sampled primary position. */
struct pos {
	int64_t t_us;
	uint64_t lsn;
};

/* Every sampled position of one primary, by time, made monotone (a running max). */
struct track {
	char node[EVENT_NODE_LEN];
	size_t n, cap;
	struct pos *p;
};

struct series {
	double *v;
	int64_t n;
};

struct standby_acc {
	struct series s[LAG_NPHASES][4]; /* bytes, flush bytes, column time, estimate */
};

static int cmp_pos(const void *a, const void *b)
{
	const struct pos *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return (x->lsn > y->lsn) - (x->lsn < y->lsn);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double metrics_percentile(const double *sorted, int64_t n, double pct)
{
	int64_t rank;

	if (n <= 0)
		return 0;
	/* Nearest rank: the smallest value with at least pct% of the samples at or below it. */
	rank = (int64_t)(pct / 100.0 * (double)n);
	if ((double)rank < pct / 100.0 * (double)n)
		rank++;
	if (rank < 1)
		rank = 1;
	return sorted[(rank > n ? n : rank) - 1];
}

void metrics_series(double *values, int64_t n, struct series_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n <= 0)
		return;
	qsort(values, (size_t)n, sizeof(*values), cmp_double);
	out->max = values[n - 1];
	out->p50 = metrics_percentile(values, n, 50);
	out->p95 = metrics_percentile(values, n, 95);
}

static void track_add(struct track *tr, int64_t t_us, uint64_t lsn)
{
	if (lsn == 0)
		return;
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 64;
		tr->p = xrealloc(tr->p, tr->cap * sizeof(*tr->p));
	}
	tr->p[tr->n++] = (struct pos){ t_us, lsn };
}

static struct track *track_of(struct track *tracks, int *ntracks, const char *node)
{
	for (int i = 0; i < *ntracks; i++)
		if (strcmp(tracks[i].node, node) == 0)
			return &tracks[i];
	if (*ntracks == METRICS_MAX_STANDBYS)
		return NULL;
	memset(&tracks[*ntracks], 0, sizeof(tracks[0]));
	str_copy(tracks[*ntracks].node, sizeof(tracks[0].node), node);
	return &tracks[(*ntracks)++];
}

/* Per primary: its role samples' positions and the primary_lsn of its lag rows. */
static int build_tracks(const struct events *ev, struct track *tracks)
{
	int n = 0;

	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *e = &ev->nodes[i];
		struct track *tr;

		if (e->role == NODE_PRIMARY && (tr = track_of(tracks, &n, e->node)))
			track_add(tr, e->t_us, e->lsn);
	}
	for (size_t i = 0; i < ev->nlags; i++) {
		const struct lag_event *l = &ev->lags[i];
		struct track *tr = track_of(tracks, &n, l->primary);

		if (tr)
			track_add(tr, l->t_us, l->primary_lsn);
	}
	for (int k = 0; k < n; k++) {
		struct track *tr = &tracks[k];

		if (tr->n > 0) /* qsort(NULL, 0) is undefined */
			qsort(tr->p, tr->n, sizeof(*tr->p), cmp_pos);
		for (size_t j = 1; j < tr->n; j++)
			if (tr->p[j].lsn < tr->p[j - 1].lsn)
				tr->p[j].lsn = tr->p[j - 1].lsn;
	}
	return n;
}

/* When the primary's sampled position first reached lsn; false if it never did by t_us. */
static bool reached_at(const struct track *tr, uint64_t lsn, int64_t t_us, double *when_us)
{
	size_t lo = 0, hi = tr->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tr->p[mid].lsn >= lsn)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == tr->n || tr->p[lo].t_us > t_us)
		return false;
	if (lo == 0) {
		/* Reached before the first sample: only a lower bound of the lag is known. */
		*when_us = (double)tr->p[0].t_us;
		return true;
	}
	*when_us = (double)tr->p[lo - 1].t_us + (double)(lsn - tr->p[lo - 1].lsn) /
						   (double)(tr->p[lo].lsn - tr->p[lo - 1].lsn) *
						   (double)(tr->p[lo].t_us - tr->p[lo - 1].t_us);
	return true;
}

static enum lag_phase phase_of(const struct metrics *m, int64_t t_us)
{
	if (!m->fault_seen || t_us < m->t_fault_us)
		return LAG_BEFORE;
	return t_us <= m->t_heal_us ? LAG_DURING : LAG_AFTER;
}

static void push(struct series *s, size_t cap, double v)
{
	if (!s->v)
		s->v = xmalloc(cap * sizeof(*s->v));
	s->v[s->n++] = v;
}

static int standby_index(struct metrics *m, const char *name)
{
	for (int i = 0; i < m->nstandbys; i++)
		if (strcmp(m->standbys[i].name, name) == 0)
			return i;
	if (m->nstandbys == METRICS_MAX_STANDBYS)
		return -1;
	str_copy(m->standbys[m->nstandbys].name, sizeof(m->standbys[0].name), name);
	return m->nstandbys++;
}

static void lag_samples(const struct events *ev, struct metrics *m, const struct track *tracks, int ntracks)
{
	struct standby_acc acc[METRICS_MAX_STANDBYS];

	memset(acc, 0, sizeof(acc));
	for (size_t i = 0; i < ev->nlags; i++) {
		const struct lag_event *l = &ev->lags[i];
		struct series *s;
		double bytes, when;
		int k = l->replay ? standby_index(m, l->standby) : -1;

		/* No replay position yet (a standby still starting): nothing to measure. */
		if (k < 0 || !l->primary_lsn)
			continue;
		s = acc[k].s[phase_of(m, l->t_us)];
		bytes = l->primary_lsn > l->replay ? (double)(l->primary_lsn - l->replay) : 0;
		push(&s[0], ev->nlags, bytes);
		if (l->flush)
			push(&s[1], ev->nlags, l->primary_lsn > l->flush ? (double)(l->primary_lsn - l->flush) : 0);
		if (bytes > 0 && l->replay_lag >= 0)
			push(&s[2], ev->nlags, l->replay_lag);
		when = (double)l->t_us;
		for (int t = 0; bytes > 0 && t < ntracks; t++) {
			if (strcmp(tracks[t].node, l->primary) == 0 && !reached_at(&tracks[t], l->replay, l->t_us, &when))
				when = (double)l->t_us;
		}
		push(&s[3], ev->nlags, ((double)l->t_us - when) / 1e6);
		m->lag_seen = true;
	}
	for (int k = 0; k < m->nstandbys; k++) {
		for (int p = 0; p < LAG_NPHASES; p++) {
			struct lag_stats *st = &m->standbys[k].phase[p];
			struct series *s = acc[k].s[p];

			metrics_series(s[0].v, s[0].n, &st->bytes);
			metrics_series(s[1].v, s[1].n, &st->flush_bytes);
			metrics_series(s[2].v, s[2].n, &st->time_s);
			metrics_series(s[3].v, s[3].n, &st->est_s);
			if (st->bytes.n && st->bytes.max > m->max_lag_bytes)
				m->max_lag_bytes = st->bytes.max;
			if (st->time_s.n && st->time_s.max > m->max_lag_col_s)
				m->max_lag_col_s = st->time_s.max;
			if (st->est_s.n && st->est_s.max > m->max_lag_est_s)
				m->max_lag_est_s = st->est_s.max;
			for (int j = 0; j < 4; j++)
				free(s[j].v);
		}
	}
}

/*
 * The primary's position at heal: its newest sample at or before the heal (the highest
 * timeline wins over a stale old primary), else its first sample after.
 */
static const struct node_event *heal_primary(const struct events *ev, const struct metrics *m)
{
	const struct node_event *best = NULL, *after = NULL;

	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *n = &ev->nodes[i];

		if (n->role != NODE_PRIMARY || !n->lsn)
			continue;
		if (n->t_us <= m->t_heal_us) {
			if (!best || n->timeline > best->timeline ||
			    (n->timeline == best->timeline && n->t_us >= best->t_us))
				best = n;
		} else if (!after || n->t_us < after->t_us) {
			after = n;
		}
	}
	return best ? best : after;
}

/* Every instance the watcher sampled (it samples all members every round). */
static int distinct_nodes(const struct events *ev, const char **names)
{
	int n = 0;

	for (size_t i = 0; i < ev->nnodes; i++) {
		int k = 0;

		while (k < n && strcmp(names[k], ev->nodes[i].node) != 0)
			k++;
		if (k == n && n < 2 * METRICS_MAX_STANDBYS)
			names[n++] = ev->nodes[i].node;
	}
	return n;
}

/* From the heal until every replica streams and replayed the primary's position then. */
static void redundancy(const struct events *ev, struct metrics *m)
{
	const struct node_event *hp;
	const char *primary = NULL, *names[2 * METRICS_MAX_STANDBYS];
	int64_t worst = 0;
	int n;

	if (!m->fault_seen || !(hp = heal_primary(ev, m)))
		return;
	for (size_t i = 0; i < ev->nlags; i++)
		if (ev->lags[i].t_us >= m->t_heal_us)
			primary = ev->lags[i].primary; /* the last primary: the one replicas must follow */
	if (!primary)
		return;
	m->redundancy_checked = true;
	m->heal_lsn = hp->lsn;
	m->redundancy_reached = true;
	n = distinct_nodes(ev, names);
	for (int k = 0; k < n; k++) {
		bool done = false;
		int64_t at = 0;

		if (strcmp(names[k], primary) == 0)
			continue;
		for (size_t j = 0; j < ev->nlags; j++) {
			const struct lag_event *l = &ev->lags[j];

			/* The earliest such sample: appends from threads may be slightly out of order. */
			if (l->t_us >= m->t_heal_us && strcmp(l->standby, names[k]) == 0 &&
			    strcmp(l->state, "streaming") == 0 && l->replay >= m->heal_lsn && (!done || l->t_us < at)) {
				done = true;
				at = l->t_us;
			}
		}
		if (!done) {
			m->redundancy_reached = false;
			str_copy(m->redundancy_missing, sizeof(m->redundancy_missing), names[k]);
		} else if (at - m->t_heal_us > worst) {
			worst = at - m->t_heal_us;
		}
	}
	m->redundancy_dur_us = m->redundancy_reached ? worst : 0;
}

void metrics_lag(const struct events *ev, struct metrics *m)
{
	struct track tracks[METRICS_MAX_STANDBYS];
	int ntracks = build_tracks(ev, tracks);

	lag_samples(ev, m, tracks, ntracks);
	redundancy(ev, m);
	for (int i = 0; i < ntracks; i++)
		free(tracks[i].p);
}
