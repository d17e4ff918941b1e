/*
 * http_client.c: a batch of HTTP requests (and SMTP submissions) on one
 * libcurl multi handle (http_client.h).
 */
#include "http_client.h"
#include "worker_core.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct HttpRunning
{
	HttpRequest *req;
	CURL	   *easy;
	struct curl_slist *headers;
	struct curl_slist *rcpt;	/* SMTP: the envelope recipient */
	size_t		upload_pos;		/* SMTP: how much of the body is sent */
	int			allow_private;
	char		errbuf[CURL_ERROR_SIZE];
} HttpRunning;

/* libcurl's socket opener: the resolved address, checked before connect. */
static curl_socket_t
http_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	HttpRunning *r = (HttpRunning *) clientp;

	if (purpose != CURLSOCKTYPE_IPCXN
		|| (!r->allow_private && worker_addr_is_private(&address->addr)))
	{
		r->req->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/* The answer's body is not kept. */
static size_t
http_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
}

/* SMTP: the message, read by libcurl in pieces (it does the dot-stuffing). */
static size_t
http_upload(char *buffer, size_t size, size_t nitems, void *userdata)
{
	HttpRunning *r = (HttpRunning *) userdata;
	size_t		room = size * nitems;
	size_t		left = r->req->body_len - r->upload_pos;
	size_t		n = left < room ? left : room;

	if (n > 0)
		memcpy(buffer, r->req->body + r->upload_pos, n);
	r->upload_pos += n;
	return n;
}

static void
http_fail(HttpRequest *req, const char *msg)
{
	req->done = 1;
	req->transfer_ok = 0;
	snprintf(req->error, sizeof(req->error), "%s", msg);
}

/* Set up one request on its own easy handle; 0 when it could not be. */
static int
http_start(HttpRunning *r, const HttpOptions *opt)
{
	HttpRequest *req = r->req;
	CURL	   *e = curl_easy_init();
	int			i;
	int			smtp;
	CURLcode	rc = CURLE_OK;

	if (e == NULL)
	{
		http_fail(req, "out of memory (curl_easy_init)");
		return 0;
	}
	r->easy = e;
	r->errbuf[0] = '\0';
	smtp = req->mail_rcpt != NULL;
	if (req->url == NULL || req->url[0] == '\0')
	{
		http_fail(req, smtp ? "no SMTP server: analytics.smtp_url is not set" : "no URL");
		return 0;
	}
	if (smtp && (req->mail_from == NULL || req->mail_from[0] == '\0'))
	{
		http_fail(req, "no sender: analytics.smtp_from is not set");
		return 0;
	}
	if (req->headers != NULL && !smtp)
		for (i = 0; req->headers[i] != NULL; i++)
		{
			struct curl_slist *h = curl_slist_append(r->headers, req->headers[i]);

			if (h == NULL)
			{
				http_fail(req, "out of memory (headers)");
				return 0;
			}
			r->headers = h;
		}
#define SET(opt_, val_) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt_, val_); } while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PRIVATE, (void *) r);
	SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, smtp ? "smtp,smtps" : "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, smtp ? "smtp,smtps" : "http,https");
#else
	SET(CURLOPT_PROTOCOLS, smtp ? (long) (CURLPROTO_SMTP | CURLPROTO_SMTPS) : (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, smtp ? (long) (CURLPROTO_SMTP | CURLPROTO_SMTPS) : (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_TIMEOUT_MS, (long) opt->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long) opt->timeout_ms);
	SET(CURLOPT_OPENSOCKETFUNCTION, http_opensocket);
	SET(CURLOPT_OPENSOCKETDATA, (void *) r);
	SET(CURLOPT_WRITEFUNCTION, http_discard);
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	SET(CURLOPT_USERAGENT, opt->user_agent ? opt->user_agent : "analytics-worker");
	SET(CURLOPT_FORBID_REUSE, 1L);
	if (smtp)
	{
		r->rcpt = curl_slist_append(NULL, req->mail_rcpt);
		if (r->rcpt == NULL)
		{
			http_fail(req, "out of memory (recipient)");
			return 0;
		}
		r->upload_pos = 0;
		SET(CURLOPT_MAIL_FROM, req->mail_from);
		SET(CURLOPT_MAIL_RCPT, r->rcpt);
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_READFUNCTION, http_upload);
		SET(CURLOPT_READDATA, (void *) r);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->body_len);
	}
	else if (r->headers != NULL)
		SET(CURLOPT_HTTPHEADER, r->headers);
	if (req->body != NULL && !smtp)
	{
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body);
	}
#undef SET
	if (rc != CURLE_OK)
	{
		snprintf(req->error, sizeof(req->error), "bad request: %s", curl_easy_strerror(rc));
		req->done = 1;
		return 0;
	}
	return 1;
}

