/*
 * fuzz_qsketch.c: libFuzzer harness over the qsketch input parsers (run by
 * tools/fuzz.sh, linked with src/qsketch_core.c).  The first byte picks the
 * parser: even for the compact binary form, odd for the text form.  Whatever
 * parses must validate, round-trip to identical bytes and text, answer
 * quantiles within [min, max] and merge with itself.
 */
#include "qsketch_core.h"

#include <stdlib.h>
#include <string.h>

static void **arena;
static size_t arena_n,
			arena_cap;

static void *
arena_alloc(size_t size, void *arg)
{
	void	   *p;

	(void) arg;
	if (arena_n == arena_cap)
	{
		arena_cap = arena_cap ? arena_cap * 2 : 256;
		arena = realloc(arena, arena_cap * sizeof(void *));
		if (arena == NULL)
			abort();
	}
	p = malloc(size ? size : 1);
	if (p == NULL)
		abort();
	arena[arena_n++] = p;
	return p;
}

static void
arena_reset(void)
{
	while (arena_n > 0)
		free(arena[--arena_n]);
}

static const qs_alloc A = {arena_alloc, NULL};

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
		s = qs_compact_read(data + 1, size - 1, &A, &err);
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
	m = qs_add(s, 1.0, &A, &err);
	if (m != NULL && qs_dense_validate(m, qs_dense_size(m), &err) != 0)
		abort();
	arena_reset();
	return 0;
}
