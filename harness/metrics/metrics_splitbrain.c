/*
 * metrics_splitbrain.c - periods where two instances were out of recovery at once, from
 * the watcher's role samples, and the writes the losing side acknowledged meanwhile. Pure.
 *
 * Resolution: an instance is known to be primary from its first to its last consecutive
 * primary sample (a lower bound of its reign). Samples of one watcher round land within
 * one period of each other, so two reigns closer than half a period are taken as
 * overlapping (both answered "primary" in the same round); edges are known to one period.
 * An acknowledged write proves its node was primary when it was acknowledged, so the
 * loser's acks after its last primary sample (and before it was seen otherwise) extend
 * the period: the length reported is what the samples and acks prove, never more.
 */
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NODES (2 * METRICS_MAX_STANDBYS)
#define DEFAULT_POLL_US 200000

/* One run of consecutive primary samples of one instance. */
struct reign {
	int node;
	int timeline;
	int64_t start_us; /* first primary sample */
	int64_t end_us;   /* last primary sample */
	int64_t next_us;  /* the next sample saying otherwise; INT64_MAX when none */
};

struct sample_ref {
	int node;
	const struct node_event *e;
};

static int cmp_ref(const void *a, const void *b)
{
	const struct sample_ref *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->e->t_us != y->e->t_us)
		return x->e->t_us < y->e->t_us ? -1 : 1;
	return x->e < y->e ? -1 : x->e > y->e;
}

static int node_index(const char **names, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	if (*n == MAX_NODES)
		return -1;
	names[*n] = name;
	return (*n)++;
}

/* Reigns of every instance, from its samples in time order. */
static struct reign *find_reigns(const struct events *ev, const char **names, int *nnames, size_t *nreigns)
{
	struct sample_ref *refs = xmalloc((ev->nnodes + 1) * sizeof(*refs));
	struct reign *r = xmalloc((ev->nnodes + 1) * sizeof(*r));
	size_t n = 0, k = 0;

	*nnames = 0;
	for (size_t i = 0; i < ev->nnodes; i++) {
		int idx = node_index(names, nnames, ev->nodes[i].node);

		if (idx >= 0)
			refs[n++] = (struct sample_ref){ idx, &ev->nodes[i] };
	}
	qsort(refs, n, sizeof(*refs), cmp_ref);
	for (size_t i = 0; i < n; i++) {
		const struct node_event *e = refs[i].e;
		bool cont = i > 0 && refs[i - 1].node == refs[i].node && refs[i - 1].e->role == NODE_PRIMARY;

		if (e->role != NODE_PRIMARY) {
			if (cont)
				r[k - 1].next_us = e->t_us;
			continue;
		}
		if (!cont)
			r[k++] = (struct reign){ refs[i].node, e->timeline, e->t_us, e->t_us, INT64_MAX };
		r[k - 1].end_us = e->t_us;
		if (e->timeline > r[k - 1].timeline)
			r[k - 1].timeline = e->timeline;
	}
	free(refs);
	*nreigns = k;
	return r;
}

/* The final primary: the read-back's node, else the newest primary sample. */
static const char *final_primary(const struct events *ev)
{
	const struct node_event *last = NULL;

	if (ev->readback_done && ev->readback_node[0])
		return ev->readback_node;
	for (size_t i = 0; i < ev->nnodes; i++) {
		const struct node_event *n = &ev->nodes[i];

		if (n->role == NODE_PRIMARY && (!last || n->timeline > last->timeline ||
						(n->timeline == last->timeline && n->t_us >= last->t_us)))
			last = n;
	}
	return last ? last->node : "";
}

/* Does a win over b? The newer timeline, then the final primary, then the later reign. */
static bool wins(const struct reign *a, const struct reign *b, const char **names, const char *final)
{
	bool af = strcmp(names[a->node], final) == 0, bf = strcmp(names[b->node], final) == 0;

	if (a->timeline != b->timeline)
		return a->timeline > b->timeline;
	if (af != bf)
		return af;
	return a->start_us > b->start_us;
}

/* One overlap of two reigns: count the loser's acks and extend the period by them. */
static void period(const struct events *ev, struct metrics *m, const struct reign *win,
		   const struct reign *lose, const char **names)
{
	int64_t lo = win->start_us > lose->start_us ? win->start_us : lose->start_us;
	int64_t hi = win->end_us < lose->end_us ? win->end_us : lose->end_us;
	int64_t until = win->next_us < lose->next_us ? win->next_us : lose->next_us;
	int64_t end = hi > lo ? hi : lo;

	for (size_t i = 0; i < ev->nwrites; i++) {
		const struct write_event *w = &ev->writes[i];

		if (!metrics_acked(w->outcome) || w->end_us < lo || w->end_us > until ||
		    strcmp(w->node, names[lose->node]) != 0)
			continue;
		m->split_brain_writes++;
		if (ev->readback_done && !metrics_readback_has(ev, w->writer, w->seq))
			m->split_brain_lost++;
		if (w->end_us > end)
			end = w->end_us;
	}
	if (m->split_brains == 0) {
		m->split_brain_start_us = lo;
		m->split_brain_end_us = end;
		str_copy(m->split_brain_loser, sizeof(m->split_brain_loser), names[lose->node]);
	}
	m->split_brains++;
	m->split_brain_dur_us += end - lo;
}

void metrics_split_brain(const struct events *ev, struct metrics *m)
{
	const char *names[MAX_NODES];
	int nnames;
	size_t nreigns;
	struct reign *r = find_reigns(ev, names, &nnames, &nreigns);
	int64_t poll = ev->poll_ms > 0 ? (int64_t)ev->poll_ms * 1000 : DEFAULT_POLL_US;
	const char *final = final_primary(ev);

	m->split_brain_checked = nnames >= 2;
	m->split_brain_resolution_us = poll;
	for (size_t i = 0; i < nreigns; i++) {
		for (size_t j = i + 1; j < nreigns; j++) {
			const struct reign *a = &r[i], *b = &r[j];
			int64_t lo = a->start_us > b->start_us ? a->start_us : b->start_us;
			int64_t hi = a->end_us < b->end_us ? a->end_us : b->end_us;

			if (a->node == b->node || lo > hi + poll / 2)
				continue;
			if (wins(a, b, names, final))
				period(ev, m, a, b, names);
			else
				period(ev, m, b, a, names);
		}
	}
	free(r);
}
