/*
 * html_timeline.c - the timeline of a trial in report.html: writes per second (ok stacked
 * with errors) with faults shaded, primary changes, a rollback and the healthy mark, the
 * write outages bracketed above; under it, lanes: the failover phases as a bar and, per
 * node, the lost writes where and when that node acknowledged them.
 *
 * Each part is one function of the drawing below, over data the judge computed (metrics
 * and bins); a new mark is one more function and one more call in report_svg_timeline.
 */
#include "html_chart.h"
#include "report.h"
#include "units.h"
#include "util.h"

#include <string.h>

#define MAIN_H 252.0  /* the writes plot */
#define LANE_GAP 8.0
#define LANE_H 22.0
#define AXIS_H 26.0   /* time labels under the last lane */

/* Where each part of the chart lies, from what the trial has to show. */
struct timeline {
	struct plot p;
	const struct timeseries *ts;
	const struct metrics *m;
	double phase_y;         /* top of the phases lane; < 0 without one */
	double lost_y;          /* top of the first lost-writes lane */
	int lost_lanes;         /* nodes with lost writes */
	double grid_bottom;     /* bottom of the last lane */
};

/* The phases lane needs a promotion: without one there is no failover to split up. */
static bool has_phases(const struct metrics *m)
{
	return m->fault_seen && m->promote_seen;
}

static void layout(struct timeline *tl, const struct trial_result *t)
{
	double y;

	memset(tl, 0, sizeof(*tl));
	tl->ts = t->timeseries;
	tl->m = &t->metrics;
	tl->p.t_max_s = (double)((int64_t)tl->ts->nbins * tl->ts->bin_us) / 1e6;
	tl->p.bottom = CHART_TOP + MAIN_H;
	tl->p.y_max = 1;
	for (size_t i = 0; i < tl->ts->nbins; i++) {
		const struct ts_bin *b = &tl->ts->bins[i];
		double total = b->ok_per_s + b->fail_per_s + b->indeterminate_per_s + b->connect_fail_per_s;

		if (total > tl->p.y_max)
			tl->p.y_max = total;
	}
	tl->p.y_max = chart_nice_max(tl->p.y_max);
	y = tl->p.bottom + LANE_GAP;
	tl->phase_y = -1;
	if (has_phases(tl->m)) {
		tl->phase_y = y;
		y += LANE_H;
	}
	tl->lost_y = y;
	for (int k = 0; k < tl->ts->nnodes; k++)
		if (tl->ts->lost_by_node[k] > 0)
			tl->lost_lanes++;
	y += tl->lost_lanes * LANE_H;
	tl->grid_bottom = y > tl->p.bottom + LANE_GAP ? y : tl->p.bottom;
	tl->p.height = tl->grid_bottom + AXIS_H;
}

/* One stacked series as a step-shaped area: level(k) on top, level(k - 1) under it. */
static double level(const struct ts_bin *b, int k)
{
	double v = 0;

	if (k >= 0)
		v += b->ok_per_s;
	if (k >= 1)
		v += b->fail_per_s;
	if (k >= 2)
		v += b->indeterminate_per_s;
	if (k >= 3)
		v += b->connect_fail_per_s;
	return v;
}

static void area(FILE *out, const struct timeline *tl, int k, const char *cls, const char *color)
{
	const struct timeseries *ts = tl->ts;
	double bin_s = (double)ts->bin_us / 1e6, y = 0;
	bool any = false;

	for (size_t i = 0; i < ts->nbins && !any; i++)
		any = level(&ts->bins[i], k) > level(&ts->bins[i], k - 1);
	if (!any)
		return;
	/* Along the top from the left, back along the bottom: one path, H and V steps only. */
	y = chart_y(&tl->p, level(&ts->bins[0], k));
	fprintf(out, "<path class=\"%s\" fill=\"%s\" d=\"M0,%.1f", cls, color, y);
	for (size_t i = 0; i < ts->nbins; i++) {
		double v = chart_y(&tl->p, level(&ts->bins[i], k));

		if (v != y)
			fprintf(out, "V%.1f", v);
		y = v;
		fprintf(out, "H%g", (double)(i + 1) * bin_s);
	}
	for (size_t i = ts->nbins; i-- > 0;) {
		double v = chart_y(&tl->p, level(&ts->bins[i], k - 1));

		if (v != y)
			fprintf(out, "V%.1f", v);
		y = v;
		fprintf(out, "H%g", (double)i * bin_s);
	}
	fputs("Z\"/>\n", out);
}