/* Read the outcome of a finished request. */
static void
http_finish(HttpRunning *r, CURLcode result)
{
	HttpRequest *req = r->req;
	curl_off_t	total_us = 0;
	curl_off_t	retry_after = -1;
	long		code = 0;

	req->done = 1;
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
#if LIBCURL_VERSION_NUM >= 0x074200
	if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK || retry_after <= 0)
		retry_after = -1;
#endif
	req->elapsed_ms = (double) total_us / 1000.0;
	req->http_code = code;
	req->retry_after_s = (long) retry_after;
	if (result == CURLE_OK)
	{
		req->transfer_ok = 1;
		req->error[0] = '\0';
		if (code < 200 || code > 299)
			snprintf(req->error, sizeof(req->error), "%s status %ld", req->mail_rcpt ? "SMTP" : "HTTP", code);
	}
	else if (req->mail_rcpt != NULL && !req->refused && code >= 400 && code <= 599)
	{
		/* the SMTP server answered, and refused: 4xx transient, 5xx permanent */
		req->transfer_ok = 1;
		snprintf(req->error, sizeof(req->error), "SMTP reply %ld: %s%s%s", code, curl_easy_strerror(result),
				 r->errbuf[0] ? ": " : "", r->errbuf);
	}
	else if (req->refused)
		snprintf(req->error, sizeof(req->error),
				 "destination refused: a loopback, private or link-local address (analytics.delivery_allow_private is off)");
	else if (result == CURLE_OPERATION_TIMEDOUT)
		snprintf(req->error, sizeof(req->error), "timed out after %.0f ms", req->elapsed_ms);
	else
		snprintf(req->error, sizeof(req->error), "%s%s%s", curl_easy_strerror(result),
				 r->errbuf[0] ? ": " : "", r->errbuf);
}

static void
http_release(CURLM *multi, HttpRunning *r)
{
	if (r->easy != NULL)
	{
		if (multi != NULL)
			curl_multi_remove_handle(multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	if (r->headers != NULL)
	{
		curl_slist_free_all(r->headers);
		r->headers = NULL;
	}
	if (r->rcpt != NULL)
	{
		curl_slist_free_all(r->rcpt);
		r->rcpt = NULL;
	}
}

int
http_run(HttpRequest *reqs, int n, const HttpOptions *opt, int (*stop) (void))
{
	static int	curl_ready = 0;
	HttpRunning *running;
	CURLM	   *multi;
	int			conc = opt->max_concurrency > 0 ? opt->max_concurrency : 1;
	int			next = 0;
	int			active = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		reqs[i].done = reqs[i].transfer_ok = reqs[i].refused = 0;
		reqs[i].http_code = 0;
		reqs[i].elapsed_ms = 0;
		reqs[i].retry_after_s = -1;
		reqs[i].error[0] = '\0';
	}
	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		{
			for (i = 0; i < n; i++)
				http_fail(&reqs[i], "libcurl could not be initialised");
			return -1;
		}
		curl_ready = 1;
	}
	if (n <= 0)
		return 0;
	if (conc > n)
		conc = n;
	running = calloc(conc, sizeof(HttpRunning));
	multi = curl_multi_init();
	if (running == NULL || multi == NULL)
	{
		free(running);
		if (multi != NULL)
			curl_multi_cleanup(multi);
		for (i = 0; i < n; i++)
			http_fail(&reqs[i], "out of memory");
		return -1;
	}
	while (next < n || active > 0)
	{
		int			still = 0;
		int			left = 0;
		CURLMsg    *msg;

		/* fill the free slots */
		for (i = 0; i < conc && next < n; i++)
		{
			HttpRunning *r = &running[i];

			if (r->req != NULL)
				continue;
			memset(r, 0, sizeof(*r));
			r->req = &reqs[next++];
			r->allow_private = opt->allow_private;
			if (!http_start(r, opt) || curl_multi_add_handle(multi, r->easy) != CURLM_OK)
			{
				if (!r->req->done)
					http_fail(r->req, "could not start the request");
				http_release(NULL, r);
				r->req = NULL;
				i--;			/* (the slot is free again) */
				continue;
			}
			active++;
		}
		if (active == 0)
			continue;
		curl_multi_perform(multi, &still);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		{
			HttpRunning *r = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
			if (r == NULL)
				continue;
			http_finish(r, msg->data.result);
			http_release(multi, r);
			r->req = NULL;
			active--;
		}
		if (stop != NULL && stop())
			break;
		if (active > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	for (i = 0; i < conc; i++)
		if (running[i].req != NULL)
		{
			http_release(multi, &running[i]);
			running[i].req = NULL;
		}
	curl_multi_cleanup(multi);
	free(running);
	return 0;
}
