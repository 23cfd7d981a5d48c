/* event.c - the append-only event log (events.jsonl) and its typed reader. */
#include "event.h"
#include "event_raw.h"
#include "event_schema.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct event_log {
	int fd;
	int64_t origin_us;
	char *path;
	pthread_mutex_t lock; /* one writer at a time keeps lines whole and in call order */
	event_observer_fn *observer; /* sees each line as written, under the lock (file order) */
	void *observer_arg;
};

struct json_object *event_time_new(int64_t rel_us)
{
	char buf[32];

	event_seconds_text(buf, sizeof(buf), rel_us);
	return json_object_new_double_s((double)rel_us / 1e6, buf);
}

/*
 * A crash can leave a last line without its newline; appending after it would glue the
 * next event onto the fragment and make the middle of the log unreadable. Cut it off.
 */
static bool drop_torn_tail(int fd, const char *path)
{
	struct stat st;
	char buf[4096];
	off_t end, pos;

	if (fstat(fd, &st) != 0) {
		log_error("cannot stat %s: %s", path, strerror(errno));
		return false;
	}
	end = st.st_size;
	pos = end;
	while (pos > 0) {
		size_t chunk = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t got = pread(fd, buf, chunk, pos - (off_t)chunk);

		if (got != (ssize_t)chunk) {
			log_error("cannot read %s: %s", path, got < 0 ? strerror(errno) : "short read");
			return false;
		}
		for (size_t i = chunk; i > 0; i--) {
			if (buf[i - 1] != '\n')
				continue;
			pos = pos - (off_t)chunk + (off_t)i;
			goto found;
		}
		pos -= (off_t)chunk;
	}
found:
	if (pos == end)
		return true;
	log_warn("%s: dropping a torn last line (%lld bytes)", path, (long long)(end - pos));
	if (ftruncate(fd, pos) != 0) {
		log_error("cannot truncate %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

struct event_log *event_log_open(const char *path, int64_t origin_us)
{
	struct event_log *log;
	/* Read access only to find a torn tail (drop_torn_tail). */
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0) {
		log_error("cannot open event log %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!drop_torn_tail(fd, path)) {
		close(fd);
		return NULL;
	}
	log = xcalloc(1, sizeof(*log));
	log->fd = fd;
	log->origin_us = origin_us;
	log->path = xstrdup(path);
	pthread_mutex_init(&log->lock, NULL);
	return log;
}

void event_log_close(struct event_log *log)
{
	if (!log)
		return;
	if (close(log->fd) != 0)
		log_error("cannot close event log %s: %s", log->path, strerror(errno));
	pthread_mutex_destroy(&log->lock);
	free(log->path);
	free(log);
}

int64_t event_log_rel_us(const struct event_log *log, int64_t mono_us)
{
	return mono_us - log->origin_us;
}

static bool write_all(struct event_log *log, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(log->fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			log_error("cannot write event log %s: %s", log->path, strerror(errno));
			return false;
		}
		off += (size_t)w;
	}
	return true;
}

bool event_log_append(struct event_log *log, int64_t at_mono_us, struct json_object *obj)
{
	struct json_object *ev, *line;
	const char *text;
	char *buf;
	size_t len;
	bool ok;

	if (!log || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, EVENT_KEY_TYPE, &ev)) {
		log_error("event not logged: %s", log ? "it has no \"ev\"" : "no event log");
		json_object_put(obj);
		return false;
	}
	/* A fresh object so "t" and "ev" lead the line whatever order obj was built in. */
	line = json_object_new_object();
	json_object_object_add(line, EVENT_KEY_TIME, event_time_new(at_mono_us - log->origin_us));
	json_object_object_add(line, EVENT_KEY_TYPE, json_object_get(ev));
	json_object_object_foreach(obj, key, val) {
		if (strcmp(key, EVENT_KEY_TIME) != 0 && strcmp(key, EVENT_KEY_TYPE) != 0)
			json_object_object_add(line, key, json_object_get(val));
	}
	json_object_put(obj);
	text = json_object_to_json_string_length(line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
						 &len);
	/* Serialised outside the lock; one write(2) of the whole line inside it. */
	buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\n';
	json_object_put(line);
	ok = event_log_write_line(log, buf, len + 1);
	free(buf);
	return ok;
}

bool event_log_write_line(struct event_log *log, const char *line, size_t len)
{
	bool ok;

	pthread_mutex_lock(&log->lock);
	ok = write_all(log, line, len);
	if (ok && log->observer)
		log->observer(log->observer_arg, line, len);
	pthread_mutex_unlock(&log->lock);
	return ok;
}

void event_log_observe(struct event_log *log, event_observer_fn *fn, void *arg)
{
	pthread_mutex_lock(&log->lock);
	log->observer = fn;
	log->observer_arg = arg;
	pthread_mutex_unlock(&log->lock);
}

/* ---- names ---- */

static const char *const outcome_names[] = { "ok", "fail", "indeterminate", "ok_unreplicated" };
static const char *const role_names[] = { "down", "primary", "replica" };

const char *write_outcome_name(enum write_outcome o)
{
	return (unsigned)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o] : "?";
}

