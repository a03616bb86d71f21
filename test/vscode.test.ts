// Integration tests inside a real VS Code build (see test/vscode/harness.ts). Needs the build
// from `node scripts/install-vscode.mjs` and Debian's chromium; fails (never skips) without them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prerequisiteProblem, projectRoot, runVSCodeTests } from './vscode/harness';

const suiteDir = join(projectRoot, 'test', 'vscode', 'suite');

test('the test/vscode/suite tests pass in the extension host of a real VS Code', { timeout: 150_000 }, async (t) => {
  const problem = prerequisiteProblem();
  assert.ok(!problem, `cannot run the VS Code integration tests: ${problem}`);

  const workspace = mkdtempSync(join(tmpdir(), 'patchwork-ws-'));
  mkdirSync(join(workspace, '.patch'));
  try {
    const result = await runVSCodeTests({
      workspace,
      suite: join(projectRoot, 'out', 'tests', 'vscode', 'suite.js'),
      timeoutMs: 120_000,
    });
    assert.equal(
      result.exitCode,
      0,
      `VS Code integration tests failed (exit code ${result.exitCode}). Mocha output:\n${result.log}\n` +
        `--- VS Code server / browser output ---\n${result.diagnostics}`,
    );
    const summary = result.log.split('\n').filter((l) => /^\s*\d+ (passing|pending)/.test(l));
    t.diagnostic(summary.map((l) => l.trim()).join(', ') || 'no mocha summary');
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('test/vscode/suite/index.ts loads every *.itest.ts in its folder', () => {
  const index = readFileSync(join(suiteDir, 'index.ts'), 'utf8');
  const missing = readdirSync(suiteDir)
    .filter((f) => f.endsWith('.itest.ts'))
    .filter((f) => !index.includes(`require('./${f.replace(/\.ts$/, '')}')`));
  assert.deepEqual(missing, [], 'add these to testFiles in test/vscode/suite/index.ts');
});
