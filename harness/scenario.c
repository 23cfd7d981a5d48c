/*
 * scenario.c - load a scenario file with libyaml's document API and check it.
 *
 * Every problem is reported, not just the first, each with the line and column of the
 * node at fault, so a user fixes a file in one pass. Each mapping is first collected
 * (unknown and duplicated keys reported there), then its values are checked in a fixed
 * order, so cluster.zones is known before step targets whatever the order in the file.
 */
#include "scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fault.h"
#include "slo.h"
#include "units.h"
#include "util.h"

#define MAX_KEYS 32

struct diag {
	struct source_pos pos;
	int seq; /* report order, to keep the sort stable */
	char *line;
};

struct loader {
	const char *path;
	yaml_document_t *doc;
	struct diag *diags; /* sorted by position before they reach errbuf */
	int nerrors;
	int cap;
	struct scenario *sc;
	bool zones_ok; /* cluster.zones usable for checking step targets */
};

static const char *const roles[] = { "primary", "replica", "any", NULL };

static struct source_pos mark_pos(yaml_mark_t m)
{
	return (struct source_pos){ .line = (int)m.line + 1, .col = (int)m.column + 1 };
}

static struct source_pos node_pos(const yaml_node_t *n)
{
	return mark_pos(n->start_mark);
}

static void report(struct loader *ld, struct source_pos pos, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct loader *ld, struct source_pos pos, const char *hint, const char *fmt, ...)
{
	char msg[768], line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* An over-long line is cut rather than lost. */
	snprintf(line, sizeof(line), "%s:%d:%d: error: %s%s%s%s", ld->path, pos.line, pos.col, msg,
		 hint ? " (hint: " : "", hint ? hint : "", hint ? ")" : "");
	if (ld->nerrors == ld->cap) {
		ld->cap = ld->cap ? ld->cap * 2 : 16;
		ld->diags = xrealloc(ld->diags, (size_t)ld->cap * sizeof(*ld->diags));
	}
	ld->diags[ld->nerrors] = (struct diag){ .pos = pos, .seq = ld->nerrors, .line = xstrdup(line) };
	ld->nerrors++;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Errors in file order, one per line; those that do not fit in errbuf are dropped whole. */
static void diags_flush(struct loader *ld, char *errbuf, size_t errlen)
{
	size_t used = 0;

	qsort(ld->diags, (size_t)ld->nerrors, sizeof(*ld->diags), diag_cmp);
	for (int i = 0; i < ld->nerrors; i++) {
		size_t n = strlen(ld->diags[i].line);

		if (errbuf && used + n + 2 <= errlen) {
			memcpy(errbuf + used, ld->diags[i].line, n);
			errbuf[used + n] = '\n';
			used += n + 1;
			errbuf[used] = '\0';
		}
		free(ld->diags[i].line);
	}
	free(ld->diags);
	ld->diags = NULL;
}

/* ---- nodes ---- */

static bool node_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static const char *node_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return node_is_null(n) ? "empty" : "a scalar";
}

