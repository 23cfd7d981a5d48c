/*
 * test_driver_k8s_observe.c - the kubernetes backend's observe op against the fake API
 * server, in a thread of its own as the runner runs it: one api_role event per pod as first
 * listed and at every change of its role label, in order, across a watch stream of the
 * recorded shape (ADDED, MODIFIED, DELETED, BOOKMARK) that breaks and resumes from the
 * bookmark, then an ERROR 410 and a re-list; each operator's role label (Zalando's
 * spilo-role=master); a stop seen within a second; no observe op on the null and local
 * backends.
 */
#include "k8s_fake_server.c"
#include "k8s_test_common.h"

#include "event.h"
#include "kubernetes/k8s_driver.h"
#include "metrics.h"
#include "runner.h"

#include <CUnit/CUnit.h>
#include <unistd.h>

#define NS "tenant-root"
#define PODS "/api/v1/namespaces/" NS "/pods"
#define WAIT_US (10 * 1000000LL)

/* What the observer thread runs on. */
struct observer_run {
	const struct driver_ops *ops;
	struct driver *d;
	struct event_log *log;
	atomic_bool stop;
	bool ok;
	pthread_t thread;
};

static void *observer_main(void *arg)
{
	struct observer_run *r = arg;

	r->ok = r->ops->observe(r->d, r->log, &r->stop);
	return NULL;
}

static int suite_init(void)
{
	return k8s_test_suite_init();
}

/* One pod of cluster pg as a JSON object; role NULL: no role label. */
static void pod(char *buf, size_t len, const char *name, const char *role, const char *rv)
{
	char rvs[64] = "", label[96] = "";

	if (rv)
		str_format(rvs, sizeof(rvs), ",\"resourceVersion\":\"%s\"", rv);
	if (role)
		str_format(label, sizeof(label), ",\"cnpg.io/instanceRole\":\"%s\"", role);
	str_format(buf, len, "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\","
		   "\"namespace\":\"" NS "\"%s,\"labels\":{\"cnpg.io/cluster\":\"pg\",\"cnpg.io/podRole\":"
		   "\"instance\"%s}},\"spec\":{\"nodeName\":\"kind-worker\"},\"status\":{\"phase\":\"Running\"}}",
		   name, rvs, label);
}

/* Append a watch event line of type for a pod to buf. */
static void event_line(char *buf, size_t len, const char *type, const char *name, const char *role,
		       const char *rv)
{
	char obj[1024];
	size_t used = strlen(buf);

	pod(obj, sizeof(obj), name, role, rv);
	str_format(buf + used, len - used, "{\"type\":\"%s\",\"object\":%s}\n", type, obj);
}

static void bookmark_line(char *buf, size_t len, const char *rv)
{
	size_t used = strlen(buf);

	str_format(buf + used, len - used, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
		   "\"v1\",\"metadata\":{\"resourceVersion\":\"%s\",\"creationTimestamp\":null},\"spec\":"
		   "{\"containers\":null},\"status\":{}}}\n", rv);
}

/* A PodList at rv of pg-1..3 with roles r1..r3. */
static void pod_list(char *buf, size_t len, const char *rv, const char *r1, const char *r2, const char *r3)
{
	char p[3][1024];

	pod(p[0], sizeof(p[0]), "pg-1", r1, NULL);
	pod(p[1], sizeof(p[1]), "pg-2", r2, NULL);
	pod(p[2], sizeof(p[2]), "pg-3", r3, NULL);
	str_format(buf, len, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
		   "\"%s\"},\"items\":[%s,%s,%s]}", rv, p[0], p[1], p[2]);
}

/* A route for watches from rv (the query names it before timeoutSeconds). */
static struct fake_route *watch_route(struct fake_server *s, const char *rv, int times, const char *body)
{
	struct fake_route *r = fake_route_add(s, "GET", PODS, times, 200, body);

	str_format(r->match, sizeof(r->match), "watch=1&allowWatchBookmarks=true&resourceVersion=%s&", rv);
	r->stream = true;
	return r;
}

