/*
 * scenario_yaml.h - internal to the scenario loader (scenario*.c): the loader state, the
 * positioned diagnostics and the generic helpers over libyaml document nodes. The sy_
 * prefix keeps these out of the way of other modules' names in bise_core.
 */
#ifndef BISE_SCENARIO_YAML_H
#define BISE_SCENARIO_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "scenario.h"

/* Enough slots for the keys of any mapping of the format. */
#define SY_MAX_KEYS 32

struct sy_diag {
	struct source_pos pos;
	int seq; /* report order, to keep the sort stable */
	char *line;
};

struct loader {
	const char *path;
	yaml_document_t *doc;
	struct sy_diag *diags; /* sorted by position before they reach errbuf */
	int nerrors;
	int cap;
	struct scenario *sc;
	bool zones_ok;     /* cluster.zones usable for checking step targets and client zones */
	bool max_fault_ok; /* sc->max_fault_us usable for checking fault steps */
};

/* 1-based position of a libyaml mark. */
struct source_pos sy_mark_pos(yaml_mark_t m);

/* Where a node starts. */
struct source_pos sy_pos(const yaml_node_t *n);

/*
 * Record "PATH:LINE:COL: error: MESSAGE (hint: HINT)"; hint may be NULL. Every problem is
 * kept so the user sees them all at once.
 */
void sy_report(struct loader *ld, struct source_pos pos, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Write the recorded errors to errbuf in file order, one per line (those that do not fit
 * are dropped whole), and free them. errbuf may be NULL.
 */
void sy_flush(struct loader *ld, char *errbuf, size_t errlen);

/* libyaml's own words about a parse failure, at its position. */
void sy_yaml_problem(struct loader *ld, const yaml_parser_t *p, const char *text, size_t len);

/* An empty plain scalar, ~ or null. */
bool sy_is_null(const yaml_node_t *n);

/* "a mapping", "a sequence", "a scalar" or "empty", for messages. */
const char *sy_kind(const yaml_node_t *n);

/* The node of an index in the current document. */
yaml_node_t *sy_node(struct loader *ld, int index);

/* The text of a scalar node (the caller knows it is one). */
const char *sy_text(const yaml_node_t *n);

/* The value as text, or NULL (reported, naming it what) when it is not a scalar. */
const char *sy_scalar(struct loader *ld, const yaml_node_t *n, const char *what);

/*
 * Hint text: 'did you mean "x"? LABEL: a, b, c' over cands then more (either may be NULL);
 * the "did you mean" part only when a candidate is close to word.
 */
void sy_suggest(const char *word, const char *const *cands, const char *const *more,
		const char *label, char *buf, size_t len);

/* Whether name is in a NULL-terminated list (which may itself be NULL). */
bool sy_listed(const char *const *list, const char *name);

/* Split "a, b, c" into at most max-1 items pointing into buf; NULL-terminated. */
void sy_split_list(const char *csv, char *buf, size_t len, const char **items, int max);

/* The key node of an earlier pair of map with the same key as pair, or NULL. */
yaml_node_t *sy_listed_before(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair);

/* The key of a pair, or NULL (reported) if it is not a scalar or repeats an earlier key. */
const char *sy_pair_key(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair);

/*
 * Collect the values of a mapping with the fixed keys valid[] into vals[] (and their key
 * nodes into keys[]), reporting unknown and repeated keys; keys listed in extra are left
 * to the caller. False (reported) when map is neither a mapping nor empty; an empty value
 * is an empty mapping.
 */
bool sy_collect(struct loader *ld, yaml_node_t *map, const char *where, const char *const *valid,
		const char *const *extra, yaml_node_t **vals, yaml_node_t **keys);

/* The shortest exact form of a duration: "10m", "11s", "250ms", "7us". */
void sy_compact_duration(int64_t us, char *buf, size_t len);

/* A duration value into *out (untouched on error, reported); positive rejects 0. */
/* The longest duration a scenario may give (at, wait, timeouts, Patroni timing). */
#define SY_MAX_DURATION_US (24 * 3600 * INT64_C(1000000))

/* false (reported at n) when v is more than SY_MAX_DURATION_US. */
bool sy_duration_bounded(struct loader *ld, const yaml_node_t *n, const char *what, int64_t v);

bool sy_duration(struct loader *ld, const yaml_node_t *n, const char *what, bool positive,
		 int64_t *out);

/* A whole number from min to max into *out (untouched on error, reported). */
bool sy_int(struct loader *ld, const yaml_node_t *n, const char *what, long min, long max, int *out);

/* One of choices: its index, or -1 (reported with the choices). */
int sy_choice(struct loader *ld, const yaml_node_t *n, const char *what, const char *const *choices);

/* true or false into *out (untouched on error, reported). */
bool sy_bool(struct loader *ld, const yaml_node_t *n, const char *what, bool *out);

/*
 * [first][rest]* of at most maxlen characters, from a-z, plus digits (not first unless
 * first_digit) and '-' (not first) when dash.
 */
bool sy_ident_ok(const char *s, bool first_digit, bool dash, size_t maxlen);

/*
 * A scalar, or a sequence (possibly nested) of scalars, as compact flow text without
 * spaces: [[geneva], [lucerne, gland]] gives "[[geneva],[lucerne,gland]]". A scalar is
 * kept as written. False (reported at the offending node, naming it what) for a mapping,
 * an item that is empty or holds ',', '[', ']' or a space, or text longer than len - 1.
 */
bool sy_flow_text(struct loader *ld, const yaml_node_t *n, const char *what, char *buf, size_t len);

/* A duration already loaded into value, at most max (reported with a hint otherwise). */
bool sy_duration_max(struct loader *ld, const yaml_node_t *n, const char *what, int64_t value,
		     int64_t max);

#endif
