/* fuzz_journal.c - the fault journal loader (run, up and heal read every journal). */
#include "fuzz_common.h"
#include "journal.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct journal_contents *jc = xcalloc(1, sizeof(*jc));
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd >= 0) {
		journal_load(path, jc);
		close(fd);
	}
	free(jc);
	return 0;
}
