-------------------------------------------------------------------------------
-- 30_trend.sql: daily counters, gap-filled trends and the usage summary
-- (src/trend.c).  A daycounts holds 1 to 3 bigint counters for every day of
-- a closed period [from, to]; 16 bytes + 8 per day and counter.
-------------------------------------------------------------------------------

CREATE TYPE analytics.daycounts;

CREATE FUNCTION analytics.daycounts_in(cstring)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_in(cstring) IS
    'Text input of a daycounts: [first,last]:{v,...} or [first,last]:{(v1,v2),...}, validated';

CREATE FUNCTION analytics.daycounts_out(analytics.daycounts)
RETURNS cstring
AS 'MODULE_PATHNAME', 'daycounts_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_out(analytics.daycounts) IS
    'Text output of a daycounts: its period and one value (or tuple of counters) per day';

CREATE FUNCTION analytics.daycounts_recv(internal)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_recv(internal) IS
    'Binary input of a daycounts, validated as untrusted input';

CREATE FUNCTION analytics.daycounts_send(analytics.daycounts)
RETURNS bytea
AS 'MODULE_PATHNAME', 'daycounts_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_send(analytics.daycounts) IS
    'Binary output of a daycounts';

CREATE TYPE analytics.daycounts (
    INPUT = analytics.daycounts_in,
    OUTPUT = analytics.daycounts_out,
    RECEIVE = analytics.daycounts_recv,
    SEND = analytics.daycounts_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE analytics.daycounts IS
    'Daily counters (1 to 3 bigint per day) over a closed period of days; state of daycounts_agg and usage_summary_agg';

-- Aggregate support.  Not STRICT: they create the state and skip NULLs.
CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n, from, to)';

CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n1, n2, from, to)';

CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n1, n2, n3, from, to)';

CREATE FUNCTION analytics.daycounts_combine(analytics.daycounts, analytics.daycounts)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_combine(analytics.daycounts, analytics.daycounts) IS
    'Adds two daycounts with the same counters (overflow-checked); different periods merge into their union';

-- SSPACE: a 30-day period (the API default).
CREATE AGGREGATE analytics.daycounts_agg(day date, n bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 256,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, date, date) IS
    'Daily sums of n >= 0 over the closed period [from, to]; days outside it are ignored, NULL day or n skipped; NULL over no rows';

CREATE AGGREGATE analytics.daycounts_agg(day date, n1 bigint, n2 bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 496,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, bigint, date, date) IS
    'Daily sums of two counters over the closed period [from, to] (e.g. token issuances and failures)';

CREATE AGGREGATE analytics.daycounts_agg(day date, n1 bigint, n2 bigint, n3 bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 736,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, bigint, bigint, date, date) IS
    'Daily sums of three counters over the closed period [from, to]';

CREATE AGGREGATE analytics.daycounts_merge(analytics.daycounts) (
    SFUNC = analytics.daycounts_combine,
    STYPE = analytics.daycounts,
    SSPACE = 256,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_merge(analytics.daycounts) IS
    'Sum of stored daycounts with the same counters, over the union of their periods';

-- Trends.
CREATE FUNCTION analytics.trend(counts analytics.daycounts, granularity text,
                                OUT bucket date, OUT count bigint, OUT count2 bigint, OUT count3 bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'trend_srf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION analytics.trend(analytics.daycounts, text) IS
    'Zero-filled day or ISO-week buckets of the daycounts'' period, oldest first; a week bucket is labelled by its first day in the period; count2 and count3 are NULL for counters the daycounts lacks';

CREATE FUNCTION analytics.trend(counts analytics.daycounts, granularity text, "from" date, "to" date,
                                OUT bucket date, OUT count bigint, OUT count2 bigint, OUT count3 bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'trend_period_srf'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION analytics.trend(analytics.daycounts, text, date, date) IS
    'Zero-filled day or ISO-week buckets of [from, to], oldest first; days the daycounts does not cover, or a NULL daycounts (no rows), count zero';

CREATE FUNCTION analytics.trend_bucket(day date, granularity text, "from" date)
RETURNS date
AS 'MODULE_PATHNAME', 'trend_bucket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.trend_bucket(date, text, date) IS
    'Label of the trend bucket holding day in a period starting at from: the day, or the Monday of its ISO week but not before from; for exact per-bucket distinct counts (GROUP BY it with count(DISTINCT ...))';

-- Usage summary.
CREATE FUNCTION analytics.usage_summary_trans(analytics.daycounts, date, text, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'usage_summary_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.usage_summary_trans(analytics.daycounts, date, text, bigint, date, date) IS
    'Transition function of usage_summary_agg: daily api calls, token issuances and credential rotations';

CREATE FUNCTION analytics.usage_summary_final(analytics.daycounts)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'usage_summary_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.usage_summary_final(analytics.daycounts) IS
    'The usage summary (totals, floor average per day, earliest peak day) of a 3-counter daycounts; all zero with a null peakDate for NULL';

CREATE AGGREGATE analytics.usage_summary_agg(day date, metric text, n bigint, "from" date, "to" date) (
    SFUNC = analytics.usage_summary_trans,
    STYPE = analytics.daycounts,
    SSPACE = 736,
    FINALFUNC = analytics.usage_summary_final,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.usage_summary_agg(date, text, bigint, date, date) IS
    'One-pass usage summary over daily aggregate rows (day, metric_type, count) of [from, to]: totalApiCalls, totalTokenIssuances, totalCredentialRotations, averageDailyApiCalls, peakDailyApiCalls, peakDate (jsonb)';