static yaml_node_t *node_at(struct loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

static const char *scalar_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* The value as text, or NULL (reported) when it is a mapping or a sequence. */
static const char *get_scalar(struct loader *ld, const yaml_node_t *n, const char *what)
{
	if (n->type == YAML_SCALAR_NODE)
		return scalar_text(n);
	report(ld, node_pos(n), NULL, "%s must be a single value, not %s", what, node_kind(n));
	return NULL;
}

/* ---- did you mean ---- */

static int edit_distance(const char *a, const char *b)
{
	int row[65], la = (int)strlen(a), lb = (int)strlen(b);

	if (la > 64 || lb > 64)
		return 99;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Hint text: 'did you mean "x"? LABEL: a, b, c' over cands then more (either may be NULL). */
static void suggest(const char *word, const char *const *cands, const char *const *more,
		    const char *label, char *buf, size_t len)
{
	const char *const *lists[2] = { cands, more };
	const char *best = NULL;
	int best_d = 99, n = 0;
	size_t used;

	for (int l = 0; l < 2; l++) {
		for (int i = 0; lists[l] && lists[l][i]; i++) {
			size_t clen = strlen(lists[l][i]);
			int d = edit_distance(word, lists[l][i]);

			if (d <= (clen <= 3 ? 1 : clen <= 8 ? 2 : 3) && d < best_d) {
				best = lists[l][i];
				best_d = d;
			}
		}
	}
	buf[0] = '\0';
	if (best)
		str_format(buf, len, "did you mean \"%s\"? ", best);
	used = strlen(buf);
	str_format(buf + used, len - used, "%s: ", label);
	for (int l = 0; l < 2; l++) {
		for (int i = 0; lists[l] && lists[l][i]; i++) {
			used = strlen(buf);
			str_format(buf + used, len - used, "%s%s", n++ ? ", " : "", lists[l][i]);
		}
	}
}

static bool is_listed(const char *const *list, const char *name)
{
	for (int i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Split "a, b, c" into items (pointing into buf); NULL-terminated. */
static void split_list(const char *csv, char *buf, size_t len, const char **items, int max)
{
	int n = 0;
	char *p;

	str_copy(buf, len, csv);
	for (p = buf; *p && n < max - 1;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		items[n++] = p;
		while (*p && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
	}
	items[n] = NULL;
}

/* ---- mappings ---- */

/* The key node of an earlier pair of map with the same key as pair, or NULL. */
static yaml_node_t *listed_before(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair)
{
	yaml_node_t *key = node_at(ld, pair->key);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		yaml_node_t *k = node_at(ld, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(scalar_text(k), scalar_text(key)) == 0)
			return k;
	}
	return NULL;
}

/* The key of a pair, or NULL (reported) if it is not a scalar or repeats an earlier key. */
static const char *pair_key(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair)
{
	yaml_node_t *key = node_at(ld, pair->key), *first;
	char hint[96];

	if (key->type != YAML_SCALAR_NODE) {
		report(ld, node_pos(key), NULL, "a key must be a plain name, not %s", node_kind(key));
		return NULL;
	}
	if (!(first = listed_before(ld, map, pair)))
		return scalar_text(key);
	str_format(hint, sizeof(hint), "first given at line %d, column %d; keep one",
		   node_pos(first).line, node_pos(first).col);
	report(ld, node_pos(key), hint, "duplicate key \"%s\"", scalar_text(key));
	return NULL;
}

/*
 * Collect the values of a mapping with fixed keys into vals[] (and their key nodes into
 * keys[]); keys in extra are left to the caller. False when node is neither a mapping nor
 * empty; an empty value is an empty map.
 */
static bool collect(struct loader *ld, yaml_node_t *map, const char *where,
		    const char *const *valid, const char *const *extra, yaml_node_t **vals,
		    yaml_node_t **keys)
{
	char hint[512];

	for (int i = 0; valid[i]; i++)
		vals[i] = keys[i] = NULL;
	if (node_is_null(map))
		return true;
	if (map->type != YAML_MAPPING_NODE) {
		report(ld, node_pos(map), "write one \"key: value\" per line under it",
		       "%s must be a mapping, not %s", where, node_kind(map));
		return false;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *name = pair_key(ld, map, p);
		int i;

		if (!name || is_listed(extra, name))
			continue;
		for (i = 0; valid[i] && strcmp(valid[i], name) != 0; i++)
			;
		if (valid[i]) {
			vals[i] = node_at(ld, p->value);
			keys[i] = node_at(ld, p->key);
			continue;
		}
		suggest(name, valid, extra, "valid keys", hint, sizeof(hint));
		report(ld, node_pos(node_at(ld, p->key)), hint, "unknown key \"%s\" in %s", name, where);
	}
	return true;
}

/* ---- values ---- */

static void compact_duration(int64_t us, char *buf, size_t len)
{
	if (us % 1000000 == 0)
		str_format(buf, len, "%" PRId64 "s", us / 1000000);
	else if (us % 1000 == 0)
		str_format(buf, len, "%" PRId64 "ms", us / 1000);
	else
		str_format(buf, len, "%" PRId64 "us", us);
}

static bool get_duration(struct loader *ld, const yaml_node_t *n, const char *what, bool positive,
			 int64_t *out)
{
	const char *text = get_scalar(ld, n, what);
	char why[160];
	int64_t v;

	if (!text)
		return false;
	if (!duration_parse(text, &v, why, sizeof(why))) {
		report(ld, node_pos(n), NULL, "%s: %s", what, why);
		return false;
	}
	if (positive && v == 0) {
		report(ld, node_pos(n), NULL, "%s must be more than 0", what);
		return false;
	}
	*out = v;
	return true;
}

static bool get_int(struct loader *ld, const yaml_node_t *n, const char *what, long min, long max,
		    int *out)
{
	const char *text = get_scalar(ld, n, what);
	char hint[64], *end;
	long v;

	if (!text)
		return false;
	str_format(hint, sizeof(hint), "a whole number from %ld to %ld", min, max);
	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || end == text) {
		report(ld, node_pos(n), hint, "%s: \"%s\" is not a whole number", what, text);
		return false;
	}
	if (errno == ERANGE || v < min || v > max) {
		report(ld, node_pos(n), hint, "%s: %s is out of range", what, text);
		return false;
	}
	*out = (int)v;
	return true;
}

/* One of choices; returns its index or -1 (reported). */
static int get_choice(struct loader *ld, const yaml_node_t *n, const char *what,
		      const char *const *choices)
{
	const char *text = get_scalar(ld, n, what);
	char hint[256];

	if (!text)
		return -1;
	for (int i = 0; choices[i]; i++)
		if (strcmp(choices[i], text) == 0)
			return i;
	suggest(text, choices, NULL, "one of", hint, sizeof(hint));
	report(ld, node_pos(n), hint, "%s: unknown value \"%s\"", what, text);
	return -1;
}

/* [first][rest]* up to maxlen, first and rest being "a-z", "a-z0-9" or "a-z0-9-". */
static bool ident_ok(const char *s, bool first_digit, bool dash, size_t maxlen)
{
	size_t len = strlen(s);

	if (len == 0 || len > maxlen)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || ((i > 0 || first_digit) && c >= '0' && c <= '9') ||
			  (i > 0 && dash && c == '-');

		if (!ok)
			return false;
	}
	return true;
}

/* ---- cluster ---- */

enum { CL_NAME, CL_ZONES, CL_REPLICATION, CL_DCS, CL_TTL, CL_LOOP, CL_RETRY, CL_LAG, CL_RESTART };
static const char *const cluster_keys[] = { "name", "zones", "replication", "dcs_api", "ttl",
	"loop_wait", "retry_timeout", "maximum_lag_on_failover", "restart_delay", NULL };

static bool load_zones(struct loader *ld, yaml_node_t *seq, struct cluster_spec *c)
{
	yaml_node_item_t *it, *start;
	int n, i = 0;
	bool ok = true;

	if (seq->type != YAML_SEQUENCE_NODE) {
		report(ld, node_pos(seq), "e.g. [geneva, lucerne, gland]",
		       "cluster.zones must be a sequence, not %s", node_kind(seq));
		return false;
	}
	start = seq->data.sequence.items.start;
	n = (int)(seq->data.sequence.items.top - start);
	if (n < 2 || n > SCENARIO_MAX_ZONES) {
		report(ld, node_pos(seq), "a replicated cluster needs 2 to 8 zones",
		       "cluster.zones has %d zone%s", n, n == 1 ? "" : "s");
		return false;
	}
	for (it = start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *z = node_at(ld, *it);
		const char *name = get_scalar(ld, z, "a zone");

		if (!name) {
			ok = false;
			continue;
		}
		if (!ident_ok(name, false, false, ZONE_NAME_LEN - 6)) {
			report(ld, node_pos(z), "lower-case letters and digits, starting with a letter, at most 10 characters",
			       "zone name \"%s\" is not valid", name);
			ok = false;
			continue;
		}
		for (yaml_node_item_t *prev = start; prev < it; prev++) {
			yaml_node_t *pz = node_at(ld, *prev);
			char hint[64];

			if (pz->type == YAML_SCALAR_NODE && strcmp(scalar_text(pz), name) == 0) {
				str_format(hint, sizeof(hint), "first listed at line %d, column %d",
					   node_pos(pz).line, node_pos(pz).col);
				report(ld, node_pos(z), hint, "zone \"%s\" is listed twice", name);
				ok = false;
				break;
			}
		}
		str_copy(c->zones[i], sizeof(c->zones[i]), name);
	}
	if (ok)
		c->nzones = n;
	return ok;
}

static void check_patroni_timing(struct loader *ld, yaml_node_t **vals, const struct cluster_spec *c)
{
	yaml_node_t *at = vals[CL_TTL] ? vals[CL_TTL] : vals[CL_RETRY] ? vals[CL_RETRY] : vals[CL_LOOP];
	char lw[24], rt[24], ttl[24], need[24], hint[128];
	int64_t sum = c->loop_wait_us + 2 * c->retry_timeout_us;

	if (sum <= c->ttl_us || !at)
		return;
	compact_duration(c->loop_wait_us, lw, sizeof(lw));
	compact_duration(c->retry_timeout_us, rt, sizeof(rt));
	compact_duration(c->ttl_us, ttl, sizeof(ttl));
	compact_duration(sum, need, sizeof(need));
	str_format(hint, sizeof(hint), "raise ttl to at least %s, or lower loop_wait or retry_timeout",
		   need);
	report(ld, node_pos(at), hint,
	       "loop_wait + 2*retry_timeout must be <= ttl, Patroni needs it: %s + 2*%s = %s > ttl %s",
	       lw, rt, need, ttl);
}

static void load_cluster(struct loader *ld, yaml_node_t *map, struct cluster_spec *c)
{
	static const char *const replication[] = { "async", "synchronous", NULL };
	static const char *const dcs[] = { "v3", "v2", NULL };
	yaml_node_t *vals[MAX_KEYS], *keys[MAX_KEYS];
	bool timing_ok = true;
	const char *text;
	char why[160];
	int k;

	if (!collect(ld, map, "cluster", cluster_keys, NULL, vals, keys)) {
		ld->zones_ok = true; /* the defaults still stand */
		return;
	}
	if (vals[CL_NAME] && (text = get_scalar(ld, vals[CL_NAME], "cluster.name"))) {
		if (ident_ok(text, false, true, 20))
			str_copy(c->name, sizeof(c->name), text);
		else
			report(ld, node_pos(vals[CL_NAME]),
			       "lower-case letters, digits and '-', starting with a letter, at most 20 characters",
			       "cluster.name \"%s\" is not valid", text);
	}
	ld->zones_ok = !vals[CL_ZONES] || load_zones(ld, vals[CL_ZONES], c);
	if (vals[CL_REPLICATION] && (k = get_choice(ld, vals[CL_REPLICATION], "cluster.replication",
						    replication)) >= 0)
		c->replication = k == 0 ? REPLICATION_ASYNC : REPLICATION_SYNC;
	if (vals[CL_DCS] && (k = get_choice(ld, vals[CL_DCS], "cluster.dcs_api", dcs)) >= 0)
		c->dcs_api = k == 0 ? DCS_ETCD_V3 : DCS_ETCD_V2;
	if (vals[CL_TTL])
		timing_ok &= get_duration(ld, vals[CL_TTL], "cluster.ttl", true, &c->ttl_us);
	if (vals[CL_LOOP])
		timing_ok &= get_duration(ld, vals[CL_LOOP], "cluster.loop_wait", true, &c->loop_wait_us);
	if (vals[CL_RETRY])
		timing_ok &= get_duration(ld, vals[CL_RETRY], "cluster.retry_timeout", true,
					  &c->retry_timeout_us);
	if (timing_ok)
		check_patroni_timing(ld, vals, c);
	if (vals[CL_LAG] && (text = get_scalar(ld, vals[CL_LAG], "cluster.maximum_lag_on_failover")) &&
	    !size_parse(text, &c->maximum_lag_on_failover_bytes, why, sizeof(why)))
		report(ld, node_pos(vals[CL_LAG]), NULL, "cluster.maximum_lag_on_failover: %s", why);
	if (vals[CL_RESTART])
		get_duration(ld, vals[CL_RESTART], "cluster.restart_delay", false, &c->restart_delay_us);
}

/* ---- workload ---- */

enum { WL_WRITERS, WL_RATE, WL_CONNECT, WL_WRITE };
static const char *const workload_keys[] = { "writers", "rate", "connect_timeout", "write_timeout",
	NULL };

static void load_rate(struct loader *ld, yaml_node_t *n, struct workload_spec *w)
{
	const char *text = get_scalar(ld, n, "workload.rate");
	char *end;
	double v;

	if (!text)
		return;
	if (strcmp(text, "unthrottled") == 0) {
		w->rate_per_writer = 0;
		return;
	}
	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end || errno || !isfinite(v) || v <= 0) {
		report(ld, node_pos(n), "writes per second per writer, a number > 0, or unthrottled",
		       "workload.rate: \"%s\" is not a rate", text);
		return;
	}
	w->rate_per_writer = v;
}

static void load_workload(struct loader *ld, yaml_node_t *map, struct workload_spec *w)
{
	yaml_node_t *vals[MAX_KEYS], *keys[MAX_KEYS];

	if (!collect(ld, map, "workload", workload_keys, NULL, vals, keys))
		return;
	if (vals[WL_WRITERS])
		get_int(ld, vals[WL_WRITERS], "workload.writers", 1, 64, &w->writers);
	if (vals[WL_RATE])
		load_rate(ld, vals[WL_RATE], w);
	if (vals[WL_CONNECT])
		get_duration(ld, vals[WL_CONNECT], "workload.connect_timeout", true,
			     &w->connect_timeout_us);
	if (vals[WL_WRITE])
		get_duration(ld, vals[WL_WRITE], "workload.write_timeout", true, &w->write_timeout_us);
}

/* ---- steps ---- */

enum { ST_AT, ST_FAULT, ST_TARGET, ST_DURATION, ST_WAIT, ST_TIMEOUT };
static const char *const step_keys[] = { "at", "fault", "target", "duration", "wait", "timeout",
	NULL };

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
	{ ST_TIMEOUT, 1u << STEP_WAIT_HEALTHY, "timeout applies only to wait: healthy",
	  "timeout belongs to a \"wait: healthy\" step" },
};

