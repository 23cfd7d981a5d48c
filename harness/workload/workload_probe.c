/*
 * workload_probe.c - a writer's connection attempts while it has no connection.
 *
 * Attempts start on a steady cadence, staggered across writers under one budget
 * (workload.probe_rate), whatever the attempts already in flight are doing: an attempt
 * hung on a partitioned or frozen server keeps its own deadline and does not delay the
 * next one. So the last attempt the outage held up was sent at most one slot before
 * service returned, and the end of the outage is known to about a slot, not to a connect
 * deadline. Every outcome is a connect event; writes are not logged for these attempts.
 */
#include "util.h"
#include "workload.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest single wait, so a stop request is noticed promptly. */
#define PROBE_SLICE_US 50000
/* Every member of every attempt a writer may have in flight (93 connections x 8 members). */
#define PROBE_MAX_FDS 768

int64_t wl_probe_slot(int64_t epoch_us, int64_t after_us, int id, int nwriters, int rate)
{
	int64_t gap, period, first, k;

	if (rate < 1)
		rate = 1;
	if (nwriters < 1)
		nwriters = 1;
	if (id < 0)
		id = 0;
	/* Rounded up: the writers together never exceed rate attempts per second. */
	gap = (1000000 + rate - 1) / rate;
	period = gap * nwriters;
	first = epoch_us + (int64_t)(id % nwriters) * gap;
	if (after_us <= first)
		return first;
	k = (after_us - first + period - 1) / period;
	return first + k * period;
}

void wl_probe_init(struct wl_writer *wr, int64_t epoch_us)
{
	struct wl_prober *p = &wr->probe;

	memset(p, 0, sizeof(*p));
	p->cap = workload_probe_inflight(&wr->sh->spec);
	p->a = xcalloc((size_t)p->cap, sizeof(*p->a));
	p->epoch_us = epoch_us;
}

static void attempt_close(struct wl_attempt *a)
{
	for (int i = 0; i < DRIVER_MAX_MEMBERS; i++) {
		if (a->c[i])
			PQfinish(a->c[i]);
		a->c[i] = NULL;
	}
	a->live = 0;
}

/* Close attempt k and drop it from the list, keeping the others oldest first. */
static void attempt_remove(struct wl_prober *p, int k)
{
	attempt_close(&p->a[k]);
	memmove(&p->a[k], &p->a[k + 1], (size_t)(p->n - k - 1) * sizeof(p->a[0]));
	p->n--;
}

void wl_probe_free(struct wl_writer *wr)
{
	struct wl_prober *p = &wr->probe;

	while (p->n > 0)
		attempt_remove(p, p->n - 1);
	free(p->a);
	p->a = NULL;
	p->cap = 0;
}

static int probe_members(struct wl_shared *sh, const struct member **members)
{
	if (sh->has_entry) {
		*members = &sh->entry;
		return 1;
	}
	*members = sh->members;
	return sh->nmembers < DRIVER_MAX_MEMBERS ? sh->nmembers : DRIVER_MAX_MEMBERS;
}

static void record_fail(struct wl_writer *wr, const struct wl_attempt *a, int64_t t, const char *why)
{
	char err[sizeof(a->err) + 64];

	if (!wr->sh->log)
		return;
	if (a->err[0])
		str_format(err, sizeof(err), "%s (%s)", why, a->err);
	else
		str_copy(err, sizeof(err), why);
	event_write_connect(wr->sh->log, a->t0_us, t, wr->id, false, "", 0, err);
}

/* Start an attempt sent now; one that cannot even start is recorded as failed at once. */
static void attempt_launch(struct wl_writer *wr, int64_t now)
{
	struct wl_shared *sh = wr->sh;
	struct wl_prober *p = &wr->probe;
	struct wl_attempt *a = &p->a[p->n];
	const struct member *members;
	int n = probe_members(sh, &members);
	char app[32];

	memset(a, 0, sizeof(*a));
	a->t0_us = now;
	a->deadline_us = now + sh->spec.connect_timeout_us;
	str_format(app, sizeof(app), "bise-writer-%d", wr->id);
	for (int i = 0; i < n; i++) {
		a->c[i] = wl_connect_start(&members[i].endpoint, app, true, a->err, sizeof(a->err));
		/* libpq's documented start: behave as if PQconnectPoll returned WRITING. */
		a->st[i] = PGRES_POLLING_WRITING;
		if (a->c[i])
			a->live++;
	}
	if (a->live == 0) {
		record_fail(wr, a, mono_now_us(), "no connection could be started");
		attempt_close(a);
		return;
	}
	p->n++;
}

