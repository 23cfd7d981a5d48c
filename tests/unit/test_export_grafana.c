/*
 * test_export_grafana.c - bise run --grafana against a recording server built from
 * Grafana's documented annotation API (grafana_recorder.c; Grafana itself cannot be
 * installed here). A null-backend run with two trials posts one region annotation per
 * fault, in the documented shape, with the bearer token from GRAFANA_TOKEN, its times
 * the fault's apply and revert events dated by the log's own wall clock (read here from
 * the raw log, not through bise's reader). The token and the URL's password appear in no
 * file of the run directory and in no message; a refused token is a warning and leaves
 * the verdict and the exit code alone.
 */
#include "grafana_recorder.h"
#include "run_setup.h"
#include "runner.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "glsa_test-TOKEN-9f8e7d6c5b4a"
#define PASSWORD "pa55word-in-url"

static char workdir[256];

static int suite_init(void)
{
	return run_setup_workdir_make(workdir, sizeof(workdir), "bise-test-grafana");
}

static int suite_clean(void)
{
	return run_setup_workdir_remove(workdir);
}

static const char scenario_text[] =
	"name: grafana-faults\n"
	"cluster:\n"
	"  restart_delay: 300ms\n"
	"steps:\n"
	"  - at: 100ms\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - at: 150ms\n"
	"    fault: pod-kill\n"
	"    target: replica\n"
	"  - wait: healthy\n"
	"    timeout: 5s\n"
	"slo:\n"
	"  recovery_time: \"< 5s\"\n";

/* Run the scenario into out with --grafana url, stderr into errpath; the exit code. */
static int run_to(const char *out, const char *url, const char *errpath, int64_t *before_ms, int64_t *after_ms)
{
	char path[512];
	struct scenario sc;
	struct scenario *list[1] = { &sc };
	struct run_options opt;
	int saved, fd, status;

	CU_ASSERT_FATAL(run_setup_scenario(workdir, "grafana-faults.yaml", scenario_text, path, sizeof(path), &sc));
	run_setup_options(&opt, out, workdir);
	opt.repeat = 2;
	opt.grafana = url;
	log_set_level(LOG_INFO);
	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	*before_ms = wall_now_us() / 1000;
	status = runner_run(list, 1, &opt);
	*after_ms = wall_now_us() / 1000 + 1;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_set_level(LOG_ERROR);
	scenario_free(&sc);
	return status;
}

/* One fault of the raw log: apply and the next revert/restart of the same step and node. */
struct raw_fault {
	int trial;
	int step;
	char fault[32], node[32];
	double apply_ms, end_ms; /* exact epoch milliseconds */
	bool matched;
};

/* Read trial N's log line by line with json-c: unix_us and t of run_start date every t. */
static int raw_faults(const char *out, int trial, struct raw_fault *f, int max)
{
	char path[600], *line = NULL;
	size_t cap = 0;
	double origin_ms = NAN;
	int n = 0;
	FILE *in;

	str_format(path, sizeof(path), "%s/grafana-faults/trial-%d/events.jsonl", out, trial);
	in = fopen(path, "r");
	CU_ASSERT_FATAL(in != NULL);
	while (getline(&line, &cap, in) > 0) {
		json_object *o = json_tokener_parse(line), *v;
		const char *ev, *action;
		double t;

		if (!o)
			continue;
		json_object_object_get_ex(o, "ev", &v);
		ev = json_object_get_string(v);
		json_object_object_get_ex(o, "t", &v);
		t = json_object_get_double(v);
		if (strcmp(ev, "run_start") == 0 && json_object_object_get_ex(o, "unix_us", &v))
			origin_ms = (double)json_object_get_int64(v) / 1e3 - t * 1e3;
		if (strcmp(ev, "fault") == 0) {
			const char *fault, *node;
			int step;

			json_object_object_get_ex(o, "action", &v);
			action = json_object_get_string(v);
			json_object_object_get_ex(o, "fault", &v);
			fault = json_object_get_string(v);
			json_object_object_get_ex(o, "node", &v);
			node = json_object_get_string(v);
			json_object_object_get_ex(o, "step", &v);
			step = json_object_get_int(v);
			if (strcmp(action, "apply") == 0 && n < max) {
				memset(&f[n], 0, sizeof(f[n]));
				f[n].trial = trial;
				f[n].step = step;
				str_copy(f[n].fault, sizeof(f[n].fault), fault);
				str_copy(f[n].node, sizeof(f[n].node), node);
				f[n].apply_ms = origin_ms + t * 1e3;
				f[n].end_ms = NAN;
				n++;
			} else if (strcmp(action, "revert") == 0 || strcmp(action, "restart") == 0) {
				for (int i = 0; i < n; i++)
					if (isnan(f[i].end_ms) && f[i].step == step && strcmp(f[i].node, node) == 0) {
						f[i].end_ms = origin_ms + t * 1e3;
						break;
					}
			}
		}
		json_object_put(o);
	}
	free(line);
	fclose(in);
	CU_ASSERT(!isnan(origin_ms));
	return n;
}