static void load_target(struct loader *ld, yaml_node_t *n, struct step *st)
{
	const struct cluster_spec *c = &ld->sc->cluster;
	const char *text = get_scalar(ld, n, "target"), *zones[SCENARIO_MAX_ZONES + 1];
	char hint[256];
	int i;

	if (!text)
		return;
	st->target_pos = node_pos(n);
	for (i = 0; i < c->nzones && strcmp(c->zones[i], text) != 0; i++)
		zones[i] = c->zones[i];
	if (i < c->nzones || scenario_target_is_role(text)) {
		str_copy(st->target, sizeof(st->target), text);
		return;
	}
	zones[i] = NULL;
	if (!ld->zones_ok)
		return; /* cluster.zones is already reported; do not pile up errors */
	suggest(text, zones, roles, "zones then roles", hint, sizeof(hint));
	report(ld, node_pos(n), hint, "target \"%s\" is neither a zone of this cluster nor a role",
	       text);
}

static void add_option(struct loader *ld, struct step *st, yaml_node_t *key, yaml_node_t *val)
{
	const char *text = get_scalar(ld, val, scalar_text(key));
	struct step_option *o = &st->options[st->noptions];

	if (!text)
		return;
	if (st->noptions >= STEP_MAX_OPTIONS) {
		report(ld, node_pos(key), NULL, "too many options in one step (at most %d)",
		       STEP_MAX_OPTIONS);
	} else if (!str_copy(o->key, sizeof(o->key), scalar_text(key)) ||
		   !str_copy(o->value, sizeof(o->value), text)) {
		report(ld, node_pos(val), NULL, "%s: value too long (at most %zu characters)",
		       scalar_text(key), sizeof(o->value) - 1);
	} else {
		o->pos = node_pos(val);
		st->noptions++;
	}
}