const char *node_role_name(enum node_role r)
{
	return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "?";
}

static const char *const api_role_names[] = { "unknown", "primary", "replica", "deleted" };

const char *api_role_name(enum api_role r)
{
	return (unsigned)r < sizeof(api_role_names) / sizeof(api_role_names[0]) ? api_role_names[r] : "?";
}

static const char *const fault_action_names[] = { "apply", "revert", "restart", "skip", "error" };

const char *fault_action_name(enum fault_action a)
{
	return (unsigned)a < sizeof(fault_action_names) / sizeof(fault_action_names[0]) ? fault_action_names[a] : "?";
}

bool fault_action_parse(const char *name, enum fault_action *out)
{
	for (size_t i = 0; i < sizeof(fault_action_names) / sizeof(fault_action_names[0]); i++) {
		if (strcmp(name, fault_action_names[i]) == 0) {
			*out = (enum fault_action)i;
			return true;
		}
	}
	return false;
}

bool api_role_parse(const char *name, enum api_role *out)
{
	for (size_t i = 0; i < sizeof(api_role_names) / sizeof(api_role_names[0]); i++) {
		if (strcmp(name, api_role_names[i]) == 0) {
			*out = (enum api_role)i;
			return true;
		}
	}
	return false;
}

bool write_outcome_parse(const char *name, enum write_outcome *out)
{
	for (size_t i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++) {
		if (strcmp(name, outcome_names[i]) == 0) {
			*out = (enum write_outcome)i;
			return true;
		}
	}
	return false;
}

bool node_role_parse(const char *name, enum node_role *out)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum node_role)i;
			return true;
		}
	}
	return false;
}

static bool hex32(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 8)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

bool lsn_parse(const char *text, uint64_t *out)
{
	const char *slash = strchr(text, '/');
	uint64_t hi, lo;

	if (!slash || !hex32(text, (size_t)(slash - text), &hi) || !hex32(slash + 1, strlen(slash + 1), &lo))
		return false;
	*out = hi << 32 | lo;
	return true;
}

/* ---- reader ---- */

struct loader {
	const char *path;
	size_t line;
	struct events *out;
	size_t cap_writes, cap_nodes, cap_faults, cap_readbacks, cap_lags, cap_reads, cap_api_roles,
		cap_connects, cap_paths;
};

/* Geometric growth so a million writes cost a few dozen reallocs. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = *cap ? *cap * 2 : 256;
	if (*cap < need)
		*cap = need;
	return xrealloc(p, *cap * size);
}

/* Without libm (bise_core does not link it). */
static bool integral(double d)
{
	return d > -9e18 && d < 9e18 && (double)(int64_t)d == d;
}

/* Field of the expected type; doubles accept integers, integers accept integral doubles. */
static bool field(struct loader *ld, struct json_object *o, const char *key, enum json_type type,
		  bool required, struct json_object **val)
{
	struct json_object *v;
	enum json_type t;

	*val = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			log_error("%s:%zu: missing \"%s\"", ld->path, ld->line, key);
		return !required;
	}
	t = json_object_get_type(v);
	if (t == type || (type == json_type_double && t == json_type_int) ||
	    (type == json_type_int && t == json_type_double && integral(json_object_get_double(v)))) {
		*val = v;
		return true;
	}
	log_error("%s:%zu: \"%s\" is not a %s", ld->path, ld->line, key, json_type_to_name(type));
	return false;
}

