/**
 * PeerService: one repository's running peer, for `patchwork start` and the VS Code extension.
 * It owns the node's lifecycle, serves clone/fetch/push to collaborators, watches patchwork.toml and
 * invites.json (a removed collaborator is disconnected within moments), records itself in
 * `.patch/peer.json` so a second peer for the same repository refuses to start, and reports what
 * happens as events (requests, refusals, incoming pushes) for logs and notifications. Its
 * fetch/pull/push methods use the same node as a client.
 *
 * Discovery (discovery.ts) follows the repository's `[p2p]` settings, all off until configured: with
 * mDNS on, a collaborator's answer on the local network is dialled and, when the peer proves its id,
 * recorded as its first known address; with a DHT the peer serves lookups to collaborators; with
 * relays it holds a slot on each and advertises the circuit address (peer.json follows).
 */
import { watch, type FSWatcher } from 'node:fs';
import { multiaddr } from '@multiformats/multiaddr';
import { Repository, type RepoConfig } from '../engine/index.js';
import { AccessControl } from './access.js';
import { serveClone, type CloneServed } from './clone.js';
import { ensureIdentity, listenSetting, touchCollaborator, type Collaborator } from './collaborators.js';
import { P2PError } from './errors.js';
import { serveFetch, type FetchResult, type PullResult } from './fetch.js';
import { silentLogger, type P2PLogger } from './log.js';
import { fetchAll, pullAll, pushAll, type PeerOutcome } from './multi.js';
import { AddressLearner, discoveryOptions, discoverySettings, type DiscoverySettings } from './discovery.js';
import { createPeerNode, type PeerNode, type PeerNodeOptions } from './node.js';
import { claimPeerFile, type PeerFileHandle } from './peer-file.js';
import { serveProtocol, type RequestContext } from './protocol.js';
import { servePush, type PushReceived, type PushResult } from './push.js';
import { CLONE_PROTOCOL, FETCH_PROTOCOL, PUSH_PROTOCOL, shortId, type SyncOptions } from './sync-common.js';

export const DEFAULT_SERVICE_LISTEN = ['/ip4/0.0.0.0/tcp/0'];

export type ServedProtocol = 'clone' | 'fetch' | 'push';

export type PeerServiceEvent =
  | { type: 'request'; protocol: ServedProtocol; peer: string; name: string }
  | { type: 'served'; protocol: 'fetch'; peer: string; name: string; objects: number; bytes: number; ms: number }
  | { type: 'cloned'; peer: string; name: string; role: CloneServed['role']; invited: boolean; objects: number; bytes: number; ms: number }
  | { type: 'pushed'; peer: string; name: string; push: PushReceived; ms: number }
  | { type: 'refused'; protocol: ServedProtocol | 'connection'; peer: string; name?: string; reason: string }
  | { type: 'failed'; protocol: ServedProtocol; peer: string; name: string; error: string }
  | { type: 'access-changed'; collaborators: number; disconnected: string[] }
  /** A collaborator was found at a new address (mDNS) and answered there; it is now its first known address. */
  | { type: 'discovered'; peer: string; name: string; address: string; source: 'mdns' }
  /** This peer's own addresses changed (e.g. a relay slot was reserved or lost). */
  | { type: 'addresses'; addresses: string[] }
  | { type: 'config-error'; message: string };

export interface Disposable {
  dispose(): void;
}

export interface PeerServiceOptions {
  /** Listen multiaddrs (default: the `p2p.listen` setting, else /ip4/0.0.0.0/tcp/0). */
  listen?: string[];
  logger?: P2PLogger;
  /** Recorded in peer.json: "cli" or "vscode". */
  owner?: string;
  /** Claim `.patch/peer.json` (default true). */
  claimPeerFile?: boolean;
  /** Watch patchwork.toml / invites.json and poll them every `pollMs` (default true, 2000). */
  watch?: boolean;
  pollMs?: number;
  /**
   * Discovery on top of the repository's `[p2p]` settings (command-line flags): true switches on,
   * lists add. `node.discovery`, when given, replaces both.
   */
  discovery?: Partial<DiscoverySettings>;
  /** The repository's configuration, when the caller has just read it (one read fewer before listening). */
  config?: RepoConfig;
  /** Transport options (tests, benchmarks). */
  node?: Partial<Omit<PeerNodeOptions, 'privateKey' | 'isAllowed' | 'isCollaborator' | 'listen' | 'logger'>>;
}

