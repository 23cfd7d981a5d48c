/*
 * scenario_yaml.c - the scenario loader's generic part: positioned diagnostics, node
 * helpers, did-you-mean hints, mapping collection and typed scalar values.
 */
#include "scenario_yaml.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "util.h"
struct source_pos sy_mark_pos(yaml_mark_t m)
{
	return (struct source_pos){ .line = (int)m.line + 1, .col = (int)m.column + 1 };
}

struct source_pos sy_pos(const yaml_node_t *n)
{
	return sy_mark_pos(n->start_mark);
}

void sy_report(struct loader *ld, struct source_pos pos, const char *hint, const char *fmt, ...)
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
	ld->diags[ld->nerrors] = (struct sy_diag){ .pos = pos, .seq = ld->nerrors, .line = xstrdup(line) };
	ld->nerrors++;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct sy_diag *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Errors in file order, one per line; those that do not fit in errbuf are dropped whole. */
void sy_flush(struct loader *ld, char *errbuf, size_t errlen)
{
	size_t used = 0;

	if (ld->nerrors > 0) /* qsort(NULL, 0) is undefined */
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

bool sy_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

const char *sy_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return sy_is_null(n) ? "empty" : "a scalar";
}

yaml_node_t *sy_node(struct loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

const char *sy_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* The value as text, or NULL (reported) when it is a mapping or a sequence. */
const char *sy_scalar(struct loader *ld, const yaml_node_t *n, const char *what)
{
	if (n->type == YAML_SCALAR_NODE)
		return sy_text(n);
	sy_report(ld, sy_pos(n), NULL, "%s must be a single value, not %s", what, sy_kind(n));
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
void sy_suggest(const char *word, const char *const *cands, const char *const *more,
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

bool sy_listed(const char *const *list, const char *name)
{
	for (int i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Split "a, b, c" into items (pointing into buf); NULL-terminated. */
void sy_split_list(const char *csv, char *buf, size_t len, const char **items, int max)
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
yaml_node_t *sy_listed_before(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair)
{
	yaml_node_t *key = sy_node(ld, pair->key);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		yaml_node_t *k = sy_node(ld, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(sy_text(k), sy_text(key)) == 0)
			return k;
	}
	return NULL;
}

/* The key of a pair, or NULL (reported) if it is not a scalar or repeats an earlier key. */
const char *sy_pair_key(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair)
{
	yaml_node_t *key = sy_node(ld, pair->key), *first;
	char hint[96];

	if (key->type != YAML_SCALAR_NODE) {
		sy_report(ld, sy_pos(key), NULL, "a key must be a plain name, not %s", sy_kind(key));
		return NULL;
	}
	if (!(first = sy_listed_before(ld, map, pair)))
		return sy_text(key);
	str_format(hint, sizeof(hint), "first given at line %d, column %d; keep one",
		   sy_pos(first).line, sy_pos(first).col);
	sy_report(ld, sy_pos(key), hint, "duplicate key \"%s\"", sy_text(key));
	return NULL;
}

/*
 * Collect the values of a mapping with fixed keys into vals[] (and their key nodes into
 * keys[]); keys in extra are left to the caller. False when node is neither a mapping nor
 * empty; an empty value is an empty map.
 */
bool sy_collect(struct loader *ld, yaml_node_t *map, const char *where,
		const char *const *valid, const char *const *extra, yaml_node_t **vals,
		yaml_node_t **keys)
{
	char hint[512];

	for (int i = 0; valid[i]; i++)
		vals[i] = keys[i] = NULL;
	if (sy_is_null(map))
		return true;
	if (map->type != YAML_MAPPING_NODE) {
		sy_report(ld, sy_pos(map), "write one \"key: value\" per line under it",
			  "%s must be a mapping, not %s", where, sy_kind(map));
		return false;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *name = sy_pair_key(ld, map, p);
		int i;

		if (!name || sy_listed(extra, name))
			continue;
		for (i = 0; valid[i] && strcmp(valid[i], name) != 0; i++)
			;
		if (valid[i]) {
			vals[i] = sy_node(ld, p->value);
			keys[i] = sy_node(ld, p->key);
			continue;
		}
		sy_suggest(name, valid, extra, "valid keys", hint, sizeof(hint));
		sy_report(ld, sy_pos(sy_node(ld, p->key)), hint, "unknown key \"%s\" in %s", name, where);
	}
	return true;
}

/* ---- values ---- */

void sy_compact_duration(int64_t us, char *buf, size_t len)
{
	/* Whole minutes as minutes: max_fault_duration is usually written so. */
	if (us != 0 && us % 60000000 == 0)
		str_format(buf, len, "%" PRId64 "m", us / 60000000);
	else if (us % 1000000 == 0)
		str_format(buf, len, "%" PRId64 "s", us / 1000000);
	else if (us % 1000 == 0)
		str_format(buf, len, "%" PRId64 "ms", us / 1000);
	else
		str_format(buf, len, "%" PRId64 "us", us);
}

bool sy_duration_bounded(struct loader *ld, const yaml_node_t *n, const char *what, int64_t v)
{
	/* Sums of durations (at + wait, loop_wait + 2*retry_timeout) then stay far from overflow. */
	if (v > SY_MAX_DURATION_US) {
		sy_report(ld, sy_pos(n), "at most 24h", "%s: more than 24h is not a duration a scenario "
			  "may give", what);
		return false;
	}
	return true;
}

bool sy_duration(struct loader *ld, const yaml_node_t *n, const char *what, bool positive,
			 int64_t *out)
{
	const char *text = sy_scalar(ld, n, what);
	char why[160];
	int64_t v;

	if (!text)
		return false;
	if (!duration_parse(text, &v, why, sizeof(why))) {
		sy_report(ld, sy_pos(n), NULL, "%s: %s", what, why);
		return false;
	}
	if (positive && v == 0) {
		sy_report(ld, sy_pos(n), NULL, "%s must be more than 0", what);
		return false;
	}
	if (!sy_duration_bounded(ld, n, what, v))
		return false;
	*out = v;
	return true;
}

bool sy_int(struct loader *ld, const yaml_node_t *n, const char *what, long min, long max,
		    int *out)
{
	const char *text = sy_scalar(ld, n, what);
	char hint[64], *end;
	long v;

	if (!text)
		return false;
	str_format(hint, sizeof(hint), "a whole number from %ld to %ld", min, max);
	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || end == text) {
		sy_report(ld, sy_pos(n), hint, "%s: \"%s\" is not a whole number", what, text);
		return false;
	}
	if (errno == ERANGE || v < min || v > max) {
		sy_report(ld, sy_pos(n), hint, "%s: %s is out of range", what, text);
		return false;
	}
	*out = (int)v;
	return true;
}

/* One of choices; returns its index or -1 (reported). */
int sy_choice(struct loader *ld, const yaml_node_t *n, const char *what,
		      const char *const *choices)
{
	const char *text = sy_scalar(ld, n, what);
	char hint[256];

	if (!text)
		return -1;
	for (int i = 0; choices[i]; i++)
		if (strcmp(choices[i], text) == 0)
			return i;
	sy_suggest(text, choices, NULL, "one of", hint, sizeof(hint));
	sy_report(ld, sy_pos(n), hint, "%s: unknown value \"%s\"", what, text);
	return -1;
}

/* [first][rest]* up to maxlen, first and rest being "a-z", "a-z0-9" or "a-z0-9-". */
bool sy_ident_ok(const char *s, bool first_digit, bool dash, size_t maxlen)
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

/* libyaml's own words, at its mark. Reader errors carry a byte offset instead of a mark. */
void sy_yaml_problem(struct loader *ld, const yaml_parser_t *p, const char *text, size_t len)
{
	struct source_pos pos = sy_mark_pos(p->problem_mark);
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
			   sy_mark_pos(p->context_mark).line, sy_mark_pos(p->context_mark).col);
	sy_report(ld, pos, NULL, "not valid YAML: %s%s", p->problem ? p->problem : "unknown problem", ctx);
}

bool sy_bool(struct loader *ld, const yaml_node_t *n, const char *what, bool *out)
{
	const char *text = sy_scalar(ld, n, what);

	if (!text)
		return false;
	if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
		*out = text[0] == 't';
		return true;
	}
	sy_report(ld, sy_pos(n), "true or false", "%s: \"%s\" is not true or false", what, text);
	return false;
}

/* ---- option values: scalars and sequences as flow text ---- */

/* Append text at buf + *used; false when it does not fit. */
static bool flow_put(char *buf, size_t len, size_t *used, const char *text)
{
	size_t n = strlen(text);

	if (*used + n + 1 > len)
		return false;
	memcpy(buf + *used, text, n + 1);
	*used += n;
	return true;
}

enum flow_result { FLOW_OK, FLOW_BAD, FLOW_TOO_LONG };

/*
 * n's flow text at buf + *used. FLOW_BAD is reported here; FLOW_TOO_LONG is left to the
 * caller to report once. The length bound also ends the recursion on a sequence that
 * contains itself through an alias.
 */
static enum flow_result flow_append(struct loader *ld, const yaml_node_t *n, const char *what,
				    bool item, char *buf, size_t len, size_t *used)
{
	enum flow_result r;
	const char *text;

	if (n->type == YAML_MAPPING_NODE) {
		sy_report(ld, sy_pos(n), "a value, or a sequence such as [[geneva], [lucerne, gland]]",
			  "%s must be a value or a sequence, not a mapping", what);
		return FLOW_BAD;
	}
	if (n->type == YAML_SCALAR_NODE) {
		text = sy_text(n);
		/* Items are later split on ',' and brackets, so they cannot hold them. */
		if (item && (sy_is_null(n) || !*text || strpbrk(text, ",[] \t\r\n"))) {
			sy_report(ld, sy_pos(n), "write names such as geneva, separated by commas",
				  "%s: item \"%s\" is empty or holds ',', '[', ']' or a space", what, text);
			return FLOW_BAD;
		}
		return flow_put(buf, len, used, text) ? FLOW_OK : FLOW_TOO_LONG;
	}
	if (!flow_put(buf, len, used, "["))
		return FLOW_TOO_LONG;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		if (it > n->data.sequence.items.start && !flow_put(buf, len, used, ","))
			return FLOW_TOO_LONG;
		r = flow_append(ld, sy_node(ld, *it), what, true, buf, len, used);
		if (r != FLOW_OK)
			return r;
	}
	return flow_put(buf, len, used, "]") ? FLOW_OK : FLOW_TOO_LONG;
}

bool sy_flow_text(struct loader *ld, const yaml_node_t *n, const char *what, char *buf, size_t len)
{
	size_t used = 0;
	enum flow_result r;

	buf[0] = '\0';
	r = flow_append(ld, n, what, false, buf, len, &used);
	if (r == FLOW_TOO_LONG)
		sy_report(ld, sy_pos(n), NULL, "%s: value too long (at most %zu characters)", what,
			  len - 1);
	if (r == FLOW_OK)
		return true;
	buf[0] = '\0';
	return false;
}

bool sy_duration_max(struct loader *ld, const yaml_node_t *n, const char *what, int64_t value,
		     int64_t max)
{
	char v[24], m[24], hint[96];

	if (value <= max)
		return true;
	sy_compact_duration(value, v, sizeof(v));
	sy_compact_duration(max, m, sizeof(m));
	str_format(hint, sizeof(hint), "at most %s; check the unit (ms, s, m, h)", m);
	sy_report(ld, sy_pos(n), hint, "%s %s is longer than bise allows", what, v);
	return false;
}