static enum json_type wire_type(enum event_field_type t)
{
	switch (t) {
	case EVF_STRING:
		return json_type_string;
	case EVF_INT:
		return json_type_int;
	case EVF_DOUBLE:
	case EVF_TIME:
		return json_type_double;
	case EVF_BOOL:
		return json_type_boolean;
	case EVF_STRINGS:
	case EVF_PAIRS:
		return json_type_array;
	}
	return json_type_null;
}

/*
 * Each of the type's fields (event_schema[]) checked against its JSON type: val[i] is
 * the value of field i, NULL when absent or null; false (logged) for a required field
 * missing or any field of the wrong type.
 */
static bool fetch(struct loader *ld, struct json_object *o, enum event_type type, struct json_object **val)
{
	const struct event_schema_entry *e = &event_schema[type];

	for (size_t i = 0; i < e->nfields; i++) {
		const struct event_field *f = &e->fields[i];

		if (!field(ld, o, f->name, wire_type(f->type), f->required, &val[i]))
			return false;
	}
	return true;
}

static void string_of(struct json_object *v, char *dst, size_t n)
{
	if (v)
		str_copy(dst, n, json_object_get_string(v));
}

static void int64_of(struct json_object *v, int64_t *dst)
{
	if (v)
		*dst = json_object_get_int64(v);
}

static void int_of(struct json_object *v, int *dst)
{
	if (v)
		*dst = (int)json_object_get_int64(v);
}

static void double_of(struct json_object *v, double *dst)
{
	if (v)
		*dst = json_object_get_double(v);
}

/*
 * Times and durations a log may hold: within ±2e12 s (63,000 years), so that the metrics'
 * differences of two times, and a duration taken from one, fit in int64 microseconds.
 */
#define EVENT_SPAN_MAX_S 2e12

/* Seconds since the origin -> microseconds, rounded (the text has exactly 6 decimals). */
static bool time_of(struct loader *ld, struct json_object *v, const char *key, int64_t *dst)
{
	double s = json_object_get_double(v);

	if (!(s > -EVENT_SPAN_MAX_S && s < EVENT_SPAN_MAX_S)) {
		log_error("%s:%zu: \"%s\" out of range", ld->path, ld->line, key);
		return false;
	}
	*dst = (int64_t)(s * 1e6 + (s < 0 ? -0.5 : 0.5));
	return true;
}

/* An optional LSN field: absent, null or "" leave *out at 0. */
static bool lsn_of(struct loader *ld, struct json_object *v, const char *key, uint64_t *out)
{
	char text[64] = "";

	*out = 0;
	string_of(v, text, sizeof(text));
	if (text[0] && !lsn_parse(text, out)) {
		log_error("%s:%zu: bad %s \"%s\"", ld->path, ld->line, key, text);
		return false;
	}
	return true;
}

/* The name of field i of type (for messages). */
static const char *fname(enum event_type type, int i)
{
	return event_schema[type].fields[i].name;
}

static bool load_write(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_WRITE_N];
	struct write_event w;
	char out[32] = "";

	memset(&w, 0, sizeof(w));
	w.end_us = t_us;
	if (!fetch(ld, o, EV_WRITE, v) || !time_of(ld, v[EF_WRITE_T0], fname(EV_WRITE, EF_WRITE_T0), &w.start_us))
		return false;
	int_of(v[EF_WRITE_W], &w.writer);
	int64_of(v[EF_WRITE_SEQ], &w.seq);
	string_of(v[EF_WRITE_OUT], out, sizeof(out));
	string_of(v[EF_WRITE_NODE], w.node, sizeof(w.node));
	if (!write_outcome_parse(out, &w.outcome)) {
		log_error("%s:%zu: unknown write outcome \"%s\"", ld->path, ld->line, out);
		return false;
	}
	ev->writes = grow(ev->writes, &ld->cap_writes, ev->nwrites + 1, sizeof(w));
	ev->writes[ev->nwrites++] = w;
	return true;
}

