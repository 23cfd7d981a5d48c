/* units.h - durations ("500ms", "10s", "2m") and sizes ("16MiB") as written in scenarios. */
#ifndef BISE_UNITS_H
#define BISE_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse a duration with a mandatory unit: us, ms, s, m, h; decimals allowed ("1.5s").
 * Returns false with a human-readable reason in why (if not NULL) on bad input,
 * negative values or overflow.
 */
bool duration_parse(const char *text, int64_t *out_us, char *why, size_t why_len);

/* Format a duration for people: "850ms", "9.84s", "2m05s". */
void duration_format(int64_t us, char *buf, size_t len);

/*
 * Parse a size: a plain integer is bytes; units B, kB, MB, GB (powers of 1000) and
 * KiB, MiB, GiB (powers of 1024).
 */
bool size_parse(const char *text, int64_t *out_bytes, char *why, size_t why_len);

/* Format a size for people in powers of 1024, three significant digits: "512 B", "12.3 KiB", "3.05 MiB". */
void size_format(double bytes, char *buf, size_t len);

#endif
