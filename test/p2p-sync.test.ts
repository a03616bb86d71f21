// Clone, fetch, pull and push between real peers (libp2p on 127.0.0.1, real repositories).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Repository, fsck, trackingRefs } from '../src/engine';
import { PeerService, clone, describeSyncError, fetchFrom, listCollaborators, pullFrom, pushTo, targetOf, type SyncProgress } from '../src/p2p/index.js';
import { fixedEnv, read, snapshot, tmp, write, ok } from './helpers';
import { DEADLINE, LOOPBACK, clientNode, commitFiles, head, invite, makeRepo, serve, until } from './p2p-helpers';

fixedEnv();

test('clone with an invite: metadata, collaborators, every branch and tag, checked-out work tree', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'src/main.rs': 'fn main() {}\n', 'README.md': 'hello\n' });
  await ok(alice.dir, 'branch', 'feature');
  await ok(alice.dir, 'tag', 'v1');
  const a = await serve(alice);
  const ticket = await invite(a, 'writer');
  const where = tmp('pw-clone-');
  const progress: SyncProgress[] = [];
  const r = await clone(ticket, { cwd: where, name: 'bob', onProgress: (p) => progress.push(p) });
  assert.equal(r.root, join(where, 'alice'));
  assert.equal(r.role, 'writer');
  assert.equal(r.ownerName, 'Alice Example');
  assert.equal(read(r.root, 'src/main.rs'), 'fn main() {}\n');
  const bob = await Repository.open(r.root);
  assert.equal((await bob.config()).repository.id, (await alice.repo.config()).repository.id);
  assert.equal(await bob.headCommit(), await alice.repo.headCommit());
  assert.equal(await bob.refs.read('refs/heads/feature'), await alice.repo.refs.read('refs/heads/feature'));
  assert.equal(await bob.refs.read('refs/tags/v1'), await alice.repo.headCommit());
  assert.deepEqual((await ok(r.root, 'status', '--short')).out, '');
  assert.deepEqual((await fsck(bob)).problems, []);
  assert.equal((await bob.readIndex()).treeId, (await bob.readCommit((await bob.headCommit())!)).tree, 'the clone\'s index records its tree');
  // The owner is registered as a collaborator of the clone, and the clone as one of the owner.
  const bobs = await listCollaborators(bob);
  assert.deepEqual(bobs.map((c) => [c.peerId, c.role]), [[alice.peerId, 'writer']]);
  const alices = await listCollaborators(alice.repo);
  assert.deepEqual(alices.map((c) => [c.peerId, c.name, c.role]), [[r.peerId, 'bob', 'writer']]);
  // Progress went through the phases, ending in done with the object count.
  assert.deepEqual([...new Set(progress.map((p) => p.phase))], ['connecting', 'negotiating', 'receiving', 'checking', 'updating', 'checkout', 'done']);
  assert.equal(progress.at(-1)?.phase, 'done');
  assert.equal(progress.at(-1)?.objects, r.objects);
  assert.ok(a.events.some((e) => e.type === 'cloned' && e.invited && e.name === 'bob'));
  // The identity is its own 0600 file, never in patchwork.toml; no temporary folder is left.
  assert.equal(statSync(join(r.root, '.patch/identity.key')).mode & 0o777, 0o600);
  assert.doesNotMatch(read(r.root, '.patch/patchwork.toml'), /privateKey|secret/i);
  assert.deepEqual(readdirSync(where), ['alice']);
});

test("push fast-forwards the receiver's checked-out branch and its work tree (updateInstead)", DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': 'one\n' });
  const a = await serve(alice);
  const r = await clone(await invite(a), { cwd: tmp(), name: 'bob' });
  const bob = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  await commitFiles(bob.dir, { 'a.txt': 'one\ntwo by bob\n' }, 'bob: two');
  const node = await clientNode(bob);
  const target = targetOf((await listCollaborators(bob.repo))[0]!);
  const res = await pushTo(node, bob.repo, target);
  assert.equal(res.outcome, 'updated');
  assert.equal(res.branch, 'main');
  assert.equal(read(alice.dir, 'a.txt'), 'one\ntwo by bob\n');
  assert.equal(await head(alice), await bob.repo.headCommit());
  assert.equal((await ok(alice.dir, 'status', '--short')).out, '');
  // The pushed refs are also kept under tracking refs for the pusher.
  assert.equal((await trackingRefs(alice.repo, bob.peerId))['heads/main'], await bob.repo.headCommit());
  const pushed = a.events.find((e) => e.type === 'pushed');
  assert.ok(pushed && pushed.type === 'pushed' && pushed.push.outcome === 'updated' && pushed.name === 'bob');
  // Pushing again changes nothing and sends nothing.
  const again = await pushTo(node, bob.repo, target);
  assert.equal(again.outcome, 'up-to-date');
  assert.equal(again.objects, 0);
});

