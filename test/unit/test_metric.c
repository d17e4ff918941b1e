/*
 * test_metric.c: unit tests of src/metric_core.c, the checks of a custom
 * metric point that metric_store's fast path runs in C (built under
 * ASan+UBSan by `make unit`).  The expected instants are PostgreSQL's
 * reading of the same text (extract(epoch from text::timestamptz)).
 */
#include "metric_core.h"
#include "civil.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int
name_ok(const char *s)
{
	return mc_metric_name_ok(s, strlen(s));
}

static int
key_ok(const char *s)
{
	return mc_tag_key_ok(s, strlen(s));
}

/* 1 when s is vouched for as the instant want (microseconds since 2000). */
static int
ts_is(const char *s, int64_t want)
{
	int64_t		got = 0;

	return mc_parse_timestamp(s, strlen(s), &got) && got == want;
}

static int
ts_refused(const char *s)
{
	int64_t		got = 12345;

	return !mc_parse_timestamp(s, strlen(s), &got) && got == 12345;
}

static void
test_names(void)
{
	char		buf[200];

	CHECK(name_ok("a"));
	CHECK(name_ok("_"));
	CHECK(name_ok("api.latency"));
	CHECK(name_ok("A:b-c_d.9"));
	CHECK(!name_ok(""));
	CHECK(!name_ok("9a"));
	CHECK(!name_ok(".a"));
	CHECK(!name_ok("-a"));
	CHECK(!name_ok("a b"));
	CHECK(!name_ok("a/b"));
	CHECK(!name_ok("é"));
	CHECK(!mc_metric_name_ok("a\0b", 3));
	memset(buf, 'x', sizeof(buf));
	CHECK(mc_metric_name_ok(buf, 128));
	CHECK(!mc_metric_name_ok(buf, 129));

	CHECK(key_ok("env"));
	CHECK(key_ok("k1/x.y:z-1"));
	CHECK(key_ok("_a"));
	CHECK(!key_ok(""));
	CHECK(!key_ok("1a"));
	CHECK(!key_ok("/a"));
	CHECK(!key_ok("a b"));
	CHECK(!key_ok("a\"b"));
	CHECK(mc_tag_key_ok(buf, 64));
	CHECK(!mc_tag_key_ok(buf, 65));
}

static void
test_timestamps(void)
{
	/* the instants PostgreSQL gives the same text */
	CHECK(ts_is("2000-01-01T00:00:00Z", 0));
	CHECK(ts_is("2026-11-30T04:00:00.5+05:30", INT64_C(849306600500000)));
	CHECK(ts_is("2024-02-29 23:59:59.999999-15:59", INT64_C(762623939999999)));
	CHECK(ts_is("1900-01-01T00:00Z", INT64_C(-3155673600000000)));
	CHECK(ts_is("2999-12-31t23:59:59z", INT64_C(31556995199000000)));
	CHECK(ts_is("2026-03-01T00:00+14", INT64_C(825588000000000)));
	CHECK(ts_is("1999-12-31T23:00:00-0100", 0));
	CHECK(ts_is("2100-02-28T12:34:56.7+00:00", INT64_C(3160816496700000)));
	CHECK(ts_is("2000-01-01T00:00:00.000001Z", 1));
	CHECK(ts_is("2000-01-01T00:00:00.1Z", 100000));
	CHECK(ts_is("2000-01-01T00:00:00-00:00", 0));

	/* not the pattern */
	CHECK(ts_refused(""));
	CHECK(ts_refused("now"));
	CHECK(ts_refused("2026-11-30"));
	CHECK(ts_refused("2026-11-30T04:00"));
	CHECK(ts_refused("2026-11-30T04:00:00"));
	CHECK(ts_refused("2026-11-30X04:00:00Z"));
	CHECK(ts_refused("2026-11-30T04:00:00.Z"));
	CHECK(ts_refused("2026-11-30T04:00:00.1234567Z"));
	CHECK(ts_refused("2026-11-30T04:00.5Z"));
	CHECK(ts_refused("2026-11-30T04:00:0Z"));
	CHECK(ts_refused("2026-11-30T04:00:00ZZ"));
	CHECK(ts_refused("2026-11-30T04:00:00+5"));
	CHECK(ts_refused("2026-11-30T04:00:00+053"));
	CHECK(ts_refused("2026-11-30T04:00:00+05:3"));
	CHECK(ts_refused("2026-11-30T04:00:00+05:300"));
	CHECK(ts_refused("2026-11-30T04:00:00 +05:00"));
	CHECK(ts_refused("26-11-30T04:00:00Z"));
	CHECK(ts_refused("+2026-11-30T04:00:00Z"));
	CHECK(ts_refused("2026-11-30T04:00:00Z "));
	CHECK(!mc_parse_timestamp("2026-11-30T04:00:00Z\0", 21, &(int64_t){0}));
	/* longer than 40 characters */
	CHECK(ts_refused("2026-11-30T04:00:00.000000+05:30         "));

	/* the pattern, left to PostgreSQL: fields out of the plain ranges */
	CHECK(ts_refused("2026-02-29T00:00:00Z"));
	CHECK(ts_refused("2026-04-31T00:00:00Z"));
	CHECK(ts_refused("2026-13-01T00:00:00Z"));
	CHECK(ts_refused("2026-00-01T00:00:00Z"));
	CHECK(ts_refused("2026-01-00T00:00:00Z"));
	CHECK(ts_refused("2026-01-01T24:00:00Z"));
	CHECK(ts_refused("2026-01-01T23:60:00Z"));
	CHECK(ts_refused("2026-01-01T23:59:60Z"));
	CHECK(ts_refused("2026-01-01T00:00:00+16:00"));
	CHECK(ts_refused("2026-01-01T00:00:00+15:60"));
	CHECK(ts_refused("1899-12-31T23:59:59Z"));
	CHECK(ts_refused("3000-01-01T00:00:00Z"));
	/* leap days: 2000 and 2400 are leap years, 2100 is not */
	CHECK(ts_is("2000-02-29T00:00:00Z", INT64_C(59) * 86400 * 1000000));
	CHECK(ts_refused("2100-02-29T00:00:00Z"));
}

static void
test_days(void)
{
	CHECK(civil_days_since_2000(2000, 1, 1) == 0);
	CHECK(civil_days_since_2000(1970, 1, 1) == -10957);
	CHECK(civil_days_since_2000(2000, 3, 1) == 60);
	CHECK(civil_days_since_2000(1999, 12, 31) == -1);
	CHECK(civil_days_since_2000(2400, 1, 1) == 146097);
	CHECK(civil_days_since_2000(1600, 1, 1) == -146097);
}

int
main(void)
{
	test_names();
	test_timestamps();
	test_days();
	return check_finish("test_metric");
}
