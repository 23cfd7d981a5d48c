/*
 * report_cmd.c - `bise report RUN_DIR`: the reports of a run rebuilt from what it saved.
 * Metrics and verdicts are recomputed from the event logs (the same pure functions the
 * runner uses); what only the run knew (versions, provisioning time, why a trial stopped)
 * comes from the old summary.json when there is one, else from the logs themselves.
 */
#include "report_cmd.h"
#include "runner.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TAIL_BYTES 8192 /* run_end is the last line; an interrupted log may end torn */

enum verdict_kind report_judge_trial(const struct scenario *sc, struct trial_result *t)
{
	struct events ev;
	enum verdict_kind overall = t->completed ? VERDICT_PASS : VERDICT_FAIL;

	memset(&ev, 0, sizeof(ev));
	memset(&t->metrics, 0, sizeof(t->metrics));
	t->nverdicts = 0;
	if (!events_load(t->events_path, &ev))
		return VERDICT_FAIL;
	metrics_compute(&ev, &t->metrics);
	events_free(&ev);
	for (int i = 0; i < sc->nslos; i++) {
		struct verdict *v = &t->verdicts[t->nverdicts++];

		slo_judge(&sc->slos[i], &t->metrics, v);
		if (v->kind == VERDICT_FAIL)
			overall = VERDICT_FAIL;
	}
	/* A scenario that waits for recovery fails when the cluster never recovered. */
	if (t->metrics.healthy_seen && !t->metrics.healthy_ok)
		overall = VERDICT_FAIL;
	return overall;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The first line of the log: run_start with the run id, backend, host and seed. */
static json_object *read_run_start(const char *events_path)
{
	FILE *f = fopen(events_path, "r");
	char *line = NULL;
	size_t cap = 0;
	json_object *o = NULL;

	if (!f)
		return NULL;
	if (getline(&line, &cap, f) > 0)
		o = json_tokener_parse(line);
	free(line);
	fclose(f);
	if (o && (!json_str(o, "ev") || strcmp(json_str(o, "ev"), "run_start") != 0)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* The status of the log's run_end ("completed", "aborted", "interrupted"); "" without one. */
static void read_run_end(const char *events_path, char *status, size_t len)
{
	FILE *f = fopen(events_path, "r");
	char buf[TAIL_BYTES + 1], *p, *save = NULL;
	size_t n;

	status[0] = '\0';
	if (!f)
		return;
	if (fseek(f, -TAIL_BYTES, SEEK_END) != 0)
		rewind(f);
	n = fread(buf, 1, TAIL_BYTES, f);
	fclose(f);
	buf[n] = '\0';
	for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		json_object *o;
		const char *ev, *st;

		if (!strstr(p, "\"run_end\""))
			continue;
		o = json_tokener_parse(p);
		ev = json_str(o, "ev");
		st = json_str(o, "status");
		if (ev && st && strcmp(ev, "run_end") == 0)
			str_copy(status, len, st);
		json_object_put(o);
	}
}

/* trial-N directories holding an events.jsonl, by N. */
static int list_trials(const char *dir, int **out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int *trials = NULL, n = 0;

	while (d && (de = readdir(d))) {
		char *end, path[4400];
		long v;

		if (strncmp(de->d_name, "trial-", 6) != 0)
			continue;
		errno = 0;
		v = strtol(de->d_name + 6, &end, 10);
		if (errno || end == de->d_name + 6 || *end || v < 1 || v > 100000)
			continue;
		if (!str_format(path, sizeof(path), "%s/%s/events.jsonl", dir, de->d_name) || !is_file(path))
			continue;
		trials = xrealloc(trials, sizeof(*trials) * (size_t)(n + 1));
		trials[n++] = (int)v;
	}
	if (d)
		closedir(d);
	/* Insertion sort: a handful of trials. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && trials[j - 1] > trials[j]; j--) {
			int x = trials[j];

			trials[j] = trials[j - 1];
			trials[j - 1] = x;
		}
	*out = trials;
	return n;
}

/* The old summary's trial entry for trial number n, or NULL. */
static json_object *summary_trial(json_object *summary, int n)
{
	json_object *trials, *t, *v;

	if (!summary || !json_object_object_get_ex(summary, "trials", &trials) ||
	    !json_object_is_type(trials, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(trials); i++) {
		t = json_object_array_get_idx(trials, i);
		if (json_object_object_get_ex(t, "trial", &v) && json_object_get_int(v) == n)
			return t;
	}
	return NULL;
}

/* Completed, and why not, from the old summary or else from the log's run_end. */
static void trial_status(json_object *summary, struct trial_result *t)
{
	json_object *st = summary_trial(summary, t->trial), *v;
	char status[32];

	if (st && json_object_object_get_ex(st, "completed", &v)) {
		t->completed = json_object_get_boolean(v);
		str_copy(t->error, sizeof(t->error), json_str(st, "error") ? json_str(st, "error") : "");
		return;
	}
	read_run_end(t->events_path, status, sizeof(status));
	t->completed = strcmp(status, "completed") == 0;
	if (!status[0])
		str_copy(t->error, sizeof(t->error), "the event log has no run_end: the run was interrupted");
	else if (!t->completed)
		str_format(t->error, sizeof(t->error), "the run ended with status %s", status);
}

/* What only the run knew, from the old summary; else from the first trial's run_start. */
static void run_info(json_object *summary, struct scenario_result *r, struct scenario *sc)
{
	json_object *start = r->ntrials > 0 ? read_run_start(r->trials[0].events_path) : NULL, *v;
	json_object *src = summary ? summary : start;
	const char *s;
	char suffix[128];

	str_copy(r->backend, sizeof(r->backend), json_str(src, "backend") ? json_str(src, "backend") : "unknown");
	str_copy(r->host, sizeof(r->host), json_str(src, "host") ? json_str(src, "host") : "unknown");
	str_copy(r->versions, sizeof(r->versions),
		 json_str(summary, "versions") ? json_str(summary, "versions") : "unknown");
	s = json_str(src, "seed");
	r->seed = s ? strtoull(s, NULL, 10) : 0;
	r->provision_seconds = -1;
	if (summary && json_object_object_get_ex(summary, "provision_seconds", &v) && v)
		r->provision_seconds = json_object_get_double(v);
	s = json_str(summary, "run_id");
	if (s) {
		str_copy(r->run_id, sizeof(r->run_id), s);
	} else if ((s = json_str(start, "run"))) {
		/* A trial's run id is "<run id>-<scenario>-t<trial>". */
		size_t len = strlen(s);

		str_copy(r->run_id, sizeof(r->run_id), s);
		if (str_format(suffix, sizeof(suffix), "-%s-t%d", sc->name, r->trials[0].trial) &&
		    len > strlen(suffix) && strcmp(s + len - strlen(suffix), suffix) == 0)
			r->run_id[len - strlen(suffix)] = '\0';
	}
	if (summary && json_object_object_get_ex(summary, "scenario", &v) && json_str(v, "path")) {
		/* Keep where the scenario came from, not the copy in the run directory. */
		free(sc->path);
		sc->path = xstrdup(json_str(v, "path"));
	}
	if (start)
		json_object_put(start);
}

/* Statistics across trials and the SLOs on them, which fail the scenario like any other. */
static void judge_across_trials(const struct scenario *sc, struct scenario_result *r)
{
	struct metrics *per_trial = xcalloc((size_t)(r->ntrials ? r->ntrials : 1), sizeof(*per_trial));

	for (int i = 0; i < r->ntrials; i++)
		per_trial[i] = r->trials[i].metrics;
	for (int id = 0; id < METRIC_COUNT; id++)
		metrics_trial_stats(per_trial, r->ntrials, (enum metric_id)id, &r->stats[id]);
	r->nstat_verdicts = 0;
	for (int i = 0; i < sc->nslos; i++) {
		struct verdict *v;

		if (!slo_is_trial_stat(&sc->slos[i]))
			continue;
		v = &r->stat_verdicts[r->nstat_verdicts++];
		slo_judge_trials(&sc->slos[i], per_trial, r->ntrials, v);
		if (v->kind == VERDICT_FAIL)
			r->overall = VERDICT_FAIL;
	}
	r->have_stats = true;
	free(per_trial);
}

/* Rebuild one scenario directory; false when it cannot be (logged). */
static bool rebuild_scenario(const char *dir, struct scenario *sc, struct scenario_result *r)
{
	char path[4400], *errbuf;
	json_object *summary;
	int *trials, n;

	memset(r, 0, sizeof(*r));
	if (!str_format(path, sizeof(path), "%s/scenario.yaml", dir)) {
		log_error("path too long: %s", dir);
		return false;
	}
	errbuf = xmalloc(16384);
	if (!scenario_load(path, sc, errbuf, 16384)) {
		fputs(errbuf, stderr);
		free(errbuf);
		return false;
	}
	free(errbuf);
	str_copy(r->dir, sizeof(r->dir), dir);
	r->scenario = sc;
	n = list_trials(dir, &trials);
	r->trials = xcalloc((size_t)(n ? n : 1), sizeof(*r->trials));
	str_format(path, sizeof(path), "%s/summary.json", dir);
	summary = is_file(path) ? json_object_from_file(path) : NULL;
	r->overall = n > 0 ? VERDICT_PASS : VERDICT_FAIL;
	for (int i = 0; i < n; i++) {
		struct trial_result *t = &r->trials[r->ntrials++];

		t->trial = trials[i];
		str_format(t->events_path, sizeof(t->events_path), "%s/trial-%d/events.jsonl", dir, trials[i]);
		trial_status(summary, t);
		if (report_judge_trial(sc, t) == VERDICT_FAIL)
			r->overall = VERDICT_FAIL;
	}
	if (n == 0)
		log_warn("%s: no trial with an event log", dir);
	judge_across_trials(sc, r);
	run_info(summary, r, sc);
	if (summary)
		json_object_put(summary);
	free(trials);
	return true;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scenario directories of a run (those with a scenario.yaml), sorted; run_dir itself if it is one. */
static int list_scenarios(const char *run_dir, char ***out)
{
	char path[4400], **dirs = NULL;
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (str_format(path, sizeof(path), "%s/scenario.yaml", run_dir) && is_file(path)) {
		dirs = xmalloc(sizeof(*dirs));
		dirs[n++] = xstrdup(run_dir);
		*out = dirs;
		return n;
	}
	d = opendir(run_dir);
	if (!d) {
		log_error("cannot read %s: %s", run_dir, strerror(errno));
		*out = NULL;
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    !str_format(path, sizeof(path), "%s/%s/scenario.yaml", run_dir, de->d_name) || !is_file(path))
			continue;
		str_format(path, sizeof(path), "%s/%s", run_dir, de->d_name);
		if (!is_dir(path))
			continue;
		dirs = xrealloc(dirs, sizeof(*dirs) * (size_t)(n + 1));
		dirs[n++] = xstrdup(path);
	}
	closedir(d);
	if (n > 0) /* qsort(NULL, 0) is undefined */
		qsort(dirs, (size_t)n, sizeof(*dirs), compare_names);
	*out = dirs;
	return n;
}

int report_cmd_run(const char *run_dir)
{
	char **dirs;
	int n = list_scenarios(run_dir, &dirs), done = 0, status = BISE_EXIT_OK;
	struct scenario *scs;
	struct scenario_result *results;
	bool single;

	if (n <= 0) {
		if (n == 0)
			log_error("%s holds no scenario directory (no */scenario.yaml)", run_dir);
		free(dirs);
		return BISE_EXIT_USAGE;
	}
	single = strcmp(dirs[0], run_dir) == 0;
	scs = xcalloc((size_t)n, sizeof(*scs));
	results = xcalloc((size_t)n, sizeof(*results));
	for (int i = 0; i < n; i++) {
		if (!rebuild_scenario(dirs[i], &scs[done], &results[done])) {
			scenario_free(&scs[done]);
			memset(&scs[done], 0, sizeof(scs[done]));
			status = BISE_EXIT_USAGE;
			continue;
		}
		if (!reports_write_all(&results[done]))
			status = BISE_EXIT_ENV;
		report_print_table(&results[done], stdout);
		if (results[done].overall == VERDICT_FAIL && status == BISE_EXIT_OK)
			status = BISE_EXIT_SLO_FAILED;
		done++;
	}
	/* A single scenario directory is not a suite: its parent may hold others not rebuilt. */
	if (!single && done > 0 && !reports_write_index(results, done, run_dir))
		status = BISE_EXIT_ENV;
	if (done > 0)
		printf("reports written under %s\n", run_dir);
	for (int i = 0; i < done; i++) {
		free(results[i].trials);
		scenario_free(&scs[i]);
	}
	for (int i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	free(scs);
	free(results);
	return status;
}
