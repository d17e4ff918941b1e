/*
 * trend_core.c: daily counters, gap-filled day and ISO-week buckets and the
 * usage summary, in plain C (no postgres.h).  See trend_core.h for the
 * vocabulary and the text and binary forms.
 */
#include "trend_core.h"
#include "civil.h"

#include <stdio.h>
#include <string.h>

/* Floor division and modulo for a positive divisor. */
static int64_t
trend_floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if (a % b < 0)
		q--;
	return q;
}

static int64_t
trend_floor_mod(int64_t a, int64_t b)
{
	int64_t		r = a % b;

	if (r < 0)
		r += b;
	return r;
}

/* Days since 2000-01-01 of a proleptic Gregorian date (civil.h). */
int32_t
trend_core_days_from_civil(int y, int m, int d)
{
	return (int32_t) civil_days_since_2000(y, m, d);
}

/* The date of a day number (inverse of trend_core_days_from_civil). */
void
trend_core_civil_from_days(int32_t day, int *y, int *m, int *d)
{
	int64_t		z = (int64_t) day + 10957 + 719468;
	int64_t		era = trend_floor_div(z, 146097);
	int64_t		doe = z - era * 146097;
	int64_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t		mp = (5 * doy + 2) / 153;

	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

/* The Monday starting the ISO week of a day (2000-01-03 was a Monday). */
int32_t
trend_core_iso_monday(int32_t day)
{
	return (int32_t) (day - trend_floor_mod((int64_t) day + 5, 7));
}

/* Checks a closed period. */
trend_status
trend_core_check_period(int32_t first, int32_t last)
{
	if (first < DAYCOUNTS_MIN_DAY || last > DAYCOUNTS_MAX_DAY || first > last)
		return TREND_BAD_PERIOD;
	if ((int64_t) last - first + 1 > DAYCOUNTS_MAX_DAYS)
		return TREND_BAD_PERIOD;
	return TREND_OK;
}

/* Sets up an all-zero daycounts. */
void
daycounts_core_init(daycounts_t *d, int32_t first, int32_t ndays, int ncounters)
{
	d->version = DAYCOUNTS_VERSION;
	d->ncounters = (uint16_t) ncounters;
	d->first = first;
	d->ndays = ndays;
	memset(d->count, 0, sizeof(int64_t) * (size_t) ndays * (size_t) ncounters);
}

/* Shape: version, counters, period, exact size. */
trend_status
daycounts_core_check_shape(const daycounts_t *d, size_t size)
{
	if (size < DAYCOUNTS_HEADER_SIZE)
		return TREND_BAD_SIZE;
	if (d->version != DAYCOUNTS_VERSION)
		return TREND_BAD_VERSION;
	if (d->ncounters < 1 || d->ncounters > DAYCOUNTS_MAX_COUNTERS)
		return TREND_BAD_COUNTERS;
	if (d->ndays < 1 || d->ndays > DAYCOUNTS_MAX_DAYS ||
		trend_core_check_period(d->first, (int32_t) ((int64_t) d->first + d->ndays - 1)) != TREND_OK)
		return TREND_BAD_PERIOD;
	if (size != DAYCOUNTS_SIZE(d->ndays, d->ncounters))
		return TREND_BAD_SIZE;
	return TREND_OK;
}

/* Shape and non-negative counts. */
trend_status
daycounts_core_check(const daycounts_t *d, size_t size)
{
	trend_status st = daycounts_core_check_shape(d, size);
	size_t		n;
	size_t		i;

	if (st != TREND_OK)
		return st;
	n = (size_t) d->ndays * d->ncounters;
	for (i = 0; i < n; i++)
		if (d->count[i] < 0)
			return TREND_NEGATIVE;
	return TREND_OK;
}

/* Adds n >= 0 to counter c of a day inside the period. */
trend_status
daycounts_core_add(daycounts_t *d, int32_t day, int c, int64_t n)
{
	int64_t		i = (int64_t) day - d->first;
	int64_t	   *slot;
	int64_t		sum;

	if (n < 0)
		return TREND_NEGATIVE;
	if (c < 0 || c >= d->ncounters)
		return TREND_BAD_COUNTERS;
	if (i < 0 || i >= d->ndays)
		return TREND_OK;
	slot = &d->count[i * d->ncounters + c];
	if (__builtin_add_overflow(*slot, n, &sum))
		return TREND_OVERFLOW;
	*slot = sum;
	return TREND_OK;
}

/* Adds src into dst (dst covers src's period); all or nothing. */
trend_status
daycounts_core_merge(daycounts_t *dst, const daycounts_t *src)
{
	int64_t		off = (int64_t) src->first - dst->first;
	size_t		n = (size_t) src->ndays * src->ncounters;
	int64_t	   *base;
	size_t		i;

	if (src->ncounters != dst->ncounters)
		return TREND_BAD_COUNTERS;
	if (off < 0 || off + src->ndays > dst->ndays)
		return TREND_PERIOD_MISMATCH;
	base = &dst->count[off * dst->ncounters];
	for (i = 0; i < n; i++)
	{
		int64_t		v;

		if (src->count[i] < 0)
			return TREND_NEGATIVE;
		if (__builtin_add_overflow(base[i], src->count[i], &v))
			return TREND_OVERFLOW;
	}
	for (i = 0; i < n; i++)
		base[i] += src->count[i];
	return TREND_OK;
}

/* The period covering a and b. */
trend_status
daycounts_core_union(const daycounts_t *a, const daycounts_t *b,
					 int32_t *first, int32_t *ndays)
{
	int64_t		lo = a->first < b->first ? a->first : b->first;
	int64_t		hi_a = (int64_t) a->first + a->ndays - 1;
	int64_t		hi_b = (int64_t) b->first + b->ndays - 1;
	int64_t		hi = hi_a > hi_b ? hi_a : hi_b;

	if (a->ncounters != b->ncounters)
		return TREND_BAD_COUNTERS;
	if (trend_core_check_period((int32_t) lo, (int32_t) hi) != TREND_OK)
		return TREND_BAD_PERIOD;
	*first = (int32_t) lo;
	*ndays = (int32_t) (hi - lo + 1);
	return TREND_OK;
}

/* --- text form ---------------------------------------------------------- */

static const char *
trend_skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		   *p == '\f' || *p == '\v')
		p++;
	return p;
}

