/*
 * html_charts.c - the inline SVG charts of report.html, drawn from a trial's 100 ms bins:
 * writes per bin (ok stacked with errors) with faults shaded and primary changes marked,
 * latency of acknowledged writes, and replication lag per standby. No script, no network.
 */
#include "report.h"
#include "units.h"
#include "util.h"

#include <math.h>

#define CHART_W 1100.0
#define LEFT 64.0
#define RIGHT 16.0
#define TOP 34.0
#define BOTTOM 34.0

/* Colours the render test looks for in the screenshot: keep them in step with it. */
#define COLOR_OK "#2ca02c"
#define COLOR_FAIL "#d62728"
#define COLOR_INDETERMINATE "#ff7f0e"
#define COLOR_FAULT "#fde9a9"
#define COLOR_PRIMARY "#1f4e9c"
#define COLOR_OUTAGE "#7b1fa2"

static const char *const palette[] = { "#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
				       "#7f7f7f", "#393b79" };

struct plot {
	double height;  /* of the whole svg */
	double t_max_s; /* right edge of the x axis */
	double y_max;   /* top of the y axis */
};

static double px_x(const struct plot *p, double t_s)
{
	return LEFT + (CHART_W - LEFT - RIGHT) * (t_s / p->t_max_s);
}

static double px_y(const struct plot *p, double v)
{
	return p->height - BOTTOM - (p->height - TOP - BOTTOM) * (v / p->y_max);
}

/* 1, 2 or 5 times a power of ten, at least v / 6: four to six grid lines. */
static double nice_step(double v)
{
	double raw = v / 6, mag = pow(10, floor(log10(raw > 0 ? raw : 1)));

	if (raw <= mag)
		return mag;
	if (raw <= 2 * mag)
		return 2 * mag;
	if (raw <= 5 * mag)
		return 5 * mag;
	return 10 * mag;
}

static double nice_max(double v)
{
	double step = nice_step(v > 0 ? v : 1);

	return ceil((v > 0 ? v : 1) / step) * step;
}

static void svg_open(FILE *out, const struct plot *p, const char *id, const char *title)
{
	fprintf(out, "<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
		id, CHART_W, p->height, CHART_W, p->height);
	report_xml_text(out, title);
	fputs("\">\n", out);
	fprintf(out, "<text x=\"%.1f\" y=\"16\" class=\"title\">", LEFT);
	report_xml_text(out, title);
	fputs("</text>\n", out);
}

/* Time grid labelled in seconds, value grid labelled in unit. */
static void axes(FILE *out, const struct plot *p, const char *unit)
{
	double xs = nice_step(p->t_max_s), ys = nice_step(p->y_max);

	/* Integer steps: accumulating a float step would drift the labels. */
	for (int i = 0; i * xs <= p->t_max_s + 1e-9; i++) {
		double t = i * xs;

		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g s</text>\n",
			px_x(p, t), TOP, px_x(p, t), p->height - BOTTOM, px_x(p, t), p->height - BOTTOM + 16, t);
	}
	for (int i = 0; i * ys <= p->y_max + 1e-9; i++) {
		double v = i * ys;

		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			LEFT, px_y(p, v), CHART_W - RIGHT, px_y(p, v), LEFT - 6, px_y(p, v) + 4, v);
	}
	fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", LEFT - 6, TOP - 8);
	report_xml_text(out, unit);
	fputs("</text>\n", out);
}

