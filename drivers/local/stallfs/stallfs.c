/*
 * stallfs.c - bise-stallfs, a passthrough FUSE filesystem whose disk can be made to stall,
 * slow down or fail on command: the local backend's storage-stall fault.
 *
 *   bise-stallfs --backing DIR --mount DIR --control SOCKET [--pidfile FILE] [--ready-fd N]
 *
 * Every path resolves against a descriptor of the backing directory opened before
 * mounting (the *at calls), so the mount never sees itself. The control socket (an
 * absolute path outside the mount) takes one command per connection and answers one line:
 *   stall all|wal        every operation in scope blocks until heal
 *   delay <us> all|wal   every operation in scope waits <us> first
 *   eio all|wal          every operation in scope fails with EIO
 *   heal                 back to normal; wakes everything blocked
 *   status               mode=... scope=... delay_us=... blocked=... eio=... ops=...
 * "wal" is pg_wal/ and what is below it. The FUSE loop is multi-threaded, so a stalled
 * operation holds one worker thread and nothing else.
 */
#define FUSE_USE_VERSION 314

#include <fuse.h>
#include <fuse_lowlevel.h>

#include "stallfs.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_WORKERS 512 /* stalled operations each hold a worker: room for many */

static int backing_fd = -1;
static struct fuse *fuse_handle;

/* An open file or directory: its descriptor, and whether it was opened under pg_wal. */
struct handle {
	int fd;
	bool wal;
	DIR *dir;
	struct dirent *entry;
	off_t offset;
	pthread_mutex_t lock; /* readdir state */
};

static bool path_in_wal(const char *path)
{
	size_t n = strlen(STALLFS_WAL_DIR);

	if (!path || path[0] != '/' || strncmp(path + 1, STALLFS_WAL_DIR, n) != 0)
		return false;
	return path[1 + n] == '\0' || path[1 + n] == '/';
}

/* The path relative to the backing directory ("." for the root). */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static struct handle *handle_of(const struct fuse_file_info *fi)
{
	return fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
}

static int gate_path(const char *path)
{
	return stallfs_gate(path_in_wal(path));
}

static int gate_fi(const char *path, const struct fuse_file_info *fi)
{
	const struct handle *h = handle_of(fi);

	return stallfs_gate(h ? h->wal : path_in_wal(path));
}

/* Created entries belong to the caller, not to the daemon (root). */
static int give_to_caller(const char *relpath)
{
	struct fuse_context *ctx = fuse_get_context();

	if (fchownat(backing_fd, relpath, ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	return 0;
}

static void *sfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;
	cfg->nullpath_ok = 1;  /* fd-based operations need no path */
	cfg->hard_remove = 1;  /* no .fuse_hidden files: an unlinked open file lives on its fd */
	cfg->kernel_cache = 1; /* every change goes through this mount: the page cache stays valid */
	return NULL;
}

static int sfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = gate_fi(path, fi);

	if (rc)
		return rc;
	if (h)
		rc = fstat(h->fd, st);
	else
		rc = fstatat(backing_fd, rel(path), st, AT_SYMLINK_NOFOLLOW);
	return rc ? -errno : 0;
}

static int sfs_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int rc = gate_path(path);

	if (rc)
		return rc;
	if (size == 0)
		return -EINVAL;
	n = readlinkat(backing_fd, rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int sfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	int rc = gate_path(path);

	if (rc)
		return rc;
	if (mknodat(backing_fd, rel(path), mode, rdev) != 0)
		return -errno;
	return give_to_caller(rel(path));
}

static int sfs_mkdir(const char *path, mode_t mode)
{
	int rc = gate_path(path);

	if (rc)
		return rc;
	if (mkdirat(backing_fd, rel(path), mode) != 0)
		return -errno;
	return give_to_caller(rel(path));
}

static int sfs_unlink(const char *path)
{
	int rc = gate_path(path);

	if (rc)
		return rc;
	return unlinkat(backing_fd, rel(path), 0) ? -errno : 0;
}

static int sfs_rmdir(const char *path)
{
	int rc = gate_path(path);

	if (rc)
		return rc;
	return unlinkat(backing_fd, rel(path), AT_REMOVEDIR) ? -errno : 0;
}

static int sfs_symlink(const char *target, const char *path)
{
	int rc = gate_path(path);

	if (rc)
		return rc;
	if (symlinkat(target, backing_fd, rel(path)) != 0)
		return -errno;
	return give_to_caller(rel(path));
}

static int sfs_rename(const char *from, const char *to, unsigned int flags)
{
	int rc = stallfs_gate(path_in_wal(from) || path_in_wal(to));

	if (rc)
		return rc;
	return renameat2(backing_fd, rel(from), backing_fd, rel(to), flags) ? -errno : 0;
}

static int sfs_link(const char *from, const char *to)
{
	int rc = stallfs_gate(path_in_wal(from) || path_in_wal(to));

	if (rc)
		return rc;
	return linkat(backing_fd, rel(from), backing_fd, rel(to), 0) ? -errno : 0;
}

