/**
 * The libp2p peer node: TCP + Noise + Yamux + identify + ping, a connection gater that admits only
 * allowed peers, and a small wrapper API (`PeerNode`) so callers above this layer do not need to
 * know libp2p's types.
 *
 * Optional discovery (discovery.ts, each package imported only when its option is on):
 *   mdns        -> `@libp2p/mdns` in `peerDiscovery`
 *   dht         -> `@libp2p/kad-dht` in `services` (+ `@libp2p/bootstrap` for a running peer)
 *   relay       -> `@libp2p/circuit-relay-v2` transport + `<relay>/p2p-circuit` listen addresses
 *   relayServer -> `@libp2p/circuit-relay-v2` server service, for collaborators only
 * None of them changes who is admitted: the gate and the protocol handlers decide, as always.
 */
import './polyfill.js'; // must stay first: libp2p needs Promise.withResolvers on Node 20
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface';
import type { Identify } from '@libp2p/identify';
import type { Ping } from '@libp2p/ping';
import { loadDiscovery, type DiscoveryFeatures, type DiscoveryOptions, type LocateOptions } from './discovery.js';
import { P2PError, toP2PError } from './errors.js';
import { silentLogger, type P2PLogger } from './log.js';

export type { DiscoveryOptions } from './discovery.js';

export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'];
/** Yamux's spec default is 256 KiB, which caps one stream at roughly window/RTT. */
export const DEFAULT_YAMUX_WINDOW = 4 * 1024 * 1024;
const YAMUX_MIN_WINDOW = 256 * 1024;
const YAMUX_MAX_WINDOW = 2 ** 32 - 1;

export interface PeerNodeOptions {
  privateKey: PrivateKey;
  /** Multiaddrs to listen on; default loopback on a random port. `[]` = dial-only node. */
  listen?: string[];
  /**
   * Called with the AUTHENTICATED remote peer id (after the Noise handshake) for every inbound
   * connection; false closes the connection before the muxer is negotiated. Must be fast and
   * synchronous; a throw counts as "not allowed". Protocol handlers check again (protocol.ts).
   */
  isAllowed(peerId: string): boolean;
  /**
   * The strict list for services other peers use through us (DHT queries, relaying): collaborators
   * only, not strangers the gate lets in while an invite is outstanding. Default: `isAllowed`.
   */
  isCollaborator?(peerId: string): boolean;
  logger?: P2PLogger;
  /**
   * Maximum Yamux per-stream receive window in bytes (default DEFAULT_YAMUX_WINDOW). Bounds how far
   * a sender can run ahead of a paused reader, so memory per stream is about this much.
   */
  yamuxWindow?: number;
  /**
   * Initial Yamux window (default: the spec's 256 KiB; the window then grows towards yamuxWindow).
   * DANGER: js-yamux starts its SEND window at its own configured initial size and never tells the
   * other side, so a peer whose initial window is larger than its receiver's gets the stream reset
   * (measured: 4 MiB sender -> 256 KiB receiver = StreamResetError). Anything but 256 KiB is a wire
   * change that every peer must share; only benchmarks should set it.
   */
  yamuxInitialWindow?: number;
  /** Inbound connections per second from one host before libp2p resets them (libp2p default 5). */
  inboundConnectionThreshold?: number;
  /** Optional discovery features, all off by default; see discovery.ts. */
  discovery?: DiscoveryOptions;
  /** Shorthand for discovery.mdns. */
  mdns?: boolean;
  /** Dial deadline (ms), default 10 s. */
  dialTimeoutMs?: number;
}

export interface PeerNode {
  readonly peerId: string;
  /** The underlying libp2p node, for protocol.ts and tests; callers above src/p2p should not need it. */
  readonly libp2p: Libp2p<{ identify: Identify; ping: Ping }>;
  readonly logger: P2PLogger;
  /** Which optional discovery features are active. */
  readonly features: DiscoveryFeatures;
  /**
   * Peer ids of the configured bootstrap peers and relays. Our own outbound connections to them
   * carry the DHT and relay service and are not cut when access is re-evaluated (they need not be
   * collaborators; every protocol handler still refuses them unless they are).
   */
  readonly servicePeers: ReadonlySet<string>;
  /** Listen addresses including `/p2p/<peerId>`, as strings to print or put in a ticket. */
  addresses(): string[];
  /** Open (or reuse) a connection. Target: a multiaddr string (ideally ending in /p2p/<id>), a peer id string, or a Multiaddr. */
  connect(target: string | Multiaddr | PeerId, options?: { signal?: AbortSignal }): Promise<Connection>;
  /** Close every connection to this peer (e.g. after removing a collaborator). */
  disconnect(peerId: string): Promise<void>;
  /** Close connections of every peer that `isAllowed` now rejects; returns how many peers were cut off. */
  disconnectDisallowed(): Promise<number>;
  /**
   * Candidate addresses for a peer from the active discovery features (mDNS answers, a DHT lookup,
   * routes through configured relays); [] when none is active. Unverified: dial them.
   */
  locate(peerId: string, options?: LocateOptions): Promise<string[]>;
  /** Round-trip time in ms to a connected or dialable peer. */
  ping(target: string | Multiaddr | PeerId, options?: { signal?: AbortSignal }): Promise<number>;
  stop(): Promise<void>;
}

