// Transport layer with real libp2p nodes on 127.0.0.1: framing, limits, deadlines, access checks,
// backpressure and the identity file. No engine involved.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createIdentity,
  createPeerNode,
  generateIdentity,
  loadIdentity,
  loadOrCreateIdentity,
  openChannel,
  serveProtocol,
  P2PError,
  type FrameChannel,
  type P2PLogger,
  type PeerNode,
  type PeerNodeOptions,
} from '../src/p2p/index.js';

// Every test has a deadline so a hang shows up as a failure instead of a stuck `npm test`.
const DEADLINE = { timeout: 60_000 };

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
process.on('uncaughtException', (e) => unhandled.push(e));

const nodes: PeerNode[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
});

interface TestPeer {
  node: PeerNode;
  logs: string[];
  addr: string;
}

async function peer(opts: Partial<PeerNodeOptions> = {}): Promise<TestPeer> {
  const { privateKey } = await generateIdentity();
  const logs: string[] = [];
  const logger: P2PLogger = {
    debug: (m) => logs.push(`debug ${m}`),
    info: (m) => logs.push(`info ${m}`),
    warn: (m) => logs.push(`warn ${m}`),
    error: (m) => logs.push(`error ${m}`),
  };
  const node = await createPeerNode({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], isAllowed: () => true, logger, ...opts });
  nodes.push(node);
  const addr = node.addresses()[0];
  assert.ok(addr !== undefined && addr.includes('/p2p/'), 'node has a dialable address');
  return { node, logs, addr };
}

async function rejectsWith(p: Promise<unknown>, code: string, check?: (e: P2PError) => void): Promise<P2PError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof P2PError, `expected P2PError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    check?.(e);
    return e;
  }
  assert.fail(`expected rejection with ${code}`);
}

function pattern(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k += 4096) b[k] = (i * 31 + k / 4096) & 0xff;
  b[size - 1] = i & 0xff;
  return b;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ECHO = '/patchwork/test-echo/1.0.0';

async function serveEcho(p: TestPeer): Promise<void> {
  await serveProtocol(
    p.node,
    ECHO,
    async ({ channel, peer }) => {
      for await (const f of channel.frames()) {
        if (f.kind === 'json') await channel.sendJson({ echo: f.value, from: peer });
        else await channel.sendBinary(f.data);
      }
    },
    { repoName: 'test-repo', isAllowed: () => true },
  );
}

test('two peers exchange JSON and binary frames, and a clean close reads as null', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  await serveEcho(a);
  const ch = await openChannel(b.node, a.addr, ECHO, { expectPeer: a.node.peerId });
  assert.equal(ch.peer, a.node.peerId);
  await ch.sendJson({ type: 'hello', n: 1 });
  assert.deepEqual(await ch.readJson(), { echo: { type: 'hello', n: 1 }, from: b.node.peerId });
  const bytes = new Uint8Array([0, 1, 2, 255]);
  await ch.sendBinary(bytes);
  assert.deepEqual(await ch.readBinary(), bytes);
  await ch.sendBinary(new Uint8Array(0));
  assert.equal((await ch.readBinary()).byteLength, 0);
  await ch.close();
  assert.equal(await ch.read(), null, 'server closes after our close; read returns null');
});

test('a 64 MiB transfer in 1 MiB frames arrives intact', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  const FRAMES = 64;
  const SIZE = 1024 * 1024;
  const sent = createHash('sha256');
  await serveProtocol(
    a.node,
    '/patchwork/test-bulk/1.0.0',
    async ({ channel }) => {
      const req = (await channel.readJson()) as { frames: number };
      for (let i = 0; i < req.frames; i++) {
        const chunk = pattern(i, SIZE);
        sent.update(chunk);
        await channel.sendBinary(chunk);
      }
      await channel.sendJson({ done: true });
    },
    { repoName: 'test-repo', isAllowed: () => true },
  );
  const ch = await openChannel(b.node, a.addr, '/patchwork/test-bulk/1.0.0');
  await ch.sendJson({ frames: FRAMES });
  const got = createHash('sha256');
  let total = 0;
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    const data = await ch.readBinary();
    assert.equal(data.byteLength, SIZE);
    assert.equal(data[SIZE - 1], i & 0xff, `frame ${i} in order`);
    got.update(data);
    total += data.byteLength;
  }
  assert.deepEqual(await ch.readJson(), { done: true });
  const secs = (performance.now() - t0) / 1000;
  assert.equal(total, FRAMES * SIZE);
  assert.equal(got.digest('hex'), sent.digest('hex'));
  assert.equal(await ch.read(), null);
  console.log(`# 64 MiB over one stream in ${secs.toFixed(2)} s (${(64 / secs).toFixed(0)} MiB/s)`);
});

