#!/usr/bin/env python3
"""families.py: the rollup families of 0.4.0 (contract section 6.3) in one place.

Each family is a rollup table grouped from the raw events by the same SELECT
for the nightly rollup, the minute increments and the readers' raw parts.
This script writes two generated pieces from the definitions below:
  sql/schema/40_families.sql      the tables (CREATE TABLE, comments)
  sql/functions/40_family_defs.sql analytics.family_columns(): the catalogue
The released upgrade to 0.4.0 created the tables as they were then (frozen in
sql/analytics--0.3.0--0.4.0.sql); a later change of a family is written by
hand in that release's sql/updates/ folder (ALTER TABLE ...), and
tools/schema_check.sh checks that an update ends with the tables written here.
Run: python3 tools/families.py   (make checks that the output is current).
"""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')

# Shared expressions over the events e (analytics.usage_events, or analytics.priced_events).
N = 'e.count'
def cnt(where=None):
    return f'coalesce(sum(e.count) FILTER (WHERE {where}), 0)::bigint' if where else 'sum(e.count)::bigint'
def lat_n(where='true'):
    return f'coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL AND {where}), 0)::bigint'
def lat_sum(where='true'):
    return f'coalesce(sum(e.latency_ms * e.count) FILTER (WHERE {where}), 0)::double precision'
def sketch(where=None):
    f = f' FILTER (WHERE {where})' if where else ''
    return f'analytics.qsketch_agg_n(e.latency_ms, e.count::bigint){f}'
def tok(col, where=None):
    w = f' FILTER (WHERE {where})' if where else ''
    return f'coalesce(sum(e.{col}){w}, 0)::numeric'
# Costs: analytics.priced_events (layer 40) gives each event its price in
# force (contract section 6.4) as cost_usd (NULL for an unpriced llm_call)
# and priced; family_select reads it instead of usage_events for a family
# whose expressions name e.cost_usd or e.priced.
LLM = "e.event_type = 'llm_call'"
COST = f"coalesce(sum(e.cost_usd) FILTER (WHERE {LLM}), 0)::numeric"
UNPRICED_CALLS = f"coalesce(sum(e.count) FILTER (WHERE {LLM} AND NOT e.priced), 0)::bigint"
UNPRICED_TOKENS = ("coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0))"
                   f" FILTER (WHERE {LLM} AND NOT e.priced), 0)::numeric")
AGENTS = "coalesce(array_agg(DISTINCT e.agent_id ORDER BY e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL), '{}')"
FAILED = 'NOT e.success'
TIMEOUT = "e.error_code = 'timeout'"
EXEC = "e.event_type = 'agent_execution'"
WF = "e.event_type = 'workflow'"

def tokens_and_cost():
    return [('input_tokens', 'numeric', 'sum', tok('input_tokens')),
            ('output_tokens', 'numeric', 'sum', tok('output_tokens')),
            ('cached_input_tokens', 'numeric', 'sum', tok('cached_input_tokens')),
            ('cache_write_tokens', 'numeric', 'sum', tok('cache_write_tokens')),
            ('cost_usd', 'numeric', 'sum', COST),
            ('unpriced_calls', 'bigint', 'sum', UNPRICED_CALLS),
            ('unpriced_tokens', 'numeric', 'sum', UNPRICED_TOKENS)]

def latency(prefix='', where=None):
    w = where or 'true'
    return [(prefix + 'latency_n', 'bigint', 'sum', lat_n(w)),
            (prefix + 'latency_sum', 'double precision', 'sum', lat_sum(w)),
            (prefix + 'latency', 'analytics.qsketch', 'sketch', sketch(where))]

# The bucket bounds of the tool-call duration histogram (contract section
# 6.7), in ms: Prometheus's default buckets, 0.005 s to 10 s (le="+Inf" is
# latency_n).  Counts compare latency_ms itself, so a bound is exact.
DURATION_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