/* Attempts past their deadline have failed. */
static void expire(struct wl_writer *wr, int64_t now)
{
	struct wl_prober *p = &wr->probe;

	for (int k = 0; k < p->n;) {
		if (p->a[k].deadline_us > now) {
			k++;
			continue;
		}
		record_fail(wr, &p->a[k], now, "no read-write member connected within connect_timeout");
		attempt_remove(p, k);
	}
}

/* The server answered: it accepted the connection and a backend runs for it. */
static bool awaiting_server(ConnStatusType s)
{
	return s == CONNECTION_AWAITING_RESPONSE || s == CONNECTION_SSL_STARTUP || s == CONNECTION_GSS_STARTUP;
}

/*
 * Advance member i of attempt a after its socket became ready; true when it connected
 * read-write. A member that fails (refused, read-only, reset) leaves the attempt.
 */
static bool member_step(struct wl_attempt *a, int i, short revents, const struct member *m)
{
	ConnStatusType before = PQstatus(a->c[i]);

	a->st[i] = PQconnectPoll(a->c[i]);
	if (a->st[i] != PGRES_POLLING_FAILED && !a->acc_us[i] && awaiting_server(before) && (revents & POLLIN))
		a->acc_us[i] = mono_now_us();
	if (a->st[i] == PGRES_POLLING_OK)
		return true;
	if (a->st[i] == PGRES_POLLING_FAILED) {
		str_format(a->err, sizeof(a->err), "%s: ", m->name);
		wl_error_text(PQerrorMessage(a->c[i]), a->err + strlen(a->err), sizeof(a->err) - strlen(a->err));
		PQfinish(a->c[i]);
		a->c[i] = NULL;
		a->live--;
	}
	return false;
}

/*
 * Wait until until_us for any attempt to move; return the index of an attempt that
 * connected (its winning member in *who), -1 otherwise. Attempts whose every member
 * failed are recorded and removed.
 */
static int poll_attempts(struct wl_writer *wr, int64_t until_us, int *who)
{
	struct wl_prober *p = &wr->probe;
	const struct member *members;
	int n = probe_members(wr->sh, &members);
	struct pollfd fds[PROBE_MAX_FDS];
	int ak[PROBE_MAX_FDS], mi[PROBE_MAX_FDS];
	nfds_t nfds = 0;
	int64_t now = mono_now_us(), wait = until_us - now;
	struct timespec ts;
	int r, winner = -1;

	for (int k = 0; k < p->n; k++)
		for (int i = 0; i < n && nfds < PROBE_MAX_FDS; i++) {
			if (!p->a[k].c[i])
				continue;
			/* The socket can change between hosts or after an SSL fallback: ask each round. */
			fds[nfds].fd = PQsocket(p->a[k].c[i]);
			fds[nfds].events = p->a[k].st[i] == PGRES_POLLING_READING ? POLLIN : POLLOUT;
			fds[nfds].revents = 0;
			ak[nfds] = k;
			mi[nfds++] = i;
		}
	if (wait > PROBE_SLICE_US)
		wait = PROBE_SLICE_US;
	if (wait < 0)
		wait = 0;
	ts.tv_sec = wait / 1000000;
	ts.tv_nsec = (wait % 1000000) * 1000;
	r = ppoll(fds, nfds, &ts, NULL);
	if (r < 0 && errno != EINTR) {
		log_debug("writer %d: poll: %s", wr->id, strerror(errno));
		sleep_us(1000);
	}
	for (nfds_t f = 0; r > 0 && f < nfds; f++) {
		struct wl_attempt *a = &p->a[ak[f]];

		if (!fds[f].revents || !a->c[mi[f]])
			continue;
		/* Of several that connect in one round, the oldest wins. */
		if (member_step(a, mi[f], fds[f].revents, &members[mi[f]]) && (winner < 0 || ak[f] < winner)) {
			winner = ak[f];
			*who = mi[f];
		}
	}
	now = mono_now_us();
	for (int k = p->n - 1; k >= 0; k--) {
		if (p->a[k].live > 0 || k == winner)
			continue;
		record_fail(wr, &p->a[k], now, "no read-write member");
		attempt_remove(p, k);
		if (winner > k)
			winner--;
	}
	return winner;
}

