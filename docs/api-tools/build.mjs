// build.mjs OUT_DIR: the API's description as static files for nginx
// (http/stack.sh runs it into its html folder):
//   OUT_DIR/openapi/openapi.yaml   docs/openapi.yaml as written
//   OUT_DIR/openapi/openapi.json   the same, as JSON
//   OUT_DIR/docs/                  the page: Swagger UI (swagger-ui-dist,
//                                  from this folder's node_modules: no CDN)
//                                  reading /openapi.json
// Every file also gzipped beside it (nginx's gzip_static).  The document is
// parsed here, so a YAML syntax error stops the build.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(HERE, '..', 'openapi.yaml');
const UI = path.join(HERE, 'node_modules', 'swagger-ui-dist');
const out = process.argv[2];
if (!out) { console.error('usage: node build.mjs OUT_DIR'); process.exit(2); }

const text = fs.readFileSync(SRC, 'utf8');
const doc = YAML.parse(text, { prettyErrors: true });

function write(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  fs.writeFileSync(file + '.gz', zlib.gzipSync(data, { level: 9 }));
}
fs.rmSync(path.join(out, 'openapi'), { recursive: true, force: true });
fs.rmSync(path.join(out, 'docs'), { recursive: true, force: true });
write(path.join(out, 'openapi', 'openapi.yaml'), text);
write(path.join(out, 'openapi', 'openapi.json'), JSON.stringify(doc));

const docs = path.join(out, 'docs');
for (const f of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css', 'index.css', 'favicon-32x32.png', 'LICENSE', 'NOTICE']) {
  write(path.join(docs, f), fs.readFileSync(path.join(UI, f)));
}
// The initializer is a file of its own (the page's CSP allows no inline script).
write(path.join(docs, 'init.js'), `'use strict';
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    validatorUrl: null,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
};
`);
const version = JSON.parse(fs.readFileSync(path.join(UI, 'package.json'), 'utf8')).version;
write(path.join(docs, 'index.html'), `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} ${doc.info.version}</title>
<link rel="icon" type="image/png" href="favicon-32x32.png">
<link rel="stylesheet" href="swagger-ui.css">
<link rel="stylesheet" href="index.css">
</head>
<body>
<noscript>This page needs JavaScript; the description itself is <a href="/openapi.yaml">/openapi.yaml</a> (or <a href="/openapi.json">JSON</a>).</noscript>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="swagger-ui-standalone-preset.js"></script>
<script src="init.js"></script>
<!-- rendered by swagger-ui-dist ${version} -->
</body>
</html>
`);
console.log(`api docs: ${Object.keys(doc.paths).length} paths into ${out}/openapi and ${out}/docs (swagger-ui-dist ${version})`);
