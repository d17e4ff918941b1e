/*
 * worker_core.c: the plain-C rules of the background worker: which
 * destinations are private, and the status of a probe (worker_core.h).
 */
#include "worker_core.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/* Is the IPv4 address (host order) private? */
static int
ipv4_is_private(uint32_t a)
{
	uint32_t	b1 = a >> 24;
	uint32_t	b2 = (a >> 16) & 0xff;

	if (b1 == 0 || b1 == 10 || b1 == 127)	/* this network, private, loopback */
		return 1;
	if (b1 == 100 && (b2 & 0xc0) == 64)	/* 100.64/10 shared (CGNAT) */
		return 1;
	if (b1 == 169 && b2 == 254)	/* link-local (cloud metadata) */
		return 1;
	if (b1 == 172 && (b2 & 0xf0) == 16)	/* 172.16/12 */
		return 1;
	if (b1 == 192 && b2 == 168)	/* 192.168/16 */
		return 1;
	if (b1 == 192 && b2 == 0 && ((a >> 8) & 0xff) == 0)	/* 192.0.0/24 IETF */
		return 1;
	if (b1 == 198 && (b2 & 0xfe) == 18)	/* 198.18/15 benchmarking */
		return 1;
	if (b1 >= 224)				/* multicast, reserved, broadcast */
		return 1;
	return 0;
}

int
worker_addr_is_private(const struct sockaddr *addr)
{
	if (addr == NULL)
		return 1;
	if (addr->sa_family == AF_INET)
	{
		const struct sockaddr_in *in4 = (const struct sockaddr_in *) addr;

		return ipv4_is_private(ntohl(in4->sin_addr.s_addr));
	}
	if (addr->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) addr;
		const unsigned char *b = in6->sin6_addr.s6_addr;
		static const unsigned char zero[10] = {0};

		/* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): the IPv4 rules */
		if (memcmp(b, zero, 10) == 0 && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0)))
		{
			uint32_t	a = ((uint32_t) b[12] << 24) | ((uint32_t) b[13] << 16) |
				((uint32_t) b[14] << 8) | b[15];

			/* (:: and ::1 fall here too: 0.0.0.0/8 is private) */
			return ipv4_is_private(a);
		}
		if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && memcmp(b + 4, zero, 8) == 0)	/* 64:ff9b::/96 NAT64 */
		{
			uint32_t	a = ((uint32_t) b[12] << 24) | ((uint32_t) b[13] << 16) |
				((uint32_t) b[14] << 8) | b[15];

			return ipv4_is_private(a);
		}
		if ((b[0] & 0xfe) == 0xfc)	/* fc00::/7 unique local */
			return 1;
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)	/* fe80::/10 link-local */
			return 1;
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)	/* fec0::/10 site-local */
			return 1;
		if (b[0] == 0xff)		/* multicast */
			return 1;
		if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)	/* documentation */
			return 1;
		return 0;
	}
	return 1;
}

const char *
worker_probe_status(int transfer_ok, int refused, long http_code, double elapsed_ms, int degraded_ms)
{
	if (!transfer_ok)
		return refused ? "unknown" : "unhealthy";
	if (http_code < 200 || http_code > 299)
		return "unhealthy";
	if (elapsed_ms > (double) degraded_ms)
		return "degraded";
	return "healthy";
}
