/*
 * scenario_steps.c - the steps of a scenario: fault steps (target, duration, repeats and
 * the fault's own options) and wait steps; and the parser of group-valued options.
 */
#include "scenario_steps.h"
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fault.h"
#include "units.h"
#include "util.h"

/* A cluster not healthy again within an hour will not be: a longer timeout is a typo. */
#define WAIT_HEALTHY_LIMIT_US (3600 * INT64_C(1000000))

static const char *const roles[] = { "primary", "replica", "any", NULL };

enum { ST_AT, ST_FAULT, ST_TARGET, ST_DURATION, ST_EVERY, ST_COUNT, ST_WAIT, ST_TIMEOUT };
static const char *const step_keys[] = { "at", "fault", "target", "duration", "every", "count",
	"wait", "timeout", NULL };

/* The step kinds (bits of enum step_kind) each key belongs to, and what to say otherwise. */
static const struct {
	int key;
	unsigned kinds;
	const char *why, *hint;
} step_key_kinds[] = {
	{ ST_AT, 1u << STEP_FAULT, "at applies only to fault steps",
	  "a wait step starts when the previous step is done" },
	{ ST_TARGET, 1u << STEP_FAULT, "target applies only to fault steps", "remove it" },
	{ ST_DURATION, 1u << STEP_FAULT, "duration applies only to fault steps",
	  "wait: 5s already says how long" },
	{ ST_EVERY, 1u << STEP_FAULT, "every applies only to fault steps",
	  "repeat the wait step instead" },
	{ ST_COUNT, 1u << STEP_FAULT, "count applies only to fault steps",
	  "repeat the wait step instead" },
	{ ST_TIMEOUT, 1u << STEP_WAIT_HEALTHY, "timeout applies only to wait: healthy",
	  "timeout belongs to a \"wait: healthy\" step" },
};

static void load_target(struct loader *ld, yaml_node_t *n, struct step *st)
{
	const struct cluster_spec *c = &ld->sc->cluster;
	const char *text = sy_scalar(ld, n, "target"), *zones[SCENARIO_MAX_ZONES + 1];
	char hint[256];
	int i;

	if (!text)
		return;
	st->target_pos = sy_pos(n);
	for (i = 0; i < c->nzones && strcmp(c->zones[i], text) != 0; i++)
		zones[i] = c->zones[i];
	if (i < c->nzones || scenario_target_is_role(text)) {
		str_copy(st->target, sizeof(st->target), text);
		return;
	}
	zones[i] = NULL;
	if (!ld->zones_ok)
		return; /* cluster.zones is already reported; do not pile up errors */
	sy_suggest(text, zones, roles, "zones then roles", hint, sizeof(hint));
	sy_report(ld, sy_pos(n), hint, "target \"%s\" is neither a zone of this cluster nor a role",
		  text);
}

static void add_option(struct loader *ld, struct step *st, yaml_node_t *key, yaml_node_t *val)
{
	struct step_option *o = &st->options[st->noptions];

	if (st->noptions >= STEP_MAX_OPTIONS) {
		sy_report(ld, sy_pos(key), NULL, "too many options in one step (at most %d)",
			  STEP_MAX_OPTIONS);
		return;
	}
	if (!str_copy(o->key, sizeof(o->key), sy_text(key))) {
		sy_report(ld, sy_pos(key), NULL, "option name \"%s\" too long (at most %zu characters)",
			  sy_text(key), sizeof(o->key) - 1);
		return;
	}
	/* Scalars and sequences (zone groups) alike, as flow text for the fault's validate. */
	if (!sy_flow_text(ld, val, o->key, o->value, sizeof(o->value)))
		return;
	o->pos = sy_pos(val);
	st->noptions++;
}

/* The fault named by the step, looked up before its keys: its options are keys too. */
static const struct fault_ops *step_fault(struct loader *ld, yaml_node_t *map)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sy_node(ld, p->key), *v = sy_node(ld, p->value);

		if (k->type == YAML_SCALAR_NODE && strcmp(sy_text(k), "fault") == 0)
			return v->type == YAML_SCALAR_NODE ? fault_find(sy_text(v)) : NULL;
	}
	return NULL;
}

