/*
 * test_reports.c - the report writers on the real run-pod-kill fixture, compared with
 * golden files (BISE_UPDATE_GOLDEN=1 rewrites them), junit.xml validated against a JUnit
 * XSD with xmllint, and the escaping of every text a writer copies.
 */
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

static char tmp[64];
static const char *src;

static int suite_init(void)
{
	log_set_level(LOG_ERROR);
	src = getenv("BISE_SOURCE_DIR");
	str_copy(tmp, sizeof(tmp), "/tmp/bise-test-reports-XXXXXX");
	return src && mkdtemp(tmp) ? 0 : 1;
}

static int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int suite_clean(void)
{
	char cmd[200];

	str_format(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return run_cmd(cmd) == 0 ? 0 : 1;
}

/* A result as the runner builds it: metrics and verdicts judged from each trial's log. */
struct fixture {
	struct scenario sc;
	struct scenario_result r;
	struct trial_result trials[2];
};

static void add_slo(struct scenario *sc, const char *metric, const char *text)
{
	char why[256];

	CU_ASSERT_FATAL(slo_parse(metric, text, &sc->slos[sc->nslos], why, sizeof(why)));
	sc->nslos++;
}

/* The trial judged as `bise run` and `bise report` judge it, and the scenario across trials. */
static void judge(struct fixture *f, struct trial_result *t, int trial, const char *events)
{
	struct trial_log log;

	t->trial = trial;
	str_copy(t->events_path, sizeof(t->events_path), events);
	CU_ASSERT_FATAL(judge_load_trial(t, true, &log));
	t->completed = log.end_status[0] != '\0';
	if (!t->completed)
		str_copy(t->error, sizeof(t->error), "interrupted by a signal <SIGINT> & \"reverted\"");
}

static void fixture_free(struct fixture *f)
{
	for (int i = 0; i < f->r.ntrials; i++) {
		timeseries_free(f->trials[i].timeseries);
		free(f->trials[i].timeseries);
	}
	scenario_free(&f->sc);
}

static void load_fixture(struct fixture *f, const char *scenario, const char *out_dir)
{
	char path[4096], err[4096];

	memset(f, 0, sizeof(*f));
	str_format(path, sizeof(path), "%s/tests/unit/data/run-pod-kill/%s/scenario.yaml", src, scenario);
	CU_ASSERT_FATAL(scenario_load(path, &f->sc, err, sizeof(err)));
	f->r.scenario = &f->sc;
	str_copy(f->r.dir, sizeof(f->r.dir), out_dir);
	str_copy(f->r.run_id, sizeof(f->r.run_id), "20261124-191124-25117");
	str_copy(f->r.backend, sizeof(f->r.backend), "local");
	str_copy(f->r.versions, sizeof(f->r.versions), "PostgreSQL 15.20, Patroni 3.0.2, etcd 3.4.23");
	str_copy(f->r.host, sizeof(f->r.host), "vm");
	f->r.seed = 562303266994551858ULL;
	f->r.provision_seconds = 6.888124;
	f->r.trials = f->trials;
	f->r.overall = VERDICT_PASS;
}

static void add_trial(struct fixture *f, const char *events)
{
	judge(f, &f->trials[f->r.ntrials], f->r.ntrials + 1, events);
	f->r.ntrials++;
	judge_scenario(&f->r);
}

static void fixture_events(const char *scenario, char *path, size_t len)
{
	str_format(path, len, "%s/tests/unit/data/run-pod-kill/%s/trial-1/events.jsonl", src, scenario);
}

/* The fixture's log cut at 25 s, as a run interrupted during recovery leaves it. */
static void interrupted_log(char *path, size_t len)
{
	char in[4096], cmd[8400];

	fixture_events("primary-pod-kill", in, sizeof(in));
	str_format(path, len, "%s/interrupted.jsonl", tmp);
	str_format(cmd, sizeof(cmd), "awk -F'[:,]' '$2 < 25' '%s' > '%s'", in, path);
	CU_ASSERT_EQUAL_FATAL(run_cmd(cmd), 0);
}

/* Compare dir/name with golden/prefix-name; rewrite the golden with BISE_UPDATE_GOLDEN=1. */
static void check_golden(const char *dir, const char *name, const char *prefix)
{
	char got_path[4200], want_path[4200];
	char *got, *want;
	size_t got_len, want_len;

	str_format(got_path, sizeof(got_path), "%s/%s", dir, name);
	str_format(want_path, sizeof(want_path), "%s/tests/unit/golden/%s-%s", src, prefix, name);
	got = file_read_all(got_path, &got_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if (getenv("BISE_UPDATE_GOLDEN")) {
		CU_ASSERT(file_write_atomic(want_path, got, got_len));
		free(got);
		return;
	}
	want = file_read_all(want_path, &want_len);
	if (!want) {
		fprintf(stderr, "\nno golden %s (BISE_UPDATE_GOLDEN=1 writes it)\n", want_path);
		CU_FAIL("golden file missing");
		free(got);
		return;
	}
	if (got_len != want_len || memcmp(got, want, got_len) != 0) {
		size_t i = 0, line = 1;

		while (i < got_len && i < want_len && got[i] == want[i])
			line += got[i++] == '\n';
		fprintf(stderr, "\n%s differs from %s from line %zu (diff them; BISE_UPDATE_GOLDEN=1 accepts)\n",
			got_path, want_path, line);
		CU_FAIL("output differs from the golden file");
	}
	free(got);
	free(want);
}

static const char *const scenario_files[] = { "metrics.csv", "timeseries.csv", "junit.xml", "summary.md",
					      "report.html", NULL };

static void write_and_check(struct fixture *f, const char *prefix)
{
	CU_ASSERT_FATAL(mkdir_p(f->r.dir, 0755));
	CU_ASSERT_FATAL(reports_write_all(&f->r));
	for (int i = 0; scenario_files[i]; i++)
		check_golden(f->r.dir, scenario_files[i], prefix);
}

static void test_golden_pod_kill(void)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char dir[200], events[4096];

	str_format(dir, sizeof(dir), "%s/pod-kill", tmp);
	load_fixture(f, "primary-pod-kill", dir);
	fixture_events("primary-pod-kill", events, sizeof(events));
	add_trial(f, events);
	CU_ASSERT_EQUAL(f->r.overall, VERDICT_PASS);
	write_and_check(f, "pod-kill");
	fixture_free(f);
	free(f);
}

/* A number under trials[0].metrics.<group>.<key> of dir/summary.json; NAN when null or absent. */
static double summary_number(const char *dir, const char *group, const char *key)
{
	char path[300];
	json_object *root, *trials, *g, *v;
	double out = NAN;

	str_format(path, sizeof(path), "%s/summary.json", dir);
	root = json_object_from_file(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	if (json_object_object_get_ex(root, "trials", &trials) && json_object_array_length(trials) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(trials, 0), "metrics", &g) &&
	    json_object_object_get_ex(g, group, &g) && json_object_object_get_ex(g, key, &v) && v)
		out = json_object_get_double(v);
	json_object_put(root);
	return out;
}

/*
 * resolution_ms is failover_time's uncertainty, the sum of its edges' (15.761 + 337.559 ms
 * in the stock pod-kill log, checked by hand from its writes: the last ack before the
 * window was sent at 10.531669 s, the first write sent after it completed went out at
 * 10.547430 s and broke); the spacing of the writes
 * has its own name. Without an outage that ended, no uncertainty is claimed.
 */
static void test_summary_resolution(void)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const struct metrics *m;
	char dir[200], events[4096];
	FILE *mem;
	char *text = NULL;
	size_t len = 0;

	str_format(dir, sizeof(dir), "%s/resolution", tmp);
	load_fixture(f, "primary-pod-kill", dir);
	fixture_events("primary-pod-kill", events, sizeof(events));
	add_trial(f, events);
	m = &f->trials[0].metrics;
	CU_ASSERT_EQUAL(m->failover_start_uncertainty_us, 15761);
	CU_ASSERT_EQUAL(m->failover_end_uncertainty_us, 337559);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	CU_ASSERT_FATAL(reports_write_all(&f->r));
	CU_ASSERT_DOUBLE_EQUAL(summary_number(dir, "writes", "resolution_ms"), 353.320, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(summary_number(dir, "writes", "write_spacing_ms"), m->write_spacing_us / 1e3, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(summary_number(dir, "failover", "failover_start_uncertainty_ms"), 15.761, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(summary_number(dir, "failover", "failover_end_uncertainty_ms"), 337.559, 1e-9);
	/* The console table: the window with its uncertainty rounded up. */
	mem = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
	report_print_table(&f->r, mem);
	fclose(mem);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "writes unavailable for 10.54s ± 354ms\n"));
	free(text);

	f->trials[0].metrics.outage_closed = false;
	CU_ASSERT_FATAL(reports_write_all(&f->r));
	CU_ASSERT(isnan(summary_number(dir, "writes", "resolution_ms")));
	CU_ASSERT(isnan(summary_number(dir, "failover", "failover_end_uncertainty_ms")));
	CU_ASSERT(!isnan(summary_number(dir, "writes", "write_spacing_ms")));
	fixture_free(f);
	free(f);
}

/* The contents of dir/name, malloc'd ("" when unreadable). */
static char *slurp(const char *dir, const char *name)
{
	char path[300], *text;

	str_format(path, sizeof(path), "%s/%s", dir, name);
	text = file_read_all(path, NULL);
	return text ? text : xstrdup("");
}

/*
 * Each fault's timing in summary.json, summary.md and report.html. The stock log predates
 * effect times (no table then: nothing to show); with them, one row per fault.
 */
static void test_fault_timing(void)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct fault_timing_metric *x;
	char dir[200], events[4096], *md, *html;
	json_object *root, *v;

	str_format(dir, sizeof(dir), "%s/fault-timing", tmp);
	load_fixture(f, "primary-pod-kill", dir);
	fixture_events("primary-pod-kill", events, sizeof(events));
	add_trial(f, events);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	CU_ASSERT_FATAL(reports_write_all(&f->r));
	md = slurp(dir, "summary.md");
	CU_ASSERT_PTR_NULL(strstr(md, "Fault timing"));
	free(md);
	/* As a log of this bise gives it: a pod kill restarted 20 s after the pod was gone. */
	CU_ASSERT_EQUAL_FATAL(f->trials[0].metrics.nfault_timings, 1);
	x = &f->trials[0].metrics.fault_timings[0];
	str_copy(x->apply_by, sizeof(x->apply_by), "cgroup-empty");
	str_copy(x->revert_by, sizeof(x->revert_by), "process-started");
	x->apply_latency_us = 4321;
	x->apply_late_known = true;
	x->apply_late_us = 1234;
	x->requested_us = 20000000;
	x->effective_us = 20002500;
	x->duration_known = true;
	x->duration_error_us = 2500;
	x->revert_latency_us = 800;
	CU_ASSERT_FATAL(reports_write_all(&f->r));
	md = slurp(dir, "summary.md");
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "#### Fault timing"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| 1 | pod-kill on lucerne (1) | 20000.000 | 20002.500 | 2.500 | 4.321 | 0.800 |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "cgroup-empty / process-started"));
	html = slurp(dir, "report.html");
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<h2>Fault timing</h2>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<td>20002.500</td>"));
	str_format(events, sizeof(events), "%s/summary.json", dir);
	root = json_object_from_file(events);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT(json_object_object_get_ex(root, "trials", &v));
	v = json_object_array_get_idx(v, 0);
	CU_ASSERT(v && json_object_object_get_ex(v, "metrics", &v) && json_object_object_get_ex(v, "faults", &v));
	v = v ? json_object_array_get_idx(v, 0) : NULL;
	CU_ASSERT(v && json_object_object_get_ex(v, "duration_error_ms", &v) &&
		  json_object_get_double(v) == 2.5);
	json_object_put(root);
	free(md);
	free(html);
	fixture_free(f);
	free(f);
}

