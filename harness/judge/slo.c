/* slo.c - SLO verdicts: const metrics + SLO specs (slo_spec.h) -> pass/fail/skip. */
#include "slo.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "judge.h"
#include "units.h"
#include "util.h"

static bool compare(enum slo_op op, double measured, double threshold)
{
	switch (op) {
	case SLO_LT:
		return measured < threshold;
	case SLO_LE:
		return measured <= threshold;
	case SLO_EQ:
		return measured == threshold;
	case SLO_GE:
		return measured >= threshold;
	case SLO_GT:
		return measured > threshold;
	}
	return false;
}

/* Measurements are never negative; rounding by hand keeps libm out of the link. */
static long long round_count(double v)
{
	return (long long)(v + 0.5);
}

static void format_measured(enum slo_unit unit, double v, char *buf, size_t len)
{
	if (isinf(v)) {
		str_copy(buf, len, "never");
		return;
	}
	switch (unit) {
	case SLO_UNIT_DURATION:
		duration_format((int64_t)round_count(v), buf, len);
		break;
	case SLO_UNIT_COUNT:
		str_format(buf, len, "%lld", round_count(v));
		break;
	case SLO_UNIT_BYTES:
		size_format(v, buf, len);
		break;
	case SLO_UNIT_PERCENT:
		str_format(buf, len, "%.2f%%", v);
		break;
	}
}

/* The common end of a judgment: a value (or never) against the threshold. */
static void judge_value(const struct slo_spec *slo, enum slo_unit unit, const struct metric_value *o,
			struct verdict *out)
{
	if (!o->observed) {
		out->kind = VERDICT_SKIP;
		str_copy(out->reason, sizeof(out->reason), o->reason);
		return;
	}
	if (o->never) {
		out->kind = VERDICT_FAIL;
		str_copy(out->measured_text, sizeof(out->measured_text), "never");
		str_copy(out->reason, sizeof(out->reason), o->fail_reason);
		return;
	}
	out->measured = o->value;
	format_measured(unit, o->value, out->measured_text, sizeof(out->measured_text));
	if (compare(slo->op, o->value, slo->threshold)) {
		out->kind = VERDICT_PASS;
		return;
	}
	out->kind = VERDICT_FAIL;
	str_format(out->reason, sizeof(out->reason), "measured %s, wanted %s %s",
		   out->measured_text, slo->metric, slo->text);
}

/* Start a verdict; false (and a SKIP) for a metric slo_parse would not have let through. */
static bool verdict_start(const struct slo_spec *slo, struct verdict *out, enum metric_id *id,
			  enum slo_unit *unit, enum slo_stat *stat)
{
	bool known = slo_metric_resolve(slo->metric, id, unit, stat);

	memset(out, 0, sizeof(*out));
	out->slo = slo;
	str_copy(out->measured_text, sizeof(out->measured_text), "-");
	if (!known) {
		out->kind = VERDICT_SKIP;
		str_format(out->reason, sizeof(out->reason), "unknown metric \"%s\"", slo->metric);
	}
	return known;
}

void slo_judge(const struct slo_spec *slo, const struct metrics *m, struct verdict *out)
{
	enum slo_stat stat;
	enum metric_id id;
	enum slo_unit unit;
	struct metric_value o;

	if (!verdict_start(slo, out, &id, &unit, &stat))
		return;
	if (stat != STAT_NONE) {
		out->kind = VERDICT_SKIP;
		str_copy(out->reason, sizeof(out->reason), "judged once over all trials (trials_stats)");
		return;
	}
	metric_value(m, id, &o);
	judge_value(slo, unit, &o, out);
}

void slo_judge_trials(const struct slo_spec *slo, const struct metrics *per_trial, int n, struct verdict *out)
{
	enum slo_stat stat;
	enum metric_id id;
	enum slo_unit unit;
	struct trial_stats ts;
	struct metric_value o;

	if (!verdict_start(slo, out, &id, &unit, &stat))
		return;
	if (stat == STAT_NONE) {
		out->kind = VERDICT_SKIP;
		str_copy(out->reason, sizeof(out->reason), "judged per trial");
		return;
	}
	judge_metric_stats(per_trial, n, id, &ts);
	memset(&o, 0, sizeof(o));
	o.observed = ts.observed > 0;
	o.reason = "not observed in any trial";
	o.value = stat == STAT_MIN ? ts.min : stat == STAT_P50 ? ts.p50 : stat == STAT_P95 ? ts.p95 : ts.max;
	o.never = isinf(o.value);
	o.fail_reason = "never ended in a trial this statistic lands on";
	judge_value(slo, unit, &o, out);
	if (out->kind == VERDICT_FAIL && !o.never)
		str_format(out->reason, sizeof(out->reason), "measured %s over %d of %d trials, wanted %s %s",
			   out->measured_text, ts.observed, n, slo->metric, slo->text);
}

const char *verdict_name(enum verdict_kind k)
{
	switch (k) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_FAIL:
		return "fail";
	case VERDICT_SKIP:
		return "skip";
	}
	return "?";
}
