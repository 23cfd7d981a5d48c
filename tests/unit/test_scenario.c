/*
 * test_scenario.c - good scenario files load with their values and defaults; each bad
 * file gives an error at the exact line:column with the expected words.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "scenario.h"
#include "util.h"

void tests_register(void);

#define MS INT64_C(1000)
#define SEC INT64_C(1000000)

static char errbuf[16384];

/* tests/scenarios/<rel>, found through BISE_SOURCE_DIR (set by ctest) or from the build dir. */
static void scenario_path(const char *rel, char *buf, size_t len)
{
	const char *top = getenv("BISE_SOURCE_DIR");

	str_format(buf, len, "%s/tests/scenarios/%s", top ? top : "..", rel);
}

static bool load(const char *rel, struct scenario *sc)
{
	char path[1024];
	bool ok;

	scenario_path(rel, path, sizeof(path));
	ok = scenario_load(path, sc, errbuf, sizeof(errbuf));
	if (!ok)
		fprintf(stderr, "\n%s", errbuf);
	return ok;
}

static void test_good_example(void)
{
	struct scenario sc;
	const struct step *st;

	CU_ASSERT_TRUE_FATAL(load("good/primary-pod-kill.yaml", &sc));
	CU_ASSERT_STRING_EQUAL(sc.name, "primary-pod-kill");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc.description);
	CU_ASSERT_PTR_NOT_NULL(strstr(sc.description, "promotes a replica\nwithin a TTL"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc.text, "name: primary-pod-kill"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc.path, "good/primary-pod-kill.yaml"));
	CU_ASSERT_STRING_EQUAL(sc.cluster.name, "bise");
	CU_ASSERT_EQUAL(sc.cluster.nzones, 3);
	CU_ASSERT_STRING_EQUAL(sc.cluster.zones[2], "gland");
	CU_ASSERT_EQUAL(sc.cluster.ttl_us, 10 * SEC);
	CU_ASSERT_EQUAL(sc.cluster.maximum_lag_on_failover_bytes, 1048576);
	CU_ASSERT_EQUAL(sc.workload.connect_timeout_us, 500 * MS);
	CU_ASSERT_EQUAL_FATAL(sc.nsteps, 3);
	st = &sc.steps[0];
	CU_ASSERT_EQUAL(st->kind, STEP_FAULT);
	CU_ASSERT_EQUAL(st->at_us, 10 * SEC);
	CU_ASSERT_PTR_EQUAL(st->fault, fault_find("pod-kill"));
	CU_ASSERT_STRING_EQUAL(st->target, "primary");
	CU_ASSERT_TRUE(scenario_target_is_role(st->target));
	CU_ASSERT_EQUAL(st->pos.line, 22);
	CU_ASSERT_EQUAL(st->pos.col, 5);
	CU_ASSERT_EQUAL(st->target_pos.line, 24);
	CU_ASSERT_EQUAL(st->target_pos.col, 13);
	CU_ASSERT_EQUAL(st->duration_us, 0);
	CU_ASSERT_EQUAL(st->noptions, 1);
	CU_ASSERT_STRING_EQUAL(step_option(st, "restart_delay"), "3s");
	CU_ASSERT_EQUAL(st->options[0].pos.line, 25);
	CU_ASSERT_PTR_NULL(step_option(st, "duration"));
	CU_ASSERT_EQUAL(sc.steps[1].kind, STEP_WAIT_HEALTHY);
	CU_ASSERT_EQUAL(sc.steps[1].timeout_us, 90 * SEC);
	CU_ASSERT_EQUAL(sc.steps[1].at_us, -1);
	CU_ASSERT_EQUAL(sc.steps[2].kind, STEP_WAIT);
	CU_ASSERT_EQUAL(sc.steps[2].duration_us, 5 * SEC);
	CU_ASSERT_EQUAL_FATAL(sc.nslos, 2);
	CU_ASSERT_STRING_EQUAL(sc.slos[0].metric, "failover_time");
	CU_ASSERT_EQUAL(sc.slos[0].op, SLO_LT);
	CU_ASSERT_EQUAL(sc.slos[0].threshold, 30.0 * SEC);
	CU_ASSERT_STRING_EQUAL(sc.slos[0].text, "< 30s");
	CU_ASSERT_EQUAL(sc.slos[0].pos.line, 30);
	CU_ASSERT_EQUAL(sc.slos[0].pos.col, 18);
	CU_ASSERT_EQUAL(sc.slos[1].op, SLO_EQ);
	CU_ASSERT_EQUAL(sc.repeat, 1);
	scenario_free(&sc);
	CU_ASSERT_PTR_NULL(sc.text);
	scenario_free(&sc); /* twice is fine */
}

