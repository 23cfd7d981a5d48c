/*
 * test_driver_k8s_client.c - the kubeconfig loader and the API client against the fake
 * API server: every auth mode reaches it with the right credentials (bearer token, token
 * file, client certificate inline and as files, exec plugin with caching), kubectl's merge
 * rules, TLS verified against the kubeconfig's CA, errors per status, pagination with an
 * expired continue token, retries on 429/5xx, timeouts, watch resume and 410, dry-run, and
 * that no secret reaches a log line or an error.
 */
#include "k8s_fake_server.c"

#include "kubernetes/client.h"
#include "kubernetes/kubeconfig.h"

#include <CUnit/CUnit.h>

static char certdir[64];
static struct fake_server srv;

static int suite_init(void)
{
	log_set_level(LOG_QUIET);
	return fake_certs(certdir, sizeof(certdir)) ? 0 : 1;
}

static int suite_clean(void)
{
	fake_rm_rf(certdir);
	return 0;
}

/* A client on fixture name against a fresh server (tls or not). */
static bool setup(struct k8s_client *c, bool tls, const char *fixture, const char *expiry)
{
	char kc[512];

	if (!fake_server_start(&srv, tls, certdir))
		return false;
	if (!fake_kubeconfig(certdir, fixture, srv.url, expiry, kc, sizeof(kc)))
		return false;
	if (!k8s_client_init(c, kc, NULL, false))
		return false;
	c->backoff_us = 1000;
	return true;
}

static void teardown(struct k8s_client *c)
{
	k8s_client_free(c);
	fake_server_stop(&srv);
}

static const char version_body[] = "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":\"v1.31.0\"}";
static const struct k8s_ref version_ref = { "version", NULL, NULL };

static void test_auth_token(void)
{
	struct k8s_client c;
	json_object *out = NULL;

	CU_ASSERT_FATAL(setup(&c, true, "token.kubeconfig", NULL));
	str_copy(srv.require_token, sizeof(srv.require_token), "s3cr3t-token-AAAA");
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	CU_ASSERT_STRING_EQUAL(c.kc.namespace, "chaos");
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, &out));
	CU_ASSERT_PTR_NOT_NULL(out);
	CU_ASSERT_STRING_EQUAL(srv.requests[0].authorization, "Bearer s3cr3t-token-AAAA");
	json_object_put(out);
	teardown(&c);
}

static void test_auth_token_file(void)
{
	struct k8s_client c;
	char path[512];

	str_format(path, sizeof(path), "%s/token", certdir);
	CU_ASSERT_FATAL(file_write_atomic(path, "file-t0ken-CCCC\n", 16));
	CU_ASSERT_FATAL(setup(&c, true, "tokenfile.kubeconfig", NULL));
	CU_ASSERT_STRING_EQUAL(c.kc.namespace, "default");
	str_copy(srv.require_token, sizeof(srv.require_token), "file-t0ken-CCCC");
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	/* A rotated token is picked up without reloading the kubeconfig. */
	CU_ASSERT_FATAL(file_write_atomic(path, "file-t0ken-DDDD", 15));
	str_copy(srv.require_token, sizeof(srv.require_token), "file-t0ken-DDDD");
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	teardown(&c);
}

static void check_cert_auth(const char *fixture)
{
	struct k8s_client c;

	CU_ASSERT_FATAL(setup(&c, true, fixture, NULL));
	str_copy(srv.require_cn, sizeof(srv.require_cn), "bise-admin");
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT_STRING_EQUAL(srv.requests[0].client_cn, "bise-admin");
	CU_ASSERT_STRING_EQUAL(srv.requests[0].authorization, "");
	teardown(&c);
}

static void test_auth_cert_data(void)
{
	check_cert_auth("cert-data.kubeconfig");
}

static void test_auth_cert_file(void)
{
	check_cert_auth("cert-file.kubeconfig");
}

