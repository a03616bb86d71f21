// Merging: merge bases, fast-forward, three-way merges with every tree-level case, conflict
// markers byte for byte, refusals, abort restoring the exact previous state, and committing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MergeContext, commit, merge, mergeAbort, mergeBases, mergeTrees } from '../src/engine';
import { ok, pw, read, snapshot, write } from './helpers';
import { commitAll, headId, open, rejectsCode, repoWith, statusJson, tick } from './merge-helpers';

/** main and side both start at a base commit with `files`; `onSide` and `onMain` edit each branch. */
async function diverge(files: Record<string, string | Buffer>, onSide: (dir: string) => void, onMain: (dir: string) => void): Promise<string> {
  const dir = await repoWith(files);
  await ok(dir, 'checkout', '-b', 'side');
  onSide(dir);
  await commitAll(dir, 'side change');
  await ok(dir, 'checkout', 'main');
  onMain(dir);
  await commitAll(dir, 'main change');
  return dir;
}

test('merge base: an ancestor, two diverged branches, unrelated histories', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  const base = await headId(dir);
  await ok(dir, 'checkout', '-b', 'side');
  write(dir, 'b.txt', 'b\n');
  const side = await commitAll(dir, 'side');
  await ok(dir, 'checkout', 'main');
  write(dir, 'c.txt', 'c\n');
  const main = await commitAll(dir, 'main');
  const repo = await open(dir);
  assert.deepEqual(await mergeBases(repo, main, side), [base]);
  assert.deepEqual(await mergeBases(repo, side, base), [base]);
  assert.deepEqual(await mergeBases(repo, main, main), [main]);
  await rejectsCode(mergeBases(repo, main, side, { limit: 1 }), 'HISTORY_LIMIT');
});

test('criss-cross history: both best merge bases are found, and the merge uses a virtual base', async () => {
  const lines = (...changes: [number, string][]) => {
    const l = ['1', '2', '3', '4', '5', '6', '7', '8'];
    for (const [i, s] of changes) l[i - 1] = s;
    return l.join('\n') + '\n';
  };
  const dir = await repoWith({ 'f.txt': lines() });
  await ok(dir, 'checkout', '-b', 'side');
  write(dir, 'f.txt', lines([8, '8b']));
  const b1 = await commitAll(dir, 'B1');
  await ok(dir, 'checkout', 'main');
  write(dir, 'f.txt', lines([1, '1a']));
  const a1 = await commitAll(dir, 'A1');
  tick();
  await ok(dir, 'merge', b1); // M1 on main
  await ok(dir, 'checkout', 'side');
  tick();
  await ok(dir, 'merge', a1); // M2 on side: the cross
  write(dir, 'f.txt', lines([1, '1a'], [2, '2b'], [8, '8b']));
  const b2 = await commitAll(dir, 'B2');
  await ok(dir, 'checkout', 'main');
  write(dir, 'f.txt', lines([1, '1a'], [7, '7a'], [8, '8b']));
  const a2 = await commitAll(dir, 'A2');

  const repo = await open(dir);
  assert.deepEqual(await mergeBases(repo, a2, b2), [a1, b1].sort());

  // Either base alone gives a conflict (line 7 next to line 8, or line 2 next to line 1)...
  for (const single of [a1, b1]) {
    const ctx = new MergeContext(repo);
    const r = await mergeTrees(ctx, await repo.commitTree(single), await repo.commitTree(a2), await repo.commitTree(b2), { ours: 'ours', base: 'base', theirs: 'side' });
    assert.equal(r.conflicts.length, 1, `single base ${single.slice(0, 7)} conflicts`);
  }
  // ...the virtual base (A1 and B1 merged) does not.
  const m = await ok(dir, 'merge', 'side');
  assert.match(m.out, /three-way merge/);
  assert.equal(read(dir, 'f.txt'), lines([1, '1a'], [2, '2b'], [7, '7a'], [8, '8b']));
  const c = await repo.readCommit((await repo.headCommit())!);
  assert.deepEqual(c.parents, [a2, b2]);
});

