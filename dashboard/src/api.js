// api.js: GET one of the API's paths on this origin with the tenant's token.
import { classifyResponse } from './shape.js';

// The routes the dashboard reads: the seed's REST paths where the contract
// names one, the RPC route otherwise (docs/api.md).
export const ROUTES = {
  summary: '/analytics/usage-summary',
  agentActivity: '/analytics/agent-activity',
  trends: '/analytics/token-trends',
  heatmap: '/api/v1/analytics/agents/activity',
  top: '/api/v1/analytics/agents',
  rotations: '/rpc/rotation_frequency',
  patterns: '/rpc/call_patterns',
};

// -> {verdict, body}: verdict is classifyResponse's, or {kind: 'error'} when
// the server cannot be reached.  An abort rejects (AbortError).
export async function apiGet(path, params, token, signal) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined) url.searchParams.set(k, String(v));
  }
  let response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      signal,
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return { verdict: { kind: 'error', message: 'The server cannot be reached. Check the connection and refresh.' }, body: null };
  }
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON: classify by status */ }
  const verdict = classifyResponse(response.status, body, response.headers.get('Retry-After'));
  if (verdict.kind === 'ok' && (body === null || typeof body !== 'object')) {
    return { verdict: { kind: 'error', message: 'The server answered something that is not JSON.' }, body: null };
  }
  return { verdict, body };
}

// -> {verdict, body}: POST a JSON body to one of the API's paths (the
// incident actions of §6.6), as apiGet answers.
export async function apiPost(path, payload, token) {
  let response;
  try {
    response = await fetch(new URL(path, window.location.origin), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    return { verdict: { kind: 'error', message: 'The server cannot be reached. Check the connection and try again.' }, body: null };
  }
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON: classify by status */ }
  return { verdict: classifyResponse(response.status, body, response.headers.get('Retry-After')), body };
}
