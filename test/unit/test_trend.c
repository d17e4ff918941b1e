/*
 * test_trend.c: unit tests of src/trend_core.c (built under ASan+UBSan by
 * `make unit`).
 */
#include "trend_core.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void *
test_alloc(size_t n)
{
	return malloc(n);
}

static void
test_free(void *p)
{
	free(p);
}

static int32_t
D(int y, int m, int d)
{
	return trend_core_days_from_civil(y, m, d);
}

static void
test_dates(void)
{
	int			y,
				m,
				d;
	int32_t		day;

	CHECK(D(2000, 1, 1) == 0);
	CHECK(D(1970, 1, 1) == -10957);
	CHECK(D(1, 1, 1) == DAYCOUNTS_MIN_DAY);
	CHECK(D(9999, 12, 31) == DAYCOUNTS_MAX_DAY);
	CHECK(D(2024, 3, 1) - D(2024, 2, 28) == 2);
	for (day = DAYCOUNTS_MIN_DAY; day <= DAYCOUNTS_MAX_DAY; day += 97)
	{
		trend_core_civil_from_days(day, &y, &m, &d);
		if (D(y, m, d) != day)
		{
			CHECK(D(y, m, d) == day);
			break;
		}
	}
	/* ISO Mondays */
	CHECK(trend_core_iso_monday(D(2000, 1, 3)) == D(2000, 1, 3));
	CHECK(trend_core_iso_monday(D(2000, 1, 9)) == D(2000, 1, 3));
	CHECK(trend_core_iso_monday(D(2000, 1, 2)) == D(1999, 12, 27));
	CHECK(trend_core_iso_monday(D(2021, 1, 1)) == D(2020, 12, 28));
	CHECK(trend_core_iso_monday(D(2027, 1, 3)) == D(2026, 12, 28));
	CHECK(trend_core_iso_monday(D(1969, 12, 31)) == D(1969, 12, 29));
	/* buckets */
	CHECK(trend_core_bucket(D(2021, 1, 1), TREND_WEEK, D(2020, 12, 30)) == D(2020, 12, 30));
	CHECK(trend_core_bucket(D(2021, 1, 4), TREND_WEEK, D(2020, 12, 30)) == D(2021, 1, 4));
	CHECK(trend_core_bucket(D(2021, 1, 6), TREND_DAY, D(2020, 12, 30)) == D(2021, 1, 6));
	CHECK(trend_core_bucket_end(D(2020, 12, 30), TREND_WEEK, D(2021, 1, 10)) == D(2021, 1, 3));
	CHECK(trend_core_bucket_end(D(2021, 1, 4), TREND_WEEK, D(2021, 1, 5)) == D(2021, 1, 5));
	CHECK(trend_core_granularity("day", 3) == TREND_DAY);
	CHECK(trend_core_granularity("week", 4) == TREND_WEEK);
	CHECK(trend_core_granularity("month", 5) == -1);
	CHECK(trend_core_granularity("Day", 3) == -1);
	CHECK(trend_core_check_period(D(2026, 3, 2), D(2026, 3, 1)) == TREND_BAD_PERIOD);
	CHECK(trend_core_check_period(0, DAYCOUNTS_MAX_DAYS - 1) == TREND_OK);
	CHECK(trend_core_check_period(0, DAYCOUNTS_MAX_DAYS) == TREND_BAD_PERIOD);
}

static daycounts_t *
make(int32_t first, int32_t ndays, int k)
{
	daycounts_t *d = malloc(DAYCOUNTS_SIZE(ndays, k));

	daycounts_core_init(d, first, ndays, k);
	return d;
}