test('a slow reader applies backpressure: the sender does not run ahead by the whole transfer', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  let server: FrameChannel | undefined;
  const FRAMES = 64;
  const SIZE = 1024 * 1024;
  let serverDone = false;
  await serveProtocol(
    a.node,
    '/patchwork/test-slow/1.0.0',
    async ({ channel }) => {
      server = channel;
      await channel.readJson();
      for (let i = 0; i < FRAMES; i++) await channel.sendBinary(pattern(i, SIZE), { timeoutMs: 20_000 });
      serverDone = true;
    },
    { repoName: 'test-repo', isAllowed: () => true, maxFrameSize: SIZE },
  );
  const ch = await openChannel(b.node, a.addr, '/patchwork/test-slow/1.0.0', { maxFrameSize: SIZE });
  await ch.sendJson({ go: true });
  await ch.readBinary();
  await sleep(700); // the reader stalls; the sender must stop soon
  assert.ok(server !== undefined);
  const ahead = server.bytesSent - ch.bytesReceived;
  assert.equal(serverDone, false, 'sender is still blocked');
  // Bounded by our high-water mark (2 MiB) + one frame + the Yamux window (4 MiB), far below 63 MiB.
  assert.ok(ahead < 8 * SIZE, `sender ran ahead by ${(ahead / SIZE).toFixed(1)} MiB`);
  console.log(`# with a stalled reader the sender ran ahead by ${(ahead / SIZE).toFixed(1)} MiB`);
  for (let i = 1; i < FRAMES; i++) assert.equal((await ch.readBinary())[SIZE - 1], i & 0xff);
  assert.equal(await ch.read(), null);
});

test('an oversized frame is rejected with FRAME_TOO_LARGE before allocation, and the node keeps serving', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  const failures: P2PError[] = [];
  const LIMIT = 1024 * 1024;
  await serveProtocol(
    a.node,
    '/patchwork/test-limit/1.0.0',
    async ({ channel }) => {
      try {
        for await (const f of channel.frames()) if (f.kind === 'binary') await channel.sendJson({ got: f.data.byteLength });
      } catch (e) {
        if (e instanceof P2PError) failures.push(e);
        throw e;
      }
    },
    { repoName: 'test-repo', isAllowed: () => true, maxFrameSize: LIMIT },
  );
  const ch = await openChannel(b.node, a.addr, '/patchwork/test-limit/1.0.0', { maxFrameSize: 64 * LIMIT });
  await ch.sendBinary(new Uint8Array(LIMIT));
  assert.deepEqual(await ch.readJson(), { got: LIMIT }, 'a frame at the limit is fine');
  // A lying header: 1 GiB announced, nothing behind it. The receiver must refuse on the header alone.
  const header = new Uint8Array(5);
  new DataView(header.buffer).setUint32(0, 1024 * 1024 * 1024);
  header[4] = 2;
  ch.stream.send(header);
  const err = await rejectsWith(ch.read({ timeoutMs: 5000 }), 'FRAME_TOO_LARGE', (e) => assert.equal(e.remote, true));
  assert.match(err.message, /1073741824/);
  assert.equal(failures[0]?.code, 'FRAME_TOO_LARGE');

  // Just over the limit is refused too (the limit is exact).
  const ch2 = await openChannel(b.node, a.addr, '/patchwork/test-limit/1.0.0', { maxFrameSize: 64 * LIMIT });
  await ch2.sendBinary(new Uint8Array(LIMIT + 1)).catch(() => undefined);
  await rejectsWith(ch2.read({ timeoutMs: 5000 }), 'FRAME_TOO_LARGE');

  // Locally, sending above our own limit fails without touching the stream.
  const ch3 = await openChannel(b.node, a.addr, '/patchwork/test-limit/1.0.0', { maxFrameSize: LIMIT });
  await rejectsWith(ch3.sendBinary(new Uint8Array(LIMIT + 1)), 'FRAME_TOO_LARGE', (e) => assert.equal(e.remote, false));
  await ch3.sendBinary(new Uint8Array(10));
  assert.deepEqual(await ch3.readJson(), { got: 10 }, 'the same node still serves new streams');
  await ch3.close();
});

