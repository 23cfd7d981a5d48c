/*
 * export.h - what a run sends out while it runs: each scenario's final metrics to a
 * Prometheus Pushgateway (bise run --pushgateway URL) and one Grafana region annotation
 * per fault of each trial (bise run --grafana URL, token from GRAFANA_TOKEN). Both send
 * the judge's const results, never change a verdict, and a failure is a warning naming
 * the URL with its credentials redacted. The Grafana token is read from the environment
 * when a request is made and goes nowhere but its Authorization header.
 */
#ifndef BISE_EXPORT_H
#define BISE_EXPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "judge.h"
#include "timeseries.h"

#define GRAFANA_TOKEN_ENV "GRAFANA_TOKEN"

/*
 * A URL bise may send to: http:// or https://, a host, no fragment, no control character
 * or space. False with the reason in why (the URL redacted in it).
 */
bool export_url_check(const char *url, char *why, size_t len);

/* url with the user and password of its authority replaced by "***". */
void export_url_redact(const char *url, char *out, size_t len);

/* ---- Pushgateway ---- */

/*
 * The URL of the scenario's group: BASE/metrics/job/bise/scenario/NAME, NAME as
 * "scenario@base64/<base64url>" when it holds more than [A-Za-z0-9._-] (a variant's '@',
 * a slash). False when it does not fit.
 */
bool pushgateway_group_url(const char *base, const char *scenario, char *out, size_t len);

/* PUT the scenario's metrics (report_prometheus) into its group; false warned. */
bool pushgateway_push(const char *base, const struct scenario_result *r);

/* ---- Grafana ---- */

/* A wall-clock date in epoch milliseconds: t_us of a log whose t = 0 is wall_origin_us. */
int64_t grafana_epoch_ms(int64_t wall_origin_us, int64_t t_us, bool round_up);

/*
 * The body of POST /api/annotations for fault f of trial t: time, timeEnd (epoch ms,
 * timeEnd > time, covering apply to revert), tags (bise, run:ID, scenario:NAME, trial:N,
 * fault:TYPE, node:MEMBER, zone:Z for each zone involved), text, and dashboardUID when
 * dashboard is set. NULL when the log has no wall-clock date.
 */
json_object *grafana_annotation(const struct scenario_result *r, const struct trial_result *t,
				const struct ts_fault *f, const char *dashboard);

/*
 * POST one annotation per fault of trial t (its bins must be loaded) to BASE/api/annotations.
 * Returns how many failed (warned); *sent gets how many were accepted.
 */
int grafana_annotate_trial(const char *base, const char *dashboard, const struct scenario_result *r,
			   const struct trial_result *t, int *sent);

/* ---- HTTP (export_http.c) ---- */

/*
 * One request: body with the given content type, "Authorization: Bearer <token>" when
 * bearer is set. Returns the HTTP status, 0 when no answer came (why filled, the URL
 * redacted); the first bytes of the answer's body go to answer when it is not NULL.
 */
long export_http(const char *method, const char *url, const char *ctype, const char *body, size_t body_len,
		 const char *bearer, char *answer, size_t answer_len, char *why, size_t why_len);

#endif
