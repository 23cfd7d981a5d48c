/*
 * test_runner_console.c - what a run prints at the end: the per-scenario summary (no line
 * for what the backend cannot have, statistics over trials judged once) and the suite's
 * verdict table.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "runner.h"
#include "slo.h"
#include "util.h"

static struct slo_spec slos[3];

/* slos[0] failover_time < 30s, slos[1] data_loss == 0, slos[2] p95(failover_time) < 20s */
static void make_slos(void)
{
	CU_ASSERT_FATAL(slo_parse("failover_time", "< 30s", &slos[0], NULL, 0));
	CU_ASSERT_FATAL(slo_parse("data_loss", "== 0", &slos[1], NULL, 0));
	CU_ASSERT_FATAL(slo_parse("p95(failover_time)", "< 20s", &slos[2], NULL, 0));
}

static void verdict(struct verdict *v, const struct slo_spec *slo, enum verdict_kind kind,
		    const char *measured, const char *reason)
{
	memset(v, 0, sizeof(*v));
	v->slo = slo;
	v->kind = kind;
	str_copy(v->measured_text, sizeof(v->measured_text), measured);
	str_copy(v->reason, sizeof(v->reason), reason);
}

/* A local-backend trial: failover seen, no platform label watch, p95 skipped per trial. */
static void local_trial(struct trial_result *t, int n, bool lose)
{
	memset(t, 0, sizeof(*t));
	t->trial = n;
	t->completed = true;
	t->metrics.fault_seen = true;
	t->metrics.promote_seen = true;
	t->metrics.promotion_dur_us = 10500000;
	t->metrics.new_timeline = 2;
	str_copy(t->metrics.new_primary, sizeof(t->metrics.new_primary), "geneva");
	t->nverdicts = 3;
	verdict(&t->verdicts[0], &slos[0], VERDICT_PASS, "10.54s", "");
	verdict(&t->verdicts[1], &slos[1], lose ? VERDICT_FAIL : VERDICT_PASS, lose ? "3386" : "0", "");
	verdict(&t->verdicts[2], &slos[2], VERDICT_SKIP, "", "judged once over all trials (trials_stats)");
}

static char *print_table(const struct scenario_result *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	report_print_table(r, f);
	fclose(f);
	return text;
}

static void test_summary_local(void)
{
	struct scenario sc;
	struct trial_result trials[2];
	struct scenario_result r;
	char *text, *over;

	make_slos();
	memset(&sc, 0, sizeof(sc));
	str_copy(sc.name, sizeof(sc.name), "primary-pod-kill");
	memset(&r, 0, sizeof(r));
	r.scenario = &sc;
	str_copy(r.backend, sizeof(r.backend), "local");
	r.provision_seconds = -1;
	local_trial(&trials[0], 1, false);
	local_trial(&trials[1], 2, false);
	r.trials = trials;
	r.ntrials = 2;
	r.nstat_verdicts = 1;
	verdict(&r.stat_verdicts[0], &slos[2], VERDICT_PASS, "10.54s", "");
	text = print_table(&r);
	/* What the local backend cannot have is not printed, nor an unknown old primary. */
	CU_ASSERT_PTR_NULL(strstr(text, "label"));
	CU_ASSERT_PTR_NULL(strstr(text, "n/a"));
	CU_ASSERT_PTR_NULL(strstr(text, "old primary ?"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "new primary geneva (timeline 2) seen 10.50s after the fault\n"));
	/* The statistic: once, after the trials, with its verdict; never a per-trial skip. */
	CU_ASSERT_PTR_NULL(strstr(text, "skip"));
	over = strstr(text, "  over 2 trials:\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(over);
	CU_ASSERT_PTR_NOT_NULL(strstr(over, "  p95(failover_time)     < 20s        10.54s       pass\n"));
	CU_ASSERT_PTR_EQUAL(strstr(text, "p95(failover_time)"), strstr(over, "p95(failover_time)"));
	free(text);

	/* A known old primary, and a platform whose label watch saw no switch. */
	str_copy(trials[0].metrics.old_primary, sizeof(trials[0].metrics.old_primary), "lucerne");
	trials[1].metrics.api_roles_seen = true;
	r.nstat_verdicts = 0;
	text = print_table(&r);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "after the fault (old primary lucerne)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "primary label: no other pod labelled primary after the fault"));
	CU_ASSERT_PTR_NULL(strstr(text, "over 2 trials"));
	free(text);
}

static void test_suite_table(void)
{
	struct scenario a, b;
	struct trial_result ta[1], tb[3];
	struct scenario_result r[2];
	char *text = NULL, *line;
	size_t len = 0;
	FILE *f;

	make_slos();
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	str_copy(a.name, sizeof(a.name), "primary-pod-kill");
	str_copy(b.name, sizeof(b.name), "frozen-primary-etcd-api-v3");
	memset(r, 0, sizeof(r));
	local_trial(&ta[0], 1, false);
	r[0].scenario = &a;
	r[0].trials = ta;
	r[0].ntrials = 1;
	r[0].overall = VERDICT_PASS;
	local_trial(&tb[0], 1, false);
	local_trial(&tb[1], 2, true);
	local_trial(&tb[2], 3, false);
	tb[2].completed = false;
	str_copy(tb[2].error, sizeof(tb[2].error), "interrupted");
	r[1].scenario = &b;
	r[1].trials = tb;
	r[1].ntrials = 3;
	r[1].overall = VERDICT_FAIL;
	f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	runner_print_suite(r, 2, "runs/x", f);
	fclose(f);
	line = strstr(text, "primary-pod-kill");
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "      1  pass\n"));
	line = strstr(text, "frozen-primary-etcd-api-v3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	/* The first failure, its measured value and trial, and how many more. */
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "3  FAIL    data_loss == 0: 3386 (trial 2) (+1 more)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "reports: runs/x/index.html\n"));
	free(text);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("console", NULL, NULL);

	CU_add_test(s, "scenario summary on the local backend", test_summary_local);
	CU_add_test(s, "suite verdict table", test_suite_table);
}
