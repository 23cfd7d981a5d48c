/*
 * health.c - is etcd answering (HTTP /health with libcurl), and what is each PostgreSQL
 * (libpq, non-blocking, all members in parallel with one short deadline).
 *
 * The PostgreSQL connections are kept between checks (health_close drops them): a check
 * every 50 ms opening one per member (and two more for the streaming checks) made the
 * servers fork and authenticate 120 backends a second while a cluster recovered, enough
 * to saturate a 2-core machine and slow the very recovery being measured.
 */
#include "local.h"

#include "util.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_DEADLINE_US 500000

struct body {
	char text[256];
	size_t len;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct body *b = user;
	size_t n = size * nmemb, take = n;

	if (take > sizeof(b->text) - 1 - b->len)
		take = sizeof(b->text) - 1 - b->len;
	memcpy(b->text + b->len, ptr, take);
	b->len += take;
	b->text[b->len] = '\0';
	return n;
}

/* GET url; true on HTTP 200 with a body containing expect (when given). */
static bool http_get(const char *url, const char *expect, int64_t timeout_us)
{
	static bool curl_ready;
	struct body body = { "", 0 };
	long code = 0;
	CURL *c;
	CURLcode rc;

	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = true;
	}
	c = curl_easy_init();
	if (!c)
		return false;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_us / 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_us / 1000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return rc == CURLE_OK && code == 200 && (!expect || strstr(body.text, expect) != NULL);
}

bool health_etcd(const char *ip, int64_t timeout_us)
{
	char url[64];

	str_format(url, sizeof(url), "http://%s:2379/health", ip);
	return http_get(url, "\"health\":\"true\"", timeout_us);
}

bool health_etcd_peer(const char *ip, int64_t timeout_us)
{
	char url[64];

	str_format(url, sizeof(url), "http://%s:2380/version", ip);
	return http_get(url, NULL, timeout_us);
}

/* One member's query in flight. */
struct probe {
	PGconn *conn;
	enum { P_CONNECTING, P_SENT, P_DONE } state;
	PostgresPollingStatusType poll;
	PGresult *res;
	bool failed;
};

/* Idle connections kept for the next check, by conninfo (host and password). */
#define KEEP_MAX (2 * DRIVER_MAX_MEMBERS)
static struct {
	char ci[256];
	PGconn *conn;
} kept[KEEP_MAX];
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

/* An idle kept connection for ci, alive, or NULL (taken from the pool: one user at a time). */
static PGconn *kept_take(const char *ci)
{
	PGconn *c = NULL;

	pthread_mutex_lock(&kept_lock);
	for (int i = 0; i < KEEP_MAX && !c; i++)
		if (kept[i].conn && strcmp(kept[i].ci, ci) == 0) {
			c = kept[i].conn;
			kept[i].conn = NULL;
		}
	pthread_mutex_unlock(&kept_lock);
	if (!c)
		return NULL;
	/* Idle and readable: the server closed it (restarted, shut down) or said something. */
	{
		struct pollfd fd = { .fd = PQsocket(c), .events = POLLIN };

		if (PQstatus(c) != CONNECTION_OK || fd.fd < 0 ||
		    (poll(&fd, 1, 0) > 0 && (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK))) {
			PQfinish(c);
			return NULL;
		}
	}
	return c;
}

/* Keep c (answered, idle) for the next check; closed when the pool is full. */
static void kept_put(const char *ci, PGconn *c)
{
	pthread_mutex_lock(&kept_lock);
	for (int i = 0; i < KEEP_MAX && c; i++)
		if (!kept[i].conn) {
			str_copy(kept[i].ci, sizeof(kept[i].ci), ci);
			kept[i].conn = c;
			c = NULL;
		}
	pthread_mutex_unlock(&kept_lock);
	if (c)
		PQfinish(c);
}

void health_close(void)
{
	pthread_mutex_lock(&kept_lock);
	for (int i = 0; i < KEEP_MAX; i++)
		if (kept[i].conn) {
			PQfinish(kept[i].conn);
			kept[i].conn = NULL;
		}
	pthread_mutex_unlock(&kept_lock);
}