test('a push to a receiver with local changes is delivered, not applied', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': 'one\n', 'b.txt': 'b\n' });
  const a = await serve(alice);
  const r = await clone(await invite(a), { cwd: tmp(), name: 'bob' });
  const bob = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  await commitFiles(bob.dir, { 'a.txt': 'one\ntwo\n' }, 'bob: two');
  write(alice.dir, 'b.txt', 'b edited but not committed\n');
  const before = await head(alice);
  const node = await clientNode(bob);
  const res = await pushTo(node, bob.repo, targetOf((await listCollaborators(bob.repo))[0]!));
  assert.deepEqual([res.outcome, res.reason], ['delivered', 'dirty']);
  assert.equal(await head(alice), before, "alice's branch did not move");
  assert.equal(read(alice.dir, 'a.txt'), 'one\n');
  assert.equal(read(alice.dir, 'b.txt'), 'b edited but not committed\n');
  assert.equal((await trackingRefs(alice.repo, bob.peerId))['heads/main'], await bob.repo.headCommit());
  // She can merge it herself once she is ready.
  await ok(alice.dir, 'commit', '-am', 'alice: b');
  const m = await ok(alice.dir, 'merge', `refs/peers/${bob.peerId}/heads/main`);
  assert.match(m.out, /Merge|merge/);
  assert.equal(read(alice.dir, 'a.txt'), 'one\ntwo\n');
});

test('pull: fetch sends only what is missing, then fast-forwards; a second pull transfers nothing', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n', 'big/shared.txt': 'x'.repeat(10_000) });
  const a = await serve(alice);
  const r = await clone(await invite(a, 'reader'), { cwd: tmp(), name: 'bob' });
  const bob = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  await commitFiles(alice.dir, { 'a.txt': '1\n2\n' }, 'alice: 2');
  const node = await clientNode(bob);
  const target = targetOf((await listCollaborators(bob.repo))[0]!);
  const res = await pullFrom(node, bob.repo, target);
  // one commit, one root tree, one blob: the unchanged big/ tree and blob are not sent again
  assert.deepEqual([res.commits, res.objects], [1, 3]);
  assert.equal(res.integration.kind, 'fast-forward');
  assert.equal(read(bob.dir, 'a.txt'), '1\n2\n');
  const again = await fetchFrom(node, bob.repo, target);
  assert.deepEqual([again.objects, again.commits, again.changed], [0, 0, []]);
});

test('a clone that fails leaves no folder behind; an unknown peer id alone cannot be cloned', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice);
  const where = tmp();
  // A multiaddr without an invite: alice does not know this new identity.
  await assert.rejects(clone(a.addresses[0]!, { cwd: where, dir: 'x' }), (e: unknown) => (e as { code?: string }).code === 'REFUSED');
  await assert.rejects(clone(alice.peerId, { cwd: where }), /no peer discovery/);
  assert.deepEqual(readdirSync(where), []);
  assert.equal(existsSync(join(where, 'x')), false);
});

test('cancelling a pull or a push mid-transfer aborts it; both repositories are unchanged', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice);
  const r = await clone(await invite(a), { cwd: tmp(), name: 'bob' });
  const bob = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  const node = await clientNode(bob);
  const target = targetOf((await listCollaborators(bob.repo))[0]!);
  // A few MiB of distinct content, so the transfer spans several frames.
  const bulk = (who: string) => Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`bulk-${who}/${i}.txt`, `${who} ${i} `.repeat(1000)]));

  await commitFiles(alice.dir, bulk('alice'), 'alice: bulk');
  let before = snapshot(bob.dir);
  const ac = new AbortController();
  const e = await pullFrom(node, bob.repo, target, {
    signal: ac.signal,
    onProgress: (p) => p.phase === 'receiving' && p.objects > 0 && ac.abort(),
  }).then(() => undefined, (x: unknown) => x);
  assert.equal((e as { code?: string } | undefined)?.code, 'ABORTED');
  assert.deepEqual(snapshot(bob.dir), before);
  assert.match(describeSyncError(e).message, /^Cancelled; nothing was changed\.$/);

  await commitFiles(bob.dir, bulk('bob'), 'bob: bulk');
  before = snapshot(alice.dir);
  const ac2 = new AbortController();
  const e2 = await pushTo(node, bob.repo, target, {
    signal: ac2.signal,
    onProgress: (p) => p.phase === 'sending' && p.objects > 0 && ac2.abort(),
  }).then(() => undefined, (x: unknown) => x);
  assert.equal((e2 as { code?: string } | undefined)?.code, 'ABORTED');
  await until(() => a.events.some((ev) => ev.type === 'failed' && ev.protocol === 'push'), 3000, 'the receiver to give up');
  assert.deepEqual(snapshot(alice.dir), before);
  // Nothing is stuck: the same transfers complete when not cancelled.
  assert.equal((await pullFrom(node, bob.repo, target)).integration.kind, 'merged');
  assert.equal((await pushTo(node, bob.repo, target)).outcome, 'updated');
});

