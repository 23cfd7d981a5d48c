/* fuzz_scenario.c - the scenario loader (YAML, validation, steps, SLOs) on any bytes. */
#include "fuzz_common.h"
#include "scenario.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[4096];
	struct scenario *sc = xcalloc(1, sizeof(*sc));
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd >= 0) {
		if (scenario_load(path, sc, err, sizeof(err)))
			scenario_free(sc);
		close(fd);
	}
	free(sc);
	return 0;
}
