/**
 * Pieces shared by the fetch, push and clone protocols: targets (who to dial and where), progress
 * and cancellation options, dialling a collaborator by its known addresses, and the receive path
 * every incoming transfer takes (quarantine → connectivity check → accept + ref updates under the
 * repository lock).
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import {
  HEADS,
  PatchworkError,
  Quarantine,
  Repository,
  TAGS,
  isPatchworkError,
  trackingRefs,
  updateTrackingRefs,
  type ObjectType,
} from '../engine/index.js';
import { collaboratorsOf, findCollaborator, normalizeAddress, peerIdOfAddress, isPeerId, type Collaborator } from './collaborators.js';
import { P2PError } from './errors.js';
import type { FrameChannel } from './frames.js';
import { dialError, type PeerNode } from './node.js';
import { receivePack, rejectTransfer, type PackCounts } from './pack.js';
import { runningPeer } from './peer-file.js';
import { openChannel } from './protocol.js';
import { PROTOCOL_VERSION } from './wire.js';
import { protocolId } from './protocol.js';

export const FETCH_PROTOCOL = protocolId('fetch', PROTOCOL_VERSION);
export const PUSH_PROTOCOL = protocolId('push', PROTOCOL_VERSION);
export const CLONE_PROTOCOL = protocolId('clone', PROTOCOL_VERSION);

/** A peer to talk to: its id, where it may be reached, and the name to show. */
export interface PeerTarget {
  peerId: string;
  name: string;
  addresses: string[];
}

export type SyncPhase = 'connecting' | 'negotiating' | 'receiving' | 'sending' | 'checking' | 'updating' | 'checkout' | 'waiting' | 'done';

export interface SyncProgress {
  phase: SyncPhase;
  /** Peer id of the other side. */
  peer: string;
  /** Objects and object bytes moved so far in this transfer. */
  objects: number;
  bytes: number;
}

export interface SyncOptions {
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
  /** Deadline for each read/write on the channel (default 30 s). */
  timeoutMs?: number;
}

export function targetOf(c: Collaborator): PeerTarget {
  return { peerId: c.peerId, name: c.name, addresses: c.addresses };
}

/**
 * Who `key` means: a collaborator (by name, peer id or a unique part of it), or a multiaddr ending
 * in `/p2p/<id>` (a collaborator's name is used when the id is known).
 */
export async function resolveTarget(repo: Repository, key: string): Promise<PeerTarget> {
  const list = collaboratorsOf(await repo.config());
  if (key.startsWith('/')) {
    const id = peerIdOfAddress(key);
    if (!id) throw new PatchworkError('INVALID_ARGUMENT', `The address ${key} does not end in /p2p/<peer id>.`, 'Use the full address printed by `patchwork start` or `patchwork id`.');
    const addr = normalizeAddress(key, id)!;
    const known = list.find((c) => c.peerId === id);
    return { peerId: id, name: known?.name ?? shortId(id), addresses: [addr, ...(known?.addresses ?? []).filter((a) => a !== addr)] };
  }
  const c = findCollaborator(list, key);
  if (c) return targetOf(c);
  if (isPeerId(key)) return { peerId: key, name: shortId(key), addresses: [] };
  throw new PatchworkError('INVALID_ARGUMENT', `"${key}" is neither a collaborator nor a peer address.`, 'See `patchwork collaborators list`, or give a multiaddr ending in /p2p/<peer id>.');
}

export function shortId(peerId: string): string {
  return `…${peerId.slice(-8)}`;
}

/** What we tell peers about where we can be reached: the listening node's, else a running `start`'s. */
export async function selfAddresses(repo: Repository, node: PeerNode): Promise<string[]> {
  const own = node.addresses();
  if (own.length) return own.slice(0, 16);
  return ((await runningPeer(repo))?.addresses ?? []).slice(0, 16);
}

/**
 * Open a protocol stream to a target, dialling its known addresses (libp2p tries them all). When
 * none answers (or none is known) and the node has discovery on (mDNS, DHT, relays), the peer is
 * looked up by its id and the addresses found are tried; whoever answers must still prove the
 * target's peer id.
 */
export async function openTo(node: PeerNode, target: PeerTarget, protocol: string, opts: SyncOptions = {}): Promise<FrameChannel> {
  if (target.peerId === node.peerId) {
    throw new P2PError('DIAL_FAILED', `${target.name} is this repository's own peer id`, { peer: target.peerId, self: true });
  }
  const pid = peerIdFromString(target.peerId);
  const open = () => openChannel(node, pid, protocol, { expectPeer: target.peerId, signal: opts.signal, timeoutMs: opts.timeoutMs });
  if (node.libp2p.getConnections(pid).some((c) => c.status === 'open')) return open();
  const addrs = parseAddresses(target.addresses);
  const canLocate = Object.values(node.features).some(Boolean);
  let first: unknown;
  if (addrs.length) {
    await node.libp2p.peerStore.merge(pid, { multiaddrs: addrs });
    try {
      return await open();
    } catch (e) {
      if (!canLocate || !unreachable(e)) throw e;
      first = e;
    }
  } else {
    first = new P2PError('DIAL_FAILED', `no known address for ${target.name}`, { peer: target.peerId, noAddress: true });
    if (!canLocate) throw first;
  }
  throwIfCancelled(opts.signal);
  const tried = new Set(addrs.map((a) => a.toString()));
  const found = parseAddresses(await node.locate(target.peerId, { signal: opts.signal })).filter((a) => !tried.has(a.toString()));
  if (!found.length) throw first;
  node.logger.info(`${target.name} did not answer at a known address; trying ${found.map((a) => a.toString()).join(', ')}`);
  // Dial exactly these (by peer id libp2p would retry the known addresses that just failed first).
  try {
    await node.libp2p.dial(found, { signal: opts.signal });
  } catch (e) {
    throw dialError(e, target.name);
  }
  return open();
}

