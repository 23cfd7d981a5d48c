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
/* Every member of every attempt a writer may have in flight (93 connections x 8 members), and its spare. */
#define PROBE_MAX_FDS 769
/* After a spare's connection attempt failed, the next one waits this long. */
#define SPARE_RETRY_US 1000000
/* After an outage ended on the spare, the next spare waits this long: not while servers recover. */
#define SPARE_SETTLE_US 500000

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
	p->spare_ok = wr->id < workload_spares(&wr->sh->spec);
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

/*
 * An attempt that failed. A spare's is no sign of an outage (the writer had a connection
 * then): a debug line and a later retry; any other is a connect event.
 */
static void record_fail(struct wl_writer *wr, const struct wl_attempt *a, int64_t t, const char *why)
{
	char err[sizeof(a->err) + 64];

	if (a->spare) {
		log_debug("writer %d: no spare connection: %s%s%s", wr->id, why, a->err[0] ? ": " : "", a->err);
		wr->spare.retry_us = t + SPARE_RETRY_US;
		return;
	}
	if (!wr->sh->log)
		return;
	if (a->err[0])
		str_format(err, sizeof(err), "%s (%s)", why, a->err);
	else
		str_copy(err, sizeof(err), why);
	event_write_connect(wr->sh->log, a->t0_us, t, wr->id, false, "", 0, err);
}

/*
 * Start an attempt sent now, to the members in mask (bit i: member i); one made for a
 * spare when spare. One that cannot even start is recorded as failed at once.
 */