/* Every watch not scripted: a bookmark, a pause, the end (a quiet API server). */
static void quiet_watch_route(struct fake_server *s)
{
	char body[512] = "";
	struct fake_route *r;

	bookmark_line(body, sizeof(body), "99");
	r = fake_route_add(s, "GET", PODS, -1, 200, body);
	str_copy(r->match, sizeof(r->match), "watch=1");
	r->stream = true;
	r->delay_ms = 100;
}

/* "pg-1 primary,pg-2 replica,..." of the log's api_role events; false if it does not load. */
static bool api_roles(const char *path, char *out, size_t len, size_t *n)
{
	struct events ev;

	memset(&ev, 0, sizeof(ev));
	out[0] = '\0';
	if (!events_load(path, &ev))
		return false;
	for (size_t i = 0; i < ev.napi_roles; i++) {
		size_t used = strlen(out);

		str_format(out + used, len - used, "%s%s %s", i ? "," : "", ev.api_roles[i].node,
			   api_role_name(ev.api_roles[i].role));
	}
	*n = ev.napi_roles;
	events_free(&ev);
	return true;
}

/* Run observe until the log holds want api_role events (or WAIT_US), then stop it. */
static void observe_until(const struct driver_ops *ops, struct driver *d, const char *path, size_t want,
			  char *roles, size_t len, int64_t *stop_us, bool *ok)
{
	struct observer_run r = { .ops = ops, .d = d };
	int64_t deadline = mono_now_us() + WAIT_US, t;
	size_t n = 0;

	unlink(path);
	r.log = event_log_open(path, mono_now_us());
	CU_ASSERT_FATAL(r.log != NULL);
	atomic_store(&r.stop, false);
	CU_ASSERT_FATAL(pthread_create(&r.thread, NULL, observer_main, &r) == 0);
	/* No fatal assertion from here to the join: the thread must not outlive the test. */
	while (mono_now_us() < deadline && (!api_roles(path, roles, len, &n) || n < want))
		sleep_us(20000);
	/* A little longer: nothing more may come. */
	sleep_us(300000);
	t = mono_now_us();
	atomic_store(&r.stop, true);
	pthread_join(r.thread, NULL);
	*stop_us = mono_now_us() - t;
	*ok = r.ok;
	event_log_close(r.log);
	CU_ASSERT(api_roles(path, roles, len, &n));
}

static void test_watch_roles(void)
{
	struct fake_server s;
	const struct driver_ops *ops;
	struct driver *d;
	struct fake_route *r;
	char body[8192], path[256], roles[1024];
	int64_t stop_us;
	bool ok;
	int lists = 0, from_bookmark = 0;

	CU_ASSERT_FATAL(fake_server_start(&s, false, k8s_test_certdir));
	/* The list: every pod's role, and resourceVersion 7 to watch from. */
	pod_list(body, sizeof(body), "7", "primary", "replica", "replica");
	r = fake_route_add(&s, "GET", PODS, 1, 200, body);
	str_copy(r->match, sizeof(r->match), "limit=");
	/* The re-list after the 410: pg-1 came back as a replica, pg-2 is the primary. */
	pod_list(body, sizeof(body), "30", "replica", "primary", "replica");
	r = fake_route_add(&s, "GET", PODS, -1, 200, body);
	str_copy(r->match, sizeof(r->match), "limit=");
	/* From 7: the primary pod deleted (a pod-kill), a bookmark, then the stream breaks. */
	body[0] = '\0';
	event_line(body, sizeof(body), "MODIFIED", "pg-1", "primary", "20");
	event_line(body, sizeof(body), "DELETED", "pg-1", "primary", "21");
	bookmark_line(body, sizeof(body), "22");
	r = watch_route(&s, "7", 1, body);
	r->cut = true;
	/* Resumed from the bookmark: pg-1 recreated unlabelled, pg-2 promoted, then 410 Gone. */
	body[0] = '\0';
	event_line(body, sizeof(body), "ADDED", "pg-1", NULL, "23");
	event_line(body, sizeof(body), "MODIFIED", "pg-2", "primary", "24");
	str_format(body + strlen(body), sizeof(body) - strlen(body), "%s\n",
		   "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
		   "\"status\":\"Failure\",\"message\":\"too old resource version: 24 (30)\",\"reason\":"
		   "\"Expired\",\"code\":410}}");
	watch_route(&s, "22", 1, body);
	/* After the re-list, from 30: a change that is no role change. */
	body[0] = '\0';
	event_line(body, sizeof(body), "MODIFIED", "pg-3", "replica", "31");
	bookmark_line(body, sizeof(body), "32");
	watch_route(&s, "30", 1, body);
	quiet_watch_route(&s);
	d = k8s_test_open_driver(&s, NS, NULL, &ops);
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FATAL(ops->observe != NULL);
	str_format(path, sizeof(path), "%s/observe-events.jsonl", k8s_test_certdir);
	observe_until(ops, d, path, 7, roles, sizeof(roles), &stop_us, &ok);
	CU_ASSERT_TRUE(ok);
	CU_ASSERT_STRING_EQUAL(roles, "pg-1 primary,pg-2 replica,pg-3 replica,pg-1 deleted,pg-1 unknown,"
			       "pg-2 primary,pg-1 replica");
	/* The stop is seen within a watch request (1 s; measured 0.08 s), with room for a loaded machine. */
	CU_ASSERT(stop_us < 2500000);
	for (int i = 0; i < s.nrequests; i++) {
		if (strstr(s.requests[i].target, "limit="))
			lists++;
		if (strstr(s.requests[i].target, "resourceVersion=22&"))
			from_bookmark++;
		/* Only the instance pods of cluster pg are watched, with bookmarks. */
		CU_ASSERT_PTR_NOT_NULL(strstr(s.requests[i].target, "labelSelector=cnpg.io%2Fcluster%3Dpg"));
		if (strstr(s.requests[i].target, "watch=1"))
			CU_ASSERT_PTR_NOT_NULL(strstr(s.requests[i].target, "allowWatchBookmarks=true"));
	}
	CU_ASSERT_EQUAL(lists, 2);
	CU_ASSERT_EQUAL(from_bookmark, 1);
	unlink(path);
	ops->close(d);
	fake_server_stop(&s);
}

