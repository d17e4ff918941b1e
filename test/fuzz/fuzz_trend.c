/*
 * fuzz_trend.c: libFuzzer harness over the untrusted-input parsers of the
 * daycounts type (src/trend_core.c), text and binary.  The first byte picks
 * the parser; every accepted value must pass full validation and survive a
 * round trip unchanged, and the sums over it must not trap.  Run with
 * tools/fuzz.sh (make fuzz).
 */
#include "trend_core.h"

#include <stdlib.h>
#include <string.h>

static void *
fuzz_alloc(size_t n)
{
	return malloc(n);
}

static void
fuzz_free(void *p)
{
	free(p);
}

static void
fuzz_daycounts_roundtrip(const daycounts_t *d)
{
	size_t		size = DAYCOUNTS_SIZE(d->ndays, d->ncounters);
	char	   *text = malloc(daycounts_core_text_max(d));
	size_t		n = daycounts_core_binary_size(d);
	unsigned char *bin = malloc(n);
	daycounts_t *e;
	int64_t		s;

	if (daycounts_core_check(d, size) != TREND_OK)
		abort();
	daycounts_core_format(d, text);
	if (daycounts_core_parse(text, &e, fuzz_alloc, fuzz_free, NULL, 0) != TREND_OK ||
		memcmp(&e->version, &d->version, size - 4) != 0)
		abort();
	free(e);
	daycounts_core_encode(d, bin);
	if (daycounts_core_decode(bin, n, &e, fuzz_alloc, fuzz_free) != TREND_OK ||
		memcmp(&e->version, &d->version, size - 4) != 0)
		abort();
	free(e);
	(void) daycounts_core_sum(d, 0, d->first, d->first + d->ndays - 1, &s);
	if (d->ncounters == 3)
	{
		usage_summary_t u;

		(void) usage_summary_core(d, &u);
	}
	free(text);
	free(bin);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str;
	daycounts_t *d;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
	{
		str = malloc(size);
		memcpy(str, data + 1, size - 1);
		str[size - 1] = '\0';
		if (daycounts_core_parse(str, &d, fuzz_alloc, fuzz_free, NULL, 0) == TREND_OK)
		{
			fuzz_daycounts_roundtrip(d);
			free(d);
		}
		free(str);
	}
	else if (daycounts_core_decode(data + 1, size - 1, &d, fuzz_alloc, fuzz_free) == TREND_OK)
	{
		fuzz_daycounts_roundtrip(d);
		free(d);
	}
	return 0;
}
