/**
 * How a peer finds its collaborators beyond the addresses written in patchwork.toml. Every mechanism
 * is off until configured, and none of them admits anyone: they only produce candidate addresses.
 * Whoever answers at such an address must still prove its peer id in the Noise handshake, pass the
 * connection gate and every protocol handler's check (node.ts, protocol.ts).
 *
 *   mDNS   `p2p.mdns = true`            peers on the local network answer a multicast query
 *                                       (`@libp2p/mdns`, service `_patchwork._udp.local`).
 *   DHT    `p2p.bootstrap = [ma…]`      a Kademlia DHT on the private protocol /patchwork/kad/1.0.0
 *          `p2p.dht = true`             (`@libp2p/kad-dht`, `@libp2p/bootstrap`): find a peer id's
 *                                       addresses. A running peer is a DHT server, one-shot commands
 *                                       are clients. `p2p.dht` alone = a bootstrap node itself.
 *   relay  `p2p.relays = [ma…]`         circuit relay v2 (`@libp2p/circuit-relay-v2`): a running peer
 *                                       reserves a slot on each relay and advertises
 *                                       `<relay>/p2p-circuit/p2p/<id>`; dialers try that route.
 *          `p2p.relay_server = true`    act as a relay, for this repository's collaborators only.
 *
 * The packages are loaded with dynamic imports only when their setting is on, so a node without
 * discovery pays nothing for them at start-up.
 */
import { KEEP_ALIVE, type Connection, type ConnectionGater, type PeerDiscovery, type PeerId, type PeerInfo, type Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Libp2p, Libp2pOptions } from 'libp2p';
import { PatchworkError, type RepoConfig, type Repository } from '../engine/index.js';
import { MAX_ADDRESSES, collaboratorsOf, normalizeAddress, peerIdOfAddress, setCollaborators } from './collaborators.js';
import type { P2PLogger } from './log.js';

/** Our own DHT: never the public IPFS one (`/ipfs/kad/1.0.0`), so a node cannot join it by accident. */
export const DHT_PROTOCOL = '/patchwork/kad/1.0.0';
/** mDNS service name: only Patchwork peers answer (libp2p's default `_p2p._udp.local` is every libp2p node). */
export const MDNS_SERVICE_TAG = '_patchwork._udp.local';
/** Circuit relay v2's hop protocol, served by relay servers. */
export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';
/** Defaults of the relay server (those of @libp2p/circuit-relay-v2 except the per-connection limits). */
export const RELAY_SERVER_DEFAULTS = { maxReservations: 15, reservationTtlMs: 2 * 60 * 60_000, hopTimeoutMs: 30_000 } as const;
/** How often a peer without a slot on a configured relay tries again. */
export const RELAY_RETRY_MS = 30_000;
/** How long a one-shot command waits for mDNS answers before giving up on the local network. */
export const MDNS_WAIT_MS = 2_000;
/** How long a DHT lookup may take. */
export const DHT_LOOKUP_MS = 15_000;

// ------------------------------------------------------------------ settings

/** The `[p2p]` discovery settings of patchwork.toml, validated. */
export interface DiscoverySettings {
  /** `p2p.mdns` (default false). */
  mdns: boolean;
  /** `p2p.dht` (default: true when `p2p.bootstrap` is set). */
  dht: boolean;
  /** `p2p.bootstrap`: multiaddrs ending in /p2p/<id> (default none). */
  bootstrap: string[];
  /** `p2p.relays`: multiaddrs of relays ending in /p2p/<id> (default none). */
  relays: string[];
  /** `p2p.relay_server` (default false). */
  relayServer: boolean;
}

export const NO_DISCOVERY: DiscoverySettings = Object.freeze({ mdns: false, dht: false, bootstrap: [], relays: [], relayServer: false }) as DiscoverySettings;

function settingError(key: string, why: string, example: string): PatchworkError {
  return new PatchworkError('INVALID_CONFIG', `The setting p2p.${key} ${why}.`, `For example: ${example}`);
}

