/**
 * The extension's side of peer-rpc.ts: starts the peer worker (out/peer-worker.js, which loads
 * out/peer.js) and offers peer-host.ts's functions as async calls (`PeerHost`), with endpoints that
 * behave like the in-process ones: a logger that keeps logging while a service runs, progress
 * reports, AbortSignals, a serving endpoint's events and its current addresses. When the worker
 * dies, every pending call fails with one sentence and `onExit` is told. No vscode import: the node
 * tests drive it with a real worker.
 */
import { Worker } from 'node:worker_threads';
import type * as HostModule from './peer-host';
import type { Endpoint, HostLogger, ServiceEvent, SyncOptions, SyncProgress } from './peer-host';
import { errorFromWire, fromWire, isWireEndpoint, localTime, type CallHooks, type EndpointMethod, type FromWorker, type HostFunction, type ToWorker, type WireEndpoint } from './peer-rpc';
import type { PeerWorkerData } from './peer-worker';

type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** An endpoint of the worker: the in-process Endpoint, plus when it was ready. */
export interface RemoteEndpoint extends Endpoint {
  /** When it was ready (listening, for a serving node), as this thread's `performance.now()`. */
  readonly readyAt: number;
}

/** peer-host.ts's functions as the extension calls them: in the worker, so every one is async. */
export type PeerHost = { readonly [K in Exclude<HostFunction, 'startService' | 'startClient'>]: Async<(typeof HostModule)[K]> } & {
  startService(root: string, opts: HostModule.ServiceOptions): Promise<RemoteEndpoint>;
  startClient(root: string, opts: HostModule.OpenOptions): Promise<RemoteEndpoint>;
};

export interface WorkerReady {
  /** How long the worker took to compile and run out/peer.js (ms). */
  loadMs: number;
  /** Whether its V8 code cache was used: 'used', 'rejected', 'none' (not written yet), 'off'. */
  codeCache: string;
  /** When it had loaded, as this thread's `performance.now()`. */
  at: number;
  /** When the worker thread began running (before loading out/peer.js), as this thread's `performance.now()`. */
  bootAt: number;
}

/** What the client needs of a worker (worker_threads' Worker; tests may pass another). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (p: SyncProgress) => void;
  /** Keep the call's logger after the result (a serving or dial-only endpoint logs while it runs). */
  keepLogger: boolean;
}

interface CallOptions {
  logger?: HostLogger;
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
}

export class PeerWorkerClient {
  /** Resolves once out/peer.js has loaded in the worker; rejects if it could not. */
  readonly ready: Promise<WorkerReady>;
  readonly host: PeerHost;
  /** Called once if the worker stops without `terminate()` (crashed, or failed to load). */
  onExit: ((error: Error) => void) | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly loggers = new Map<number, HostLogger>();
  private readonly endpoints = new Map<number, WorkerEndpoint>();
  private nextId = 1;
  private dead: Error | undefined;
  private terminating = false;
  /** Called when no call is pending any more (terminate's grace period). */
  private drained: (() => void) | undefined;

  /** Start out/peer-worker.js (`entry`) with `data`. */
  static start(entry: string, data: PeerWorkerData): PeerWorkerClient {
    return new PeerWorkerClient(new Worker(entry, { workerData: data }));
  }

