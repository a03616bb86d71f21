import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { Quarantine, Repository, commitsToSend, fsck, isAncestor, negotiationHaves, objectsToSend, objectId } from '../src/engine';
import { fixedEnv, ok, snapshot, tmp, write } from './helpers';

fixedEnv();

async function history(n: number): Promise<string> {
  const dir = tmp();
  await ok(dir, 'init', 'origin');
  for (let i = 0; i < n; i++) {
    write(dir, `file${i % 3}.txt`, `version ${i}\n`);
    write(dir, 'shared/big.txt', 'same every time\n');
    await ok(dir, 'add', '.');
    await ok(dir, 'commit', '-m', `commit ${i}`);
  }
  return dir;
}

/** An object as a store holds it and the wire carries it: zlib of `<type> <size>\0<body>`. */
function stored(type: string, body: Buffer, size = body.length): Buffer {
  return deflateSync(Buffer.concat([Buffer.from(`${type} ${size}\0`), body]));
}

async function transfer(from: Repository, to: Repository, wants: string[]) {
  const haves = await negotiationHaves(to, [(await to.headCommit())!].filter(Boolean));
  const q = await Quarantine.create(to);
  const sent: string[] = [];
  for await (const o of objectsToSend(from, wants, haves)) {
    sent.push(o.type);
    await q.receive(o.type, o.id, o.data);
  }
  await q.checkConnected(wants);
  await q.accept();
  return sent;
}

test('only the objects the other side lacks are sent, and the result is complete', async () => {
  const a = await history(40);
  const b = tmp();
  cpSync(a, b, { recursive: true });
  const repoA = await Repository.open(a);
  const repoB = await Repository.open(b);
  // A moves on by two commits; B fetches them.
  write(a, 'file0.txt', 'new 1\n');
  await ok(a, 'commit', '-am', 'new 1');
  write(a, 'new/dir/file.txt', 'new 2\n');
  await ok(a, 'add', '.');
  await ok(a, 'commit', '-m', 'new 2');
  const tip = (await repoA.headCommit())!;
  const sent = await transfer(repoA, repoB, [tip]);
  // 2 commits; trees: root twice, new/ and new/dir once; blobs: 2 new contents.
  assert.deepEqual(
    sent.reduce<Record<string, number>>((m, t) => ({ ...m, [t]: (m[t] ?? 0) + 1 }), {}),
    { commit: 2, tree: 4, blob: 2 },
  );
  const b2 = await Repository.open(b);
  assert.equal((await b2.readCommit(tip)).message, 'new 2\n');
  assert.deepEqual((await fsck(b2)).problems, []);
});

test('a fetch into an empty repository sends everything once', async () => {
  const a = await history(5);
  const b = tmp();
  await ok(b, 'init', 'empty');
  const repoA = await Repository.open(a);
  const sent = await transfer(repoA, await Repository.open(b), [(await repoA.headCommit())!]);
  assert.equal(sent.filter((t) => t === 'commit').length, 5);
  // 3 files with 5 versions in all + the shared file once.
  assert.equal(sent.filter((t) => t === 'blob').length, 6);
});

/** Count the commits a walk reads. */
function countCommitReads(repo: Repository): { reads: number } {
  const counter = { reads: 0 };
  const read = repo.readCommit.bind(repo);
  repo.readCommit = (id: string) => {
    counter.reads++;
    return read(id);
  };
  return counter;
}

