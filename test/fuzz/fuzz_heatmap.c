/*
 * fuzz_heatmap.c: libFuzzer harness over the untrusted-input parsers of the
 * heatmap (src/heatmap_core.c), text and binary.  The first byte picks the
 * parser; every accepted value must pass full validation and survive a
 * round trip unchanged.  Run with tools/fuzz.sh (make fuzz).
 */
#include "heatmap_core.h"

#include <stdlib.h>
#include <string.h>

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

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str;
	heatmap_t	h;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
	{
		str = malloc(size);
		memcpy(str, data + 1, size - 1);
		str[size - 1] = '\0';
		if (heatmap_core_parse(str, &h, NULL, 0) == HEATMAP_OK)
			fuzz_heatmap_roundtrip(&h);
		free(str);
	}
	else if (heatmap_core_decode(data + 1, size - 1, &h) == HEATMAP_OK)
		fuzz_heatmap_roundtrip(&h);
	return 0;
}
