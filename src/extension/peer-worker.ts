/**
 * Entry of the peer worker (out/peer-worker.js), the worker thread in which the extension runs its
 * peers: it loads out/peer.js, with the V8 code cache when the extension gave it a cache folder
 * (codeCache.ts), says `ready` (or `loadFailed`), and serves the bundle's functions
 * (peer-host.ts `serveWorker`, peer-rpc.ts). Kept tiny and free of libp2p so that the worker
 * starts at once; the bundle is what takes time.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { CachedBundle } from './codeCache';
import type * as HostModule from './peer-host';
import { absoluteNow, wireError, type FromWorker } from './peer-rpc';

export interface PeerWorkerData {
  /** Absolute path of out/peer.js. */
  bundle: string;
  /** Folder for its code cache; undefined: plain `require`. */
  cacheDir?: string;
}

/** When this thread began running its script (an absolute time, peer-rpc.ts `absoluteNow`). */
const bootAt = absoluteNow();

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('peer-worker.js runs only as a worker thread');
  const post = (m: FromWorker) => port.postMessage(m);
  const { bundle, cacheDir } = workerData as PeerWorkerData;
  try {
    let cached: CachedBundle | undefined;
    try {
      cached = cacheDir ? CachedBundle.readSync(bundle, cacheDir) : undefined;
    } catch {
      cached = undefined; // no cache: load as usual
    }
    const t0 = performance.now();
    const host = cached ? cached.run<typeof HostModule>() : (createRequire(__filename)(bundle) as typeof HostModule);
    const loadMs = performance.now() - t0;
    host.serveWorker(port, { saveCodeCache: () => cached?.save() ?? Promise.resolve(false) });
    post({ t: 'ready', loadMs, codeCache: cached ? cached.state : 'off', at: absoluteNow(), bootAt });
  } catch (e) {
    post({ t: 'loadFailed', error: wireError(e) });
  }
}

void main();