/* Zalando labels its primary spilo-role=master: the label comes from the operator's selector. */
static void test_operator_role_label(void)
{
	struct fake_server s;
	struct k8s_options o = { .ns = NS, .poll_us = 1000, .operator_name = "zalando" };
	struct cluster_spec spec;
	const struct driver_ops *ops = driver_find("kubernetes");
	struct driver *d;
	struct fake_route *r;
	char path[256], roles[1024];
	int64_t stop_us;
	bool ok;

	CU_ASSERT_FATAL(fake_server_start(&s, false, k8s_test_certdir));
	r = fake_route_add(&s, "GET", PODS, -1, 200,
			   "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
			   "\"items\":[{\"metadata\":{\"name\":\"pg-0\",\"labels\":{\"spilo-role\":\"master\"}}},"
			   "{\"metadata\":{\"name\":\"pg-1\",\"labels\":{\"spilo-role\":\"replica\"}}},"
			   "{\"metadata\":{\"name\":\"pg-2\",\"labels\":{}}}]}");
	str_copy(r->match, sizeof(r->match), "limit=");
	quiet_watch_route(&s);
	k8s_test_spec(&spec, "pg");
	CU_ASSERT_FATAL(k8s_test_configure(&s, &o));
	d = ops->open(&spec, NULL, k8s_test_opts(ops));
	CU_ASSERT_FATAL(d != NULL);
	str_format(path, sizeof(path), "%s/observe-zalando.jsonl", k8s_test_certdir);
	observe_until(ops, d, path, 3, roles, sizeof(roles), &stop_us, &ok);
	CU_ASSERT_TRUE(ok);
	CU_ASSERT_STRING_EQUAL(roles, "pg-0 primary,pg-1 replica,pg-2 unknown");
	CU_ASSERT_PTR_NOT_NULL(strstr(s.requests[0].target, "labelSelector=application%3Dspilo%2Ccluster-name%3Dpg"));
	unlink(path);
	ops->close(d);
	fake_server_stop(&s);
}

