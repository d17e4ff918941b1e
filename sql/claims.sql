-- claims: analytics.http_claimed_tenant() (C, src/http.c), the tenant the
-- request's JWT claims name, against the PL/pgSQL it replaced (0.4.0:
-- coalesce(claims::jsonb ->> 'tenant_id', claims::jsonb ->> 'organization_id')
-- in an exception block, then a uuid pattern) over claims of every kind;
-- under pg_regress so that valgrind (tools/valgrind.sh) runs it.
CREATE FUNCTION pg_temp.claimed_plpgsql()
RETURNS uuid LANGUAGE plpgsql STABLE AS $$
DECLARE
    claims text := current_setting('request.jwt.claims', true);
    v      text;
BEGIN
    IF claims IS NULL OR claims = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        v := coalesce(claims::jsonb ->> 'tenant_id', claims::jsonb ->> 'organization_id');
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    IF v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN v::uuid;
    END IF;
    RETURN NULL;
END
$$;
CREATE TEMP TABLE claim_cases (n serial, claims text);
INSERT INTO claim_cases (claims) VALUES
    (NULL), (''), ('{}'), ('null'), ('[]'), ('"c1a10000-0000-4000-8000-000000000001"'), ('42'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-000000000001"}'),
    ('{"role": "analytics_tenant", "tenant_id": "C1A10000-0000-4000-8000-00000000000A", "exp": 1796078808}'),
    ('{"organization_id": "c1a10000-0000-4000-8000-000000000002"}'),
    ('{"tenant_id": null, "organization_id": "c1a10000-0000-4000-8000-000000000002"}'),
    ('{"tenant_id": 7, "organization_id": "c1a10000-0000-4000-8000-000000000002"}'),
    ('{"tenant_id": {"id": "c1a10000-0000-4000-8000-000000000001"}, "organization_id": "c1a10000-0000-4000-8000-000000000002"}'),
    ('{"tenant_id": ["c1a10000-0000-4000-8000-000000000001"]}'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-000000000001", "tenant_id": "c1a10000-0000-4000-8000-000000000003"}'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-000000000001", "tenant_id": null, "organization_id": "c1a10000-0000-4000-8000-000000000002"}'),
    ('{"tenant\u005fid": "c1a10000-0000-4000-8000-00000000000\u0034"}'),
    ('{"x": {"tenant_id": "c1a10000-0000-4000-8000-000000000001"}}'),
    ('{"x": [{"tenant_id": "c1a10000-0000-4000-8000-000000000001"}], "organization_id": "c1a10000-0000-4000-8000-000000000002"}'),
    ('{"tenant_id": "c1a10000000040008000000000000001"}'),
    ('{"tenant_id": "{c1a10000-0000-4000-8000-000000000001}"}'),
    ('{"tenant_id": " c1a10000-0000-4000-8000-000000000001"}'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-000000000001\n"}'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-00000000000g"}'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-0000000000011"}'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-000000000001", }'),
    ('{"tenant_id": "c1a10000-0000-4000-8000-000000000001"'),
    ('{"tenant_id": "\u0000"}'),
    ('{"tenant_id": "\ud800", "organization_id": "c1a10000-0000-4000-8000-000000000002"}'),
    ('{"tenant_id": true}'), ('{"tenant_id": "c1a10000-0000-4000-8000-000000000001"} x'),
    ('  {"organization_id" : "c1a10000-0000-4000-8000-0000000000ff"}  ');
-- Each case: the same answer from both (differ: 0), and the answers.
CREATE FUNCTION pg_temp.both(c text, OUT c_answer uuid, OUT plpgsql_answer uuid)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(c, ''), true);
    IF c IS NULL THEN
        -- (no setting at all: a new placeholder is empty, as unset)
        PERFORM set_config('request.jwt.claims', '', true);
    END IF;
    c_answer := analytics.http_claimed_tenant();
    plpgsql_answer := pg_temp.claimed_plpgsql();
END
$$;
BEGIN;
SELECT n, b.c_answer, b.c_answer IS NOT DISTINCT FROM b.plpgsql_answer AS same
FROM claim_cases, LATERAL pg_temp.both(claims) b ORDER BY n;
ROLLBACK;
-- Random claims built from the pieces above: none differ.
BEGIN;
SELECT count(*) AS cases, count(*) FILTER (WHERE b.c_answer IS DISTINCT FROM b.plpgsql_answer) AS differ,
       count(b.c_answer) AS with_tenant
FROM (SELECT '{' || string_agg(format('%s: %s', k, v), ', ') || '}' AS c
      FROM generate_series(1, 2000) i,
           LATERAL (SELECT (ARRAY['"tenant_id"', '"organization_id"', '"role"', '"tenant_id"'])[1 + (i * 7 + j) % 4] AS k,
                           (ARRAY['"c1a10000-0000-4000-8000-000000000001"', 'null', '5', '"C1A10000-0000-4000-8000-0000000000AB"',
                                  '"nope"', '{"tenant_id": "c1a10000-0000-4000-8000-000000000009"}', '[1, 2]'])[1 + (i * 13 + j * 5) % 7] AS v
                    FROM generate_series(0, i % 4) j) p
      GROUP BY i) g, LATERAL pg_temp.both(g.c) b;
ROLLBACK;