/* An uncertainty is a bound: rounded up to the digits shown, never down. */
static void test_failover_format(void)
{
	static const struct {
		int64_t dur_us, unc_us;
		const char *want;
	} cases[] = {
		{ 10540000, 7001, "10.54s ± 8ms" },
		{ 10540000, 8000, "10.54s ± 8ms" },
		{ 10540000, 640, "10.54s ± 640us" },
		{ 10540000, 999001, "10.54s ± 1.00s" },
		{ 2000000, 1200001, "2.00s ± 1.21s" },
		{ 2000000, 0, "2.00s ± 0s" },
	};
	struct metrics m;
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.wuw_dur_us = cases[i].dur_us;
		m.failover_uncertainty_us = cases[i].unc_us;
		report_failover_format(&m, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].want);
	}
}

/* A failed SLO, skips, a statistic over trials and an interrupted second trial. */
static void test_golden_mixed(void)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char dir[200], events[4096], cut[200];

	str_format(dir, sizeof(dir), "%s/mixed", tmp);
	load_fixture(f, "primary-pod-kill", dir);
	add_slo(&f->sc, "failover_time", "< 5s");
	add_slo(&f->sc, "max_lag_bytes", "< 16MiB");
	add_slo(&f->sc, "p95(failover_time)", "< 30s");
	fixture_events("primary-pod-kill", events, sizeof(events));
	interrupted_log(cut, sizeof(cut));
	add_trial(f, events);
	add_trial(f, cut);
	CU_ASSERT_EQUAL(f->r.overall, VERDICT_FAIL);
	CU_ASSERT_EQUAL(f->trials[0].verdicts[3].kind, VERDICT_FAIL);
	CU_ASSERT_EQUAL(f->trials[0].verdicts[4].kind, VERDICT_SKIP);
	CU_ASSERT_EQUAL(f->trials[1].verdicts[1].kind, VERDICT_SKIP); /* data_loss: no read-back */
	write_and_check(f, "mixed");
	fixture_free(f);
	free(f);
}