test('a pull walks only the commits since the last one, however long the history, even with skewed clocks', async () => {
  const dir = tmp();
  await ok(dir, 'init', 'long');
  const ids: string[] = [];
  const skewed = 70; // this commit's clock is a day behind its parent's
  try {
    for (let i = 0; i < 120; i++) {
      process.env.PATCHWORK_DATE = String(1_700_000_000 + i * 60 - (i === skewed ? 86_400 : 0));
      write(dir, 'f.txt', `version ${i}\n`);
      await ok(dir, 'add', 'f.txt');
      await ok(dir, 'commit', '-m', `commit ${i}`);
      ids.push((await (await Repository.open(dir)).headCommit())!);
    }
  } finally {
    fixedEnv();
  }
  const repo = await Repository.open(dir);
  const counter = countCommitReads(repo);
  assert.deepEqual(await commitsToSend(repo, [ids[119]], [ids[118]]), [ids[119]]);
  assert.ok(counter.reads < 20, `read ${counter.reads} commits`);
  counter.reads = 0;
  assert.deepEqual(await commitsToSend(repo, [ids[119]], [ids[100]]), ids.slice(101).reverse());
  assert.ok(counter.reads < 60, `read ${counter.reads} commits`);
  // Across the skewed commit: nothing left out (a skew may only cost reads).
  assert.deepEqual(await commitsToSend(repo, [ids[75]], [ids[65]]), ids.slice(66, 76).reverse());
  assert.deepEqual(await commitsToSend(repo, [ids[118]], [ids[119]]), [], 'the receiver is ahead');
  counter.reads = 0;
  assert.equal(await isAncestor(repo, ids[118], ids[119]), true);
  assert.equal(await isAncestor(repo, ids[119], ids[118]), false);
  assert.equal(await isAncestor(repo, ids[3], ids[119]), true);
  const partReads = counter.reads;
  counter.reads = 0;
  assert.equal(await isAncestor(repo, ids[119], ids[118]), false);
  assert.ok(counter.reads < 10, `isAncestor of a newer commit read ${counter.reads} commits`);
  assert.ok(partReads > 100, 'an ancestor far down is found by walking to it');
});

test('a merge sends only what differs from both parents, and the receiver ends complete', async () => {
  const a = tmp();
  await ok(a, 'init', 'merging');
  write(a, 'a.txt', 'a\n');
  write(a, 'dir/b.txt', 'b\n');
  write(a, 'dir/c.txt', 'c\n');
  await ok(a, 'add', '.');
  await ok(a, 'commit', '-m', 'base');
  const b = tmp();
  cpSync(a, b, { recursive: true });
  await ok(a, 'branch', 'side');
  write(a, 'a.txt', 'a on main\n');
  await ok(a, 'commit', '-am', 'main');
  await ok(a, 'checkout', 'side');
  write(a, 'dir/b.txt', 'b on side\n');
  await ok(a, 'commit', '-am', 'side');
  await ok(a, 'checkout', 'main');
  await ok(a, 'merge', 'side');
  const repoA = await Repository.open(a);
  const tip = (await repoA.headCommit())!;
  assert.equal((await repoA.readCommit(tip)).parents.length, 2);
  const sent = await transfer(repoA, await Repository.open(b), [tip]);
  // commits main, side, merge; trees: main's root, side's root and dir/, the merge's root; blobs a′, b′.
  assert.deepEqual(
    sent.reduce<Record<string, number>>((m, t) => ({ ...m, [t]: (m[t] ?? 0) + 1 }), {}),
    { commit: 3, tree: 4, blob: 2 },
  );
  assert.deepEqual((await fsck(await Repository.open(b))).problems, []);
});

test('negotiation haves are bounded however long the history is', async () => {
  const a = await history(60);
  const repo = await Repository.open(a);
  const haves = await negotiationHaves(repo, [(await repo.headCommit())!], 20, 8);
  assert.ok(haves.length <= 20);
  assert.equal(haves[0], await repo.headCommit());
});

