/*
 * fuzz_qsketch.c: libFuzzer harness over the qsketch input parsers (run by
 * tools/fuzz.sh, linked with src/qsketch_core.c).  The first byte picks the
 * parser: even for the compact binary form, odd for the text form.  Whatever
 * parses must validate, round-trip to identical bytes and text, answer
 * quantiles within [min, max] and merge with itself.  The compact bytes (the
 * input itself, or those of the parsed text) are also merged straight into
 * working states (empty, wide and collapsing, the sketch itself) with
 * qs_merge_compact, which must give exactly what qs_merge of qs_compact_read
 * gives: the same sketch or the same error; and qs_compact_decode (the same
 * path into an empty state) exactly what qs_compact_read gives.  Weighted
 * adds (qs_add_n) into the parsed sketch, of values at its ends, far beyond
 * them (collapsing its stores), in the zero bucket, non-finite and taken
 * from the input's last bytes, must give what as many single adds give
 * (add_n_agrees), and counts pushed to INT64_MAX and beyond must stop with
 * an overflow error, the sketch left as it was.
 */
#include "qsketch_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../qsketch_oracle.h"

/* Merge compact bytes into several working states. */
static void
check_merge_compact_all(const uint8_t *b, size_t len, const qs_sketch *self)
{
	static const double wide[] = {-1e6, -1, 0, 1e-3, 1, 3.5, 1e6, 1e300, -1e-300};
	double		alpha = 0.01,
				hdr;
	qs_error	err;
	qs_sketch  *d;
	size_t		i;

	/* the input's alpha when it has a valid one, so that the decoding runs */
	if (len >= 12)
	{
		memcpy(&hdr, b + 4, sizeof(hdr));	/* little-endian hosts */
		if (hdr >= QS_ALPHA_MIN && hdr <= QS_ALPHA_MAX)
			alpha = hdr;
	}
	if (!decode_agrees(b, len))
		abort();
	d = qs_create(alpha, &A, &err);
	if (d == NULL)
		abort();
	if (!merge_compact_agrees(d, b, len))
		abort();
	for (i = 0; d != NULL && i < sizeof(wide) / sizeof(wide[0]); i++)
		d = qs_add(d, wide[i], &A, &err);
	if (d == NULL)
		abort();
	if (!merge_compact_agrees(d, b, len))
		abort();
	if (self != NULL && !merge_compact_agrees(self, b, len))
		abort();
}

/* Weighted adds into a parsed sketch: as many single adds, or the same error. */
static void
check_add_n_all(const qs_sketch *s, const uint8_t *data, size_t size)
{
	static const uint64_t weights[] = {0, 1, 2, 7, 150};
	double		values[12];
	size_t		nv = 0,
				i,
				j;
	uint64_t	room = (uint64_t) INT64_MAX - s->count;
	qs_error	err;
	qs_sketch  *t;

	values[nv++] = s->min;
	values[nv++] = s->max;
	values[nv++] = -s->max;
	values[nv++] = s->max * 1e30;	/* far above: collapses the store */
	values[nv++] = s->min * 1e30;
	values[nv++] = s->max * 1e-30;	/* far below: into a collapsed bucket */
	values[nv++] = 0.0;
	values[nv++] = 1e-310;
	values[nv++] = NAN;
	values[nv++] = -INFINITY;
	if (size >= 9)
	{
		memcpy(&values[nv++], data + size - 8, sizeof(double));
		values[nv++] = ldexp((double) data[size - 9] - 128.0, (int) (data[size - 9] % 64));
	}
	for (i = 0; i < nv; i++)
	{
		for (j = 0; j < sizeof(weights) / sizeof(weights[0]); j++)
		{
			if (!add_n_agrees(s, values[i], weights[j]))
				abort();
		}
		if (!isfinite(values[i]))
			continue;
		/* the count up to INT64_MAX, never beyond */
		t = qs_copy(s, &A, &err);
		if (qs_add_n(t, values[i], room + 1, &A, &err) != NULL || err.code != QS_ERR_OVERFLOW ||
			memcmp(t, s, qs_dense_size(s)) != 0)
			abort();
		if (room > 0)
		{
			t = qs_add_n(t, values[i], room, &A, &err);
			if (t != NULL ? (t->count != (uint64_t) INT64_MAX ||
							 qs_dense_validate(t, qs_dense_size(t), &err) != 0)
				: err.code != QS_ERR_OVERFLOW)
				abort();
		}
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	qs_error	err;
	qs_sketch  *s,
			   *t,
			   *m;
	size_t		len,
				len2;
	uint8_t    *b,
			   *b2;
	char	   *txt,
			   *txt2;
	int			i;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
	{
		check_merge_compact_all(data + 1, size - 1, NULL);
		s = qs_compact_read(data + 1, size - 1, &A, &err);
	}
	else
	{
		char	   *str = arena_alloc(size, NULL);

		memcpy(str, data + 1, size - 1);
		str[size - 1] = '\0';
		s = qs_text_read(str, &A, &err);
	}
	if (s == NULL)
	{
		if (err.code == QS_OK)
			abort();
		arena_reset();
		return 0;
	}
	if (qs_dense_validate(s, qs_dense_size(s), &err) != 0)
		abort();
	len = qs_compact_size(s);
	b = arena_alloc(len, NULL);
	qs_compact_write(s, b);
	t = qs_compact_read(b, len, &A, &err);
	if (t == NULL)
		abort();
	len2 = qs_compact_size(t);
	b2 = arena_alloc(len2, NULL);
	qs_compact_write(t, b2);
	if (len != len2 || memcmp(b, b2, len) != 0)
		abort();
	check_merge_compact_all(b, len, s);
	txt = qs_text_write(s, &A, &err);
	if (txt == NULL || (t = qs_text_read(txt, &A, &err)) == NULL)
		abort();
	txt2 = qs_text_write(t, &A, &err);
	if (txt2 == NULL || strcmp(txt, txt2) != 0)
		abort();
	for (i = 0; i <= 20; i++)
	{
		double		v = qs_quantile(s, i / 20.0);

		if (!(v >= s->min && v <= s->max))
			abort();
	}
	m = qs_copy(s, &A, &err);
	m = qs_merge(m, t, &A, &err);
	if (m != NULL && (qs_dense_validate(m, qs_dense_size(m), &err) != 0 || m->count != 2 * s->count))
		abort();
	if (m == NULL && err.code != QS_ERR_OVERFLOW)
		abort();
	check_add_n_all(s, data, size);
	m = qs_add(s, 1.0, &A, &err);
	if (m != NULL && qs_dense_validate(m, qs_dense_size(m), &err) != 0)
		abort();
	arena_reset();
	return 0;
}
