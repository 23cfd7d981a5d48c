/* registry.c - the one table of backends. */
#include "driver.h"

#include <string.h>

#include "util.h"

extern const struct driver_ops driver_local;
extern const struct driver_ops driver_null;
extern const struct driver_ops driver_kubernetes;
extern const struct driver_ops driver_kind;

static const struct driver_ops *const drivers[] = {
	&driver_local,
	&driver_null,
	&driver_kubernetes,
	&driver_kind,
	NULL,
};

const struct driver_ops *driver_find(const char *name)
{
	for (int i = 0; drivers[i]; i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

const char *driver_names(void)
{
	static char names[256];

	if (!names[0]) {
		size_t used = 0;

		for (int i = 0; drivers[i]; i++) {
			str_format(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", drivers[i]->name);
			used = strlen(names);
		}
	}
	return names;
}

const struct driver_ops *const *driver_table(void)
{
	return drivers;
}
