/*
 * worker_core.h: the plain-C rules of the background worker (no postgres.h,
 * no libcurl; unit tested in test/unit/test_worker.c).
 *
 * Vocabulary: a "destination" is the address a request would connect to
 * after name resolution; a "private" destination is one on the loopback,
 * private, link-local, shared (CGNAT), unspecified, multicast or reserved
 * ranges, which the worker refuses unless analytics.delivery_allow_private
 * is on.  A "probe" is one health check of a service (contract §6.5).
 */
#ifndef WORKER_CORE_H
#define WORKER_CORE_H

#include <sys/socket.h>

/* 1 when the socket address is a private destination (see above), or of a
 * family other than IPv4/IPv6; 0 when it is a public one. */
extern int	worker_addr_is_private(const struct sockaddr *addr);

/* The status of a probe: "healthy" (2xx within degraded_ms), "degraded"
 * (2xx slower than degraded_ms), "unhealthy" (no answer, an error, or any
 * other HTTP status), or "unknown" (the destination was refused). */
extern const char *worker_probe_status(int transfer_ok, int refused, long http_code,
									   double elapsed_ms, int degraded_ms);

#endif							/* WORKER_CORE_H */