test('already up to date, and fast-forward (also into an unborn branch)', async () => {
  const dir = await repoWith({ 'a.txt': 'a\n' });
  await ok(dir, 'checkout', '-b', 'side');
  write(dir, 'b.txt', 'b\n');
  const side = await commitAll(dir, 'side');
  await ok(dir, 'checkout', 'main');
  assert.match((await ok(dir, 'merge', 'main')).out, /Already up to date/);

  write(dir, 'a.txt', 'local edit\n'); // not touched by the fast-forward: carried over
  const ff = await ok(dir, 'merge', 'side');
  assert.match(ff.out, /Fast-forward/);
  assert.equal(await headId(dir), side);
  assert.equal(read(dir, 'b.txt'), 'b\n');
  assert.equal(read(dir, 'a.txt'), 'local edit\n');
  await ok(dir, 'checkout', '-f', 'main');
  await ok(dir, 'checkout', '-b', 'older', 'HEAD~1');
  assert.match((await ok(dir, 'merge', 'older')).out, /Already up to date/); // ancestor

  // --ff-only refuses a real merge; --no-ff makes a merge commit anyway.
  write(dir, 'c.txt', 'c\n');
  await commitAll(dir, 'on older');
  await ok(dir, 'checkout', 'main');
  await rejectsCode(merge(await open(dir), 'older', { fastForward: 'only' }), 'NOT_FAST_FORWARD');
  await ok(dir, 'checkout', '-b', 'noff', 'HEAD~1');
  await ok(dir, 'merge', '--no-ff', 'main');
  const repo = await open(dir);
  assert.equal((await repo.readCommit((await repo.headCommit())!)).parents.length, 2);
});

test('a clean three-way merge commits with two parents and the merge message', async () => {
  const dir = await diverge(
    { 'a.txt': 'one\ntwo\nthree\nfour\nfive\n', 'del.txt': 'bye\n', 'same.txt': 'x\n' },
    (d) => {
      write(d, 'a.txt', 'one\ntwo\nthree\nfour\nFIVE\n');
      write(d, 'new-side.txt', 'side\n');
      unlinkSync(join(d, 'del.txt'));
      write(d, 'same.txt', 'both made this change\n');
    },
    (d) => {
      write(d, 'a.txt', 'ONE\ntwo\nthree\nfour\nfive\n');
      write(d, 'same.txt', 'both made this change\n');
    },
  );
  const main = await headId(dir);
  const r = await ok(dir, 'merge', 'side');
  assert.match(r.out, /three-way merge/);
  assert.equal(read(dir, 'a.txt'), 'ONE\ntwo\nthree\nfour\nFIVE\n');
  assert.equal(read(dir, 'new-side.txt'), 'side\n');
  assert.equal(read(dir, 'same.txt'), 'both made this change\n');
  assert.equal(existsSync(join(dir, 'del.txt')), false);
  const repo = await open(dir);
  const c = await repo.readCommit((await repo.headCommit())!);
  assert.deepEqual(c.parents, [main, await repo.refs.read('refs/heads/side')]);
  assert.equal(c.message, "Merge branch 'side'\n");
  const s = await statusJson(dir);
  assert.deepEqual([s.staged, s.unstaged, s.conflicts], [[], [], []]);
  assert.equal(existsSync(join(dir, '.patch/MERGE_HEAD')), false);
  assert.equal((await ok(dir, 'fsck')).code, 0);
});