/* Decide the kind from fault and wait; false when it stays unknown. */
static bool step_kind(struct loader *ld, yaml_node_t **vals, yaml_node_t **keys, struct step *st)
{
	const char *text, *names[16];
	char buf[256], hint[512], why[160];

	st->kind = STEP_FAULT;
	if (vals[ST_FAULT] && vals[ST_WAIT]) {
		sy_report(ld, sy_pos(keys[ST_WAIT]), "split it into two steps",
			  "a step has either fault or wait, not both");
		return false;
	}
	if (!vals[ST_FAULT] && !vals[ST_WAIT]) {
		sy_report(ld, st->pos, "add \"fault: NAME\", \"wait: healthy\" or \"wait: DURATION\"",
			  "a step needs fault or wait");
		return false;
	}
	if (vals[ST_FAULT]) {
		if ((text = sy_scalar(ld, vals[ST_FAULT], "fault")) && !st->fault) {
			sy_split_list(fault_names(), buf, sizeof(buf), names, 16);
			sy_suggest(text, names, NULL, "known faults", hint, sizeof(hint));
			sy_report(ld, sy_pos(vals[ST_FAULT]), hint, "unknown fault \"%s\"", text);
		}
		return text && st->fault;
	}
	st->kind = STEP_WAIT_HEALTHY;
	if (!(text = sy_scalar(ld, vals[ST_WAIT], "wait")))
		return false;
	if (strcmp(text, "healthy") == 0)
		return true;
	if (!duration_parse(text, &st->duration_us, why, sizeof(why))) {
		/* Something like a number: the duration's own reason says more. */
		if ((text[0] >= '0' && text[0] <= '9') || text[0] == '-')
			sy_report(ld, sy_pos(vals[ST_WAIT]), NULL, "wait: %s", why);
		else
			sy_report(ld, sy_pos(vals[ST_WAIT]), "wait: healthy, or a duration such as 30s",
				  "wait \"%s\" is neither healthy nor a duration", text);
		return false;
	}
	if (!sy_duration_bounded(ld, vals[ST_WAIT], "wait", st->duration_us))
		return false;
	st->kind = STEP_WAIT;
	if (st->duration_us == 0)
		sy_report(ld, sy_pos(vals[ST_WAIT]), "remove the step, or give a duration such as 30s",
			  "wait: 0 waits for nothing");
	return true;
}

/* Keys of another kind of step, and duration on a fault that has none. */
static void misplaced_keys(struct loader *ld, yaml_node_t **vals, yaml_node_t **keys, struct step *st)
{
	char hint[256];

	for (size_t i = 0; i < sizeof(step_key_kinds) / sizeof(step_key_kinds[0]); i++) {
		int k = step_key_kinds[i].key;

		if (vals[k] && !(step_key_kinds[i].kinds & (1u << st->kind))) {
			sy_report(ld, sy_pos(keys[k]), step_key_kinds[i].hint, "%s", step_key_kinds[i].why);
			vals[k] = NULL;
		}
	}
	if (vals[ST_DURATION] && st->fault && !st->fault->takes_duration) {
		str_format(hint, sizeof(hint), "remove it; %s ends by itself%s%s", st->fault->name,
			   st->fault->options ? "; its options: " : "",
			   st->fault->options && st->fault->options[0] ? st->fault->options[0] : "");
		sy_report(ld, sy_pos(keys[ST_DURATION]), hint, "fault %s takes no duration",
			  st->fault->name);
		vals[ST_DURATION] = NULL;
	}
}

static void load_at(struct loader *ld, yaml_node_t *n, struct step *st, int64_t *last_at,
		    int *last_at_line)
{
	char hint[128], a[24], b[24];

	if (!sy_duration(ld, n, "at", false, &st->at_us))
		return;
	if (*last_at > st->at_us) {
		sy_compact_duration(st->at_us, a, sizeof(a));
		sy_compact_duration(*last_at, b, sizeof(b));
		str_format(hint, sizeof(hint), "steps run in file order; move this step before line %d",
			   *last_at_line);
		sy_report(ld, sy_pos(n), hint, "at %s is earlier than the previous step's at %s", a, b);
	}
	*last_at = st->at_us;
	*last_at_line = sy_pos(n).line;
}

/* How long one application stays in force: its duration, or its fault's own delay (plan.h). */
static int64_t in_force(const struct loader *ld, const struct step *st)
{
	int64_t held = plan_revert_after(ld->sc, st);

	return held > 0 ? held : 0;
}

