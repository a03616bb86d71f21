/**
 * fetch and pull.
 *
 * One round trip after the stream opens: the fetcher sends `fetch {repo, haves}` where haves are
 * its tips, what it last saw of this peer (exact common points in the usual case) and a bounded
 * sample of their ancestry (engine `negotiationHaves`); the sender answers with its refs and at once
 * streams every object reachable from them that is not reachable from a have it knows
 * (engine `objectsToSend`), then `done`. The fetcher verifies everything in a quarantine before a
 * single object or ref lands. Pull then integrates the peer's copy of the current branch:
 * fast-forward, or a three-way merge named `<peer name>/<branch>`.
 */
import {
  HEADS,
  PatchworkError,
  Repository,
  TAGS,
  advertiseRefs,
  fastForwardBranch,
  isPatchworkError,
  merge,
  negotiationHaves,
  objectsToSend,
  readMergeHeads,
  type ConflictInfo,
} from '../engine/index.js';
import { P2PError } from './errors.js';
import type { PeerNode } from './node.js';
import { sendPack } from './pack.js';
import type { RequestContext } from './protocol.js';
import { FETCH_PROTOCOL, asCancelled, localTips, openTo, receiveInto, selfAddresses, withLockRetry, type PeerTarget, type RefChange, type SyncOptions } from './sync-common.js';
import { parseFetchRequest, parseRefs, type RefsMessage } from './wire.js';

export interface FetchResult {
  peer: string;
  name: string;
  /** The peer's branches and tags as it advertised them. */
  refs: RefsMessage;
  objects: number;
  bytes: number;
  /** New commits that arrived. */
  commits: number;
  /** Changes to refs/peers/<peer>/… */
  changed: RefChange[];
  /** Tags that did not exist here and were created from the peer's. */
  newTags: string[];
  ms: number;
}

/** Serve side: answer one fetch (the caller checked that the peer is a collaborator). */
export async function serveFetch(ctx: RequestContext, repo: Repository, onDone?: (r: { objects: number; bytes: number; addresses: string[] }) => void): Promise<void> {
  const { channel, signal } = ctx;
  const req = await channel.readMessage((v) => parseFetchRequest(v, ctx.peer));
  const config = await repo.config();
  if (req.repo !== config.repository.id) throw new P2PError('REFUSED', `this peer serves repository "${config.repository.name}" (${config.repository.id}), not ${req.repo}`);
  const adv = await advertiseRefs(repo);
  await channel.sendJson({ type: 'refs', repository: config.repository, head: adv.head, refs: adv.refs });
  const wants = [...new Set(Object.values(adv.refs))];
  const counts = await sendPack(channel, objectsToSend(repo, wants, req.haves, signal), { signal });
  onDone?.({ ...counts, addresses: req.addresses });
}

/** Fetch every branch and tag of `target` into refs/peers/<peer>/… (and new tags into refs/tags/). */
export async function fetchFrom(node: PeerNode, repo: Repository, target: PeerTarget, opts: SyncOptions = {}): Promise<FetchResult> {
  const t0 = Date.now();
  const config = await repo.config();
  opts.onProgress?.({ phase: 'connecting', peer: target.peerId, objects: 0, bytes: 0 });
  const channel = await openTo(node, target, FETCH_PROTOCOL, opts);
  try {
    const haves = await negotiationHaves(repo, await localTips(repo, target.peerId));
    opts.onProgress?.({ phase: 'negotiating', peer: target.peerId, objects: 0, bytes: 0 });
    await channel.sendJson({ type: 'fetch', repo: config.repository.id, haves, addresses: await selfAddresses(repo, node) });
    const refs = await channel.readMessage(parseRefs);
    if (refs.repository.id !== config.repository.id) {
      await channel.sendError('REFUSED', 'wrong repository');
      throw new P2PError('REFUSED', `${target.name} serves a different repository ("${refs.repository.name}")`, { peer: target.peerId });
    }
    const newTags: string[] = [];
    const received = await receiveInto(repo, channel, target.peerId, refs.refs, opts, async () => {
      for (const [ref, id] of Object.entries(refs.refs)) {
        if (!ref.startsWith('tags/')) continue;
        const name = ref.slice(5);
        if ((await repo.refs.read(TAGS + name).catch(() => 'conflict')) === undefined) {
          await repo.refs.write(TAGS + name, id).then(
            () => newTags.push(name),
            () => undefined, // a name that clashes with a tag folder here is left alone
          );
        }
      }
    });
    await channel.close().catch(() => undefined);
    opts.onProgress?.({ phase: 'done', peer: target.peerId, objects: received.objects, bytes: received.bytes });
    return { peer: target.peerId, name: target.name, refs, objects: received.objects, bytes: received.bytes, commits: received.commits, changed: received.changed, newTags, ms: Date.now() - t0 };
  } catch (e) {
    if (channel.error === null) channel.abort();
    throw asCancelled(e, opts.signal);
  }
}

