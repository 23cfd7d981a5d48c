/*
 * pushgateway.c - a scenario's final metrics PUT into its group of a Prometheus
 * Pushgateway: job "bise", label scenario. A PUT replaces the group, so the group holds
 * the last run of each scenario.
 */
#include "export.h"
#include "report.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSHGATEWAY_JOB "bise"

static bool plain_value(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* base64url (RFC 4648 §5) with padding, as the Pushgateway decodes "@base64" values. */
static bool base64url(const char *in, char *out, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	if ((n + 2) / 3 * 4 + 1 > len)
		return false;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return true;
}

bool pushgateway_group_url(const char *base, const char *scenario, char *out, size_t len)
{
	size_t blen = strlen(base);
	char enc[512];

	/* A trailing slash of the base is not doubled. */
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (plain_value(scenario))
		return str_format(out, len, "%.*s/metrics/job/" PUSHGATEWAY_JOB "/scenario/%s", (int)blen, base,
				  scenario);
	/* "=" alone is the empty value; anything else that is not plain goes as base64url. */
	if (!base64url(scenario, enc, sizeof(enc)))
		return false;
	return str_format(out, len, "%.*s/metrics/job/" PUSHGATEWAY_JOB "/scenario@base64/%s", (int)blen, base,
			  enc[0] ? enc : "=");
}

bool pushgateway_push(const char *base, const struct scenario_result *r)
{
	char url[4096], why[1024], answer[256];
	char *body = NULL;
	size_t body_len = 0;
	FILE *mem = open_memstream(&body, &body_len);
	bool ok;
	long status;

	if (!mem || !pushgateway_group_url(base, r->scenario->name, url, sizeof(url))) {
		export_url_redact(base, url, sizeof(url));
		log_warn("pushgateway %s: the metrics of %s cannot be prepared: not pushed", url, r->scenario->name);
		if (mem)
			fclose(mem);
		free(body);
		return false;
	}
	ok = report_prometheus(r, mem);
	ok = fclose(mem) == 0 && ok;
	if (!ok) {
		free(body);
		return false;
	}
	status = export_http("PUT", url, "text/plain; version=0.0.4; charset=utf-8", body, body_len, NULL, answer,
			     sizeof(answer), why, sizeof(why));
	free(body);
	if (status < 200 || status > 299) {
		log_warn("pushgateway: the metrics of %s were not pushed: %s", r->scenario->name, why);
		return false;
	}
	export_url_redact(url, why, sizeof(why));
	log_info("metrics of %s pushed to %s", r->scenario->name, why);
	return true;
}