static void
test_counts(void)
{
	daycounts_t *a = make(D(2026, 3, 1), 5, 2);
	daycounts_t *b = make(D(2026, 3, 3), 2, 2);
	daycounts_t *c = make(D(2026, 3, 3), 2, 1);
	int64_t		s;
	int32_t		first,
				ndays;

	CHECK(daycounts_core_check(a, DAYCOUNTS_SIZE(5, 2)) == TREND_OK);
	CHECK(daycounts_core_check(a, DAYCOUNTS_SIZE(5, 2) + 1) == TREND_BAD_SIZE);
	CHECK(daycounts_core_add(a, D(2026, 3, 1), 0, 4) == TREND_OK);
	CHECK(daycounts_core_add(a, D(2026, 3, 5), 1, 2) == TREND_OK);
	CHECK(daycounts_core_add(a, D(2026, 3, 6), 0, 100) == TREND_OK);	/* ignored */
	CHECK(daycounts_core_add(a, D(2026, 2, 28), 0, 100) == TREND_OK);	/* ignored */
	CHECK(daycounts_core_add(a, D(2026, 3, 1), 2, 1) == TREND_BAD_COUNTERS);
	CHECK(daycounts_core_add(a, D(2026, 3, 1), 0, -1) == TREND_NEGATIVE);
	CHECK(daycounts_core_add(a, D(2026, 3, 1), 0, INT64_MAX) == TREND_OVERFLOW);
	CHECK(a->count[0] == 4 && a->count[9] == 2);

	CHECK(daycounts_core_add(b, D(2026, 3, 3), 0, 7) == TREND_OK);
	CHECK(daycounts_core_merge(a, b) == TREND_OK);
	CHECK(a->count[4] == 7);
	CHECK(daycounts_core_merge(b, a) == TREND_PERIOD_MISMATCH);
	CHECK(daycounts_core_merge(a, c) == TREND_BAD_COUNTERS);
	CHECK(daycounts_core_union(b, a, &first, &ndays) == TREND_OK);
	CHECK(first == D(2026, 3, 1) && ndays == 5);

	CHECK(daycounts_core_sum(a, 0, D(2026, 2, 1), D(2026, 4, 1), &s) == TREND_OK && s == 11);
	CHECK(daycounts_core_sum(a, 1, D(2026, 3, 5), D(2026, 3, 5), &s) == TREND_OK && s == 2);
	CHECK(daycounts_core_sum(a, 0, D(2026, 4, 1), D(2026, 4, 9), &s) == TREND_OK && s == 0);
	a->count[0] = INT64_MAX;
	CHECK(daycounts_core_sum(a, 0, D(2026, 3, 1), D(2026, 3, 5), &s) == TREND_OVERFLOW);
	CHECK(daycounts_core_merge(a, a) == TREND_OVERFLOW);
	a->count[0] = -5;
	CHECK(daycounts_core_check(a, DAYCOUNTS_SIZE(5, 2)) == TREND_NEGATIVE);
	free(a);
	free(b);
	free(c);
}

static void
test_summary(void)
{
	daycounts_t *d = make(D(2026, 3, 1), 4, 3);
	daycounts_t *one = make(D(2026, 3, 1), 4, 1);
	usage_summary_t s;

	CHECK(usage_summary_core(d, &s) == TREND_OK);
	CHECK(s.total_api_calls == 0 && !s.has_peak && s.peak_daily_api_calls == 0);
	daycounts_core_add(d, D(2026, 3, 2), 0, 7);
	daycounts_core_add(d, D(2026, 3, 4), 0, 7);
	daycounts_core_add(d, D(2026, 3, 1), 0, 5);
	daycounts_core_add(d, D(2026, 3, 1), 1, 3);
	daycounts_core_add(d, D(2026, 3, 3), 2, 2);
	CHECK(usage_summary_core(d, &s) == TREND_OK);
	CHECK(s.total_api_calls == 19 && s.average_daily_api_calls == 4);
	CHECK(s.peak_daily_api_calls == 7 && s.has_peak && s.peak_day == D(2026, 3, 2));
	CHECK(s.total_token_issuances == 3 && s.total_credential_rotations == 2);
	CHECK(usage_summary_core(one, &s) == TREND_BAD_COUNTERS);
	d->count[0] = INT64_MAX;
	CHECK(usage_summary_core(d, &s) == TREND_OVERFLOW);
	free(d);
	free(one);
}

