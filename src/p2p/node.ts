/**
 * The libp2p peer node: TCP + Noise + Yamux + identify + ping, a connection gater that admits only
 * allowed peers, and a small wrapper API (`PeerNode`) so callers above this layer do not need to
 * know libp2p's types.
 *
 * Seams for later features (not installed yet; each needs its package added):
 *   mdns  -> `@libp2p/mdns` in `peerDiscovery`
 *   dht   -> `@libp2p/kad-dht` in `services` with `@libp2p/bootstrap` in `peerDiscovery`
 *   relay -> `@libp2p/circuit-relay-v2` transport + `/p2p-circuit` listen address
 * Today, asking for them logs a warning and `features` reports them as inactive.
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
import { P2PError, toP2PError } from './errors.js';
import { silentLogger, type P2PLogger } from './log.js';

export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'];
/** Yamux's spec default is 256 KiB, which caps one stream at roughly window/RTT. */
export const DEFAULT_YAMUX_WINDOW = 4 * 1024 * 1024;
const YAMUX_MIN_WINDOW = 256 * 1024;
const YAMUX_MAX_WINDOW = 2 ** 32 - 1;

export interface DiscoveryOptions {
  /** Local-network discovery (setting; off by default). Not implemented yet. */
  mdns?: boolean;
  /** Kademlia DHT with a bootstrap list (off until configured). Not implemented yet. */
  dht?: { bootstrap: string[] };
  /** Circuit relay for peers behind NAT (off until configured). Not implemented yet. */
  relay?: { relays: string[] };
}

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
  /** Optional discovery features; see the module comment. */
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
  /** Which optional features are active (all false today). */
  readonly features: { mdns: boolean; dht: boolean; relay: boolean };
  /** Listen addresses including `/p2p/<peerId>`, as strings to print or put in a ticket. */
  addresses(): string[];
  /** Open (or reuse) a connection. Target: a multiaddr string (ideally ending in /p2p/<id>), a peer id string, or a Multiaddr. */
  connect(target: string | Multiaddr | PeerId, options?: { signal?: AbortSignal }): Promise<Connection>;
  /** Close every connection to this peer (e.g. after removing a collaborator). */
  disconnect(peerId: string): Promise<void>;
  /** Close connections of every peer that `isAllowed` now rejects; returns how many peers were cut off. */
  disconnectDisallowed(): Promise<number>;
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
  const discovery: DiscoveryOptions = { ...options.discovery, mdns: options.mdns ?? options.discovery?.mdns };
  for (const [name, on] of Object.entries({ mdns: discovery.mdns === true, dht: discovery.dht != null, relay: discovery.relay != null })) {
    if (on) log.warn(`${name} was requested but is not available in this build; only explicit addresses are used`);
  }

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

  const node = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: options.listen ?? DEFAULT_LISTEN },
    transports: [tcp()],
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
    },
    connectionManager: {
      inboundConnectionThreshold: options.inboundConnectionThreshold ?? 100,
      dialTimeout: options.dialTimeoutMs ?? 10_000,
    },
    nodeInfo: { name: 'patchwork', version: '0.1.0' },
    services: { identify: identify(), ping: ping() },
  });

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
    features: { mdns: false, dht: false, relay: false },
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
        if (!cut.has(id) && !isAllowed(conn.remotePeer, 'existing connection')) cut.add(id);
      }
      await Promise.all([...cut].map((id) => api.disconnect(id)));
      return cut.size;
    },
    async ping(target, opts = {}) {
      try {
        return await node.services.ping.ping(toTarget(target), { signal: opts.signal });
      } catch (e) {
        throw dialError(e, String(target));
      }
    },
    async stop() {
      await node.stop();
    },
  };
  log.info(`peer ${peerId} listening on ${api.addresses().join(', ') || '(no addresses)'}`);
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
