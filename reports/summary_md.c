/*
 * summary_md.c - summary.md: a compact Markdown verdict table with the failover and loss
 * headline, for a CI job summary or a pull-request comment.
 */
#include "report.h"
#include "units.h"
#include "util.h"

#include <inttypes.h>

static const char *verdict_md(enum verdict_kind k)
{
	switch (k) {
	case VERDICT_PASS: return "✅ pass";
	case VERDICT_FAIL: return "❌ fail";
	case VERDICT_SKIP: break;
	}
	return "⚪ skip";
}

/* " (3163 acknowledged by gland)": the nodes that acknowledged the lost writes. */
static void lost_by_node(FILE *out, const struct timeseries *ts)
{
	bool first = true;

	if (!ts)
		return;
	for (int k = 0; k < ts->nnodes; k++) {
		if (ts->lost_by_node[k] == 0)
			continue;
		fprintf(out, "%s%" PRId64 " acknowledged by ", first ? " (" : ", ", ts->lost_by_node[k]);
		report_md_text(out, ts->nodes[k]);
		first = false;
	}
	if (!first)
		fputc(')', out);
}

/* "failover 10.54s ± 8ms (new primary geneva, timeline 2) · 0 of 11886 acknowledged writes lost · ..." */
static void headline(FILE *out, const struct trial_result *t)
{
	const struct metrics *m = &t->metrics;
	struct metric_value fo;
	char buf[64];

	metric_value(m, METRIC_FAILOVER_TIME, &fo);
	if (!fo.observed) {
		fputs("failover: -", out);
	} else if (fo.never) {
		fputs("failover: **writes never recovered**", out);
	} else {
		char acc[128];

		report_failover_format(m, buf, sizeof(buf));
		fprintf(out, "failover **%s**", buf);
		report_accept_format(m, acc, sizeof(acc));
		if (acc[0])
			fprintf(out, " (%s)", acc);
	}
	if (m->promote_seen) {
		fputs(" (new primary ", out);
		report_md_text(out, m->new_primary);
		duration_format(m->promotion_dur_us, buf, sizeof(buf));
		fprintf(out, " on timeline %d after %s)", m->new_timeline, buf);
	}
	/* The platform's role label, where the backend logs one (a Kubernetes watch). */
	if (m->label_switch_seen) {
		duration_format(m->label_switch_dur_us, buf, sizeof(buf));
		fputs(" · primary label on ", out);
		report_md_text(out, m->label_new_primary);
		fprintf(out, " after %s", buf);
	} else if (m->api_roles_seen && m->fault_seen) {
		fputs(" · no other pod labelled primary after the fault", out);
	}
	if (m->rollback_seen) {
		duration_format(m->t_rollback_us, buf, sizeof(buf));
		fputs(" · **rollback**: ", out);
		report_md_text(out, m->rollback_node);
		fprintf(out, " primary again on older timeline %d (after %d) at %s", m->rollback_timeline,
			m->rollback_from_timeline, buf);
	}
	if (m->second_outage_seen) {
		duration_format(m->second_outage_start_us, buf, sizeof(buf));
		fprintf(out, " · **second outage** from %s", buf);
		if (m->second_outage_closed) {
			duration_format(m->second_outage_dur_us, buf, sizeof(buf));
			fprintf(out, ", writes unavailable again for %s", buf);
		} else {
			fputs(", never recovered", out);
		}
	}
	if (m->readback_seen) {
		fprintf(out, " · **%" PRId64 "** of %" PRId64 " acknowledged writes lost", m->lost,
			m->ok + m->ok_unreplicated);
		lost_by_node(out, t->timeseries);
	} else {
		fputs(" · loss not measured (no read-back)", out);
	}
	if (m->healthy_seen && m->healthy_ok) {
		duration_format((int64_t)(m->healthy_seconds * 1e6), buf, sizeof(buf));
		fprintf(out, " · healthy again after %s", buf);
	}
	else if (m->healthy_seen)
		fputs(" · **cluster did not recover**", out);
	fprintf(out, " · %" PRId64 " writes: %" PRId64 " fail, %" PRId64 " indeterminate", m->attempted,
		m->fail, m->indeterminate);
	if (!t->completed) {
		fputs(" · **did not complete: ", out);
		report_md_text(out, t->error);
		fputs("**", out);
	}
}

static void verdict_row(FILE *out, const char *trial, const struct slo_spec *slo, const struct verdict *v)
{
	fputs("| ", out);
	if (trial)
		fprintf(out, "%s | ", trial);
	report_md_text(out, slo->metric);
	fputs(" | ", out);
	report_md_text(out, slo->text);
	fputs(" | ", out);
	report_md_text(out, v ? report_measured(v) : "-");
	fprintf(out, " | %s", verdict_md(v ? v->kind : VERDICT_SKIP));
	if (v && report_verdict_note(v)[0]) {
		fputs(": ", out);
		report_md_text(out, report_verdict_note(v));
	} else if (!v) {
		fputs(": not judged", out);
	}
	fputs(" |\n", out);
}

static bool summary_md_write(const struct scenario_result *r, FILE *out)
{
	bool several = r->ntrials > 1;
	char trial[16];

	fprintf(out, "### %s ", r->overall == VERDICT_FAIL ? "❌" : "✅");
	report_md_text(out, r->scenario->name);
	fprintf(out, ": %s\n\n", r->overall == VERDICT_FAIL ? "FAIL" : "PASS");
	for (int i = 0; i < r->ntrials; i++) {
		if (several)
			fprintf(out, "- trial %d: ", r->trials[i].trial);
		headline(out, &r->trials[i]);
		fputs(several ? "\n" : "\n\n", out);
	}
	if (several)
		fputc('\n', out);
	if (r->scenario->nslos == 0)
		fputs("No SLOs in this scenario.\n", out);
	else if (several)
		fputs("| trial | SLO | threshold | measured | verdict |\n|---|---|---|---|---|\n", out);
	else
		fputs("| SLO | threshold | measured | verdict |\n|---|---|---|---|\n", out);
	for (int i = 0; i < r->ntrials; i++) {
		const struct trial_result *t = &r->trials[i];

		str_format(trial, sizeof(trial), "%d", t->trial);
		for (int k = 0; k < r->scenario->nslos; k++)
			if (!slo_is_trial_stat(&r->scenario->slos[k]))
				verdict_row(out, several ? trial : NULL, &r->scenario->slos[k],
					    report_trial_verdict(t, r->scenario, k));
	}
	for (int k = 0; k < r->nstat_verdicts; k++)
		verdict_row(out, several ? "all" : NULL, r->stat_verdicts[k].slo, &r->stat_verdicts[k]);
	report_fault_timings_md(out, r);
	if (ferror(out)) {
		log_error("cannot write summary.md");
		return false;
	}
	return true;
}

const struct report_writer report_summary_md = {
	.name = "markdown",
	.file_name = "summary.md",
	.write = summary_md_write,
};
