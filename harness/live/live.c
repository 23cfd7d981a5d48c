/*
 * live.c - the live view's state: the log's lines in, a snapshot out. The observer only
 * copies each line into a queue (it runs under the log's lock, on the workload's threads);
 * a pump thread parses them with the log's own reader, bins the writes per second, keeps
 * the timeline's messages and rebuilds the snapshot the page and /metrics show.
 */
#include "live.h"
#include "live_state.h"

#include "metrics.h" /* metrics_acked */
#include "util.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAPSHOT_EVERY_US (500 * 1000LL)
#define PUMP_WAIT_US (200 * 1000LL)

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t us)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(c, m, &ts);
}

/* The "ev" of a line as the writers put it ({"t":...,"ev":"NAME",...}); "" if not found. */
static void line_type(const char *line, size_t len, char *out, size_t n)
{
	static const char key[] = "\"ev\":\"";
	size_t k = sizeof(key) - 1, i, j = 0;

	out[0] = '\0';
	for (i = 0; i + k <= len && i < 64; i++)
		if (memcmp(line + i, key, k) == 0)
			break;
	if (i + k > len || i >= 64)
		return;
	for (i += k; i < len && line[i] != '"' && j + 1 < n; i++)
		out[j++] = line[i];
	out[j] = '\0';
}

static bool frequent_type(const char *type)
{
	return strcmp(type, "write") == 0 || strcmp(type, "read") == 0 || strcmp(type, "node") == 0 ||
	       strcmp(type, "lag") == 0 || strcmp(type, "connect") == 0;
}

/* event_observer_fn: copy and return, the writer holds the log's lock. */
static void observe_line(void *arg, const char *line, size_t len)
{
	struct live *l = arg;
	char type[24];

	line_type(line, len, type, sizeof(type));
	pthread_mutex_lock(&l->qm);
	if (l->qlen + len > l->qcap) {
		size_t cap = l->qcap ? l->qcap : 65536;

		while (cap < l->qlen + len)
			cap *= 2;
		l->q = xrealloc(l->q, cap);
		l->qcap = cap;
	}
	memcpy(l->q + l->qlen, line, len);
	l->qlen += len;
	if (!frequent_type(type)) {
		l->qurgent = true;
		pthread_cond_signal(&l->qcond);
	}
	pthread_mutex_unlock(&l->qm);
}

/* Append one preformatted server-sent message to this trial's timeline. Under m. */
static void push_msg(struct live *l, const char *event, const char *data, size_t len)
{
	size_t n = strlen(event) + len + 32;
	char *msg = xmalloc(n);

	/* One JSON line: no newline inside, so one data: field holds it. */
	str_format(msg, n, "event: %s\ndata: %.*s\n\n", event, (int)len, data);
	if (l->nmsgs == l->capmsgs) {
		l->capmsgs = l->capmsgs ? l->capmsgs * 2 : 64;
		l->msgs = xrealloc(l->msgs, l->capmsgs * sizeof(*l->msgs));
	}
	l->msgs[l->nmsgs++] = msg;
}

static void clear_trial(struct live *l)
{
	for (size_t i = 0; i < l->nmsgs; i++)
		free(l->msgs[i]);
	l->nmsgs = 0;
	free(l->bins);
	l->bins = NULL;
	l->nbins = 0;
	events_feed_free(l->feed);
	l->feed = NULL;
	events_free(&l->ev);
	l->nwrites_seen = l->nnodes_seen = l->nconnects_seen = 0;
	l->nnodes = 0;
	l->ndues = 0;
	l->next_step = -1;
	l->next_what[0] = '\0';
	l->waiting = false;
	memset(l->trial_writes, 0, sizeof(l->trial_writes));
}

