-------------------------------------------------------------------------------
-- functions/30_metrics.sql (layer 30, metric definitions): the one mapping
-- from events to the daily metrics of the contract (§2).  The rollup and
-- the raw-day readers both count metrics through it.
-------------------------------------------------------------------------------

-- A metric counts the events of one type (only the failed ones when
-- failures_only).  Every event of a type counts in each metric of its type.
CREATE OR REPLACE VIEW analytics.metric_definitions (metric_type, event_type, failures_only) AS
VALUES ('api_calls',            'api_call',            false),
       ('token_issuances',      'token_issuance',      false),
       ('token_failures',       'token_issuance',      true),
       ('credential_rotations', 'credential_rotation', false),
       ('tool_calls',           'tool_call',           false),
       ('llm_calls',            'llm_call',            false);
COMMENT ON VIEW analytics.metric_definitions IS
    'The daily metrics (contract §2): each counts the events of event_type, only the failed ones when failures_only; api_calls, token_issuances (all attempts), token_failures (failed attempts), credential_rotations, tool_calls, llm_calls';

-- The metric counts of a group of events of one type: (metric_type, n) for
-- each metric of the type, n = calls, or calls - successes for a failures
-- metric.  Rows with n = 0 are left out.  (No SET clause, so that it is
-- inlined into the readers' plans, which pin search_path themselves; its
-- one table is named with its schema.)
CREATE OR REPLACE FUNCTION analytics.metric_counts(event_type text, calls bigint, successes bigint,
                                                   OUT metric_type text, OUT n bigint)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT m.metric_type, CASE WHEN m.failures_only THEN $2 - $3 ELSE $2 END
    FROM analytics.metric_definitions m
    WHERE m.event_type = $1 AND CASE WHEN m.failures_only THEN $2 - $3 ELSE $2 END > 0
$$;
COMMENT ON FUNCTION analytics.metric_counts(text, bigint, bigint) IS
    'The daily metric counts of calls events of one type of which successes succeeded, per analytics.metric_definitions; zero counts left out';