function boolSetting(p2p: Record<string, unknown>, key: string): boolean | undefined {
  const v = p2p[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw settingError(key, 'must be true or false', `patchwork config p2p.${key} true`);
}

/** A list of peer addresses (`/…/p2p/<id>`), as a TOML array or one string separated by spaces or commas. */
export function peerAddressList(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  const list = typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : Array.isArray(v) ? v : undefined;
  const example = `patchwork config p2p.${key} /ip4/203.0.113.7/tcp/4100/p2p/12D3KooW…`;
  if (!list) throw settingError(key, 'must be a multiaddr or a list of them', example);
  const out: string[] = [];
  for (const a of list.slice(0, 64)) {
    const id = typeof a === 'string' ? peerIdOfAddress(a) : undefined;
    const n = id === undefined ? undefined : normalizeAddress(a, id);
    if (n === undefined) throw settingError(key, `has "${String(a).slice(0, 120)}", which is not a multiaddr ending in /p2p/<peer id>`, example);
    if (n.includes('/p2p-circuit')) throw settingError(key, `has a relayed address (${n.slice(0, 120)}); give the peer's own address`, example);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * Discovery settings from the configuration, with `overrides` (command-line flags) on top. Flags
 * add to the lists; `mdns`, `dht` and `relayServer` flags switch on.
 */
export function discoverySettings(config: RepoConfig, overrides: Partial<DiscoverySettings> = {}): DiscoverySettings {
  const raw = config.p2p;
  const p2p = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const bootstrap = [...new Set([...peerAddressList(p2p.bootstrap, 'bootstrap'), ...peerAddressList(overrides.bootstrap, 'bootstrap')])];
  const relays = [...new Set([...peerAddressList(p2p.relays, 'relays'), ...peerAddressList(overrides.relays, 'relays')])];
  return {
    mdns: overrides.mdns ?? boolSetting(p2p, 'mdns') ?? false,
    dht: overrides.dht ?? boolSetting(p2p, 'dht') ?? bootstrap.length > 0,
    bootstrap,
    relays,
    relayServer: overrides.relayServer ?? boolSetting(p2p, 'relay_server') ?? false,
  };
}

export function discoveryEnabled(s: DiscoverySettings): boolean {
  return s.mdns || s.dht || s.relays.length > 0 || s.relayServer;
}

// ------------------------------------------------------------------ node options

/** What `createPeerNode` takes (see node.ts); built from settings by `discoveryOptions`. */
export interface DiscoveryOptions {
  /** Local-network discovery. `interval`: ms between queries (default 10 s). */
  mdns?: boolean | { interval?: number };
  /**
   * Kademlia DHT. `mode`: 'server' answers queries (a running peer; default when the node listens),
   * 'client' only asks (one-shot commands). Bootstrap peers are dialled at start by a server and
   * on demand by a client.
   */
  dht?: { bootstrap: string[]; mode?: 'client' | 'server' };
  /**
   * Circuit relay (client side). A listening node reserves a slot on each relay and advertises the
   * circuit address (unless `listen` is false); every node can dial `/p2p-circuit` addresses and, as
   * a last resort, tries to reach a peer through each relay.
   */
  relay?: { relays: string[]; listen?: boolean; retryMs?: number };
  /** Serve as a circuit relay for collaborators (`isCollaborator`) only. */
  relayServer?: boolean | { maxReservations?: number; reservationTtlMs?: number };
  /** Every peer a discovery mechanism reports (for mDNS: every answer; addresses are unverified). */
  onPeer?(peer: DiscoveredPeer): void;
}

export interface DiscoveredPeer {
  id: string;
  /** Multiaddrs ending in /p2p/<id>, as announced (not verified). */
  addresses: string[];
  source: 'mdns';
}

export interface DiscoveryFeatures {
  mdns: boolean;
  dht: boolean;
  relay: boolean;
  relayServer: boolean;
}

/** Node options for a repository's settings. `serve`: a running peer (`start`, the extension); `dial`: a one-shot command. */
export function discoveryOptions(s: DiscoverySettings, role: 'serve' | 'dial', addressesInUse: string[] = []): DiscoveryOptions | undefined {
  const circuit = addressesInUse.some((a) => a.includes('/p2p-circuit'));
  const o: DiscoveryOptions = {};
  if (s.mdns) o.mdns = true;
  if (s.dht) o.dht = { bootstrap: s.bootstrap, mode: role === 'serve' ? 'server' : 'client' };
  // A dialer needs the relay transport as soon as any known address is a circuit address.
  if (s.relays.length || circuit) o.relay = { relays: s.relays, listen: role === 'serve' };
  if (role === 'serve' && s.relayServer) o.relayServer = true;
  return Object.keys(o).length ? o : undefined;
}

// ------------------------------------------------------------------ building the node

type Init = Libp2pOptions;
type TransportFactory = NonNullable<Init['transports']>[number];
type DiscoveryFactory = NonNullable<Init['peerDiscovery']>[number];
type ServiceFactory = NonNullable<Init['services']>[string];
type Listener = ReturnType<ReturnType<TransportFactory>['createListener']>;

interface FindPeerEvent {
  name: string;
  peer?: PeerInfo;
}
interface DhtService {
  findPeer(id: PeerId, options: { signal?: AbortSignal; useCache?: boolean }): AsyncIterable<FindPeerEvent>;
}

export interface DiscoveryContext {
  log: P2PLogger;
  /** Strict: a collaborator (not merely someone the gate admits while an invite is outstanding). */
  isCollaborator(peerId: string): boolean;
  /** Does the node listen anywhere (so it can answer mDNS queries, hold a relay slot, serve the DHT)? */
  listening: boolean;
}

/** Pieces for createLibp2p, then `attach` once the node exists (before it starts). */
export interface DiscoveryParts {
  features: DiscoveryFeatures;
  /** Peer ids of the configured bootstrap peers and relays: we dial them for the service, not to sync. */
  servicePeers: ReadonlySet<string>;
  transports: TransportFactory[];
  peerDiscovery: DiscoveryFactory[];
  services: Record<string, ServiceFactory>;
  listen: string[];
  gater: Pick<ConnectionGater, 'denyInboundRelayReservation' | 'denyOutboundRelayedConnection'>;
  /** Summary for logs, e.g. "mDNS, DHT server (1 bootstrap peer), relay via 1 relay". */
  describe(): string;
  attach(node: Libp2p): ActiveDiscovery;
}

export interface LocateOptions {
  signal?: AbortSignal;
  /** Overall deadline (default DHT_LOOKUP_MS). */
  timeoutMs?: number;
}

export interface ActiveDiscovery {
  /**
   * Candidate addresses for a peer found by the enabled mechanisms (mDNS answers, a DHT lookup,
   * routes through the configured relays); [] when none is on or nothing was found. Unverified.
   */
  locate(peerId: string, opts?: LocateOptions): Promise<string[]>;
  /** After the node started. */
  started(): void;
  stop(): void;
}

const inert: ActiveDiscovery = { locate: () => Promise.resolve([]), started: () => undefined, stop: () => undefined };

const errText = (e: unknown): string => {
  if (e instanceof Error) return e.message;
  // libp2p sometimes rejects with an abort Event rather than an Error.
  if (typeof e === 'object' && e !== null && 'type' in e) return `${String((e as { type: unknown }).type)} (timed out or cancelled)`;
  return String(e);
};

/**
 * Build the libp2p pieces for `opts`: each package is imported only when its feature is on.
 */
export async function loadDiscovery(opts: DiscoveryOptions | undefined, ctx: DiscoveryContext): Promise<DiscoveryParts> {
  const log = ctx.log;
  const features: DiscoveryFeatures = {
    mdns: opts?.mdns !== undefined && opts.mdns !== false,
    dht: opts?.dht !== undefined,
    relay: opts?.relay !== undefined,
    relayServer: opts?.relayServer !== undefined && opts.relayServer !== false,
  };
  let mdnsService: PeerDiscovery | undefined;
  let dhtService: DhtService | undefined;
  const seen = new Map<string, { addresses: string[]; at: number }>();
  const waiters = new Set<() => void>();
  let mdnsStartedAt = 0;
  const dhtMode = opts?.dht?.mode ?? (ctx.listening ? 'server' : 'client');
  const bootstrap = (opts?.dht?.bootstrap ?? []).map((a) => multiaddr(a));
  const relays = opts?.relay?.relays ?? [];
  const parts: DiscoveryParts = {
    features,
    servicePeers: new Set([...bootstrap, ...relays].flatMap((a) => peerIdOfAddress(a.toString()) ?? [])),
    transports: [],
    peerDiscovery: [],
    services: {},
    listen: [],
    gater: {},
    describe: () => describeFeatures(features, opts, dhtMode),
    attach: () => inert,
  };
  if (!opts || !Object.values(features).some(Boolean)) return parts;


  if (features.mdns) {
    const { mdns } = await import('@libp2p/mdns');
    const interval = typeof opts.mdns === 'object' ? opts.mdns.interval : undefined;
    // A dial-only node has nothing to announce: it only asks (mdns answers need listen addresses).
    const factory = mdns({ serviceTag: MDNS_SERVICE_TAG, interval, broadcast: ctx.listening });
    parts.peerDiscovery.push((components) => {
      const service = factory(components as Parameters<typeof factory>[0]);
      service.addEventListener('peer', (evt) => {
        const id = evt.detail.id.toString();
        const addresses = evt.detail.multiaddrs.flatMap((m) => normalizeAddress(m.toString(), id) ?? []).slice(0, MAX_ADDRESSES);
        if (!addresses.length) return;
        seen.set(id, { addresses, at: Date.now() });
        for (const w of waiters) w();
        try {
          opts.onPeer?.({ id, addresses, source: 'mdns' });
        } catch (e) {
          log.error(`mDNS handler failed: ${errText(e)}`);
        }
      });
      mdnsService = service;
      return service;
    });
  }

  if (features.dht) {
    const { kadDHT, passthroughMapper } = await import('@libp2p/kad-dht');
    const factory = kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: dhtMode === 'client',
      // Keep private and loopback addresses: teams run this on LANs and VPNs (the public-DHT default
      // strips them).
      peerInfoMapper: passthroughMapper,
      logPrefix: 'libp2p:patchwork-kad',
      // Lookups wait for the first self-query, which libp2p starts 1 s after start by default;
      // start it at once (it waits for a routing-table peer anyway).
      initialQuerySelfInterval: 0,
    });
    parts.services.dht = (components) => {
      const service = factory(components as unknown as Parameters<typeof factory>[0]);
      dhtService = service as unknown as DhtService;
      return service;
    };
    if (dhtMode === 'server' && bootstrap.length) {
      const { bootstrap: bootstrapDiscovery } = await import('@libp2p/bootstrap');
      // Dial at once (default: after 1 s) and tag them keep-alive so libp2p reconnects after a drop.
      parts.peerDiscovery.push(bootstrapDiscovery({ list: opts.dht?.bootstrap ?? [], timeout: 0, tagName: `${KEEP_ALIVE}-patchwork-bootstrap` }));
    }
  }

  if (features.relay) {
    const { circuitRelayTransport } = await import('@libp2p/circuit-relay-v2');
    const factory = circuitRelayTransport({ reservationCompletionTimeout: 10_000 });
    const retryMs = opts.relay?.retryMs ?? RELAY_RETRY_MS;
    parts.transports.push((components) => patientRelayTransport(factory(components as Parameters<typeof factory>[0]), log, retryMs));
    if (opts.relay?.listen ?? ctx.listening) parts.listen.push(...relays.map((r) => `${r}/p2p-circuit`));
  }

  if (features.relayServer) {
    const { circuitRelayServer } = await import('@libp2p/circuit-relay-v2');
    const o = typeof opts.relayServer === 'object' ? opts.relayServer : {};
    const factory = circuitRelayServer({
      hopTimeout: RELAY_SERVER_DEFAULTS.hopTimeoutMs,
      reservations: {
        maxReservations: o.maxReservations ?? RELAY_SERVER_DEFAULTS.maxReservations,
        reservationTtl: o.reservationTtlMs ?? RELAY_SERVER_DEFAULTS.reservationTtlMs,
        // The circuit v2 default (128 KiB and 2 minutes per relayed connection) is meant for public
        // relays that only help two strangers start a direct connection; it would cut off any real
        // transfer. Only collaborators may use this relay, so relayed connections are not limited.
        applyDefaultLimit: false,
      },
    });
    parts.services.relay = (components) => factory(components as Parameters<typeof factory>[0]);
    parts.gater.denyInboundRelayReservation = (peer) => {
      const ok = ctx.isCollaborator(peer.toString());
      if (!ok) log.warn(`refused a relay reservation from ${peer.toString()}: not a collaborator`);
      return !ok;
    };
    parts.gater.denyOutboundRelayedConnection = (source, destination) => {
      const ok = ctx.isCollaborator(source.toString()) && ctx.isCollaborator(destination.toString());
      if (!ok) log.warn(`refused to relay ${source.toString()} to ${destination.toString()}: both must be collaborators`);
      return !ok;
    };
  }

  parts.attach = (node) => {
    // DHT queries are a service for collaborators (and the bootstrap peers we chose, which keep
    // their routing tables fresh by asking us). The gate already admits nobody else, except unknown
    // peers while an invite is outstanding (they may only clone), so inbound DHT streams check the
    // strict list again. (Relaying is checked by the gater's relay hooks above: libp2p's
    // stream middleware breaks the hop stream that becomes the relayed connection, seen here.)
    const guard = (what: string) => (stream: Stream, connection: Connection, next: (s: Stream, c: Connection) => void) => {
      const peer = connection.remotePeer.toString();
      if (stream.direction === 'inbound' && !ctx.isCollaborator(peer) && !parts.servicePeers.has(peer)) {
        log.warn(`refused ${what} for ${peer}: not a collaborator`);
        throw new Error(`${what} is only for collaborators`);
      }
      next(stream, connection);
    };
    if (features.dht) node.use(DHT_PROTOCOL, guard('a DHT query'));

    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const connectedTo = (ma: Multiaddr) => {
      const id = peerIdOfAddress(ma.toString());
      return id !== undefined && node.getConnections(peerIdFromString(id)).some((c) => c.status === 'open');
    };
    /** Dial every bootstrap peer we are not connected to; resolves when at least one connection is open. */
    const ensureBootstrap = async (signal?: AbortSignal): Promise<boolean> => {
      if (bootstrap.some(connectedTo)) return true;
      const results = await Promise.allSettled(bootstrap.map((ma) => node.dial(ma, { signal })));
      for (const [i, r] of results.entries()) if (r.status === 'rejected') log.debug?.(`bootstrap peer ${bootstrap[i]!.toString()} unreachable: ${errText(r.reason)}`);
      return results.some((r) => r.status === 'fulfilled');
    };

    const fromMdns = async (peerId: string, deadline: number, signal?: AbortSignal): Promise<string[]> => {
      // Answers to the query sent at start usually arrive within milliseconds; wait a little for a
      // peer that has not answered yet.
      const until = Math.min(deadline, mdnsStartedAt + MDNS_WAIT_MS);
      while (!seen.has(peerId) && Date.now() < until && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, Math.max(1, until - Date.now()));
          function done() {
            clearTimeout(t);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
        });
      }
      return seen.get(peerId)?.addresses ?? [];
    };

    const fromDht = async (peerId: string, signal: AbortSignal): Promise<string[]> => {
      if (!dhtService) return [];
      if (bootstrap.length && !(await ensureBootstrap(signal))) {
        log.warn('DHT: no bootstrap peer answers');
      }
      try {
        for await (const e of dhtService.findPeer(peerIdFromString(peerId), { signal, useCache: false })) {
          if (e.name === 'FINAL_PEER' && e.peer?.id.toString() === peerId) {
            return e.peer.multiaddrs.flatMap((m) => normalizeAddress(m.toString(), peerId) ?? []).slice(0, MAX_ADDRESSES);
          }
        }
      } catch (e) {
        log.debug?.(`DHT lookup of ${peerId}: ${errText(e)}`);
      }
      return [];
    };

    return {
      async locate(peerId, o = {}) {
        const timeoutMs = o.timeoutMs ?? DHT_LOOKUP_MS;
        const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
        const deadline = Date.now() + timeoutMs;
        const none = Promise.resolve<string[]>([]);
        const found = await Promise.all([features.mdns ? fromMdns(peerId, deadline, signal) : none, features.dht ? fromDht(peerId, signal) : none]);
        // Through each relay: works when the peer holds a reservation there.
        const viaRelays = relays.filter((r) => peerIdOfAddress(r) !== peerId).map((r) => `${r}/p2p-circuit/p2p/${peerId}`);
        return [...new Set([...found.flat(), ...viaRelays])];
      },
      started() {
        mdnsStartedAt = Date.now();
        if (mdnsService) log.info(`mDNS: looking for peers on the local network (${MDNS_SERVICE_TAG})`);
        if (features.dht && dhtMode === 'server' && bootstrap.length) {
          // libp2p gives up reconnecting after a few tries; a running peer keeps trying, slowly.
          timer = setInterval(() => {
            if (!stopped) void ensureBootstrap().catch(() => undefined);
          }, 60_000);
          timer.unref?.();
        }
      },
      stop() {
        stopped = true;
        if (timer) clearInterval(timer);
        for (const w of waiters) w();
      },
    };
  };
  return parts;
}