function parseAddresses(list: string[]): Multiaddr[] {
  return list.flatMap((a) => {
    try {
      return [multiaddr(a)];
    } catch {
      return [];
    }
  });
}

/** The peer could not be reached where we looked (as opposed to refusing us or misbehaving). */
function unreachable(e: unknown): boolean {
  return e instanceof P2PError && (e.code === 'DIAL_FAILED' || e.code === 'WRONG_PEER' || (e.code === 'TIMEOUT' && e.message.startsWith('dial')));
}

/**
 * Run `fn` under the repository lock, retrying for a while when another process holds it (a peer
 * receiving a push must not fail just because its owner is committing at that moment).
 */
export async function withLockRetry<T>(repo: Repository, operation: string, fn: () => Promise<T>, totalMs = 15_000): Promise<T> {
  const deadline = Date.now() + totalMs;
  for (;;) {
    try {
      return await repo.withLock(operation, fn);
    } catch (e) {
      if (!isPatchworkError(e, 'LOCKED') || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface RefChange {
  ref: string;
  from: string | undefined;
  to: string | undefined;
}

export interface Received extends PackCounts {
  /** Commits that arrived (new to this repository). */
  commits: number;
  /** Tracking refs under refs/peers/<peer>/ that changed. */
  changed: RefChange[];
}

/**
 * Receive one pack from `channel` into a quarantine, check that every tip is complete, then (under
 * the lock) move the objects into the store and record `refs` as the peer's tracking refs. Any
 * failure before that point discards the quarantine: the repository is byte-for-byte unchanged.
 * `then` runs inside the same lock section, after the refs moved.
 */
export async function receiveInto(
  repo: Repository,
  channel: FrameChannel,
  peerId: string,
  refs: Record<string, string>,
  opts: SyncOptions,
  then?: () => Promise<void>,
): Promise<Received> {
  const progress = (phase: SyncPhase, c: PackCounts) => opts.onProgress?.({ phase, peer: peerId, objects: c.objects, bytes: c.bytes });
  const q = await Quarantine.create(repo);
  let commits = 0;
  let counts: PackCounts;
  try {
    progress('receiving', { objects: 0, bytes: 0 });
    counts = await receivePack(
      channel,
      {
        receive: async (type: ObjectType, id: string, data: Buffer) => {
          const isNew = type === 'commit' && !(await repo.store.has(id, 'commit'));
          await q.receive(type, id, data);
          if (isNew) commits++;
        },
      },
      { signal: opts.signal, onProgress: (c) => progress('receiving', c) },
    );
    progress('checking', counts);
    await q.checkConnected([...new Set(Object.values(refs))]).catch((e: unknown) => {
      if (!isPatchworkError(e, 'MISSING_OBJECT')) throw e;
      const { id, type } = e.data as { id: string; type?: string };
      throw new PatchworkError('MISSING_OBJECT', `The peer's history is incomplete: ${type ?? 'object'} ${id.slice(0, 12)} was never sent.`, 'The transfer was aborted; nothing was changed.', e.data);
    });
    throwIfCancelled(opts.signal);
  } catch (e) {
    await q.discard();
    await rejectTransfer(channel, e);
    throw e;
  }
  progress('updating', counts);
  let changed: RefChange[] = [];
  try {
    await withLockRetry(repo, 'fetch', async () => {
      await q.accept();
      const before = await trackingRefs(repo, peerId);
      await updateTrackingRefs(repo, peerId, refs);
      changed = diffRefs(before, refs);
      await then?.();
    });
  } catch (e) {
    await q.discard();
    throw e;
  }
  return { ...counts, commits, changed };
}

/** A cancelled signal as the transport's typed error (whatever reason the caller aborted with). */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled(signal);
}

export function cancelled(signal: AbortSignal): P2PError {
  const reason = signal.reason instanceof Error && signal.reason.name !== 'AbortError' ? signal.reason.message : 'cancelled';
  return new P2PError('ABORTED', reason, { cause: signal.reason });
}

/** In a client's catch: report a cancellation as ABORTED even when it surfaced as something else. */
export function asCancelled(e: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted && !(e instanceof P2PError && e.code === 'ABORTED') ? cancelled(signal) : e;
}

export function diffRefs(before: Record<string, string>, after: Record<string, string>): RefChange[] {
  const out: RefChange[] = [];
  for (const ref of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[ref] !== after[ref]) out.push({ ref, from: before[ref], to: after[ref] });
  }
  return out.sort((a, b) => (a.ref < b.ref ? -1 : 1));
}

/** Every branch and tag tip of this repository plus what we last saw of `peerId` (exact common points). */
export async function localTips(repo: Repository, peerId?: string): Promise<string[]> {
  const tips = new Set<string>();
  const head = await repo.headCommit();
  if (head) tips.add(head);
  for (const r of await repo.refs.list(HEADS)) tips.add(r.id);
  if (peerId) for (const id of Object.values(await trackingRefs(repo, peerId))) tips.add(id);
  for (const r of await repo.refs.list(TAGS)) tips.add(r.id);
  return [...tips];
}
