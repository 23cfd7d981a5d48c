/* fuzz_kubeconfig.c - kubeconfig loading and the API's timestamps on any bytes. */
#include "fuzz_common.h"
#include "kubernetes/kubeconfig.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], *text = fuzz_text(data, size), shown[512];
	struct kubeconfig kc;
	time_t t;
	double frac;
	int fd = fuzz_file(data, size, path, sizeof(path));

	k8s_time_parse(text, &t, &frac);
	kubeconfig_redact_url(text, shown, sizeof(shown));
	free(text);
	if (fd < 0)
		return 0;
	memset(&kc, 0, sizeof(kc));
	if (kubeconfig_load(path, NULL, &kc))
		kubeconfig_free(&kc);
	close(fd);
	return 0;
}
