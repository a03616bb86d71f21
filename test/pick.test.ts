// cherry-pick and revert, with and without conflicts, through the merge machinery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cherryPick, commit, merge, pickAbort, pickContinue, revert } from '../src/engine';
import { ok, pw, read, snapshot, write } from './helpers';
import { as, commitAll, headId, open, rejectsCode, repoWith, statusJson } from './merge-helpers';

/** main: base; side: base + a commit by Bob changing `f.txt` to `sideContent`. */
async function withSideCommit(base: Record<string, string>, sideFiles: Record<string, string>): Promise<{ dir: string; picked: string }> {
  const dir = await repoWith(base);
  await ok(dir, 'checkout', '-b', 'side');
  as('Bob Builder');
  for (const [p, c] of Object.entries(sideFiles)) write(dir, p, c);
  const picked = await commitAll(dir, 'Bob: improve things\n\nWith a body.');
  as('Alice Example');
  await ok(dir, 'checkout', 'main');
  return { dir, picked };
}

test('cherry-pick applies a commit cleanly on top of HEAD, keeping its author and message', async () => {
  const { dir, picked } = await withSideCommit({ 'f.txt': '1\n2\n3\n4\n5\n', 'g.txt': 'g\n' }, { 'f.txt': '1\n2\n3\n4\nfive\n' });
  write(dir, 'f.txt', 'one\n2\n3\n4\n5\n');
  const main = await commitAll(dir, 'main edit');
  const r = await ok(dir, 'cherry-pick', 'side');
  assert.match(r.out, /^\[[0-9a-f]{7}\] Bob: improve things\n$/);
  assert.equal(read(dir, 'f.txt'), 'one\n2\n3\n4\nfive\n');
  const repo = await open(dir);
  const c = await repo.readCommit(await headId(dir));
  const orig = await repo.readCommit(picked);
  assert.deepEqual(c.parents, [main]);
  assert.equal(c.message, orig.message);
  assert.equal(c.author.name, 'Bob Builder');
  assert.equal(c.committer.name, 'Alice Example');
  const s = await statusJson(dir);
  assert.deepEqual([s.staged, s.unstaged, s.conflicts], [[], [], []]);
  // Picking it again changes nothing, which is refused.
  await rejectsCode(cherryPick(repo, picked), 'NOTHING_TO_COMMIT');
});

test('cherry-pick with a conflict: markers, commit refused, --continue keeps the original author', async () => {
  const { dir, picked } = await withSideCommit({ 'f.txt': 'a\nb\nc\n' }, { 'f.txt': 'a\nB-side\nc\n' });
  write(dir, 'f.txt', 'a\nB-main\nc\n');
  const main = await commitAll(dir, 'main edit');
  const r = await pw(dir, 'cherry-pick', picked.slice(0, 10));
  assert.equal(r.code, 1);
  assert.match(r.out, /CONFLICT \(content\): Merge conflict in f\.txt/);
  const label = `${picked.slice(0, 7)} (Bob: improve things)`;
  assert.equal(read(dir, 'f.txt'), `a\n<<<<<<< ours\nB-main\n=======\nB-side\n>>>>>>> ${label}\nc\n`);
  assert.deepEqual((await statusJson(dir)).conflicts, [{ path: 'f.txt', base: true, ours: true, theirs: true }]);
  const repo = await open(dir);
  await rejectsCode(commit(repo, { message: 'x' }), 'UNMERGED_PATHS');
  await rejectsCode(pickContinue(repo, 'cherry-pick'), 'UNMERGED_PATHS');
  await rejectsCode(merge(repo, 'side'), 'MERGE_IN_PROGRESS');
  await rejectsCode(revert(repo, 'HEAD'), 'MERGE_IN_PROGRESS');
  await rejectsCode(pickContinue(repo, 'revert'), 'NO_MERGE_IN_PROGRESS');

  write(dir, 'f.txt', 'a\nB-both\nc\n');
  await ok(dir, 'add', 'f.txt');
  const cont = await ok(dir, 'cherry-pick', '--continue');
  assert.match(cont.out, /Bob: improve things/);
  const c = await repo.readCommit(await headId(dir));
  assert.deepEqual(c.parents, [main]);
  assert.equal(c.author.name, 'Bob Builder');
  assert.equal(c.message, (await repo.readCommit(picked)).message);
  assert.equal(existsSync(join(dir, '.patch/MERGE_MSG')), false);
  await rejectsCode(pickAbort(repo, 'cherry-pick'), 'NO_MERGE_IN_PROGRESS');
});

