/*
 * metrics_csv.c - metrics.csv: one row per trial with every metric and every verdict, for
 * spreadsheets and notebooks. Durations in seconds, empty cells where nothing was observed.
 */
#include "report.h"
#include "util.h"

#include <inttypes.h>

/* Appends cells to one row; the first cell of a row has no comma. */
struct row {
	FILE *out;
	bool first;
};

static void cell(struct row *r, const char *s)
{
	report_csv_cell(r->out, r->first, s);
	r->first = false;
}

static void cell_i64(struct row *r, int64_t v)
{
	char buf[32];

	str_format(buf, sizeof(buf), "%" PRId64, v);
	cell(r, buf);
}

static void cell_bool(struct row *r, bool v)
{
	cell(r, v ? "true" : "false");
}

/* Microseconds as seconds with microsecond precision; empty when not seen. */
static void cell_seconds(struct row *r, bool seen, int64_t us)
{
	char buf[32];

	if (!seen) {
		cell(r, "");
		return;
	}
	str_format(buf, sizeof(buf), "%.6f", (double)us / 1e6);
	cell(r, buf);
}

static void cell_double(struct row *r, bool seen, double v, int decimals)
{
	char buf[48];

	if (!seen) {
		cell(r, "");
		return;
	}
	str_format(buf, sizeof(buf), "%.*f", decimals, v);
	cell(r, buf);
}

static void end_row(struct row *r)
{
	fputc('\n', r->out);
	r->first = true;
}

static const char *const fixed_columns[] = {
	"scenario", "trial", "completed", "error",
	"attempted", "ok", "ok_unreplicated", "fail", "indeterminate", "resolution_ms",
	"write_spacing_ms", "failover_start_uncertainty_ms", "failover_end_uncertainty_ms",
	"fault_at_s", "outage_start_s", "outage_end_s", "promotion_s", "routing_s",
	"old_primary", "new_primary", "old_timeline", "new_timeline",
	"readback", "found", "lost", "recovered", "indeterminate_missing", "failed_found", "phantom",
	"duplicates", "balanced",
	"healthy_checked", "healthy", "healthy_s",
	NULL,
};

/* A metric's column: durations in seconds, the rest in their own unit. */
static void metric_header(struct row *r, enum metric_id id)
{
	enum slo_unit unit = SLO_UNIT_COUNT;
	char buf[64];

	slo_metric_known(metric_name(id), &unit);
	str_format(buf, sizeof(buf), "%s%s", metric_name(id), unit == SLO_UNIT_DURATION ? "_s" : "");
	cell(r, buf);
}

static void metric_cell(struct row *r, const struct metrics *m, enum metric_id id)
{
	enum slo_unit unit = SLO_UNIT_COUNT;
	struct metric_value v;

	slo_metric_known(metric_name(id), &unit);
	metric_value(m, id, &v);
	if (v.observed && v.never)
		cell(r, "inf"); /* the thing to be timed never ended: numeric tools read inf */
	else if (unit == SLO_UNIT_DURATION)
		cell_double(r, v.observed, v.value / 1e6, 6);
	else
		cell_double(r, v.observed, v.value, unit == SLO_UNIT_PERCENT ? 3 : 0);
}

static void header(const struct scenario_result *r, struct row *row)
{
	char buf[128];

	for (int i = 0; fixed_columns[i]; i++)
		cell(row, fixed_columns[i]);
	for (int id = 0; id < METRIC_COUNT; id++)
		metric_header(row, (enum metric_id)id);
	/* SLO columns are named by metric and threshold: one scenario may bound a metric twice. */
	for (int i = 0; i < r->scenario->nslos; i++) {
		const struct slo_spec *s = &r->scenario->slos[i];

		str_format(buf, sizeof(buf), "slo %s %s", s->metric, s->text);
		cell(row, buf);
		str_format(buf, sizeof(buf), "slo %s %s measured", s->metric, s->text);
		cell(row, buf);
		str_format(buf, sizeof(buf), "slo %s %s reason", s->metric, s->text);
		cell(row, buf);
	}
	end_row(row);
}

static void trial_row(const struct scenario_result *r, const struct trial_result *t, struct row *row)
{
	const struct metrics *m = &t->metrics;

	cell(row, r->scenario->name);
	cell_i64(row, t->trial);
	cell_bool(row, t->completed);
	cell(row, t->error);
	cell_i64(row, m->attempted);
	cell_i64(row, m->ok);
	cell_i64(row, m->ok_unreplicated);
	cell_i64(row, m->fail);
	cell_i64(row, m->indeterminate);
	/* No outage that ended, no uncertainty claimed: the cells stay empty. */
	cell_double(row, m->outage_closed, (double)m->failover_uncertainty_us / 1e3, 3);
	cell_double(row, true, (double)m->write_spacing_us / 1e3, 3);
	cell_double(row, m->outage_closed, (double)m->failover_start_uncertainty_us / 1e3, 3);
	cell_double(row, m->outage_closed, (double)m->failover_end_uncertainty_us / 1e3, 3);
	cell_seconds(row, m->fault_seen, m->t_fault_us);
	cell_seconds(row, m->outage_seen, m->outage_start_us);
	cell_seconds(row, m->outage_closed, m->outage_end_us);
	cell_seconds(row, m->promote_seen, m->promotion_dur_us);
	cell_seconds(row, m->routing_seen, m->routing_dur_us);
	cell(row, m->old_primary);
	cell(row, m->promote_seen ? m->new_primary : "");
	cell_double(row, m->old_primary[0] != '\0', m->old_timeline, 0);
	cell_double(row, m->promote_seen, m->new_timeline, 0);
	cell_bool(row, m->readback_seen);
	cell_double(row, m->readback_seen, (double)m->found, 0);
	cell_double(row, m->readback_seen, (double)m->lost, 0);
	cell_double(row, m->readback_seen, (double)m->recovered, 0);
	cell_double(row, m->readback_seen, (double)m->indeterminate_missing, 0);
	cell_double(row, m->readback_seen, (double)m->failed_found, 0);
	cell_double(row, m->readback_seen, (double)m->phantom, 0);
	cell_double(row, m->readback_seen, (double)m->duplicates, 0);
	if (m->readback_seen)
		cell_bool(row, m->balanced);
	else
		cell(row, "");
	cell_bool(row, m->healthy_seen);
	cell_bool(row, m->healthy_ok);
	cell_double(row, m->healthy_seen && m->healthy_ok, m->healthy_seconds, 6);
	for (int id = 0; id < METRIC_COUNT; id++)
		metric_cell(row, m, (enum metric_id)id);
	for (int i = 0; i < r->scenario->nslos; i++) {
		const struct verdict *v = report_trial_verdict(t, r->scenario, i);

		cell(row, v ? verdict_name(v->kind) : "");
		cell(row, v && v->kind != VERDICT_SKIP ? v->measured_text : "");
		cell(row, v ? v->reason : "");
	}
	end_row(row);
}

static bool metrics_csv_write(const struct scenario_result *r, FILE *out)
{
	struct row row = { out, true };

	header(r, &row);
	for (int i = 0; i < r->ntrials; i++)
		trial_row(r, &r->trials[i], &row);
	if (ferror(out)) {
		log_error("cannot write metrics.csv");
		return false;
	}
	return true;
}

const struct report_writer report_metrics_csv = {
	.name = "metrics-csv",
	.file_name = "metrics.csv",
	.write = metrics_csv_write,
};
