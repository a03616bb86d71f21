// Sync latency and throughput between two real peers on 127.0.0.1 (both in this process), with the
// libp2p ping round trip on the same kind of connection as the reference measured in the same run:
//   - clone of a small repository (cold: new node, dial, clone, checkout)
//   - pull of one new commit: cold (a fresh dial-only node, as the CLI does) and warm (connection reused),
//     and the warm pull's round trips (the same pulls through a relay that adds a delay each way)
//   - push of one new commit (warm)
//   - clone of a larger repository (objects/s, MiB/s)
//
//   node esbuild.mjs --bench && node out/bench/p2p-sync.js [--runs 7] [--files 2000] [--commits 30]
import '../src/p2p/polyfill.js';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Repository } from '../src/engine';
import { main } from '../src/cli/main';
import { PeerService, clone, createInvite, createPeerNode, ensureIdentity, fetchFrom, pullFrom, pushTo, type PeerNode, type PeerTarget } from '../src/p2p/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const runs = Number(arg('runs', '7'));
const bigFiles = Number(arg('files', '2000'));
const bigCommits = Number(arg('commits', '30'));

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pw-bench-'));
  dirs.push(d);
  return d;
};
const quiet = { out: () => undefined, err: () => undefined };
async function pw(cwd: string, ...argv: string[]) {
  const code = await main(argv, { cwd, ...quiet });
  if (code !== 0) throw new Error(`patchwork ${argv.join(' ')} failed`);
}
function put(root: string, path: string, text: string) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = async (fn: () => Promise<unknown>) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

/** Added each way by the relay that counts round trips. */
const PROXY_MS = 25;

