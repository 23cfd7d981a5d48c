/* yamljson.c - YAML to json-c through libyaml's event parser. */
#include "yamljson.h"

#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
/* Kubeconfigs and CRDs are kilobytes; a bigger input is not one of them. */
#define YAML_MAX_BYTES (16u << 20)

/* Plain scalars carry YAML's implicit types; kubeconfigs rely on booleans and integers. */
static json_object *scalar_to_json(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	char *end;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_object_new_string_len(v, (int)len);
	if (len == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0)
		return NULL;
	if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
		return json_object_new_boolean(1);
	if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
		return json_object_new_boolean(0);
	if ((v[0] >= '0' && v[0] <= '9') || ((v[0] == '-' || v[0] == '+') && len > 1)) {
		long long n;
		double d;

		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_object_new_int64(n);
		errno = 0;
		d = strtod(v, &end);
		if (errno == 0 && *end == '\0')
			return json_object_new_double(d);
	}
	return json_object_new_string_len(v, (int)len);
}

/* Attach child to the container on top of the stack (under the pending key of a map). */
static void attach(json_object **stack, char **keys, int depth, json_object *child)
{
	json_object *top = stack[depth - 1];

	if (json_object_is_type(top, json_type_array)) {
		json_object_array_add(top, child);
		return;
	}
	if (keys[depth - 1]) {
		json_object_object_add(top, keys[depth - 1], child);
		free(keys[depth - 1]);
		keys[depth - 1] = NULL;
		return;
	}
	/* A map key: only scalars are meaningful as keys here. */
	keys[depth - 1] = xstrdup(child ? json_object_get_string(child) : "");
	json_object_put(child);
}

json_object *yaml_to_json(const char *text, size_t len, const char *what)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	json_object *stack[YAML_MAX_DEPTH], *root = NULL;
	char *keys[YAML_MAX_DEPTH];
	int depth = 0;
	bool done = false, ok = true;

	memset(keys, 0, sizeof(keys));
	if (len > YAML_MAX_BYTES) {
		log_error("%s: %zu bytes, more than the %u a YAML document may have here", what, len,
			  YAML_MAX_BYTES);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		log_error("%s: cannot initialise the YAML parser", what);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		json_object *node = NULL;
		bool open = false;

		if (!yaml_parser_parse(&parser, &ev)) {
			log_error("%s:%zu: invalid YAML: %s", what, parser.problem_mark.line + 1,
				  parser.problem ? parser.problem : "syntax error");
			ok = false;
			break;
		}
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
			node = scalar_to_json(&ev);
			break;
		case YAML_ALIAS_EVENT:
			node = NULL;
			break;
		case YAML_SEQUENCE_START_EVENT:
			node = json_object_new_array();
			open = true;
			break;
		case YAML_MAPPING_START_EVENT:
			node = json_object_new_object();
			open = true;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			free(keys[depth]);
			keys[depth] = NULL;
			if (depth == 0)
				done = true;
			yaml_event_delete(&ev);
			continue;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT:
			done = true;
			yaml_event_delete(&ev);
			continue;
		default:
			yaml_event_delete(&ev);
			continue;
		}
		yaml_event_delete(&ev);
		/* Only scalars are meaningful as keys: a sequence or mapping there is refused. */
		if (open && depth > 0 && json_object_is_type(stack[depth - 1], json_type_object) &&
		    !keys[depth - 1]) {
			log_error("%s:%zu: a mapping key that is not a scalar", what, parser.mark.line + 1);
			json_object_put(node);
			ok = false;
			break;
		}
		if (depth == 0) {
			root = node;
			if (!open)
				done = true;
		} else {
			attach(stack, keys, depth, node);
		}
		if (open) {
			if (depth == YAML_MAX_DEPTH) {
				log_error("%s: YAML nested deeper than %d levels", what, YAML_MAX_DEPTH);
				ok = false;
				break;
			}
			stack[depth++] = node;
		}
	}
	for (int i = 0; i < YAML_MAX_DEPTH; i++)
		free(keys[i]);
	yaml_parser_delete(&parser);
	if (!ok) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

json_object *yaml_file_to_json(const char *path)
{
	size_t len;
	char *text = file_read_all(path, &len);
	json_object *o;

	if (!text) {
		log_error("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	o = yaml_to_json(text, len, path);
	free(text);
	return o;
}
