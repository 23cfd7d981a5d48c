/*
 * report_html.c - report.html: one self-contained page per scenario (inline CSS, SVG and
 * one script for zoom, nothing fetched): verdicts, the timeline of each trial with what
 * explains a failure (lost writes where they were acknowledged, rollback, second outage,
 * failover phases), loss accounting and, with several trials, the distribution of each
 * metric. Every text is escaped.
 */
#include "report.h"
#include "units.h"
#include "util.h"

#include <inttypes.h>

/* Shared with index_html.c through report_html_style(). */
static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;"
	"max-width:1120px}\n"
	"h1{font-size:22px;margin:0 0 6px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #ddd}"
	"h3{font-size:15px;margin:16px 0 6px}\n"
	".meta{color:#555;font-size:13px}.desc{margin:4px 0 8px}\n"
	".badge{display:inline-block;padding:1px 10px;border-radius:10px;color:#fff;font-size:14px;"
	"vertical-align:middle}\n"
	".badge.pass{background:#2e7d32}.badge.fail{background:#c62828}.badge.skip{background:#757575}\n"
	"table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ccc;padding:3px 9px;"
	"text-align:left}th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"tr.pass td.verdict{background:#c8e6c9}tr.fail td.verdict{background:#ef9a9a;font-weight:bold}"
	"tr.skip td.verdict{background:#e0e0e0;color:#555}\n"
	".headline{font-size:15px}.warn{color:#c62828;font-weight:bold}\n"
	"svg.chart{display:block;margin:8px 0;background:#fff;max-width:100%;height:auto;touch-action:pan-y;"
	"user-select:none}svg.chart.dragging{cursor:grabbing}\n"
	"svg .grid{stroke:#e4e4e4;stroke-width:1}svg .tick{font-size:11px;fill:#555}"
	"svg .title{font-size:13px;font-weight:bold;fill:#333}\n"
	"svg .fault-label{font-size:11px;fill:#8a6d00}svg .primary-label{font-size:12px;font-weight:bold}"
	"svg .outage-label,svg .phase-label,svg .healthy-label,svg .label-switch-label{font-size:11px}"
	"svg .rollback-label{font-size:12px;font-weight:bold}svg .lane-name{font-size:11px;fill:#444}\n"
	"svg text[data-t]:not(.phase-label){paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}\n"
	"svg .plot *{vector-effect:non-scaling-stroke}svg .plot rect.lost,svg .plot rect.phase,svg .plot rect.fault{stroke-width:1}"
	"svg .plot rect.lane{fill:#f6f6f6}\n"
	"svg .primary-change{stroke-width:2;stroke-dasharray:5 3}svg .rollback{stroke-width:2.5;stroke-dasharray:2 2}"
	"svg .healthy{stroke-width:2;stroke-dasharray:7 3}svg .label-switch{stroke-width:1.5;stroke-dasharray:1 3}svg .outage{stroke-width:3}svg polyline{stroke-width:1.5}\n"
	".zoom-bar{margin:10px 0 0;font-size:13px}.zoom-bar button{font:inherit;min-width:30px;margin-right:4px;"
	"padding:1px 8px;border:1px solid #bbb;border-radius:4px;background:#f7f7f7;cursor:pointer}"
	".zoom-bar .zoom-range{margin:0 10px;font-variant-numeric:tabular-nums}\n";

const char *report_html_style(void)
{
	return style;
}

static void text(FILE *out, const char *s)
{
	report_xml_text(out, s);
}

static void cell(FILE *out, const char *cls, const char *s)
{
	if (cls)
		fprintf(out, "<td class=\"%s\">", cls);
	else
		fputs("<td>", out);
	text(out, s);
	fputs("</td>", out);
}

static void cell_i64(FILE *out, int64_t v)
{
	fprintf(out, "<td class=\"num\">%" PRId64 "</td>", v);
}

static void header(FILE *out, const struct scenario_result *r)
{
	const char *verdict = verdict_name(r->overall);

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", out);
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>bise: ", out);
	text(out, r->scenario->name);
	fprintf(out, " (%s)</title>\n<style>\n%s</style>\n</head>\n<body>\n", verdict, style);
	fputs("<h1>", out);
	text(out, r->scenario->name);
	fprintf(out, " <span class=\"badge %s\">%s</span></h1>\n", verdict,
		r->overall == VERDICT_FAIL ? "FAIL" : "PASS");
	if (r->scenario->description && r->scenario->description[0]) {
		fputs("<p class=\"desc\">", out);
		text(out, r->scenario->description);
		fputs("</p>\n", out);
	}
	fputs("<p class=\"meta\">run ", out);
	text(out, r->run_id);
	fputs(" · backend ", out);
	text(out, r->backend);
	fputs(" · ", out);
	text(out, r->versions);
	fputs(" · host ", out);
	text(out, r->host);
	fprintf(out, " · seed %llu · %d trial%s", (unsigned long long)r->seed, r->ntrials,
		r->ntrials == 1 ? "" : "s");
	if (r->provision_seconds >= 0)
		fprintf(out, " · cluster provisioned in %.2f s", r->provision_seconds);
	fprintf(out, " · bise %s</p>\n", BISE_VERSION);
}

static void verdict_row(FILE *out, const char *trial, const struct slo_spec *slo, const struct verdict *v)
{
	enum verdict_kind k = v ? v->kind : VERDICT_SKIP;

	fprintf(out, "<tr class=\"%s\">", verdict_name(k));
	if (trial)
		cell(out, NULL, trial);
	cell(out, NULL, slo->metric);
	cell(out, NULL, slo->text);
	cell(out, "num", v ? report_measured(v) : "-");
	cell(out, "verdict", verdict_name(k));
	cell(out, NULL, v ? report_verdict_note(v) : "not judged: the trial ended before");
	fputs("</tr>\n", out);
}

static void slo_table(FILE *out, const struct scenario_result *r)
{
	bool several = r->ntrials > 1;
	char trial[16];

	fputs("<h2>SLOs</h2>\n", out);
	if (r->scenario->nslos == 0) {
		fputs("<p>No SLOs in this scenario.</p>\n", out);
		return;
	}
	fprintf(out, "<table class=\"slo\">\n<tr>%s<th>SLO</th><th>threshold</th><th>measured</th>"
		"<th>verdict</th><th>reason</th></tr>\n", several ? "<th>trial</th>" : "");
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
	fputs("</table>\n", out);
}

/* Min/p50/p95/max of every metric observed in some trial. */
static void distribution(FILE *out, const struct scenario_result *r)
{
	char buf[32], unc[32];

	fprintf(out, "<h2>Across %d trials</h2>\n<table class=\"stats\">\n<tr><th>metric</th>"
		"<th>observed in</th><th>min</th><th>p50</th><th>p95</th><th>max</th></tr>\n", r->ntrials);
	for (int id = 0; id < METRIC_COUNT; id++) {
		const struct trial_stats *s = &r->stats[id];

		if (s->observed == 0)
			continue;
		fputs("<tr>", out);
		/* Every figure of the failover row lies within the widest uncertainty of the trials. */
		if (id == METRIC_FAILOVER_TIME)
			report_failover_stat_suffix(r, unc, sizeof(unc));
		else
			unc[0] = '\0';
		str_format(buf, sizeof(buf), "%s%s", metric_name((enum metric_id)id), unc);
		cell(out, NULL, buf);
		fprintf(out, "<td class=\"num\">%d of %d%s</td>", s->observed, s->trials,
			s->never ? " (some never ended)" : "");
		report_metric_format((enum metric_id)id, s->min, buf, sizeof(buf));
		cell(out, "num", buf);
		report_metric_format((enum metric_id)id, s->p50, buf, sizeof(buf));
		cell(out, "num", buf);
		report_metric_format((enum metric_id)id, s->p95, buf, sizeof(buf));
		cell(out, "num", buf);
		report_metric_format((enum metric_id)id, s->max, buf, sizeof(buf));
		cell(out, "num", buf);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* "3163 acknowledged writes lost (3163 acknowledged by gland)": where the loss happened. */
static void lost_by_node(FILE *out, const struct trial_result *t)
{
	const struct metrics *m = &t->metrics;
	const struct timeseries *ts = t->timeseries;
	bool first = true;

	if (!m->readback_seen || m->lost == 0)
		return;
	fprintf(out, " · <span class=\"warn\">%" PRId64 " acknowledged writes lost</span>", m->lost);
	if (!ts)
		return;
	for (int k = 0; k < ts->nnodes; k++) {
		if (ts->lost_by_node[k] == 0)
			continue;
		fprintf(out, "%s%" PRId64 " acknowledged by ", first ? " (" : ", ", ts->lost_by_node[k]);
		text(out, ts->nodes[k]);
		first = false;
	}
	if (!first)
		fputc(')', out);
}

static void trial_headline(FILE *out, const struct trial_result *t)
{
	const struct metrics *m = &t->metrics;
	char buf[64], buf2[32];

	fprintf(out, "<p class=\"headline\">%" PRId64 " writes: %" PRId64 " ok, %" PRId64 " fail, %" PRId64
		" indeterminate", m->attempted, m->ok + m->ok_unreplicated, m->fail, m->indeterminate);
	if (m->outage_seen && m->outage_closed) {
		report_failover_format(m, buf, sizeof(buf));
		fprintf(out, " · <b>writes unavailable for %s</b>", buf);
	} else if (m->outage_seen) {
		fputs(" · <span class=\"warn\">writes never recovered</span>", out);
	}
	if (m->promote_seen) {
		duration_format(m->promotion_dur_us, buf, sizeof(buf));
		fputs(" · new primary <b>", out);
		text(out, m->new_primary);
		fprintf(out, "</b> (timeline %d) seen %s after the fault", m->new_timeline, buf);
		if (m->routing_seen) {
			duration_format(m->routing_dur_us, buf2, sizeof(buf2));
			fprintf(out, ", first write on it %s later", buf2);
		}
		if (m->old_primary[0]) {
			fputs(" (old primary ", out);
			text(out, m->old_primary);
			fputc(')', out);
		}
	}
	/* The platform's role label, where the backend logs one (a Kubernetes watch). */
	if (m->label_switch_seen) {
		duration_format(m->label_switch_dur_us, buf, sizeof(buf));
		fputs(" · primary label on <b>", out);
		text(out, m->label_new_primary);
		fprintf(out, "</b> %s after the fault", buf);
	} else if (m->api_roles_seen && m->fault_seen) {
		fputs(" · no other pod labelled primary after the fault", out);
	}
	if (m->rollback_seen) {
		duration_format(m->t_rollback_us, buf, sizeof(buf));
		fputs(" · <span class=\"warn\">rollback: ", out);
		text(out, m->rollback_node);
		fprintf(out, " primary again on older timeline %d (after %d) at %s</span>", m->rollback_timeline,
			m->rollback_from_timeline, buf);
	}
	if (m->second_outage_seen) {
		duration_format(m->second_outage_start_us, buf2, sizeof(buf2));
		if (m->second_outage_closed) {
			duration_format(m->second_outage_dur_us, buf, sizeof(buf));
			fprintf(out, " · <span class=\"warn\">second outage: writes unavailable again for %s from %s</span>",
				buf, buf2);
		} else {
			fprintf(out, " · <span class=\"warn\">second outage from %s, never recovered</span>", buf2);
		}
	}
	lost_by_node(out, t);
	if (m->healthy_seen && m->healthy_ok) {
		duration_format((int64_t)(m->healthy_seconds * 1e6), buf, sizeof(buf));
		fprintf(out, " · healthy again after %s", buf);
	} else if (m->healthy_seen) {
		fputs(" · <span class=\"warn\">the cluster did not recover</span>", out);
	}
	fputs("</p>\n", out);
	if (!t->completed) {
		fputs("<p class=\"warn\">This trial did not complete: ", out);
		text(out, t->error[0] ? t->error : "no reason recorded");
		fputs("</p>\n", out);
	}
}

static void loss_table(FILE *out, const struct metrics *m)
{
	fputs("<h3>Loss accounting</h3>\n", out);
	if (!m->readback_seen) {
		fputs("<p>No read-back of the final primary in this log: data loss was not measured.</p>\n", out);
		return;
	}
	fputs("<table class=\"loss\">\n<tr><th>acknowledged</th><th>lost</th><th>recovered</th>"
	      "<th>indeterminate missing</th><th>failed found</th><th>phantom</th><th>duplicates</th>"
	      "<th>rows found</th><th>balanced</th></tr>\n<tr>", out);
	cell_i64(out, m->ok + m->ok_unreplicated);
	cell_i64(out, m->lost);
	cell_i64(out, m->recovered);
	cell_i64(out, m->indeterminate_missing);
	cell_i64(out, m->failed_found);
	cell_i64(out, m->phantom);
	cell_i64(out, m->duplicates);
	cell_i64(out, m->found);
	cell(out, m->balanced ? NULL : "verdict", m->balanced ? "yes" : "NO");
	fputs("</tr>\n</table>\n<p class=\"meta\">lost: acknowledged and not found; recovered: "
	      "indeterminate and found; phantom: found but never attempted, plus duplicate copies; "
	      "balanced: rows found = acknowledged found + recovered + failed found + phantom.</p>\n", out);
}

static void trial_section(FILE *out, const struct scenario_result *r, const struct trial_result *t)
{
	fprintf(out, "<h2 id=\"trial-%d\">Trial %d</h2>\n", t->trial, t->trial);
	trial_headline(out, t);
	if (!t->timeseries) {
		fputs("<p class=\"warn\">The event log of this trial could not be read: no timeline.</p>\n", out);
	} else {
		/* The bar stays hidden until the script shows it: without script it could do nothing. */
		fprintf(out, "<div class=\"zoom\" id=\"zoom-%d\" data-tmax=\"%g\">\n<div class=\"zoom-bar\" hidden>"
			"<button data-zoom=\"in\" title=\"zoom in\">+</button><button data-zoom=\"out\" "
			"title=\"zoom out\">&#8722;</button><button data-zoom=\"left\" title=\"earlier\">&#9664;</button>"
			"<button data-zoom=\"right\" title=\"later\">&#9654;</button><button data-zoom=\"reset\">whole "
			"run</button><span class=\"zoom-range\"></span><span class=\"meta\">drag to pan, Ctrl+wheel "
			"to zoom, double-click for the whole run</span></div>\n", t->trial,
			(double)((int64_t)t->timeseries->nbins * t->timeseries->bin_us) / 1e6);
		report_svg_timeline(out, t);
		report_svg_latency(out, t->timeseries);
		if (t->timeseries->nstandbys > 0)
			report_svg_lag(out, t->timeseries);
		else
			fputs("<p class=\"meta\">No replication-lag samples in this log.</p>\n", out);
		fputs("</div>\n", out);
	}
	loss_table(out, &t->metrics);
}

static bool report_html_write(const struct scenario_result *r, FILE *out)
{
	bool charts = false;

	header(out, r);
	slo_table(out, r);
	if (r->ntrials > 1 && r->have_stats)
		distribution(out, r);
	report_fault_timings_html(out, r);
	for (int i = 0; i < r->ntrials; i++) {
		trial_section(out, r, &r->trials[i]);
		charts = charts || r->trials[i].timeseries;
	}
	if (charts)
		fprintf(out, "<script>\n%s</script>\n", report_html_zoom_script());
	fputs("</body>\n</html>\n", out);
	if (ferror(out)) {
		log_error("cannot write report.html");
		return false;
	}
	return true;
}

const struct report_writer report_html = {
	.name = "html",
	.file_name = "report.html",
	.write = report_html_write,
};