/**
 * How pull brought the peer's branch into ours:
 *  fast-forward / created   the branch (and work tree) moved to their commit
 *  merged                   a merge commit was made
 *  conflicts                the merge stopped with conflicts (resolve, add, commit)
 *  up-to-date / ahead       nothing to do (ahead: we already contain their commit)
 *  no-branch                the peer has no branch of that name
 *  detached                 HEAD is detached: fetched only
 *  blocked                  local changes or an unfinished merge stand in the way (see `error`)
 */
export type IntegrationKind = 'fast-forward' | 'created' | 'merged' | 'conflicts' | 'up-to-date' | 'ahead' | 'no-branch' | 'detached' | 'blocked';

export interface Integration {
  kind: IntegrationKind;
  branch?: string;
  from?: string;
  to?: string;
  /** The merge commit (merged). */
  merge?: string;
  conflicts?: ConflictInfo[];
  /** Why it was blocked (engine error: DIRTY_WORKTREE, MERGE_IN_PROGRESS, UNRELATED_HISTORIES…). */
  error?: PatchworkError;
}

/** Bring `theirs` (the peer's copy of the current branch) into the current branch. */
export async function integrate(repo: Repository, peerName: string, refs: RefsMessage): Promise<Integration> {
  const head = await repo.head();
  if (head.kind !== 'branch') return { kind: 'detached' };
  const branch = head.branch;
  const theirs = refs.refs[`heads/${branch}`];
  if (!theirs) return { kind: 'no-branch', branch };
  const from = head.id;
  const ff = await withLockRetry(repo, 'pull', () => fastForwardBranch(repo, branch, theirs));
  switch (ff) {
    case 'fast-forward':
    case 'created':
      return { kind: ff, branch, from, to: theirs };
    case 'up-to-date':
      return { kind: 'up-to-date', branch, from, to: theirs };
    case 'behind':
      return { kind: 'ahead', branch, from, to: theirs };
    case 'dirty': {
      const unfinished = (await readMergeHeads(repo)).length > 0;
      const error = unfinished
        ? new PatchworkError('MERGE_IN_PROGRESS', 'A merge is in progress.', 'Finish it with `patchwork commit` (or `patchwork merge --abort`), then pull again.')
        : new PatchworkError('DIRTY_WORKTREE', `Your local changes would be overwritten by ${peerName}/${branch}.`, 'Commit or stash them, then pull again; the fetched commits are kept.');
      return { kind: 'blocked', branch, from, to: theirs, error };
    }
    case 'diverged':
      try {
        const r = await merge(repo, theirs, { theirName: `${peerName}/${branch}` });
        if (r.kind === 'merged') return { kind: 'merged', branch, from, to: r.id, merge: r.id };
        if (r.kind === 'conflicts') return { kind: 'conflicts', branch, from, to: theirs, conflicts: r.conflicts };
        if (r.kind === 'fast-forward') return { kind: 'fast-forward', branch, from, to: r.to };
        return { kind: 'up-to-date', branch, from, to: theirs };
      } catch (e) {
        if (isPatchworkError(e)) return { kind: 'blocked', branch, from, to: theirs, error: e };
        throw e;
      }
  }
}

export interface PullResult extends FetchResult {
  integration: Integration;
}

export async function pullFrom(node: PeerNode, repo: Repository, target: PeerTarget, opts: SyncOptions = {}): Promise<PullResult> {
  const fetched = await fetchFrom(node, repo, target, opts);
  return { ...fetched, integration: await integrate(repo, target.name, fetched.refs) };
}

/** Current branch id, for reports. */
export async function currentBranchId(repo: Repository): Promise<string | undefined> {
  const head = await repo.head();
  return head.kind === 'branch' ? repo.refs.read(HEADS + head.branch) : head.id;
}