/* The primary as the watcher's latest samples show it: the highest timeline among primaries. */
static bool update_primary(struct live *l, const struct node_event *n)
{
	int i, best = -1;
	char before[EVENT_NODE_LEN];

	for (i = 0; i < l->nnodes && strcmp(l->nodes[i].name, n->node) != 0; i++)
		;
	if (i == l->nnodes) {
		if (l->nnodes == LIVE_MAX_NODES)
			return false;
		str_copy(l->nodes[l->nnodes++].name, EVENT_NODE_LEN, n->node);
	}
	l->nodes[i].role = n->role;
	l->nodes[i].timeline = n->timeline;
	str_copy(before, sizeof(before), l->snap.primary);
	for (i = 0; i < l->nnodes; i++)
		if (l->nodes[i].role == NODE_PRIMARY && (best < 0 || l->nodes[i].timeline > l->nodes[best].timeline))
			best = i;
	str_copy(l->snap.primary, sizeof(l->snap.primary), best >= 0 ? l->nodes[best].name : "");
	l->snap.timeline = best >= 0 ? l->nodes[best].timeline : 0;
	return strcmp(before, l->snap.primary) != 0;
}

/* The per-second bin of t_us, grown as needed; NULL past eleven days (not drawn). */
static struct live_bin *bin_at(struct live *l, int64_t t_us)
{
	size_t b = t_us > 0 ? (size_t)(t_us / 1000000) : 0;

	if (b >= 1000000)
		return NULL;
	if (b >= l->nbins) {
		size_t n = b + 64;

		l->bins = xrealloc(l->bins, n * sizeof(*l->bins));
		memset(l->bins + l->nbins, 0, (n - l->nbins) * sizeof(*l->bins));
		l->nbins = n;
	}
	return &l->bins[b];
}

/* What the lines just fed added: per-second bins, primary changes. Under m. */
static void absorb(struct live *l)
{
	for (; l->nwrites_seen < l->ev.nwrites; l->nwrites_seen++) {
		const struct write_event *w = &l->ev.writes[l->nwrites_seen];
		struct live_bin *b = bin_at(l, w->end_us);

		l->trial_writes[w->outcome]++;
		if (!b)
			continue;
		if (metrics_acked(w->outcome))
			b->ok++;
		else
			b->err++;
	}
	/* A writer without a connection sends no write: its failed attempts are the errors. */
	for (; l->nconnects_seen < l->ev.nconnects; l->nconnects_seen++) {
		const struct connect_event *c = &l->ev.connects[l->nconnects_seen];
		struct live_bin *b = c->ok ? NULL : bin_at(l, c->end_us);

		if (b)
			b->err++;
	}
	for (; l->nnodes_seen < l->ev.nnodes; l->nnodes_seen++) {
		const struct node_event *n = &l->ev.nodes[l->nnodes_seen];

		if (update_primary(l, n)) {
			struct json_object *o = json_object_new_object();
			const char *data;

			json_object_object_add(o, "t", json_object_new_double((double)n->t_us / 1e6));
			json_object_object_add(o, "primary", json_object_new_string(l->snap.primary));
			json_object_object_add(o, "tli", json_object_new_int(l->snap.timeline));
			data = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
			push_msg(l, "primary", data, strlen(data));
			json_object_put(o);
		}
	}
}

/* The phase a phase line names (the reader keeps only when the workload started). */
static void phase_of(struct live *l, const char *line, size_t n)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)n), *v;

	json_tokener_free(tok);
	if (o && json_object_object_get_ex(o, "name", &v) && json_object_is_type(v, json_type_string))
		str_copy(l->snap.phase, sizeof(l->snap.phase), json_object_get_string(v));
	json_object_put(o);
}

/* Feed each whole line of buf to the reader; the timeline keeps the rare ones. Under m. */
static void feed_lines(struct live *l, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		char type[24];

		if (l->feed)
			events_feed_line(l->feed, buf + off, n);
		line_type(buf + off, n, type, sizeof(type));
		if (strcmp(type, "phase") == 0)
			phase_of(l, buf + off, n);
		if (type[0] && !frequent_type(type))
			push_msg(l, "ev", buf + off, n);
		off += n + 1;
		absorb(l);
	}
}