test('content conflict: markers byte for byte, status lists it, commit is refused until resolved', async () => {
  const dir = await diverge(
    { 'f.txt': 'a\nb\nc\n', 'g.txt': 'x\n' },
    (d) => write(d, 'f.txt', 'a\nB-side\nc\n'),
    (d) => {
      write(d, 'f.txt', 'a\nB-main\nc\n');
      write(d, 'g.txt', 'main only\n');
    },
  );
  const r = await pw(dir, 'merge', 'side');
  assert.equal(r.code, 1);
  assert.match(r.out, /CONFLICT \(content\): Merge conflict in f\.txt/);
  assert.equal(read(dir, 'f.txt'), 'a\n<<<<<<< ours\nB-main\n=======\nB-side\n>>>>>>> side\nc\n');
  const s = await statusJson(dir);
  assert.deepEqual(s.conflicts, [{ path: 'f.txt', base: true, ours: true, theirs: true }]);
  assert.match((await ok(dir, 'status')).out, /Unmerged paths:[\s\S]*f\.txt/);

  const e = await rejectsCode(commit(await open(dir), { message: 'too early' }), 'UNMERGED_PATHS');
  assert.ok(e.hint);
  // `commit -a` must not stage the conflicted file (marking it resolved, markers and all).
  await rejectsCode(commit(await open(dir), { message: 'too early', all: true }), 'UNMERGED_PATHS');
  assert.deepEqual((await statusJson(dir)).conflicts, [{ path: 'f.txt', base: true, ours: true, theirs: true }]);
  const again = await pw(dir, 'merge', 'side');
  assert.equal(again.code, 1);
  assert.match(again.err, /merge is in progress/);
  await rejectsCode(merge(await open(dir), 'side'), 'MERGE_IN_PROGRESS');

  write(dir, 'f.txt', 'a\nB-both\nc\n');
  await ok(dir, 'add', 'f.txt');
  assert.deepEqual((await statusJson(dir)).conflicts, []);
  await ok(dir, 'commit'); // the prepared message
  const repo = await open(dir);
  const c = await repo.readCommit((await repo.headCommit())!);
  assert.equal(c.parents.length, 2);
  assert.equal(c.message, "Merge branch 'side'\n");
  assert.equal(existsSync(join(dir, '.patch/MERGE_HEAD')), false);
  assert.equal(existsSync(join(dir, '.patch/MERGE_MSG')), false);
  assert.equal((await ok(dir, 'log', '-n', '1', '--oneline')).out.includes("Merge branch 'side'"), true);
});

test('diff3 conflict style from the repository setting shows the base', async () => {
  const dir = await diverge(
    { 'f.txt': 'a\nb\nc\n' },
    (d) => write(d, 'f.txt', 'a\nB-side\nc\n'),
    (d) => write(d, 'f.txt', 'a\nB-main\nc\n'),
  );
  await ok(dir, 'config', 'merge.conflict_style', 'diff3');
  assert.equal((await pw(dir, 'merge', 'side')).code, 1);
  assert.equal(read(dir, 'f.txt'), 'a\n<<<<<<< ours\nB-main\n||||||| base\nb\n=======\nB-side\n>>>>>>> side\nc\n');
});

test('add/add with different content, and files without a final newline', async () => {
  const dir = await diverge(
    { 'keep.txt': 'k\n', 'eof.txt': 'a\nb' },
    (d) => {
      write(d, 'new.txt', 'side first\nshared tail\n');
      write(d, 'eof.txt', 'a\nside');
    },
    (d) => {
      write(d, 'new.txt', 'main first\nshared tail\n');
      write(d, 'eof.txt', 'a\nmain');
    },
  );
  const r = await pw(dir, 'merge', 'side');
  assert.equal(r.code, 1);
  assert.match(r.out, /CONFLICT \(add\/add\): Merge conflict in new\.txt/);
  assert.equal(read(dir, 'new.txt'), '<<<<<<< ours\nmain first\n=======\nside first\n>>>>>>> side\nshared tail\n');
  assert.equal(read(dir, 'eof.txt'), 'a\n<<<<<<< ours\nmain\n=======\nside\n>>>>>>> side\n');
  const s = await statusJson(dir);
  assert.deepEqual(s.conflicts, [
    { path: 'eof.txt', base: true, ours: true, theirs: true },
    { path: 'new.txt', base: false, ours: true, theirs: true },
  ]);
});

