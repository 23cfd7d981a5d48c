/*
 * metrics.c - a loaded event log -> the numbers users care about. Pure: no I/O, no clocks,
 * so `bise report` recomputes exactly what the run reported. Definitions follow the
 * project's measurement notes (measurements.md).
 */
#include "metrics.h"
#include "util.h"

#include <string.h>

/*
 * The client got a commit either way; ok_unreplicated only says the commit is local to
 * the primary (it counts as acknowledged for data loss, and as available for the WUW).
 */
bool metrics_acked(enum write_outcome o)
{
	return o == WRITE_OK || o == WRITE_OK_UNREPLICATED;
}

static void count_outcomes(const struct events *ev, struct metrics *m)
{
	m->attempted = (int64_t)ev->nwrites;
	for (size_t i = 0; i < ev->nwrites; i++) {
		switch (ev->writes[i].outcome) {
		case WRITE_OK:
			m->ok++;
			break;
		case WRITE_FAIL:
			m->fail++;
			break;
		case WRITE_INDETERMINATE:
			m->indeterminate++;
			break;
		case WRITE_OK_UNREPLICATED:
			m->ok_unreplicated++;
			break;
		}
	}
}

void metrics_compute(const struct events *ev, struct metrics *out)
{
	memset(out, 0, sizeof(*out));
	count_outcomes(ev, out);
	metrics_failover(ev, out);
	metrics_label_switch(ev, out);
	metrics_loss(ev, out);
	metrics_lag(ev, out);
	metrics_split_brain(ev, out);
	metrics_reads(ev, out);
	metrics_aftermath(ev, out);
	metrics_faults(ev, out);
	out->provision_seconds = ev->provision_seconds;
}
