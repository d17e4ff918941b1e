-------------------------------------------------------------------------------
-- schema/70_reports.sql (layer 70, typed report functions): the row type of
-- analytics.daily_counts.  Run once, at CREATE EXTENSION.
-------------------------------------------------------------------------------

-- The six daily metrics of a tenant on one day.
CREATE TYPE analytics.day_metrics AS (
    date date, api_calls bigint, token_issuances bigint, token_failures bigint,
    credential_rotations bigint, tool_calls bigint, llm_calls bigint);
COMMENT ON TYPE analytics.day_metrics IS 'The six daily metrics of a tenant on one day';
