/*
 * k8s_schema.c - a small validator of objects against the schemas in the reference pack:
 * CRD openAPIV3Schema, Swagger 2.0 definitions (with $ref) and the JSON schema of a
 * Cozystack app. It checks types, required, properties, additionalProperties,
 * x-kubernetes-preserve-unknown-fields, int-or-string, enum, items, minimum, maximum,
 * pattern (POSIX ERE), anyOf and $ref. Test programs include it directly, after
 * k8s_fake_server.c (for reference_path).
 */
#include "kubernetes/yamljson.h"

#include <regex.h>

static json_object *schema_root; /* what "#/definitions/X" refers into */

static bool schema_type_ok(json_object *v, const char *type)
{
	if (strcmp(type, "object") == 0)
		return json_object_is_type(v, json_type_object);
	if (strcmp(type, "array") == 0)
		return json_object_is_type(v, json_type_array);
	if (strcmp(type, "string") == 0)
		return json_object_is_type(v, json_type_string);
	if (strcmp(type, "integer") == 0)
		return json_object_is_type(v, json_type_int);
	if (strcmp(type, "number") == 0)
		return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
	if (strcmp(type, "boolean") == 0)
		return json_object_is_type(v, json_type_boolean);
	return false;
}

static void schema_err(char *errs, size_t len, const char *path, const char *msg)
{
	size_t n = strlen(errs);

	str_format(errs + n, len - n, "%s: %s\n", path[0] ? path : "<root>", msg);
}

