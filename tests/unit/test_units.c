/* test_units.c - durations and sizes: parsing, rejection reasons and formatting. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

void tests_register(void);

#define MS INT64_C(1000)
#define SEC INT64_C(1000000)

static const struct {
	const char *text;
	int64_t us;
} good_durations[] = {
	{ "0s", 0 },
	{ "1us", 1 },
	{ "250us", 250 },
	{ "500ms", 500 * MS },
	{ "1s", SEC },
	{ "10s", 10 * SEC },
	{ "1.5s", 1500 * MS },
	{ "0.25s", 250 * MS },
	{ "2m", 120 * SEC },
	{ "1.5m", 90 * SEC },
	{ "1h", 3600 * SEC },
	{ "0.5h", 1800 * SEC },
	{ "1.0005s", 1000500 },
	{ "0.001s", MS },
	{ "007s", 7 * SEC },
	{ "2562047788h", INT64_C(2562047788) * 3600 * SEC },
};

static const struct {
	const char *text;
	const char *why; /* a part of the reason */
} bad_durations[] = {
	{ "", "empty" },
	{ "10", "has no unit" },
	{ "1.5", "has no unit" },
	{ "-5s", "negative" },
	{ "-0s", "negative" },
	{ "10x", "unknown unit \"x\"" },
	{ "10sec", "unknown unit \"sec\"" },
	{ "10S", "unknown unit" },
	{ "10s5", "trailing" },
	{ "10s ", "trailing" },
	{ "10 s", "trailing" },
	{ " 10s", "not a duration" },
	{ "s", "not a duration" },
	{ ".5s", "not a duration" },
	{ "5.s", "not a duration" },
	{ "+5s", "not a duration" },
	{ "1.2.3s", "trailing" },
	{ "1e3s", "trailing" },
	{ "inf", "not a duration" },
	{ "99999999999999999999s", "too large" },
	{ "2562047789h", "too large" },
	{ "9223372036854775807s", "too large" },
};

static void test_duration_good(void)
{
	for (size_t i = 0; i < sizeof(good_durations) / sizeof(good_durations[0]); i++) {
		int64_t us = -42;
		char why[128] = "";

		CU_ASSERT_TRUE_FATAL(duration_parse(good_durations[i].text, &us, why, sizeof(why)));
		CU_ASSERT_EQUAL(us, good_durations[i].us);
	}
}

static void test_duration_bad(void)
{
	for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++) {
		int64_t us = -42;
		char why[160] = "";

		CU_ASSERT_FALSE(duration_parse(bad_durations[i].text, &us, why, sizeof(why)));
		CU_ASSERT_EQUAL(us, -42);
		if (!strstr(why, bad_durations[i].why))
			fprintf(stderr, "\n%s: got \"%s\"\n", bad_durations[i].text, why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, bad_durations[i].why));
	}
}

static void test_duration_reason_hint(void)
{
	char why[128];
	int64_t us;

	CU_ASSERT_FALSE(duration_parse("10", &us, why, sizeof(why)));
	CU_ASSERT_STRING_EQUAL(why, "\"10\" has no unit (hint: write 10s or 10ms)");
	/* why may be NULL or tiny: no crash, still a verdict */
	CU_ASSERT_FALSE(duration_parse("abc", &us, NULL, 0));
	CU_ASSERT_FALSE(duration_parse("abc", &us, why, 4));
	CU_ASSERT_EQUAL(strlen(why), 3);
	CU_ASSERT_FALSE(duration_parse(NULL, &us, why, sizeof(why)));
}

static const struct {
	int64_t us;
	const char *text;
} formats[] = {
	{ 0, "0s" },
	{ 7, "7us" },
	{ 999, "999us" },
	{ 1000, "1ms" },
	{ 850 * MS, "850ms" },
	{ 999999, "999ms" },
	{ SEC, "1.00s" },
	{ 9840 * MS, "9.84s" },
	{ 9844 * MS, "9.84s" },
	{ 9846 * MS, "9.85s" },
	{ 59 * SEC + 990 * MS, "59.99s" },
	{ 59 * SEC + 996 * MS, "1m00s" },
	{ 60 * SEC, "1m00s" },
	{ 125 * SEC, "2m05s" },
	{ 3599 * SEC, "59m59s" },
	{ 3600 * SEC, "1h00m00s" },
	{ 3725 * SEC, "1h02m05s" },
	{ -1500 * MS, "-1.50s" },
};

static void test_duration_format(void)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char buf[32];

		duration_format(formats[i].us, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, formats[i].text);
	}
}

