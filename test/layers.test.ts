import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// STYLE.md: src/engine imports neither vscode nor libp2p; src/p2p never imports vscode or the
// extension/CLI; only src/extension imports vscode.
function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

function violations(dir: string, forbidden: RegExp): string[] {
  return files(dir).flatMap((f) => imports(f).filter((i) => forbidden.test(i)).map((i) => `${f} imports ${i}`));
}

test('the engine imports neither vscode nor libp2p, nor the layers above it', () => {
  assert.deepEqual(violations('src/engine', /^(vscode$|libp2p|@libp2p\/|@chainsafe\/|@multiformats\/)|\/(p2p|extension|cli)(\/|$)/), []);
});

test('the p2p layer never imports vscode, the extension or the CLI', () => {
  assert.deepEqual(violations('src/p2p', /^vscode$|\/(extension|cli)(\/|$)/), []);
});

test('the CLI never imports vscode or the extension', () => {
  assert.deepEqual(violations('src/cli', /^vscode$|\/extension(\/|$)/), []);
});

test('the layer check itself catches a forbidden import', () => {
  const sample = "import * as vscode from 'vscode';\nimport { createLibp2p } from 'libp2p';\n";
  const found = [...sample.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  assert.deepEqual(found, ['vscode', 'libp2p']);
});
