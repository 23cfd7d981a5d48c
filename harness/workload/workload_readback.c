/*
 * workload_readback.c - read every row of a run back from the primary and log it as
 * sequence ranges and duplicates per writer.
 *
 * The result can hold hundreds of thousands of rows: it is streamed in single-row mode
 * with binary columns and folded into ranges as it arrives, never held whole.
 */
#include "util.h"
#include "workload.h"

#include <endian.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

static const char readback_sql[] =
	"SELECT writer, seq, count(*) FROM " WORKLOAD_TABLE " WHERE run = $1 GROUP BY 1, 2 ORDER BY 1, 2";

#define INT4OID 23
#define INT8OID 20
#define ATTEMPT_MAX_US 3000000
#define RETRY_PAUSE_US 100000
#define MAX_WRITER_ID 100000
/* How long naming the member behind the entry may take per member. */
#define IDENT_ASK_US 1000000

struct rb_writer {
	struct seq_range *ranges;
	size_t nranges, cap_ranges;
	struct seq_dup *dups;
	size_t ndups, cap_dups;
};

struct rb_state {
	struct rb_writer *w;
	int nw;
	int64_t rows;
	bool warned;
};

static void rb_reset(struct rb_state *st)
{
	for (int i = 0; i < st->nw; i++) {
		free(st->w[i].ranges);
		free(st->w[i].dups);
	}
	free(st->w);
	memset(st, 0, sizeof(*st));
}

static void rb_ensure(struct rb_state *st, int nw)
{
	if (nw <= st->nw)
		return;
	st->w = xrealloc(st->w, (size_t)nw * sizeof(*st->w));
	memset(st->w + st->nw, 0, (size_t)(nw - st->nw) * sizeof(*st->w));
	st->nw = nw;
}

/* Rows arrive ordered by (writer, seq): extend the last range or open a new one. */
static void rb_add(struct rb_state *st, int writer, int64_t seq, int64_t count)
{
	struct rb_writer *w;

	st->rows += count;
	if (writer < 0 || writer >= MAX_WRITER_ID) {
		if (!st->warned)
			log_warn("read-back: ignoring rows of writer %d (out of range)", writer);
		st->warned = true;
		return;
	}
	rb_ensure(st, writer + 1);
	w = &st->w[writer];
	if (w->nranges > 0 && w->ranges[w->nranges - 1].last + 1 == seq) {
		w->ranges[w->nranges - 1].last = seq;
	} else {
		if (w->nranges == w->cap_ranges) {
			w->cap_ranges = w->cap_ranges ? w->cap_ranges * 2 : 16;
			w->ranges = xrealloc(w->ranges, w->cap_ranges * sizeof(*w->ranges));
		}
		w->ranges[w->nranges].first = seq;
		w->ranges[w->nranges++].last = seq;
	}
	if (count > 1) {
		if (w->ndups == w->cap_dups) {
			w->cap_dups = w->cap_dups ? w->cap_dups * 2 : 16;
			w->dups = xrealloc(w->dups, w->cap_dups * sizeof(*w->dups));
		}
		w->dups[w->ndups].seq = seq;
		w->dups[w->ndups++].count = count;
	}
}

static int64_t be_int(const char *p, int len)
{
	uint32_t v4;
	uint64_t v8;

	if (len == 4) {
		memcpy(&v4, p, 4);
		return (int32_t)be32toh(v4);
	}
	memcpy(&v8, p, 8);
	return (int64_t)be64toh(v8);
}

/* One binary row: writer int4, seq int8, count int8. */
static bool take_row(struct rb_state *st, const PGresult *res)
{
	if (PQnfields(res) != 3 || PQftype(res, 0) != INT4OID || PQftype(res, 1) != INT8OID ||
	    PQftype(res, 2) != INT8OID || PQgetlength(res, 0, 0) != 4 || PQgetlength(res, 0, 1) != 8 ||
	    PQgetlength(res, 0, 2) != 8) {
		log_error("read-back: unexpected row shape");
		return false;
	}
	rb_add(st, (int)be_int(PQgetvalue(res, 0, 0), 4), be_int(PQgetvalue(res, 0, 1), 8),
	       be_int(PQgetvalue(res, 0, 2), 8));
	return true;
}

