// lint.mjs: docs/openapi.yaml is a valid OpenAPI 3.1 document
// (@apidevtools/swagger-parser: the 3.1 schema and every $ref), plus the
// house rules the tests rely on: every operation has an operationId, a
// declared tag, a summary, a security requirement and a 2xx/3xx answer;
// every error answer of the API lists the codes it may carry (an enum on
// "code") with one example named after each code.  Exit 1 with the list of
// problems.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import SwaggerParser from '@apidevtools/swagger-parser';

const SRC = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'openapi.yaml');
const doc = YAML.parse(fs.readFileSync(SRC, 'utf8'), { prettyErrors: true });
const problems = [];
try {
  await SwaggerParser.validate(structuredClone(doc));
} catch (e) {
  problems.push(`swagger-parser: ${e.message}`);
}
const tags = new Set((doc.tags || []).map((t) => t.name));
const deref = (o) => {
  while (o && o.$ref) o = o.$ref.slice(2).split('/').reduce((a, k) => a?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  return o;
};
const ids = new Set();
for (const [p, item] of Object.entries(doc.paths || {})) {
  for (const [m, op] of Object.entries(item)) {
    if (!['get', 'post', 'put', 'patch', 'delete', 'head'].includes(m)) continue;
    const where = `${m.toUpperCase()} ${p}`;
    if (!op.operationId) problems.push(`${where}: no operationId`);
    else if (ids.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} used twice`);
    ids.add(op.operationId);
    if (!op.summary) problems.push(`${where}: no summary`);
    if (!op.tags?.length || !op.tags.every((t) => tags.has(t))) problems.push(`${where}: tags ${JSON.stringify(op.tags)} not all declared under tags:`);
    if (!Array.isArray(op.security)) problems.push(`${where}: no security (use [] for a public path)`);
    if (!Object.keys(op.responses || {}).some((s) => /^[23]/.test(s))) problems.push(`${where}: no 2xx or 3xx answer`);
    for (const [status, r0] of Object.entries(op.responses || {})) {
      if (!/^[45]/.test(status)) continue;
      const r = deref(r0);
      const c = r?.content?.['application/json'];
      if (!c) continue;
      const s = deref(c.schema);
      const codes = s?.allOf?.map(deref).map((x) => x?.properties?.code?.enum).find(Boolean) || s?.properties?.code?.enum;
      const exs = Object.keys(c.examples || {});
      if (!codes) { if (p.startsWith('/rpc/') || op.security.length) problems.push(`${where} ${status}: no code enum`); continue; }
      for (const code of codes) if (!exs.includes(code)) problems.push(`${where} ${status}: no example named ${code}`);
      for (const e of exs) {
        const v = deref(c.examples[e])?.value;
        if (v?.code !== e) problems.push(`${where} ${status}: example ${e} has code ${v?.code}`);
      }
    }
  }
}
if (problems.length) {
  console.error(`${SRC}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${SRC}: valid OpenAPI ${doc.openapi}, ${Object.keys(doc.paths).length} paths, ${ids.size} operations`);
