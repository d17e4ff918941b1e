/*
 * heatmap_core.h: the day-of-week x hour count matrix, in plain C.
 *
 * Vocabulary: a "cell" is one (dow, hour) pair, dow 0 = Sunday .. 6 =
 * Saturday, hour 0 .. 23; cell index = dow * 24 + hour.  A "heatmap" holds a
 * non-negative int64 count per cell and their total, which never exceeds
 * INT64_MAX (so every sum over a heatmap is exact).  The in-memory layout is
 * also the PostgreSQL varlena layout: the glue sets the length word.
 *
 * Text form (what a person reads):  {dow:hour=count,...}, non-zero cells in
 * cell order, e.g. {1:9=54,1:10=12}; the empty matrix is {}.  Input accepts
 * cells in any order, each at most once, zero counts, and blanks around
 * tokens.
 *
 * Binary form (send/recv), network byte order, exactly 1356 bytes:
 * uint16 version (1), uint16 reserved (0), int64 total, int64 count[168].
 */
#ifndef HEATMAP_CORE_H
#define HEATMAP_CORE_H

#include <stddef.h>
#include <stdint.h>

#define HEATMAP_DAYS		7
#define HEATMAP_HOURS		24
#define HEATMAP_CELLS		(HEATMAP_DAYS * HEATMAP_HOURS)
#define HEATMAP_VERSION		1
#define HEATMAP_BINARY_SIZE	(2 + 2 + 8 + 8 * HEATMAP_CELLS)
/* Longest text form: braces, and per cell "d:hh=" + 19 digits + ",". */
#define HEATMAP_TEXT_MAX	(2 + HEATMAP_CELLS * (5 + 19 + 1) + 1)

typedef struct heatmap_t
{
	int32_t		vl_len_;		/* varlena header (set by the glue) */
	uint16_t	version;		/* HEATMAP_VERSION */
	uint16_t	reserved;		/* must be zero */
	int64_t		total;			/* sum of count[] */
	int64_t		count[HEATMAP_CELLS];
} heatmap_t;

#define HEATMAP_SIZE	sizeof(heatmap_t)	/* 1360 bytes */

/* Result codes of the checks and parsers. */
typedef enum heatmap_status
{
	HEATMAP_OK = 0,
	HEATMAP_BAD_SIZE,			/* wrong byte length */
	HEATMAP_BAD_VERSION,		/* unknown format version */
	HEATMAP_BAD_RESERVED,		/* reserved field not zero */
	HEATMAP_NEGATIVE,			/* a negative count */
	HEATMAP_BAD_TOTAL,			/* total does not equal the sum of cells */
	HEATMAP_OVERFLOW,			/* a count or the total exceeds int64 */
	HEATMAP_SYNTAX,				/* malformed text */
	HEATMAP_BAD_CELL,			/* dow or hour out of range */
	HEATMAP_DUPLICATE			/* a cell given twice in text */
} heatmap_status;

/* Sets h to the empty matrix (does not touch vl_len_). */
extern void heatmap_core_init(heatmap_t *h);

/* Full validation of a matrix of size bytes (header, counts, total). */
extern heatmap_status heatmap_core_check(const heatmap_t *h, size_t size);

/* Quick shape check (size, version, reserved) for trusted hot paths. */
extern heatmap_status heatmap_core_check_shape(const heatmap_t *h, size_t size);

/* Adds n >= 0 to a cell; HEATMAP_OVERFLOW leaves h unchanged. */
extern heatmap_status heatmap_core_add(heatmap_t *h, int cell, int64_t n);

/* Adds src into dst; HEATMAP_OVERFLOW leaves dst unchanged. */
extern heatmap_status heatmap_core_merge(heatmap_t *dst, const heatmap_t *src);

/*
 * The UTC cell of a PostgreSQL timestamp (microseconds since
 * 2000-01-01 00:00 UTC, a Saturday), with floor division for earlier times.
 */
static inline int
heatmap_core_utc_cell(int64_t usec)
{
	const int64_t usec_per_hour = INT64_C(3600000000);
	int64_t		hours = usec / usec_per_hour;
	int64_t		days;
	int			hour;
	int			dow;

	if (usec % usec_per_hour < 0)
		hours--;
	days = hours / 24;
	hour = (int) (hours % 24);
	if (hour < 0)
	{
		hour += 24;
		days--;
	}
	dow = (int) ((days + 6) % 7);
	if (dow < 0)
		dow += 7;
	return dow * HEATMAP_HOURS + hour;
}

/* Parses the text form into h (full matrix written); NUL-terminated input. */
extern heatmap_status heatmap_core_parse(const char *str, heatmap_t *h,
										 char *errbuf, size_t errlen);

/* Writes the text form into buf (at least HEATMAP_TEXT_MAX bytes). */
extern size_t heatmap_core_format(const heatmap_t *h, char *buf);

/* Decodes the binary form of exactly len bytes into h, fully validated. */
extern heatmap_status heatmap_core_decode(const unsigned char *buf, size_t len,
										  heatmap_t *h);

/* Encodes h into buf (HEATMAP_BINARY_SIZE bytes). */
extern void heatmap_core_encode(const heatmap_t *h, unsigned char *buf);

/* A one-line English description of a status, for error details. */
extern const char *heatmap_core_status_text(heatmap_status status);

#endif							/* HEATMAP_CORE_H */
