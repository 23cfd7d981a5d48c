/*
 * event_write.c - the typed event writers (event.h). Each fills one value per field of its
 * type's entry in event_schema[] and one serialiser writes the line from the table, so
 * field names, order and types come from the schema alone.
 *
 * The line is formatted here, byte for byte as json-c writes it (JSON_C_TO_STRING_PLAIN |
 * NOSLASHESCAPE: its string escapes and its "%.17g" doubles), without building json-c
 * objects: writes are logged thousands of times a second from the workload threads.
 */
#include "event.h"
#include "event_raw.h"
#include "event_schema.h"
#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum value_state { V_ABSENT, V_NULL, V_SET }; /* absent = key left out, null = "key":null */

struct value {
	enum value_state state;
	const char *s;
	int64_t i;
	double d;
	bool b;
	const char *const *strings;
	const struct seq_range *ranges; /* EVF_PAIRS: ranges or dups, n of them */
	const struct seq_dup *dups;
	size_t n;
};

/* A line in a stack buffer, moved to the heap only when an event outgrows it. */
struct line {
	char *buf;
	size_t len;
	size_t cap;
	char stack[1024];
};

static void line_init(struct line *l)
{
	l->buf = l->stack;
	l->len = 0;
	l->cap = sizeof(l->stack);
}

static void line_free(struct line *l)
{
	if (l->buf != l->stack)
		free(l->buf);
}

static void line_reserve(struct line *l, size_t more)
{
	size_t cap = l->cap;

	if (l->len + more <= l->cap)
		return;
	while (cap < l->len + more)
		cap *= 2;
	if (l->buf == l->stack) {
		l->buf = xmalloc(cap);
		memcpy(l->buf, l->stack, l->len);
	} else {
		l->buf = xrealloc(l->buf, cap);
	}
	l->cap = cap;
}

