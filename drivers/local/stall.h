/*
 * stall.h - the local backend's storage-stall fault. With cluster.fuse each zone's data
 * directory <zone>/pgdata is a FUSE mount of <zone>/pgdata.backing served by bise-stallfs
 * (drivers/local/stallfs/), started as root in the root mount namespace before Patroni,
 * with its control socket <zone>/stallfs.sock, PID file <zone>/stallfs.pid and log
 * <zone>/stallfs.log. Faults are commands on the control socket.
 */
#ifndef BISE_LOCAL_STALL_H
#define BISE_LOCAL_STALL_H

#include <stdbool.h>
#include <stddef.h>

#include "local.h"

/* What a FUSE cluster needs on this machine (/dev/fuse, the bise-stallfs binary). */
bool stall_preflight(char *why, size_t why_len);

/* Serve zone i's data directory through bise-stallfs; returns once it is mounted. */
bool stall_mount(struct driver *d, int i, char *why, size_t why_len);

/*
 * Release whatever zone i's filesystem holds (heal, or abort the connection if the daemon
 * does not answer). Call before killing processes: a process blocked on a stalled FUSE
 * mount ignores SIGKILL. Idempotent; true when nothing is left blocked.
 */
bool stall_release(struct driver *d, int i);

/* Unmount zone i's data directory and end its daemon by PID. Idempotent. */
bool stall_unmount(struct driver *d, int i);

/* driver ops: io_fault / io_heal (idempotent) / the storage part of sweep. */
bool stall_io_fault(struct driver *d, const char *member, const struct io_fault *f);
bool stall_io_heal(struct driver *d, const char *member);
bool stall_sweep(struct driver *d);

#endif