static void test_golden_index(void)
{
	struct fixture *f = xcalloc(2, sizeof(*f));
	struct scenario_result results[2];
	char dir[200], events[4096];
	static const char *const names[] = { "primary-pod-kill", "primary-pod-restart" };

	str_format(dir, sizeof(dir), "%s/suite", tmp);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	for (int i = 0; i < 2; i++) {
		char sdir[300];

		str_format(sdir, sizeof(sdir), "%s/%s", dir, names[i]);
		load_fixture(&f[i], names[i], sdir);
		fixture_events(names[i], events, sizeof(events));
		add_trial(&f[i], events);
		results[i] = f[i].r;
	}
	CU_ASSERT_FATAL(reports_write_index(results, 2, dir));
	check_golden(dir, "index.html", "suite");
	check_golden(dir, "summary.md", "suite");
	for (int i = 0; i < 2; i++)
		fixture_free(&f[i]);
	free(f);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The sum of the data-n="..." counts of the lost-write marks in html. */
static int64_t lost_marks(const char *html, int *marks)
{
	int64_t sum = 0;

	*marks = 0;
	for (const char *p = strstr(html, "<rect class=\"lost\" data-node=\"gland\" data-n=\""); p;
	     p = strstr(p + 1, "<rect class=\"lost\" data-node=\"gland\" data-n=\"")) {
		sum += strtoll(strstr(p, "data-n=\"") + 8, NULL, 10);
		(*marks)++;
	}
	return sum;
}

/*
 * The real etcd v3 frozen-primary run (local backend): the page and the Markdown name the
 * rollback and the second outage, the lost writes are drawn on gland's lane and add up to
 * the loss, lag reads in MiB, and nothing the local backend cannot measure is printed.
 */
static void test_explains_failure(void)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char dir[200], path[4096], err[4096];
	char *html, *md;
	size_t len;
	int marks;

	str_format(dir, sizeof(dir), "%s/frozen", tmp);
	str_format(path, sizeof(path), "%s/tests/unit/data/run-frozen-v3/frozen-primary-v3/scenario.yaml", src);
	CU_ASSERT_FATAL(scenario_load(path, &f->sc, err, sizeof(err)));
	f->r.scenario = &f->sc;
	str_copy(f->r.dir, sizeof(f->r.dir), dir);
	str_copy(f->r.backend, sizeof(f->r.backend), "local");
	f->r.trials = f->trials;
	str_format(path, sizeof(path), "%s/tests/unit/data/run-frozen-v3/frozen-primary-v3/trial-1/events.jsonl", src);
	add_trial(f, path);
	CU_ASSERT_EQUAL(f->trials[0].metrics.lost, 3163);
	CU_ASSERT_FATAL(mkdir_p(dir, 0755));
	CU_ASSERT_FATAL(reports_write_all(&f->r));
	str_format(path, sizeof(path), "%s/report.html", dir);
	html = file_read_all(path, &len);
	str_format(path, sizeof(path), "%s/summary.md", dir);
	md = file_read_all(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(html);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "rollback: geneva primary again on older timeline 1 (after 2) at 36.45s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "second outage: writes unavailable again for 6.20s from 31.01s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "3163 acknowledged writes lost</span> (3163 acknowledged by gland)"));
	CU_ASSERT_EQUAL(lost_marks(html, &marks), 3163);
	CU_ASSERT(marks > 30);
	CU_ASSERT_EQUAL(count(html, "<rect class=\"lost\""), marks); /* gland's only */
	CU_ASSERT_EQUAL(count(html, ">lost on gland</text>"), 1);
	CU_ASSERT_EQUAL(count(html, "<rect class=\"phase promotion\""), 1);
	CU_ASSERT_EQUAL(count(html, "<rect class=\"phase routing\""), 1);
	CU_ASSERT_EQUAL(count(html, ">detection + promotion 12.38s · routing 91us</text>"), 1);
	CU_ASSERT_EQUAL(count(html, "<line class=\"healthy\""), 1);
	CU_ASSERT_EQUAL(count(html, "<line class=\"rollback\""), 1);
	CU_ASSERT_EQUAL(count(html, "<line class=\"outage\""), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "text-anchor=\"end\">KiB</text>")); /* max 161 KiB */
	CU_ASSERT_PTR_NULL(strstr(html, "n/a"));
	CU_ASSERT_PTR_NULL(strstr(html, "e+0"));
	CU_ASSERT_PTR_NULL(strstr(html, "src=\"http"));
	CU_ASSERT_PTR_NULL(strstr(html, "href=\"http"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "**rollback**: geneva primary again on older timeline 1 (after 2) at 36.45s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "**second outage** from 31.01s, writes unavailable again for 6.20s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "**3163** of 12623 acknowledged writes lost (3163 acknowledged by gland)"));
	CU_ASSERT_PTR_NULL(strstr(md, "n/a"));
	CU_ASSERT_DOUBLE_EQUAL(summary_number(dir, "failover", "outages"), 2, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(summary_number(dir, "recovery", "healthy_at_s"), 49.128146, 1e-9);
	CU_ASSERT(isnan(summary_number(dir, "failover", "detection_s"))); /* no control-plane sign logged */
	CU_ASSERT_EQUAL(count(html, "primary label"), 0); /* the local backend has no label */
	free(html);

	/* Where the platform labels pods (Kubernetes), the label's move is marked too. */
	f->trials[0].metrics.label_switch_seen = f->trials[0].metrics.api_roles_seen = true;
	f->trials[0].metrics.t_label_switch_us = 24000000;
	str_copy(f->trials[0].metrics.label_new_primary, EVENT_NODE_LEN, "gland");
	CU_ASSERT_FATAL(reports_write_all(&f->r));
	str_format(path, sizeof(path), "%s/report.html", dir);
	html = file_read_all(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(html);
	CU_ASSERT_EQUAL(count(html, "<line class=\"label-switch\" x1=\"24\""), 1);
	CU_ASSERT_EQUAL(count(html, "data-t=\"24\" data-dx=\"4\" fill=\"#6a1b9a\">primary label on gland</text>"), 1);
	free(html);
	free(md);
	fixture_free(f);
	free(f);
}

static int xmllint_schema(const char *xml)
{
	char cmd[8400];

	str_format(cmd, sizeof(cmd), "xmllint --noout --schema '%s/tests/unit/data/junit.xsd' '%s' 2>/dev/null",
		   src, xml);
	return run_cmd(cmd);
}

/* Validated by a real parser against the schema, not by string comparison. */
static void test_junit_schema(void)
{
	char path[300], bad[300];
	FILE *f;

	if (run_cmd("command -v xmllint >/dev/null") != 0) {
		CU_FAIL("xmllint not installed (scripts/install-deps installs libxml2-utils)");
		return;
	}
	str_format(path, sizeof(path), "%s/pod-kill/junit.xml", tmp);
	CU_ASSERT_EQUAL(xmllint_schema(path), 0);
	str_format(path, sizeof(path), "%s/mixed/junit.xml", tmp);
	CU_ASSERT_EQUAL(xmllint_schema(path), 0);
	/* The schema has teeth: a failure without its message is rejected. */
	str_format(bad, sizeof(bad), "%s/bad-junit.xml", tmp);
	f = fopen(bad, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">"
	      "<testcase classname=\"c\" name=\"n\"><failure/></testcase></testsuite></testsuites>\n", f);
	fclose(f);
	CU_ASSERT_NOT_EQUAL(xmllint_schema(bad), 0);
}

/* The counts and the escaped trial error of the mixed case, read with a parser too. */
static void test_junit_content(void)
{
	char path[300], cmd[8400];

	str_format(path, sizeof(path), "%s/mixed/junit.xml", tmp);
	str_format(cmd, sizeof(cmd),
		   "test \"$(xmllint --xpath 'string(/testsuites/testsuite/@failures)' '%s')\" = 3 && "
		   "test \"$(xmllint --xpath 'count(//testcase/skipped)' '%s')\" = 4 && "
		   "xmllint --xpath 'string(//testcase[contains(@name,\"< 5s\")]/failure/@message)' '%s' | "
		   "grep -qx 'measured 10.54s, threshold < 5s' && "
		   "xmllint --xpath 'string(//failure[@type=\"trial\"]/@message)' '%s' | "
		   "grep -qF 'interrupted by a signal <SIGINT> & \"reverted\"'",
		   path, path, path, path);
	CU_ASSERT_EQUAL(run_cmd(cmd), 0);
}

static char *capture(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, s);
	fclose(f);
	return buf;
}

