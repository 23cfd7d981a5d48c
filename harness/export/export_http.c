/* export_http.c - the URLs bise exports to (checked, redacted) and one HTTP request (libcurl). */
#include "export.h"
#include "util.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#define EXPORT_TIMEOUT_MS 10000L
#define EXPORT_CONNECT_TIMEOUT_MS 5000L

void export_url_redact(const char *url, char *out, size_t len)
{
	const char *scheme = strstr(url, "://"), *host, *at, *end;

	host = scheme ? scheme + 3 : url;
	end = host + strcspn(host, "/?#");
	/* The last '@' of the authority ends the userinfo (a password may hold one). */
	at = NULL;
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at) {
		str_copy(out, len, url);
		return;
	}
	str_format(out, len, "%.*s***@%s", (int)(host - url), url, at + 1);
}

bool export_url_check(const char *url, char *why, size_t len)
{
	char shown[512];
	CURLU *u;
	char *host = NULL;
	bool ok = false;

	export_url_redact(url, shown, sizeof(shown));
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			str_format(why, len, "%s: a space or control character in the URL", shown);
			return false;
		}
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		str_format(why, len, "%s: not an http:// or https:// URL (hint: e.g. http://127.0.0.1:9091)", shown);
		return false;
	}
	if (strchr(url, '#') || strchr(url, '?')) {
		str_format(why, len, "%s: a URL without query or fragment is expected (the base URL)", shown);
		return false;
	}
	u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && host[0])
		ok = true;
	else
		str_format(why, len, "%s: not a valid URL with a host", shown);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

struct answer {
	char *buf;
	size_t len, used;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t got = size * n;

	/* Only the start is kept, for the warning; the rest is read and dropped. */
	if (a->buf && a->used + 1 < a->len) {
		size_t take = got < a->len - 1 - a->used ? got : a->len - 1 - a->used;

		memcpy(a->buf + a->used, p, take);
		a->used += take;
		a->buf[a->used] = '\0';
	}
	return got;
}

/* Control characters of a server's answer shown as spaces: it goes to the terminal. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

/* Every occurrence of secret in s replaced by "***": a server may echo what it was sent. */
static void scrub(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 3)
		return;
	while ((p = strstr(s, secret))) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* The password of url's userinfo into out ("" when none). */
static void url_password(const char *url, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *pw = NULL;

	out[0] = '\0';
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK && pw)
		str_copy(out, len, pw);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		curl_free(pw);
	}
	curl_url_cleanup(u);
}

long export_http(const char *method, const char *url, const char *ctype, const char *body, size_t body_len,
		 const char *bearer, char *answer, size_t answer_len, char *why, size_t why_len)
{
	struct answer a = { .buf = answer, .len = answer_len };
	struct curl_slist *hdrs = NULL;
	char hdr[4200], errbuf[CURL_ERROR_SIZE] = "", shown[512];
	CURL *h = curl_easy_init();
	CURLcode rc;
	long status = 0;

	if (answer && answer_len)
		answer[0] = '\0';
	export_url_redact(url, shown, sizeof(shown));
	if (!h) {
		str_format(why, why_len, "%s: cannot start an HTTP request", shown);
		return 0;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "bise/" BISE_VERSION);
	/* http and https only, and no redirect: a token goes to the host named, nowhere else. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, EXPORT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, EXPORT_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	/* Small bodies: no "Expect: 100-continue" round trip. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (ctype && str_format(hdr, sizeof(hdr), "Content-Type: %s", ctype))
		hdrs = curl_slist_append(hdrs, hdr);
	if (bearer) {
		if (!str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", bearer)) {
			str_format(why, why_len, "%s: the token is too long", shown);
			explicit_bzero(hdr, sizeof(hdr));
			curl_slist_free_all(hdrs);
			curl_easy_cleanup(h);
			return 0;
		}
		hdrs = curl_slist_append(hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else
		str_format(why, why_len, "%s: %s", shown, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	/* The Authorization header holds a secret: cleared before it goes back to malloc. */
	for (struct curl_slist *s = hdrs; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (answer) {
		char pw[512];

		printable(answer);
		/* Shown in a warning: nothing secret, even if the server repeats it. */
		scrub(answer, bearer);
		url_password(url, pw, sizeof(pw));
		scrub(answer, pw);
		explicit_bzero(pw, sizeof(pw));
	}
	if (status != 0 && (status < 200 || status > 299))
		str_format(why, why_len, "%s: HTTP %ld%s%s", shown, status, answer && answer[0] ? ": " : "",
			   answer ? answer : "");
	return status;
}
