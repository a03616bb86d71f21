/**
 * One repository's peer as the extension sees it: an adapter over src/p2p's PeerService (through
 * out/peer.js, loaded after activation; see peerHost.ts) that turns its life into a `PeerState`
 * for the status bar and its events into VS Code events.
 *
 * - Never started in Restricted Mode; not started when `patchwork.peer.startOnActivation` is off.
 * - If another process already serves the repository (`patchwork start`, another window; it holds
 *   .patch/peer.json) no second node is started: the state says so, and pull/push/probe go through
 *   a dial-only node with the repository's identity (requests still tell peers the running peer's
 *   addresses).
 * - If the node cannot start (port taken, bad address) the state says why; pull and push still
 *   work through the dial-only node.
 * - Restarts when its settings change; `start()` never rejects.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { isPatchworkError } from '../engine';
import { errorText } from './errors';
import type { Log } from './log';
import type { DiscoveryRequest, Endpoint, HostLogger, ServiceEvent } from './peer-host';
import { adoptError, hostCall, type PeerHostLoader, type RemoteEndpoint } from './peerHost';
import { onDidChangeSettings, readPeerSettings, readSettings, type PeerSettings } from './settings';
import type { StartupTimeline } from './startup';
import type { PeerState } from './syncLabels';

export type { PeerState } from './syncLabels';

/** Extra items for a repository's status bar (after the branch item). */
export interface StatusBarContribution {
  readonly commands: readonly vscode.Command[];
  readonly onDidChange: vscode.Event<void>;
}

/** What a peer needs of its repository: only where it is (it may start before the repository's first status walk). */
export interface PeerRepository {
  readonly root: string;
  readonly rootUri: vscode.Uri;
}

/** Service events held until the first listener subscribes (a peer can be online before its RepositorySync exists). */
const MAX_HELD_EVENTS = 100;

export class RepositoryPeer implements vscode.Disposable {
  private _state: PeerState = { kind: 'stopped', reason: 'not started yet' };
  private service: RemoteEndpoint | undefined;
  private client: Promise<RemoteEndpoint> | undefined;
  private serviceEvents: { dispose(): void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly _onDidChangeState = new vscode.EventEmitter<PeerState>();
  private readonly _onEvent = new vscode.EventEmitter<ServiceEvent>();
  private held: ServiceEvent[] | undefined = [];
  readonly onDidChangeState = this._onDidChangeState.event;
  /**
   * What the serving node reports: requests, incoming pushes, clones, refusals. Events that came
   * before anyone subscribed are replayed to the first subscriber.
   */
  readonly onEvent: vscode.Event<ServiceEvent> = (listener, thisArgs, disposables) => {
    const d = this._onEvent.event(listener, thisArgs, disposables);
    const held = this.held;
    this.held = undefined;
    if (held?.length) queueMicrotask(() => held.forEach((e) => !this.disposed && this._onEvent.fire(e)));
    return d;
  };
  /** How long the last successful start took (ms), from the call to listening. */
  startMs: number | undefined;
  /** When the peer last came online (`performance.now()` of this thread; the node listened then, in the worker). */
  onlineAt: number | undefined;
  readonly logger: HostLogger;

  constructor(
    private readonly repo: PeerRepository,
    private readonly host: PeerHostLoader,
    private readonly log: Log,
    private readonly timeline?: StartupTimeline,
  ) {
    const prefix = `[peer ${basename(repo.root)}]`;
    this.logger = {
      debug: (m) => log.debug(`${prefix} ${m}`),
      info: (m) => log.info(`${prefix} ${m}`),
      warn: (m) => log.warn(`${prefix} ${m}`),
      error: (m) => log.error(`${prefix} ${m}`),
    };
    this.disposables.push(
      onDidChangeSettings((e) => {
        const affects = ['patchwork.peer', 'patchwork.author', 'patchwork.mdns', 'patchwork.bootstrapPeers'].some((k) => e.affectsConfiguration(k, repo.rootUri));
        if (!affects) return;
        // The dial-only node follows the discovery settings too.
        const client = this.client;
        this.client = undefined;
        void client?.then((c) => c.stop()).catch(() => undefined);
        const s = readPeerSettings(repo.rootUri);
        if (!s.startOnActivation) void this.stop('patchwork.peer.startOnActivation is off');
        else if (this._state.kind !== 'external') void this.restart();
      }),
    );
  }

  get state(): PeerState {
    return this._state;
  }

  private setState(s: PeerState): void {
    if (this.disposed) return;
    this._state = s;
    this._onDidChangeState.fire(s);
  }

  /** Calls are serialized: a start never overlaps a stop. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Start the node (idempotent; the setting decides whether it does on activation). Never rejects. */
  start(opts: { evenIfOff?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      if (this.disposed || this.service) return;
      if (!vscode.workspace.isTrusted) return this.setState({ kind: 'stopped', reason: 'Restricted Mode (trust the workspace to share it with peers)' });
      const settings = readPeerSettings(this.repo.rootUri);
      if (!settings.startOnActivation && !opts.evenIfOff) return this.setState({ kind: 'stopped', reason: 'patchwork.peer.startOnActivation is off (run "Patchwork: Start Peer")' });
      this.setState({ kind: 'starting' });
      const t0 = performance.now();
      this.timeline?.markOnce(`peer starting: ${this.repo.root}`, t0);
      try {
        const host = await this.host.load();
        // No look at .patch/peer.json first (a round trip to the worker): when another live process
        // serves the repository, the start fails with LOCKED and adoptExternal below shows that one.
        const listen = settings.listen ? [await host.listenAddress(settings.listen.address, settings.listen.port)] : undefined;
        const ep = await hostCall(host.startService(this.repo.root, { listen, owner: 'vscode', logger: this.logger, author: readSettings(this.repo.rootUri).author, discovery: discoveryOf(settings) }));
        if (this.disposed) {
          await ep.stop();
          return;
        }
        this.service = ep;
        this.serviceEvents = ep.onEvent((e) => {
          // A relay slot won or lost changes where we can be reached.
          if (e.type === 'addresses' && this._state.kind === 'online') this.setState({ ...this._state, addresses: e.addresses });
          if (this.held && this.held.length < MAX_HELD_EVENTS) this.held.push(e);
          this._onEvent.fire(e);
        });
        // When the worker had the node listening (this thread may learn of it a little later).
        this.onlineAt = ep.readyAt;
        this.startMs = this.onlineAt - t0;
        const client = this.client;
        this.client = undefined;
        void client?.then((c) => c.stop()).catch(() => undefined);
        const features = Object.entries(ep.features).filter(([, on]) => on).map(([f]) => f);
        const sinceActivate = this.timeline?.markOnce(`peer listening: ${this.repo.root}`, this.onlineAt);
        const after = sinceActivate === undefined ? '' : `; listening ${sinceActivate.toFixed(0)} ms after activate`;
        this.log.info(`Peer ${ep.peerId} for ${this.repo.root} listening on ${ep.addresses().join(', ')} (started in ${this.startMs.toFixed(0)} ms${after}${features.length ? `; discovery: ${features.join(', ')}` : ''})`);
        this.setState({ kind: 'online', peerId: ep.peerId, addresses: ep.addresses(), discovery: features });
      } catch (e) {
        const err = adoptError(e);
        if (isPatchworkError(err, 'LOCKED') && (await this.adoptExternal())) return;
        const text = errorText(err);
        this.log.warn(`The peer for ${this.repo.root} did not start: ${text}`);
        this.setState({ kind: 'failed', reason: text, short: shortReason(err) });
      }
    });
  }

