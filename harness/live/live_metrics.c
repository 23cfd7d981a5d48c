/*
 * live_metrics.c - the live snapshot as the page's JSON and as /metrics in the Prometheus
 * text exposition format (version 0.0.4, which `promtool check metrics` lints).
 */
#include "live_state.h"

#include "util.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_label[4] = { "ok", "fail", "indeterminate", "ok_unreplicated" };

/* Milliseconds are all a person or a chart needs: "2.602", not json-c's 17 digits. */
static struct json_object *num(double v)
{
	char text[48];

	str_format(text, sizeof(text), "%.3f", v);
	return json_object_new_double_s(v, text);
}

static struct json_object *str(const char *s)
{
	return json_object_new_string(s);
}

char *live_snapshot_json(const struct live *l)
{
	const struct live_snapshot *s = &l->snap;
	struct json_object *o = json_object_new_object(), *a, *w;
	char *out;

	json_object_object_add(o, "run", str(l->run_id ? l->run_id : ""));
	json_object_object_add(o, "scenario", str(l->scenario));
	json_object_object_add(o, "trial", json_object_new_int(l->trial));
	json_object_object_add(o, "trials", json_object_new_int(l->trials));
	json_object_object_add(o, "nsteps", json_object_new_int(l->nsteps));
	json_object_object_add(o, "t", num(s->t_s));
	json_object_object_add(o, "t0", num(s->t0_s));
	json_object_object_add(o, "phase", str(s->phase));
	json_object_object_add(o, "step", json_object_new_int(s->step));
	json_object_object_add(o, "primary", str(s->primary));
	json_object_object_add(o, "timeline", json_object_new_int(s->timeline));
	w = json_object_new_object();
	for (int i = 0; i < 4; i++)
		json_object_object_add(w, outcome_label[i], json_object_new_int64(s->writes[i]));
	json_object_object_add(o, "writes", w);
	json_object_object_add(o, "ok_s", json_object_new_int(s->ok_s));
	json_object_object_add(o, "err_s", json_object_new_int(s->err_s));
	a = json_object_new_array();
	for (int i = 0; i < s->nfaults; i++) {
		const struct live_fault *f = &s->faults[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "fault", str(f->fault));
		json_object_object_add(x, "target", str(f->target));
		json_object_object_add(x, "node", str(f->node));
		json_object_object_add(x, "step", json_object_new_int(f->step + 1));
		json_object_object_add(x, "since", num(f->since_s));
		json_object_object_add(x, "remaining", f->remaining_s >= 0 ? num(f->remaining_s) : NULL);
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "faults", a);
	a = json_object_new_array();
	for (int i = 0; i < s->nlags; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "standby", str(s->lags[i].standby));
		json_object_object_add(x, "bytes",
				       s->lags[i].known ? json_object_new_int64((int64_t)s->lags[i].bytes) : NULL);
		json_object_object_add(x, "state", str(s->lags[i].state));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "lag", a);
	if (s->next_step >= 0) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "step", json_object_new_int(s->next_step + 1));
		json_object_object_add(x, "what", str(s->next_what));
		json_object_object_add(x, "in", s->next_timed ? num(s->next_in_s) : NULL);
		json_object_object_add(o, "next", x);
	} else {
		json_object_object_add(o, "next", NULL);
	}
	json_object_object_add(o, "step_mode", json_object_new_boolean(l->step_mode));
	json_object_object_add(o, "waiting", json_object_new_boolean(s->waiting));
	if (s->failover_seen) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "seconds", num(s->failover_s));
		json_object_object_add(x, "open", json_object_new_boolean(s->failover_open));
		json_object_object_add(x, "start_uncertainty", num(s->failover_start_unc_s));
		json_object_object_add(x, "end_uncertainty", num(s->failover_end_unc_s));
		json_object_object_add(x, "trial", json_object_new_int(s->failover_trial));
		json_object_object_add(o, "failover", x);
	} else {
		json_object_object_add(o, "failover", NULL);
	}
	json_object_object_add(o, "token_required", json_object_new_boolean(l->token != NULL));
	json_object_object_add(o, "ended", json_object_new_boolean(l->ended));
	out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

