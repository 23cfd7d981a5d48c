/* runner.c - scenario -> driver actions + workload probes -> event log -> verdicts. */
#include "runner.h"
#include "trial.h"

#include "driver.h"
#include "event.h"
#include "export.h"
#include "fault.h"
#include "heal.h"
#include "progress.h"
#include "journal.h"
#include "judge.h"
#include "live.h"
#include "metrics.h"
#include "report.h"
#include "report_cmd.h"
#include "slo.h"
#include "units.h"
#include "util.h"
#include "variants.h"
#include "compare_report.h"
#include "watchdog.h"
#include "workload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Whether path is missing or an empty directory. */
static bool dir_empty(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!dir)
		return errno == ENOENT;
	while (empty && (e = readdir(dir)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(dir);
	return empty;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

void runner_install_signal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool runner_interrupted(void)
{
	return interrupted != 0;
}

void runner_request_stop(void)
{
	interrupted = SIGINT;
}

static uint64_t draw_seed(void)
{
	uint64_t seed = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
			seed = 0;
		close(fd);
	}
	if (seed == 0)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return seed;
}

void run_options_defaults(struct run_options *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = "local";
	o->state_root = "/var/lib/bise";
	o->watch_interval_us = 200 * 1000;
}

static bool save_scenario_copy(const struct scenario *sc, const char *dir)
{
	char path[4200];

	if (!str_format(path, sizeof(path), "%s/scenario.yaml", dir))
		return false;
	return file_write_atomic(path, sc->text ? sc->text : "", sc->text ? strlen(sc->text) : 0);
}

static int worst(int a, int b)
{
	/* Exit codes are ordered by severity: an interrupted run outranks an SLO failure. */
	return b > a ? b : a;
}

/* The SLOs on a statistic, judged once over the trials (judge_scenario), for the log. */
static void log_stat_verdicts(const struct scenario_result *res)
{
	for (int i = 0; i < res->nstat_verdicts; i++) {
		const struct verdict *v = &res->stat_verdicts[i];

		/* The console summary prints it under the trials; here only for --verbose. */
		log_debug("%s %s over %d trials: %s, measured %s%s%s", v->slo->metric, v->slo->text,
			 res->ntrials, verdict_name(v->kind), v->measured_text, v->reason[0] ? ": " : "", v->reason);
	}
}

/* The faults of a trial just judged, as Grafana annotations: a failure is only warned. */
static void annotate_trial(struct scenario_run *r, const struct scenario_result *res,
			   const struct trial_result *t)
{
	int sent = 0;

	if (!r->opt->grafana)
		return;
	r->annotate_failed += grafana_annotate_trial(r->opt->grafana, r->opt->grafana_dashboard, res, t, &sent);
	r->annotated += sent;
}

/* The scenario's final metrics to the Pushgateway: a failure is only warned. */
static void push_scenario(struct scenario_run *r, const struct scenario_result *res)
{
	if (!r->opt->pushgateway)
		return;
	if (pushgateway_push(r->opt->pushgateway, res))
		r->pushed++;
	else
		r->push_failed++;
}

/* One line after the run when something did not go out, so CI logs show it at the end. */
static void export_summary(const struct scenario_run *r)
{
	const struct run_options *o = r->opt;
	char shown[512];

	if (o->pushgateway && r->push_failed > 0) {
		export_url_redact(o->pushgateway, shown, sizeof(shown));
		log_warn("pushgateway %s: %d of %d scenarios not pushed (the verdicts stand)", shown,
			 r->push_failed, r->pushed + r->push_failed);
	}
	if (o->grafana && r->annotate_failed > 0) {
		export_url_redact(o->grafana, shown, sizeof(shown));
		log_warn("grafana %s: %d of %d fault annotations not posted (the verdicts stand)", shown,
			 r->annotate_failed, r->annotated + r->annotate_failed);
	}
}

/* Run every trial of sc and judge them; *out keeps the results (judge_result_free). */
static int run_scenario(struct scenario_run *r, const struct scenario *sc, const char *run_dir,
			struct scenario_result *out)
{
	struct scenario_result res;
	int trials = r->opt->repeat > 0 ? r->opt->repeat : sc->repeat;
	int status = BISE_EXIT_OK;

	memset(&res, 0, sizeof(res));
	res.scenario = sc;
	res.seed = r->seed;
	res.provision_seconds = r->provision_seconds;
	str_copy(res.run_id, sizeof(res.run_id), r->run_id);
	str_copy(res.backend, sizeof(res.backend), r->ops->name);
	str_copy(res.host, sizeof(res.host), r->host);
	if (!r->ops->versions || !r->ops->versions(r->drv, res.versions, sizeof(res.versions)))
		str_copy(res.versions, sizeof(res.versions), "unknown");
	if (!str_format(res.dir, sizeof(res.dir), "%s/%s", run_dir, sc->name) || !mkdir_p(res.dir, 0755))
		return BISE_EXIT_ENV;
	save_scenario_copy(sc, res.dir);
	res.trials = xcalloc((size_t)trials, sizeof(*res.trials));
	for (int i = 0; i < trials; i++) {
		struct trial_result *t = &res.trials[res.ntrials++];
		int s = trial_run(r, sc, res.dir, i + 1, trials, t);

		/* Metrics come from the saved log, as `bise report` recomputes them. */
		judge_load_trial(t, true, NULL);
		annotate_trial(r, &res, t);
		status = worst(status, s);
		if (s == BISE_EXIT_INTERRUPTED || s == BISE_EXIT_ENV)
			break;
	}
	if (judge_scenario(&res) == VERDICT_FAIL)
		status = worst(status, BISE_EXIT_SLO_FAILED);
	log_stat_verdicts(&res);
	run_record_write(&res);
	reports_write_all(&res);
	push_scenario(r, &res);
	judge_result_free_bins(&res);
	report_print_table(&res, stdout);
	fflush(stdout);
	*out = res;
	return status;
}

/* Whether b can run on the cluster provisioned for a (the restart delay is the harness's). */
static bool same_cluster(const struct cluster_spec *a, const struct cluster_spec *b)
{
	struct cluster_spec x = *a, y = *b;

	x.restart_delay_us = y.restart_delay_us = 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

/* Bring the scenario's cluster up unless one is running; *ours tells who must take it down. */
static int ensure_cluster(struct scenario_run *r, const struct scenario *sc, bool *ours)
{
	double seconds = 0;

	r->drv = r->ops->open(&sc->cluster, r->opt->state_root, r->opt->driver_opts);
	if (!r->drv)
		return BISE_EXIT_ENV;
	r->provision_seconds = -1;
	*ours = false;
	if (r->ops->exists(r->drv)) {
		log_info("using the running cluster %s", sc->cluster.name);
	} else {
		log_info("provisioning cluster %s on the %s backend", sc->cluster.name, r->ops->name);
		if (!r->ops->up(r->drv, &seconds))
			return BISE_EXIT_ENV;
		*ours = true;
		r->provision_seconds = seconds;
		log_info("cluster up in %.2f s", seconds);
	}
	{
		char name[160], target[2048] = "";

		str_format(name, sizeof(name), "%s-%s", r->run_id, sc->cluster.name);
		/* Where the backend acts goes into the journal: heal must act on the same cluster. */
		if (r->ops->target && !r->ops->target(r->drv, target, sizeof(target)))
			return BISE_EXIT_ENV;
		r->journal = journal_create(r->opt->state_root, name, r->ops->name, target, &sc->cluster);
	}
	if (!r->journal)
		return BISE_EXIT_ENV;
	r->watchdog = watchdog_start(journal_path(r->journal));
	return r->watchdog ? BISE_EXIT_OK : BISE_EXIT_ENV;
}

static void release_cluster(struct scenario_run *r, bool ours)
{
	if (!r->drv)
		return;
	journal_close(r->journal);
	r->journal = NULL;
	watchdog_stop(r->watchdog);
	r->watchdog = NULL;
	if (ours && !r->opt->keep) {
		log_info("taking the cluster down");
		r->ops->down(r->drv);
	}
	r->ops->close(r->drv);
	r->drv = NULL;
}

static bool write_comparison_file(const struct comparison *cmp, const char *path,
				  bool (*write)(const struct comparison *, FILE *))
{
	struct safe_file sf;
	bool ok;

	if (!safe_file_create(&sf, path, 0644))
		return false;
	ok = write(cmp, sf.f);
	return safe_file_commit(&sf) && ok;
}

/*
 * <run dir>/<scenario>.compare.md and .html over the variants run so far: rewritten after
 * each variant, so an interrupted run still compares what it measured.
 */
static bool write_variant_comparison(const struct scenario *base, const char *run_dir, bool announce)
{
	struct comparison *cmp = xcalloc(1, sizeof(*cmp));
	char path[4400];
	bool ok = variants_comparison(base, run_dir, cmp);

	ok = ok && str_format(path, sizeof(path), "%s/%s.compare.md", run_dir, base->name) &&
	     write_comparison_file(cmp, path, compare_write_markdown) &&
	     str_format(path, sizeof(path), "%s/%s.compare.html", run_dir, base->name) &&
	     write_comparison_file(cmp, path, compare_write_html);
	if (ok && announce)
		log_info("variants of %s compared in %s/%s.compare.md", base->name, run_dir, base->name);
	free(cmp);
	return ok;
}

/* The first failing SLO of r (per trial or across trials), into buf; how many fail in all. */
static int first_failure(const struct scenario_result *r, char *buf, size_t len)
{
	int nfail = 0;

	buf[0] = '\0';
	for (int i = 0; i < r->ntrials; i++) {
		const struct trial_result *t = &r->trials[i];

		if (!t->completed && nfail++ == 0)
			str_format(buf, len, "trial %d did not complete: %s", t->trial, t->error);
		if (t->metrics.healthy_seen && !t->metrics.healthy_ok && nfail++ == 0)
			str_format(buf, len, "cluster not healthy again within the wait (trial %d)", t->trial);
		for (int k = 0; k < t->nverdicts; k++)
			if (t->verdicts[k].kind == VERDICT_FAIL && nfail++ == 0)
				str_format(buf, len, "%s %s: %s (trial %d)", t->verdicts[k].slo->metric,
					   t->verdicts[k].slo->text, t->verdicts[k].measured_text, t->trial);
	}
	for (int k = 0; k < r->nstat_verdicts; k++)
		if (r->stat_verdicts[k].kind == VERDICT_FAIL && nfail++ == 0)
			str_format(buf, len, "%s %s: %s (over %d trials)", r->stat_verdicts[k].slo->metric,
				   r->stat_verdicts[k].slo->text, r->stat_verdicts[k].measured_text,
				   r->ntrials);
	return nfail;
}

void runner_print_suite(const struct scenario_result *results, int n, const char *run_dir, FILE *out)
{
	char failure[512];

	fprintf(out, "\n%-32s %6s  %-7s %s\n", "scenario", "trials", "verdict", "first failing SLO: measured");
	for (int i = 0; i < n; i++) {
		const struct scenario_result *r = &results[i];
		int nfail = first_failure(r, failure, sizeof(failure));

		fprintf(out, "%-32s %6d  ", r->scenario->name, r->ntrials);
		if (nfail > 0)
			fprintf(out, "%-7s %s", r->overall == VERDICT_FAIL ? "FAIL" : "pass", failure);
		else
			fputs(r->overall == VERDICT_FAIL ? "FAIL" : "pass", out);
		if (nfail > 1)
			fprintf(out, " (+%d more)", nfail - 1);
		fputc('\n', out);
	}
	fprintf(out, "reports: %s/index.html\n", run_dir);
}

int runner_run(struct scenario *const *scenarios, int nscenarios, const struct run_options *o)
{
	struct scenario_run r;
	char run_dir[4096], stamp[32], why[256];
	time_t now = time(NULL);
	struct tm tm;
	int status = BISE_EXIT_OK;
	bool ours = false;
	const struct cluster_spec *current = NULL;
	struct scenario_result *results;
	int nresults = 0;
	struct variant_run *runs;
	int nruns;

	memset(&r, 0, sizeof(r));
	progress_init();
	r.opt = o;
	r.ops = driver_find(o->backend);
	if (!r.ops) {
		log_error("unknown backend '%s' (known: %s)", o->backend, driver_names());
		return BISE_EXIT_USAGE;
	}
	/* A scenario with variants runs once per variant, each on a cluster of its own. */
	nruns = variants_expand(scenarios, nscenarios, &runs);
	if (nruns < 0)
		return BISE_EXIT_USAGE;
	/* Check the machine before touching anything. */
	for (int i = 0; i < nruns; i++) {
		if (!r.ops->preflight(&runs[i].sc->cluster, o->driver_opts, why, sizeof(why))) {
			log_error("%s", why);
			variants_free(runs, nruns);
			return BISE_EXIT_ENV;
		}
	}
	if (heal_pending(o->state_root) > 0) {
		log_error("faults of an earlier run are still recorded as applied in %s/journal: "
			  "run `bise heal` first", o->state_root);
		variants_free(runs, nruns);
		return BISE_EXIT_ENV;
	}
	r.seed = o->seed ? o->seed : draw_seed();
	gethostname(r.host, sizeof(r.host) - 1);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	str_format(r.run_id, sizeof(r.run_id), "%s-%d", stamp, (int)getpid());
	if (o->out_dir)
		str_copy(run_dir, sizeof(run_dir), o->out_dir);
	else
		str_format(run_dir, sizeof(run_dir), "runs/%s", stamp);
	if (!o->out_dir && !dir_empty(run_dir)) /* two runs in one second */
		str_format(run_dir, sizeof(run_dir), "runs/%s-%d", stamp, (int)getpid());
	/* Event logs are appended to: a second run in the same directory would merge into the first. */
	if (!dir_empty(run_dir)) {
		log_error("run directory %s is not empty (an earlier run?): choose another --out or "
			  "remove it", run_dir);
		variants_free(runs, nruns);
		return BISE_EXIT_USAGE;
	}
	if (!mkdir_p(run_dir, 0755)) {
		variants_free(runs, nruns);
		return BISE_EXIT_ENV;
	}
	if (o->serve) {
		struct live_options lo = { .listen = o->serve, .token = o->serve_token, .step = o->step,
					   .run_dir = run_dir, .run_id = r.run_id, .abort = runner_request_stop };

		r.live = live_start(&lo);
		if (!r.live) {
			variants_free(runs, nruns);
			return BISE_EXIT_ENV;
		}
	}
	results = xcalloc((size_t)(nruns ? nruns : 1), sizeof(*results));
	for (int i = 0; i < nruns && !interrupted; i++) {
		const struct scenario *sc = runs[i].sc;

		if (!current || !same_cluster(current, &sc->cluster)) {
			release_cluster(&r, ours);
			int up = ensure_cluster(&r, sc, &ours);

			status = worst(status, up);
			if (up != BISE_EXIT_OK)
				break;
			current = &sc->cluster;
		}
		status = worst(status, run_scenario(&r, sc, run_dir, &results[nresults]));
		if (results[nresults].scenario)
			nresults++;
		r.provision_seconds = -1; /* only the first scenario on a new cluster paid for it */
		/* Rewritten after each variant, announced after the last one. */
		if (runs[i].variant >= 0 &&
		    !write_variant_comparison(runs[i].base, run_dir,
					      i + 1 == nruns || runs[i + 1].base != runs[i].base))
			status = worst(status, BISE_EXIT_ENV);
	}
	release_cluster(&r, ours);
	if (nresults > 0 && !reports_write_index(results, nresults, run_dir))
		status = worst(status, BISE_EXIT_ENV);
	if (nresults > 1)
		runner_print_suite(results, nresults, run_dir, stdout);
	if (r.live) {
		char report[300] = "index.html";

		/* The live page becomes the run's report: one scenario's own, else the index. */
		if (nresults == 1)
			str_format(report, sizeof(report), "%s/report.html", results[0].scenario->name);
		fflush(stdout);
		live_finish(r.live, nresults > 0 ? report : NULL);
		r.live = NULL;
	}
	for (int i = 0; i < nresults; i++)
		judge_result_free(&results[i]);
	free(results);
	variants_free(runs, nruns);
	export_summary(&r);
	printf("run directory: %s\n", run_dir);
	return status;
}