export class PeerService {
  private readonly listeners = new Set<(e: PeerServiceEvent) => void>();
  private readonly reserved = new Set<string>();
  /** Peers in the middle of a clone: not cut off when access is re-evaluated. */
  private readonly cloning = new Map<string, number>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastProblem: string | undefined;
  private learner: AddressLearner | undefined;
  private addressesKey = '';

  private constructor(
    readonly repo: Repository,
    readonly node: PeerNode,
    readonly access: AccessControl,
    private readonly peerFile: PeerFileHandle | undefined,
    private readonly log: P2PLogger,
    readonly repoName: string,
    readonly ownerName: string,
  ) {}

  static async start(repo: Repository, opts: PeerServiceOptions = {}): Promise<PeerService> {
    const log = opts.logger ?? silentLogger;
    const config = opts.config ?? (await repo.config());
    const identity = await ensureIdentity(repo);
    for (const w of identity.warnings) log.warn(w);
    const listen = opts.listen ?? listenSetting(config) ?? DEFAULT_SERVICE_LISTEN;
    const discovery = opts.node?.discovery ?? discoveryOptions(discoverySettings(config, opts.discovery), 'serve');
    const ownerName = (await repo.identity(config)).name;
    const peerFile = opts.claimPeerFile === false ? undefined : await claimPeerFile(repo, identity.peerId, opts.owner ?? 'cli');
    const access = new AccessControl(repo);
    let service: PeerService | undefined;
    let node: PeerNode;
    try {
      node = await createPeerNode({
        ...opts.node,
        discovery: discovery && {
          ...discovery,
          onPeer: (p) => void service?.learner?.onPeer(p).catch(() => undefined),
        },
        privateKey: identity.privateKey,
        listen,
        logger: log,
        isAllowed: (peer) => {
          const ok = access.gate(peer);
          if (!ok) service?.emit({ type: 'refused', protocol: 'connection', peer, reason: 'not a collaborator' });
          return ok;
        },
        isCollaborator: (peer) => access.canFetch(peer),
      });
    } catch (e) {
      await peerFile?.release();
      throw e;
    }
    service = new PeerService(repo, node, access, peerFile, log, config.repository.name, ownerName);
    try {
      service.learner = service.addressLearner();
      await service.serve();
      service.addressesKey = node.addresses().join(' ');
      await peerFile?.update(node.addresses());
      service.followAddresses();
      if (opts.watch !== false) service.watch(opts.pollMs ?? 2000);
    } catch (e) {
      await service.stop();
      throw e;
    }
    if (access.problem) service.configProblem(access.problem);
    return service;
  }

  get peerId(): string {
    return this.node.peerId;
  }

  addresses(): string[] {
    return this.node.addresses();
  }

  collaborators(): Collaborator[] {
    return this.access.collaborators();
  }