static bool load_read(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_READ_N];
	struct read_event r;
	char out[32] = "", target[32] = "";

	memset(&r, 0, sizeof(r));
	r.end_us = t_us;
	if (!fetch(ld, o, EV_READ, v) || !time_of(ld, v[EF_READ_T0], fname(EV_READ, EF_READ_T0), &r.start_us))
		return false;
	int_of(v[EF_READ_R], &r.reader);
	string_of(v[EF_READ_OUT], out, sizeof(out));
	string_of(v[EF_READ_TARGET], target, sizeof(target));
	string_of(v[EF_READ_NODE], r.node, sizeof(r.node));
	int64_of(v[EF_READ_SEQ_SEEN], &r.seq_seen);
	int_of(v[EF_READ_TLI], &r.timeline);
	if (strcmp(out, "ok") != 0 && strcmp(out, "fail") != 0) {
		log_error("%s:%zu: unknown read outcome \"%s\"", ld->path, ld->line, out);
		return false;
	}
	if (!read_target_parse(target, &r.target)) {
		log_error("%s:%zu: unknown read target \"%s\"", ld->path, ld->line, target);
		return false;
	}
	r.ok = strcmp(out, "ok") == 0;
	r.in_recovery = v[EF_READ_REC] && json_object_get_boolean(v[EF_READ_REC]);
	ev->reads = grow(ev->reads, &ld->cap_reads, ev->nreads + 1, sizeof(r));
	ev->reads[ev->nreads++] = r;
	return true;
}

static bool load_connect(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_CONNECT_N];
	struct connect_event c;
	char out[32] = "";

	memset(&c, 0, sizeof(c));
	c.end_us = t_us;
	c.acc_us = -1;
	if (!fetch(ld, o, EV_CONNECT, v) ||
	    !time_of(ld, v[EF_CONNECT_T0], fname(EV_CONNECT, EF_CONNECT_T0), &c.start_us))
		return false;
	if (v[EF_CONNECT_ACC] && !time_of(ld, v[EF_CONNECT_ACC], fname(EV_CONNECT, EF_CONNECT_ACC), &c.acc_us))
		return false;
	int_of(v[EF_CONNECT_W], &c.writer);
	string_of(v[EF_CONNECT_OUT], out, sizeof(out));
	string_of(v[EF_CONNECT_NODE], c.node, sizeof(c.node));
	if (strcmp(out, "ok") != 0 && strcmp(out, "fail") != 0) {
		log_error("%s:%zu: unknown connect outcome \"%s\"", ld->path, ld->line, out);
		return false;
	}
	c.ok = strcmp(out, "ok") == 0;
	ev->connects = grow(ev->connects, &ld->cap_connects, ev->nconnects + 1, sizeof(c));
	ev->connects[ev->nconnects++] = c;
	return true;
}

static bool load_path(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_PATH_N];
	struct path_event p;

	memset(&p, 0, sizeof(p));
	p.end_us = t_us;
	if (!fetch(ld, o, EV_PATH, v) || !time_of(ld, v[EF_PATH_T0], fname(EV_PATH, EF_PATH_T0), &p.start_us))
		return false;
	int_of(v[EF_PATH_W], &p.writer);
	string_of(v[EF_PATH_NODE], p.node, sizeof(p.node));
	ev->paths = grow(ev->paths, &ld->cap_paths, ev->npaths + 1, sizeof(p));
	ev->paths[ev->npaths++] = p;
	return true;
}

static bool load_node(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_NODE_N];
	struct node_event n;
	char role[32] = "";

	memset(&n, 0, sizeof(n));
	n.t_us = t_us;
	if (!fetch(ld, o, EV_NODE, v))
		return false;
	string_of(v[EF_NODE_NODE], n.node, sizeof(n.node));
	string_of(v[EF_NODE_ROLE], role, sizeof(role));
	int_of(v[EF_NODE_TLI], &n.timeline);
	if (!node_role_parse(role, &n.role)) {
		log_error("%s:%zu: unknown role \"%s\"", ld->path, ld->line, role);
		return false;
	}
	/* A down node has no position: absent, null or "" all mean 0. */
	if (!lsn_of(ld, v[EF_NODE_LSN], fname(EV_NODE, EF_NODE_LSN), &n.lsn) ||
	    !lsn_of(ld, v[EF_NODE_RLSN], fname(EV_NODE, EF_NODE_RLSN), &n.rlsn))
		return false;
	ev->nodes = grow(ev->nodes, &ld->cap_nodes, ev->nnodes + 1, sizeof(n));
	ev->nodes[ev->nnodes++] = n;
	return true;
}

