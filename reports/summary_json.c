/* summary_json.c - summary.json, the machine-readable result (schema bise.summary/1). */
#include "report.h"
#include "util.h"

#include <json-c/json.h>
#include <math.h>

/* A number printed with a fixed number of decimals: 6.888124, not 6.8881240000000004. */
static json_object *fixed(double v, int decimals)
{
	char text[64];

	str_format(text, sizeof(text), "%.*f", decimals, v);
	return json_object_new_double_s(v, text);
}

static json_object *seconds_or_null(bool seen, int64_t us)
{
	return seen ? fixed((double)us / 1e6, 6) : NULL;
}

static json_object *interval_or_null(bool seen, int64_t lo_us, int64_t hi_us)
{
	json_object *a;

	if (!seen)
		return NULL;
	a = json_object_new_array();
	json_object_array_add(a, fixed((double)lo_us / 1e6, 6));
	json_object_array_add(a, fixed((double)hi_us / 1e6, 6));
	return a;
}

static json_object *writes_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "attempted", json_object_new_int64(m->attempted));
	json_object_object_add(o, "ok", json_object_new_int64(m->ok));
	json_object_object_add(o, "ok_unreplicated", json_object_new_int64(m->ok_unreplicated));
	json_object_object_add(o, "fail", json_object_new_int64(m->fail));
	json_object_object_add(o, "indeterminate", json_object_new_int64(m->indeterminate));
	/* failover_time's uncertainty (null without an outage that ended); the spacing is not it. */
	json_object_object_add(o, "resolution_ms",
			       m->outage_closed ? fixed((double)m->failover_uncertainty_us / 1e3, 3) : NULL);
	json_object_object_add(o, "write_spacing_ms", fixed((double)m->write_spacing_us / 1e3, 3));
	return o;
}

/* The old primary back as the only primary on an older timeline; null when not seen. */
static json_object *rollback_json(const struct metrics *m)
{
	json_object *o;

	if (!m->rollback_seen)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "at_s", seconds_or_null(true, m->t_rollback_us));
	json_object_object_add(o, "node", json_object_new_string(m->rollback_node));
	json_object_object_add(o, "timeline", json_object_new_int(m->rollback_timeline));
	json_object_object_add(o, "after_timeline", json_object_new_int(m->rollback_from_timeline));
	return o;
}

/* Writes unavailable again after they had recovered; null when not seen. */
static json_object *second_outage_json(const struct metrics *m)
{
	json_object *o;

	if (!m->second_outage_seen)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "start_s", seconds_or_null(true, m->second_outage_start_us));
	json_object_object_add(o, "end_s", seconds_or_null(m->second_outage_closed, m->second_outage_end_us));
	json_object_object_add(o, "duration_s", seconds_or_null(m->second_outage_closed, m->second_outage_dur_us));
	return o;
}