/* Reads exactly n digits. */
static const char *
trend_read_digits(const char *p, int n, int *value)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (p[i] < '0' || p[i] > '9')
			return NULL;
		v = v * 10 + (p[i] - '0');
	}
	*value = v;
	return p + n;
}

/* Reads a YYYY-MM-DD date (years 0001..9999) into a day number. */
static const char *
trend_read_date(const char *p, int32_t *day)
{
	int			y,
				m,
				d,
				yy,
				mm,
				dd;

	if ((p = trend_read_digits(p, 4, &y)) == NULL || *p++ != '-' ||
		(p = trend_read_digits(p, 2, &m)) == NULL || *p++ != '-' ||
		(p = trend_read_digits(p, 2, &d)) == NULL)
		return NULL;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		return NULL;
	*day = trend_core_days_from_civil(y, m, d);
	trend_core_civil_from_days(*day, &yy, &mm, &dd);
	if (yy != y || mm != m || dd != d)
		return NULL;			/* e.g. 2026-02-30 */
	return p;
}

/* Reads a non-negative int64 (optional '+'). */
static const char *
trend_read_count(const char *p, int64_t *value, trend_status *st)
{
	int64_t		v = 0;
	const char *start;

	*st = TREND_OK;
	if (*p == '-')
	{
		*st = TREND_NEGATIVE;
		return NULL;
	}
	if (*p == '+')
		p++;
	start = p;
	while (*p >= '0' && *p <= '9')
	{
		if (*st == TREND_OK &&
			(__builtin_mul_overflow(v, 10, &v) ||
			 __builtin_add_overflow(v, *p - '0', &v)))
			*st = TREND_OVERFLOW;
		p++;
	}
	if (p == start)
	{
		*st = TREND_SYNTAX;
		return NULL;
	}
	if (*st != TREND_OK)
		return NULL;
	*value = v;
	return p;
}

static trend_status
trend_fail(trend_status st, char *errbuf, size_t errlen, const char *what,
		   const char *str, const char *p)
{
	if (errbuf && errlen > 0)
		snprintf(errbuf, errlen, "%s at character %ld", what, (long) (p - str) + 1);
	return st;
}

/* trend_fail, releasing a partly built daycounts first. */
static trend_status
trend_fail_free(daycounts_t *d, void (*release) (void *), trend_status st,
				char *errbuf, size_t errlen, const char *what,
				const char *str, const char *p)
{
	release(d);
	return trend_fail(st, errbuf, errlen, what, str, p);
}