static void faults(FILE *out, const struct plot *p, const struct timeseries *ts, bool labels)
{
	for (size_t i = 0; i < ts->nfaults; i++) {
		const struct ts_fault *f = &ts->faults[i];
		double x0 = px_x(p, (double)f->start_us / 1e6), x1 = px_x(p, (double)f->end_us / 1e6);

		fprintf(out, "<rect class=\"fault\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			"<title>", x0, TOP, x1 - x0 > 1 ? x1 - x0 : 1, p->height - TOP - BOTTOM, COLOR_FAULT);
		report_xml_text(out, f->fault);
		fputc(' ', out);
		report_xml_text(out, f->node);
		fputs(f->closed ? "" : " (not reverted in this log)", out);
		fputs("</title></rect>\n", out);
		if (!labels)
			continue;
		fprintf(out, "<text class=\"fault-label\" x=\"%.1f\" y=\"%.1f\">", x0 + 3, TOP + 12);
		report_xml_text(out, f->fault);
		fputc(' ', out);
		report_xml_text(out, f->node);
		fputs("</text>\n", out);
	}
}

static void primary_changes(FILE *out, const struct plot *p, const struct timeseries *ts)
{
	for (size_t i = 0; i < ts->nchanges; i++) {
		const struct ts_change *c = &ts->changes[i];
		double x = px_x(p, (double)c->t_us / 1e6);

		/* The first primary seen is the starting point, not a change. */
		if (!c->from[0])
			continue;
		fprintf(out, "<line class=\"primary-change\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"%s\"/>\n<text class=\"primary-label\" x=\"%.1f\" y=\"%.1f\" fill=\"%s\">new primary ",
			x, TOP, x, p->height - BOTTOM, COLOR_PRIMARY, x + 4, TOP + 26, COLOR_PRIMARY);
		report_xml_text(out, c->to);
		fprintf(out, " (timeline %d)</text>\n", c->timeline);
	}
}

/* The write-unavailability window as a bracket under the title. */
static void outage(FILE *out, const struct plot *p, const struct metrics *m)
{
	double x0, x1;
	char buf[64];

	if (!m->outage_seen)
		return;
	x0 = px_x(p, (double)m->outage_start_us / 1e6);
	x1 = m->outage_closed ? px_x(p, (double)m->outage_end_us / 1e6) : CHART_W - RIGHT;
	/* With the uncertainty of its edges, as the logs give it. */
	if (m->outage_closed)
		report_failover_format(m, buf, sizeof(buf));
	else
		str_copy(buf, sizeof(buf), "never closed");
	fprintf(out, "<line class=\"outage\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
		"<text class=\"outage-label\" x=\"%.1f\" y=\"%.1f\" fill=\"%s\">writes unavailable %s</text>\n",
		x0, TOP - 4, x1, TOP - 4, COLOR_OUTAGE, x1 + 4, TOP, COLOR_OUTAGE, buf);
}

/* One tick on the outage bracket at t_us, with a tooltip. */
static void recovery_tick(FILE *out, const struct plot *p, int64_t t_us, const char *cls, const char *what,
			  int64_t from_start_us)
{
	double x = px_x(p, (double)t_us / 1e6);
	char buf[32];

	duration_format(from_start_us, buf, sizeof(buf));
	fprintf(out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-width=\"2\"><title>%s %s after the window opened</title></line>\n",
		cls, x, TOP - 10, x, TOP + 2, COLOR_OUTAGE, what, buf);
}

/*
 * The server's recovery apart from the client's: where the first connection was accepted
 * and where the first write was acknowledged, and the interval in which the logs place the
 * return (a band on the bracket).
 */
static void recovery_markers(FILE *out, const struct plot *p, const struct metrics *m)
{
	double x0, x1;

	if (!m->outage_closed)
		return;
	x0 = px_x(p, (double)m->outage_end_lo_us / 1e6);
	x1 = px_x(p, (double)m->outage_end_hi_us / 1e6);
	fprintf(out, "<rect class=\"return-interval\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"6\" "
		"fill=\"%s\" fill-opacity=\"0.3\"><title>service returned in this interval</title></rect>\n",
		x0, TOP - 7, x1 - x0 > 1 ? x1 - x0 : 1, COLOR_OUTAGE);
	if (m->accept_seen)
		recovery_tick(out, p, m->t_accept_us, "server-accept", "server accepted a connection",
			      m->accept_dur_us);
	recovery_tick(out, p, m->outage_end_us, "first-ack", "first write acknowledged", m->wuw_dur_us);
}

static void legend(FILE *out, double x, double y, const char *color, const char *label)
{
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x, y - 9, color, x + 14, y);
	report_xml_text(out, label);
	fputs("</text>\n", out);
}

static void bar(FILE *out, double x, double w, double y0, double y1, const char *cls, const char *color)
{
	if (y0 - y1 < 0.05)
		return;
	fprintf(out, "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
		cls, x, y1, w, y0 - y1, color);
}

void report_svg_timeline(FILE *out, const struct trial_result *t)
{
	const struct timeseries *ts = t->timeseries;
	struct plot p = { 320, 1, 1 };
	double w;

	p.t_max_s = (double)((int64_t)ts->nbins * ts->bin_us) / 1e6;
	for (size_t i = 0; i < ts->nbins; i++) {
		const struct ts_bin *b = &ts->bins[i];
		double total = b->ok_per_s + b->fail_per_s + b->indeterminate_per_s;

		if (total > p.y_max)
			p.y_max = total;
	}
	p.y_max = nice_max(p.y_max);
	w = px_x(&p, (double)ts->bin_us / 1e6) - LEFT;
	svg_open(out, &p, "timeline", "Writes per second (100 ms bins)");
	faults(out, &p, ts, true);
	axes(out, &p, "writes/s");
	for (size_t i = 0; i < ts->nbins; i++) {
		const struct ts_bin *b = &ts->bins[i];
		double x = px_x(&p, (double)b->t_us / 1e6), y = 0;

		bar(out, x, w, px_y(&p, y), px_y(&p, y + b->ok_per_s), "ok", COLOR_OK);
		y += b->ok_per_s;
		bar(out, x, w, px_y(&p, y), px_y(&p, y + b->fail_per_s), "fail", COLOR_FAIL);
		y += b->fail_per_s;
		bar(out, x, w, px_y(&p, y), px_y(&p, y + b->indeterminate_per_s), "indeterminate",
		    COLOR_INDETERMINATE);
	}
	primary_changes(out, &p, ts);
	outage(out, &p, &t->metrics);
	recovery_markers(out, &p, &t->metrics);
	legend(out, CHART_W - 430, 16, COLOR_OK, "ok");
	legend(out, CHART_W - 380, 16, COLOR_FAIL, "fail");
	legend(out, CHART_W - 330, 16, COLOR_INDETERMINATE, "indeterminate");
	legend(out, CHART_W - 230, 16, COLOR_FAULT, "fault");
	legend(out, CHART_W - 170, 16, COLOR_PRIMARY, "primary change");
	fputs("</svg>\n", out);
}

