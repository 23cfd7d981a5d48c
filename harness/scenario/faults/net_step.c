/* net_step.c - groups, one_way and the driver calls shared by the network faults. */
#include "net_step.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NET_MAX_GROUPS (SCENARIO_MAX_ZONES + 1)

typedef char net_group[SCENARIO_MAX_ZONES + 1][ZONE_NAME_LEN];

static bool one_way_of(const struct step *st, bool *out, char *why, size_t why_len)
{
	const char *v = step_option(st, "one_way");

	*out = false;
	if (!v || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
		return true;
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
		*out = true;
		return true;
	}
	str_format(why, why_len, "one_way \"%s\" is not a boolean (hint: one_way: true)", v);
	return false;
}

static bool in_group(char (*g)[ZONE_NAME_LEN], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(g[i], name) == 0)
			return true;
	return false;
}

/* No zone on two sides: it would drop its own traffic and be cut from nothing. */
static bool each_zone_once(net_group *groups, int ngroups, const int *sizes, char *why, size_t why_len)
{
	for (int g = 0; g < ngroups; g++)
		for (int i = 0; i < sizes[g]; i++)
			for (int h = g + 1; h < ngroups; h++)
				if (in_group(groups[h], sizes[h], groups[g][i])) {
					str_format(why, why_len,
						   "%s is in two groups of between (hint: a zone "
						   "belongs to one side of a partition; `target` is the "
						   "zone the step resolved to)",
						   groups[g][i]);
					return false;
				}
	return true;
}

/* Parse between (if any) and refuse a name that is in two groups. */
static bool groups_of(const struct step *st, net_group *groups, int *ngroups, int *sizes,
		      char *why, size_t why_len)
{
	const char *between = step_option(st, "between");

	*ngroups = 0;
	if (!between)
		return true;
	if (!option_parse_groups(between, groups, ngroups, sizes, NET_MAX_GROUPS, why, why_len))
		return false;
	return each_zone_once(groups, *ngroups, sizes, why, why_len);
}

bool net_step_validate(const struct step *st, char *why, size_t why_len)
{
	net_group groups[NET_MAX_GROUPS];
	int ngroups, sizes[NET_MAX_GROUPS];
	bool one_way;

	/* The scenario loader already requires a duration of every takes_duration fault. */
	return one_way_of(st, &one_way, why, why_len) &&
	       groups_of(st, groups, &ngroups, sizes, why, why_len);
}

/* The cluster's zones, and the zone of member (a member name or a zone name). */
static int zones_of(struct fault_ctx *ctx, const char *member, char zones[][ZONE_NAME_LEN],
		    char *member_zone)
{
	struct member m[DRIVER_MAX_MEMBERS];
	int n = 0;

	member_zone[0] = '\0';
	if (ctx->scenario) {
		n = ctx->scenario->cluster.nzones;
		for (int i = 0; i < n; i++) {
			str_copy(zones[i], ZONE_NAME_LEN, ctx->scenario->cluster.zones[i]);
			if (strcmp(zones[i], member) == 0)
				str_copy(member_zone, ZONE_NAME_LEN, member);
		}
		if (member_zone[0])
			return n;
	}
	/* A member named otherwise than its zone (or no scenario): ask the backend. */
	n = ctx->ops->members(ctx->drv, m, DRIVER_MAX_MEMBERS);
	for (int i = 0; i < n; i++) {
		if (!ctx->scenario)
			str_copy(zones[i], ZONE_NAME_LEN, m[i].zone);
		if (strcmp(m[i].name, member) == 0)
			str_copy(member_zone, ZONE_NAME_LEN, m[i].zone);
	}
	return ctx->scenario ? ctx->scenario->cluster.nzones : n;
}

/* groups[from] gets every zone and the client not in any of groups[0..from-1]. */
static int rest_of(net_group *groups, const int *sizes, int from, char zones[][ZONE_NAME_LEN],
		   int nzones)
{
	int n = 0;

	for (int z = 0; z <= nzones; z++) {
		const char *name = z < nzones ? zones[z] : PARTY_CLIENT;
		bool taken = false;

		for (int g = 0; g < from; g++)
			taken |= in_group(groups[g], sizes[g], name);
		if (!taken && n < SCENARIO_MAX_ZONES + 1)
			str_copy(groups[from][n++], ZONE_NAME_LEN, name);
	}
	return n;
}

/* The fault between groups g and h, into f's parties. */
static void pair_of(struct net_fault *f, net_group *groups, const int *sizes, int g, int h)
{
	f->na = sizes[g];
	memcpy(f->a, groups[g], sizeof(f->a));
	f->nb = sizes[h];
	memcpy(f->b, groups[h], sizeof(f->b));
}

/*
 * Every pair of groups of the step on member, each a copy of proto with its parties, tagged
 * with ctx->fault_id; false with why when the step's groups do not fit the cluster.
 */