static void test_good_defaults(void)
{
	struct scenario sc;
	struct cluster_spec c;
	struct workload_spec w;

	CU_ASSERT_TRUE_FATAL(load("good/minimal.yaml", &sc));
	cluster_spec_defaults(&c);
	workload_spec_defaults(&w);
	CU_ASSERT_EQUAL(memcmp(&sc.cluster, &c, sizeof(c)), 0);
	CU_ASSERT_EQUAL(memcmp(&sc.workload, &w, sizeof(w)), 0);
	CU_ASSERT_STRING_EQUAL(c.name, "bise");
	CU_ASSERT_EQUAL(c.nzones, 3);
	CU_ASSERT_STRING_EQUAL(c.zones[0], "geneva");
	CU_ASSERT_STRING_EQUAL(c.zones[1], "lucerne");
	CU_ASSERT_EQUAL(c.replication, REPLICATION_ASYNC);
	CU_ASSERT_EQUAL(c.dcs_api, DCS_ETCD_V3);
	CU_ASSERT_EQUAL(c.ttl_us, 10 * SEC);
	CU_ASSERT_EQUAL(c.loop_wait_us, 1 * SEC);
	CU_ASSERT_EQUAL(c.retry_timeout_us, 4 * SEC);
	CU_ASSERT_EQUAL(c.maximum_lag_on_failover_bytes, 1048576);
	CU_ASSERT_EQUAL(c.restart_delay_us, 2 * SEC);
	CU_ASSERT_EQUAL(w.writers, 4);
	CU_ASSERT_EQUAL(w.rate_per_writer, 100.0);
	CU_ASSERT_EQUAL(w.connect_timeout_us, 500 * MS);
	CU_ASSERT_EQUAL(w.write_timeout_us, 1 * SEC);
	CU_ASSERT_PTR_NULL(sc.description);
	CU_ASSERT_EQUAL(sc.nslos, 0);
	CU_ASSERT_EQUAL(sc.repeat, 1);
	CU_ASSERT_EQUAL_FATAL(sc.nsteps, 1);
	CU_ASSERT_EQUAL(sc.steps[0].at_us, -1);
	CU_ASSERT_PTR_EQUAL(sc.steps[0].fault, fault_find("process-kill"));
	CU_ASSERT_STRING_EQUAL(sc.steps[0].target, "lucerne");
	CU_ASSERT_FALSE(scenario_target_is_role(sc.steps[0].target));
	CU_ASSERT_EQUAL(sc.steps[0].noptions, 0);
	CU_ASSERT_EQUAL(sc.steps[0].count, 1);
	CU_ASSERT_EQUAL(sc.steps[0].every_us, 0);
	CU_ASSERT_EQUAL(sc.max_fault_us, 10 * 60 * SEC);
	CU_ASSERT_FALSE(c.fuse);
	CU_ASSERT_STRING_EQUAL(c.subnet, "");
	CU_ASSERT_EQUAL(w.nclient_groups, 0);
	CU_ASSERT_EQUAL(workload_total_writers(&sc.workload), 4);
	scenario_free(&sc);
}