static json_object *failover_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "fault_at_s", seconds_or_null(m->fault_seen, m->t_fault_us));
	json_object_object_add(o, "failover_time_s",
			       seconds_or_null(m->outage_seen && m->outage_closed, m->wuw_dur_us));
	json_object_object_add(o, "outage_seen", json_object_new_boolean(m->outage_seen));
	json_object_object_add(o, "outage_closed", json_object_new_boolean(m->outage_closed));
	json_object_object_add(o, "outage_start_s", seconds_or_null(m->outage_seen, m->outage_start_us));
	json_object_object_add(o, "outage_end_s", seconds_or_null(m->outage_closed, m->outage_end_us));
	/* Where the writes prove the service was lost and came back: [earliest, latest]. */
	json_object_object_add(o, "outage_start_interval_s",
			       interval_or_null(m->outage_closed, m->outage_start_lo_us, m->outage_start_hi_us));
	json_object_object_add(o, "outage_end_interval_s",
			       interval_or_null(m->outage_closed, m->outage_end_lo_us, m->outage_end_hi_us));
	json_object_object_add(o, "failover_start_uncertainty_ms",
			       m->outage_closed ? fixed((double)m->failover_start_uncertainty_us / 1e3, 3) : NULL);
	json_object_object_add(o, "failover_end_uncertainty_ms",
			       m->outage_closed ? fixed((double)m->failover_end_uncertainty_us / 1e3, 3) : NULL);
	/* The server's recovery (first connection it accepted) apart from the first ack. */
	json_object_object_add(o, "server_accept_s", seconds_or_null(m->accept_seen, m->accept_dur_us));
	json_object_object_add(o, "server_accept_at_s", seconds_or_null(m->accept_seen, m->t_accept_us));
	json_object_object_add(o, "server_accept_wait_ms",
			       m->accept_seen ? fixed((double)m->accept_wait_us / 1e3, 3) : NULL);
	json_object_object_add(o, "promotion_s", seconds_or_null(m->promote_seen, m->promotion_dur_us));
	json_object_object_add(o, "routing_s", seconds_or_null(m->routing_seen, m->routing_dur_us));
	json_object_object_add(o, "old_primary",
			       m->old_primary[0] ? json_object_new_string(m->old_primary) : NULL);
	json_object_object_add(o, "new_primary",
			       m->promote_seen ? json_object_new_string(m->new_primary) : NULL);
	json_object_object_add(o, "old_timeline", json_object_new_int(m->old_timeline));
	json_object_object_add(o, "new_timeline",
			       m->promote_seen ? json_object_new_int(m->new_timeline) : NULL);
	/* The platform's role labels (Kubernetes watch); null where the backend has none. */
	json_object_object_add(o, "detection_s", seconds_or_null(m->detect_seen, m->detection_dur_us));
	json_object_object_add(o, "rollback", rollback_json(m));
	json_object_object_add(o, "outages", json_object_new_int(m->outages));
	json_object_object_add(o, "second_outage", second_outage_json(m));
	json_object_object_add(o, "label_switch_s", seconds_or_null(m->label_switch_seen, m->label_switch_dur_us));
	json_object_object_add(o, "label_new_primary",
			       m->label_switch_seen ? json_object_new_string(m->label_new_primary) : NULL);
	return o;
}

static json_object *loss_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "readback", json_object_new_boolean(m->readback_seen));
	if (!m->readback_seen)
		return o;
	json_object_object_add(o, "found", json_object_new_int64(m->found));
	json_object_object_add(o, "lost", json_object_new_int64(m->lost));
	json_object_object_add(o, "recovered", json_object_new_int64(m->recovered));
	json_object_object_add(o, "indeterminate_missing", json_object_new_int64(m->indeterminate_missing));
	json_object_object_add(o, "failed_found", json_object_new_int64(m->failed_found));
	json_object_object_add(o, "phantom", json_object_new_int64(m->phantom));
	json_object_object_add(o, "duplicates", json_object_new_int64(m->duplicates));
	json_object_object_add(o, "balanced", json_object_new_boolean(m->balanced));
	return o;
}

/* {"node": lost writes it had acknowledged} for the nodes with any. */
static json_object *lost_by_node_json(const struct timeseries *ts)
{
	json_object *o = json_object_new_object();

	for (int k = 0; k < ts->nnodes; k++)
		if (ts->lost_by_node[k] > 0)
			json_object_object_add(o, ts->nodes[k], json_object_new_int64(ts->lost_by_node[k]));
	return o;
}

static json_object *recovery_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "checked", json_object_new_boolean(m->healthy_seen));
	json_object_object_add(o, "healthy", json_object_new_boolean(m->healthy_ok));
	json_object_object_add(o, "seconds",
			       m->healthy_seen ? fixed(m->healthy_seconds, 6) : NULL);
	json_object_object_add(o, "healthy_at_s", seconds_or_null(m->healthy_seen && m->healthy_ok, m->t_healthy_us));
	return o;
}

/* max/p50/p95 of one lag series, or null without samples. */
static json_object *series_json(const struct series_stats *s)
{
	json_object *o;

	if (s->n == 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "samples", json_object_new_int64(s->n));
	json_object_object_add(o, "max", json_object_new_double(s->max));
	json_object_object_add(o, "p50", json_object_new_double(s->p50));
	json_object_object_add(o, "p95", json_object_new_double(s->p95));
	return o;
}

