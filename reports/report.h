/*
 * report.h - the report writers. They only format the const data they are given: metrics,
 * verdicts, statistics and bins are all filled in before by the judge (judge.h), from the
 * saved event logs. No writer loads a log or judges.
 */
#ifndef BISE_REPORT_H
#define BISE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "judge.h"
#include "metrics.h"
#include "scenario.h"
#include "slo.h"
#include "timeseries.h"

#define SUMMARY_SCHEMA "bise.summary/1"

struct report_writer {
	const char *name;
	const char *file_name; /* inside the scenario's directory */
	bool (*write)(const struct scenario_result *r, FILE *out);
};

/*
 * Write every report file of a scenario into r->dir, from r as judge_scenario left it (and
 * the bins judge_load_trial made). Logs its own error.
 */
bool reports_write_all(const struct scenario_result *r);

/*
 * Write <run_dir>/index.html and <run_dir>/summary.md over the scenarios of a suite run,
 * linking each scenario's own reports. Logs its own error.
 */
bool reports_write_index(const struct scenario_result *results, int n, const char *run_dir);

/* ---- shared by the writers in reports/ (report_text.c) ---- */

/* Text escaped for XML and HTML content and attributes; control characters become '?'. */
void report_xml_text(FILE *out, const char *s);

/* Text safe inside a Markdown table cell: pipes and HTML escaped, line breaks as spaces. */
void report_md_text(FILE *out, const char *s);

/* One CSV cell after a comma (unless first); quoted by libcsv only when it needs it. */
void report_csv_cell(FILE *out, bool first, const char *s);

/* The verdict of the scenario's SLO slo_index in trial t; NULL when the trial has none. */
const struct verdict *report_trial_verdict(const struct trial_result *t, const struct scenario *sc,
					   int slo_index);

/* A verdict's reason unless it only repeats measured and threshold (a plain failure): "" then. */
const char *report_verdict_note(const struct verdict *v);

/* What a verdict measured, for people ("10.54s", "0"); "-" for a skip. */
const char *report_measured(const struct verdict *v);

/* A metric value in its unit for people: durations as "9.84s", counts and bytes as integers. */
void report_metric_format(enum metric_id id, double value, char *buf, size_t len);

/*
 * failover_time of a closed outage with its uncertainty, for people: "10.54s ± 8ms". The
 * true window lies within that many of the figure (the two edges' widths summed).
 */
void report_failover_format(const struct metrics *m, char *buf, size_t len);

/*
 * The widest failover_time uncertainty over r's trials with a closed outage (0: none): each
 * trial's true window lies within its own, so min, p50, p95 and max over the trials lie
 * within this of the figures shown.
 */
int64_t report_failover_uncertainty_max(const struct scenario_result *r);

/* " ± 15ms" for report_failover_uncertainty_max(r), rounded up as report_failover_format; "" when 0. */
void report_failover_stat_suffix(const struct scenario_result *r, char *buf, size_t len);

/*
 * The server's recovery apart from the client's, for people: "server accepting after
 * 1.50s (that connection waited 2ms), first ack after 1.51s", both from the window's start.
 * Empty when no connection was accepted in the outage.
 */
void report_accept_format(const struct metrics *m, char *buf, size_t len);

/* The suite writers behind reports_write_index (index.c). */
bool report_index_html(const struct scenario_result *results, int n, FILE *out);
bool report_index_md(const struct scenario_result *results, int n, FILE *out);

/* The CSS of report.html, shared by index.html. */
const char *report_html_style(void);

/* The zoom and pan script of report.html (html_zoom.c): over each <div class="zoom" data-tmax>. */
const char *report_html_zoom_script(void);

/* Inline SVG charts of report.html (html_charts.c, html_timeline.c); t->timeseries must be set. */
void report_svg_timeline(FILE *out, const struct trial_result *t);
void report_svg_latency(FILE *out, const struct timeseries *ts);
void report_svg_lag(FILE *out, const struct timeseries *ts); /* ts->nstandbys > 0 */

/*
 * The scenario as Prometheus text (prometheus.c, for the Pushgateway): bise_run_info,
 * bise_scenario_pass, bise_trials*, bise_slo_pass{slo,threshold} per SLO judged over the
 * scenario, and per metric observed bise_<name>_<unit>{stat=min|p50|p95|max}.
 */
bool report_prometheus(const struct scenario_result *r, FILE *out);

/* "bise_" + the catalogue's name + its unit's suffix (_seconds, _bytes, _ratio; counts none). */
bool report_prometheus_name(enum metric_id id, char *buf, size_t len);

/* Each fault's timing (fault_timing.c): an array for summary.json, tables for people. */
struct json_object;
struct json_object *report_fault_timings_json(const struct metrics *m);
void report_fault_timings_md(FILE *out, const struct scenario_result *r);
void report_fault_timings_html(FILE *out, const struct scenario_result *r);

/* The short verdict table printed at the end of a run. */
void report_print_table(const struct scenario_result *r, FILE *out);

#endif