static void test_good_custom(void)
{
	struct scenario sc;

	CU_ASSERT_TRUE_FATAL(load("good/custom.yaml", &sc));
	CU_ASSERT_STRING_EQUAL(sc.name, "2-zones-sync");
	CU_ASSERT_STRING_EQUAL(sc.cluster.name, "pg-sync");
	CU_ASSERT_EQUAL(sc.cluster.nzones, 2);
	CU_ASSERT_STRING_EQUAL(sc.cluster.zones[0], "zurich");
	CU_ASSERT_STRING_EQUAL(sc.cluster.zones[1], "bern");
	CU_ASSERT_EQUAL(sc.cluster.replication, REPLICATION_SYNC);
	CU_ASSERT_EQUAL(sc.cluster.dcs_api, DCS_ETCD_V2);
	CU_ASSERT_EQUAL(sc.cluster.ttl_us, 30 * SEC);
	CU_ASSERT_EQUAL(sc.cluster.loop_wait_us, 10 * SEC);
	CU_ASSERT_EQUAL(sc.cluster.retry_timeout_us, 10 * SEC);
	CU_ASSERT_EQUAL(sc.cluster.maximum_lag_on_failover_bytes, 16000000);
	CU_ASSERT_EQUAL(sc.cluster.restart_delay_us, 0);
	CU_ASSERT_EQUAL(sc.workload.writers, 64);
	CU_ASSERT_EQUAL(sc.workload.rate_per_writer, 0.0);
	CU_ASSERT_EQUAL(sc.workload.connect_timeout_us, 1500 * MS);
	/* Left out: the default budget of connection attempts. */
	CU_ASSERT_EQUAL(sc.workload.probe_rate, 100);
	CU_ASSERT_EQUAL(sc.workload.write_timeout_us, 120 * SEC);
	CU_ASSERT_EQUAL_FATAL(sc.nsteps, 4);
	CU_ASSERT_EQUAL(sc.steps[0].at_us, -1);
	CU_ASSERT_STRING_EQUAL(sc.steps[0].target, "bern");
	CU_ASSERT_EQUAL(sc.steps[1].at_us, 60 * SEC);
	CU_ASSERT_EQUAL(sc.steps[2].at_us, 60 * SEC); /* equal is not earlier */
	CU_ASSERT_STRING_EQUAL(sc.steps[2].target, "any");
	CU_ASSERT_STRING_EQUAL(step_option(&sc.steps[2], "restart_delay"), "250ms");
	CU_ASSERT_EQUAL(sc.steps[3].kind, STEP_WAIT_HEALTHY);
	CU_ASSERT_EQUAL(sc.steps[3].timeout_us, 120 * SEC);
	CU_ASSERT_EQUAL_FATAL(sc.nslos, 6);
	CU_ASSERT_EQUAL(sc.slos[0].op, SLO_LE);
	CU_ASSERT_STRING_EQUAL(sc.slos[1].metric, "promotion_time");
	CU_ASSERT_EQUAL(sc.slos[1].threshold, 20.0 * SEC);
	CU_ASSERT_STRING_EQUAL(sc.slos[1].text, "< 20s");
	CU_ASSERT_EQUAL(sc.slos[3].op, SLO_EQ);
	CU_ASSERT_EQUAL(sc.slos[3].threshold, 0.0);
	CU_ASSERT_EQUAL(sc.slos[4].threshold, 10.0);
	CU_ASSERT_EQUAL(sc.repeat, 1000);
	scenario_free(&sc);
}

static void test_good_fault_catalogue(void)
{
	struct scenario sc;
	const struct step *st;

	CU_ASSERT_TRUE_FATAL(load("good/fault-catalogue.yaml", &sc));
	CU_ASSERT_EQUAL(sc.max_fault_us, 20 * 60 * SEC);
	CU_ASSERT_TRUE(sc.cluster.fuse);
	CU_ASSERT_STRING_EQUAL(sc.cluster.subnet, "10.214.0");
	CU_ASSERT_EQUAL(sc.workload.writers, 0);
	CU_ASSERT_EQUAL_FATAL(sc.workload.nclient_groups, 2);
	CU_ASSERT_STRING_EQUAL(sc.workload.client_groups[0].zone, "gland");
	CU_ASSERT_EQUAL(sc.workload.client_groups[0].writers, 2);
	CU_ASSERT_EQUAL(sc.workload.client_groups[0].pos.line, 8);
	CU_ASSERT_EQUAL(sc.workload.client_groups[0].pos.col, 14);
	CU_ASSERT_STRING_EQUAL(sc.workload.client_groups[1].zone, "bern");
	CU_ASSERT_EQUAL(sc.workload.client_groups[1].writers, 3);
	CU_ASSERT_EQUAL(sc.workload.client_groups[1].pos.line, 9);
	CU_ASSERT_EQUAL(workload_total_writers(&sc.workload), 5);
	CU_ASSERT_EQUAL_FATAL(sc.nsteps, 4);
	st = &sc.steps[0];
	CU_ASSERT_PTR_EQUAL(st->fault, fault_find("network-partition"));
	CU_ASSERT_EQUAL(st->at_us, 5 * SEC);
	CU_ASSERT_EQUAL(st->duration_us, 30 * SEC);
	CU_ASSERT_EQUAL(st->every_us, 120 * SEC);
	CU_ASSERT_EQUAL(st->count, 3);
	st = &sc.steps[1];
	CU_ASSERT_EQUAL(st->every_us, 60 * SEC);
	CU_ASSERT_EQUAL(st->count, 10);
	CU_ASSERT_EQUAL(st->duration_us, 0);
	CU_ASSERT_STRING_EQUAL(step_option(st, "restart_delay"), "1s");
	st = &sc.steps[2];
	CU_ASSERT_EQUAL(st->duration_us, 20 * 60 * SEC); /* equal to the limit is fine */
	CU_ASSERT_EQUAL(st->count, 1);
	CU_ASSERT_EQUAL(st->every_us, 0);
	CU_ASSERT_EQUAL(sc.steps[3].count, 1);
	scenario_free(&sc);
}

