/* compare_report.c - scenario by scenario, run by run: metrics, distributions, verdicts. */
#include "compare_report.h"

#include "util.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* "10.5 s [10.1-11.0]" for several trials, "10.5 s" for one, "-" when never observed. */
static void stat_text(const struct compare_stat *s, const char *unit, int decimals, char *buf,
		      size_t len)
{
	if (s->n == 0)
		str_copy(buf, len, "-");
	else if (s->n == 1 || s->min == s->max)
		str_format(buf, len, "%.*f%s", decimals, s->p50, unit);
	else
		str_format(buf, len, "%.*f%s (min %.*f, p95 %.*f, max %.*f, n=%d)", decimals, s->p50, unit,
			   decimals, s->min, decimals, s->p95, decimals, s->max, s->n);
}

static void slo_text(const struct compare_slo *s, char *buf, size_t len)
{
	int n = s->pass + s->fail + s->skip;

	if (s->fail)
		str_format(buf, len, "FAIL %d/%d", s->fail, n);
	else if (s->pass)
		str_format(buf, len, "pass %d/%d", s->pass, n);
	else
		str_format(buf, len, "skip %d/%d", s->skip, n);
}

/* The SLO rows of a scenario: the union over columns, in first-seen order. */
static int slo_rows(const struct comparison *cmp, int si, const struct compare_slo **rows, int max)
{
	int n = 0;

	for (int c = 0; c < cmp->ncolumns; c++) {
		const struct compare_cell *cell = &cmp->cells[si][c];

		for (int i = 0; i < cell->nslos; i++) {
			bool seen = false;

			for (int k = 0; k < n; k++)
				seen |= strcmp(rows[k]->metric, cell->slos[i].metric) == 0 &&
					strcmp(rows[k]->threshold, cell->slos[i].threshold) == 0;
			if (!seen && n < max)
				rows[n++] = &cell->slos[i];
		}
	}
	return n;
}

static const struct compare_slo *find_slo(const struct compare_cell *cell, const struct compare_slo *row)
{
	for (int i = 0; i < cell->nslos; i++)
		if (strcmp(cell->slos[i].metric, row->metric) == 0 &&
		    strcmp(cell->slos[i].threshold, row->threshold) == 0)
			return &cell->slos[i];
	return NULL;
}

struct metric_row {
	const char *label;
	const char *unit;
	int decimals;
	size_t offset; /* of the struct compare_stat in struct compare_cell */
};

static const struct metric_row metric_rows[] = {
	{ "failover time (write unavailability)", " s", 2, offsetof(struct compare_cell, failover_s) },
	{ "server accepting after", " s", 2, offsetof(struct compare_cell, server_accept_s) },
	{ "promotion seen after", " s", 2, offsetof(struct compare_cell, promotion_s) },
	{ "primary label switched after", " s", 2, offsetof(struct compare_cell, label_switch_s) },
	{ "acknowledged writes lost", "", 0, offsetof(struct compare_cell, lost) },
	{ "indeterminate writes", "", 0, offsetof(struct compare_cell, indeterminate) },
	{ "recovery time", " s", 2, offsetof(struct compare_cell, recovery_s) },
	{ NULL, NULL, 0, 0 },
};

static const struct compare_stat *row_stat(const struct compare_cell *cell, const struct metric_row *r)
{
	return (const struct compare_stat *)((const char *)cell + r->offset);
}

/* A row no run of the scenario could measure (the label switch off Kubernetes) is left out. */
static bool row_observed(const struct comparison *cmp, int si, const struct metric_row *r)
{
	for (int c = 0; c < cmp->ncolumns; c++)
		if (row_stat(&cmp->cells[si][c], r)->n > 0)
			return true;
	return false;
}

/*
 * A row's cell; the failover time with the widest uncertainty of its trials, from their
 * logs: every figure shown lies within that of the true windows'.
 */
static void cell_text(const struct compare_cell *cell, const struct metric_row *r, char *buf, size_t len)
{
	const struct compare_stat *u = &cell->failover_unc_ms;

	stat_text(row_stat(cell, r), r->unit, r->decimals, buf, len);
	if (r->offset == offsetof(struct compare_cell, failover_s) && row_stat(cell, r)->n > 0 && u->n > 0)
		str_format(buf + strlen(buf), len - strlen(buf), " ± %.0f ms", ceil(u->max));
}

