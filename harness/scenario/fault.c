/* fault.c - the one table of faults; each lives in its own file under faults/. */
#include "fault.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

extern const struct fault_ops fault_pod_kill;
extern const struct fault_ops fault_process_kill;
extern const struct fault_ops fault_network_partition;
extern const struct fault_ops fault_zone_outage;
extern const struct fault_ops fault_process_pause;
extern const struct fault_ops fault_storage_stall;
extern const struct fault_ops fault_packet_loss;
extern const struct fault_ops fault_bandwidth;
extern const struct fault_ops fault_latency;
extern const struct fault_ops fault_io_throttle;

static const struct fault_ops *const faults[] = {
	&fault_pod_kill,
	&fault_process_kill,
	&fault_network_partition,
	&fault_zone_outage,
	&fault_process_pause,
	&fault_storage_stall,
	&fault_packet_loss,
	&fault_bandwidth,
	&fault_latency,
	&fault_io_throttle,
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
	static char names[512];

	if (!names[0]) {
		size_t used = 0;

		for (int i = 0; faults[i]; i++) {
			str_format(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", faults[i]->name);
			used = strlen(names);
		}
	}
	return names;
}

const struct fault_ops *const *fault_table(void)
{
	return faults;
}

bool fault_id_format(char *buf, size_t len, int runner_pid, int journal_id)
{
	return str_format(buf, len, "bise-%d-%d", runner_pid, journal_id);
}

unsigned fault_step_needs(const struct step *st)
{
	const struct fault_ops *f = st->fault;

	if (!f)
		return 0;
	return f->needs | (f->step_needs ? f->step_needs(st) : 0);
}

bool fault_supported(struct fault_ctx *ctx, const struct step *st, const char *member, char *why,
		     size_t why_len)
{
	const struct driver_ops *ops = ctx->ops;
	struct fault_request *req = xcalloc(1, sizeof(*req));
	unsigned needs = fault_step_needs(st);
	bool ok = true;

	req->caps = needs & ~ops->caps;
	if (req->caps) {
		/* The backend may know why it lacks the capability (e.g. no freeze on Kubernetes). */
		why[0] = '\0';
		if (!ops->can || !ctx->drv || ops->can(ctx->drv, req, why, why_len) || !why[0])
			str_format(why, why_len, "the %s backend cannot do what %s needs", ops->name,
				   st->fault->name);
		ok = false;
	} else if (ops->can && ctx->drv) {
		/* A shape that cannot be built is the apply's error to report: the bits alone then. */
		req->caps = needs;
		if (st->fault->request && !st->fault->request(ctx, st, member, req))
			req->nnet = 0;
		ok = ops->can(ctx->drv, req, why, why_len);
	}
	free(req);
	return ok;
}
