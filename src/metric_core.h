/*
 * metric_core.h: the checks of a custom metric point (contract §6.5) that
 * the fast path of analytics.metric_store runs in C (src/metric.c), in plain
 * C so they can be unit tested and fuzzed outside the server.
 *
 * Vocabulary: to "vouch" for a value is to say it passes the rule of
 * analytics.metric_store's point-by-point check (sql/functions/
 * 46_custom_metrics.sql) and to give the value that check would store.  The
 * functions here never say more than that: anything they do not vouch for
 * (a broken rule, or a rare form they leave to PostgreSQL, such as an hour
 * 24 or a leap second) goes to the point-by-point check, which refuses it
 * with its field's name or stores it.  So a wrong "no" costs time, never a
 * different answer; a wrong "yes" would be a bug, and the tests look for it.
 */
#ifndef METRIC_CORE_H
#define METRIC_CORE_H

#include <stddef.h>
#include <stdint.h>

/* A metric name: ^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$. */
#define MC_NAME_MAX		128
/* A tag name: ^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$. */
#define MC_TAG_KEY_MAX	64
/* The longest timestamp text metric_store reads. */
#define MC_TS_TEXT_MAX	40

/* 1 when s[0..len) is a metric name. */
extern int	mc_metric_name_ok(const char *s, size_t len);

/* 1 when s[0..len) is a tag name. */
extern int	mc_tag_key_ok(const char *s, size_t len);

/*
 * 1 when s[0..len) is an RFC 3339 timestamp with its offset, as
 * metric_store's pattern
 *   ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$
 * of at most MC_TS_TEXT_MAX characters, with fields PostgreSQL reads without
 * a second thought (year 1900 to 2999, a real calendar day, hour 0 to 23,
 * minute and second 0 to 59, offset at most 15:59): then *usec is the
 * instant, in microseconds since 2000-01-01 00:00 UTC (PostgreSQL's
 * timestamptz), as text::timestamptz gives it.  0 otherwise (not vouched).
 */
extern int	mc_parse_timestamp(const char *s, size_t len, int64_t *usec);

#endif							/* METRIC_CORE_H */
