import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Quarantine, Repository, UNPACK_LIMIT, fsck, negotiationHaves, objectsToSend } from '../src/engine';
import type { DiskObjectStore } from '../src/engine/store';
import { fixedEnv, ok, pw, read, snapshot, tmp, write } from './helpers';

fixedEnv();

/** A repository with `files` files over two commits (the second changes a few of them). */
async function repoWith(files: number): Promise<{ dir: string; first: string; second: string }> {
  const dir = tmp();
  await ok(dir, 'init', 'packs');
  for (let i = 0; i < files; i++) write(dir, `d${i % 7}/f${i}.txt`, `file ${i}\n`.repeat(1 + (i % 5)));
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'first');
  const repo = await Repository.open(dir);
  const first = (await repo.headCommit())!;
  for (let i = 0; i < files; i += 10) write(dir, `d${i % 7}/f${i}.txt`, `changed ${i}\n`);
  await ok(dir, 'commit', '-am', 'second');
  return { dir, first, second: (await repo.headCommit())! };
}

const packsOf = (dir: string) => readdirSync(join(dir, '.patch/objects/packs')).sort();
const looseCount = (dir: string) => {
  let n = 0;
  for (const t of ['blobs', 'trees', 'commits']) {
    const base = join(dir, '.patch/objects', t);
    if (!existsSync(base)) continue;
    for (const fan of readdirSync(base)) n += readdirSync(join(base, fan)).length;
  }
  return n;
};

/** Move `wants` from one repository to another through the quarantine, as a fetch does. */
async function transfer(from: Repository, to: Repository, wants: string[]): Promise<number> {
  const head = await to.headCommit();
  const q = await Quarantine.create(to);
  let n = 0;
  for await (const o of objectsToSend(from, wants, await negotiationHaves(to, head ? [head] : []))) {
    await q.receive(o.type, o.id, o.data);
    n++;
  }
  await q.checkConnected(wants);
  await to.withLock('fetch', () => q.accept());
  return n;
}

test('a big transfer lands as one pack, everything reads from it, and a small one lands as loose objects', async () => {
  const { dir, first, second } = await repoWith(300);
  const b = tmp();
  await ok(b, 'init', 'empty');
  const from = await Repository.open(dir);
  const to = await Repository.open(b);
  const sent = await transfer(from, to, [first]);
  assert.ok(sent >= UNPACK_LIMIT);
  assert.equal(looseCount(b), 0, 'no loose objects after a big transfer');
  const packs = packsOf(b);
  assert.equal(packs.length, 2);
  assert.match(packs[0]!, /^pack-[0-9a-f]{64}\.idx$/);
  assert.match(packs[1]!, /^pack-[0-9a-f]{64}\.pack$/);
  assert.equal(readdirSync(join(b, '.patch/objects')).filter((n) => n.startsWith('incoming-')).length, 0, 'quarantine removed');

  // Objects read from the pack: history, trees, blobs (checkout), short ids, fsck.
  await to.refs.write('refs/heads/main', first);
  await ok(b, 'reset', '--hard', first);
  assert.equal(read(b, 'd3/f3.txt'), 'file 3\n'.repeat(4));
  assert.match((await ok(b, 'log', '--oneline')).out, /first/);
  assert.match((await ok(b, 'show', '--stat', first.slice(0, 10))).out, /first/);
  const check = await fsck(to);
  assert.deepEqual(check.problems, []);
  assert.equal(check.checked, sent);

  // The next commit is a handful of objects: loose, no second pack.
  const few = await transfer(from, to, [second]);
  assert.ok(few < UNPACK_LIMIT, `${few} objects`);
  assert.equal(packsOf(b).length, 2);
  assert.equal(looseCount(b), few);
  await ok(b, 'reset', '--hard', second);
  assert.equal(read(b, 'd0/f0.txt'), 'changed 0\n');
  assert.deepEqual((await fsck(to)).problems, []);
});

