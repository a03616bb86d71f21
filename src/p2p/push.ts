/**
 * push: two round trips after the stream opens.
 *
 *   pusher → receiver   push {repo, head, refs}        its branches and tags, and its current branch
 *   receiver → pusher   haves {refs, haves}            the receiver's tips and a sample of their ancestry
 *   pusher → receiver   <pack> done                    objectsToSend(wants = pushed tips, haves)
 *   receiver → pusher   result {branch, outcome}
 *
 * The receiver verifies everything in a quarantine, stores the pushed refs under
 * refs/peers/<pusher>/, and moves its own current branch only when the pusher's current branch is
 * that branch, the update is a fast-forward and its work tree is clean (git's updateInstead);
 * otherwise the commits wait under the tracking refs for the owner to merge. Nothing is overwritten.
 */
import { Repository, advertiseRefs, fastForwardBranch, isPatchworkError, negotiationHaves, objectsToSend } from '../engine/index.js';
import { P2PError } from './errors.js';
import type { PeerNode } from './node.js';
import { sendPack } from './pack.js';
import type { RequestContext } from './protocol.js';
import { PUSH_PROTOCOL, asCancelled, localTips, openTo, receiveInto, selfAddresses, withLockRetry, type PeerTarget, type RefChange, type SyncOptions } from './sync-common.js';
import { parseHaves, parsePushRequest, parsePushResult, type DeliveredReason, type PushOutcome, type PushResultMessage } from './wire.js';

/** How long a pusher waits for the receiver to verify and apply (large pushes take a while). */
const RESULT_TIMEOUT_MS = 10 * 60_000;

export interface PushReceived {
  peer: string;
  branch?: string;
  outcome: PushOutcome;
  reason?: DeliveredReason;
  objects: number;
  bytes: number;
  commits: number;
  changed: RefChange[];
  addresses: string[];
}

/** Serve side: receive one push. `writer` says whether the authenticated peer may push. */
export async function servePush(ctx: RequestContext, repo: Repository, access: { writer: boolean; refusal: string }, onDone?: (r: PushReceived) => void): Promise<void> {
  const { channel, signal } = ctx;
  const req = await channel.readMessage((v) => parsePushRequest(v, ctx.peer));
  if (!access.writer) throw new P2PError('REFUSED', access.refusal);
  const config = await repo.config();
  if (req.repo !== config.repository.id) throw new P2PError('REFUSED', `this peer serves repository "${config.repository.name}" (${config.repository.id}), not ${req.repo}`);
  const adv = await advertiseRefs(repo);
  const haves = await negotiationHaves(repo, await localTips(repo, ctx.peer));
  await channel.sendJson({ type: 'haves', head: adv.head, refs: adv.refs, haves });
  const received = await receiveInto(repo, channel, ctx.peer, req.refs, { signal });

  let result: Omit<PushResultMessage, 'type'> = { outcome: 'delivered', reason: 'not-current' };
  const head = await repo.head();
  if (head.kind === 'branch' && req.head === head.branch) {
    const branch = head.branch;
    const id = req.refs[`heads/${branch}`];
    if (!id) result = { branch, outcome: 'delivered', reason: 'no-branch' };
    else {
      try {
        const ff = await withLockRetry(repo, 'push', () => fastForwardBranch(repo, branch, id, { requireClean: true }), 5_000);
        const map = { 'fast-forward': 'updated', created: 'created', 'up-to-date': 'up-to-date', behind: 'ahead' } as const;
        result = ff === 'diverged' || ff === 'dirty' ? { branch, outcome: 'delivered', reason: ff } : { branch, outcome: map[ff] };
      } catch (e) {
        if (!isPatchworkError(e, 'LOCKED')) throw e;
        result = { branch, outcome: 'delivered', reason: 'busy' };
      }
    }
  } else if (req.head !== undefined) {
    result = { branch: req.head, outcome: 'delivered', reason: 'not-current' };
  }
  await channel.sendJson({ type: 'result', ...result });
  onDone?.({ peer: ctx.peer, ...result, objects: received.objects, bytes: received.bytes, commits: received.commits, changed: received.changed, addresses: req.addresses });
}

export interface PushResult {
  peer: string;
  name: string;
  /** The branch the receiver considered (the pusher's current branch). */
  branch?: string;
  outcome: PushOutcome;
  reason?: DeliveredReason;
  objects: number;
  bytes: number;
  ms: number;
}

/** Push every branch and tag to `target`; its current branch moves only as described above. */
export async function pushTo(node: PeerNode, repo: Repository, target: PeerTarget, opts: SyncOptions = {}): Promise<PushResult> {
  const t0 = Date.now();
  const config = await repo.config();
  const adv = await advertiseRefs(repo);
  if (Object.keys(adv.refs).length === 0) throw new P2PError('INTERNAL', 'nothing to push: this repository has no commits yet', { nothingToPush: true });
  opts.onProgress?.({ phase: 'connecting', peer: target.peerId, objects: 0, bytes: 0 });
  const channel = await openTo(node, target, PUSH_PROTOCOL, opts);
  try {
    await channel.sendJson({ type: 'push', repo: config.repository.id, head: adv.head, refs: adv.refs, addresses: await selfAddresses(repo, node) });
    opts.onProgress?.({ phase: 'negotiating', peer: target.peerId, objects: 0, bytes: 0 });
    const theirs = await channel.readMessage(parseHaves);
    const haves = [...new Set([...Object.values(theirs.refs), ...theirs.haves])];
    const wants = [...new Set(Object.values(adv.refs))];
    const counts = await sendPack(channel, objectsToSend(repo, wants, haves, opts.signal), {
      signal: opts.signal,
      onProgress: (c) => opts.onProgress?.({ phase: 'sending', peer: target.peerId, objects: c.objects, bytes: c.bytes }),
    });
    opts.onProgress?.({ phase: 'waiting', peer: target.peerId, objects: counts.objects, bytes: counts.bytes });
    const result = await channel.readMessage(parsePushResult, { timeoutMs: RESULT_TIMEOUT_MS, signal: opts.signal });
    await channel.close().catch(() => undefined);
    opts.onProgress?.({ phase: 'done', peer: target.peerId, objects: counts.objects, bytes: counts.bytes });
    return { peer: target.peerId, name: target.name, branch: result.branch, outcome: result.outcome, reason: result.reason, objects: counts.objects, bytes: counts.bytes, ms: Date.now() - t0 };
  } catch (e) {
    if (channel.error === null) channel.abort();
    throw asCancelled(e, opts.signal);
  }
}
