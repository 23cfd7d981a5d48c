/*
 * grafana_recorder.h - a stand-in for Grafana's annotation API, built from its documented
 * HTTP API (POST /api/annotations) since Grafana cannot be installed here: 127.0.0.1 on an
 * ephemeral port, one thread. It checks each request as the documentation describes it
 * and answers as Grafana does: 401 without the expected "Authorization: Bearer" (its
 * body repeating the header it got, as a careless proxy might), 404 for
 * another method or path, 400 for a body that is not the documented shape (time and
 * timeEnd integers in epoch ms with time < timeEnd, tags an array of strings, text a
 * string, optional dashboardUID string and panelId integer, no other key), else 200
 * {"message":"Annotation added","id":N}. Every request is recorded with its answer.
 */
#ifndef BISE_GRAFANA_RECORDER_H
#define BISE_GRAFANA_RECORDER_H

#include <pthread.h>
#include <stdbool.h>

#define RECORDER_MAX 64

struct recorded {
	char method[8];
	char target[512];
	char content_type[128];
	char authorization[512];
	char *body;
	int status;      /* what the recorder answered */
	char why[160];   /* why it refused, "" when accepted */
};

struct grafana_recorder {
	int fd;
	int port;
	pthread_t thread;
	volatile bool stop;
	pthread_mutex_t lock;
	char token[256]; /* the bearer token expected; "" accepts any request without one */
	int n;
	struct recorded req[RECORDER_MAX];
};

/* Listen on 127.0.0.1:0 and serve in a thread; false on failure. */
bool recorder_start(struct grafana_recorder *g, const char *token);

/* Stop, close, free the recorded bodies (read them before). */
void recorder_stop(struct grafana_recorder *g);

/* The documented shape of a create-annotation body; false with the reason in why. */
bool recorder_check_body(const char *body, char *why, size_t len);

#endif