static void primary_changes(FILE *out, const struct timeline *tl, bool labels)
{
	for (size_t i = 0; i < tl->ts->nchanges; i++) {
		const struct ts_change *c = &tl->ts->changes[i];
		double t = (double)c->t_us / 1e6;

		/* The first primary seen is the starting point, not a change. */
		if (!c->from[0])
			continue;
		if (!labels) {
			chart_vline(out, t, CHART_TOP, tl->p.bottom, "primary-change", COLOR_PRIMARY);
			continue;
		}
		chart_label_open(out, &tl->p, t, 4, CHART_TOP + 26, "primary-label", COLOR_PRIMARY);
		fputs("new primary ", out);
		report_xml_text(out, c->to);
		fprintf(out, " (timeline %d)", c->timeline);
		chart_label_close(out);
	}
}

/* The old primary back as the only primary on an older timeline. */
static void rollback(FILE *out, const struct timeline *tl, bool labels)
{
	const struct metrics *m = tl->m;
	double t = (double)m->t_rollback_us / 1e6;

	if (!m->rollback_seen)
		return;
	if (!labels) {
		chart_vline(out, t, CHART_TOP, tl->p.bottom, "rollback", COLOR_ROLLBACK);
		return;
	}
	chart_label_open(out, &tl->p, t, 4, CHART_TOP + 40, "rollback-label", COLOR_ROLLBACK);
	fputs("rollback: ", out);
	report_xml_text(out, m->rollback_node);
	fprintf(out, " primary again on timeline %d", m->rollback_timeline);
	chart_label_close(out);
}

/* The platform's primary label moved (a Kubernetes watch), where the backend logs one. */
static void label_switch(FILE *out, const struct timeline *tl, bool labels)
{
	const struct metrics *m = tl->m;
	double t = (double)m->t_label_switch_us / 1e6;

	if (!m->label_switch_seen)
		return;
	if (!labels) {
		chart_vline(out, t, CHART_TOP, tl->p.bottom, "label-switch", COLOR_LABEL);
		return;
	}
	chart_label_open(out, &tl->p, t, 4, CHART_TOP + 68, "label-switch-label", COLOR_LABEL);
	fputs("primary label on ", out);
	report_xml_text(out, m->label_new_primary);
	chart_label_close(out);
}

/* Healthy again: the end of the wait for health, across the chart and its lanes. */
static void healthy(FILE *out, const struct timeline *tl, bool labels)
{
	const struct metrics *m = tl->m;
	double t = (double)m->t_healthy_us / 1e6;

	if (!m->healthy_seen || !m->healthy_ok)
		return;
	if (!labels) {
		chart_vline(out, t, CHART_TOP, tl->grid_bottom, "healthy", COLOR_HEALTHY);
		return;
	}
	chart_label_open(out, &tl->p, t, 4, CHART_TOP + 54, "healthy-label", COLOR_HEALTHY);
	fputs("healthy again", out);
	chart_label_close(out);
}

/* One write outage as a bracket above the plot; end < 0: it never closed. */
static void bracket(FILE *out, const struct timeline *tl, int64_t start_us, int64_t end_us, int64_t dur_us,
		    const char *what, bool labels)
{
	double t0 = (double)start_us / 1e6, t1 = end_us >= 0 ? (double)end_us / 1e6 : tl->p.t_max_s;
	char buf[64];

	if (!labels) {
		fprintf(out, "<line class=\"outage\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"%s\"/>\n", t0,
			CHART_TOP - 4, t1, CHART_TOP - 4, COLOR_OUTAGE);
		return;
	}
	/* The main window with the uncertainty of its edges, as the logs give it. */
	if (end_us >= 0 && start_us == tl->m->outage_start_us && tl->m->outage_closed)
		report_failover_format(tl->m, buf, sizeof(buf));
	else if (end_us >= 0)
		duration_format(dur_us, buf, sizeof(buf));
	else
		str_copy(buf, sizeof(buf), "never closed");
	chart_label_open(out, &tl->p, t1, 4, CHART_TOP, "outage-label", COLOR_OUTAGE);
	fprintf(out, "%s %s", what, buf);
	chart_label_close(out);
}

static void outages(FILE *out, const struct timeline *tl, bool labels)
{
	const struct metrics *m = tl->m;

	if (m->outage_seen)
		bracket(out, tl, m->outage_start_us, m->outage_closed ? m->outage_end_us : -1, m->wuw_dur_us,
			"writes unavailable", labels);
	if (m->second_outage_seen)
		bracket(out, tl, m->second_outage_start_us, m->second_outage_closed ? m->second_outage_end_us : -1,
			m->second_outage_dur_us, "again", labels);
}

