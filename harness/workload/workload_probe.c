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
/* Every member of every attempt a writer may have in flight (93 connections x 8 members), its spare and its path probes. */
#define PROBE_MAX_FDS (769 + WL_REACH_RING)
/* After a spare's connection attempt failed, the next one waits this long. */
#define SPARE_RETRY_US 1000000
/* After an outage ended on the spare, the next spare waits this long: not while servers recover. */
#define SPARE_SETTLE_US 500000
/* Between two path probes of one writer (they cost the server nothing). */
#define REACH_PERIOD_US 2000
/*
 * After the spare's write went out, the writer's slots start no attempt for this long:
 * the write normally answers within a few ms, and an attempt then would have every
 * server fork and authenticate beside it. Past this, attempts go on (its server may be
 * frozen, or no longer the primary).
 */
#define SPARE_ALONE_US 50000

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
	wl_reach_init(&p->reach);
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
	wl_reach_close(&p->reach);
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
/* poll_attempts' ak[] of the spare's write and of a path probe. */
#define FD_SPARE (-1)
#define FD_REACH (-3)

/* The endpoint of the spare's server, NULL without a spare. */
static const struct pg_endpoint *spare_endpoint(const struct wl_writer *wr)
{
	if (wr->sh->has_entry)
		return &wr->sh->entry.endpoint;
	if (wr->spare.member < 0 || wr->spare.member >= wr->sh->nmembers)
		return NULL;
	return &wr->sh->members[wr->spare.member].endpoint;
}

/* Path probes run while the spare is idle and its server can be probed. */
static bool reach_wanted(const struct wl_writer *wr)
{
	const struct pg_endpoint *ep = spare_endpoint(wr);

	return wr->spare.state == WL_SPARE_READY && ep && wl_reach_possible(ep);
}

/*
 * The path to member i (entry: any) is up: seen by every writer of this namespace, and the
 * spare's write goes out. A path probe to it sent at down_t0 went unanswered (0: none
 * known); see adopt_spare.
 */