test('gc packs loose objects into one pack; the repository, and a store opened before, keep working', async () => {
  const { dir, first, second } = await repoWith(150);
  const early = await Repository.open(dir); // its store has looked at the (empty) packs folder already
  assert.equal((await early.readCommit(second)).message, 'second\n');
  const loose = looseCount(dir);

  const r = await ok(dir, 'gc');
  assert.match(r.out, new RegExp(`Packed ${loose} objects into one pack .*removed ${loose} loose objects and 0 older packs`));
  assert.equal(looseCount(dir), 0);
  assert.equal(packsOf(dir).length, 2);
  assert.equal((await ok(dir, 'status', '-s')).out, '');
  assert.equal((await early.readCommit(first)).message, 'first\n');
  assert.equal((await early.store.read((await early.readTree((await early.readCommit(first)).tree))[0]!.id, 'tree')).type, 'tree');

  assert.match((await ok(dir, 'gc')).out, /Nothing to pack/);

  // New loose objects and the old pack become one new pack; the early store follows along.
  write(dir, 'new.txt', 'new\n');
  await ok(dir, 'add', 'new.txt');
  await ok(dir, 'commit', '-m', 'third');
  const before = packsOf(dir);
  assert.match((await ok(dir, 'gc')).out, /removed 3 loose objects and 1 older pack/);
  assert.equal(packsOf(dir).length, 2);
  assert.notDeepEqual(packsOf(dir), before);
  await ok(dir, 'checkout', first);
  assert.equal(read(dir, 'd0/f0.txt'), 'file 0\n');
  assert.ok(!existsSync(join(dir, 'new.txt')));
  const third = (await (await Repository.open(dir)).refs.read('refs/heads/main'))!;
  assert.equal((await early.readCommit(third)).message, 'third\n');
  assert.deepEqual((await fsck(early)).problems, []);
});

test('gc stops on a damaged object and changes nothing', async () => {
  const { dir } = await repoWith(20);
  const store = (await Repository.open(dir)).store as DiskObjectStore;
  let victim = '';
  for await (const o of store.listLoose('blob')) victim = store.pathOf(o.id, 'blob');
  chmodSync(victim, 0o644);
  writeFileSync(victim, Buffer.from('garbage'));
  const before = snapshot(dir);
  const r = await pw(dir, 'gc');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /is corrupt: it does not inflate/);
  assert.match(r.err, /fsck/);
  assert.deepEqual(snapshot(dir), before);
});

test('a damaged pack is reported, not trusted', async () => {
  const { dir, second } = await repoWith(40);
  await ok(dir, 'gc');
  const pack = join(dir, '.patch/objects/packs', packsOf(dir)[1]!);
  const bytes = readFileSync(pack);
  // Flip a byte in the middle of some object's data: fsck names the object, reads fail clearly.
  const damaged = Buffer.from(bytes);
  damaged[Math.floor(bytes.length / 2)]! ^= 0xff;
  chmodSync(pack, 0o644);
  writeFileSync(pack, damaged);
  const r = await pw(dir, 'fsck');
  assert.equal(r.code, 1);
  assert.match(r.out, /corrupt (blob|tree|commit) [0-9a-f]{64}: Object [0-9a-f]{12} is corrupt/);
  assert.match(r.out, /1 problem/);

  // A pack shorter than its index says: every read from it says the pack is damaged.
  writeFileSync(pack, bytes.subarray(0, bytes.length - 10));
  const repo = await Repository.open(dir);
  await assert.rejects(repo.readCommit(second), /pack file pack-[0-9a-f]{64}\.pack is damaged: it is not as long as its index says/);

  // A damaged index is refused with the same kind of message.
  writeFileSync(pack, bytes);
  const idx = join(dir, '.patch/objects/packs', packsOf(dir)[0]!);
  const idxBytes = readFileSync(idx);
  idxBytes[100]! ^= 1;
  chmodSync(idx, 0o644);
  writeFileSync(idx, idxBytes);
  const again = await pw(dir, 'log');
  assert.notEqual(again.code, 0);
  assert.match(again.err, /is damaged: its index does not match its checksum/);
});
