// Three peers (pull from all, push to all, one offline), divergent histories that pull merges, and
// issue 4's two-peer flow: both commit, one pulls into a conflict, resolves, pushes, the other
// fast-forwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Repository } from '../src/engine';
import { addCollaborator, clone, listCollaborators, type PeerOutcome, type PullResult, type PushResult } from '../src/p2p/index.js';
import { ok, pw, read, tmp, write } from './helpers';
import { DEADLINE, commitFiles, head, invite, makeRepo, serve, type Served, type TestRepo } from './p2p-helpers';

// Real author names per repository (no fixedEnv): the peer names show up in merge labels.
delete process.env.PATCHWORK_AUTHOR_NAME;
delete process.env.PATCHWORK_AUTHOR_EMAIL;

async function cloneAs(owner: Served, name: string): Promise<TestRepo> {
  const r = await clone(await invite(owner, 'writer'), { cwd: tmp(`pw-${name}-`), name });
  await ok(r.root, 'config', 'user.name', name);
  return { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
}

function byName<T>(outcomes: PeerOutcome<T>[]): Record<string, PeerOutcome<T>> {
  return Object.fromEntries(outcomes.map((o) => [o.name, o]));
}

function okResult<T>(o: PeerOutcome<T> | undefined): T {
  assert.ok(o, 'an outcome for that peer');
  if (!o.ok) assert.fail(`${o.name} failed: ${o.error instanceof Error ? o.error.message : String(o.error)}`);
  return o.result;
}

test('three peers: pull from all merges divergent work, push to all, an offline peer is reported', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': 'alice 1\n', 'b.txt': 'bob 1\n' });
  const A = await serve(alice);
  const bob = await cloneAs(A, 'bob');
  const B = await serve(bob);
  // Bob's first pull through his running peer tells alice where bob listens...
  okResult(byName(await B.service.pull()).alice);
  assert.deepEqual((await listCollaborators(alice.repo)).find((c) => c.name === 'bob')?.addresses, B.addresses);
  // ...so carol, cloning next, learns bob (and his address) from alice's collaborator list.
  const carol = await cloneAs(A, 'carol');
  const C = await serve(carol);
  const carolsBob = (await listCollaborators(carol.repo)).find((c) => c.peerId === bob.peerId);
  assert.deepEqual([carolsBob?.name, carolsBob?.role, carolsBob?.addresses], ['bob', 'writer', B.addresses]);
  // Collaborator lists do not spread on their own: bob admits carol explicitly.
  await addCollaborator(bob.repo, { peerId: carol.peerId, name: 'carol', role: 'writer', addresses: C.addresses });

  // Alice and bob commit different files at the same time; carol pulls from everyone.
  await commitFiles(alice.dir, { 'a.txt': 'alice 1\nalice 2\n' }, 'alice: 2');
  await commitFiles(bob.dir, { 'b.txt': 'bob 1\nbob 2\n' }, 'bob: 2');
  const pulled = byName(await C.service.pull());
  assert.equal(okResult(pulled.alice).integration.kind, 'fast-forward');
  const fromBob = okResult(pulled.bob).integration;
  assert.equal(fromBob.kind, 'merged');
  const merged = await carol.repo.readCommit(fromBob.merge!);
  assert.deepEqual(merged.parents, [await head(alice), await head(bob)]);
  assert.equal(merged.message, 'Merge bob/main\n');
  assert.equal(read(carol.dir, 'a.txt'), 'alice 1\nalice 2\n');
  assert.equal(read(carol.dir, 'b.txt'), 'bob 1\nbob 2\n');

  // Carol pushes to everyone: both are clean and behind, so both fast-forward their work trees.
  const pushed = byName(await C.service.push());
  assert.equal(okResult(pushed.alice).outcome, 'updated');
  assert.equal(okResult(pushed.bob).outcome, 'updated');
  for (const r of [alice, bob]) {
    assert.equal(await head(r), fromBob.merge);
    assert.equal(read(r.dir, 'a.txt'), 'alice 1\nalice 2\n');
    assert.equal(read(r.dir, 'b.txt'), 'bob 1\nbob 2\n');
  }

  // Bob goes offline. Carol's push and pull still reach alice and report bob as offline.
  await B.service.stop();
  await commitFiles(carol.dir, { 'c.txt': 'carol\n' }, 'carol: c');
  const offlinePush = byName<PushResult>(await C.service.push());
  assert.equal(okResult(offlinePush.alice).outcome, 'updated');
  assert.ok(offlinePush.bob && !offlinePush.bob.ok && offlinePush.bob.offline, 'bob is reported offline');
  const offlinePull = byName<PullResult>(await C.service.pull());
  assert.equal(okResult(offlinePull.alice).integration.kind, 'up-to-date');
  assert.ok(offlinePull.bob && !offlinePull.bob.ok && offlinePull.bob.offline);
  assert.equal(read(alice.dir, 'c.txt'), 'carol\n');
});

