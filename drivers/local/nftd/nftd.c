/*
 * nftd.c - bise-nftd: loads nftables scripts inside one network namespace, one transaction
 * each, for as long as its socket stays open. The local backend keeps one per namespace
 * (netfault_nft.c) from the cluster's warm-up on, so that a fault's rules cost a wake-up
 * and the commit. A process of its own, not a thread of bise's: a thread's memory was
 * copy-on-write after each fork bise made (a version check, a restarted member), and the
 * first transaction after one took 15-20 ms instead of 1 ms.
 *
 *   bise-nftd NSPATH|-      (NSPATH: /run/netns/<name>; -: stay in the current namespace)
 *
 * fd 3 is a SOCK_SEQPACKET socket. First it sends one reply saying whether it entered the
 * namespace and made its context; then each message received is a script (its first byte
 * 'o' when the caller wants what the script printed, '-' otherwise), answered with one
 * reply: struct nftd_reply, then the error text (failure) or the output (when wanted). It
 * exits when the socket is closed: when bise ends, however it ends.
 */
#include "nftd.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NFTD_FD 3

static char msg[NFTD_MSG_MAX + 1];
static char reply[sizeof(struct nftd_reply) + NFTD_TEXT_MAX];

/* Send a reply with text (may be NULL); false when the socket is gone. */
static bool answer(bool ok, int64_t committed_us, const char *text)
{
	struct nftd_reply r = { .ok = ok ? 1 : 0, .committed_us = committed_us };
	size_t len = text ? strlen(text) : 0;

	if (len > NFTD_TEXT_MAX)
		len = NFTD_TEXT_MAX;
	memcpy(reply, &r, sizeof(r));
	if (len)
		memcpy(reply + sizeof(r), text, len);
	return send(NFTD_FD, reply, sizeof(r) + len, MSG_NOSIGNAL) >= 0;
}

int main(int argc, char **argv)
{
	struct nft_ctx *ctx;
	char why[256];

	if (argc != 2) {
		log_error("usage: bise-nftd NSPATH|-");
		return 2;
	}
	if (strcmp(argv[1], "-") != 0) {
		int fd = open(argv[1], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
			str_format(why, sizeof(why), "cannot enter %s: %s", argv[1], strerror(errno));
			answer(false, 0, why);
			return 1;
		}
		close(fd);
	}
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		answer(false, 0, "cannot create an nftables context");
		return 1;
	}
	nft_ctx_buffer_error(ctx);
	nft_ctx_buffer_output(ctx);
	if (!answer(true, mono_now_us(), NULL))
		return 1;
	for (;;) {
		ssize_t n = recv(NFTD_FD, msg, NFTD_MSG_MAX, 0);
		const char *err, *out;
		int64_t at;
		bool ok;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 1)
			break; /* closed (or nothing to run): bise is done with us */
		msg[n] = '\0';
		ok = nft_run_cmd_from_buffer(ctx, msg + 1) == 0;
		at = mono_now_us();
		/* Reading a buffer empties it for the next script. */
		err = nft_ctx_get_error_buffer(ctx);
		out = nft_ctx_get_output_buffer(ctx);
		if (!answer(ok, at, !ok ? (err && *err ? err : "nft failed") : msg[0] == 'o' ? out : NULL))
			break;
	}
	nft_ctx_free(ctx);
	return 0;
}
