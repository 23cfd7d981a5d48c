/* fault.c - the one table of faults; each lives in its own file under faults/. */
#include "fault.h"

#include <string.h>

extern const struct fault_ops fault_pod_kill;
extern const struct fault_ops fault_process_kill;

static const struct fault_ops *const faults[] = {
	&fault_pod_kill,
	&fault_process_kill,
	NULL,
};

const struct fault_ops *fault_find(const char *name)
{
	for (int i = 0; faults[i]; i++)
		if (strcmp(faults[i]->name, name) == 0)
			return faults[i];
	return NULL;
}

const char *fault_names(void)
{
	return "pod-kill, process-kill";
}

const struct fault_ops *const *fault_table(void)
{
	return faults;
}
