/*
 * heatmap_core.c: the day-of-week x hour count matrix, in plain C (no
 * postgres.h), so the parsers can be unit tested and fuzzed.  See
 * heatmap_core.h for the vocabulary and the text and binary forms.
 */
#include "heatmap_core.h"

#include <stdio.h>
#include <string.h>

/* Overflow-checked int64 addition: 1 on overflow. */
static int
heatmap_add_overflow(int64_t a, int64_t b, int64_t *result)
{
	return __builtin_add_overflow(a, b, result);
}

/* Sets h to the empty matrix. */
void
heatmap_core_init(heatmap_t *h)
{
	h->version = HEATMAP_VERSION;
	h->reserved = 0;
	h->total = 0;
	memset(h->count, 0, sizeof(h->count));
}

/* Quick shape check: size, version, reserved. */
heatmap_status
heatmap_core_check_shape(const heatmap_t *h, size_t size)
{
	if (size != HEATMAP_SIZE)
		return HEATMAP_BAD_SIZE;
	if (h->version != HEATMAP_VERSION)
		return HEATMAP_BAD_VERSION;
	if (h->reserved != 0)
		return HEATMAP_BAD_RESERVED;
	return HEATMAP_OK;
}

/* Full validation: shape, non-negative counts, total equal to their sum. */
heatmap_status
heatmap_core_check(const heatmap_t *h, size_t size)
{
	heatmap_status st = heatmap_core_check_shape(h, size);
	int64_t		sum = 0;
	int			i;

	if (st != HEATMAP_OK)
		return st;
	for (i = 0; i < HEATMAP_CELLS; i++)
	{
		if (h->count[i] < 0)
			return HEATMAP_NEGATIVE;
		if (heatmap_add_overflow(sum, h->count[i], &sum))
			return HEATMAP_OVERFLOW;
	}
	if (h->total != sum)
		return HEATMAP_BAD_TOTAL;
	return HEATMAP_OK;
}

/* Adds n >= 0 to one cell. */
heatmap_status
heatmap_core_add(heatmap_t *h, int cell, int64_t n)
{
	int64_t		total;
	int64_t		c;

	if (n < 0)
		return HEATMAP_NEGATIVE;
	if (cell < 0 || cell >= HEATMAP_CELLS)
		return HEATMAP_BAD_CELL;
	/* count[cell] <= total, so a total that fits means the cell fits. */
	if (heatmap_add_overflow(h->total, n, &total) ||
		heatmap_add_overflow(h->count[cell], n, &c))
		return HEATMAP_OVERFLOW;
	h->total = total;
	h->count[cell] = c;
	return HEATMAP_OK;
}

/* Adds src into dst, all or nothing. */
heatmap_status
heatmap_core_merge(heatmap_t *dst, const heatmap_t *src)
{
	int64_t		total;
	int			i;

	if (src->total < 0 || dst->total < 0)
		return HEATMAP_NEGATIVE;
	/* Each cell is at most its total, so the total check covers every cell. */
	if (heatmap_add_overflow(dst->total, src->total, &total))
		return HEATMAP_OVERFLOW;
	/* Checked anyway, so that a matrix that skipped validation cannot wrap. */
	for (i = 0; i < HEATMAP_CELLS; i++)
	{
		int64_t		c;

		if (heatmap_add_overflow(dst->count[i], src->count[i], &c))
			return HEATMAP_OVERFLOW;
	}
	for (i = 0; i < HEATMAP_CELLS; i++)
		dst->count[i] += src->count[i];
	dst->total = total;
	return HEATMAP_OK;
}

/* Skips blanks. */
static const char *
heatmap_skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		   *p == '\f' || *p == '\v')
		p++;
	return p;
}

/* Parses an unsigned decimal int64 (no sign); NULL on syntax error. */
static const char *
heatmap_parse_uint(const char *p, int64_t *value, int *overflow)
{
	int64_t		v = 0;
	const char *start = p;

	*overflow = 0;
	while (*p >= '0' && *p <= '9')
	{
		if (!*overflow &&
			(__builtin_mul_overflow(v, 10, &v) ||
			 heatmap_add_overflow(v, *p - '0', &v)))
			*overflow = 1;
		p++;
	}
	if (p == start)
		return NULL;
	*value = v;
	return p;
}

/* Formats an error message, if a buffer was given. */
static heatmap_status
heatmap_fail(heatmap_status st, char *errbuf, size_t errlen,
			 const char *what, long pos)
{
	if (errbuf && errlen > 0)
		snprintf(errbuf, errlen, "%s at character %ld", what, pos + 1);
	return st;
}