static void test_auth_rogue_cert(void)
{
	struct k8s_client c;

	CU_ASSERT_FATAL(setup(&c, true, "rogue-cert.kubeconfig", NULL));
	str_copy(srv.require_cn, sizeof(srv.require_cn), "bise-admin");
	CU_ASSERT_FALSE(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT_EQUAL(c.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, "get version: Unauthorized (HTTP 401)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, "refused the credentials"));
	teardown(&c);
}

static int count_lines(const char *path)
{
	char *t = file_read_all(path, NULL);
	int n = 0;

	for (char *p = t; p && *p; p++)
		n += *p == '\n';
	free(t);
	return n;
}

static void test_auth_exec(void)
{
	struct k8s_client c;
	char runs[512];

	str_format(runs, sizeof(runs), "%s/exec-runs", certdir);
	unlink(runs);
	CU_ASSERT_FATAL(setup(&c, true, "exec.kubeconfig", "future"));
	str_copy(srv.require_token, sizeof(srv.require_token), "exec-t0ken-BBBB");
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT_STRING_EQUAL(srv.requests[1].authorization, "Bearer exec-t0ken-BBBB");
	/* Cached until it expires: one run for two requests. */
	CU_ASSERT_EQUAL(count_lines(runs), 1);
	CU_ASSERT_EQUAL(c.kc.exec_runs, 1);
	teardown(&c);

	unlink(runs);
	CU_ASSERT_FATAL(setup(&c, true, "exec.kubeconfig", "past"));
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT_EQUAL(count_lines(runs), 2);
	teardown(&c);
}

static void test_tls_wrong_ca(void)
{
	struct k8s_client c;
	char kc[512], *text, *at;

	/* cert-data with the CA swapped for another one: the server must not be trusted. */
	CU_ASSERT_FATAL(fake_server_start(&srv, true, certdir));
	CU_ASSERT_FATAL(fake_kubeconfig(certdir, "cert-data.kubeconfig", srv.url, NULL, kc, sizeof(kc)));
	text = file_read_all(kc, NULL);
	at = strstr(text, "certificate-authority-data: ");
	CU_ASSERT_FATAL(at != NULL);
	{
		char *other = dir_file(certdir, "other-ca.crt.b64"), *eol = strchr(at, '\n');
		char buf[16384];

		*at = '\0';
		str_format(buf, sizeof(buf), "%scertificate-authority-data: %s%s", text, other, eol);
		CU_ASSERT(file_write_atomic(kc, buf, strlen(buf)));
		free(other);
	}
	free(text);
	CU_ASSERT_FATAL(k8s_client_init(&c, kc, NULL, false));
	c.max_retries = 0;
	CU_ASSERT_FALSE(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT_EQUAL(c.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, "cannot reach the API server"));
	CU_ASSERT_EQUAL(srv.nrequests, 0);
	teardown(&c);
}

static void test_tls_insecure(void)
{
	struct k8s_client c;
	char *log;

	log_set_level(LOG_WARN);
	CU_ASSERT_FATAL(fake_capture_start());
	CU_ASSERT_FATAL(setup(&c, true, "insecure.kubeconfig", NULL));
	log = fake_capture_end();
	log_set_level(LOG_QUIET);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "insecure-skip-tls-verify"));
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	free(log);
	teardown(&c);
}

static void test_merge(void)
{
	char a[512], b[512], paths[1200];
	struct kubeconfig kc;

	str_format(a, sizeof(a), "%s/tests/unit/data/k8s/merge-a.kubeconfig", source_dir());
	str_format(b, sizeof(b), "%s/tests/unit/data/k8s/merge-b.kubeconfig", source_dir());
	str_format(paths, sizeof(paths), "%s:/nonexistent/kubeconfig:%s", a, b);
	CU_ASSERT_FATAL(kubeconfig_load(paths, NULL, &kc));
	CU_ASSERT_STRING_EQUAL(kc.context, "a-ctx");
	CU_ASSERT_STRING_EQUAL(kc.server, "https://a.example:6443");
	CU_ASSERT_STRING_EQUAL(kc.token, "token-from-a");
	CU_ASSERT_STRING_EQUAL(kc.namespace, "default");
	kubeconfig_free(&kc);
	CU_ASSERT_FATAL(kubeconfig_load(paths, "b-ctx", &kc));
	CU_ASSERT_STRING_EQUAL(kc.server, "https://only-b.example:6443");
	CU_ASSERT_STRING_EQUAL(kc.token, "token-from-b");
	CU_ASSERT_STRING_EQUAL(kc.namespace, "chaos-b");
	CU_ASSERT(kc.namespace_set);
	kubeconfig_free(&kc);
	/* KUBECONFIG is what kubectl reads when no path is given. */
	setenv("KUBECONFIG", paths, 1);
	CU_ASSERT_FATAL(kubeconfig_load(NULL, NULL, &kc));
	CU_ASSERT_STRING_EQUAL(kc.context, "a-ctx");
	kubeconfig_free(&kc);
	unsetenv("KUBECONFIG");
	CU_ASSERT_FALSE(kubeconfig_load(paths, "no-such-context", &kc));
	CU_ASSERT_FALSE(kubeconfig_load("/nonexistent/a:/nonexistent/b", NULL, &kc));
}

