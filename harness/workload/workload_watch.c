/*
 * workload_watch.c - the role watcher: probe every member directly at a fixed interval
 * and log what each one says it is (primary / replica / down, timeline, WAL position).
 *
 * All members are probed at once from one poll loop with one deadline per round, so a
 * dead or hung member shows up as down without delaying the samples of the others.
 */
#include "util.h"
#include "workload.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/*
 * pg_is_in_recovery() is read once (OFFSET 0 keeps the planner from duplicating it) so a
 * promotion during the query cannot mix roles. A standby's timeline is its WAL
 * receiver's; with no receiver (primary gone) the last restartpoint's is the best known.
 * The second statement reads pg_stat_replication on a primary only (the WHERE is applied
 * before the select list, so pg_current_wal_lsn() never runs on a standby); its
 * pg_current_wal_lsn() is taken in the same statement so the byte lags are consistent.
 */
#define PROBE_ROLE \
	"SELECT r, CASE WHEN r THEN coalesce((SELECT nullif(received_tli, 0) FROM pg_stat_wal_receiver)," \
	" (pg_control_checkpoint()).timeline_id)" \
	" ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END," \
	" CASE WHEN r THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END," \
	" CASE WHEN r THEN pg_last_wal_receive_lsn() END"
#define PROBE_REST \
	" FROM (SELECT pg_is_in_recovery() AS r OFFSET 0) s;" \
	" SELECT application_name, state, sent_lsn, write_lsn, flush_lsn, replay_lsn, pg_current_wal_lsn()," \
	" extract(epoch FROM write_lag), extract(epoch FROM flush_lag), extract(epoch FROM replay_lag)" \
	" FROM pg_stat_replication WHERE NOT pg_is_in_recovery()"

static const char probe_sql[] = PROBE_ROLE PROBE_REST;
/* With an entry: also the server's identity, which tells the writers where they landed. */
static const char probe_ident_sql[] = PROBE_ROLE ", pg_postmaster_start_time()::text" PROBE_REST;

#define LAG_FIELDS 10
#define LAG_TEXT_LEN 32
#define MAX_LAG_ROWS DRIVER_MAX_MEMBERS

#define PROBE_DEADLINE_MAX_US 500000
/*
 * A probe that misses its round is reported down for it but keeps going into the next
 * rounds (a loaded server may take seconds to accept a connection: restarting the attempt
 * every round would never let it finish); after this long it is dropped and restarted.
 */
#define PROBE_GIVE_UP_US 3000000
#define DEFAULT_INTERVAL_US 200000
#define POLL_SLICE_MS 50

enum probe_state { PROBE_IDLE, PROBE_CONNECTING, PROBE_QUERY, PROBE_DONE };

struct probe {
	PGconn *conn;
	enum probe_state st;
	PostgresPollingStatusType poll;
	bool sending; /* part of the query is still in libpq's output buffer */
	bool answered;
	int64_t since_us; /* when the current connection attempt or query started */
	enum node_role role;
	int tli;
	char lsn[32];
	char rlsn[32];
	char ident[WL_IDENT_LEN];
	int nlag; /* pg_stat_replication rows of this round */
	char lag[MAX_LAG_ROWS][LAG_FIELDS][LAG_TEXT_LEN];
	bool lag_null[MAX_LAG_ROWS][LAG_FIELDS];
};

static void probe_drop(struct probe *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
}

/* LSN or state text, or NULL for SQL NULL. */
static const char *lag_text(const struct probe *p, int row, int col)
{
	return p->lag_null[row][col] ? NULL : p->lag[row][col];
}

/* Seconds (extract(epoch ...) text), or -1 for null: the lag columns are NULL while idle. */
static double lag_seconds(const struct probe *p, int row, int col)
{
	char *end;
	double v;

	if (p->lag_null[row][col])
		return -1;
	v = strtod(p->lag[row][col], &end);
	return end != p->lag[row][col] && *end == '\0' && v >= 0 ? v : -1;
}

static void emit_lag(struct wl_shared *sh, int i, const struct probe *p, int64_t now)
{
	for (int r = 0; r < p->nlag; r++) {
		struct lag_record l = {
			.primary = sh->members[i].name,
			.tli = p->tli,
			.standby = lag_text(p, r, 0),
			.state = lag_text(p, r, 1),
			.sent = lag_text(p, r, 2),
			.write = lag_text(p, r, 3),
			.flush = lag_text(p, r, 4),
			.replay = lag_text(p, r, 5),
			.primary_lsn = lag_text(p, r, 6),
			.write_lag = lag_seconds(p, r, 7),
			.flush_lag = lag_seconds(p, r, 8),
			.replay_lag = lag_seconds(p, r, 9),
		};

		event_write_lag(sh->log, now, &l);
	}
}