/* Everything the observer queued, in order. */
static void drain(struct live *l, bool force_snapshot)
{
	char *buf;
	size_t len;
	bool urgent;

	pthread_mutex_lock(&l->drain_lock);
	pthread_mutex_lock(&l->qm);
	buf = l->q;
	len = l->qlen;
	urgent = l->qurgent;
	l->q = NULL;
	l->qlen = l->qcap = 0;
	l->qurgent = false;
	pthread_mutex_unlock(&l->qm);
	pthread_mutex_lock(&l->m);
	if (len)
		feed_lines(l, buf, len);
	if (urgent || force_snapshot || mono_now_us() - l->snap_at_us >= SNAPSHOT_EVERY_US)
		live_snapshot(l);
	pthread_cond_broadcast(&l->changed);
	pthread_mutex_unlock(&l->m);
	pthread_mutex_unlock(&l->drain_lock);
	free(buf);
}

/*
 * Ask the pump thread for a drain and a fresh snapshot soon. The executor calls this, never
 * drain(): a snapshot recomputes the failover window over the whole log, and a revert due
 * meanwhile must not wait for it.
 */
static void poke(struct live *l)
{
	pthread_mutex_lock(&l->qm);
	l->qurgent = true;
	pthread_cond_signal(&l->qcond);
	pthread_mutex_unlock(&l->qm);
}

static void *pump_main(void *arg)
{
	struct live *l = arg;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&l->qm);
		if (!l->qurgent)
			timed_wait(&l->qcond, &l->qm, PUMP_WAIT_US);
		pthread_mutex_unlock(&l->qm);
		pthread_mutex_lock(&l->m);
		stop = l->stopping;
		pthread_mutex_unlock(&l->m);
		if (stop)
			return NULL;
		drain(l, false);
	}
}

struct live *live_start(const struct live_options *o)
{
	struct live *l = xcalloc(1, sizeof(*l));
	bool loopback;
	char why[256];
	int rc;

	if (!live_listen_check(o->listen, o->token && o->token[0], &loopback, why, sizeof(why))) {
		log_error("--serve: %s", why);
		free(l);
		return NULL;
	}
	l->step_mode = o->step;
	l->token = o->token && o->token[0] ? xstrdup(o->token) : NULL;
	l->run_dir = xstrdup(o->run_dir ? o->run_dir : ".");
	l->run_id = xstrdup(o->run_id ? o->run_id : "");
	l->abort = o->abort;
	l->run_dir_fd = -1;
	l->next_step = -1;
	str_copy(l->snap.phase, sizeof(l->snap.phase), "start");
	l->snap.next_step = -1;
	events_free(&l->ev);
	pthread_mutex_init(&l->qm, NULL);
	pthread_cond_init(&l->qcond, NULL);
	pthread_mutex_init(&l->drain_lock, NULL);
	pthread_mutex_init(&l->m, NULL);
	pthread_cond_init(&l->changed, NULL);
	l->snap_json = live_snapshot_json(l);
	rc = pthread_create(&l->pump, NULL, pump_main, l);
	if (rc != 0) {
		log_error("cannot start the live view: %s", strerror(rc));
		live_finish(l, NULL);
		return NULL;
	}
	l->pump_started = true;
	if (!live_http_start(l, o->listen)) {
		live_finish(l, NULL);
		return NULL;
	}
	return l;
}

int live_port(const struct live *l)
{
	return l ? l->port : 0;
}

