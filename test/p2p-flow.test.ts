// Flow control under a reader that is steadily slower than the sender (as when a clone writes objects
// to disk): pause/resume cycles must never let libp2p's own read buffer grow past its limit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPeerNode, generateIdentity, openChannel, serveProtocol, type FrameChannel, type PeerNode } from '../src/p2p/index.js';

const nodes: PeerNode[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
});

async function node(): Promise<{ node: PeerNode; addr: string }> {
  const { privateKey } = await generateIdentity();
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const n = await createPeerNode({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], isAllowed: () => true, logger: quiet });
  nodes.push(n);
  return { node: n, addr: n.addresses()[0] };
}

test('a reader slower than the sender after a stall keeps the stream alive (no read-buffer overflow on resume)', { timeout: 60_000 }, async () => {
  const a = await node();
  const b = await node();
  const FRAMES = 64;
  const SIZE = 1024 * 1024;
  let server: FrameChannel | undefined;
  await serveProtocol(
    a.node,
    '/patchwork/test-flow/1.0.0',
    async ({ channel }) => {
      server = channel;
      await channel.readJson();
      const frame = new Uint8Array(SIZE).fill(7);
      for (let i = 0; i < FRAMES; i++) await channel.sendBinary(frame, { timeoutMs: 30_000 });
      await channel.close();
    },
    { repoName: 'flow', isAllowed: () => true },
  );
  const ch = await openChannel(b.node, a.addr, '/patchwork/test-flow/1.0.0');
  await ch.sendJson({ go: true });
  let received = 0;
  for (let i = 0; i < FRAMES; i++) {
    received += (await ch.readBinary({ timeoutMs: 30_000 })).byteLength;
    // Stall first (the channel pauses with a full queue and libp2p buffers the rest of the window), then
    // read slower than the sender: every resume delivers libp2p's buffer, which crosses the high-water
    // mark again at once. Before the fix, that pause was undone by the window update resume() sends.
    await new Promise((r) => setTimeout(r, i === 0 ? 300 : 15));
  }
  assert.equal(received, FRAMES * SIZE);
  assert.ok(server);
  assert.equal(await ch.read(), null);
});