/* Each bad file: the first error's position and words, and how many errors in all. */
static const struct {
	const char *file;
	int line, col;
	const char *words;
	int nerrors;
} bad[] = {
	{ "unknown-key-typo", 3, 3, "unknown key \"ttll\" in cluster (hint: did you mean \"ttl\"?", 1 },
	{ "top-level-typo", 1, 1, "missing key \"steps\"", 2 },
	{ "wrong-type-mapping", 2, 10, "cluster must be a mapping, not a scalar", 1 },
	{ "wrong-type-sequence", 1, 7, "name must be a single value, not a sequence", 1 },
	{ "scalar-step", 3, 5, "a step must be a mapping, not a scalar", 1 },
	{ "bad-duration", 3, 8, "cluster.ttl: \"10\" has no unit (hint: write 10s or 10ms)", 1 },
	{ "negative-duration", 3, 9, "at: \"-5s\" is negative", 1 },
	{ "bad-size", 3, 28, "unknown unit \"KB\"", 1 },
	{ "bad-rate", 3, 9, "workload.rate: \"-1\" is not a rate", 1 },
	{ "writers-out-of-range", 3, 12, "workload.writers: 65 is out of range (hint: a whole number from 0 to 64)", 1 },
	{ "no-writers", 3, 12, "the workload has no writers: writers is 0 and no client group has any (hint: set writers to 1 or more, or add clients", 1 },
	{ "too-many-writers", 5, 5, "the workload has 70 writers in all (60 outside the zones, 10 in client groups) (hint: at most 64", 1 },
	{ "client-unknown-zone", 5, 14, "client zone \"geneva\" is not a zone of this cluster (hint: zones: zurich, bern)", 1 },
	{ "client-duplicate-zone", 5, 14, "zone \"geneva\" already has a client group (hint: first given at line 4, column 14", 1 },
	{ "client-writers-out-of-range", 4, 31, "writers: 65 is out of range (hint: a whole number from 1 to 64)", 1 },
	{ "client-missing-writers", 4, 7, "a client group needs writers", 1 },
	{ "client-not-mapping", 3, 13, "a client group must be a mapping, not a scalar", 1 },
	{ "too-many-client-groups", 15, 7, "too many client groups (at most 8)", 1 },
	{ "bad-fuse", 3, 9, "cluster.fuse: \"yes\" is not true or false", 1 },
	{ "subnet-not-24", 3, 11, "cluster.subnet must be a /24, not /16", 1 },
	{ "subnet-last-octet", 3, 11, "the last octet must be 0 (hint: write 10.214.0.0/24)", 1 },
	{ "subnet-public", 3, 11, "cluster.subnet 8.8.8.0/24 is not a private range (hint: a /24 within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", 1 },
	{ "subnet-no-prefix", 3, 11, "cluster.subnet \"10.214.0\" is not ADDRESS/24 (hint:", 1 },
	{ "subnet-not-ip", 3, 11, "cluster.subnet: \"10.214.300.0\" is not an IPv4 address", 1 },
	{ "bad-replication", 3, 16, "unknown value \"semi\" (hint: one of: async, synchronous)", 1 },
	{ "unknown-fault", 3, 12, "unknown fault \"pod-kil\" (hint: did you mean \"pod-kill\"? known faults: pod-kill, process-kill, network-partition", 1 },
	{ "impossible-target", 6, 13, "target \"zurich\" is neither a zone of this cluster nor a role (hint: zones then roles: geneva, lucerne, gland, primary, replica, any)", 1 },
	{ "between-unknown-zone", 8, 26, "between names \"lucern\", which is not a zone of this cluster (hint: did you mean \"lucerne\"? zones, target or client: geneva, lucerne, gland, target, client)", 1 },
	{ "too-many-connections", 4, 12, "60 writers and 40 readers, with the watcher and the read-back, need 102 connections to the primary; its max_connections is 100, 5 of them kept for Patroni (hint: at most 93 writers and readers together", 1 },
	{ "probe-rate-out-of-range", 3, 15, "workload.probe_rate: 5000 is out of range (hint: a whole number from 10 to 1000)", 1 },
	{ "rate-too-high", 3, 9, "workload.rate 50000 writes per second per writer is more than a writer can send (hint: at most 10000 per writer; write unthrottled", 1 },
	{ "max-fault-too-long", 2, 21, "max_fault_duration 600m is longer than bise allows (hint: at most 360m; check the unit", 1 },
	{ "ttl-too-long", 3, 8, "cluster.ttl 120m is longer than bise allows (hint: at most 60m;", 1 },
	{ "timeout-too-long", 6, 14, "timeout 120m is longer than bise allows (hint: at most 60m;", 1 },
	{ "duration-on-pod-kill", 5, 5, "fault pod-kill takes no duration (hint:", 1 },
	{ "timeout-on-fault", 5, 5, "timeout applies only to wait: healthy", 1 },
	{ "wait-without-timeout", 5, 5, "wait: healthy needs a timeout", 1 },
	{ "bad-wait", 3, 11, "wait \"soon\" is neither healthy nor a duration", 1 },
	{ "fault-and-wait", 5, 5, "either fault or wait, not both", 1 },
	{ "neither-fault-nor-wait", 3, 5, "a step needs fault or wait", 1 },
	{ "steps-out-of-order", 6, 9, "at 10s is earlier than the previous step's at 20s", 1 },
	{ "patroni-timing", 3, 8, "Patroni needs it: 1s + 2*5s = 11s > ttl 10s (hint: raise ttl to at least 11s", 1 },
	{ "bad-option-value", 5, 20, "restart_delay: \"soon\" is not a duration", 1 },
	{ "option-sequence", 5, 20, "restart_delay: \"[[geneva],[lucerne,gland]]\" is not a duration", 1 },
	{ "option-mapping", 5, 20, "restart_delay must be a value or a sequence, not a mapping", 1 },
	{ "option-too-long", 5, 20, "restart_delay: value too long (at most 159 characters)", 1 },
	{ "option-alias-loop", 5, 20, "restart_delay: value too long", 1 },
	{ "option-bad-item", 5, 29, "restart_delay: item \"lucerne gland\" is empty or holds ',', '[', ']' or a space", 1 },
	{ "missing-duration", 3, 12, "fault network-partition needs a duration", 1 },
	{ "every-without-count", 5, 5, "every repeats a fault, so it needs a count of 2 or more (hint: add e.g. \"count: 3\"", 1 },
	{ "count-without-every", 5, 5, "count 3 needs every", 1 },
	{ "count-out-of-range", 6, 12, "count: 1001 is out of range (hint: a whole number from 1 to 1000)", 1 },
	{ "every-overlaps", 6, 12, "every 30s is not longer than duration 1m: the repeats would overlap", 1 },
	{ "every-on-wait", 4, 5, "every applies only to fault steps", 1 },
	{ "fault-too-long", 5, 15, "fault zone-outage lasts 11m, longer than max_fault_duration 10m (hint: shorten it, or raise max_fault_duration to at least 11m)", 1 },
	{ "repeats-too-long", 7, 12, "fault network-partition lasts 7m (every 2m * 3 + duration 1m), longer than max_fault_duration 5m", 1 },
	{ "bad-max-fault", 2, 21, "max_fault_duration must be more than 0", 1 },
	{ "unknown-option", 5, 5, "unknown key \"restart_dely\" in a step (hint: did you mean \"restart_delay\"?", 1 },
	{ "bad-slo", 6, 18, "slo failover_time: \"30\" has no unit", 1 },
	{ "unknown-slo-metric", 6, 3, "unknown SLO metric \"failover_tme\" (hint: did you mean \"failover_time\"? known metrics: failover_time, promotion_time,", 1 },
	{ "duplicate-key", 5, 1, "duplicate key \"name\" (hint: first given at line 1, column 1", 1 },
	{ "duplicate-zone", 3, 28, "zone \"geneva\" is listed twice (hint: first listed at line 3, column 11)", 1 },
	{ "too-few-zones", 3, 10, "cluster.zones has 1 zone", 1 },
	{ "missing-name", 1, 1, "missing key \"name\"", 1 },
	{ "missing-steps", 2, 1, "missing key \"steps\"", 1 },
	{ "empty-steps", 2, 8, "steps must be a non-empty sequence", 1 },
	{ "bad-name", 1, 7, "name \"Primary_Kill\" is not valid", 1 },
	{ "repeat-out-of-range", 4, 9, "repeat: 0 is out of range (hint: a whole number from 1 to 1000)", 1 },
	{ "invalid-yaml", 5, 1, "not valid YAML: did not find expected ',' or ']', while parsing a flow sequence at line 4, column 13", 1 },
	{ "not-utf8", 2, 8, "not valid YAML: invalid leading UTF-8 octet", 1 },
	{ "empty", 1, 1, "the file is empty", 1 },
	{ "two-documents", 4, 1, "a second YAML document", 1 },
	{ "many-errors", 3, 8, "cluster.ttl: \"10\" has no unit", 7 },
};

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_bad_catalogue(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scenario sc;
		char rel[128], path[1024], prefix[1200];
		bool ok;

		str_format(rel, sizeof(rel), "bad/%s.yaml", bad[i].file);
		scenario_path(rel, path, sizeof(path));
		memset(errbuf, 'x', sizeof(errbuf));
		ok = scenario_load(path, &sc, errbuf, sizeof(errbuf));
		CU_ASSERT_FALSE(ok);
		str_format(prefix, sizeof(prefix), "%s:%d:%d: error: ", path, bad[i].line, bad[i].col);
		if (strncmp(errbuf, prefix, strlen(prefix)) != 0 || !strstr(errbuf, bad[i].words) ||
		    count_lines(errbuf) != bad[i].nerrors)
			fprintf(stderr, "\nexpected %s%s (%d errors), got:\n%s", prefix, bad[i].words,
				bad[i].nerrors, errbuf);
		CU_ASSERT_EQUAL(strncmp(errbuf, prefix, strlen(prefix)), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, bad[i].words));
		CU_ASSERT_EQUAL(count_lines(errbuf), bad[i].nerrors);
		/* A failed load leaves nothing to free, and freeing it anyway is fine. */
		CU_ASSERT_PTR_NULL(sc.text);
		CU_ASSERT_PTR_NULL(sc.steps);
		scenario_free(&sc);
	}
}

