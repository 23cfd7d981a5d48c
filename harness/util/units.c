/*
 * units.c - durations and sizes as people write them in scenarios.
 *
 * Numbers are parsed by hand rather than with strtod: strtod accepts "inf", "1e3",
 * hex and leading blanks, none of which belongs in a scenario file.
 */
#include "units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

struct unit {
	const char *name;
	int64_t mult;
};

static const struct unit duration_units[] = {
	{ "us", 1 },
	{ "ms", 1000 },
	{ "s", 1000000 },
	{ "m", 60 * INT64_C(1000000) },
	{ "h", 3600 * INT64_C(1000000) },
	{ NULL, 0 },
};

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "kB", 1000 },
	{ "MB", 1000 * 1000 },
	{ "GB", 1000 * 1000 * 1000 },
	{ "KiB", 1024 },
	{ "MiB", 1024 * 1024 },
	{ "GiB", 1024 * 1024 * 1024 },
	{ NULL, 0 },
};

static void set_why(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* A decimal number split at its point: "12.5" -> whole 12, frac 0.5. */
struct decimal {
	int64_t whole;
	long double frac;
	bool has_point;
	bool overflow;
};

/* Parse [0-9]+(\.[0-9]+)? at *p; returns false when no number is there. */
static bool decimal_scan(const char **p, struct decimal *d)
{
	const char *s = *p;
	long double scale = 0.1L;

	memset(d, 0, sizeof(*d));
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (d->whole > (INT64_MAX - (*s - '0')) / 10)
			d->overflow = true;
		else
			d->whole = d->whole * 10 + (*s - '0');
	}
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return false;
		d->has_point = true;
		for (s++; *s >= '0' && *s <= '9'; s++) {
			d->frac += (*s - '0') * scale;
			scale /= 10;
		}
	}
	*p = s;
	return true;
}

/* whole * mult + round(frac * mult), or false on overflow. */
static bool decimal_scale(const struct decimal *d, int64_t mult, int64_t *out)
{
	int64_t frac_part;

	if (d->overflow || d->whole > INT64_MAX / mult)
		return false;
	frac_part = (int64_t)(d->frac * mult + 0.5L); /* non-negative: no libm needed */
	if (d->whole * mult > INT64_MAX - frac_part)
		return false;
	*out = d->whole * mult + frac_part;
	return true;
}

static const struct unit *unit_find(const struct unit *units, const char *name)
{
	for (int i = 0; units[i].name; i++)
		if (strcmp(units[i].name, name) == 0)
			return &units[i];
	return NULL;
}

/* Split "12.5ms" at the unit; returns false (with why) when the number is malformed. */
static bool split_number(const char *text, const char *what, struct decimal *d,
			 const char **unit, char *why, size_t why_len)
{
	const char *p = text;

	if (!text || !*text) {
		set_why(why, why_len, "empty %s (hint: write e.g. %s)", what,
			strcmp(what, "size") == 0 ? "16MiB" : "10s");
		return false;
	}
	if (*p == '-') {
		set_why(why, why_len, "\"%.40s\" is negative (hint: a %s cannot be below zero)",
			text, what);
		return false;
	}
	if (!decimal_scan(&p, d)) {
		set_why(why, why_len, "\"%.40s\" is not a %s (hint: a number then a unit, e.g. %s)",
			text, what, strcmp(what, "size") == 0 ? "16MiB" : "1.5s");
		return false;
	}
	*unit = p;
	return true;
}

bool duration_parse(const char *text, int64_t *out_us, char *why, size_t why_len)
{
	struct decimal d;
	const char *p, *end;
	const struct unit *u;
	char name[8];
	int64_t us;

	if (!split_number(text, "duration", &d, &p, why, why_len))
		return false;
	if (!*p) {
		set_why(why, why_len, "\"%.40s\" has no unit (hint: write %.40ss or %.40sms)",
			text, text, text);
		return false;
	}
	for (end = p; (*end >= 'a' && *end <= 'z') || (*end >= 'A' && *end <= 'Z'); end++)
		;
	if (end == p || *end) {
		set_why(why, why_len,
			"\"%.40s\" has trailing characters \"%.20s\" (hint: one number and one unit, e.g. 1.5s)",
			text, end == p ? p : end);
		return false;
	}
	if ((size_t)(end - p) >= sizeof(name) || !str_copy(name, sizeof(name), p) ||
	    !(u = unit_find(duration_units, name))) {
		set_why(why, why_len, "unknown unit \"%.20s\" in \"%.40s\" (hint: use us, ms, s, m or h)",
			p, text);
		return false;
	}
	if (!decimal_scale(&d, u->mult, &us)) {
		set_why(why, why_len, "\"%.40s\" is too large", text);
		return false;
	}
	*out_us = us;
	return true;
}

void duration_format(int64_t us, char *buf, size_t len)
{
	const char *sign = "";
	int64_t cs, s;

	if (len == 0)
		return;
	if (us < 0) {
		sign = "-";
		us = us == INT64_MIN ? INT64_MAX : -us;
	}
	if (us == 0) {
		str_copy(buf, len, "0s");
		return;
	}
	if (us < 1000) {
		str_format(buf, len, "%s%" PRId64 "us", sign, us);
		return;
	}
	if (us < 1000000) {
		str_format(buf, len, "%s%" PRId64 "ms", sign, us / 1000);
		return;
	}
	cs = (us + 5000) / 10000;
	if (cs < 6000) {
		str_format(buf, len, "%s%" PRId64 ".%02" PRId64 "s", sign, cs / 100, cs % 100);
		return;
	}
	s = (us + 500000) / 1000000;
	if (s < 3600)
		str_format(buf, len, "%s%" PRId64 "m%02" PRId64 "s", sign, s / 60, s % 60);
	else
		str_format(buf, len, "%s%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", sign,
			   s / 3600, s / 60 % 60, s % 60);
}

bool size_parse(const char *text, int64_t *out_bytes, char *why, size_t why_len)
{
	struct decimal d;
	const struct unit *u;
	const char *p;
	int64_t bytes;

	if (!split_number(text, "size", &d, &p, why, why_len))
		return false;
	if (!*p) {
		if (d.has_point) {
			set_why(why, why_len,
				"\"%.40s\" is a fraction of a byte (hint: a plain number counts bytes; add a unit such as MiB)",
				text);
			return false;
		}
		u = &size_units[0];
	} else if (!(u = unit_find(size_units, p))) {
		set_why(why, why_len,
			"unknown unit \"%.20s\" in \"%.40s\" (hint: use B, kB, MB, GB, KiB, MiB or GiB)",
			p, text);
		return false;
	}
	if (!decimal_scale(&d, u->mult, &bytes)) {
		set_why(why, why_len, "\"%.40s\" is too large", text);
		return false;
	}
	*out_bytes = bytes;
	return true;
}

void size_format(double bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	const char *sign = bytes < 0 ? "-" : "";
	double v = bytes < 0 ? -bytes : bytes;
	int u = -1;

	if (len == 0)
		return;
	if (v < 1023.5) {
		str_format(buf, len, "%s%.0f B", sign, v);
		return;
	}
	/* Three significant digits; 1023.9 KiB would print as "1024 KiB", so promote before. */
	while (u < 3 && v >= 1023.5) {
		v /= 1024;
		u++;
	}
	if (v < 9.995)
		str_format(buf, len, "%s%.2f %s", sign, v, unit[u]);
	else if (v < 99.95)
		str_format(buf, len, "%s%.1f %s", sign, v, unit[u]);
	else
		str_format(buf, len, "%s%.0f %s", sign, v, unit[u]);
}
