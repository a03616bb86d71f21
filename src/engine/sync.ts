import { PatchworkError } from './errors';
import { isObjectId } from './hash';
import { HEADS, TAGS, refNameProblem } from './refs';
import { Repository } from './repository';
import { switchTree } from './commands/checkout';
import { status } from './commands/status';
import { isAncestor } from './commands/log';
import { readMergeHeads } from './commands/commit';

/**
 * Ref bookkeeping for synchronisation, network-agnostic: what a repository advertises, where a
 * peer's refs are tracked (`refs/peers/<peer>/heads|tags/<name>`), and moving a branch forward.
 */

export interface AdvertisedRefs {
  /** The branch HEAD is on (undefined when detached). */
  head: string | undefined;
  /** `heads/<branch>` and `tags/<tag>` → commit id. */
  refs: Record<string, string>;
}

export async function advertiseRefs(repo: Repository): Promise<AdvertisedRefs> {
  const head = await repo.head();
  const refs: Record<string, string> = {};
  for (const b of await repo.refs.list(HEADS)) refs[`heads/${b.name}`] = b.id;
  for (const t of await repo.refs.list(TAGS)) refs[`tags/${t.name}`] = t.id;
  return { head: head.kind === 'branch' ? head.branch : undefined, refs };
}

/** Validate refs a peer advertised: names as for local branches, values 64-hex ids, a bounded count. */
export function validateAdvertisedRefs(input: unknown, maxRefs = 10_000): AdvertisedRefs {
  const bad = (why: string) => new PatchworkError('P2P', `The peer advertised invalid refs: ${why}.`);
  if (typeof input !== 'object' || input === null) throw bad('not an object');
  const { head, refs } = input as { head?: unknown; refs?: unknown };
  if (head !== undefined && (typeof head !== 'string' || refNameProblem(head))) throw bad('bad HEAD branch name');
  if (typeof refs !== 'object' || refs === null || Array.isArray(refs)) throw bad('no ref list');
  const entries = Object.entries(refs as Record<string, unknown>);
  if (entries.length > maxRefs) throw bad(`more than ${maxRefs} refs`);
  const out: Record<string, string> = {};
  for (const [name, id] of entries) {
    const m = /^(heads|tags)\/(.+)$/.exec(name);
    if (!m || refNameProblem(m[2])) throw bad(`bad ref name ${JSON.stringify(name.slice(0, 80))}`);
    if (typeof id !== 'string' || !isObjectId(id)) throw bad(`bad id for ${name}`);
    out[name] = id;
  }
  return { head: head as string | undefined, refs: out };
}

const PEER_RE = /^[1-9A-HJ-NP-Za-km-z]{20,128}$/;

export function trackingPrefix(peerId: string): string {
  if (!PEER_RE.test(peerId)) throw new PatchworkError('INVALID_NAME', `"${peerId}" is not a valid peer id.`);
  return `refs/peers/${peerId}/`;
}

/** Record what a peer has under `refs/peers/<peer>/`; refs the peer no longer has are removed. */
export async function updateTrackingRefs(repo: Repository, peerId: string, refs: Record<string, string>): Promise<void> {
  const prefix = trackingPrefix(peerId);
  for (const [name, id] of Object.entries(refs)) {
    if ((await repo.refs.read(prefix + name)) !== id) await repo.refs.write(prefix + name, id);
  }
  for (const kind of ['heads/', 'tags/']) {
    for (const r of await repo.refs.list(prefix + kind)) {
      if (!(kind + r.name in refs)) await repo.refs.delete(prefix + kind + r.name);
    }
  }
}

/** A peer's tracked refs (`heads/<b>` / `tags/<t>` → id). */
export async function trackingRefs(repo: Repository, peerId: string): Promise<Record<string, string>> {
  const prefix = trackingPrefix(peerId);
  const out: Record<string, string> = {};
  for (const kind of ['heads/', 'tags/']) for (const r of await repo.refs.list(prefix + kind)) out[kind + r.name] = r.id;
  return out;
}

export type FastForwardOutcome = 'up-to-date' | 'fast-forward' | 'created' | 'diverged' | 'dirty' | 'behind';

/**
 * Move `branch` to `newId` if that is a fast-forward. When the branch is checked out, the work tree
 * moves with it (git's updateInstead): with `requireClean` (a push arriving) only when there are no
 * local changes at all, otherwise (a pull) whenever no local change would be overwritten.
 * Never overwrites anything: a non-fast-forward gives 'diverged' and changes nothing.
 * The caller holds the repository lock.
 */
export async function fastForwardBranch(repo: Repository, branch: string, newId: string, opts: { requireClean?: boolean } = {}): Promise<FastForwardOutcome> {
  const ref = HEADS + branch;
  const cur = await repo.refs.read(ref);
  const head = await repo.head();
  const checkedOut = head.kind === 'branch' && head.branch === branch;
  if (cur === newId) return 'up-to-date';
  if (cur && (await isAncestor(repo, newId, cur))) return 'behind';
  if (cur && !(await isAncestor(repo, cur, newId))) return 'diverged';
  if (checkedOut) {
    if ((await readMergeHeads(repo)).length) return 'dirty';
    if (opts.requireClean) {
      const s = await status(repo);
      if (s.staged.length || s.unstaged.length || s.conflicts.length) return 'dirty';
    }
    const ix = (await repo.readIndex()).clone();
    const treeOf = async (id: string | undefined) => (id ? (await repo.readCommit(id)).tree : undefined);
    const [curTree, newTree] = [await treeOf(cur), (await treeOf(newId))!];
    // An index that was exactly the old commit's tree is exactly the new one's afterwards; recording
    // that spares the next status reading any tree.
    const wasHead = curTree ? ix.treeId === curTree : ix.entries.size === 0 && ix.conflicts.size === 0;
    try {
      // Only the paths the two commits disagree on: a pull of one commit into a big tree reads a
      // handful of trees instead of flattening both whole.
      const [from, to] = await repo.flattenChanged(curTree, newTree);
      await switchTree(repo, ix, from, to);
      if (wasHead) ix.treeId = newTree;
    } catch (e) {
      if (e instanceof PatchworkError && e.code === 'DIRTY_WORKTREE') return 'dirty';
      throw e;
    }
    await repo.writeIndex(ix);
  }
  await repo.refs.write(ref, newId);
  return cur ? 'fast-forward' : 'created';
}
