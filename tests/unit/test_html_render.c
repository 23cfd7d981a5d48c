/*
 * test_html_render.c - report.html as a browser shows it: headless Chromium renders the
 * golden report of the mixed fixture (test_reports keeps it equal to the writer's output);
 * its DOM must hold the SVG marks and the zoom script, and its screenshot must show the red of a failed SLO,
 * the bars of acknowledged writes before the fault and the fault shading where the fault was.
 * Without Chromium it fails under CI=true and is skipped (with a message) elsewhere.
 */
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define CHROMIUM "/usr/bin/chromium"
#define WINDOW_W 1200
#define WINDOW_H 1600

/* Colours of reports/report_html.c and html_charts.c. */
#define RGB(r, g, b) (((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) | (uint32_t)(b))
#define FAIL_CELL RGB(0xef, 0x9a, 0x9a)
#define FAULT_SHADE RGB(0xfd, 0xe9, 0xa9)
#define OK_BAR RGB(0x2c, 0xa0, 0x2c)

/* Where trial 1's timeline puts time t: body margin + chart margin + plot width * t / span. */
#define BODY_MARGIN 24.0
#define CHART_LEFT 110.0
#define PLOT_W 974.0
#define SPAN_S 41.6 /* 416 bins of 100 ms: the fixture log ends at 41.54 s */

static char tmp[64];
static char html[4096];

static int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int suite_init(void)
{
	const char *src = getenv("BISE_SOURCE_DIR");

	str_copy(tmp, sizeof(tmp), "/tmp/bise-test-render-XXXXXX");
	if (!src || !mkdtemp(tmp))
		return 1;
	str_format(html, sizeof(html), "%s/tests/unit/golden/mixed-report.html", src);
	return 0;
}

