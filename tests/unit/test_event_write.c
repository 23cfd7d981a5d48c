/*
 * test_event_write.c - the typed event writers and the schema table: every writer's event
 * round-trips through the typed reader; each event type of event_schema[] has exactly one
 * writer (event_write_<type> in event.h) and the writers write nothing outside the table;
 * the reader requires and type-checks exactly the table's fields; the lines are the bytes
 * json-c writes for the same values (the format before the typed writers); a writer
 * refuses an event without a required field; only the event module appends raw lines.
 */
#include "event.h"
#include "event_raw.h"
#include "event_schema.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORIGIN 1000000000LL /* any mono_now_us()-like origin */
#define AT (ORIGIN + 12345678)

/* Every escape json-c writes, a slash (not escaped) and UTF-8 passed through. */
static const char tricky[] = "a\"b\\c/d\n\t\r\b\f\x01\x1f\x7f z\xc3\xa9";

static char path[64];
static char path2[64];

static int suite_init(void)
{
	int fd;

	log_set_level(LOG_QUIET);
	str_copy(path, sizeof(path), "/tmp/bise-test-evwrite-XXXXXX");
	str_copy(path2, sizeof(path2), "/tmp/bise-test-evwrite2-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	fd = mkstemp(path2);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}

static int suite_clean(void)
{
	unlink(path);
	unlink(path2);
	return 0;
}

/* A formatted string (caller frees). */
static char *text_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *text_printf(const char *fmt, ...)
{
	va_list ap;
	char *buf;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return buf;
}

/* ---- one sample event per writer ---- */

static const char *const zones[] = { "", "lucerne", tricky };
static const struct seq_range ranges[] = { { 1, 982 }, { 1043, 3037 } };
static const struct seq_dup dups[] = { { 5, 2 }, { 1044, 3 } };

static bool w_run_start(struct event_log *log)
{
	struct run_start_record r = {
		.run = "20261124-191124-25117-x-t1", .scenario = "primary-pod-kill", .trial = 2,
		.seed = 18446744073709551615ULL, .backend = "local", .host = tricky, .bise = "0.1.0",
		.writers = 3, .writer_zones = zones, .nwriter_zones = 3, .poll_ms = 200,
		.unix_us = 1764640000123456LL,
	};

	return event_write_run_start(log, AT, &r);
}

static bool w_provision(struct event_log *log)
{
	return event_write_provision(log, AT, 6.8881240000000004);
}

static bool w_phase(struct event_log *log)
{
	return event_write_phase(log, AT, "recovery");
}

static bool w_write(struct event_log *log)
{
	return event_write_write(log, AT - 2500, AT, 3, 4000000000LL, WRITE_INDETERMINATE, "geneva", "57P01",
				 tricky);
}

static bool w_node(struct event_log *log)
{
	return event_write_node(log, AT, "gland", NODE_REPLICA, 3, "0/3000060", "1/FF000100");
}

static bool w_lag(struct event_log *log)
{
	struct lag_record r = {
		.primary = "geneva", .tli = 2, .standby = "lucerne", .state = "streaming", .sent = "0/5000000",
		.write = "0/4000000", .flush = "0/3000000", .replay = NULL, .primary_lsn = "0/5000100",
		.write_lag = 0.1, .flush_lag = 1e-7, .replay_lag = -1,
	};

	return event_write_lag(log, AT, &r);
}

static bool w_read(struct event_log *log)
{
	return event_write_read(log, AT - 700, AT, 1, true, "lucerne", READ_ANY, 99, false, 4, NULL);
}

static bool w_fault(struct event_log *log)
{
	struct fault_record r = {
		.action = FAULT_APPLY, .fault = "pod-kill", .target = "primary", .node = "lucerne", .step = 1,
		.reason = tricky, .verified_ms = 87.418000000000006, .repeat = 2,
		.effect_by = "cgroup-empty", .called_us = AT - 3000, .returned_us = AT + 1500,
		.deadline_us = AT - 3100, .requested_us = 20000000,
	};

	return event_write_fault(log, AT, &r);
}

static bool w_healthy(struct event_log *log)
{
	return event_write_healthy(log, AT, false, 27.738492999999998, "no primary");
}

static bool w_readback(struct event_log *log)
{
	return event_write_readback(log, AT, "geneva", 2, ranges, 2, dups, 2);
}

static bool w_readback_done(struct event_log *log)
{
	return event_write_readback_done(log, AT, "geneva", 11886);
}

static bool w_api_role(struct event_log *log)
{
	return event_write_api_role(log, AT, "pg-cluster-1", API_ROLE_DELETED);
}

static bool w_connect(struct event_log *log)
{
	return event_write_connect(log, AT - 9000, AT, 3, true, "gland", AT - 2500, NULL);
}

static bool w_path(struct event_log *log)
{
	return event_write_path(log, AT - 4000, AT, 2, "geneva");
}

static bool w_run_end(struct event_log *log)
{
	return event_write_run_end(log, AT, "interrupted");
}

/* The typed reader's view of each sample, with the parsed line for what it does not keep. */
static void c_run_start(const struct events *ev, json_object *line)
{
	json_object *v;

	CU_ASSERT_STRING_EQUAL(ev->run, "20261124-191124-25117-x-t1");
	CU_ASSERT_STRING_EQUAL(ev->scenario, "primary-pod-kill");
	CU_ASSERT_EQUAL(ev->trial, 2);
	CU_ASSERT_EQUAL(ev->writers, 3);
	CU_ASSERT_EQUAL(ev->poll_ms, 200);
	/* The wall clock at t = 0: the event's date less its t (12.345678 s). */
	CU_ASSERT_EQUAL(ev->wall_origin_us, 1764640000123456LL - 12345678);
	CU_ASSERT(json_object_object_get_ex(line, "unix_us", &v) && json_object_get_int64(v) == 1764640000123456LL);
	CU_ASSERT(json_object_object_get_ex(line, "seed", &v) &&
		  strcmp(json_object_get_string(v), "18446744073709551615") == 0);
	CU_ASSERT(json_object_object_get_ex(line, "schema", &v) && json_object_get_int(v) == EVENT_SCHEMA_VERSION);
	CU_ASSERT(json_object_object_get_ex(line, "host", &v) && strcmp(json_object_get_string(v), tricky) == 0);
	CU_ASSERT_FATAL(json_object_object_get_ex(line, "writer_zones", &v) && json_object_array_length(v) == 3);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(v, i)), zones[i]);
}

