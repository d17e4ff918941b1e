// HTTP tests of the API's description (docs/openapi.yaml, issue 21): the
// document is valid OpenAPI 3.1 (docs/api-tools/lint.mjs: swagger-parser and
// the house rules); it is served at /openapi.json and /openapi.yaml and
// rendered at /docs/; it covers every analytics_api function (its /rpc/
// path, with the parameter names of pg_proc) and every location of
// http/nginx.conf.in, and documents nothing the gateway does not answer;
// every documented operation answers as documented: its success and every
// error code its responses list, each body validated with ajv (JSON Schema
// 2020-12, OpenAPI 3.1's dialect) against the document's schema, and no
// field of a success answer left undocumented.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { createRequire } = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const { sign } = require('../../http/jwt.js');

const ROOT = path.resolve(__dirname, '../..');
const tools = createRequire(path.join(ROOT, 'docs/api-tools/package.json'));
const YAML = tools('yaml');
const Ajv2020 = tools('ajv/dist/2020');
const addFormats = tools('ajv-formats');

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const RUN = process.env.HTTP_RUN_DIR;
const SRC = path.join(ROOT, 'docs/openapi.yaml');
const TEXT = fs.readFileSync(SRC, 'utf8');
const DOC = YAML.parse(TEXT);
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';
const OTHERS = ['00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000004'];
const FREE = '00000000-0000-4000-8000-000000000005';
const UNKNOWN_UUID = '00000000-0000-4000-8000-0000000000ff';
// Functions of analytics_api that exist only in the test database
// (test/http/run.sh creates them): not part of the API.
const TEST_ONLY = new Set(['http_test_sleep']);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

let seq = 0;
const tenantTok = (t) => sign({ role: 'analytics_tenant', tenant_id: t, jti: `oa${process.pid}-${++seq}` }, SECRET, 600);
// each operator token its own rate-limit bucket (the gateway keys operators by role and sub)
const operatorTok = () => sign({ role: 'analytics_operator', sub: `openapi-${process.pid}-${++seq}` }, SECRET, 600);
const badTok = () => sign({ role: 'analytics_tenant', tenant_id: ENT }, 'not-the-secret-not-the-secret-not-the-secret', 600);
const errorTenant = () => OTHERS[++seq % OTHERS.length];
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
async function call(method, p, { token, body, query, retry = true, headers: extra = {} } = {}) {
  const headers = { ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const qs = query && Object.keys(query).length ? '?' + new URLSearchParams(query).toString() : '';
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(BASE + p + qs, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    const text = await r.text();
    if (retry && r.status === 429 && attempt < 8) { await sleep(Number(r.headers.get('retry-after') || 1) * 1000); continue; }
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status, headers: r.headers, text, json, url: `${method.toUpperCase()} ${p}${qs}` };
  }
}

// ---- the document, resolved
const unesc = (k) => k.replace(/~1/g, '/').replace(/~0/g, '~');
const esc = (k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1');
function deref(o) {
  while (o && o.$ref) o = o.$ref.slice(2).split('/').reduce((a, k) => a?.[unesc(k)], DOC);
  return o;
}
// The JSON pointer (into the document) of the schema a response answers with.
function responseSchemaPtr(p, method, status) {
  let ptr = `#/paths/${esc(p)}/${method}/responses/${status}`;
  let r = DOC.paths[p][method].responses[status];
  if (r.$ref) { ptr = r.$ref; r = deref(r); }
  if (!r.content?.['application/json']) return null;
  return `${ptr}/content/application~1json/schema`;
}
function errorCodes(p, method, status) {
  const r = deref(DOC.paths[p][method].responses[status]);
  const s = deref(r?.content?.['application/json']?.schema);
  return s?.allOf?.map(deref).map((x) => x?.properties?.code?.enum).find(Boolean) || s?.properties?.code?.enum || [];
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
// OpenAPI's own keywords (in schemas and around them) are not JSON Schema's
ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator', 'openapi', 'info', 'servers', 'tags',
  'paths', 'components', 'webhooks', 'security', 'jsonSchemaDialect']);