static int sfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = gate_fi(path, fi);

	if (rc)
		return rc;
	rc = h ? fchmod(h->fd, mode) : fchmodat(backing_fd, rel(path), mode, 0);
	return rc ? -errno : 0;
}

static int sfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = gate_fi(path, fi);

	if (rc)
		return rc;
	rc = h ? fchown(h->fd, uid, gid)
	       : fchownat(backing_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
	return rc ? -errno : 0;
}

static int sfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = gate_fi(path, fi), fd;

	if (rc)
		return rc;
	if (h)
		return ftruncate(h->fd, size) ? -errno : 0;
	fd = openat(backing_fd, rel(path), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = ftruncate(fd, size) ? -errno : 0;
	close(fd);
	return rc;
}

static int sfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = gate_fi(path, fi);

	if (rc)
		return rc;
	rc = h ? futimens(h->fd, tv) : utimensat(backing_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
	return rc ? -errno : 0;
}

static struct handle *handle_new(int fd, bool wal)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fd = fd;
	h->wal = wal;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

/* The handle itself; its descriptor or directory stream is closed by the caller. */
static void handle_free(struct handle *h)
{
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int open_common(const char *path, int flags, mode_t mode, bool create,
		       struct fuse_file_info *fi)
{
	struct handle *h;
	int fd, rc = gate_path(path);

	if (rc)
		return rc;
	flags = (flags & ~O_NOFOLLOW) | O_CLOEXEC;
	fd = create ? openat(backing_fd, rel(path), flags | O_CREAT, mode)
		    : openat(backing_fd, rel(path), flags);
	if (fd < 0)
		return -errno;
	if (create) {
		struct fuse_context *ctx = fuse_get_context();

		if (fchown(fd, ctx->uid, ctx->gid) != 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
	}
	h = handle_new(fd, path_in_wal(path));
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static int sfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return open_common(path, fi->flags, mode, true, fi);
}

static int sfs_open(const char *path, struct fuse_file_info *fi)
{
	return open_common(path, fi->flags, 0, false, fi);
}

static int sfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	size_t done = 0;
	int rc = stallfs_gate(h->wal);

	if (rc)
		return rc;
	/* Short reads mean end of file to the kernel: read until full or EOF. */
	while (done < size) {
		ssize_t n = pread(h->fd, buf + done, size - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (int)done : -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (int)done;
}

static int sfs_write(const char *path, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	size_t done = 0;
	int rc = stallfs_gate(h->wal);

	if (rc)
		return rc;
	while (done < size) {
		ssize_t n = pwrite(h->fd, buf + done, size - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (int)done : n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return (int)done;
}

static int sfs_statfs(const char *path, struct statvfs *st)
{
	int rc = gate_path(path);

	if (rc)
		return rc;
	return fstatvfs(backing_fd, st) ? -errno : 0;
}

static int sfs_flush(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = stallfs_gate(h->wal), fd;

	if (rc)
		return rc;
	/* close(2) of a duplicate: what the backing filesystem reports at close time. */
	fd = dup(h->fd);
	if (fd < 0)
		return -errno;
	return close(fd) ? -errno : 0;
}

/* Never gated: it only frees our descriptor, and the kernel does not wait for it. */
static int sfs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	close(h->fd);
	handle_free(h);
	return 0;
}

static int sfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = stallfs_gate(h->wal);

	if (rc)
		return rc;
	rc = datasync ? fdatasync(h->fd) : fsync(h->fd);
	return rc ? -errno : 0;
}

static int sfs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct handle *h;
	int fd, rc = gate_path(path);

	if (rc)
		return rc;
	fd = openat(backing_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	h = handle_new(fd, path_in_wal(path));
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->dir = fdopendir(fd);
	if (!h->dir) {
		rc = -errno;
		close(fd);
		handle_free(h);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static int sfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct handle *h = handle_of(fi);
	int rc = stallfs_gate(h->wal);

	if (rc)
		return rc;
	pthread_mutex_lock(&h->lock);
	if (offset != h->offset) {
		seekdir(h->dir, offset);
		h->entry = NULL;
		h->offset = offset;
	}
	for (;;) {
		struct stat st;
		off_t next;

		if (!h->entry) {
			errno = 0;
			h->entry = readdir(h->dir);
			if (!h->entry) {
				rc = errno ? -errno : 0;
				break;
			}
		}
		memset(&st, 0, sizeof(st));
		st.st_ino = h->entry->d_ino;
		st.st_mode = (mode_t)h->entry->d_type << 12;
		next = telldir(h->dir);
		if (filler(buf, h->entry->d_name, &st, next, 0))
			break; /* the reply buffer is full: this entry comes first next time */
		h->entry = NULL;
		h->offset = next;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static int sfs_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	closedir(h->dir);
	handle_free(h);
	return 0;
}

static int sfs_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int rc = stallfs_gate(h->wal);

	if (rc)
		return rc;
	return fallocate(h->fd, mode, off, len) ? -errno : 0;
}

static const struct fuse_operations sfs_ops = {
	.init = sfs_init,
	.getattr = sfs_getattr,
	.readlink = sfs_readlink,
	.mknod = sfs_mknod,
	.mkdir = sfs_mkdir,
	.unlink = sfs_unlink,
	.rmdir = sfs_rmdir,
	.symlink = sfs_symlink,
	.rename = sfs_rename,
	.link = sfs_link,
	.chmod = sfs_chmod,
	.chown = sfs_chown,
	.truncate = sfs_truncate,
	.utimens = sfs_utimens,
	.create = sfs_create,
	.open = sfs_open,
	.read = sfs_read,
	.write = sfs_write,
	.statfs = sfs_statfs,
	.flush = sfs_flush,
	.release = sfs_release,
	.fsync = sfs_fsync,
	.opendir = sfs_opendir,
	.readdir = sfs_readdir,
	.releasedir = sfs_releasedir,
	.fsyncdir = sfs_fsync, /* a directory handle keeps its descriptor in fd too */
	.fallocate = sfs_fallocate,
};

/*
 * SIGTERM/SIGINT/SIGHUP: end the FUSE loop (setting a flag is signal-safe) and wake the
 * control thread, which releases every stalled operation: a worker blocked in a stall
 * would otherwise never be joined.
 */
static void on_signal(int sig)
{
	if (fuse_handle)
		fuse_session_exit(fuse_get_session(fuse_handle));
	stallfs_control_wake();
}

/* The FUSE session is over: a signal, or the kernel ended the connection (unmount). */
static bool loop_ended(void)
{
	return fuse_session_exited(fuse_get_session(fuse_handle));
}

static bool write_pidfile(const char *path)
{
	char text[32];

	str_format(text, sizeof(text), "%d\n", (int)getpid());
	return file_write_atomic(path, text, strlen(text));
}

static void usage(void)
{
	fprintf(stderr, "usage: bise-stallfs --backing DIR --mount DIR --control SOCKET "
			"[--pidfile FILE] [--ready-fd N]\n");
}

struct options {
	const char *backing, *mnt, *control, *pidfile;
	int ready_fd;
};

static bool parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->ready_fd = -1;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *val = argv[i + 1];

		if (strcmp(argv[i], "--backing") == 0) {
			o->backing = val;
		} else if (strcmp(argv[i], "--mount") == 0) {
			o->mnt = val;
		} else if (strcmp(argv[i], "--control") == 0) {
			o->control = val;
		} else if (strcmp(argv[i], "--pidfile") == 0) {
			o->pidfile = val;
		} else if (strcmp(argv[i], "--ready-fd") == 0) {
			char *end;
			long v = strtol(val, &end, 10);

			if (*end || v < 0 || v > INT_MAX)
				return false;
			o->ready_fd = (int)v;
		} else {
			return false;
		}
	}
	return argc % 2 == 1 && o->backing && o->mnt && o->control;
}

int main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-o",
			  "allow_other,default_permissions,fsname=bise-stallfs,subtype=stallfs", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_loop_config *loop_cfg;
	struct options o;
	struct sigaction sa;
	sigset_t block;
	int rc;

	if (!parse_args(argc, argv, &o)) {
		usage();
		return 2;
	}
	umask(0); /* the kernel already applied the caller's umask to every mode we get */
	backing_fd = open(o.backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (backing_fd < 0) {
		log_error("stallfs: cannot open the backing directory %s: %s", o.backing,
			  strerror(errno));
		return 1;
	}
	/* Only the main thread takes signals: FUSE workers and the control thread block them. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	fuse_handle = fuse_new(&args, &sfs_ops, sizeof(sfs_ops), NULL);
	if (!fuse_handle) {
		log_error("stallfs: fuse_new failed");
		return 1;
	}
	if (!stallfs_control_start(o.control, loop_ended)) {
		fuse_destroy(fuse_handle);
		return 1;
	}
	if (fuse_mount(fuse_handle, o.mnt) != 0) {
		log_error("stallfs: cannot mount on %s", o.mnt);
		stallfs_control_stop();
		fuse_destroy(fuse_handle);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o.pidfile && !write_pidfile(o.pidfile))
		log_warn("stallfs: cannot write %s", o.pidfile);
	log_info("stallfs: %s served at %s, control %s, pid %d", o.backing, o.mnt, o.control,
		 (int)getpid());
	if (o.ready_fd >= 0) {
		if (write(o.ready_fd, "ready\n", 6) != 6)
			log_warn("stallfs: cannot report readiness: %s", strerror(errno));
		close(o.ready_fd);
	}
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);

	loop_cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(loop_cfg, MAX_WORKERS);
	fuse_loop_cfg_set_idle_threads(loop_cfg, 16);
	rc = fuse_loop_mt(fuse_handle, loop_cfg);
	fuse_loop_cfg_destroy(loop_cfg);

	/* The loop ended (signal or unmount): nothing may stay blocked. */
	stallfs_control_stop();
	fuse_unmount(fuse_handle);
	fuse_destroy(fuse_handle);
	if (o.pidfile)
		unlink(o.pidfile);
	log_info("stallfs: %s unmounted, exiting", o.mnt);
	return rc == 0 ? 0 : 1;
}