static json_object *lag_json(const struct metrics *m)
{
	static const char *const phases[LAG_NPHASES] = { "before", "during", "after" };
	json_object *o = json_object_new_object(), *sb = json_object_new_object();

	json_object_object_add(o, "sampled", json_object_new_boolean(m->lag_seen));
	json_object_object_add(o, "max_lag_bytes", m->lag_seen ? json_object_new_double(m->max_lag_bytes) : NULL);
	json_object_object_add(o, "max_lag_time_s", m->lag_seen ? json_object_new_double(m->max_lag_est_s) : NULL);
	json_object_object_add(o, "max_replay_lag_column_s",
			       m->lag_seen ? json_object_new_double(m->max_lag_col_s) : NULL);
	for (int i = 0; i < m->nstandbys; i++) {
		json_object *st = json_object_new_object();

		for (int p = 0; p < LAG_NPHASES; p++) {
			const struct lag_stats *l = &m->standbys[i].phase[p];
			json_object *ph = json_object_new_object();

			json_object_object_add(ph, "bytes", series_json(&l->bytes));
			json_object_object_add(ph, "flush_bytes", series_json(&l->flush_bytes));
			json_object_object_add(ph, "replay_lag_s", series_json(&l->time_s));
			json_object_object_add(ph, "estimate_s", series_json(&l->est_s));
			json_object_object_add(st, phases[p], ph);
		}
		json_object_object_add(sb, m->standbys[i].name, st);
	}
	json_object_object_add(o, "standbys", sb);
	return o;
}

static json_object *split_brain_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();
	bool any = m->split_brains > 0;

	json_object_object_add(o, "checked", json_object_new_boolean(m->split_brain_checked));
	json_object_object_add(o, "periods", json_object_new_int(m->split_brains));
	json_object_object_add(o, "seconds", json_object_new_double((double)m->split_brain_dur_us / 1e6));
	json_object_object_add(o, "first_start_s", seconds_or_null(any, m->split_brain_start_us));
	json_object_object_add(o, "first_end_s", seconds_or_null(any, m->split_brain_end_us));
	json_object_object_add(o, "loser", any ? json_object_new_string(m->split_brain_loser) : NULL);
	json_object_object_add(o, "writes", json_object_new_int64(m->split_brain_writes));
	json_object_object_add(o, "writes_lost", json_object_new_int64(m->split_brain_lost));
	json_object_object_add(o, "resolution_ms",
			       json_object_new_double((double)m->split_brain_resolution_us / 1e3));
	return o;
}

/* Reader probes: counts, a window per target read, staleness, deposed-primary reads. */
static json_object *reads_json(const struct metrics *m)
{
	static const char *const targets[METRICS_READ_TARGETS] = { "primary", "replica", "any" };
	json_object *o = json_object_new_object(), *win = json_object_new_object();
	bool dep = m->deposed_reads > 0;

	json_object_object_add(o, "attempted", json_object_new_int64(m->reads));
	json_object_object_add(o, "ok", json_object_new_int64(m->reads_ok));
	json_object_object_add(o, "fail", json_object_new_int64(m->reads_fail));
	json_object_object_add(o, "ok_from_replica", json_object_new_int64(m->reads_replica));
	for (int t = 0; t < METRICS_READ_TARGETS; t++) {
		const struct read_window *w = &m->read_windows[t];
		json_object *wo;

		if (!w->seen)
			continue;
		wo = json_object_new_object();
		json_object_object_add(wo, "outage_seen", json_object_new_boolean(w->outage_seen));
		json_object_object_add(wo, "outage_closed", json_object_new_boolean(w->outage_closed));
		json_object_object_add(wo, "unavailability_s",
				       seconds_or_null(w->outage_seen && w->outage_closed, w->dur_us));
		json_object_object_add(wo, "outage_start_s", seconds_or_null(w->outage_seen, w->start_us));
		json_object_object_add(wo, "outage_end_s", seconds_or_null(w->outage_closed, w->end_us));
		json_object_object_add(win, targets[t], wo);
	}
	json_object_object_add(o, "unavailability", win);
	json_object_object_add(o, "staleness_checked", json_object_new_boolean(m->staleness_checked));
	json_object_object_add(o, "stale_reads", json_object_new_int64(m->stale_reads));
	json_object_object_add(o, "max_staleness_s", seconds_or_null(m->staleness_checked, m->max_staleness_us));
	json_object_object_add(o, "p95_staleness_s", seconds_or_null(m->staleness_checked, m->p95_staleness_us));
	json_object_object_add(o, "deposed_checked", json_object_new_boolean(m->deposed_checked));
	json_object_object_add(o, "deposed_reads", json_object_new_int64(m->deposed_reads));
	json_object_object_add(o, "first_deposed_s", seconds_or_null(dep, m->first_deposed_us));
	json_object_object_add(o, "deposed_node", dep ? json_object_new_string(m->deposed_node) : NULL);
	return o;
}

