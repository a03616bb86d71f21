/**
 * The peer worker's side of peer-rpc.ts: answers the extension's calls with peer-host.ts's
 * functions and the endpoints they return, turns callbacks into messages (log lines, progress,
 * a serving endpoint's events) and `abort` messages into AbortSignals. Bundled into out/peer.js
 * (peer-host.ts's `serveWorker`), which peer-worker.ts loads in the worker thread.
 */
import type { Endpoint, HostLogger, SyncProgress } from './peer-host';
import { absoluteNow, toWire, wireError, type CallHooks, type EndpointMethod, type FromWorker, type HostFunction, type LogLevel, type ToWorker, type WireEndpoint } from './peer-rpc';

/** What the server needs of a worker's port (worker_threads' `parentPort`, or a MessagePort). */
export interface RpcPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

export type HostFunctions = Record<HostFunction, (...args: never[]) => unknown>;

/** Progress reports are forwarded at most this often (a phase change or the end always is). */
const PROGRESS_INTERVAL_MS = 25;

export interface ServeOptions {
  /** Write the bundle's code cache (peer-worker.ts); resolves true when one was written. */
  saveCodeCache?: () => Promise<boolean>;
}

export function serveHost(port: RpcPort, host: HostFunctions, opts: ServeOptions = {}): void {
  const endpoints = new Map<number, { ep: Endpoint; events: { dispose(): void } }>();
  const aborts = new Map<number, AbortController>();

  const post = (m: FromWorker) => {
    try {
      port.postMessage(m);
    } catch (e) {
      // Something in a value that cannot be cloned: say so instead of leaving the call hanging.
      if (m.t === 'result') port.postMessage({ t: 'error', id: m.id, error: wireError(e) } satisfies FromWorker);
    }
  };

  const logger = (id: number): HostLogger => {
    const line = (level: LogLevel) => (message: string) => post({ t: 'log', logger: id, level, message: String(message) });
    return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  };

  const progress = (id: number) => {
    let last = 0;
    let phase: string | undefined;
    return (p: SyncProgress) => {
      const now = Date.now();
      if (p.phase === phase && p.phase !== 'done' && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      phase = p.phase;
      post({ t: 'progress', id, p: toWire(p) });
    };
  };

  /** The call's arguments with its callbacks put back into the last one (the options object). */
  const withHooks = (id: number, args: unknown[], hooks: CallHooks): unknown[] => {
    if (!hooks.logger && !hooks.signal && !hooks.progress) return args;
    const out = [...args];
    const last = out.length - 1;
    const options = { ...((out[last] ?? {}) as Record<string, unknown>) };
    if (hooks.logger) options.logger = logger(id);
    if (hooks.progress) options.onProgress = progress(id);
    if (hooks.signal) {
      const ac = new AbortController();
      aborts.set(id, ac);
      options.signal = ac.signal;
    }
    out[last] = options;
    return out;
  };

  const wireEndpoint = (id: number, ep: Endpoint): WireEndpoint => {
    const events = ep.onEvent((e) => post({ t: 'event', ep: id, e: toWire(e) }));
    endpoints.set(id, { ep, events });
    return { $endpoint: id, peerId: ep.peerId, serving: ep.serving, features: { ...ep.features }, addresses: ep.addresses(), at: absoluteNow() };
  };

  const endpointCall = async (epId: number, fn: EndpointMethod, args: unknown[]): Promise<unknown> => {
    const x = endpoints.get(epId);
    if (!x) throw new Error('this peer has stopped');
    if (fn === 'stop') {
      endpoints.delete(epId);
      x.events.dispose();
      return x.ep.stop();
    }
    const method = x.ep[fn] as (...a: unknown[]) => Promise<unknown>;
    return method.apply(x.ep, args);
  };

  const call = async (m: Extract<ToWorker, { t: 'call' }>): Promise<void> => {
    try {
      const args = withHooks(m.id, m.args, m.hooks);
      let value: unknown;
      if ('ep' in m) value = await endpointCall(m.ep, m.fn, args);
      else {
        const fn = host[m.fn] as ((...a: unknown[]) => unknown) | undefined;
        if (typeof fn !== 'function') throw new Error(`the peer worker has no function ${String(m.fn)}`);
        value = await fn(...args);
      }
      if (m.fn === 'startService' || m.fn === 'startClient') value = wireEndpoint(m.id, value as Endpoint);
      post({ t: 'result', id: m.id, value: toWire(value) });
    } catch (e) {
      post({ t: 'error', id: m.id, error: wireError(e) });
    } finally {
      aborts.delete(m.id);
    }
  };

  port.on('message', (raw) => {
    const m = raw as ToWorker;
    if (m.t === 'call') void call(m);
    else if (m.t === 'abort') aborts.get(m.id)?.abort(new Error(m.reason ?? 'cancelled'));
    else if (m.t === 'saveCodeCache') {
      void (opts.saveCodeCache?.() ?? Promise.resolve(false)).then(
        (written) => post({ t: 'result', id: m.id, value: written }),
        (e: unknown) => post({ t: 'error', id: m.id, error: wireError(e) }),
      );
    }
  });
}
