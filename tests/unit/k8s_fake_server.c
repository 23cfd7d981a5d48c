/*
 * k8s_fake_server.c - see k8s_fake_server.h. One thread, one connection at a time,
 * "Connection: close" on every answer. TLS comes from libssl loaded with dlopen, so the
 * tests need nothing linked beyond what the project links already.
 */
#include "k8s_fake_server.h"

#include "util.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Copies of the k8s-reference pack's files, under the source tree. */
#define REFERENCE_DIR "tests/unit/data/k8s/reference"

static const char *source_dir(void);

static struct {
	void *h;
	typeof(TLS_server_method) *server_method;
	typeof(SSL_CTX_new) *ctx_new;
	typeof(SSL_CTX_free) *ctx_free;
	typeof(SSL_CTX_use_certificate_file) *use_cert;
	typeof(SSL_CTX_use_PrivateKey_file) *use_key;
	typeof(SSL_CTX_load_verify_locations) *load_ca;
	typeof(SSL_CTX_set_verify) *set_verify;
	typeof(SSL_CTX_set_session_id_context) *session_ctx;
	typeof(SSL_new) *ssl_new;
	typeof(SSL_set_fd) *set_fd;
	typeof(SSL_accept) *accept;
	typeof(SSL_read) *read;
	typeof(SSL_write) *write;
	typeof(SSL_shutdown) *shutdown;
	typeof(SSL_free) *free;
	typeof(SSL_get1_peer_certificate) *peer_cert;
	typeof(SSL_get_verify_result) *verify_result;
	typeof(X509_get_subject_name) *subject;
	typeof(X509_NAME_get_text_by_NID) *name_text;
	typeof(X509_free) *x509_free;
} ssl;

