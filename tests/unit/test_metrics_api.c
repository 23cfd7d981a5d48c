/*
 * test_metrics_api.c - label_switch_time from api_role events (the platform's role labels,
 * a Kubernetes watch) on synthetic logs with known answers, written through
 * event_log_append and loaded with events_load; its SLO and its skip reasons.
 */
#include "event.h"
#include "metrics.h"
#include "slo.h"
#include "synthetic_log.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <string.h>

static int suite_init(void)
{
	return synth_suite_init("bise-test-api");
}

static void api_role(int64_t t_us, const char *pod, const char *role)
{
	json_object *o = synth_event("api_role");

	json_object_object_add(o, "node", json_object_new_string(pod));
	json_object_object_add(o, "role", json_object_new_string(role));
	synth_emit(t_us, o);
}

static void fault(int64_t t_us)
{
	json_object *o = synth_event("fault");

	json_object_object_add(o, "action", json_object_new_string("apply"));
	json_object_object_add(o, "fault", json_object_new_string("pod-kill"));
	synth_emit(t_us, o);
}

/* A pod-kill of pg-1: deleted, pg-2 labelled primary 7.25 s after the fault, pg-1 back. */
static void test_label_switch(void)
{
	struct metrics m;
	struct metric_value v;
	struct events ev;

	synth_begin();
	api_role(MS(5), "pg-1", "primary");
	api_role(MS(5), "pg-2", "replica");
	api_role(MS(5), "pg-3", "replica");
	fault(MS(10000));
	api_role(MS(10020), "pg-1", "deleted");
	api_role(MS(12000), "pg-1", "unknown");
	/* The old primary relabelled primary first must not count (it was not a switch). */
	api_role(MS(13000), "pg-1", "primary");
	api_role(MS(17000), "pg-1", "replica");
	api_role(MS(17250), "pg-2", "primary");
	api_role(MS(17400), "pg-3", "primary");
	CU_ASSERT_TRUE_FATAL(synth_load(&ev));
	CU_ASSERT_EQUAL(ev.napi_roles, 9);
	CU_ASSERT_STRING_EQUAL(ev.api_roles[3].node, "pg-1");
	CU_ASSERT_EQUAL(ev.api_roles[3].role, API_ROLE_DELETED);
	CU_ASSERT_EQUAL(ev.api_roles[3].t_us, MS(10020));
	CU_ASSERT_EQUAL(ev.api_roles[4].role, API_ROLE_UNKNOWN);
	events_free(&ev);
	synth_finish(&m);
	CU_ASSERT_TRUE(m.api_roles_seen);
	CU_ASSERT_TRUE(m.label_switch_seen);
	CU_ASSERT_STRING_EQUAL(m.label_old_primary, "pg-1");
	CU_ASSERT_STRING_EQUAL(m.label_new_primary, "pg-2");
	CU_ASSERT_EQUAL(m.t_label_switch_us, MS(17250));
	CU_ASSERT_EQUAL(m.label_switch_dur_us, MS(7250));
	metric_value(&m, METRIC_LABEL_SWITCH_TIME, &v);
	CU_ASSERT_TRUE(v.observed);
	CU_ASSERT_FALSE(v.never);
	CU_ASSERT_DOUBLE_EQUAL(v.value, 7250000.0, 0.5);
}

/* The primary at the fault is the last labelled so and not relabelled since. */
static void test_primary_at_fault(void)
{
	struct metrics m;

	/* pg-1 lost the label before the fault, pg-3 holds it at the fault: pg-1 after counts. */
	synth_begin();
	api_role(MS(1), "pg-1", "primary");
	api_role(MS(2000), "pg-1", "replica");
	api_role(MS(2100), "pg-3", "primary");
	fault(MS(5000));
	api_role(MS(6500), "pg-1", "primary");
	synth_finish(&m);
	CU_ASSERT_STRING_EQUAL(m.label_old_primary, "pg-3");
	CU_ASSERT_STRING_EQUAL(m.label_new_primary, "pg-1");
	CU_ASSERT_EQUAL(m.label_switch_dur_us, MS(1500));

	/* No label before the fault: the watcher's old primary stands in. */
	synth_begin();
	synth_emit(MS(100), synth_node("pg-2", NODE_PRIMARY, 1));
	api_role(MS(100), "pg-1", "unknown");
	fault(MS(1000));
	api_role(MS(1200), "pg-2", "primary");
	api_role(MS(3000), "pg-1", "primary");
	synth_finish(&m);
	CU_ASSERT_STRING_EQUAL(m.label_old_primary, "pg-2");
	CU_ASSERT_STRING_EQUAL(m.label_new_primary, "pg-1");
	CU_ASSERT_EQUAL(m.label_switch_dur_us, MS(2000));
}

