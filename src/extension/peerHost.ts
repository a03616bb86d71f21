/**
 * Starts the peer worker (peer-rpc-client.ts: a worker thread that loads out/peer.js, built from
 * peer-host.ts: libp2p, the p2p layer and its own copy of the engine) on first use, which
 * extension.ts arranges for right after `activate` has returned, and hands out its functions. The
 * peers run in that thread, so neither loading libp2p nor starting, serving and transferring waits
 * for (or holds up) the extension host's thread. out/extension.js contains no libp2p code (a node
 * test checks it). With a cache folder, the worker compiles out/peer.js with a V8 code cache
 * (codeCache.ts) that `saveCodeCache()` writes after the first start.
 */
import { dirname, join } from 'node:path';
import { PatchworkError, isPatchworkError, type ErrorCode } from '../engine';
import { errorText } from './errors';
import type { Log } from './log';
import { PeerWorkerClient, type PeerHost } from './peer-rpc-client';

export type { PeerHost, RemoteEndpoint } from './peer-rpc-client';

export class PeerHostLoader {
  private client: PeerWorkerClient | undefined;
  private loaded: PeerHost | undefined;
  private readonly stopListeners = new Set<(error: Error) => void>();
  /** How long the worker took to compile and run out/peer.js (ms), once loaded. */
  loadMs: number | undefined;
  /** When it had loaded (`performance.now()` of this thread). */
  loadedAt: number | undefined;
  /** When the worker thread began running, before loading (`performance.now()` of this thread). */
  bootedAt: number | undefined;
  /** Whether the V8 code cache was used: 'used', 'rejected', 'none' (not written yet), 'off' (no cache folder). */
  codeCache: string | undefined;

  constructor(
    private readonly bundle: string,
    private readonly log: Log,
    /** Folder for the V8 code cache of the bundle (the extension's global storage); none: plain `require`. */
    private readonly cacheDir?: string,
  ) {}

  /** The module, if it has been loaded already (and its worker runs). */
  get current(): PeerHost | undefined {
    return this.loaded;
  }

  /** Called when the worker stops unexpectedly (its peers are gone; the next `load()` starts a new one). */
  onDidStop(listener: (error: Error) => void): { dispose(): void } {
    this.stopListeners.add(listener);
    return { dispose: () => this.stopListeners.delete(listener) };
  }

  /**
   * The worker's functions. Resolves as soon as the worker has been started: calls made before it
   * has loaded out/peer.js wait in the worker, not here (`ready()` says when it has loaded).
   */
  load(): Promise<PeerHost> {
    try {
      return Promise.resolve((this.loaded ??= this.start()));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Resolves once the worker has loaded out/peer.js (starting it if need be); rejects if it could not. */
  async ready(): Promise<void> {
    await this.load();
    await this.client?.ready;
  }

  private start(): PeerHost {
    const client = PeerWorkerClient.start(join(dirname(this.bundle), 'peer-worker.js'), { bundle: this.bundle, cacheDir: this.cacheDir });
    this.client = client;
    client.onExit = (e) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.loaded = undefined;
      this.log.error(e.message);
      for (const l of [...this.stopListeners]) l(e);
    };
    client.ready.then(
      (r) => {
        this.loadMs = r.loadMs;
        this.loadedAt = r.at;
        this.bootedAt = r.bootAt;
        this.codeCache = r.codeCache;
        this.log.info(`Loaded the peer-to-peer module in its worker in ${r.loadMs.toFixed(0)} ms (code cache: ${r.codeCache})`);
      },
      () => undefined, // onExit reports it
    );
    return client.host;
  }

  /**
   * Have the worker write the bundle's code cache if V8 had none to use (call once the peers have
   * started, so the functions that start them are in it). Never rejects; true when one was written.
   */
  async saveCodeCache(): Promise<boolean> {
    const client = this.client;
    if (!client || this.loadMs === undefined) return false;
    try {
      const written = await client.saveCodeCache();
      if (written) this.log.debug('Saved the peer module\'s code cache');
      return written;
    } catch (e) {
      this.log.debug(`Could not save the peer module's code cache: ${errorText(e)}`);
      return false;
    }
  }

  /**
   * End the worker if nothing runs in it (no call pending, no node), once it has loaded: for a
   * workspace whose scan found no repository (the worker starts before the scan, in case it finds
   * one). `idle` is asked again once the worker has loaded. The next `load()` starts a new worker.
   * Resolves true when it was ended.
   */
  async stopIfIdle(idle: () => boolean = () => true): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    await client.ready.catch(() => undefined);
    if (this.client !== client || client.busy || !idle()) return false;
    await this.terminate();
    return true;
  }

  /**
   * Stop the worker once the calls already made (e.g. stopping the peers, which releases their
   * .patch/peer.json) have settled, waiting at most `graceMs`.
   */
  async terminate(graceMs = 2_000): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.loaded = undefined;
    await client?.terminate(graceMs);
  }
}

/**
 * Errors from out/peer.js carry the engine's shape (name, code, message, hint, data) but not this
 * bundle's class: rebuild them as this bundle's PatchworkError so the rest of the extension (error
 * messages, lock retries) treats them like any engine error.
 */
export function adoptError(e: unknown): unknown {
  if (isPatchworkError(e)) return e;
  if (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'PatchworkError' && typeof (e as { code?: unknown }).code === 'string') {
    const x = e as { code: string; message: string; hint?: string; data?: Record<string, unknown> };
    const adopted = new PatchworkError(x.code as ErrorCode, x.message, x.hint, x.data ?? {});
    if (e instanceof Error && e.stack) adopted.stack = e.stack;
    return adopted;
  }
  return e;
}

/** Await a call into out/peer.js, adopting its errors. */
export async function hostCall<T>(p: Promise<T> | (() => Promise<T> | T)): Promise<T> {
  try {
    return await (typeof p === 'function' ? p() : p);
  } catch (e) {
    throw adoptError(e);
  }
}