ajv.addSchema(DOC, 'openapi.json');
const validators = new Map();
function validate(ptr, body, what) {
  if (!validators.has(ptr)) validators.set(ptr, ajv.compile({ $ref: `openapi.json${ptr}` }));
  const v = validators.get(ptr);
  assert.ok(v(body), `${what}: the answer does not match ${ptr}: ${ajv.errorsText(v.errors, { separator: '\n  ' })}\n${JSON.stringify(body).slice(0, 600)}`);
}
// Every field of an answer is documented: a property the schema does not
// name (where it lists properties and allows others) is reported.  The
// parts of an allOf are one schema (their properties together); a oneOf or
// anyOf with one non-null branch is that branch.
function undocumented(schema, value, at, out) {
  schema = deref(schema);
  if (!schema || value === null || typeof value !== 'object') return out;
  for (const key of ['oneOf', 'anyOf']) {
    if (schema[key]) {
      const subs = schema[key].map(deref).filter((s) => s.type !== 'null');
      if (subs.length === 1) undocumented(subs[0], value, at, out);
    }
  }
  const parts = [schema];
  for (let i = 0; i < parts.length; i++) for (const s of parts[i].allOf || []) parts.push(deref(s));
  if (Array.isArray(value)) {
    const items = parts.find((s) => s.items)?.items;
    if (items) value.forEach((v, i) => undocumented(items, v, `${at}[${i}]`, out));
    return out;
  }
  const props = parts.some((s) => s.properties) ? Object.assign({}, ...parts.map((s) => s.properties || {}).reverse()) : null;
  const more = parts.map((s) => s.additionalProperties).find((x) => x && typeof x === 'object')
    || parts.some((s) => s.additionalProperties === true);
  if (!props && !more) return out;
  for (const [k, v] of Object.entries(value)) {
    if (props && k in props) undocumented(props[k], v, `${at}.${k}`, out);
    else if (more && typeof more === 'object') undocumented(more, v, `${at}.${k}`, out);
    else if (props) out.add(`${at}.${k}`);
  }
  return out;
}

// ---- the catalogue: analytics_api's functions and their parameters
function catalogue() {
  const rows = sql(`SELECT f.proname, f.provolatile, coalesce(string_agg(a.n, ',' ORDER BY a.n), '')
                    FROM pg_catalog.pg_proc f
                    LEFT JOIN LATERAL unnest(f.proargnames) WITH ORDINALITY a(n, i)
                           ON coalesce(f.proargmodes[a.i], 'i') IN ('i', 'b', 'v')
                    WHERE f.pronamespace = 'analytics_api'::regnamespace
                    GROUP BY f.proname, f.provolatile ORDER BY 1`);
  const fns = new Map();
  for (const line of rows.split('\n').filter(Boolean)) {
    const [name, vol, args] = line.split('|');
    if (!TEST_ONLY.has(name)) fns.set(name, { volatile: vol === 'v', params: args ? args.split(',').sort() : [] });
  }
  return fns;
}
const opParams = (op, where) => (op.parameters || []).map(deref).filter((p) => p.in === where).map((p) => p.name);
const bodyParams = (op) => {
  const s = deref(deref(op.requestBody)?.content?.['application/json']?.schema);
  return s ? Object.keys(s.properties || {}) : [];
};
const sorted = (a) => [...a].sort();

// ---- nginx's locations (http/nginx.conf.in)
// The text of the block that starts just after an opening brace at
// conf[open - 1], up to its closing brace (comments and quoted strings
// skipped: a return's JSON body has braces of its own).
function blockAt(conf, open) {
  let depth = 1;
  for (let i = open; i < conf.length; i++) {
    const c = conf[i];
    if (c === '#') { i = conf.indexOf('\n', i); if (i < 0) break; continue; }   // a comment
    if (c === "'" || c === '"') { i = conf.indexOf(c, i + 1); if (i < 0) break; continue; }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return conf.slice(open, i);
  }
  return conf.slice(open);
}
function nginxLocations() {
  // (the ${PLACEHOLDERS} out of the way: their braces are not blocks)
  const conf = fs.readFileSync(path.join(ROOT, 'http/nginx.conf.in'), 'utf8').replace(/\$\{[A-Z_]+\}/g, 'X');
  const out = [];
  const re = /location\s+(=|~)?\s*("([^"]+)"|(\S+))\s*\{([^\n]*)/g;
  for (let m; (m = re.exec(conf));) {
    const kind = m[1] === '=' ? 'exact' : m[1] === '~' ? 'regex' : 'prefix';
    const loc = m[3] || m[4];
    if (/^\/_(error|metrics)\//.test(loc) || (kind === 'prefix' && loc === '/') || loc === '/rpc/' || loc.startsWith('/rpc/')) continue;
    if (kind === 'prefix' && out.some((o) => o.kind === 'prefix' && loc.startsWith(o.loc))) continue; // nested (assets)
    const open = m.index + m[0].length - m[5].length;   // just after the block's {
    const block = blockAt(conf, open);
    const getOnly = /get_only\.conf/.test(block);
    // every rewrite to a function, with the method it serves: POST inside
    // "if ($request_method = POST) {", or in a block that refuses every
    // method but POST; else GET
    const rewrites = [];
    for (const rw of block.matchAll(/rewrite\s+\S+\s+\/rpc\/([a-z_0-9]+)/g)) {
      const post = /if\s*\(\$request_method\s*=\s*POST\)\s*\{\s*$/.test(block.slice(0, rw.index))
        || (!getOnly && /if\s*\(\$request_method\s*!=\s*POST\)/.test(block));
      rewrites.push({ rpc: rw[1], method: post ? 'post' : 'get' });
    }
    out.push({ kind, loc, rewrites, getOnly });
  }
  return out;
}
// (digits: every path parameter's pattern takes them, an incident id only them)
const SAMPLE_ID = '1234567';
const instantiate = (p) => p.replace(/\{[^}]+\}/g, SAMPLE_ID);