# (name, grain, filter, comment, keys [(col, type, expr)], values [(col, type, kind, expr)])
FAMILIES = [
 ('type_hourly', 'hour', None,
  'Events per tenant, UTC hour and event type: counts, failures, timeouts, latency (sum and count-weighted qsketch), tokens, cost, the agents active',
  [('event_type', 'text', 'e.event_type')],
  [('events', 'bigint', 'sum', cnt()), ('failures', 'bigint', 'sum', cnt(FAILED)),
   ('timeouts', 'bigint', 'sum', cnt(TIMEOUT))] + latency() + tokens_and_cost() +
  [('agents', 'uuid[]', 'uuids', AGENTS), ('last_at', 'timestamptz', 'max', 'max(e.occurred_at)')]),
 ('agent_type_daily', 'day', None,
  'Events per tenant, UTC day, agent and event type: counts, failures, timeouts, latency, tokens, cost',
  [('agent_id', 'uuid', 'e.agent_id'), ('event_type', 'text', 'e.event_type')],
  [('events', 'bigint', 'sum', cnt()), ('failures', 'bigint', 'sum', cnt(FAILED)),
   ('timeouts', 'bigint', 'sum', cnt(TIMEOUT))] + latency() + tokens_and_cost() +
  [('last_at', 'timestamptz', 'max', 'max(e.occurred_at)')]),
 ('tool_daily', 'day', "e.event_type = 'tool_call'",
  'Tool calls per tenant, UTC day, tool and MCP server: calls, failures, timeouts, latency, the agents calling, the last call, a day-of-week x hour heatmap',
  [('tool_name', 'text', 'e.tool_name'), ('mcp_server', 'text', 'e.mcp_server')],
  [('calls', 'bigint', 'sum', cnt()), ('failures', 'bigint', 'sum', cnt(FAILED)),
   ('timeouts', 'bigint', 'sum', cnt(TIMEOUT))] + latency() +
  [('agents', 'uuid[]', 'uuids', AGENTS), ('last_at', 'timestamptz', 'max', 'max(e.occurred_at)'),
   ('heatmap', 'analytics.heatmap', 'heatmap', 'analytics.heatmap_agg(e.occurred_at, e.count::bigint)')]),
 ('error_daily', 'day', 'NOT e.success',
  'Failed events per tenant, UTC day, event type, error code, agent, tool and MCP server: how many, the last one',
  [('event_type', 'text', 'e.event_type'), ('error_code', 'text', 'e.error_code'), ('agent_id', 'uuid', 'e.agent_id'),
   ('tool_name', 'text', 'e.tool_name'), ('mcp_server', 'text', 'e.mcp_server')],
  [('failures', 'bigint', 'sum', cnt()), ('last_at', 'timestamptz', 'max', 'max(e.occurred_at)')]),
 ('api_daily', 'day', "e.event_type = 'api_call'",
  'Api calls per tenant, UTC day, endpoint, method and status class (status_code / 100): calls, failures, latency',
  [('endpoint', 'text', 'e.endpoint'), ('method', 'text', 'e.method'),
   ('status_class', 'smallint', '(e.status_code / 100)::smallint')],
  [('calls', 'bigint', 'sum', cnt()), ('failures', 'bigint', 'sum', cnt(FAILED))] + latency()),
 ('session_daily', 'day', 'e.session_id IS NOT NULL',
  'Events per tenant, UTC day, session and user: events, failures, agent executions (count, failures, duration), tokens, cost, agents, first and last event',
  [('session_id', 'text', 'e.session_id'), ('user_id', 'text', 'e.user_id')],
  [('events', 'bigint', 'sum', cnt()), ('failures', 'bigint', 'sum', cnt(FAILED)),
   ('executions', 'bigint', 'sum', cnt(EXEC)), ('execution_failures', 'bigint', 'sum', cnt(f'{EXEC} AND {FAILED}')),
   ('execution_latency_n', 'bigint', 'sum', lat_n(EXEC)),
   ('execution_latency_sum', 'double precision', 'sum', lat_sum(EXEC))] + tokens_and_cost() +
  [('agents', 'uuid[]', 'uuids', AGENTS), ('first_at', 'timestamptz', 'min', 'min(e.occurred_at)'),
   ('last_at', 'timestamptz', 'max', 'max(e.occurred_at)')]),
 ('user_daily', 'day', 'e.user_id IS NOT NULL',
  'Events per tenant, UTC day and user: events, failures, agent executions, tokens, cost, agents, first and last event',
  [('user_id', 'text', 'e.user_id')],
  [('events', 'bigint', 'sum', cnt()), ('failures', 'bigint', 'sum', cnt(FAILED)),
   ('executions', 'bigint', 'sum', cnt(EXEC))] + tokens_and_cost() +
  [('agents', 'uuid[]', 'uuids', AGENTS), ('first_at', 'timestamptz', 'min', 'min(e.occurred_at)'),
   ('last_at', 'timestamptz', 'max', 'max(e.occurred_at)')]),
 ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL',
  'Events per tenant, UTC day and workflow run (workflow_id): its type, the workflow events (runs, failures, duration), executions, tool calls, tokens, cost and agents of the run',
  [('workflow_id', 'text', 'e.workflow_id')],
  [('workflow_type', 'text', 'max', f'max(e.workflow_type) FILTER (WHERE {WF})'),
   ('runs', 'bigint', 'sum', cnt(WF)), ('run_failures', 'bigint', 'sum', cnt(f'{WF} AND {FAILED}'))]
  + latency('run_', WF) +
  [('executions', 'bigint', 'sum', cnt(EXEC)), ('tool_calls', 'bigint', 'sum', cnt("e.event_type = 'tool_call'")),
   ('failures', 'bigint', 'sum', cnt(FAILED))] + tokens_and_cost() +
  [('agents', 'uuid[]', 'uuids', AGENTS), ('first_at', 'timestamptz', 'min', 'min(e.occurred_at)'),
   ('last_at', 'timestamptz', 'max', 'max(e.occurred_at)')]),
 ('cost_daily', 'day', LLM,
  'LLM calls per tenant, UTC day, agent and model: calls, the four token counts, the exact cost at the prices in force, unpriced calls and tokens (contract section 6.4; group_by agent, tenant, model, day)',
  [('agent_id', 'uuid', 'e.agent_id'), ('model', 'text', 'e.model')],
  [('llm_calls', 'bigint', 'sum', cnt())] + tokens_and_cost()),
 ('cost_tool_daily', 'day', LLM,
  'LLM calls per tenant, UTC day, tool, MCP server and model: calls, the four token counts, the exact cost at the prices in force, unpriced calls and tokens (contract section 6.4, group_by tool and mcp_server)',
  [('tool_name', 'text', 'e.tool_name'), ('mcp_server', 'text', 'e.mcp_server'), ('model', 'text', 'e.model')],
  [('llm_calls', 'bigint', 'sum', cnt())] + tokens_and_cost()),
 ('tool_duration_daily', 'day', "e.event_type = 'tool_call'",
  'Tool calls with a latency per tenant, UTC day, tool and MCP server: how many, their exact latency sum (ms), and the exact cumulative count at or under each bucket bound of the Prometheus histogram registry_tool_call_duration_seconds (contract section 6.7)',
  [('tool_name', 'text', 'e.tool_name'), ('mcp_server', 'text', 'e.mcp_server')],
  # (the sum exact, in numeric: a counter's _sum must add up to the same
  # value whatever the order of rows, or a fold could lower it by a rounding)
  [('latency_n', 'bigint', 'sum', lat_n()),
   ('latency_sum', 'numeric', 'sum', 'coalesce(sum(e.latency_ms::numeric * e.count), 0)::numeric')]
  + [(f'le_{b}ms', 'bigint', 'sum', cnt(f'e.latency_ms <= {b}')) for b in DURATION_BUCKETS_MS]),
 ('cost_user_daily', 'day', LLM,
  'LLM calls per tenant, UTC day, user and model: calls, the four token counts, the exact cost at the prices in force, unpriced calls and tokens (contract section 6.4, group_by user)',
  [('user_id', 'text', 'e.user_id'), ('model', 'text', 'e.model')],
  [('llm_calls', 'bigint', 'sum', cnt())] + tokens_and_cost()),
]

