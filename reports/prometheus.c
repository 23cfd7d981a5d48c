/*
 * prometheus.c - a judged scenario as Prometheus text (exposition format 0.0.4), for the
 * Pushgateway: the verdicts, the trials, and every metric of the catalogue with its
 * statistics across the trials. Only formats what the judge filled in.
 */
#include "report.h"
#include "util.h"

#include <math.h>
#include <string.h>

/* The suffix of a unit (Prometheus base units); counts have none. */
static const char *unit_suffix(enum slo_unit unit)
{
	switch (unit) {
	case SLO_UNIT_DURATION: return "_seconds";
	case SLO_UNIT_BYTES: return "_bytes";
	case SLO_UNIT_PERCENT: return "_ratio";
	case SLO_UNIT_COUNT: break;
	}
	return "";
}

/* A value of the catalogue's base unit (µs, bytes, writes, percent) in Prometheus's. */
static double base_value(enum slo_unit unit, double v)
{
	switch (unit) {
	case SLO_UNIT_DURATION: return v / 1e6;
	case SLO_UNIT_PERCENT: return v / 100;
	case SLO_UNIT_BYTES:
	case SLO_UNIT_COUNT: break;
	}
	return v;
}

bool report_prometheus_name(enum metric_id id, char *buf, size_t len)
{
	const char *name = metric_name(id), *suffix;
	enum slo_unit unit = SLO_UNIT_COUNT;
	size_t n, s;

	if (!name || !slo_metric_known(name, &unit))
		return false;
	suffix = unit_suffix(unit);
	n = strlen(name);
	s = strlen(suffix);
	/* max_lag_bytes already says its unit. */
	if (n >= s && strcmp(name + n - s, suffix) == 0)
		suffix = "";
	return str_format(buf, len, "bise_%s%s", name, suffix);
}

/* A label value or HELP text: backslash, newline and (in labels) double quote escaped. */
static void escaped(FILE *out, const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && label)
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

static void value(FILE *out, double v)
{
	if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", out);
	else if (isnan(v))
		fputs("NaN", out);
	else
		fprintf(out, "%.15g", v);
}

static void family(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	escaped(out, help, false);
	fprintf(out, "\n# TYPE %s gauge\n", name);
}

static void sample(FILE *out, const char *name, double v)
{
	fprintf(out, "%s ", name);
	value(out, v);
	fputc('\n', out);
}

static void run_info(FILE *out, const struct scenario_result *r)
{
	family(out, "bise_run_info", "The run that measured the scenario: run id, bise version, backend and seed.");
	fputs("bise_run_info{run_id=\"", out);
	escaped(out, r->run_id, true);
	fputs("\",version=\"", out);
	escaped(out, BISE_VERSION, true);
	fputs("\",backend=\"", out);
	escaped(out, r->backend, true);
	fprintf(out, "\",seed=\"%llu\"} 1\n", (unsigned long long)r->seed);
}

static void trials(FILE *out, const struct scenario_result *r)
{
	int failed = 0, completed = 0;

	for (int i = 0; i < r->ntrials; i++) {
		failed += r->trials[i].verdict == VERDICT_FAIL;
		completed += r->trials[i].completed;
	}
	family(out, "bise_scenario_pass", "1 when every SLO held and every trial ran to its end, else 0.");
	sample(out, "bise_scenario_pass", r->overall == VERDICT_PASS);
	family(out, "bise_trials", "Trials run.");
	sample(out, "bise_trials", r->ntrials);
	family(out, "bise_trials_completed", "Trials that ran to their end (not aborted or interrupted).");
	sample(out, "bise_trials_completed", completed);
	family(out, "bise_trials_failed", "Trials whose verdict is a failure.");
	sample(out, "bise_trials_failed", failed);
}

/* Each SLO over the scenario; one no trial could judge is left out. */
static void slos(FILE *out, const struct scenario_result *r)
{
	const struct scenario *sc = r->scenario;
	bool any = false;

	for (int i = 0; i < sc->nslos; i++)
		any |= r->slo_verdicts[i] != VERDICT_SKIP;
	if (!any)
		return;
	family(out, "bise_slo_pass",
	       "1 when the SLO held over the scenario (every trial, or its statistic), 0 when it failed.");
	for (int i = 0; i < sc->nslos; i++) {
		if (r->slo_verdicts[i] == VERDICT_SKIP)
			continue;
		fputs("bise_slo_pass{slo=\"", out);
		escaped(out, sc->slos[i].metric, true);
		fputs("\",threshold=\"", out);
		escaped(out, sc->slos[i].text, true);
		fprintf(out, "\"} %d\n", r->slo_verdicts[i] == VERDICT_PASS);
	}
}

/* One family per metric observed in a trial: its min, p50, p95 and max; +Inf = never ended. */
static void metric_stats(FILE *out, const struct scenario_result *r)
{
	static const char *const stat_names[] = { "min", "p50", "p95", "max" };
	bool any = false;

	for (int id = 0; id < METRIC_COUNT; id++) {
		const struct trial_stats *s = &r->stats[id];
		const double stat[] = { s->min, s->p50, s->p95, s->max };
		enum slo_unit unit = SLO_UNIT_COUNT;
		char name[96], help[256];

		if (s->observed == 0 || !report_prometheus_name((enum metric_id)id, name, sizeof(name)))
			continue;
		slo_metric_known(metric_name((enum metric_id)id), &unit);
		str_format(help, sizeof(help),
			   "SLO metric %s across the trials that observed it (stat: min, p50, p95 nearest rank, max); +Inf: a trial where it never ended.",
			   metric_name((enum metric_id)id));
		family(out, name, help);
		for (size_t k = 0; k < sizeof(stat) / sizeof(stat[0]); k++) {
			fprintf(out, "%s{stat=\"%s\"} ", name, stat_names[k]);
			value(out, base_value(unit, stat[k]));
			fputc('\n', out);
		}
		any = true;
	}
	if (!any)
		return;
	family(out, "bise_metric_trials_observed", "Trials in which the SLO metric was observed.");
	for (int id = 0; id < METRIC_COUNT; id++)
		if (r->stats[id].observed > 0)
			fprintf(out, "bise_metric_trials_observed{metric=\"%s\"} %d\n", metric_name((enum metric_id)id),
				r->stats[id].observed);
}

bool report_prometheus(const struct scenario_result *r, FILE *out)
{
	run_info(out, r);
	trials(out, r);
	slos(out, r);
	if (r->have_stats)
		metric_stats(out, r);
	if (ferror(out)) {
		log_error("cannot write the Prometheus metrics of %s", r->scenario->name);
		return false;
	}
	return true;
}