static void emit(struct wl_shared *sh, int i, const struct probe *p)
{
	int64_t now = mono_now_us();

	/* As soon as a member answers, writers that landed on it can be named. */
	if (sh->has_entry && p->answered && p->ident[0]) {
		pthread_mutex_lock(&sh->primary_lock);
		str_copy(sh->ident[i], sizeof(sh->ident[i]), p->ident);
		pthread_mutex_unlock(&sh->primary_lock);
	}
	if (!sh->log)
		return;
	event_write_node(sh->log, now, sh->members[i].name, p->role, p->tli, p->lsn, p->rlsn[0] ? p->rlsn : NULL);
	if (p->role == NODE_PRIMARY)
		emit_lag(sh, i, p, now);
}

/* A down sample for member i without touching its probe. */
static void emit_down(struct wl_shared *sh, int i)
{
	static const struct probe down = { .role = NODE_DOWN };

	emit(sh, i, &down);
}

static void finish_down(struct wl_shared *sh, int i, struct probe *p)
{
	probe_drop(p);
	p->st = PROBE_DONE;
	p->answered = false;
	p->role = NODE_DOWN;
	emit(sh, i, p);
}

static void send_probe(struct wl_shared *sh, int i, struct probe *p)
{
	if (PQsetnonblocking(p->conn, 1) != 0 ||
	    !PQsendQuery(p->conn, sh->has_entry ? probe_ident_sql : probe_sql)) {
		finish_down(sh, i, p);
		return;
	}
	p->st = PROBE_QUERY;
	p->since_us = mono_now_us();
	p->sending = PQflush(p->conn) == 1;
}

static void take_row(struct probe *p, const PGresult *res)
{
	if (PQntuples(res) != 1 || (PQnfields(res) != 4 && PQnfields(res) != 5))
		return;
	p->answered = true;
	p->role = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? NODE_REPLICA : NODE_PRIMARY;
	p->tli = (int)strtol(PQgetvalue(res, 0, 1), NULL, 10);
	str_copy(p->lsn, sizeof(p->lsn), PQgetvalue(res, 0, 2));
	str_copy(p->rlsn, sizeof(p->rlsn), PQgetvalue(res, 0, 3));
	if (PQnfields(res) == 5)
		str_copy(p->ident, sizeof(p->ident), PQgetvalue(res, 0, 4));
}

static void take_lag_rows(struct probe *p, const PGresult *res)
{
	int n = PQntuples(res);

	if (PQnfields(res) != LAG_FIELDS)
		return;
	for (int r = 0; r < n && p->nlag < MAX_LAG_ROWS; r++, p->nlag++) {
		for (int c = 0; c < LAG_FIELDS; c++) {
			p->lag_null[p->nlag][c] = PQgetisnull(res, r, c);
			str_copy(p->lag[p->nlag][c], LAG_TEXT_LEN, PQgetvalue(res, r, c));
		}
	}
}

/* Read what has arrived; ends the probe when the query is complete or failed. */
static void read_probe(struct wl_shared *sh, int i, struct probe *p)
{
	int f = p->sending ? PQflush(p->conn) : 0;

	if (f < 0 || !PQconsumeInput(p->conn)) {
		finish_down(sh, i, p);
		return;
	}
	p->sending = f == 1;
	while (!PQisBusy(p->conn)) {
		PGresult *res = PQgetResult(p->conn);

		if (!res) {
			if (!p->answered) {
				finish_down(sh, i, p);
				return;
			}
			p->st = PROBE_DONE;
			emit(sh, i, p);
			return;
		}
		/* The role row first; replication rows only after it (the statements run in order). */
		if (PQresultStatus(res) == PGRES_TUPLES_OK && !p->answered)
			take_row(p, res);
		else if (PQresultStatus(res) == PGRES_TUPLES_OK)
			take_lag_rows(p, res);
		PQclear(res);
	}
}

static void start_probe(struct wl_shared *sh, int i, struct probe *p)
{
	char err[256];

	if (p->st == PROBE_CONNECTING || p->st == PROBE_QUERY)
		return; /* carried over from a round it missed */
	p->answered = false;
	p->role = NODE_DOWN;
	p->nlag = 0;
	p->rlsn[0] = '\0';
	if (p->conn && wl_conn_dead(p->conn))
		probe_drop(p);
	if (p->conn) {
		send_probe(sh, i, p);
		return;
	}
	p->conn = wl_connect_start(&sh->members[i].endpoint, "bise-watcher", false, err, sizeof(err));
	if (!p->conn) {
		finish_down(sh, i, p);
		return;
	}
	p->st = PROBE_CONNECTING;
	p->since_us = mono_now_us();
	p->poll = PGRES_POLLING_WRITING;
}