test('a push that does not fast-forward never overwrites: delivered, waiting for the owner to merge', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const A = await serve(alice);
  const bob = await cloneAs(A, 'bob');
  await commitFiles(alice.dir, { 'a.txt': '1\nalice\n' }, 'alice: mine');
  await commitFiles(bob.dir, { 'b.txt': 'bob\n' }, 'bob: mine');
  const aliceHead = await head(alice);
  const r = await pw(bob.dir, 'push');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^alice: delivered; waiting for alice to merge \(.*main has diverged\)/m);
  assert.equal(await head(alice), aliceHead);
  assert.equal(read(alice.dir, 'a.txt'), '1\nalice\n');
  // Bob runs no peer, so alice cannot pull from him; a named peer that cannot be reached fails.
  const p = await pw(alice.dir, 'pull', 'bob');
  assert.equal(p.code, 1);
  assert.match(p.out, /^bob: offline: No address is known for bob\.$/m);
});

test("issue 4: both commit, one pulls into a conflict, resolves it, pushes, and the other fast-forwards", DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'story.txt': 'line 1\nline 2\nline 3\n' });
  const A = await serve(alice);
  const where = tmp('pw-bob-');
  const cloned = await ok(where, 'clone', await invite(A, 'writer'), 'bob', '--name', 'bob');
  assert.match(cloned.out, /Cloned "alice" from alice into .*bob: 1 commit/);
  const bobDir = join(where, 'bob');
  await ok(bobDir, 'config', 'user.name', 'bob');

  write(alice.dir, 'story.txt', 'line 1\nline 2 by alice\nline 3\n');
  await ok(alice.dir, 'commit', '-am', 'alice: line 2');
  write(bobDir, 'story.txt', 'line 1\nline 2 by bob\nline 3\n');
  write(bobDir, 'notes.txt', 'from bob\n');
  await ok(bobDir, 'add', '.');
  await ok(bobDir, 'commit', '-m', 'bob: line 2 and notes');

  const pull = await pw(bobDir, 'pull');
  assert.equal(pull.code, 1, 'a conflicted pull exits 1');
  assert.match(pull.out, /^alice: 1 new commit \(3 objects, .*\); merging alice\/main stopped with conflicts\n {2}CONFLICT \(content\): story.txt\n/m);
  assert.equal(read(bobDir, 'story.txt'), 'line 1\n<<<<<<< ours\nline 2 by bob\n=======\nline 2 by alice\n>>>>>>> alice/main\nline 3\n');
  assert.match((await pw(bobDir, 'status')).out, /story\.txt/);

  write(bobDir, 'story.txt', 'line 1\nline 2 by alice and bob\nline 3\n');
  await ok(bobDir, 'add', 'story.txt');
  await ok(bobDir, 'commit');
  const bobRepo = await Repository.open(bobDir);
  const mergeId = (await bobRepo.headCommit())!;
  const mergeCommit = await bobRepo.readCommit(mergeId);
  assert.equal(mergeCommit.parents.length, 2);
  assert.equal(mergeCommit.parents[1], await head(alice));
  assert.match(mergeCommit.message, /^Merge alice\/main/);

  const push = await ok(bobDir, 'push');
  assert.match(push.out, /^alice: main updated \(\d+ objects?, .*\); alice's work tree was updated too$/m);
  assert.equal(await head(alice), mergeId);
  assert.equal(read(alice.dir, 'story.txt'), 'line 1\nline 2 by alice and bob\nline 3\n');
  assert.equal(read(alice.dir, 'notes.txt'), 'from bob\n');
  assert.equal((await ok(alice.dir, 'status', '--short')).out, '');
  assert.match((await ok(alice.dir, 'log', '--oneline')).out, /Merge alice\/main/);
});
