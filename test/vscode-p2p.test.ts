// Two peers syncing through VS Code's commands, in a real VS Code build: the workspace folder
// `shared` is a clone of a repository served by a CLI peer (`patchwork start`, spawned here). The
// suite (test/vscode/suite/p2p.itest.ts) gets the CLI repository, the CLI and a second invite
// ticket (for Clone from Peer) through the environment.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, mustCli, sharedRepository } from './vscode/cliPeer';
import { prerequisiteProblem, projectRoot, runVSCodeTests } from './vscode/harness';

const suite = join(projectRoot, 'out', 'tests', 'vscode', 'suite.js');

test('two peers sync through the commands: a CLI peer and VS Code (fetch, sync, push, merge, invite, clone, collaborators)', { timeout: 240_000 }, async (t) => {
  const problem = prerequisiteProblem();
  assert.ok(!problem, `cannot run the VS Code integration tests: ${problem}`);
  const dir = mkdtempSync(join(tmpdir(), 'patchwork-p2p-'));
  const ws = join(dir, 'ws');
  mkdirSync(join(ws, 'clones'), { recursive: true });
  const shared = await sharedRepository({
    origin: join(dir, 'cli', 'shared'),
    clone: join(ws, 'shared'),
    name: 'shared',
    ownerName: 'Ada',
    cloneName: 'Sam',
    files: { 'README.md': '# Shared\n', 'src/main.txt': 'main\n' },
  });
  try {
    const ticket = mustCli(shared.origin, 'invite', '--role', 'reader').trim();
    const workspaceFile = join(ws, 'p2p.code-workspace');
    writeFileSync(workspaceFile, JSON.stringify({ folders: [{ path: 'shared' }, { path: 'clones' }], settings: {} }, null, 2));
    const result = await runVSCodeTests({
      workspace: workspaceFile,
      suite,
      timeoutMs: 200_000,
      settings: { 'patchwork.autoFetch': 0 },
      env: {
        PATCHWORK_ITESTS: 'p2p.itest.ts',
        PATCHWORK_TEST_CLI_REPO: shared.origin,
        PATCHWORK_TEST_CLI: CLI,
        PATCHWORK_TEST_TICKET: ticket,
      },
    });
    assert.equal(
      result.exitCode,
      0,
      `VS Code p2p tests failed (exit code ${result.exitCode}). Mocha output:\n${result.log}\n--- CLI peer ---\n${shared.peer.output()}\n--- VS Code server / browser output ---\n${result.diagnostics}`,
    );
    const lines = result.log.split('\n');
    t.diagnostic(lines.filter((l) => /^\s*\d+ (passing|pending)/.test(l)).map((l) => l.trim()).join(', '));
    for (const l of lines.filter((x) => x.includes('[measure]'))) t.diagnostic(l.trim());
  } finally {
    await shared.peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
