/*
 * html_charts.c - the inline SVG charts of report.html: the primitives every chart shares
 * (html_chart.h: axes, the zoomable plot, fault shading, labels tied to a time) and the
 * latency and replication-lag charts. The timeline is in html_timeline.c.
 */
#include "html_chart.h"
#include "report.h"
#include "units.h"
#include "util.h"

#include <math.h>

static const char *const palette[] = { "#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
				       "#7f7f7f", "#393b79" };

double chart_y(const struct plot *p, double v)
{
	return p->bottom - (p->bottom - CHART_TOP) * (v / p->y_max);
}

double chart_px(const struct plot *p, double t_s)
{
	return CHART_LEFT + CHART_PLOT_W * (t_s / p->t_max_s);
}

double chart_nice_step(double v)
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

double chart_nice_max(double v)
{
	double step = chart_nice_step(v > 0 ? v : 1);

	return ceil((v > 0 ? v : 1) / step) * step;
}

void chart_open(FILE *out, const struct plot *p, const char *cls, const char *title)
{
	fprintf(out, "<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" data-left=\"%.0f\" data-plot-w=\"%.0f\" role=\"img\" "
		"aria-label=\"", cls, CHART_W, p->height, CHART_W, p->height, CHART_LEFT, CHART_PLOT_W);
	report_xml_text(out, title);
	fputs("\">\n", out);
	fprintf(out, "<text x=\"%.1f\" y=\"16\" class=\"title\">", CHART_LEFT);
	report_xml_text(out, title);
	fputs("</text>\n", out);
}

void chart_plot_open(FILE *out, const struct plot *p)
{
	fprintf(out, "<svg class=\"plot\" x=\"%.0f\" y=\"0\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %g %.0f\" "
		"preserveAspectRatio=\"none\">\n", CHART_LEFT, CHART_PLOT_W, p->height, p->t_max_s, p->height);
}

void chart_plot_close(FILE *out)
{
	fputs("</svg>\n", out);
}

void chart_close(FILE *out)
{
	fputs("</svg>\n", out);
}

void chart_value_axis(FILE *out, const struct plot *p, const char *unit, double scale)
{
	double ys = chart_nice_step(p->y_max / scale);

	/* Integer steps: accumulating a float step would drift the labels. */
	for (int i = 0; i * ys * scale <= p->y_max * (1 + 1e-9); i++) {
		double v = i * ys * scale;

		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			CHART_LEFT, chart_y(p, v), CHART_W - CHART_RIGHT, chart_y(p, v), CHART_LEFT - 6,
			chart_y(p, v) + 4, i * ys);
	}
	fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", CHART_LEFT - 6, CHART_TOP - 8);
	report_xml_text(out, unit);
	fputs("</text>\n", out);
}

/*
 * Steps of the time axis, people's steps for clocks; the script (html_zoom.c) has the same
 * table and the same labels, so a zoomed axis reads like the first one.
 */
static const double time_steps[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600 };

static double time_step(double span)
{
	for (size_t i = 0; i < sizeof(time_steps) / sizeof(time_steps[0]); i++)
		if (time_steps[i] >= span / 8)
			return time_steps[i];
	return 7200;
}

/* "12.5 s" while the axis ends before two minutes, then "m:ss" ("61:40", "0:30.5"). */
static void time_label(double t, double t_end, char *buf, size_t len)
{
	double tenths = floor(t * 10 + 0.5);
	int64_t s = (int64_t)(tenths / 10);
	int d = (int)(tenths - (double)s * 10);

	if (t_end < 120) {
		str_format(buf, len, "%g s", tenths / 10);
		return;
	}
	if (d)
		str_format(buf, len, "%lld:%02lld.%d", (long long)(s / 60), (long long)(s % 60), d);
	else
		str_format(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

void chart_time_axis(FILE *out, const struct plot *p, double grid_bottom)
{
	double xs = time_step(p->t_max_s);
	char buf[32];

	fprintf(out, "<g class=\"xaxis\" data-top=\"%.0f\" data-bottom=\"%.0f\">\n", CHART_TOP, grid_bottom);
	for (int i = 0; i * xs <= p->t_max_s + 1e-9; i++) {
		double x = chart_px(p, i * xs);

		time_label(i * xs, p->t_max_s, buf, sizeof(buf));
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			x, CHART_TOP, x, grid_bottom, x, grid_bottom + 16, buf);
	}
	fputs("</g>\n", out);
}

static void label_open(FILE *out, const struct plot *p, double t_s, double end_s, double dx, double y,
		       const char *cls, const char *color)
{
	double x = chart_px(p, t_s);
	/* In the right quarter a label reads leftwards, so it stays inside the chart. */
	bool flip = x > CHART_LEFT + CHART_PLOT_W * 0.75;

	fprintf(out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\"%s data-t=\"%g\" data-dx=\"%g\"", cls ? cls : "tick",
		flip ? x - dx : x + dx, y, flip ? " text-anchor=\"end\"" : "", t_s, dx);
	if (end_s > t_s)
		fprintf(out, " data-end=\"%g\"", end_s);
	if (color)
		fprintf(out, " fill=\"%s\"", color);
	fputc('>', out);
}

void chart_label_open(FILE *out, const struct plot *p, double t_s, double dx, double y, const char *cls,
		      const char *color)
{
	label_open(out, p, t_s, t_s, dx, y, cls, color);
}

void chart_span_label_open(FILE *out, const struct plot *p, double t_s, double end_s, double dx, double y,
			   const char *cls, const char *color)
{
	label_open(out, p, t_s, end_s, dx, y, cls, color);
}

void chart_label_close(FILE *out)
{
	fputs("</text>\n", out);
}

void chart_vline(FILE *out, double t_s, double y0, double y1, const char *cls, const char *color)
{
	fprintf(out, "<line class=\"%s\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"%s\"/>\n", cls, t_s,
		y0, t_s, y1, color);
}

void chart_faults_shade(FILE *out, const struct plot *p, const struct timeseries *ts, double y0, double y1)
{
	(void)p;
	/* Its own colour as a one-pixel outline at any zoom, so an instant fault is still seen. */
	for (size_t i = 0; i < ts->nfaults; i++) {
		const struct ts_fault *f = &ts->faults[i];

		fprintf(out, "<rect class=\"fault\" x=\"%g\" y=\"%.1f\" width=\"%g\" height=\"%.1f\" fill=\"%s\" "
			"stroke=\"%s\"><title>", (double)f->start_us / 1e6, y0, (double)(f->end_us - f->start_us) / 1e6,
			y1 - y0, COLOR_FAULT, COLOR_FAULT);
		report_xml_text(out, f->fault);
		fputc(' ', out);
		report_xml_text(out, f->node);
		fputs(f->closed ? "" : " (not reverted in this log)", out);
		fputs("</title></rect>\n", out);
	}
}

void chart_faults_labels(FILE *out, const struct plot *p, const struct timeseries *ts)
{
	for (size_t i = 0; i < ts->nfaults; i++) {
		const struct ts_fault *f = &ts->faults[i];

		chart_span_label_open(out, p, (double)f->start_us / 1e6, (double)f->end_us / 1e6, 3, CHART_TOP + 12,
				      "fault-label", NULL);
		report_xml_text(out, f->fault);
		fputc(' ', out);
		report_xml_text(out, f->node);
		chart_label_close(out);
	}
}

void chart_legend(FILE *out, double x, double y, const char *color, const char *label)
{
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x, y - 9, color, x + 14, y);
	report_xml_text(out, label);
	fputs("</text>\n", out);
}

