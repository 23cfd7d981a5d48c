/*
 * nftd.h - what bise and bise-nftd (nftd.c) say to each other over their socket.
 */
#ifndef BISE_NFTD_H
#define BISE_NFTD_H

#include <stdbool.h>
#include <stdint.h>

#define NFTD_MSG_MAX (64 * 1024)  /* a script, with its leading flag byte */
#define NFTD_TEXT_MAX (60 * 1024) /* an error or output, cut there */

struct nftd_reply {
	int32_t ok;           /* 1: loaded (or, first, ready) */
	int32_t pad;
	int64_t committed_us; /* CLOCK_MONOTONIC when its commit returned */
};

#endif