static const char *tag_value(json_object *tags, const char *prefix)
{
	for (size_t i = 0; i < json_object_array_length(tags); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(tags, i));

		if (strncmp(s, prefix, strlen(prefix)) == 0)
			return s + strlen(prefix);
	}
	return NULL;
}

static const char *needle;
static int needle_hits;

static int grep_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	size_t len;
	char *data;

	(void)sb;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	data = file_read_all(path, &len);
	if (data && memmem(data, len, needle, strlen(needle))) {
		fprintf(stderr, "\n%s holds \"%s\"\n", path, needle);
		needle_hits++;
	}
	free(data);
	return 0;
}

/* How many files under dir hold s. */
static int grep_tree(const char *dir, const char *s)
{
	needle = s;
	needle_hits = 0;
	nftw(dir, grep_file, 16, FTW_PHYS);
	return needle_hits;
}

static bool file_has(const char *path, const char *s)
{
	size_t len;
	char *data = file_read_all(path, &len);
	bool has = data && memmem(data, len, s, strlen(s));

	free(data);
	return has;
}

static void test_one_annotation_per_fault(void)
{
	struct grafana_recorder g;
	struct raw_fault faults[16];
	char out[512], url[256], errpath[512];
	int64_t before, after;
	int n = 0, status;

	CU_ASSERT_FATAL(recorder_start(&g, TOKEN));
	setenv("GRAFANA_TOKEN", TOKEN, 1);
	str_format(url, sizeof(url), "http://admin:" PASSWORD "@127.0.0.1:%d/", g.port);
	str_format(out, sizeof(out), "%s/run", workdir);
	str_format(errpath, sizeof(errpath), "%s/stderr.txt", workdir);
	status = run_to(out, url, errpath, &before, &after);
	unsetenv("GRAFANA_TOKEN");
	CU_ASSERT_EQUAL(status, BISE_EXIT_OK);

	for (int trial = 1; trial <= 2; trial++)
		n += raw_faults(out, trial, faults + n, 16 - n);
	/* Two faults per trial, two trials: four annotations, each accepted. */
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL_FATAL(g.n, n);
	for (int i = 0; i < g.n; i++) {
		struct recorded *rq = &g.req[i];
		json_object *o = json_tokener_parse(rq->body), *v, *tags;
		int64_t time, end;
		const char *trial, *fault, *node;
		struct raw_fault *f = NULL;

		CU_ASSERT_EQUAL(rq->status, 200);
		if (rq->status != 200)
			fprintf(stderr, "\nrefused: %s\n%s\n", rq->why, rq->body);
		CU_ASSERT_STRING_EQUAL(rq->method, "POST");
		CU_ASSERT_STRING_EQUAL(rq->target, "/api/annotations");
		CU_ASSERT_STRING_EQUAL(rq->content_type, "application/json");
		CU_ASSERT_STRING_EQUAL(rq->authorization, "Bearer " TOKEN);
		CU_ASSERT_FATAL(o != NULL);
		CU_ASSERT_FALSE(json_object_object_get_ex(o, "dashboardUID", &v)); /* organisation-wide */
		json_object_object_get_ex(o, "time", &v);
		time = json_object_get_int64(v);
		json_object_object_get_ex(o, "timeEnd", &v);
		end = json_object_get_int64(v);
		CU_ASSERT_FATAL(json_object_object_get_ex(o, "tags", &tags));
		CU_ASSERT_PTR_NOT_NULL(tag_value(tags, "bise"));
		CU_ASSERT(tag_value(tags, "run:") && strncmp(tag_value(tags, "run:"), "2", 1) == 0);
		CU_ASSERT(tag_value(tags, "scenario:") && strcmp(tag_value(tags, "scenario:"), "grafana-faults") == 0);
		trial = tag_value(tags, "trial:");
		fault = tag_value(tags, "fault:");
		node = tag_value(tags, "node:");
		CU_ASSERT_FATAL(trial && fault && node);
		/* The null backend names its members by zone. */
		CU_ASSERT(tag_value(tags, "zone:") && strcmp(tag_value(tags, "zone:"), node) == 0);
		for (int k = 0; k < n; k++)
			if (!faults[k].matched && faults[k].trial == (int)strtol(trial, NULL, 10) &&
			    strcmp(faults[k].fault, fault) == 0 && strcmp(faults[k].node, node) == 0)
				f = &faults[k];
		CU_ASSERT_FATAL(f != NULL);
		f->matched = true;
		/* The region covers apply to revert, rounded outwards to the millisecond. */
		CU_ASSERT(time <= f->apply_ms && f->apply_ms < (double)time + 1);
		CU_ASSERT_FATAL(!isnan(f->end_ms));
		CU_ASSERT(end >= f->end_ms && (double)end < f->end_ms + 1);
		CU_ASSERT(time < end);
		/* Dates of this run: the wall clock, not the monotonic one. */
		CU_ASSERT(before <= time && end <= after);
		json_object_put(o);
	}
	/* The secret is in no file of the run and in no message; the password neither. */
	CU_ASSERT_EQUAL(grep_tree(out, TOKEN), 0);
	CU_ASSERT_EQUAL(grep_tree(out, PASSWORD), 0);
	CU_ASSERT_FALSE(file_has(errpath, TOKEN));
	CU_ASSERT_FALSE(file_has(errpath, PASSWORD));
	CU_ASSERT(file_has(errpath, "http://***@127.0.0.1"));
	recorder_stop(&g);
}

