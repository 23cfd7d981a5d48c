/*
 * workload_reader.c - one reader thread: on the writers' schedule, read writer 0's highest
 * sequence number and record which node answered, in which role, and what it saw.
 *
 * Routing mirrors the writers: a race of direct connections under bise's own deadline.
 * primary: target_session_attrs=read-write. replica: the race skips the member the watcher
 * sees as primary, and the read itself asks pg_is_in_recovery(), so a read that still
 * lands on a primary is refused (what target_session_attrs=standby would do) without a
 * second round trip. any: the first member that answers.
 */
#include "util.h"
#include "workload.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/*
 * Writer 0's latest sequence is an index backward scan of (run, writer, seq): the probe
 * stays cheap whatever the table's size. A server out of recovery also gives its current
 * timeline (as the watcher reads it), so a read by a deposed primary is told from one by a
 * freshly promoted primary the watcher has not sampled yet. pg_is_in_recovery() is read
 * once (OFFSET 0) so a promotion during the statement cannot mix the answers.
 */
static const char read_sql[] =
	"SELECT r, CASE WHEN r THEN 0"
	" ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,"
	" (SELECT coalesce(max(seq), 0) FROM " WORKLOAD_TABLE " WHERE run = $1 AND writer = 0)"
	" FROM (SELECT pg_is_in_recovery() AS r OFFSET 0) s";

#define BACKOFF_US 10000

struct read_result {
	bool ok;
	bool in_recovery;
	int timeline; /* 0 when in recovery */
	int64_t seq_seen;
	char err[256];
};

static void drop_conn(struct wl_reader *rd)
{
	if (rd->conn)
		PQfinish(rd->conn);
	rd->conn = NULL;
	rd->member = -1;
}

/* Members a replica read may race: all but the one the watcher last saw as primary. */
static int replica_candidates(struct wl_shared *sh, struct member *out, int *index)
{
	char primary[MEMBER_NAME_LEN];
	int n = 0;

	pthread_mutex_lock(&sh->primary_lock);
	str_copy(primary, sizeof(primary), sh->primary);
	pthread_mutex_unlock(&sh->primary_lock);
	for (int i = 0; i < sh->nmembers; i++) {
		if (primary[0] && strcmp(sh->members[i].name, primary) == 0)
			continue;
		if (sh->has_entry && !sh->members[i].endpoint.host[0])
			continue;
		index[n] = i;
		out[n++] = sh->members[i];
	}
	return n;
}

/* Make c the reader's connection to member (-1: through the entry). */
static bool keep_conn(struct wl_reader *rd, PGconn *c, int member, char *err, size_t errlen)
{
	if (PQsetnonblocking(c, 1) != 0) {
		str_copy(err, errlen, "cannot make the connection non-blocking");
		PQfinish(c);
		return false;
	}
	rd->conn = c;
	rd->member = member;
	return true;
}

static bool reader_connect(struct wl_reader *rd, char *err, size_t errlen)
{
	struct wl_shared *sh = rd->sh;
	struct member cand[DRIVER_MAX_MEMBERS];
	int index[DRIVER_MAX_MEMBERS], n, who = -1;
	enum read_target target = sh->spec.read_from;
	char app[32];
	PGconn *c;

	str_format(app, sizeof(app), "bise-reader-%d", rd->id);
	rd->ident[0] = '\0';
	if (sh->has_entry && target == READ_PRIMARY) {
		/* The primary is read where the writers write: through the entry. */
		c = wl_connect_rw(sh, app, true, mono_now_us() + sh->spec.connect_timeout_us, &sh->stop, &who,
				  rd->ident, sizeof(rd->ident), err, errlen);
		if (!c)
			return false;
		return keep_conn(rd, c, who, err, errlen);
	}
	if (target == READ_REPLICA) {
		n = replica_candidates(sh, cand, index);
	} else {
		n = 0;
		for (int i = 0; i < sh->nmembers; i++) {
			/* With an entry, a member without an endpoint cannot be reached from here. */
			if (sh->has_entry && !sh->members[i].endpoint.host[0])
				continue;
			cand[n] = sh->members[i];
			index[n++] = i;
		}
	}
	if (n == 0) {
		str_copy(err, errlen, "no candidate member");
		return false;
	}
	c = wl_connect_race(cand, n, app, target == READ_PRIMARY, mono_now_us() + sh->spec.connect_timeout_us,
			    &sh->stop, &who, err, errlen);
	if (!c)
		return false;
	return keep_conn(rd, c, index[who], err, errlen);
}