/* The fault named by the step, looked up before its keys: its options are keys too. */
static const struct fault_ops *step_fault(struct loader *ld, yaml_node_t *map)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);

		if (k->type == YAML_SCALAR_NODE && strcmp(scalar_text(k), "fault") == 0)
			return v->type == YAML_SCALAR_NODE ? fault_find(scalar_text(v)) : NULL;
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
		report(ld, node_pos(keys[ST_WAIT]), "split it into two steps",
		       "a step has either fault or wait, not both");
		return false;
	}
	if (!vals[ST_FAULT] && !vals[ST_WAIT]) {
		report(ld, st->pos, "add \"fault: NAME\", \"wait: healthy\" or \"wait: DURATION\"",
		       "a step needs fault or wait");
		return false;
	}
	if (vals[ST_FAULT]) {
		if ((text = get_scalar(ld, vals[ST_FAULT], "fault")) && !st->fault) {
			split_list(fault_names(), buf, sizeof(buf), names, 16);
			suggest(text, names, NULL, "known faults", hint, sizeof(hint));
			report(ld, node_pos(vals[ST_FAULT]), hint, "unknown fault \"%s\"", text);
		}
		return text && st->fault;
	}
	st->kind = STEP_WAIT_HEALTHY;
	if (!(text = get_scalar(ld, vals[ST_WAIT], "wait")))
		return false;
	if (strcmp(text, "healthy") == 0)
		return true;
	if (!duration_parse(text, &st->duration_us, why, sizeof(why))) {
		/* Something like a number: the duration's own reason says more. */
		if ((text[0] >= '0' && text[0] <= '9') || text[0] == '-')
			report(ld, node_pos(vals[ST_WAIT]), NULL, "wait: %s", why);
		else
			report(ld, node_pos(vals[ST_WAIT]), "wait: healthy, or a duration such as 30s",
			       "wait \"%s\" is neither healthy nor a duration", text);
		return false;
	}
	st->kind = STEP_WAIT;
	if (st->duration_us == 0)
		report(ld, node_pos(vals[ST_WAIT]), "remove the step, or give a duration such as 30s",
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
			report(ld, node_pos(keys[k]), step_key_kinds[i].hint, "%s", step_key_kinds[i].why);
			vals[k] = NULL;
		}
	}
	if (vals[ST_DURATION] && st->fault && !st->fault->takes_duration) {
		str_format(hint, sizeof(hint), "remove it; %s ends by itself%s%s", st->fault->name,
			   st->fault->options ? "; its options: " : "",
			   st->fault->options && st->fault->options[0] ? st->fault->options[0] : "");
		report(ld, node_pos(keys[ST_DURATION]), hint, "fault %s takes no duration",
		       st->fault->name);
		vals[ST_DURATION] = NULL;
	}
}

