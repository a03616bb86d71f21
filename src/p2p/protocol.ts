/**
 * Versioned request/response protocols on top of FrameChannel.
 *
 *   serve side:  serveProtocol(node, '/patchwork/fetch/1.0.0', async ({ channel, peer, signal }) => …,
 *                              { repoName, isAllowed })
 *   client side: const ch = await openChannel(node, addrOrPeerId, '/patchwork/fetch/1.0.0')
 *
 * Access is decided on `connection.remotePeer`, the peer id proven by the Noise handshake, never on
 * an id inside a message. The node's gater already refused unknown peers on inbound connections, but
 * a peer we dialled ourselves (e.g. to clone from it) can open streams back over that outbound
 * connection without ever passing the inbound gate, and roles differ per protocol (only writers may
 * push), so every handler checks again here.
 */
import type { Connection, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { P2PError, WIRE_ERROR_CODES, toP2PError } from './errors.js';
import { FrameChannel, type FrameChannelOptions } from './frames.js';
import type { P2PLogger } from './log.js';
import type { PeerNode } from './node.js';

/** `/patchwork/<name>/<version>`; bump the major version for incompatible changes. */
export function protocolId(name: string, version = '1.0.0'): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new P2PError('INTERNAL', `bad protocol name or version: ${name} ${version}`);
  }
  return `/patchwork/${name}/${version}`;
}

export interface RequestContext {
  channel: FrameChannel;
  /** Authenticated remote peer id (from the connection, not from any message). */
  peer: string;
  protocol: string;
  connection: Connection;
  /** = channel.signal: aborted when the channel fails, the stream closes or the node stops. */
  signal: AbortSignal;
  log: P2PLogger;
}

export type ProtocolHandler = (ctx: RequestContext) => Promise<void>;

export interface ServeOptions extends Omit<FrameChannelOptions, 'signal' | 'peer' | 'protocol'> {
  /** Shown to refused peers: "not a collaborator of <repoName>". */
  repoName: string;
  /** Checked on the authenticated peer for every stream (e.g. "is a collaborator", "is a writer"). */
  isAllowed(peerId: string): boolean;
  /** Text sent to a refused peer; default `not a collaborator of <repoName>`. */
  refusal?: string;
  /** Concurrent streams of this protocol per connection (libp2p default 32). */
  maxInboundStreams?: number;
}

/** Register a handler; resolves to a function that unregisters it. */
export async function serveProtocol(
  node: PeerNode,
  protocol: string,
  handler: ProtocolHandler,
  options: ServeOptions,
): Promise<() => Promise<void>> {
  const log = node.logger;
  const refusal = options.refusal ?? `not a collaborator of ${options.repoName}`;
  await node.libp2p.handle(
    protocol,
    // libp2p 3.x calls handlers as (stream, connection); a rejection would make libp2p abort the
    // stream and log, so we settle everything ourselves and never reject.
    async (stream, connection) => {
      const peer = connection.remotePeer.toString();
      const { repoName: _r, isAllowed: _a, refusal: _f, maxInboundStreams: _m, ...channelOptions } = options;
      const channel = new FrameChannel(stream, { ...channelOptions, peer, protocol });

      let allowed = false;
      try {
        allowed = options.isAllowed(peer) === true;
      } catch (e) {
        log.error(`access check for ${peer} threw (${e instanceof Error ? e.message : String(e)}); refusing`);
      }
      if (!allowed) {
        log.warn(`refused ${peer} on ${protocol}: ${refusal}`);
        await channel.sendError('REFUSED', refusal);
        return;
      }

      log.debug?.(`${protocol} request from ${peer}`);
      try {
        await handler({ channel, peer, protocol, connection, signal: channel.signal, log });
        if (channel.error === null) await channel.close();
      } catch (e) {
        if (e instanceof P2PError) {
          if (e.remote) log.info(`${protocol} with ${peer} ended by the peer: ${e.code} ${e.message}`);
          else log.warn(`${protocol} with ${peer} failed: ${e.code} ${e.message}`);
          if (WIRE_ERROR_CODES.has(e.code)) await channel.sendError(e.code, e.message);
          else await channel.sendError('INTERNAL', `${protocol}: request failed`);
        } else {
          // Details stay in our log; the peer only learns that it failed.
          log.error(`${protocol} handler failed for ${peer}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          await channel.sendError('INTERNAL', `${protocol}: internal error`);
        }
      }
    },
    { maxInboundStreams: options.maxInboundStreams, force: true },
  );
  return async () => {
    await node.libp2p.unhandle(protocol);
  };
}

export interface OpenChannelOptions extends Omit<FrameChannelOptions, 'peer' | 'protocol'> {
  /** Fail with WRONG_PEER unless the authenticated remote has this peer id. */
  expectPeer?: string;
}

/**
 * Connect (or reuse a connection) and open a stream for `protocol` (or the first of several
 * versions the peer supports; `channel.protocol` says which).
 */
export async function openChannel(
  node: PeerNode,
  target: string | Multiaddr | PeerId,
  protocol: string | string[],
  options: OpenChannelOptions = {},
): Promise<FrameChannel> {
  const connection = await node.connect(target, { signal: options.signal });
  const peer = connection.remotePeer.toString();
  if (options.expectPeer !== undefined && peer !== options.expectPeer) {
    throw new P2PError('WRONG_PEER', `expected peer ${options.expectPeer} but ${String(target)} is ${peer}`, { peer });
  }
  let stream;
  try {
    // libp2p applies its own negotiation timeout only when no signal is passed; keep one either way.
    const deadline = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    stream = await connection.newStream(protocol, { signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline });
  } catch (e) {
    const name = typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
    if (name === 'UnsupportedProtocolError') {
      throw new P2PError('PROTOCOL_VIOLATION', `${peer} does not serve ${String(protocol)}`, { peer, cause: e, unsupported: true });
    }
    // A remote gater refusal is silent: the dial "succeeds" here (our side of the handshake
    // finishes first), then the peer drops the connection and the first stream fails with EOF/reset.
    // A connection that died before its first stream opened is reported as a likely refusal.
    if (connection.status !== 'open' && connection.streams.length === 0 && !options.signal?.aborted) {
      throw new P2PError(
        'REFUSED',
        `${peer} closed the connection right after the handshake; most likely it does not accept this peer (${node.peerId}) as a collaborator`,
        { peer, atGate: true, cause: e },
      );
    }
    throw toP2PError(e, 'CLOSED', `opening ${String(protocol)} with ${peer}`);
  }
  return new FrameChannel(stream, { ...options, peer, protocol: stream.protocol });
}