static void c_provision(const struct events *ev, json_object *line)
{
	CU_ASSERT_DOUBLE_EQUAL(ev->provision_seconds, 6.8881240000000004, 0);
}

static void c_phase(const struct events *ev, json_object *line)
{
	json_object *v;

	CU_ASSERT(json_object_object_get_ex(line, "name", &v) && strcmp(json_object_get_string(v), "recovery") == 0);
}

static void c_write(const struct events *ev, json_object *line)
{
	json_object *v;

	CU_ASSERT_EQUAL_FATAL(ev->nwrites, 1);
	CU_ASSERT_EQUAL(ev->writes[0].start_us, AT - 2500 - ORIGIN);
	CU_ASSERT_EQUAL(ev->writes[0].end_us, AT - ORIGIN);
	CU_ASSERT_EQUAL(ev->writes[0].writer, 3);
	CU_ASSERT_EQUAL(ev->writes[0].seq, 4000000000LL);
	CU_ASSERT_EQUAL(ev->writes[0].outcome, WRITE_INDETERMINATE);
	CU_ASSERT_STRING_EQUAL(ev->writes[0].node, "geneva");
	CU_ASSERT(json_object_object_get_ex(line, "sqlstate", &v) && strcmp(json_object_get_string(v), "57P01") == 0);
	CU_ASSERT(json_object_object_get_ex(line, "err", &v) && strcmp(json_object_get_string(v), tricky) == 0);
}

static void c_node(const struct events *ev, json_object *line)
{
	CU_ASSERT_EQUAL_FATAL(ev->nnodes, 1);
	CU_ASSERT_EQUAL(ev->nodes[0].t_us, AT - ORIGIN);
	CU_ASSERT_STRING_EQUAL(ev->nodes[0].node, "gland");
	CU_ASSERT_EQUAL(ev->nodes[0].role, NODE_REPLICA);
	CU_ASSERT_EQUAL(ev->nodes[0].timeline, 3);
	CU_ASSERT_EQUAL(ev->nodes[0].lsn, 0x3000060ULL);
	CU_ASSERT_EQUAL(ev->nodes[0].rlsn, 0x1FF000100ULL);
}