static void attempt_launch(struct wl_writer *wr, int64_t now, unsigned mask, bool spare)
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
	a->spare = spare;
	for (int i = 0; i < n; i++) {
		if (!(mask & (1u << i)))
			continue;
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
 * read-write, *reached when its TCP handshake just completed. A member that fails
 * (refused, read-only, reset) leaves the attempt.
 */
static bool member_step(struct wl_attempt *a, int i, short revents, const struct member *m, bool *reached)
{
	ConnStatusType before = PQstatus(a->c[i]);

	a->st[i] = PQconnectPoll(a->c[i]);
	if (before == CONNECTION_STARTED && PQstatus(a->c[i]) != CONNECTION_STARTED &&
	    PQstatus(a->c[i]) != CONNECTION_BAD) {
		*reached = true;
		a->reached = true;
	}
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
 * The spare's write went out because attempt a reached its server: a's connections are
 * closed now, before each costs a backend's start and an authentication on servers just
 * getting their service back, next to that write. It is dropped unrecorded (it failed at
 * nothing); the cadence goes on, so on a frozen server the next attempt waits in the
 * queue and fails at its deadline, which bounds the thaw, and racing every member is
 * still what finds a new primary.
 */
static void drop_trigger(struct wl_attempt *a)
{
	attempt_close(a);
	a->dropped = true;
}

/* poll_attempts: the spare's write was acknowledged. */
#define SPARE_WON (-2)

/*
 * Wait until until_us for any attempt (or the spare's write) to move; return the index of
 * an attempt that connected (its winning member in *who), SPARE_WON, or -1. Attempts
 * whose every member failed are recorded and removed. When probing (use_spare), a
 * handshake completed with the spare's server sends a write on the spare.
 */
static int poll_attempts(struct wl_writer *wr, int64_t until_us, int *who, bool use_spare)
{
	struct wl_prober *p = &wr->probe;
	const struct member *members;
	int n = probe_members(wr->sh, &members);
	struct pollfd fds[PROBE_MAX_FDS];
	int ak[PROBE_MAX_FDS], mi[PROBE_MAX_FDS];
	nfds_t nfds = 0;
	int64_t now = mono_now_us(), wait = until_us - now;
	struct timespec ts;
	int r, winner = -1, spare_fd = -1;

	if (use_spare && wl_spare_pollfd(wr, &fds[nfds])) {
		spare_fd = (int)nfds;
		ak[nfds] = mi[nfds] = -1;
		nfds++;
	}
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
		struct wl_attempt *a;
		bool reached = false;

		if ((int)f == spare_fd) {
			if (fds[f].revents)
				wl_spare_advance(wr);
			continue;
		}
		a = &p->a[ak[f]];
		if (!fds[f].revents || !a->c[mi[f]])
			continue;
		/* Of several that connect in one round, the oldest wins. */
		if (member_step(a, mi[f], fds[f].revents, &members[mi[f]], &reached) &&
		    (winner < 0 || ak[f] < winner)) {
			winner = ak[f];
			*who = mi[f];
		}
		if (reached)
			atomic_store(&wr->path_up_us[wr->sh->has_entry ? 0 : mi[f]], mono_now_us());
		if (reached && use_spare && winner < 0 && wl_spare_ready_for(wr, wr->sh->has_entry ? -1 : mi[f])) {
			wl_spare_fire(wr);
			drop_trigger(a);
		}
	}
	if (use_spare && wr->spare.state == WL_SPARE_ACKED)
		winner = SPARE_WON;
	now = mono_now_us();
	for (int k = p->n - 1; k >= 0; k--) {
		if (p->a[k].live > 0 || k == winner)
			continue;
		if (!p->a[k].dropped)
			record_fail(wr, &p->a[k], now, "no read-write member");
		attempt_remove(p, k);
		if (winner > k)
			winner--;
	}
	return winner;
}

/*
 * Take member i's connection out of attempt k (closing the rest of that attempt) and log
 * it; through an entry, ask which server it reached (ident). NULL when that fails.
 */
static PGconn *take(struct wl_writer *wr, int k, int i, char *ident, size_t identlen)
{
	struct wl_shared *sh = wr->sh;
	struct wl_attempt *a = &wr->probe.a[k];
	char node[MEMBER_NAME_LEN], err[256];
	int64_t t0 = a->t0_us, acc = a->acc_us[i];
	PGconn *c = a->c[i];

	a->c[i] = NULL;
	attempt_remove(&wr->probe, k);
	ident[0] = '\0';
	/* One round trip per connection, not per write: which server the entry led to. */
	if (sh->has_entry && !wl_query_text(c, WL_IDENT_SQL, mono_now_us() + sh->spec.connect_timeout_us, ident,
					    identlen, err, sizeof(err))) {
		log_debug("writer %d: %s", wr->id, err);
		if (sh->log)
			event_write_connect(sh->log, t0, mono_now_us(), wr->id, false, "", acc, err);
		PQfinish(c);
		return NULL;
	}
	wl_conn_node(sh, sh->has_entry ? -1 : i, ident, node, sizeof(node));
	if (sh->log)
		event_write_connect(sh->log, t0, mono_now_us(), wr->id, true, node, acc, NULL);
	return c;
}

/*
 * Attempt k connected to member i. Older attempts still pending, not yet answered by
 * that server, were held up by the outage: a failure sent then. Newer ones are closed
 * unrecorded (they only had not finished yet). A write in flight on the spare is given up.
 */
static bool adopt(struct wl_writer *wr, int k, int i)
{
	struct wl_prober *p = &wr->probe;
	int64_t now = mono_now_us(), t0 = p->a[k].t0_us;
	PGconn *c;

	for (int j = 0; j < p->n; j++) {
		if (j != k && p->a[j].t0_us < t0 && !p->a[j].acc_us[i])
			record_fail(wr, &p->a[j], now, "held up: a later attempt connected first");
	}
	c = take(wr, k, i, wr->ident, sizeof(wr->ident));
	while (p->n > 0)
		attempt_remove(p, p->n - 1);
	if (!c)
		return false;
	wr->conn = c;
	wr->member = wr->sh->has_entry ? -1 : i;
	wl_spare_settle(wr, "given up: a new connection was made first");
	return true;
}

/*
 * The spare's write was acknowledged: the spare carries the writer's writes from now on.
 * Attempts sent before that write whose path never came up were held up by the outage;
 * those that reached a server go on (the first to connect becomes the next spare).
 */
static void adopt_spare(struct wl_writer *wr)
{
	struct wl_prober *p = &wr->probe;
	int64_t now = mono_now_us(), sent = wr->spare.w.t0_us;

	for (int k = p->n - 1; k >= 0; k--) {
		if (p->a[k].reached)
			continue;
		if (p->a[k].t0_us < sent)
			record_fail(wr, &p->a[k], now, "held up: the spare's write got through first");
		attempt_remove(p, k);
	}
	wl_spare_promote(wr);
	wr->spare.retry_us = now + SPARE_SETTLE_US;
}

/* True while server i is setting up one of this writer's connections (i < 0: any server). */
static bool being_set_up(const struct wl_prober *p, int i)
{
	for (int k = 0; k < p->n; k++)
		for (int m = 0; m < DRIVER_MAX_MEMBERS; m++) {
			ConnStatusType s;

			if (!p->a[k].c[m] || (i >= 0 && m != i))
				continue;
			s = PQstatus(p->a[k].c[m]);
			if (s != CONNECTION_STARTED && s != CONNECTION_NEEDED && s != CONNECTION_BAD)
				return true;
		}
	return false;
}

/* The writer's idle spare reaches a server some writer completed a handshake with since this probing began. */
static bool spare_path_up(struct wl_writer *wr)
{
	struct wl_shared *sh = wr->sh;
	int m = sh->has_entry ? 0 : wr->spare.member;

	if (wr->spare.state != WL_SPARE_READY || m < 0 || m >= DRIVER_MAX_MEMBERS)
		return false;
	if (atomic_load(&wr->path_up_us[m]) < wr->probe.since_us)
		return false;
	return wl_spare_ready_for(wr, sh->has_entry ? -1 : m);
}

bool wl_probe_connect(struct wl_writer *wr)
{
	struct wl_shared *sh = wr->sh;
	struct wl_prober *p = &wr->probe;
	int nwriters = workload_total_writers(&sh->spec);

	/* Never at once: writers that lost their connections together start on their own slots. */
	p->since_us = mono_now_us();
	p->next_us = wl_probe_slot(p->epoch_us, p->since_us, wr->id, nwriters, sh->spec.probe_rate);
	for (;;) {
		int64_t now = mono_now_us(), until;
		int k, who = -1;

		if (atomic_load(&sh->stop))
			return false;
		if (now >= p->next_us) {
			/*
			 * The path to the spare's server came up (another writer's handshake): the
			 * spare's write tells at once, with no new connection. A full list skips the
			 * slot (the connections budget holds), and so does a connection a server is
			 * still setting up: a frozen server queues it, a busy one is forking and
			 * authenticating for it, and one more would only add to that work. A hung
			 * path (SYN lost) costs its server nothing: while only the others are busy
			 * (replicas refusing read-write beside a partitioned primary), a handshake
			 * with the spare's server alone is still tried on every slot, silently (it
			 * proves nothing when it fails), to set off the spare's write the moment
			 * that path is back.
			 */
			int sm = sh->has_entry ? 0 : wr->spare.member;

			if (spare_path_up(wr))
				wl_spare_fire(wr);
			else if (p->n < p->cap && !being_set_up(p, -1))
				attempt_launch(wr, now, ~0u, false);
			else if (p->n < p->cap && wr->spare.state == WL_SPARE_READY && sm >= 0 && !being_set_up(p, sm))
				attempt_launch(wr, now, 1u << sm, true);
			p->next_us = wl_probe_slot(p->epoch_us, now + 1, wr->id, nwriters, sh->spec.probe_rate);
		}
		expire(wr, now);
		until = p->next_us;
		for (k = 0; k < p->n; k++)
			if (p->a[k].deadline_us < until)
				until = p->a[k].deadline_us;
		k = poll_attempts(wr, until, &who, true);
		if (k == SPARE_WON) {
			adopt_spare(wr);
			return true;
		}
		if (k >= 0 && adopt(wr, k, who))
			return true;
	}
}

bool wl_probe_idle(struct wl_writer *wr, int64_t until_us)
{
	struct wl_shared *sh = wr->sh;
	struct wl_prober *p = &wr->probe;

	for (;;) {
		int64_t now = mono_now_us(), wait;
		int k, who = -1;

		if (atomic_load(&sh->stop))
			return false;
		if (p->spare_ok && wr->conn && wr->spare.state == WL_SPARE_NONE && p->n == 0 &&
		    now >= wr->spare.retry_us && p->cap > 0 && (sh->has_entry || wr->member >= 0))
			attempt_launch(wr, now, 1u << (sh->has_entry ? 0 : wr->member), true);
		expire(wr, now);
		if (now >= until_us)
			return true;
		if (p->n == 0) {
			wait = until_us - now;
			sleep_us(wait < PROBE_SLICE_US ? wait : PROBE_SLICE_US);
			continue;
		}
		k = poll_attempts(wr, until_us, &who, false);
		if (k >= 0) {
			char ident[WL_IDENT_LEN];
			PGconn *c = take(wr, k, who, ident, sizeof(ident));

			if (c)
				wl_spare_offer(wr, c, sh->has_entry ? -1 : who, ident);
		}
	}
}
