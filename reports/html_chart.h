/*
 * html_chart.h - what the chart files of report.html share (html_charts.c, html_timeline.c):
 * the geometry of a chart and its drawing primitives. Not part of the reports interface.
 *
 * Every chart is an outer <svg> of CHART_W pixels holding the text (title, ticks, labels)
 * and one inner <svg class="plot"> over the plot's columns whose x unit is the second: its
 * viewBox is the visible time range, so the zoom script (html_zoom.c) zooms and pans by
 * changing it. Text cannot live in the inner svg (it would stretch): a label tied to a time
 * carries data-t (seconds) and data-dx (pixels), and the script moves it. Without script the
 * page shows the whole run, drawn as written.
 */
#ifndef BISE_HTML_CHART_H
#define BISE_HTML_CHART_H

#include <stdbool.h>
#include <stdio.h>

#include "timeseries.h"

#define CHART_W 1100.0
#define CHART_LEFT 110.0 /* room for the lane names of the timeline */
#define CHART_RIGHT 16.0
#define CHART_TOP 34.0
#define CHART_PLOT_W (CHART_W - CHART_LEFT - CHART_RIGHT)

/* Colours the render tests look for in screenshots: keep them in step with them. */
#define COLOR_OK "#2ca02c"
#define COLOR_FAIL "#d62728"
#define COLOR_INDETERMINATE "#ff7f0e"
#define COLOR_CONNECT_FAIL "#f0a3a3" /* a failed connection attempt: no write was sent */
#define COLOR_FAULT "#fde9a9"
#define COLOR_PRIMARY "#1f4e9c"
#define COLOR_OUTAGE "#7b1fa2"
#define COLOR_LOST "#b71c1c"
#define COLOR_ROLLBACK "#c62828"
#define COLOR_HEALTHY "#00897b"
#define COLOR_LABEL "#6a1b9a"

struct plot {
	double height;   /* of the whole svg */
	double bottom;   /* y of the time axis: the plot's values lie in [CHART_TOP, bottom] */
	double t_max_s;  /* right edge of the time axis */
	double y_max;    /* top of the value axis */
};

/* x in the inner svg is the time itself; y in pixels of the outer svg. */
double chart_y(const struct plot *p, double v);

/* Outer x in pixels of time t on the full range (where the page first draws a label). */
double chart_px(const struct plot *p, double t_s);

/* 1, 2 or 5 times a power of ten, at least v / 6; nice_max rounds v up to a multiple of it. */
double chart_nice_step(double v);
double chart_nice_max(double v);

/* The outer svg (class "chart cls", title; data-* for the script) up to its title. */
void chart_open(FILE *out, const struct plot *p, const char *cls, const char *title);
/* The inner plot svg over the whole height; chart_plot_close ends it. */
void chart_plot_open(FILE *out, const struct plot *p);
void chart_plot_close(FILE *out);
void chart_close(FILE *out);

/* Horizontal grid labelled with the values in unit (values scaled by 1/scale for the labels). */
void chart_value_axis(FILE *out, const struct plot *p, const char *unit, double scale);
/* The time grid (lines down to grid_bottom) labelled under it: <g class="xaxis">. */
void chart_time_axis(FILE *out, const struct plot *p, double grid_bottom);

/*
 * A text at time t, dx pixels right of it (left of it, anchored at its end, in the right
 * quarter of the plot), at y; the script moves it on zoom. cls may be NULL.
 */
void chart_label_open(FILE *out, const struct plot *p, double t_s, double dx, double y, const char *cls,
		      const char *color);
/* The label of an interval [t, end]: zoomed past its start, it stays at the left edge until end. */
void chart_span_label_open(FILE *out, const struct plot *p, double t_s, double end_s, double dx, double y,
			   const char *cls, const char *color);
void chart_label_close(FILE *out);

/* Fault intervals shaded over [y0, y1] (inside the plot), with their names when labels. */
void chart_faults_shade(FILE *out, const struct plot *p, const struct timeseries *ts, double y0, double y1);
void chart_faults_labels(FILE *out, const struct plot *p, const struct timeseries *ts);

/* A vertical line at time t over [y0, y1] inside the plot (cls styles it). */
void chart_vline(FILE *out, double t_s, double y0, double y1, const char *cls, const char *color);

void chart_legend(FILE *out, double x, double y, const char *color, const char *label);

#endif