static void test_missing_file(void)
{
	struct scenario sc;

	CU_ASSERT_FALSE(load("bad/no-such-file.yaml", &sc));
	CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, "no-such-file.yaml:1:1: error: cannot read the scenario: No such file or directory"));
	CU_ASSERT_EQUAL(count_lines(errbuf), 1);
	scenario_free(&sc);
}

static void test_small_errbuf(void)
{
	struct scenario sc;
	char path[1024], small[200];

	scenario_path("bad/many-errors.yaml", path, sizeof(path));
	memset(small, 'x', sizeof(small));
	CU_ASSERT_FALSE(scenario_load(path, &sc, small, sizeof(small)));
	/* Only whole lines, still terminated. */
	CU_ASSERT_PTR_NOT_NULL(memchr(small, '\0', sizeof(small)));
	CU_ASSERT_EQUAL(small[strlen(small) - 1], '\n');
	CU_ASSERT_FALSE(scenario_load(path, &sc, NULL, 0));
	scenario_free(&sc);
}

static void test_free_zeroed(void)
{
	struct scenario sc;

	memset(&sc, 0, sizeof(sc));
	scenario_free(&sc);
	scenario_free(NULL);
}

static void test_roles_and_options(void)
{
	struct step st;

	CU_ASSERT_TRUE(scenario_target_is_role("primary"));
	CU_ASSERT_TRUE(scenario_target_is_role("replica"));
	CU_ASSERT_TRUE(scenario_target_is_role("any"));
	CU_ASSERT_FALSE(scenario_target_is_role("geneva"));
	CU_ASSERT_FALSE(scenario_target_is_role("Primary"));
	CU_ASSERT_FALSE(scenario_target_is_role(""));
	memset(&st, 0, sizeof(st));
	CU_ASSERT_PTR_NULL(step_option(&st, "restart_delay"));
	st.noptions = 2;
	str_copy(st.options[0].key, sizeof(st.options[0].key), "a");
	str_copy(st.options[0].value, sizeof(st.options[0].value), "1");
	str_copy(st.options[1].key, sizeof(st.options[1].key), "b");
	str_copy(st.options[1].value, sizeof(st.options[1].value), "2");
	CU_ASSERT_STRING_EQUAL(step_option(&st, "b"), "2");
	CU_ASSERT_PTR_NULL(step_option(&st, "c"));
}

