/*
 * report_cmd.c - `bise report RUN_DIR`: the reports of a run rebuilt from what it saved.
 * Each trial's log goes through the judge (judge.h), as in `bise run`; what only the run
 * knew (versions, provisioning time, why a trial stopped) comes from the run record it
 * wrote (run.json), else from the logs themselves. The reports of an earlier `bise report`
 * or `bise run` are never read back.
 */
#include "report_cmd.h"
#include "judge.h"
#include "runner.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RUN_RECORD_SCHEMA "bise.run/1"

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

bool run_record_write(const struct scenario_result *r)
{
	json_object *root = json_object_new_object(), *trials = json_object_new_array();
	const struct scenario *sc = r->scenario;
	char path[4200], seed[32];
	const char *text;
	bool ok;

	str_format(seed, sizeof(seed), "%llu", (unsigned long long)r->seed);
	json_object_object_add(root, "schema", json_object_new_string(RUN_RECORD_SCHEMA));
	json_object_object_add(root, "run_id", json_object_new_string(r->run_id));
	json_object_object_add(root, "scenario_path", sc->path ? json_object_new_string(sc->path) : NULL);
	json_object_object_add(root, "backend", json_object_new_string(r->backend));
	json_object_object_add(root, "versions", json_object_new_string(r->versions));
	json_object_object_add(root, "host", json_object_new_string(r->host));
	json_object_object_add(root, "seed", json_object_new_string(seed));
	json_object_object_add(root, "provision_seconds",
			       r->provision_seconds >= 0 ? json_object_new_double(r->provision_seconds) : NULL);
	for (int i = 0; i < r->ntrials; i++) {
		const struct trial_result *t = &r->trials[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "trial", json_object_new_int(t->trial));
		json_object_object_add(o, "completed", json_object_new_boolean(t->completed));
		json_object_object_add(o, "error", t->error[0] ? json_object_new_string(t->error) : NULL);
		json_object_array_add(trials, o);
	}
	json_object_object_add(root, "trials", trials);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	ok = str_format(path, sizeof(path), "%s/run.json", r->dir) && file_write_atomic(path, text, strlen(text));
	if (!ok)
		log_error("cannot write the run record %s/run.json", r->dir);
	json_object_put(root);
	return ok;
}

/* <dir>/run.json as run_record_write left it; NULL when there is none (logged if unreadable). */
static json_object *run_record_read(const char *dir)
{
	char path[4400];
	json_object *o;

	if (!str_format(path, sizeof(path), "%s/run.json", dir) || !is_file(path))
		return NULL;
	o = json_object_from_file(path);
	if (!o || !json_str(o, "schema") || strcmp(json_str(o, "schema"), RUN_RECORD_SCHEMA) != 0) {
		log_warn("%s: not a bise run record (%s): what only the run knew is missing", path,
			 RUN_RECORD_SCHEMA);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The run record's entry for trial number n, or NULL. */
static json_object *record_trial(json_object *record, int n)
{
	json_object *trials, *t, *v;

	if (!record || !json_object_object_get_ex(record, "trials", &trials) ||
	    !json_object_is_type(trials, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(trials); i++) {
		t = json_object_array_get_idx(trials, i);
		if (json_object_object_get_ex(t, "trial", &v) && json_object_get_int(v) == n)
			return t;
	}
	return NULL;
}

/* Completed, and why not, from the run record or else from the log's run_end. */
static void trial_status(json_object *record, const struct trial_log *log, struct trial_result *t)
{
	json_object *rt = record_trial(record, t->trial), *v;

	if (rt && json_object_object_get_ex(rt, "completed", &v)) {
		t->completed = json_object_get_boolean(v);
		str_copy(t->error, sizeof(t->error), json_str(rt, "error") ? json_str(rt, "error") : "");
		return;
	}
	t->completed = t->log_read && strcmp(log->end_status, "completed") == 0;
	if (!t->log_read)
		str_copy(t->error, sizeof(t->error), "the event log cannot be read");
	else if (!log->end_status[0])
		str_copy(t->error, sizeof(t->error), "the event log has no run_end: the run was interrupted");
	else if (!t->completed)
		str_format(t->error, sizeof(t->error), "the run ended with status %s", log->end_status);
}

/* What only the run knew, from the run record; else from the first trial's log. */
static void run_info(json_object *record, const struct trial_log *first, struct scenario_result *r,
		     struct scenario *sc)
{
	json_object *v;
	const char *s;
	char suffix[128];

	s = record ? json_str(record, "backend") : first->backend;
	str_copy(r->backend, sizeof(r->backend), s && s[0] ? s : "unknown");
	s = record ? json_str(record, "host") : first->host;
	str_copy(r->host, sizeof(r->host), s && s[0] ? s : "unknown");
	s = json_str(record, "versions");
	str_copy(r->versions, sizeof(r->versions), s ? s : "unknown");
	s = json_str(record, "seed");
	r->seed = record ? (s ? strtoull(s, NULL, 10) : 0) : first->seed;
	r->provision_seconds = first->provision_seconds;
	if (record) {
		r->provision_seconds = -1;
		if (json_object_object_get_ex(record, "provision_seconds", &v) && v)
			r->provision_seconds = json_object_get_double(v);
	}
	s = json_str(record, "run_id");
	if (s) {
		str_copy(r->run_id, sizeof(r->run_id), s);
	} else if (first->run[0] && r->ntrials > 0) {
		/* A trial's run id is "<run id>-<scenario>-t<trial>". */
		size_t len = strlen(first->run);

		str_copy(r->run_id, sizeof(r->run_id), first->run);
		if (str_format(suffix, sizeof(suffix), "-%s-t%d", sc->name, r->trials[0].trial) &&
		    len > strlen(suffix) && strcmp(first->run + len - strlen(suffix), suffix) == 0)
			r->run_id[len - strlen(suffix)] = '\0';
	}
	if ((s = json_str(record, "scenario_path"))) {
		/* Keep where the scenario came from, not the copy in the run directory. */
		free(sc->path);
		sc->path = xstrdup(s);
	}
}

/* Rebuild one scenario directory; false when it cannot be (logged). */
static bool rebuild_scenario(const char *dir, struct scenario *sc, struct scenario_result *r)
{
	char path[4400], *errbuf;
	json_object *record;
	struct trial_log log, first;
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
	record = run_record_read(dir);
	memset(&first, 0, sizeof(first));
	first.provision_seconds = -1;
	for (int i = 0; i < n; i++) {
		struct trial_result *t = &r->trials[r->ntrials++];

		t->trial = trials[i];
		str_format(t->events_path, sizeof(t->events_path), "%s/trial-%d/events.jsonl", dir, trials[i]);
		judge_load_trial(t, true, &log);
		trial_status(record, &log, t);
		if (i == 0)
			first = log;
	}
	if (n == 0)
		log_warn("%s: no trial with an event log", dir);
	judge_scenario(r);
	run_info(record, &first, r, sc);
	if (record)
		json_object_put(record);
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
		judge_result_free_bins(&results[done]);
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
		judge_result_free(&results[i]);
		scenario_free(&scs[i]);
	}
	for (int i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	free(scs);
	free(results);
	return status;
}
