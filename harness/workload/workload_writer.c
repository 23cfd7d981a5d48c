/*
 * workload_writer.c - one writer thread: insert (run, writer, seq) rows on a paced
 * schedule and record each outcome as a write event.
 *
 * ok needs the CommandComplete AND ReadyForQuery: only then is the autocommit
 * transaction known to be committed. Anything sent without a complete answer by the
 * deadline is indeterminate, never fail.
 */
#include "util.h"
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char insert_sql[] = "INSERT INTO " WORKLOAD_TABLE "(run, writer, seq) VALUES ($1, $2, $3)";

struct write_result {
	enum write_outcome out;
	char sqlstate[8];
	char err[256];
};

/* The commit happened locally, but synchronous replication was cancelled. */
static void on_notice(void *arg, const PGresult *res)
{
	struct wl_writer *wr = arg;
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

	if ((primary && strstr(primary, "not have been replicated")) ||
	    (detail && strstr(detail, "not have been replicated")))
		wr->unreplicated = true;
}

static void drop_conn(struct wl_writer *wr)
{
	if (wr->conn)
		PQfinish(wr->conn);
	wr->conn = NULL;
	wr->member = -1;
}

/* Probe until connected (wl_probe_connect); false when the workload stops. */
static bool writer_connect(struct wl_writer *wr)
{
	while (wl_probe_connect(wr)) {
		if (PQsetnonblocking(wr->conn, 1) == 0) {
			PQsetNoticeReceiver(wr->conn, on_notice, wr);
			return true;
		}
		log_warn("writer %d: cannot make the connection non-blocking", wr->id);
		drop_conn(wr);
	}
	return false;
}

/* An ERROR (not FATAL/PANIC) answer to an autocommit INSERT proves it was rolled back. */
static bool error_proves_rollback(const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return sev && state && strcmp(sev, "ERROR") == 0;
}

static void set_result(struct write_result *r, enum write_outcome out, const char *sqlstate, const char *msg)
{
	r->out = out;
	str_copy(r->sqlstate, sizeof(r->sqlstate), sqlstate ? sqlstate : "");
	wl_error_text(msg, r->err, sizeof(r->err));
}

/* After a successful send: read until ReadyForQuery or the deadline. */
static void await_result(struct wl_writer *wr, int64_t deadline_us, struct write_result *r)
{
	PGconn *c = wr->conn;
	bool got_ok = false, got_error = false;

	if (!wl_flush(c, deadline_us)) {
		/* Part of the message may be out: the server could still run it. */
		set_result(r, WRITE_INDETERMINATE, NULL, PQstatus(c) == CONNECTION_OK ? "send timed out" :
						   PQerrorMessage(c));
		return;
	}
	for (;;) {
		while (!PQisBusy(c)) {
			PGresult *res = PQgetResult(c);

			if (!res) {
				if (got_error)
					return;
				if (got_ok)
					set_result(r, wr->unreplicated ? WRITE_OK_UNREPLICATED : WRITE_OK, NULL, NULL);
				else
					set_result(r, WRITE_INDETERMINATE, NULL, "no result");
				return;
			}
			if (PQresultStatus(res) == PGRES_COMMAND_OK && !got_error) {
				got_ok = true;
			} else if (PQresultStatus(res) == PGRES_FATAL_ERROR && error_proves_rollback(res) &&
				   !wr->unreplicated && !got_ok) {
				got_error = true;
				set_result(r, WRITE_FAIL, PQresultErrorField(res, PG_DIAG_SQLSTATE),
					   PQresultErrorMessage(res));
			} else if (!got_error) {
				/* FATAL (e.g. shutdown after a local commit), a lost connection: unknown. */
				set_result(r, WRITE_INDETERMINATE, PQresultErrorField(res, PG_DIAG_SQLSTATE),
					   PQresultErrorMessage(res));
				PQclear(res);
				return;
			}
			PQclear(res);
		}
		if (wl_wait_socket(c, false, deadline_us) <= 0) {
			if (!got_error)
				set_result(r, WRITE_INDETERMINATE, NULL, "no answer before the write timeout");
			return;
		}
		if (!PQconsumeInput(c)) {
			if (!got_error)
				set_result(r, WRITE_INDETERMINATE, NULL, PQerrorMessage(c));
			return;
		}
	}
}