static void path_came_up(struct wl_writer *wr, int i, int64_t down_t0)
{
	atomic_store(&wr->path_up_us[wr->sh->has_entry ? 0 : i], mono_now_us());
	if (wl_spare_ready_for(wr, wr->sh->has_entry ? -1 : i)) {
		wl_spare_fire(wr);
		wr->probe.reach_down_t0 = down_t0;
	}
	if (!reach_wanted(wr))
		wl_reach_close(&wr->probe.reach);
}

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
		ak[nfds] = mi[nfds] = FD_SPARE;
		nfds++;
	}
	if (use_spare)
		for (int q = wl_reach_pollfds(&p->reach, &fds[nfds], WL_REACH_RING); q > 0; q--) {
			ak[nfds] = mi[nfds] = FD_REACH;
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
		if (ak[f] == FD_REACH) {
			int64_t down_t0 = 0;

			/* Before any attempt's entry in fds: no attempt has won yet this round. */
			if (fds[f].revents && wl_reach_answered(&p->reach, fds[f].fd, &down_t0))
				path_came_up(wr, wr->spare.member, down_t0);
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
		if (reached && use_spare && winner < 0 && wl_spare_ready_for(wr, wr->sh->has_entry ? -1 : mi[f])) {
			path_came_up(wr, mi[f], 0);
			drop_trigger(a);
		} else if (reached) {
			atomic_store(&wr->path_up_us[wr->sh->has_entry ? 0 : mi[f]], mono_now_us());
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

	/*
	 * The path probe left unanswered before the spare's write: logged with the server that
	 * has just acknowledged. The metrics count it as a failure sent into the outage only
	 * where that server was the primary all along (no other seen primary, no promotion)
	 * and no fault dropped or held packets at random.
	 */
	if (p->reach_down_t0 && wr->sh->log) {
		char node[MEMBER_NAME_LEN];

		wl_conn_node(wr->sh, wr->spare.member, wr->spare.ident, node, sizeof(node));
		event_write_path(wr->sh->log, p->reach_down_t0, now, wr->id, node);
	}
	p->reach_down_t0 = 0;
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

/* The spare's write went out less than SPARE_ALONE_US ago and is still unanswered. */
static bool spare_alone(const struct wl_writer *wr, int64_t now)
{
	return wr->spare.state == WL_SPARE_WRITING && now - wr->spare.w.t0_us < SPARE_ALONE_US;
}

/* A path probe when one is due, while the spare waits; none left behind once it does not. */
static void reach_step(struct wl_writer *wr, int64_t now)
{
	struct wl_reach *r = &wr->probe.reach;
	int64_t down_t0 = 0;

	if (!reach_wanted(wr)) {
		wl_reach_close(r);
		return;
	}
	if (now < r->next_us)
		return;
	r->next_us = now + REACH_PERIOD_US;
	if (wl_reach_send(r, spare_endpoint(wr), &down_t0))
		path_came_up(wr, wr->spare.member, down_t0);
}

bool wl_probe_connect(struct wl_writer *wr)
{
	struct wl_shared *sh = wr->sh;
	struct wl_prober *p = &wr->probe;
	int nwriters = workload_total_writers(&sh->spec);

	/* Never at once: writers that lost their connections together start on their own slots. */
	p->since_us = mono_now_us();
	p->reach_down_t0 = 0;
	p->next_us = wl_probe_slot(p->epoch_us, p->since_us, wr->id, nwriters, sh->spec.probe_rate);
	for (;;) {
		int64_t now = mono_now_us(), until;
		int k, who = -1;

		if (atomic_load(&sh->stop))
			return false;
		if (now >= p->next_us) {
			/*
			 * The path to the spare's server came up (seen by another writer): the
			 * spare's write tells at once, with no new connection, and for a moment no
			 * attempt joins it (spare_alone). A full list skips the slot (the
			 * connections budget holds), and so does a connection a server is still
			 * setting up: a frozen server queues it, a busy one is forking and
			 * authenticating for it, and one more would only add to that work. Where
			 * path probes cannot watch the spare's server (no port to probe: reach_step),
			 * a handshake with the spare's server alone is still tried on every slot
			 * while only the others are busy (replicas refusing read-write beside a
			 * partitioned primary): a hung path (SYN lost) costs its server nothing, and
			 * it is silent (it proves nothing when it fails). It sets off the spare's
			 * write when that path is back. Every attempt goes to every member: only
			 * then does its failure show that no member took writes when it was sent.
			 */
			int sm = sh->has_entry ? 0 : wr->spare.member;
			bool room = p->n < p->cap && !spare_alone(wr, now);

			if (spare_path_up(wr))
				wl_spare_fire(wr);
			else if (room && !being_set_up(p, -1))
				attempt_launch(wr, now, ~0u, false);
			else if (room && wr->spare.state == WL_SPARE_READY && sm >= 0 && !being_set_up(p, sm) &&
				 !reach_wanted(wr))
				attempt_launch(wr, now, 1u << sm, true);
			p->next_us = wl_probe_slot(p->epoch_us, now + 1, wr->id, nwriters, sh->spec.probe_rate);
		}
		reach_step(wr, now);
		expire(wr, now);
		until = p->next_us;
		if (reach_wanted(wr) && p->reach.next_us < until)
			until = p->reach.next_us;
		for (k = 0; k < p->n; k++)
			if (p->a[k].deadline_us < until)
				until = p->a[k].deadline_us;
		k = poll_attempts(wr, until, &who, true);
		if (k == SPARE_WON) {
			adopt_spare(wr);
			wl_reach_close(&p->reach);
			return true;
		}
		if (k >= 0 && adopt(wr, k, who)) {
			wl_reach_close(&p->reach);
			return true;
		}
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