/* Nothing secret in any log line or error, at debug level, in success and in failure. */
static void test_no_secrets_in_logs(void)
{
	static const char *const secrets[] = { "s3cr3t-token-AAAA", "exec-t0ken-BBBB", "PRIVATE KEY", NULL };
	struct k8s_client c;
	char *log, *key_b64;

	log_set_level(LOG_DEBUG);
	CU_ASSERT_FATAL(fake_capture_start());
	if (setup(&c, true, "token.kubeconfig", NULL)) {
		str_copy(srv.require_token, sizeof(srv.require_token), "wrong");
		c.max_retries = 1;
		k8s_get(&c, "/version", &version_ref, 0, NULL);
		CU_ASSERT_PTR_NULL(strstr(c.error, "s3cr3t"));
		teardown(&c);
	}
	if (setup(&c, true, "exec.kubeconfig", NULL)) {
		k8s_get(&c, "/version", &version_ref, 0, NULL);
		CU_ASSERT_PTR_NULL(strstr(c.error, "exec-t0ken"));
		teardown(&c);
	}
	if (setup(&c, true, "cert-data.kubeconfig", NULL)) {
		fake_route_add(&srv, "GET", "/version", -1, 500, "{}");
		c.max_retries = 1;
		k8s_get(&c, "/version", &version_ref, 0, NULL);
		teardown(&c);
	}
	log = fake_capture_end();
	log_set_level(LOG_QUIET);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "Unauthorized")); /* the capture worked */
	for (int i = 0; secrets[i]; i++)
		CU_ASSERT_PTR_NULL(strstr(log, secrets[i]));
	key_b64 = dir_file(certdir, "client.key.b64");
	key_b64[40] = '\0';
	CU_ASSERT_PTR_NULL(strstr(log, key_b64));
	free(key_b64);
	free(log);
}

/* ---- the client over plain HTTP ---- */

static const struct k8s_ref pod_ref = { "pod", "tenant-root", "pg-1" };

static void check_error(const char *fixture, int status, const char *method, const char *want1,
			const char *want2)
{
	struct k8s_client c;
	char *body = fake_fixture(fixture);
	bool ok;

	CU_ASSERT_FATAL(body != NULL);
	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	fake_route_add(&srv, method, "/api/v1/namespaces/tenant-root/pods/pg-1", -1, status, body);
	if (strcmp(method, "DELETE") == 0)
		ok = k8s_delete(&c, "/api/v1/namespaces/tenant-root/pods/pg-1", &pod_ref, NULL, 0, NULL);
	else
		ok = k8s_get(&c, "/api/v1/namespaces/tenant-root/pods/pg-1", &pod_ref, 0, NULL);
	CU_ASSERT_FALSE(ok);
	CU_ASSERT_EQUAL(c.status, status);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, "pod tenant-root/pg-1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, want1));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, want2));
	if (!strstr(c.error, want1) || !strstr(c.error, want2))
		fprintf(stderr, "\n  error was: %s\n", c.error);
	CU_ASSERT_EQUAL(c.retries, 0);
	free(body);
	teardown(&c);
}

static void test_errors(void)
{
	check_error("status-401-unauthorized.json", 401, "GET", "get pod", "Unauthorized (HTTP 401)");
	check_error("status-403-forbidden.json", 403, "DELETE", "delete pod tenant-root/pg-1: Forbidden (HTTP 403)",
		    "cannot delete resource \"pods\" in API group");
	check_error("status-404-notfound.recorded.json", 404, "GET", "NotFound (HTTP 404)", "pods \"abc\" not found");
	check_error("status-409-conflict.json", 409, "DELETE", "Conflict (HTTP 409)", "the object has been modified");
	check_error("status-409-alreadyexists.json", 409, "GET", "AlreadyExists (HTTP 409)", "already exists");
	check_error("status-422-invalid.json", 422, "DELETE", "Invalid (HTTP 422)",
		    "spec.policyTypes[0]: Unsupported value");
}

static const char page2[] = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
	"{\"resourceVersion\":\"48300\"},\"items\":[{\"metadata\":{\"name\":\"pg-2\"}},"
	"{\"metadata\":{\"name\":\"pg-3\"}}]}";
static const struct k8s_ref pods_ref = { "pods", "tenant-root", NULL };
#define PODS "/api/v1/namespaces/tenant-root/pods"