/* A series of the bins: its value in bin b (standby k for lag), < 0 where it has none. */
typedef double (*bin_value_fn)(const struct ts_bin *b, int k);

static double p50_value(const struct ts_bin *b, int k)
{
	return b->ok ? b->latency_p50_ms : -1;
}

static double p95_value(const struct ts_bin *b, int k)
{
	return b->ok ? b->latency_p95_ms : -1;
}

static double lag_value(const struct ts_bin *b, int k)
{
	return b->lag_bytes[k];
}

/*
 * One polyline per series. Samples sparser than the bins (the watcher polls every 200 ms)
 * are joined; a gap longer than GAP_US breaks the line, so an outage shows as one.
 */
#define GAP_US 1000000

static void polyline(FILE *out, const struct plot *p, const struct timeseries *ts, bin_value_fn value,
		     int k, const char *cls, const char *color)
{
	bool open = false;
	size_t last = 0;

	for (size_t i = 0; i < ts->nbins; i++) {
		const struct ts_bin *b = &ts->bins[i];
		double v = value(b, k);

		if (v < 0)
			continue;
		if (open && (int64_t)(i - last) * ts->bin_us > GAP_US) {
			fputs("\"/>\n", out);
			open = false;
		}
		last = i;
		if (v > p->y_max)
			v = p->y_max; /* clipped: the table has the exact maximum */
		if (!open)
			fprintf(out, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" points=\"", cls, color);
		fprintf(out, "%s%.1f,%.1f", open ? " " : "", px_x(p, ((double)b->t_us + ts->bin_us / 2.0) / 1e6),
			px_y(p, v));
		open = true;
	}
	if (open)
		fputs("\"/>\n", out);
}

void report_svg_latency(FILE *out, const struct timeseries *ts)
{
	struct plot p = { 200, 1, 1 };

	p.t_max_s = (double)((int64_t)ts->nbins * ts->bin_us) / 1e6;
	for (size_t i = 0; i < ts->nbins; i++)
		if (ts->bins[i].ok && ts->bins[i].latency_p95_ms > p.y_max)
			p.y_max = ts->bins[i].latency_p95_ms;
	p.y_max = nice_max(p.y_max);
	svg_open(out, &p, "latency", "Latency of acknowledged writes (p50, p95 per 100 ms)");
	faults(out, &p, ts, false);
	axes(out, &p, "ms");
	polyline(out, &p, ts, p50_value, 0, "p50", palette[0]);
	polyline(out, &p, ts, p95_value, 0, "p95", palette[3]);
	legend(out, CHART_W - 200, 16, palette[0], "p50");
	legend(out, CHART_W - 140, 16, palette[3], "p95");
	fputs("</svg>\n", out);
}

void report_svg_lag(FILE *out, const struct timeseries *ts)
{
	struct plot p = { 220, 1, 1 };

	p.t_max_s = (double)((int64_t)ts->nbins * ts->bin_us) / 1e6;
	for (size_t i = 0; i < ts->nbins; i++)
		for (int k = 0; k < ts->nstandbys; k++)
			if (ts->bins[i].lag_bytes[k] > p.y_max)
				p.y_max = ts->bins[i].lag_bytes[k];
	p.y_max = nice_max(p.y_max);
	svg_open(out, &p, "lag", "Replication lag per standby (primary position - replay, max per 100 ms)");
	faults(out, &p, ts, false);
	axes(out, &p, "bytes");
	for (int k = 0; k < ts->nstandbys; k++) {
		const char *color = palette[k % (int)(sizeof(palette) / sizeof(palette[0]))];

		polyline(out, &p, ts, lag_value, k, "lag", color);
		legend(out, CHART_W - 100.0 * (ts->nstandbys - k), 16, color, ts->standbys[k]);
	}
	fputs("</svg>\n", out);
}