static void record(struct wl_writer *wr, int64_t t0, int64_t t1, const struct write_result *r, const char *node)
{
	struct wl_shared *sh = wr->sh;

	if (r->out == WRITE_OK || r->out == WRITE_OK_UNREPLICATED)
		atomic_fetch_add(&sh->ok, 1);
	else
		atomic_fetch_add(&sh->failed, 1);
	if (!sh->log)
		return;
	event_write_write(sh->log, t0, t1, wr->id, wr->seq, r->out, node, r->sqlstate[0] ? r->sqlstate : NULL,
			  r->err[0] ? r->err : NULL);
}

/* One attempted write on the current connection; false when none was attempted. */
static bool write_once(struct wl_writer *wr, const char *writer_text)
{
	struct wl_shared *sh = wr->sh;
	struct write_result r;
	char seq_text[24], node[MEMBER_NAME_LEN];
	const char *values[3];
	int64_t t0, t1;

	/* A connection the server already closed would only produce a false indeterminate. */
	if (wl_conn_dead(wr->conn)) {
		drop_conn(wr);
		return false;
	}
	wr->seq++;
	atomic_fetch_add(&sh->attempted, 1);
	str_format(seq_text, sizeof(seq_text), "%" PRId64, wr->seq);
	wl_conn_node(sh, wr->member, wr->ident, node, sizeof(node));
	values[0] = sh->run;
	values[1] = writer_text;
	values[2] = seq_text;
	memset(&r, 0, sizeof(r));
	wr->unreplicated = false;
	t0 = mono_now_us();
	if (!PQsendQueryParams(wr->conn, insert_sql, 3, NULL, values, NULL, NULL, 0))
		set_result(&r, WRITE_FAIL, NULL, PQerrorMessage(wr->conn));
	else
		await_result(wr, t0 + sh->spec.write_timeout_us, &r);
	t1 = mono_now_us();
	record(wr, t0, t1, &r, node);
	if (r.out != WRITE_OK && r.out != WRITE_OK_UNREPLICATED)
		drop_conn(wr);
	return true;
}

/* The next slot on the rate schedule; whole missed slots are skipped, not caught up. */
static void advance_schedule(int64_t *next, int64_t period)
{
	int64_t now = mono_now_us();

	*next += period;
	if (now - *next >= period)
		*next += (now - *next) / period * period;
}

/*
 * A writer placed in a zone joins its network namespace: setns() on a thread moves only
 * that thread, so it shares the zone's fate in a partition while the rest stays outside.
 */
static bool join_netns(struct wl_writer *wr)
{
	int fd = wr->netns_fd;
	bool ok;

	if (fd < 0)
		return true;
	wr->netns_fd = -1;
	ok = setns(fd, CLONE_NEWNET) == 0;
	if (!ok)
		log_error("writer %d: cannot join its zone's network namespace: %s", wr->id,
			  strerror(errno));
	close(fd);
	return ok;
}

void *wl_writer_main(void *arg)
{
	struct wl_writer *wr = arg;
	struct wl_shared *sh = wr->sh;
	int64_t period = 0, next;
	char writer_text[16];

	if (!join_netns(wr))
		return NULL;
	if (sh->spec.rate_per_writer > 0)
		period = (int64_t)(1e6 / sh->spec.rate_per_writer + 0.5);
	if (period < 1 && sh->spec.rate_per_writer > 0)
		period = 1;
	str_format(writer_text, sizeof(writer_text), "%d", wr->id);
	wr->member = -1;
	next = mono_now_us();
	for (;;) {
		if (period && !wl_wait_until(sh, next))
			break;
		if (atomic_load(&sh->stop))
			break;
		if (!wr->conn) {
			if (!writer_connect(wr))
				break;
			/* The first write goes out at once: its ack is the edge of an outage. */
			next = mono_now_us();
		}
		if (!write_once(wr, writer_text))
			continue;
		/* A late write goes out at once, but a burst of catch-up writes would distort. */
		if (period)
			advance_schedule(&next, period);
	}
	drop_conn(wr);
	wl_probe_free(wr);
	return NULL;
}
