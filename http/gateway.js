// gateway.js: the njs module of nginx (Debian's libnginx-mod-http-js, njs
// 0.7).  nginx.conf.in imports it; it never answers a request by itself.
//
//   token         $analytics_token: the JWT of the Authorization header,
//                 normalised the way PostgREST reads it (scheme "bearer" in
//                 any case, then any run of spaces or tabs), or "".
//   limitKey      $analytics_limit_key: who the rate limit and the in-flight
//                 cap count a request against, for a token that is an HS256
//                 JWT signed with the API's secret and within its exp/nbf
//                 (PostgREST's 30 s of skew):
//                   "t:<uuid>"  its tenant claim (tenant_id, else
//                               organization_id: analytics.http_claimed_tenant),
//                               so every token of one tenant shares one bucket;
//                   "s:<hash>"  no tenant claim, a role other than
//                               analytics_tenant/analytics_anon (an operator):
//                               a hash of its role and sub;
//                   "k:<sig>"   the same without a sub: the token's signature;
//                   ""          anything else: no token, an invalid one, or
//                               one that names no tenant (PostgREST or the
//                               API refuses it: 401), limited per address
//                               with requests that have none.
//   reject        $analytics_reject: "" when PostgREST may have the request,
//                 else the status nginx answers itself, with the body in
//                 $analytics_reject_body: unknown /rpc/ name 404, a method the
//                 function does not take 405, an unknown, repeated or
//                 malformed query parameter or a NUL byte in one 400.
//   headers, body the header and body filters of the /rpc/ locations
//                 (api_proxy.conf): every 4xx error PostgREST answers itself
//                 (PGRSTnnn, SQLSTATEs) becomes the contract's
//                 {"code","message"} (its 401, 413 and 5xx are nginx's error
//                 pages); the API's own errors (codes in capitals) pass
//                 unchanged; an answer (2xx, 304), fresh or from the cache,
//                 passes byte for byte, and only its first buffer enters njs.
//
// The secret is nginx's environment variable ANALYTICS_JWT_SECRET (the `env`
// directive): the same value as PostgREST's jwt-secret, a string of >= 32
// characters or a JWKS of "oct" keys.  Nothing here authenticates: PostgREST
// checks every token again.
'use strict';
const crypto = require('crypto');

const SKEW_S = 30;             // PostgREST 12: jose's allowedSkew for exp and nbf
const MAX_PARAMS = 32;         // query parameters of one request

function keys() {
  const s = process.env.ANALYTICS_JWT_SECRET || '';
  if (s.charAt(0) === '{') {
    try {
      const jwks = JSON.parse(s);
      return (jwks.keys || []).filter((k) => k.kty === 'oct' && typeof k.k === 'string')
        .map((k) => Buffer.from(k.k, 'base64url'));
    } catch (e) {
      return [];
    }
  }
  return s.length >= 32 ? [s] : [];
}

function token(r) {
  const h = r.headersIn.Authorization;
  if (!h) return '';
  const m = /^bearer[ \t]+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(h);
  return m ? m[1] : '';
}

// Read once, when nginx loads the module (each request gets a copy).
const KEYS = keys();

function sameString(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

function decodePart(s) {
  return JSON.parse(Buffer.from(s, 'base64url').toString());
}

// analytics.http_claimed_tenant(): coalesce(claims->>'tenant_id',
// claims->>'organization_id') when it reads as a uuid (any case), else none.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function claimedTenant(claims) {
  let v = claims.tenant_id;
  if (v === undefined || v === null) v = claims.organization_id;
  return typeof v === 'string' && UUID.test(v) ? v.toLowerCase() : '';
}

function limitKey(r) {
  const t = r.variables.analytics_token;
  if (!t) return '';
  const parts = t.split('.');
  try {
    const head = decodePart(parts[0]);
    if (head === null || typeof head !== 'object' || head.alg !== 'HS256') return '';
    const signed = parts[0] + '.' + parts[1];
    if (!KEYS.some((k) => sameString(crypto.createHmac('sha256', k).update(signed).digest('base64url'), parts[2]))) return '';
    const claims = decodePart(parts[1]);
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return '';
    const now = Date.now() / 1000;
    if ('exp' in claims && !(typeof claims.exp === 'number' && now <= claims.exp + SKEW_S)) return '';
    if ('nbf' in claims && !(typeof claims.nbf === 'number' && now + SKEW_S >= claims.nbf)) return '';
    const tenant = claimedTenant(claims);
    if (tenant) return 't:' + tenant;
    const role = claims.role;
    if (typeof role !== 'string' || role === '' || role === 'analytics_tenant' || role === 'analytics_anon') return '';
    if (typeof claims.sub === 'string' && claims.sub !== '') {
      return 's:' + crypto.createHash('sha256').update(role + '\n' + claims.sub).digest('base64url');
    }
    return 'k:' + parts[2];
  } catch (e) {
    return '';
  }
}

function refuse(r, status, code, message) {
  r.variables.analytics_reject_body = JSON.stringify({ code, message });
  return String(status);
}

