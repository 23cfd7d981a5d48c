/* grafana_recorder.c - see grafana_recorder.h. One connection at a time, closed after each answer. */
#include "grafana_recorder.h"

#include "util.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Epoch milliseconds after 2001-09-09 and before 2286: seconds or microseconds fall outside. */
static bool epoch_ms(json_object *v)
{
	int64_t ms;

	if (!json_object_is_type(v, json_type_int))
		return false;
	ms = json_object_get_int64(v);
	return ms >= 1000000000000LL && ms < 10000000000000LL;
}

bool recorder_check_body(const char *body, char *why, size_t len)
{
	static const char *const known[] = { "dashboardUID", "panelId", "time", "timeEnd", "tags", "text", NULL };
	json_object *o = json_tokener_parse(body), *time, *end, *tags, *text, *v;
	bool ok = false;

	why[0] = '\0';
	if (!o || !json_object_is_type(o, json_type_object)) {
		str_copy(why, len, "the body is not a JSON object");
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		bool found = false;

		(void)val;
		for (int i = 0; known[i]; i++)
			found |= strcmp(known[i], key) == 0;
		if (!found) {
			str_format(why, len, "unknown key \"%s\"", key);
			goto out;
		}
	}
	if (!json_object_object_get_ex(o, "time", &time) || !epoch_ms(time) ||
	    !json_object_object_get_ex(o, "timeEnd", &end) || !epoch_ms(end)) {
		str_copy(why, len, "time and timeEnd must be integers in epoch milliseconds");
		goto out;
	}
	if (json_object_get_int64(time) >= json_object_get_int64(end)) {
		str_copy(why, len, "a region wants time < timeEnd");
		goto out;
	}
	if (!json_object_object_get_ex(o, "tags", &tags) || !json_object_is_type(tags, json_type_array)) {
		str_copy(why, len, "tags must be an array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(tags); i++)
		if (!json_object_is_type(json_object_array_get_idx(tags, i), json_type_string)) {
			str_copy(why, len, "tags must be strings");
			goto out;
		}
	if (!json_object_object_get_ex(o, "text", &text) || !json_object_is_type(text, json_type_string) ||
	    !json_object_get_string_len(text)) {
		str_copy(why, len, "text is required");
		goto out;
	}
	if (json_object_object_get_ex(o, "dashboardUID", &v) && !json_object_is_type(v, json_type_string)) {
		str_copy(why, len, "dashboardUID must be a string");
		goto out;
	}
	if (json_object_object_get_ex(o, "panelId", &v) && !json_object_is_type(v, json_type_int)) {
		str_copy(why, len, "panelId must be an integer");
		goto out;
	}
	ok = true;
out:
	json_object_put(o);
	return ok;
}

static void answer(int fd, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, status == 200 ? "OK" : "Error", strlen(body));

	if (write(fd, head, (size_t)n) != n || write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		return;
}

/* Read one request (headers, then a Content-Length body), check it, answer, record it. */
static void serve(struct grafana_recorder *g, int fd)
{
	char buf[65536], *hend, *line, *save = NULL, msg[256];
	size_t used = 0, body_len = 0, have;
	struct recorded rq;

	memset(&rq, 0, sizeof(rq));
	for (;;) {
		ssize_t r = read(fd, buf + used, sizeof(buf) - used - 1);

		if (r <= 0)
			return;
		used += (size_t)r;
		buf[used] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")))
			break;
		if (used >= sizeof(buf) - 1)
			return;
	}
	*hend = '\0';
	for (line = strtok_r(buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!rq.method[0]) {
			char *sp = strchr(line, ' '), *sp2 = sp ? strchr(sp + 1, ' ') : NULL;

			if (!sp || !sp2)
				return;
			*sp = *sp2 = '\0';
			str_copy(rq.method, sizeof(rq.method), line);
			str_copy(rq.target, sizeof(rq.target), sp + 1);
		} else if (strncasecmp(line, "Authorization: ", 15) == 0) {
			str_copy(rq.authorization, sizeof(rq.authorization), line + 15);
		} else if (strncasecmp(line, "Content-Type: ", 14) == 0) {
			str_copy(rq.content_type, sizeof(rq.content_type), line + 14);
		} else if (strncasecmp(line, "Content-Length: ", 16) == 0) {
			body_len = strtoul(line + 16, NULL, 10);
		}
	}
	if (body_len > 1 << 20)
		return;
	rq.body = xcalloc(1, body_len + 1);
	have = used - (size_t)(hend + 4 - buf);
	if (have > body_len)
		have = body_len;
	memcpy(rq.body, hend + 4, have);
	while (have < body_len) {
		ssize_t r = read(fd, rq.body + have, body_len - have);

		if (r <= 0)
			break;
		have += (size_t)r;
	}
	str_format(msg, sizeof(msg), "Bearer %s", g->token);
	if (g->token[0] && strcmp(rq.authorization, msg) != 0) {
		rq.status = 401;
		str_copy(rq.why, sizeof(rq.why), "no or another bearer token");
	} else if (strcmp(rq.method, "POST") != 0 || strcmp(rq.target, "/api/annotations") != 0) {
		rq.status = 404;
		str_copy(rq.why, sizeof(rq.why), "not POST /api/annotations");
	} else if (strncasecmp(rq.content_type, "application/json", 16) != 0) {
		rq.status = 400;
		str_copy(rq.why, sizeof(rq.why), "Content-Type is not application/json");
	} else if (!recorder_check_body(rq.body, rq.why, sizeof(rq.why))) {
		rq.status = 400;
	} else {
		rq.status = 200;
	}
	pthread_mutex_lock(&g->lock);
	if (rq.status == 200)
		str_format(msg, sizeof(msg), "{\"message\":\"Annotation added\",\"id\":%d}", g->n + 1);
	else if (rq.status == 401) /* as a careless proxy might: what it was sent, repeated */
		str_format(msg, sizeof(msg), "{\"message\":\"Unauthorized: %s\"}", rq.authorization);
	else
		str_format(msg, sizeof(msg), "{\"message\":\"%s\"}", rq.why);
	if (g->n < RECORDER_MAX)
		g->req[g->n++] = rq;
	else
		free(rq.body);
	pthread_mutex_unlock(&g->lock);
	answer(fd, rq.status, msg);
}

static void *run(void *arg)
{
	struct grafana_recorder *g = arg;

	while (!g->stop) {
		struct pollfd p = { .fd = g->fd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(g->fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(g, fd);
		close(fd);
	}
	return NULL;
}

bool recorder_start(struct grafana_recorder *g, const char *token)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	str_copy(g->token, sizeof(g->token), token ? token : "");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(g->fd, 16) != 0 ||
	    getsockname(g->fd, (struct sockaddr *)&a, &alen) != 0)
		return false;
	g->port = ntohs(a.sin_port);
	return pthread_create(&g->thread, NULL, run, g) == 0;
}

void recorder_stop(struct grafana_recorder *g)
{
	g->stop = true;
	pthread_join(g->thread, NULL);
	close(g->fd);
	for (int i = 0; i < g->n; i++)
		free(g->req[i].body);
	pthread_mutex_destroy(&g->lock);
}
