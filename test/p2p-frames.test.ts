// The frame channel's write path copies a frame of up to 128 KiB behind its header, and sends a
// larger one as its header with a copy of its first 64 KiB, then the rest from the caller's array;
// received frames are handed out in arrays that are not zero-filled first. Frames of every size
// around those boundaries must arrive byte for byte, in order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createPeerNode, generateIdentity, openChannel, serveProtocol, type PeerNode } from '../src/p2p/index.js';

const DEADLINE = { timeout: 60_000 };
const PROTOCOL = '/patchwork/test-frames/1.0.0';
const nodes: PeerNode[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
});

async function node(): Promise<PeerNode> {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const n = await createPeerNode({ privateKey: (await generateIdentity()).privateKey, isAllowed: () => true, logger: quiet });
  nodes.push(n);
  return n;
}

const K = 1024;
const SIZES = [0, 1, 5, 64 * K - 6, 64 * K - 5, 64 * K - 4, 64 * K, 64 * K + 1, 128 * K - 1, 128 * K, 128 * K + 1, 1024 * K - 1, 1024 * K, 1024 * K + 7, 3 * 1024 * K];
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('binary frames of every size around the 64 and 128 KiB splits arrive intact and in order, both ways', DEADLINE, async () => {
  const a = await node();
  const b = await node();
  const frames = SIZES.map((n) => randomBytes(n));
  await serveProtocol(
    a,
    PROTOCOL,
    async ({ channel }) => {
      // Echo each frame after checking it, with a JSON message between frames.
      for await (const f of channel.frames()) {
        assert.equal(f.kind, 'binary');
        if (f.kind !== 'binary') return;
        await channel.sendJson({ size: f.data.byteLength, sha: sha(f.data) });
        await channel.sendBinary(f.data);
      }
    },
    { repoName: 'frames', isAllowed: () => true, maxFrameSize: 4 * 1024 * K },
  );
  const ch = await openChannel(b, a.addresses()[0]!, PROTOCOL, { maxFrameSize: 4 * 1024 * K });
  // All frames queued before any is read back: the writes run ahead of the replies.
  await Promise.all(frames.map((f) => ch.sendBinary(f)));
  for (const f of frames) {
    assert.deepEqual(await ch.readJson(), { size: f.byteLength, sha: sha(f) });
    const back = await ch.readBinary();
    assert.equal(back.byteLength, f.byteLength);
    assert.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(f), `${f.byteLength} bytes echoed intact`);
  }
  await ch.close();
  assert.equal(await ch.read(), null);
});

test('a received frame is a plain Uint8Array over its own memory', DEADLINE, async () => {
  const a = await node();
  const b = await node();
  await serveProtocol(
    a,
    PROTOCOL,
    async ({ channel }) => {
      await channel.sendBinary(new Uint8Array(200 * K).fill(9));
      await channel.sendBinary(new Uint8Array(3).fill(4));
    },
    { repoName: 'frames', isAllowed: () => true },
  );
  const ch = await openChannel(b, a.addresses()[0]!, PROTOCOL);
  for (const [size, fill] of [
    [200 * K, 9],
    [3, 4],
  ] as const) {
    const got = await ch.readBinary();
    assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype, 'not a Buffer (whose slice() shares memory)');
    assert.equal(got.byteOffset, 0);
    assert.equal(got.buffer.byteLength, size, 'owns its memory: no pool, no neighbours to overwrite');
    assert.ok(got.every((x) => x === fill));
  }
});
