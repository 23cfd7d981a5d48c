/*
 * live_http.c - the live view's HTTP server (libmicrohttpd, a thread per connection):
 *
 *   GET  /          the page (live_page.html, built in)
 *   GET  /events    server-sent events: the trial's timeline, write counts per second, the
 *                   snapshot, and "end" with the report to load
 *   GET  /state     the snapshot as JSON
 *   GET  /metrics   the Prometheus text format
 *   GET  /run/PATH  a file of the run directory (the reports), once the run has ended
 *   POST /next      --step: apply the step that waits
 *   POST /abort     revert everything and stop, as SIGINT does
 *
 * Buttons: with a token (BISE_SERVE_TOKEN) a POST needs "Authorization: Bearer TOKEN",
 * compared in constant time; without one (loopback only) it needs the header
 * "X-Bise-Action: 1", which a cross-site form cannot send without a preflight this server
 * never answers, and a Host that is loopback (not a rebound name).
 */
#include "live_http.h"
#include "live_state.h"

#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PATH_PARTS 8

extern const char live_page_html[];
extern const size_t live_page_html_len;

struct addr {
	struct sockaddr_storage ss;
	bool v6;
};

static bool parse_port(const char *s, int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

static bool parse_listen(const char *listen, struct addr *a, bool *loopback, char *why, size_t why_len)
{
	char host[128] = "127.0.0.1";
	const char *port_text = listen, *colon;
	int port;

	memset(a, 0, sizeof(*a));
	if (!listen || !listen[0]) {
		str_copy(why, why_len, "wants [ADDR:]PORT");
		return false;
	}
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof(host)) {
			str_format(why, why_len, "'%s' is not [IPv6]:PORT", listen);
			return false;
		}
		memcpy(host, listen + 1, (size_t)(close - listen - 1));
		host[close - listen - 1] = '\0';
		port_text = close + 2;
	} else if ((colon = strrchr(listen, ':'))) {
		if ((size_t)(colon - listen) >= sizeof(host)) {
			str_format(why, why_len, "'%s': address too long", listen);
			return false;
		}
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
		port_text = colon + 1;
	}
	if (!parse_port(port_text, &port)) {
		str_format(why, why_len, "'%s' is not a port (0-65535)", port_text);
		return false;
	}
	if (strcmp(host, "localhost") == 0)
		str_copy(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&a->ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		return true;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&a->ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->v6 = true;
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return true;
	}
	str_format(why, why_len, "'%s' is not an IP address (a name other than localhost is not resolved)", host);
	return false;
}

bool live_listen_check(const char *listen, bool have_token, bool *loopback, char *why, size_t why_len)
{
	struct addr a;

	if (!parse_listen(listen, &a, loopback, why, why_len))
		return false;
	if (!*loopback && !have_token) {
		str_format(why, why_len,
			   "%s is not a loopback address: set BISE_SERVE_TOKEN, which the buttons will need",
			   listen);
		return false;
	}
	return true;
}

/* Same answer whatever the first difference, so the time taken tells nothing of the token. */
static bool same_secret(const char *given, const char *want)
{
	size_t n = strlen(given), m = strlen(want);
	unsigned char diff = n != m;

	for (size_t i = 0; i < m; i++)
		diff |= (unsigned char)(want[i] ^ (i < n ? given[i] : 0));
	return diff == 0;
}

/*
 * Whether the request names this machine's loopback as its host: a page on another site
 * whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends its own name.
 */