/* The single row of read_sql; false with the reason in r->err. */
static bool parse_row(const PGresult *res, struct read_result *r)
{
	const char *rec, *tli, *seq;
	char *end;
	long t;

	if (PQntuples(res) != 1 || PQnfields(res) != 3) {
		str_copy(r->err, sizeof(r->err), "unexpected result shape");
		return false;
	}
	rec = PQgetvalue(res, 0, 0);
	tli = PQgetvalue(res, 0, 1);
	seq = PQgetvalue(res, 0, 2);
	r->in_recovery = rec[0] == 't';
	t = strtol(tli, &end, 10);
	if (end == tli || *end || t < 0 || t > INT32_MAX) {
		str_format(r->err, sizeof(r->err), "bad timeline \"%s\"", tli);
		return false;
	}
	r->timeline = (int)t;
	r->seq_seen = strtoll(seq, &end, 10);
	if (end == seq || *end) {
		str_format(r->err, sizeof(r->err), "bad max(seq) \"%s\"", seq);
		return false;
	}
	return true;
}

/* Send the read and wait for its answer until deadline_us. */
static void read_once(struct wl_reader *rd, int64_t deadline_us, struct read_result *r)
{
	PGconn *c = rd->conn;
	const char *values[1] = { rd->sh->run };
	bool got_row = false, failed = false;

	if (!PQsendQueryParams(c, read_sql, 1, NULL, values, NULL, NULL, 0) || !wl_flush(c, deadline_us)) {
		wl_error_text(PQerrorMessage(c), r->err, sizeof(r->err));
		return;
	}
	for (;;) {
		while (!PQisBusy(c)) {
			PGresult *res = PQgetResult(c);

			if (!res) {
				r->ok = got_row && !failed;
				return;
			}
			if (PQresultStatus(res) == PGRES_TUPLES_OK && !failed) {
				got_row = parse_row(res, r);
				failed = !got_row;
			} else if (!failed) {
				failed = true;
				wl_error_text(PQresultErrorMessage(res), r->err, sizeof(r->err));
			}
			PQclear(res);
		}
		if (wl_wait_socket(c, false, deadline_us) <= 0) {
			str_copy(r->err, sizeof(r->err), "no answer before the read timeout");
			return;
		}
		if (!PQconsumeInput(c)) {
			wl_error_text(PQerrorMessage(c), r->err, sizeof(r->err));
			return;
		}
	}
}

static void record(struct wl_reader *rd, int64_t t0, int64_t t1, const struct read_result *r, const char *node)
{
	struct wl_shared *sh = rd->sh;

	if (!sh->log)
		return;
	event_write_read(sh->log, t0, t1, rd->id, r->ok, node, sh->spec.read_from, r->seq_seen, r->in_recovery,
			 r->timeline, r->err[0] ? r->err : NULL);
}

/* A server in the wrong role for the target: the read does not count as served. */
static void check_role(const struct wl_shared *sh, struct read_result *r)
{
	if (!r->ok)
		return;
	if (sh->spec.read_from == READ_REPLICA && !r->in_recovery) {
		r->ok = false;
		str_copy(r->err, sizeof(r->err), "answered by a primary, not a standby");
	} else if (sh->spec.read_from == READ_PRIMARY && r->in_recovery) {
		r->ok = false;
		str_copy(r->err, sizeof(r->err), "answered by a standby, not the primary");
	}
}

/* One probe: connect when needed, read, record. */
static void probe(struct wl_reader *rd)
{
	struct wl_shared *sh = rd->sh;
	struct read_result r;
	char node[MEMBER_NAME_LEN] = "";
	int64_t t0 = mono_now_us();

	memset(&r, 0, sizeof(r));
	if (rd->conn && wl_conn_dead(rd->conn))
		drop_conn(rd);
	if (!rd->conn && !reader_connect(rd, r.err, sizeof(r.err))) {
		if (atomic_load(&sh->stop))
			return;
		if (!r.err[0])
			str_copy(r.err, sizeof(r.err), "no member accepted a connection in time");
		record(rd, t0, mono_now_us(), &r, "");
		sleep_us(BACKOFF_US);
		return;
	}
	if (rd->member >= 0)
		str_copy(node, sizeof(node), sh->members[rd->member].name);
	else
		wl_conn_node(sh, rd->member, rd->ident, node, sizeof(node));
	t0 = mono_now_us();
	read_once(rd, t0 + sh->spec.write_timeout_us, &r);
	check_role(sh, &r);
	record(rd, t0, mono_now_us(), &r, node);
	if (!r.ok)
		drop_conn(rd);
}

void *wl_reader_main(void *arg)
{
	struct wl_reader *rd = arg;
	struct wl_shared *sh = rd->sh;
	int64_t period = 0, next;

	if (sh->spec.rate_per_writer > 0)
		period = (int64_t)(1e6 / sh->spec.rate_per_writer + 0.5);
	if (period < 1 && sh->spec.rate_per_writer > 0)
		period = 1;
	/* Readers start half a period after the writers so probes interleave with writes. */
	next = mono_now_us() + period / 2;
	rd->member = -1;
	for (;;) {
		if (period && !wl_wait_until(sh, next))
			break;
		if (atomic_load(&sh->stop))
			break;
		probe(rd);
		if (period) {
			int64_t now = mono_now_us();

			/* Missed slots are skipped, not caught up in a burst. */
			next += period;
			if (now - next >= period)
				next += (now - next) / period * period;
		}
	}
	drop_conn(rd);
	return NULL;
}
