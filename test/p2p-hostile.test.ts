// Deliberately lying peers: a fake owner (fetch and clone) and a fake pusher speak the wire protocol
// but send a wrong hash, leave out an object, smuggle a bad tree entry name, announce oversized
// frames or objects, miscount, stall, or send malformed refs. Each transfer is rejected with a typed
// error, the peer is told, and the victim's repository is byte-for-byte unchanged.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { Repository, encodeCommit, isPatchworkError, objectId, type ObjectType } from '../src/engine';
import {
  CLONE_PROTOCOL,
  FETCH_PROTOCOL,
  PUSH_PROTOCOL,
  clone,
  createPeerNode,
  fetchFrom,
  generateIdentity,
  isP2PError,
  openChannel,
  serveProtocol,
  type FrameChannel,
  type PeerNode,
  type PeerTarget,
} from '../src/p2p/index.js';
import { fixedEnv, snapshot, tmp } from './helpers';
import { DEADLINE, LOOPBACK, befriend, clientNode, makeRepo, serve, until, type TestRepo } from './p2p-helpers';

fixedEnv();

const CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

/**
 * One wire record: type, id, length, data (see src/p2p/pack.ts), where data is the object as stored
 * (zlib of `<type> <size>\0<body>`). With `claimedLength`, `body` goes out as it is under that length.
 */
function record(type: ObjectType, id: string, body: Buffer, claimedLength?: number): Buffer {
  const data = claimedLength === undefined ? deflateSync(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body])) : body;
  const h = Buffer.alloc(37);
  h[0] = CODES[type];
  h.write(id, 1, 32, 'hex');
  h.writeUInt32BE(claimedLength ?? data.length, 33);
  return Buffer.concat([h, data]);
}

interface Objects {
  commit: { id: string; body: Buffer };
  tree: { id: string; body: Buffer };
  blob: { id: string; body: Buffer };
}

/** A real one-commit history to build lies from. */
async function honestObjects(): Promise<Objects> {
  const src = await makeRepo('source', { 'a.txt': 'honest content\n' });
  const commitId = (await src.repo.headCommit())!;
  const c = await src.repo.readCommit(commitId);
  const [entry] = await src.repo.readTree(c.tree);
  const get = async (id: string, type: ObjectType) => ({ id, body: (await src.repo.store.read(id, type)).body });
  return { commit: await get(commitId, 'commit'), tree: await get(c.tree, 'tree'), blob: await get(entry!.id, 'blob') };
}

type Lie = (channel: FrameChannel, req: { repo: string }) => Promise<void>;

const liars: PeerNode[] = [];
after(async () => {
  await Promise.all(liars.map((n) => n.stop().catch(() => undefined)));
});

/** A fake peer serving `protocol` with a scripted lie; `told` collects what the victim answered. */
async function liar(protocol: string, lie: Lie, told: string[] = []): Promise<PeerTarget> {
  const node = await createPeerNode({ privateKey: (await generateIdentity()).privateKey, listen: LOOPBACK, isAllowed: () => true });
  liars.push(node);
  await serveProtocol(
    node,
    protocol,
    async ({ channel }) => {
      const req = (await channel.readJson()) as { repo: string };
      try {
        await lie(channel, req);
        await channel.read({ timeoutMs: 3000 });
      } catch (e) {
        told.push(isP2PError(e) ? e.code : String(e));
      }
    },
    // The liar may send frames larger than an honest peer ever would.
    { repoName: 'liar', isAllowed: () => true, maxFrameSize: 16 * 1024 * 1024 },
  );
  return { peerId: node.peerId, name: 'liar', addresses: node.addresses() };
}

function refs(req: { repo: string }, commit: string) {
  return { type: 'refs', repository: { id: req.repo, name: 'liar', default_branch: 'main' }, head: 'main', refs: { 'heads/main': commit } };
}

async function sendAll(channel: FrameChannel, records: Buffer[], done?: { objects: number; bytes: number }) {
  if (records.length) await channel.sendBinary(Buffer.concat(records));
  const bytes = records.reduce((n, r) => n + r.readUInt32BE(33), 0);
  await channel.sendJson({ type: 'done', ...(done ?? { objects: records.length, bytes }) });
}