/* Seconds or null (pg_stat_replication's lag columns are null when idle) -> < 0. */
static bool lag_of(struct loader *ld, struct json_object *v, const char *key, double *out)
{
	*out = -1;
	if (!v)
		return true;
	*out = json_object_get_double(v);
	if (!(*out >= 0)) {
		log_error("%s:%zu: \"%s\" is negative", ld->path, ld->line, key);
		return false;
	}
	return true;
}

static bool load_lag(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_LAG_N];
	struct lag_event l;

	memset(&l, 0, sizeof(l));
	l.t_us = t_us;
	if (!fetch(ld, o, EV_LAG, v))
		return false;
	string_of(v[EF_LAG_PRIMARY], l.primary, sizeof(l.primary));
	string_of(v[EF_LAG_STANDBY], l.standby, sizeof(l.standby));
	string_of(v[EF_LAG_STATE], l.state, sizeof(l.state));
	int_of(v[EF_LAG_TLI], &l.timeline);
	if (!lsn_of(ld, v[EF_LAG_SENT], fname(EV_LAG, EF_LAG_SENT), &l.sent) ||
	    !lsn_of(ld, v[EF_LAG_WRITE], fname(EV_LAG, EF_LAG_WRITE), &l.write) ||
	    !lsn_of(ld, v[EF_LAG_FLUSH], fname(EV_LAG, EF_LAG_FLUSH), &l.flush) ||
	    !lsn_of(ld, v[EF_LAG_REPLAY], fname(EV_LAG, EF_LAG_REPLAY), &l.replay) ||
	    !lsn_of(ld, v[EF_LAG_PRIMARY_LSN], fname(EV_LAG, EF_LAG_PRIMARY_LSN), &l.primary_lsn) ||
	    !lag_of(ld, v[EF_LAG_WRITE_LAG], fname(EV_LAG, EF_LAG_WRITE_LAG), &l.write_lag) ||
	    !lag_of(ld, v[EF_LAG_FLUSH_LAG], fname(EV_LAG, EF_LAG_FLUSH_LAG), &l.flush_lag) ||
	    !lag_of(ld, v[EF_LAG_REPLAY_LAG], fname(EV_LAG, EF_LAG_REPLAY_LAG), &l.replay_lag))
		return false;
	ev->lags = grow(ev->lags, &ld->cap_lags, ev->nlags + 1, sizeof(l));
	ev->lags[ev->nlags++] = l;
	return true;
}

static bool load_fault(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_FAULT_N];
	struct fault_event f;

	memset(&f, 0, sizeof(f));
	f.t_us = t_us;
	if (!fetch(ld, o, EV_FAULT, v))
		return false;
	string_of(v[EF_FAULT_ACTION], f.action, sizeof(f.action));
	string_of(v[EF_FAULT_FAULT], f.fault, sizeof(f.fault));
	string_of(v[EF_FAULT_TARGET], f.target, sizeof(f.target));
	string_of(v[EF_FAULT_NODE], f.node, sizeof(f.node));
	int_of(v[EF_FAULT_STEP], &f.step);
	f.rep = 1;
	if (v[EF_FAULT_REPEAT])
		int_of(v[EF_FAULT_REPEAT], &f.rep);
	string_of(v[EF_FAULT_EFFECT_BY], f.effect_by, sizeof(f.effect_by));
	f.called_us = f.returned_us = f.deadline_us = -1;
	f.requested_ms = -1;
	if ((v[EF_FAULT_CALLED] && !time_of(ld, v[EF_FAULT_CALLED], fname(EV_FAULT, EF_FAULT_CALLED), &f.called_us)) ||
	    (v[EF_FAULT_RETURNED] &&
	     !time_of(ld, v[EF_FAULT_RETURNED], fname(EV_FAULT, EF_FAULT_RETURNED), &f.returned_us)) ||
	    (v[EF_FAULT_DEADLINE] &&
	     !time_of(ld, v[EF_FAULT_DEADLINE], fname(EV_FAULT, EF_FAULT_DEADLINE), &f.deadline_us)))
		return false;
	if (v[EF_FAULT_REQUESTED_MS]) {
		double_of(v[EF_FAULT_REQUESTED_MS], &f.requested_ms);
		if (!(f.requested_ms >= 0 && f.requested_ms < EVENT_SPAN_MAX_S * 1e3)) {
			log_error("%s:%zu: \"%s\" out of range", ld->path, ld->line,
				  fname(EV_FAULT, EF_FAULT_REQUESTED_MS));
			return false;
		}
	}
	ev->faults = grow(ev->faults, &ld->cap_faults, ev->nfaults + 1, sizeof(f));
	ev->faults[ev->nfaults++] = f;
	return true;
}