static void load_at(struct loader *ld, yaml_node_t *n, struct step *st, int64_t *last_at,
		    int *last_at_line)
{
	char hint[128], a[24], b[24];

	if (!get_duration(ld, n, "at", false, &st->at_us))
		return;
	if (*last_at > st->at_us) {
		compact_duration(st->at_us, a, sizeof(a));
		compact_duration(*last_at, b, sizeof(b));
		str_format(hint, sizeof(hint), "steps run in file order; move this step before line %d",
			   *last_at_line);
		report(ld, node_pos(n), hint, "at %s is earlier than the previous step's at %s", a, b);
	}
	*last_at = st->at_us;
	*last_at_line = node_pos(n).line;
}

static void load_fault_step(struct loader *ld, yaml_node_t *map, yaml_node_t **vals,
			    struct step *st)
{
	char why[256];

	if (vals[ST_TARGET])
		load_target(ld, vals[ST_TARGET], st);
	else
		report(ld, node_pos(vals[ST_FAULT]), "add \"target: primary\", a role or a zone",
		       "a fault step needs a target");
	if (vals[ST_DURATION])
		get_duration(ld, vals[ST_DURATION], "duration", true, &st->duration_us);
	else if (st->fault->takes_duration)
		report(ld, node_pos(vals[ST_FAULT]), "add e.g. \"duration: 30s\"",
		       "fault %s needs a duration", st->fault->name);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(ld, p->key);

