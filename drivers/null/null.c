/*
 * null.c - an in-memory cluster that exists to test the harness itself (like fio's null
 * engine): members, roles and kills are bookkeeping only. A killed primary is replaced by
 * the next live member at once; a killed member returns on restart(). It has no SQL
 * endpoints, so the runner runs no workload against it.
 */
#include "driver.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct driver {
	struct cluster_spec spec;
	bool up;
	enum member_role roles[DRIVER_MAX_MEMBERS];
	int timelines[DRIVER_MAX_MEMBERS];
	int timeline;
};

static bool null_preflight(const struct cluster_spec *spec, const struct driver_options *o, char *why,
			   size_t why_len)
{
	return true;
}

static struct driver *null_open(const struct cluster_spec *spec, const char *state_root,
				const struct driver_options *o)
{
	struct driver *d = xcalloc(1, sizeof(*d));

	d->spec = *spec;
	d->timeline = 1;
	return d;
}

static void null_close(struct driver *d)
{
	free(d);
}

static bool null_exists(struct driver *d)
{
	return d->up;
}

static bool null_up(struct driver *d, double *seconds)
{
	for (int i = 0; i < d->spec.nzones; i++) {
		d->roles[i] = i == 0 ? MEMBER_PRIMARY : MEMBER_REPLICA;
		d->timelines[i] = d->timeline;
	}
	d->up = true;
	*seconds = 0;
	return true;
}

static bool null_down(struct driver *d)
{
	d->up = false;
	return true;
}

static int member_index(struct driver *d, const char *name)
{
	for (int i = 0; i < d->spec.nzones; i++)
		if (strcmp(d->spec.zones[i], name) == 0)
			return i;
	return -1;
}

static int null_members(struct driver *d, struct member *out, int max)
{
	int n = 0;

	for (int i = 0; i < d->spec.nzones && n < max; i++, n++) {
		memset(&out[n], 0, sizeof(out[n]));
		str_copy(out[n].name, sizeof(out[n].name), d->spec.zones[i]);
		str_copy(out[n].zone, sizeof(out[n].zone), d->spec.zones[i]);
		out[n].role = d->up ? d->roles[i] : MEMBER_DOWN;
		out[n].timeline = d->timelines[i];
	}
	return n;
}

static bool null_wait_healthy(struct driver *d, int64_t timeout_us, char *why, size_t why_len)
{
	int primaries = 0;

	for (int i = 0; i < d->spec.nzones; i++) {
		if (d->roles[i] == MEMBER_DOWN) {
			str_format(why, why_len, "%s is down", d->spec.zones[i]);
			return false;
		}
		primaries += d->roles[i] == MEMBER_PRIMARY;
	}
	if (primaries != 1) {
		str_format(why, why_len, "%d primaries", primaries);
		return false;
	}
	return true;
}

/* Promote the first live member on a new timeline, as an HA agent would. */
static void null_failover(struct driver *d)
{
	for (int i = 0; i < d->spec.nzones; i++) {
		if (d->roles[i] != MEMBER_REPLICA)
			continue;
		d->roles[i] = MEMBER_PRIMARY;
		d->timelines[i] = ++d->timeline;
		return;
	}
}

static bool null_kill(struct driver *d, const char *member, enum kill_scope scope, int64_t grace_us)
{
	int i = member_index(d, member);

	if (i < 0) {
		log_error("null driver: no member %s", member);
		return false;
	}
	if (d->roles[i] == MEMBER_PRIMARY) {
		d->roles[i] = MEMBER_DOWN;
		null_failover(d);
	} else {
		d->roles[i] = MEMBER_DOWN;
	}
	return true;
}

static bool null_restart(struct driver *d, const char *member)
{
	int i = member_index(d, member);

	if (i < 0) {
		log_error("null driver: no member %s", member);
		return false;
	}
	if (d->roles[i] == MEMBER_DOWN) {
		d->roles[i] = MEMBER_REPLICA;
		d->timelines[i] = d->timeline;
	}
	return true;
}

static bool null_versions(struct driver *d, char *buf, size_t len)
{
	return str_copy(buf, len, "null driver (in memory)");
}

const struct driver_ops driver_null = {
	.version = DRIVER_OPS_VERSION,
	.name = "null",
	.help = "in-memory cluster for testing bise itself (no SQL, no processes)",
	.caps = DRIVER_CAP_KILL_POD | DRIVER_CAP_RESTART,
	.preflight = null_preflight,
	.open = null_open,
	.close = null_close,
	.exists = null_exists,
	.up = null_up,
	.down = null_down,
	.members = null_members,
	.wait_healthy = null_wait_healthy,
	.kill = null_kill,
	.restart = null_restart,
	.versions = null_versions,
};
