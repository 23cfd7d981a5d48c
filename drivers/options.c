/* options.c - a backend's declared options: set, resolved (given, environment, default), listed. */
#include "driver.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void driver_options_init(struct driver_options *o, const struct driver_ops *ops)
{
	memset(o, 0, sizeof(*o));
	o->table = ops ? ops->options : NULL;
}

const struct driver_option *driver_option_find(const struct driver_option *table, const char *name)
{
	for (int i = 0; table && table[i].name; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

bool driver_options_set(struct driver_options *o, const char *name, const char *value, char *why,
			size_t why_len)
{
	const struct driver_option *opt = driver_option_find(o->table, name);
	size_t len = strlen(value) + 1;
	int i;

	if (!opt) {
		str_format(why, why_len, "no option --%s", name);
		return false;
	}
	i = (int)(opt - o->table);
	if (i >= DRIVER_MAX_OPTIONS || len > sizeof(o->buf) - o->used) {
		str_format(why, why_len, "--%s: too many or too long option values", name);
		return false;
	}
	memcpy(o->buf + o->used, value, len);
	o->at[i] = (int)o->used + 1;
	o->used += len;
	return true;
}

const char *driver_option(const struct driver_options *o, const char *name)
{
	const struct driver_option *opt = o ? driver_option_find(o->table, name) : NULL;
	const char *env;
	int i;

	if (!opt)
		return NULL;
	i = (int)(opt - o->table);
	if (i < DRIVER_MAX_OPTIONS && o->at[i])
		return o->buf + o->at[i] - 1;
	env = opt->env ? getenv(opt->env) : NULL;
	return env && *env ? env : opt->def;
}

bool driver_option_flag(const struct driver_options *o, const char *name)
{
	const char *v = driver_option(o, name);

	return v && strcmp(v, "1") == 0;
}

bool driver_options_from_target(struct driver_options *o, const char *target, char *why, size_t why_len)
{
	json_object *t = json_tokener_parse(target);
	bool ok = true;

	if (!t || !json_object_is_type(t, json_type_object)) {
		str_format(why, why_len, "the journal's target is not what bise writes: %s", target);
		json_object_put(t);
		return false;
	}
	json_object_object_foreach(t, key, v) {
		if (!json_object_is_type(v, json_type_string)) {
			str_format(why, why_len, "the journal's target is not what bise writes: %s", target);
			ok = false;
			break;
		}
		if (!driver_option_find(o->table, key))
			continue;
		if (!driver_options_set(o, key, json_object_get_string(v), why, why_len)) {
			ok = false;
			break;
		}
	}
	json_object_put(t);
	return ok;
}

void driver_options_help(const struct driver_ops *ops, FILE *out, int indent)
{
	for (int i = 0; ops->options && ops->options[i].name; i++) {
		const struct driver_option *opt = &ops->options[i];
		char flag[64];

		str_format(flag, sizeof(flag), "--%s%s%s", opt->name, opt->arg ? " " : "", opt->arg ? opt->arg : "");
		fprintf(out, "%*s%-24s %s", indent, "", flag, opt->help);
		if (opt->def || opt->env)
			fprintf(out, " [%s%s%s%s%s]", opt->def ? "default " : "", opt->def ? opt->def : "",
				opt->def && opt->env ? ", " : "", opt->env ? "env " : "", opt->env ? opt->env : "");
		fputc('\n', out);
	}
}
