/*
 * timeseries.c - an event log -> 100 ms bins for the timeline of the reports. Pure, like
 * metrics.c, so `bise report` redraws exactly what the run drew.
 */
#include "timeseries.h"
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The last time anything was logged: the timeline's right edge. */
static int64_t log_end(const struct events *ev)
{
	int64_t end = 0;

	for (size_t i = 0; i < ev->nwrites; i++)
		end = max64(end, ev->writes[i].end_us);
	for (size_t i = 0; i < ev->nnodes; i++)
		end = max64(end, ev->nodes[i].t_us);
	for (size_t i = 0; i < ev->nfaults; i++)
		end = max64(end, ev->faults[i].t_us);
	for (size_t i = 0; i < ev->nlags; i++)
		end = max64(end, ev->lags[i].t_us);
	if (ev->healthy_seen)
		end = max64(end, ev->healthy_us); /* the healthy mark stays on the chart */
	return end;
}

/* Index of name in names[0..*n), appended when new; -1 when the table is full. */
static int name_index(char names[][EVENT_NODE_LEN], int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	if (*n == TIMESERIES_MAX_NODES)
		return -1;
	str_copy(names[*n], EVENT_NODE_LEN, name);
	return (*n)++;
}

static size_t bin_of(const struct timeseries *ts, int64_t t_us)
{
	size_t b = t_us > 0 ? (size_t)(t_us / ts->bin_us) : 0;

	return b < ts->nbins ? b : ts->nbins - 1;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Counts per bin, then the latencies of each bin's acknowledged writes, grouped by bin. */
static void bin_writes(const struct events *ev, struct timeseries *ts)
{
	size_t *start = xcalloc(ts->nbins + 1, sizeof(*start));
	size_t *fill = xcalloc(ts->nbins, sizeof(*fill));
	double *lat = xmalloc(sizeof(*lat) * (ev->nwrites ? ev->nwrites : 1));
	double scale = 1e6 / (double)ts->bin_us;

	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];
		struct ts_bin *b = &ts->bins[bin_of(ts, w->end_us)];

		if (metrics_acked(w->outcome))
			b->ok++;
		else if (w->outcome == WRITE_FAIL)
			b->fail++;
		else
			b->indeterminate++;
	}
	/* A writer without a connection sends no write: its failed attempts are the outage's errors. */
	for (size_t i = 0; i < ev->nconnects; i++)
		if (!ev->connects[i].ok)
			ts->bins[bin_of(ts, ev->connects[i].end_us)].connect_fail++;
	for (size_t b = 0; b < ts->nbins; b++)
		start[b + 1] = start[b] + (size_t)ts->bins[b].ok;
	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];
		size_t b = bin_of(ts, w->end_us);

		if (metrics_acked(w->outcome))
			lat[start[b] + fill[b]++] = (double)(w->end_us - w->start_us) / 1e3;
	}
	for (size_t i = 0; i < ts->nbins; i++) {
		struct ts_bin *b = &ts->bins[i];
		double *v = lat + start[i];

		b->ok_per_s = (double)b->ok * scale;
		b->fail_per_s = (double)b->fail * scale;
		b->indeterminate_per_s = (double)b->indeterminate * scale;
		b->connect_fail_per_s = (double)b->connect_fail * scale;
		if (b->ok == 0)
			continue;
		qsort(v, (size_t)b->ok, sizeof(*v), compare_doubles);
		b->latency_p50_ms = metrics_percentile(v, b->ok, 50);
		b->latency_p95_ms = metrics_percentile(v, b->ok, 95);
		b->latency_max_ms = v[b->ok - 1];
	}
	free(start);
	free(fill);
	free(lat);
}

static void add_change(struct timeseries *ts, int64_t t_us, int from, int to, int timeline)
{
	struct ts_change *c;

	ts->changes = xrealloc(ts->changes, sizeof(*ts->changes) * (ts->nchanges + 1));
	c = &ts->changes[ts->nchanges++];
	memset(c, 0, sizeof(*c));
	c->t_us = t_us;
	if (from >= 0)
		str_copy(c->from, sizeof(c->from), ts->nodes[from]);
	str_copy(c->to, sizeof(c->to), ts->nodes[to]);
	c->timeline = timeline;
}

/*
 * The watcher's primary after each sample: the instance last seen as primary on the
 * highest timeline (the previous one wins a tie, so a split brain does not flicker).
 */
static bool bin_primaries(const struct events *ev, struct timeseries *ts)
{
	enum node_role role[TIMESERIES_MAX_NODES];
	int tli[TIMESERIES_MAX_NODES];
	int current = -1, last_seen = -1;
	size_t b = 0;

	for (int i = 0; i < TIMESERIES_MAX_NODES; i++) {
		role[i] = NODE_DOWN;
		tli[i] = 0;
	}
	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *n = &ev->nodes[i];
		int k = name_index(ts->nodes, &ts->nnodes, n->node);
		int best = -1;

		if (k < 0) {
			log_error("more than %d instances in the event log", TIMESERIES_MAX_NODES);
			return false;
		}
		/* Bins that ended before this sample keep the primary known until then. */
		for (; b < ts->nbins && ts->bins[b].t_us + ts->bin_us <= n->t_us; b++)
			ts->bins[b].primary = current;
		role[k] = n->role;
		tli[k] = n->timeline;
		for (int j = 0; j < ts->nnodes; j++) {
			if (role[j] != NODE_PRIMARY)
				continue;
			if (best < 0 || tli[j] > tli[best] || (tli[j] == tli[best] && j == current))
				best = j;
		}
		current = best;
		if (current >= 0 && current != last_seen) {
			add_change(ts, n->t_us, last_seen, current, tli[current]);
			last_seen = current;
		}
	}
	for (; b < ts->nbins; b++)
		ts->bins[b].primary = current;
	return true;
}