/* Grafana refuses the token: each fault is warned about, the verdict and exit code stand. */
static void test_refused_is_a_warning(void)
{
	struct grafana_recorder g;
	char out[512], url[256], errpath[512];
	int64_t before, after;
	int status;

	CU_ASSERT_FATAL(recorder_start(&g, "another-token"));
	setenv("GRAFANA_TOKEN", TOKEN, 1);
	str_format(url, sizeof(url), "http://admin:" PASSWORD "@127.0.0.1:%d", g.port);
	str_format(out, sizeof(out), "%s/run-refused", workdir);
	str_format(errpath, sizeof(errpath), "%s/stderr-refused.txt", workdir);
	status = run_to(out, url, errpath, &before, &after);
	unsetenv("GRAFANA_TOKEN");
	CU_ASSERT_EQUAL(status, BISE_EXIT_OK);
	CU_ASSERT_EQUAL(g.n, 4);
	for (int i = 0; i < g.n; i++)
		CU_ASSERT_EQUAL(g.req[i].status, 401);
	CU_ASSERT(file_has(errpath, "was not posted: http://***@127.0.0.1"));
	CU_ASSERT(file_has(errpath, "HTTP 401"));
	/* The server repeated the token in its answer: the warning shows *** instead. */
	CU_ASSERT(file_has(errpath, "Unauthorized: Bearer ***"));
	CU_ASSERT(file_has(errpath, "4 of 4 fault annotations not posted"));
	CU_ASSERT_FALSE(file_has(errpath, TOKEN));
	CU_ASSERT_FALSE(file_has(errpath, PASSWORD));
	CU_ASSERT_EQUAL(grep_tree(out, TOKEN), 0);
	recorder_stop(&g);
}

