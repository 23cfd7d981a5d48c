/* slo.c - the SLO metric registry, "OP VALUE" parsing and pass/fail/skip verdicts. */
#include "slo.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"
#include "units.h"
#include "util.h"

struct metric_def {
	enum metric_id id;
	enum slo_unit unit;
};

static const struct metric_def metric_defs[] = {
	{ METRIC_FAILOVER_TIME, SLO_UNIT_DURATION },
	{ METRIC_PROMOTION_TIME, SLO_UNIT_DURATION },
	{ METRIC_DATA_LOSS, SLO_UNIT_COUNT },
	{ METRIC_INDETERMINATE_WRITES, SLO_UNIT_COUNT },
	{ METRIC_PHANTOM_WRITES, SLO_UNIT_COUNT },
	{ METRIC_RECOVERY_TIME, SLO_UNIT_DURATION },
	{ METRIC_MAX_LAG_BYTES, SLO_UNIT_BYTES },
	{ METRIC_MAX_LAG_TIME, SLO_UNIT_DURATION },
	{ METRIC_SPLIT_BRAIN_TIME, SLO_UNIT_DURATION },
	{ METRIC_SPLIT_BRAIN_WRITES, SLO_UNIT_COUNT },
	{ METRIC_RPO_TIME, SLO_UNIT_DURATION },
	{ METRIC_RPO_BYTES, SLO_UNIT_BYTES },
	{ METRIC_REDUNDANCY_TIME, SLO_UNIT_DURATION },
	{ METRIC_READ_UNAVAILABILITY, SLO_UNIT_DURATION },
	{ METRIC_MAX_STALENESS, SLO_UNIT_DURATION },
	{ METRIC_DEPOSED_READS, SLO_UNIT_COUNT },
	{ METRIC_LABEL_SWITCH_TIME, SLO_UNIT_DURATION },
};

#define NDEFS (sizeof(metric_defs) / sizeof(metric_defs[0]))

/* Kept in step with metric_defs; test_slo checks that they agree. */
static const char metric_names[] =
	"failover_time, promotion_time, data_loss, indeterminate_writes, phantom_writes, recovery_time, "
	"max_lag_bytes, max_lag_time, split_brain_time, split_brain_writes, rpo_time, rpo_bytes, "
	"redundancy_time, read_unavailability, max_staleness, deposed_reads, label_switch_time";

/* Statistics over trials: "p95(failover_time)" is judged once over all trials. */
enum slo_stat { STAT_NONE, STAT_MIN, STAT_P50, STAT_P95, STAT_MAX };

static const char *const stat_names[] = { "", "min", "p50", "p95", "max" };

static const struct metric_def *metric_find_plain(const char *name)
{
	enum metric_id id;

	if (!metric_lookup(name, &id))
		return NULL;
	for (size_t i = 0; i < NDEFS; i++)
		if (metric_defs[i].id == id)
			return &metric_defs[i];
	return NULL;
}

/* "name" or "stat(name)" -> the metric and the statistic; NULL when unknown. */
static const struct metric_def *metric_find(const char *key, enum slo_stat *stat)
{
	char inner[64];
	const char *open = strchr(key, '(');
	size_t len = strlen(key);

	*stat = STAT_NONE;
	if (!open)
		return metric_find_plain(key);
	if (key[len - 1] != ')' || (size_t)(len - (size_t)(open - key) - 2) >= sizeof(inner))
		return NULL;
	for (int s = STAT_MIN; s <= STAT_MAX; s++) {
		if ((size_t)(open - key) == strlen(stat_names[s]) &&
		    strncmp(key, stat_names[s], strlen(stat_names[s])) == 0)
			*stat = (enum slo_stat)s;
	}
	if (*stat == STAT_NONE)
		return NULL;
	memcpy(inner, open + 1, len - (size_t)(open - key) - 2);
	inner[len - (size_t)(open - key) - 2] = '\0';
	return metric_find_plain(inner);
}

bool slo_metric_known(const char *name, enum slo_unit *unit)
{
	enum slo_stat stat;
	const struct metric_def *d = metric_find(name, &stat);

	if (d && unit)
		*unit = d->unit;
	return d != NULL;
}

const char *slo_metric_names(void)
{
	return metric_names;
}

bool slo_is_trial_stat(const struct slo_spec *slo)
{
	enum slo_stat stat;

	return metric_find(slo->metric, &stat) && stat != STAT_NONE;
}

static const struct {
	const char *text;
	enum slo_op op;
} ops[] = {
	/* Two-character operators first so "<=" is not read as "<" then "=". */
	{ "<=", SLO_LE }, { ">=", SLO_GE }, { "==", SLO_EQ }, { "<", SLO_LT }, { ">", SLO_GT },
};

static bool parse_count(const char *text, double *out, char *why, size_t why_len)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)text[0])) {
		snprintf(why, why_len, "\"%.40s\" is not a count (hint: a whole number >= 0, e.g. 0)",
			 text);
		return false;
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end) {
		snprintf(why, why_len, "\"%.40s\" is not a count (hint: a whole number >= 0, e.g. 0)",
			 text);
		return false;
	}
	*out = (double)v;
	return true;
}

