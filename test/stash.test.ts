// Stash: stored as commits under refs/stash/, round trips, list order, drop, pop, and applying over
// changed files (merges or refuses, never overwrites).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { stashApply, stashDrop, stashList, stashPop, stashPush } from '../src/engine';
import { ok, pw, read, snapshot, write } from './helpers';
import { commitAll, headId, open, rejectsCode, repoWith, statusJson, tick } from './merge-helpers';

test('stash push saves staged, unstaged, new and deleted files as commits and cleans the work tree; pop brings them back', async () => {
  const dir = await repoWith({ 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
  const head = await headId(dir);
  write(dir, 'a.txt', 'a staged\n');
  await ok(dir, 'add', 'a.txt');
  write(dir, 'b.txt', 'b unstaged\n');
  write(dir, 'new.txt', 'new, staged\n');
  await ok(dir, 'add', 'new.txt');
  unlinkSync(join(dir, 'c.txt'));
  write(dir, 'untracked.txt', 'stays\n');
  tick();
  const push = await ok(dir, 'stash', 'push', '-m', 'work in progress');
  assert.match(push.err, /On main: work in progress/);

  // The work tree and index are back at HEAD; the untracked file is left alone.
  assert.equal(read(dir, 'a.txt'), 'a\n');
  assert.equal(read(dir, 'b.txt'), 'b\n');
  assert.equal(read(dir, 'c.txt'), 'c\n');
  assert.equal(existsSync(join(dir, 'new.txt')), false);
  assert.equal(read(dir, 'untracked.txt'), 'stays\n');
  const s = await statusJson(dir);
  assert.deepEqual([s.staged, s.unstaged, s.untracked], [[], [], ['untracked.txt']]);

  // Stored as commits: W (work tree) with parents HEAD and I (index), under a ref fsck walks.
  const repo = await open(dir);
  assert.deepEqual(readdirSync(join(dir, '.patch/refs/stash')), ['1']);
  const [entry] = await stashList(repo);
  const w = await repo.readCommit(entry.id);
  assert.equal(w.parents[0], head);
  assert.equal(w.parents.length, 2);
  assert.equal((await repo.commitTree(w.parents[1])).get('a.txt')!.id, (await repo.commitTree(entry.id)).get('a.txt')!.id);
  assert.deepEqual([...(await repo.commitTree(entry.id)).keys()].sort(), ['a.txt', 'b.txt', 'new.txt']);
  assert.equal((await ok(dir, 'fsck')).code, 0);
  assert.equal((await ok(dir, 'stash', 'list')).out, 'stash@{0}: On main: work in progress\n');

  const pop = await ok(dir, 'stash', 'pop');
  assert.match(pop.err, /Dropped stash@\{0\}/);
  assert.equal(read(dir, 'a.txt'), 'a staged\n');
  assert.equal(read(dir, 'b.txt'), 'b unstaged\n');
  assert.equal(read(dir, 'new.txt'), 'new, staged\n');
  assert.equal(existsSync(join(dir, 'c.txt')), false);
  const after = await statusJson(dir);
  assert.deepEqual(after.unstaged, [
    { path: 'a.txt', kind: 'modified' },
    { path: 'b.txt', kind: 'modified' },
    { path: 'c.txt', kind: 'deleted' },
  ]);
  assert.deepEqual(after.staged, [{ path: 'new.txt', kind: 'added' }]);
  assert.deepEqual(await stashList(repo), []);
});

test('stash list is newest first; apply and drop take an index; errors are clear', async () => {
  const dir = await repoWith({ 'f.txt': 'f\n' });
  const repo = await open(dir);
  await rejectsCode(stashPush(repo), 'NOTHING_TO_STASH');
  await rejectsCode(stashApply(repo), 'NO_STASH');
  for (const n of [1, 2, 3]) {
    write(dir, 'f.txt', `change ${n}\n`);
    tick();
    await stashPush(repo, { message: `change ${n}` });
  }
  assert.equal((await ok(dir, 'stash', 'list')).out, 'stash@{0}: On main: change 3\nstash@{1}: On main: change 2\nstash@{2}: On main: change 1\n');
  await rejectsCode(stashApply(repo, 5), 'NO_STASH');
  const bad = await pw(dir, 'stash', 'apply', 'stash@{7}');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /There is no stash@\{7\}: there are 3 stashes\.\nhint: /);

  await ok(dir, 'stash', 'apply', 'stash@{1}');
  assert.equal(read(dir, 'f.txt'), 'change 2\n');
  assert.equal((await stashList(repo)).length, 3); // apply keeps it
  await ok(dir, 'restore', 'f.txt');
  const dropped = await stashDrop(repo, 1);
  assert.equal(dropped.message, 'On main: change 2');
  assert.deepEqual((await stashList(repo)).map((e) => e.message), ['On main: change 3', 'On main: change 1']);
  await ok(dir, 'stash', 'drop');
  assert.deepEqual((await stashList(repo)).map((e) => [e.index, e.message]), [[0, 'On main: change 1']]);
  // Plain `stash` is `stash push`, with git's default message.
  write(dir, 'f.txt', 'wip\n');
  await ok(dir, 'stash');
  assert.match((await stashList(repo))[0].message, /^WIP on main: [0-9a-f]{7} base$/);
});

test('applying over changed files: merges with committed changes, refuses unstaged edits, conflicts keep the stash', async () => {
  const dir = await repoWith({ 'f.txt': '1\n2\n3\n4\n5\n6\n', 'g.txt': 'g\n' });
  const repo = await open(dir);
  write(dir, 'f.txt', '1\n2\n3\n4\n5\nsix\n');
  tick();
  await stashPush(repo, { message: 'edit line 6' });

  // A commit made since then changes another line of the same file: applying merges.
  write(dir, 'f.txt', 'one\n2\n3\n4\n5\n6\n');
  await commitAll(dir, 'edit line 1');
  // An unstaged edit to the file the stash touches: refused, nothing changes.
  write(dir, 'f.txt', 'one\n2\n3\nlocal\n5\n6\n');
  const before = snapshot(dir);
  const e = await rejectsCode(stashApply(repo), 'DIRTY_WORKTREE');
  assert.deepEqual(e.data.paths, ['f.txt']);
  assert.deepEqual(snapshot(dir), before);
  // A staged edit is merged with, not overwritten.
  await ok(dir, 'add', 'f.txt');
  const r = await stashApply(repo);
  assert.deepEqual(r.conflicts, []);
  assert.equal(read(dir, 'f.txt'), 'one\n2\n3\nlocal\n5\nsix\n');
  await ok(dir, 'reset', '--hard');

  // A committed change to the same line: conflict markers, and pop keeps the stash.
  write(dir, 'f.txt', 'one\n2\n3\n4\n5\nSIX\n');
  await commitAll(dir, 'edit line 6 too');
  const pop = await pw(dir, 'stash', 'pop');
  assert.equal(pop.code, 1);
  assert.match(pop.out, /CONFLICT \(content\): Merge conflict in f\.txt/);
  assert.match(pop.out, /is kept/);
  assert.equal(read(dir, 'f.txt'), 'one\n2\n3\n4\n5\n<<<<<<< ours\nSIX\n=======\nsix\n>>>>>>> stash@{0}\n');
  assert.deepEqual((await statusJson(dir)).conflicts, [{ path: 'f.txt', base: true, ours: true, theirs: true }]);
  assert.equal((await stashList(repo)).length, 1);
  await rejectsCode(stashPop(repo), 'UNMERGED_PATHS');
});

test('stash -u round-trips untracked files, and apply refuses to overwrite one', async () => {
  const dir = await repoWith({ 'f.txt': 'f\n' });
  const repo = await open(dir);
  write(dir, 'notes/todo.txt', 'todo\n');
  await rejectsCode(stashPush(repo), 'NOTHING_TO_STASH');
  tick();
  await ok(dir, 'stash', 'push', '-u', '-m', 'with untracked');
  assert.equal(existsSync(join(dir, 'notes/todo.txt')), false);
  const w = await repo.readCommit((await stashList(repo))[0].id);
  assert.equal(w.parents.length, 3);

  write(dir, 'notes/todo.txt', 'another\n');
  const before = snapshot(dir);
  const e = await rejectsCode(stashPop(repo), 'DIRTY_WORKTREE');
  assert.deepEqual(e.data.paths, ['notes/todo.txt']);
  assert.deepEqual(snapshot(dir), before);
  unlinkSync(join(dir, 'notes/todo.txt'));
  const r = await stashPop(repo);
  assert.equal(r.dropped, true);
  assert.equal(read(dir, 'notes/todo.txt'), 'todo\n');
  assert.deepEqual((await statusJson(dir)).untracked, ['notes/todo.txt']);
});

test('stash refuses during a merge with conflicts', async () => {
  const dir = await repoWith({ 'f.txt': 'a\n' });
  await ok(dir, 'checkout', '-b', 'side');
  write(dir, 'f.txt', 'side\n');
  await commitAll(dir, 'side');
  await ok(dir, 'checkout', 'main');
  write(dir, 'f.txt', 'main\n');
  await commitAll(dir, 'main');
  assert.equal((await pw(dir, 'merge', 'side')).code, 1);
  await rejectsCode(stashPush(await open(dir)), 'MERGE_IN_PROGRESS');
});
