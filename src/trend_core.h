/*
 * trend_core.h: daily counters over a closed period, gap-filled trends and
 * the usage summary, in plain C.
 *
 * Vocabulary: a "day" is an int32 count of days since 2000-01-01 (the
 * PostgreSQL DateADT); a "period" is a closed range of days [first, last];
 * a "daycounts" holds, for each day of a period, 1 to 3 non-negative int64
 * "counters" (counter c of day i is count[i * ncounters + c]).  A "bucket" is
 * one day, or one ISO week (Monday to Sunday) cut to the period, labelled by
 * its first day inside the period.  The in-memory layout is also the
 * PostgreSQL varlena layout: the glue sets the length word.
 *
 * Text form: [first,last]:{v,v,...} with one value per day, or a tuple
 * (v1,v2[,v3]) per day for several counters, dates as YYYY-MM-DD, e.g.
 * [2026-03-01,2026-03-03]:{4,0,7}.
 *
 * Binary form, network byte order: uint16 version (1), uint16 ncounters,
 * int32 first day, int32 ndays, int64 count[ndays * ncounters]; exactly
 * 12 + 8 * ndays * ncounters bytes.
 */
#ifndef TREND_CORE_H
#define TREND_CORE_H

#include <stddef.h>
#include <stdint.h>

#define DAYCOUNTS_VERSION		1
#define DAYCOUNTS_MAX_COUNTERS	3
#define DAYCOUNTS_MAX_DAYS		10000	/* about 27 years */
#define DAYCOUNTS_MIN_DAY		(-730119)	/* 0001-01-01 */
#define DAYCOUNTS_MAX_DAY		2921939 /* 9999-12-31 */

typedef struct daycounts_t
{
	int32_t		vl_len_;		/* varlena header (set by the glue) */
	uint16_t	version;		/* DAYCOUNTS_VERSION */
	uint16_t	ncounters;		/* 1 .. DAYCOUNTS_MAX_COUNTERS */
	int32_t		first;			/* first day of the period */
	int32_t		ndays;			/* days in the period, 1 .. MAX_DAYS */
	int64_t		count[];		/* ndays * ncounters, day-major */
} daycounts_t;

#define DAYCOUNTS_HEADER_SIZE	offsetof(daycounts_t, count)	/* 16 */
#define DAYCOUNTS_SIZE(ndays, k) \
	(DAYCOUNTS_HEADER_SIZE + sizeof(int64_t) * (size_t) (ndays) * (size_t) (k))

typedef enum trend_status
{
	TREND_OK = 0,
	TREND_BAD_SIZE,
	TREND_BAD_VERSION,
	TREND_BAD_COUNTERS,			/* ncounters out of range or mismatched */
	TREND_BAD_PERIOD,			/* first > last, too long, or out of range */
	TREND_NEGATIVE,
	TREND_OVERFLOW,
	TREND_SYNTAX,
	TREND_PERIOD_MISMATCH		/* adding with another period */
} trend_status;

typedef enum trend_granularity
{
	TREND_DAY = 0,
	TREND_WEEK = 1
} trend_granularity;

/* Dates. */
extern int32_t trend_core_days_from_civil(int y, int m, int d);
extern void trend_core_civil_from_days(int32_t day, int *y, int *m, int *d);
extern int32_t trend_core_iso_monday(int32_t day);

/* Checks a period [first, last] (order, length, date range). */
extern trend_status trend_core_check_period(int32_t first, int32_t last);

/* Sets up an all-zero daycounts (memory of DAYCOUNTS_SIZE bytes). */
extern void daycounts_core_init(daycounts_t *d, int32_t first, int32_t ndays,
								int ncounters);

/* Quick shape check: version, counters, period, exact size. */
extern trend_status daycounts_core_check_shape(const daycounts_t *d, size_t size);

/* Full validation: shape and non-negative counts. */
extern trend_status daycounts_core_check(const daycounts_t *d, size_t size);

/* Adds n >= 0 to counter c of a day; days outside the period are ignored. */
extern trend_status daycounts_core_add(daycounts_t *d, int32_t day, int c,
									   int64_t n);

/*
 * Adds src into dst, which must cover src's period and have as many
 * counters; all or nothing.
 */
extern trend_status daycounts_core_merge(daycounts_t *dst, const daycounts_t *src);

/* The period covering both a and b: *first and *ndays. */
extern trend_status daycounts_core_union(const daycounts_t *a, const daycounts_t *b,
										 int32_t *first, int32_t *ndays);

/* Text form (NUL-terminated); parse writes into a buffer it sizes itself. */
extern trend_status daycounts_core_parse(const char *str, daycounts_t **result,
										 void *(*alloc) (size_t),
										 void (*release) (void *),
										 char *errbuf, size_t errlen);
extern size_t daycounts_core_text_max(const daycounts_t *d);
extern size_t daycounts_core_format(const daycounts_t *d, char *buf);

/* Binary form. */
extern trend_status daycounts_core_decode(const unsigned char *buf, size_t len,
										  daycounts_t **result,
										  void *(*alloc) (size_t),
										  void (*release) (void *));
extern size_t daycounts_core_binary_size(const daycounts_t *d);
extern void daycounts_core_encode(const daycounts_t *d, unsigned char *buf);

/* Granularity by name ("day" or "week"); -1 if unknown. */
extern int	trend_core_granularity(const char *name, size_t len);

/*
 * The label of the bucket holding day in a period starting at first:
 * the day itself, or the Monday of its ISO week but not before first.
 */
extern int32_t trend_core_bucket(int32_t day, trend_granularity g, int32_t first);

/* The last day of the bucket starting at start, cut to last. */
extern int32_t trend_core_bucket_end(int32_t start, trend_granularity g,
									 int32_t last);

/*
 * Sums counter c of d over the days [lo, hi] (days d does not cover count
 * as zero) into *sum; TREND_OVERFLOW if it does not fit.
 */
extern trend_status daycounts_core_sum(const daycounts_t *d, int c,
									   int32_t lo, int32_t hi, int64_t *sum);

/* The usage summary of a daycounts whose counters are api calls, token
 * issuances and credential rotations. */
typedef struct usage_summary_t
{
	int64_t		total_api_calls;
	int64_t		total_token_issuances;
	int64_t		total_credential_rotations;
	int64_t		average_daily_api_calls;	/* floor(total / days) */
	int64_t		peak_daily_api_calls;
	int32_t		peak_day;		/* earliest day with the peak */
	int			has_peak;		/* 0 when there were no api calls */
} usage_summary_t;

extern trend_status usage_summary_core(const daycounts_t *d, usage_summary_t *s);

extern const char *trend_core_status_text(trend_status status);

#endif							/* TREND_CORE_H */