  constructor(private readonly worker: WorkerLike) {
    let ready!: (r: WorkerReady) => void;
    let failed!: (e: Error) => void;
    this.ready = new Promise<WorkerReady>((res, rej) => {
      ready = res;
      failed = rej;
    });
    this.ready.catch(() => undefined); // a failure is also reported through onExit and every call
    worker.on('message', (raw) => {
      const m = raw as FromWorker;
      if (m.t === 'ready') ready({ loadMs: m.loadMs, codeCache: m.codeCache, at: localTime(m.at), bootAt: localTime(m.bootAt) });
      else if (m.t === 'loadFailed') {
        const e = errorFromWire(m.error);
        failed(e);
        this.die(new Error(`The peer-to-peer module could not be loaded: ${e.message}`));
        void this.worker.terminate();
      } else this.onMessage(m);
    });
    worker.on('error', (e) => this.die(new Error(`The peer-to-peer worker failed: ${e.message}`)));
    worker.on('exit', (code) => {
      const e = new Error(this.terminating ? 'The peer-to-peer worker was stopped.' : `The peer-to-peer worker stopped unexpectedly (exit code ${code}).`);
      failed(e);
      this.die(e);
    });
    const fn = (name: HostFunction) => (...args: unknown[]) => this.hostCall(name, args);
    this.host = Object.fromEntries(
      (
        ['startService', 'startClient', 'runningPeer', 'peerId', 'listCollaborators', 'addCollaborator', 'removeCollaborator', 'createInvite', 'readTicket', 'clone', 'listenAddress', 'peerProblem', 'peerIdOf', 'addressProblem'] satisfies HostFunction[]
      ).map((name) => [name, fn(name)]),
    ) as unknown as PeerHost;
  }

  /** Whether anything runs in the worker: a call not answered yet, or an endpoint (a node) not stopped. */
  get busy(): boolean {
    return this.pending.size > 0 || this.endpoints.size > 0;
  }

  /** Whether the worker has stopped (every call fails). */
  get stopped(): boolean {
    return this.dead !== undefined;
  }

  /**
   * Stop the worker once the calls already made have settled (at most `graceMs`): a peer stopped
   * just before gets to release its .patch/peer.json. Nodes still running stop with the worker.
   */
  async terminate(graceMs = 0): Promise<void> {
    if (graceMs > 0 && this.pending.size && !this.dead) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.terminating = true;
    await this.worker.terminate();
  }

  /** Ask the worker to write out/peer.js's code cache; true when one was written. */
  saveCodeCache(): Promise<boolean> {
    return this.send<boolean>((id) => ({ t: 'saveCodeCache', id }), {});
  }

  private hostCall(fn: HostFunction, args: unknown[]): Promise<unknown> {
    const last = args[args.length - 1];
    const hasOptions = (fn === 'startService' || fn === 'startClient' || fn === 'clone') && typeof last === 'object' && last !== null;
    const { logger, signal, onProgress, ...rest } = (hasOptions ? last : {}) as CallOptions & Record<string, unknown>;
    const plainArgs = hasOptions ? [...args.slice(0, -1), rest] : args;
    const keepLogger = fn === 'startService' || fn === 'startClient';
    return this.call((id, hooks) => ({ t: 'call', id, fn, args: plainArgs, hooks }), { logger, signal, onProgress }, keepLogger);
  }

  endpointCall(ep: number, fn: EndpointMethod, args: unknown[], opts: CallOptions = {}): Promise<unknown> {
    return this.call((id, hooks) => ({ t: 'call', id, ep, fn, args, hooks }), opts, false);
  }

  private call(make: (id: number, hooks: CallHooks) => ToWorker, opts: CallOptions, keepLogger: boolean): Promise<unknown> {
    const hooks: CallHooks = {};
    if (opts.logger) hooks.logger = true;
    if (opts.signal) hooks.signal = true;
    if (opts.onProgress) hooks.progress = true;
    return this.send((id) => make(id, hooks), opts, keepLogger);
  }

