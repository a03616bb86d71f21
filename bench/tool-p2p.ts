// Patchwork's sync side of the benchmark, over libp2p on 127.0.0.1 with each peer in its own process:
//   serve  — the owner: a PeerService on a repository, one invite ticket per clone to come; runs until
//            its stdin closes (bench.ts holds it open while it measures);
//   clone  — a collaborator cloning from a ticket (objects, refs and checkout; objects and refs only
//            with checkout=false), timed in-process;
//   pull   — a cold pull as the CLI does it: new dial-only node, dial, fetch, integrate;
//   warm-pull — a warm pull as the extension does it: one long-running node that has pulled once
//            (dialled, connection open) pulls one new commit each time bench.ts writes `pull` to its
//            stdin (after committing one in the served repository), and answers with a WARM_PREFIX line;
//   proxy  — a TCP relay to the serving peer that delays every chunk by `delayMs` each way: a warm pull
//            through it takes (round trips × 2 × delayMs) longer, which is how bench.ts counts round trips.
import '../src/p2p/polyfill.js';
import { createServer, connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Repository } from '../src/engine';
import { PeerService, clone, createInvite, createPeerNode, ensureIdentity, pullFrom } from '../src/p2p/index.js';
import { SERVE_PREFIX, runChild, str, strings } from './child';

/** tool-p2p.js warm-pull: `ready` once the first pull (and dial) is done, then one line per measured pull. */
const WARM_PREFIX = '@@warm ';
/** tool-p2p.js proxy: the line with the port it listens on. */
const PROXY_PREFIX = '@@proxy ';

/** Lines of stdin, one at a time; undefined once stdin has ended. */
function stdinLines(): () => Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin });
  const queue: string[] = [];
  let waiting: ((l: string | undefined) => void) | undefined;
  let ended = false;
  rl.on('line', (l) => (waiting ? (waiting(l), (waiting = undefined)) : queue.push(l)));
  rl.on('close', () => {
    ended = true;
    waiting?.(undefined);
  });
  return () => (queue.length ? Promise.resolve(queue.shift()) : ended ? Promise.resolve(undefined) : new Promise((r) => (waiting = r)));
}

/** Forward `from` to `to`, each chunk `delayMs` later (in order: equal delays keep the order). */
function delayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
}

runChild({
  async serve(args) {
    const owner = await Repository.open(str(args, 'dir'));
    const service = await PeerService.start(owner, { listen: ['/ip4/127.0.0.1/tcp/0'], claimPeerFile: false });
    const addresses = service.addresses();
    const tickets: string[] = [];
    for (let i = 0; i < Number(args.invites ?? 1); i++) {
      tickets.push((await createInvite(owner, { role: 'reader', addresses, peerId: service.peerId, expiresInMs: 3600_000 })).ticket);
    }
    process.stdout.write(`${SERVE_PREFIX}${JSON.stringify({ peerId: service.peerId, addresses, tickets })}\n`);
    process.stdin.resume();
    await new Promise<void>((r) => process.stdin.once('end', () => r()));
    await service.stop();
    return { ms: [] };
  },

  async clone(args) {
    const t0 = performance.now();
    const r = await clone(str(args, 'ticket'), { cwd: str(args, 'cwd'), dir: str(args, 'dir'), name: 'bench', checkout: args.checkout !== false });
    return { ms: [performance.now() - t0], info: { objects: r.objects, bytes: r.bytes, commits: r.commits } };
  },

  async pull(args) {
    const repo = await Repository.open(str(args, 'dir'));
    const id = await ensureIdentity(repo);
    const target = { peerId: str(args, 'peerId'), name: 'owner', addresses: strings(args, 'addresses') };
    const t0 = performance.now();
    const node = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false });
    const r = await pullFrom(node, repo, target);
    const ms = performance.now() - t0;
    await node.stop();
    return { ms: [ms], info: { objects: r.objects, commits: r.commits } };
  },

  async 'warm-pull'(args) {
    const repo = await Repository.open(str(args, 'dir'));
    const id = await ensureIdentity(repo);
    const target = { peerId: str(args, 'peerId'), name: 'owner', addresses: strings(args, 'addresses') };
    const node = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false });
    const next = stdinLines();
    const ms: number[] = [];
    try {
      await pullFrom(node, repo, target); // dial + a first pull: the connection stays open
      process.stdout.write(`${WARM_PREFIX}ready\n`);
      for (let line = await next(); line === 'pull'; line = await next()) {
        const t0 = performance.now();
        const r = await pullFrom(node, repo, target);
        const one = performance.now() - t0;
        ms.push(one);
        const connections = node.libp2p.getConnections().length;
        process.stdout.write(`${WARM_PREFIX}${JSON.stringify({ ms: one, commits: r.commits, objects: r.objects, integration: r.integration.kind, connections })}\n`);
      }
    } finally {
      await node.stop();
    }
    return { ms };
  },

  async proxy(args) {
    const delayMs = Number(args.delayMs ?? 0);
    const [host, port] = [str(args, 'host'), Number(args.port)];
    const server = createServer((client) => {
      const upstream = connect(port, host);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      delayed(client, upstream, delayMs);
      delayed(upstream, client, delayMs);
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    process.stdout.write(`${PROXY_PREFIX}${(server.address() as { port: number }).port}\n`);
    process.stdin.resume();
    await new Promise<void>((r) => process.stdin.once('end', () => r()));
    server.close();
    return { ms: [] };
  },
});