  /** The peer worker stopped unexpectedly: its nodes went with it. */
  workerStopped(error: Error): void {
    const had = !!this.service || !!this.client;
    this.service = undefined;
    this.client = undefined;
    this.serviceEvents?.dispose();
    this.serviceEvents = undefined;
    if (had || this._state.kind === 'starting') this.setState({ kind: 'failed', reason: error.message, short: 'not started' });
  }

  /** If another live process serves this repository, show that instead of starting. */
  private async adoptExternal(): Promise<boolean> {
    const host = await this.host.load();
    const running = await host.runningPeer(this.repo.root);
    if (!running || running.here) return false;
    this.log.info(`The peer for ${this.repo.root} already runs in process ${running.pid} (${running.owner}); not starting a second one`);
    this.setState({ kind: 'external', peerId: running.peerId, addresses: running.addresses, owner: running.owner, pid: running.pid });
    return true;
  }

  /** If the other process serving this repository has gone, start our own (when the setting allows). */
  async recheckExternal(): Promise<void> {
    if (this._state.kind !== 'external') return;
    const running = await (await this.host.load()).runningPeer(this.repo.root);
    if (running && !running.here) return;
    this.setState({ kind: 'stopped', reason: 'the other peer stopped' });
    await this.start();
  }

  stop(reason = 'stopped'): Promise<void> {
    return this.serial(async () => {
      const ep = this.service;
      this.service = undefined;
      this.serviceEvents?.dispose();
      this.serviceEvents = undefined;
      if (ep) {
        await ep.stop().catch((e: unknown) => this.log.warn(`Stopping the peer: ${errorText(e)}`));
        this.log.info(`Peer for ${this.repo.root} stopped (${reason})`);
      }
      this.setState({ kind: 'stopped', reason });
    });
  }

  async restart(): Promise<void> {
    if (this.service || this._state.kind === 'failed' || this._state.kind === 'starting') {
      await this.stop('restarting');
      await this.start();
    }
  }

  /** The serving node when ours runs, else a dial-only node (created once). */
  async endpoint(): Promise<Endpoint> {
    if (this.service) return this.service;
    const host = await this.host.load();
    this.client ??= hostCall(host.startClient(this.repo.root, { logger: this.logger, author: readSettings(this.repo.rootUri).author, discovery: discoveryOf(readPeerSettings(this.repo.rootUri)) })).catch((e: unknown) => {
      this.client = undefined;
      throw e;
    });
    return this.client;
  }

  /** The addresses to give others (our node's, or the process that serves this repository). */
  async addresses(): Promise<string[]> {
    if (this.service) return this.service.addresses();
    const running = await (await this.host.load()).runningPeer(this.repo.root);
    return running?.addresses ?? [];
  }

  /** Re-read the access files in the serving node (after adding or removing a collaborator). */
  async reloadAccess(): Promise<void> {
    await this.service?.reloadAccess();
  }

  dispose(): void {
    const ep = this.service;
    const client = this.client;
    this.service = undefined;
    this.client = undefined;
    this.serviceEvents?.dispose();
    this.disposed = true;
    void ep?.stop().catch(() => undefined);
    void client?.then((c) => c.stop()).catch(() => undefined);
    this.disposables.forEach((d) => d.dispose());
    this._onDidChangeState.dispose();
    this._onEvent.dispose();
  }
}

function discoveryOf(s: PeerSettings): DiscoveryRequest {
  return { mdns: s.mdns, bootstrap: [...s.bootstrapPeers] };
}

/** A few words for the status bar item: why the peer is not running. */
export function shortReason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  if (/already in use/.test(text)) return 'port in use';
  if (/not on this machine|not an IP address/.test(text)) return 'bad address';
  if (/not a port/.test(text)) return 'bad port';
  if (/bootstrap/i.test(text)) return 'bad bootstrap peer';
  if (/permission denied/i.test(text)) return 'no permission';
  return 'not started';
}
