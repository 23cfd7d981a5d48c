/*
 * timeseries_csv.c - timeseries.csv: the 100 ms bins of every trial (write rates, latency
 * of acknowledged writes, the watcher's primary, faults, lag per standby) for plotting.
 */
#include "report.h"
#include "util.h"

#include <string.h>

/* Standby names over every trial, so each keeps one lag column across the file. */
static int standby_union(const struct scenario_result *r, char names[][EVENT_NODE_LEN], int max)
{
	int n = 0;

	for (int i = 0; i < r->ntrials; i++) {
		const struct timeseries *ts = r->trials[i].timeseries;

		for (int k = 0; ts && k < ts->nstandbys; k++) {
			int j = 0;

			while (j < n && strcmp(names[j], ts->standbys[k]) != 0)
				j++;
			if (j == n && n < max)
				str_copy(names[n++], EVENT_NODE_LEN, ts->standbys[k]);
		}
	}
	return n;
}

static void number(FILE *out, double v, int decimals)
{
	char buf[48];

	str_format(buf, sizeof(buf), "%.*f", decimals, v);
	report_csv_cell(out, false, buf);
}

static void bin_row(FILE *out, const struct trial_result *t, const struct ts_bin *b,
		    char names[][EVENT_NODE_LEN], int nnames)
{
	const struct timeseries *ts = t->timeseries;
	char buf[32];

	str_format(buf, sizeof(buf), "%d", t->trial);
	report_csv_cell(out, true, buf);
	number(out, (double)b->t_us / 1e6, 1);
	number(out, b->ok_per_s, 1);
	number(out, b->fail_per_s, 1);
	number(out, b->indeterminate_per_s, 1);
	number(out, b->connect_fail_per_s, 1);
	if (b->ok > 0) {
		number(out, b->latency_p50_ms, 3);
		number(out, b->latency_p95_ms, 3);
		number(out, b->latency_max_ms, 3);
	} else {
		fputs(",,,", out);
	}
	report_csv_cell(out, false, b->primary >= 0 ? ts->nodes[b->primary] : "");
	report_csv_cell(out, false, b->in_fault ? "1" : "0");
	for (int j = 0; j < nnames; j++) {
		int k = 0;

		while (k < ts->nstandbys && strcmp(ts->standbys[k], names[j]) != 0)
			k++;
		if (k < ts->nstandbys && b->lag_bytes[k] >= 0)
			number(out, b->lag_bytes[k], 0);
		else
			report_csv_cell(out, false, "");
	}
	fputc('\n', out);
}

static bool timeseries_csv_write(const struct scenario_result *r, FILE *out)
{
	static const char *const columns[] = {
		"trial", "t_s", "ok_per_s", "fail_per_s", "indeterminate_per_s", "connect_fail_per_s", "latency_p50_ms",
		"latency_p95_ms", "latency_max_ms", "primary", "in_fault", NULL,
	};
	char names[TIMESERIES_MAX_NODES * 2][EVENT_NODE_LEN];
	int nnames = standby_union(r, names, TIMESERIES_MAX_NODES * 2);

	for (int i = 0; columns[i]; i++)
		report_csv_cell(out, i == 0, columns[i]);
	for (int j = 0; j < nnames; j++) {
		char buf[64];

		str_format(buf, sizeof(buf), "lag_bytes_%s", names[j]);
		report_csv_cell(out, false, buf);
	}
	fputc('\n', out);
	for (int i = 0; i < r->ntrials; i++) {
		const struct trial_result *t = &r->trials[i];

		/* A trial whose log could not be read has no rows; metrics.csv still lists it. */
		for (size_t b = 0; t->timeseries && b < t->timeseries->nbins; b++)
			bin_row(out, t, &t->timeseries->bins[b], names, nnames);
	}
	if (ferror(out)) {
		log_error("cannot write timeseries.csv");
		return false;
	}
	return true;
}

const struct report_writer report_timeseries_csv = {
	.name = "timeseries-csv",
	.file_name = "timeseries.csv",
	.write = timeseries_csv_write,
};