static void advance(struct wl_shared *sh, int i, struct probe *p)
{
	if (p->st == PROBE_CONNECTING) {
		p->poll = PQconnectPoll(p->conn);
		if (p->poll == PGRES_POLLING_OK)
			send_probe(sh, i, p);
		else if (p->poll == PGRES_POLLING_FAILED)
			finish_down(sh, i, p);
	} else if (p->st == PROBE_QUERY) {
		read_probe(sh, i, p);
	}
}

/* With an entry, a member without an endpoint cannot be reached from here: not polled. */
static bool polled(const struct wl_shared *sh, int i)
{
	return !sh->has_entry || sh->members[i].endpoint.host[0];
}

static void probe_round(struct wl_shared *sh, struct probe *probes, int64_t deadline_us)
{
	struct pollfd fds[DRIVER_MAX_MEMBERS];
	int idx[DRIVER_MAX_MEMBERS];

	for (int i = 0; i < sh->nmembers; i++)
		if (polled(sh, i))
			start_probe(sh, i, &probes[i]);
	for (;;) {
		int64_t left = deadline_us - mono_now_us();
		nfds_t n = 0;

		for (int i = 0; i < sh->nmembers; i++) {
			struct probe *p = &probes[i];

			if (p->st != PROBE_CONNECTING && p->st != PROBE_QUERY)
				continue;
			fds[n].fd = PQsocket(p->conn);
			if (p->st == PROBE_CONNECTING)
				fds[n].events = p->poll == PGRES_POLLING_READING ? POLLIN : POLLOUT;
			else
				fds[n].events = POLLIN | (p->sending ? POLLOUT : 0);
			fds[n].revents = 0;
			idx[n++] = i;
		}
		if (n == 0 || left <= 0 || atomic_load(&sh->stop))
			break;
		if (poll(fds, n, left / 1000 < POLL_SLICE_MS ? (int)(left / 1000) + 1 : POLL_SLICE_MS) < 0)
			continue;
		for (nfds_t k = 0; k < n; k++) {
			if (fds[k].revents)
				advance(sh, idx[k], &probes[idx[k]]);
		}
	}
	/* Whoever has not answered by the deadline is down for this round (not when stopping). */
	for (int i = 0; i < sh->nmembers; i++) {
		struct probe *p = &probes[i];

		if (!polled(sh, i))
			continue;
		if (p->st != PROBE_CONNECTING && p->st != PROBE_QUERY) {
			p->st = PROBE_IDLE;
		} else if (atomic_load(&sh->stop)) {
			probe_drop(p);
			p->st = PROBE_IDLE;
		} else if (mono_now_us() - p->since_us >= PROBE_GIVE_UP_US) {
			finish_down(sh, i, p);
			p->st = PROBE_IDLE;
		} else {
			emit_down(sh, i); /* still trying: it goes on in the next round */
		}
	}
}

/* The primary with the highest timeline among this round's samples, "" if none. */
static void update_primary(struct wl_shared *sh, const struct probe *probes)
{
	int best = -1;

	for (int i = 0; i < sh->nmembers; i++) {
		if (probes[i].answered && probes[i].role == NODE_PRIMARY &&
		    (best < 0 || probes[i].tli > probes[best].tli))
			best = i;
	}
	pthread_mutex_lock(&sh->primary_lock);
	str_copy(sh->primary, sizeof(sh->primary), best >= 0 ? sh->members[best].name : "");
	pthread_mutex_unlock(&sh->primary_lock);
}

void *wl_watch_main(void *arg)
{
	struct wl_shared *sh = arg;
	struct probe probes[DRIVER_MAX_MEMBERS];
	int64_t interval = sh->watch_interval_us > 0 ? sh->watch_interval_us : DEFAULT_INTERVAL_US;
	int64_t next = mono_now_us();

	memset(probes, 0, sizeof(probes));
	while (!atomic_load(&sh->stop)) {
		int64_t now = mono_now_us();

		if (now < next) {
			sleep_us(next - now < POLL_SLICE_MS * 1000 ? next - now : POLL_SLICE_MS * 1000);
			continue;
		}
		probe_round(sh, probes, now + (interval < PROBE_DEADLINE_MAX_US ? interval : PROBE_DEADLINE_MAX_US));
		if (!atomic_load(&sh->stop))
			update_primary(sh, probes);
		atomic_fetch_add(&sh->rounds, 1);
		/* A late round starts at once; only whole missed intervals are skipped. */
		next += interval;
		now = mono_now_us();
		if (now - next >= interval)
			next += (now - next) / interval * interval;
	}
	for (int i = 0; i < sh->nmembers; i++)
		probe_drop(&probes[i]);
	return NULL;
}