static void conninfo(const struct driver *d, const char *host, char *out, size_t len)
{
	str_format(out, len,
		   "host=%s port=5432 user=postgres password=%s dbname=postgres "
		   "connect_timeout=2 application_name=bise-probe",
		   host, d->pw_super);
}

static void probe_fail(struct probe *p)
{
	p->failed = true;
	p->state = P_DONE;
}

/* Advance one probe after its socket was ready (or at start). */
static void probe_step(struct probe *p, const char *sql)
{
	if (p->state == P_CONNECTING) {
		p->poll = PQconnectPoll(p->conn);
		if (p->poll == PGRES_POLLING_FAILED)
			return probe_fail(p);
		if (p->poll == PGRES_POLLING_OK) {
			if (!PQsendQuery(p->conn, sql))
				return probe_fail(p);
			p->state = P_SENT;
		}
		return;
	}
	if (p->state == P_SENT) {
		if (!PQconsumeInput(p->conn))
			return probe_fail(p);
		while (!PQisBusy(p->conn)) {
			PGresult *r = PQgetResult(p->conn);

			if (!r) {
				p->state = P_DONE;
				p->failed = p->res == NULL;
				return;
			}
			if (PQresultStatus(r) == PGRES_TUPLES_OK && !p->res)
				p->res = r;
			else
				PQclear(r);
		}
	}
}

/* A server's notice (a member shutting down) is a debug line, not libpq's raw stderr line. */
static void notice_to_debug(void *arg, const char *message)
{
	log_debug("local health: the server said: %.*s", (int)strcspn(message, "\n"), message);
}

/* Run sql on each host in parallel; res[i] is NULL when host i did not answer in time. */
static void query_all(const struct driver *d, const char *const *hosts, int n, const char *sql,
		      PGresult **res)
{
	struct probe p[DRIVER_MAX_MEMBERS];
	int64_t deadline = mono_now_us() + PG_DEADLINE_US;
	char ci[DRIVER_MAX_MEMBERS][256];

	memset(p, 0, sizeof(p));
	for (int i = 0; i < n; i++) {
		conninfo(d, hosts[i], ci[i], sizeof(ci[i]));
		p[i].conn = kept_take(ci[i]);
		if (p[i].conn) {
			if (!PQsendQuery(p[i].conn, sql))
				probe_fail(&p[i]);
			else
				p[i].state = P_SENT;
			continue;
		}
		p[i].conn = PQconnectStart(ci[i]);
		if (p[i].conn)
			PQsetNoticeProcessor(p[i].conn, notice_to_debug, NULL);
		p[i].poll = PGRES_POLLING_WRITING;
		if (!p[i].conn || PQstatus(p[i].conn) == CONNECTION_BAD)
			probe_fail(&p[i]);
	}
	for (;;) {
		struct pollfd fds[DRIVER_MAX_MEMBERS];
		int idx[DRIVER_MAX_MEMBERS], nf = 0;
		int64_t left = deadline - mono_now_us();

		for (int i = 0; i < n; i++) {
			if (p[i].state == P_DONE)
				continue;
			fds[nf].fd = PQsocket(p[i].conn);
			fds[nf].events = (p[i].state == P_CONNECTING && p[i].poll == PGRES_POLLING_WRITING)
						 ? POLLOUT
						 : POLLIN;
			fds[nf].revents = 0;
			idx[nf++] = i;
		}
		if (nf == 0 || left <= 0)
			break;
		if (poll(fds, (nfds_t)nf, (int)((left + 999) / 1000)) <= 0)
			continue;
		for (int k = 0; k < nf; k++)
			if (fds[k].revents)
				probe_step(&p[idx[k]], sql);
	}
	for (int i = 0; i < n; i++) {
		res[i] = p[i].failed || p[i].state != P_DONE ? NULL : p[i].res;
		if (!res[i] && p[i].res)
			PQclear(p[i].res);
		if (!p[i].conn)
			continue;
		/* Answered in full: idle again, kept. Anything else may be mid-protocol: closed. */
		if (res[i] && PQstatus(p[i].conn) == CONNECTION_OK && PQtransactionStatus(p[i].conn) == PQTRANS_IDLE)
			kept_put(ci[i], p[i].conn);
		else
			PQfinish(p[i].conn);
	}
}

