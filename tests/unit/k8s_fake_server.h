/*
 * k8s_fake_server.h - a scripted stand-in for the Kubernetes API server, for the tests of
 * drivers/kubernetes: 127.0.0.1 on an ephemeral port, HTTP or HTTPS (client certificates
 * checked against a CA, like the API server), bearer-token checks, canned responses
 * (status, headers, body from the reference fixtures), slow answers and watch streams
 * that break. Test programs include k8s_fake_server.c directly (tests link one file).
 */
#ifndef BISE_K8S_FAKE_SERVER_H
#define BISE_K8S_FAKE_SERVER_H

#include <pthread.h>
#include <stdbool.h>

#define FAKE_MAX_ROUTES 64
#define FAKE_MAX_REQUESTS 256

struct fake_route {
	char method[8];
	char path[512];   /* exact path, without the query */
	char match[256];  /* "" or a substring the query must contain */
	int times;        /* answers left; -1: unlimited */
	int status;
	char headers[512]; /* extra header lines, each ending in \r\n */
	char *body;
	int delay_ms;      /* wait before answering */
	bool stream;       /* chunked: one chunk per body line, with a pause between */
	bool cut;          /* stream: close without the last chunk (a broken stream) */
};

struct fake_request {
	char method[8];
	char target[1024]; /* path and query */
	char authorization[512];
	char content_type[128];
	char client_cn[128]; /* CN of a verified client certificate */
	char *body;
};

struct fake_server {
	int fd;
	int port;
	bool tls;
	void *ssl_ctx;
	pthread_t thread;
	volatile bool stop;
	pthread_mutex_t lock;
	char require_token[256]; /* when set (or require_cn), others get a 401 Status */
	char require_cn[128];
	int nroutes;
	struct fake_route routes[FAKE_MAX_ROUTES];
	int nrequests;
	struct fake_request requests[FAKE_MAX_REQUESTS];
	char url[64];
};

/*
 * Start listening on 127.0.0.1:0. tls: serve HTTPS with certdir/server.{crt,key} and ask
 * for client certificates signed by certdir/ca.crt. False on failure.
 */
bool fake_server_start(struct fake_server *s, bool tls, const char *certdir);

/* Stop the thread, close the socket, free what requests and routes hold. */
void fake_server_stop(struct fake_server *s);

/* Add a route answering times times (-1: always); returns it for more settings. */
struct fake_route *fake_route_add(struct fake_server *s, const char *method, const char *path,
				  int times, int status, const char *body);

/* The body of a reference fixture (k8s-reference/core/examples/NAME); NULL if missing. */
char *fake_fixture(const char *name);

/* How many requests matched method and path (query ignored). */
int fake_count(struct fake_server *s, const char *method, const char *path);

/* A temp dir (written to dir) with a CA, server and client certificates (make-certs.sh). */
bool fake_certs(char *dir, size_t len);

/*
 * Write the fixture tests/unit/data/k8s/NAME into dir with @SERVER@, @DIR@, @EXPIRY@ and
 * the base64 certificates filled in; the path lands in out. expiry may be NULL.
 */
bool fake_kubeconfig(const char *dir, const char *name, const char *server, const char *expiry,
		     char *out, size_t len);

/* Remove a temp dir made by fake_certs. */
void fake_rm_rf(const char *dir);

/* Send stderr (where bise logs) to a file until fake_capture_end, which returns it. */
bool fake_capture_start(void);
char *fake_capture_end(void);

#endif