/* One tick across the outage bracket at t_us, with a tooltip. */
static void recovery_tick(FILE *out, int64_t t_us, const char *cls, const char *what, int64_t from_start_us)
{
	double t = (double)t_us / 1e6;
	char buf[32];

	duration_format(from_start_us, buf, sizeof(buf));
	fprintf(out, "<line class=\"%s\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-width=\"2\"><title>%s %s after the window opened</title></line>\n",
		cls, t, CHART_TOP - 10, t, CHART_TOP + 2, COLOR_OUTAGE, what, buf);
}

/*
 * The server's recovery apart from the client's: where a server first accepted a connection
 * in the outage, where the first write was acknowledged, and the interval in which the logs
 * place the return (a band on the bracket; at least a pixel wide through its stroke).
 */
static void recovery_marks(FILE *out, const struct timeline *tl, bool labels)
{
	const struct metrics *m = tl->m;
	double lo, hi;

	if (labels || !m->outage_closed)
		return;
	lo = (double)m->outage_end_lo_us / 1e6;
	hi = (double)m->outage_end_hi_us / 1e6;
	fprintf(out, "<rect class=\"return-interval\" x=\"%g\" y=\"%.1f\" width=\"%g\" height=\"6\" "
		"fill=\"%s\" fill-opacity=\"0.3\" stroke=\"%s\" stroke-opacity=\"0.3\">"
		"<title>service returned in this interval</title></rect>\n",
		lo, CHART_TOP - 7, hi > lo ? hi - lo : 0, COLOR_OUTAGE, COLOR_OUTAGE);
	if (m->accept_seen)
		recovery_tick(out, m->t_accept_us, "server-accept", "server accepted a connection", m->accept_dur_us);
	recovery_tick(out, m->outage_end_us, "first-ack", "first write acknowledged", m->wuw_dur_us);
}

static void lane_name(FILE *out, double y, const char *name)
{
	fprintf(out, "<text class=\"lane-name\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", CHART_LEFT - 6, y + 15);
	report_xml_text(out, name);
	fputs("</text>\n", out);
}

/* One phase of the failover as a segment of the bar, from t0 to t1 (microseconds). */
static void phase(FILE *out, const struct timeline *tl, int64_t t0, int64_t t1, const char *cls,
		  const char *color, const char *name)
{
	char buf[32];

	duration_format(t1 - t0, buf, sizeof(buf));
	fprintf(out, "<rect class=\"phase %s\" x=\"%g\" y=\"%.1f\" width=\"%g\" height=\"%.1f\" fill=\"%s\" "
		"stroke=\"%s\"><title>%s %s</title></rect>\n", cls, (double)t0 / 1e6, tl->phase_y + 3,
		(double)(t1 - t0) / 1e6, LANE_H - 6, color, color, name, buf);
}

/* "name 1.08s" after the previous one of the bar's label. */
static void phase_text(FILE *out, bool *first, const char *name, int64_t dur_us)
{
	char buf[32];

	duration_format(dur_us, buf, sizeof(buf));
	fprintf(out, "%s%s %s", *first ? "" : " · ", name, buf);
	*first = false;
}

/*
 * Detection (fault -> a control-plane sign), promotion (-> a primary on a newer timeline)
 * and routing (-> the first ack on it). Where the log has no control-plane sign, detection
 * cannot be told apart from promotion and the first segment covers both. The bar carries
 * one label from its start, so short phases never write over each other.
 */
static void phases(FILE *out, const struct timeline *tl, bool labels)
{
	const struct metrics *m = tl->m;
	int64_t from = m->t_detect_us, end = m->routing_seen ? m->t_ok_new_us : m->t_promote_us;
	const char *first_name = m->detect_seen ? "promotion" : "detection + promotion";
	bool first = true;

	if (tl->phase_y < 0)
		return;
	if (!m->detect_seen)
		from = m->t_fault_us;
	if (!labels) {
		if (!m->promote_seen)
			return;
		if (m->detect_seen)
			phase(out, tl, m->t_fault_us, m->t_detect_us, "detection", "#ffb74d", "detection");
		phase(out, tl, from, m->t_promote_us, "promotion", "#7986cb", first_name);
		if (m->routing_seen)
			phase(out, tl, m->t_promote_us, m->t_ok_new_us, "routing", "#81c784", "routing");
		return;
	}
	lane_name(out, tl->phase_y, "failover");
	if (!m->promote_seen)
		return;
	chart_span_label_open(out, &tl->p, (double)m->t_fault_us / 1e6, (double)end / 1e6, 4, tl->phase_y + 15,
			      "phase-label", NULL);
	if (m->detect_seen)
		phase_text(out, &first, "detection", m->detection_dur_us);
	phase_text(out, &first, first_name, m->t_promote_us - from);
	if (m->routing_seen)
		phase_text(out, &first, "routing", m->routing_dur_us);
	chart_label_close(out);
}