/* An API server that keeps refusing: observe gives up (false) after 5 attempts 1 s apart. */
static void test_gives_up(void)
{
	struct fake_server s;
	const struct driver_ops *ops;
	struct driver *d;
	struct event_log *log;
	atomic_bool stop = false;
	char path[256], roles[256];
	size_t n = 99;
	int64_t t;

	CU_ASSERT_FATAL(fake_server_start(&s, false, k8s_test_certdir));
	fake_route_add(&s, "GET", PODS, -1, 403,
		       "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"pods is "
		       "forbidden\",\"reason\":\"Forbidden\",\"code\":403}");
	d = k8s_test_open_driver(&s, NS, NULL, &ops);
	CU_ASSERT_FATAL(d != NULL);
	str_format(path, sizeof(path), "%s/observe-forbidden.jsonl", k8s_test_certdir);
	unlink(path);
	log = event_log_open(path, mono_now_us());
	CU_ASSERT_FATAL(log != NULL);
	t = mono_now_us();
	CU_ASSERT_FALSE(ops->observe(d, log, &stop));
	t = mono_now_us() - t;
	CU_ASSERT(t >= 3500000 && t < 8000000);
	CU_ASSERT_EQUAL(fake_count(&s, "GET", PODS), 5);
	event_log_close(log);
	CU_ASSERT(api_roles(path, roles, sizeof(roles), &n));
	CU_ASSERT_EQUAL(n, 0);
	unlink(path);
	ops->close(d);
	fake_server_stop(&s);
}

static const char kill_scenario[] =
	"name: k8s-observe\n"
	"cluster:\n"
	"  name: pg\n"
	"steps:\n"
	"  - at: 300ms\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - wait: 1500ms\n";

/* The operator's part in the runner test: once pg-1 is deleted, watches see pg-2 promoted. */
struct promoter {
	struct fake_server *s;
	struct fake_route *quiet;
	atomic_bool stop;
	bool promoted;
};

static void *promoter_main(void *arg)
{
	struct promoter *p = arg;
	char body[2048] = "";

	while (!atomic_load(&p->stop) && fake_count(p->s, "DELETE", PODS "/pg-1") == 0)
		sleep_us(5000);
	if (atomic_load(&p->stop))
		return NULL;
	event_line(body, sizeof(body), "MODIFIED", "pg-2", "primary", "100");
	pthread_mutex_lock(&p->s->lock);
	free(p->quiet->body);
	p->quiet->body = xstrdup(body);
	pthread_mutex_unlock(&p->s->lock);
	p->promoted = true;
	return NULL;
}