test('modify/delete in both directions leaves the modified version and records the stages', async () => {
  const dir = await diverge(
    { 'gone-on-side.txt': 'v1\n', 'gone-on-main.txt': 'w1\n' },
    (d) => {
      unlinkSync(join(d, 'gone-on-side.txt'));
      write(d, 'gone-on-main.txt', 'w2 from side\n');
    },
    (d) => {
      write(d, 'gone-on-side.txt', 'v2 from main\n');
      unlinkSync(join(d, 'gone-on-main.txt'));
    },
  );
  const r = await pw(dir, 'merge', 'side');
  assert.equal(r.code, 1);
  assert.match(r.out, /CONFLICT \(modify\/delete\): gone-on-side\.txt was deleted in side and modified in ours/);
  assert.match(r.out, /CONFLICT \(modify\/delete\): gone-on-main\.txt was deleted in ours and modified in side/);
  assert.equal(read(dir, 'gone-on-side.txt'), 'v2 from main\n');
  assert.equal(read(dir, 'gone-on-main.txt'), 'w2 from side\n');
  assert.deepEqual((await statusJson(dir)).conflicts, [
    { path: 'gone-on-main.txt', base: true, ours: false, theirs: true },
    { path: 'gone-on-side.txt', base: true, ours: true, theirs: false },
  ]);
  // Resolving a modify/delete by deleting the file.
  unlinkSync(join(dir, 'gone-on-main.txt'));
  await ok(dir, 'add', 'gone-on-main.txt', 'gone-on-side.txt');
  await ok(dir, 'commit', '-m', 'resolved');
  const repo = await open(dir);
  const tree = await repo.commitTree(await repo.headCommit());
  assert.deepEqual([...tree.keys()].sort(), ['gone-on-side.txt']);
});

test('file against directory: the folder takes the path and the file is put aside', async () => {
  const dir = await diverge(
    { 'keep.txt': 'k\n' },
    (d) => write(d, 'thing/inside.txt', 'in a folder\n'),
    (d) => write(d, 'thing', 'a file\n'),
  );
  const r = await pw(dir, 'merge', 'side');
  assert.equal(r.code, 1);
  assert.match(r.out, /CONFLICT \(file\/directory\): a folder is in the way of thing; the file was written to thing~ours/);
  assert.equal(read(dir, 'thing/inside.txt'), 'in a folder\n');
  assert.equal(read(dir, 'thing~ours'), 'a file\n');
  assert.deepEqual((await statusJson(dir)).conflicts, [{ path: 'thing', base: false, ours: true, theirs: false }]);
  // Keeping the folder resolves it.
  await ok(dir, 'add', 'thing');
  await ok(dir, 'commit', '-m', 'keep the folder');
  const tree = await (await open(dir)).commitTree(await headId(dir));
  assert.deepEqual([...tree.keys()].sort(), ['keep.txt', 'thing/inside.txt']);
});

test('executable bit and content changed on different sides merge cleanly', async () => {
  const dir = await diverge(
    { 'run.sh': 'echo one\necho two\n' },
    (d) => write(d, 'run.sh', 'echo one\necho two\necho three\n'),
    (d) => chmodSync(join(d, 'run.sh'), 0o755),
  );
  await ok(dir, 'merge', 'side');
  assert.equal(read(dir, 'run.sh'), 'echo one\necho two\necho three\n');
  assert.equal(statSync(join(dir, 'run.sh')).mode & 0o111, 0o111);
  const tree = await (await open(dir)).commitTree(await headId(dir));
  assert.equal(tree.get('run.sh')!.mode, '100755');
});