# The release that added each family after 0.4.0: its DDL is also written
# into that release's upgrade piece (between the markers "-- families <v>:
# begin" and "-- families <v>: end"), so an update creates it as a fresh
# install does.
# A family may name its own piece (FAMILY_PIECE), so that concerns of one
# release do not share a file; else it goes to UPGRADE_PIECE of its release.
SINCE = {'cost_daily': '0.5.0', 'cost_tool_daily': '0.5.0', 'cost_user_daily': '0.5.0', 'tool_duration_daily': '0.5.0'}
UPGRADE_PIECE = {'0.5.0': 'sql/updates/0.4.0--0.5.0/10_costs.sql'}
FAMILY_PIECE = {'tool_duration_daily': 'sql/updates/0.4.0--0.5.0/40_prometheus.sql'}

# Indexes beyond (tenant_id, bucket, key) and (bucket): an agent's or a
# user's first day ever is an index probe (platform_trends, dashboard).
EXTRA_INDEXES = {
    'agent_type_daily': [('agent', 'tenant_id, agent_id, bucket')],
    'user_daily': [('user', 'tenant_id, user_id, bucket')],
}

def q(s):
    return "'" + s.replace("'", "''") + "'"

def ddl(only=None):
    out = []
    for name, grain, flt, comment, keys, vals in FAMILIES:
        if only is not None and name not in only:
            continue
        cols = ['    tenant_id uuid NOT NULL', '    bucket timestamptz NOT NULL']
        cols += [f'    {c} {t}' for c, t, _ in keys]
        for c, t, kind, _ in vals:
            nn = ' NOT NULL' if kind in ('sum', 'uuids') else ''
            cols.append(f'    {c} {t}{nn}')
        keycols = ', '.join(['tenant_id', 'bucket'] + [c for c, _, _ in keys])
        cols.append(f'    CONSTRAINT {name}_key UNIQUE NULLS NOT DISTINCT ({keycols})')
        out.append(f'CREATE TABLE analytics.{name} (\n' + ',\n'.join(cols) + '\n);')
        out.append(f'CREATE INDEX {name}_bucket_idx ON analytics.{name} (bucket);')
        for suffix, cols in EXTRA_INDEXES.get(name, []):
            out.append(f'CREATE INDEX {name}_{suffix}_idx ON analytics.{name} ({cols});')
        grain_txt = 'UTC hour' if grain == 'hour' else 'UTC day (bucket = its midnight)'
        out.append(f'COMMENT ON TABLE analytics.{name} IS\n    {q(comment + "; one row per " + grain_txt + " and key, events ingested before the day" + chr(39) + "s watermark (a rollup family, analytics.family_columns())")};')
        out.append('')
    return '\n'.join(out)

