/*
 * slo_spec.c - the metrics a scenario can name (their ids, names and units) and the
 * "OP VALUE" of an SLO parsed into a slo_spec. Judging is the judge's (harness/judge/slo.c).
 */
#include "slo_spec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "util.h"

struct metric_def {
	enum metric_id id;
	enum slo_unit unit;
};

static const char *const names[METRIC_COUNT] = {
	[METRIC_FAILOVER_TIME] = "failover_time",
	[METRIC_PROMOTION_TIME] = "promotion_time",
	[METRIC_DATA_LOSS] = "data_loss",
	[METRIC_INDETERMINATE_WRITES] = "indeterminate_writes",
	[METRIC_PHANTOM_WRITES] = "phantom_writes",
	[METRIC_RECOVERY_TIME] = "recovery_time",
	[METRIC_MAX_LAG_BYTES] = "max_lag_bytes",
	[METRIC_MAX_LAG_TIME] = "max_lag_time",
	[METRIC_SPLIT_BRAIN_TIME] = "split_brain_time",
	[METRIC_SPLIT_BRAIN_WRITES] = "split_brain_writes",
	[METRIC_RPO_TIME] = "rpo_time",
	[METRIC_RPO_BYTES] = "rpo_bytes",
	[METRIC_REDUNDANCY_TIME] = "redundancy_time",
	[METRIC_READ_UNAVAILABILITY] = "read_unavailability",
	[METRIC_MAX_STALENESS] = "max_staleness",
	[METRIC_DEPOSED_READS] = "deposed_reads",
	[METRIC_LABEL_SWITCH_TIME] = "label_switch_time",
	[METRIC_FAULT_DURATION_ERROR] = "fault_duration_error",
	[METRIC_FAULT_LATENESS] = "fault_lateness",
	[METRIC_SERVER_ACCEPT_TIME] = "server_accept_time",
};

const char *metric_name(enum metric_id id)
{
	return (unsigned)id < METRIC_COUNT ? names[id] : NULL;
}

bool metric_lookup(const char *name, enum metric_id *out)
{
	for (int i = 0; i < METRIC_COUNT; i++) {
		if (strcmp(names[i], name) == 0) {
			*out = (enum metric_id)i;
			return true;
		}
	}
	return false;
}

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
	{ METRIC_FAULT_DURATION_ERROR, SLO_UNIT_DURATION },
	{ METRIC_FAULT_LATENESS, SLO_UNIT_DURATION },
	{ METRIC_SERVER_ACCEPT_TIME, SLO_UNIT_DURATION },
};

#define NDEFS (sizeof(metric_defs) / sizeof(metric_defs[0]))

/* Kept in step with metric_defs; test_slo checks that they agree. */
static const char metric_names[] =
	"failover_time, promotion_time, data_loss, indeterminate_writes, phantom_writes, recovery_time, "
	"max_lag_bytes, max_lag_time, split_brain_time, split_brain_writes, rpo_time, rpo_bytes, "
	"redundancy_time, read_unavailability, max_staleness, deposed_reads, label_switch_time, "
	"fault_duration_error, fault_lateness, server_accept_time";

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

bool slo_metric_resolve(const char *key, enum metric_id *id, enum slo_unit *unit, enum slo_stat *stat)
{
	const struct metric_def *d = metric_find(key, stat);

	if (!d)
		return false;
	*id = d->id;
	*unit = d->unit;
	return true;
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