static bool run_query(PGconn *c, const char *run_id, int64_t deadline_us, struct rb_state *st, char *err,
		      size_t errlen)
{
	const char *values[1] = {run_id};
	bool ok = true, done = false;

	if (PQsetnonblocking(c, 1) != 0 ||
	    !PQsendQueryParams(c, readback_sql, 1, NULL, values, NULL, NULL, 1) || !PQsetSingleRowMode(c)) {
		wl_error_text(PQerrorMessage(c), err, errlen);
		return false;
	}
	if (!wl_flush(c, deadline_us)) {
		str_copy(err, errlen, "could not send the query in time");
		return false;
	}
	while (!done) {
		while (!PQisBusy(c)) {
			PGresult *res = PQgetResult(c);
			ExecStatusType s;

			if (!res) {
				done = true;
				break;
			}
			s = PQresultStatus(res);
			if (s == PGRES_SINGLE_TUPLE) {
				if (ok && !take_row(st, res))
					ok = false;
			} else if (s != PGRES_TUPLES_OK) {
				wl_error_text(PQresultErrorMessage(res), err, errlen);
				ok = false;
			}
			PQclear(res);
		}
		if (done)
			break;
		if (wl_wait_socket(c, false, deadline_us) <= 0) {
			str_copy(err, errlen, "no complete answer in time");
			return false;
		}
		if (!PQconsumeInput(c)) {
			wl_error_text(PQerrorMessage(c), err, errlen);
			return false;
		}
	}
	return ok;
}

static void emit(struct event_log *log, const struct rb_state *st, int writers, const char *node)
{
	int n = st->nw > writers ? st->nw : writers;
	struct rb_writer none = {0};

	for (int i = 0; i < n; i++) {
		const struct rb_writer *w = i < st->nw ? &st->w[i] : &none;

		/* Writers beyond the run's count are phantoms; they are logged so metrics see them. */
		if (i >= writers && w->nranges == 0)
			continue;
		event_write_readback(log, mono_now_us(), node, i, w->ranges, w->nranges, w->dups, w->ndups);
	}
	event_write_readback_done(log, mono_now_us(), node, st->rows);
}

/* The member whose server has identity ident (each member with a host asked once); "" if none. */
static void member_of(const struct member *members, int nmembers, const char *ident, char *name, size_t len)
{
	str_copy(name, len, "");
	for (int i = 0; i < nmembers && ident[0]; i++) {
		char other[WL_IDENT_LEN], err[256];
		PGconn *c;

		if (!members[i].endpoint.host[0])
			continue;
		c = wl_connect_race(&members[i], 1, "bise-readback", false, mono_now_us() + IDENT_ASK_US, NULL,
				    NULL, err, sizeof(err));
		if (!c)
			continue;
		if (wl_query_text(c, WL_IDENT_SQL, mono_now_us() + IDENT_ASK_US, other, sizeof(other), err,
				  sizeof(err)) && strcmp(other, ident) == 0) {
			str_copy(name, len, members[i].name);
			PQfinish(c);
			return;
		}
		PQfinish(c);
	}
}

bool workload_readback(const char *run_id, const struct member *members, int nmembers, int writers,
		       int64_t timeout_us, struct event_log *log)
{
	return workload_readback_entry(run_id, members, nmembers, NULL, writers, timeout_us, log);
}

bool workload_readback_entry(const char *run_id, const struct member *members, int nmembers,
			     const struct pg_endpoint *entry, int writers, int64_t timeout_us,
			     struct event_log *log)
{
	struct member via = { .name = "entry" };
	bool has_entry = entry && entry->host[0];
	int64_t deadline = mono_now_us() + timeout_us;
	struct rb_state st;
	char err[256] = "", ident[WL_IDENT_LEN] = "";
	int attempts = 0;

	memset(&st, 0, sizeof(st));
	for (;;) {
		int64_t now = mono_now_us(), until;
		PGconn *c;
		int who = -1;

		if (attempts > 0 && now >= deadline) {
			log_error("read-back of run %s failed after %d attempts: %s", run_id, attempts, err);
			rb_reset(&st);
			return false;
		}
		attempts++;
		until = deadline - now < ATTEMPT_MAX_US ? deadline : now + ATTEMPT_MAX_US;
		if (has_entry) {
			via.endpoint = *entry;
			c = wl_connect_race(&via, 1, "bise-readback", true, until, NULL, NULL, err, sizeof(err));
			if (c && !wl_query_text(c, WL_IDENT_SQL, until, ident, sizeof(ident), err, sizeof(err))) {
				PQfinish(c);
				c = NULL;
			}
		} else {
			c = wl_connect_race(members, nmembers, "bise-readback", true, until, NULL, &who, err,
					    sizeof(err));
		}
		if (c) {
			bool ok = run_query(c, run_id, deadline, &st, err, sizeof(err));

			PQfinish(c);
			if (ok) {
				char node[MEMBER_NAME_LEN];

				if (has_entry)
					member_of(members, nmembers, ident, node, sizeof(node));
				else
					str_copy(node, sizeof(node), members[who].name);
				if (log)
					emit(log, &st, writers, node);
				rb_reset(&st);
				return true;
			}
			rb_reset(&st);
		}
		log_debug("read-back attempt %d: %s", attempts, err);
		sleep_us(RETRY_PAUSE_US);
	}
}
