// `npm start` (scripts/start-vscode.mjs), the README's main job: it starts the extension in a real
// VS Code on 127.0.0.1 with a sample workspace and a second peer, prints the address to open, serves
// it, and on Ctrl-C stops everything and removes the sample. Run with --no-build (the test run has
// built out/ already; rebuilding would delete the other tests' bundles).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildProblem, projectRoot } from './vscode/harness';

test('npm start prints an address on 127.0.0.1 that answers 200, and Ctrl-C stops it cleanly', { timeout: 150_000 }, async (t) => {
  const problem = buildProblem();
  assert.ok(!problem, `cannot start VS Code: ${problem}`);
  const child = spawn(process.execPath, [join(projectRoot, 'scripts', 'start-vscode.mjs'), '--no-build'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const started = Date.now();
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed within 120 s:\n${out}`)), 120_000);
      const check = () => {
        const m = /^Open (http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+)$/m.exec(out);
        if (m && /Press Ctrl-C to stop/.test(out)) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', check);
      void exited.then((code) => reject(new Error(`start-vscode exited (${code}) before printing the address:\n${out}`)));
    });
    t.diagnostic(`[measure] address printed ${((Date.now() - started) / 1000).toFixed(1)} s after start`);
    const workspace = decodeURIComponent(/\?folder=([^&]+)/.exec(url)![1]!);
    const alice = /Alice: `patchwork start` in (\S+)/.exec(out)?.[1];
    assert.ok(existsSync(join(workspace, '.patch', 'HEAD')), `the sample workspace is a repository: ${workspace}`);
    assert.ok(alice && existsSync(join(alice, '.patch', 'peer.json')), 'the second peer serves its repository');
    assert.match(url, /&payload=.*extensionDevelopmentPath/, 'the address loads this extension');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);

    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /Stopped\.\s*$/);
    assert.ok(!existsSync(workspace), 'the sample folder is removed');
    assert.ok(!existsSync(alice), "the second peer's folder is removed");
    await assert.rejects(fetch(url), 'the server is gone');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