static void c_lag(const struct events *ev, json_object *line)
{
	const struct lag_event *l = &ev->lags[0];
	json_object *v;

	CU_ASSERT_EQUAL_FATAL(ev->nlags, 1);
	CU_ASSERT_STRING_EQUAL(l->primary, "geneva");
	CU_ASSERT_STRING_EQUAL(l->standby, "lucerne");
	CU_ASSERT_STRING_EQUAL(l->state, "streaming");
	CU_ASSERT_EQUAL(l->timeline, 2);
	CU_ASSERT_EQUAL(l->sent, 0x5000000ULL);
	CU_ASSERT_EQUAL(l->write, 0x4000000ULL);
	CU_ASSERT_EQUAL(l->flush, 0x3000000ULL);
	CU_ASSERT_EQUAL(l->replay, 0);
	CU_ASSERT_EQUAL(l->primary_lsn, 0x5000100ULL);
	CU_ASSERT_DOUBLE_EQUAL(l->write_lag, 0.1, 0);
	CU_ASSERT_DOUBLE_EQUAL(l->flush_lag, 1e-7, 0);
	CU_ASSERT(l->replay_lag < 0);
	/* SQL NULL stays a null-valued key, as the lag rows were always written. */
	CU_ASSERT(json_object_object_get_ex(line, "replay", &v) && v == NULL);
	CU_ASSERT(json_object_object_get_ex(line, "replay_lag", &v) && v == NULL);
}

static void c_read(const struct events *ev, json_object *line)
{
	const struct read_event *r = &ev->reads[0];

	CU_ASSERT_EQUAL_FATAL(ev->nreads, 1);
	CU_ASSERT_EQUAL(r->start_us, AT - 700 - ORIGIN);
	CU_ASSERT_EQUAL(r->end_us, AT - ORIGIN);
	CU_ASSERT_EQUAL(r->reader, 1);
	CU_ASSERT(r->ok);
	CU_ASSERT_FALSE(r->in_recovery);
	CU_ASSERT_EQUAL(r->timeline, 4);
	CU_ASSERT_EQUAL(r->target, READ_ANY);
	CU_ASSERT_EQUAL(r->seq_seen, 99);
	CU_ASSERT_STRING_EQUAL(r->node, "lucerne");
	CU_ASSERT_FALSE(json_object_object_get_ex(line, "err", NULL));
}

static void c_fault(const struct events *ev, json_object *line)
{
	const struct fault_event *f = &ev->faults[0];
	json_object *v;

	CU_ASSERT_EQUAL_FATAL(ev->nfaults, 1);
	CU_ASSERT_EQUAL(f->t_us, AT - ORIGIN);
	CU_ASSERT_STRING_EQUAL(f->action, "apply");
	CU_ASSERT_STRING_EQUAL(f->fault, "pod-kill");
	CU_ASSERT_STRING_EQUAL(f->target, "primary");
	CU_ASSERT_STRING_EQUAL(f->node, "lucerne");
	CU_ASSERT_EQUAL(f->step, 1);
	CU_ASSERT(json_object_object_get_ex(line, "reason", &v) && strcmp(json_object_get_string(v), tricky) == 0);
	CU_ASSERT(json_object_object_get_ex(line, "verified_ms", &v) &&
		  json_object_get_double(v) == 87.418000000000006);
	CU_ASSERT(json_object_object_get_ex(line, "repeat", &v) && json_object_get_int(v) == 2);
	/* When it took effect (t) and how that was seen; the call around it; the plan's deadline. */
	CU_ASSERT_STRING_EQUAL(f->effect_by, "cgroup-empty");
	CU_ASSERT_EQUAL(f->called_us, AT - 3000 - ORIGIN);
	CU_ASSERT_EQUAL(f->returned_us, AT + 1500 - ORIGIN);
	CU_ASSERT_EQUAL(f->deadline_us, AT - 3100 - ORIGIN);
	CU_ASSERT_DOUBLE_EQUAL(f->requested_ms, 20000.0, 1e-9);
	CU_ASSERT(json_object_object_get_ex(line, "called", &v) &&
		  strcmp(json_object_get_string(v), "12.342678") == 0);
}

static void c_healthy(const struct events *ev, json_object *line)
{
	json_object *v;

	CU_ASSERT(ev->healthy_seen);
	CU_ASSERT_FALSE(ev->healthy_ok);
	CU_ASSERT_DOUBLE_EQUAL(ev->healthy_seconds, 27.738492999999998, 0);
	CU_ASSERT(json_object_object_get_ex(line, "reason", &v) &&
		  strcmp(json_object_get_string(v), "no primary") == 0);
}

