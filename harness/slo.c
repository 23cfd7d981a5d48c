/* slo.c - the SLO metric registry, "OP VALUE" parsing and pass/fail/skip verdicts. */
#include "slo.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "util.h"

/*
 * What a metric measured in one run. observed=false gives a SKIP, fail_reason a FAIL
 * whatever the threshold (the thing to be timed never ended).
 */
struct observation {
	bool observed;
	double value;
	const char *reason;      /* why it was skipped */
	const char *fail_reason; /* why it failed outright */
};

struct metric_def {
	const char *name;
	enum slo_unit unit;
	void (*observe)(const struct metrics *m, struct observation *o);
};

static void observe_failover(const struct metrics *m, struct observation *o)
{
	if (!m->fault_seen) {
		o->reason = "no fault was applied";
	} else if (!m->outage_seen) {
		/* No write failed after the fault: nothing was unavailable. */
		o->observed = true;
		o->value = 0;
	} else if (!m->outage_closed) {
		o->observed = true;
		o->fail_reason = "writes never recovered";
	} else {
		o->observed = true;
		o->value = (double)m->wuw_dur_us;
	}
}

static void observe_promotion(const struct metrics *m, struct observation *o)
{
	if (!m->promote_seen) {
		o->reason = "no promotion observed";
		return;
	}
	o->observed = true;
	o->value = (double)m->promotion_dur_us;
}

static const char no_readback[] = "no read-back: the run ended before recovery";

static void observe_data_loss(const struct metrics *m, struct observation *o)
{
	if (!m->readback_seen) {
		o->reason = no_readback;
		return;
	}
	o->observed = true;
	o->value = (double)m->lost;
}

static void observe_indeterminate(const struct metrics *m, struct observation *o)
{
	o->observed = true;
	o->value = (double)m->indeterminate;
}

static void observe_phantom(const struct metrics *m, struct observation *o)
{
	if (!m->readback_seen) {
		o->reason = no_readback;
		return;
	}
	o->observed = true;
	o->value = (double)m->phantom;
}

static void observe_recovery(const struct metrics *m, struct observation *o)
{
	if (!m->healthy_seen) {
		o->reason = "no wait for health in this run";
		return;
	}
	o->observed = true;
	if (m->healthy_ok)
		o->value = m->healthy_seconds * 1e6;
	else
		o->fail_reason = "cluster did not recover within the timeout";
}

static const struct metric_def metric_defs[] = {
	{ "failover_time", SLO_UNIT_DURATION, observe_failover },
	{ "promotion_time", SLO_UNIT_DURATION, observe_promotion },
	{ "data_loss", SLO_UNIT_COUNT, observe_data_loss },
	{ "indeterminate_writes", SLO_UNIT_COUNT, observe_indeterminate },
	{ "phantom_writes", SLO_UNIT_COUNT, observe_phantom },
	{ "recovery_time", SLO_UNIT_DURATION, observe_recovery },
	{ NULL, 0, NULL },
};

/* Kept in step with metric_defs; test_slo checks that they agree. */
static const char metric_names[] =
	"failover_time, promotion_time, data_loss, indeterminate_writes, phantom_writes, recovery_time";

static const struct metric_def *metric_find(const char *name)
{
	for (int i = 0; metric_defs[i].name; i++)
		if (strcmp(metric_defs[i].name, name) == 0)
			return &metric_defs[i];
	return NULL;
}

bool slo_metric_known(const char *name, enum slo_unit *unit)
{
	const struct metric_def *d = metric_find(name);

	if (d && unit)
		*unit = d->unit;
	return d != NULL;
}

const char *slo_metric_names(void)
{
	return metric_names;
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
	const struct metric_def *d = metric_find(metric);
	const char *p = text, *end;
	char value[64];
	size_t n = sizeof(ops) / sizeof(ops[0]), i;

	memset(out, 0, sizeof(*out));
	if (!why)
		why_len = 0;
	if (!d) {
		snprintf(why, why_len, "unknown SLO metric \"%.40s\" (hint: known metrics: %s)",
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

void slo_judge(const struct slo_spec *slo, const struct metrics *m, struct verdict *out)
{
	const struct metric_def *d = metric_find(slo->metric);
	struct observation o = { 0 };

	memset(out, 0, sizeof(*out));
	out->slo = slo;
	str_copy(out->measured_text, sizeof(out->measured_text), "-");
	if (!d) {
		/* slo_parse never lets this through; a hand-built spec might. */
		out->kind = VERDICT_SKIP;
		str_format(out->reason, sizeof(out->reason), "unknown metric \"%s\"", slo->metric);
		return;
	}
	d->observe(m, &o);
	if (!o.observed) {
		out->kind = VERDICT_SKIP;
		str_copy(out->reason, sizeof(out->reason), o.reason);
		return;
	}
	if (o.fail_reason) {
		out->kind = VERDICT_FAIL;
		str_copy(out->measured_text, sizeof(out->measured_text), "never");
		str_copy(out->reason, sizeof(out->reason), o.fail_reason);
		return;
	}
	out->measured = o.value;
	format_measured(d->unit, o.value, out->measured_text, sizeof(out->measured_text));
	if (compare(slo->op, o.value, slo->threshold)) {
		out->kind = VERDICT_PASS;
		return;
	}
	out->kind = VERDICT_FAIL;
	str_format(out->reason, sizeof(out->reason), "measured %s, wanted %s %s",
		   out->measured_text, slo->metric, slo->text);
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
