/**
 * Loads out/peer.js (built from peer-host.ts: libp2p, the p2p layer and its own copy of the engine)
 * on first use, which extension.ts arranges for after `activate` has returned. out/extension.js
 * contains no libp2p code (a node test checks it); only the type of the module is imported here.
 */
import { createRequire } from 'node:module';
import { PatchworkError, isPatchworkError, type ErrorCode } from '../engine';
import type { Log } from './log';
import type * as HostModule from './peer-host';

export type PeerHost = typeof HostModule;

export class PeerHostLoader {
  private loading: Promise<PeerHost> | undefined;
  private loaded: PeerHost | undefined;
  /** How long `require` of the bundle took (ms), once loaded. */
  loadMs: number | undefined;

  constructor(
    private readonly bundle: string,
    private readonly log: Log,
  ) {}

  /** The module, if it has been loaded already. */
  get current(): PeerHost | undefined {
    return this.loaded;
  }

  load(): Promise<PeerHost> {
    return (this.loading ??= new Promise<PeerHost>((resolve, reject) => {
      // A macrotask of its own: never inside activate, never in the middle of a UI event.
      setImmediate(() => {
        try {
          const t0 = performance.now();
          const m = createRequire(__filename)(this.bundle) as PeerHost;
          this.loadMs = performance.now() - t0;
          this.loaded = m;
          this.log.info(`Loaded the peer-to-peer module in ${this.loadMs.toFixed(0)} ms`);
          resolve(m);
        } catch (e) {
          this.loading = undefined;
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    }));
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