/* every and count: the fault applied count times in all, every apart. */
static bool load_repeats(struct loader *ld, yaml_node_t **vals, yaml_node_t **keys, struct step *st)
{
	char every[24], duration[24], hint[160];
	bool ok = true;

	if (vals[ST_EVERY])
		ok &= sy_duration(ld, vals[ST_EVERY], "every", true, &st->every_us);
	if (vals[ST_COUNT])
		ok &= sy_int(ld, vals[ST_COUNT], "count", 1, 1000, &st->count);
	if (!ok)
		return false;
	if (st->every_us > 0 && st->count < 2) {
		sy_report(ld, vals[ST_COUNT] ? sy_pos(vals[ST_COUNT]) : sy_pos(keys[ST_EVERY]),
			  "add e.g. \"count: 3\" (2 to 1000), or remove every",
			  "every repeats a fault, so it needs a count of 2 or more");
		return false;
	}
	if (st->count > 1 && st->every_us == 0) {
		sy_report(ld, sy_pos(keys[ST_COUNT]), "add e.g. \"every: 30s\", or remove count",
			  "count %d needs every: how long from one start of the fault to the next",
			  st->count);
		return false;
	}
	/* A repeat applied while the previous one is still in force would stack the fault. */
	if (st->count > 1 && in_force(ld, st) >= st->every_us) {
		const char *what = st->fault->revert_after ? "its time in force" : "duration";

		sy_compact_duration(st->every_us, every, sizeof(every));
		sy_compact_duration(in_force(ld, st), duration, sizeof(duration));
		str_format(hint, sizeof(hint), "make every longer than %s %s", what, duration);
		sy_report(ld, sy_pos(vals[ST_EVERY]), hint,
			  "every %s is not longer than %s %s: the repeats would overlap", every, what,
			  duration);
		return false;
	}
	return true;
}

/* From the first application to the last revert, within max_fault_duration. */
static void check_span(struct loader *ld, yaml_node_t **vals, const struct step *st)
{
	int64_t span = in_force(ld, st), max = ld->sc->max_fault_us;
	char total[24], limit[24], every[24], duration[24], hint[160];
	yaml_node_t *at = st->count > 1 ? vals[ST_EVERY] : vals[ST_DURATION] ? vals[ST_DURATION] : vals[ST_FAULT];

	if (!ld->max_fault_ok || !at)
		return;
	if (st->count > 1 && st->every_us > (INT64_MAX - span) / (st->count - 1))
		span = INT64_MAX;
	else if (st->count > 1)
		span += st->every_us * (st->count - 1);
	if (span <= max)
		return;
	sy_compact_duration(span, total, sizeof(total));
	sy_compact_duration(max, limit, sizeof(limit));
	sy_compact_duration(st->every_us, every, sizeof(every));
	sy_compact_duration(in_force(ld, st), duration, sizeof(duration));
	str_format(hint, sizeof(hint), "shorten it, or raise max_fault_duration to at least %s", total);
	if (st->count > 1)
		sy_report(ld, sy_pos(at), hint,
			  "fault %s lasts %s (every %s * %d + duration %s), longer than max_fault_duration %s",
			  st->fault->name, total, every, st->count - 1, duration, limit);
	else
		sy_report(ld, sy_pos(at), hint, "fault %s lasts %s, longer than max_fault_duration %s",
			  st->fault->name, total, limit);
}

/* One name of a group-valued option: a zone of the cluster, "target" or the client. */
static void check_group_name(struct loader *ld, const yaml_node_t *n, const char *option)
{
	static const char *const others[] = { "target", PARTY_CLIENT, NULL };
	const struct cluster_spec *c = &ld->sc->cluster;
	const char *zones[SCENARIO_MAX_ZONES + 1];
	char hint[256];
	int i;

	for (i = 0; i < c->nzones; i++)
		zones[i] = c->zones[i];
	zones[i] = NULL;
	if (sy_listed(zones, sy_text(n)) || sy_listed(others, sy_text(n)))
		return;
	sy_suggest(sy_text(n), zones, others, "zones, target or client", hint, sizeof(hint));
	sy_report(ld, sy_pos(n), hint, "%s names \"%s\", which is not a zone of this cluster",
		  option, sy_text(n));
}

/* Every name in a (nested) sequence or scalar, at its own position. */
static void check_group_names(struct loader *ld, yaml_node_t *n, const char *option, int depth)
{
	if (n->type == YAML_SCALAR_NODE) {
		check_group_name(ld, n, option);
		return;
	}
	/* option_parse_groups already refused anything deeper than two levels. */
	if (n->type != YAML_SEQUENCE_NODE || depth >= 2)
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
		check_group_names(ld, sy_node(ld, *it), option, depth + 1);
}

/*
 * The zones a network fault's between names, checked against cluster.zones here rather
 * than when the fault is applied halfway through a trial.
 */
static void check_between_zones(struct loader *ld, yaml_node_t *map)
{
	if (!ld->zones_ok)
		return; /* cluster.zones is already reported; do not pile up errors */
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sy_node(ld, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(sy_text(k), "between") == 0 &&
		    !sy_listed_before(ld, map, p))
			check_group_names(ld, sy_node(ld, p->value), "between", 0);
	}
}