		/* collect() let through only scalar, unique fault options besides step_keys */
		if (k->type == YAML_SCALAR_NODE && is_listed(st->fault->options, scalar_text(k)) &&
		    !listed_before(ld, map, p))
			add_option(ld, st, k, node_at(ld, p->value));
	}
	if (!st->fault->validate || st->fault->validate(st, why, sizeof(why)))
		return;
	/* With one option the culprit is known; otherwise point at the fault. */
	if (st->noptions == 1)
		report(ld, st->options[0].pos, NULL, "%s: %s", st->options[0].key, why);
	else
		report(ld, node_pos(vals[ST_FAULT]), NULL, "%s: %s", st->fault->name, why);
}

static void load_step(struct loader *ld, yaml_node_t *map, struct step *st, int64_t *last_at,
		      int *last_at_line)
{
	yaml_node_t *vals[MAX_KEYS], *keys[MAX_KEYS];
	bool known;

	st->pos = node_pos(map);
	st->at_us = -1;
	if (map->type != YAML_MAPPING_NODE) {
		report(ld, st->pos, "e.g. \"- fault: pod-kill\" with its keys indented under it",
		       "a step must be a mapping, not %s", node_kind(map));
		return;
	}
	st->fault = step_fault(ld, map);
	collect(ld, map, "a step", step_keys, st->fault ? st->fault->options : NULL, vals, keys);
	known = step_kind(ld, vals, keys, st);
	misplaced_keys(ld, vals, keys, st);
	if (vals[ST_AT])
		load_at(ld, vals[ST_AT], st, last_at, last_at_line);
	if (!known)
		return;
	if (st->kind == STEP_FAULT)
		load_fault_step(ld, map, vals, st);
	else if (st->kind == STEP_WAIT_HEALTHY && !vals[ST_TIMEOUT])
		report(ld, st->pos, "add e.g. \"timeout: 90s\" to the step",
		       "wait: healthy needs a timeout");
	else if (st->kind == STEP_WAIT_HEALTHY)
		get_duration(ld, vals[ST_TIMEOUT], "timeout", true, &st->timeout_us);
}

