/* report_text.c - escaping and number formatting shared by the report writers. */
#include "report.h"
#include "units.h"
#include "util.h"

#include <csv.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

void report_xml_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			/* XML 1.0 forbids most control characters even as references. */
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				fputc('?', out);
			else
				fputc(c, out);
		}
	}
}

void report_md_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '|': fputs("\\|", out); break;
		case '\\': fputs("\\\\", out); break;
		case '`': fputs("\\`", out); break;
		case '*': fputs("\\*", out); break;
		case '_': fputs("\\_", out); break;
		/* GitHub renders HTML inside Markdown: a name must not become a tag. */
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '\n':
		case '\r':
		case '\t': fputc(' ', out); break;
		default:
			fputc(c < 0x20 ? '?' : c, out);
		}
	}
}

const char *report_verdict_note(const struct verdict *v)
{
	/* slo_judge words a plain threshold failure "measured X, wanted M OP T". */
	if (v->kind == VERDICT_FAIL && strncmp(v->reason, "measured ", 9) == 0)
		return "";
	return v->reason;
}

const char *report_measured(const struct verdict *v)
{
	if (v->kind == VERDICT_SKIP || !v->measured_text[0])
		return "-";
	return v->measured_text;
}

void report_metric_format(enum metric_id id, double value, char *buf, size_t len)
{
	enum slo_unit unit = SLO_UNIT_COUNT;
	const char *name = metric_name(id);

	if (isinf(value)) {
		str_copy(buf, len, "never");
		return;
	}
	if (name)
		slo_metric_known(name, &unit);
	switch (unit) {
	case SLO_UNIT_DURATION:
		duration_format((int64_t)llround(value), buf, len);
		return;
	case SLO_UNIT_BYTES:
		size_format(value, buf, len);
		return;
	case SLO_UNIT_PERCENT:
		str_format(buf, len, "%.2f%%", value);
		return;
	case SLO_UNIT_COUNT:
		break;
	}
	str_format(buf, len, "%" PRId64, (int64_t)llround(value));
}

/* A bound: rounded up to what duration_format shows (1 ms, 10 ms, 1 s by magnitude). */
static void bound_format(int64_t u, char *buf, size_t len)
{
	if (u >= 60000000)
		u = (u + 999999) / 1000000 * 1000000;
	else if (u >= 1000000)
		u = (u + 9999) / 10000 * 10000;
	else if (u >= 1000)
		u = (u + 999) / 1000 * 1000;
	duration_format(u, buf, len);
}

void report_failover_format(const struct metrics *m, char *buf, size_t len)
{
	char dur[32], unc[32];

	duration_format(m->wuw_dur_us, dur, sizeof(dur));
	bound_format(m->failover_uncertainty_us, unc, sizeof(unc));
	str_format(buf, len, "%s ± %s", dur, unc);
}

int64_t report_failover_uncertainty_max(const struct scenario_result *r)
{
	int64_t u = 0;

	for (int i = 0; i < r->ntrials; i++) {
		const struct metrics *m = &r->trials[i].metrics;

		if (m->outage_closed && m->failover_uncertainty_us > u)
			u = m->failover_uncertainty_us;
	}
	return u;
}

void report_failover_stat_suffix(const struct scenario_result *r, char *buf, size_t len)
{
	int64_t u = report_failover_uncertainty_max(r);
	char unc[32];

	if (u <= 0) {
		str_copy(buf, len, "");
		return;
	}
	bound_format(u, unc, sizeof(unc));
	str_format(buf, len, " ± %s", unc);
}

void report_accept_format(const struct metrics *m, char *buf, size_t len)
{
	char acc[32], wait[32], ack[32];

	if (!m->accept_seen || !m->outage_closed) {
		str_copy(buf, len, "");
		return;
	}
	duration_format(m->accept_dur_us, acc, sizeof(acc));
	duration_format(m->accept_wait_us, wait, sizeof(wait));
	duration_format(m->wuw_dur_us, ack, sizeof(ack));
	str_format(buf, len, "server accepting after %s (that connection waited %s), first ack after %s", acc,
		   wait, ack);
}

void report_csv_cell(FILE *out, bool first, const char *s)
{
	if (!first)
		fputc(',', out);
	if (!s)
		return;
	/* Plain cells (numbers, names) stay unquoted so the file reads well in a terminal. */
	if (s[strcspn(s, ",\"\r\n")] == '\0' && s[0] != ' ')
		fputs(s, out);
	else
		csv_fwrite(out, s, strlen(s));
}

const struct verdict *report_trial_verdict(const struct trial_result *t, const struct scenario *sc,
					   int slo_index)
{
	for (int k = 0; k < t->nverdicts; k++)
		if (t->verdicts[k].slo == &sc->slos[slo_index])
			return &t->verdicts[k];
	/* Verdicts judged against a copy of the scenario follow its SLO order. */
	if (slo_index < t->nverdicts && t->verdicts[slo_index].slo &&
	    strcmp(t->verdicts[slo_index].slo->text, sc->slos[slo_index].text) == 0 &&
	    strcmp(t->verdicts[slo_index].slo->metric, sc->slos[slo_index].metric) == 0)
		return &t->verdicts[slo_index];
	return NULL;
}
