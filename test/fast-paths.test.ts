// The shortcuts that make status, refresh and checkout fast must give the same answers as the
// long way round: the tree id recorded in the index, status limited to a few paths, checkout that
// only touches files that differ, and the allocation-free tree parser.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Index, Repository, add, checkout, commit, createBranch, decodeTree, encodeTree, reset, status, switchTree } from '../src/engine';
import { read, tmp, write } from './helpers';

const author = { name: 'Test', email: 'test@example.org' };

async function repoWith(files: Record<string, string>): Promise<Repository> {
  const dir = tmp();
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  let t = 1_700_000_000;
  const repo = await Repository.init(dir, { user: author }, { author, now: () => t++ });
  await add(repo, ['']);
  await commit(repo, { message: 'first' });
  return repo;
}

test('commit, checkout and reset record the tree the index makes; staging anything forgets it', async () => {
  const repo = await repoWith({ 'a.txt': 'a\n', 'd/b.txt': 'b\n' });
  const headTree = async () => (await repo.readCommit((await repo.headCommit())!)).tree;
  assert.equal((await repo.readIndex()).treeId, await headTree());
  write(repo.root, 'd/b.txt', 'changed\n');
  await add(repo, ['d/b.txt']);
  assert.equal((await repo.readIndex()).treeId, undefined, 'add forgot the recorded tree');
  assert.deepEqual((await status(repo)).staged, [{ path: 'd/b.txt', kind: 'modified' }]);
  await commit(repo, { message: 'second' });
  await createBranch(repo, 'old', 'HEAD~1');
  await checkout(repo, 'old');
  assert.equal((await repo.readIndex()).treeId, await headTree());
  assert.deepEqual((await status(repo)).staged, []);
  await reset(repo, 'main', 'mixed');
  assert.equal((await repo.readIndex()).treeId, await headTree());
  assert.deepEqual((await status(repo)).unstaged, [{ path: 'd/b.txt', kind: 'modified' }]);
});

test('the recorded tree survives a write and read of the index and is dropped with conflicts', () => {
  const ix = new Index();
  ix.set({ path: 'a', id: 'a'.repeat(64), mode: '100644', stage: 0, size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1, dev: 1 });
  ix.treeId = 'b'.repeat(64);
  assert.equal(Index.parse(ix.serialize()).treeId, 'b'.repeat(64));
  ix.set({ ...ix.get('a')!, size: 2 }); // a stat-only change keeps it
  assert.equal(ix.treeId, 'b'.repeat(64));
  ix.setConflict({ path: 'a' });
  assert.equal(ix.treeId, undefined);
  assert.equal(Index.parse(ix.serialize()).treeId, undefined);
});

test('an index written after changes is byte for byte the index encoded afresh, whatever the changes', () => {
  // Unchanged entries are copied from the bytes the index was read from; check that against
  // encoding every entry anew, through random sets, removals, conflicts and re-reads.
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const entry = (path: string, v: number) => ({ path, id: (v % 16).toString(16).repeat(64), mode: '100644' as const, stage: 0 as const, size: v, mtimeMs: v + 0.5, ctimeMs: v, ino: v, dev: 1 });
  const fresh = (ix: Index) => {
    const copy = new Index();
    for (const e of ix.entries.values()) copy.set({ ...e });
    for (const c of ix.conflicts.values()) copy.setConflict({ ...c });
    copy.treeId = ix.treeId;
    return copy.serialize();
  };
  let ix = new Index();
  for (let i = 0; i < 300; i++) ix.set(entry(`d${i % 7}/f${i}.txt`, i));
  for (let round = 0; round < 40; round++) {
    ix = Index.parse(ix.serialize()).clone();
    for (let n = rand(6); n >= 0; n--) {
      const path = `d${rand(8)}/f${rand(320)}.txt`;
      const what = rand(10);
      if (what < 5) ix.set(entry(path, rand(1000)));
      else if (what < 8) ix.remove(path);
      else if (what < 9) ix.setConflict({ path, ours: entry(path, 1), theirs: entry(path, 2) });
      else ix.treeId = 'c'.repeat(64);
    }
    const written = ix.serialize();
    assert.ok(written.equals(fresh(ix)), `round ${round}`);
    assert.ok(ix.serialize().equals(written), `round ${round}: a second write`);
  }
});