static bool schema_pattern_ok(const char *pattern, const char *s)
{
	regex_t re;
	char ere[1024];
	size_t n = 0;
	bool ok;

	/* The schemas use RE2 (Go) syntax: \d is the one class ERE lacks that they use. */
	for (const char *p = pattern; *p && n + 6 < sizeof(ere); p++) {
		if (p[0] == '\\' && p[1] == 'd') {
			memcpy(ere + n, "[0-9]", 5);
			n += 5;
			p++;
		} else {
			ere[n++] = *p;
		}
	}
	ere[n] = '\0';
	if (regcomp(&re, ere, REG_EXTENDED | REG_NOSUB) != 0)
		return true; /* a pattern ERE cannot read is not checked */
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static int schema_validate(json_object *schema, json_object *v, const char *path, char *errs, size_t len)
{
	json_object *t, *x, *props, *addl, *req, *items, *en, *lim, *any;
	int bad = 0;

	if (json_object_object_get_ex(schema, "$ref", &x)) {
		const char *ref = json_object_get_string(x);
		json_object *defs, *target;

		if (strncmp(ref, "#/definitions/", 14) != 0 || !schema_root ||
		    !json_object_object_get_ex(schema_root, "definitions", &defs) ||
		    !json_object_object_get_ex(defs, ref + 14, &target)) {
			schema_err(errs, len, path, "unresolvable $ref");
			return 1;
		}
		return schema_validate(target, v, path, errs, len);
	}
	/* CRDs say x-kubernetes-int-or-string; Swagger 2.0 says type string, format int-or-string. */
	if ((json_object_object_get_ex(schema, "x-kubernetes-int-or-string", &x) && json_object_get_boolean(x)) ||
	    (json_object_object_get_ex(schema, "format", &x) &&
	     strcmp(json_object_get_string(x), "int-or-string") == 0)) {
		if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_string)) {
			schema_err(errs, len, path, "wants an integer or a string");
			return 1;
		}
		if (json_object_is_type(v, json_type_int))
			return 0; /* the pattern and type below are the string form's */
	} else if (json_object_object_get_ex(schema, "anyOf", &any)) {
		bool one = false;

		for (size_t i = 0; i < json_object_array_length(any) && !one; i++) {
			char sub[1024] = "";

			one = schema_validate(json_object_array_get_idx(any, i), v, path, sub, sizeof(sub)) == 0;
		}
		if (!one) {
			schema_err(errs, len, path, "matches none of anyOf");
			return 1;
		}
	}
	if (json_object_object_get_ex(schema, "type", &t) && json_object_is_type(t, json_type_string) &&
	    !schema_type_ok(v, json_object_get_string(t))) {
		char m[64];

		str_format(m, sizeof(m), "wants type %s", json_object_get_string(t));
		schema_err(errs, len, path, m);
		return 1;
	}
	if (json_object_object_get_ex(schema, "enum", &en)) {
		bool found = false;

		for (size_t i = 0; i < json_object_array_length(en) && !found; i++)
			found = json_object_equal(json_object_array_get_idx(en, i), v);
		if (!found) {
			schema_err(errs, len, path, "not one of the enum values");
			bad++;
		}
	}
	if (json_object_is_type(v, json_type_int) && json_object_object_get_ex(schema, "minimum", &lim) &&
	    json_object_get_double(v) < json_object_get_double(lim)) {
		schema_err(errs, len, path, "below the minimum");
		bad++;
	}
	if (json_object_is_type(v, json_type_int) && json_object_object_get_ex(schema, "maximum", &lim) &&
	    json_object_get_double(v) > json_object_get_double(lim)) {
		schema_err(errs, len, path, "above the maximum");
		bad++;
	}
	if (json_object_is_type(v, json_type_string) && json_object_object_get_ex(schema, "pattern", &lim) &&
	    !schema_pattern_ok(json_object_get_string(lim), json_object_get_string(v))) {
		schema_err(errs, len, path, "does not match the pattern");
		bad++;
	}
	if (json_object_is_type(v, json_type_array) && json_object_object_get_ex(schema, "items", &items)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			char p[512];

			str_format(p, sizeof(p), "%s[%zu]", path, i);
			bad += schema_validate(items, json_object_array_get_idx(v, i), p, errs, len);
		}
	}
	if (!json_object_is_type(v, json_type_object))
		return bad;
	if (json_object_object_get_ex(schema, "required", &req))
		for (size_t i = 0; i < json_object_array_length(req); i++) {
			const char *k = json_object_get_string(json_object_array_get_idx(req, i));

			if (!json_object_object_get_ex(v, k, NULL)) {
				char p[512];

				str_format(p, sizeof(p), "%s.%s", path, k);
				schema_err(errs, len, p, "required");
				bad++;
			}
		}
	bool has_props = json_object_object_get_ex(schema, "properties", &props);
	bool has_addl = json_object_object_get_ex(schema, "additionalProperties", &addl);
	bool preserve = json_object_object_get_ex(schema, "x-kubernetes-preserve-unknown-fields", &x) &&
			json_object_get_boolean(x);

	json_object_object_foreach(v, key, val) {
		json_object *sub;
		char p[512];

		str_format(p, sizeof(p), "%s.%s", path, key);
		if (has_props && json_object_object_get_ex(props, key, &sub))
			bad += schema_validate(sub, val, p, errs, len);
		else if (has_addl && json_object_is_type(addl, json_type_object))
			bad += schema_validate(addl, val, p, errs, len);
		else if (preserve || (has_addl && json_object_get_boolean(addl)) || (!has_props && !has_addl))
			continue; /* free-form (metadata of a CRD is checked by the API server itself) */
		else {
			schema_err(errs, len, p, "unknown field");
			bad++;
		}
	}
	return bad;
}

/* The openAPIV3Schema of version in a CRD. */
static json_object *schema_of_crd(json_object *crd, const char *version)
{
	json_object *versions, *s;

	if (!json_object_object_get_ex(crd, "spec", &s) || !json_object_object_get_ex(s, "versions", &versions))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(versions); i++) {
		json_object *ver = json_object_array_get_idx(versions, i), *n, *sc, *o;

		if (json_object_object_get_ex(ver, "name", &n) && strcmp(json_object_get_string(n), version) == 0 &&
		    json_object_object_get_ex(ver, "schema", &sc) &&
		    json_object_object_get_ex(sc, "openAPIV3Schema", &o))
			return o;
	}
	return NULL;
}

/* Load a reference file (YAML or JSON) by its path in the pack. */
/* Included by several test programs, each using part of it. */
__attribute__((unused)) static json_object *schema_load(const char *rel)
{
	char *path = reference_path(rel);
	json_object *o = yaml_file_to_json(path);

	free(path);
	return o;
}

/* Validate obj; print what is wrong (tests show it on failure); the count of errors. */
__attribute__((unused)) static int schema_check(json_object *schema, json_object *obj, const char *what)
{
	char errs[8192] = "";
	int bad = schema_validate(schema, obj, "", errs, sizeof(errs));

	if (bad)
		fprintf(stderr, "\n%s:\n%s", what, errs);
	return bad;
}