test('the quarantine rejects a wrong hash, a bad tree and a missing object, leaving the repository unchanged', async () => {
  const b = tmp();
  await ok(b, 'init', 'target');
  write(b, 'a.txt', 'a\n');
  await ok(b, 'add', '.');
  await ok(b, 'commit', '-m', 'a');
  const repo = await Repository.open(b);
  const before = snapshot(b);

  const q1 = await Quarantine.create(repo);
  const body = Buffer.from('hello\n');
  await assert.rejects(q1.receive('blob', objectId('blob', Buffer.from('other')), stored('blob', body)), /does not match its id/);
  const evil = Buffer.concat([Buffer.from('100644 ../x\0'), Buffer.alloc(32)]);
  await assert.rejects(q1.receive('tree', objectId('tree', evil), stored('tree', evil)), (e: { code?: string }) => e.code === 'CORRUPT_OBJECT');
  await assert.rejects(q1.receive('blob', objectId('blob', body), Buffer.from('not zlib at all')), /does not inflate/);
  // The id matches the bytes, but the header lies about the size, or names another type.
  const lie = stored('blob', body, 99);
  await assert.rejects(q1.receive('blob', createHash('sha256').update(inflateSync(lie)).digest('hex'), lie), /header/);
  await assert.rejects(q1.receive('tree', objectId('blob', body), stored('blob', body)), /header/);
  // A zip bomb: 300 MiB of zeros in a few hundred KiB stops inflating at the 256 MiB limit.
  const bomb = deflateSync(Buffer.concat([Buffer.from('blob 314572800\0'), Buffer.alloc(300 * 1024 * 1024)]), { level: 9 });
  assert.ok(bomb.length < 1024 * 1024);
  await assert.rejects(q1.receive('blob', 'ab'.repeat(32), bomb), /larger than/);
  // The same for a tree (16 MiB limit), small enough to be inflated on the event loop.
  const treeBomb = deflateSync(Buffer.concat([Buffer.from('tree 17825792\0'), Buffer.alloc(17 * 1024 * 1024)]), { level: 9 });
  assert.ok(treeBomb.length < 64 * 1024);
  await assert.rejects(q1.receive('tree', 'cd'.repeat(32), treeBomb), /larger than 16777216 bytes/);
  await q1.discard();
  assert.deepEqual(snapshot(b), before);

  const q2 = await Quarantine.create(repo);
  const blobId = objectId('blob', body);
  const tree = Buffer.concat([Buffer.from('100644 f\0'), Buffer.from(blobId, 'hex')]);
  await q2.receive('tree', objectId('tree', tree), stored('tree', tree));
  const commit = Buffer.from(`tree ${objectId('tree', tree)}\nauthor M <m> 1 +0000\ncommitter M <m> 1 +0000\n\nno blob\n`);
  await q2.receive('commit', objectId('commit', commit), stored('commit', commit));
  await assert.rejects(q2.checkConnected([objectId('commit', commit)]), (e: { code?: string }) => e.code === 'MISSING_OBJECT');
  await q2.discard();
  assert.deepEqual(snapshot(b), before);
});

