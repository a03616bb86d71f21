// Peer-node side of the benchmark: cold start of the bundled libp2p node, from process start to a
// listening address; the extension's own path, from starting its peer worker (a worker thread that
// loads out/peer.js, with the V8 code cache of an earlier start) to a repository's peer listening,
// which is what it pays after activate() besides finding the repository; and which sync functions
// src/p2p exports so bench.ts can add the clone/pull rows once they exist.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, str } from './child';
import * as p2p from '../src/p2p/index.js';
import { Repository } from '../src/engine';
import { PeerWorkerClient } from '../src/extension/peer-rpc-client';

runChild({
  async start() {
    const loaded = performance.now(); // ms since the process started: Node start + loading the bundle
    const node = await p2p.createPeerNode({ privateKey: (await p2p.generateIdentity()).privateKey, isAllowed: () => true });
    if (!node.addresses().length) throw new Error('the node has no listen address');
    const listening = performance.now();
    await node.stop();
    return { ms: [listening], info: { loadedMs: loaded, startMs: listening - loaded } };
  },

  /** `runs` times: start the peer worker, serve a repository, stop; the first run writes the code cache. */
  async worker(args) {
    const out = join(__dirname, '..');
    const cacheDir = str(args, 'cacheDir');
    const runs = Number(args.runs ?? 5);
    const dir = mkdtempSync(join(tmpdir(), 'pw-bench-peer-'));
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    try {
      await Repository.init(dir, { name: 'bench' });
      await p2p.ensureIdentity(await Repository.open(dir)); // a repository whose peer has run before
      const ms: number[] = [];
      const load: number[] = [];
      const caches: string[] = [];
      for (let i = 0; i <= runs; i++) {
        const t0 = performance.now();
        const client = PeerWorkerClient.start(join(out, 'peer-worker.js'), { bundle: join(out, 'peer.js'), cacheDir });
        try {
          const ep = await client.host.startService(dir, { owner: 'bench', logger: silent });
          const ready = await client.ready;
          if (i === 0) await client.saveCodeCache();
          else {
            ms.push(ep.readyAt - t0);
            load.push(ready.loadMs);
            caches.push(ready.codeCache);
          }
          await ep.stop();
        } finally {
          await client.terminate();
        }
      }
      return { ms, info: { loadMs: load, codeCache: caches } };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  async exports() {
    return { ms: [], info: { names: Object.keys(p2p) } };
  },
});