static bool ssl_load(void)
{
	if (ssl.h)
		return true;
	ssl.h = dlopen("libssl.so.3", RTLD_NOW | RTLD_GLOBAL);
	if (!ssl.h)
		return false;
#define SYM(field, name) \
	if (!(*(void **)&ssl.field = dlsym(ssl.h, #name))) \
		return false;
	SYM(server_method, TLS_server_method)
	SYM(ctx_new, SSL_CTX_new)
	SYM(ctx_free, SSL_CTX_free)
	SYM(use_cert, SSL_CTX_use_certificate_file)
	SYM(use_key, SSL_CTX_use_PrivateKey_file)
	SYM(load_ca, SSL_CTX_load_verify_locations)
	SYM(set_verify, SSL_CTX_set_verify)
	SYM(session_ctx, SSL_CTX_set_session_id_context)
	SYM(ssl_new, SSL_new)
	SYM(set_fd, SSL_set_fd)
	SYM(accept, SSL_accept)
	SYM(read, SSL_read)
	SYM(write, SSL_write)
	SYM(shutdown, SSL_shutdown)
	SYM(free, SSL_free)
	SYM(peer_cert, SSL_get1_peer_certificate)
	SYM(verify_result, SSL_get_verify_result)
	SYM(subject, X509_get_subject_name)
	SYM(name_text, X509_NAME_get_text_by_NID)
	SYM(x509_free, X509_free)
#undef SYM
	return true;
}

/* Accept any client certificate at the handshake; the CN check decides after it. */
static int verify_any(int ok, X509_STORE_CTX *ctx)
{
	return 1;
}

struct conn {
	int fd;
	SSL *ssl;
};

static ssize_t conn_read(struct conn *c, char *buf, size_t n)
{
	if (c->ssl)
		return ssl.read(c->ssl, buf, (int)n);
	return read(c->fd, buf, n);
}

static bool conn_write(struct conn *c, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = c->ssl ? ssl.write(c->ssl, buf, (int)n) : write(c->fd, buf, n);

		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

/* A file of the reference copies by its relative name; caller frees. */
static char *reference_path(const char *rel)
{
	char path[1024];

	str_format(path, sizeof(path), "%s/" REFERENCE_DIR "/%s", source_dir(), rel);
	return xstrdup(path);
}

char *fake_fixture(const char *name)
{
	char rel[512], *path, *text;

	str_format(rel, sizeof(rel), "core/examples/%s", name);
	path = reference_path(rel);
	text = file_read_all(path, NULL);
	free(path);
	return text;
}

struct fake_route *fake_route_add(struct fake_server *s, const char *method, const char *path,
				  int times, int status, const char *body)
{
	struct fake_route *r;

	pthread_mutex_lock(&s->lock);
	r = &s->routes[s->nroutes++];
	memset(r, 0, sizeof(*r));
	str_copy(r->method, sizeof(r->method), method);
	str_copy(r->path, sizeof(r->path), path);
	r->times = times;
	r->status = status;
	r->body = xstrdup(body ? body : "");
	pthread_mutex_unlock(&s->lock);
	return r;
}

int fake_count(struct fake_server *s, const char *method, const char *path)
{
	int n = 0;
	size_t len = strlen(path);

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nrequests; i++)
		if (strcmp(s->requests[i].method, method) == 0 &&
		    strncmp(s->requests[i].target, path, len) == 0 &&
		    (s->requests[i].target[len] == '\0' || s->requests[i].target[len] == '?'))
			n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static bool sleep_unless_stopped(struct fake_server *s, int ms)
{
	for (int i = 0; i < ms / 10 && !s->stop; i++)
		sleep_us(10000);
	return !s->stop;
}

static void respond(struct fake_server *s, struct conn *c, const struct fake_route *r)
{
	char head[1024];

	if (r->delay_ms && !sleep_unless_stopped(s, r->delay_ms))
		return;
	if (!r->stream) {
		str_format(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
			   r->status, reason_phrase(r->status), strlen(r->body), r->headers);
		if (conn_write(c, head, strlen(head)))
			conn_write(c, r->body, strlen(r->body));
		return;
	}
	str_format(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: application/json;stream=watch\r\n"
		   "Transfer-Encoding: chunked\r\nConnection: close\r\n%s\r\n",
		   r->status, reason_phrase(r->status), r->headers);
	if (!conn_write(c, head, strlen(head)))
		return;
	for (const char *line = r->body; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
		char size[32];

		str_format(size, sizeof(size), "%zx\r\n", len);
		if (!conn_write(c, size, strlen(size)) || !conn_write(c, line, len) ||
		    !conn_write(c, "\r\n", 2))
			return;
		line += len;
		sleep_unless_stopped(s, 20);
	}
	if (!r->cut)
		conn_write(c, "0\r\n\r\n", 5);
}

static const char unauthorized[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	"\"status\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}";

/* Read one request (headers and a Content-Length body) and answer it. */
static void serve(struct fake_server *s, struct conn *c)
{
	char buf[65536], *hend, *line, *save = NULL;
	size_t used = 0, body_len = 0;
	struct fake_request rq;
	struct fake_route *match = NULL, fallback;
	char path[1024], *q;

	memset(&rq, 0, sizeof(rq));
	for (;;) {
		ssize_t r = conn_read(c, buf + used, sizeof(buf) - used - 1);

		if (r <= 0)
			return;
		used += (size_t)r;
		buf[used] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")))
			break;
		if (used >= sizeof(buf) - 1)
			return;
	}
	*hend = '\0';
	for (line = strtok_r(buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!rq.method[0]) {
			char *sp = strchr(line, ' '), *sp2 = sp ? strchr(sp + 1, ' ') : NULL;

			if (!sp || !sp2)
				return;
			*sp = *sp2 = '\0';
			str_copy(rq.method, sizeof(rq.method), line);
			str_copy(rq.target, sizeof(rq.target), sp + 1);
		} else if (strncasecmp(line, "Authorization: ", 15) == 0) {
			str_copy(rq.authorization, sizeof(rq.authorization), line + 15);
		} else if (strncasecmp(line, "Content-Type: ", 14) == 0) {
			str_copy(rq.content_type, sizeof(rq.content_type), line + 14);
		} else if (strncasecmp(line, "Content-Length: ", 16) == 0) {
			body_len = strtoul(line + 16, NULL, 10);
		}
	}
	rq.body = xcalloc(1, body_len + 1);
	{
		size_t have = used - (size_t)(hend + 4 - buf);

		if (have > body_len)
			have = body_len;
		memcpy(rq.body, hend + 4, have);
		while (have < body_len) {
			ssize_t r = conn_read(c, rq.body + have, body_len - have);

			if (r <= 0)
				break;
			have += (size_t)r;
		}
	}
	if (c->ssl) {
		X509 *cert = ssl.peer_cert(c->ssl);

		if (cert && ssl.verify_result(c->ssl) == X509_V_OK)
			ssl.name_text(ssl.subject(cert), NID_commonName, rq.client_cn, sizeof(rq.client_cn));
		if (cert)
			ssl.x509_free(cert);
	}
	str_copy(path, sizeof(path), rq.target);
	q = strchr(path, '?');
	if (q)
		*q = '\0';
	pthread_mutex_lock(&s->lock);
	if (s->nrequests < FAKE_MAX_REQUESTS)
		s->requests[s->nrequests++] = rq;
	else
		free(rq.body);
	if (s->require_token[0] || s->require_cn[0]) {
		char want[300];
		bool ok = false;

		str_format(want, sizeof(want), "Bearer %s", s->require_token);
		if (s->require_token[0] && strcmp(rq.authorization, want) == 0)
			ok = true;
		if (s->require_cn[0] && strcmp(rq.client_cn, s->require_cn) == 0)
			ok = true;
		if (!ok) {
			memset(&fallback, 0, sizeof(fallback));
			fallback.status = 401;
			fallback.body = (char *)unauthorized;
			match = &fallback;
		}
	}
	for (int i = 0; i < s->nroutes && !match; i++) {
		struct fake_route *r = &s->routes[i];

		if (r->times == 0 || strcmp(r->method, rq.method) != 0 || strcmp(r->path, path) != 0)
			continue;
		if (r->match[0] && (!q || !strstr(rq.target, r->match)))
			continue;
		if (r->times > 0)
			r->times--;
		match = r;
	}
	if (!match) {
		static char notfound[1200];

		str_format(notfound, sizeof(notfound), "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
			   "\"metadata\":{},\"status\":\"Failure\",\"message\":\"the server could not find "
			   "the requested resource (%s %s)\",\"reason\":\"NotFound\",\"code\":404}",
			   rq.method, path);
		memset(&fallback, 0, sizeof(fallback));
		fallback.status = 404;
		fallback.body = notfound;
		match = &fallback;
	}
	fallback = *match;
	/* A test may swap a route's body while we answer: answer with a copy taken under the lock. */
	fallback.body = xstrdup(match->body ? match->body : "");
	pthread_mutex_unlock(&s->lock);
	respond(s, c, &fallback);
	free(fallback.body);
}

static void *server_main(void *arg)
{
	struct fake_server *s = arg;

	while (!s->stop) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		struct conn c = { .fd = -1 };

		if (poll(&p, 1, 50) <= 0)
			continue;
		c.fd = accept(s->fd, NULL, NULL);
		if (c.fd < 0)
			continue;
		if (s->tls) {
			c.ssl = ssl.ssl_new(s->ssl_ctx);
			ssl.set_fd(c.ssl, c.fd);
			if (ssl.accept(c.ssl) != 1) {
				ssl.free(c.ssl);
				close(c.fd);
				continue;
			}
		}
		serve(s, &c);
		if (c.ssl) {
			ssl.shutdown(c.ssl);
			ssl.free(c.ssl);
		}
		close(c.fd);
	}
	return NULL;
}

bool fake_server_start(struct fake_server *s, bool tls, const char *certdir)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int one = 1;

	memset(s, 0, sizeof(*s));
	/* A client that gave up (timeout tests) must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&s->lock, NULL);
	s->tls = tls;
	if (tls) {
		char crt[512], key[512], ca[512];

		if (!ssl_load())
			return false;
		str_format(crt, sizeof(crt), "%s/server.crt", certdir);
		str_format(key, sizeof(key), "%s/server.key", certdir);
		str_format(ca, sizeof(ca), "%s/ca.crt", certdir);
		s->ssl_ctx = ssl.ctx_new(ssl.server_method());
		if (!s->ssl_ctx || ssl.use_cert(s->ssl_ctx, crt, SSL_FILETYPE_PEM) != 1 ||
		    ssl.use_key(s->ssl_ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    ssl.load_ca(s->ssl_ctx, ca, NULL) != 1)
			return false;
		ssl.set_verify(s->ssl_ctx, SSL_VERIFY_PEER, verify_any);
		/* Without it OpenSSL refuses the session curl resumes when client certs are asked. */
		ssl.session_ctx(s->ssl_ctx, (const unsigned char *)"bise", 4);
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return false;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->fd, 16) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &len) != 0) {
		close(s->fd);
		return false;
	}
	s->port = ntohs(a.sin_port);
	str_format(s->url, sizeof(s->url), "%s://127.0.0.1:%d", tls ? "https" : "http", s->port);
	if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
		close(s->fd);
		return false;
	}
	return true;
}