static void load_fault_step(struct loader *ld, yaml_node_t *map, yaml_node_t **vals,
			    yaml_node_t **keys, struct step *st)
{
	bool timing_ok = true;
	char why[256];

	if (vals[ST_TARGET])
		load_target(ld, vals[ST_TARGET], st);
	else
		sy_report(ld, sy_pos(vals[ST_FAULT]), "add \"target: primary\", a role or a zone",
			  "a fault step needs a target");
	if (vals[ST_DURATION])
		timing_ok = sy_duration(ld, vals[ST_DURATION], "duration", true, &st->duration_us);
	else if (st->fault->takes_duration)
		sy_report(ld, sy_pos(vals[ST_FAULT]), "add e.g. \"duration: 30s\"",
			  "fault %s needs a duration: it stays in force until then", st->fault->name);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = sy_node(ld, p->key);

		/* sy_collect() let through only scalar, unique fault options besides step_keys */
		if (k->type == YAML_SCALAR_NODE && sy_listed(st->fault->options, sy_text(k)) &&
		    !sy_listed_before(ld, map, p))
			add_option(ld, st, k, sy_node(ld, p->value));
	}
	/* After the options: a pod's restart delay is how long a pod-kill stays in force. */
	if (load_repeats(ld, vals, keys, st) && timing_ok)
		check_span(ld, vals, st);
	if (!st->fault->validate || st->fault->validate(st, why, sizeof(why))) {
		if (sy_listed(st->fault->options, "between"))
			check_between_zones(ld, map);
		return;
	}
	/* With one option the culprit is known; otherwise point at the fault. */
	if (st->noptions == 1)
		sy_report(ld, st->options[0].pos, NULL, "%s: %s", st->options[0].key, why);
	else
		sy_report(ld, sy_pos(vals[ST_FAULT]), NULL, "%s: %s", st->fault->name, why);
}

static void load_step(struct loader *ld, yaml_node_t *map, struct step *st, int64_t *last_at,
		      int *last_at_line)
{
	yaml_node_t *vals[SY_MAX_KEYS], *keys[SY_MAX_KEYS];
	bool known;

	st->pos = sy_pos(map);
	st->at_us = -1;
	st->count = 1;
	if (map->type != YAML_MAPPING_NODE) {
		sy_report(ld, st->pos, "e.g. \"- fault: pod-kill\" with its keys indented under it",
			  "a step must be a mapping, not %s", sy_kind(map));
		return;
	}
	st->fault = step_fault(ld, map);
	sy_collect(ld, map, "a step", step_keys, st->fault ? st->fault->options : NULL, vals, keys);
	known = step_kind(ld, vals, keys, st);
	misplaced_keys(ld, vals, keys, st);
	if (vals[ST_AT])
		load_at(ld, vals[ST_AT], st, last_at, last_at_line);
	if (!known)
		return;
	if (st->kind == STEP_FAULT)
		load_fault_step(ld, map, vals, keys, st);
	else if (st->kind == STEP_WAIT_HEALTHY && !vals[ST_TIMEOUT])
		sy_report(ld, st->pos, "add e.g. \"timeout: 90s\" to the step",
			  "wait: healthy needs a timeout");
	else if (st->kind == STEP_WAIT_HEALTHY &&
		 sy_duration(ld, vals[ST_TIMEOUT], "timeout", true, &st->timeout_us))
		sy_duration_max(ld, vals[ST_TIMEOUT], "timeout", st->timeout_us, WAIT_HEALTHY_LIMIT_US);
}

void sy_load_steps(struct loader *ld, yaml_node_t *seq)
{
	struct scenario *sc = ld->sc;
	int64_t last_at = -1;
	int last_at_line = 0, n;

	if (seq->type != YAML_SEQUENCE_NODE || seq->data.sequence.items.start == seq->data.sequence.items.top) {
		sy_report(ld, sy_pos(seq), "a list of steps, each starting with \"- \"",
			  "steps must be a non-empty sequence, not %s",
			  seq->type == YAML_SEQUENCE_NODE ? "an empty one" : sy_kind(seq));
		return;
	}
	n = (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	sc->steps = xcalloc((size_t)n, sizeof(*sc->steps));
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++)
		load_step(ld, sy_node(ld, *it), &sc->steps[sc->nsteps++], &last_at, &last_at_line);
}

bool scenario_target_is_role(const char *target)
{
	for (int i = 0; roles[i]; i++)
		if (strcmp(roles[i], target) == 0)
			return true;
	return false;
}

