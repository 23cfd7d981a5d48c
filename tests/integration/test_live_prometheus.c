/*
 * test_live_prometheus.c - a real Prometheus (Debian's prometheus) scrapes `bise run
 * --serve`: both on loopback on free ports, Prometheus in its own temporary directory with
 * a 1 s scrape interval; a null-backend run on the real clock keeps a pod-kill in force
 * long enough to be scraped, then the test asks Prometheus's HTTP API (/api/v1/query) for
 * the series and their values. Prometheus is stopped by its PID. Without the prometheus
 * binary it fails under CI and is a reported skip elsewhere; it needs no root.
 */
#include "common.h"

#include "util.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROMETHEUS "/usr/bin/prometheus"

static const char scenario[] =
	"name: live-scrape\n"
	"steps:\n"
	"  - at: 1s\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"    restart_delay: 25s\n"
	"  - wait: 26s\n";

/* A port nobody listens on now (the kernel's pick for port 0). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static pid_t spawn(char *const argv[], const char *log_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
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

/*
 * The value of the first series Prometheus returns for an instant query, or NAN; labels
 * (when not NULL) gets that series' labels as JSON.
 */
static double query(int port, const char *promql, char *labels, size_t len)
{
	CURL *c = curl_easy_init();
	struct body b = { NULL, 0 };
	struct json_object *o = NULL, *data, *result, *first, *value, *metric;
	char url[512], *q = curl_easy_escape(c, promql, 0);
	double v = NAN;

	str_format(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query?query=%s", port, q);
	curl_free(q);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (curl_easy_perform(c) == CURLE_OK && b.p)
		o = json_tokener_parse(b.p);
	if (o && json_object_object_get_ex(o, "data", &data) && json_object_object_get_ex(data, "result", &result) &&
	    json_object_array_length(result) > 0 && (first = json_object_array_get_idx(result, 0)) &&
	    json_object_object_get_ex(first, "value", &value) && json_object_array_length(value) == 2) {
		v = strtod(json_object_get_string(json_object_array_get_idx(value, 1)), NULL);
		if (labels && json_object_object_get_ex(first, "metric", &metric))
			str_copy(labels, len, json_object_to_json_string_ext(metric, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(o);
	free(b.p);
	curl_easy_cleanup(c);
	return v;
}

static void stop(pid_t *pid, int sig)
{
	if (*pid <= 0)
		return;
	kill(*pid, sig);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
}

static void test_prometheus_scrapes_a_run(void)
{
	struct itest_dirs d;
	char path[512], cfg[512], tsdb[512], text[1024], web[64], labels[512] = "", plog[512], blog[512];
	char serve[64];
	int bise_port = free_port(), prom_port = free_port(), status = -1;
	pid_t bise = -1, prom = -1;
	double v = NAN;

	if (!itest_binary()) {
		itest_cannot_run("BISE_BINARY is not set");
		return;
	}
	if (access(PROMETHEUS, X_OK) != 0) {
		itest_cannot_run(PROMETHEUS " is not installed (the prometheus package; scripts/install-deps)");
		return;
	}
	CU_ASSERT_FATAL(bise_port > 0 && prom_port > 0 && bise_port != prom_port);
	CU_ASSERT_FATAL(itest_dirs_make(&d, "bise-itest-prom"));
	str_format(path, sizeof(path), "%s/live-scrape.yaml", d.work);
	CU_ASSERT_FATAL(file_write_atomic(path, scenario, strlen(scenario)));
	str_format(cfg, sizeof(cfg), "%s/prometheus.yml", d.work);
	str_format(text, sizeof(text),
		   "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
		   "scrape_configs:\n  - job_name: bise\n    static_configs:\n"
		   "      - targets: ['127.0.0.1:%d']\n", bise_port);
	CU_ASSERT_FATAL(file_write_atomic(cfg, text, strlen(text)));
	str_format(tsdb, sizeof(tsdb), "--storage.tsdb.path=%s/tsdb", d.work);
	str_format(web, sizeof(web), "--web.listen-address=127.0.0.1:%d", prom_port);
	str_format(cfg, sizeof(cfg), "--config.file=%s/prometheus.yml", d.work);
	str_format(plog, sizeof(plog), "%s/prometheus.log", d.work);
	{
		char *argv[] = { PROMETHEUS, cfg, tsdb, web, "--log.level=warn", NULL };

		prom = spawn(argv, plog);
	}
	str_format(serve, sizeof(serve), "127.0.0.1:%d", bise_port);
	str_format(blog, sizeof(blog), "%s/bise.log", d.work);
	{
		const char *args[] = { "run", "--backend", "null", "--state-dir", d.state, "--out", d.out,
				       "--serve", serve, path, NULL };

		bise = itest_spawn_bise(args, blog);
	}
	CU_ASSERT_FATAL(prom > 0 && bise > 0);
	/* Scraped once the fault is in force: Prometheus takes a few seconds to start. */
	for (int i = 0; i < 200 && !(v == 1); i++) {
		sleep_us(100000);
		v = query(prom_port, "bise_faults_in_force", NULL, 0);
	}
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(query(prom_port, "up{job=\"bise\"}", NULL, 0), 1);
	v = query(prom_port, "bise_fault_remaining_seconds{fault=\"pod-kill\",target=\"primary\"}", labels,
		  sizeof(labels));
	fprintf(stderr, "\nremaining %.3f s, series %s\n", v, labels);
	CU_ASSERT(v > 0 && v <= 25);
	CU_ASSERT(strstr(labels, "\"node\":\"geneva\"") != NULL); /* the null backend's primary */
	CU_ASSERT(strstr(labels, "\"step\":\"1\"") != NULL);
	CU_ASSERT_EQUAL(query(prom_port, "bise_run_info{scenario=\"live-scrape\",phase=\"fault\"}", NULL, 0), 1);
	CU_ASSERT_EQUAL(query(prom_port, "bise_trial", NULL, 0), 1);
	CU_ASSERT_EQUAL(query(prom_port, "bise_step", NULL, 0), 1);
	CU_ASSERT_EQUAL(query(prom_port, "bise_steps", NULL, 0), 2);
	/* The null backend runs no workload: the counter is there, at 0. */
	CU_ASSERT_EQUAL(query(prom_port, "bise_writes_total{outcome=\"ok\"}", NULL, 0), 0);
	/* The run goes on to its end and exits 0; then Prometheus is stopped by its PID. */
	while (waitpid(bise, &status, 0) < 0 && errno == EINTR)
		;
	bise = -1;
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	stop(&prom, SIGTERM);
	stop(&bise, SIGKILL);
	if (CU_get_number_of_failures() == 0) {
		CU_ASSERT_EQUAL(itest_dirs_remove(&d), 0);
	} else {
		fprintf(stderr, "logs kept in %s\n", d.work);
	}
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("live metrics scraped by Prometheus", NULL, NULL);

	CU_add_test(s, "a real Prometheus scrapes bise run --serve", test_prometheus_scrapes_a_run);
}
