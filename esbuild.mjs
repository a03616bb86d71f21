// One bundle per entry point (CommonJS, `vscode` external). libp2p and its friends are ESM-only;
// bundling them here means neither the extension host nor the CLI pays for loading them unbundled.
//   node esbuild.mjs               extension (out/extension.js; out/peer.js and out/peer-worker.js for the peer worker) + CLI
//   node esbuild.mjs --tests       also every test/**/*.test.ts as its own bundle under out/tests/,
//                                  and test/vscode/suite/ as out/tests/vscode/suite.js
//   node esbuild.mjs --bench       also bench/*.ts (and the VS Code harness, for the start-up rows)
//   node esbuild.mjs --production  minified, no source maps (what `npm run package` ships)
import * as esbuild from 'esbuild';
import { readdirSync, rmSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');

function listTs(dir, suffix) {
  const out = [];
  let names = [];
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    if (name.startsWith('.')) continue; // e.g. bench/.corpus: generated trees full of .ts files
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // libp2p's ESM code reads import.meta.url in a few places; give it a CommonJS equivalent.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

rmSync('out', { recursive: true, force: true });
const builds = [
  esbuild.build({ ...common, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'out' }),
  // The extension's peer-to-peer half (libp2p), which the peer worker (a worker thread the extension
  // starts right after activation; out/peer-worker.js, tiny) loads: on the path to the peer
  // listening, so minified in every build (with source maps outside production): V8 parses 1.4 MB
  // instead of 3 MB.
  esbuild.build({ ...common, minify: true, entryPoints: { peer: 'src/extension/peer-host.ts' }, outdir: 'out' }),
  esbuild.build({ ...common, entryPoints: { 'peer-worker': 'src/extension/peer-worker.ts' }, outdir: 'out' }),
  esbuild.build({
    ...common,
    entryPoints: { cli: 'src/cli/bin.ts' },
    outdir: 'out',
    banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
  }),
];
// The VS Code harness (test/vscode/*.ts, run by tests and by the bench's start-up rows) and what
// runs inside VS Code's extension host: the mocha entry and the *.itest.ts it requires.
// playwright-core and mocha are loaded from node_modules at run time, never bundled.
const tests = { ...common, external: [...common.external, 'playwright-core', 'chromium-bidi', 'mocha'] };
const vscodeHelpers = readdirSync('test/vscode').filter((n) => n.endsWith('.ts')).map((n) => join('test/vscode', n));
const vscodeSuite = () => esbuild.build({ ...tests, entryPoints: { 'vscode/suite': 'test/vscode/suite/index.ts' }, outdir: 'out/tests' });
if (args.has('--tests')) {
  // Output goes to out/tests/, not out/test/: Node 20's `node --test <dir>` runs every .js below a
  // folder named `test`. Only *.test.js files (and helpers that match no test pattern) land here.
  builds.push(esbuild.build({ ...tests, entryPoints: [...listTs('test', '.test.ts'), ...vscodeHelpers], outdir: 'out/tests', outbase: 'test' }), vscodeSuite());
} else if (args.has('--bench')) {
  builds.push(esbuild.build({ ...tests, entryPoints: vscodeHelpers, outdir: 'out/tests', outbase: 'test' }), vscodeSuite());
}
if (args.has('--bench')) {
  builds.push(esbuild.build({ ...common, entryPoints: listTs('bench', '.ts'), outdir: 'out/bench', outbase: 'bench' }));
}
await Promise.all(builds);
chmodSync('out/cli.js', 0o755);