/* Not observed: no api_role events (local backend), no fault, no switch; n/a in SLOs. */
static void test_not_observed(void)
{
	struct metrics m;
	struct metric_value v;
	struct slo_spec slo;
	struct verdict verdict;
	char why[256];

	synth_begin();
	synth_emit(MS(1), synth_node("geneva", NODE_PRIMARY, 1));
	fault(MS(1000));
	synth_emit(MS(9000), synth_node("lucerne", NODE_PRIMARY, 2));
	synth_finish(&m);
	CU_ASSERT_TRUE(m.promote_seen);
	CU_ASSERT_FALSE(m.api_roles_seen);
	CU_ASSERT_FALSE(m.label_switch_seen);
	metric_value(&m, METRIC_LABEL_SWITCH_TIME, &v);
	CU_ASSERT_FALSE(v.observed);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "no role events"));
	CU_ASSERT_TRUE_FATAL(slo_parse("label_switch_time", "< 30s", &slo, why, sizeof(why)));
	slo_judge(&slo, &m, &verdict);
	CU_ASSERT_EQUAL(verdict.kind, VERDICT_SKIP);

	/* Roles but no fault. */
	synth_begin();
	api_role(MS(1), "pg-1", "primary");
	api_role(MS(500), "pg-2", "primary");
	synth_finish(&m);
	metric_value(&m, METRIC_LABEL_SWITCH_TIME, &v);
	CU_ASSERT_FALSE(v.observed);
	CU_ASSERT_STRING_EQUAL(v.reason, "no fault was applied");

	/* A replica killed: the label stays on the primary. */
	synth_begin();
	api_role(MS(1), "pg-1", "primary");
	api_role(MS(1), "pg-2", "replica");
	fault(MS(1000));
	api_role(MS(1100), "pg-2", "deleted");
	api_role(MS(4000), "pg-2", "replica");
	synth_finish(&m);
	metric_value(&m, METRIC_LABEL_SWITCH_TIME, &v);
	CU_ASSERT_FALSE(v.observed);
	CU_ASSERT_STRING_EQUAL(v.reason, "no other pod was labelled primary after the fault");

	/* Judged like any duration once observed. */
	synth_begin();
	api_role(MS(1), "pg-1", "primary");
	fault(MS(1000));
	api_role(MS(3000), "pg-2", "primary");
	synth_finish(&m);
	slo_judge(&slo, &m, &verdict);
	CU_ASSERT_EQUAL(verdict.kind, VERDICT_PASS);
	CU_ASSERT_STRING_EQUAL(verdict.measured_text, "2.00s");
	CU_ASSERT_TRUE_FATAL(slo_parse("label_switch_time", "< 1s", &slo, why, sizeof(why)));
	slo_judge(&slo, &m, &verdict);
	CU_ASSERT_EQUAL(verdict.kind, VERDICT_FAIL);
}

/* A role name a newer bise writes still loads (as unknown); a missing node does not. */
static void test_bad_event(void)
{
	struct events ev;

	synth_begin();
	api_role(MS(1), "pg-1", "standby-leader");
	CU_ASSERT_TRUE_FATAL(synth_load(&ev));
	CU_ASSERT_EQUAL(ev.napi_roles, 1);
	CU_ASSERT_EQUAL(ev.api_roles[0].role, API_ROLE_UNKNOWN);
	events_free(&ev);
	synth_begin();
	synth_emit(MS(1), synth_event("api_role"));
	CU_ASSERT_FALSE(synth_load(&ev));
	CU_ASSERT_STRING_EQUAL(api_role_name(API_ROLE_DELETED), "deleted");
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("metrics_api", suite_init, synth_suite_clean);

	CU_add_test(s, "label switch after a pod-kill", test_label_switch);
	CU_add_test(s, "primary at the fault", test_primary_at_fault);
	CU_add_test(s, "not observed: skipped with the reason", test_not_observed);
	CU_add_test(s, "api_role events that load or not", test_bad_event);
}
