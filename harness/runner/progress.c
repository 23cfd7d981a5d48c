/* progress.c - live status line on a terminal, plain timestamped lines otherwise. */
#include "progress.h"

#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TTY_PERIOD_US 250000
#define PLAIN_PERIOD_US 5000000

static bool tty;
static bool line_shown;
static int64_t last_draw_us;
static int64_t last_ok;
static int64_t last_attempted, last_failed;
static int64_t last_rate_us;
static double ok_rate, err_rate;

void progress_init(void)
{
	const char *term = getenv("TERM");

	tty = isatty(STDERR_FILENO) && term && strcmp(term, "dumb") != 0;
	line_shown = false;
	last_draw_us = 0;
	last_rate_us = 0;
	last_ok = last_attempted = last_failed = 0;
	ok_rate = err_rate = 0;
}

static void clear_line(void)
{
	if (tty && line_shown) {
		fputs("\r\033[K", stderr);
		line_shown = false;
	}
}

/* Rates over the last interval, so a person sees the outage as it happens. */
static void update_rates(const struct progress_snapshot *s, int64_t now)
{
	double dt;

	if (last_rate_us == 0 || s->attempted < last_attempted) {
		last_rate_us = now;
		last_ok = s->ok;
		last_failed = s->failed;
		last_attempted = s->attempted;
		return;
	}
	dt = (double)(now - last_rate_us) / 1e6;
	if (dt < 0.5)
		return;
	ok_rate = (double)(s->ok - last_ok) / dt;
	err_rate = (double)(s->failed - last_failed) / dt;
	last_rate_us = now;
	last_ok = s->ok;
	last_failed = s->failed;
	last_attempted = s->attempted;
}

void progress_update(const struct progress_snapshot *s)
{
	int64_t now = mono_now_us();
	char remaining[32] = "";
	char line[256];

	if (log_get_level() < LOG_INFO)
		return;
	update_rates(s, now);
	if (now - last_draw_us < (tty ? TTY_PERIOD_US : PLAIN_PERIOD_US))
		return;
	last_draw_us = now;
	if (s->planned_s > s->elapsed_s)
		str_format(remaining, sizeof(remaining), ", ~%.0fs left", s->planned_s - s->elapsed_s);
	str_format(line, sizeof(line),
		   "%s %d/%d %s step %d/%d | primary %s | %.0f ok/s, %.0f err/s | %.0fs%s",
		   s->scenario, s->trial, s->trials, s->phase, s->step, s->nsteps,
		   s->primary && s->primary[0] ? s->primary : "none", ok_rate, err_rate, s->elapsed_s,
		   remaining);
	if (tty) {
		fprintf(stderr, "\r\033[K%s", line);
		line_shown = true;
	} else {
		fprintf(stderr, "bise: [%7.2fs] %s\n", s->elapsed_s, line);
	}
	fflush(stderr);
}

void progress_note(double elapsed_s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (log_get_level() < LOG_INFO)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clear_line();
	fprintf(stderr, "bise: [%7.2fs] %s\n", elapsed_s, msg);
	/* Redraw the status line soon after a note, not a whole period later. */
	last_draw_us = 0;
	fflush(stderr);
}

void progress_done(void)
{
	clear_line();
	fflush(stderr);
}