function describeFeatures(f: DiscoveryFeatures, opts: DiscoveryOptions | undefined, dhtMode: string): string {
  const out: string[] = [];
  if (f.mdns) out.push('mDNS on the local network');
  if (f.dht) {
    const n = opts?.dht?.bootstrap.length ?? 0;
    out.push(`DHT ${dhtMode}${n ? ` (${n} bootstrap peer${n === 1 ? '' : 's'})` : ' (no bootstrap peers: others bootstrap from this one)'}`);
  }
  if (f.relay && opts?.relay?.relays.length) out.push(`relay via ${opts.relay.relays.length} relay${opts.relay.relays.length === 1 ? '' : 's'}`);
  if (f.relayServer) out.push(`relay server for collaborators (at most ${typeof opts?.relayServer === 'object' ? (opts.relayServer.maxReservations ?? RELAY_SERVER_DEFAULTS.maxReservations) : RELAY_SERVER_DEFAULTS.maxReservations} reservations)`);
  return out.join('; ');
}

/**
 * The relay transport's listener for `<relay>/p2p-circuit` dials the relay and reserves a slot
 * inside `listen()`, and libp2p fails the whole start when any listen fails: an unreachable relay
 * would stop the peer from serving anyone. This wrapper lets `listen()` return at once, reserves in
 * the background, and tries again every 30 s while it holds no slot (the relay went away, restarted,
 * or the reservation lapsed).
 */
