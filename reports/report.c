/* report.c - the table of writers, and the verdict table printed at the end of a run. */
#include "report.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct report_writer report_summary_json;
extern const struct report_writer report_metrics_csv;
extern const struct report_writer report_timeseries_csv;
extern const struct report_writer report_junit_xml;
extern const struct report_writer report_summary_md;
extern const struct report_writer report_html;

static const struct report_writer *const writers[] = {
	&report_summary_json,
	&report_metrics_csv,
	&report_timeseries_csv,
	&report_junit_xml,
	&report_summary_md,
	&report_html,
	NULL,
};

bool reports_write_all(const struct scenario_result *r)
{
	bool ok = true;

	for (int i = 0; writers[i]; i++) {
		char path[4200];
		struct safe_file sf;

		if (!str_format(path, sizeof(path), "%s/%s", r->dir, writers[i]->file_name)) {
			log_error("path too long: %s/%s", r->dir, writers[i]->file_name);
			ok = false;
			continue;
		}
		/* The run directory is not trusted: never follow a symlink planted there. */
		if (!safe_file_create(&sf, path, 0644)) {
			ok = false;
			continue;
		}
		if (!writers[i]->write(r, sf.f))
			ok = false;
		if (!safe_file_commit(&sf))
			ok = false;
	}
	return ok;
}

/* One file of the run directory through a suite writer. */
static bool write_suite_file(const char *run_dir, const char *name,
			     bool (*write)(const struct scenario_result *, int, FILE *),
			     const struct scenario_result *results, int n)
{
	char path[4200];
	struct safe_file sf;
	bool ok;

	if (!str_format(path, sizeof(path), "%s/%s", run_dir, name)) {
		log_error("path too long: %s/%s", run_dir, name);
		return false;
	}
	if (!safe_file_create(&sf, path, 0644))
		return false;
	ok = write(results, n, sf.f);
	return safe_file_commit(&sf) && ok;
}

bool reports_write_index(const struct scenario_result *results, int n, const char *run_dir)
{
	bool ok = write_suite_file(run_dir, "index.html", report_index_html, results, n);

	return write_suite_file(run_dir, "summary.md", report_index_md, results, n) && ok;
}

static void print_verdicts(const struct verdict *vs, int n, bool across, FILE *out);

static void print_trial(const struct scenario_result *r, const struct trial_result *t, FILE *out)
{
	const struct metrics *m = &t->metrics;
	char buf[64];

	fprintf(out, "  trial %d/%d: %lld writes: %lld ok, %lld fail, %lld indeterminate\n", t->trial,
		r->ntrials, (long long)m->attempted, (long long)(m->ok + m->ok_unreplicated),
		(long long)m->fail, (long long)m->indeterminate);
	if (!t->completed)
		fprintf(out, "  trial %d did not complete: %s\n", t->trial, t->error);
	if (m->outage_seen && m->outage_closed) {
		char acc[128];

		report_failover_format(m, buf, sizeof(buf));
		fprintf(out, "  writes unavailable for %s\n", buf);
		report_accept_format(m, acc, sizeof(acc));
		if (acc[0])
			fprintf(out, "  %s\n", acc);
	} else if (m->outage_seen) {
		fputs("  writes never recovered\n", out);
	}
	if (m->promote_seen) {
		duration_format(m->promotion_dur_us, buf, sizeof(buf));
		/* The old primary is unknown when the watcher saw none before the fault. */
		fprintf(out, "  new primary %s (timeline %d) seen %s after the fault", m->new_primary,
			m->new_timeline, buf);
		if (m->old_primary[0])
			fprintf(out, " (old primary %s)", m->old_primary);
		fputc('\n', out);
	}
	/* The platform's role label: only where the backend watches one (Kubernetes). */
	if (m->label_switch_seen) {
		duration_format(m->label_switch_dur_us, buf, sizeof(buf));
		fprintf(out, "  primary label on %s %s after the fault\n", m->label_new_primary, buf);
	} else if (m->api_roles_seen && m->fault_seen) {
		fputs("  primary label: no other pod labelled primary after the fault\n", out);
	}
	if (m->rollback_seen) {
		duration_format(m->t_rollback_us, buf, sizeof(buf));
		fprintf(out, "  rollback: %s primary again on older timeline %d (after %d) at %s\n", m->rollback_node,
			m->rollback_timeline, m->rollback_from_timeline, buf);
	}
	if (m->second_outage_seen && m->second_outage_closed) {
		char from[32];

		duration_format(m->second_outage_start_us, from, sizeof(from));
		duration_format(m->second_outage_dur_us, buf, sizeof(buf));
		fprintf(out, "  second outage: writes unavailable again for %s from %s\n", buf, from);
	} else if (m->second_outage_seen) {
		duration_format(m->second_outage_start_us, buf, sizeof(buf));
		fprintf(out, "  second outage from %s: writes never recovered\n", buf);
	}
	if (m->readback_seen)
		fprintf(out,
			"  read back %lld rows: %lld lost, %lld indeterminate found, %lld phantom; accounting %s\n",
			(long long)m->found, (long long)m->lost, (long long)m->recovered,
			(long long)m->phantom, m->balanced ? "balanced" : "NOT BALANCED");
	/* The trial fails on this alone: say so where the verdict is read. */
	if (m->healthy_seen && !m->healthy_ok) {
		duration_format((int64_t)(m->healthy_seconds * 1e6), buf, sizeof(buf));
		fprintf(out, "  the cluster was not healthy again within the wait (%s): the trial fails\n", buf);
	}
	print_verdicts(t->verdicts, t->nverdicts, false, out);
}

/*
 * The SLO table. A statistic over the trials ("p95(failover_time)") is a skip in every
 * trial and judged once after them: it is printed there only (across).
 */
static void print_verdicts(const struct verdict *vs, int n, bool across, FILE *out)
{
	bool header = false;

	for (int i = 0; i < n; i++) {
		const struct verdict *v = &vs[i];

		if (!across && slo_is_trial_stat(v->slo))
			continue;
		if (!header)
			fprintf(out, "  %-22s %-12s %-12s %s\n", "SLO", "threshold", "measured", "verdict");
		header = true;
		fprintf(out, "  %-22s %-12s %-12s %s%s%s\n", v->slo->metric, v->slo->text,
			v->kind == VERDICT_SKIP ? "-" : v->measured_text, verdict_name(v->kind),
			v->reason[0] ? ": " : "", v->reason);
	}
}

void report_print_table(const struct scenario_result *r, FILE *out)
{
	fprintf(out, "scenario %s on %s (%s)\n", r->scenario->name, r->backend, r->versions);
	if (r->provision_seconds >= 0)
		fprintf(out, "  cluster provisioned in %.2f s\n", r->provision_seconds);
	for (int i = 0; i < r->ntrials; i++)
		print_trial(r, &r->trials[i], out);
	if (r->nstat_verdicts > 0) {
		fprintf(out, "  over %d trial%s:\n", r->ntrials, r->ntrials == 1 ? "" : "s");
		print_verdicts(r->stat_verdicts, r->nstat_verdicts, true, out);
	}
	fprintf(out, "  result: %s\n", r->overall == VERDICT_FAIL ? "FAIL" : "PASS");
}