bool compare_write_markdown(const struct comparison *cmp, FILE *out)
{
	char buf[160];

	fprintf(out, "# bise comparison\n\n");
	for (int si = 0; si < cmp->nscenarios; si++) {
		const struct compare_slo *rows[COMPARE_MAX_SLOS * COMPARE_MAX_COLUMNS];
		int nrows = slo_rows(cmp, si, rows, (int)(sizeof(rows) / sizeof(rows[0])));

		fprintf(out, "## %s\n\n| |", cmp->scenarios[si]);
		for (int c = 0; c < cmp->ncolumns; c++)
			fprintf(out, " %s |", cmp->columns[c]);
		fprintf(out, "\n|---|");
		for (int c = 0; c < cmp->ncolumns; c++)
			fprintf(out, "---|");
		fprintf(out, "\n| versions |");
		for (int c = 0; c < cmp->ncolumns; c++)
			fprintf(out, " %s |", cmp->cells[si][c].present ? cmp->cells[si][c].versions : "not run");
		fprintf(out, "\n| trials |");
		for (int c = 0; c < cmp->ncolumns; c++)
			fprintf(out, " %d |", cmp->cells[si][c].trials);
		for (int m = 0; metric_rows[m].label; m++) {
			if (!row_observed(cmp, si, &metric_rows[m]))
				continue;
			fprintf(out, "\n| %s |", metric_rows[m].label);
			for (int c = 0; c < cmp->ncolumns; c++) {
				cell_text(&cmp->cells[si][c], &metric_rows[m], buf, sizeof(buf));
				fprintf(out, " %s |", buf);
			}
		}
		for (int k = 0; k < nrows; k++) {
			fprintf(out, "\n| SLO %s %s |", rows[k]->metric, rows[k]->threshold);
			for (int c = 0; c < cmp->ncolumns; c++) {
				const struct compare_slo *s = find_slo(&cmp->cells[si][c], rows[k]);

				if (s)
					slo_text(s, buf, sizeof(buf));
				else
					str_copy(buf, sizeof(buf), "-");
				fprintf(out, " %s |", buf);
			}
		}
		fprintf(out, "\n\n");
	}
	return !ferror(out);
}

static void html_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

bool compare_write_html(const struct comparison *cmp, FILE *out)
{
	char buf[160];

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bise comparison</title>\n"
	      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
	      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f0f0f0}"
	      ".pass{background:#d8f5d8}.fail{background:#f8d0d0}.skip{background:#eee;color:#666}</style>\n"
	      "</head><body><h1>bise comparison</h1>\n", out);
	for (int si = 0; si < cmp->nscenarios; si++) {
		const struct compare_slo *rows[COMPARE_MAX_SLOS * COMPARE_MAX_COLUMNS];
		int nrows = slo_rows(cmp, si, rows, (int)(sizeof(rows) / sizeof(rows[0])));

		fputs("<h2>", out);
		html_text(out, cmp->scenarios[si]);
		fputs("</h2>\n<table><tr><th></th>", out);
		for (int c = 0; c < cmp->ncolumns; c++) {
			fputs("<th>", out);
			html_text(out, cmp->columns[c]);
			fputs("<br><small>", out);
			html_text(out, cmp->cells[si][c].present ? cmp->cells[si][c].versions : "not run");
			fputs("</small></th>", out);
		}
		fputs("</tr>\n", out);
		for (int m = 0; metric_rows[m].label; m++) {
			if (!row_observed(cmp, si, &metric_rows[m]))
				continue;
			fputs("<tr><th>", out);
			html_text(out, metric_rows[m].label);
			fputs("</th>", out);
			for (int c = 0; c < cmp->ncolumns; c++) {
				cell_text(&cmp->cells[si][c], &metric_rows[m], buf, sizeof(buf));
				fputs("<td>", out);
				html_text(out, buf);
				fputs("</td>", out);
			}
			fputs("</tr>\n", out);
		}
		for (int k = 0; k < nrows; k++) {
			fputs("<tr><th>SLO ", out);
			html_text(out, rows[k]->metric);
			fputc(' ', out);
			html_text(out, rows[k]->threshold);
			fputs("</th>", out);
			for (int c = 0; c < cmp->ncolumns; c++) {
				const struct compare_slo *s = find_slo(&cmp->cells[si][c], rows[k]);
				const char *cls = !s ? "skip" : s->fail ? "fail" : s->pass ? "pass" : "skip";

				if (s)
					slo_text(s, buf, sizeof(buf));
				else
					str_copy(buf, sizeof(buf), "-");
				fprintf(out, "<td class=\"%s\">", cls);
				html_text(out, buf);
				fputs("</td>", out);
			}
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	}
	fputs("</body></html>\n", out);
	return !ferror(out);
}
