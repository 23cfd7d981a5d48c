/* fuzz_journal.c - the fault journal loader (run, up and heal read every journal). */
#include "fuzz_common.h"
#include "journal.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Megabytes (a journal holds many entries): allocated once, journal_load clears it. */
	static struct journal_contents *jc;
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (!jc)
		jc = xcalloc(1, sizeof(*jc));
	if (fd >= 0) {
		journal_load(path, jc);
		close(fd);
	}
	return 0;
}
