-------------------------------------------------------------------------------
-- updates/0.3.0--0.4.0.sql: the hand-written part of the upgrade from 0.3.0
-- to 0.4.0 (the Makefile appends every sql/functions/ piece).  0.4.0 adds the
-- operator half of the API (contract §6): the analytics_operator scope, the
-- shared period parser, and the agent, tool, session, workflow and error
-- answers with the rollups they read.
-------------------------------------------------------------------------------

\echo Use "ALTER EXTENSION analytics UPDATE TO '0.4.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- qsketch_agg_n: the count-weighted quantile sketch aggregates (docs/qsketch.md).
-- The same statements as in sql/schema/20_types.sql, so that an upgraded
-- database has the schema of a fresh install (tools/schema_check.sh).
-------------------------------------------------------------------------------

-- Weighted aggregates: a pre-counted row (value v, count n) counts as n
-- observations of v, added in one step; the same sketch as qsketch_agg over
-- the rows repeated n times.  Not STRICT: they skip a NULL value or n.
CREATE FUNCTION analytics.qsketch_trans_n(state analytics.qsketch, value float8, n bigint)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_n'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans_n(analytics.qsketch, float8, bigint) IS
    'Transition function of qsketch_agg_n(float8, bigint): adds n >= 0 observations of a value (a NULL value or n is skipped) at relative accuracy 0.01';

CREATE FUNCTION analytics.qsketch_trans_n(state analytics.qsketch, value float8, n bigint, relative_accuracy float8)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_n_accuracy'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans_n(analytics.qsketch, float8, bigint, float8) IS
    'Transition function of qsketch_agg_n(float8, bigint, float8): adds n >= 0 observations of a value (a NULL value or n is skipped) at the given relative accuracy';

CREATE AGGREGATE analytics.qsketch_agg_n(value float8, n bigint) (
    SFUNC = analytics.qsketch_trans_n,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg_n(float8, bigint) IS
    'Quantile sketch of pre-counted rows, each value counted n >= 0 times (e.g. usage_events.count), within 1% relative error; rows with a NULL value or n skipped; NULL when there are none';

CREATE AGGREGATE analytics.qsketch_agg_n(value float8, n bigint, relative_accuracy float8) (
    SFUNC = analytics.qsketch_trans_n,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg_n(float8, bigint, float8) IS
    'Quantile sketch of pre-counted rows, each value counted n >= 0 times, within the given relative error (0.0001 to 0.5); NULL when there are none';

-- (end of qsketch_agg_n)
