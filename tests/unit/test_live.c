/*
 * test_live.c - the live view of `bise run --serve` over real HTTP on loopback: a trial's
 * log written through the typed writers feeds it; /metrics says what the log says and
 * passes `promtool check metrics` (Debian's prometheus: fails under CI=true without it,
 * skipped elsewhere); the buttons answer only with the header or the token; the listen
 * address rules.
 */
#include "event.h"
#include "live.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROMTOOL "/usr/bin/promtool"

static char tmp[64];
static atomic_int aborts;

static void on_abort(void)
{
	atomic_fetch_add(&aborts, 1);
}

static int suite_init(void)
{
	str_copy(tmp, sizeof(tmp), "/tmp/bise-test-live-XXXXXX");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return mkdtemp(tmp) ? 0 : 1;
}

static int suite_clean(void)
{
	char cmd[128];

	str_format(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	curl_global_cleanup();
	return system(cmd) == 0 ? 0 : 1;
}

struct body {
	char *p;
	size_t n;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;

	b->p = xrealloc(b->p, b->n + size * n + 1);
	memcpy(b->p + b->n, data, size * n);
	b->n += size * n;
	b->p[b->n] = '\0';
	return size * n;
}

/* One request to the live server (header: lines, or NULL); the HTTP status, the body in *out (caller frees). */
static long http(int port, const char *method, const char *path, const char *header, char **out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct body b = { xcalloc(1, 1), 0 };
	char url[256];
	long code = -1;

	/* Headers one a line. */
	for (const char *p = header; p && *p;) {
		size_t n = strcspn(p, "\n");
		char one[256];

		str_format(one, sizeof(one), "%.*s", (int)n, p);
		h = curl_slist_append(h, one);
		p += n + (p[n] == '\n');
	}
	str_format(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "../" as written: the server must refuse it */
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (out)
		*out = b.p;
	else
		free(b.p);
	return code;
}

static struct live *start(const char *token, bool step)
{
	struct live_options o = { .listen = "127.0.0.1:0", .token = token, .step = step, .run_dir = tmp,
				  .run_id = "test-run", .abort = on_abort };

	return live_start(&o);
}

/*
 * A trial as the executor and the workload write it: writes ok before a pod-kill of the
 * primary at 5 s, failing from 5.1 s, ok again on the new primary from 8 s; the watcher
 * sees lucerne promoted on timeline 2; gland 4 KiB behind.
 */
static void write_trial(struct event_log *log, int64_t origin)
{
	int64_t s = 1000000;
	struct fault_record f = { .action = FAULT_APPLY, .fault = "pod-kill", .target = "primary",
				  .node = "geneva", .step = 0, .verified_ms = 2 };
	struct lag_record lag = { .primary = "lucerne", .tli = 2, .standby = "gland", .state = "streaming",
				  .sent = "0/3001000", .write = "0/3001000", .flush = "0/3001000",
				  .replay = "0/3000000", .primary_lsn = "0/3001000", .write_lag = -1,
				  .flush_lag = -1, .replay_lag = -1 };
	int64_t seq = 0;

	event_write_phase(log, origin + 1000, "baseline");
	event_write_node(log, origin + 2000, "geneva", NODE_PRIMARY, 1, "0/3000000", NULL);
	for (int64_t t = 100000; t < 5 * s; t += 100000)
		event_write_write(log, origin + t - 5000, origin + t, 0, ++seq, WRITE_OK, "geneva", NULL, NULL);
	event_write_fault(log, origin + 5 * s, &f);
	for (int64_t t = 5 * s + 100000; t < 8 * s; t += 100000)
		event_write_write(log, origin + t - 5000, origin + t, 0, ++seq, WRITE_FAIL, "", "08006", "down");
	event_write_node(log, origin + 7 * s, "geneva", NODE_DOWN, 0, NULL, NULL);
	event_write_node(log, origin + 7 * s + 500, "lucerne", NODE_PRIMARY, 2, "0/3001000", NULL);
	for (int64_t t = 8 * s; t < 9 * s; t += 100000)
		event_write_write(log, origin + t - 5000, origin + t, 0, ++seq, WRITE_OK, "lucerne", NULL, NULL);
	event_write_lag(log, origin + 9 * s, &lag);
	/* A standby still starting has no replay position: no lag is claimed for it. */
	lag.standby = "geneva";
	lag.replay = NULL;
	lag.state = "startup";
	event_write_lag(log, origin + 9 * s, &lag);
}

static bool have(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	/* A whole line, not a prefix of a longer one. */
	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/*
 * /metrics once it shows every line of want: the live view catches up with the log within
 * a pump cycle (200 ms) and recomputes the failover every 2 s, so under load a scrape in
 * the middle of the writes can show part of the trial; it must converge. NULL after 10 s.
 */
static char *metrics_when(int port, const char *const *want)
{
	for (int i = 0; i < 100; i++) {
		char *m = NULL;
		bool all = true;

		if (http(port, "GET", "/metrics", NULL, &m) == 200)
			for (int k = 0; want[k] && all; k++)
				all = have(m, want[k]);
		if (m && all)
			return m;
		free(m);
		sleep_us(100000);
	}
	return NULL;
}

static void promtool_check(const char *text)
{
	const char *ci = getenv("CI");
	char path[128], cmd[256];
	int st;

	if (access(PROMTOOL, X_OK) != 0) {
		if (ci && strcmp(ci, "true") == 0) {
			CU_FAIL("promtool is not installed (the prometheus package; scripts/install-deps installs it)");
		} else {
			fprintf(stderr, "\nskipped: %s not installed (run scripts/install-deps)\n", PROMTOOL);
		}
		return;
	}
	str_format(path, sizeof(path), "%s/metrics.txt", tmp);
	CU_ASSERT_FATAL(file_write_atomic(path, text, strlen(text)));
	str_format(cmd, sizeof(cmd), "%s check metrics < '%s' >&2", PROMTOOL, path);
	st = system(cmd);
	CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_metrics_from_the_log(void)
{
	struct live *l = start(NULL, false);
	char path[128], *m, *state = NULL;
	struct event_log *log;
	int64_t origin = mono_now_us() - 10 * 1000000LL;

	CU_ASSERT_FATAL(l != NULL);
	CU_ASSERT(live_port(l) > 0);
	str_format(path, sizeof(path), "%s/events.jsonl", tmp);
	log = event_log_open(path, origin);
	CU_ASSERT_FATAL(log != NULL);
	live_trial_begin(l, log, "primary-pod-kill", 3, 1, 2, origin);
	/* The executor's plan: the pod-kill is reverted 20 s after its apply returned. */
	live_revert_due(l, 0, 1, origin + 25 * 1000000LL);
	live_next_step(l, 2, "network-partition on replica for 30s", mono_now_us() + 12 * 1000000LL);
	write_trial(log, origin);
	{
		static const char *const last[] = { "bise_writes_total{outcome=\"ok\"} 59",
						    "bise_failover_window_seconds 3.100000", NULL };

		m = metrics_when(live_port(l), last);
	}
	CU_ASSERT_FATAL(m != NULL);
	fprintf(stderr, "\n%s", m);
	CU_ASSERT(have(m, "bise_writes_total{outcome=\"ok\"} 59"));
	CU_ASSERT(have(m, "bise_writes_total{outcome=\"fail\"} 29"));
	CU_ASSERT(have(m, "bise_primary{node=\"lucerne\"} 1"));
	CU_ASSERT(have(m, "bise_primary_timeline 2"));
	CU_ASSERT(have(m, "bise_faults_in_force 1"));
	CU_ASSERT(strstr(m, "bise_fault_remaining_seconds{fault=\"pod-kill\",target=\"primary\",node=\"geneva\","
			    "step=\"1\"} 1") != NULL); /* 15 s left: "15.xxx" */
	CU_ASSERT(have(m, "bise_replication_lag_bytes{standby=\"gland\"} 4096"));
	CU_ASSERT(strstr(m, "standby=\"geneva\"") == NULL);
	/*
	 * From the last ok (4.9 s, sent at 4.895) to the first ok at 8.0 s; the first failure,
	 * sent after that ok completed, was sent at 5.095 s and bounds the start.
	 */
	CU_ASSERT(have(m, "bise_failover_window_seconds 3.100000"));
	CU_ASSERT(have(m, "bise_failover_start_uncertainty_seconds 0.200000"));
	CU_ASSERT(have(m, "bise_failover_end_uncertainty_seconds 0.105000"));
	CU_ASSERT(have(m, "bise_run_info{run=\"test-run\",scenario=\"primary-pod-kill\",phase=\"baseline\"} 1"));
	CU_ASSERT(have(m, "bise_trial 1"));
	CU_ASSERT(have(m, "bise_trials 2"));
	CU_ASSERT(have(m, "bise_step 3"));
	promtool_check(m);
	free(m);
	CU_ASSERT(http(live_port(l), "GET", "/state", NULL, &state) == 200);
	CU_ASSERT(strstr(state, "\"what\":\"network-partition on replica for 30s\"") != NULL);
	CU_ASSERT(strstr(state, "\"primary\":\"lucerne\"") != NULL);
	CU_ASSERT(strstr(state, "{\"standby\":\"geneva\",\"bytes\":null,\"state\":\"startup\"}") != NULL);
	free(state);
	/* A second trial: the counters go on from the first's. */
	live_trial_end(l, log);
	event_log_close(log);
	str_format(path, sizeof(path), "%s/events2.jsonl", tmp);
	log = event_log_open(path, origin);
	live_trial_begin(l, log, "primary-pod-kill", 3, 2, 2, origin);
	event_write_write(log, origin, origin + 1000, 0, 1, WRITE_OK, "lucerne", NULL, NULL);
	live_trial_end(l, log);
	event_log_close(log);
	CU_ASSERT(http(live_port(l), "GET", "/metrics", NULL, &m) == 200);
	CU_ASSERT(have(m, "bise_writes_total{outcome=\"ok\"} 60"));
	CU_ASSERT(have(m, "bise_trial 2"));
	free(m);
	live_finish(l, NULL);
}

/* The live view's reader: the log's own, a line at a time, to the same result as a whole load. */
static void test_feed_equals_load(void)
{
	char path[128], *text, *p;
	struct events whole, fed;
	struct events_feed *f;
	struct event_log *log;
	int64_t origin = mono_now_us();
	size_t len;

	str_format(path, sizeof(path), "%s/feed.jsonl", tmp);
	log = event_log_open(path, origin);
	CU_ASSERT_FATAL(log != NULL);
	write_trial(log, origin);
	event_log_close(log);
	CU_ASSERT_FATAL(events_load(path, &whole));
	text = file_read_all(path, &len);
	CU_ASSERT_FATAL(text != NULL);
	f = events_feed_new(&fed, "feed");
	for (p = text; p < text + len;) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);

		CU_ASSERT(events_feed_line(f, p, n));
		p += n + 1;
	}
	CU_ASSERT_FALSE(events_feed_line(f, "{\"t\":", 5)); /* a torn line is refused, logged */
	CU_ASSERT_EQUAL(fed.nwrites, whole.nwrites);
	CU_ASSERT_EQUAL(fed.nfaults, whole.nfaults);
	CU_ASSERT_EQUAL(fed.nnodes, whole.nnodes);
	CU_ASSERT_EQUAL(fed.nlags, whole.nlags);
	CU_ASSERT_EQUAL(fed.baseline_us, whole.baseline_us);
	CU_ASSERT(fed.nwrites > 0);
	for (size_t i = 0; i < fed.nwrites && i < whole.nwrites; i++) {
		const struct write_event *a = &fed.writes[i], *b = &whole.writes[i];

		CU_ASSERT(a->start_us == b->start_us && a->end_us == b->end_us && a->seq == b->seq &&
			  a->outcome == b->outcome && strcmp(a->node, b->node) == 0);
	}
	events_feed_free(f);
	events_free(&fed);
	events_free(&whole);
	free(text);
}

static void *finish_main(void *arg)
{
	live_finish(arg, "scn/report.html");
	return NULL;
}

/*
 * At the end the page loads the report from the run directory: plain names under it only,
 * no symlink followed, nothing hidden; and the server waits for a page that watched.
 */
static void test_run_files(void)
{
	struct live *l = start(NULL, false);
	char path[256], link[256], *body = NULL;
	pthread_t t;
	int port;
	int64_t t0;

	CU_ASSERT_FATAL(l != NULL);
	port = live_port(l);
	str_format(path, sizeof(path), "%s/scn", tmp);
	CU_ASSERT_FATAL(mkdir_p(path, 0755));
	str_format(path, sizeof(path), "%s/scn/report.html", tmp);
	CU_ASSERT_FATAL(file_write_atomic(path, "<title>scn report</title>", 25));
	str_format(path, sizeof(path), "%s/scn/.hidden", tmp);
	CU_ASSERT_FATAL(file_write_atomic(path, "x", 1));
	str_format(link, sizeof(link), "%s/scn/link.html", tmp);
	CU_ASSERT_FATAL(symlink("/etc/hostname", link) == 0);
	str_format(link, sizeof(link), "%s/dirlink", tmp);
	CU_ASSERT_FATAL(symlink("/etc", link) == 0);
	/* A page watched (its stream ends here by the client's timeout). */
	{
		CURL *c = curl_easy_init();
		struct body b = { NULL, 0 };
		char url[64];

		str_format(url, sizeof(url), "http://127.0.0.1:%d/events", port);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_perform(c);
		curl_easy_cleanup(c);
		CU_ASSERT(b.p && strstr(b.p, "event: state") != NULL);
		free(b.p);
	}
	t0 = mono_now_us();
	CU_ASSERT_FATAL(pthread_create(&t, NULL, finish_main, l) == 0);
	sleep_us(300000);
	CU_ASSERT_EQUAL(http(port, "GET", "/run/scn/../scn/report.html", NULL, NULL), 404);
	CU_ASSERT_EQUAL(http(port, "GET", "/run/scn/%2e%2e/scn/report.html", NULL, NULL), 404);
	CU_ASSERT_EQUAL(http(port, "GET", "/run/scn/link.html", NULL, NULL), 404);
	CU_ASSERT_EQUAL(http(port, "GET", "/run/dirlink/hostname", NULL, NULL), 404);
	CU_ASSERT_EQUAL(http(port, "GET", "/run/scn/.hidden", NULL, NULL), 404);
	CU_ASSERT_EQUAL(http(port, "GET", "/run//etc/hostname", NULL, NULL), 404);
	CU_ASSERT_EQUAL(http(port, "GET", "/run/scn", NULL, NULL), 404);
	/* Still up: nothing has fetched the report yet. */
	CU_ASSERT_EQUAL(http(port, "GET", "/run/scn/report.html", NULL, &body), 200);
	CU_ASSERT(body && strcmp(body, "<title>scn report</title>") == 0);
	free(body);
	pthread_join(t, NULL);
	/* It went once the report had been sent, well before its 5 s. */
	fprintf(stderr, "\nserver stopped %.2f s after the run's end\n", (double)(mono_now_us() - t0) / 1e6);
	CU_ASSERT(mono_now_us() - t0 < 4000000);
	CU_ASSERT_EQUAL(http(port, "GET", "/", NULL, NULL), -1);
}

static void test_buttons_on_loopback(void)
{
	struct live *l = start(NULL, true);
	int port;

	CU_ASSERT_FATAL(l != NULL);
	port = live_port(l);
	atomic_store(&aborts, 0);
	/* A cross-site form cannot add a header: refused without it. */
	CU_ASSERT_EQUAL(http(port, "POST", "/abort", NULL, NULL), 403);
	CU_ASSERT_EQUAL(atomic_load(&aborts), 0);
	CU_ASSERT_EQUAL(http(port, "POST", "/next", "X-Bise-Action: 1", NULL), 409); /* nothing waits */
	/* A page of another site whose name resolves here (DNS rebinding) sends its own Host. */
	CU_ASSERT_EQUAL(http(port, "POST", "/abort", "X-Bise-Action: 1\nHost: evil.example:8080", NULL), 403);
	CU_ASSERT_EQUAL(atomic_load(&aborts), 0);
	live_waiting(l, true);
	CU_ASSERT_EQUAL(http(port, "POST", "/next", "X-Bise-Action: 1", NULL), 200);
	CU_ASSERT(live_take_next(l));
	CU_ASSERT(!live_take_next(l)); /* consumed */
	CU_ASSERT_EQUAL(http(port, "POST", "/abort", "X-Bise-Action: 1", NULL), 200);
	CU_ASSERT_EQUAL(atomic_load(&aborts), 1);
	CU_ASSERT_EQUAL(http(port, "GET", "/nothing", NULL, NULL), 404);
	/* The run's files only once it has ended, and nothing outside its directory ever. */
	CU_ASSERT_EQUAL(http(port, "GET", "/run/events.jsonl", NULL, NULL), 404);
	live_finish(l, NULL);
}

static void test_buttons_need_the_token(void)
{
	struct live *l = start("s3cret-token", true);
	int port;

	CU_ASSERT_FATAL(l != NULL);
	port = live_port(l);
	atomic_store(&aborts, 0);
	live_waiting(l, true);
	CU_ASSERT_EQUAL(http(port, "POST", "/next", "X-Bise-Action: 1", NULL), 403);
	CU_ASSERT_EQUAL(http(port, "POST", "/next", "Authorization: Bearer s3cret-toke", NULL), 403);
	CU_ASSERT_EQUAL(http(port, "POST", "/next", "Authorization: Bearer s3cret-token2", NULL), 403);
	CU_ASSERT_EQUAL(http(port, "POST", "/abort", "Authorization: Bearer wrong", NULL), 403);
	CU_ASSERT_EQUAL(atomic_load(&aborts), 0);
	CU_ASSERT(!live_take_next(l));
	CU_ASSERT_EQUAL(http(port, "POST", "/next", "Authorization: Bearer s3cret-token", NULL), 200);
	CU_ASSERT(live_take_next(l));
	/* Watching needs no token. */
	CU_ASSERT_EQUAL(http(port, "GET", "/", NULL, NULL), 200);
	CU_ASSERT_EQUAL(http(port, "GET", "/metrics", NULL, NULL), 200);
	live_finish(l, NULL);
}

static void test_listen_addresses(void)
{
	bool lo;
	char why[256];

	CU_ASSERT(live_listen_check("8080", false, &lo, why, sizeof(why)) && lo);
	CU_ASSERT(live_listen_check("127.0.0.2:8080", false, &lo, why, sizeof(why)) && lo);
	CU_ASSERT(live_listen_check("localhost:8080", false, &lo, why, sizeof(why)) && lo);
	CU_ASSERT(live_listen_check("[::1]:8080", false, &lo, why, sizeof(why)) && lo);
	CU_ASSERT(!live_listen_check("0.0.0.0:8080", false, &lo, why, sizeof(why)));
	CU_ASSERT(strstr(why, "BISE_SERVE_TOKEN") != NULL);
	CU_ASSERT(live_listen_check("0.0.0.0:8080", true, &lo, why, sizeof(why)) && !lo);
	CU_ASSERT(!live_listen_check("[::]:8080", false, &lo, why, sizeof(why)));
	CU_ASSERT(!live_listen_check("127.0.0.1:70000", false, &lo, why, sizeof(why)));
	CU_ASSERT(!live_listen_check("example.org:80", true, &lo, why, sizeof(why)));
	CU_ASSERT(!live_listen_check("127.0.0.1:", false, &lo, why, sizeof(why)));
	CU_ASSERT(!live_listen_check("[::1]8080", false, &lo, why, sizeof(why)));
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("live view", suite_init, suite_clean);

	CU_add_test(s, "/metrics says what the log says, and promtool accepts it", test_metrics_from_the_log);
	CU_add_test(s, "fed a line at a time, the log's reader gives what a whole load gives", test_feed_equals_load);
	CU_add_test(s, "the run's files: under its directory only, then the server goes", test_run_files);
	CU_add_test(s, "on loopback the buttons need the header", test_buttons_on_loopback);
	CU_add_test(s, "with a token the buttons need it", test_buttons_need_the_token);
	CU_add_test(s, "listen addresses: loopback, or a token", test_listen_addresses);
}