static void test_pagination(void)
{
	struct k8s_client c;
	json_object *items;
	char rv[64], *page1 = fake_fixture("podlist-paginated.json");
	struct fake_route *r;

	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	r = fake_route_add(&srv, "GET", PODS, -1, 200, page2);
	str_copy(r->match, sizeof(r->match), "continue=");
	fake_route_add(&srv, "GET", PODS, -1, 200, page1);
	CU_ASSERT_FATAL(k8s_list(&c, PODS "?labelSelector=cnpg.io%2Fcluster%3Dpg", &pods_ref, 1, &items,
				 rv, sizeof(rv)));
	CU_ASSERT_EQUAL(json_object_array_length(items), 3);
	CU_ASSERT_STRING_EQUAL(rv, "48300");
	CU_ASSERT_EQUAL(fake_count(&srv, "GET", PODS), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(srv.requests[0].target, "labelSelector=cnpg.io%2Fcluster%3Dpg&limit=1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(srv.requests[1].target, "continue=eyJ2"));
	json_object_put(items);
	teardown(&c);
	free(page1);
}

static void test_pagination_expired(void)
{
	struct k8s_client c;
	json_object *items;
	char *page1 = fake_fixture("podlist-paginated.json"), *gone = fake_fixture("status-410-expired-continue.json");
	struct fake_route *r;

	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	r = fake_route_add(&srv, "GET", PODS, 1, 410, gone);
	str_copy(r->match, sizeof(r->match), "continue=");
	r = fake_route_add(&srv, "GET", PODS, -1, 200, page2);
	str_copy(r->match, sizeof(r->match), "continue=");
	fake_route_add(&srv, "GET", PODS, -1, 200, page1);
	CU_ASSERT_FATAL(k8s_list(&c, PODS, &pods_ref, 1, &items, NULL, 0));
	/* Restarted from the beginning: no item twice. */
	CU_ASSERT_EQUAL(json_object_array_length(items), 3);
	CU_ASSERT_EQUAL(fake_count(&srv, "GET", PODS), 4);
	json_object_put(items);
	teardown(&c);
	free(page1);
	free(gone);
}

static void test_retries(void)
{
	struct k8s_client c;
	char *busy = fake_fixture("status-429-toomanyrequests.json");
	struct fake_route *r;
	int64_t t0;

	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	fake_route_add(&srv, "GET", "/version", 2, 500, "{\"kind\":\"Status\",\"code\":500}");
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT_EQUAL(c.retries, 2);
	CU_ASSERT_EQUAL(srv.nrequests, 3);
	teardown(&c);

	/* 429: the Retry-After header is honoured even though the backoff is 1 ms. */
	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	r = fake_route_add(&srv, "GET", "/version", 1, 429, busy);
	str_copy(r->headers, sizeof(r->headers), "Retry-After: 1\r\n");
	fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	t0 = mono_now_us();
	CU_ASSERT(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT(mono_now_us() - t0 >= 950000);
	CU_ASSERT_EQUAL(c.retries, 1);
	teardown(&c);

	/* 503 forever: gives up after max_retries, with the last error. */
	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	c.max_retries = 2;
	fake_route_add(&srv, "GET", "/version", -1, 503, "{\"kind\":\"Status\",\"reason\":\"ServiceUnavailable\",\"code\":503}");
	CU_ASSERT_FALSE(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT_EQUAL(srv.nrequests, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, "ServiceUnavailable (HTTP 503)"));
	teardown(&c);
	free(busy);
}

static void test_timeout(void)
{
	struct k8s_client c;
	struct fake_route *r;
	int64_t t0;

	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	c.timeout_us = 300000;
	c.max_retries = 0;
	r = fake_route_add(&srv, "GET", "/version", -1, 200, version_body);
	r->delay_ms = 1500;
	t0 = mono_now_us();
	CU_ASSERT_FALSE(k8s_get(&c, "/version", &version_ref, 0, NULL));
	CU_ASSERT(mono_now_us() - t0 < 1000000);
	CU_ASSERT_EQUAL(c.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.error, "Timeout"));
	teardown(&c);
}

struct seen {
	char log[2048];
};

static bool on_event(const char *type, json_object *obj, void *arg)
{
	struct seen *s = arg;
	json_object *m, *n;
	const char *name = json_object_object_get_ex(obj, "metadata", &m) &&
				   json_object_object_get_ex(m, "name", &n) ? json_object_get_string(n) : "-";
	size_t len = strlen(s->log);

	str_format(s->log + len, sizeof(s->log) - len, "%s %s,", type, name);
	return strcmp(name, "pg-10") != 0;
}

static void test_watch(void)
{
	struct k8s_client c;
	struct seen seen = { "" };
	char *stream = fake_fixture("watch-stream.pods.jsonl"), *cut;
	char second[2048];
	struct fake_route *r;

	CU_ASSERT_FATAL(stream != NULL);
	/* The fixture's first four events (ADDED, MODIFIED, DELETED, BOOKMARK), then a cut. */
	cut = stream;
	for (int i = 0; i < 4; i++)
		cut = strchr(cut, '\n') + 1;
	/* Then a MODIFIED and the fixture's ERROR 410 (too old resource version). */
	CU_ASSERT_FATAL(strncmp(cut, "{\"type\":\"ERROR\"", 15) == 0);
	str_format(second, sizeof(second),
		   "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pg-2\","
		   "\"resourceVersion\":\"48300\"}}}\n%s", cut);
	*cut = '\0';
	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	r = fake_route_add(&srv, "GET", PODS, 1, 200, stream);
	str_copy(r->match, sizeof(r->match), "watch=1&allowWatchBookmarks=true&resourceVersion=48211");
	r->stream = r->cut = true;
	r = fake_route_add(&srv, "GET", PODS, 1, 200, second);
	str_copy(r->match, sizeof(r->match), "resourceVersion=48294");
	r->stream = true;
	r = fake_route_add(&srv, "GET", PODS, 1, 200,
			   "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"pg-10\",\"resourceVersion\":\"50001\"}}}\n");
	str_copy(r->match, sizeof(r->match), "resourceVersion=50000");
	r->stream = true;
	r = fake_route_add(&srv, "GET", PODS, -1, 200,
			   "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"50000\"},"
			   "\"items\":[{\"metadata\":{\"name\":\"pg-9\"}}]}");
	str_copy(r->match, sizeof(r->match), "limit=");
	CU_ASSERT(k8s_watch(&c, PODS, &pods_ref, "48211", 10000000, on_event, &seen));
	CU_ASSERT_STRING_EQUAL(seen.log, "ADDED pg-1,MODIFIED pg-1,DELETED pg-1,BOOKMARK -,MODIFIED pg-2,"
			       "ADDED pg-9,ADDED pg-10,");
	/* After the cut the watch resumed from the BOOKMARK's resourceVersion. */
	CU_ASSERT_PTR_NOT_NULL(strstr(srv.requests[1].target, "resourceVersion=48294"));
	teardown(&c);

	/* An HTTP 410 on the watch request itself also re-lists. */
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	r = fake_route_add(&srv, "GET", PODS, 1, 410,
			   "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Expired\",\"code\":410}");
	str_copy(r->match, sizeof(r->match), "resourceVersion=1&");
	r = fake_route_add(&srv, "GET", PODS, 1, 200,
			   "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"pg-10\",\"resourceVersion\":\"50001\"}}}\n");
	str_copy(r->match, sizeof(r->match), "resourceVersion=50000");
	r->stream = true;
	r = fake_route_add(&srv, "GET", PODS, -1, 200,
			   "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"50000\"},"
			   "\"items\":[{\"metadata\":{\"name\":\"pg-9\"}}]}");
	str_copy(r->match, sizeof(r->match), "limit=");
	CU_ASSERT(k8s_watch(&c, PODS, &pods_ref, "1", 10000000, on_event, &seen));
	CU_ASSERT_STRING_EQUAL(seen.log, "ADDED pg-9,ADDED pg-10,");
	teardown(&c);
	free(stream);
}

static void test_mutations(void)
{
	struct k8s_client c;
	json_object *opts = json_tokener_parse("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0}");
	json_object *patch = json_tokener_parse("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
	json_object *jp = json_tokener_parse("[{\"op\":\"add\",\"path\":\"/metadata/labels/a\",\"value\":\"b\"}]");
	json_object *out = NULL;

	CU_ASSERT_FATAL(setup(&c, false, "token.kubeconfig", NULL));
	fake_route_add(&srv, "DELETE", PODS "/pg-1", -1, 200, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pg-1\",\"deletionTimestamp\":\"2026-01-22T10:40:00Z\"}}");
	fake_route_add(&srv, "PATCH", PODS "/pg-1", -1, 200, "{\"kind\":\"Pod\"}");
	fake_route_add(&srv, "POST", PODS, -1, 201, "{\"kind\":\"Pod\"}");
	CU_ASSERT(k8s_delete(&c, PODS "/pg-1", &pod_ref, opts, 0, &out));
	CU_ASSERT_PTR_NOT_NULL(out);
	json_object_put(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(srv.requests[0].body, "\"gracePeriodSeconds\":0"));
	CU_ASSERT(k8s_patch(&c, PODS "/pg-1", &pod_ref, K8S_PATCH_MERGE, patch, NULL));
	CU_ASSERT(k8s_patch(&c, PODS "/pg-1", &pod_ref, K8S_PATCH_STRATEGIC, patch, NULL));
	CU_ASSERT(k8s_patch(&c, PODS "/pg-1", &pod_ref, K8S_PATCH_JSON, jp, NULL));
	CU_ASSERT(k8s_create(&c, PODS, &pod_ref, patch, 0, NULL));
	CU_ASSERT_STRING_EQUAL(srv.requests[1].content_type, "application/merge-patch+json");
	CU_ASSERT_STRING_EQUAL(srv.requests[2].content_type, "application/strategic-merge-patch+json");
	CU_ASSERT_STRING_EQUAL(srv.requests[3].content_type, "application/json-patch+json");
	CU_ASSERT_STRING_EQUAL(srv.requests[4].method, "POST");
	CU_ASSERT_STRING_EQUAL(srv.requests[4].content_type, "application/json");
	teardown(&c);
	json_object_put(opts);
	json_object_put(patch);
	json_object_put(jp);
}

static void test_dry_run(void)
{
	struct k8s_client c;
	json_object *opts = json_tokener_parse("{\"gracePeriodSeconds\":0}");
	char kc[512], *text = NULL;
	size_t len = 0;
	FILE *f;

	CU_ASSERT_FATAL(fake_server_start(&srv, false, certdir));
	CU_ASSERT_FATAL(fake_kubeconfig(certdir, "token.kubeconfig", srv.url, NULL, kc, sizeof(kc)));
	CU_ASSERT_FATAL(k8s_client_init(&c, kc, NULL, true));
	CU_ASSERT_FALSE(k8s_get(&c, PODS "/pg-1", &pod_ref, K8S_QUIET_404, NULL));
	CU_ASSERT_EQUAL(c.status, 404);
	CU_ASSERT(k8s_create(&c, PODS, &pods_ref, opts, 0, NULL));
	CU_ASSERT(k8s_delete(&c, PODS "/pg-1", &pod_ref, opts, 0, NULL));
	CU_ASSERT_EQUAL(srv.nrequests, 0);
	CU_ASSERT_EQUAL(c.requests, 0);
	CU_ASSERT_EQUAL_FATAL(c.ncalls, 3);
	CU_ASSERT_STRING_EQUAL(c.calls[0].method, "GET");
	CU_ASSERT_STRING_EQUAL(c.calls[1].method, "POST");
	CU_ASSERT_STRING_EQUAL(c.calls[2].method, "DELETE");
	CU_ASSERT_STRING_EQUAL(c.calls[2].path, PODS "/pg-1");
	f = open_memstream(&text, &len);
	k8s_client_print_calls(&c, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "DELETE " PODS "/pg-1\n{\"gracePeriodSeconds\":0}\n"));
	free(text);
	json_object_put(opts);
	teardown(&c);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_client", suite_init, suite_clean);

	CU_add_test(s, "bearer token", test_auth_token);
	CU_add_test(s, "token file, rotated", test_auth_token_file);
	CU_add_test(s, "client certificate inline", test_auth_cert_data);
	CU_add_test(s, "client certificate files", test_auth_cert_file);
	CU_add_test(s, "untrusted client certificate", test_auth_rogue_cert);
	CU_add_test(s, "exec plugin, cached until expiry", test_auth_exec);
	CU_add_test(s, "server certificate from another CA", test_tls_wrong_ca);
	CU_add_test(s, "insecure-skip-tls-verify", test_tls_insecure);
	CU_add_test(s, "KUBECONFIG merge rules", test_merge);
	CU_add_test(s, "no secrets in logs", test_no_secrets_in_logs);
	CU_add_test(s, "error statuses", test_errors);
	CU_add_test(s, "pagination", test_pagination);
	CU_add_test(s, "expired continue token", test_pagination_expired);
	CU_add_test(s, "retries", test_retries);
	CU_add_test(s, "timeout", test_timeout);
	CU_add_test(s, "watch resume and 410", test_watch);
	CU_add_test(s, "create, patch, delete", test_mutations);
	CU_add_test(s, "dry run", test_dry_run);
}