/** A TCP relay to 127.0.0.1:`port` that forwards every chunk `delayMs` later, each way (in order). */
async function delayProxy(port: number, delayMs: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
    from.on('end', () => setTimeout(() => to.end(), delayMs));
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function repoWith(files: number, commits: number): Promise<string> {
  const dir = tmp();
  await pw(dir, 'init', 'bench');
  for (let c = 0; c < commits; c++) {
    const n = c === 0 ? files : Math.max(1, Math.floor(files / 50));
    for (let i = 0; i < n; i++) put(dir, `d${i % 20}/f${(i * 7 + c) % files}.txt`, `commit ${c} file ${i}\n${'x'.repeat(200 + (i % 800))}\n`);
    await pw(dir, 'add', '.');
    await pw(dir, 'commit', '-m', `commit ${c}`);
  }
  return dir;
}

async function run(): Promise<void> {
  process.env.PATCHWORK_AUTHOR_NAME = 'Bench';
  process.env.PATCHWORK_AUTHOR_EMAIL = 'bench@example.org';
  const small = await repoWith(20, 5);
  const owner = await Repository.open(small);
  const service = await PeerService.start(owner, { listen: ['/ip4/127.0.0.1/tcp/0'], claimPeerFile: false });
  const target: PeerTarget = { peerId: service.peerId, name: 'owner', addresses: service.addresses() };

  // A collaborator clone to pull into and push from.
  const invite = async (role: 'writer' | 'reader' = 'writer') => (await createInvite(owner, { role, addresses: target.addresses, peerId: target.peerId, expiresInMs: 600_000 })).ticket;
  const cloneMs: number[] = [];
  let cloned = '';
  for (let i = 0; i < runs; i++) {
    const where = tmp();
    const t = await invite();
    cloneMs.push(await time(async () => (cloned = (await clone(t, { cwd: where, name: `c${i}` }).catch((e) => { console.error("clone failed", e); throw e; })).root)));
  }
  const peerRepo = await Repository.open(cloned);
  const id = await ensureIdentity(peerRepo);
  const node: PeerNode = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false });

  await fetchFrom(node, peerRepo, target); // connect
  const ping: number[] = [];
  for (let i = 0; i < runs * 3; i++) ping.push(await time(() => node.ping(target.peerId)));

  const warmPull: number[] = [];
  const coldPull: number[] = [];
  let counted = { objects: 0, commits: 0 };
  for (let i = 0; i < runs; i++) {
    put(small, 'changing.txt', `owner change ${i}\n`);
    await pw(small, 'add', '.');
    await pw(small, 'commit', '-m', `owner ${i}`);
    if (i % 2 === 0) {
      warmPull.push(await time(async () => {
        const r = await pullFrom(node, peerRepo, target);
        counted = { objects: r.objects, commits: r.commits };
      }));
    } else {
      const fresh = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false });
      coldPull.push(await time(() => pullFrom(fresh, peerRepo, target)));
      await fresh.stop();
    }
  }
  const pushMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    put(cloned, 'pushed.txt', `peer change ${i}\n`);
    await pw(cloned, 'add', '.');
    await pw(cloned, 'commit', '-m', `peer ${i}`);
    pushMs.push(await time(() => pushTo(node, peerRepo, target)));
  }
  await node.stop();

  // Round trips of a warm pull: the same pulls through a relay that delays every chunk by PROXY_MS
  // each way take (round trips × 2 × PROXY_MS) longer.
  const proxy = await delayProxy(Number(/\/tcp\/(\d+)/.exec(target.addresses[0]!)![1]), PROXY_MS);
  const slowNode = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false });
  const viaProxy: PeerTarget = { ...target, addresses: [`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${target.peerId}`] };
  await pullFrom(slowNode, peerRepo, viaProxy); // dial through the relay
  const slowPull: number[] = [];
  for (let i = 0; i < runs; i++) {
    put(small, 'changing.txt', `owner change via the relay ${i}\n`);
    await pw(small, 'add', '.');
    await pw(small, 'commit', '-m', `owner via the relay ${i}`);
    slowPull.push(await time(() => pullFrom(slowNode, peerRepo, viaProxy)));
  }
  await slowNode.stop();
  proxy.close();
  await service.stop();

  // Throughput: a larger repository.
  const big = await repoWith(bigFiles, bigCommits);
  const bigOwner = await Repository.open(big);
  const bigService = await PeerService.start(bigOwner, { listen: ['/ip4/127.0.0.1/tcp/0'], claimPeerFile: false });
  const t = (await createInvite(bigOwner, { role: 'reader', addresses: bigService.addresses(), peerId: bigService.peerId, expiresInMs: 600_000 })).ticket;
  let res!: Awaited<ReturnType<typeof clone>>;
  const rss0 = process.memoryUsage().rss;
  const bigMs = await time(async () => (res = await clone(t, { cwd: tmp() }).catch((e) => { console.error("big clone failed", e); throw e; })));
  const rss1 = process.memoryUsage().rss;
  await bigService.stop();

  const p = median(ping);
  const line = (label: string, ms: number) => console.log(`${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / p).toFixed(0).padStart(6)} × ping`);
  console.log(`reference: libp2p ping on a warm connection   ${p.toFixed(2).padStart(8)} ms`);
  line('clone, small repo (5 commits, 20 files)', median(cloneMs));
  line(`pull 1 commit, warm (${counted.commits} commit, ${counted.objects} objects)`, median(warmPull));
  line('pull 1 commit, cold (new node + dial)', median(coldPull));
  line('push 1 commit, warm', median(pushMs));
  const trips = (median(slowPull) - median(warmPull)) / (2 * PROXY_MS);
  console.log(`pull 1 commit, warm, through a relay adding ${PROXY_MS} ms each way: ${median(slowPull).toFixed(1)} ms = ${trips.toFixed(1)} round trips`);
  console.log(
    `clone ${bigCommits} commits / ${bigFiles} files: ${res.objects} objects, ${(res.bytes / 1024 / 1024).toFixed(1)} MiB in ${bigMs.toFixed(0)} ms ` +
      `(${((res.objects / bigMs) * 1000).toFixed(0)} objects/s, ${(res.bytes / 1024 / 1024 / (bigMs / 1000)).toFixed(1)} MiB/s; rss +${((rss1 - rss0) / 1024 / 1024).toFixed(0)} MiB)`,
  );
  console.log(`medians of ${runs} runs (ping: ${runs * 3}); pull/push round trips by design: fetch 1, push 2, clone 2 (+1 to open each stream, + dial when cold)`);
}

run()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
