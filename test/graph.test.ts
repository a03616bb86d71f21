// log --graph: the rows the engine draws and what the CLI prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logGraph } from '../src/engine';
import { ok, write } from './helpers';
import { commitAll, open, repoWith } from './merge-helpers';

test('log --graph draws a linear history as a column of commits', async () => {
  const dir = await repoWith({ 'f.txt': '1\n' });
  write(dir, 'f.txt', '2\n');
  await commitAll(dir, 'second');
  const rows = await logGraph(await open(dir));
  assert.deepEqual(rows.map((r) => r.graph), ['*', '*']);
  assert.equal(rows[0].commit!.message, 'second\n');
});

test('log --graph draws a branch and its merge', async () => {
  const dir = await repoWith({ 'f.txt': '1\n' });
  await ok(dir, 'checkout', '-b', 'side');
  write(dir, 's.txt', 's\n');
  await commitAll(dir, 'side work');
  await ok(dir, 'checkout', 'main');
  write(dir, 'm.txt', 'm\n');
  await commitAll(dir, 'main work');
  write(dir, 'm2.txt', 'm\n');
  await commitAll(dir, 'more main work');
  await ok(dir, 'merge', 'side');
  write(dir, 'after.txt', 'a\n');
  await commitAll(dir, 'after the merge');

  const out = (await ok(dir, 'log', '--graph', '--oneline')).out.replace(/[0-9a-f]{7} /g, '');
  assert.equal(
    out,
    ['* (HEAD -> main) after the merge', "* Merge branch 'side'", '|\\', '* | more main work', '* | main work', '| * (side) side work', '|/', '* base', ''].join('\n'),
  );
  // -n limits commit rows; a..b leaves out what a has.
  const limited = (await logGraph(await open(dir), { limit: 2 })).filter((r) => r.id);
  assert.equal(limited.length, 2);
  const sideOnly = (await ok(dir, 'log', '--graph', '--oneline', 'main~1..side')).out;
  assert.equal(sideOnly.trim().split('\n').length, 1);
  // The long format continues the graph in front of each line of the commit.
  const long = (await ok(dir, 'log', '--graph', '-n', '2')).out.split('\n');
  assert.match(long[0], /^\* commit [0-9a-f]{64} \(HEAD -> main\)$/);
  assert.match(long[1], /^\| Author: /);
  const mergeRow = long.findIndex((l) => /^\* commit/.test(l) && l !== long[0]);
  assert.match(long[mergeRow + 1], /^\| Merge: /);
});