/* Nobody listens: one connection failure per trial, the rest not tried, all counted. */
static void test_unreachable(void)
{
	struct grafana_recorder g;
	char out[512], url[256], errpath[512];
	int64_t before, after;
	int port;

	/* A port that was just listening, now closed. */
	CU_ASSERT_FATAL(recorder_start(&g, TOKEN));
	port = g.port;
	recorder_stop(&g);
	str_format(url, sizeof(url), "http://admin:" PASSWORD "@127.0.0.1:%d", port);
	str_format(out, sizeof(out), "%s/run-unreachable", workdir);
	str_format(errpath, sizeof(errpath), "%s/stderr-unreachable.txt", workdir);
	CU_ASSERT_EQUAL(run_to(out, url, errpath, &before, &after), BISE_EXIT_OK);
	CU_ASSERT(file_has(errpath, "the 1 other annotations of trial 1 not tried"));
	CU_ASSERT(file_has(errpath, "the 1 other annotations of trial 2 not tried"));
	CU_ASSERT(file_has(errpath, "4 of 4 fault annotations not posted"));
	CU_ASSERT_FALSE(file_has(errpath, PASSWORD));
}

/* The recorder itself refuses what Grafana's documentation does not describe. */
static void test_recorder_checks_shape(void)
{
	char why[160];

	CU_ASSERT(recorder_check_body("{\"time\":1764640000000,\"timeEnd\":1764640000500,\"tags\":[\"a\"],\"text\":\"x\"}",
				      why, sizeof(why)));
	CU_ASSERT_FALSE(recorder_check_body("{\"time\":1764640000,\"timeEnd\":1764640001,\"tags\":[],\"text\":\"x\"}",
					    why, sizeof(why))); /* seconds */
	CU_ASSERT_FALSE(recorder_check_body("{\"time\":1764640000500,\"timeEnd\":1764640000500,\"tags\":[],\"text\":\"x\"}",
					    why, sizeof(why))); /* no region */
	CU_ASSERT_FALSE(recorder_check_body("{\"time\":1764640000000,\"timeEnd\":1764640000500,\"tags\":[1],\"text\":\"x\"}",
					    why, sizeof(why)));
	CU_ASSERT_FALSE(recorder_check_body("{\"time\":1764640000000,\"timeEnd\":1764640000500,\"tags\":[]}", why,
					    sizeof(why)));
	CU_ASSERT_FALSE(recorder_check_body("{\"time\":1764640000000,\"timeEnd\":1764640000500,\"tags\":[],\"text\":\"x\",\"dashboardId\":\"1\"}",
					    why, sizeof(why)));
	CU_ASSERT_FALSE(recorder_check_body("{\"time\":\"1764640000000\",\"timeEnd\":1764640000500,\"tags\":[],\"text\":\"x\"}",
					    why, sizeof(why)));
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("export-grafana", suite_init, suite_clean);

	CU_add_test(s, "the recorder checks the documented shape", test_recorder_checks_shape);
	CU_add_test(s, "one region annotation per fault, dated by the log", test_one_annotation_per_fault);
	CU_add_test(s, "a refused token is a warning", test_refused_is_a_warning);
	CU_add_test(s, "an unreachable Grafana costs one try per trial", test_unreachable);
}
