// What a refresh costs in a repository of 3000 files: a full walk, and the incremental refresh a
// file save triggers (the watcher reports the path; only that path is re-checked). The numbers are
// printed as [measure] lines; the assertions check that a save never walks the whole tree.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as vscode from 'vscode';
import { file, folder, groupRows, repo, testApi, waitFor, write } from './util';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

suite('Refresh cost (3000-file repository)', () => {
  test('the fixture has 3000 tracked files', async () => {
    const big = await repo('big');
    const count = readdirSync(folder('big').fsPath).filter((n) => n.startsWith('pkg')).length;
    assert.equal(count, 30);
    assert.deepEqual(Object.values(big.groups).map((g) => g.resourceStates.length), [0, 0, 0]);
  });

  test('a full refresh (walk + stat of every file) and its duration', async () => {
    const big = await repo('big');
    const t = await testApi();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await big.refresh();
      times.push(performance.now() - start);
    }
    console.log(`[measure] full refresh, 3000 files: median ${median(times).toFixed(1)} ms (runs: ${times.map((x) => x.toFixed(0)).join(', ')}; engine part ${t.refreshStats(big.rootUri)!.lastFullMs.toFixed(1)} ms)`);
    assert.ok(median(times) < 2000);
  });

  test('saving one file refreshes only that path (no full walk), debounced, and the view follows', async () => {
    const big = await repo('big');
    const t = await testApi();
    const stats = t.refreshStats(big.rootUri)!;
    // Let events from earlier tests settle.
    await new Promise((r) => setTimeout(r, 400));
    const latencies: number[] = [];
    const engineMs: number[] = [];
    const fullBefore = stats.full;
    for (let i = 0; i < 5; i++) {
      const partialBefore = stats.partial;
      const start = performance.now();
      write('big', 'pkg07/file700.ts', `export const value700 = ${1000 + i};\n`);
      await waitFor('the save to show up', () => stats.partial > partialBefore && groupRows(big, 'workingTree').includes('M pkg07/file700.ts'));
      latencies.push(performance.now() - start);
      engineMs.push(stats.lastPartialMs);
    }
    assert.equal(stats.full, fullBefore, 'no full refresh for single-file saves');
    console.log(
      `[measure] save -> view updated, 3000 files: median ${median(latencies).toFixed(0)} ms (watcher + ${'150'} ms debounce + refresh); ` +
        `partial refresh itself: median ${median(engineMs).toFixed(2)} ms`,
    );
    // Put it back.
    write('big', 'pkg07/file700.ts', `export const value700 = 700;\n// ${'x'.repeat(700 % 80)}\n`);
    await waitFor('clean again', () => groupRows(big, 'workingTree').length === 0);
  });

  test('a burst of writes is coalesced into few refreshes', async () => {
    const big = await repo('big');
    const stats = (await testApi()).refreshStats(big.rootUri)!;
    await new Promise((r) => setTimeout(r, 400));
    const before = stats.partial + stats.full;
    for (let i = 0; i < 40; i++) write('big', `pkg01/file${100 + i}.ts`, `burst ${i}\n`);
    await waitFor('40 changes', () => big.groups.workingTree.resourceStates.length === 40);
    const refreshes = stats.partial + stats.full - before;
    console.log(`[measure] 40 writes in a burst -> ${refreshes} refresh(es)`);
    assert.ok(refreshes <= 3, `${refreshes} refreshes for one burst`);
    await vscode.commands.executeCommand('patchwork.refresh', big.sourceControl);
    assert.equal(big.groups.workingTree.resourceStates.length, 40);
    for (let i = 0; i < 40; i++) write('big', `pkg01/file${100 + i}.ts`, `export const value${100 + i} = ${100 + i};\n// ${'x'.repeat((100 + i) % 80)}\n`);
    await waitFor('clean again', () => big.groups.workingTree.resourceStates.length === 0);
    assert.ok(file('big', 'pkg01/file100.ts'));
  });
});
