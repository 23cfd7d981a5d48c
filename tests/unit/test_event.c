/*
 * test_event.c - the event log: concurrent typed writes stay whole lines, "t" has exactly six
 * decimals, the reader fills every typed field, tolerates a torn last line and unknown
 * events, and rejects a corrupt line in the middle.
 */
#include "event.h"
#include "event_raw.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORIGIN 1000000000LL /* any mono_now_us()-like origin */

static char path[64];

static int suite_init(void)
{
	int fd;

	log_set_level(LOG_QUIET);
	str_copy(path, sizeof(path), "/tmp/bise-test-event-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}

static int suite_clean(void)
{
	unlink(path);
	return 0;
}

/* Start each test from an empty file. */
static struct event_log *fresh_log(void)
{
	unlink(path);
	return event_log_open(path, ORIGIN);
}

static bool write_text(const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

static json_object *event_new(const char *type)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ev", json_object_new_string(type));
	return o;
}

static bool append_write(struct event_log *log, int w, int64_t seq, int64_t t0_us, int64_t t_us,
			 enum write_outcome out, const char *node)
{
	return event_write_write(log, ORIGIN + t0_us, ORIGIN + t_us, w, seq, out, node, NULL, NULL);
}

#define THREADS 6
#define PER_THREAD 3000

struct writer_arg {
	struct event_log *log;
	int w;
	bool ok;
};

static void *writer_main(void *p)
{
	struct writer_arg *a = p;

	a->ok = true;
	for (int64_t s = 0; s < PER_THREAD; s++) {
		/* Encode (w, seq) in the times and outcome so the load can check every value. */
		int64_t t0 = a->w * 10000000LL + s * 1000 + 1;

		if (!append_write(a->log, a->w, s, t0, t0 + 500 + a->w, (enum write_outcome)(s % 4),
				  a->w % 2 ? "node-a" : "node-b"))
			a->ok = false;
	}
	return NULL;
}

static void test_concurrent_appends(void)
{
	struct writer_arg args[THREADS];
	pthread_t th[THREADS];
	struct event_log *log = fresh_log();
	struct events ev;
	int seen[THREADS][PER_THREAD];

	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct writer_arg){ log, i, false };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, writer_main, &args[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT(args[i].ok);
	}
	event_log_close(log);

	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL_FATAL(ev.nwrites, THREADS * PER_THREAD);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < ev.nwrites; i++) {
		const struct write_event *w = &ev.writes[i];
		int64_t t0;

		CU_ASSERT_FATAL(w->writer >= 0 && w->writer < THREADS && w->seq >= 0 && w->seq < PER_THREAD);
		seen[w->writer][w->seq]++;
		t0 = w->writer * 10000000LL + w->seq * 1000 + 1;
		CU_ASSERT_EQUAL(w->start_us, t0);
		CU_ASSERT_EQUAL(w->end_us, t0 + 500 + w->writer);
		CU_ASSERT_EQUAL(w->outcome, (enum write_outcome)(w->seq % 4));
		CU_ASSERT_STRING_EQUAL(w->node, w->writer % 2 ? "node-a" : "node-b");
	}
	for (int i = 0; i < THREADS; i++) {
		for (int s = 0; s < PER_THREAD; s++)
			CU_ASSERT_EQUAL(seen[i][s], 1);
	}
	events_free(&ev);
}

