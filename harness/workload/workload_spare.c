/*
 * workload_spare.c - a writer's spare connection, and the write it sends when an outage
 * may be over.
 *
 * When a path drops packets, a write sent into it stays in TCP's retransmission backoff
 * (200 ms, then 400, 800...): after the path is back, nothing arrives until the next
 * retransmission, up to a second later. And a new connection costs a fork, an
 * authentication and a backend's start, 25-45 ms of CPU on a 2-core machine, more when
 * several writers reconnect at once. Either way the first ack would come well after the
 * service returned, and the window would measure the client's reconnection, not the
 * outage.
 *
 * So each writer keeps a second connection to its server and alternates its writes
 * between the two: when the path drops, the write in flight is on one of them and the
 * other has nothing in flight. While probing, as soon as the path to that server is up
 * (a path probe answered, workload_reach.c; or, where none can run, an attempt of any
 * writer completed a TCP handshake with it), the writer sends its next write on the
 * spare instead of connecting again. On a frozen server the write waits in
 * the server's socket and is answered when it thaws. Either way its ack marks the return
 * of the service within a probe slot, and the servers are not asked to fork a backend per
 * writer at the instant they come back.
 */
#include "util.h"
#include "workload.h"

#include <libpq-fe.h>
#include <string.h>

static void spare_clear(struct wl_spare *s)
{
	if (s->c)
		PQfinish(s->c);
	s->c = NULL;
	s->state = WL_SPARE_NONE;
	s->member = -1;
	s->ident[0] = '\0';
}

void wl_spare_close(struct wl_writer *wr, const char *why)
{
	struct wl_spare *s = &wr->spare;

	if (s->state == WL_SPARE_WRITING) {
		wl_write_abandon(&s->w, why);
		wl_write_record(wr, &s->w, mono_now_us());
	}
	spare_clear(s);
}

/* A connection to (member, ident) reaches the server the writer's connection reaches. */
static bool same_server(const struct wl_writer *wr, int member, const char *ident)
{
	return wr->sh->has_entry ? strcmp(ident, wr->ident) == 0 : member == wr->member;
}

void wl_spare_offer(struct wl_writer *wr, PGconn *c, int member, const char *ident)
{
	struct wl_spare *s = &wr->spare;

	if (!wr->conn || s->state != WL_SPARE_NONE || !same_server(wr, member, ident) ||
	    !wl_writer_adopt_conn(wr, c)) {
		PQfinish(c);
		return;
	}
	s->c = c;
	s->state = WL_SPARE_READY;
	s->member = member;
	str_copy(s->ident, sizeof(s->ident), ident);
}

bool wl_spare_ready_for(struct wl_writer *wr, int member)
{
	struct wl_spare *s = &wr->spare;

	if (s->state != WL_SPARE_READY)
		return false;
	/* Its server may have gone (killed, restarted): it said so on the socket. */
	if (wl_conn_dead(s->c)) {
		spare_clear(s);
		return false;
	}
	return wr->sh->has_entry || s->member == member;
}

/* The write's outcome is in: recorded; an ack leaves the spare to be promoted. */
static void spare_finish(struct wl_writer *wr)
{
	struct wl_spare *s = &wr->spare;

	wl_write_record(wr, &s->w, mono_now_us());
	if (s->w.out == WRITE_OK || s->w.out == WRITE_OK_UNREPLICATED)
		s->state = WL_SPARE_ACKED;
	else
		spare_clear(s);
}

void wl_spare_fire(struct wl_writer *wr)
{
	struct wl_spare *s = &wr->spare;
	char node[MEMBER_NAME_LEN];

	wl_conn_node(wr->sh, s->member, s->ident, node, sizeof(node));
	if (!wl_write_send(wr, s->c, node, &s->w)) {
		wl_write_record(wr, &s->w, mono_now_us());
		spare_clear(s);
		return;
	}
	s->state = WL_SPARE_WRITING;
	s->events = wl_write_step(wr, s->c, &s->w);
	if (!s->events)
		spare_finish(wr);
}

bool wl_spare_pollfd(const struct wl_writer *wr, struct pollfd *fd)
{
	const struct wl_spare *s = &wr->spare;

	if (s->state != WL_SPARE_WRITING)
		return false;
	fd->fd = PQsocket(s->c);
	fd->events = s->events;
	fd->revents = 0;
	return fd->fd >= 0;
}

void wl_spare_advance(struct wl_writer *wr)
{
	struct wl_spare *s = &wr->spare;

	if (s->state != WL_SPARE_WRITING)
		return;
	s->events = wl_write_step(wr, s->c, &s->w);
	if (!s->events)
		spare_finish(wr);
}

void wl_spare_promote(struct wl_writer *wr)
{
	struct wl_spare *s = &wr->spare;

	wr->conn = s->c;
	wr->member = s->member;
	str_copy(wr->ident, sizeof(wr->ident), s->ident);
	s->c = NULL;
	spare_clear(s);
}

void wl_spare_settle(struct wl_writer *wr, const char *why)
{
	struct wl_spare *s = &wr->spare;

	if (s->state == WL_SPARE_NONE)
		return;
	if (s->state != WL_SPARE_READY || !same_server(wr, s->member, s->ident))
		wl_spare_close(wr, why);
}

void wl_spare_swap(struct wl_writer *wr)
{
	struct wl_spare *s = &wr->spare;
	PGconn *c = wr->conn;
	int member = wr->member;
	char ident[WL_IDENT_LEN];

	if (s->state != WL_SPARE_READY || !wr->conn)
		return;
	str_copy(ident, sizeof(ident), wr->ident);
	wr->conn = s->c;
	wr->member = s->member;
	str_copy(wr->ident, sizeof(wr->ident), s->ident);
	s->c = c;
	s->member = member;
	str_copy(s->ident, sizeof(s->ident), ident);
}