static void test_escaping(void)
{
	char *x = capture(report_xml_text, "a<b>&\"c'\x01\td");
	char *m = capture(report_md_text, "a|b\n<i>*_`\\");

	CU_ASSERT_STRING_EQUAL(x, "a&lt;b&gt;&amp;&quot;c&#39;?\td");
	CU_ASSERT_STRING_EQUAL(m, "a\\|b &lt;i&gt;\\*\\_\\`\\\\");
	free(x);
	free(m);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("reports", suite_init, suite_clean);

	CU_add_test(s, "escaping", test_escaping);
	CU_add_test(s, "a failure explained: real etcd v3 frozen-primary run", test_explains_failure);
	CU_add_test(s, "golden: pod kill, one trial", test_golden_pod_kill);
	CU_add_test(s, "golden: fail, skips, statistic, interrupted trial", test_golden_mixed);
	CU_add_test(s, "golden: suite index", test_golden_index);
	CU_add_test(s, "failover_time with its uncertainty", test_failover_format);
	CU_add_test(s, "each fault's timing in the reports", test_fault_timing);
	CU_add_test(s, "summary.json: resolution is failover_time's uncertainty", test_summary_resolution);
	CU_add_test(s, "junit.xml valid against the JUnit XSD", test_junit_schema);
	CU_add_test(s, "junit.xml content read back with XPath", test_junit_content);
}