/* Parses [first,last]:{...}. */
trend_status
daycounts_core_parse(const char *str, daycounts_t **result,
					 void *(*alloc) (size_t), void (*release) (void *),
					 char *errbuf, size_t errlen)
{
	const char *p = trend_skip_blanks(str);
	const char *q;
	int32_t		first,
				last;
	int			k = 0;
	int64_t		i;
	daycounts_t *d;
	trend_status st;

	*result = NULL;
	if (errbuf && errlen > 0)
		errbuf[0] = '\0';
	if (*p != '[')
		return trend_fail(TREND_SYNTAX, errbuf, errlen, "expected \"[\"", str, p);
	p = trend_skip_blanks(p + 1);
	if ((q = trend_read_date(p, &first)) == NULL)
		return trend_fail(TREND_SYNTAX, errbuf, errlen, "expected a date YYYY-MM-DD", str, p);
	p = trend_skip_blanks(q);
	if (*p != ',')
		return trend_fail(TREND_SYNTAX, errbuf, errlen, "expected \",\"", str, p);
	p = trend_skip_blanks(p + 1);
	if ((q = trend_read_date(p, &last)) == NULL)
		return trend_fail(TREND_SYNTAX, errbuf, errlen, "expected a date YYYY-MM-DD", str, p);
	if (trend_core_check_period(first, last) != TREND_OK)
		return trend_fail(TREND_BAD_PERIOD, errbuf, errlen,
						  "period reversed or longer than 10000 days", str, p);
	p = trend_skip_blanks(q);
	if (*p != ']')
		return trend_fail(TREND_SYNTAX, errbuf, errlen, "expected \"]\"", str, p);
	p = trend_skip_blanks(p + 1);
	if (*p != ':')
		return trend_fail(TREND_SYNTAX, errbuf, errlen, "expected \":\"", str, p);
	p = trend_skip_blanks(p + 1);
	if (*p != '{')
		return trend_fail(TREND_SYNTAX, errbuf, errlen, "expected \"{\"", str, p);
	p = trend_skip_blanks(p + 1);

	/* The first day's value decides the number of counters. */
	if (*p == '(')
	{
		const char *r = p + 1;

		k = 1;
		for (; *r && *r != ')'; r++)
			if (*r == ',')
				k++;
		if (k < 2 || k > DAYCOUNTS_MAX_COUNTERS)
			return trend_fail(TREND_BAD_COUNTERS, errbuf, errlen,
							  "a day has 1 to 3 counters", str, p);
	}
	else
		k = 1;

	d = alloc(DAYCOUNTS_SIZE((int64_t) last - first + 1, k));
	if (d == NULL)
		return TREND_OVERFLOW;
	daycounts_core_init(d, first, (int32_t) ((int64_t) last - first + 1), k);

	for (i = 0; i < d->ndays; i++)
	{
		int			c;

		if (i > 0)
		{
			if (*p != ',')
				return trend_fail_free(d, release, *p == '}' ? TREND_BAD_SIZE : TREND_SYNTAX, errbuf, errlen,
								  *p == '}' ? "fewer values than days in the period" : "expected \",\"",
								  str, p);
			p = trend_skip_blanks(p + 1);
		}
		if (k > 1)
		{
			if (*p != '(')
				return trend_fail_free(d, release, TREND_SYNTAX, errbuf, errlen, "expected \"(\"", str, p);
			p = trend_skip_blanks(p + 1);
		}
		for (c = 0; c < k; c++)
		{
			if (c > 0)
			{
				if (*p != ',')
					return trend_fail_free(d, release, TREND_BAD_COUNTERS, errbuf, errlen,
									  "every day needs the same number of counters", str, p);
				p = trend_skip_blanks(p + 1);
			}
			if ((q = trend_read_count(p, &d->count[i * k + c], &st)) == NULL)
				return trend_fail_free(d, release, st, errbuf, errlen,
								  st == TREND_NEGATIVE ? "negative count" :
								  st == TREND_OVERFLOW ? "count out of range for bigint" :
								  "expected a count", str, p);
			p = trend_skip_blanks(q);
		}
		if (k > 1)
		{
			if (*p != ')')
				return trend_fail_free(d, release, TREND_BAD_COUNTERS, errbuf, errlen,
								  "every day needs the same number of counters", str, p);
			p = trend_skip_blanks(p + 1);
		}
	}
	if (*p != '}')
		return trend_fail_free(d, release, *p == ',' ? TREND_BAD_SIZE : TREND_SYNTAX, errbuf, errlen,
						  *p == ',' ? "more values than days in the period" : "expected \"}\"",
						  str, p);
	p = trend_skip_blanks(p + 1);
	if (*p != '\0')
		return trend_fail_free(d, release, TREND_SYNTAX, errbuf, errlen, "junk after \"}\"", str, p);
	*result = d;
	return TREND_OK;
}