/* LSNs as integers: JSON doubles hold them exactly up to 2^53 bytes of WAL. */
static json_object *rpo_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "rpo_time_s", seconds_or_null(m->rpo_time_seen, m->rpo_dur_us));
	json_object_object_add(o, "rpo_bytes", m->rpo_bytes_seen ? json_object_new_int64(m->rpo_bytes) : NULL);
	json_object_object_add(o, "old_primary_lsn",
			       m->rpo_bytes_seen ? json_object_new_int64((int64_t)m->old_primary_lsn) : NULL);
	json_object_object_add(o, "switch_lsn",
			       m->rpo_bytes_seen ? json_object_new_int64((int64_t)m->switch_lsn) : NULL);
	return o;
}

static json_object *redundancy_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "checked", json_object_new_boolean(m->redundancy_checked));
	json_object_object_add(o, "heal_at_s", seconds_or_null(m->fault_seen, m->t_heal_us));
	json_object_object_add(o, "reached", json_object_new_boolean(m->redundancy_reached));
	json_object_object_add(o, "seconds",
			       seconds_or_null(m->redundancy_checked && m->redundancy_reached, m->redundancy_dur_us));
	json_object_object_add(o, "heal_lsn",
			       m->redundancy_checked ? json_object_new_int64((int64_t)m->heal_lsn) : NULL);
	json_object_object_add(o, "missing",
			       m->redundancy_missing[0] ? json_object_new_string(m->redundancy_missing) : NULL);
	return o;
}

/* A statistic in the metric's base unit; "never" when a trial that never ended ranks there. */
static json_object *stat_json(double v)
{
	return isinf(v) ? json_object_new_string("never") : json_object_new_double(v);
}

static json_object *stat_verdict_json(const struct verdict *v)
{
	json_object *jv = json_object_new_object();

	json_object_object_add(jv, "slo", json_object_new_string(v->slo->metric));
	json_object_object_add(jv, "threshold", json_object_new_string(v->slo->text));
	json_object_object_add(jv, "verdict", json_object_new_string(verdict_name(v->kind)));
	if (v->kind != VERDICT_SKIP) {
		json_object_object_add(jv, "measured", stat_json(v->measured));
		json_object_object_add(jv, "measured_text", json_object_new_string(v->measured_text));
	}
	if (v->reason[0])
		json_object_object_add(jv, "reason", json_object_new_string(v->reason));
	return jv;
}

/*
 * Per metric across trials (base units: microseconds, writes, bytes), and the verdicts of
 * the SLOs on a statistic, judged once over all trials (judge_scenario fills both).
 */
static json_object *trials_stats_json(const struct scenario_result *r)
{
	json_object *o = json_object_new_object(), *verdicts = json_object_new_array();

	for (int id = 0; id < METRIC_COUNT && r->have_stats; id++) {
		const struct trial_stats *ts = &r->stats[id];
		json_object *s = json_object_new_object();

		json_object_object_add(s, "trials", json_object_new_int(ts->trials));
		json_object_object_add(s, "observed", json_object_new_int(ts->observed));
		json_object_object_add(s, "never", json_object_new_int(ts->never));
		json_object_object_add(s, "min", ts->observed ? stat_json(ts->min) : NULL);
		json_object_object_add(s, "p50", ts->observed ? stat_json(ts->p50) : NULL);
		json_object_object_add(s, "p95", ts->observed ? stat_json(ts->p95) : NULL);
		json_object_object_add(s, "max", ts->observed ? stat_json(ts->max) : NULL);
		/* Each statistic lies within this of the true windows' (the widest trial's ±). */
		if (id == METRIC_FAILOVER_TIME)
			json_object_object_add(s, "uncertainty_max",
					       ts->observed ? stat_json((double)report_failover_uncertainty_max(r)) : NULL);
		json_object_object_add(o, metric_name((enum metric_id)id), s);
	}
	for (int i = 0; i < r->nstat_verdicts && r->have_stats; i++)
		json_object_array_add(verdicts, stat_verdict_json(&r->stat_verdicts[i]));
	json_object_object_add(o, "verdicts", verdicts);
	return o;
}

