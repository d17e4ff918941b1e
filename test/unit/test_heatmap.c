/*
 * test_heatmap.c: unit tests of src/heatmap_core.c (built under ASan+UBSan
 * by `make unit`).
 */
#include "heatmap_core.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Reference cell by repeated subtraction, independent of the fast path. */
static int
reference_cell(int64_t usec)
{
	const int64_t hour_usec = INT64_C(3600000000);
	int64_t		hours = 0;
	int64_t		days;
	int			dow;

	/* floor(usec / hour) by adjusting a truncated quotient */
	hours = usec / hour_usec;
	while (hours * hour_usec > usec)
		hours--;
	while ((hours + 1) * hour_usec <= usec)
		hours++;
	days = hours >= 0 ? hours / 24 : -((-hours + 23) / 24);
	dow = (int) (((days % 7) + 7 + 6) % 7);
	return dow * 24 + (int) (hours - days * 24);
}

static void
test_utc_cell(void)
{
	const int64_t h = INT64_C(3600000000);

	/* 2000-01-01 00:00 UTC was a Saturday */
	CHECK(heatmap_core_utc_cell(0) == 6 * 24 + 0);
	CHECK(heatmap_core_utc_cell(h - 1) == 6 * 24 + 0);
	CHECK(heatmap_core_utc_cell(h) == 6 * 24 + 1);
	/* one microsecond before: Friday 23:00 */
	CHECK(heatmap_core_utc_cell(-1) == 5 * 24 + 23);
	CHECK(heatmap_core_utc_cell(-h) == 5 * 24 + 23);
	CHECK(heatmap_core_utc_cell(-h - 1) == 5 * 24 + 22);
	/* 2000-01-02 is a Sunday */
	CHECK(heatmap_core_utc_cell(24 * h) == 0);
	/* 1970-01-01 00:00 UTC was a Thursday: -10957 days */
	CHECK(heatmap_core_utc_cell(-INT64_C(10957) * 24 * h) == 4 * 24);
	/* extremes do not trap */
	(void) heatmap_core_utc_cell(INT64_MIN);
	(void) heatmap_core_utc_cell(INT64_MAX);
	{
		uint64_t	x = 88172645463325252ULL;
		int			i;

		for (i = 0; i < 200000; i++)
		{
			int64_t		v;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			v = (int64_t) (x % (UINT64_C(1) << 58)) - (INT64_C(1) << 57);
			if (heatmap_core_utc_cell(v) != reference_cell(v))
			{
				CHECK(heatmap_core_utc_cell(v) == reference_cell(v));
				break;
			}
		}
	}
}

static void
test_add_merge(void)
{
	heatmap_t	a,
				b;

	heatmap_core_init(&a);
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE) == HEATMAP_OK);
	CHECK(heatmap_core_add(&a, 3, 5) == HEATMAP_OK);
	CHECK(heatmap_core_add(&a, 3, 0) == HEATMAP_OK);
	CHECK(heatmap_core_add(&a, 167, 2) == HEATMAP_OK);
	CHECK(a.total == 7 && a.count[3] == 5 && a.count[167] == 2);
	CHECK(heatmap_core_add(&a, 168, 1) == HEATMAP_BAD_CELL);
	CHECK(heatmap_core_add(&a, -1, 1) == HEATMAP_BAD_CELL);
	CHECK(heatmap_core_add(&a, 0, -1) == HEATMAP_NEGATIVE);
	CHECK(heatmap_core_add(&a, 0, INT64_MAX) == HEATMAP_OVERFLOW);
	CHECK(a.total == 7 && a.count[0] == 0);

	heatmap_core_init(&b);
	CHECK(heatmap_core_add(&b, 3, 1) == HEATMAP_OK);
	CHECK(heatmap_core_merge(&a, &b) == HEATMAP_OK);
	CHECK(a.total == 8 && a.count[3] == 6);
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE) == HEATMAP_OK);

	heatmap_core_init(&b);
	CHECK(heatmap_core_add(&b, 0, INT64_MAX - 3) == HEATMAP_OK);
	CHECK(heatmap_core_merge(&a, &b) == HEATMAP_OVERFLOW);
	CHECK(a.total == 8 && a.count[0] == 0);

	/* checks */
	a.total = 9;
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE) == HEATMAP_BAD_TOTAL);
	a.total = 8;
	a.reserved = 1;
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE) == HEATMAP_BAD_RESERVED);
	a.reserved = 0;
	a.version = 2;
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE) == HEATMAP_BAD_VERSION);
	a.version = HEATMAP_VERSION;
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE - 8) == HEATMAP_BAD_SIZE);
	a.count[5] = -1;
	a.count[6] = 1;
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE) == HEATMAP_NEGATIVE);
	heatmap_core_init(&a);
	a.count[0] = INT64_MAX;
	a.count[1] = 1;
	CHECK(heatmap_core_check(&a, HEATMAP_SIZE) == HEATMAP_OVERFLOW);
}