static void put(struct line *l, const char *s, size_t n)
{
	line_reserve(l, n);
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void put_char(struct line *l, char c)
{
	line_reserve(l, 1);
	l->buf[l->len++] = c;
}

/* json-c's json_escape_str without slash escaping. */
static void put_string(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	put_char(l, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(l, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '\b': esc[1] = 'b'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\f': esc[1] = 'f'; break;
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		put(l, esc, n);
	}
	put(l, run, (size_t)(s - run));
	put_char(l, '"');
}

static void put_int(struct line *l, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	put(l, buf, (size_t)n);
}

/* json-c's default double: "%.17g", ".0" added when that looks like an integer. */
static void put_double(struct line *l, double d)
{
	char buf[64];
	bool numeric;
	int n;

	if (isnan(d)) {
		put_str(l, "NaN");
		return;
	}
	if (isinf(d)) {
		put_str(l, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	n = snprintf(buf, sizeof(buf) - 2, "%.17g", d);
	for (int i = 0; i < n; i++) {
		if (buf[i] == ',')
			buf[i] = '.'; /* a locale's decimal comma, as json-c undoes it */
	}
	numeric = (buf[0] >= '0' && buf[0] <= '9') || (buf[0] == '-' && buf[1] >= '0' && buf[1] <= '9');
	if (numeric && !strchr(buf, '.') && !strchr(buf, 'e')) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	put(l, buf, (size_t)n);
}

void event_seconds_text(char *buf, size_t n, int64_t rel_us)
{
	uint64_t mag = rel_us < 0 ? (uint64_t)0 - (uint64_t)rel_us : (uint64_t)rel_us;

	str_format(buf, n, "%s%" PRIu64 ".%06" PRIu64, rel_us < 0 ? "-" : "", mag / 1000000, mag % 1000000);
}

static void put_time(struct line *l, int64_t rel_us)
{
	char buf[32];

	event_seconds_text(buf, sizeof(buf), rel_us);
	put_str(l, buf);
}

static void put_pairs(struct line *l, const struct value *v)
{
	put_char(l, '[');
	for (size_t k = 0; k < v->n; k++) {
		if (k > 0)
			put_char(l, ',');
		put_char(l, '[');
		put_int(l, v->ranges ? v->ranges[k].first : v->dups[k].seq);
		put_char(l, ',');
		put_int(l, v->ranges ? v->ranges[k].last : v->dups[k].count);
		put_char(l, ']');
	}
	put_char(l, ']');
}

static void put_value(struct line *l, enum event_field_type type, const struct value *v)
{
	switch (type) {
	case EVF_STRING:
		put_string(l, v->s);
		break;
	case EVF_INT:
		put_int(l, v->i);
		break;
	case EVF_DOUBLE:
		put_double(l, v->d);
		break;
	case EVF_BOOL:
		put_str(l, v->b ? "true" : "false");
		break;
	case EVF_TIME:
		put_time(l, v->i);
		break;
	case EVF_STRINGS:
		put_char(l, '[');
		for (size_t k = 0; k < v->n; k++) {
			if (k > 0)
				put_char(l, ',');
			put_string(l, v->strings[k]);
		}
		put_char(l, ']');
		break;
	case EVF_PAIRS:
		put_pairs(l, v);
		break;
	}
}

/* Write one event from its values (indexed like its type's fields); false if a required one is missing. */
static bool emit(struct event_log *log, int64_t at_mono_us, enum event_type type, const struct value *v)
{
	const struct event_schema_entry *e = &event_schema[type];
	struct line l;
	bool ok;

	if (!log) {
		log_error("%s event not logged: no event log", e->name);
		return false;
	}
	for (size_t i = 0; i < e->nfields; i++) {
		if (e->fields[i].required && v[i].state != V_SET) {
			log_error("%s event not logged: it has no \"%s\"", e->name, e->fields[i].name);
			return false;
		}
	}
	line_init(&l);
	put_str(&l, "{\"t\":");
	put_time(&l, event_log_rel_us(log, at_mono_us));
	put_str(&l, ",\"ev\":\"");
	put_str(&l, e->name);
	put_char(&l, '"');
	for (size_t i = 0; i < e->nfields; i++) {
		if (v[i].state == V_ABSENT)
			continue;
		put_str(&l, ",\"");
		put_str(&l, e->fields[i].name);
		put_str(&l, "\":");
		if (v[i].state == V_NULL)
			put_str(&l, "null");
		else
			put_value(&l, e->fields[i].type, &v[i]);
	}
	put_str(&l, "}\n");
	ok = event_log_write_line(log, l.buf, l.len);
	line_free(&l);
	return ok;
}

static void set_str(struct value *v, const char *s)
{
	if (s) {
		v->state = V_SET;
		v->s = s;
	}
}

/* A text that is SQL NULL when NULL: the key stays, with null. */
static void set_str_or_null(struct value *v, const char *s)
{
	v->state = s ? V_SET : V_NULL;
	v->s = s;
}

static void set_int(struct value *v, int64_t i)
{
	v->state = V_SET;
	v->i = i;
}

static void set_double(struct value *v, double d)
{
	v->state = V_SET;
	v->d = d;
}

static void set_bool(struct value *v, bool b)
{
	v->state = V_SET;
	v->b = b;
}

bool event_write_run_start(struct event_log *log, int64_t at_mono_us, const struct run_start_record *r)
{
	struct value v[EF_RUN_START_N] = { 0 };
	char seed[24];

	str_format(seed, sizeof(seed), "%" PRIu64, r->seed);
	set_int(&v[EF_RUN_START_SCHEMA], EVENT_SCHEMA_VERSION);
	set_str(&v[EF_RUN_START_RUN], r->run);
	set_str(&v[EF_RUN_START_SCENARIO], r->scenario);
	set_int(&v[EF_RUN_START_TRIAL], r->trial);
	set_str(&v[EF_RUN_START_SEED], seed);
	set_str(&v[EF_RUN_START_BACKEND], r->backend);
	set_str(&v[EF_RUN_START_HOST], r->host);
	set_str(&v[EF_RUN_START_BISE], r->bise);
	set_int(&v[EF_RUN_START_WRITERS], r->writers);
	if (r->writer_zones) {
		v[EF_RUN_START_WRITER_ZONES].state = V_SET;
		v[EF_RUN_START_WRITER_ZONES].strings = r->writer_zones;
		v[EF_RUN_START_WRITER_ZONES].n = r->nwriter_zones;
	}
	set_int(&v[EF_RUN_START_POLL_MS], r->poll_ms);
	if (r->unix_us > 0)
		set_int(&v[EF_RUN_START_UNIX_US], r->unix_us);
	return emit(log, at_mono_us, EV_RUN_START, v);
}

bool event_write_provision(struct event_log *log, int64_t at_mono_us, double seconds)
{
	struct value v[EF_PROVISION_N] = { 0 };

	set_double(&v[EF_PROVISION_SECONDS], seconds);
	return emit(log, at_mono_us, EV_PROVISION, v);
}

bool event_write_phase(struct event_log *log, int64_t at_mono_us, const char *name)
{
	struct value v[EF_PHASE_N] = { 0 };

	set_str(&v[EF_PHASE_NAME], name);
	return emit(log, at_mono_us, EV_PHASE, v);
}

bool event_write_write(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int writer, int64_t seq,
		       enum write_outcome out, const char *node, const char *sqlstate, const char *err)
{
	struct value v[EF_WRITE_N] = { 0 };

	if (!log) {
		log_error("write event not logged: no event log");
		return false;
	}
	set_int(&v[EF_WRITE_W], writer);
	set_int(&v[EF_WRITE_SEQ], seq);
	v[EF_WRITE_T0].state = V_SET;
	v[EF_WRITE_T0].i = event_log_rel_us(log, t0_mono_us);
	set_str(&v[EF_WRITE_OUT], write_outcome_name(out));
	set_str(&v[EF_WRITE_NODE], node);
	set_str(&v[EF_WRITE_SQLSTATE], sqlstate);
	set_str(&v[EF_WRITE_ERR], err);
	return emit(log, t_mono_us, EV_WRITE, v);
}

bool event_write_node(struct event_log *log, int64_t at_mono_us, const char *node, enum node_role role, int tli,
		      const char *lsn, const char *rlsn)
{
	struct value v[EF_NODE_N] = { 0 };

	set_str(&v[EF_NODE_NODE], node);
	set_str(&v[EF_NODE_ROLE], node_role_name(role));
	if (role != NODE_DOWN) {
		set_int(&v[EF_NODE_TLI], tli);
		set_str(&v[EF_NODE_LSN], lsn);
		set_str(&v[EF_NODE_RLSN], rlsn);
	}
	return emit(log, at_mono_us, EV_NODE, v);
}

static void set_lag(struct value *v, double seconds)
{
	if (seconds >= 0)
		set_double(v, seconds);
	else
		v->state = V_NULL;
}

bool event_write_lag(struct event_log *log, int64_t at_mono_us, const struct lag_record *r)
{
	struct value v[EF_LAG_N] = { 0 };

	set_str(&v[EF_LAG_PRIMARY], r->primary);
	set_int(&v[EF_LAG_TLI], r->tli);
	set_str(&v[EF_LAG_STANDBY], r->standby);
	set_str_or_null(&v[EF_LAG_STATE], r->state);
	set_str_or_null(&v[EF_LAG_SENT], r->sent);
	set_str_or_null(&v[EF_LAG_WRITE], r->write);
	set_str_or_null(&v[EF_LAG_FLUSH], r->flush);
	set_str_or_null(&v[EF_LAG_REPLAY], r->replay);
	set_str_or_null(&v[EF_LAG_PRIMARY_LSN], r->primary_lsn);
	set_lag(&v[EF_LAG_WRITE_LAG], r->write_lag);
	set_lag(&v[EF_LAG_FLUSH_LAG], r->flush_lag);
	set_lag(&v[EF_LAG_REPLAY_LAG], r->replay_lag);
	return emit(log, at_mono_us, EV_LAG, v);
}

bool event_write_read(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int reader, bool ok,
		      const char *node, enum read_target target, int64_t seq_seen, bool in_recovery, int timeline,
		      const char *err)
{
	struct value v[EF_READ_N] = { 0 };

	if (!log) {
		log_error("read event not logged: no event log");
		return false;
	}
	set_int(&v[EF_READ_R], reader);
	v[EF_READ_T0].state = V_SET;
	v[EF_READ_T0].i = event_log_rel_us(log, t0_mono_us);
	set_str(&v[EF_READ_OUT], ok ? "ok" : "fail");
	set_str(&v[EF_READ_NODE], node);
	set_str(&v[EF_READ_TARGET], read_target_name(target));
	set_int(&v[EF_READ_SEQ_SEEN], ok ? seq_seen : 0);
	if (ok)
		set_bool(&v[EF_READ_REC], in_recovery);
	if (ok && !in_recovery)
		set_int(&v[EF_READ_TLI], timeline);
	set_str(&v[EF_READ_ERR], err);
	return emit(log, t_mono_us, EV_READ, v);
}

/* A time field from a mono_now_us() value; 0 leaves it out. */
static void set_time(const struct event_log *log, struct value *v, int64_t mono_us)
{
	if (mono_us == 0 || !log)
		return;
	v->state = V_SET;
	v->i = event_log_rel_us(log, mono_us);
}

bool event_write_fault(struct event_log *log, int64_t at_mono_us, const struct fault_record *r)
{
	struct value v[EF_FAULT_N] = { 0 };

	set_str(&v[EF_FAULT_ACTION], fault_action_name(r->action));
	set_str(&v[EF_FAULT_FAULT], r->fault);
	set_str(&v[EF_FAULT_TARGET], r->target);
	set_str(&v[EF_FAULT_NODE], r->node);
	set_int(&v[EF_FAULT_STEP], r->step);
	set_str(&v[EF_FAULT_REASON], r->reason);
	if (r->verified_ms >= 0)
		set_double(&v[EF_FAULT_VERIFIED_MS], r->verified_ms);
	if (r->repeat != 0)
		set_int(&v[EF_FAULT_REPEAT], r->repeat);
	set_str(&v[EF_FAULT_EFFECT_BY], r->effect_by);
	set_time(log, &v[EF_FAULT_CALLED], r->called_us);
	set_time(log, &v[EF_FAULT_RETURNED], r->returned_us);
	set_time(log, &v[EF_FAULT_DEADLINE], r->deadline_us);
	if (r->requested_us > 0)
		set_double(&v[EF_FAULT_REQUESTED_MS], (double)r->requested_us / 1e3);
	return emit(log, at_mono_us, EV_FAULT, v);
}

bool event_write_healthy(struct event_log *log, int64_t at_mono_us, bool ok, double seconds, const char *reason)
{
	struct value v[EF_HEALTHY_N] = { 0 };

	set_bool(&v[EF_HEALTHY_OK], ok);
	set_double(&v[EF_HEALTHY_SECONDS], seconds);
	set_str(&v[EF_HEALTHY_REASON], reason);
	return emit(log, at_mono_us, EV_HEALTHY, v);
}

bool event_write_readback(struct event_log *log, int64_t at_mono_us, const char *node, int writer,
			  const struct seq_range *ranges, size_t nranges, const struct seq_dup *dups, size_t ndups)
{
	struct value v[EF_READBACK_N] = { 0 };

	set_str(&v[EF_READBACK_NODE], node);
	set_int(&v[EF_READBACK_W], writer);
	v[EF_READBACK_RANGES].state = V_SET;
	v[EF_READBACK_RANGES].ranges = ranges;
	v[EF_READBACK_RANGES].n = ranges ? nranges : 0;
	v[EF_READBACK_DUPS].state = V_SET;
	v[EF_READBACK_DUPS].dups = dups;
	v[EF_READBACK_DUPS].n = dups ? ndups : 0;
	return emit(log, at_mono_us, EV_READBACK, v);
}

bool event_write_readback_done(struct event_log *log, int64_t at_mono_us, const char *node, int64_t rows)
{
	struct value v[EF_READBACK_DONE_N] = { 0 };

	set_str(&v[EF_READBACK_DONE_NODE], node);
	set_int(&v[EF_READBACK_DONE_ROWS], rows);
	return emit(log, at_mono_us, EV_READBACK_DONE, v);
}

bool event_write_connect(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int writer, bool ok,
			 const char *node, int64_t acc_mono_us, const char *err)
{
	struct value v[EF_CONNECT_N] = { 0 };

	if (!log) {
		log_error("connect event not logged: no event log");
		return false;
	}
	set_int(&v[EF_CONNECT_W], writer);
	v[EF_CONNECT_T0].state = V_SET;
	v[EF_CONNECT_T0].i = event_log_rel_us(log, t0_mono_us);
	set_str(&v[EF_CONNECT_OUT], ok ? "ok" : "fail");
	if (node && node[0])
		set_str(&v[EF_CONNECT_NODE], node);
	if (acc_mono_us > 0) {
		v[EF_CONNECT_ACC].state = V_SET;
		v[EF_CONNECT_ACC].i = event_log_rel_us(log, acc_mono_us);
	}
	if (err && err[0])
		set_str(&v[EF_CONNECT_ERR], err);
	return emit(log, t_mono_us, EV_CONNECT, v);
}

bool event_write_path(struct event_log *log, int64_t t0_mono_us, int64_t t_mono_us, int writer, const char *node)
{
	struct value v[EF_PATH_N] = { 0 };

	if (!log) {
		log_error("path event not logged: no event log");
		return false;
	}
	set_int(&v[EF_PATH_W], writer);
	v[EF_PATH_T0].state = V_SET;
	v[EF_PATH_T0].i = event_log_rel_us(log, t0_mono_us);
	set_str(&v[EF_PATH_NODE], node);
	return emit(log, t_mono_us, EV_PATH, v);
}

bool event_write_api_role(struct event_log *log, int64_t at_mono_us, const char *node, enum api_role role)
{
	struct value v[EF_API_ROLE_N] = { 0 };

	set_str(&v[EF_API_ROLE_NODE], node);
	set_str(&v[EF_API_ROLE_ROLE], api_role_name(role));
	return emit(log, at_mono_us, EV_API_ROLE, v);
}

bool event_write_run_end(struct event_log *log, int64_t at_mono_us, const char *status)
{
	struct value v[EF_RUN_END_N] = { 0 };

	set_str(&v[EF_RUN_END_STATUS], status);
	return emit(log, at_mono_us, EV_RUN_END, v);
}
