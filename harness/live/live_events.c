/*
 * live_events.c - GET /events: the live page's server-sent events. Each connection keeps
 * its place in the trial's messages (the timeline's rare events, primary changes), in the
 * per-second write counts and in the snapshot's sequence, and is sent what it has not had
 * yet; a new trial starts it afresh ("trial"), the end of the run says which report to
 * load ("end"). A comment every 5 s keeps an idle stream open.
 */
#include "live_http.h"
#include "live_state.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SSE_KEEPALIVE_US (5 * 1000000LL)

struct sse {
	struct live *l;
	int gen;
	size_t msg_pos, bin_pos;
	uint64_t seq;
	bool end_sent;
	char *out;
	size_t len, off;
	int64_t last_us;
};

static void out_add(struct sse *s, const char *data, size_t n)
{
	s->out = xrealloc(s->out, s->len + n + 1);
	memcpy(s->out + s->len, data, n);
	s->len += n;
	s->out[s->len] = '\0';
}

static void out_str(struct sse *s, const char *data)
{
	out_add(s, data, strlen(data));
}

/* The per-second write counts this client has not had: one "bins" message. Under m. */
static void add_bins(struct sse *s)
{
	struct live *l = s->l;
	/* Only whole seconds, so a bin is never sent twice with different counts. */
	size_t upto = l->snap.t_s > 1 ? (size_t)l->snap.t_s : 0;
	char item[48];

	if (upto > l->nbins)
		upto = l->nbins;
	if (s->bin_pos >= upto)
		return;
	str_format(item, sizeof(item), "event: bins\ndata: {\"from\":%zu,\"bins\":[", s->bin_pos);
	out_str(s, item);
	for (size_t i = s->bin_pos; i < upto; i++) {
		str_format(item, sizeof(item), "%s[%d,%d]", i > s->bin_pos ? "," : "", l->bins[i].ok, l->bins[i].err);
		out_str(s, item);
	}
	out_str(s, "]}\n\n");
	s->bin_pos = upto;
}

/* What this client has not seen yet, appended to s->out. Under m. */
static void collect(struct sse *s)
{
	struct live *l = s->l;

	if (s->gen != l->gen) {
		s->gen = l->gen;
		s->msg_pos = s->bin_pos = 0;
		/* A page that lost the stream is back within a second (it must not miss "end"). */
		out_str(s, "retry: 1000\nevent: trial\ndata: {}\n\n");
	}
	for (; s->msg_pos < l->nmsgs; s->msg_pos++)
		out_str(s, l->msgs[s->msg_pos]);
	add_bins(s);
	if (s->seq != l->snap_seq && l->snap_json) {
		s->seq = l->snap_seq;
		out_str(s, "event: state\ndata: ");
		out_str(s, l->snap_json);
		out_str(s, "\n\n");
	}
	if (l->ended && !s->end_sent) {
		char buf[700];

		s->end_sent = true;
		/* The report's path is ours (scenario names are [a-z0-9-]): no quoting needed. */
		str_format(buf, sizeof(buf), "event: end\ndata: {\"report\":\"%s%s\"}\n\n", l->report[0] ? "/run/" : "",
			   l->report);
		out_str(s, buf);
	}
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	struct live *l = s->l;
	size_t n;

	if (s->off == s->len) {
		s->off = s->len = 0;
		pthread_mutex_lock(&l->m);
		for (;;) {
			collect(s);
			if (s->len > 0)
				break;
			if (l->stopping) {
				pthread_mutex_unlock(&l->m);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			if (mono_now_us() - s->last_us >= SSE_KEEPALIVE_US) {
				out_str(s, ": keep-alive\n\n");
				break;
			}
			{
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += 1;
				pthread_cond_timedwait(&l->changed, &l->m, &ts);
			}
		}
		pthread_mutex_unlock(&l->m);
		s->last_us = mono_now_us();
	}
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->out + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *s = cls;

	pthread_mutex_lock(&s->l->m);
	s->l->sse_clients--;
	pthread_cond_broadcast(&s->l->changed);
	pthread_mutex_unlock(&s->l->m);
	free(s->out);
	free(s);
}

enum MHD_Result live_events_stream(struct live *l, struct MHD_Connection *c)
{
	struct sse *s = xcalloc(1, sizeof(*s));
	struct MHD_Response *r;
	enum MHD_Result ret;

	s->l = l;
	s->gen = -1;
	s->last_us = mono_now_us();
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
	if (!r) {
		free(s);
		return MHD_NO;
	}
	pthread_mutex_lock(&l->m);
	l->sse_clients++;
	l->sse_seen = true;
	pthread_mutex_unlock(&l->m);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
