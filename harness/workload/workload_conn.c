/*
 * workload_conn.c - non-blocking libpq connections under bise's own deadlines.
 *
 * libpq's connect_timeout has a 2 s floor and blocks; every wait here is a poll(2) on
 * the connection's socket with a monotonic deadline, so a hung or partitioned member
 * costs at most that deadline and never stalls the others.
 */
#include "util.h"
#include "workload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <string.h>
#include <time.h>

/* Longest single poll, so a stop request is noticed promptly. */
#define WL_POLL_SLICE_US 50000

void wl_error_text(const char *msg, char *err, size_t errlen)
{
	size_t j = 0;

	if (!err || errlen == 0)
		return;
	for (size_t i = 0; msg && msg[i] && j + 1 < errlen; i++) {
		char ch = msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t' ? ' ' : msg[i];

		/* Collapse the line breaks of multi-line libpq messages into single spaces. */
		if (ch == ' ' && (j == 0 || err[j - 1] == ' '))
			continue;
		err[j++] = ch;
	}
	while (j > 0 && err[j - 1] == ' ')
		j--;
	err[j] = '\0';
}

static bool is_numeric_host(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void add_param(const char **keys, const char **vals, int *n, const char *key, const char *val)
{
	keys[*n] = key;
	vals[*n] = val;
	(*n)++;
}

/*
 * A server's NOTICE or WARNING ("terminating connection because of crash of another server
 * process" when a fault kills a member) is expected under faults: a debug line, never
 * libpq's default raw line on stderr.
 */
static void notice_to_debug(void *arg, const char *message)
{
	char text[512];

	wl_error_text(message, text, sizeof(text));
	log_debug("workload: the server said: %s", text);
}

PGconn *wl_connect_start(const struct pg_endpoint *ep, const char *appname, bool read_write, char *err,
			 size_t errlen)
{
	const char *keys[16], *vals[16];
	char port[16];
	int n = 0;
	PGconn *c;

	str_format(port, sizeof(port), "%d", ep->port);
	add_param(keys, vals, &n, "host", ep->host);
	/* A numeric address also as hostaddr: no name lookup, which would block. */
	if (is_numeric_host(ep->host))
		add_param(keys, vals, &n, "hostaddr", ep->host);
	add_param(keys, vals, &n, "port", port);
	if (ep->user[0])
		add_param(keys, vals, &n, "user", ep->user);
	if (ep->password[0])
		add_param(keys, vals, &n, "password", ep->password);
	if (ep->dbname[0])
		add_param(keys, vals, &n, "dbname", ep->dbname);
	add_param(keys, vals, &n, "application_name", appname);
	/* The deadline is ours: no libpq timeout, no keepalive that drops a connection on its own. */
	add_param(keys, vals, &n, "connect_timeout", "0");
	add_param(keys, vals, &n, "keepalives", "0");
	/* GSSAPI negotiation can look up credentials synchronously; nobody here uses it. */
	add_param(keys, vals, &n, "gssencmode", "disable");
	add_param(keys, vals, &n, "target_session_attrs", read_write ? "read-write" : "any");
	keys[n] = NULL;
	vals[n] = NULL;

	c = PQconnectStartParams(keys, vals, 0);
	if (!c) {
		str_copy(err, errlen, "out of memory");
		return NULL;
	}
	if (PQstatus(c) == CONNECTION_BAD || PQsocket(c) < 0) {
		wl_error_text(PQerrorMessage(c), err, errlen);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_to_debug, NULL);
	return c;
}

static short poll_events(PostgresPollingStatusType st)
{
	return st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
}

/* ppoll with a microsecond timeout; returns what ppoll returns. */
static int poll_us(struct pollfd *fds, nfds_t n, int64_t timeout_us)
{
	struct timespec ts;
	int r;

	if (timeout_us < 0)
		timeout_us = 0;
	ts.tv_sec = timeout_us / 1000000;
	ts.tv_nsec = (timeout_us % 1000000) * 1000;
	r = ppoll(fds, n, &ts, NULL);
	if (r < 0 && errno == EINTR)
		return 0;
	return r;
}

PGconn *wl_connect_race(const struct member *members, int n, const char *appname, bool read_write,
			int64_t deadline_us, const atomic_bool *stop, int *who, char *err, size_t errlen)
{
	PGconn *conns[DRIVER_MAX_MEMBERS] = {0};
	PostgresPollingStatusType st[DRIVER_MAX_MEMBERS];
	struct pollfd fds[DRIVER_MAX_MEMBERS];
	int idx[DRIVER_MAX_MEMBERS];
	int live = 0, winner = -1;

	if (n > DRIVER_MAX_MEMBERS)
		n = DRIVER_MAX_MEMBERS;
	if (err && errlen)
		err[0] = '\0';
	for (int i = 0; i < n; i++) {
		conns[i] = wl_connect_start(&members[i].endpoint, appname, read_write, err, errlen);
		/* libpq's documented start: behave as if PQconnectPoll returned WRITING. */
		st[i] = PGRES_POLLING_WRITING;
		if (conns[i])
			live++;
	}
	while (live > 0 && winner < 0) {
		int64_t now = mono_now_us(), slice;
		nfds_t nfds = 0;
		int r;

		if (now >= deadline_us) {
			str_copy(err, errlen, "no read-write member answered in time");
			if (!read_write)
				str_copy(err, errlen, "no member answered in time");
			break;
		}
		if (stop && atomic_load(stop))
			break;
		for (int i = 0; i < n; i++) {
			if (!conns[i])
				continue;
			/* The socket can change between hosts or after an SSL fallback: ask each round. */
			fds[nfds].fd = PQsocket(conns[i]);
			fds[nfds].events = poll_events(st[i]);
			fds[nfds].revents = 0;
			idx[nfds++] = i;
		}
		slice = deadline_us - now < WL_POLL_SLICE_US ? deadline_us - now : WL_POLL_SLICE_US;
		r = poll_us(fds, nfds, slice);
		if (r < 0) {
			str_format(err, errlen, "poll: %s", strerror(errno));
			break;
		}
		for (nfds_t k = 0; k < nfds && winner < 0; k++) {
			int i = idx[k];

			if (!fds[k].revents)
				continue;
			st[i] = PQconnectPoll(conns[i]);
			if (st[i] == PGRES_POLLING_OK) {
				winner = i;
			} else if (st[i] == PGRES_POLLING_FAILED) {
				str_format(err, errlen, "%s: ", members[i].name);
				wl_error_text(PQerrorMessage(conns[i]), err + strlen(err), errlen - strlen(err));
				PQfinish(conns[i]);
				conns[i] = NULL;
				live--;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (conns[i] && i != winner)
			PQfinish(conns[i]);
	}
	if (winner < 0)
		return NULL;
	if (who)
		*who = winner;
	return conns[winner];
}

int wl_wait_socket(PGconn *c, bool want_write, int64_t deadline_us)
{
	struct pollfd fd;

	for (;;) {
		int64_t left = deadline_us - mono_now_us();
		int r;

		if (left <= 0)
			return 0;
		fd.fd = PQsocket(c);
		if (fd.fd < 0)
			return -1;
		fd.events = POLLIN | (want_write ? POLLOUT : 0);
		fd.revents = 0;
		r = poll_us(&fd, 1, left);
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

bool wl_flush(PGconn *c, int64_t deadline_us)
{
	for (;;) {
		int r = PQflush(c);

		if (r == 0)
			return true;
		if (r < 0)
			return false;
		if (wl_wait_socket(c, true, deadline_us) <= 0)
			return false;
		/* The server may talk while we send (a NOTICE, an error): keep reading too. */
		if (!PQconsumeInput(c))
			return false;
	}
}

bool wl_conn_dead(PGconn *c)
{
	struct pollfd fd;

	if (PQstatus(c) != CONNECTION_OK)
		return true;
	fd.fd = PQsocket(c);
	if (fd.fd < 0)
		return true;
	fd.events = POLLIN;
	fd.revents = 0;
	/* Idle and readable means the server said something: usually a FATAL, or EOF. */
	if (poll(&fd, 1, 0) > 0) {
		if (!PQconsumeInput(c))
			return true;
		return PQstatus(c) != CONNECTION_OK;
	}
	return false;
}

/* Send sql on the non-blocking c by the deadline; false with err ("the <what>" unsent). */
static bool send_sql(PGconn *c, const char *sql, const char *what, int64_t deadline_us, char *err,
		     size_t errlen)
{
	if (PQsetnonblocking(c, 1) != 0 || !PQsendQuery(c, sql)) {
		wl_error_text(PQerrorMessage(c), err, errlen);
		return false;
	}
	if (!wl_flush(c, deadline_us)) {
		str_format(err, errlen, "could not send the %s in time", what);
		return false;
	}
	return true;
}

/*
 * The next result of what was sent, waiting up to the deadline: NULL at the end (*failed
 * false), or when no answer came in time or the connection broke (*failed, err says why).
 */
static PGresult *next_result(PGconn *c, int64_t deadline_us, bool *failed, char *err, size_t errlen)
{
	*failed = false;
	while (PQisBusy(c)) {
		if (wl_wait_socket(c, false, deadline_us) <= 0) {
			str_copy(err, errlen, "no answer in time");
			*failed = true;
			return NULL;
		}
		if (!PQconsumeInput(c)) {
			wl_error_text(PQerrorMessage(c), err, errlen);
			*failed = true;
			return NULL;
		}
	}
	return PQgetResult(c);
}

bool wl_command(PGconn *c, const char *sql, int64_t deadline_us, char *err, size_t errlen)
{
	bool ok = true, failed;
	PGresult *res;

	if (!send_sql(c, sql, "command", deadline_us, err, errlen))
		return false;
	while ((res = next_result(c, deadline_us, &failed, err, errlen))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
			wl_error_text(PQresultErrorMessage(res), err, errlen);
			ok = false;
		}
		PQclear(res);
	}
	return ok && !failed;
}

bool wl_query_text(PGconn *c, const char *sql, int64_t deadline_us, char *out, size_t outlen, char *err,
		   size_t errlen)
{
	bool got = false, ok = true, failed;
	PGresult *res;

	out[0] = '\0';
	if (!send_sql(c, sql, "query", deadline_us, err, errlen))
		return false;
	while ((res = next_result(c, deadline_us, &failed, err, errlen))) {
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			wl_error_text(PQresultErrorMessage(res), err, errlen);
			ok = false;
		} else if (!got && PQntuples(res) > 0 && PQnfields(res) > 0) {
			str_copy(out, outlen, PQgetvalue(res, 0, 0));
			got = true;
		}
		PQclear(res);
	}
	if (failed)
		return false;
	if (ok && !got)
		str_copy(err, errlen, "the query returned no row");
	return ok && got;
}

PGconn *wl_connect_rw(struct wl_shared *sh, const char *appname, bool read_write, int64_t deadline_us,
		      const atomic_bool *stop, int *who, char *ident, size_t identlen, char *err, size_t errlen)
{
	PGconn *c;

	ident[0] = '\0';
	if (!sh->has_entry)
		return wl_connect_race(sh->members, sh->nmembers, appname, read_write, deadline_us, stop, who,
				       err, errlen);
	c = wl_connect_race(&sh->entry, 1, appname, read_write, deadline_us, stop, NULL, err, errlen);
	if (!c)
		return NULL;
	*who = -1;
	/* One round trip per connection, not per write: which server the entry led to. */
	if (!wl_query_text(c, WL_IDENT_SQL, deadline_us, ident, identlen, err, errlen)) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

void wl_conn_node(struct wl_shared *sh, int who, const char *ident, char *node, size_t len)
{
	if (!sh->has_entry) {
		str_copy(node, len, sh->members[who].name);
		return;
	}
	str_copy(node, len, "");
	if (!ident[0])
		return;
	pthread_mutex_lock(&sh->primary_lock);
	for (int i = 0; i < sh->nmembers; i++)
		if (strcmp(sh->ident[i], ident) == 0) {
			str_copy(node, len, sh->members[i].name);
			break;
		}
	pthread_mutex_unlock(&sh->primary_lock);
}

/* How often a thread waiting for its next tick looks whether it must stop. */
#define STOP_CHECK_US 50000

bool wl_wait_until(struct wl_shared *sh, int64_t at_us)
{
	for (;;) {
		int64_t left = at_us - mono_now_us();

		if (atomic_load(&sh->stop))
			return false;
		if (left <= 0)
			return true;
		sleep_us(left < STOP_CHECK_US ? left : STOP_CHECK_US);
	}
}