static void c_readback(const struct events *ev, json_object *line)
{
	const struct readback_event *r = &ev->readbacks[0];

	CU_ASSERT_EQUAL_FATAL(ev->nreadbacks, 1);
	CU_ASSERT_STRING_EQUAL(r->node, "geneva");
	CU_ASSERT_EQUAL(r->writer, 2);
	CU_ASSERT_EQUAL_FATAL(r->nranges, 2);
	CU_ASSERT_EQUAL_FATAL(r->ndups, 2);
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(r->ranges[i].first, ranges[i].first);
		CU_ASSERT_EQUAL(r->ranges[i].last, ranges[i].last);
		CU_ASSERT_EQUAL(r->dups[i].seq, dups[i].seq);
		CU_ASSERT_EQUAL(r->dups[i].count, dups[i].count);
	}
}

static void c_readback_done(const struct events *ev, json_object *line)
{
	CU_ASSERT(ev->readback_done);
	CU_ASSERT_STRING_EQUAL(ev->readback_node, "geneva");
	CU_ASSERT_EQUAL(ev->readback_rows, 11886);
}

static void c_api_role(const struct events *ev, json_object *line)
{
	CU_ASSERT_EQUAL_FATAL(ev->napi_roles, 1);
	CU_ASSERT_EQUAL(ev->api_roles[0].t_us, AT - ORIGIN);
	CU_ASSERT_STRING_EQUAL(ev->api_roles[0].node, "pg-cluster-1");
	CU_ASSERT_EQUAL(ev->api_roles[0].role, API_ROLE_DELETED);
}

static void c_connect(const struct events *ev, json_object *line)
{
	const struct connect_event *c = &ev->connects[0];

	CU_ASSERT_EQUAL_FATAL(ev->nconnects, 1);
	CU_ASSERT_EQUAL(c->start_us, AT - 9000 - ORIGIN);
	CU_ASSERT_EQUAL(c->end_us, AT - ORIGIN);
	CU_ASSERT_EQUAL(c->acc_us, AT - 2500 - ORIGIN);
	CU_ASSERT_EQUAL(c->writer, 3);
	CU_ASSERT(c->ok);
	CU_ASSERT_STRING_EQUAL(c->node, "gland");
	CU_ASSERT_FALSE(json_object_object_get_ex(line, "err", NULL));
}

static void c_path(const struct events *ev, json_object *line)
{
	const struct path_event *p = &ev->paths[0];

	(void)line;
	CU_ASSERT_EQUAL_FATAL(ev->npaths, 1);
	CU_ASSERT_EQUAL(ev->nconnects, 0);
	CU_ASSERT_EQUAL(p->start_us, AT - 4000 - ORIGIN);
	CU_ASSERT_EQUAL(p->end_us, AT - ORIGIN);
	CU_ASSERT_EQUAL(p->writer, 2);
	CU_ASSERT_STRING_EQUAL(p->node, "geneva");
}

static void c_run_end(const struct events *ev, json_object *line)
{
	json_object *v;

	CU_ASSERT(ev->run_ended);
	CU_ASSERT(json_object_object_get_ex(line, "status", &v) &&
		  strcmp(json_object_get_string(v), "interrupted") == 0);
}

struct writer_case {
	const char *writer; /* the function's name in event.h */
	bool (*write)(struct event_log *log);
	void (*check)(const struct events *ev, json_object *line);
};