/*
 * Attempt k connected to member i. Older attempts still pending, not yet answered by
 * that server, were held up by the outage: a failure sent then. Newer ones are closed
 * unrecorded (they only had not finished yet).
 */
static bool adopt(struct wl_writer *wr, int k, int i)
{
	struct wl_shared *sh = wr->sh;
	struct wl_prober *p = &wr->probe;
	struct wl_attempt *a = &p->a[k];
	char node[MEMBER_NAME_LEN], err[256];
	int64_t now = mono_now_us(), t0 = a->t0_us, acc = a->acc_us[i];
	PGconn *c = a->c[i];

	a->c[i] = NULL;
	attempt_close(a);
	for (int j = 0; j < p->n; j++) {
		if (j != k && p->a[j].t0_us < t0 && !p->a[j].acc_us[i])
			record_fail(wr, &p->a[j], now, "held up: a later attempt connected first");
	}
	while (p->n > 0)
		attempt_remove(p, p->n - 1);
	wr->ident[0] = '\0';
	/* One round trip per connection, not per write: which server the entry led to. */
	if (sh->has_entry && !wl_query_text(c, WL_IDENT_SQL, now + sh->spec.connect_timeout_us, wr->ident,
					    sizeof(wr->ident), err, sizeof(err))) {
		log_debug("writer %d: %s", wr->id, err);
		if (sh->log)
			event_write_connect(sh->log, t0, mono_now_us(), wr->id, false, "", acc, err);
		PQfinish(c);
		return false;
	}
	wr->conn = c;
	wr->member = sh->has_entry ? -1 : i;
	wl_conn_node(sh, sh->has_entry ? -1 : i, wr->ident, node, sizeof(node));
	if (sh->log)
		event_write_connect(sh->log, t0, mono_now_us(), wr->id, true, node, acc, NULL);
	return true;
}

/*
 * True while a server is setting up one of this writer's connections: connected at the
 * TCP level, not yet ready or failed. A frozen server queues it, a busy one is forking,
 * authenticating and starting a backend for it: one more would only add to that work
 * (and on a loaded machine make every connection slower). A hung path (SYN lost) costs
 * the servers nothing, and there the cadence goes on.
 */
static bool being_set_up(const struct wl_prober *p)
{
	for (int k = 0; k < p->n; k++)
		for (int i = 0; i < DRIVER_MAX_MEMBERS; i++) {
			ConnStatusType s;

			if (!p->a[k].c[i])
				continue;
			s = PQstatus(p->a[k].c[i]);
			if (s != CONNECTION_STARTED && s != CONNECTION_NEEDED && s != CONNECTION_BAD)
				return true;
		}
	return false;
}

bool wl_probe_connect(struct wl_writer *wr)
{
	struct wl_shared *sh = wr->sh;
	struct wl_prober *p = &wr->probe;
	int nwriters = workload_total_writers(&sh->spec);

	/* Never at once: writers that lost their connections together start on their own slots. */
	p->next_us = wl_probe_slot(p->epoch_us, mono_now_us(), wr->id, nwriters, sh->spec.probe_rate);
	for (;;) {
		int64_t now = mono_now_us(), until;
		int k, who = -1;

		if (atomic_load(&sh->stop))
			return false;
		if (now >= p->next_us) {
			/*
			 * A full list skips the slot (the connections budget holds), and so does a
			 * connection a server is still setting up: more would only add to its work.
			 */
			if (p->n < p->cap && !being_set_up(p))
				attempt_launch(wr, now);
			p->next_us = wl_probe_slot(p->epoch_us, now + 1, wr->id, nwriters, sh->spec.probe_rate);
		}
		expire(wr, now);
		until = p->next_us;
		for (k = 0; k < p->n; k++)
			if (p->a[k].deadline_us < until)
				until = p->a[k].deadline_us;
		k = poll_attempts(wr, until, &who);
		if (k >= 0 && adopt(wr, k, who))
			return true;
	}
}
