/*
 * test_export.c - what bise sends out, without a server: the Prometheus text of a judged
 * real run (checked by `promtool check metrics`, values against the judge's statistics),
 * the Pushgateway group URL and its base64 escaping, URL checks and redaction, the
 * Grafana annotation body and the conversion of log times to epoch milliseconds.
 * Without promtool it fails under CI=true and is skipped (with a message) elsewhere.
 */
#include "dryrun.h"
#include "export.h"
#include "judge.h"
#include "report.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROMTOOL "/usr/bin/promtool"

static const char *src;
static struct scenario sc;
static struct trial_result trial;
static struct scenario_result res;
static char *text; /* report_prometheus of res */
static size_t text_len;

/* The real local-backend pod-kill run of tests/unit/data, judged as bise run judges it. */
static int suite_init(void)
{
	char path[4096], err[4096];
	FILE *mem;

	log_set_level(LOG_QUIET);
	src = getenv("BISE_SOURCE_DIR");
	if (!src)
		return 1;
	str_format(path, sizeof(path), "%s/tests/unit/data/run-pod-kill/primary-pod-kill/scenario.yaml", src);
	if (!scenario_load(path, &sc, err, sizeof(err)))
		return 1;
	trial.trial = 1;
	trial.completed = true;
	str_format(trial.events_path, sizeof(trial.events_path),
		   "%s/tests/unit/data/run-pod-kill/primary-pod-kill/trial-1/events.jsonl", src);
	if (!judge_load_trial(&trial, true, NULL))
		return 1;
	res.scenario = &sc;
	res.trials = &trial;
	res.ntrials = 1;
	res.seed = 42;
	str_copy(res.run_id, sizeof(res.run_id), "20261124-191124-25117");
	str_copy(res.backend, sizeof(res.backend), "local");
	judge_scenario(&res);
	mem = open_memstream(&text, &text_len);
	if (!mem || !report_prometheus(&res, mem))
		return 1;
	return fclose(mem) == 0 ? 0 : 1;
}

static int suite_clean(void)
{
	timeseries_free(trial.timeseries);
	free(trial.timeseries);
	free(text);
	scenario_free(&sc);
	return 0;
}

static bool have_promtool(void)
{
	const char *ci = getenv("CI");

	if (access(PROMTOOL, X_OK) == 0)
		return true;
	if (ci && strcmp(ci, "true") == 0) {
		CU_FAIL("promtool is not installed (scripts/install-deps installs prometheus)");
	} else {
		fprintf(stderr, "\nskipped: %s not installed (run scripts/install-deps)\n", PROMTOOL);
	}
	return false;
}

/* The value of the sample line "name" (with its labels) in text; NAN when absent. */
static double sample_of(const char *name)
{
	char needle[256];
	const char *p;

	str_format(needle, sizeof(needle), "\n%s ", name);
	p = strstr(text, needle);
	return p ? strtod(p + strlen(needle), NULL) : NAN;
}

static void test_promtool_accepts(void)
{
	char path[] = "/tmp/bise-test-prom-XXXXXX", cmd[256], out[4096] = "";
	int fd = mkstemp(path), status;
	size_t n;
	FILE *p;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, text_len) == (ssize_t)text_len);
	close(fd);
	if (have_promtool()) {
		/* Lint problems are printed and make a non-zero exit. */
		str_format(cmd, sizeof(cmd), PROMTOOL " check metrics < %s 2>&1", path);
		p = popen(cmd, "r");
		CU_ASSERT_FATAL(p != NULL);
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		status = pclose(p);
		if (status != 0 || out[0])
			fprintf(stderr, "\npromtool: %s\n%s\n", out, text);
		CU_ASSERT_EQUAL(status, 0);
		CU_ASSERT_STRING_EQUAL(out, "");
	}
	unlink(path);
}

