/*
 * fuzz_k8s_response.c - what the Kubernetes API server answers, parsed as bise parses it:
 * watch streams, list pages, error statuses, Retry-After headers and CloudNativePG Cluster
 * status. The first byte picks the parser. The client's parsers are file-local, so the
 * client is compiled into this harness.
 */
#include "../../drivers/kubernetes/client.c"

#include "fuzz_common.h"
#include "kubernetes/cnpg.h"

static bool on_event(const char *type, json_object *obj, void *arg)
{
	int *n = arg;

	/* What every watcher does first: look at the type and the object's name. */
	(*n)++;
	return strlen(type) < 64 && (!obj || json_object_get_type(obj) != json_type_null);
}

static void watch(const uint8_t *data, size_t size)
{
	struct k8s_client c;
	struct watch_state ws;
	struct transfer t;
	int n = 0;

	memset(&c, 0, sizeof(c));
	memset(&ws, 0, sizeof(ws));
	memset(&t, 0, sizeof(t));
	ws.fn = on_event;
	ws.arg = &n;
	t.c = &c;
	t.ws = &ws;
	/* In chunks, as curl hands them over: lines are split anywhere. */
	for (size_t off = 0; off < size;) {
		size_t chunk = size - off < 7 ? size - off : 7;

		if (!buffer_add(&t.body, (const char *)data + off, chunk) || !watch_lines(&t))
			break;
		off += chunk;
	}
	free(t.body.data);
}

static void list(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), rv[128] = "", *next;
	json_object *page = json_tokener_parse(text), *items = json_object_new_array();

	next = list_page(page, items, rv, sizeof(rv));
	free(next);
	json_object_put(page);
	json_object_put(items);
	free(text);
}

static void status(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct k8s_client c;
	struct k8s_ref ref = { "thing", "ns", "name" };
	struct transfer t;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	t.retry_after_s = -1;
	http_error(&c, "GET", &ref, 500, text);
	on_header(text, 1, size, &t);
	c.backoff_us = 100000;
	c.backoff_max_us = 10000000;
	if (backoff(&c, 3, t.retry_after_s) > c.backoff_max_us)
		abort(); /* the cap on a server's Retry-After */
	free(text);
}

static void cnpg(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	json_object *o = json_tokener_parse(text);
	struct cnpg_status st;

	cnpg_status_parse(o, &st);
	json_object_put(o);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_QUIET);
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		watch(data + 1, size - 1);
		break;
	case 1:
		list(data + 1, size - 1);
		break;
	case 2:
		status(data + 1, size - 1);
		break;
	default:
		cnpg(data + 1, size - 1);
		break;
	}
	return 0;
}