static bool load_api_role(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_API_ROLE_N];
	struct api_role_event a;
	char role[32] = "";

	memset(&a, 0, sizeof(a));
	a.t_us = t_us;
	if (!fetch(ld, o, EV_API_ROLE, v))
		return false;
	string_of(v[EF_API_ROLE_NODE], a.node, sizeof(a.node));
	string_of(v[EF_API_ROLE_ROLE], role, sizeof(role));
	/* A role a newer bise names is still a change: keep it as unknown. */
	if (!api_role_parse(role, &a.role))
		a.role = API_ROLE_UNKNOWN;
	ev->api_roles = grow(ev->api_roles, &ld->cap_api_roles, ev->napi_roles + 1, sizeof(a));
	ev->api_roles[ev->napi_roles++] = a;
	return true;
}

/* [[a,b],...] (ranges) or [[seq,count],...] (dups) -> pairs; *n = 0 when absent. */
static bool pairs_of(struct loader *ld, struct json_object *arr, const char *key, int64_t **pairs, size_t *n)
{
	size_t len;

	*pairs = NULL;
	*n = 0;
	if (!arr)
		return true;
	len = json_object_array_length(arr);
	*pairs = xmalloc(len * 2 * sizeof(int64_t));
	for (size_t i = 0; i < len; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) != 2 ||
		    !json_object_is_type(json_object_array_get_idx(p, 0), json_type_int) ||
		    !json_object_is_type(json_object_array_get_idx(p, 1), json_type_int)) {
			log_error("%s:%zu: \"%s\"[%zu] is not a pair of integers", ld->path, ld->line, key, i);
			free(*pairs);
			*pairs = NULL;
			return false;
		}
		(*pairs)[2 * i] = json_object_get_int64(json_object_array_get_idx(p, 0));
		(*pairs)[2 * i + 1] = json_object_get_int64(json_object_array_get_idx(p, 1));
	}
	*n = len;
	return true;
}

static bool load_readback(struct loader *ld, struct json_object *o)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_READBACK_N];
	struct readback_event r;
	int64_t *ranges = NULL, *dups = NULL;

	memset(&r, 0, sizeof(r));
	if (!fetch(ld, o, EV_READBACK, v))
		return false;
	string_of(v[EF_READBACK_NODE], r.node, sizeof(r.node));
	int_of(v[EF_READBACK_W], &r.writer);
	if (!pairs_of(ld, v[EF_READBACK_RANGES], fname(EV_READBACK, EF_READBACK_RANGES), &ranges, &r.nranges))
		return false;
	if (!pairs_of(ld, v[EF_READBACK_DUPS], fname(EV_READBACK, EF_READBACK_DUPS), &dups, &r.ndups)) {
		free(ranges);
		return false;
	}
	r.ranges = xcalloc(r.nranges, sizeof(*r.ranges));
	r.dups = xcalloc(r.ndups, sizeof(*r.dups));
	for (size_t i = 0; i < r.nranges; i++) {
		r.ranges[i].first = ranges[2 * i];
		r.ranges[i].last = ranges[2 * i + 1];
	}
	for (size_t i = 0; i < r.ndups; i++) {
		r.dups[i].seq = dups[2 * i];
		r.dups[i].count = dups[2 * i + 1];
	}
	free(ranges);
	free(dups);
	/* Stored first so events_free releases it even when the check below fails. */
	ev->readbacks = grow(ev->readbacks, &ld->cap_readbacks, ev->nreadbacks + 1, sizeof(r));
	ev->readbacks[ev->nreadbacks++] = r;
	for (size_t i = 0; i < r.nranges; i++) {
		if (r.ranges[i].first > r.ranges[i].last) {
			log_error("%s:%zu: empty range [%" PRId64 ",%" PRId64 "]", ld->path, ld->line,
				  r.ranges[i].first, r.ranges[i].last);
			return false;
		}
	}
	for (size_t i = 0; i < r.ndups; i++) {
		if (r.dups[i].count < 1) {
			log_error("%s:%zu: duplicate count %" PRId64 " < 1", ld->path, ld->line, r.dups[i].count);
			return false;
		}
	}
	return true;
}