static bool bin_lag(const struct events *ev, struct timeseries *ts)
{
	for (size_t i = 0; i < ev->nlags; i++) {
		const struct lag_event *l = &ev->lags[i];
		int k = name_index(ts->standbys, &ts->nstandbys, l->standby);
		struct ts_bin *b = &ts->bins[bin_of(ts, l->t_us)];
		double bytes;

		if (k < 0) {
			log_error("more than %d standbys in the event log", TIMESERIES_MAX_NODES);
			return false;
		}
		/* No replay position yet (a standby in catch-up): nothing to measure, as in metrics_lag. */
		if (l->replay == 0)
			continue;
		bytes = l->primary_lsn > l->replay ? (double)(l->primary_lsn - l->replay) : 0;
		if (bytes > b->lag_bytes[k])
			b->lag_bytes[k] = bytes;
	}
	return true;
}

/* Lost writes where and when they were acknowledged: per node (index into nodes) per bin. */
static bool bin_lost(const struct events *ev, struct timeseries *ts)
{
	bool *lost = xmalloc((ev->nwrites ? ev->nwrites : 1) * sizeof(*lost));

	metrics_lost_writes(ev, lost);
	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];
		struct ts_bin *b;
		int k;

		if (!lost[i])
			continue;
		k = name_index(ts->nodes, &ts->nnodes, w->node);
		if (k < 0) {
			log_error("more than %d instances in the event log", TIMESERIES_MAX_NODES);
			free(lost);
			return false;
		}
		b = &ts->bins[bin_of(ts, w->end_us)];
		b->lost[k]++;
		ts->lost_by_node[k]++;
		if (b->lost[k] > ts->lost_bin_max[k])
			ts->lost_bin_max[k] = b->lost[k];
	}
	free(lost);
	return true;
}

/* Pair each apply with the next revert or restart of the same step and node. */
static void pair_faults(const struct events *ev, struct timeseries *ts)
{
	for (size_t i = 0; i < ev->nfaults; i++) {
		const struct fault_event *f = &ev->faults[i];
		struct ts_fault *x;

		if (strcmp(f->action, "apply") == 0) {
			ts->faults = xrealloc(ts->faults, sizeof(*ts->faults) * (ts->nfaults + 1));
			x = &ts->faults[ts->nfaults++];
			memset(x, 0, sizeof(*x));
			x->start_us = f->t_us;
			x->end_us = ts->end_us;
			x->step = f->step;
			str_copy(x->fault, sizeof(x->fault), f->fault);
			str_copy(x->node, sizeof(x->node), f->node);
			continue;
		}
		if (strcmp(f->action, "revert") != 0 && strcmp(f->action, "restart") != 0)
			continue;
		for (size_t j = 0; j < ts->nfaults; j++) {
			x = &ts->faults[j];
			if (!x->closed && x->step == f->step && strcmp(x->node, f->node) == 0) {
				x->closed = true;
				x->end_us = f->t_us;
				break;
			}
		}
	}
	for (size_t j = 0; j < ts->nfaults; j++) {
		const struct ts_fault *x = &ts->faults[j];

		for (size_t b = bin_of(ts, x->start_us); b <= bin_of(ts, x->end_us); b++)
			ts->bins[b].in_fault = true;
	}
}

bool timeseries_compute(const struct events *ev, int64_t bin_us, struct timeseries *out)
{
	memset(out, 0, sizeof(*out));
	if (bin_us <= 0) {
		log_error("time bins must be longer than zero");
		return false;
	}
	out->bin_us = bin_us;
	out->end_us = log_end(ev);
	if (out->end_us > TIMESERIES_MAX_SPAN_US) {
		log_error("event log spans %lld s, more than the %lld s a timeline draws",
			  (long long)(out->end_us / 1000000), TIMESERIES_MAX_SPAN_US / 1000000);
		return false;
	}
	out->nbins = (size_t)(out->end_us / bin_us) + 1;
	out->bins = xcalloc(out->nbins, sizeof(*out->bins));
	for (size_t i = 0; i < out->nbins; i++) {
		out->bins[i].t_us = (int64_t)i * bin_us;
		out->bins[i].primary = -1;
		for (int k = 0; k < TIMESERIES_MAX_NODES; k++)
			out->bins[i].lag_bytes[k] = -1;
	}
	bin_writes(ev, out);
	pair_faults(ev, out);
	if (!bin_primaries(ev, out) || !bin_lag(ev, out) || !bin_lost(ev, out)) {
		timeseries_free(out);
		return false;
	}
	return true;
}

void timeseries_free(struct timeseries *ts)
{
	free(ts->bins);
	free(ts->faults);
	free(ts->changes);
	memset(ts, 0, sizeof(*ts));
}