test('symlinks: one side retargets cleanly; both retargeting differently conflicts and keeps ours', async () => {
  const dir = await repoWith({ 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' });
  symlinkSync('a.txt', join(dir, 'link'));
  symlinkSync('a.txt', join(dir, 'link2'));
  await commitAll(dir, 'links');
  await ok(dir, 'checkout', '-b', 'side');
  unlinkSync(join(dir, 'link'));
  symlinkSync('b.txt', join(dir, 'link'));
  unlinkSync(join(dir, 'link2'));
  symlinkSync('c.txt', join(dir, 'link2'));
  await commitAll(dir, 'side links');
  await ok(dir, 'checkout', 'main');
  unlinkSync(join(dir, 'link'));
  symlinkSync('c.txt', join(dir, 'link'));
  await commitAll(dir, 'main link');
  const r = await pw(dir, 'merge', 'side');
  assert.equal(r.code, 1);
  assert.match(r.out, /CONFLICT \(symlink\): link /);
  assert.equal(readlinkSync(join(dir, 'link')), 'c.txt'); // ours, no markers
  assert.equal(readlinkSync(join(dir, 'link2')), 'c.txt'); // theirs, clean
  assert.ok(lstatSync(join(dir, 'link2')).isSymbolicLink());
  assert.deepEqual((await statusJson(dir)).conflicts, [{ path: 'link', base: true, ours: true, theirs: true }]);
});

test('binary files never get markers: ours is kept and the conflict recorded', async () => {
  const bin = (n: number) => Buffer.from([0, 1, 2, n, 0, 255]);
  const dir = await diverge(
    { 'img.bin': bin(1) },
    (d) => write(d, 'img.bin', bin(2)),
    (d) => write(d, 'img.bin', bin(3)),
  );
  const r = await pw(dir, 'merge', 'side');
  assert.equal(r.code, 1);
  assert.match(r.out, /CONFLICT \(binary\): img\.bin/);
  assert.deepEqual(readFileSync(join(dir, 'img.bin')), bin(3));
  assert.deepEqual((await statusJson(dir)).conflicts, [{ path: 'img.bin', base: true, ours: true, theirs: true }]);
});

test('merge --abort restores exactly the previous state, .patch included', async () => {
  const dir = await diverge(
    { 'f.txt': 'a\nb\nc\n', 'clean.txt': '1\n2\n3\n4\n5\n', 'del.txt': 'd\n', 'untouched.txt': 'u\n', 'md.txt': 'm\n' },
    (d) => {
      write(d, 'f.txt', 'a\nB-side\nc\n');
      write(d, 'clean.txt', '1\n2\n3\n4\nfive\n');
      unlinkSync(join(d, 'del.txt'));
      write(d, 'added/by/side.txt', 'new\n');
      unlinkSync(join(d, 'md.txt'));
      write(d, 'thing/inside.txt', 'folder\n');
    },
    (d) => {
      write(d, 'f.txt', 'a\nB-main\nc\n');
      write(d, 'clean.txt', 'one\n2\n3\n4\n5\n');
      write(d, 'md.txt', 'm2\n');
      write(d, 'thing', 'file\n');
    },
  );
  write(dir, 'untouched.txt', 'local, unstaged\n'); // a local change the merge does not touch
  write(dir, 'scratch.txt', 'untracked\n');
  await ok(dir, 'status'); // let the stat cache settle, as a user would
  const before = snapshot(dir);
  const r = await pw(dir, 'merge', 'side');
  assert.equal(r.code, 1);
  assert.equal(read(dir, 'clean.txt'), 'one\n2\n3\n4\nfive\n');
  assert.equal(read(dir, 'untouched.txt'), 'local, unstaged\n');
  assert.notDeepEqual(snapshot(dir), before);
  write(dir, 'f.txt', 'half-resolved\n');
  await ok(dir, 'status');

  const a = await ok(dir, 'merge', '--abort');
  assert.match(a.err, /Merge aborted/);
  assert.deepEqual(snapshot(dir), before);
  await rejectsCode(mergeAbort(await open(dir)), 'NO_MERGE_IN_PROGRESS');
  // And the merge can be done again afterwards.
  assert.equal((await pw(dir, 'merge', 'side')).code, 1);
});

test('a merge refuses to start when local changes would be overwritten, touching nothing', async () => {
  const dir = await diverge(
    { 'f.txt': 'a\n', 'other.txt': 'o\n' },
    (d) => {
      write(d, 'f.txt', 'side\n');
      write(d, 'new.txt', 'from side\n');
    },
    (d) => write(d, 'other.txt', 'main\n'),
  );
  const repo = await open(dir);
  // An unstaged edit to a file the merge changes.
  write(dir, 'f.txt', 'my edit\n');
  let before = snapshot(dir);
  const e = await rejectsCode(merge(repo, 'side'), 'DIRTY_WORKTREE');
  assert.deepEqual(e.data.paths, ['f.txt']);
  assert.ok(e.hint);
  assert.deepEqual(snapshot(dir), before);
  const cli = await pw(dir, 'merge', 'side');
  assert.equal(cli.code, 1);
  assert.match(cli.err, /^patchwork: error: Your local changes would be overwritten: f\.txt \(modified\)\.\nhint: /);
  await ok(dir, 'restore', 'f.txt');

  // An untracked file where the merge adds one.
  write(dir, 'new.txt', 'mine\n');
  before = snapshot(dir);
  assert.deepEqual((await rejectsCode(merge(repo, 'side'), 'DIRTY_WORKTREE')).data.paths, ['new.txt']);
  assert.deepEqual(snapshot(dir), before);
  unlinkSync(join(dir, 'new.txt'));

  // Staged changes, even to another file.
  write(dir, 'other.txt', 'staged\n');
  await ok(dir, 'add', 'other.txt');
  before = snapshot(dir);
  await rejectsCode(merge(repo, 'side'), 'DIRTY_WORKTREE');
  assert.deepEqual(snapshot(dir), before);
});

test('unrelated histories are refused unless allowed', async () => {
  const dir = await repoWith({ 'a.txt': 'a\n' });
  const other = await repoWith({ 'b.txt': 'b\n' });
  // Bring the other repository's commit in by copying its objects (what a fetch does).
  const { cpSync } = await import('node:fs');
  cpSync(join(other, '.patch/objects'), join(dir, '.patch/objects'), { recursive: true });
  const theirs = await headId(other);
  const repo = await open(dir);
  await rejectsCode(merge(repo, theirs), 'UNRELATED_HISTORIES');
  const r = await merge(repo, theirs, { allowUnrelated: true, theirName: 'other' });
  assert.equal(r.kind, 'merged');
  assert.equal(read(dir, 'b.txt'), 'b\n');
});

test('engine API for pull: merge(repo, commitId, { theirName }) reports the outcome', async () => {
  const dir = await diverge(
    { 'f.txt': 'a\nb\nc\n' },
    (d) => write(d, 'f.txt', 'a\nb\nC\n'),
    (d) => write(d, 'f.txt', 'A\nb\nc\n'),
  );
  const repo = await open(dir);
  const theirs = (await repo.refs.read('refs/heads/side'))!;
  const r = await merge(repo, theirs, { theirName: 'bob/main' });
  assert.equal(r.kind, 'merged');
  if (r.kind !== 'merged') return;
  assert.equal(r.parents[1], theirs);
  assert.equal((await repo.readCommit(r.id)).message, 'Merge bob/main\n');
  assert.deepEqual(await merge(repo, theirs), { kind: 'up-to-date', head: r.id });
});

test('a file becoming a folder (and a folder becoming a file) merges cleanly, and abort puts both back', async () => {
  const dir = await diverge(
    { 'f.txt': 'a\nb\nc\n', 'node': 'was a file\n', 'dir/inside.txt': 'was in a folder\n' },
    (d) => {
      unlinkSync(join(d, 'node'));
      write(d, 'node/child.txt', 'now a folder\n');
      rmSync(join(d, 'dir'), { recursive: true });
      write(d, 'dir', 'now a file\n');
      write(d, 'f.txt', 'a\nB-side\nc\n');
    },
    (d) => write(d, 'f.txt', 'a\nB-main\nc\n'),
  );
  const before = snapshot(dir);
  assert.equal((await pw(dir, 'merge', 'side')).code, 1);
  assert.equal(read(dir, 'node/child.txt'), 'now a folder\n');
  assert.equal(read(dir, 'dir'), 'now a file\n');
  assert.deepEqual((await statusJson(dir)).conflicts.map((c) => c.path), ['f.txt']);
  await ok(dir, 'merge', '--abort');
  assert.deepEqual(snapshot(dir), before);
});

test('after a conflicted merge is abandoned with reset --hard, the next merge starts cleanly', async () => {
  const dir = await diverge(
    { 'f.txt': 'a\nb\nc\n' },
    (d) => write(d, 'f.txt', 'a\nB-side\nc\n'),
    (d) => write(d, 'f.txt', 'a\nB-main\nc\n'),
  );
  assert.equal((await pw(dir, 'merge', 'side')).code, 1);
  await ok(dir, 'reset', '--hard');
  assert.equal(read(dir, 'f.txt'), 'a\nB-main\nc\n');
  await rejectsCode(mergeAbort(await open(dir)), 'NO_MERGE_IN_PROGRESS');
  assert.equal((await pw(dir, 'merge', 'side')).code, 1);
  await ok(dir, 'merge', '--abort');
  assert.equal(existsSync(join(dir, '.patch/merge-state')), false);
  assert.equal(existsSync(join(dir, '.patch/MERGE_MSG')), false);
});
