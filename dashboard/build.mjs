// build.mjs: the production bundle of the dashboard, in dist/.
//   dist/index.html                 the page (no-cache)
//   dist/assets/main-HASH.js|.css   minified, content-hashed (cache forever)
//   *.gz beside each                served by nginx's gzip_static
//   dist/bundle-size.json           the sizes, raw and gzipped
// Fails when the page's files together exceed BUDGET_GZ bytes gzipped.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, 'dist');
const BUDGET_GZ = 300 * 1000;

rmSync(DIST, { recursive: true, force: true });
mkdirSync(join(DIST, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(HERE, 'src/main.js'), join(HERE, 'src/styles.css')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  outdir: join(DIST, 'assets'),
  splitting: true,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// The page's entry script, its stylesheet, and the chunks the entry imports
// (statically or not): those are preloaded, so that they download at once.
const outputs = result.metafile.outputs;
const entryOf = (src) => Object.keys(outputs).find((p) => outputs[p].entryPoint === src);
const js = entryOf('src/main.js');
const css = entryOf('src/styles.css');
const chunks = Object.keys(outputs).filter((p) => p.endsWith('.js') && p !== js);
const asset = (p) => `assets/${basename(p)}`;
const html = readFileSync(join(HERE, 'src/index.html'), 'utf8')
  .replace('%APP_JS%', asset(js))
  .replace('%APP_CSS%', asset(css))
  .replace('%PRELOAD%', chunks.map((p) => `<link rel="modulepreload" href="${asset(p)}">`).join('\n'));
writeFileSync(join(DIST, 'index.html'), html);

// Precompress, and measure what a browser downloads.
const files = [join(DIST, 'index.html'), ...[js, css, ...chunks].map((p) => join(HERE, p))];
const sizes = {};
let rawTotal = 0;
let gzTotal = 0;
for (const f of files) {
  const data = readFileSync(f);
  const gz = gzipSync(data, { level: 9 });
  writeFileSync(`${f}.gz`, gz);
  const name = f.slice(DIST.length + 1);
  sizes[name] = { bytes: data.length, gzipBytes: gz.length };
  rawTotal += data.length;
  gzTotal += gz.length;
}
const report = { files: sizes, totalBytes: rawTotal, totalGzipBytes: gzTotal, budgetGzipBytes: BUDGET_GZ };
writeFileSync(join(DIST, 'bundle-size.json'), `${JSON.stringify(report, null, 2)}\n`);
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
console.log(`dashboard: built ${readdirSync(join(DIST, 'assets')).filter((f) => !f.endsWith('.gz')).length} assets; ` +
  `${kb(rawTotal)} raw, ${kb(gzTotal)} gzipped (budget ${kb(BUDGET_GZ)})`);
for (const [name, s] of Object.entries(sizes)) console.log(`  ${name}: ${kb(s.bytes)} raw, ${kb(s.gzipBytes)} gzipped`);
if (gzTotal > BUDGET_GZ) {
  console.error(`dashboard: the bundle is ${kb(gzTotal)} gzipped, over the ${kb(BUDGET_GZ)} budget`);
  process.exit(1);
}
