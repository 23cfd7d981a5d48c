/*
 * workload_watch.c - the role watcher: probe every member directly at a fixed interval
 * and log what each one says it is (primary / replica / down, timeline, WAL position).
 *
 * All members are probed at once from one poll loop with one deadline per round, so a
 * dead or hung member shows up as down without delaying the samples of the others.
 */
#include "util.h"
#include "workload.h"

#include <json-c/json.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/*
 * pg_is_in_recovery() is read once (OFFSET 0 keeps the planner from duplicating it) so a
 * promotion during the query cannot mix roles. A standby's timeline is its WAL
 * receiver's; with no receiver (primary gone) the last restartpoint's is the best known.
 */
static const char probe_sql[] =
	"SELECT r, CASE WHEN r THEN coalesce((SELECT nullif(received_tli, 0) FROM pg_stat_wal_receiver),"
	" (pg_control_checkpoint()).timeline_id)"
	" ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,"
	" CASE WHEN r THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END"
	" FROM (SELECT pg_is_in_recovery() AS r OFFSET 0) s";

#define PROBE_DEADLINE_MAX_US 500000
#define DEFAULT_INTERVAL_US 200000
#define POLL_SLICE_MS 50

enum probe_state { PROBE_IDLE, PROBE_CONNECTING, PROBE_QUERY, PROBE_DONE };

struct probe {
	PGconn *conn;
	enum probe_state st;
	PostgresPollingStatusType poll;
	bool sending; /* part of the query is still in libpq's output buffer */
	bool answered;
	enum node_role role;
	int tli;
	char lsn[32];
};

static void probe_drop(struct probe *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
}

static void emit(struct wl_shared *sh, int i, const struct probe *p)
{
	struct json_object *o;

	if (!sh->log)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "ev", json_object_new_string("node"));
	json_object_object_add(o, "node", json_object_new_string(sh->members[i].name));
	json_object_object_add(o, "role", json_object_new_string(node_role_name(p->role)));
	if (p->role != NODE_DOWN) {
		json_object_object_add(o, "tli", json_object_new_int(p->tli));
		json_object_object_add(o, "lsn", json_object_new_string(p->lsn));
	}
	event_log_append(sh->log, mono_now_us(), o);
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
	if (PQsetnonblocking(p->conn, 1) != 0 || !PQsendQuery(p->conn, probe_sql)) {
		finish_down(sh, i, p);
		return;
	}
	p->st = PROBE_QUERY;
	p->sending = PQflush(p->conn) == 1;
}

static void take_row(struct probe *p, const PGresult *res)
{
	if (PQntuples(res) != 1 || PQnfields(res) != 3)
		return;
	p->answered = true;
	p->role = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? NODE_REPLICA : NODE_PRIMARY;
	p->tli = (int)strtol(PQgetvalue(res, 0, 1), NULL, 10);
	str_copy(p->lsn, sizeof(p->lsn), PQgetvalue(res, 0, 2));
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
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			take_row(p, res);
		PQclear(res);
	}
}

static void start_probe(struct wl_shared *sh, int i, struct probe *p)
{
	char err[256];

	p->answered = false;
	p->role = NODE_DOWN;
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

static void probe_round(struct wl_shared *sh, struct probe *probes, int64_t deadline_us)
{
	struct pollfd fds[DRIVER_MAX_MEMBERS];
	int idx[DRIVER_MAX_MEMBERS];

	for (int i = 0; i < sh->nmembers; i++)
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
		if (probes[i].st == PROBE_CONNECTING || probes[i].st == PROBE_QUERY) {
			if (atomic_load(&sh->stop))
				probe_drop(&probes[i]);
			else
				finish_down(sh, i, &probes[i]);
		}
		probes[i].st = PROBE_IDLE;
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