void fake_server_stop(struct fake_server *s)
{
	s->stop = true;
	pthread_join(s->thread, NULL);
	close(s->fd);
	if (s->ssl_ctx)
		ssl.ctx_free(s->ssl_ctx);
	for (int i = 0; i < s->nroutes; i++)
		free(s->routes[i].body);
	for (int i = 0; i < s->nrequests; i++)
		free(s->requests[i].body);
	pthread_mutex_destroy(&s->lock);
}

static const char *source_dir(void)
{
	const char *d = getenv("BISE_SOURCE_DIR");

	return d ? d : ".";
}

bool fake_certs(char *dir, size_t len)
{
	char cmd[1024];

	if (!str_copy(dir, len, "/tmp/bise-k8s-test-XXXXXX") || !mkdtemp(dir))
		return false;
	str_format(cmd, sizeof(cmd), "%s/tests/unit/data/k8s/make-certs.sh %s", source_dir(), dir);
	return system(cmd) == 0;
}

void fake_rm_rf(const char *dir)
{
	char cmd[1024];

	if (strncmp(dir, "/tmp/bise-k8s-test-", 19) != 0)
		return;
	str_format(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Replace every @KEY@ in text by value; returns a new string. */
static char *subst(char *text, const char *key, const char *value)
{
	char *at;

	while ((at = strstr(text, key))) {
		size_t len = strlen(text) - strlen(key) + strlen(value) + 1;
		char *n = xmalloc(len);

		memcpy(n, text, (size_t)(at - text));
		memcpy(n + (at - text), value, strlen(value));
		memcpy(n + (at - text) + strlen(value), at + strlen(key), strlen(at + strlen(key)) + 1);
		free(text);
		text = n;
	}
	return text;
}

static char *dir_file(const char *dir, const char *name)
{
	char path[1024];

	str_format(path, sizeof(path), "%s/%s", dir, name);
	return file_read_all(path, NULL);
}

bool fake_kubeconfig(const char *dir, const char *name, const char *server, const char *expiry,
		     char *out, size_t len)
{
	static const char *const b64[][2] = {
		{ "@CA_B64@", "ca.crt.b64" }, { "@OTHER_CA_B64@", "other-ca.crt.b64" },
		{ "@CLIENT_CRT_B64@", "client.crt.b64" }, { "@CLIENT_KEY_B64@", "client.key.b64" },
		{ "@ROGUE_CRT_B64@", "rogue.crt.b64" }, { "@ROGUE_KEY_B64@", "rogue.key.b64" },
	};
	char path[1024], cmd[2048];
	char *text;
	bool ok;

	str_format(path, sizeof(path), "%s/tests/unit/data/k8s/%s", source_dir(), name);
	text = file_read_all(path, NULL);
	if (!text)
		return false;
	text = subst(text, "@SERVER@", server);
	text = subst(text, "@DIR@", dir);
	text = subst(text, "@EXPIRY@", expiry ? expiry : "future");
	for (size_t i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
		char *v = dir_file(dir, b64[i][1]);

		text = subst(text, b64[i][0], v ? v : "");
		free(v);
	}
	str_format(out, len, "%s/%s", dir, name);
	ok = file_write_atomic(out, text, strlen(text));
	free(text);
	/* The exec fixture names its plugin relative to the kubeconfig's directory. */
	str_format(cmd, sizeof(cmd), "cp %s/tests/unit/data/k8s/exec-plugin.sh %s/", source_dir(), dir);
	return ok && system(cmd) == 0;
}

static int saved_stderr = -1;
static char capture_path[64];

bool fake_capture_start(void)
{
	int fd;

	str_copy(capture_path, sizeof(capture_path), "/tmp/bise-k8s-log-XXXXXX");
	fd = mkstemp(capture_path);
	if (fd < 0)
		return false;
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
	return true;
}

char *fake_capture_end(void)
{
	char *text;

	if (saved_stderr < 0)
		return xstrdup("");
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	text = file_read_all(capture_path, NULL);
	unlink(capture_path);
	return text ? text : xstrdup("");
}
