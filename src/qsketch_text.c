/*
 * qsketch_text.c: the text form (JSON) of the quantile sketch; see
 * qsketch_core.h.
 */
#include "qsketch_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Text form
 * ------------------------------------------------------------------------
 */

/* Shortest text that reads back as the same double; plain digits if short. */
static void
qs_format_double(char *out, size_t n, double v)
{
	int			prec;

	if (fabs(v) >= 1e-4 && fabs(v) < 1e15)
	{
		for (prec = 0; prec <= 22; prec++)
		{
			snprintf(out, n, "%.*f", prec, v);
			if (strtod(out, NULL) == v)
				return;
		}
	}
	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(out, n, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

typedef struct qs_writer
{
	char	   *buf;
	size_t		len;
	size_t		cap;
} qs_writer;

static void qs_emit(qs_writer *w, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
qs_emit(qs_writer *w, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t) n < w->cap - w->len ? (size_t) n : w->cap - w->len - 1;
}

static void
qs_emit_store(qs_writer *w, const qs_sketch *s, const qs_store *st)
{
	int32_t		k;
	int			first = 1;

	qs_emit(w, "{");
	if (st->n > 0)
	{
		for (k = st->lo; k <= st->hi; k++)
		{
			uint64_t	c = s->counts[st->off + (uint32_t) (k - st->base)];

			if (c == 0)
				continue;
			qs_emit(w, "%s\"%d\":%llu", first ? "" : ",", (int) k, (unsigned long long) c);
			first = 0;
		}
	}
	qs_emit(w, "}");
}

char *
qs_text_write(const qs_sketch *s, const qs_alloc *a, qs_error *err)
{
	qs_writer	w;
	char		alpha[32],
				min[32],
				max[32],
				sum[32];

	/* per bucket at most 35 characters: ,"-5000000":18446744073709551615 */
	w.cap = 512 + 36 * (size_t) qs_bucket_count(s);
	w.len = 0;
	w.buf = qs_allocate(a, w.cap, err);
	if (w.buf == NULL)
		return NULL;
	w.buf[0] = '\0';
	qs_format_double(alpha, sizeof(alpha), s->alpha);
	qs_format_double(min, sizeof(min), s->min);
	qs_format_double(max, sizeof(max), s->max);
	qs_format_double(sum, sizeof(sum), s->sum);
	qs_emit(&w, "{\"version\":%d,\"alpha\":%s,\"count\":%llu,\"min\":%s,\"max\":%s,\"sum\":%s,"
			"\"flags\":%d,\"zero\":%llu,\"negative\":",
			QS_VERSION, alpha, (unsigned long long) s->count, min, max, sum,
			s->flags & QS_COMPACT_FLAGS, (unsigned long long) s->zero);
	qs_emit_store(&w, s, &s->neg);
	qs_emit(&w, ",\"positive\":");
	qs_emit_store(&w, s, &s->pos);
	qs_emit(&w, "}");
	return w.buf;
}

typedef struct qs_lexer
{
	const char *start;
	const char *p;
	qs_error   *err;
} qs_lexer;

static void
qs_skip_ws(qs_lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r')
		lx->p++;
}

static int
qs_lex_fail(qs_lexer *lx, const char *what)
{
	return qs_fail(lx->err, QS_ERR_MALFORMED, "expected %s at character %d",
				   what, (int) (lx->p - lx->start) + 1);
}

static int
qs_expect(qs_lexer *lx, char c, const char *what)
{
	qs_skip_ws(lx);
	if (*lx->p != c)
		return qs_lex_fail(lx, what);
	lx->p++;
	return 0;
}

/* A quoted name of letters, digits, '_' and '-'. */
static int
qs_read_name(qs_lexer *lx, char *out, size_t cap, const char *what)
{
	size_t		n = 0;

	if (qs_expect(lx, '"', what))
		return -1;
	while ((*lx->p >= 'a' && *lx->p <= 'z') || (*lx->p >= '0' && *lx->p <= '9') ||
		   *lx->p == '_' || *lx->p == '-')
	{
		if (n + 1 >= cap)
			return qs_lex_fail(lx, "a shorter name");
		out[n++] = *lx->p++;
	}
	out[n] = '\0';
	if (*lx->p != '"' || n == 0)
		return qs_lex_fail(lx, what);
	lx->p++;
	return 0;
}

/* A number token: digits, sign, '.', 'e' (so never "nan" or "inf"). */
static int
qs_read_token(qs_lexer *lx, char *out, size_t cap)
{
	size_t		n = 0;

	qs_skip_ws(lx);
	while ((*lx->p >= '0' && *lx->p <= '9') || *lx->p == '-' || *lx->p == '+' ||
		   *lx->p == '.' || *lx->p == 'e' || *lx->p == 'E')
	{
		if (n + 1 >= cap)
			return qs_lex_fail(lx, "a shorter number");
		out[n++] = *lx->p++;
	}
	out[n] = '\0';
	if (n == 0)
		return qs_lex_fail(lx, "a number");
	return 0;
}

static int
qs_read_double(qs_lexer *lx, double *v, const char *name)
{
	char		tok[64];
	char	   *end;

	if (qs_read_token(lx, tok, sizeof(tok)))
		return -1;
	errno = 0;
	*v = strtod(tok, &end);
	if (*end != '\0' || end == tok)
		return qs_fail(lx->err, QS_ERR_MALFORMED, "invalid number \"%s\" for %s", tok, name);
	if (!isfinite(*v))
		return qs_fail(lx->err, QS_ERR_MALFORMED, "%s \"%s\" is not a finite number", name, tok);
	return 0;
}

/* An unsigned integer no larger than max (digits only). */
static int
qs_parse_uint(qs_lexer *lx, const char *tok, uint64_t max, uint64_t *v, const char *name)
{
	const char *c = tok;
	uint64_t	r = 0;

	if (*c == '\0')
		return qs_fail(lx->err, QS_ERR_MALFORMED, "invalid integer \"%s\" for %s", tok, name);
	for (; *c; c++)
	{
		if (*c < '0' || *c > '9')
			return qs_fail(lx->err, QS_ERR_MALFORMED, "invalid integer \"%s\" for %s", tok, name);
		if (r > (max - (uint64_t) (*c - '0')) / 10)
			return qs_fail(lx->err, QS_ERR_MALFORMED, "%s %s is out of range", name, tok);
		r = r * 10 + (uint64_t) (*c - '0');
	}
	*v = r;
	return 0;
}

static int
qs_read_uint(qs_lexer *lx, uint64_t max, uint64_t *v, const char *name)
{
	char		tok[64];

	if (qs_read_token(lx, tok, sizeof(tok)))
		return -1;
	return qs_parse_uint(lx, tok, max, v, name);
}

/* A bucket object {"key":count, ...}. */
static int
qs_read_buckets(qs_lexer *lx, qs_bucket_list *l, const qs_alloc *a, const char *name)
{
	if (qs_expect(lx, '{', "\"{\""))
		return -1;
	qs_skip_ws(lx);
	if (*lx->p == '}')
	{
		lx->p++;
		return 0;
	}
	for (;;)
	{
		char		key[16];
		uint64_t	mag,
					count;
		int			neg;

		if (qs_read_name(lx, key, sizeof(key), "a quoted bucket key"))
			return -1;
		neg = key[0] == '-';
		if (qs_parse_uint(lx, key + neg, (uint64_t) QS_KEY_BOUND, &mag, "bucket key"))
			return -1;
		if (qs_expect(lx, ':', "\":\"") ||
			qs_read_uint(lx, QS_INT64_MAX, &count, "bucket count"))
			return -1;
		if (qs_list_push(l, neg ? -(int64_t) mag : (int64_t) mag, count, a, name, lx->err))
			return -1;
		qs_skip_ws(lx);
		if (*lx->p == '}')
		{
			lx->p++;
			return 0;
		}
		if (qs_expect(lx, ',', "\",\" or \"}\""))
			return -1;
	}
}

qs_sketch *
qs_text_read(const char *str, const qs_alloc *a, qs_error *err)
{
	static const char *const names[] = {"version", "alpha", "count", "min", "max", "sum",
	"flags", "zero", "negative", "positive"};
	const int	nnames = (int) (sizeof(names) / sizeof(names[0]));
	qs_parsed	p;
	qs_lexer	lx;
	unsigned	seen = 0;
	int			i;

	memset(&p, 0, sizeof(p));
	lx.start = lx.p = str;
	lx.err = err;
	if (qs_expect(&lx, '{', "\"{\""))
		return NULL;
	for (;;)
	{
		char		name[16];
		uint64_t	version;
		int			rc = 0;

		if (qs_read_name(&lx, name, sizeof(name), "a quoted field name"))
			return NULL;
		for (i = 0; i < nnames; i++)
			if (strcmp(name, names[i]) == 0)
				break;
		if (i == nnames)
		{
			qs_fail(err, QS_ERR_MALFORMED, "unknown field \"%s\"", name);
			return NULL;
		}
		if (seen & (1u << i))
		{
			qs_fail(err, QS_ERR_MALFORMED, "field \"%s\" appears twice", name);
			return NULL;
		}
		seen |= 1u << i;
		if (qs_expect(&lx, ':', "\":\""))
			return NULL;
		switch (i)
		{
			case 0:
				rc = qs_read_uint(&lx, 255, &version, "version");
				if (rc == 0 && version != QS_VERSION)
				{
					qs_fail(err, QS_ERR_VERSION, "unsupported qsketch format version %llu",
							(unsigned long long) version);
					return NULL;
				}
				break;
			case 1:
				rc = qs_read_double(&lx, &p.alpha, "alpha");
				break;
			case 2:
				rc = qs_read_uint(&lx, QS_INT64_MAX, &p.count, "count");
				break;
			case 3:
				rc = qs_read_double(&lx, &p.min, "min");
				break;
			case 4:
				rc = qs_read_double(&lx, &p.max, "max");
				break;
			case 5:
				rc = qs_read_double(&lx, &p.sum, "sum");
				break;
			case 6:
				rc = qs_read_uint(&lx, 255, &p.flags, "flags");
				break;
			case 7:
				rc = qs_read_uint(&lx, QS_INT64_MAX, &p.zero, "zero");
				break;
			case 8:
				rc = qs_read_buckets(&lx, &p.neg, a, "negative");
				break;
			default:
				rc = qs_read_buckets(&lx, &p.pos, a, "positive");
				break;
		}
		if (rc)
			return NULL;
		qs_skip_ws(&lx);
		if (*lx.p == '}')
		{
			lx.p++;
			break;
		}
		if (qs_expect(&lx, ',', "\",\" or \"}\""))
			return NULL;
	}
	qs_skip_ws(&lx);
	if (*lx.p != '\0')
	{
		qs_lex_fail(&lx, "the end of the input");
		return NULL;
	}
	for (i = 0; i < nnames; i++)
	{
		/* "flags" may be left out */
		if (i != 6 && !(seen & (1u << i)))
		{
			qs_fail(err, QS_ERR_MALFORMED, "missing field \"%s\"", names[i]);
			return NULL;
		}
	}
	return qs_build(&p, a, err);
}