/** Fetch from the liar into a fresh victim repository and prove nothing changed. */
async function victimOf(target: PeerTarget, opts: { timeoutMs?: number } = {}): Promise<{ error: unknown; victim: TestRepo }> {
  const victim = await makeRepo('victim', { 'mine.txt': 'my own work\n' });
  const node = await clientNode(victim);
  const before = snapshot(victim.dir);
  let error: unknown;
  try {
    await fetchFrom(node, victim.repo, target, opts);
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, 'the fetch must fail');
  assert.deepEqual(snapshot(victim.dir), before, 'the victim repository is byte-for-byte unchanged');
  return { error, victim };
}

const code = (e: unknown) => (isP2PError(e) || isPatchworkError(e) ? e.code : String(e));

test('a wrong hash is rejected on arrival; the liar is told', DEADLINE, async () => {
  const o = await honestObjects();
  const told: string[] = [];
  const target = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson(refs(req, o.commit.id));
    await sendAll(ch, [record('commit', o.commit.id, o.commit.body), record('tree', o.tree.id, o.tree.body), record('blob', o.blob.id, Buffer.from('tampered content\n'))]);
  }, told);
  const { error } = await victimOf(target);
  assert.equal(code(error), 'CORRUPT_OBJECT');
  assert.match((error as Error).message, /does not match its id/);
  await until(() => told.length > 0, 3000, 'the liar to read our answer');
  assert.deepEqual(told, ['PROTOCOL_VIOLATION']);
});

test('a missing object fails the connectivity check before any ref moves', DEADLINE, async () => {
  const o = await honestObjects();
  const target = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson(refs(req, o.commit.id));
    await sendAll(ch, [record('commit', o.commit.id, o.commit.body), record('tree', o.tree.id, o.tree.body)]);
  });
  const { error } = await victimOf(target);
  assert.equal(code(error), 'MISSING_OBJECT');
});

test('a tree entry named ".." (or ".patch") is rejected while parsing', DEADLINE, async () => {
  const o = await honestObjects();
  for (const name of ['..', '.patch', 'a/b']) {
    const tree = Buffer.concat([Buffer.from(`100644 ${name}\0`, 'latin1'), Buffer.from(o.blob.id, 'hex')]);
    const treeId = objectId('tree', tree);
    const commit = encodeCommit({ tree: treeId, parents: [], author: sig(), committer: sig(), message: 'evil\n' });
    const commitId = objectId('commit', commit);
    const target = await liar(FETCH_PROTOCOL, async (ch, req) => {
      await ch.sendJson(refs(req, commitId));
      await sendAll(ch, [record('commit', commitId, commit), record('tree', treeId, tree), record('blob', o.blob.id, o.blob.body)]);
    });
    const { error } = await victimOf(target);
    assert.equal(code(error), 'CORRUPT_OBJECT', `tree entry ${JSON.stringify(name)}`);
    assert.match((error as Error).message, /A peer sent a bad object [0-9a-f]{12}: .*(name|entry)/, `tree entry ${JSON.stringify(name)}`);
  }
});

function sig() {
  return { name: 'Mallory', email: 'm@example.org', timestamp: 1700000000, tzOffset: 0 };
}

test('an oversized frame, an oversized object, a miscount and malformed refs are all refused', DEADLINE, async () => {
  const o = await honestObjects();
  // A 9 MiB frame: over the 8 MiB limit, refused from its 5-byte header.
  const big = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson(refs(req, o.commit.id));
    await ch.sendBinary(Buffer.alloc(9 * 1024 * 1024));
  });
  assert.equal(code((await victimOf(big)).error), 'FRAME_TOO_LARGE');
  // A commit announced as 100 MiB: refused from its record header, before any body byte is kept.
  const huge = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson(refs(req, o.commit.id));
    await ch.sendBinary(record('commit', o.commit.id, Buffer.alloc(16), 100 * 1024 * 1024));
  });
  const e = (await victimOf(huge)).error;
  assert.equal(code(e), 'PROTOCOL_VIOLATION');
  assert.match((e as Error).message, /exceeds the limit/);
  // "done" that does not match what was sent.
  const miscount = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson(refs(req, o.commit.id));
    await sendAll(ch, [record('commit', o.commit.id, o.commit.body), record('tree', o.tree.id, o.tree.body), record('blob', o.blob.id, o.blob.body)], { objects: 2, bytes: 1 });
  });
  assert.equal(code((await victimOf(miscount)).error), 'PROTOCOL_VIOLATION');
  // A ref name that tries to escape refs/peers/<peer>/.
  const badRefs = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson({ ...refs(req, o.commit.id), refs: { 'heads/../../HEAD': o.commit.id } });
  });
  assert.equal(code((await victimOf(badRefs)).error), 'PROTOCOL_VIOLATION');
  // A record cut off by "done".
  const cut = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson(refs(req, o.commit.id));
    await ch.sendBinary(record('commit', o.commit.id, o.commit.body).subarray(0, 50));
    await ch.sendJson({ type: 'done', objects: 0, bytes: 0 });
  });
  assert.equal(code((await victimOf(cut)).error), 'PROTOCOL_VIOLATION');
});