static void test_time_precision(void)
{
	static const struct {
		int64_t rel_us;
		const char *text;
	} cases[] = {
		{ 1234567, "{\"t\":1.234567,\"ev\":\"phase\"" },
		{ 5, "{\"t\":0.000005,\"ev\":\"phase\"" },
		{ 3000000, "{\"t\":3.000000,\"ev\":\"phase\"" },
		{ 3600123456LL, "{\"t\":3600.123456,\"ev\":\"phase\"" },
		{ -1500000, "{\"t\":-1.500000,\"ev\":\"phase\"" },
		{ 100000, "{\"t\":0.100000,\"ev\":\"phase\"" },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	struct event_log *log = fresh_log();
	char *text, *line;
	struct events ev;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		/* "ev" added last and a stale "t": the log still leads with its own t, ev. */
		json_object_object_add(o, "name", json_object_new_string("x/y"));
		json_object_object_add(o, "t", json_object_new_int(99));
		json_object_object_add(o, "ev", json_object_new_string("phase"));
		CU_ASSERT(event_log_append(log, ORIGIN + cases[i].rel_us, o));
	}
	CU_ASSERT_EQUAL(event_log_rel_us(log, ORIGIN + 42), 42);
	/* Without "ev" the event is refused (and freed). */
	CU_ASSERT_FALSE(event_log_append(log, ORIGIN, json_object_new_object()));
	event_log_close(log);

	text = file_read_all(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	line = text;
	for (i = 0; i < n && line && *line; i++) {
		char *nl = strchr(line, '\n');

		CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
		*nl = '\0';
		CU_ASSERT_EQUAL(strncmp(line, cases[i].text, strlen(cases[i].text)), 0);
		/* Compact, and slashes left alone. */
		CU_ASSERT_PTR_NULL(strchr(line, ' '));
		CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"name\":\"x/y\""));
		line = nl + 1;
	}
	CU_ASSERT_EQUAL(i, n);
	CU_ASSERT_STRING_EQUAL(line, "");
	free(text);

	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL(ev.nwrites, 0);
	events_free(&ev);
}

static const char good_lines[] =
	"{\"t\":0.000000,\"ev\":\"run_start\",\"run\":\"r1\",\"scenario\":\"s\",\"trial\":2,"
	"\"writers\":4,\"poll_ms\":200,\"schema\":1}\n"
	"{\"t\":1.000000,\"ev\":\"write\",\"w\":0,\"seq\":1,\"t0\":0.900000,\"out\":\"ok\",\"node\":\"a\"}\n";

