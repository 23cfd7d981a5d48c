/* fuzz_yamljson.c - YAML to json-c (kubeconfigs, CRDs) on any bytes. */
#include "fuzz_common.h"
#include "kubernetes/yamljson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o;

	log_set_level(LOG_QUIET);
	o = yaml_to_json((const char *)data, size, "fuzz");
	json_object_put(o);
	return 0;
}
