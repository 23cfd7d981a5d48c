/*
 * index.c - the suite view of a run directory: index.html and summary.md with one row per
 * scenario (verdict, failover, loss, SLO counts) linking each scenario's own reports.
 */
#include "report.h"
#include "util.h"

#include <string.h>

extern const struct report_writer report_summary_md;

struct slo_counts {
	int pass;
	int fail;
	int skip;
};

static void tally(const struct scenario_result *r, struct slo_counts *c)
{
	c->pass = c->fail = c->skip = 0;
	for (int i = 0; i < r->ntrials; i++) {
		for (int k = 0; k < r->scenario->nslos; k++) {
			const struct verdict *v = report_trial_verdict(&r->trials[i], r->scenario, k);

			if (slo_is_trial_stat(&r->scenario->slos[k]))
				continue;
			if (!v || v->kind == VERDICT_SKIP)
				c->skip++;
			else if (v->kind == VERDICT_FAIL)
				c->fail++;
			else
				c->pass++;
		}
	}
	for (int k = 0; k < r->nstat_verdicts; k++) {
		if (r->stat_verdicts[k].kind == VERDICT_SKIP)
			c->skip++;
		else if (r->stat_verdicts[k].kind == VERDICT_FAIL)
			c->fail++;
		else
			c->pass++;
	}
}

/* "10.54s" for one trial, "p50 10.54s, max 12.1s" for several, "-" when never observed. */
static void stat_text(const struct scenario_result *r, enum metric_id id, char *buf, size_t len)
{
	const struct trial_stats *s = &r->stats[id];
	char a[32], b[32];

	if (s->observed == 0) {
		str_copy(buf, len, "-");
		return;
	}
	report_metric_format(id, s->max, b, sizeof(b));
	if (s->observed == 1) {
		str_copy(buf, len, b);
		return;
	}
	report_metric_format(id, s->p50, a, sizeof(a));
	str_format(buf, len, "p50 %s, max %s", a, b);
}

/* failover's figures with the widest uncertainty of the trials (the logs' own). */
static void failover_text(const struct scenario_result *r, char *buf, size_t len)
{
	char u[32];

	stat_text(r, METRIC_FAILOVER_TIME, buf, len);
	if (strcmp(buf, "-") == 0)
		return;
	report_failover_stat_suffix(r, u, sizeof(u));
	str_format(buf + strlen(buf), len - strlen(buf), "%s", u);
}

static const char *const files[] = { "report.html", "summary.md", "junit.xml", "metrics.csv",
				     "timeseries.csv", "summary.json", NULL };

bool report_index_html(const struct scenario_result *results, int n, FILE *out)
{
	bool failed = false;

	for (int i = 0; i < n; i++)
		failed = failed || results[i].overall == VERDICT_FAIL;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>bise run %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>bise run ",
		failed ? "FAIL" : "PASS", report_html_style());
	report_xml_text(out, n > 0 ? results[0].run_id : "");
	fprintf(out, " <span class=\"badge %s\">%s</span></h1>\n", failed ? "fail" : "pass",
		failed ? "FAIL" : "PASS");
	if (n > 0) {
		fputs("<p class=\"meta\">backend ", out);
		report_xml_text(out, results[0].backend);
		fputs(" · ", out);
		report_xml_text(out, results[0].versions);
		fputs(" · host ", out);
		report_xml_text(out, results[0].host);
		fprintf(out, " · seed %llu · %d scenario%s</p>\n", (unsigned long long)results[0].seed, n,
			n == 1 ? "" : "s");
	}
	fputs("<table class=\"slo\">\n<tr><th>scenario</th><th>verdict</th><th>trials</th>"
	      "<th>failover</th><th>lost writes</th><th>SLOs pass / fail / skip</th><th>files</th></tr>\n", out);
	for (int i = 0; i < n; i++) {
		const struct scenario_result *r = &results[i];
		struct slo_counts c;
		char fo[80], lost[80];

		tally(r, &c);
		failover_text(r, fo, sizeof(fo));
		stat_text(r, METRIC_DATA_LOSS, lost, sizeof(lost));
		fprintf(out, "<tr class=\"%s\"><td><a href=\"", verdict_name(r->overall));
		report_xml_text(out, r->scenario->name);
		fputs("/report.html\">", out);
		report_xml_text(out, r->scenario->name);
		fprintf(out, "</a></td><td class=\"verdict\">%s</td><td class=\"num\">%d</td><td class=\"num\">",
			verdict_name(r->overall), r->ntrials);
		report_xml_text(out, fo);
		fputs("</td><td class=\"num\">", out);
		report_xml_text(out, lost);
		fprintf(out, "</td><td class=\"num\">%d / %d / %d</td><td>", c.pass, c.fail, c.skip);
		for (int f = 0; files[f]; f++) {
			fputs(f ? " · <a href=\"" : "<a href=\"", out);
			report_xml_text(out, r->scenario->name);
			fprintf(out, "/%s\">%s</a>", files[f], files[f]);
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n</body>\n</html>\n", out);
	if (ferror(out)) {
		log_error("cannot write index.html");
		return false;
	}
	return true;
}

bool report_index_md(const struct scenario_result *results, int n, FILE *out)
{
	bool ok = true;

	fputs("## bise run ", out);
	report_md_text(out, n > 0 ? results[0].run_id : "");
	fputs("\n\n| scenario | verdict | trials | failover | lost writes | SLOs pass / fail / skip |\n"
	      "|---|---|---|---|---|---|\n", out);
	for (int i = 0; i < n; i++) {
		const struct scenario_result *r = &results[i];
		struct slo_counts c;
		char fo[80], lost[80];

		tally(r, &c);
		failover_text(r, fo, sizeof(fo));
		stat_text(r, METRIC_DATA_LOSS, lost, sizeof(lost));
		fputs("| ", out);
		report_md_text(out, r->scenario->name);
		fprintf(out, " | %s | %d | ", r->overall == VERDICT_FAIL ? "❌ fail" : "✅ pass", r->ntrials);
		report_md_text(out, fo);
		fputs(" | ", out);
		report_md_text(out, lost);
		fprintf(out, " | %d / %d / %d |\n", c.pass, c.fail, c.skip);
	}
	for (int i = 0; i < n; i++) {
		fputc('\n', out);
		ok = report_summary_md.write(&results[i], out) && ok;
	}
	if (ferror(out)) {
		log_error("cannot write summary.md");
		return false;
	}
	return ok;
}