static void test_values_from_the_judge(void)
{
	const struct trial_stats *fo = &res.stats[METRIC_FAILOVER_TIME];
	char line[256];

	CU_ASSERT_PTR_NOT_NULL(strstr(text, "bise_run_info{run_id=\"20261124-191124-25117\",version=\"" BISE_VERSION
					    "\",backend=\"local\",seed=\"42\"} 1\n"));
	CU_ASSERT_DOUBLE_EQUAL(sample_of("bise_trials"), 1, 0);
	CU_ASSERT_DOUBLE_EQUAL(sample_of("bise_scenario_pass"), res.overall == VERDICT_PASS, 0);
	/* Durations in seconds: the judge's microseconds / 1e6. */
	CU_ASSERT_FATAL(fo->observed == 1);
	CU_ASSERT_DOUBLE_EQUAL(sample_of("bise_failover_time_seconds{stat=\"p50\"}"), fo->p50 / 1e6, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(sample_of("bise_failover_time_seconds{stat=\"max\"}"), fo->max / 1e6, 1e-9);
	/* Bytes keep their name (max_lag_bytes is not max_lag_bytes_bytes). */
	if (res.stats[METRIC_MAX_LAG_BYTES].observed)
		CU_ASSERT_DOUBLE_EQUAL(sample_of("bise_max_lag_bytes{stat=\"max\"}"),
				       res.stats[METRIC_MAX_LAG_BYTES].max, 0.5);
	CU_ASSERT_PTR_NULL(strstr(text, "bytes_bytes"));
	/* Every SLO a trial could judge, as 1 or 0 with its threshold. */
	for (int i = 0; i < sc.nslos; i++) {
		str_format(line, sizeof(line), "bise_slo_pass{slo=\"%s\",threshold=\"%s\"}", sc.slos[i].metric,
			   sc.slos[i].text);
		if (res.slo_verdicts[i] == VERDICT_SKIP) {
			CU_ASSERT_PTR_NULL(strstr(text, line));
		} else {
			CU_ASSERT_DOUBLE_EQUAL(sample_of(line), res.slo_verdicts[i] == VERDICT_PASS, 0);
		}
	}
	/* Not observed in this run: no family at all. */
	CU_ASSERT_EQUAL(res.stats[METRIC_SPLIT_BRAIN_WRITES].observed > 0,
			strstr(text, "bise_split_brain_writes{") != NULL);
}

static void test_metric_names(void)
{
	char a[96], b[96];

	for (int i = 0; i < METRIC_COUNT; i++) {
		CU_ASSERT_FATAL(report_prometheus_name((enum metric_id)i, a, sizeof(a)));
		CU_ASSERT(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(a));
		for (int k = 0; k < i; k++) {
			CU_ASSERT_FATAL(report_prometheus_name((enum metric_id)k, b, sizeof(b)));
			CU_ASSERT(strcmp(a, b) != 0);
		}
	}
	report_prometheus_name(METRIC_FAILOVER_TIME, a, sizeof(a));
	CU_ASSERT_STRING_EQUAL(a, "bise_failover_time_seconds");
	report_prometheus_name(METRIC_RPO_BYTES, a, sizeof(a));
	CU_ASSERT_STRING_EQUAL(a, "bise_rpo_bytes");
	report_prometheus_name(METRIC_DATA_LOSS, a, sizeof(a));
	CU_ASSERT_STRING_EQUAL(a, "bise_data_loss");
}

/* A scenario name with quotes, a backslash and a newline stays one valid label value. */
static void test_label_escaping(void)
{
	struct scenario_result r = res;
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	str_copy(r.run_id, sizeof(r.run_id), "a\"b\\c\nd");
	CU_ASSERT_FATAL(report_prometheus(&r, mem));
	fclose(mem);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "run_id=\"a\\\"b\\\\c\\nd\""));
	free(out);
}