#define WALL_US_MAX (100000LL * 365 * 24 * 3600 * 1000000) /* 10^5 years in µs, far from INT64_MAX */

static bool load_run_start(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_RUN_START_N];
	int64_t unix_us = 0;

	if (!fetch(ld, o, EV_RUN_START, v))
		return false;
	string_of(v[EF_RUN_START_RUN], ev->run, sizeof(ev->run));
	string_of(v[EF_RUN_START_SCENARIO], ev->scenario, sizeof(ev->scenario));
	int_of(v[EF_RUN_START_TRIAL], &ev->trial);
	int_of(v[EF_RUN_START_WRITERS], &ev->writers);
	int_of(v[EF_RUN_START_POLL_MS], &ev->poll_ms);
	string_of(v[EF_RUN_START_BACKEND], ev->backend, sizeof(ev->backend));
	string_of(v[EF_RUN_START_HOST], ev->host, sizeof(ev->host));
	string_of(v[EF_RUN_START_SEED], ev->seed, sizeof(ev->seed));
	/* The wall clock at this event's "t": every "t" of the log maps to it by an offset. */
	int64_of(v[EF_RUN_START_UNIX_US], &unix_us);
	/* Both within 10^5 years of 0 (WALL_US_MAX): their difference cannot overflow. */
	ev->wall_origin_us = unix_us > 0 && unix_us < WALL_US_MAX && t_us > -WALL_US_MAX && t_us < WALL_US_MAX ?
				     unix_us - t_us : 0;
	return true;
}

static bool load_healthy(struct loader *ld, struct json_object *o, int64_t t_us)
{
	struct events *ev = ld->out;
	struct json_object *v[EF_HEALTHY_N];

	/* The last wait for health is the one that counts. */
	ev->healthy_seen = true;
	ev->healthy_us = t_us;
	ev->healthy_seconds = 0;
	if (!fetch(ld, o, EV_HEALTHY, v))
		return false;
	ev->healthy_ok = json_object_get_boolean(v[EF_HEALTHY_OK]);
	double_of(v[EF_HEALTHY_SECONDS], &ev->healthy_seconds);
	return true;
}