// ---- ids of the generated data (the enterprise tenant's)
const one = (q) => sql(q) || null;
const IDS = {
  sessionId: one(`SELECT session_id FROM analytics.usage_events WHERE tenant_id = '${ENT}' AND session_id ~ '^[A-Za-z0-9._:-]+$' ORDER BY occurred_at DESC LIMIT 1`),
  executionId: one(`SELECT execution_id FROM analytics.usage_events WHERE tenant_id = '${ENT}' AND event_type = 'agent_execution' AND execution_id ~ '^[A-Za-z0-9._:-]+$' ORDER BY occurred_at DESC LIMIT 1`),
  userId: one(`SELECT user_id FROM analytics.usage_events WHERE tenant_id = '${ENT}' AND user_id ~ '^[A-Za-z0-9._:-]+$' ORDER BY occurred_at DESC LIMIT 1`),
  agentId: one(`SELECT agent_id FROM analytics.agents WHERE tenant_id = '${ENT}' ORDER BY agent_id LIMIT 1`),
};
// A custom metric of the enterprise tenant and of the platform (operators
// read the platform's), for the metric reads: the name and type of the
// documented record_metric body, so that the writes below agree with it.
IDS.metric_name = 'api.latency';
sql(`SELECT analytics.record_metric(t, '${IDS.metric_name}', 12.5, 'timer', 'ms', '{"env":"prod"}')
     FROM (VALUES ('${ENT}'::uuid), (NULL::uuid)) v(t)`);
// A service of the enterprise tenant and of the platform (operators name
// the platform's), with a check: the name of the documented write bodies.
IDS.service_name = 'checkout-api';
sql(`SELECT analytics.register_service(t, '${IDS.service_name}', 'api', NULL, 60, NULL),
            analytics.record_health_check(t, '${IDS.service_name}', 'healthy', 87, NULL, now())
     FROM (VALUES ('${ENT}'::uuid), (NULL::uuid)) v(t)`);
const UNKNOWN_IDS = { sessionId: 'no-such-session', executionId: 'no-such-execution', userId: 'no-such-user', agentId: UNKNOWN_UUID,
                      metric_name: 'no.such.metric', service_name: 'no-such-service', id: '999999999999' };
const NOT_FOUND_CODE = { SESSION_NOT_FOUND: 'sessionId', EXECUTION_NOT_FOUND: 'executionId', USER_NOT_FOUND: 'userId', AGENT_NOT_FOUND: 'agentId',
                         METRIC_NOT_FOUND: 'metric_name', SERVICE_NOT_FOUND: 'service_name',
                         RULE_NOT_FOUND: 'id', INCIDENT_NOT_FOUND: 'id', CHANNEL_NOT_FOUND: 'id' };

// The API's operations: what the document says of each.
function operations() {
  const ops = [];
  for (const [p, item] of Object.entries(DOC.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op || !op.security?.length) continue;   // pages and the gateway's own paths: below
      const roles = new Set(op.security.flatMap((s) => s.bearerAuth || []));
      const pathParams = opParams(op, 'path');
      const names = new Set([...opParams(op, 'query'), ...pathParams, ...bodyParams(op)]);
      ops.push({ path: p, method: m, op, roles, pathParams, names, public: op.security.some((s) => Object.keys(s).length === 0),
                 writes: op.requestBody?.required === true });
    }
  }
  return ops;
}
const OPS = operations();

// The function an operation calls: /rpc/<name>, or a REST alias's
// operationId (the function's name; checked with nginx's locations).
const fnOf = (o) => (o.path.startsWith('/rpc/') ? o.path.slice(5) : o.op.operationId);
// A good body for a write: the document's first request example (events
// are made here: their occurred_at must be recent).
function sampleBody(o) {
  if (fnOf(o) === 'record_events') {
    return { events: [{ occurred_at: new Date().toISOString(), event_type: 'api_call', endpoint: '/v1/openapi-test', method: 'GET', status_code: 200 }] };
  }
  const examples = deref(o.op.requestBody)?.content?.['application/json']?.examples || {};
  const first = deref(Object.values(examples)[0]);
  assert.ok(first?.value, `${o.method} ${o.path}: its request body has no example`);
  const body = structuredClone(first.value);
  // a rule name is unique in its scope: each call its own
  if (fnOf(o) === 'create_alert_rule') body.name = `${body.name} (openapi ${process.pid}-${++seq})`;
  return body;
}