static void load_steps(struct loader *ld, yaml_node_t *seq)
{
	struct scenario *sc = ld->sc;
	int64_t last_at = -1;
	int last_at_line = 0, n;

	if (seq->type != YAML_SEQUENCE_NODE || seq->data.sequence.items.start == seq->data.sequence.items.top) {
		report(ld, node_pos(seq), "a list of steps, each starting with \"- \"",
		       "steps must be a non-empty sequence, not %s",
		       seq->type == YAML_SEQUENCE_NODE ? "an empty one" : node_kind(seq));
		return;
	}
	n = (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	sc->steps = xcalloc((size_t)n, sizeof(*sc->steps));
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++)
		load_step(ld, node_at(ld, *it), &sc->steps[sc->nsteps++], &last_at, &last_at_line);
}

/* ---- slo ---- */

static void load_slos(struct loader *ld, yaml_node_t *map)
{
	struct scenario *sc = ld->sc;
	const char *names[16];
	char buf[256], hint[512], why[256];

	if (node_is_null(map))
		return;
	if (map->type != YAML_MAPPING_NODE) {
		report(ld, node_pos(map), "one \"metric: \\\"OP VALUE\\\"\" per line, e.g. failover_time: \"< 30s\"",
		       "slo must be a mapping, not %s", node_kind(map));
		return;
	}
	split_list(slo_metric_names(), buf, sizeof(buf), names, 16);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *metric = pair_key(ld, map, p), *text;
		yaml_node_t *key = node_at(ld, p->key), *val = node_at(ld, p->value);
		struct slo_spec spec;

		if (!metric)
			continue;
		if (!slo_metric_known(metric, NULL)) {
			suggest(metric, names, NULL, "known metrics", hint, sizeof(hint));
			report(ld, node_pos(key), hint, "unknown SLO metric \"%s\"", metric);
			continue;
		}
		if (!(text = get_scalar(ld, val, metric)))
			continue;
		if (!slo_parse(metric, text, &spec, why, sizeof(why))) {
			report(ld, node_pos(val), NULL, "slo %s: %s", metric, why);
			continue;
		}
		if (sc->nslos >= SCENARIO_MAX_SLOS) {
			report(ld, node_pos(key), NULL, "too many SLOs (at most %d)", SCENARIO_MAX_SLOS);
			continue;
		}
		spec.pos = node_pos(val);
		sc->slos[sc->nslos++] = spec;
	}
}

/* ---- document ---- */

enum { TOP_NAME, TOP_DESCRIPTION, TOP_CLUSTER, TOP_WORKLOAD, TOP_STEPS, TOP_SLO, TOP_REPEAT };
static const char *const top_keys[] = { "name", "description", "cluster", "workload", "steps",
	"slo", "repeat", NULL };

static void load_top(struct loader *ld, yaml_node_t *root, struct source_pos doc_start)
{
	struct scenario *sc = ld->sc;
	yaml_node_t *vals[MAX_KEYS], *keys[MAX_KEYS];
	const char *text;

	if (root->type != YAML_MAPPING_NODE) {
		report(ld, node_pos(root), "a scenario starts with \"name:\" and \"steps:\" keys",
		       "the scenario must be a mapping, not %s", node_kind(root));
		return;
	}
	collect(ld, root, "the scenario", top_keys, NULL, vals, keys);
	if (!vals[TOP_NAME]) {
		report(ld, doc_start, "add e.g. \"name: primary-pod-kill\"", "missing key \"name\"");
	} else if ((text = get_scalar(ld, vals[TOP_NAME], "name"))) {
		if (ident_ok(text, true, true, SCENARIO_NAME_LEN - 1))
			str_copy(sc->name, sizeof(sc->name), text);
		else
			report(ld, node_pos(vals[TOP_NAME]),
			       "lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters",
			       "name \"%s\" is not valid", text);
	}
	if (vals[TOP_DESCRIPTION] && !node_is_null(vals[TOP_DESCRIPTION]) &&
	    (text = get_scalar(ld, vals[TOP_DESCRIPTION], "description")))
		sc->description = xstrdup(text);
	ld->zones_ok = true;
	if (vals[TOP_CLUSTER])
		load_cluster(ld, vals[TOP_CLUSTER], &sc->cluster);
	if (vals[TOP_WORKLOAD])
		load_workload(ld, vals[TOP_WORKLOAD], &sc->workload);
	if (!vals[TOP_STEPS])
		report(ld, doc_start, "add a \"steps:\" list, e.g. \"- fault: pod-kill\"",
		       "missing key \"steps\"");
	else
		load_steps(ld, vals[TOP_STEPS]);
	if (vals[TOP_SLO])
		load_slos(ld, vals[TOP_SLO]);
	if (vals[TOP_REPEAT])
		get_int(ld, vals[TOP_REPEAT], "repeat", 1, 1000, &sc->repeat);
}