test('a checkout into an empty work tree (a clone) writes every file and folder, and still refuses a file in the way', async () => {
  const repo = await repoWith({ 'top.txt': 't\n', 'a/b/c/deep.txt': 'd\n', 'a/b/side.txt': 's\n', 'a b/x.txt': 'x\n', 'bin/run.sh': '#!/bin/sh\n' });
  chmodSync(join(repo.root, 'bin/run.sh'), 0o755);
  symlinkSync('a/b/side.txt', join(repo.root, 'link'));
  await add(repo, ['']);
  await commit(repo, { message: 'more' });
  const tree = await repo.commitTree((await repo.headCommit())!);
  const into = async (prepare?: (dir: string) => void) => {
    const dir = tmp();
    cpSync(join(repo.root, '.patch'), join(dir, '.patch'), { recursive: true });
    rmSync(join(dir, '.patch', 'index'));
    prepare?.(dir);
    const r = await Repository.open(dir);
    const ix = new Index();
    await switchTree(r, ix, new Map(), tree);
    await r.writeIndex(ix);
    return r;
  };
  const r = await into();
  assert.equal(read(r.root, 'a/b/c/deep.txt'), 'd\n');
  assert.equal(read(r.root, 'a b/x.txt'), 'x\n');
  assert.equal(statSync(join(r.root, 'bin/run.sh')).mode & 0o111, 0o111);
  assert.equal(readlinkSync(join(r.root, 'link')), 'a/b/side.txt');
  const s = await status(r);
  assert.deepEqual([s.staged, s.unstaged, s.untracked], [[], [], []]);
  // Not empty any more: an untracked file where a tracked one goes is found, and nothing is written.
  await assert.rejects(
    into((dir) => {
      mkdirSync(join(dir, 'a'));
      write(dir, 'a/b', 'not a folder\n');
    }),
    /untracked file in the way/,
  );
});

test('status of a few paths answers exactly what the full status says about them', async () => {
  const repo = await repoWith({ 'keep.txt': 'k\n', 'dir/staged.txt': 's\n', 'dir/edited.txt': 'e\n', 'gone.txt': 'g\n', 'other/x.txt': 'x\n' });
  write(repo.root, 'dir/staged.txt', 'staged change\n');
  await add(repo, ['dir/staged.txt']);
  write(repo.root, 'dir/edited.txt', 'edited\n');
  unlinkSync(join(repo.root, 'gone.txt'));
  write(repo.root, 'dir/new.txt', 'untracked\n');
  const full = await status(repo);
  for (const specs of [['dir/staged.txt'], ['dir/edited.txt'], ['gone.txt'], ['dir/new.txt'], ['dir'], ['keep.txt', 'gone.txt'], ['missing.txt']]) {
    const under = (p: string) => specs.some((s) => p === s || p.startsWith(s + '/'));
    const part = await status(repo, specs);
    assert.deepEqual(part.staged, full.staged.filter((c) => under(c.path)), `staged for ${specs.join(',')}`);
    assert.deepEqual(part.unstaged, full.unstaged.filter((c) => under(c.path)), `unstaged for ${specs.join(',')}`);
    assert.deepEqual(part.untracked, full.untracked.filter(under), `untracked for ${specs.join(',')}`);
  }
});

test('checkout between commits rewrites only the files that differ', async () => {
  const repo = await repoWith({ 'same.txt': 'same\n', 'a/changes.txt': 'one\n', 'a/b/same.txt': 'same\n' });
  write(repo.root, 'a/changes.txt', 'two\n');
  write(repo.root, 'a/b/added.txt', 'added\n');
  await add(repo, ['']);
  await commit(repo, { message: 'second' });
  await createBranch(repo, 'first', 'HEAD~1');
  const before = statSync(join(repo.root, 'a/b/same.txt')).ino;
  const r = await checkout(repo, 'first');
  assert.deepEqual(r.written, ['a/changes.txt']);
  assert.deepEqual(r.removed, ['a/b/added.txt']);
  assert.equal(statSync(join(repo.root, 'a/b/same.txt')).ino, before, 'an unchanged file was not rewritten');
  const s = await status(repo);
  assert.deepEqual([s.staged, s.unstaged, s.untracked], [[], [], []]);
});

test('status checks the tracked files its walk does not meet: deleted ones and ones in ignored folders', async () => {
  const repo = await repoWith({ '.patchignore': 'build/\n', 'a.txt': 'a\n', 'gone.txt': 'g\n', 'sub/b.txt': 'b\n' });
  write(repo.root, 'build/out.js', 'built\n');
  await add(repo, ['build/out.js'], { force: true });
  await commit(repo, { message: 'track an ignored file' });
  assert.deepEqual((await status(repo)).unstaged, []);
  write(repo.root, 'build/out.js', 'rebuilt\n');
  unlinkSync(join(repo.root, 'gone.txt'));
  const s = await status(repo);
  assert.deepEqual(s.unstaged, [
    { path: 'build/out.js', kind: 'modified' },
    { path: 'gone.txt', kind: 'deleted' },
  ]);
  assert.deepEqual(s.untracked, []);
});

