/* summary_json.c - summary.json, the machine-readable result (schema bise.summary/1). */
#include "report.h"
#include "util.h"

#include <json-c/json.h>

static json_object *seconds_or_null(bool seen, int64_t us)
{
	return seen ? json_object_new_double((double)us / 1e6) : NULL;
}

static json_object *writes_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "attempted", json_object_new_int64(m->attempted));
	json_object_object_add(o, "ok", json_object_new_int64(m->ok));
	json_object_object_add(o, "ok_unreplicated", json_object_new_int64(m->ok_unreplicated));
	json_object_object_add(o, "fail", json_object_new_int64(m->fail));
	json_object_object_add(o, "indeterminate", json_object_new_int64(m->indeterminate));
	json_object_object_add(o, "resolution_ms", json_object_new_double((double)m->resolution_us / 1e3));
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
	json_object_object_add(o, "promotion_s", seconds_or_null(m->promote_seen, m->promotion_dur_us));
	json_object_object_add(o, "routing_s", seconds_or_null(m->routing_seen, m->routing_dur_us));
	json_object_object_add(o, "old_primary",
			       m->old_primary[0] ? json_object_new_string(m->old_primary) : NULL);
	json_object_object_add(o, "new_primary",
			       m->promote_seen ? json_object_new_string(m->new_primary) : NULL);
	json_object_object_add(o, "old_timeline", json_object_new_int(m->old_timeline));
	json_object_object_add(o, "new_timeline",
			       m->promote_seen ? json_object_new_int(m->new_timeline) : NULL);
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

static json_object *recovery_json(const struct metrics *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "checked", json_object_new_boolean(m->healthy_seen));
	json_object_object_add(o, "healthy", json_object_new_boolean(m->healthy_ok));
	json_object_object_add(o, "seconds",
			       m->healthy_seen ? json_object_new_double(m->healthy_seconds) : NULL);
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
			json_object_object_add(o, "measured", json_object_new_double(v->measured));
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
	json_object_object_add(m, "recovery", recovery_json(&t->metrics));
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
			       r->provision_seconds >= 0 ? json_object_new_double(r->provision_seconds) : NULL);
	json_object_object_add(root, "overall", json_object_new_string(verdict_name(r->overall)));
	for (int i = 0; i < r->ntrials; i++)
		json_object_array_add(trials, trial_json(&r->trials[i]));
	json_object_object_add(root, "trials", trials);
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