export async function createPeerNode(options: PeerNodeOptions): Promise<PeerNode> {
  const log = options.logger ?? silentLogger;
  const maxWindow = options.yamuxWindow ?? DEFAULT_YAMUX_WINDOW;
  const initialWindow = options.yamuxInitialWindow ?? YAMUX_MIN_WINDOW;
  for (const [name, v] of [['yamuxWindow', maxWindow], ['yamuxInitialWindow', initialWindow]] as const) {
    if (!Number.isInteger(v) || v < YAMUX_MIN_WINDOW || v > YAMUX_MAX_WINDOW) {
      throw new P2PError('INTERNAL', `${name} must be an integer between ${YAMUX_MIN_WINDOW} and ${YAMUX_MAX_WINDOW}`);
    }
  }
  if (initialWindow > maxWindow) throw new P2PError('INTERNAL', 'yamuxInitialWindow must not exceed yamuxWindow');
  const discoveryOptions: DiscoveryOptions | undefined =
    options.mdns === undefined ? options.discovery : { ...options.discovery, mdns: options.mdns };
  const listen = options.listen ?? DEFAULT_LISTEN;

  const isAllowed = (peer: PeerId, where: string): boolean => {
    const id = peer.toString();
    let ok = false;
    try {
      ok = options.isAllowed(id) === true;
    } catch (e) {
      log.error(`access check for ${id} threw (${e instanceof Error ? e.message : String(e)}); refusing`);
    }
    if (!ok) log.warn(`refused ${where} from ${id}: not a collaborator`);
    return ok;
  };
  const isCollaborator = (id: string): boolean => {
    try {
      return (options.isCollaborator ?? options.isAllowed)(id) === true;
    } catch {
      return false;
    }
  };
  const discovery = await loadDiscovery(discoveryOptions, { log, isCollaborator, listening: listen.length > 0 });

  const node = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: [...listen, ...discovery.listen] },
    transports: [tcp(), ...discovery.transports],
    peerDiscovery: discovery.peerDiscovery,
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        streamOptions: {
          initialStreamWindowSize: initialWindow,
          maxStreamWindowSize: maxWindow,
          // When a reader pauses, the remote may still send up to its whole window; libp2p resets
          // the stream if the paused buffer exceeds this, so it must exceed the largest window.
          maxReadBufferLength: maxWindow + 1024 * 1024,
        },
      }),
    ],
    connectionGater: {
      // Called right after the Noise handshake with the authenticated peer id and before the muxer
      // is negotiated: the earliest point where the remote identity is known and proven.
      denyInboundEncryptedConnection: (peer: PeerId) => !isAllowed(peer, 'inbound connection'),
      ...discovery.gater,
    },
    connectionManager: {
      inboundConnectionThreshold: options.inboundConnectionThreshold ?? 100,
      dialTimeout: options.dialTimeoutMs ?? 10_000,
    },
    nodeInfo: { name: 'patchwork', version: '0.1.0' },
    services: { ...discovery.services, identify: identify(), ping: ping() },
    // Started below, once the discovery middleware is in place (no stream may slip in before it).
    start: false,
  });
  const active = discovery.attach(node);
  try {
    await node.start();
  } catch (e) {
    active.stop();
    await Promise.resolve(node.stop()).catch(() => undefined);
    throw e;
  }
  active.started();

  const peerId = node.peerId.toString();
  const toTarget = (target: string | Multiaddr | PeerId): Multiaddr | PeerId => {
    if (typeof target !== 'string') return target;
    try {
      return target.startsWith('/') ? multiaddr(target) : peerIdFromString(target);
    } catch (e) {
      throw new P2PError('DIAL_FAILED', `not a multiaddr or peer id: ${target.slice(0, 200)}`, { cause: e });
    }
  };

  const api: PeerNode = {
    peerId,
    libp2p: node,
    logger: log,
    features: discovery.features,
    servicePeers: discovery.servicePeers,
    addresses: () => node.getMultiaddrs().map((m) => m.toString()),
    async connect(target, opts = {}) {
      const t = toTarget(target);
      try {
        return await node.dial(t, { signal: opts.signal });
      } catch (e) {
        throw dialError(e, String(target));
      }
    },
    async disconnect(id) {
      await node.hangUp(peerIdFromString(id)).catch((e: unknown) => log.warn(`hang up ${id}: ${String(e)}`));
    },
    async disconnectDisallowed() {
      const cut = new Set<string>();
      for (const conn of node.getConnections()) {
        const id = conn.remotePeer.toString();
        if (conn.direction === 'outbound' && discovery.servicePeers.has(id)) continue;
        if (!cut.has(id) && !isAllowed(conn.remotePeer, 'existing connection')) cut.add(id);
      }
      await Promise.all([...cut].map((id) => api.disconnect(id)));
      return cut.size;
    },
    locate(id, opts) {
      return active.locate(id, opts);
    },
    async ping(target, opts = {}) {
      try {
        return await node.services.ping.ping(toTarget(target), { signal: opts.signal });
      } catch (e) {
        throw dialError(e, String(target));
      }
    },
    async stop() {
      active.stop();
      await node.stop();
    },
  };
  log.info(`peer ${peerId} listening on ${api.addresses().join(', ') || '(no addresses)'}`);
  const summary = discovery.describe();
  if (summary) log.info(`discovery: ${summary}`);
  return api;
}

/**
 * A dial to a peer whose gater refuses us fails on our side with a closed/reset connection right
 * after the handshake; libp2p gives no reason, so the message says what most likely happened.
 */
export function dialError(e: unknown, target: string): P2PError {
  if (e instanceof P2PError) return e;
  const name = typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
  if (name === 'AbortError') return toP2PError(e, 'ABORTED', `dial ${target}`);
  if (name === 'TimeoutError') return toP2PError(e, 'TIMEOUT', `dial ${target}`);
  if (name === 'InvalidPeerIdError' || name === 'UnexpectedPeerError') {
    return toP2PError(e, 'WRONG_PEER', `dial ${target}: the peer at that address has a different peer id`);
  }
  return toP2PError(e, 'DIAL_FAILED', `cannot connect to ${target} (offline, unreachable, or it does not accept us as a collaborator)`);
}