test('a peer that stalls mid-transfer hits the deadline; nothing changes', DEADLINE, async () => {
  const o = await honestObjects();
  const target = await liar(FETCH_PROTOCOL, async (ch, req) => {
    await ch.sendJson(refs(req, o.commit.id));
    await ch.sendBinary(record('commit', o.commit.id, o.commit.body));
    await new Promise((r) => setTimeout(r, 2000));
  });
  assert.equal(code((await victimOf(target, { timeoutMs: 300 })).error), 'TIMEOUT');
});

test('a lying owner cannot leave a half clone behind', DEADLINE, async () => {
  const o = await honestObjects();
  const target = await liar(CLONE_PROTOCOL, async (ch, req) => {
    await ch.sendJson({ type: 'meta', repository: { id: req.repo ?? 'r', name: 'liar', default_branch: 'main' }, owner: 'liar', role: 'writer', collaborators: [] });
    await ch.sendJson(refs({ repo: 'r' }, o.commit.id));
    await sendAll(ch, [record('commit', o.commit.id, o.commit.body), record('tree', o.tree.id, o.tree.body), record('blob', o.blob.id, Buffer.from('evil\n'))]);
  });
  const where = tmp();
  await assert.rejects(clone(target.addresses[0]!, { cwd: where, dir: 'copy' }), (e: unknown) => code(e) === 'CORRUPT_OBJECT');
  assert.deepEqual(readdirSync(where), []);
});

test('a lying pusher is rejected, the owner is unchanged and keeps serving', DEADLINE, async () => {
  const o = await honestObjects();
  const alice = await makeRepo('alice', { 'a.txt': 'alice\n' });
  const mallory = await makeRepo('mallory');
  // Mallory is even a writer: being allowed to push does not make her objects trusted.
  await befriend(alice, mallory, 'mallory', 'writer');
  const a = await serve(alice);
  const before = snapshot(alice.dir);
  const node = await clientNode(mallory);
  const ch = await openChannel(node, a.addresses[0]!, PUSH_PROTOCOL);
  const config = await alice.repo.config();
  await ch.sendJson({ type: 'push', repo: config.repository.id, head: 'main', refs: { 'heads/main': o.commit.id }, addresses: [] });
  await ch.readJson(); // haves
  await sendAll(ch, [record('commit', o.commit.id, o.commit.body), record('tree', o.tree.id, o.tree.body), record('blob', o.blob.id, Buffer.from('evil\n'))]);
  // Alice discards the quarantine before she answers, so by the time mallory hears "rejected"
  // alice's repository is already exactly as it was.
  await assert.rejects(ch.readJson(), (e: unknown) => code(e) === 'PROTOCOL_VIOLATION');
  assert.deepEqual(snapshot(alice.dir), before, "alice's repository is byte-for-byte unchanged");
  await until(() => a.events.some((e) => e.type === 'failed' && e.protocol === 'push'), 3000, 'the failed event');
  // The node survived and still serves an honest fetch.
  const honest = await makeRepo('honest');
  await befriend(alice, honest, 'honest', 'reader');
  const r = await fetchFrom(await clientNode({ ...honest, repo: await withRepoId(honest, config.repository.id) }), honest.repo, { peerId: a.peerId, name: 'alice', addresses: a.addresses });
  assert.equal(r.commits, 1);
});

/** Give a fresh repository the same repository id (as a clone would have). */
async function withRepoId(r: TestRepo, id: string): Promise<Repository> {
  await r.repo.updateConfig((c) => {
    c.repository.id = id;
  });
  return r.repo;
}