/* A series of the bins: its value in bin b (standby k for lag), < 0 where it has none. */
typedef double (*bin_value_fn)(const struct ts_bin *b, int k);

static double p50_value(const struct ts_bin *b, int k)
{
	(void)k;
	return b->ok ? b->latency_p50_ms : -1;
}

static double p95_value(const struct ts_bin *b, int k)
{
	(void)k;
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
		fprintf(out, "%s%g,%.1f", open ? " " : "", ((double)b->t_us + (double)ts->bin_us / 2.0) / 1e6,
			chart_y(p, v));
		open = true;
	}
	if (open)
		fputs("\"/>\n", out);
}

static void span_of(struct plot *p, const struct timeseries *ts)
{
	p->t_max_s = (double)((int64_t)ts->nbins * ts->bin_us) / 1e6;
}

void report_svg_latency(FILE *out, const struct timeseries *ts)
{
	struct plot p = { 200, 166, 1, 1 };

	span_of(&p, ts);
	for (size_t i = 0; i < ts->nbins; i++)
		if (ts->bins[i].ok && ts->bins[i].latency_p95_ms > p.y_max)
			p.y_max = ts->bins[i].latency_p95_ms;
	p.y_max = chart_nice_max(p.y_max);
	chart_open(out, &p, "latency", "Latency of acknowledged writes (p50, p95 per 100 ms)");
	chart_value_axis(out, &p, "ms", 1);
	chart_time_axis(out, &p, p.bottom);
	chart_plot_open(out, &p);
	chart_faults_shade(out, &p, ts, CHART_TOP, p.bottom);
	polyline(out, &p, ts, p50_value, 0, "p50", palette[0]);
	polyline(out, &p, ts, p95_value, 0, "p95", palette[3]);
	chart_plot_close(out);
	chart_legend(out, CHART_W - 200, 16, palette[0], "p50");
	chart_legend(out, CHART_W - 140, 16, palette[3], "p95");
	chart_close(out);
}

/* The power of 1024 lag reads best in at the chart's top: bytes, KiB, MiB or GiB. */
static double lag_unit(double max, const char **name)
{
	static const char *const names[] = { "bytes", "KiB", "MiB", "GiB" };
	double scale = 1;
	int u = 0;

	while (u < 3 && max >= 1024 * scale) {
		scale *= 1024;
		u++;
	}
	*name = names[u];
	return scale;
}

void report_svg_lag(FILE *out, const struct timeseries *ts)
{
	struct plot p = { 220, 186, 1, 1 };
	const char *unit;
	double scale;

	span_of(&p, ts);
	for (size_t i = 0; i < ts->nbins; i++)
		for (int k = 0; k < ts->nstandbys; k++)
			if (ts->bins[i].lag_bytes[k] > p.y_max)
				p.y_max = ts->bins[i].lag_bytes[k];
	scale = lag_unit(p.y_max, &unit);
	p.y_max = chart_nice_max(p.y_max / scale) * scale;
	chart_open(out, &p, "lag", "Replication lag per standby (primary position - replay, max per 100 ms)");
	chart_value_axis(out, &p, unit, scale);
	chart_time_axis(out, &p, p.bottom);
	chart_plot_open(out, &p);
	chart_faults_shade(out, &p, ts, CHART_TOP, p.bottom);
	for (int k = 0; k < ts->nstandbys; k++)
		polyline(out, &p, ts, lag_value, k, "lag", palette[k % (int)(sizeof(palette) / sizeof(palette[0]))]);
	chart_plot_close(out);
	for (int k = 0; k < ts->nstandbys; k++)
		chart_legend(out, CHART_W - 100.0 * (ts->nstandbys - k), 16,
			     palette[k % (int)(sizeof(palette) / sizeof(palette[0]))], ts->standbys[k]);
	chart_close(out);
}