/* Sizes for people: powers of 1024, three significant digits, never scientific notation. */
static void test_size_format(void)
{
	static const struct {
		double bytes;
		const char *want;
	} cases[] = {
		{ 0, "0 B" },
		{ 512, "512 B" },
		{ 1023, "1023 B" },
		{ 1023.6, "1.00 KiB" },
		{ 1024, "1.00 KiB" },
		{ 12.3 * 1024, "12.3 KiB" },
		{ 512 * 1024, "512 KiB" },
		{ 1048575, "1.00 MiB" },
		{ 3.05 * 1048576, "3.05 MiB" },
		{ 66.4 * 1048576, "66.4 MiB" },
		{ 5.0 * 1073741824, "5.00 GiB" },
		{ 3e15, "2728 TiB" },
		{ -2048, "-2.00 KiB" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_format(cases[i].bytes, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].want);
	}
	size_format(1024, buf, 4); /* truncated, still terminated */
	CU_ASSERT_STRING_EQUAL(buf, "1.0");
}

static void test_duration_format_small_buffer(void)
{
	char buf[4] = "xxx";

	duration_format(125 * SEC, buf, sizeof(buf));
	CU_ASSERT_EQUAL(strlen(buf), 3);
	duration_format(125 * SEC, buf, 0); /* must not write */
	CU_ASSERT_EQUAL(strlen(buf), 3);
}

static void test_duration_round_trip(void)
{
	static const int64_t values[] = { 1, 999, MS, 850 * MS, 2 * SEC, 90 * SEC, 7200 * SEC };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char buf[32];
		int64_t back;

		duration_format(values[i], buf, sizeof(buf));
		if (strchr(buf, 'm') && strchr(buf, 'm')[1] != 's')
			continue; /* "1m30s" is for reading, not for parsing */
		CU_ASSERT_TRUE(duration_parse(buf, &back, NULL, 0));
		CU_ASSERT_EQUAL(back, values[i]);
	}
}

static const struct {
	const char *text;
	int64_t bytes;
} good_sizes[] = {
	{ "0", 0 },
	{ "1", 1 },
	{ "4096", 4096 },
	{ "10B", 10 },
	{ "1kB", 1000 },
	{ "16MB", 16000000 },
	{ "2GB", 2000000000 },
	{ "1KiB", 1024 },
	{ "1MiB", 1048576 },
	{ "16MiB", 16777216 },
	{ "1.5MiB", 1572864 },
	{ "4GiB", INT64_C(4294967296) },
	{ "0.5kB", 500 },
};

static const struct {
	const char *text;
	const char *why;
} bad_sizes[] = {
	{ "", "empty" },
	{ "-1", "negative" },
	{ "-1MiB", "negative" },
	{ "1.5", "fraction of a byte" },
	{ "1KB", "unknown unit" },
	{ "1mb", "unknown unit" },
	{ "1TiB", "unknown unit" },
	{ "1 MiB", "unknown unit" },
	{ "MiB", "not a size" },
	{ "1MiBx", "unknown unit" },
	{ "99999999999999999999", "too large" },
	{ "9000000000GiB", "too large" },
};

static void test_size_good(void)
{
	for (size_t i = 0; i < sizeof(good_sizes) / sizeof(good_sizes[0]); i++) {
		int64_t b = -42;
		char why[128] = "";

		CU_ASSERT_TRUE_FATAL(size_parse(good_sizes[i].text, &b, why, sizeof(why)));
		CU_ASSERT_EQUAL(b, good_sizes[i].bytes);
	}
}

static void test_size_bad(void)
{
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		int64_t b = -42;
		char why[160] = "";

		CU_ASSERT_FALSE(size_parse(bad_sizes[i].text, &b, why, sizeof(why)));
		CU_ASSERT_EQUAL(b, -42);
		if (!strstr(why, bad_sizes[i].why))
			fprintf(stderr, "\n%s: got \"%s\"\n", bad_sizes[i].text, why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, bad_sizes[i].why));
	}
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("units", NULL, NULL);

	CU_add_test(s, "duration_parse accepts", test_duration_good);
	CU_add_test(s, "duration_parse rejects with a reason", test_duration_bad);
	CU_add_test(s, "duration_parse reason and hint", test_duration_reason_hint);
	CU_add_test(s, "duration_format", test_duration_format);
	CU_add_test(s, "duration_format truncates safely", test_duration_format_small_buffer);
	CU_add_test(s, "duration format/parse round trip", test_duration_round_trip);
	CU_add_test(s, "size_format", test_size_format);
	CU_add_test(s, "size_parse accepts", test_size_good);
	CU_add_test(s, "size_parse rejects with a reason", test_size_bad);
}