static void
test_text(void)
{
	heatmap_t	h,
				g;
	char		buf[HEATMAP_TEXT_MAX];
	char		err[128];
	int			i;

	CHECK(heatmap_core_parse("{}", &h, err, sizeof(err)) == HEATMAP_OK);
	CHECK(h.total == 0);
	heatmap_core_format(&h, buf);
	CHECK(strcmp(buf, "{}") == 0);

	CHECK(heatmap_core_parse(" { 1 : 10 = 12 , 1:9=54, 0:0=0 } ", &h, err, sizeof(err)) == HEATMAP_OK);
	heatmap_core_format(&h, buf);
	CHECK(strcmp(buf, "{1:9=54,1:10=12}") == 0);
	CHECK(h.total == 66);

	CHECK(heatmap_core_parse("{1:9=+3}", &h, err, sizeof(err)) == HEATMAP_OK);
	CHECK(heatmap_core_parse("", &h, err, sizeof(err)) == HEATMAP_SYNTAX);
	CHECK(heatmap_core_parse("{", &h, err, sizeof(err)) == HEATMAP_SYNTAX);
	CHECK(heatmap_core_parse("{1:9}", &h, err, sizeof(err)) == HEATMAP_SYNTAX);
	CHECK(heatmap_core_parse("{1:9=}", &h, err, sizeof(err)) == HEATMAP_SYNTAX);
	CHECK(heatmap_core_parse("{1:9=1,}", &h, err, sizeof(err)) == HEATMAP_SYNTAX);
	CHECK(heatmap_core_parse("{1:9=1} x", &h, err, sizeof(err)) == HEATMAP_SYNTAX);
	CHECK(heatmap_core_parse("{7:0=1}", &h, err, sizeof(err)) == HEATMAP_BAD_CELL);
	CHECK(heatmap_core_parse("{0:24=1}", &h, err, sizeof(err)) == HEATMAP_BAD_CELL);
	CHECK(heatmap_core_parse("{0:99999999999999999999999=1}", &h, err, sizeof(err)) == HEATMAP_BAD_CELL);
	CHECK(heatmap_core_parse("{0:1=-1}", &h, err, sizeof(err)) == HEATMAP_NEGATIVE);
	CHECK(heatmap_core_parse("{0:1=1,0:1=2}", &h, err, sizeof(err)) == HEATMAP_DUPLICATE);
	CHECK(heatmap_core_parse("{0:1=9223372036854775808}", &h, err, sizeof(err)) == HEATMAP_OVERFLOW);
	CHECK(heatmap_core_parse("{0:1=9223372036854775807}", &h, err, sizeof(err)) == HEATMAP_OK);
	CHECK(heatmap_core_parse("{0:1=9223372036854775807,0:2=1}", &h, err, sizeof(err)) == HEATMAP_OVERFLOW);
	CHECK(strstr(err, "character") != NULL);

	/* round trip of the longest form */
	heatmap_core_init(&h);
	for (i = 0; i < HEATMAP_CELLS; i++)
		h.count[i] = INT64_MAX / 200;
	h.total = (INT64_MAX / 200) * HEATMAP_CELLS;
	CHECK(heatmap_core_format(&h, buf) < sizeof(buf));
	CHECK(heatmap_core_parse(buf, &g, err, sizeof(err)) == HEATMAP_OK);
	CHECK(memcmp(g.count, h.count, sizeof(h.count)) == 0 && g.total == h.total);
}

static void
test_binary(void)
{
	heatmap_t	h,
				g;
	unsigned char buf[HEATMAP_BINARY_SIZE];

	heatmap_core_init(&h);
	CHECK(heatmap_core_add(&h, 0, 1) == HEATMAP_OK);
	CHECK(heatmap_core_add(&h, 100, 123456789012LL) == HEATMAP_OK);
	heatmap_core_encode(&h, buf);
	CHECK(heatmap_core_decode(buf, sizeof(buf), &g) == HEATMAP_OK);
	CHECK(memcmp(g.count, h.count, sizeof(h.count)) == 0 && g.total == h.total);
	CHECK(heatmap_core_decode(buf, sizeof(buf) - 1, &g) == HEATMAP_BAD_SIZE);
	CHECK(heatmap_core_decode(buf, 0, &g) == HEATMAP_BAD_SIZE);
	buf[1] = 2;
	CHECK(heatmap_core_decode(buf, sizeof(buf), &g) == HEATMAP_BAD_VERSION);
	buf[1] = 1;
	buf[3] = 1;
	CHECK(heatmap_core_decode(buf, sizeof(buf), &g) == HEATMAP_BAD_RESERVED);
	buf[3] = 0;
	buf[12] = 0x80;				/* cell 0 negative */
	CHECK(heatmap_core_decode(buf, sizeof(buf), &g) == HEATMAP_NEGATIVE);
	buf[12] = 0;
	buf[19] = 2;				/* cell 0 = 2, total still says 1 + ... */
	CHECK(heatmap_core_decode(buf, sizeof(buf), &g) == HEATMAP_BAD_TOTAL);
}

int
main(void)
{
	test_utc_cell();
	test_add_merge();
	test_text();
	test_binary();
	return check_finish("test_heatmap");
}