int health_members(const struct driver *d, struct member *out, int max)
{
	static const char sql[] =
		"SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN "
		"COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), "
		"(SELECT timeline_id FROM pg_control_checkpoint())) "
		"ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END";
	const char *hosts[DRIVER_MAX_MEMBERS] = { NULL };
	PGresult *res[DRIVER_MAX_MEMBERS];
	int n = d->nzones < max ? d->nzones : max;

	for (int i = 0; i < n; i++)
		hosts[i] = d->zones[i].ip;
	query_all(d, hosts, n, sql, res);
	for (int i = 0; i < n; i++) {
		struct member *m = &out[i];

		memset(m, 0, sizeof(*m));
		str_copy(m->name, sizeof(m->name), d->zones[i].name);
		str_copy(m->zone, sizeof(m->zone), d->zones[i].name);
		str_copy(m->endpoint.host, sizeof(m->endpoint.host), d->zones[i].ip);
		m->endpoint.port = 5432;
		m->endpoint.reach_port = LOCAL_REACH_PORT;
		str_copy(m->endpoint.user, sizeof(m->endpoint.user), "postgres");
		str_copy(m->endpoint.password, sizeof(m->endpoint.password), d->pw_super);
		str_copy(m->endpoint.dbname, sizeof(m->endpoint.dbname), "postgres");
		m->role = MEMBER_DOWN;
		if (res[i] && PQntuples(res[i]) == 1) {
			m->role = strcmp(PQgetvalue(res[i], 0, 0), "t") == 0 ? MEMBER_REPLICA
									      : MEMBER_PRIMARY;
			m->timeline = (int)strtol(PQgetvalue(res[i], 0, 1), NULL, 10);
		}
		if (res[i])
			PQclear(res[i]);
	}
	return n;
}

/* Every member but the primary has a WAL receiver streaming from the primary's address. */
static bool standbys_stream_from(const struct driver *d, const struct member *primary,
				 const struct member *all, int n, char *missing, size_t len)
{
	const char *hosts[DRIVER_MAX_MEMBERS] = { NULL };
	const struct member *who[DRIVER_MAX_MEMBERS];
	PGresult *res[DRIVER_MAX_MEMBERS];
	char sql[256];
	int k = 0;
	size_t used = 0;
	bool ok = true;

	str_format(sql, sizeof(sql),
		   "SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming' AND sender_host = '%s'",
		   primary->endpoint.host);
	for (int i = 0; i < n && k < DRIVER_MAX_MEMBERS; i++) {
		if (strcmp(all[i].name, primary->name) == 0)
			continue;
		who[k] = &all[i];
		hosts[k++] = all[i].endpoint.host;
	}
	query_all(d, hosts, k, sql, res);
	for (int i = 0; i < k; i++) {
		if (!res[i] || PQntuples(res[i]) != 1) {
			ok = false;
			if (used < len)
				str_format(missing + used, len - used, "%s%s (its receiver)",
					   used ? ", " : "", who[i]->name);
			used = strlen(missing);
		}
		if (res[i])
			PQclear(res[i]);
	}
	return ok;
}

bool health_streaming(const struct driver *d, const struct member *primary,
		      const struct member *all, int n, char *missing, size_t len)
{
	static const char sql[] =
		"SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'";
	const char *host = primary->endpoint.host;
	PGresult *res;
	size_t used = 0;
	bool ok = true;

	missing[0] = '\0';
	query_all(d, &host, 1, sql, &res);
	if (!res) {
		str_format(missing, len, "cannot query pg_stat_replication on %s", primary->name);
		return false;
	}
	for (int i = 0; i < n; i++) {
		bool found = false;

		if (&all[i] == primary || strcmp(all[i].name, primary->name) == 0)
			continue;
		for (int r = 0; r < PQntuples(res) && !found; r++)
			found = strcmp(PQgetvalue(res, r, 0), all[i].name) == 0;
		if (!found) {
			ok = false;
			if (used < len)
				str_format(missing + used, len - used, "%s%s", used ? ", " : "",
					   all[i].name);
			used = strlen(missing);
		}
	}
	PQclear(res);
	if (!ok)
		return false;
	/*
	 * The primary's view can be stale (a dead standby's walsender lingers until its
	 * timeout): each standby must also say it streams from this primary.
	 */
	return standbys_stream_from(d, primary, all, n, missing, len);
}