const char *step_option(const struct step *st, const char *key)
{
	for (int i = 0; i < st->noptions; i++)
		if (strcmp(st->options[i].key, key) == 0)
			return st->options[i].value;
	return NULL;
}

/* ---- group-valued options ---- */

#define GROUPS_HINT " (hint: e.g. [[geneva], [lucerne, gland]], or [geneva, lucerne] for one group)"

static bool groups_fail(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write the reason and return false, so each check is one line. */
static bool groups_fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (why && why_len)
		vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return false;
}

/* One name at *pp, up to ',', '[', ']' or the end, appended to names; *pp moves past it. */
static bool group_name(const char **pp, char names[][ZONE_NAME_LEN], int *n, char *why,
		       size_t why_len)
{
	const char *start = *pp, *p = start;
	size_t len;

	while (*p && !strchr(",[]", *p))
		p++;
	len = (size_t)(p - start);
	if (len == 0 && *p == '[')
		return groups_fail(why, why_len, "a group inside a group" GROUPS_HINT);
	if (len == 0)
		return groups_fail(why, why_len, "a name is missing" GROUPS_HINT);
	if (len >= ZONE_NAME_LEN)
		return groups_fail(why, why_len, "name \"%.*s\" is too long", (int)len, start);
	if (*n == SCENARIO_MAX_ZONES + 1)
		return groups_fail(why, why_len, "more than %d names in a group", SCENARIO_MAX_ZONES + 1);
	for (int i = 0; i < *n; i++)
		if (strlen(names[i]) == len && strncmp(names[i], start, len) == 0)
			return groups_fail(why, why_len, "\"%s\" is listed twice in one group", names[i]);
	memcpy(names[*n], start, len);
	names[*n][len] = '\0';
	(*n)++;
	*pp = p;
	return true;
}

/* "[a,b,...]" at *pp into names; *pp moves past its ']'. */
static bool group_parse(const char **pp, char names[][ZONE_NAME_LEN], int *n, char *why,
			size_t why_len)
{
	const char *p = *pp + 1; /* past '[' */

	*n = 0;
	if (*p == ']')
		return groups_fail(why, why_len, "an empty group []" GROUPS_HINT);
	while (group_name(&p, names, n, why, why_len)) {
		if (*p == ']') {
			*pp = p + 1;
			return true;
		}
		if (*p != ',')
			return groups_fail(why, why_len, "a group is not closed with ']'" GROUPS_HINT);
		p++;
	}
	return false;
}

/* "[[a],[b,c],...]" at *pp; *pp moves past the outer ']'. */
static bool groups_parse(const char **pp, char groups[][SCENARIO_MAX_ZONES + 1][ZONE_NAME_LEN],
			 int *ngroups, int group_sizes[], int max_groups, char *why, size_t why_len)
{
	const char *p = *pp + 1; /* past the outer '[' */

	for (;;) {
		if (*ngroups == max_groups)
			return groups_fail(why, why_len, "more than %d groups", max_groups);
		if (*p != '[')
			return groups_fail(why, why_len, "names and groups mixed" GROUPS_HINT);
		if (!group_parse(&p, groups[*ngroups], &group_sizes[*ngroups], why, why_len))
			return false;
		(*ngroups)++;
		if (*p == ']') {
			*pp = p + 1;
			return true;
		}
		if (*p != ',')
			return groups_fail(why, why_len, "the groups are not closed with ']'" GROUPS_HINT);
		p++;
	}
}

bool option_parse_groups(const char *value, char groups[][SCENARIO_MAX_ZONES + 1][ZONE_NAME_LEN],
			 int *ngroups, int group_sizes[], int max_groups, char *why, size_t why_len)
{
	const char *p = value;
	bool ok;

	*ngroups = 0;
	if (max_groups < 1)
		return groups_fail(why, why_len, "no room for a group");
	group_sizes[0] = 0;
	if (p[0] == '[' && p[1] == '[') {
		ok = groups_parse(&p, groups, ngroups, group_sizes, max_groups, why, why_len);
	} else {
		/* [a,b] is one group; a bare name is a group of one. */
		ok = p[0] == '[' ? group_parse(&p, groups[0], &group_sizes[0], why, why_len)
				 : group_name(&p, groups[0], &group_sizes[0], why, why_len);
		*ngroups = ok;
	}
	if (ok && *p)
		ok = groups_fail(why, why_len, "unexpected \"%s\" after the groups" GROUPS_HINT, p);
	if (!ok)
		*ngroups = 0;
	return ok;
}