test('checkout reads HEAD from the index only when the index is HEAD: staged changes are carried or refused', async () => {
  const repo = await repoWith({ 'same.txt': 'same\n', 'differs.txt': 'one\n' });
  write(repo.root, 'differs.txt', 'two\n');
  await add(repo, ['']);
  await commit(repo, { message: 'second' });
  await createBranch(repo, 'first', 'HEAD~1');
  write(repo.root, 'same.txt', 'staged\n');
  await add(repo, ['same.txt']);
  assert.equal((await repo.readIndex()).treeId, undefined);
  const r = await checkout(repo, 'first');
  assert.deepEqual(r.written, ['differs.txt']);
  assert.deepEqual((await status(repo)).staged, [{ path: 'same.txt', kind: 'modified' }], 'the staged change was carried');
  assert.equal(read(repo.root, 'same.txt'), 'staged\n');
  write(repo.root, 'differs.txt', 'staged too\n');
  await add(repo, ['differs.txt']);
  await assert.rejects(checkout(repo, 'main'), (e: Error) => /differs\.txt \(staged changes\)/.test(e.message));
});

test('files written by checkout carry their exact stat in the index and their mode, and no temporary file is left', async () => {
  const repo = await repoWith({ 'run.sh': 'echo hi\n', 'a/x.txt': 'one\n', 'keep.txt': 'k\n' });
  chmodSync(join(repo.root, 'run.sh'), 0o755); // same content, new mode
  write(repo.root, 'a/x.txt', 'two\n');
  write(repo.root, 'new/deep/y.txt', 'new\n');
  await add(repo, ['']);
  await commit(repo, { message: 'second' });
  await createBranch(repo, 'first', 'HEAD~1');
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.name === '.patch' ? [] : d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
  const statsMatchIndex = async (paths: string[]) => {
    const ix = await repo.readIndex();
    for (const p of paths) {
      const st = lstatSync(join(repo.root, p));
      const e = ix.get(p)!;
      assert.deepEqual([e.size, e.mtimeMs, e.ctimeMs, e.ino], [st.size, st.mtimeMs, st.ctimeMs, st.ino], `stat of ${p} in the index`);
    }
  };
  const r = await checkout(repo, 'first');
  assert.deepEqual(r.written, ['a/x.txt', 'run.sh']);
  assert.deepEqual(r.removed, ['new/deep/y.txt']);
  assert.equal(statSync(join(repo.root, 'run.sh')).mode & 0o111, 0, 'run.sh is no longer executable');
  await statsMatchIndex(r.written);
  const back = await checkout(repo, 'main');
  assert.deepEqual(back.written, ['a/x.txt', 'new/deep/y.txt', 'run.sh']);
  assert.notEqual(statSync(join(repo.root, 'run.sh')).mode & 0o100, 0, 'run.sh is executable again');
  await statsMatchIndex(back.written);
  assert.deepEqual(files(repo.root).filter((f) => f.includes('.pw-tmp')), []);
  const s = await status(repo);
  assert.deepEqual([s.staged, s.unstaged, s.untracked], [[], [], []]);
});

test('trees with non-ASCII names round-trip, and out-of-order entries are still refused', () => {
  const entries = [
    { mode: '100644' as const, name: 'é.txt', id: '1'.repeat(64) },
    { mode: '40000' as const, name: 'a', id: '2'.repeat(64) },
    { mode: '100644' as const, name: 'a.txt', id: '3'.repeat(64) },
    { mode: '100644' as const, name: 'a-b', id: '4'.repeat(64) },
  ];
  const body = encodeTree(entries);
  assert.deepEqual(decodeTree(body).map((e) => e.name), ['a-b', 'a.txt', 'a', 'é.txt']);
  // Swap the first two entries' bytes: same content, wrong order.
  const parsed = decodeTree(body);
  const swapped = Buffer.concat([encodeTree([parsed[1]!]), encodeTree([parsed[0]!]), encodeTree(parsed.slice(2))]);
  assert.throws(() => decodeTree(swapped), { code: 'CORRUPT_OBJECT' });
  const bad = Buffer.from(body);
  bad[bad.indexOf(0xc3)] = 0xff; // break the UTF-8 of "é"
  assert.throws(() => decodeTree(bad), { code: 'CORRUPT_OBJECT' });
});
