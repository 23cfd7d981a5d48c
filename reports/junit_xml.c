/*
 * junit_xml.c - junit.xml for CI test views: one testsuite per scenario, one testcase per
 * SLO (per SLO and trial when the scenario repeats), failures and skips with their reasons.
 */
#include "report.h"
#include "util.h"

struct counts {
	int tests;
	int failures;
	int skipped;
};

/* A trial that did not run to its end, or a cluster that never recovered, fails the scenario too. */
static bool trial_broken(const struct trial_result *t)
{
	return !t->completed || (t->metrics.healthy_seen && !t->metrics.healthy_ok);
}

static void count(const struct scenario_result *r, struct counts *c)
{
	c->tests = c->failures = c->skipped = 0;
	for (int i = 0; i < r->ntrials; i++) {
		const struct trial_result *t = &r->trials[i];

		for (int k = 0; k < r->scenario->nslos; k++) {
			const struct verdict *v = report_trial_verdict(t, r->scenario, k);

			if (slo_is_trial_stat(&r->scenario->slos[k]))
				continue;
			c->tests++;
			if (!v || v->kind == VERDICT_SKIP)
				c->skipped++;
			else if (v->kind == VERDICT_FAIL)
				c->failures++;
		}
		if (trial_broken(t)) {
			c->tests++;
			c->failures++;
		}
	}
	for (int k = 0; k < r->nstat_verdicts; k++) {
		c->tests++;
		if (r->stat_verdicts[k].kind == VERDICT_SKIP)
			c->skipped++;
		else if (r->stat_verdicts[k].kind == VERDICT_FAIL)
			c->failures++;
	}
}

static void testcase_open(FILE *out, const struct scenario_result *r, const char *name_a,
			  const char *name_b, int trial)
{
	fputs("    <testcase classname=\"bise.", out);
	report_xml_text(out, r->scenario->name);
	fputs("\" name=\"", out);
	report_xml_text(out, name_a);
	if (name_b) {
		fputc(' ', out);
		report_xml_text(out, name_b);
	}
	if (trial > 0 && r->ntrials > 1)
		fprintf(out, " (trial %d)", trial);
	fputs("\"", out);
}

static void verdict_case(FILE *out, const struct scenario_result *r, const struct slo_spec *slo,
			 const struct verdict *v, int trial)
{
	testcase_open(out, r, slo->metric, slo->text, trial);
	if (v && v->kind == VERDICT_PASS) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	if (!v || v->kind == VERDICT_SKIP) {
		fputs("      <skipped message=\"", out);
		report_xml_text(out, v && v->reason[0] ? v->reason : "not judged: the trial ended before");
		fputs("\"/>\n", out);
	} else {
		fputs("      <failure type=\"slo\" message=\"measured ", out);
		report_xml_text(out, report_measured(v));
		fputs(", threshold ", out);
		report_xml_text(out, slo->text);
		if (report_verdict_note(v)[0]) {
			fputs(": ", out);
			report_xml_text(out, report_verdict_note(v));
		}
		fputs("\">", out);
		report_xml_text(out, v->reason);
		fputs("</failure>\n", out);
	}
	fputs("    </testcase>\n", out);
}

static void broken_case(FILE *out, const struct scenario_result *r, const struct trial_result *t)
{
	char name[64];

	str_format(name, sizeof(name), "trial %d ran to its end with a healthy cluster", t->trial);
	testcase_open(out, r, name, NULL, 0);
	fputs(">\n      <failure type=\"trial\" message=\"", out);
	if (!t->completed)
		report_xml_text(out, t->error[0] ? t->error : "the trial did not complete");
	else
		report_xml_text(out, "the cluster did not recover within the timeout");
	fputs("\"/>\n    </testcase>\n", out);
}

static void property(FILE *out, const char *name, const char *value)
{
	fprintf(out, "      <property name=\"%s\" value=\"", name);
	report_xml_text(out, value);
	fputs("\"/>\n", out);
}

static bool junit_xml_write(const struct scenario_result *r, FILE *out)
{
	struct counts c;
	char seed[32];

	count(r, &c);
	str_format(seed, sizeof(seed), "%llu", (unsigned long long)r->seed);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"bise\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n",
		c.tests, c.failures, c.skipped);
	fputs("  <testsuite name=\"", out);
	report_xml_text(out, r->scenario->name);
	fprintf(out, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n", c.tests,
		c.failures, c.skipped);
	fputs("    <properties>\n", out);
	property(out, "run_id", r->run_id);
	property(out, "backend", r->backend);
	property(out, "versions", r->versions);
	property(out, "seed", seed);
	fputs("    </properties>\n", out);
	for (int i = 0; i < r->ntrials; i++) {
		const struct trial_result *t = &r->trials[i];

		for (int k = 0; k < r->scenario->nslos; k++)
			if (!slo_is_trial_stat(&r->scenario->slos[k]))
				verdict_case(out, r, &r->scenario->slos[k],
					     report_trial_verdict(t, r->scenario, k), t->trial);
		if (trial_broken(t))
			broken_case(out, r, t);
	}
	for (int k = 0; k < r->nstat_verdicts; k++)
		verdict_case(out, r, r->stat_verdicts[k].slo, &r->stat_verdicts[k], 0);
	fputs("  </testsuite>\n</testsuites>\n", out);
	if (ferror(out)) {
		log_error("cannot write junit.xml");
		return false;
	}
	return true;
}

const struct report_writer report_junit_xml = {
	.name = "junit",
	.file_name = "junit.xml",
	.write = junit_xml_write,
};