test('cherry-pick --abort restores exactly the previous state', async () => {
  const { dir } = await withSideCommit({ 'f.txt': 'a\nb\nc\n', 'h.txt': '1\n2\n3\n' }, { 'f.txt': 'a\nB-side\nc\n', 'h.txt': '1\n2\nthree\n', 'added.txt': 'new\n' });
  write(dir, 'f.txt', 'a\nB-main\nc\n');
  write(dir, 'h.txt', 'one\n2\n3\n');
  await commitAll(dir, 'main edit');
  write(dir, 'untracked.txt', 'u\n');
  const before = snapshot(dir);
  assert.equal((await pw(dir, 'cherry-pick', 'side')).code, 1);
  assert.equal(read(dir, 'h.txt'), 'one\n2\nthree\n');
  assert.equal(read(dir, 'added.txt'), 'new\n');
  await ok(dir, 'cherry-pick', '--abort');
  assert.deepEqual(snapshot(dir), before);
});

test('revert undoes a commit in the middle of history', async () => {
  const dir = await repoWith({ 'f.txt': '1\n2\n3\n4\n5\n' });
  write(dir, 'f.txt', '1\nTWO\n3\n4\n5\n');
  write(dir, 'extra.txt', 'extra\n');
  const bad = await commitAll(dir, 'change two');
  write(dir, 'f.txt', '1\nTWO\n3\n4\nFIVE\n');
  const last = await commitAll(dir, 'change five');
  const r = await ok(dir, 'revert', bad.slice(0, 8));
  assert.match(r.out, /Revert "change two"/);
  assert.equal(read(dir, 'f.txt'), '1\n2\n3\n4\nFIVE\n');
  assert.equal(existsSync(join(dir, 'extra.txt')), false);
  const repo = await open(dir);
  const c = await repo.readCommit(await headId(dir));
  assert.deepEqual(c.parents, [last]);
  assert.equal(c.message, `Revert "change two"\n\nThis reverts commit ${bad}.\n`);
  await rejectsCode(revert(repo, 'HEAD~9'), 'UNKNOWN_REVISION');
});

test('revert with a conflict, resolved with --continue, and --abort', async () => {
  const dir = await repoWith({ 'f.txt': 'a\nb\nc\n' });
  write(dir, 'f.txt', 'a\nB1\nc\n');
  const bad = await commitAll(dir, 'b to B1');
  write(dir, 'f.txt', 'a\nB2\nc\n');
  await commitAll(dir, 'B1 to B2');
  const before = snapshot(dir);
  const r = await pw(dir, 'revert', bad);
  assert.equal(r.code, 1);
  assert.equal(read(dir, 'f.txt'), `a\n<<<<<<< ours\nB2\n=======\nb\n>>>>>>> parent of ${bad.slice(0, 7)} (b to B1)\nc\n`);
  await ok(dir, 'revert', '--abort');
  assert.deepEqual(snapshot(dir), before);

  assert.equal((await pw(dir, 'revert', bad)).code, 1);
  write(dir, 'f.txt', 'a\nb\nc\n');
  await ok(dir, 'add', 'f.txt');
  await ok(dir, 'revert', '--continue');
  const repo = await open(dir);
  assert.match((await repo.readCommit(await headId(dir))).message, /^Revert "b to B1"/);
  assert.equal(read(dir, 'f.txt'), 'a\nb\nc\n');
});

test('a pick finished with plain commit leaves no stale state behind', async () => {
  const { dir } = await withSideCommit({ 'f.txt': 'a\nb\nc\n' }, { 'f.txt': 'a\nB-side\nc\n' });
  write(dir, 'f.txt', 'a\nB-main\nc\n');
  await commitAll(dir, 'main edit');
  assert.equal((await pw(dir, 'cherry-pick', 'side')).code, 1);
  write(dir, 'f.txt', 'resolved\n');
  await ok(dir, 'add', 'f.txt');
  await ok(dir, 'commit'); // uses the prepared message
  const repo = await open(dir);
  assert.match((await repo.readCommit(await headId(dir))).message, /^Bob: improve things/);
  // The next operation starts normally, and the old message is not reused.
  write(dir, 'f.txt', 'again\n');
  await ok(dir, 'add', 'f.txt');
  const bare = await pw(dir, 'commit');
  assert.equal(bare.code, 2);
  assert.match(bare.err, /missing commit message/);
  await ok(dir, 'commit', '-m', 'again');
  assert.equal((await ok(dir, 'revert', 'HEAD')).code, 0);
});