/* Longest text form of d (with the NUL). */
size_t
daycounts_core_text_max(const daycounts_t *d)
{
	/* "[YYYY-MM-DD,YYYY-MM-DD]:{}" + per day "(" + k * (19 digits + ",") + ")" */
	return 32 + (size_t) d->ndays * (2 + (size_t) d->ncounters * 21);
}

/* Writes the text form; returns its length. */
size_t
daycounts_core_format(const daycounts_t *d, char *buf)
{
	char	   *p = buf;
	int			y1,
				m1,
				d1,
				y2,
				m2,
				d2;
	int32_t		i;
	int			c;
	int			k = d->ncounters;

	trend_core_civil_from_days(d->first, &y1, &m1, &d1);
	trend_core_civil_from_days(d->first + d->ndays - 1, &y2, &m2, &d2);
	p += sprintf(p, "[%04d-%02d-%02d,%04d-%02d-%02d]:{", y1, m1, d1, y2, m2, d2);
	for (i = 0; i < d->ndays; i++)
	{
		if (i > 0)
			*p++ = ',';
		if (k > 1)
			*p++ = '(';
		for (c = 0; c < k; c++)
		{
			if (c > 0)
				*p++ = ',';
			p += sprintf(p, "%lld", (long long) d->count[(size_t) i * k + c]);
		}
		if (k > 1)
			*p++ = ')';
	}
	*p++ = '}';
	*p = '\0';
	return (size_t) (p - buf);
}

/* --- binary form -------------------------------------------------------- */