/* A scenario written to a temporary file and loaded; the file is removed before returning. */
static bool load_text(const char *text, struct scenario *sc)
{
	char path[] = "/tmp/bise-test-scenario-XXXXXX";
	int fd = mkstemp(path);
	bool ok;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	ok = scenario_load(path, sc, errbuf, sizeof(errbuf));
	unlink(path);
	return ok;
}

static void test_subnets(void)
{
	static const struct {
		const char *text, *subnet; /* subnet NULL: refused */
	} cases[] = {
		{ "10.0.0.0/24", "10.0.0" },
		{ "10.255.255.0/24", "10.255.255" },
		{ "172.16.5.0/24", "172.16.5" },
		{ "172.31.255.0/24", "172.31.255" },
		{ "192.168.1.0/24", "192.168.1" },
		{ "172.15.0.0/24", NULL },
		{ "172.32.0.0/24", NULL },
		{ "192.169.0.0/24", NULL },
		{ "11.0.0.0/24", NULL },
		{ "10.0.0.0/8", NULL },
		{ "10.0.0.0/024", NULL },
		{ "10.0.0.0/", NULL },
		{ "/24", NULL },
		{ "010.1.2.0/24", NULL },
		{ "10.1.2.0 /24", NULL },
		{ "10.1.2.0.0/24", NULL },
		{ "10.1.2.0/24/24", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scenario sc;
		char text[256];
		bool ok;

		str_format(text, sizeof(text), "name: s\ncluster:\n  subnet: \"%s\"\nsteps:\n  - wait: 1s\n",
			   cases[i].text);
		ok = load_text(text, &sc);
		if (ok != (cases[i].subnet != NULL))
			fprintf(stderr, "\nsubnet %s: %s\n%s", cases[i].text, ok ? "accepted" : "refused", errbuf);
		CU_ASSERT_EQUAL(ok, cases[i].subnet != NULL);
		if (ok && cases[i].subnet)
			CU_ASSERT_STRING_EQUAL(sc.cluster.subnet, cases[i].subnet);
		if (!ok)
			CU_ASSERT_PTR_NOT_NULL(strstr(errbuf, ":3:11: error: cluster.subnet"));
		scenario_free(&sc);
	}
}

static void test_option_groups(void)
{
	static const struct {
		const char *value;
		int ngroups;        /* 0: refused */
		const char *groups; /* expected, as "a b|c" (groups split by '|') */
		const char *why;    /* words of the reason when refused */
	} cases[] = {
		{ "[[geneva],[lucerne,gland]]", 2, "geneva|lucerne gland", NULL },
		{ "[geneva,lucerne]", 1, "geneva lucerne", NULL },
		{ "geneva", 1, "geneva", NULL },
		{ "[[a],[b],[c],[d]]", 4, "a|b|c|d", NULL },
		{ "[[a,b,c,d,e,f,g,h,client]]", 1, "a b c d e f g h client", NULL },
		{ "", 0, NULL, "a name is missing" },
		{ "[]", 0, NULL, "an empty group" },
		{ "[[]]", 0, NULL, "an empty group" },
		{ "[[a],[]]", 0, NULL, "an empty group" },
		{ "[[a],b]", 0, NULL, "names and groups mixed" },
		{ "[a,[b]]", 0, NULL, "a group inside a group" },
		{ "[[[a]]]", 0, NULL, "a group inside a group" },
		{ "[[a],[b]", 0, NULL, "not closed" },
		{ "[a,b", 0, NULL, "not closed" },
		{ "[a,,b]", 0, NULL, "a name is missing" },
		{ "[a,b,]", 0, NULL, "a name is missing" },
		{ "[a]x", 0, NULL, "unexpected \"x\"" },
		{ "[[a]]]", 0, NULL, "unexpected \"]\"" },
		{ "a]", 0, NULL, "unexpected" },
		{ "[a,a]", 0, NULL, "\"a\" is listed twice in one group" },
		{ "[[a],[b],[c],[d],[e]]", 0, NULL, "more than 4 groups" },
		{ "[a,b,c,d,e,f,g,h,i,j]", 0, NULL, "more than 9 names in a group" },
		{ "[abcdefghijklmnop]", 0, NULL, "name \"abcdefghijklmnop\" is too long" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char groups[4][SCENARIO_MAX_ZONES + 1][ZONE_NAME_LEN], got[512] = "", why[256] = "";
		int ngroups = -1, sizes[4];
		bool ok = option_parse_groups(cases[i].value, groups, &ngroups, sizes, 4, why, sizeof(why));

		for (int g = 0; ok && g < ngroups; g++)
			for (int n = 0; n < sizes[g]; n++)
				str_format(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
					   n ? " " : g ? "|" : "", groups[g][n]);
		if (ok != (cases[i].ngroups > 0) || (ok && strcmp(got, cases[i].groups) != 0) ||
		    (!ok && !strstr(why, cases[i].why)))
			fprintf(stderr, "\n%s: %s, got \"%s\", why \"%s\"\n", cases[i].value,
				ok ? "accepted" : "refused", got, why);
		CU_ASSERT_EQUAL(ok, cases[i].ngroups > 0);
		CU_ASSERT_EQUAL(ngroups, cases[i].ngroups);
		if (ok && cases[i].groups)
			CU_ASSERT_STRING_EQUAL(got, cases[i].groups);
		if (!ok && cases[i].why)
			CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].why));
	}
	/* Refusals carry a hint; a NULL why is allowed. */
	{
		char groups[1][SCENARIO_MAX_ZONES + 1][ZONE_NAME_LEN], why[256];
		int ngroups, sizes[1];

		CU_ASSERT_FALSE(option_parse_groups("[]", groups, &ngroups, sizes, 1, why, sizeof(why)));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "(hint: e.g. [[geneva], [lucerne, gland]]"));
		CU_ASSERT_FALSE(option_parse_groups("[]", groups, &ngroups, sizes, 1, NULL, 0));
		CU_ASSERT_FALSE(option_parse_groups("[a]", groups, &ngroups, sizes, 0, why, sizeof(why)));
	}
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("scenario", NULL, NULL);

	CU_add_test(s, "the documented example loads", test_good_example);
	CU_add_test(s, "defaults fill what is left out", test_good_defaults);
	CU_add_test(s, "every key set", test_good_custom);
	CU_add_test(s, "fault catalogue keys", test_good_fault_catalogue);
	CU_add_test(s, "subnets: private /24s only", test_subnets);
	CU_add_test(s, "group-valued options", test_option_groups);
	CU_add_test(s, "bad files: position and message", test_bad_catalogue);
	CU_add_test(s, "a missing file", test_missing_file);
	CU_add_test(s, "errors fit a small buffer", test_small_errbuf);
	CU_add_test(s, "scenario_free on a zeroed struct", test_free_zeroed);
	CU_add_test(s, "roles and step options", test_roles_and_options);
}