static void test_group_url(void)
{
	char url[512];

	CU_ASSERT(pushgateway_group_url("http://127.0.0.1:9091", "primary-pod-kill", url, sizeof(url)));
	CU_ASSERT_STRING_EQUAL(url, "http://127.0.0.1:9091/metrics/job/bise/scenario/primary-pod-kill");
	/* A trailing slash is not doubled; a path prefix (a proxy) is kept. */
	CU_ASSERT(pushgateway_group_url("https://pgw.example/prom/", "a_b.c", url, sizeof(url)));
	CU_ASSERT_STRING_EQUAL(url, "https://pgw.example/prom/metrics/job/bise/scenario/a_b.c");
	/* A variant's '@' and a slash: base64url, padded. */
	CU_ASSERT(pushgateway_group_url("http://h:1", "kill@sync", url, sizeof(url)));
	CU_ASSERT_STRING_EQUAL(url, "http://h:1/metrics/job/bise/scenario@base64/a2lsbEBzeW5j");
	CU_ASSERT(pushgateway_group_url("http://h:1", "a/b?", url, sizeof(url)));
	CU_ASSERT_STRING_EQUAL(url, "http://h:1/metrics/job/bise/scenario@base64/YS9iPw==");
	CU_ASSERT(pushgateway_group_url("http://h:1", "\xff\xfe", url, sizeof(url)));
	CU_ASSERT_STRING_EQUAL(url, "http://h:1/metrics/job/bise/scenario@base64/__4=");
}

static void test_urls(void)
{
	char why[512], shown[256];

	CU_ASSERT(export_url_check("http://127.0.0.1:9091", why, sizeof(why)));
	CU_ASSERT(export_url_check("https://grafana.example.com/grafana", why, sizeof(why)));
	CU_ASSERT(export_url_check("http://user:pw@[::1]:3000/", why, sizeof(why)));
	CU_ASSERT_FALSE(export_url_check("ftp://host/", why, sizeof(why)));
	CU_ASSERT_FALSE(export_url_check("file:///etc/passwd", why, sizeof(why)));
	CU_ASSERT_FALSE(export_url_check("127.0.0.1:9091", why, sizeof(why)));
	CU_ASSERT_FALSE(export_url_check("http://", why, sizeof(why)));
	CU_ASSERT_FALSE(export_url_check("http://h/x y", why, sizeof(why)));
	CU_ASSERT_FALSE(export_url_check("http://h/\r\nX-Evil: 1", why, sizeof(why)));
	CU_ASSERT_FALSE(export_url_check("http://h/?q=1", why, sizeof(why)));
	/* The reason shows the URL without its credentials, whatever is wrong with it. */
	CU_ASSERT_FALSE(export_url_check("gopher://admin:s3cr@t@h/", why, sizeof(why)));
	CU_ASSERT_PTR_NULL(strstr(why, "s3cr"));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "gopher://***@h/"));
	export_url_redact("https://u:p@w@h:3000/x@y", shown, sizeof(shown));
	CU_ASSERT_STRING_EQUAL(shown, "https://***@h:3000/x@y");
	export_url_redact("http://h:3000/a@b", shown, sizeof(shown));
	CU_ASSERT_STRING_EQUAL(shown, "http://h:3000/a@b");
}

/* Log t (µs since the log's origin) + the wall clock at the origin = epoch milliseconds. */
static void test_epoch_ms(void)
{
	/* 2026-12-02T01:22:12.308431Z at t = 0; a fault applied 0.103649 s later. */
	CU_ASSERT_EQUAL(grafana_epoch_ms(1796174532308431LL, 103649, false), 1796174532412LL);
	CU_ASSERT_EQUAL(grafana_epoch_ms(1796174532308431LL, 103649, true), 1796174532413LL);
	/* On a millisecond: no rounding either way. */
	CU_ASSERT_EQUAL(grafana_epoch_ms(1796174532000000LL, 1000, true), 1796174532001LL);
	CU_ASSERT_EQUAL(grafana_epoch_ms(1796174532000000LL, 1000, false), 1796174532001LL);
	/* Out of range (a forged log): 0, no overflow. */
	CU_ASSERT_EQUAL(grafana_epoch_ms(INT64_MAX - 5, 9000000000000000000LL, true), 0);
	CU_ASSERT_EQUAL(grafana_epoch_ms(1796174532000000LL, -1796174533000000LL, false), 0);
}

static bool has_tag(json_object *tags, const char *tag)
{
	for (size_t i = 0; i < json_object_array_length(tags); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(tags, i)), tag) == 0)
			return true;
	return false;
}