static bool parse_percent(const char *text, double *out, char *why, size_t why_len)
{
	char *end;
	double v;

	errno = 0;
	v = isdigit((unsigned char)text[0]) ? strtod(text, &end) : NAN;
	if (isnan(v) || errno || strcmp(end, "%") != 0 || v > 100) {
		snprintf(why, why_len, "\"%.40s\" is not a percentage (hint: 0%% to 100%%, e.g. 99.5%%)",
			 text);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_value(enum slo_unit unit, const char *text, double *out, char *why,
			size_t why_len)
{
	int64_t v;

	switch (unit) {
	case SLO_UNIT_DURATION:
		if (!duration_parse(text, &v, why, why_len))
			return false;
		*out = (double)v;
		return true;
	case SLO_UNIT_BYTES:
		if (!size_parse(text, &v, why, why_len))
			return false;
		*out = (double)v;
		return true;
	case SLO_UNIT_COUNT:
		return parse_count(text, out, why, why_len);
	case SLO_UNIT_PERCENT:
		return parse_percent(text, out, why, why_len);
	}
	return false;
}

bool slo_parse(const char *metric, const char *text, struct slo_spec *out, char *why, size_t why_len)
{
	enum slo_stat stat;
	const struct metric_def *d = metric_find(metric, &stat);
	const char *p = text, *end;
	char value[64];
	size_t n = sizeof(ops) / sizeof(ops[0]), i;

	memset(out, 0, sizeof(*out));
	if (!why)
		why_len = 0;
	if (!d) {
		snprintf(why, why_len,
			 "unknown SLO metric \"%.40s\" (hint: known metrics: %s; over trials: min(M), p50(M), p95(M), max(M))",
			 metric, metric_names);
		return false;
	}
	while (isspace((unsigned char)*p))
		p++;
	for (i = 0; i < n; i++)
		if (strncmp(p, ops[i].text, strlen(ops[i].text)) == 0)
			break;
	if (i == n) {
		snprintf(why, why_len,
			 "\"%.40s\" does not start with a comparison (hint: one of <, <=, ==, >=, > then a value, e.g. \"< 30s\")",
			 text);
		return false;
	}
	p += strlen(ops[i].text);
	if (*p == '=') {
		snprintf(why, why_len, "\"%.40s\" has an unknown comparison (hint: one of <, <=, ==, >=, >)",
			 text);
		return false;
	}
	while (isspace((unsigned char)*p))
		p++;
	for (end = p + strlen(p); end > p && isspace((unsigned char)end[-1]); end--)
		;
	if (end == p) {
		snprintf(why, why_len, "\"%.40s\" has no value after the comparison (hint: e.g. \"%s 30s\")",
			 text, ops[i].text);
		return false;
	}
	if ((size_t)(end - p) >= sizeof(value)) {
		snprintf(why, why_len, "the value in \"%.40s\" is too long", text);
		return false;
	}
	memcpy(value, p, (size_t)(end - p));
	value[end - p] = '\0';
	if (!parse_value(d->unit, value, &out->threshold, why, why_len))
		return false;
	out->op = ops[i].op;
	str_copy(out->metric, sizeof(out->metric), metric);
	/* Normalised "OP VALUE" so reports read the same however it was spaced. */
	str_format(out->text, sizeof(out->text), "%s %s", ops[i].text, value);
	return true;
}

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
		str_format(buf, len, "%lld B", round_count(v));
		break;
	case SLO_UNIT_PERCENT:
		str_format(buf, len, "%.2f%%", v);
		break;
	}
}

/* The common end of a judgment: a value (or never) against the threshold. */
static void judge_value(const struct slo_spec *slo, const struct metric_def *d, const struct metric_value *o,
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
	format_measured(d->unit, o->value, out->measured_text, sizeof(out->measured_text));
	if (compare(slo->op, o->value, slo->threshold)) {
		out->kind = VERDICT_PASS;
		return;
	}
	out->kind = VERDICT_FAIL;
	str_format(out->reason, sizeof(out->reason), "measured %s, wanted %s %s",
		   out->measured_text, slo->metric, slo->text);
}

/* Start a verdict; NULL (and a SKIP) for a metric slo_parse would not have let through. */
static const struct metric_def *verdict_start(const struct slo_spec *slo, struct verdict *out,
					      enum slo_stat *stat)
{
	const struct metric_def *d = metric_find(slo->metric, stat);

	memset(out, 0, sizeof(*out));
	out->slo = slo;
	str_copy(out->measured_text, sizeof(out->measured_text), "-");
	if (!d) {
		out->kind = VERDICT_SKIP;
		str_format(out->reason, sizeof(out->reason), "unknown metric \"%s\"", slo->metric);
	}
	return d;
}

void slo_judge(const struct slo_spec *slo, const struct metrics *m, struct verdict *out)
{
	enum slo_stat stat;
	const struct metric_def *d = verdict_start(slo, out, &stat);
	struct metric_value o;

	if (!d)
		return;
	if (stat != STAT_NONE) {
		out->kind = VERDICT_SKIP;
		str_copy(out->reason, sizeof(out->reason), "judged once over all trials (trials_stats)");
		return;
	}
	metric_value(m, d->id, &o);
	judge_value(slo, d, &o, out);
}

void slo_judge_trials(const struct slo_spec *slo, const struct metrics *per_trial, int n, struct verdict *out)
{
	enum slo_stat stat;
	const struct metric_def *d = verdict_start(slo, out, &stat);
	struct trial_stats ts;
	struct metric_value o;

	if (!d)
		return;
	if (stat == STAT_NONE) {
		out->kind = VERDICT_SKIP;
		str_copy(out->reason, sizeof(out->reason), "judged per trial");
		return;
	}
	judge_metric_stats(per_trial, n, d->id, &ts);
	memset(&o, 0, sizeof(o));
	o.observed = ts.observed > 0;
	o.reason = "not observed in any trial";
	o.value = stat == STAT_MIN ? ts.min : stat == STAT_P50 ? ts.p50 : stat == STAT_P95 ? ts.p95 : ts.max;
	o.never = isinf(o.value);
	o.fail_reason = "never ended in a trial this statistic lands on";
	judge_value(slo, d, &o, out);
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
