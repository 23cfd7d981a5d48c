/*
 * slo_spec.h - the metrics a scenario can name in its SLOs (ids, names, units, statistics
 * over trials) and the parsing of "OP VALUE" into a slo_spec (scenario.h). What a metric
 * measured and the verdicts are later stages' (metrics.h, slo.h).
 */
#ifndef BISE_SLO_SPEC_H
#define BISE_SLO_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

enum metric_id {
	METRIC_FAILOVER_TIME,
	METRIC_PROMOTION_TIME,
	METRIC_DATA_LOSS,
	METRIC_INDETERMINATE_WRITES,
	METRIC_PHANTOM_WRITES,
	METRIC_RECOVERY_TIME,
	METRIC_MAX_LAG_BYTES,
	METRIC_MAX_LAG_TIME,
	METRIC_SPLIT_BRAIN_TIME,
	METRIC_SPLIT_BRAIN_WRITES,
	METRIC_RPO_TIME,
	METRIC_RPO_BYTES,
	METRIC_REDUNDANCY_TIME,
	METRIC_READ_UNAVAILABILITY,
	METRIC_MAX_STALENESS,
	METRIC_DEPOSED_READS,
	METRIC_LABEL_SWITCH_TIME,
	METRIC_FAULT_DURATION_ERROR,
	METRIC_FAULT_LATENESS,
	METRIC_SERVER_ACCEPT_TIME,
	METRIC_COUNT
};

enum slo_unit { SLO_UNIT_DURATION, SLO_UNIT_COUNT, SLO_UNIT_BYTES, SLO_UNIT_PERCENT };

/* Statistics over trials: "p95(failover_time)" is judged once over all trials. */
enum slo_stat { STAT_NONE, STAT_MIN, STAT_P50, STAT_P95, STAT_MAX };

/* The SLO name of a metric ("failover_time"); NULL outside the enum. */
const char *metric_name(enum metric_id id);

/* Inverse of metric_name; false for an unknown name. */
bool metric_lookup(const char *name, enum metric_id *out);

/* "name" or "stat(name)": the metric, its unit and the statistic; false when unknown. */
bool slo_metric_resolve(const char *key, enum metric_id *id, enum slo_unit *unit, enum slo_stat *stat);

/*
 * True if name is a known SLO metric, or a statistic over trials of one: min(M), p50(M),
 * p95(M), max(M) (nearest rank). unit receives the metric's unit.
 */
bool slo_metric_known(const char *name, enum slo_unit *unit);

/* Comma-separated list of known metrics, for hints. */
const char *slo_metric_names(void);

/*
 * Parse "< 30s", "== 0", "<= 16MiB", ">= 99.5%" for a metric of the given unit.
 * Returns false with a reason in why.
 */
bool slo_parse(const char *metric, const char *text, struct slo_spec *out, char *why, size_t why_len);

/* True for an SLO on a statistic over trials, e.g. "p95(failover_time)". */
bool slo_is_trial_stat(const struct slo_spec *slo);

#endif