test('a collaborator can clone again by address with its existing identity (--identity)', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice);
  const first = await clone(await invite(a, 'reader'), { cwd: tmp(), name: 'bob' });
  const second = await clone(a.addresses[0]!, { cwd: tmp(), dir: 'again', identityFile: join(first.root, '.patch/identity.key') });
  assert.equal(second.peerId, first.peerId);
  assert.equal(second.role, 'reader');
  assert.equal(read(second.root, 'a.txt'), '1\n');
  // No invite was used and no second collaborator was added.
  assert.deepEqual((await listCollaborators(alice.repo)).map((c) => c.name), ['bob']);
});

test('one peer per repository: a live peer.json refuses a second start, a stale one is taken over', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice);
  const file = join(alice.dir, '.patch/peer.json');
  const info = JSON.parse(read(alice.dir, '.patch/peer.json')) as { pid: number; addresses: string[] };
  assert.deepEqual([info.pid, info.addresses], [process.pid, a.addresses]);
  await assert.rejects(PeerService.start(alice.repo, { listen: LOOPBACK }), (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'LOCKED');
    assert.match((e as Error).message, new RegExp(`already running \\(process ${process.pid}\\), listening on ${a.addresses[0]!.replace(/[/.]/g, '\\$&')}`));
    return true;
  });
  await a.service.stop();
  assert.equal(existsSync(file), false, 'stopping removes peer.json');
  // A peer.json left by a process that died is stale: the next start takes it over.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(file, JSON.stringify({ ...info, pid: Number(dead.stdout) }));
  const again = await PeerService.start(alice.repo, { listen: LOOPBACK });
  assert.equal(JSON.parse(read(alice.dir, '.patch/peer.json')).pid, process.pid);
  await again.stop();
});

test('an empty repository clones; the first pull then creates the branch and its files', DEADLINE, async () => {
  const alice = await makeRepo('alice');
  const a = await serve(alice);
  const r = await clone(await invite(a), { cwd: tmp(), name: 'bob' });
  assert.equal(r.head, undefined);
  assert.equal(r.branch, 'main');
  const bob = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  await commitFiles(alice.dir, { 'first.txt': 'hello\n' }, 'alice: first');
  const node = await clientNode(bob);
  const res = await pullFrom(node, bob.repo, targetOf((await listCollaborators(bob.repo))[0]!));
  assert.equal(res.integration.kind, 'created');
  assert.equal(read(bob.dir, 'first.txt'), 'hello\n');
  assert.equal(await bob.repo.headCommit(), await alice.repo.headCommit());
});

test('a clone of 150 files arrives as one pack; --no-checkout writes no files, reset --hard brings them', DEADLINE, async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 150; i++) files[`dir${i % 9}/file${i}.txt`] = `content ${i}\n`;
  const alice = await makeRepo('alice', files);
  const a = await serve(alice);
  const r = await clone(await invite(a, 'reader'), { cwd: tmp(), name: 'bob', checkout: false });
  assert.ok(r.objects > 150, `${r.objects} objects`);
  const packs = readdirSync(join(r.root, '.patch/objects/packs'));
  assert.deepEqual(packs.map((n) => n.replace(/[0-9a-f]{64}/, 'X')).sort(), ['pack-X.idx', 'pack-X.pack']);
  const blobs = join(r.root, '.patch/objects/blobs');
  assert.equal(existsSync(blobs) ? readdirSync(blobs).length : 0, 0, 'no loose blobs');
  assert.deepEqual(readdirSync(r.root), ['.patch'], 'no files checked out');
  const bob = await Repository.open(r.root);
  assert.equal(await bob.headCommit(), await alice.repo.headCommit());
  assert.deepEqual((await fsck(bob)).problems, []);
  await ok(r.root, 'reset', '--hard');
  assert.equal(read(r.root, 'dir4/file4.txt'), 'content 4\n');
  assert.equal((await ok(r.root, 'status', '--short')).out, '');
});