// $analytics_rpc (rpc_routes.conf, generated from the catalog by stack.sh):
// "s:" or "v:" (stable: GET and POST; volatile: POST only), then the
// function's parameter names, comma-separated.
function reject(r) {
  const route = r.variables.analytics_rpc;
  const fn = r.uri.slice('/rpc/'.length);
  if (!route) return refuse(r, 404, 'NOT_FOUND', 'no such route');
  const params = route.slice(2) ? route.slice(2).split(',') : [];
  const method = r.method;
  if (method === 'POST') {
    if (r.variables.args) return refuse(r, 400, 'VALIDATION_ERROR', `POST /rpc/${fn} takes its parameters in the JSON body, not in the query string`);
    return '';
  }
  if (method !== 'GET' && method !== 'HEAD') return refuse(r, 405, 'METHOD_NOT_ALLOWED', `/rpc/${fn} answers ${route[0] === 'v' ? 'POST' : 'GET and POST'} only`);
  if (route[0] === 'v') return refuse(r, 405, 'METHOD_NOT_ALLOWED', `/rpc/${fn} answers POST only`);
  const args = r.variables.args;
  if (!args) return '';
  const seen = {};
  const pairs = args.split('&');
  if (pairs.length > MAX_PARAMS) return refuse(r, 400, 'VALIDATION_ERROR', `at most ${MAX_PARAMS} query parameters`);
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let name, value;
    try {
      name = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
      value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    } catch (e) {
      return refuse(r, 400, 'VALIDATION_ERROR', 'malformed percent-encoding in the query string');
    }
    if (name.indexOf('\0') >= 0) return refuse(r, 400, 'VALIDATION_ERROR', 'a parameter name holds a NUL byte');
    if (!params.includes(name)) {
      return refuse(r, 400, 'VALIDATION_ERROR', `unknown parameter ${JSON.stringify(name.slice(0, 64))}: /rpc/${fn} takes ${params.length ? params.join(', ') : 'none'}`);
    }
    if (seen[name]) return refuse(r, 400, 'VALIDATION_ERROR', `parameter ${name} is given more than once`);
    seen[name] = true;
    if (value.indexOf('\0') >= 0) {
      const code = (name === 'from' || name === 'to') ? 'INVALID_DATE_RANGE' : 'VALIDATION_ERROR';
      return refuse(r, 400, code, `${name} holds a NUL byte`);
    }
  }
  return '';
}

// ---- errors answered by PostgREST itself, rewritten to the contract.

// An error answer of PostgREST: its body is rewritten below, so its length
// changes.  (The status stays: nginx sends the upstream's status line.)
function headers(r) {
  if (r.status < 300 || r.status === 304) return;
  delete r.headersOut['Content-Length'];
  r.headersOut['Content-Type'] = 'application/json';
}

const GENERIC = {
  400: ['VALIDATION_ERROR', 'invalid request'],
  403: ['FORBIDDEN', 'this token may not call this function'],
  404: ['NOT_FOUND', 'no such function, or it takes other parameters'],
  405: ['METHOD_NOT_ALLOWED', 'this function does not take this method'],
  409: ['CONFLICT', 'the request conflicts with stored data'],
};

function contractError(status, text) {
  let e = null;
  try { e = JSON.parse(text); } catch (x) { /* not JSON */ }
  if (e && typeof e === 'object' && typeof e.code === 'string' && /^[A-Z][A-Z_]*$/.test(e.code)
      && typeof e.message === 'string') {
    return text;
  }
  const code = e && typeof e.code === 'string' ? e.code : '';
  const pgMessage = e && typeof e.message === 'string' ? e.message : '';
  let out = GENERIC[status] || GENERIC[400];
  if (status === 400 && (code === '22P05' || code === '22021')) {
    out = ['VALIDATION_ERROR', 'a parameter or body field holds a NUL character or text that is not valid UTF-8'];
  } else if (status === 400 && code === 'PGRST102') {
    out = ['VALIDATION_ERROR', 'the request body is not a valid JSON object'];
  } else if (status === 400 && code === 'PGRST100') {
    out = ['VALIDATION_ERROR', 'malformed query string'];
  } else if (status === 400 && /^22/.test(code) && pgMessage) {
    // a value the database could not read: its message is about the input
    out = ['VALIDATION_ERROR', pgMessage.slice(0, 200)];
  }
  return JSON.stringify({ code: out[0], message: out[1] });
}

// Per request (njs gives each request its own copy of the module's state).
let errorChunks = [];
let errorBytes = 0;

// buffer_type=buffer: an answer's bytes pass untouched (a chunk may end inside
// a UTF-8 sequence), and r.done() sends its later buffers past this filter
// without entering njs; an error's body is gathered (up to 64 kB) and
// rewritten.
function body(r, data, flags) {
  if (r.status < 300 || r.status === 304) {
    r.sendBuffer(data, { last: flags.last });
    r.done();
    return;
  }
  if (errorBytes < 65536) {
    errorChunks.push(data);
    errorBytes += data.length;
  }
  if (flags.last) r.sendBuffer(contractError(r.status, Buffer.concat(errorChunks).toString()), { last: true });
}

export default { token, limitKey, reject, headers, body };