/* Per node that acknowledged writes later lost: a mark per bin, its height the count. */
static void lost_lanes(FILE *out, const struct timeline *tl, bool labels)
{
	const struct timeseries *ts = tl->ts;
	double y = tl->lost_y, bin_s = (double)ts->bin_us / 1e6;
	char buf[48];

	for (int k = 0; k < ts->nnodes; k++) {
		if (ts->lost_by_node[k] == 0)
			continue;
		if (labels) {
			str_format(buf, sizeof(buf), "lost on %s", ts->nodes[k][0] ? ts->nodes[k] : "?");
			lane_name(out, y, buf);
			y += LANE_H;
			continue;
		}
		fprintf(out, "<rect class=\"lane\" x=\"0\" y=\"%.1f\" width=\"%g\" height=\"%.1f\"/>\n", y + 1,
			tl->p.t_max_s, LANE_H - 2);
		for (size_t i = 0; i < ts->nbins; i++) {
			const struct ts_bin *b = &ts->bins[i];
			double h;

			if (b->lost[k] == 0)
				continue;
			h = 3 + (LANE_H - 7) * (double)b->lost[k] / (double)ts->lost_bin_max[k];
			fputs("<rect class=\"lost\" data-node=\"", out);
			report_xml_text(out, ts->nodes[k]);
			fprintf(out, "\" data-n=\"%lld\" x=\"%g\" y=\"%.1f\" width=\"%g\" height=\"%.1f\" fill=\"%s\" "
				"stroke=\"%s\"><title>%lld acknowledged by ", (long long)b->lost[k], (double)b->t_us / 1e6,
				y + LANE_H - 2 - h, bin_s, h, COLOR_LOST, COLOR_LOST, (long long)b->lost[k]);
			report_xml_text(out, ts->nodes[k]);
			fprintf(out, " at %g s, lost</title></rect>\n", (double)b->t_us / 1e6);
		}
		y += LANE_H;
	}
}

void report_svg_timeline(FILE *out, const struct trial_result *t)
{
	struct timeline tl;
	double x;

	layout(&tl, t);
	chart_open(out, &tl.p, "timeline", "Writes per second (100 ms bins)");
	chart_value_axis(out, &tl.p, "writes/s", 1);
	chart_time_axis(out, &tl.p, tl.grid_bottom);
	chart_plot_open(out, &tl.p);
	chart_faults_shade(out, &tl.p, tl.ts, CHART_TOP, tl.grid_bottom);
	area(out, &tl, 0, "ok", COLOR_OK);
	area(out, &tl, 1, "fail", COLOR_FAIL);
	area(out, &tl, 2, "indeterminate", COLOR_INDETERMINATE);
	area(out, &tl, 3, "connect-fail", COLOR_CONNECT_FAIL);
	primary_changes(out, &tl, false);
	rollback(out, &tl, false);
	label_switch(out, &tl, false);
	outages(out, &tl, false);
	recovery_marks(out, &tl, false);
	phases(out, &tl, false);
	lost_lanes(out, &tl, false);
	healthy(out, &tl, false);
	chart_plot_close(out);
	/* The texts over the plot, each tied to its time. */
	chart_faults_labels(out, &tl.p, tl.ts);
	primary_changes(out, &tl, true);
	rollback(out, &tl, true);
	label_switch(out, &tl, true);
	outages(out, &tl, true);
	phases(out, &tl, true);
	lost_lanes(out, &tl, true);
	healthy(out, &tl, true);
	x = CHART_W - 630;
	chart_legend(out, x, 16, COLOR_OK, "ok");
	chart_legend(out, x += 40, 16, COLOR_FAIL, "fail");
	chart_legend(out, x += 44, 16, COLOR_INDETERMINATE, "indeterminate");
	chart_legend(out, x += 104, 16, COLOR_CONNECT_FAIL, "no connection");
	chart_legend(out, x += 110, 16, COLOR_FAULT, "fault");
	chart_legend(out, x += 52, 16, COLOR_PRIMARY, "primary change");
	if (tl.lost_lanes)
		chart_legend(out, x += 112, 16, COLOR_LOST, "lost writes");
	chart_close(out);
}