  /** Subscribe to events; dispose() unsubscribes. */
  onEvent(listener: (e: PeerServiceEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(e: PeerServiceEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error(`event listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private who(peer: string): string {
    const c = this.access.collaborator(peer);
    return c ? `${c.name} (${peer})` : peer;
  }

  private nameOf(peer: string): string {
    return this.access.collaborator(peer)?.name ?? shortId(peer);
  }

  // ---------------------------------------------------------------- serving

  private async serve(): Promise<void> {
    const repoName = this.repoName;
    const refuse = (protocol: ServedProtocol, peer: string, reason: string) => {
      this.emit({ type: 'refused', protocol, peer, name: this.access.collaborator(peer)?.name, reason });
      return false;
    };
    const handle = (protocol: ServedProtocol, run: (ctx: RequestContext, t0: number) => Promise<void>) => async (ctx: RequestContext) => {
      const t0 = Date.now();
      this.emit({ type: 'request', protocol, peer: ctx.peer, name: this.nameOf(ctx.peer) });
      this.log.info(`${protocol} request from ${this.who(ctx.peer)}`);
      try {
        await run(ctx, t0);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        if (e instanceof P2PError && e.code === 'REFUSED' && !e.remote) {
          this.log.warn(`refused ${protocol} from ${this.who(ctx.peer)}: ${reason}`);
          refuse(protocol, ctx.peer, reason);
        } else {
          this.emit({ type: 'failed', protocol, peer: ctx.peer, name: this.nameOf(ctx.peer), error: reason });
        }
        throw e;
      }
    };

    await serveProtocol(
      this.node,
      FETCH_PROTOCOL,
      handle('fetch', async (ctx, t0) => {
        await serveFetch(ctx, this.repo, (r) => {
          const ms = Date.now() - t0;
          this.log.info(`fetch by ${this.who(ctx.peer)}: sent ${r.objects} objects (${r.bytes} bytes) in ${ms} ms`);
          this.emit({ type: 'served', protocol: 'fetch', peer: ctx.peer, name: this.nameOf(ctx.peer), objects: r.objects, bytes: r.bytes, ms });
          void touchCollaborator(this.repo, ctx.peer, r.addresses).catch(() => undefined);
        });
      }),
      { repoName, isAllowed: (p) => this.access.canFetch(p) || refuse('fetch', p, `not a collaborator of ${repoName}`) },
    );

    await serveProtocol(
      this.node,
      PUSH_PROTOCOL,
      handle('push', async (ctx, t0) => {
        const c = this.access.collaborator(ctx.peer);
        const writer = c?.role === 'writer';
        await servePush(ctx, this.repo, { writer, refusal: `${c?.name ?? ctx.peer} is a reader of ${repoName}: only writers may push` }, (r) => {
          const ms = Date.now() - t0;
          const what = r.outcome === 'delivered' ? `delivered (${r.reason}); waiting for you to merge` : r.outcome;
          this.log.info(`push by ${this.who(ctx.peer)}: ${r.commits} new commit${r.commits === 1 ? '' : 's'}, ${r.objects} objects${r.branch ? `; ${r.branch}: ${what}` : ''}`);
          this.emit({ type: 'pushed', peer: ctx.peer, name: this.nameOf(ctx.peer), push: r, ms });
          void touchCollaborator(this.repo, ctx.peer, r.addresses).catch(() => undefined);
        });
      }),
      { repoName, isAllowed: (p) => this.access.canFetch(p) || refuse('push', p, `not a collaborator of ${repoName}`) },
    );

    await serveProtocol(
      this.node,
      CLONE_PROTOCOL,
      handle('clone', async (ctx, t0) => {
        this.cloning.set(ctx.peer, (this.cloning.get(ctx.peer) ?? 0) + 1);
        try {
          await serveClone(
            ctx,
            {
              repo: this.repo,
              ownerName: this.ownerName,
              collaborator: (p) => this.access.collaborator(p),
              reserve: (id) => !this.reserved.has(id) && !!this.reserved.add(id),
              release: (id) => void this.reserved.delete(id),
            },
            (r) => {
              const ms = Date.now() - t0;
              this.log.info(`clone by ${r.name} (${r.peer})${r.invited ? ` with an invite, now a ${r.role}` : ''}: sent ${r.objects} objects in ${ms} ms`);
              this.emit({ type: 'cloned', ...r, ms });
            },
          );
        } finally {
          const n = (this.cloning.get(ctx.peer) ?? 1) - 1;
          if (n > 0) this.cloning.set(ctx.peer, n);
          else this.cloning.delete(ctx.peer);
        }
      }),
      // The handler checks collaborator-or-invite-secret itself; an unknown peer only gets this far
      // while an invite is outstanding.
      { repoName, isAllowed: (p) => this.access.gate(p) || refuse('clone', p, `not a collaborator of ${repoName}`) },
    );
  }

  // ---------------------------------------------------------------- discovery

  /** What to do with an mDNS answer: see AddressLearner (discovery.ts). */
  addressLearner(): AddressLearner {
    return new AddressLearner({
      repo: this.repo,
      log: this.log,
      isCollaborator: (p) => this.access.canFetch(p),
      knownAddresses: (p) => this.access.collaborator(p)?.addresses ?? [],
      verify: async (peer, addresses) => {
        // A fresh outbound connection to exactly these addresses (an existing one, e.g. the peer's
        // inbound connection to us, would say nothing about them); libp2p checks the peer id.
        const conn = await this.node.libp2p.dial(
          addresses.map((a) => multiaddr(a)),
          { signal: AbortSignal.timeout(10_000), force: true },
        );
        return conn.remotePeer.toString() === peer && conn.direction === 'outbound' ? conn.remoteAddr.toString() : undefined;
      },
      onLearned: (peer, address) => {
        this.log.info(`found ${this.who(peer)} on the local network at ${address}`);
        this.emit({ type: 'discovered', peer, name: this.nameOf(peer), address, source: 'mdns' });
      },
    });
  }

  /** Keep peer.json (what `invite` and one-shot commands advertise) in step with our addresses. */
  private followAddresses(): void {
    const onChange = () => {
      if (this.stopped) return;
      const addresses = this.node.addresses();
      const key = addresses.join(' ');
      if (key === this.addressesKey) return;
      this.addressesKey = key;
      this.log.info(`now reachable at ${addresses.join(', ') || '(no addresses)'}`);
      void this.peerFile?.update(addresses).catch(() => undefined);
      this.emit({ type: 'addresses', addresses });
    };
    this.node.libp2p.addEventListener('self:peer:update', onChange);
  }

  // ---------------------------------------------------------------- access changes

  private watch(pollMs: number): void {
    const poke = () => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reloadAccess(), 30);
      this.debounce.unref?.();
    };
    try {
      this.watcher = watch(this.repo.patchDir, { persistent: false }, (_event, file) => {
        if (file === null || file === 'patchwork.toml' || file === 'invites.json') poke();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // no fs.watch on this filesystem: the poll below still notices changes
    }
    this.timer = setInterval(() => void this.reloadAccess(), pollMs);
    this.timer.unref?.();
  }

  private configProblem(message: string): void {
    if (this.lastProblem === message) return;
    this.lastProblem = message;
    this.log.error(`${message} Nobody is admitted until it is fixed.`);
    this.emit({ type: 'config-error', message });
  }

  /**
   * Re-read the access files and close the connections of every peer that is no longer a
   * collaborator (peers in the middle of an invited clone are left alone). Returns who was cut off.
   * Call it after changing collaborators in this process; other processes' changes are noticed by
   * the watcher.
   */
  async reloadAccess(): Promise<string[]> {
    if (this.stopped) return [];
    this.access.refresh();
    if (this.access.problem) this.configProblem(this.access.problem);
    else this.lastProblem = undefined;
    const cut = new Set<string>();
    for (const conn of this.node.libp2p.getConnections()) {
      const id = conn.remotePeer.toString();
      // Our own connections to the configured bootstrap peers and relays carry the DHT and relay
      // service; they are not access to this repository (every handler still checks).
      if (conn.direction === 'outbound' && this.node.servicePeers.has(id)) continue;
      if (!this.access.canFetch(id) && !this.cloning.has(id)) cut.add(id);
    }
    // A never-known peer connected while an invite is outstanding may stay (it may be about to
    // clone); a former collaborator may not. Handlers refuse both anything but a valid invite.
    if (this.access.invitesOutstanding()) {
      for (const id of [...cut]) if (!this.access.wasCollaborator(id)) cut.delete(id);
    }
    for (const id of cut) {
      this.log.warn(`closing connections of ${id}: no longer a collaborator`);
      await this.node.disconnect(id);
    }
    if (cut.size) this.emit({ type: 'access-changed', collaborators: this.access.collaborators().length, disconnected: [...cut] });
    return [...cut];
  }

  // ---------------------------------------------------------------- client side

  fetch(peers: string[] = [], opts: SyncOptions = {}): Promise<PeerOutcome<FetchResult>[]> {
    return fetchAll(this.node, this.repo, peers, opts);
  }

  pull(peers: string[] = [], opts: SyncOptions = {}): Promise<PeerOutcome<PullResult>[]> {
    return pullAll(this.node, this.repo, peers, opts);
  }

  push(peers: string[] = [], opts: SyncOptions = {}): Promise<PeerOutcome<PushResult>[]> {
    return pushAll(this.node, this.repo, peers, opts);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    try {
      await this.node.stop();
    } finally {
      await this.peerFile?.release();
      this.listeners.clear();
    }
  }
}

/** Start serving `repo`; the same as PeerService.start. */
export function startPeer(repo: Repository, opts: PeerServiceOptions = {}): Promise<PeerService> {
  return PeerService.start(repo, opts);
}
