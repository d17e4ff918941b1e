/*
 * fuzz_heatmap.c: libFuzzer harness over the untrusted-input parsers of the
 * heatmap (text and binary) and, included below, of the daycounts type of
 * src/trend_core.c.  The first byte picks the parser; every accepted value
 * must pass full validation and survive a round trip unchanged.
 * Run with tools/fuzz.sh (make fuzz).
 */
#include "heatmap_core.h"
#include "../../src/trend_core.c"

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
fuzz_heatmap_roundtrip(const heatmap_t *h)
{
	char		text[HEATMAP_TEXT_MAX];
	unsigned char bin[HEATMAP_BINARY_SIZE];
	heatmap_t	g;
	heatmap_t	sum;

	if (heatmap_core_check(h, HEATMAP_SIZE) != HEATMAP_OK)
		abort();
	if (heatmap_core_format(h, text) >= sizeof(text))
		abort();
	if (heatmap_core_parse(text, &g, NULL, 0) != HEATMAP_OK ||
		memcmp(g.count, h->count, sizeof(g.count)) != 0 || g.total != h->total)
		abort();
	heatmap_core_encode(h, bin);
	if (heatmap_core_decode(bin, sizeof(bin), &g) != HEATMAP_OK ||
		memcmp(g.count, h->count, sizeof(g.count)) != 0 || g.total != h->total)
		abort();
	/* merging with itself either fits exactly or refuses, unchanged */
	sum = *h;
	if (heatmap_core_merge(&sum, h) == HEATMAP_OK)
	{
		if (heatmap_core_check(&sum, HEATMAP_SIZE) != HEATMAP_OK)
			abort();
	}
	else if (memcmp(&sum, h, sizeof(sum)) != 0)
		abort();
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
	heatmap_t	h;
	daycounts_t *d;

	if (size < 1)
		return 0;
	switch (data[0] & 3)
	{
		case 0:
			str = malloc(size);
			memcpy(str, data + 1, size - 1);
			str[size - 1] = '\0';
			if (heatmap_core_parse(str, &h, NULL, 0) == HEATMAP_OK)
				fuzz_heatmap_roundtrip(&h);
			free(str);
			break;
		case 1:
			if (heatmap_core_decode(data + 1, size - 1, &h) == HEATMAP_OK)
				fuzz_heatmap_roundtrip(&h);
			break;
		case 2:
			str = malloc(size);
			memcpy(str, data + 1, size - 1);
			str[size - 1] = '\0';
			if (daycounts_core_parse(str, &d, fuzz_alloc, fuzz_free, NULL, 0) == TREND_OK)
			{
				fuzz_daycounts_roundtrip(d);
				free(d);
			}
			free(str);
			break;
		case 3:
			if (daycounts_core_decode(data + 1, size - 1, &d, fuzz_alloc, fuzz_free) == TREND_OK)
			{
				fuzz_daycounts_roundtrip(d);
				free(d);
			}
			break;
	}
	return 0;
}
