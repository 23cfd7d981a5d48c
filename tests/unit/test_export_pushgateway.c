/*
 * test_export_pushgateway.c - bise run --pushgateway against a real prometheus-pushgateway
 * (Debian's), started here on 127.0.0.1 on a free port with persistence off and killed by
 * its PID at the end. The bise binary runs two scenario files on the null backend (one
 * failing an SLO, one with two variants whose '@' names travel base64-encoded); then
 * every group, series and value the Pushgateway holds (GET /api/v1/metrics) is checked
 * against each scenario's summary.json. A push to a port nobody listens on is a warning
 * naming the URL without its password, and the exit code stays the verdict's.
 * Without the Pushgateway it fails under CI=true and is skipped (with a message) elsewhere.
 */
#include "report.h"
#include "run_setup.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PUSHGATEWAY "/usr/bin/prometheus-pushgateway"
#define PASSWORD "pgw-pa55word"

extern char **environ;

static char workdir[256];
static pid_t gateway = -1;
static int port;

static const char plain_text[] =
	"name: pgw-plain\n"
	"cluster:\n"
	"  restart_delay: 300ms\n"
	"steps:\n"
	"  - at: 100ms\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - wait: healthy\n"
	"    timeout: 5s\n"
	"slo:\n"
	"  recovery_time: \"< 100ms\"\n" /* ~300 ms: fails */
	"  p95(recovery_time): \"< 10s\"\n"
	"  data_loss: \"== 0\"\n"; /* the null backend reads nothing back: a skip */

static const char variants_text[] =
	"name: pgw-var\n"
	"cluster:\n"
	"  restart_delay: 200ms\n"
	"steps:\n"
	"  - at: 100ms\n"
	"    fault: pod-kill\n"
	"    target: replica\n"
	"  - wait: healthy\n"
	"    timeout: 5s\n"
	"slo:\n"
	"  recovery_time: \"< 5s\"\n"
	"variants:\n"
	"  - name: etcd-v3\n"
	"    cluster: {dcs_api: v3}\n"
	"  - name: etcd-v2\n"
	"    cluster: {dcs_api: v2}\n";

