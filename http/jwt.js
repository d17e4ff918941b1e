#!/usr/bin/env node
// jwt.js: print an HS256-signed JWT for PostgREST (node's built-in crypto only;
// PostgREST does the validation).
//
//   node http/jwt.js '{"role":"analytics_tenant","tenant_id":"…"}' [ttl_seconds]
//
// The secret is $ANALYTICS_JWT_SECRET.  "exp" is now + ttl_seconds (default
// 3600) unless the claims set it; ttl 0 leaves "exp" out.
'use strict';
const crypto = require('node:crypto');

function b64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

function sign(claims, secret, ttl = 3600) {
  const payload = { ...claims };
  if (payload.exp === undefined && ttl > 0) payload.exp = Math.floor(Date.now() / 1000) + ttl;
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = b64url(crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

module.exports = { sign };

if (require.main === module) {
  const secret = process.env.ANALYTICS_JWT_SECRET;
  if (!secret) { console.error('jwt.js: ANALYTICS_JWT_SECRET is not set'); process.exit(2); }
  const claims = JSON.parse(process.argv[2] || '{}');
  const ttl = process.argv[3] === undefined ? 3600 : Number(process.argv[3]);
  process.stdout.write(sign(claims, secret, ttl) + '\n');
}
