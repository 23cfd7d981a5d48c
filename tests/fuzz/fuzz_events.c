/* fuzz_events.c - the event log reader and every metric computed from what it read. */
#include "fuzz_common.h"
#include "event.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct events ev;
	struct metrics *m = xcalloc(1, sizeof(*m));
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd >= 0) {
		memset(&ev, 0, sizeof(ev));
		if (events_load(path, &ev))
			metrics_compute(&ev, m);
		events_free(&ev);
		close(fd);
	}
	free(m);
	return 0;
}