test('malformed frames end the stream with PROTOCOL_VIOLATION on both sides', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  const failures: string[] = [];
  await serveProtocol(
    a.node,
    '/patchwork/test-strict/1.0.0',
    async ({ channel }) => {
      try {
        await channel.readMessage((v) => {
          if (typeof v !== 'object' || v === null || (v as { type?: unknown }).type !== 'want') throw new Error('expected a want message');
          return v;
        });
      } catch (e) {
        failures.push(e instanceof P2PError ? e.code : String(e));
        throw e;
      }
    },
    { repoName: 'test-repo', isAllowed: () => true },
  );
  // Invalid JSON
  const ch1 = await openChannel(b.node, a.addr, '/patchwork/test-strict/1.0.0');
  const bad = new TextEncoder().encode('{nope');
  const h = new Uint8Array(5);
  new DataView(h.buffer).setUint32(0, bad.byteLength);
  h[4] = 1;
  ch1.stream.send(h);
  ch1.stream.send(bad);
  await rejectsWith(ch1.read(), 'PROTOCOL_VIOLATION', (e) => assert.equal(e.remote, true));
  // Unknown frame kind
  const ch2 = await openChannel(b.node, a.addr, '/patchwork/test-strict/1.0.0');
  ch2.stream.send(new Uint8Array([0, 0, 0, 0, 9]));
  await rejectsWith(ch2.read(), 'PROTOCOL_VIOLATION');
  // Well-formed JSON of the wrong shape
  const ch3 = await openChannel(b.node, a.addr, '/patchwork/test-strict/1.0.0');
  await ch3.sendJson({ type: 'push' });
  await rejectsWith(ch3.read(), 'PROTOCOL_VIOLATION', (e) => assert.match(e.message, /expected a want message/));
  // Stream ends in the middle of a frame
  const ch4 = await openChannel(b.node, a.addr, '/patchwork/test-strict/1.0.0');
  ch4.stream.send(new Uint8Array([0, 0, 0, 10, 1, 0x7b]));
  await ch4.stream.close();
  await rejectsWith(ch4.read(), 'PROTOCOL_VIOLATION');
  assert.deepEqual(failures, ['PROTOCOL_VIOLATION', 'PROTOCOL_VIOLATION', 'PROTOCOL_VIOLATION', 'PROTOCOL_VIOLATION']);
});

test('a stalled peer hits TIMEOUT on both ends of the stream', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  const serverErrors: string[] = [];
  let serverSignal: AbortSignal | undefined;
  await serveProtocol(
    a.node,
    '/patchwork/test-stall/1.0.0',
    async ({ channel, signal }) => {
      serverSignal = signal;
      try {
        await channel.readJson({ timeoutMs: 300 });
      } catch (e) {
        serverErrors.push(e instanceof P2PError ? e.code : String(e));
        throw e;
      }
    },
    { repoName: 'test-repo', isAllowed: () => true },
  );
  // The client says nothing: the server gives up after 300 ms and tells us so.
  const ch = await openChannel(b.node, a.addr, '/patchwork/test-stall/1.0.0');
  const t0 = Date.now();
  await rejectsWith(ch.read({ timeoutMs: 5000 }), 'TIMEOUT', (e) => assert.equal(e.remote, true));
  assert.ok(Date.now() - t0 < 3000);
  assert.deepEqual(serverErrors, ['TIMEOUT']);
  assert.equal(serverSignal?.aborted, true, "the handler's signal tells long-running work to stop");
  assert.equal((serverSignal?.reason as P2PError).code, 'TIMEOUT');

  // A server that never answers: the client's own deadline fires.
  await serveProtocol(a.node, '/patchwork/test-silent/1.0.0', () => new Promise<void>(() => undefined), { repoName: 'r', isAllowed: () => true });
  const ch2 = await openChannel(b.node, a.addr, '/patchwork/test-silent/1.0.0');
  await ch2.sendJson({ hello: 1 });
  await rejectsWith(ch2.read({ timeoutMs: 200 }), 'TIMEOUT', (e) => assert.equal(e.remote, false));
  await rejectsWith(ch2.sendJson({ again: 1 }), 'TIMEOUT', undefined);
});