static bool loopback_host(struct MHD_Connection *c)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	char name[64];
	size_t n;
	struct in_addr a;

	if (!host)
		return false;
	n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
	if (n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (strcmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0)
		return true;
	return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static bool may_press(struct live *l, struct MHD_Connection *c)
{
	const char *auth;

	if (!l->token)
		return MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Bise-Action") != NULL && loopback_host(c);
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	return auth && strncmp(auth, "Bearer ", 7) == 0 && same_secret(auth + 7, l->token);
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type, void *body,
			      size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return answer(c, status, "text/plain; charset=utf-8", (void *)msg, strlen(msg), MHD_RESPMEM_PERSISTENT);
}

/* ---- the run directory ---- */

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".json", "application/json" },
		{ ".jsonl", "application/x-ndjson" },    { ".csv", "text/csv; charset=utf-8" },
		{ ".md", "text/markdown; charset=utf-8" }, { ".xml", "application/xml" },
		{ ".yaml", "text/plain; charset=utf-8" }, { ".png", "image/png" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static bool plain_part(const char *p, size_t n)
{
	if (n == 0 || p[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
		      ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

/*
 * A file under the run directory, opened part by part without following a symlink, and
 * only plain names: nothing outside it can be reached. -1 when not there.
 */
static int open_in_run(struct live *l, const char *path, struct stat *st)
{
	int dir = open(l->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), parts = 0;
	const char *p = path;

	while (dir >= 0) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char name[256];
		int fd;

		if (!plain_part(p, n) || n >= sizeof(name) || ++parts > MAX_PATH_PARTS)
			break;
		memcpy(name, p, n);
		name[n] = '\0';
		fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (slash ? O_DIRECTORY : 0));
		close(dir);
		dir = -1;
		if (fd < 0)
			return -1;
		if (slash) {
			dir = fd;
			p = slash + 1;
			continue;
		}
		if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if (dir >= 0)
		close(dir);
	return -1;
}

static int run_file_marker; /* con_cls of a request serving a run file: its completion is noted */

static enum MHD_Result run_file(struct live *l, struct MHD_Connection *c, const char *path, void **con_cls)
{
	struct MHD_Response *r;
	struct stat st;
	enum MHD_Result ret;
	bool ended;
	int fd;

	pthread_mutex_lock(&l->m);
	ended = l->ended;
	pthread_mutex_unlock(&l->m);
	if (!ended)
		return text(c, MHD_HTTP_NOT_FOUND, "the run's files are served once it has ended\n");
	fd = open_in_run(l, path, &st);
	if (fd < 0)
		return text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	r = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	*con_cls = &run_file_marker;
	return ret;
}

/* A run file sent whole: the page has its report, the server may go (live_finish). */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct live *l = cls;

	if (*con_cls != &run_file_marker || why != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	pthread_mutex_lock(&l->m);
	l->report_fetched = true;
	pthread_cond_broadcast(&l->changed);
	pthread_mutex_unlock(&l->m);
}

/* ---- requests ---- */

static enum MHD_Result press(struct live *l, struct MHD_Connection *c, const char *url)
{
	if (!may_press(l, c))
		return text(c, MHD_HTTP_FORBIDDEN,
			    l->token ? "a valid token is needed (Authorization: Bearer ...)\n"
				     : "send the header X-Bise-Action: 1, to a loopback host\n");
	if (strcmp(url, "/abort") == 0) {
		log_warn("abort pressed on the live page: reverting everything");
		if (l->abort)
			l->abort();
		return text(c, MHD_HTTP_OK, "aborting\n");
	}
	pthread_mutex_lock(&l->m);
	if (!l->step_mode || !l->waiting) {
		pthread_mutex_unlock(&l->m);
		return text(c, MHD_HTTP_CONFLICT, l->step_mode ? "no step is waiting\n" : "not a --step run\n");
	}
	l->next_pressed = true;
	pthread_mutex_unlock(&l->m);
	return text(c, MHD_HTTP_OK, "next\n");
}

static enum MHD_Result get(struct live *l, struct MHD_Connection *c, const char *url, void **con_cls)
{
	/* Without a token bise is on loopback only: a page whose name was rebound sends its own Host. */
	if (!l->token && !loopback_host(c))
		return text(c, MHD_HTTP_FORBIDDEN, "this server answers requests to a loopback host only\n");
	if (strcmp(url, "/") == 0)
		return answer(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)live_page_html, live_page_html_len,
			      MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/events") == 0)
		return live_events_stream(l, c);
	if (strcmp(url, "/state") == 0 || strcmp(url, "/metrics") == 0) {
		char *body;
		size_t len = 0;

		pthread_mutex_lock(&l->m);
		if (strcmp(url, "/state") == 0) {
			body = xstrdup(l->snap_json ? l->snap_json : "{}");
			len = strlen(body);
		} else {
			body = live_metrics_text(l, &len);
		}
		pthread_mutex_unlock(&l->m);
		if (!body)
			return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return answer(c, MHD_HTTP_OK,
			      url[1] == 's' ? "application/json" : "text/plain; version=0.0.4; charset=utf-8", body,
			      len, MHD_RESPMEM_MUST_FREE);
	}
	if (strncmp(url, "/run/", 5) == 0)
		return run_file(l, c, url + 5, con_cls);
	return text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	static int started;
	struct live *l = cls;

	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return get(l, c, url, con_cls);
	if (strcmp(method, "POST") != 0 || (strcmp(url, "/next") != 0 && strcmp(url, "/abort") != 0))
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, or POST /next and /abort\n");
	/* A POST comes in twice or more: headers, then its body (ignored), then the end. */
	if (!*con_cls) {
		*con_cls = &started;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	return press(l, c, url);
}

bool live_http_start(struct live *l, const char *listen)
{
	struct addr a;
	bool loopback;
	char why[256], host[64] = "";
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;

	if (!parse_listen(listen, &a, &loopback, why, sizeof(why))) {
		log_error("--serve: %s", why);
		return false;
	}
	if (a.v6)
		flags |= MHD_USE_IPv6;
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a.ss,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)60, MHD_OPTION_NOTIFY_COMPLETED, completed, l, MHD_OPTION_END);
	if (!l->mhd) {
		log_error("--serve %s: cannot listen there (in use, or not an address of this machine?)", listen);
		return false;
	}
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_BIND_PORT);
	l->port = info ? info->port : 0;
	if (a.v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a.ss)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&a.ss)->sin_addr, host, sizeof(host));
	/* The URL only: the token is never printed. */
	log_info("live page: http://%s%s%s:%d/%s", a.v6 ? "[" : "", host, a.v6 ? "]" : "", l->port,
		 l->token ? " (the buttons need BISE_SERVE_TOKEN: open it with #token=...)" : "");
	return true;
}

void live_http_stop(struct live *l)
{
	if (!l->mhd)
		return;
	MHD_stop_daemon(l->mhd);
	l->mhd = NULL;
}
