/*
 * stallfs.h - the two halves of bise-stallfs: the FUSE passthrough (stallfs.c) asks the
 * fault gate (stallfs_ctl.c) before every operation; the gate is set through the control
 * socket.
 */
#ifndef BISE_STALLFS_H
#define BISE_STALLFS_H

#include <stdbool.h>

#define STALLFS_WAL_DIR "pg_wal" /* the "wal" scope: this directory and what is below it */

/*
 * Called first by every operation; wal tells whether it touches pg_wal. Returns 0 to
 * proceed (at once, or after the delay in force, or after a stall is healed) or -EIO.
 */
int stallfs_gate(bool wal);

/*
 * Bind the control socket at path (absolute, outside the mount) and start the thread that
 * serves it. ended() is polled twice a second: once it is true (the FUSE session is over,
 * e.g. unmounted) every waiter is released. Call with SIGTERM/SIGINT/SIGHUP blocked so
 * the thread never takes them.
 */
bool stallfs_control_start(const char *path, bool (*ended)(void));

/* Async-signal-safe: ask the control thread to release every waiter and to end. */
void stallfs_control_wake(void);

/* Release every waiter for good, end the control thread, remove the socket. */
void stallfs_control_stop(void);

#endif