test('cancelling with an AbortSignal ends the transfer with ABORTED on both sides', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  const serverErrors: string[] = [];
  await serveProtocol(
    a.node,
    '/patchwork/test-cancel/1.0.0',
    async ({ channel }) => {
      try {
        for (let i = 0; i < 1000; i++) await channel.sendBinary(pattern(i, 256 * 1024));
      } catch (e) {
        serverErrors.push(e instanceof P2PError ? e.code : String(e));
        throw e;
      }
    },
    { repoName: 'test-repo', isAllowed: () => true },
  );
  const controller = new AbortController();
  const ch = await openChannel(b.node, a.addr, '/patchwork/test-cancel/1.0.0', { signal: controller.signal });
  await ch.sendJson({ go: 1 });
  await ch.readBinary();
  controller.abort();
  await rejectsWith(ch.readBinary(), 'ABORTED');
  assert.equal(ch.signal.aborted, true);
  for (let i = 0; i < 50 && serverErrors.length === 0; i++) await sleep(50);
  assert.ok(['ABORTED', 'CLOSED'].includes(serverErrors[0] ?? ''), `server saw ${serverErrors[0]}`);
});

test('an unknown peer is refused at the connection gate, and the owner logs who', DEADLINE, async () => {
  const b = await peer();
  const stranger = await peer();
  const a = await peer({ isAllowed: (id) => id === b.node.peerId });
  await serveEcho(a);
  // The gate gives the stranger no reason; the dialler sees its connection die before the first
  // stream and reports a likely refusal.
  await rejectsWith(openChannel(stranger.node, a.addr, ECHO), 'REFUSED', (e) => {
    assert.equal(e.data.atGate, true);
    assert.match(e.message, /collaborator/);
  });
  assert.ok(
    a.logs.some((l) => l.includes(`refused inbound connection from ${stranger.node.peerId}`)),
    `owner log names the refused peer: ${a.logs.join(' | ')}`,
  );
  assert.equal(a.node.libp2p.getConnections().filter((c) => c.remotePeer.toString() === stranger.node.peerId).length, 0);
  // The collaborator still gets in.
  const ch = await openChannel(b.node, a.addr, ECHO);
  await ch.sendJson('hi');
  assert.deepEqual(await ch.readJson(), { echo: 'hi', from: b.node.peerId });
});

test('with the gate open, the handler still refuses an unknown peer: "not a collaborator of <repo>"', DEADLINE, async () => {
  const a = await peer({ isAllowed: () => true });
  const b = await peer();
  const stranger = await peer();
  let handled = 0;
  await serveProtocol(
    a.node,
    '/patchwork/test-fetch/1.0.0',
    async ({ channel }) => {
      handled++;
      await channel.sendJson({ secret: 'repository data' });
    },
    { repoName: 'alice-notes', isAllowed: (id) => id === b.node.peerId },
  );
  const ch = await openChannel(stranger.node, a.addr, '/patchwork/test-fetch/1.0.0');
  const err = await rejectsWith(ch.read(), 'REFUSED', (e) => assert.equal(e.remote, true));
  assert.match(err.message, /not a collaborator of alice-notes/);
  assert.equal(handled, 0, 'the handler never ran for the stranger');
  assert.ok(a.logs.some((l) => l.includes(`refused ${stranger.node.peerId} on /patchwork/test-fetch/1.0.0`)));

  // A peer that A dialled itself (outbound connection, never through A's inbound gate) is checked too.
  const gated = await peer({ isAllowed: (id) => id === b.node.peerId });
  await serveProtocol(gated.node, '/patchwork/test-fetch/1.0.0', async ({ channel }) => channel.sendJson({ secret: 1 }), {
    repoName: 'gated',
    isAllowed: (id) => id === b.node.peerId,
  });
  await gated.node.connect(stranger.addr); // gated -> stranger
  const fromGated = () => stranger.node.libp2p.getConnections().find((c) => c.remotePeer.toString() === gated.node.peerId);
  for (let i = 0; i < 100 && fromGated() === undefined; i++) await sleep(10);
  const inbound = fromGated();
  assert.equal(inbound?.direction, 'inbound', 'the stranger only has the connection gated opened');
  const back = await openChannel(stranger.node, gated.node.peerId, '/patchwork/test-fetch/1.0.0');
  await rejectsWith(back.read(), 'REFUSED');

  const ok = await openChannel(b.node, a.addr, '/patchwork/test-fetch/1.0.0');
  assert.deepEqual(await ok.readJson(), { secret: 'repository data' });
  assert.equal(handled, 1);
});