void live_finish(struct live *l, const char *report)
{
	int64_t until;

	if (!l)
		return;
	drain(l, true);
	pthread_mutex_lock(&l->m);
	if (report)
		str_copy(l->report, sizeof(l->report), report);
	l->ended = true;
	l->next_step = -1;
	l->waiting = false;
	pthread_cond_broadcast(&l->changed);
	/*
	 * A page that watched (it may be reconnecting) loads the report before the server goes
	 * away: until one report file has been sent whole, at most 5 s.
	 */
	until = mono_now_us() + 5 * 1000000LL;
	while (report && l->mhd && l->sse_seen && !l->report_fetched && mono_now_us() < until)
		timed_wait(&l->changed, &l->m, 100 * 1000);
	l->stopping = true;
	pthread_cond_broadcast(&l->changed);
	pthread_mutex_unlock(&l->m);
	pthread_mutex_lock(&l->qm);
	pthread_cond_signal(&l->qcond);
	pthread_mutex_unlock(&l->qm);
	live_http_stop(l);
	if (l->pump_started)
		pthread_join(l->pump, NULL);
	clear_trial(l);
	free(l->msgs);
	free(l->q);
	free(l->snap_json);
	free(l->token);
	free(l->run_dir);
	free(l->run_id);
	pthread_mutex_destroy(&l->qm);
	pthread_cond_destroy(&l->qcond);
	pthread_mutex_destroy(&l->drain_lock);
	pthread_mutex_destroy(&l->m);
	pthread_cond_destroy(&l->changed);
	free(l);
}

void live_trial_begin(struct live *l, struct event_log *log, const char *scenario, int nsteps, int trial,
		      int trials, int64_t origin_mono_us)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->m);
	clear_trial(l);
	l->gen++;
	str_copy(l->scenario, sizeof(l->scenario), scenario);
	l->nsteps = nsteps;
	l->trial = trial;
	l->trials = trials;
	l->origin_mono_us = origin_mono_us;
	l->feed = events_feed_new(&l->ev, "live view");
	str_copy(l->snap.phase, sizeof(l->snap.phase), "start");
	l->snap.step = 0;
	l->snap.primary[0] = '\0';
	l->snap.timeline = 0;
	pthread_mutex_unlock(&l->m);
	event_log_observe(log, observe_line, l);
}

void live_trial_end(struct live *l, struct event_log *log)
{
	if (!l)
		return;
	event_log_observe(log, NULL, NULL);
	drain(l, true);
	pthread_mutex_lock(&l->m);
	for (int i = 0; i < 4; i++) {
		l->totals[i] += l->trial_writes[i];
		l->trial_writes[i] = 0;
	}
	memset(l->snap.writes, 0, sizeof(l->snap.writes));
	pthread_mutex_unlock(&l->m);
}

void live_next_step(struct live *l, int step, const char *what, int64_t due_mono_us)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->m);
	l->next_step = step;
	str_copy(l->next_what, sizeof(l->next_what), what ? what : "");
	l->next_due_mono_us = due_mono_us;
	if (step >= 0)
		l->snap.step = step + 1;
	pthread_mutex_unlock(&l->m);
	poke(l);
}

void live_revert_due(struct live *l, int step, int rep, int64_t due_mono_us)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->m);
	for (int i = 0; i < l->ndues; i++)
		if (l->dues[i].step == step && l->dues[i].rep == rep) {
			l->dues[i].due_mono_us = due_mono_us;
			pthread_mutex_unlock(&l->m);
			return;
		}
	if (l->ndues < LIVE_MAX_DUES)
		l->dues[l->ndues++] = (struct live_due){ step, rep, due_mono_us };
	pthread_mutex_unlock(&l->m);
}

void live_waiting(struct live *l, bool waiting)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->m);
	l->waiting = waiting;
	l->next_pressed = false;
	pthread_mutex_unlock(&l->m);
	poke(l);
}

bool live_take_next(struct live *l)
{
	bool pressed;

	if (!l)
		return false;
	pthread_mutex_lock(&l->m);
	pressed = l->next_pressed;
	l->next_pressed = false;
	pthread_mutex_unlock(&l->m);
	return pressed;
}
