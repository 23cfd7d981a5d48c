/* synthetic_log.c - synthetic event logs for the metrics tests (see synthetic_log.h). */
#include "synthetic_log.h"

#include "util.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <unistd.h>

static char path[96];
static struct event_log *log_;

int synth_suite_init(const char *prefix)
{
	int fd;

	log_set_level(LOG_QUIET);
	if (!str_format(path, sizeof(path), "/tmp/%s-XXXXXX", prefix))
		return 1;
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}

int synth_suite_clean(void)
{
	if (log_)
		event_log_close(log_);
	log_ = NULL;
	unlink(path);
	return 0;
}

void synth_begin(void)
{
	if (log_)
		event_log_close(log_); /* a test that stopped at a fatal assertion */
	unlink(path);
	log_ = event_log_open(path, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log_);
}

json_object *synth_event(const char *type)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ev", json_object_new_string(type));
	return o;
}

void synth_emit(int64_t t_us, json_object *o)
{
	CU_ASSERT(event_log_append(log_, t_us, o));
}

json_object *synth_write(int w, int64_t seq, int64_t t0_us, enum write_outcome out, const char *node)
{
	json_object *o = synth_event("write");

	json_object_object_add(o, "w", json_object_new_int(w));
	json_object_object_add(o, "seq", json_object_new_int64(seq));
	json_object_object_add(o, "t0", event_time_new(t0_us));
	json_object_object_add(o, "out", json_object_new_string(write_outcome_name(out)));
	json_object_object_add(o, "node", json_object_new_string(node));
	return o;
}

json_object *synth_connect(int w, int64_t t0_us, bool ok, const char *node, int64_t acc_us)
{
	json_object *o = synth_event("connect");

	json_object_object_add(o, "w", json_object_new_int(w));
	json_object_object_add(o, "t0", event_time_new(t0_us));
	json_object_object_add(o, "out", json_object_new_string(ok ? "ok" : "fail"));
	if (node && node[0])
		json_object_object_add(o, "node", json_object_new_string(node));
	if (acc_us >= 0)
		json_object_object_add(o, "acc", event_time_new(acc_us));
	return o;
}

json_object *synth_node(const char *name, enum node_role role, int tli)
{
	json_object *o = synth_event("node");

	json_object_object_add(o, "node", json_object_new_string(name));
	json_object_object_add(o, "role", json_object_new_string(node_role_name(role)));
	json_object_object_add(o, "tli", json_object_new_int(tli));
	return o;
}

json_object *synth_pairs(const int64_t *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_new_array();

		json_object_array_add(p, json_object_new_int64(v[2 * i]));
		json_object_array_add(p, json_object_new_int64(v[2 * i + 1]));
		json_object_array_add(a, p);
	}
	return a;
}

const char *synth_path(void)
{
	return path;
}

bool synth_load(struct events *ev)
{
	event_log_close(log_);
	log_ = NULL;
	return events_load(path, ev);
}

void synth_finish(struct metrics *m)
{
	struct events ev;

	CU_ASSERT_FATAL(synth_load(&ev));
	metrics_compute(&ev, m);
	events_free(&ev);
}

json_object *synth_fault(const char *action, const char *fault, const char *node, int step)
{
	json_object *o = synth_event("fault");

	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "fault", json_object_new_string(fault));
	json_object_object_add(o, "target", json_object_new_string("primary"));
	json_object_object_add(o, "node", json_object_new_string(node));
	json_object_object_add(o, "step", json_object_new_int(step));
	return o;
}

void synth_time(json_object *o, const char *key, int64_t t_us)
{
	json_object_object_add(o, key, json_object_new_double((double)t_us / 1e6));
}
