-------------------------------------------------------------------------------
-- schema/40_rollups_prices.sql (layer 40, after 40_rollups.sql, which creates
-- analytics.model_prices): model prices with history (contract §6.4).
-- analytics.model_prices (0.1.0: one row per model, layer 40) becomes a
-- history: global rows (tenant_id NULL) and a tenant's negotiated rows, each
-- in force from effective_from until the next row of the same model and
-- tenant; rows are never updated in place.  The same statements are the
-- upgrade from 0.4.0 (sql/updates/0.4.0--0.5.0/10_costs.sql), so a fresh
-- install and an update end alike: a row of 0.4.0 becomes a global price in
-- force since -infinity.  A NULL cached-input or cache-write price is the
-- row's input price (what 0.4.0 charged for those tokens), so an INSERT
-- naming model and the input and output prices, as in 0.1.0, still works.
-------------------------------------------------------------------------------

ALTER TABLE analytics.model_prices DROP CONSTRAINT model_prices_pkey;
ALTER TABLE analytics.model_prices
    ADD COLUMN price_id bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN tenant_id uuid,
    ADD COLUMN effective_from timestamptz NOT NULL DEFAULT '-infinity',
    ADD COLUMN currency text NOT NULL DEFAULT 'USD' CONSTRAINT model_prices_currency_check CHECK (currency = 'USD'),
    ADD COLUMN cached_input_usd_per_mtok numeric,
    ADD COLUMN cache_write_usd_per_mtok numeric;
ALTER TABLE analytics.model_prices
    ADD CONSTRAINT model_prices_pkey PRIMARY KEY (price_id),
    ADD CONSTRAINT model_prices_key UNIQUE NULLS NOT DISTINCT (model, tenant_id, effective_from),
    ADD CONSTRAINT model_prices_cached_check CHECK (cached_input_usd_per_mtok >= 0 AND cache_write_usd_per_mtok >= 0),
    ADD CONSTRAINT model_prices_effective_check CHECK (effective_from <> 'infinity');
COMMENT ON TABLE analytics.model_prices IS
    'Model prices as history (contract §6.4): USD per million input, cached-input, cache-write and output tokens, global (tenant_id NULL) or a tenant''s negotiated price, in force from effective_from until the next row of the same model and tenant; never updated in place (set_model_price); after writing rows directly, run analytics.refresh_price_spans()';

-- The prices as spans of time: one row per price row with the instant its
-- successor takes over (derived from model_prices by
-- analytics.refresh_price_spans(); set_model_price and the jobs keep it
-- current).  analytics.priced_events joins events to it.
CREATE TABLE analytics.price_spans (
    model                     text NOT NULL,
    tenant_id                 uuid,
    valid_from                timestamptz NOT NULL,
    valid_to                  timestamptz NOT NULL,
    price_id                  bigint NOT NULL,
    input_usd_per_mtok        numeric NOT NULL,
    cached_input_usd_per_mtok numeric NOT NULL,
    cache_write_usd_per_mtok  numeric NOT NULL,
    output_usd_per_mtok       numeric NOT NULL,
    CONSTRAINT price_spans_key UNIQUE NULLS NOT DISTINCT (model, tenant_id, valid_from)
);
COMMENT ON TABLE analytics.price_spans IS
    'analytics.model_prices as spans [valid_from, valid_to) per model and tenant (NULL: global), derived by analytics.refresh_price_spans()';

-- Days past raw retention whose costs a price set with a past
-- effective_from changed: the nightly job re-prices their cost rollups from
-- the daily token sums (analytics.reprice_day).
CREATE TABLE analytics.reprice_days (
    day       date PRIMARY KEY,
    marked_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.reprice_days IS
    'Days past raw retention to re-price from their daily token sums at the next nightly rollup (marked by set_model_price)';

SELECT pg_catalog.pg_extension_config_dump('analytics.price_spans', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.reprice_days', '');