static void test_annotation_body(void)
{
	struct trial_result t = trial;
	const struct ts_fault *f;
	json_object *o, *v, *tags;
	char tag[128];

	CU_ASSERT_FATAL(trial.timeseries && trial.timeseries->nfaults >= 1);
	f = &trial.timeseries->faults[0];
	/* The fixture predates unix_us: no date, no annotation. */
	t.wall_origin_us = 0;
	CU_ASSERT_PTR_NULL(grafana_annotation(&res, &t, f, NULL));
	t.wall_origin_us = 1796174532308431LL;
	o = grafana_annotation(&res, &t, f, "abc-123");
	CU_ASSERT_FATAL(o != NULL);
	CU_ASSERT(json_object_object_get_ex(o, "time", &v) && json_object_is_type(v, json_type_int) &&
		  json_object_get_int64(v) == grafana_epoch_ms(t.wall_origin_us, f->start_us, false));
	CU_ASSERT(json_object_object_get_ex(o, "timeEnd", &v) && json_object_is_type(v, json_type_int) &&
		  json_object_get_int64(v) == grafana_epoch_ms(t.wall_origin_us, f->end_us, true));
	CU_ASSERT(json_object_object_get_ex(o, "dashboardUID", &v) && strcmp(json_object_get_string(v), "abc-123") == 0);
	CU_ASSERT_FALSE(json_object_object_get_ex(o, "panelId", &v));
	CU_ASSERT(json_object_object_get_ex(o, "text", &v) && json_object_is_type(v, json_type_string));
	CU_ASSERT_FATAL(json_object_object_get_ex(o, "tags", &tags) && json_object_is_type(tags, json_type_array));
	CU_ASSERT(has_tag(tags, "bise"));
	CU_ASSERT(has_tag(tags, "run:20261124-191124-25117"));
	str_format(tag, sizeof(tag), "scenario:%s", sc.name);
	CU_ASSERT(has_tag(tags, tag));
	CU_ASSERT(has_tag(tags, "trial:1"));
	str_format(tag, sizeof(tag), "fault:%s", f->fault);
	CU_ASSERT(has_tag(tags, tag));
	/* The local backend names members by zone: the member's zone is tagged. */
	str_format(tag, sizeof(tag), "zone:%s", f->node);
	CU_ASSERT(has_tag(tags, tag));
	json_object_put(o);
	/* Without a dashboard: organisation-wide, no dashboardUID key. */
	o = grafana_annotation(&res, &t, f, NULL);
	CU_ASSERT_FALSE(json_object_object_get_ex(o, "dashboardUID", &v));
	json_object_put(o);
}

/* A dry run says where results would go, credentials redacted, and sends nothing. */
static void test_dry_run_says_where(void)
{
	struct scenario *list[1] = { &sc };
	struct run_options o;
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	run_options_defaults(&o);
	o.backend = "null";
	o.state_root = "/nonexistent-bise-state";
	o.pushgateway = "http://ci:hunter2@127.0.0.1:1";
	o.grafana = "https://bot:hunter3@grafana.example/g";
	o.grafana_dashboard = "abc-123";
	CU_ASSERT_EQUAL(dryrun_run(list, 1, &o, mem), 0);
	fclose(mem);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Pushgateway at http://***@127.0.0.1:1 (not in a dry run)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Grafana at https://***@grafana.example/g, dashboard abc-123"));
	CU_ASSERT_PTR_NULL(strstr(out, "hunter"));
	free(out);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("export", suite_init, suite_clean);

	CU_add_test(s, "promtool check metrics accepts the text", test_promtool_accepts);
	CU_add_test(s, "values are the judge's, in base units", test_values_from_the_judge);
	CU_add_test(s, "metric names: bise_ + catalogue + unit, unique", test_metric_names);
	CU_add_test(s, "label values escaped", test_label_escaping);
	CU_add_test(s, "Pushgateway group URL and base64 values", test_group_url);
	CU_add_test(s, "URL checks and redaction", test_urls);
	CU_add_test(s, "log time to epoch milliseconds", test_epoch_ms);
	CU_add_test(s, "Grafana annotation body", test_annotation_body);
	CU_add_test(s, "a dry run names the URLs, redacted", test_dry_run_says_where);
}
