/*
 * test_runner.c - the runner against the in-memory null driver: faults applied on the
 * resolved member, reverted after their delay, a fault the backend cannot do skipped
 * with a reason, recovery recorded, verdicts and summary.json written.
 */
#include "event.h"
#include "run_setup.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char workdir[256];

static int suite_init(void)
{
	return run_setup_workdir_make(workdir, sizeof(workdir), "bise-test-runner");
}

static int suite_clean(void)
{
	return run_setup_workdir_remove(workdir);
}

static const char scenario_text[] =
	"name: null-runner\n"
	"cluster:\n"
	"  restart_delay: 300ms\n"
	"steps:\n"
	"  - at: 100ms\n"
	"    fault: pod-kill\n"
	"    target: primary\n"
	"  - at: 150ms\n"
	"    fault: process-kill\n"
	"    target: replica\n"
	"  - wait: healthy\n"
	"    timeout: 5s\n"
	"slo:\n"
	"  recovery_time: \"< 5s\"\n"
	"  data_loss: \"== 0\"\n";

static const struct fault_event *find_fault(const struct events *ev, const char *action,
					    const char *fault)
{
	for (size_t i = 0; i < ev->nfaults; i++)
		if (strcmp(ev->faults[i].action, action) == 0 && strcmp(ev->faults[i].fault, fault) == 0)
			return &ev->faults[i];
	return NULL;
}

static void test_null_run(void)
{
	char path[512], out[512], events_path[600], summary_path[600];
	struct scenario sc;
	struct scenario *list[1] = { &sc };
	struct run_options opt;
	struct events ev;
	const struct fault_event *apply, *revert, *skip;
	json_object *summary;
	int status;

	str_format(out, sizeof(out), "%s/run", workdir);
	CU_ASSERT_FATAL(run_setup_scenario(workdir, "null-runner.yaml", scenario_text, path, sizeof(path),
					   &sc));
	run_setup_options(&opt, out, workdir);
	status = runner_run(list, 1, &opt);
	CU_ASSERT_EQUAL(status, BISE_EXIT_OK);

	str_format(events_path, sizeof(events_path), "%s/null-runner/trial-1/events.jsonl", out);
	memset(&ev, 0, sizeof(ev));
	CU_ASSERT_FATAL(events_load(events_path, &ev));
	apply = find_fault(&ev, "apply", "pod-kill");
	revert = find_fault(&ev, "revert", "pod-kill");
	skip = find_fault(&ev, "skip", "process-kill");
	CU_ASSERT_PTR_NOT_NULL_FATAL(apply);
	CU_ASSERT_PTR_NOT_NULL_FATAL(revert);
	CU_ASSERT_PTR_NOT_NULL(skip);
	/* The null driver's first zone is the primary. */
	CU_ASSERT_STRING_EQUAL(apply->node, "geneva");
	CU_ASSERT_STRING_EQUAL(revert->node, "geneva");
	/* The kubelet restarts after restart_delay, not before. */
	CU_ASSERT(revert->t_us - apply->t_us >= 300000);
	CU_ASSERT(apply->t_us >= 100000);
	CU_ASSERT(ev.healthy_seen && ev.healthy_ok);
	CU_ASSERT(ev.run_ended);
	events_free(&ev);

	str_format(summary_path, sizeof(summary_path), "%s/null-runner/summary.json", out);
	summary = json_object_from_file(summary_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(summary);
	{
		json_object *trials, *trial, *verdicts, *v0, *v1, *s;

		CU_ASSERT(json_object_object_get_ex(summary, "overall", &s));
		CU_ASSERT_STRING_EQUAL(json_object_get_string(s), "pass");
		CU_ASSERT_FATAL(json_object_object_get_ex(summary, "trials", &trials));
		trial = json_object_array_get_idx(trials, 0);
		CU_ASSERT_FATAL(json_object_object_get_ex(trial, "verdicts", &verdicts));
		CU_ASSERT_EQUAL_FATAL(json_object_array_length(verdicts), 2);
		v0 = json_object_array_get_idx(verdicts, 0);
		v1 = json_object_array_get_idx(verdicts, 1);
		json_object_object_get_ex(v0, "verdict", &s);
		CU_ASSERT_STRING_EQUAL(json_object_get_string(s), "pass");
		/* No workload on the null backend: data loss cannot be observed, so it is skipped. */
		json_object_object_get_ex(v1, "verdict", &s);
		CU_ASSERT_STRING_EQUAL(json_object_get_string(s), "skip");
	}
	json_object_put(summary);

	/* The same directory again: refused, the first run's event log untouched. */
	{
		struct stat before, after;

		CU_ASSERT_FATAL(stat(events_path, &before) == 0);
		CU_ASSERT_EQUAL(runner_run(list, 1, &opt), BISE_EXIT_USAGE);
		CU_ASSERT_FATAL(stat(events_path, &after) == 0);
		CU_ASSERT_EQUAL(after.st_size, before.st_size);
	}
	scenario_free(&sc);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("runner on the null driver", suite_init, suite_clean);

	CU_add_test(s, "pod-kill applied, reverted after the delay, unsupported fault skipped",
		    test_null_run);
}
