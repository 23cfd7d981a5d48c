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

bool wl_writer_adopt_conn(struct wl_writer *wr, PGconn *c)
{
	if (PQsetnonblocking(c, 1) != 0) {
		log_warn("writer %d: cannot make a connection non-blocking", wr->id);
		return false;
	}
	PQsetNoticeReceiver(c, on_notice, wr);
	return true;
}

/* Probe until connected (wl_probe_connect); false when the workload stops. */
static bool writer_connect(struct wl_writer *wr)
{
	while (wl_probe_connect(wr)) {
		if (wl_writer_adopt_conn(wr, wr->conn))
			return true;
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

static void set_result(struct wl_write *w, enum write_outcome out, const char *sqlstate, const char *msg)
{
	w->out = out;
	str_copy(w->sqlstate, sizeof(w->sqlstate), sqlstate ? sqlstate : "");
	wl_error_text(msg, w->err, sizeof(w->err));
}

bool wl_write_send(struct wl_writer *wr, PGconn *c, const char *node, struct wl_write *w)
{
	struct wl_shared *sh = wr->sh;
	char writer_text[16], seq_text[24];
	const char *values[3];

	memset(w, 0, sizeof(*w));
	wr->seq++;
	atomic_fetch_add(&sh->attempted, 1);
	str_format(writer_text, sizeof(writer_text), "%d", wr->id);
	str_format(seq_text, sizeof(seq_text), "%" PRId64, wr->seq);
	str_copy(w->node, sizeof(w->node), node);
	w->seq = wr->seq;
	values[0] = sh->run;
	values[1] = writer_text;
	values[2] = seq_text;
	wr->unreplicated = false;
	w->t0_us = mono_now_us();
	if (!PQsendQueryParams(c, insert_sql, 3, NULL, values, NULL, NULL, 0)) {
		set_result(w, WRITE_FAIL, NULL, PQerrorMessage(c));
		return false;
	}
	return true;
}

void wl_write_abandon(struct wl_write *w, const char *why)
{
	/* Part of the message may be out: the server could still run it. */
	set_result(w, WRITE_INDETERMINATE, NULL, w->flushed ? why : "send timed out");
}

/*
 * ok needs the CommandComplete AND ReadyForQuery: only then is the autocommit
 * transaction known to be committed.
 */
short wl_write_step(struct wl_writer *wr, PGconn *c, struct wl_write *w)
{
	if (!w->flushed) {
		int r = PQflush(c);

		if (r < 0) {
			set_result(w, WRITE_INDETERMINATE, NULL, PQerrorMessage(c));
			return 0;
		}
		if (r > 0) {
			/* The server may talk while we send (a NOTICE, an error): keep reading too. */
			if (!PQconsumeInput(c)) {
				set_result(w, WRITE_INDETERMINATE, NULL, PQerrorMessage(c));
				return 0;
			}
			return POLLIN | POLLOUT;
		}
		w->flushed = true;
	}
	if (!PQconsumeInput(c)) {
		if (!w->got_error)
			set_result(w, WRITE_INDETERMINATE, NULL, PQerrorMessage(c));
		return 0;
	}
	while (!PQisBusy(c)) {
		PGresult *res = PQgetResult(c);

		if (!res) {
			if (w->got_error)
				return 0;
			if (w->got_ok)
				set_result(w, wr->unreplicated ? WRITE_OK_UNREPLICATED : WRITE_OK, NULL, NULL);
			else
				set_result(w, WRITE_INDETERMINATE, NULL, "no result");
			return 0;
		}
		if (PQresultStatus(res) == PGRES_COMMAND_OK && !w->got_error) {
			w->got_ok = true;
		} else if (PQresultStatus(res) == PGRES_FATAL_ERROR && error_proves_rollback(res) &&
			   !wr->unreplicated && !w->got_ok) {
			w->got_error = true;
			set_result(w, WRITE_FAIL, PQresultErrorField(res, PG_DIAG_SQLSTATE), PQresultErrorMessage(res));
		} else if (!w->got_error) {
			/* FATAL (e.g. shutdown after a local commit), a lost connection: unknown. */
			set_result(w, WRITE_INDETERMINATE, PQresultErrorField(res, PG_DIAG_SQLSTATE),
				   PQresultErrorMessage(res));
			PQclear(res);
			return 0;
		}
		PQclear(res);
	}
	return POLLIN;
}

void wl_write_record(struct wl_writer *wr, const struct wl_write *w, int64_t t1_us)
{
	struct wl_shared *sh = wr->sh;

	if (w->out == WRITE_OK || w->out == WRITE_OK_UNREPLICATED)
		atomic_fetch_add(&sh->ok, 1);
	else
		atomic_fetch_add(&sh->failed, 1);
	if (!sh->log)
		return;
	event_write_write(sh->log, w->t0_us, t1_us, wr->id, w->seq, w->out, w->node,
			  w->sqlstate[0] ? w->sqlstate : NULL, w->err[0] ? w->err : NULL);
}

/* One attempted write on the current connection, by write_timeout; false when none was attempted. */
static bool write_once(struct wl_writer *wr)
{
	struct wl_write w;
	char node[MEMBER_NAME_LEN];
	int64_t deadline;

	/* A connection the server already closed would only produce a false indeterminate. */
	if (wl_conn_dead(wr->conn)) {
		drop_conn(wr);
		return false;
	}
	wl_conn_node(wr->sh, wr->member, wr->ident, node, sizeof(node));
	if (wl_write_send(wr, wr->conn, node, &w)) {
		deadline = w.t0_us + wr->sh->spec.write_timeout_us;
		for (;;) {
			short ev = wl_write_step(wr, wr->conn, &w);

			if (!ev)
				break;
			if (wl_wait_socket(wr->conn, (ev & POLLOUT) != 0, deadline) <= 0) {
				wl_write_abandon(&w, "no answer before the write timeout");
				break;
			}
		}
	}
	wl_write_record(wr, &w, mono_now_us());
	if (w.out != WRITE_OK && w.out != WRITE_OK_UNREPLICATED)
		drop_conn(wr);
	return true;
}

/*
 * The next slot on the rate schedule after the one at *next; whole missed slots are
 * skipped, not caught up. Writer id of n writes on epoch + (id / n + k) * period: the
 * writers take turns, so an outage's start falls within period / n of an ack (in step,
 * they would all write at the same instant and leave it a whole period to hide in).
 */
static void advance_schedule(const struct wl_writer *wr, int64_t *next, int64_t period)
{
	int n = workload_total_writers(&wr->sh->spec);
	int64_t now = mono_now_us(), after = *next, first;

	if (n < 1)
		n = 1;
	if (now - period > after)
		after = now - period;
	first = wr->probe.epoch_us + (int64_t)(wr->id % n) * period / n;
	if (after < first)
		*next = first;
	else
		*next = first + ((after - first) / period + 1) * period;
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

	if (!join_netns(wr))
		return NULL;
	if (sh->spec.rate_per_writer > 0)
		period = (int64_t)(1e6 / sh->spec.rate_per_writer + 0.5);
	if (period < 1 && sh->spec.rate_per_writer > 0)
		period = 1;
	wr->member = -1;
	next = mono_now_us();
	for (;;) {
		/* Unpaced, one look at the spare's set-up between writes. */
		if (!wl_probe_idle(wr, period ? next : mono_now_us()))
			break;
		if (atomic_load(&sh->stop))
			break;
		if (!wr->conn) {
			if (!writer_connect(wr))
				break;
			/* The first write goes out at once: its ack is the edge of an outage. */
			next = mono_now_us();
		}
		if (!write_once(wr))
			continue;
		if (wr->conn)
			wl_spare_swap(wr);
		/* A late write goes out at once, but a burst of catch-up writes would distort. */
		if (period)
			advance_schedule(wr, &next, period);
	}
	wl_spare_close(wr, "the workload stopped");
	drop_conn(wr);
	wl_probe_free(wr);
	return NULL;
}