static void
test_text(void)
{
	daycounts_t *d;
	char		err[128];
	char	   *buf;

	CHECK(daycounts_core_parse("[2026-03-01,2026-03-03]:{4,0,7}", &d, test_alloc, test_free, err, sizeof(err)) == TREND_OK);
	buf = malloc(daycounts_core_text_max(d));
	daycounts_core_format(d, buf);
	CHECK(strcmp(buf, "[2026-03-01,2026-03-03]:{4,0,7}") == 0);
	free(buf);
	free(d);

	CHECK(daycounts_core_parse(" [ 2026-12-31 , 2027-01-01 ] : { ( 1 , 2 ) , (3,+4) } ", &d, test_alloc, test_free, err, sizeof(err)) == TREND_OK);
	buf = malloc(daycounts_core_text_max(d));
	daycounts_core_format(d, buf);
	CHECK(strcmp(buf, "[2026-12-31,2027-01-01]:{(1,2),(3,4)}") == 0);
	free(buf);
	free(d);

#define BAD(s, st) CHECK(daycounts_core_parse(s, &d, test_alloc, test_free, err, sizeof(err)) == st && d == NULL)
	BAD("", TREND_SYNTAX);
	BAD("[2026-03-01,2026-03-03]:{4,0}", TREND_BAD_SIZE);
	BAD("[2026-03-01,2026-03-03]:{4,0,7,8}", TREND_BAD_SIZE);
	BAD("[2026-03-03,2026-03-01]:{4,0,7}", TREND_BAD_PERIOD);
	BAD("[2026-02-30,2026-03-01]:{4,0}", TREND_SYNTAX);
	BAD("[2026-03-01,2026-03-01]:{-4}", TREND_NEGATIVE);
	BAD("[2026-03-01,2026-03-01]:{99999999999999999999}", TREND_OVERFLOW);
	BAD("[2026-03-01,2026-03-02]:{(1,2),(3)}", TREND_BAD_COUNTERS);
	BAD("[2026-03-01,2026-03-02]:{(1,2),(3,4,5)}", TREND_BAD_COUNTERS);
	BAD("[2026-03-01,2026-03-01]:{(1,2,3,4)}", TREND_BAD_COUNTERS);
	BAD("[2026-03-01,2026-03-01]:{1} x", TREND_SYNTAX);
	BAD("[2026-03-01,2056-03-01]:{1}", TREND_BAD_PERIOD);
	BAD("[0000-01-01,0000-01-01]:{1}", TREND_SYNTAX);
#undef BAD
}

static void
test_binary(void)
{
	daycounts_t *d;
	daycounts_t *e;
	unsigned char *buf;
	size_t		n;

	CHECK(daycounts_core_parse("[1999-12-31,2000-01-02]:{(1,2),(3,4),(5,6)}", &d, test_alloc, test_free, NULL, 0) == TREND_OK);
	n = daycounts_core_binary_size(d);
	CHECK(n == 12 + 6 * 8);
	buf = malloc(n);
	daycounts_core_encode(d, buf);
	CHECK(daycounts_core_decode(buf, n, &e, test_alloc, test_free) == TREND_OK);
	CHECK(e->first == d->first && e->ndays == 3 && e->ncounters == 2 && e->count[5] == 6);
	free(e);
	CHECK(daycounts_core_decode(buf, n - 1, &e, test_alloc, test_free) == TREND_BAD_SIZE);
	CHECK(daycounts_core_decode(buf, 11, &e, test_alloc, test_free) == TREND_BAD_SIZE);
	buf[1] = 9;
	CHECK(daycounts_core_decode(buf, n, &e, test_alloc, test_free) == TREND_BAD_VERSION);
	buf[1] = 1;
	buf[3] = 4;
	CHECK(daycounts_core_decode(buf, n, &e, test_alloc, test_free) == TREND_BAD_COUNTERS);
	buf[3] = 2;
	buf[8] = 0x7f;
	CHECK(daycounts_core_decode(buf, n, &e, test_alloc, test_free) == TREND_BAD_PERIOD);
	buf[8] = 0;
	buf[12] = 0xff;
	CHECK(daycounts_core_decode(buf, n, &e, test_alloc, test_free) == TREND_NEGATIVE);
	free(buf);
	free(d);
}

int
main(void)
{
	test_dates();
	test_counts();
	test_summary();
	test_text();
	test_binary();
	return check_finish("test_trend");
}