/* One parsed line; unknown event types are skipped so newer logs load in older readers. */
static bool load_event(struct loader *ld, struct json_object *o)
{
	struct events *ev = ld->out;
	struct json_object *tv, *v[EVENT_MAX_FIELDS];
	enum event_type type;
	char name[32] = "";
	int64_t t_us = 0;

	if (!field(ld, o, EVENT_KEY_TYPE, json_type_string, true, &tv))
		return false;
	string_of(tv, name, sizeof(name));
	if (!field(ld, o, EVENT_KEY_TIME, json_type_double, true, &tv) || !time_of(ld, tv, EVENT_KEY_TIME, &t_us))
		return false;
	if (!event_type_parse(name, &type))
		return true;
	switch (type) {
	case EV_WRITE:
		return load_write(ld, o, t_us);
	case EV_NODE:
		return load_node(ld, o, t_us);
	case EV_READ:
		return load_read(ld, o, t_us);
	case EV_FAULT:
		return load_fault(ld, o, t_us);
	case EV_LAG:
		return load_lag(ld, o, t_us);
	case EV_API_ROLE:
		return load_api_role(ld, o, t_us);
	case EV_CONNECT:
		return load_connect(ld, o, t_us);
	case EV_PATH:
		return load_path(ld, o, t_us);
	case EV_READBACK:
		return load_readback(ld, o);
	case EV_RUN_START:
		return load_run_start(ld, o, t_us);
	case EV_HEALTHY:
		return load_healthy(ld, o, t_us);
	case EV_PROVISION:
		if (!fetch(ld, o, type, v))
			return false;
		double_of(v[EF_PROVISION_SECONDS], &ev->provision_seconds);
		return true;
	case EV_READBACK_DONE:
		ev->readback_done = true;
		if (!fetch(ld, o, type, v))
			return false;
		string_of(v[EF_READBACK_DONE_NODE], ev->readback_node, sizeof(ev->readback_node));
		int64_of(v[EF_READBACK_DONE_ROWS], &ev->readback_rows);
		return true;
	case EV_RUN_END:
		ev->run_ended = true;
		if (!fetch(ld, o, type, v))
			return false;
		string_of(v[EF_RUN_END_STATUS], ev->end_status, sizeof(ev->end_status));
		return true;
	case EV_PHASE:
		if (!fetch(ld, o, type, v))
			return false;
		string_of(v[EF_PHASE_NAME], name, sizeof(name));
		/* Plan offsets count from the workload start. */
		if (strcmp(name, "baseline") == 0 && ev->baseline_us < 0)
			ev->baseline_us = t_us;
		return true;
	case EV_NTYPES:
		break;
	}
	return true;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

/* A whole JSON object on the line and nothing else; NULL otherwise. */
static struct json_object *parse_line(struct json_tokener *tok, const char *s, size_t len)
{
	struct json_object *o;
	size_t end;

	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		goto bad;
	end = json_tokener_get_parse_end(tok);
	if (!json_object_is_type(o, json_type_object) || !blank(s + end, len - end))
		goto bad;
	return o;
bad:
	json_object_put(o);
	return NULL;
}

static void events_init(struct events *out)
{
	memset(out, 0, sizeof(*out));
	out->provision_seconds = -1;
	out->baseline_us = -1;
}

bool events_load(const char *path, struct events *out)
{
	struct loader ld = { .path = path, .out = out };
	struct json_tokener *tok;
	size_t bad_line = 0; /* an unparsable line, fatal unless it turns out to be the last */
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool ok = true;
	FILE *f;

	events_init(out);
	f = fopen(path, "re");
	if (!f) {
		log_error("cannot open event log %s: %s", path, strerror(errno));
		return false;
	}
	tok = json_tokener_new();
	while (ok && (len = getline(&line, &cap, f)) >= 0) {
		struct json_object *o;

		ld.line++;
		if (blank(line, (size_t)len))
			continue;
		if (bad_line) {
			log_error("%s:%zu: invalid JSON line", path, bad_line);
			ok = false;
			break;
		}
		if (len > INT32_MAX || !(o = parse_line(tok, line, (size_t)len))) {
			bad_line = ld.line;
			continue;
		}
		ok = load_event(&ld, o);
		json_object_put(o);
	}
	if (ok && ferror(f)) {
		log_error("cannot read event log %s: %s", path, strerror(errno));
		ok = false;
	}
	if (ok && bad_line)
		log_warn("%s:%zu: ignoring a torn last line (interrupted run?)", path, bad_line);
	json_tokener_free(tok);
	free(line);
	fclose(f);
	if (!ok)
		events_free(out);
	return ok;
}

/* The reader of events_load, one line at a time: what a live view is fed as the log grows. */
struct events_feed {
	struct loader ld;
	struct json_tokener *tok;
};

struct events_feed *events_feed_new(struct events *out, const char *name)
{
	struct events_feed *f = xcalloc(1, sizeof(*f));

	events_init(out);
	f->ld.path = name;
	f->ld.out = out;
	f->tok = json_tokener_new();
	return f;
}

bool events_feed_line(struct events_feed *f, const char *line, size_t len)
{
	struct json_object *o;
	bool ok;

	f->ld.line++;
	if (blank(line, len))
		return true;
	if (len > INT32_MAX || !(o = parse_line(f->tok, line, len))) {
		log_error("%s:%zu: invalid JSON line", f->ld.path, f->ld.line);
		return false;
	}
	ok = load_event(&f->ld, o);
	json_object_put(o);
	return ok;
}

void events_feed_free(struct events_feed *f)
{
	if (!f)
		return;
	json_tokener_free(f->tok);
	free(f);
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->nreadbacks; i++) {
		free(ev->readbacks[i].ranges);
		free(ev->readbacks[i].dups);
	}
	free(ev->readbacks);
	free(ev->writes);
	free(ev->reads);
	free(ev->nodes);
	free(ev->faults);
	free(ev->lags);
	free(ev->api_roles);
	free(ev->connects);
	free(ev->paths);
	memset(ev, 0, sizeof(*ev));
	ev->provision_seconds = -1;
	ev->baseline_us = -1;
}