test('a handler that throws sends INTERNAL without details and the node keeps running', DEADLINE, async () => {
  const a = await peer();
  const b = await peer();
  await serveProtocol(
    a.node,
    '/patchwork/test-crash/1.0.0',
    async () => {
      throw new Error('database path /home/alice/secret is broken');
    },
    { repoName: 'r', isAllowed: () => true },
  );
  await serveEcho(a);
  const ch = await openChannel(b.node, a.addr, '/patchwork/test-crash/1.0.0');
  const err = await rejectsWith(ch.read(), 'INTERNAL');
  assert.doesNotMatch(err.message, /secret/);
  assert.ok(a.logs.some((l) => l.startsWith('error') && l.includes('secret')), 'details are in the owner log');
  const echo = await openChannel(b.node, a.addr, ECHO);
  await echo.sendJson(1);
  assert.deepEqual(await echo.readJson(), { echo: 1, from: b.node.peerId });
});

test('disconnectDisallowed cuts off a collaborator that was removed', DEADLINE, async () => {
  const b = await peer();
  const allowed = new Set<string>([b.node.peerId]);
  const a = await peer({ isAllowed: (id) => allowed.has(id) });
  await serveEcho(a);
  const ch = await openChannel(b.node, a.addr, ECHO);
  await ch.sendJson(1);
  await ch.readJson();
  allowed.delete(b.node.peerId);
  assert.equal(await a.node.disconnectDisallowed(), 1);
  await assert.rejects(ch.readJson({ timeoutMs: 3000 }), P2PError);
  await assert.rejects(openChannel(b.node, a.addr, ECHO).then((c) => c.readJson({ timeoutMs: 3000 })), P2PError);
});

test('identity file is 0600, loads back the same peer id, and insecure or existing files are refused', DEADLINE, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pw-id-'));
  try {
    const path = join(dir, '.patch', 'identity.key');
    const created = await createIdentity(path);
    assert.match(created.peerId, /^12D3KooW/);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
    const loaded = await loadIdentity(path);
    assert.equal(loaded.peerId, created.peerId);
    assert.deepEqual(loaded.warnings, []);
    assert.ok(loaded.privateKey.equals(created.privateKey));
    await rejectsWith(createIdentity(path), 'IDENTITY_EXISTS');
    assert.equal((await loadOrCreateIdentity(path)).peerId, created.peerId);
    // The node really uses that identity.
    const node = await createPeerNode({ privateKey: loaded.privateKey, isAllowed: () => true, listen: [] });
    nodes.push(node);
    assert.equal(node.peerId, created.peerId);
    if (process.platform !== 'win32') {
      await chmod(path, 0o644);
      const e = await rejectsWith(loadIdentity(path), 'IDENTITY_INSECURE');
      assert.match(e.message, /chmod 600/);
      const lax = await loadIdentity(path, { allowInsecurePermissions: true });
      assert.equal(lax.peerId, created.peerId);
      assert.equal(lax.warnings.length, 1);
    }
    await rejectsWith(loadIdentity(join(dir, 'missing.key')), 'IDENTITY_MISSING');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no unhandled rejections or uncaught exceptions happened', DEADLINE, async () => {
  await sleep(300);
  assert.deepEqual(unhandled.map(String), []);
});
