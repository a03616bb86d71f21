/**
 * fetch/pull/push with several collaborators at once: every named peer, or by default every
 * collaborator (those that do not answer are reported, not fatal). Transfers run in parallel; pull
 * integrates the fetched branches one peer at a time, in list order.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { Repository } from '../engine/index.js';
import { listCollaborators, touchCollaborator, type Collaborator } from './collaborators.js';
import { fetchFrom, integrate, type FetchResult, type PullResult } from './fetch.js';
import { rememberAddress, workingAddress } from './discovery.js';
import { isP2PError } from './errors.js';
import type { PeerNode } from './node.js';
import { pushTo, type PushResult } from './push.js';
import { resolveTarget, targetOf, type PeerTarget, type SyncOptions } from './sync-common.js';

export type PeerOutcome<T> =
  | { peer: string; name: string; ok: true; result: T }
  | {
      peer: string;
      name: string;
      ok: false;
      error: unknown;
      /** The peer could not be reached at all (as opposed to refusing or failing). */
      offline: boolean;
    };

/** Named peers, or every collaborator. */
export async function targetsFor(repo: Repository, keys: string[] = []): Promise<PeerTarget[]> {
  if (keys.length) {
    const all = await Promise.all(keys.map((k) => resolveTarget(repo, k)));
    return all.filter((t, i) => all.findIndex((x) => x.peerId === t.peerId) === i);
  }
  return (await listCollaborators(repo)).map(targetOf);
}

function isOffline(e: unknown): boolean {
  return isP2PError(e, 'DIAL_FAILED') || (isP2PError(e, 'TIMEOUT') && e.message.startsWith('dial'));
}

async function each<T>(node: PeerNode, repo: Repository, targets: PeerTarget[], run: (t: PeerTarget) => Promise<T>): Promise<PeerOutcome<T>[]> {
  return Promise.all(
    targets.map(async (t): Promise<PeerOutcome<T>> => {
      try {
        const result = await run(t);
        // A route found by discovery (or a new one libp2p picked) that worked becomes the first known address.
        const used = workingAddress(node.libp2p, t.peerId);
        if (used !== undefined && !t.addresses.includes(used)) await rememberAddress(repo, t.peerId, used).catch(() => undefined);
        else await touchCollaborator(repo, t.peerId).catch(() => undefined);
        return { peer: t.peerId, name: t.name, ok: true, result };
      } catch (error) {
        return { peer: t.peerId, name: t.name, ok: false, error, offline: isOffline(error) };
      }
    }),
  );
}

export async function fetchAll(node: PeerNode, repo: Repository, keys: string[] = [], opts: SyncOptions = {}): Promise<PeerOutcome<FetchResult>[]> {
  return each(node, repo, await targetsFor(repo, keys), (t) => fetchFrom(node, repo, t, opts));
}

export async function pullAll(node: PeerNode, repo: Repository, keys: string[] = [], opts: SyncOptions = {}): Promise<PeerOutcome<PullResult>[]> {
  const fetched = await fetchAll(node, repo, keys, opts);
  const out: PeerOutcome<PullResult>[] = [];
  for (const f of fetched) {
    if (!f.ok) {
      out.push(f);
      continue;
    }
    try {
      out.push({ ...f, result: { ...f.result, integration: await integrate(repo, f.name, f.result.refs) } });
    } catch (error) {
      out.push({ peer: f.peer, name: f.name, ok: false, error, offline: false });
    }
  }
  return out;
}

export async function pushAll(node: PeerNode, repo: Repository, keys: string[] = [], opts: SyncOptions = {}): Promise<PeerOutcome<PushResult>[]> {
  return each(node, repo, await targetsFor(repo, keys), (t) => pushTo(node, repo, t, opts));
}

export interface PeerProbe {
  peer: string;
  online: boolean;
  /** Round-trip time of a ping, when online. */
  rttMs?: number;
}

/** Is this collaborator reachable right now? (dial its known addresses, else what discovery finds, and ping; updates last_seen) */
export async function probePeer(node: PeerNode, repo: Repository, c: Collaborator, timeoutMs = 4000): Promise<PeerProbe> {
  const signal = AbortSignal.timeout(timeoutMs);
  const pid = peerIdFromString(c.peerId);
  const reach = async (): Promise<number> => {
    if (c.addresses.length) await node.libp2p.peerStore.merge(pid, { multiaddrs: c.addresses.map((a) => multiaddr(a)) });
    if (c.addresses.length || node.libp2p.getConnections(pid).length) {
      try {
        return await node.ping(pid, { signal });
      } catch (e) {
        if (!Object.values(node.features).some(Boolean)) throw e;
      }
    }
    const found = (await node.locate(c.peerId, { signal })).filter((a) => !c.addresses.includes(a));
    if (!found.length) throw new Error('not found');
    await node.libp2p.dial(found.map((a) => multiaddr(a)), { signal });
    return node.ping(pid, { signal });
  };
  try {
    const rttMs = await reach();
    const used = workingAddress(node.libp2p, c.peerId);
    if (used !== undefined && !c.addresses.includes(used)) await rememberAddress(repo, c.peerId, used).catch(() => undefined);
    else await touchCollaborator(repo, c.peerId, [], 0).catch(() => undefined);
    return { peer: c.peerId, online: true, rttMs: Math.round(rttMs) };
  } catch {
    return { peer: c.peerId, online: false };
  }
}
