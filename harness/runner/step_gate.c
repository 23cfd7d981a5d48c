/* step_gate.c - "next" and "abort" typed on standard input, read without blocking. */
#include "step_gate.h"

#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char line[128];
static size_t used;
static bool closed;

/* One whole line typed: "abort" (or "a", "q", "quit") stops, anything else is next. */
static enum gate_answer answer_of(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if ((n == 5 && strncasecmp(s, "abort", 5) == 0) || (n == 4 && strncasecmp(s, "quit", 4) == 0) ||
	    (n == 1 && (*s == 'a' || *s == 'q')))
		return GATE_ABORT;
	return GATE_NEXT;
}

enum gate_answer step_gate_poll_stdin(bool page_can_answer)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char *nl;
	ssize_t n;

	if (memchr(line, '\n', used))
		goto take; /* typed ahead */
	if (closed)
		return page_can_answer ? GATE_WAIT : GATE_ABORT;
	/*
	 * A terminal this process group does not own: reading would stop the whole process
	 * (SIGTTIN) with its faults in force. Wait for the page, or for `fg`.
	 */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) != getpgrp())
		return GATE_WAIT;
	if (poll(&p, 1, 0) <= 0)
		return GATE_WAIT;
	if (p.revents & POLLNVAL) {
		closed = true; /* no standard input at all */
		if (page_can_answer)
			return GATE_WAIT;
		log_error("--step: no standard input and no live page (--serve) to say next");
		return GATE_ABORT;
	}
	if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
		return GATE_WAIT;
	n = read(STDIN_FILENO, line + used, sizeof(line) - 1 - used);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return GATE_WAIT;
	if (n <= 0) {
		closed = true;
		if (page_can_answer)
			return GATE_WAIT;
		log_error("--step: standard input ended and there is no live page (--serve) to say next");
		return GATE_ABORT;
	}
	used += (size_t)n;
take:
	nl = memchr(line, '\n', used);
	if (!nl) {
		if (used == sizeof(line) - 1)
			used = 0; /* a line that long is no command: drop it */
		return GATE_WAIT;
	}
	{
		enum gate_answer a = answer_of(line, (size_t)(nl - line));
		size_t rest = used - (size_t)(nl + 1 - line);

		/* Lines typed ahead count for later steps, one each. */
		memmove(line, nl + 1, rest);
		used = rest;
		return a;
	}
}