  private send<T>(make: (id: number) => ToWorker, opts: CallOptions, keepLogger = false): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const signal = opts.signal;
    const abort = () => this.post({ t: 'abort', id, reason: signal?.reason instanceof Error ? signal.reason.message : undefined });
    const settled = () => signal?.removeEventListener('abort', abort);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (v) => {
          settled();
          resolve(v as T);
        },
        reject: (e) => {
          settled();
          reject(e);
        },
        onProgress: opts.onProgress,
        keepLogger,
      });
      if (opts.logger) this.loggers.set(id, opts.logger);
      try {
        this.worker.postMessage(make(id));
      } catch (e) {
        this.pending.delete(id);
        this.loggers.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      // After the call: the worker makes the call's AbortController before it reads the next message.
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }

  private post(m: ToWorker): void {
    if (this.dead) return;
    try {
      this.worker.postMessage(m);
    } catch {
      // the worker is going away; its exit rejects what is pending
    }
  }

  private onMessage(m: Exclude<FromWorker, { t: 'ready' } | { t: 'loadFailed' }>): void {
    switch (m.t) {
      case 'log':
        this.loggers.get(m.logger)?.[m.level](m.message);
        return;
      case 'progress':
        this.pending.get(m.id)?.onProgress?.(fromWire(m.p) as SyncProgress);
        return;
      case 'event':
        this.endpoints.get(m.ep)?.emit(fromWire(m.e) as ServiceEvent);
        return;
      case 'result':
      case 'error': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (!this.pending.size) this.drained?.();
        if (m.t === 'error') {
          this.loggers.delete(m.id);
          p.reject(errorFromWire(m.error));
          return;
        }
        if (isWireEndpoint(m.value)) {
          const ep = new WorkerEndpoint(this, m.value);
          this.endpoints.set(ep.id, ep);
          p.resolve(ep);
          return;
        }
        if (!p.keepLogger) this.loggers.delete(m.id);
        p.resolve(fromWire(m.value));
        return;
      }
    }
  }

  /** An endpoint stopped: forget its logger and events. */
  forget(ep: number): void {
    this.endpoints.delete(ep);
    this.loggers.delete(ep);
  }

  private die(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(e);
    this.drained?.();
    this.loggers.clear();
    this.endpoints.clear();
    if (!this.terminating) this.onExit?.(e);
  }
}

class WorkerEndpoint implements RemoteEndpoint {
  readonly id: number;
  readonly peerId: string;
  readonly serving: boolean;
  readonly features: RemoteEndpoint['features'];
  readonly readyAt: number;
  private current: string[];
  private readonly listeners = new Set<(e: ServiceEvent) => void>();

  constructor(
    private readonly client: PeerWorkerClient,
    w: WireEndpoint,
  ) {
    this.id = w.$endpoint;
    this.peerId = w.peerId;
    this.serving = w.serving;
    this.features = { ...w.features };
    this.current = [...w.addresses];
    this.readyAt = localTime(w.at);
  }

  addresses(): string[] {
    return [...this.current];
  }

  emit(e: ServiceEvent): void {
    if (e.type === 'addresses') this.current = [...e.addresses];
    for (const l of [...this.listeners]) l(e);
  }

  private run<T>(fn: EndpointMethod, args: unknown[], opts: SyncOptions = {}): Promise<T> {
    const { signal, onProgress, ...rest } = opts;
    const all = fn === 'fetch' || fn === 'pull' || fn === 'push' ? [...args, rest] : args;
    return this.client.endpointCall(this.id, fn, all, { signal, onProgress }) as Promise<T>;
  }

  fetch: Endpoint['fetch'] = (peers, opts) => this.run('fetch', [peers], opts);
  pull: Endpoint['pull'] = (peers, opts) => this.run('pull', [peers], opts);
  push: Endpoint['push'] = (peers, opts) => this.run('push', [peers], opts);
  probe: Endpoint['probe'] = (peerIds, timeoutMs) => this.run('probe', [peerIds, timeoutMs]);
  reloadAccess: Endpoint['reloadAccess'] = () => this.run('reloadAccess', []);

  onEvent(listener: (e: ServiceEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  async stop(): Promise<void> {
    try {
      if (!this.client.stopped) await this.run('stop', []); // a stopped worker took its nodes with it
    } finally {
      this.listeners.clear();
      this.client.forget(this.id);
    }
  }
}