function patientRelayTransport<T extends object>(transport: T, log: P2PLogger, retryMs: number): T {
  return new Proxy(transport, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'createListener' && typeof value === 'function') {
        return (options: unknown) => patientListener((value as (o: unknown) => Listener).call(target, options), log, retryMs);
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function patientListener(listener: Listener, log: P2PLogger, retryMs: number): Listener {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let logged = false;
  const attempt = async (addr: Multiaddr): Promise<void> => {
    if (closed || listener.getAddrs().length) return;
    try {
      await listener.listen(addr);
      if (logged) log.info(`relay ${addr.decapsulate('/p2p-circuit').toString()}: slot reserved`);
      logged = false;
    } catch (e) {
      if (!logged) log.warn(`relay ${addr.decapsulate('/p2p-circuit').toString()}: no slot yet (${errText(e)}); retrying every ${Math.round(retryMs / 1000)} s`);
      logged = true;
    }
  };
  return new Proxy(listener, {
    get(target, prop) {
      if (prop === 'listen') {
        return async (addr: Multiaddr) => {
          void attempt(addr);
          timer = setInterval(() => void attempt(addr), retryMs);
          timer.unref?.();
        };
      }
      if (prop === 'close') {
        return async () => {
          closed = true;
          if (timer) clearInterval(timer);
          await target.close();
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// ------------------------------------------------------------------ learning addresses

/**
 * Record that `address` reached `peerId` (a collaborator): it goes first in the collaborator's
 * addresses (the others stay, at most MAX_ADDRESSES in all) and last_seen becomes now. Unknown
 * peers are ignored; returns whether patchwork.toml changed. Only call it with an address a
 * connection authenticated as `peerId` actually used.
 */
export async function rememberAddress(repo: Repository, peerId: string, address: string): Promise<boolean> {
  const addr = normalizeAddress(address, peerId);
  if (addr === undefined) return false;
  let changed = false;
  await repo.updateConfig((config) => {
    const list = collaboratorsOf(config);
    const c = list.find((x) => x.peerId === peerId);
    if (!c) return;
    changed = c.addresses[0] !== addr;
    c.addresses = [addr, ...c.addresses.filter((a) => a !== addr)].slice(0, MAX_ADDRESSES);
    c.lastSeen = new Date().toISOString();
    setCollaborators(config, list);
  });
  return changed;
}

/** The address an open outbound connection to `peerId` uses (the route that worked), if any. */
export function workingAddress(node: Libp2p, peerId: string): string | undefined {
  let pid: PeerId;
  try {
    pid = peerIdFromString(peerId);
  } catch {
    return undefined;
  }
  const conn = node.getConnections(pid).find((c) => c.status === 'open' && c.direction === 'outbound');
  return conn ? normalizeAddress(conn.remoteAddr.toString(), peerId) : undefined;
}

export interface AddressLearnerOptions {
  repo: Repository;
  /** Strict collaborator check (AccessControl.canFetch). */
  isCollaborator(peerId: string): boolean;
  /** Known addresses of a collaborator (from patchwork.toml). */
  knownAddresses(peerId: string): string[];
  /** Dial the peer at exactly these addresses; resolves to the authenticated connection's address. */
  verify(peerId: string, addresses: string[]): Promise<string | undefined>;
  log: P2PLogger;
  /** Do not look at the same peer again within this many ms (default 60 s). */
  minIntervalMs?: number;
  onLearned?(peerId: string, address: string): void;
}

export type LearnOutcome = 'ignored' | 'known' | 'recent' | 'unreachable' | 'learned';

/**
 * What a running peer does with an mDNS answer: a collaborator's new address is dialled (Noise proves
 * the peer id) and, when it answers, recorded as its first known address. Anything else is ignored:
 * a stranger is never dialled, and an unverified claim ("peer X is at this address", which anyone on
 * the network can make) never reaches patchwork.toml.
 */
export class AddressLearner {
  private readonly last = new Map<string, number>();
  private readonly busy = new Set<string>();

  constructor(private readonly o: AddressLearnerOptions) {}

  async onPeer(peer: { id: string; addresses: string[] }): Promise<LearnOutcome> {
    const { id } = peer;
    if (!this.o.isCollaborator(id)) return 'ignored';
    const fresh = peer.addresses.flatMap((a) => normalizeAddress(a, id) ?? []);
    const known = this.o.knownAddresses(id);
    // Nothing to learn while the address we would dial first is among those announced (a peer
    // announces all its private addresses; only the one that worked is kept).
    if (!fresh.length || (known[0] !== undefined && fresh.includes(known[0]))) return 'known';
    const now = Date.now();
    if (this.busy.has(id) || now - (this.last.get(id) ?? -Infinity) < (this.o.minIntervalMs ?? 60_000)) return 'recent';
    this.busy.add(id);
    this.last.set(id, now);
    try {
      const address = await this.o.verify(id, fresh.slice(0, MAX_ADDRESSES));
      if (!address) return 'unreachable';
      await rememberAddress(this.o.repo, id, address);
      this.o.onLearned?.(id, address);
      return 'learned';
    } catch (e) {
      this.o.log.debug?.(`could not reach ${id} at its announced addresses: ${errText(e)}`);
      return 'unreachable';
    } finally {
      this.busy.delete(id);
    }
  }
}

