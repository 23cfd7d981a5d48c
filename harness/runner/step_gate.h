/*
 * step_gate.h - `bise run --step`: before each fault step the executor waits for "next",
 * typed on the terminal (a line: Enter or "next"; "abort" stops the run as SIGINT does) or
 * pressed on the live page (live.h). Internal to bise_runner.
 */
#ifndef BISE_STEP_GATE_H
#define BISE_STEP_GATE_H

#include <stdbool.h>

enum gate_answer { GATE_WAIT, GATE_NEXT, GATE_ABORT };

/*
 * What standard input said since the last call, without blocking. At its end (EOF, not a
 * terminal any more) it says GATE_WAIT for ever, or GATE_ABORT when nothing else can say
 * next (no live page): a run must not hang on a closed input.
 */
enum gate_answer step_gate_poll_stdin(bool page_can_answer);

#endif
