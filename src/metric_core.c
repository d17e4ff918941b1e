/*
 * metric_core.c: the checks of a custom metric point that the fast path of
 * analytics.metric_store runs in C (see metric_core.h for what "vouch"
 * means).  No postgres.h: unit tested (test/unit/test_metric.c) and fuzzed
 * (test/fuzz/fuzz_metric.c) outside the server.
 */
#include "metric_core.h"
#include "civil.h"

static int
mc_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
mc_is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* ^[A-Za-z_][A-Za-z0-9_.:-]*$ (with '/' too when slash), 1 to max bytes. */
static int
mc_ident_ok(const char *s, size_t len, size_t max, int slash)
{
	size_t		i;

	if (len < 1 || len > max || !mc_is_alpha_(s[0]))
		return 0;
	for (i = 1; i < len; i++)
	{
		char		c = s[i];

		if (!(mc_is_alpha_(c) || mc_is_digit(c) || c == '.' || c == ':' || c == '-' || (slash && c == '/')))
			return 0;
	}
	return 1;
}

int
mc_metric_name_ok(const char *s, size_t len)
{
	return mc_ident_ok(s, len, MC_NAME_MAX, 0);
}

int
mc_tag_key_ok(const char *s, size_t len)
{
	return mc_ident_ok(s, len, MC_TAG_KEY_MAX, 1);
}

/* The value of n digits at s (all digits: the caller checked). */
static int
mc_digits(const char *s, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* 1 when s[0..n) are all digits. */
static int
mc_all_digits(const char *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!mc_is_digit(s[i]))
			return 0;
	return 1;
}

static int
mc_days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

int
mc_parse_timestamp(const char *s, size_t len, int64_t *usec)
{
	size_t		p;
	int			year,
				month,
				day,
				hour,
				minute,
				second = 0;
	int64_t		frac = 0;
	int64_t		offset = 0;		/* seconds east of UTC */

	/* YYYY-MM-DD[Tt ]HH:MM: 16 characters, then at least a Z */
	if (len < 17 || len > MC_TS_TEXT_MAX)
		return 0;
	if (!mc_all_digits(s, 4) || s[4] != '-' || !mc_all_digits(s + 5, 2) || s[7] != '-' ||
		!mc_all_digits(s + 8, 2) || !(s[10] == 'T' || s[10] == 't' || s[10] == ' ') ||
		!mc_all_digits(s + 11, 2) || s[13] != ':' || !mc_all_digits(s + 14, 2))
		return 0;
	year = mc_digits(s, 4);
	month = mc_digits(s + 5, 2);
	day = mc_digits(s + 8, 2);
	hour = mc_digits(s + 11, 2);
	minute = mc_digits(s + 14, 2);
	p = 16;
	/* (:SS(.F{1,6})?)? */
	if (s[p] == ':')
	{
		int			nf = 0;

		if (len < p + 3 || !mc_all_digits(s + p + 1, 2))
			return 0;
		second = mc_digits(s + p + 1, 2);
		p += 3;
		if (p < len && s[p] == '.')
		{
			p++;
			while (p < len && mc_is_digit(s[p]) && nf < 7)
			{
				frac = frac * 10 + (s[p] - '0');
				nf++;
				p++;
			}
			if (nf < 1 || nf > 6)
				return 0;
			while (nf++ < 6)
				frac *= 10;
		}
	}
	/* [Zz] | [+-]HH(:?MM)? to the end */
	if (p >= len)
		return 0;
	if (s[p] == 'Z' || s[p] == 'z')
	{
		if (p + 1 != len)
			return 0;
	}
	else if (s[p] == '+' || s[p] == '-')
	{
		int			sign = s[p] == '-' ? -1 : 1;
		size_t		rest = len - p - 1;
		const char *o = s + p + 1;
		int			oh,
					om = 0;

		if (rest == 2 && mc_all_digits(o, 2))
			oh = mc_digits(o, 2);
		else if (rest == 4 && mc_all_digits(o, 4))
		{
			oh = mc_digits(o, 2);
			om = mc_digits(o + 2, 2);
		}
		else if (rest == 5 && mc_all_digits(o, 2) && o[2] == ':' && mc_all_digits(o + 3, 2))
		{
			oh = mc_digits(o, 2);
			om = mc_digits(o + 3, 2);
		}
		else
			return 0;
		if (oh > 15 || om > 59)
			return 0;
		offset = sign * (int64_t) (oh * 3600 + om * 60);
	}
	else
		return 0;

	/* fields PostgreSQL reads as they are */
	if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1 ||
		day > mc_days_in_month(year, month) || hour > 23 || minute > 59 || second > 59)
		return 0;

	*usec = ((civil_days_since_2000(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset)
			 * INT64_C(1000000)) + frac;
	return 1;
}
