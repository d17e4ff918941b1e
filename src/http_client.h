/*
 * http_client.h: the background worker's HTTP client (libcurl multi; plain
 * C, no postgres.h).  One call runs a batch of requests concurrently, each
 * bounded in time, http/https only, never following redirects, without
 * proxies, and refusing private destinations (worker_core.h) unless
 * allowed.  Health probes (contract §6.5) are GETs; notification delivery
 * (§6.6) sends POSTs with a body and headers through the same call, and
 * e-mail over SMTP (smtp:// or smtps:// URL, mail_from and mail_rcpt set:
 * the body is the whole RFC 5322 message, uploaded after MAIL FROM and
 * RCPT TO; http_code is then the server's last SMTP reply code, and an
 * SMTP refusal (4xx, 5xx) counts as an answer: transfer_ok 1).
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>

typedef struct HttpRequest
{
	/* in */
	const char *url;
	const char *body;			/* NULL: GET; else POST with this body */
	size_t		body_len;
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
	const char *mail_from;		/* SMTP: the envelope sender (then url is smtp[s]://) */
	const char *mail_rcpt;		/* SMTP: the one envelope recipient */
	/* out */
	int			done;			/* 1 once the request has finished or failed */
	int			transfer_ok;	/* 1: an HTTP answer (any status) or an SMTP reply arrived */
	int			refused;		/* 1: a destination was refused (private) */
	long		http_code;		/* HTTP status or last SMTP reply code; 0 without an answer */
	double		elapsed_ms;		/* from start to the end of the transfer */
	long		retry_after_s;	/* Retry-After of the answer, -1 if none */
	char		error[256];		/* why it failed, "" when transfer_ok */
} HttpRequest;

typedef struct HttpOptions
{
	int			timeout_ms;		/* whole request (connect included) */
	int			max_concurrency;	/* requests in flight at once */
	int			allow_private;	/* 1: private destinations allowed */
	const char *user_agent;
} HttpOptions;

/*
 * Runs the n requests, at most max_concurrency at a time; calls stop()
 * (if not NULL) about every 100 ms and abandons the batch when it returns
 * non-zero (unfinished requests keep done = 0).  Returns 0, or -1 when
 * libcurl could not be set up (then every request has error set).
 */
extern int	http_run(HttpRequest *reqs, int n, const HttpOptions *opt, int (*stop) (void));

#endif							/* HTTP_CLIENT_H */
