/*
 * yamljson.h - a YAML document (kubeconfig, CRD) as a json-c tree, so the Kubernetes code
 * reads YAML and JSON through one API.
 */
#ifndef BISE_K8S_YAMLJSON_H
#define BISE_K8S_YAMLJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/*
 * Parse the first YAML document of text into a json-c tree (caller puts it). Plain
 * scalars become booleans, integers, numbers or null as YAML 1.1 core types say; quoted
 * ones stay strings. Aliases become null. NULL on a syntax error, logged with its line;
 * what names the source in that message.
 */
json_object *yaml_to_json(const char *text, size_t len, const char *what);

/* Read and parse a YAML (or JSON) file; NULL when unreadable or invalid, logged. */
json_object *yaml_file_to_json(const char *path);

#endif