/* libyaml's own words, at its mark. Reader errors carry a byte offset instead of a mark. */
static void yaml_problem(struct loader *ld, const yaml_parser_t *p, const char *text, size_t len)
{
	struct source_pos pos = mark_pos(p->problem_mark);
	char ctx[160] = "";

	if (p->error == YAML_READER_ERROR) {
		pos = (struct source_pos){ 1, 1 };
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				pos.line++;
				pos.col = 1;
			} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
				pos.col++;
			}
		}
	}
	if (p->context)
		str_format(ctx, sizeof(ctx), ", %s at line %d, column %d", p->context,
			   mark_pos(p->context_mark).line, mark_pos(p->context_mark).col);
	report(ld, pos, NULL, "not valid YAML: %s%s", p->problem ? p->problem : "unknown problem", ctx);
}

static void parse_document(struct loader *ld, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(ld, &parser, text, len);
		yaml_parser_delete(&parser);
		return;
	}
	ld->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		report(ld, (struct source_pos){ 1, 1 }, "a scenario needs at least name and steps",
		       "the file is empty");
	else
		load_top(ld, root, mark_pos(doc.start_mark));
	if (root) {
		/* A second "---" document would be silently ignored otherwise. */
		if (!yaml_parser_load(&parser, &extra)) {
			yaml_problem(ld, &parser, text, len);
		} else {
			if (yaml_document_get_root_node(&extra))
				report(ld, mark_pos(extra.start_mark), "keep one scenario per file",
				       "a second YAML document");
			yaml_document_delete(&extra);
		}
	}
	ld->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

void cluster_spec_defaults(struct cluster_spec *c)
{
	static const char *const zones[] = { "geneva", "lucerne", "gland" };

	memset(c, 0, sizeof(*c));
	str_copy(c->name, sizeof(c->name), "bise");
	c->nzones = 3;
	for (int i = 0; i < 3; i++)
		str_copy(c->zones[i], sizeof(c->zones[i]), zones[i]);
	c->replication = REPLICATION_ASYNC;
	c->dcs_api = DCS_ETCD_V3;
	c->ttl_us = 10 * INT64_C(1000000);
	c->loop_wait_us = 1 * INT64_C(1000000);
	c->retry_timeout_us = 4 * INT64_C(1000000);
	c->maximum_lag_on_failover_bytes = 1024 * 1024;
	c->restart_delay_us = 2 * INT64_C(1000000);
}

void workload_spec_defaults(struct workload_spec *w)
{
	memset(w, 0, sizeof(*w));
	w->writers = 4;
	w->rate_per_writer = 100;
	w->connect_timeout_us = 500 * INT64_C(1000);
	w->write_timeout_us = 1 * INT64_C(1000000);
}

bool scenario_load(const char *path, struct scenario *out, char *errbuf, size_t errlen)
{
	struct loader ld = { .path = path, .sc = out };
	size_t len;

	memset(out, 0, sizeof(*out));
	if (errbuf && errlen)
		errbuf[0] = '\0';
	cluster_spec_defaults(&out->cluster);
	workload_spec_defaults(&out->workload);
	out->repeat = 1;
	out->path = xstrdup(path);
	out->text = file_read_all(path, &len);
	if (!out->text)
		report(&ld, (struct source_pos){ 1, 1 }, "check the path",
		       "cannot read the scenario: %s", strerror(errno));
	else
		parse_document(&ld, out->text, len);
	diags_flush(&ld, errbuf, errlen);
	if (ld.nerrors == 0)
		return true;
	/* Leave nothing half-built behind; scenario_free on the zeroed struct is still fine. */
	scenario_free(out);
	return false;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->text);
	free(s->description);
	free(s->steps);
	memset(s, 0, sizeof(*s));
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

int workload_total_writers(const struct workload_spec *w)
{
	int n = w->writers;

	for (int i = 0; i < w->nclient_groups; i++)
		n += w->client_groups[i].writers;
	return n;
}