/* A port free on the loopback a moment ago. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		p = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

/* argv run with stdout and stderr into log; its pid, -1 on failure. */
static pid_t spawn(char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

/* The exit code of argv run to its end. */
static int run(char *const argv[], const char *log)
{
	pid_t pid = spawn(argv, log);
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct buf {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	b->data = xrealloc(b->data, b->len + size * n + 1);
	memcpy(b->data + b->len, p, size * n);
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

/* GET http://127.0.0.1:port<path>: the HTTP status, the body into *body (caller frees). */
static long get(const char *path, char **body)
{
	char url[256];
	struct buf b = { NULL, 0 };
	long status = 0;
	CURL *h = curl_easy_init();

	str_format(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	*body = b.data;
	return status;
}

static int suite_init(void)
{
	char listen[64], log[512];
	/* An empty --persistence.file keeps nothing on disk (Debian's default is a file in /var/lib). */
	char *argv[] = { PUSHGATEWAY, listen, "--persistence.file=", "--log.level=warn", NULL };

	if (run_setup_workdir_make(workdir, sizeof(workdir), "bise-test-pgw") != 0)
		return 1;
	if (access(PUSHGATEWAY, X_OK) != 0)
		return 0; /* each test skips or fails (CI) */
	port = free_port();
	str_format(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	str_format(log, sizeof(log), "%s/pushgateway.log", workdir);
	gateway = spawn(argv, log);
	if (gateway < 0)
		return 1;
	for (int i = 0; i < 100; i++) {
		char *body = NULL;
		long status = get("/-/ready", &body);

		free(body);
		if (status == 200)
			return 0;
		usleep(100 * 1000);
	}
	return 1;
}

static int suite_clean(void)
{
	if (gateway > 0) {
		kill(gateway, SIGTERM);
		waitpid(gateway, NULL, 0);
	}
	return run_setup_workdir_remove(workdir);
}

static bool have_pushgateway(void)
{
	const char *ci = getenv("CI");

	if (gateway > 0)
		return true;
	if (ci && strcmp(ci, "true") == 0) {
		CU_FAIL("prometheus-pushgateway is not installed (scripts/install-deps installs it)");
	} else {
		fprintf(stderr, "\nskipped: %s not installed (run scripts/install-deps)\n", PUSHGATEWAY);
	}
	return false;
}

/* bise run --backend null ... --pushgateway url <workdir>/scenarios into out; the exit code. */
static int bise_run(const char *url, const char *out, const char *log)
{
	const char *bise = getenv("BISE_BINARY");
	char dir[512], state[512];
	char *argv[] = { (char *)bise, "run", "--backend", "null", "--state-dir", state, "--out", (char *)out,
			 "--repeat", "2", "--seed", "7", "--pushgateway", (char *)url, dir, NULL };

	CU_ASSERT_FATAL(bise != NULL);
	str_format(dir, sizeof(dir), "%s/scenarios", workdir);
	str_format(state, sizeof(state), "%s/state", workdir);
	return run(argv, log);
}

/* The group of the Pushgateway's answer whose scenario label is name. */
static json_object *group_of(json_object *data, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(data); i++) {
		json_object *g = json_object_array_get_idx(data, i), *labels, *v;

		if (json_object_object_get_ex(g, "labels", &labels) &&
		    json_object_object_get_ex(labels, "scenario", &v) && strcmp(json_object_get_string(v), name) == 0)
			return g;
	}
	return NULL;
}

/* The value of family name's sample whose label key is value (key NULL: the only sample). */
static double value_of(json_object *group, const char *name, const char *key, const char *value)
{
	json_object *fam, *metrics, *labels, *v;

	if (!json_object_object_get_ex(group, name, &fam) || !json_object_object_get_ex(fam, "metrics", &metrics))
		return NAN;
	for (size_t i = 0; i < json_object_array_length(metrics); i++) {
		json_object *m = json_object_array_get_idx(metrics, i);

		json_object_object_get_ex(m, "labels", &labels);
		if (key && (!json_object_object_get_ex(labels, key, &v) || strcmp(json_object_get_string(v), value) != 0))
			continue;
		if (!json_object_object_get_ex(m, "value", &v))
			return NAN;
		/* The Pushgateway gives values as text ("+Inf" included). */
		return strtod(json_object_get_string(v), NULL);
	}
	return NAN;
}

/* The label of family name's first sample. */
static const char *label_of(json_object *group, const char *name, const char *key)
{
	json_object *fam, *metrics, *labels, *v;

	if (!json_object_object_get_ex(group, name, &fam) || !json_object_object_get_ex(fam, "metrics", &metrics) ||
	    json_object_array_length(metrics) < 1)
		return NULL;
	json_object_object_get_ex(json_object_array_get_idx(metrics, 0), "labels", &labels);
	return json_object_object_get_ex(labels, key, &v) ? json_object_get_string(v) : NULL;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* What the SLO (slo, threshold) says over the scenario in summary.json: 1, 0, or -1 (skip). */
static int expected_slo(json_object *summary, const char *slo, const char *threshold)
{
	json_object *trials, *stats, *verdicts;
	int k = -1;

	json_object_object_get_ex(summary, "trials_stats", &stats);
	json_object_object_get_ex(stats, "verdicts", &verdicts);
	for (size_t i = 0; i < json_object_array_length(verdicts); i++) {
		json_object *v = json_object_array_get_idx(verdicts, i);

		if (strcmp(str_of(v, "slo"), slo) == 0 && strcmp(str_of(v, "threshold"), threshold) == 0)
			return strcmp(str_of(v, "verdict"), "pass") == 0 ? 1 :
			       strcmp(str_of(v, "verdict"), "fail") == 0 ? 0 : -1;
	}
	json_object_object_get_ex(summary, "trials", &trials);
	for (size_t t = 0; t < json_object_array_length(trials); t++) {
		json_object *tv;

		json_object_object_get_ex(json_object_array_get_idx(trials, t), "verdicts", &tv);
		for (size_t i = 0; i < json_object_array_length(tv); i++) {
			json_object *v = json_object_array_get_idx(tv, i);

			if (strcmp(str_of(v, "slo"), slo) != 0 || strcmp(str_of(v, "threshold"), threshold) != 0)
				continue;
			if (strcmp(str_of(v, "verdict"), "fail") == 0)
				k = 0;
			else if (strcmp(str_of(v, "verdict"), "pass") == 0 && k != 0)
				k = 1;
		}
	}
	return k;
}

/* Every series of the group against the scenario's summary.json; how many metrics checked. */
static int check_group(json_object *data, const char *out, const char *name, int nslos, const char *const *slos)
{
	char path[600], family[96];
	json_object *g = group_of(data, name), *summary, *stats, *trials;
	int checked = 0;

	CU_ASSERT_FATAL(g != NULL);
	str_format(path, sizeof(path), "%s/%s/summary.json", out, name);
	summary = json_object_from_file(path);
	CU_ASSERT_FATAL(summary != NULL);
	json_object_object_get_ex(summary, "trials", &trials);
	CU_ASSERT_EQUAL(value_of(g, "bise_trials", NULL, NULL), (double)json_object_array_length(trials));
	CU_ASSERT_EQUAL(value_of(g, "bise_scenario_pass", NULL, NULL), strcmp(str_of(summary, "overall"), "pass") == 0);
	CU_ASSERT_EQUAL(value_of(g, "bise_run_info", NULL, NULL), 1);
	CU_ASSERT_STRING_EQUAL(label_of(g, "bise_run_info", "run_id"), str_of(summary, "run_id"));
	CU_ASSERT_STRING_EQUAL(label_of(g, "bise_run_info", "version"), str_of(summary, "bise"));
	CU_ASSERT_STRING_EQUAL(label_of(g, "bise_run_info", "backend"), "null");
	CU_ASSERT_STRING_EQUAL(label_of(g, "bise_run_info", "job"), "bise");
	/* Every metric observed: its four statistics, in seconds where summary.json has µs. */
	json_object_object_get_ex(summary, "trials_stats", &stats);
	for (int id = 0; id < METRIC_COUNT; id++) {
		static const char *const st[] = { "min", "p50", "p95", "max" };
		json_object *s, *v;
		enum slo_unit unit = SLO_UNIT_COUNT;
		double factor;

		if (!json_object_object_get_ex(stats, metric_name((enum metric_id)id), &s) ||
		    !json_object_object_get_ex(s, "observed", &v) || json_object_get_int(v) == 0) {
			report_prometheus_name((enum metric_id)id, family, sizeof(family));
			CU_ASSERT(isnan(value_of(g, family, "stat", "max")));
			continue;
		}
		slo_metric_known(metric_name((enum metric_id)id), &unit);
		factor = unit == SLO_UNIT_DURATION ? 1e6 : unit == SLO_UNIT_PERCENT ? 100 : 1;
		CU_ASSERT_FATAL(report_prometheus_name((enum metric_id)id, family, sizeof(family)));
		for (int k = 0; k < 4; k++) {
			double want, got = value_of(g, family, "stat", st[k]) * factor;

			CU_ASSERT_FATAL(json_object_object_get_ex(s, st[k], &v));
			want = json_object_get_double(v);
			CU_ASSERT(fabs(got - want) <= 1e-6 * fmax(1, fabs(want)));
		}
		checked++;
	}
	/* Each SLO as summary.json's verdicts say over the scenario; a skip is not pushed. */
	for (int i = 0; i < nslos; i++) {
		int want = expected_slo(summary, slos[2 * i], slos[2 * i + 1]);
		json_object *fam, *metrics;
		double got = NAN;

		json_object_object_get_ex(g, "bise_slo_pass", &fam);
		json_object_object_get_ex(fam, "metrics", &metrics);
		for (size_t k = 0; metrics && k < json_object_array_length(metrics); k++) {
			json_object *m = json_object_array_get_idx(metrics, k), *labels, *v;

			json_object_object_get_ex(m, "labels", &labels);
			if (strcmp(str_of(labels, "slo"), slos[2 * i]) == 0 &&
			    strcmp(str_of(labels, "threshold"), slos[2 * i + 1]) == 0 &&
			    json_object_object_get_ex(m, "value", &v))
				got = strtod(json_object_get_string(v), NULL);
		}
		if (want < 0) {
			CU_ASSERT(isnan(got));
		} else {
			CU_ASSERT_EQUAL(got, want);
		}
	}
	json_object_put(summary);
	return checked;
}

static void test_push_and_read_back(void)
{
	static const char *const plain_slos[] = { "recovery_time", "< 100ms", "p95(recovery_time)", "< 10s",
						  "data_loss", "== 0" };
	static const char *const var_slos[] = { "recovery_time", "< 5s" };
	char url[128], out[512], log[512], path[512], *body = NULL;
	struct scenario sc;
	json_object *root, *data = NULL;
	int status;

	if (!have_pushgateway())
		return;
	str_format(path, sizeof(path), "%s/scenarios", workdir);
	CU_ASSERT_FATAL(mkdir_p(path, 0755));
	CU_ASSERT_FATAL(run_setup_scenario(path, "pgw-plain.yaml", plain_text, out, sizeof(out), &sc));
	scenario_free(&sc);
	CU_ASSERT_FATAL(run_setup_scenario(path, "pgw-var.yaml", variants_text, out, sizeof(out), &sc));
	scenario_free(&sc);
	str_format(url, sizeof(url), "http://127.0.0.1:%d/", port);
	str_format(out, sizeof(out), "%s/run", workdir);
	str_format(log, sizeof(log), "%s/bise.log", workdir);
	status = bise_run(url, out, log);
	/* pgw-plain fails an SLO: exit code 1, pushed all the same. */
	CU_ASSERT_EQUAL(status, 1);

	CU_ASSERT_EQUAL_FATAL(get("/api/v1/metrics", &body), 200);
	root = json_tokener_parse(body);
	CU_ASSERT_FATAL(root && json_object_object_get_ex(root, "data", &data));
	/* One group per scenario run: the two variants under their '@' names. */
	CU_ASSERT_EQUAL(json_object_array_length(data), 3);
	if (json_object_array_length(data) != 3)
		fprintf(stderr, "\ngroups: %s\n", body);
	CU_ASSERT(check_group(data, out, "pgw-plain", 3, plain_slos) >= 1);
	CU_ASSERT_EQUAL(value_of(group_of(data, "pgw-plain"), "bise_scenario_pass", NULL, NULL), 0);
	CU_ASSERT(check_group(data, out, "pgw-var@etcd-v3", 1, var_slos) >= 1);
	CU_ASSERT(check_group(data, out, "pgw-var@etcd-v2", 1, var_slos) >= 1);
	json_object_put(root);
	free(body);
	/* The Prometheus text itself, as a scraper of the Pushgateway reads it. */
	CU_ASSERT_EQUAL(get("/metrics", &body), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "bise_recovery_time_seconds{"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "scenario=\"pgw-var@etcd-v2\""));
	free(body);
}

/* Nobody listens: a warning without the password, and the exit code is the verdict's. */
static void test_push_failure_is_a_warning(void)
{
	char url[128], out[512], log[512];
	size_t len;
	char *text;
	int status;

	if (!have_pushgateway())
		return;
	/* The scenario files of the first test; the closed port is one just freed. */
	str_format(url, sizeof(url), "http://ci:" PASSWORD "@127.0.0.1:%d", free_port());
	str_format(out, sizeof(out), "%s/run-unreachable", workdir);
	str_format(log, sizeof(log), "%s/bise-unreachable.log", workdir);
	status = bise_run(url, out, log);
	CU_ASSERT_EQUAL(status, 1); /* pgw-plain's failed SLO, nothing more */
	text = file_read_all(log, &len);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "were not pushed: http://***@127.0.0.1:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "3 of 3 scenarios not pushed"));
	CU_ASSERT_PTR_NULL(strstr(text, PASSWORD));
	free(text);
}

/* A URL bise cannot send to is refused when the command line is read: exit code 2, redacted. */
static void test_bad_urls_are_usage_errors(void)
{
	const char *bise = getenv("BISE_BINARY");
	char log[512], *text;
	size_t len;
	char *ftp[] = { (char *)bise, "run", "--backend", "null", "--pushgateway", "ftp://ci:" PASSWORD "@h/", "x.yaml", NULL };
	char *query[] = { (char *)bise, "run", "--backend", "null", "--grafana", "http://h:3000/?orgId=1", "x.yaml", NULL };
	char *dash[] = { (char *)bise, "run", "--backend", "null", "--grafana-dashboard", "abc", "x.yaml", NULL };

	CU_ASSERT_FATAL(bise != NULL);
	str_format(log, sizeof(log), "%s/usage.log", workdir);
	CU_ASSERT_EQUAL(run(ftp, log), 2);
	text = file_read_all(log, &len);
	CU_ASSERT(text && strstr(text, "--pushgateway: ftp://***@h/: not an http:// or https:// URL"));
	CU_ASSERT(text && !strstr(text, PASSWORD));
	free(text);
	CU_ASSERT_EQUAL(run(query, log), 2);
	CU_ASSERT_EQUAL(run(dash, log), 2);
	text = file_read_all(log, &len);
	CU_ASSERT(text && strstr(text, "--grafana-dashboard needs --grafana URL"));
	free(text);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("export-pushgateway", suite_init, suite_clean);

	CU_add_test(s, "pushed series match summary.json", test_push_and_read_back);
	CU_add_test(s, "an unreachable Pushgateway is a warning", test_push_failure_is_a_warning);
	CU_add_test(s, "bad URLs are usage errors", test_bad_urls_are_usage_errors);
}
