/*
 * test_runner_hostile_files.c - bise runs as root and writes into directories others can
 * write to: a symlink planted in a run directory is replaced, never followed; files are
 * created with their final mode; mkdir_p refuses a symlinked or foreign directory.
 */
#include "report_cmd.h"
#include "run_setup.h"
#include "runner.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define VICTIM_TEXT "not bise's to overwrite\n"

static char tmp[64];
static const char *src;

static int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int suite_init(void)
{
	log_set_level(LOG_QUIET);
	src = getenv("BISE_SOURCE_DIR");
	return src ? run_setup_workdir_make(tmp, sizeof(tmp), "bise-test-hostile") : 1;
}

static int suite_clean(void)
{
	return run_setup_workdir_remove(tmp);
}

static bool victim_intact(const char *path)
{
	char *text = file_read_all(path, NULL);
	bool same = text && strcmp(text, VICTIM_TEXT) == 0;

	free(text);
	return same;
}

static bool is_regular(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* `bise report` over a run directory with symlinks where its reports go. */
static void test_report_replaces_planted_symlinks(void)
{
	static const char *const files[] = { "primary-pod-kill/summary.json", "primary-pod-kill/report.html",
					     "primary-pod-kill/junit.xml", "index.html", "summary.md", NULL };
	char run[200], victim[200], cmd[8400], path[600];

	str_format(run, sizeof(run), "%s/run", tmp);
	str_format(victim, sizeof(victim), "%s/victim", tmp);
	CU_ASSERT_FATAL(file_write_atomic(victim, VICTIM_TEXT, strlen(VICTIM_TEXT)));
	str_format(cmd, sizeof(cmd), "cp -r '%s/tests/unit/data/run-pod-kill' '%s'", src, run);
	CU_ASSERT_EQUAL_FATAL(run_cmd(cmd), 0);
	for (int i = 0; files[i]; i++) {
		str_format(path, sizeof(path), "%s/%s", run, files[i]);
		unlink(path);
		CU_ASSERT_EQUAL(symlink(victim, path), 0);
	}
	fflush(stdout);
	report_cmd_run(run);
	CU_ASSERT(victim_intact(victim));
	for (int i = 0; files[i]; i++) {
		str_format(path, sizeof(path), "%s/%s", run, files[i]);
		CU_ASSERT(is_regular(path));
	}
}

static void test_file_final_mode(void)
{
	char path[200];
	struct stat st;
	mode_t old = umask(0);

	str_format(path, sizeof(path), "%s/secrets", tmp);
	CU_ASSERT(file_write_atomic_mode(path, "x=1\n", 4, 0600));
	umask(old);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	/* Rewriting replaces a planted symlink rather than writing through it. */
	str_format(path, sizeof(path), "%s/planted", tmp);
	{
		char victim[200];

		str_format(victim, sizeof(victim), "%s/victim2", tmp);
		CU_ASSERT_FATAL(file_write_atomic(victim, VICTIM_TEXT, strlen(VICTIM_TEXT)));
		CU_ASSERT_EQUAL(symlink(victim, path), 0);
		CU_ASSERT(file_write_atomic_mode(path, "y\n", 2, 0600));
		CU_ASSERT(victim_intact(victim));
		CU_ASSERT(is_regular(path));
	}
}

/* A file inside a directory that is a symlink is refused: the directory could be anywhere. */
static void test_symlinked_parent_refused(void)
{
	char real[200], link[200], path[300];

	str_format(real, sizeof(real), "%s/realdir", tmp);
	str_format(link, sizeof(link), "%s/linkdir", tmp);
	CU_ASSERT_EQUAL_FATAL(mkdir(real, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(real, link), 0);
	str_format(path, sizeof(path), "%s/file", link);
	CU_ASSERT_FALSE(file_write_atomic(path, "z", 1));
	str_format(path, sizeof(path), "%s/file", real);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}

static void test_mkdir_p_refuses(void)
{
	char dir[200], link[200], sub[300];

	str_format(dir, sizeof(dir), "%s/state", tmp);
	CU_ASSERT(mkdir_p(dir, 0700));
	CU_ASSERT(mkdir_p(dir, 0700)); /* an existing directory of ours is fine */
	str_format(link, sizeof(link), "%s/state-link", tmp);
	CU_ASSERT_EQUAL_FATAL(symlink(dir, link), 0);
	CU_ASSERT_FALSE(mkdir_p(link, 0700));
	str_format(sub, sizeof(sub), "%s/", link);
	CU_ASSERT_FALSE(mkdir_p(sub, 0700));
	if (geteuid() != 0)
		return; /* handing a directory to another user needs root */
	CU_ASSERT_EQUAL_FATAL(chown(dir, 65534, 65534), 0);
	CU_ASSERT_FALSE(mkdir_p(dir, 0700));
	CU_ASSERT(mkdir_p_owner(dir, 0700, 65534));
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("hostile_files", suite_init, suite_clean);

	CU_add_test(s, "report replaces planted symlinks", test_report_replaces_planted_symlinks);
	CU_add_test(s, "file created with its final mode", test_file_final_mode);
	CU_add_test(s, "symlinked parent refused", test_symlinked_parent_refused);
	CU_add_test(s, "mkdir_p refuses symlinks and foreign dirs", test_mkdir_p_refuses);
}
