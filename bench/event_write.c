/*
 * event_write.c - the cost of logging one write event, as the workload's writer threads
 * do: the typed writer (event_write_write) against building the same event as json-c
 * objects and appending it (event_log_append, how events were written before the typed
 * writers). Both produce the same bytes; this checks that too.
 *
 * Usage: build/bench_event_write [FILE [THREADS [EVENTS_PER_THREAD]]]
 * (default /tmp/bise-bench-events.jsonl, 4 threads, 200000 events each). It prints wall
 * and CPU microseconds per event for each path; put FILE on tmpfs to leave the disk out.
 */
#include "event.h"
#include "event_raw.h"
#include "util.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

struct bench {
	struct event_log *log;
	bool typed;
	int per_thread;
};

struct worker {
	struct bench *b;
	int id;
};

/* The event as workload_writer.c built it before the typed writers. */
static void append_json(struct event_log *log, int w, int64_t seq, int64_t t0, int64_t t1)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ev", json_object_new_string("write"));
	json_object_object_add(o, "w", json_object_new_int(w));
	json_object_object_add(o, "seq", json_object_new_int64(seq));
	json_object_object_add(o, "t0", event_time_new(event_log_rel_us(log, t0)));
	json_object_object_add(o, "out", json_object_new_string(write_outcome_name(WRITE_OK)));
	json_object_object_add(o, "node", json_object_new_string("lucerne"));
	event_log_append(log, t1, o);
}

static void *run(void *arg)
{
	struct worker *wk = arg;
	struct bench *b = wk->b;

	for (int64_t seq = 1; seq <= b->per_thread; seq++) {
		/* Fixed times keep the two paths' lines identical for the comparison below. */
		int64_t t0 = 1000000 + seq * 10, t1 = t0 + 5;

		if (b->typed)
			event_write_write(b->log, t0, t1, wk->id, seq, WRITE_OK, "lucerne", NULL, NULL);
		else
			append_json(b->log, wk->id, seq, t0, t1);
	}
	return NULL;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run of a path into path; false when the log cannot be written. */
static bool measure(const char *path, bool typed, int threads, int per_thread)
{
	struct bench b = { .typed = typed, .per_thread = per_thread };
	struct worker wk[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	double n = (double)threads * per_thread, cpu0;
	int64_t wall0, wall;

	unlink(path);
	b.log = event_log_open(path, 0);
	if (!b.log)
		return false;
	wall0 = mono_now_us();
	cpu0 = cpu_seconds();
	for (int i = 0; i < threads; i++) {
		wk[i].b = &b;
		wk[i].id = i;
		pthread_create(&th[i], NULL, run, &wk[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	wall = mono_now_us() - wall0;
	printf("%-6s %d threads x %d: %7.0f events/s, wall %.3f us/event, cpu %.3f us/event\n",
	       typed ? "typed" : "json-c", threads, per_thread, n / ((double)wall / 1e6), (double)wall / n,
	       (cpu_seconds() - cpu0) * 1e6 / n);
	event_log_close(b.log);
	return true;
}

/* The first line both paths write for writer 0 must be the same bytes. */
static bool same_bytes(const char *path)
{
	char typed[256], json[256];
	FILE *f;

	for (int k = 0; k < 2; k++) {
		struct bench b = { .typed = k == 0, .per_thread = 1 };
		struct worker wk = { .b = &b, .id = 0 };

		unlink(path);
		b.log = event_log_open(path, 0);
		if (!b.log)
			return false;
		run(&wk);
		event_log_close(b.log);
		f = fopen(path, "re");
		if (!f || !fgets(k == 0 ? typed : json, sizeof(typed), f)) {
			if (f)
				fclose(f);
			return false;
		}
		fclose(f);
	}
	if (strcmp(typed, json) != 0) {
		fprintf(stderr, "lines differ:\n%s%s", typed, json);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/bise-bench-events.jsonl";
	int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 4;
	int per_thread = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 200000;
	bool ok;

	if (threads < 1 || threads > MAX_THREADS || per_thread < 1) {
		fprintf(stderr, "usage: %s [FILE [THREADS (1-%d) [EVENTS_PER_THREAD]]]\n", argv[0], MAX_THREADS);
		return 2;
	}
	ok = same_bytes(path) && measure(path, false, threads, per_thread) && measure(path, true, threads, per_thread);
	unlink(path);
	return ok ? 0 : 1;
}