// The objects an alert operation acts on, made for each call (the
// enterprise tenant's: an operator reaches every tenant's): ids as text.
// The rules are disabled, so that a scheduled evaluation (analytics.
// evaluate_alerts) never resolves their incidents under the test.
const lit = (v) => (v === null ? 'NULL' : `'${v}'`);
function freshRule(tenant = ENT, name = `openapi rule ${process.pid}-${++seq}`) {
  return sql(`INSERT INTO analytics.alert_rules (tenant_id, name, metric_name, condition_operator, threshold, aggregation, enabled)
              VALUES (${lit(tenant)}, '${name}', 'events.failures', 'gt', 1000000, 'count', false) RETURNING rule_id`);
}
function freshIncident(status = 'open') {
  return sql(`INSERT INTO analytics.alert_incidents (rule_id, tenant_id, rule_name, metric_name, condition_operator, threshold, severity,
                                                     status, value, opened_at, resolved_at, resolved_by)
              SELECT rule_id, tenant_id, name, metric_name, condition_operator, threshold, severity, '${status}', 1000001, now(),
                     ${status === 'resolved' ? "now(), 'manual'" : 'NULL, NULL'}
              FROM analytics.alert_rules WHERE rule_id = ${freshRule()} RETURNING incident_id`);
}
// (an e-mail channel to an address of the reserved .invalid domain: a test
// notification to it fails without reaching anyone)
function freshChannel(type = 'email') {
  return sql(`INSERT INTO analytics.notification_channels (tenant_id, channel_type, target, secret)
              VALUES ('${ENT}', '${type}', ${type === 'email' ? "'openapi-test@example.invalid'" : "'https://openapi-test.example.invalid/hook'"},
                      ${type === 'webhook' ? 'analytics.alert_new_secret()' : 'NULL'}) RETURNING channel_id`);
}
const FRESH = {
  update_alert_rule: () => freshRule(), delete_alert_rule: () => freshRule(),
  acknowledge_incident: () => freshIncident(), resolve_incident: () => freshIncident(), silence_incident: () => freshIncident(),
  delete_channel: () => freshChannel(), rotate_channel_secret: () => freshChannel('webhook'), test_channel: () => freshChannel(),
};
const freshId = (o) => FRESH[fnOf(o)]?.();
// A body each write refuses with 400 VALIDATION_ERROR (a bad field).
const BAD_BODY = {
  record_events: { events: [{ event_type: 'api_call' }] },
  set_model_price: { model: 'claude-3-5-haiku', inputPerMillion: -1, outputPerMillion: 4 },
  record_metric: { metric_name: 'api.latency', value: 'NaN', metric_type: 'timer' },
  record_metrics: { metrics: [{ metric_name: 'api.latency', metric_type: 'timer' }] },
  register_service: { service_name: 'checkout-api', service_type: 'mainframe' },
  record_health_check: { service_name: 'checkout-api', status: 'fine' },
  record_circuit_state: { service_name: 'checkout-api', state: 'ajar' },
  create_alert_rule: { name: 'openapi bad rule', metric_name: 'events.count', condition_operator: 'bigger', threshold: 1 },
  update_alert_rule: { id: 'first', patch: {} },
  delete_alert_rule: { id: 'first' },
  acknowledge_incident: { id: 'first' },
  resolve_incident: { id: 'first' },
  silence_incident: { id: '1', until: 'tomorrow' },
  create_channel: { channel_type: 'pager', target: 'openapi' },
  delete_channel: { id: 'first' },
  rotate_channel_secret: { id: 'first' },
  test_channel: { id: 'first' },
};

// A request for an operation: its parameters (path ones filled in), the
// token, in the query string (GET) or the JSON body (POST; a write's body
// is its example with the parameters given).
function request(o, { token, params = {}, ids = IDS, method = o.method, query } = {}) {
  let p = o.path;
  const rest = { ...params };
  for (const name of o.pathParams) {
    p = p.replace(`{${name}}`, encodeURIComponent(rest[name] ?? (name === 'id' ? freshId(o) : ids[name])));
    delete rest[name];
  }
  // an id the function takes as a parameter (/rpc/ paths) when no path holds it
  for (const name of ['sessionId', 'executionId', 'userId', 'metric_name', 'service_name']) {
    if (!o.writes && o.names.has(name) && !o.pathParams.includes(name) && !(name in rest)) rest[name] = ids[name];
  }
  if (o.path.startsWith('/rpc/agent_analytics') || o.path.startsWith('/rpc/agent_trends')) {
    if (!('agentId' in rest)) rest.agentId = ids.agentId;
  }
  if (o.writes && method !== 'get') {
    const { body, ...fields } = rest;
    const id = o.names.has('id') && !o.pathParams.includes('id') && !('id' in fields) ? { id: freshId(o) } : {};
    return { method, p, opts: { token, query, body: body ?? { ...sampleBody(o), ...id, ...fields } } };
  }
  if (o.writes) return { method, p, opts: { token, query } };
  return method === 'get' ? { method, p, opts: { token, query: { ...rest, ...query } } } : { method, p, opts: { token, body: rest, query } };
}
const send = (req) => call(req.method, req.p, req.opts);
const goodToken = (o) => (o.roles.has('analytics_tenant') ? tenantTok(ENT) : operatorTok());

