/*
 * test_worker.c: unit tests of src/worker_core.c (built under ASan+UBSan by
 * `make unit`): which destinations are private, and a probe's status.
 */
#define _POSIX_C_SOURCE 200112L
#include "worker_core.h"
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>


/* Is the textual address (IPv4 or IPv6) private? */
static int
priv(const char *text)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	if (inet_pton(AF_INET, text, &a4.sin_addr) == 1)
	{
		a4.sin_family = AF_INET;
		return worker_addr_is_private((struct sockaddr *) &a4);
	}
	if (inet_pton(AF_INET6, text, &a6.sin6_addr) == 1)
	{
		a6.sin6_family = AF_INET6;
		return worker_addr_is_private((struct sockaddr *) &a6);
	}
	fprintf(stderr, "bad address in test: %s\n", text);
	failures++;
	return -1;
}

int
main(void)
{
	const char *private_addrs[] = {
		"127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "0.0.0.0", "0.1.2.3", "100.64.0.1", "100.127.255.255",
		"224.0.0.1", "255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.0.8",
		"::1", "::", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::127.0.0.1",
		"fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1", "64:ff9b::a00:1", "2001:db8::1",
		NULL};
	const char *public_addrs[] = {
		"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
		"169.253.1.1", "192.169.0.1", "11.0.0.1", "126.255.255.255", "128.0.0.1", "223.255.255.254",
		"198.17.0.1", "198.20.0.1", "192.0.2.1",
		"2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "fe00::1",
		NULL};
	struct sockaddr other;
	int			i;

	for (i = 0; private_addrs[i] != NULL; i++)
		if (priv(private_addrs[i]) != 1)
		{
			fprintf(stderr, "expected private: %s\n", private_addrs[i]);
			failures++;
		}
	for (i = 0; public_addrs[i] != NULL; i++)
		if (priv(public_addrs[i]) != 0)
		{
			fprintf(stderr, "expected public: %s\n", public_addrs[i]);
			failures++;
		}
	memset(&other, 0, sizeof(other));
	other.sa_family = AF_UNIX;
	CHECK(worker_addr_is_private(&other) == 1);
	CHECK(worker_addr_is_private(NULL) == 1);

	CHECK(strcmp(worker_probe_status(1, 0, 200, 10, 1000), "healthy") == 0);
	CHECK(strcmp(worker_probe_status(1, 0, 204, 1000, 1000), "healthy") == 0);
	CHECK(strcmp(worker_probe_status(1, 0, 299, 1000.5, 1000), "degraded") == 0);
	CHECK(strcmp(worker_probe_status(1, 0, 301, 10, 1000), "unhealthy") == 0);
	CHECK(strcmp(worker_probe_status(1, 0, 500, 10, 1000), "unhealthy") == 0);
	CHECK(strcmp(worker_probe_status(1, 0, 199, 10, 1000), "unhealthy") == 0);
	CHECK(strcmp(worker_probe_status(0, 0, 0, 5000, 1000), "unhealthy") == 0);
	CHECK(strcmp(worker_probe_status(0, 1, 0, 0, 1000), "unknown") == 0);

	return check_finish("test_worker");
}
