-------------------------------------------------------------------------------
-- schema/48_prometheus.sql (layer 48, the Prometheus domain metrics of
-- contract §6.7): the folded base of the counters.  Run once, at CREATE
-- EXTENSION (and, for an updated database, by
-- sql/updates/0.4.0--0.5.0/40_prometheus.sql).  The histogram's rollup
-- family (tool_duration_daily) is in schema/40_families.sql.
--
-- Vocabulary: a counter series is (metric, label values); its value is
-- the base (prom_counter_base: every day before prom_fold_state's
-- folded_before, added up by run_retention once those days' raw events are
-- gone) plus the rollup rows and raw events of the days since
-- (analytics.prom_event_series).  Folding moves days from the second part
-- to the first in one transaction, so no counter goes down.
-------------------------------------------------------------------------------

CREATE TABLE analytics.prom_counter_base (
    metric  text NOT NULL,
    labels  text[] NOT NULL,
    value   numeric NOT NULL,
    CONSTRAINT prom_counter_base_pkey PRIMARY KEY (metric, labels)
);
COMMENT ON TABLE analytics.prom_counter_base IS
    'The Prometheus counters (contract §6.7) of the days before prom_fold_state.folded_before, per metric (sample name) and label values in the metric''s label order: added to by analytics.prom_fold (run_retention), never recomputed';

CREATE TABLE analytics.prom_fold_state (
    id             boolean PRIMARY KEY DEFAULT true CONSTRAINT prom_fold_state_one_row CHECK (id),
    -- the first UTC day not in prom_counter_base
    folded_before  date NOT NULL DEFAULT '-infinity',
    folded_at      timestamptz
);
COMMENT ON TABLE analytics.prom_fold_state IS
    'One row: folded_before, the first UTC day whose events the Prometheus counters still read from the rollup families (every earlier day is in prom_counter_base)';
INSERT INTO analytics.prom_fold_state (id) VALUES (true);

SELECT pg_catalog.pg_extension_config_dump('analytics.prom_counter_base', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.prom_fold_state', '');