def catalogue():
    rows = []
    for name, grain, flt, comment, keys, vals in FAMILIES:
        pos = 0
        for c, t, e in keys:
            pos += 1
            rows.append(f"        ({q(name)}, {q(grain)}, {q(flt) if flt else 'NULL'}, {pos}, {q(c)}, 'key', {q(e)})")
        for c, t, kind, e in vals:
            pos += 1
            rows.append(f"        ({q(name)}, {q(grain)}, {q(flt) if flt else 'NULL'}, {pos}, {q(c)}, {q(kind)}, {q(e)})")
    return ',\n'.join(rows)

HEADER_SCHEMA = """-------------------------------------------------------------------------------
-- schema/40_families.sql (layer 40): the rollup families of contract section
-- 6.3, GENERATED by tools/families.py from its definitions: do not edit by
-- hand.  Each family is a table (tenant_id, bucket, key columns, values)
-- grouped from the raw events; analytics.family_columns() (functions/
-- 40_family_defs.sql) holds the expressions that fill and merge it.
-------------------------------------------------------------------------------

"""

def main():
    check = '--check' in sys.argv
    schema = HEADER_SCHEMA + ddl()
    defs = """-------------------------------------------------------------------------------
-- functions/40_family_defs.sql (layer 40): GENERATED by tools/families.py;
-- do not edit by hand.  The catalogue of the rollup families: one row per
-- column after (tenant_id, bucket), in table order, with how it is grouped
-- from the raw events (expr, over the events e: analytics.priced_events,
-- which adds each event's price, for a family with costs) and merged (kind: key, sum,
-- sketch, heatmap, uuids, min, max).  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.family_columns()
RETURNS TABLE (family text, grain text, filter text, pos integer, col text, kind text, expr text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT v.family, v.grain, v.filter, v.pos, v.col, v.kind, v.expr
    FROM (VALUES
""" + catalogue() + """
    ) AS v(family, grain, filter, pos, col, kind, expr)
    ORDER BY v.family, v.pos;
END
$$;
COMMENT ON FUNCTION analytics.family_columns() IS
    'The rollup families (tables of layer 40): per family its grain (hour or day), the filter of its events, and per column after (tenant_id, bucket) its position, how it merges (key, sum, sketch, heatmap, uuids, min, max) and the expression that groups it from the events e (analytics.priced_events when it names e.cost_usd or e.priced, else analytics.usage_events)';
"""
    targets = {os.path.join(ROOT, 'sql/schema/40_families.sql'): schema,
               os.path.join(ROOT, 'sql/functions/40_family_defs.sql'): defs}
    pieces = {}
    for n, version in SINCE.items():
        pieces.setdefault((version, FAMILY_PIECE.get(n, UPGRADE_PIECE[version])), []).append(n)
    for (version, piece), names in pieces.items():
        up = os.path.join(ROOT, piece)
        text = open(up).read() if os.path.exists(up) else ''
        block = (f'-- families {version}: begin (generated by tools/families.py)\n' + ddl(names)
                 + f'-- families {version}: end\n')
        if f'-- families {version}: begin' in text:
            text = re.sub(rf'-- families {re.escape(version)}: begin.*?-- families {re.escape(version)}: end\n',
                          lambda m: block, text, flags=re.S)
        else:
            text = text + '\n' + block
        targets[up] = text
    stale = []
    for p, t in targets.items():
        cur = open(p).read() if os.path.exists(p) else None
        if cur != t:
            stale.append(p)
            if not check:
                open(p, 'w').write(t)
    if check and stale:
        print('families: generated files are stale, run python3 tools/families.py: ' + ' '.join(stale))
        sys.exit(1)

main()