/* The runner runs observe for the trial: api_role events land in events.jsonl, and the metric. */
static void test_runner_observes(void)
{
	struct fake_server s;
	const struct driver_ops *ops;
	struct driver *d;
	struct promoter p = { .s = &s };
	pthread_t promoter;
	struct scenario sc;
	struct scenario *list[1] = { &sc };
	struct run_options opt;
	struct events ev;
	struct metrics m;
	char dir[256], path[512], roles[1024], err[1024], *text;
	json_object *summary;
	const char *plain;
	size_t n = 0;
	int status;

	CU_ASSERT_FATAL(fake_server_start(&s, false, k8s_test_certdir));
	/* Watches first: the pods route of k8s_test_add_pods answers every other GET of pods. */
	p.quiet = fake_route_add(&s, "GET", PODS, -1, 200, "");
	str_copy(p.quiet->match, sizeof(p.quiet->match), "watch=1");
	p.quiet->stream = true;
	p.quiet->delay_ms = 100;
	bookmark_line(path, sizeof(path), "99");
	free(p.quiet->body);
	p.quiet->body = xstrdup(path);
	k8s_test_add_pods(&s, NS, 0);
	k8s_test_add_deletes(&s, NS);
	fake_route_add(&s, "DELETE", PODS "/pg-1", -1, 200, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pg-1\"}}");
	fake_route_add(&s, "GET", "/version", -1, 200, "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":\"v1.31.0\"}");
	fake_route_add(&s, "GET", "/apis/postgresql.cnpg.io/v1", -1, 200, "{\"kind\":\"APIResourceList\"}");
	fake_route_add(&s, "GET", "/apis/postgresql.cnpg.io/v1/namespaces/" NS "/clusters/pg", -1, 200,
		       "{\"apiVersion\":\"postgresql.cnpg.io/v1\",\"kind\":\"Cluster\",\"metadata\":{\"name\":\"pg\"},"
		       "\"spec\":{\"instances\":3},\"status\":{\"instances\":3,\"readyInstances\":3,\"phase\":"
		       "\"Cluster in healthy state\",\"currentPrimary\":\"pg-1\",\"targetPrimary\":\"pg-1\"}}");
	d = k8s_test_open_driver(&s, NS, NULL, &ops);
	CU_ASSERT_FATAL(d != NULL);
	ops->close(d);
	str_format(dir, sizeof(dir), "%s/runner", k8s_test_certdir);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	str_format(path, sizeof(path), "%s/k8s-observe.yaml", dir);
	memset(&sc, 0, sizeof(sc));
	CU_ASSERT_FATAL(file_write_atomic(path, kill_scenario, strlen(kill_scenario)) &&
			scenario_load(path, &sc, err, sizeof(err)));
	run_options_defaults(&opt);
	opt.backend = "kubernetes";
	opt.driver_opts = k8s_test_opts(driver_find("kubernetes"));
	str_format(path, sizeof(path), "%s/run", dir);
	opt.out_dir = path;
	opt.seed = 7;
	opt.state_root = dir;
	atomic_store(&p.stop, false);
	CU_ASSERT_FATAL(pthread_create(&promoter, NULL, promoter_main, &p) == 0);
	status = runner_run(list, 1, &opt);
	atomic_store(&p.stop, true);
	pthread_join(promoter, NULL);
	scenario_free(&sc);
	CU_ASSERT_EQUAL(status, BISE_EXIT_OK);
	CU_ASSERT_TRUE(p.promoted);
	str_format(path, sizeof(path), "%s/run/k8s-observe/trial-1/events.jsonl", dir);
	CU_ASSERT(api_roles(path, roles, sizeof(roles), &n));
	CU_ASSERT_STRING_EQUAL(roles, "pg-1 primary,pg-2 replica,pg-3 replica,pg-2 primary");
	memset(&ev, 0, sizeof(ev));
	if (events_load(path, &ev)) {
		metrics_compute(&ev, &m);
		CU_ASSERT_TRUE(m.label_switch_seen);
		CU_ASSERT_STRING_EQUAL(m.label_old_primary, "pg-1");
		CU_ASSERT_STRING_EQUAL(m.label_new_primary, "pg-2");
		/* The next watch after the DELETE: 100 ms of the server's pause, and a bit. */
		CU_ASSERT(m.label_switch_dur_us > 0 && m.label_switch_dur_us < 2000000);
		if (getenv("BISE_TEST_SHOW"))
			fprintf(stderr, "\nlabel switch %.3f s after the fault\n", m.label_switch_dur_us / 1e6);
		events_free(&ev);
	}
	/* The reports carry it: summary.json in seconds, summary.md in words. */
	str_format(path, sizeof(path), "%s/run/k8s-observe/summary.json", dir);
	text = file_read_all(path, NULL);
	summary = text ? json_tokener_parse(text) : NULL;
	free(text);
	plain = summary ? json_object_to_json_string_ext(summary, JSON_C_TO_STRING_PLAIN) : "";
	CU_ASSERT_PTR_NOT_NULL(strstr(plain, "\"label_switch_s\":0."));
	CU_ASSERT_PTR_NOT_NULL(strstr(plain, "\"label_new_primary\":\"pg-2\""));
	json_object_put(summary);
	str_format(path, sizeof(path), "%s/run/k8s-observe/summary.md", dir);
	text = file_read_all(path, NULL);
	CU_ASSERT(text && strstr(text, "primary label on pg-2 after "));
	free(text);
	fake_server_stop(&s);
}

static void test_backends_without_observe(void)
{
	CU_ASSERT_PTR_NULL(driver_find("null")->observe);
	CU_ASSERT_PTR_NULL(driver_find("local")->observe);
	CU_ASSERT_PTR_NOT_NULL(driver_find("kubernetes")->observe);
	CU_ASSERT_PTR_NOT_NULL(driver_find("kind")->observe);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("k8s_observe", suite_init, k8s_test_suite_clean);

	CU_add_test(s, "role changes from a list and a watch that breaks and expires", test_watch_roles);
	CU_add_test(s, "the operator's role label", test_operator_role_label);
	CU_add_test(s, "an API server that refuses", test_gives_up);
	CU_add_test(s, "the runner observes during a trial", test_runner_observes);
	CU_add_test(s, "null and local have no observe op", test_backends_without_observe);
}
