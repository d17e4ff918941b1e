/*
 * fuzz_metric.c: libFuzzer harness over the checks of a custom metric point
 * (src/metric_core.c).  The first byte picks the check (metric name, tag
 * name, timestamp), the rest is its text.  An accepted name holds only the
 * allowed characters within its length; an accepted timestamp reads back:
 * the instant, moved by the offset written, falls on the date and time
 * written (by an inverse independent of the parser: civil_from_days), and
 * a refused one leaves the output alone.  Run with tools/fuzz.sh (make fuzz).
 */
#include "metric_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int
allowed(char c, int slash)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9') ||
		c == '.' || c == ':' || c == '-' || (slash && c == '/');
}

static void
check_ident(const char *s, size_t len, size_t max, int slash, int ok)
{
	size_t		i;
	int			want = len >= 1 && len <= max && !(s[0] >= '0' && s[0] <= '9') && s[0] != '.' && s[0] != ':' &&
		s[0] != '-' && s[0] != '/';

	for (i = 0; want && i < len; i++)
		if (!allowed(s[i], slash))
			want = 0;
	if (ok != want)
		abort();
}

/* H. Hinnant's civil_from_days, from days since 2000-01-01. */
static void
civil(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t		z = days + 10957 + 719468;
	int64_t		era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t		doe = z - era * 146097;
	int64_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t		mp = (5 * doy + 2) / 153;

	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
num(const char *s, int n)
{
	int			v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

static void
check_timestamp(const char *s, size_t len)
{
	int64_t		us = INT64_C(0x5a5a5a5a);
	int64_t		secs,
				local,
				days,
				y;
	int			m,
				d,
				sod,
				frac = 0,
				offset = 0;
	size_t		p = 16;

	if (!mc_parse_timestamp(s, len, &us))
	{
		if (us != INT64_C(0x5a5a5a5a))
			abort();
		return;
	}
	/* the fixed part of the pattern */
	if (len < 17 || len > MC_TS_TEXT_MAX || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
		!(s[10] == 'T' || s[10] == 't' || s[10] == ' '))
		abort();
	if (s[p] == ':')
	{
		p += 3;
		if (p < len && s[p] == '.')
		{
			int			digits = 0;

			p++;
			while (p < len && s[p] >= '0' && s[p] <= '9')
			{
				frac = frac * 10 + (s[p++] - '0');
				digits++;
			}
			if (digits < 1 || digits > 6)
				abort();
			while (digits++ < 6)
				frac *= 10;
		}
	}
	if (s[p] == '+' || s[p] == '-')
	{
		int			mm = len - p == 6 ? num(s + p + 4, 2) : len - p == 5 ? num(s + p + 3, 2) : 0;

		offset = (num(s + p + 1, 2) * 3600 + mm * 60) * (s[p] == '-' ? -1 : 1);
	}
	else if (!((s[p] == 'Z' || s[p] == 'z') && p + 1 == len))
		abort();
	/* the instant read back in the zone written */
	if (((us % 1000000) + 1000000) % 1000000 != frac)
		abort();
	secs = (us - frac) / 1000000;
	local = secs + offset;
	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	sod = (int) (local - days * 86400);
	civil(days, &y, &m, &d);
	if (y != num(s, 4) || m != num(s + 5, 2) || d != num(s + 8, 2) ||
		sod / 3600 != num(s + 11, 2) || sod / 60 % 60 != num(s + 14, 2) ||
		sod % 60 != (s[16] == ':' ? num(s + 17, 2) : 0))
		abort();
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s;
	size_t		len;

	if (size < 1)
		return 0;
	len = size - 1;
	/* a copy of exactly len bytes: ASan sees any read past the end */
	s = malloc(len ? len : 1);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, len);
	switch (data[0] % 3)
	{
		case 0:
			check_ident(s, len, MC_NAME_MAX, 0, mc_metric_name_ok(s, len));
			break;
		case 1:
			check_ident(s, len, MC_TAG_KEY_MAX, 1, mc_tag_key_ok(s, len));
			break;
		default:
			check_timestamp(s, len);
			break;
	}
	free(s);
	return 0;
}
