/* compare_report.h - a comparison (harness/compare.h) as Markdown and as one HTML page. */
#ifndef BISE_COMPARE_REPORT_H
#define BISE_COMPARE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "compare.h"

bool compare_write_markdown(const struct comparison *cmp, FILE *out);
bool compare_write_html(const struct comparison *cmp, FILE *out);

#endif