/* A label value with \\, \" and \n escaped, as the exposition format wants. */
static void label(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
	fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void faults_text(FILE *f, const struct live_snapshot *s)
{
	head(f, "bise_faults_in_force", "gauge", "Faults applied and not yet reverted.");
	fprintf(f, "bise_faults_in_force %d\n", s->nfaults);
	head(f, "bise_fault_remaining_seconds", "gauge",
	     "Time until a fault in force is reverted as planned (one series per fault in force).");
	for (int i = 0; i < s->nfaults; i++) {
		const struct live_fault *x = &s->faults[i];

		if (x->remaining_s < 0)
			continue;
		fputs("bise_fault_remaining_seconds{fault=", f);
		label(f, x->fault);
		fputs(",target=", f);
		label(f, x->target);
		fputs(",node=", f);
		label(f, x->node);
		fprintf(f, ",step=\"%d\"} %.3f\n", x->step + 1, x->remaining_s > 0 ? x->remaining_s : 0);
	}
}

static void failover_text(FILE *f, const struct live_snapshot *s)
{
	if (!s->failover_seen)
		return;
	head(f, "bise_failover_window_seconds", "gauge",
	     "The last write-unavailability window (failover_time; still growing while open).");
	fprintf(f, "bise_failover_window_seconds %.6f\n", s->failover_s);
	head(f, "bise_failover_open", "gauge", "1 while that window has not closed.");
	fprintf(f, "bise_failover_open %d\n", s->failover_open ? 1 : 0);
	head(f, "bise_failover_start_uncertainty_seconds", "gauge",
	     "How far the window's start is uncertain (between the last ack's send and the first failure).");
	fprintf(f, "bise_failover_start_uncertainty_seconds %.6f\n", s->failover_start_unc_s);
	head(f, "bise_failover_end_uncertainty_seconds", "gauge",
	     "How far the window's end is uncertain (between the last failure's send and the first ack).");
	fprintf(f, "bise_failover_end_uncertainty_seconds %.6f\n", s->failover_end_unc_s);
}

char *live_metrics_text(const struct live *l, size_t *len)
{
	const struct live_snapshot *s = &l->snap;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	head(f, "bise_writes_total", "counter", "Writes of this run by outcome (every trial so far).");
	for (int i = 0; i < 4; i++)
		fprintf(f, "bise_writes_total{outcome=\"%s\"} %" PRId64 "\n", outcome_label[i],
			l->totals[i] + s->writes[i]);
	head(f, "bise_run_info", "gauge", "The run, scenario and phase being run (always 1).");
	fputs("bise_run_info{run=", f);
	label(f, l->run_id ? l->run_id : "");
	fputs(",scenario=", f);
	label(f, l->scenario);
	fputs(",phase=", f);
	label(f, s->phase);
	fputs("} 1\n", f);
	head(f, "bise_trial", "gauge", "The trial being run (1-based).");
	fprintf(f, "bise_trial %d\n", l->trial);
	head(f, "bise_trials", "gauge", "Trials of the scenario.");
	fprintf(f, "bise_trials %d\n", l->trials);
	head(f, "bise_step", "gauge", "The step being run or next (1-based, 0 before the first).");
	fprintf(f, "bise_step %d\n", s->step);
	head(f, "bise_steps", "gauge", "Steps of the scenario.");
	fprintf(f, "bise_steps %d\n", l->nsteps);
	head(f, "bise_waiting_for_next", "gauge", "1 while --step holds the next fault for \"next\".");
	fprintf(f, "bise_waiting_for_next %d\n", s->waiting ? 1 : 0);
	head(f, "bise_primary", "gauge", "The current primary as the role watcher sees it (1 on its series).");
	if (s->primary[0]) {
		fputs("bise_primary{node=", f);
		label(f, s->primary);
		fputs("} 1\n", f);
	}
	head(f, "bise_primary_timeline", "gauge", "The current primary's timeline (0: none known).");
	fprintf(f, "bise_primary_timeline %d\n", s->timeline);
	faults_text(f, s);
	head(f, "bise_replication_lag_bytes", "gauge",
	     "WAL a standby has not replayed yet: the primary's position minus its replay position.");
	for (int i = 0; i < s->nlags; i++) {
		if (!s->lags[i].known)
			continue;
		fputs("bise_replication_lag_bytes{standby=", f);
		label(f, s->lags[i].standby);
		fprintf(f, "} %" PRIu64 "\n", s->lags[i].bytes);
	}
	failover_text(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