static void test_torn_last_line(void)
{
	struct events ev;
	struct event_log *log;
	char text[1024];

	/* Cut inside the object, no newline: what a crash mid-write leaves. */
	str_format(text, sizeof(text), "%s{\"t\":1.100000,\"ev\":\"write\",\"w\":0,\"se", good_lines);
	CU_ASSERT_FATAL(write_text(text));
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL(ev.nwrites, 1);
	CU_ASSERT_STRING_EQUAL(ev.run, "r1");
	events_free(&ev);

	/* Garbage last line followed only by blank lines is still the last line. */
	str_format(text, sizeof(text), "%s{\"t\":1.1,\"ev\n\n  \n", good_lines);
	CU_ASSERT_FATAL(write_text(text));
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL(ev.nwrites, 1);
	events_free(&ev);

	/* Reopening a torn log cuts the fragment so new events stay readable. */
	str_format(text, sizeof(text), "%s{\"t\":1.100000,\"ev\":\"wri", good_lines);
	CU_ASSERT_FATAL(write_text(text));
	log = event_log_open(path, ORIGIN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT(append_write(log, 1, 7, 2000000, 2100000, WRITE_FAIL, "b"));
	event_log_close(log);
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL_FATAL(ev.nwrites, 2);
	CU_ASSERT_EQUAL(ev.writes[1].seq, 7);
	CU_ASSERT_EQUAL(ev.writes[1].outcome, WRITE_FAIL);
	events_free(&ev);
}

static void test_corrupt_middle_rejected(void)
{
	struct events ev;
	char text[1024];

	str_format(text, sizeof(text), "%s{\"t\":1.1,\"ev\":\"wr\n%s", good_lines, good_lines);
	CU_ASSERT_FATAL(write_text(text));
	CU_ASSERT_FALSE(events_load(path, &ev));
	/* Left empty and safe to free. */
	CU_ASSERT_EQUAL(ev.nwrites, 0);
	CU_ASSERT_PTR_NULL(ev.writes);
	events_free(&ev);

	/* Trailing junk after a complete object, a non-object line, a bad outcome. */
	str_format(text, sizeof(text), "%s{\"t\":1,\"ev\":\"phase\"} x\n%s", good_lines, good_lines);
	CU_ASSERT_FATAL(write_text(text));
	CU_ASSERT_FALSE(events_load(path, &ev));
	str_format(text, sizeof(text), "%s[1,2]\n%s", good_lines, good_lines);
	CU_ASSERT_FATAL(write_text(text));
	CU_ASSERT_FALSE(events_load(path, &ev));
	CU_ASSERT_FATAL(write_text("{\"t\":1,\"ev\":\"write\",\"w\":0,\"seq\":1,\"t0\":0.5,\"out\":\"maybe\"}\n"));
	CU_ASSERT_FALSE(events_load(path, &ev));
	CU_ASSERT_FATAL(write_text("{\"t\":1,\"ev\":\"write\",\"w\":0,\"t0\":0.5,\"out\":\"ok\"}\n"));
	CU_ASSERT_FALSE(events_load(path, &ev));
	CU_ASSERT_FALSE(events_load("/nonexistent/bise/events.jsonl", &ev));
}

static void test_lsn(void)
{
	struct events ev;
	uint64_t v = 0;

	CU_ASSERT(lsn_parse("0/16B3748", &v));
	CU_ASSERT_EQUAL(v, 0x16B3748ULL);
	CU_ASSERT(lsn_parse("1/0", &v));
	CU_ASSERT_EQUAL(v, 1ULL << 32);
	CU_ASSERT(lsn_parse("FFFFFFFF/ffffffff", &v));
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT(lsn_parse("a/3000028", &v));
	CU_ASSERT_EQUAL(v, 0xA03000028ULL);
	CU_ASSERT_FALSE(lsn_parse("", &v));
	CU_ASSERT_FALSE(lsn_parse("16B3748", &v));
	CU_ASSERT_FALSE(lsn_parse("1/", &v));
	CU_ASSERT_FALSE(lsn_parse("/1", &v));
	CU_ASSERT_FALSE(lsn_parse("1/2/3", &v));
	CU_ASSERT_FALSE(lsn_parse("x/1", &v));
	CU_ASSERT_FALSE(lsn_parse("100000000/0", &v));

	CU_ASSERT_FATAL(write_text(
		"{\"t\":0.25,\"ev\":\"node\",\"node\":\"a\",\"role\":\"primary\",\"tli\":3,\"lsn\":\"2/A0\"}\n"
		"{\"t\":0.5,\"ev\":\"node\",\"node\":\"b\",\"role\":\"down\",\"tli\":null,\"lsn\":null}\n"
		"{\"t\":0.75,\"ev\":\"node\",\"node\":\"c\",\"role\":\"replica\",\"tli\":3,\"lsn\":\"\"}\n"));
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL_FATAL(ev.nnodes, 3);
	CU_ASSERT_EQUAL(ev.nodes[0].t_us, 250000);
	CU_ASSERT_EQUAL(ev.nodes[0].role, NODE_PRIMARY);
	CU_ASSERT_EQUAL(ev.nodes[0].timeline, 3);
	CU_ASSERT_EQUAL(ev.nodes[0].lsn, (2ULL << 32) | 0xA0);
	CU_ASSERT_EQUAL(ev.nodes[1].role, NODE_DOWN);
	CU_ASSERT_EQUAL(ev.nodes[1].lsn, 0);
	CU_ASSERT_EQUAL(ev.nodes[2].role, NODE_REPLICA);
	events_free(&ev);

	CU_ASSERT_FATAL(write_text("{\"t\":0.25,\"ev\":\"node\",\"node\":\"a\",\"role\":\"primary\",\"lsn\":\"zz\"}\n"
				   "{\"t\":0.5,\"ev\":\"run_end\"}\n"));
	CU_ASSERT_FALSE(events_load(path, &ev));
}

static void test_unknown_event_ignored(void)
{
	struct events ev;
	char text[1024];

	str_format(text, sizeof(text),
		   "%s{\"t\":1.5,\"ev\":\"from_the_future\",\"w\":\"not a number\"}\n"
		   "{\"t\":2,\"ev\":\"run_end\",\"status\":\"ok\"}\n",
		   good_lines);
	CU_ASSERT_FATAL(write_text(text));
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL(ev.nwrites, 1);
	CU_ASSERT(ev.run_ended);
	events_free(&ev);
}

/* Every other event type through the writer and back. */
static void test_round_trip_fields(void)
{
	struct event_log *log = fresh_log();
	struct events ev;
	json_object *o, *ranges, *dups, *pair;

	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	o = event_new("run_start");
	json_object_object_add(o, "run", json_object_new_string("20240101-abc"));
	json_object_object_add(o, "scenario", json_object_new_string("primary-pod-kill"));
	json_object_object_add(o, "trial", json_object_new_int(3));
	json_object_object_add(o, "writers", json_object_new_int(8));
	json_object_object_add(o, "poll_ms", json_object_new_int(250));
	CU_ASSERT(event_log_append(log, ORIGIN, o));
	o = event_new("fault");
	json_object_object_add(o, "action", json_object_new_string("apply"));
	json_object_object_add(o, "fault", json_object_new_string("pod-kill"));
	json_object_object_add(o, "target", json_object_new_string("primary"));
	json_object_object_add(o, "node", json_object_new_string("geneva"));
	json_object_object_add(o, "step", json_object_new_int(1));
	CU_ASSERT(event_log_append(log, ORIGIN + 10000000, o));
	o = event_new("healthy");
	json_object_object_add(o, "ok", json_object_new_boolean(false));
	json_object_object_add(o, "seconds", json_object_new_double(60));
	CU_ASSERT(event_log_append(log, ORIGIN + 20000000, o));
	o = event_new("healthy");
	json_object_object_add(o, "ok", json_object_new_boolean(true));
	json_object_object_add(o, "seconds", json_object_new_double(12.5));
	CU_ASSERT(event_log_append(log, ORIGIN + 30000000, o));
	o = event_new("readback");
	json_object_object_add(o, "node", json_object_new_string("zurich"));
	json_object_object_add(o, "w", json_object_new_int(2));
	ranges = json_object_new_array();
	pair = json_object_new_array();
	json_object_array_add(pair, json_object_new_int64(0));
	json_object_array_add(pair, json_object_new_int64(5000000000LL));
	json_object_array_add(ranges, pair);
	json_object_object_add(o, "ranges", ranges);
	dups = json_object_new_array();
	pair = json_object_new_array();
	json_object_array_add(pair, json_object_new_int64(17));
	json_object_array_add(pair, json_object_new_int64(3));
	json_object_array_add(dups, pair);
	json_object_object_add(o, "dups", dups);
	CU_ASSERT(event_log_append(log, ORIGIN + 31000000, o));
	o = event_new("readback_done");
	json_object_object_add(o, "node", json_object_new_string("zurich"));
	json_object_object_add(o, "rows", json_object_new_int64(5000000003LL));
	CU_ASSERT(event_log_append(log, ORIGIN + 32000000, o));
	event_log_close(log);

	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_STRING_EQUAL(ev.run, "20240101-abc");
	CU_ASSERT_STRING_EQUAL(ev.scenario, "primary-pod-kill");
	CU_ASSERT_EQUAL(ev.trial, 3);
	CU_ASSERT_EQUAL(ev.writers, 8);
	CU_ASSERT_EQUAL(ev.poll_ms, 250);
	CU_ASSERT(ev.provision_seconds < 0);
	CU_ASSERT_EQUAL_FATAL(ev.nfaults, 1);
	CU_ASSERT_EQUAL(ev.faults[0].t_us, 10000000);
	CU_ASSERT_STRING_EQUAL(ev.faults[0].action, "apply");
	CU_ASSERT_STRING_EQUAL(ev.faults[0].fault, "pod-kill");
	CU_ASSERT_STRING_EQUAL(ev.faults[0].target, "primary");
	CU_ASSERT_STRING_EQUAL(ev.faults[0].node, "geneva");
	CU_ASSERT_EQUAL(ev.faults[0].step, 1);
	CU_ASSERT(ev.healthy_seen && ev.healthy_ok);
	CU_ASSERT_DOUBLE_EQUAL(ev.healthy_seconds, 12.5, 1e-9);
	CU_ASSERT_EQUAL_FATAL(ev.nreadbacks, 1);
	CU_ASSERT_STRING_EQUAL(ev.readbacks[0].node, "zurich");
	CU_ASSERT_EQUAL(ev.readbacks[0].writer, 2);
	CU_ASSERT_EQUAL_FATAL(ev.readbacks[0].nranges, 1);
	CU_ASSERT_EQUAL(ev.readbacks[0].ranges[0].last, 5000000000LL);
	CU_ASSERT_EQUAL_FATAL(ev.readbacks[0].ndups, 1);
	CU_ASSERT_EQUAL(ev.readbacks[0].dups[0].seq, 17);
	CU_ASSERT_EQUAL(ev.readbacks[0].dups[0].count, 3);
	CU_ASSERT(ev.readback_done);
	CU_ASSERT_EQUAL(ev.readback_rows, 5000000003LL);
	CU_ASSERT_STRING_EQUAL(ev.readback_node, "zurich");
	CU_ASSERT_FALSE(ev.run_ended);
	events_free(&ev);

	CU_ASSERT_FATAL(write_text("{\"t\":0,\"ev\":\"provision\",\"seconds\":42.5}\n"
				   "{\"t\":1,\"ev\":\"readback\",\"w\":0,\"ranges\":[[5,4]]}\n"));
	CU_ASSERT_FALSE(events_load(path, &ev));
	CU_ASSERT_FATAL(write_text("{\"t\":0,\"ev\":\"provision\",\"seconds\":42.5}\n"));
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_DOUBLE_EQUAL(ev.provision_seconds, 42.5, 1e-9);
	events_free(&ev);
}

/* lag rows and a replica's received position; null lags read as < 0, bad LSNs fail. */
static void test_lag_events(void)
{
	struct events ev;

	CU_ASSERT_FATAL(write_text(
		"{\"t\":1,\"ev\":\"node\",\"node\":\"b\",\"role\":\"replica\",\"tli\":2,"
		"\"lsn\":\"0/3000000\",\"rlsn\":\"0/3000100\"}\n"
		"{\"t\":1.2,\"ev\":\"lag\",\"primary\":\"a\",\"standby\":\"b\",\"state\":\"streaming\","
		"\"tli\":2,\"sent\":\"0/3000200\",\"write\":\"0/3000180\",\"flush\":\"0/3000100\","
		"\"replay\":\"0/3000000\",\"primary_lsn\":\"1/0\",\"write_lag\":0.0015,"
		"\"flush_lag\":null,\"replay_lag\":2}\n"
		"{\"t\":1.4,\"ev\":\"lag\",\"primary\":\"a\",\"standby\":\"c\",\"state\":\"startup\","
		"\"sent\":null,\"write\":null,\"flush\":null,\"replay\":null,\"primary_lsn\":\"1/0\"}\n"));
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL_FATAL(ev.nnodes, 1);
	CU_ASSERT_EQUAL(ev.nodes[0].lsn, 0x3000000u);
	CU_ASSERT_EQUAL(ev.nodes[0].rlsn, 0x3000100u);
	CU_ASSERT_EQUAL_FATAL(ev.nlags, 2);
	CU_ASSERT_EQUAL(ev.lags[0].t_us, 1200000);
	CU_ASSERT_STRING_EQUAL(ev.lags[0].primary, "a");
	CU_ASSERT_STRING_EQUAL(ev.lags[0].standby, "b");
	CU_ASSERT_STRING_EQUAL(ev.lags[0].state, "streaming");
	CU_ASSERT_EQUAL(ev.lags[0].timeline, 2);
	CU_ASSERT_EQUAL(ev.lags[0].sent, 0x3000200u);
	CU_ASSERT_EQUAL(ev.lags[0].write, 0x3000180u);
	CU_ASSERT_EQUAL(ev.lags[0].flush, 0x3000100u);
	CU_ASSERT_EQUAL(ev.lags[0].replay, 0x3000000u);
	CU_ASSERT_EQUAL(ev.lags[0].primary_lsn, UINT64_C(1) << 32);
	CU_ASSERT_DOUBLE_EQUAL(ev.lags[0].write_lag, 0.0015, 1e-12);
	CU_ASSERT(ev.lags[0].flush_lag < 0);
	CU_ASSERT_DOUBLE_EQUAL(ev.lags[0].replay_lag, 2, 1e-12);
	CU_ASSERT_EQUAL(ev.lags[1].replay, 0);
	CU_ASSERT(ev.lags[1].write_lag < 0);
	events_free(&ev);
	CU_ASSERT_EQUAL(ev.nlags, 0);

	CU_ASSERT_FATAL(write_text("{\"t\":1,\"ev\":\"lag\",\"primary\":\"a\",\"standby\":\"b\","
				   "\"replay\":\"0-3\"}\n{\"t\":2,\"ev\":\"run_end\"}\n"));
	CU_ASSERT_FALSE(events_load(path, &ev));
	CU_ASSERT_FATAL(write_text("{\"t\":1,\"ev\":\"lag\",\"primary\":\"a\",\"standby\":\"b\","
				   "\"replay_lag\":-1}\n{\"t\":2,\"ev\":\"run_end\"}\n"));
	CU_ASSERT_FALSE(events_load(path, &ev));
	CU_ASSERT_FATAL(write_text("{\"t\":1,\"ev\":\"lag\",\"standby\":\"b\"}\n{\"t\":2,\"ev\":\"run_end\"}\n"));
	CU_ASSERT_FALSE(events_load(path, &ev));
}

static void test_names(void)
{
	enum write_outcome o;
	enum node_role r;
	enum fault_action a;

	for (int i = WRITE_OK; i <= WRITE_OK_UNREPLICATED; i++) {
		CU_ASSERT(write_outcome_parse(write_outcome_name((enum write_outcome)i), &o));
		CU_ASSERT_EQUAL(o, (enum write_outcome)i);
	}
	for (int i = NODE_DOWN; i <= NODE_REPLICA; i++) {
		CU_ASSERT(node_role_parse(node_role_name((enum node_role)i), &r));
		CU_ASSERT_EQUAL(r, (enum node_role)i);
	}
	CU_ASSERT_STRING_EQUAL(write_outcome_name(WRITE_OK_UNREPLICATED), "ok_unreplicated");
	CU_ASSERT_STRING_EQUAL(node_role_name(NODE_PRIMARY), "primary");
	CU_ASSERT_FALSE(write_outcome_parse("OK", &o));
	CU_ASSERT_FALSE(node_role_parse("leader", &r));
	for (int i = FAULT_APPLY; i <= FAULT_ERROR; i++) {
		CU_ASSERT(fault_action_parse(fault_action_name((enum fault_action)i), &a));
		CU_ASSERT_EQUAL(a, (enum fault_action)i);
	}
	CU_ASSERT_STRING_EQUAL(fault_action_name(FAULT_SKIP), "skip");
	CU_ASSERT_FALSE(fault_action_parse("inject", &a));
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("event", suite_init, suite_clean);

	CU_add_test(s, "concurrent typed writes", test_concurrent_appends);
	CU_add_test(s, "t has exactly six decimals", test_time_precision);
	CU_add_test(s, "torn last line tolerated", test_torn_last_line);
	CU_add_test(s, "corrupt middle line rejected", test_corrupt_middle_rejected);
	CU_add_test(s, "lsn parsing", test_lsn);
	CU_add_test(s, "unknown event ignored", test_unknown_event_ignored);
	CU_add_test(s, "round trip of every field", test_round_trip_fields);
	CU_add_test(s, "lag events and received positions", test_lag_events);
	CU_add_test(s, "outcome, role and fault action names", test_names);
}