// How to make an operation answer each code (null: tested elsewhere).
function trigger(o, code) {
  const tenant = () => tenantTok(errorTenant());
  const asTenantOrOperator = () => (o.roles.has('analytics_operator') ? operatorTok() : tenant());
  switch (code) {
    case 'UNAUTHORIZED': return request(o, { token: badTok() });
    case 'ANALYTICS_NOT_AVAILABLE': return request(o, { token: tenantTok(FREE) });
    case 'FORBIDDEN':
      if (!o.roles.has('analytics_tenant')) return request(o, { token: tenant() });
      if (fnOf(o) === 'record_events') return request(o, { token: tenantTok(ENT), params: { body: { events: [{ tenant_id: PRO, occurred_at: new Date().toISOString(), event_type: 'api_call' }] } } });
      return request(o, { token: tenantTok(ENT), params: { tenantId: PRO } });
    case 'TENANT_NOT_FOUND': return request(o, { token: operatorTok(), params: { tenantId: UNKNOWN_UUID } });
    case 'INVALID_PERIOD': return request(o, { token: asTenantOrOperator(), params: { period: '2y' } });
    case 'INVALID_DATE_RANGE': return request(o, { token: asTenantOrOperator(), params: { from: '2020-02-30' } });
    case 'INVALID_GRANULARITY': return request(o, { token: asTenantOrOperator(), params: { granularity: 'year' } });
    case 'INVALID_GROUP_BY': return request(o, { token: asTenantOrOperator(), params: { group_by: 'bogus' } });
    case 'VALIDATION_ERROR':
      if (o.writes) {
        assert.ok(BAD_BODY[fnOf(o)], `${o.method} ${o.path}: no bad body for VALIDATION_ERROR (BAD_BODY)`);
        return request(o, { token: goodToken(o), params: { body: BAD_BODY[fnOf(o)] } });
      }
      if (o.method === 'get') return request(o, { token: asTenantOrOperator(), query: { bogus: '1' } });
      return request(o, { token: asTenantOrOperator(), query: { bogus: '1' } });   // POST with a query string
    case 'METHOD_NOT_ALLOWED': {
      const other = METHODS.find((m) => !DOC.paths[o.path][m]);
      return request(o, { token: goodToken(o), method: other });
    }
    case 'INVALID_STATE': return request(o, { token: goodToken(o), params: { id: freshIncident('resolved') } });
    case 'CONFLICT':
      if (fnOf(o) === 'create_alert_rule') {
        // the name of a rule of the same scope (the enterprise tenant's)
        const name = `openapi taken ${process.pid}-${++seq}`;
        freshRule(ENT, name);
        return request(o, { token: tenantTok(ENT), params: { body: { ...sampleBody(o), name } } });
      }
      if (fnOf(o) === 'update_alert_rule') {
        const name = `openapi taken ${process.pid}-${++seq}`;
        freshRule(ENT, name);
        return request(o, { token: tenantTok(ENT), params: { patch: { name } } });
      }
      if (fnOf(o) === 'set_model_price') {
        // a global price of the same model starting at the same instant (made here first)
        const body = { ...sampleBody(o), effectiveFrom: '2020-01-01T00:00:00Z' };
        sql(`SELECT analytics.set_model_price('${body.model}', 1, 2, NULL, NULL, '${body.effectiveFrom}', NULL)
             WHERE NOT EXISTS (SELECT FROM analytics.model_prices WHERE model = '${body.model}' AND tenant_id IS NULL
                                                                      AND effective_from = '${body.effectiveFrom}')`);
        return request(o, { token: operatorTok(), params: { body } });
      }
      return null;
    case 'AGENT_NOT_FOUND': case 'USER_NOT_FOUND': case 'SESSION_NOT_FOUND': case 'EXECUTION_NOT_FOUND': case 'METRIC_NOT_FOUND':
    case 'SERVICE_NOT_FOUND': case 'RULE_NOT_FOUND': case 'INCIDENT_NOT_FOUND': case 'CHANNEL_NOT_FOUND': {
      // a rule naming a channel that does not exist
      if (code === 'CHANNEL_NOT_FOUND' && fnOf(o) === 'create_alert_rule') return request(o, { token: tenantTok(ENT), params: { channels: [UNKNOWN_IDS.id] } });
      if (code === 'CHANNEL_NOT_FOUND' && fnOf(o) === 'update_alert_rule') return request(o, { token: tenantTok(ENT), params: { patch: { channels: [UNKNOWN_IDS.id] } } });
      const name = NOT_FOUND_CODE[code];
      // (register_service names its agent agent_id)
      const param = code === 'AGENT_NOT_FOUND' && o.names.has('agent_id') ? 'agent_id' : name;
      return request(o, { token: goodToken(o), ids: { ...IDS, [name]: UNKNOWN_IDS[name] }, params: o.pathParams.includes(param) || o.names.has(param) ? { [param]: UNKNOWN_IDS[name] } : {} });
    }
    default: return null;   // NOT_FOUND (analytics.enabled off), RATE_LIMITED, UNAVAILABLE, TIMEOUT: their own tests
  }
}