/* Parses the text form {dow:hour=count,...}. */
heatmap_status
heatmap_core_parse(const char *str, heatmap_t *h, char *errbuf, size_t errlen)
{
	const char *p = heatmap_skip_blanks(str);
	unsigned char seen[HEATMAP_CELLS];

	memset(seen, 0, sizeof(seen));
	heatmap_core_init(h);
	if (errbuf && errlen > 0)
		errbuf[0] = '\0';

	if (*p != '{')
		return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
							"expected \"{\"", (long) (p - str));
	p = heatmap_skip_blanks(p + 1);
	if (*p != '}')
	{
		for (;;)
		{
			int64_t		dow,
						hour,
						n;
			int			overflow;
			const char *q;
			int			cell;
			heatmap_status st;

			q = heatmap_parse_uint(p, &dow, &overflow);
			if (q == NULL)
				return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
									"expected a day of week 0..6", (long) (p - str));
			if (overflow || dow > 6)
				return heatmap_fail(HEATMAP_BAD_CELL, errbuf, errlen,
									"day of week out of range 0..6", (long) (p - str));
			p = heatmap_skip_blanks(q);
			if (*p != ':')
				return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
									"expected \":\"", (long) (p - str));
			p = heatmap_skip_blanks(p + 1);
			q = heatmap_parse_uint(p, &hour, &overflow);
			if (q == NULL)
				return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
									"expected an hour 0..23", (long) (p - str));
			if (overflow || hour > 23)
				return heatmap_fail(HEATMAP_BAD_CELL, errbuf, errlen,
									"hour out of range 0..23", (long) (p - str));
			p = heatmap_skip_blanks(q);
			if (*p != '=')
				return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
									"expected \"=\"", (long) (p - str));
			p = heatmap_skip_blanks(p + 1);
			if (*p == '-')
				return heatmap_fail(HEATMAP_NEGATIVE, errbuf, errlen,
									"negative count", (long) (p - str));
			if (*p == '+')
				p++;
			q = heatmap_parse_uint(p, &n, &overflow);
			if (q == NULL)
				return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
									"expected a count", (long) (p - str));
			if (overflow)
				return heatmap_fail(HEATMAP_OVERFLOW, errbuf, errlen,
									"count out of range for bigint", (long) (p - str));
			cell = (int) (dow * HEATMAP_HOURS + hour);
			if (seen[cell])
				return heatmap_fail(HEATMAP_DUPLICATE, errbuf, errlen,
									"cell given twice", (long) (p - str));
			seen[cell] = 1;
			st = heatmap_core_add(h, cell, n);
			if (st != HEATMAP_OK)
				return heatmap_fail(st, errbuf, errlen,
									"total count out of range for bigint", (long) (p - str));
			p = heatmap_skip_blanks(q);
			if (*p == ',')
			{
				p = heatmap_skip_blanks(p + 1);
				continue;
			}
			if (*p == '}')
				break;
			return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
								"expected \",\" or \"}\"", (long) (p - str));
		}
	}
	p = heatmap_skip_blanks(p + 1);
	if (*p != '\0')
		return heatmap_fail(HEATMAP_SYNTAX, errbuf, errlen,
							"junk after \"}\"", (long) (p - str));
	return HEATMAP_OK;
}

/* Writes the text form; returns its length (without the NUL). */
size_t
heatmap_core_format(const heatmap_t *h, char *buf)
{
	char	   *p = buf;
	int			i;

	*p++ = '{';
	for (i = 0; i < HEATMAP_CELLS; i++)
	{
		if (h->count[i] == 0)
			continue;
		if (p != buf + 1)
			*p++ = ',';
		p += sprintf(p, "%d:%d=%lld", i / HEATMAP_HOURS, i % HEATMAP_HOURS,
					 (long long) h->count[i]);
	}
	*p++ = '}';
	*p = '\0';
	return (size_t) (p - buf);
}

/* Big-endian readers and writers. */
static uint64_t
heatmap_get_u64(const unsigned char *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
heatmap_put_u64(unsigned char *p, uint64_t v)
{
	int			i;

	for (i = 7; i >= 0; i--)
	{
		p[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
}

/* Decodes and fully validates the binary form. */
heatmap_status
heatmap_core_decode(const unsigned char *buf, size_t len, heatmap_t *h)
{
	int			i;

	if (len != HEATMAP_BINARY_SIZE)
		return HEATMAP_BAD_SIZE;
	h->version = (uint16_t) ((buf[0] << 8) | buf[1]);
	h->reserved = (uint16_t) ((buf[2] << 8) | buf[3]);
	h->total = (int64_t) heatmap_get_u64(buf + 4);
	for (i = 0; i < HEATMAP_CELLS; i++)
		h->count[i] = (int64_t) heatmap_get_u64(buf + 12 + 8 * i);
	return heatmap_core_check(h, HEATMAP_SIZE);
}

/* Encodes the binary form. */
void
heatmap_core_encode(const heatmap_t *h, unsigned char *buf)
{
	int			i;

	buf[0] = (unsigned char) (h->version >> 8);
	buf[1] = (unsigned char) (h->version & 0xff);
	buf[2] = (unsigned char) (h->reserved >> 8);
	buf[3] = (unsigned char) (h->reserved & 0xff);
	heatmap_put_u64(buf + 4, (uint64_t) h->total);
	for (i = 0; i < HEATMAP_CELLS; i++)
		heatmap_put_u64(buf + 12 + 8 * i, (uint64_t) h->count[i]);
}

/* One-line descriptions for error details. */
const char *
heatmap_core_status_text(heatmap_status status)
{
	switch (status)
	{
		case HEATMAP_OK:
			return "valid";
		case HEATMAP_BAD_SIZE:
			return "wrong size";
		case HEATMAP_BAD_VERSION:
			return "unknown format version";
		case HEATMAP_BAD_RESERVED:
			return "reserved field not zero";
		case HEATMAP_NEGATIVE:
			return "negative count";
		case HEATMAP_BAD_TOTAL:
			return "total does not equal the sum of the cells";
		case HEATMAP_OVERFLOW:
			return "count out of range for bigint";
		case HEATMAP_SYNTAX:
			return "syntax error";
		case HEATMAP_BAD_CELL:
			return "day of week or hour out of range";
		case HEATMAP_DUPLICATE:
			return "cell given twice";
	}
	return "unknown error";
}