static uint64_t
trend_get_be(const unsigned char *p, int n)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
trend_put_be(unsigned char *p, uint64_t v, int n)
{
	int			i;

	for (i = n - 1; i >= 0; i--)
	{
		p[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
}

/* Decodes and fully validates the binary form. */
trend_status
daycounts_core_decode(const unsigned char *buf, size_t len,
					  daycounts_t **result, void *(*alloc) (size_t),
					  void (*release) (void *))
{
	daycounts_t hdr;
	daycounts_t *d;
	size_t		n;
	size_t		i;
	trend_status st;

	*result = NULL;
	if (len < 12)
		return TREND_BAD_SIZE;
	hdr.version = (uint16_t) trend_get_be(buf, 2);
	hdr.ncounters = (uint16_t) trend_get_be(buf + 2, 2);
	hdr.first = (int32_t) (uint32_t) trend_get_be(buf + 4, 4);
	hdr.ndays = (int32_t) (uint32_t) trend_get_be(buf + 8, 4);
	if (hdr.version != DAYCOUNTS_VERSION)
		return TREND_BAD_VERSION;
	/* Shape check on the header alone, with the size it implies. */
	if (hdr.ncounters < 1 || hdr.ncounters > DAYCOUNTS_MAX_COUNTERS)
		return TREND_BAD_COUNTERS;
	if (hdr.ndays < 1 || hdr.ndays > DAYCOUNTS_MAX_DAYS)
		return TREND_BAD_PERIOD;
	st = daycounts_core_check_shape(&hdr, DAYCOUNTS_SIZE(hdr.ndays, hdr.ncounters));
	if (st != TREND_OK)
		return st;
	n = (size_t) hdr.ndays * hdr.ncounters;
	if (len != 12 + 8 * n)
		return TREND_BAD_SIZE;
	d = alloc(DAYCOUNTS_SIZE(hdr.ndays, hdr.ncounters));
	if (d == NULL)
		return TREND_OVERFLOW;
	daycounts_core_init(d, hdr.first, hdr.ndays, hdr.ncounters);
	for (i = 0; i < n; i++)
	{
		d->count[i] = (int64_t) trend_get_be(buf + 12 + 8 * i, 8);
		if (d->count[i] < 0)
		{
			release(d);
			return TREND_NEGATIVE;
		}
	}
	*result = d;
	return TREND_OK;
}

size_t
daycounts_core_binary_size(const daycounts_t *d)
{
	return 12 + 8 * (size_t) d->ndays * d->ncounters;
}

void
daycounts_core_encode(const daycounts_t *d, unsigned char *buf)
{
	size_t		n = (size_t) d->ndays * d->ncounters;
	size_t		i;

	trend_put_be(buf, d->version, 2);
	trend_put_be(buf + 2, d->ncounters, 2);
	trend_put_be(buf + 4, (uint32_t) d->first, 4);
	trend_put_be(buf + 8, (uint32_t) d->ndays, 4);
	for (i = 0; i < n; i++)
		trend_put_be(buf + 12 + 8 * i, (uint64_t) d->count[i], 8);
}

/* --- buckets ------------------------------------------------------------ */

int
trend_core_granularity(const char *name, size_t len)
{
	if (len == 3 && memcmp(name, "day", 3) == 0)
		return TREND_DAY;
	if (len == 4 && memcmp(name, "week", 4) == 0)
		return TREND_WEEK;
	return -1;
}

int32_t
trend_core_bucket(int32_t day, trend_granularity g, int32_t first)
{
	int32_t		monday;

	if (g == TREND_DAY)
		return day;
	monday = trend_core_iso_monday(day);
	return monday < first ? first : monday;
}

int32_t
trend_core_bucket_end(int32_t start, trend_granularity g, int32_t last)
{
	int32_t		end;

	if (g == TREND_DAY)
		return start;
	end = trend_core_iso_monday(start) + 6;
	return end > last ? last : end;
}

trend_status
daycounts_core_sum(const daycounts_t *d, int c, int32_t lo, int32_t hi, int64_t *sum)
{
	int64_t		s = 0;
	int64_t		from = (int64_t) lo - d->first;
	int64_t		to = (int64_t) hi - d->first;
	int64_t		i;

	if (c < 0 || c >= d->ncounters)
		return TREND_BAD_COUNTERS;
	if (from < 0)
		from = 0;
	if (to > d->ndays - 1)
		to = d->ndays - 1;
	for (i = from; i <= to; i++)
		if (__builtin_add_overflow(s, d->count[i * d->ncounters + c], &s))
			return TREND_OVERFLOW;
	*sum = s;
	return TREND_OK;
}

/* --- usage summary ------------------------------------------------------ */

trend_status
usage_summary_core(const daycounts_t *d, usage_summary_t *s)
{
	int32_t		i;
	int			k = d->ncounters;

	memset(s, 0, sizeof(*s));
	if (k != 3)
		return TREND_BAD_COUNTERS;
	for (i = 0; i < d->ndays; i++)
	{
		const int64_t *v = &d->count[(size_t) i * 3];

		if (__builtin_add_overflow(s->total_api_calls, v[0], &s->total_api_calls) ||
			__builtin_add_overflow(s->total_token_issuances, v[1], &s->total_token_issuances) ||
			__builtin_add_overflow(s->total_credential_rotations, v[2], &s->total_credential_rotations))
			return TREND_OVERFLOW;
		/* Strictly greater: the earliest day with the maximum wins. */
		if (v[0] > s->peak_daily_api_calls)
		{
			s->peak_daily_api_calls = v[0];
			s->peak_day = d->first + i;
			s->has_peak = 1;
		}
	}
	s->average_daily_api_calls = s->total_api_calls / d->ndays;
	return TREND_OK;
}

const char *
trend_core_status_text(trend_status status)
{
	switch (status)
	{
		case TREND_OK:
			return "valid";
		case TREND_BAD_SIZE:
			return "wrong size for its period and counters";
		case TREND_BAD_VERSION:
			return "unknown format version";
		case TREND_BAD_COUNTERS:
			return "number of counters out of range 1..3, or mismatched";
		case TREND_BAD_PERIOD:
			return "period reversed, longer than 10000 days or outside 0001-01-01..9999-12-31";
		case TREND_NEGATIVE:
			return "negative count";
		case TREND_OVERFLOW:
			return "count out of range for bigint";
		case TREND_SYNTAX:
			return "syntax error";
		case TREND_PERIOD_MISMATCH:
			return "periods do not match";
	}
	return "unknown error";
}