static json_object *verdicts_json(const struct trial_result *t)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < t->nverdicts; i++) {
		const struct verdict *v = &t->verdicts[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "slo", json_object_new_string(v->slo->metric));
		json_object_object_add(o, "threshold", json_object_new_string(v->slo->text));
		json_object_object_add(o, "verdict", json_object_new_string(verdict_name(v->kind)));
		if (v->kind != VERDICT_SKIP) {
			json_object_object_add(o, "measured", fixed(v->measured, 3));
			json_object_object_add(o, "measured_text", json_object_new_string(v->measured_text));
		}
		if (v->reason[0])
			json_object_object_add(o, "reason", json_object_new_string(v->reason));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *trial_json(const struct trial_result *t)
{
	json_object *o = json_object_new_object();
	json_object *m = json_object_new_object();

	json_object_object_add(o, "trial", json_object_new_int(t->trial));
	json_object_object_add(o, "events", json_object_new_string(t->events_path));
	json_object_object_add(o, "completed", json_object_new_boolean(t->completed));
	json_object_object_add(o, "error", t->error[0] ? json_object_new_string(t->error) : NULL);
	json_object_object_add(m, "writes", writes_json(&t->metrics));
	json_object_object_add(m, "failover", failover_json(&t->metrics));
	json_object_object_add(m, "data_loss", loss_json(&t->metrics));
	if (t->timeseries)
		json_object_object_add(json_object_object_get(m, "data_loss"), "lost_by_node",
				       lost_by_node_json(t->timeseries));
	json_object_object_add(m, "recovery", recovery_json(&t->metrics));
	json_object_object_add(m, "lag", lag_json(&t->metrics));
	json_object_object_add(m, "split_brain", split_brain_json(&t->metrics));
	json_object_object_add(m, "rpo", rpo_json(&t->metrics));
	json_object_object_add(m, "redundancy", redundancy_json(&t->metrics));
	json_object_object_add(m, "reads", reads_json(&t->metrics));
	json_object_object_add(m, "faults", report_fault_timings_json(&t->metrics));
	json_object_object_add(o, "metrics", m);
	json_object_object_add(o, "verdicts", verdicts_json(t));
	return o;
}

static bool summary_json_write(const struct scenario_result *r, FILE *out)
{
	json_object *root = json_object_new_object();
	json_object *sc = json_object_new_object();
	json_object *trials = json_object_new_array();
	char seed[32];
	const char *text;
	bool ok;

	json_object_object_add(root, "schema", json_object_new_string(SUMMARY_SCHEMA));
	json_object_object_add(root, "bise", json_object_new_string(BISE_VERSION));
	json_object_object_add(root, "run_id", json_object_new_string(r->run_id));
	json_object_object_add(sc, "name", json_object_new_string(r->scenario->name));
	json_object_object_add(sc, "path", json_object_new_string(r->scenario->path ? r->scenario->path : ""));
	json_object_object_add(sc, "description",
			       json_object_new_string(r->scenario->description ? r->scenario->description : ""));
	json_object_object_add(sc, "text", json_object_new_string(r->scenario->text ? r->scenario->text : ""));
	json_object_object_add(root, "scenario", sc);
	json_object_object_add(root, "backend", json_object_new_string(r->backend));
	json_object_object_add(root, "versions", json_object_new_string(r->versions));
	json_object_object_add(root, "host", json_object_new_string(r->host));
	/* As a string: a 64-bit seed does not survive a JSON double. */
	str_format(seed, sizeof(seed), "%llu", (unsigned long long)r->seed);
	json_object_object_add(root, "seed", json_object_new_string(seed));
	json_object_object_add(root, "provision_seconds",
			       r->provision_seconds >= 0 ? fixed(r->provision_seconds, 3) : NULL);
	json_object_object_add(root, "overall", json_object_new_string(verdict_name(r->overall)));
	for (int i = 0; i < r->ntrials; i++)
		json_object_array_add(trials, trial_json(&r->trials[i]));
	json_object_object_add(root, "trials", trials);
	json_object_object_add(root, "trials_stats", trials_stats_json(r));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
	json_object_put(root);
	if (!ok)
		log_error("cannot write summary.json");
	return ok;
}

const struct report_writer report_summary_json = {
	.name = "json",
	.file_name = "summary.json",
	.write = summary_json_write,
};
