// Integration tests inside a real VS Code build (see test/vscode/harness.ts). Needs the build
// from `node scripts/install-vscode.mjs` and Debian's chromium; fails (never skips) without them.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { multiRootFixture } from './vscode/fixture';
import { prerequisiteProblem, projectRoot, runVSCodeTests, type RunResult } from './vscode/harness';

const suiteDir = join(projectRoot, 'test', 'vscode', 'suite');
const suite = join(projectRoot, 'out', 'tests', 'vscode', 'suite.js');

// Mocha's "N failing" report, the part of a failure that matters: first in the message, before the
// window's log lines (CI shows only the start of a long message).
function failureReport(lines: string[]): string {
  const start = lines.findIndex((l) => /^\s*\d+ failing/.test(l));
  const harness = lines.filter((l) => l.startsWith('[harness]'));
  return [...(start >= 0 ? lines.slice(start) : ['(no mocha failure report)']), ...harness].join('\n');
}

function assertPassed(t: { diagnostic(message: string): void }, result: RunResult): void {
  const lines = result.log.split('\n');
  assert.equal(
    result.exitCode,
    0,
    `VS Code integration tests failed (exit code ${result.exitCode}).\n${failureReport(lines)}\n` +
      `--- whole mocha output ---\n${result.log}\n--- VS Code server / browser output ---\n${result.diagnostics}`,
  );
  const summary = lines.filter((l) => /^\s*\d+ (passing|pending)/.test(l));
  t.diagnostic(summary.map((l) => l.trim()).join(', ') || 'no mocha summary');
  // Measurements the suites print (refresh timings, activation time).
  for (const l of lines.filter((x) => x.includes('[measure]'))) t.diagnostic(l.trim());
}

test('the test/vscode/suite tests pass in the extension host of a real VS Code', { timeout: 180_000 }, async (t) => {
  const problem = prerequisiteProblem();
  assert.ok(!problem, `cannot run the VS Code integration tests: ${problem}`);
  // alpha, beta: repositories; plain: none; big: 3000 files, for refresh timings.
  const fixture = await multiRootFixture({ bigFiles: 3000 });
  try {
    const result = await runVSCodeTests({ workspace: fixture.workspaceFile, suite, timeoutMs: 150_000 });
    assertPassed(t, result);
  } finally {
    rmSync(fixture.dir, { recursive: true, force: true });
  }
});

test('in Restricted Mode (untrusted workspace) the view shows changes and nothing is written', { timeout: 120_000 }, async (t) => {
  const problem = prerequisiteProblem();
  assert.ok(!problem, `cannot run the VS Code integration tests: ${problem}`);
  const fixture = await multiRootFixture({ bigFiles: 0 });
  try {
    const result = await runVSCodeTests({
      workspace: fixture.workspaceFile,
      suite,
      timeoutMs: 100_000,
      settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' },
      env: { PATCHWORK_ITESTS: 'restricted.itest.ts' },
    });
    assertPassed(t, result);
  } finally {
    rmSync(fixture.dir, { recursive: true, force: true });
  }
});

test('in a workspace without a repository the peer worker does not stay behind', { timeout: 120_000 }, async (t) => {
  const problem = prerequisiteProblem();
  assert.ok(!problem, `cannot run the VS Code integration tests: ${problem}`);
  const dir = mkdtempSync(join(tmpdir(), 'patchwork-norepo-'));
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  try {
    const result = await runVSCodeTests({ workspace: dir, suite, timeoutMs: 100_000, env: { PATCHWORK_ITESTS: 'no-repository.itest.ts' } });
    assertPassed(t, result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('test/vscode/suite/index.ts loads every *.itest.ts in its folder', () => {
  const index = readFileSync(join(suiteDir, 'index.ts'), 'utf8');
  const missing = readdirSync(suiteDir)
    .filter((f) => f.endsWith('.itest.ts'))
    .filter((f) => !index.includes(`require('./${f.replace(/\.ts$/, '')}')`));
  assert.deepEqual(missing, [], 'add these to testFiles in test/vscode/suite/index.ts');
});