// ------------------------------------------------------------------ the document
test('docs/openapi.yaml is valid OpenAPI 3.1 (swagger-parser) and follows the house rules', () => {
  const out = execFileSync('node', [path.join(ROOT, 'docs/api-tools/lint.mjs'), SRC], { encoding: 'utf8' });
  assert.match(out, /valid OpenAPI 3\.1/);
  assert.equal(DOC.openapi.slice(0, 4), '3.1.');
  assert.equal(DOC.info.version, sql(`SELECT extversion FROM pg_extension WHERE extname = 'analytics'`), 'info.version is the extension\'s version');
});

test('served: /openapi.json and /openapi.yaml are the document, /docs/ renders it from local files', async () => {
  const j = await call('get', '/openapi.json');
  assert.equal(j.status, 200);
  assert.match(j.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(j.json, DOC);
  // the root answers with the document too (as PostgREST's root does), linking it and its page
  const root = await call('get', '/');
  assert.equal(root.status, 200);
  assert.match(root.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(root.json, DOC);
  assert.equal(root.headers.get('link'), DOC.paths['/'].get.responses['200'].headers.Link.schema.const);
  assert.equal((await call('post', '/', { body: {} })).status, 403);
  const y = await call('get', '/openapi.yaml');
  assert.equal(y.status, 200);
  assert.equal(y.text, TEXT);
  const page = await call('get', '/docs/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
  const assets = [...page.text.matchAll(/(?:src|href)="([^"#:]+)"/g)].map((m) => m[1]);
  assert.ok(assets.includes('swagger-ui-bundle.js') && assets.includes('init.js'), page.text);
  for (const a of assets) {
    const r = await call('get', a.startsWith('/') ? a : `/docs/${a}`);
    assert.equal(r.status, 200, `${a}: ${r.status}`);
  }
  assert.match((await call('get', '/docs/init.js')).text, /url: '\/openapi\.json'/);
  assert.equal((await call('get', '/docs')).status, 301);
  // linked from the dashboard and the README
  assert.match(fs.readFileSync(path.join(ROOT, 'dashboard/src/index.html'), 'utf8'), /href="\/docs\/"/);
  assert.match(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /docs\/openapi\.yaml/);
});

test('every example of the document matches its schema (request bodies and answers)', () => {
  // (request bodies take a number as a string too: their union types)
  const lax = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(lax);
  lax.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator', 'openapi', 'info', 'servers', 'tags',
    'paths', 'components', 'webhooks', 'security', 'jsonSchemaDialect']);
  lax.addSchema(DOC, 'openapi.json');
  const problems = [];
  let checked = 0;
  for (const [p, item] of Object.entries(DOC.paths)) {
    for (const m of METHODS.filter((x) => item[x])) {
      const op = item[m];
      const parts = [];
      for (const [status, r0] of Object.entries(op.responses || {})) {
        const ptr = responseSchemaPtr(p, m, status);
        if (ptr) parts.push([ptr, deref(r0).content['application/json'], `${m.toUpperCase()} ${p} ${status}`]);
      }
      if (op.requestBody) {
        const ptr = op.requestBody.$ref || `#/paths/${esc(p)}/${m}/requestBody`;
        const c = deref(op.requestBody).content?.['application/json'];
        if (c) parts.push([`${ptr}/content/application~1json/schema`, c, `${m.toUpperCase()} ${p} request body`]);
      }
      for (const [ptr, c, what] of parts) {
        const v = lax.compile({ $ref: `openapi.json${ptr}` });
        const examples = Object.entries(c.examples || {}).map(([k, e]) => [k, deref(e).value]);
        if (c.example !== undefined) examples.push(['example', c.example]);
        for (const [k, value] of examples) {
          checked++;
          if (!v(value)) problems.push(`${what}, example ${k}: ${lax.errorsText(v.errors)}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 1000, `only ${checked} examples`);
});

// ------------------------------------------------------------------ coverage
test('every analytics_api function has its /rpc/ path, with the parameter names of pg_proc (and no other)', () => {
  const fns = catalogue();
  const problems = [];
  for (const [name, f] of fns) {
    const item = DOC.paths[`/rpc/${name}`];
    if (!item) { problems.push(`undocumented function: /rpc/${name} (${f.volatile ? 'POST' : 'GET and POST'}; parameters ${f.params.join(', ') || 'none'})`); continue; }
    if (!item.post) problems.push(`/rpc/${name}: POST is not documented`);
    if (f.volatile && item.get) problems.push(`/rpc/${name}: documents GET, but the function is volatile (POST only)`);
    if (!f.volatile && !item.get) problems.push(`/rpc/${name}: GET is not documented`);
    if (item.get && sorted(opParams(item.get, 'query')).join() !== f.params.join()) {
      problems.push(`GET /rpc/${name}: query parameters [${sorted(opParams(item.get, 'query'))}] but pg_proc has [${f.params}]`);
    }
    if (item.post && sorted(bodyParams(item.post)).join() !== f.params.join()) {
      problems.push(`POST /rpc/${name}: body properties [${sorted(bodyParams(item.post))}] but pg_proc has [${f.params}]`);
    }
  }
  for (const p of Object.keys(DOC.paths).filter((x) => x.startsWith('/rpc/'))) {
    if (!fns.has(p.slice(5))) problems.push(`documented but no such function: ${p}`);
  }
  assert.deepEqual(problems, [], `docs/openapi.yaml is not in step with analytics_api:\n  ${problems.join('\n  ')}`);
});

test('every location of http/nginx.conf.in is documented, and every documented path has a location', () => {
  const fns = catalogue();
  const locs = nginxLocations();
  const problems = [];
  const documented = Object.keys(DOC.paths);
  for (const l of locs) {
    let p;
    if (l.kind === 'regex') {
      const re = new RegExp(l.loc);
      p = documented.find((d) => d.includes('{') && re.test(instantiate(d)));
    } else {
      p = documented.find((d) => d === l.loc);
    }
    if (!p) { problems.push(`undocumented route: ${l.kind === 'regex' ? `~ "${l.loc}"` : l.loc}${l.rewrites.map((r) => ` (${r.method.toUpperCase()} -> /rpc/${r.rpc})`).join('')}`); continue; }
    for (const rw of l.rewrites) {
      // an alias: the function's parameters but the path's own (GET: in
      // the query string; POST: in the JSON body), its operationId the
      // function's name
      const op = DOC.paths[p][rw.method];
      const f = fns.get(rw.rpc);
      if (!op) { problems.push(`${rw.method.toUpperCase()} ${p}: not documented (-> /rpc/${rw.rpc})`); continue; }
      if (op.operationId !== rw.rpc) problems.push(`${rw.method.toUpperCase()} ${p}: operationId ${op.operationId}, not the function's name ${rw.rpc}`);
      if (f) {
        const want = f.params.filter((x) => !opParams(op, 'path').includes(x));
        const got = sorted(rw.method === 'get' ? opParams(op, 'query') : bodyParams(op));
        if (got.join() !== want.join()) problems.push(`${rw.method.toUpperCase()} ${p}: ${rw.method === 'get' ? 'query parameters' : 'body properties'} [${got}] but /rpc/${rw.rpc} takes [${want}]`);
      }
    }
    if (l.rewrites.length) {
      const methods = new Set(l.rewrites.map((r) => r.method));
      for (const m of METHODS.filter((x) => !methods.has(x))) if (DOC.paths[p][m]) problems.push(`${m.toUpperCase()} ${p}: documented, but the alias answers ${[...methods].join(' and ').toUpperCase()} only`);
    }
  }
  for (const d of documented.filter((x) => !x.startsWith('/rpc/'))) {
    const ok = locs.some((l) => (l.kind === 'regex' ? new RegExp(l.loc).test(instantiate(d)) : l.loc === d));
    if (!ok) problems.push(`documented but no nginx location: ${d}`);
  }
  assert.deepEqual(problems, [], `docs/openapi.yaml is not in step with http/nginx.conf.in:\n  ${problems.join('\n  ')}`);
});

test('no undocumented method answers: every other method of a documented path is refused', async () => {
  const problems = [];
  for (const [p, item] of Object.entries(DOC.paths)) {
    for (const m of METHODS.filter((x) => !item[x])) {
      const r = await call(m, instantiate(p), { token: tenantTok(errorTenant()), body: m === 'get' ? undefined : {} });
      if (r.status < 400 && !(r.status >= 300 && m === 'get')) problems.push(`${m.toUpperCase()} ${p}: ${r.status}`);
      if (r.status === 404 && r.json?.message === 'no such route') problems.push(`${m.toUpperCase()} ${p}: 404 no such route (a documented path)`);
    }
  }
  assert.deepEqual(problems, []);
  for (const p of ['/x', '/api', '/api/analytics', '/api/v1/analytics/nothing', '/rpc/', '/rpc/no_such_function', '/analytics/usage-summary/x']) {
    const r = await call('get', p, { token: tenantTok(ENT) });
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.equal(r.json?.code, 'NOT_FOUND', r.text);
  }
});

// ------------------------------------------------------------------ real answers
test('every documented operation answers 200 with a body that matches its schema, every field documented', async () => {
  const problems = [];
  for (const o of OPS) {
    const calls = [];
    // the enterprise tenant where an id of its data is needed, else another
    // (each tenant has its own rate-limit bucket)
    const needsIds = o.pathParams.length > 0 || ['sessionId', 'executionId', 'userId', 'agentId', 'metric_name', 'service_name', 'id'].some((n) => o.names.has(n));
    // /rpc/ operations of a function that has a REST alias: one call (the
    // alias gets every kind of caller)
    const aliased = o.path.startsWith('/rpc/') && OPS.some((x) => !x.path.startsWith('/rpc/') && x.op.operationId === o.path.slice(5));
    if (o.roles.has('analytics_tenant') && !(aliased && o.roles.has('analytics_operator'))) {
      calls.push(['tenant', request(o, { token: tenantTok(needsIds ? ENT : [ENT, ...OTHERS][seq % 3]) })]);
    }
    if (o.roles.has('analytics_operator')) calls.push(['operator', request(o, { token: operatorTok() })]);
    if (o.public && !aliased) calls.push(['no token', request(o, {})]);
    // hour buckets (timestamps in the answer), for a tenant (an operator's
    // platform-wide hourly series is the heaviest call of all)
    if (!aliased && o.names.has('granularity') && o.names.has('period') && o.roles.has('analytics_tenant')) {
      calls.push(['hourly', request(o, { token: tenantTok(ENT), params: { period: '24h', granularity: 'hour' } })]);
    }
    for (const [who, req] of calls) {
      const r = await send(req);
      assert.equal(r.status, 200, `${r.url} (${who}): ${r.text.slice(0, 300)}`);
      try { validate(responseSchemaPtr(o.path, o.method, '200'), r.json, `${r.url} (${who})`); } catch (e) { problems.push(e.message.split('\n').slice(0, 4).join(' | ')); }
      const extra = undocumented(deref(deref(o.op.responses['200']).content['application/json'].schema), r.json, '', new Set());
      if (extra.size) problems.push(`${r.url} (${who}): undocumented fields ${[...extra].join(', ')}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every documented error of every operation: its status, its code, a body matching its schema', async () => {
  let checked = 0;
  const untested = [];
  for (const o of OPS) {
    for (const status of Object.keys(o.op.responses).filter((s) => /^[45]/.test(s))) {
      for (const code of errorCodes(o.path, o.method, status)) {
        const req = trigger(o, code);
        if (!req) { if (!['NOT_FOUND', 'RATE_LIMITED'].includes(code) && !/^5/.test(status)) untested.push(`${o.method} ${o.path} ${status} ${code}`); continue; }
        const r = await send(req);
        assert.equal(r.status, Number(status), `${r.url}: expected ${status} ${code}, got ${r.status} ${r.text.slice(0, 300)}`);
        assert.equal(r.json?.code, code, `${r.url}: ${r.text.slice(0, 300)}`);
        validate(responseSchemaPtr(o.path, o.method, status), r.json, r.url);
        checked++;
      }
    }
  }
  assert.deepEqual(untested, [], 'documented codes this test cannot produce');
  assert.ok(checked > OPS.length * 3, `only ${checked} errors checked`);
});

test('429 RATE_LIMITED answers as documented (with Retry-After)', async () => {
  const o = OPS.find((x) => x.path === '/api/v1/analytics/agents');
  const token = tenantTok(PRO);
  let r;
  for (let i = 0; i < 200; i++) {
    r = await call('get', o.path, { token, retry: false });   // cached answers count too
    if (r.status === 429) break;
  }
  assert.equal(r.status, 429, 'no 429 within 200 calls');
  assert.equal(r.json.code, 'RATE_LIMITED');
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  validate(responseSchemaPtr(o.path, 'get', '429'), r.json, r.url);
  await sleep(1500);
});

test('the gateway\'s own paths answer as documented', async () => {
  const m = await call('get', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain/);
  assert.ok(DOC.paths['/metrics'].get.responses['200'].content['text/plain']);
  const f = await call('post', '/metrics', { body: {} });
  assert.equal(f.status, 403);
  validate(responseSchemaPtr('/metrics', 'get', '403'), f.json, f.url);
  assert.equal((await call('get', '/ready')).status, 200);
  for (const [p, to] of [['/dashboard', '/dashboard/'], ['/api/analytics/dashboard', '/dashboard/?section=ops'], ['/docs', '/docs/']]) {
    const r = await call('get', p);
    const [doc, answer] = Object.entries(DOC.paths[p].get.responses)[0];
    assert.equal(String(r.status), doc, p);
    assert.equal(r.headers.get('location').replace(/^https?:\/\/[^/]+/, ''), to, p);
    const loc = answer.headers?.Location?.schema?.const;
    if (loc) assert.equal(loc, to, `${p}: the documented Location`);
  }
});

// ------------------------------------------------------------------ analytics.enabled (last: it restarts PostgREST)
test('404 NOT_FOUND with analytics.enabled off, for every operation that documents it', async () => {
  sql(`ALTER DATABASE ${DB} SET analytics.enabled = off`);
  try {
    execFileSync(path.join(ROOT, 'http/stack.sh'), ['restart-postgrest', RUN], { stdio: 'inherit' });
    let checked = 0;
    for (const o of OPS) {
      if (!errorCodes(o.path, o.method, '404').includes('NOT_FOUND')) continue;
      const r = await send(request(o, { token: goodToken(o) }));
      assert.equal(r.status, 404, `${r.url}: ${r.text}`);
      assert.equal(r.json?.code, 'NOT_FOUND', r.text);
      validate(responseSchemaPtr(o.path, o.method, '404'), r.json, r.url);
      checked++;
    }
    assert.ok(checked >= 40, `only ${checked}`);
  } finally {
    sql(`ALTER DATABASE ${DB} RESET analytics.enabled`);
    execFileSync(path.join(ROOT, 'http/stack.sh'), ['restart-postgrest', RUN], { stdio: 'inherit' });
  }
});