static const struct writer_case cases[] = {
	{ "event_write_run_start", w_run_start, c_run_start },
	{ "event_write_provision", w_provision, c_provision },
	{ "event_write_phase", w_phase, c_phase },
	{ "event_write_write", w_write, c_write },
	{ "event_write_node", w_node, c_node },
	{ "event_write_lag", w_lag, c_lag },
	{ "event_write_read", w_read, c_read },
	{ "event_write_fault", w_fault, c_fault },
	{ "event_write_healthy", w_healthy, c_healthy },
	{ "event_write_readback", w_readback, c_readback },
	{ "event_write_readback_done", w_readback_done, c_readback_done },
	{ "event_write_api_role", w_api_role, c_api_role },
	{ "event_write_connect", w_connect, c_connect },
	{ "event_write_path", w_path, c_path },
	{ "event_write_run_end", w_run_end, c_run_end },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- helpers ---- */

/* The one line the case writes into path (caller frees); NULL when it wrote none. */
static char *case_line(const struct writer_case *c)
{
	struct event_log *log;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	bool ok;

	unlink(path);
	log = event_log_open(path, ORIGIN);
	if (!log)
		return NULL;
	ok = c->write(log);
	event_log_close(log);
	f = fopen(path, "re");
	if (!ok || !f || getline(&line, &cap, f) < 0) {
		free(line);
		line = NULL;
	}
	if (f)
		fclose(f);
	return line;
}

static bool write_text(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* Does a log holding only this object (written by json-c) load? */
static bool loads(json_object *o)
{
	struct events ev;
	char *text;
	bool ok;

	text = text_printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	ok = write_text(path2, text);
	free(text);
	if (!ok)
		return false;
	ok = events_load(path2, &ev);
	if (ok)
		events_free(&ev);
	return ok;
}

static enum event_type type_of_line(json_object *line)
{
	json_object *v;
	enum event_type t = EV_NTYPES;

	if (json_object_object_get_ex(line, EVENT_KEY_TYPE, &v) && json_object_is_type(v, json_type_string))
		event_type_parse(json_object_get_string(v), &t);
	return t;
}

static bool has_type(json_object *v, enum event_field_type type)
{
	switch (type) {
	case EVF_STRING:
		return json_object_is_type(v, json_type_string);
	case EVF_INT:
		return json_object_is_type(v, json_type_int);
	case EVF_DOUBLE:
	case EVF_TIME:
		return json_object_is_type(v, json_type_double);
	case EVF_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case EVF_STRINGS:
	case EVF_PAIRS:
		return json_object_is_type(v, json_type_array);
	}
	return false;
}

/* ---- tests ---- */

static void test_round_trip(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		char *text = case_line(&cases[i]);
		json_object *line;
		struct events ev;

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		line = json_tokener_parse(text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		CU_ASSERT_FATAL(events_load(path, &ev));
		cases[i].check(&ev, line);
		events_free(&ev);
		json_object_put(line);
		free(text);
	}
}

/* Each type has exactly one writer, named after it, and event.h declares no other. */
static void test_one_writer_per_type(void)
{
	int count[EV_NTYPES] = { 0 };
	const char *src = getenv("BISE_SOURCE_DIR");
	char *header, *p, name[64];
	size_t declared = 0;

	for (size_t i = 0; i < NCASES; i++) {
		char *text = case_line(&cases[i]);
		json_object *line = text ? json_tokener_parse(text) : NULL;
		enum event_type t = line ? type_of_line(line) : EV_NTYPES;

		CU_ASSERT_FATAL(t < EV_NTYPES);
		count[t]++;
		str_format(name, sizeof(name), "event_write_%s", event_schema[t].name);
		CU_ASSERT_STRING_EQUAL(cases[i].writer, name);
		json_object_put(line);
		free(text);
	}
	for (int t = 0; t < EV_NTYPES; t++)
		CU_ASSERT_EQUAL(count[t], 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	str_format(name, sizeof(name), "%s/harness/events/event.h", src);
	header = file_read_all(name, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(header);
	for (p = header; (p = strstr(p, "\nbool event_write_")) != NULL; p++) {
		char *open = strchr(p, '(');

		declared++;
		CU_ASSERT_FATAL(open != NULL);
		str_copy(name, (size_t)(open - p - 5) < sizeof(name) ? (size_t)(open - p - 5) : sizeof(name),
			 p + 6);
		{
			bool found = false;

			for (size_t i = 0; i < NCASES; i++)
				found = found || strcmp(cases[i].writer, name) == 0;
			CU_ASSERT(found);
		}
	}
	CU_ASSERT_EQUAL(declared, (size_t)EV_NTYPES);
	free(header);
}

/* What the writers write is in the table: only its fields, in its order, of its types. */
static void test_lines_follow_schema(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		char *text = case_line(&cases[i]);
		json_object *line = json_tokener_parse(text);
		enum event_type t = type_of_line(line);
		const struct event_schema_entry *e;
		size_t next = 0, k = 0;

		CU_ASSERT_FATAL(t < EV_NTYPES);
		e = &event_schema[t];
		CU_ASSERT_EQUAL(strncmp(text, "{\"t\":", 5), 0);
		json_object_object_foreach(line, key, val) {
			size_t f;

			if (k++ < 2) {
				CU_ASSERT_STRING_EQUAL(key, k == 1 ? EVENT_KEY_TIME : EVENT_KEY_TYPE);
				continue;
			}
			for (f = next; f < e->nfields && strcmp(e->fields[f].name, key) != 0; f++)
				;
			CU_ASSERT_FATAL(f < e->nfields); /* a field of the type, after the previous one */
			CU_ASSERT(val == NULL || has_type(val, e->fields[f].type));
			next = f + 1;
		}
		for (size_t f = 0; f < e->nfields; f++) {
			if (e->fields[f].required)
				CU_ASSERT(json_object_object_get_ex(line, e->fields[f].name, NULL));
		}
		json_object_put(line);
		free(text);
	}
}

/* The reader rejects an event without a required field or with a field of another type. */
static void test_reader_checks_schema(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		char *text = case_line(&cases[i]);
		json_object *line = json_tokener_parse(text);
		enum event_type t = type_of_line(line);
		const struct event_schema_entry *e = &event_schema[t];

		CU_ASSERT_FATAL(t < EV_NTYPES);
		CU_ASSERT(loads(line));
		for (size_t f = 0; f < e->nfields; f++) {
			const struct event_field *fd = &e->fields[f];
			json_object *copy = NULL, *wrong;

			CU_ASSERT_FATAL(json_object_deep_copy(line, &copy, NULL) == 0);
			json_object_object_del(copy, fd->name);
			CU_ASSERT_EQUAL(loads(copy), !fd->required);
			/* Strings get a number, everything else a string. */
			wrong = fd->type == EVF_STRING ? json_object_new_int(1) : json_object_new_string("x");
			json_object_object_add(copy, fd->name, wrong);
			CU_ASSERT_FALSE(loads(copy));
			if (fd->type == EVF_BOOL || fd->type == EVF_STRINGS || fd->type == EVF_PAIRS) {
				json_object_object_add(copy, fd->name, json_object_new_int(1));
				CU_ASSERT_FALSE(loads(copy));
			}
			json_object_put(copy);
		}
		json_object_put(line);
		free(text);
	}
}

/* The same value as json-c builds it, so its serialiser decides every byte. */
static json_object *rebuild(json_object *v, enum event_field_type type)
{
	json_object *a;

	if (!v)
		return NULL;
	switch (type) {
	case EVF_STRING:
		return json_object_new_string(json_object_get_string(v));
	case EVF_INT:
		return json_object_new_int64(json_object_get_int64(v));
	case EVF_DOUBLE:
		return json_object_new_double(json_object_get_double(v));
	case EVF_BOOL:
		return json_object_new_boolean(json_object_get_boolean(v));
	case EVF_TIME:
		return event_time_new((int64_t)(json_object_get_double(v) * 1e6 + 0.5));
	case EVF_STRINGS:
	case EVF_PAIRS:
		/* Pairs recurse: an array of pairs, a pair of integers, an integer. */
		if (json_object_is_type(v, json_type_int))
			return json_object_new_int64(json_object_get_int64(v));
		a = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(a, rebuild(json_object_array_get_idx(v, i),
							 type == EVF_STRINGS ? EVF_STRING : EVF_PAIRS));
		return a;
	}
	return NULL;
}

/* Byte for byte what the json-c objects the events were built from before would give. */
static void test_bytes_as_json_c(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		char *text = case_line(&cases[i]), *expect;
		json_object *line = json_tokener_parse(text), *o, *tv, *v;
		enum event_type t = type_of_line(line);
		const struct event_schema_entry *e = &event_schema[t];
		struct event_log *log;

		CU_ASSERT_FATAL(t < EV_NTYPES);
		o = json_object_new_object();
		json_object_object_add(o, EVENT_KEY_TYPE, json_object_new_string(e->name));
		for (size_t f = 0; f < e->nfields; f++) {
			if (json_object_object_get_ex(line, e->fields[f].name, &v))
				json_object_object_add(o, e->fields[f].name, rebuild(v, e->fields[f].type));
		}
		CU_ASSERT_FATAL(json_object_object_get_ex(line, EVENT_KEY_TIME, &tv));
		unlink(path2);
		log = event_log_open(path2, ORIGIN);
		CU_ASSERT_FATAL(log != NULL);
		CU_ASSERT(event_log_append(log, ORIGIN + (int64_t)(json_object_get_double(tv) * 1e6 + 0.5), o));
		event_log_close(log);
		expect = file_read_all(path2, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(expect);
		CU_ASSERT_STRING_EQUAL(text, expect);
		free(expect);
		json_object_put(line);
		free(text);
	}
}

/* Doubles json-c writes in its several shapes: ".0" added, exponents, 17 digits. */
static void test_doubles_as_json_c(void)
{
	static const double d[] = { 0, 5, -3, 0.1, 1e-7, 1e21, 123456789012.5, 27.738492999999998, 1e300, -0.0,
				    2.5e-320 };

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct event_log *log;
		char *text, *want;
		json_object *o = json_object_new_double(d[i]);

		unlink(path);
		log = event_log_open(path, ORIGIN);
		CU_ASSERT_FATAL(log != NULL);
		CU_ASSERT(event_write_provision(log, AT, d[i]));
		event_log_close(log);
		text = file_read_all(path, NULL);
		want = text_printf("{\"t\":12.345678,\"ev\":\"provision\",\"seconds\":%s}\n",
				  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_STRING_EQUAL(text, want);
		free(text);
		free(want);
		json_object_put(o);
	}
}

/* Every byte json-c escapes in a string, as it escapes it. */
static void test_strings_as_json_c(void)
{
	char s[256], *text, *want;
	struct event_log *log;
	json_object *o;

	for (int c = 1; c < 256; c++)
		s[c - 1] = (char)c;
	s[255] = '\0';
	o = json_object_new_string(s);
	unlink(path);
	log = event_log_open(path, ORIGIN);
	CU_ASSERT_FATAL(log != NULL);
	CU_ASSERT(event_write_phase(log, AT, s));
	event_log_close(log);
	text = file_read_all(path, NULL);
	want = text_printf("{\"t\":12.345678,\"ev\":\"phase\",\"name\":%s}\n",
			  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	free(want);
	json_object_put(o);
}

/* A long event leaves the stack buffer for the heap and still is one whole line. */
static void test_long_event(void)
{
	enum { N = 5000 };
	struct seq_range *r = xcalloc(N, sizeof(*r));
	struct event_log *log;
	struct events ev;

	for (int i = 0; i < N; i++) {
		r[i].first = 10 * (int64_t)i;
		r[i].last = 10 * (int64_t)i + 5;
	}
	unlink(path);
	log = event_log_open(path, ORIGIN);
	CU_ASSERT_FATAL(log != NULL);
	CU_ASSERT(event_write_readback(log, AT, "geneva", 0, r, N, NULL, 0));
	CU_ASSERT(event_write_readback_done(log, AT, "geneva", 6 * N));
	event_log_close(log);
	CU_ASSERT_FATAL(events_load(path, &ev));
	CU_ASSERT_EQUAL_FATAL(ev.nreadbacks, 1);
	CU_ASSERT_EQUAL_FATAL(ev.readbacks[0].nranges, N);
	CU_ASSERT_EQUAL(ev.readbacks[0].ndups, 0);
	CU_ASSERT_EQUAL(ev.readbacks[0].ranges[N - 1].last, 10 * (int64_t)(N - 1) + 5);
	CU_ASSERT_EQUAL(ev.readback_rows, 6 * N);
	events_free(&ev);
	free(r);
}

/* The conditional fields: a down node has no position, a failed read no rec, tli or seq_seen. */
static void test_conditional_fields(void)
{
	struct event_log *log;
	char *text;

	unlink(path);
	log = event_log_open(path, ORIGIN);
	CU_ASSERT_FATAL(log != NULL);
	CU_ASSERT(event_write_node(log, AT, "geneva", NODE_DOWN, 7, "0/1", "0/2"));
	CU_ASSERT(event_write_read(log, AT - 1, AT, 0, false, "", READ_PRIMARY, 55, true, 3, "timeout"));
	CU_ASSERT(event_write_read(log, AT - 1, AT, 0, true, "gland", READ_PRIMARY, 55, true, 3, NULL));
	event_log_close(log);
	text = file_read_all(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text,
			       "{\"t\":12.345678,\"ev\":\"node\",\"node\":\"geneva\",\"role\":\"down\"}\n"
			       "{\"t\":12.345678,\"ev\":\"read\",\"r\":0,\"t0\":12.345677,\"out\":\"fail\",\"node\":\"\","
			       "\"target\":\"primary\",\"seq_seen\":0,\"err\":\"timeout\"}\n"
			       "{\"t\":12.345678,\"ev\":\"read\",\"r\":0,\"t0\":12.345677,\"out\":\"ok\",\"node\":\"gland\","
			       "\"target\":\"primary\",\"seq_seen\":55,\"rec\":true}\n");
	free(text);
}

/* A writer refuses an event that lacks a required field (the reader would reject the log). */
static void test_required_refused(void)
{
	struct lag_record l = { .primary = "geneva", .standby = NULL, .write_lag = -1, .flush_lag = -1,
				.replay_lag = -1 };
	struct event_log *log;
	struct stat st;

	unlink(path);
	log = event_log_open(path, ORIGIN);
	CU_ASSERT_FATAL(log != NULL);
	CU_ASSERT_FALSE(event_write_phase(log, AT, NULL));
	CU_ASSERT_FALSE(event_write_lag(log, AT, &l));
	CU_ASSERT_FALSE(event_write_api_role(log, AT, NULL, API_ROLE_PRIMARY));
	CU_ASSERT_FALSE(event_write_run_end(NULL, AT, "completed"));
	CU_ASSERT_FALSE(event_write_connect(NULL, AT, AT, 0, false, "", 0, "refused"));
	CU_ASSERT_FALSE(event_write_write(NULL, AT, AT, 0, 1, WRITE_OK, "geneva", NULL, NULL));
	event_log_close(log);
	CU_ASSERT_FATAL(stat(path, &st) == 0);
	CU_ASSERT_EQUAL(st.st_size, 0);
}

/* Field names are plain identifiers: the writers put them in lines unescaped. */
static void test_schema_names(void)
{
	for (int t = 0; t < EV_NTYPES; t++) {
		const struct event_schema_entry *e = &event_schema[t];
		enum event_type back;

		CU_ASSERT_PTR_NOT_NULL_FATAL(e->name);
		CU_ASSERT(event_type_parse(e->name, &back) && back == (enum event_type)t);
		CU_ASSERT(e->nfields <= EVENT_MAX_FIELDS);
		for (size_t f = 0; f < e->nfields; f++) {
			const char *n = e->fields[f].name;

			CU_ASSERT_PTR_NOT_NULL_FATAL(n);
			CU_ASSERT(n[0] != '\0' && strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(n));
			CU_ASSERT(strcmp(n, EVENT_KEY_TIME) != 0 && strcmp(n, EVENT_KEY_TYPE) != 0);
			for (size_t g = 0; g < f; g++)
				CU_ASSERT(strcmp(n, e->fields[g].name) != 0);
		}
	}
}

/* Does any C file under dir (recursively), other than the event module, include event_raw.h? */
static int raw_includes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (!d)
		return -1000;
	while ((de = readdir(d)) != NULL) {
		char *p, *text;

		if (de->d_name[0] == '.')
			continue;
		p = text_printf("%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR) {
			found += raw_includes(p);
		} else if (strstr(de->d_name, ".c") || strstr(de->d_name, ".h")) {
			bool event_module = strstr(p, "/harness/event") != NULL;

			text = file_read_all(p, NULL);
			if (text && !event_module && strstr(text, "\"event_raw.h\"")) {
				fprintf(stderr, "%s writes raw events\n", p);
				found++;
			}
			free(text);
		}
		free(p);
	}
	closedir(d);
	return found;
}

/* Product code writes events only through the typed writers. */
static void test_no_raw_writers(void)
{
	static const char *const dirs[] = { "harness", "drivers", "reports" };
	const char *src = getenv("BISE_SOURCE_DIR");

	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *dir = text_printf("%s/%s", src, dirs[i]);

		CU_ASSERT_EQUAL(raw_includes(dir), 0);
		free(dir);
	}
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("event_write", suite_init, suite_clean);

	CU_add_test(s, "every writer round-trips through the reader", test_round_trip);
	CU_add_test(s, "one writer per event type", test_one_writer_per_type);
	CU_add_test(s, "lines follow the schema table", test_lines_follow_schema);
	CU_add_test(s, "the reader checks the schema table", test_reader_checks_schema);
	CU_add_test(s, "lines are json-c's bytes", test_bytes_as_json_c);
	CU_add_test(s, "doubles as json-c writes them", test_doubles_as_json_c);
	CU_add_test(s, "strings as json-c escapes them", test_strings_as_json_c);
	CU_add_test(s, "a long event", test_long_event);
	CU_add_test(s, "conditional fields", test_conditional_fields);
	CU_add_test(s, "required fields refused when missing", test_required_refused);
	CU_add_test(s, "schema names", test_schema_names);
	CU_add_test(s, "no raw event writers outside the event module", test_no_raw_writers);
}