static bool pairs_of(struct fault_ctx *ctx, const struct step *st, const char *member,
		     const struct net_fault *proto, struct net_fault *pairs, int *npairs, char *why,
		     size_t why_len)
{
	net_group groups[NET_MAX_GROUPS];
	char zones[DRIVER_MAX_MEMBERS][ZONE_NAME_LEN], member_zone[ZONE_NAME_LEN];
	int ngroups, sizes[NET_MAX_GROUPS], nzones;
	bool one_way;

	*npairs = 0;
	if (!one_way_of(st, &one_way, why, why_len) ||
	    !groups_of(st, groups, &ngroups, sizes, why, why_len))
		return false;
	nzones = zones_of(ctx, member, zones, member_zone);
	if (nzones <= 0) {
		str_format(why, why_len, "cannot list the cluster's zones");
		return false;
	}
	/* "target" in between stands for the zone of the member the step resolved to. */
	for (int g = 0; g < ngroups; g++)
		for (int i = 0; i < sizes[g]; i++)
			if (strcmp(groups[g][i], "target") == 0)
				str_copy(groups[g][i], ZONE_NAME_LEN, member_zone);
	if (!each_zone_once(groups, ngroups, sizes, why, why_len))
		return false;
	if (ngroups == 0) {
		if (!member_zone[0]) {
			str_format(why, why_len, "no zone for member %s", member);
			return false;
		}
		str_copy(groups[0][0], ZONE_NAME_LEN, member_zone);
		sizes[0] = ngroups = 1;
	}
	for (int g = 0; g < ngroups; g++)
		for (int i = 0; i < sizes[g]; i++)
			if (!in_group(zones, nzones, groups[g][i]) &&
			    strcmp(groups[g][i], PARTY_CLIENT) != 0) {
				str_format(why, why_len, "between names %s, neither a zone of the cluster nor %s",
					   groups[g][i], PARTY_CLIENT);
				return false;
			}
	if (ngroups == 1) {
		sizes[1] = rest_of(groups, sizes, 1, zones, nzones);
		ngroups = 2;
		if (sizes[1] == 0) {
			str_format(why, why_len, "nothing is left outside %s", groups[0][0]);
			return false;
		}
	}
	for (int g = 0; g < ngroups; g++)
		for (int h = g + 1; h < ngroups && *npairs < NET_MAX_PAIRS; h++) {
			struct net_fault *f = &pairs[(*npairs)++];

			*f = *proto;
			f->one_way = one_way;
			str_copy(f->id, sizeof(f->id), ctx->fault_id ? ctx->fault_id : "");
			pair_of(f, groups, sizes, g, h);
		}
	return true;
}

bool net_step_request(struct fault_ctx *ctx, const struct step *st, const char *member,
		      const struct net_fault *proto, struct fault_request *req)
{
	char why[200];

	return pairs_of(ctx, st, member, proto, req->net, &req->nnet, why, sizeof(why));
}

bool net_step_apply(struct fault_ctx *ctx, const struct step *st, const char *member,
		    const struct net_fault *proto)
{
	struct net_fault *pairs;
	char why[200];
	int npairs;
	bool ok = true;
	const char *name = st->fault ? st->fault->name : "network fault";

	if (!ctx->ops->net_apply || !ctx->ops->net_revert) {
		log_error("%s: backend %s has no network faults", name, ctx->ops->name);
		return false;
	}
	pairs = xcalloc(NET_MAX_PAIRS, sizeof(*pairs));
	if (!pairs_of(ctx, st, member, proto, pairs, &npairs, why, sizeof(why))) {
		log_error("%s: %s", name, why);
		free(pairs);
		return false;
	}
	/* Whether the backend can do every pair was decided before (fault_supported). */
	for (int i = 0; i < npairs && ok; i++)
		if (!ctx->ops->net_apply(ctx->drv, &pairs[i])) {
			ctx->ops->net_revert(ctx->drv, ctx->fault_id);
			ok = false;
		}
	free(pairs);
	return ok;
}

unsigned net_step_needs(const struct step *st)
{
	net_group groups[NET_MAX_GROUPS];
	int ngroups, sizes[NET_MAX_GROUPS];
	char why[200];

	if (!groups_of(st, groups, &ngroups, sizes, why, sizeof(why)))
		return 0;
	if (ngroups <= 1)
		return DRIVER_CAP_NET_CLIENT;
	for (int g = 0; g < ngroups; g++)
		if (in_group(groups[g], sizes[g], PARTY_CLIENT))
			return DRIVER_CAP_NET_CLIENT;
	return 0;
}

bool net_step_revert(struct fault_ctx *ctx, const struct step *st, const char *member)
{
	if (!ctx->ops->net_revert) {
		log_error("backend %s has no network faults to revert", ctx->ops->name);
		return false;
	}
	return ctx->ops->net_revert(ctx->drv, ctx->fault_id);
}