test('fastForwardBranch: moves a checked-out branch and its files, refuses divergence and (for pushes) a dirty tree', async () => {
  const { fastForwardBranch, validateAdvertisedRefs, updateTrackingRefs, trackingRefs } = await import('../src/engine');
  const a = await history(2);
  const b = tmp();
  cpSync(a, b, { recursive: true });
  write(a, 'file0.txt', 'ahead\n');
  await ok(a, 'commit', '-am', 'ahead');
  const repoA = await Repository.open(a);
  const repoB = await Repository.open(b);
  const tip = (await repoA.headCommit())!;
  await transfer(repoA, repoB, [tip]);
  const oldB = (await repoB.headCommit())!;

  write(b, 'file1.txt', 'local edit\n');
  assert.equal(await repoB.withLock('t', () => fastForwardBranch(repoB, 'main', tip, { requireClean: true })), 'dirty');
  assert.equal(await repoB.headCommit(), oldB);
  // A pull may carry an unrelated local edit along.
  assert.equal(await repoB.withLock('t', () => fastForwardBranch(repoB, 'main', tip)), 'fast-forward');
  // The index was HEAD's tree and now is the new tip's, and records it (status reads no tree).
  assert.equal((await repoB.readIndex()).treeId, (await repoB.readCommit(tip)).tree);
  assert.equal((await import('node:fs')).readFileSync(`${b}/file0.txt`, 'utf8'), 'ahead\n');
  assert.equal((await import('node:fs')).readFileSync(`${b}/file1.txt`, 'utf8'), 'local edit\n');
  assert.equal(await repoB.withLock('t', () => fastForwardBranch(repoB, 'main', oldB)), 'behind');

  await ok(b, 'commit', '-am', 'b diverges');
  write(a, 'shared/big.txt', 'a again\n');
  await ok(a, 'commit', '-am', 'a again');
  const tip2 = (await repoA.headCommit())!;
  await transfer(repoA, repoB, [tip2]);
  const bHead = await repoB.headCommit();
  assert.equal(await repoB.withLock('t', () => fastForwardBranch(repoB, 'main', tip2)), 'diverged');
  assert.equal(await repoB.headCommit(), bHead);

  const peer = '12D3KooWGzP8Sx2kVDQwWzHP9cNV4pEhkTkZ8tmJ2RQNuBgW5sZr';
  await updateTrackingRefs(repoB, peer, { 'heads/main': tip2 });
  assert.deepEqual(await trackingRefs(repoB, peer), { 'heads/main': tip2 });
  assert.throws(() => validateAdvertisedRefs({ refs: { 'heads/../../x': tip2 } }), /invalid refs/);
  assert.throws(() => validateAdvertisedRefs({ refs: { 'heads/ok': 'nope' } }), /bad id/);
  await assert.rejects(updateTrackingRefs(repoB, '../../evil', {}), /not a valid peer id/);
});

test('forEachLimit: after a failure nothing new starts, and it rejects only once work in flight has settled', async () => {
  const { forEachLimit } = await import('../src/engine/fsutil');
  const started: number[] = [];
  let inFlight = 0;
  let settledWhenRejected = -1;
  await assert.rejects(
    forEachLimit([1, 2, 3, 4, 5, 6, 7, 8], 3, async (n) => {
      started.push(n);
      inFlight++;
      await new Promise((r) => setTimeout(r, n === 1 ? 1 : 30));
      inFlight--;
      if (n === 1) throw new Error('boom');
    }).catch((e: unknown) => {
      settledWhenRejected = inFlight;
      throw e;
    }),
    /boom/,
  );
  assert.equal(settledWhenRejected, 0);
  assert.deepEqual(started, [1, 2, 3]);
});

test('readAhead keeps order, and bounds what runs ahead by count and by bytes', async () => {
  const { readAhead } = await import('../src/engine');
  let running = 0;
  let runningBytes = 0;
  let maxRunning = 0;
  let maxBytes = 0;
  const sizes = [5, 1, 1, 8, 1, 1, 1, 1, 20, 1, 2, 3];
  async function* tasks() {
    for (const [i, bytes] of sizes.entries()) {
      yield {
        bytes,
        run: async () => {
          running++;
          runningBytes += bytes;
          maxRunning = Math.max(maxRunning, running);
          maxBytes = Math.max(maxBytes, runningBytes);
          await new Promise((r) => setTimeout(r, (i * 7) % 5));
          return i;
        },
      };
    }
  }
  const out: number[] = [];
  // The consumer releases an item only when it moves on, as sendPack does.
  for await (const i of readAhead(tasks(), 4, 10)) {
    out.push(i);
    running--;
    runningBytes -= sizes[i]!;
  }
  assert.deepEqual(out, sizes.map((_, i) => i));
  assert.equal(maxRunning, 4);
  // Never more than 10 bytes ahead, except a task bigger than the budget, which runs alone.
  assert.ok(maxBytes <= 20, `${maxBytes}`);
  const failing = async function* () {
    yield { bytes: 1, run: async () => 1 };
    yield { bytes: 1, run: async () => Promise.reject(new Error('disk on fire')) };
    yield { bytes: 1, run: async () => 3 };
  };
  const got: number[] = [];
  await assert.rejects(async () => {
    for await (const v of readAhead(failing(), 8, 100)) got.push(v);
  }, /disk on fire/);
  assert.deepEqual(got, [1]);
});