static int suite_clean(void)
{
	char cmd[200];

	str_format(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return run_cmd(cmd) == 0 ? 0 : 1;
}

static bool have_chromium(void)
{
	const char *ci = getenv("CI");

	if (access(CHROMIUM, X_OK) == 0)
		return true;
	if (ci && strcmp(ci, "true") == 0) {
		CU_FAIL("chromium is not installed (scripts/install-deps installs it)");
	} else {
		fprintf(stderr, "\nskipped: %s not installed (run scripts/install-deps)\n", CHROMIUM);
	}
	return false;
}

/* Headless Chromium with a fresh profile, nothing fetched, killed with its children if it hangs. */
static int chromium(const char *action, const char *profile)
{
	char cmd[12000];

	str_format(cmd, sizeof(cmd),
		   "timeout -k 5 120 " CHROMIUM " --headless --no-sandbox --disable-gpu --disable-quic "
		   "--no-first-run --disable-background-networking --disable-component-update --disable-sync "
		   "--force-device-scale-factor=1 --hide-scrollbars --user-data-dir='%s/%s' "
		   "--window-size=%d,%d %s 'file://%s' >'%s/%s.out' 2>'%s/%s.err'",
		   tmp, profile, WINDOW_W, WINDOW_H, action, html, tmp, profile, tmp, profile);
	return run_cmd(cmd);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_dom(void)
{
	char path[200];
	char *dom;
	size_t len;

	if (!have_chromium())
		return;
	CU_ASSERT_EQUAL_FATAL(chromium("--dump-dom", "dom"), 0);
	str_format(path, sizeof(path), "%s/dom.out", tmp);
	dom = file_read_all(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	/* The parsed document, not the file: Chromium serialises what it built. */
	CU_ASSERT_EQUAL(count(dom, "<svg class=\"chart timeline\""), 2);
	CU_ASSERT_EQUAL(count(dom, "<svg class=\"chart latency\""), 2);
	CU_ASSERT_EQUAL(count(dom, "<svg class=\"plot\""), 4);
	CU_ASSERT_EQUAL(count(dom, "<path class=\"ok\""), 2);
	CU_ASSERT_EQUAL(count(dom, "<path class=\"fail\""), 2);
	CU_ASSERT_EQUAL(count(dom, "<rect class=\"fault\""), 4); /* two trials, two charts each */
	CU_ASSERT_EQUAL(count(dom, "new primary geneva (timeline 2)</text>"), 2);
	CU_ASSERT_EQUAL(count(dom, "<tr class=\"fail\">"), 2);
	CU_ASSERT_EQUAL(count(dom, "<tr class=\"skip\">"), 4);
	CU_ASSERT(count(dom, "interrupted by a signal &lt;SIGINT&gt; &amp; \"reverted\"") >= 1);
	CU_ASSERT_EQUAL(count(dom, "<script"), 1); /* the zoom, inline */
	free(dom);
}

/* ---- a PNG reader for Chromium's screenshots: 8-bit RGB or RGBA, not interlaced ---- */

struct image {
	int w, h;
	uint32_t *px; /* 0xRRGGBB */
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undo the per-row filters in place; raw holds h rows of 1 + stride bytes. */
static bool unfilter(unsigned char *raw, int h, size_t stride, int bpp)
{
	for (int y = 0; y < h; y++) {
		unsigned char *row = raw + (size_t)y * (stride + 1), *cur = row + 1;
		unsigned char *prev = y ? raw + (size_t)(y - 1) * (stride + 1) + 1 : NULL;

		for (size_t i = 0; i < stride; i++) {
			int a = i >= (size_t)bpp ? cur[i - bpp] : 0, b = prev ? prev[i] : 0;
			int c = prev && i >= (size_t)bpp ? prev[i - bpp] : 0;

			switch (row[0]) {
			case 0: break;
			case 1: cur[i] = (unsigned char)(cur[i] + a); break;
			case 2: cur[i] = (unsigned char)(cur[i] + b); break;
			case 3: cur[i] = (unsigned char)(cur[i] + (a + b) / 2); break;
			case 4: cur[i] = (unsigned char)(cur[i] + paeth(a, b, c)); break;
			default: return false;
			}
		}
	}
	return true;
}

static bool png_read(const char *path, struct image *img)
{
	size_t len, pos = 8, zlen = 0;
	unsigned char *file = (unsigned char *)file_read_all(path, &len), *z = NULL, *raw;
	int depth = 0, color = -1, interlace = 1, bpp;
	uLongf rawlen;
	size_t stride;
	bool ok;

	memset(img, 0, sizeof(*img));
	if (!file || len < 8 || memcmp(file, "\x89PNG\r\n\x1a\n", 8) != 0) {
		free(file);
		return false;
	}
	while (pos + 12 <= len) {
		uint32_t n = be32(file + pos);
		const unsigned char *type = file + pos + 4, *data = file + pos + 8;

		if (pos + 12 + n > len)
			break;
		if (memcmp(type, "IHDR", 4) == 0 && n >= 13) {
			img->w = (int)be32(data);
			img->h = (int)be32(data + 4);
			depth = data[8];
			color = data[9];
			interlace = data[12];
		} else if (memcmp(type, "IDAT", 4) == 0) {
			z = xrealloc(z, zlen + n);
			memcpy(z + zlen, data, n);
			zlen += n;
		}
		pos += 12 + n;
	}
	free(file);
	if (depth != 8 || (color != 2 && color != 6) || interlace != 0 || img->w <= 0 || img->h <= 0) {
		free(z);
		return false;
	}
	bpp = color == 6 ? 4 : 3;
	stride = (size_t)img->w * (size_t)bpp;
	rawlen = (uLongf)((stride + 1) * (size_t)img->h);
	raw = xmalloc(rawlen);
	ok = uncompress(raw, &rawlen, z, (uLong)zlen) == Z_OK &&
	     rawlen == (stride + 1) * (size_t)img->h && unfilter(raw, img->h, stride, bpp);
	free(z);
	if (ok) {
		img->px = xmalloc(sizeof(*img->px) * (size_t)img->w * (size_t)img->h);
		for (int y = 0; y < img->h; y++)
			for (int x = 0; x < img->w; x++) {
				const unsigned char *p = raw + (size_t)y * (stride + 1) + 1 + (size_t)x * (size_t)bpp;

				img->px[(size_t)y * (size_t)img->w + (size_t)x] = RGB(p[0], p[1], p[2]);
			}
	}
	free(raw);
	return ok;
}

static int pixels_of(const struct image *img, uint32_t rgb)
{
	int n = 0;

	for (size_t i = 0; i < (size_t)img->w * (size_t)img->h; i++)
		n += img->px[i] == rgb;
	return n;
}

static int column_pixels_of(const struct image *img, int x, uint32_t rgb)
{
	int n = 0;

	for (int y = 0; y < img->h; y++)
		n += img->px[(size_t)y * (size_t)img->w + (size_t)x] == rgb;
	return n;
}

static int distinct_colours(const struct image *img)
{
	unsigned char *seen = xcalloc(1 << 21, 1); /* one bit per 24-bit colour */
	int n = 0;

	for (size_t i = 0; i < (size_t)img->w * (size_t)img->h; i++) {
		uint32_t c = img->px[i];

		if (!(seen[c >> 3] & (1u << (c & 7)))) {
			seen[c >> 3] |= (unsigned char)(1u << (c & 7));
			n++;
		}
	}
	free(seen);
	return n;
}

static int x_of(double t_s)
{
	return (int)(BODY_MARGIN + CHART_LEFT + PLOT_W * t_s / SPAN_S + 0.5);
}

static void test_screenshot(void)
{
	char png[200];
	struct image img;
	int in_fault = x_of(20.6), before = x_of(5.0);

	if (!have_chromium())
		return;
	str_format(png, sizeof(png), "--screenshot='%s/shot.png'", tmp);
	CU_ASSERT_EQUAL_FATAL(chromium(png, "shot"), 0);
	str_format(png, sizeof(png), "%s/shot.png", tmp);
	CU_ASSERT_FATAL(png_read(png, &img));
	CU_ASSERT_EQUAL(img.w, WINDOW_W);
	CU_ASSERT_EQUAL(img.h, WINDOW_H);
	fprintf(stderr, "\n%d colours; failed-SLO red %d px; column %d (in the fault): shade %d px; "
		"column %d (before): shade %d px, ok green %d px\n", distinct_colours(&img),
		pixels_of(&img, FAIL_CELL), in_fault, column_pixels_of(&img, in_fault, FAULT_SHADE), before,
		column_pixels_of(&img, before, FAULT_SHADE), column_pixels_of(&img, before, OK_BAR));
	/* Not blank: text, tables and charts give many colours (anti-aliasing included). */
	CU_ASSERT(distinct_colours(&img) > 200);
	/* Two failed-SLO verdict cells of roughly 70 x 25 pixels. */
	CU_ASSERT(pixels_of(&img, FAIL_CELL) > 2000);
	/* The fault is shaded at its time and not before it, where the ok bars stand instead. */
	CU_ASSERT(column_pixels_of(&img, in_fault, FAULT_SHADE) > 150);
	CU_ASSERT_EQUAL(column_pixels_of(&img, before, FAULT_SHADE), 0);
	CU_ASSERT(column_pixels_of(&img, before, OK_BAR) > 100);
	if (getenv("BISE_KEEP_SCREENSHOT")) {
		char cmd[400];

		str_format(cmd, sizeof(cmd), "cp '%s' '%s'", png, getenv("BISE_KEEP_SCREENSHOT"));
		run_cmd(cmd);
	}
	free(img.px);
}

void tests_register(void)
{
	CU_pSuite s = CU_add_suite("html render", suite_init, suite_clean);

	CU_add_test(s, "Chromium's DOM holds the SVG marks and verdict rows", test_dom);
	CU_add_test(s, "the screenshot shows the failed SLO and the fault where it was", test_screenshot);
}
