import { PatchworkError } from '../errors';
import { summaryLine } from '../objects';
import { FlatTree, Repository } from '../repository';
import { lstatOrUndefined, readWorktreeBlob, removeWorktreeFile, writeWorktreeFile } from '../worktree';
import { switchTree } from './checkout';
import { ConflictInfo, applyPlan, assertNoConflicts, assertNoOperation, blobsToWrite, checkWorktree, conflictInfo, indexTree, planWorktree, sameTree } from './merge-apply';
import { ConflictStyle } from './merge-file';
import { conflictStyleSetting } from './merge';
import { MergeContext, mergeTrees } from './merge-trees';
import { worktreeState } from './status';

/**
 * Stashes are commits, like git's: W (the work tree's tracked files) with parents HEAD, I (the
 * index) and optionally U (untracked files). Each stash is its own ref `.patch/refs/stash/<seq>`
 * (seq only grows), written atomically before the work tree is cleaned, so a crash never loses one
 * and `fsck` keeps their objects reachable. `stash@{0}` is the newest.
 *
 * Applying merges W into the current index three-way (base: the commit the stash was made on);
 * files with unstaged changes that the stash touches, and untracked files in the way, make it
 * refuse before anything is touched. Conflicts are recorded like a merge's, and `pop` then keeps
 * the stash.
 */

export const STASH_REFS = 'refs/stash/';

export interface StashEntry {
  /** Position in the list: 0 is the newest (`stash@{0}`). */
  index: number;
  /** Sequence number in the ref name. */
  seq: number;
  id: string;
  message: string;
  timestamp: number;
}

export interface StashPushOptions {
  message?: string;
  /** Also stash (and remove) untracked files. */
  includeUntracked?: boolean;
}

export async function stashList(repo: Repository): Promise<StashEntry[]> {
  const refs = (await repo.refs.list(STASH_REFS)).filter((r) => /^\d+$/.test(r.name));
  refs.sort((a, b) => Number(b.name) - Number(a.name));
  const out: StashEntry[] = [];
  for (const [index, r] of refs.entries()) {
    const c = await repo.readCommit(r.id);
    out.push({ index, seq: Number(r.name), id: r.id, message: summaryLine(c.message), timestamp: c.committer.timestamp });
  }
  return out;
}

async function entry(repo: Repository, n: number): Promise<StashEntry> {
  const list = await stashList(repo);
  if (!list.length) throw new PatchworkError('NO_STASH', 'There are no stashes.', 'Save one with `patchwork stash`.');
  const e = list[n];
  if (!Number.isInteger(n) || n < 0 || !e) {
    throw new PatchworkError('NO_STASH', `There is no stash@{${n}}: there ${list.length === 1 ? 'is 1 stash' : `are ${list.length} stashes`}.`, 'See `patchwork stash list`.', { index: n });
  }
  return e;
}

export async function stashPush(repo: Repository, opts: StashPushOptions = {}): Promise<StashEntry> {
  return repo.withLock('stash', async () => {
    await assertNoOperation(repo);
    const head = await repo.head();
    if (!head.id) throw new PatchworkError('UNBORN_HEAD', 'Cannot stash before the first commit.', 'Make a first commit, then try again.');
    const ix = (await repo.readIndex()).clone();
    assertNoConflicts(ix);
    const headCommit = await repo.readCommit(head.id);
    const headTree = await repo.flattenTree(headCommit.tree);
    const wt = await worktreeState(repo, ix);
    const staged = indexTree(ix);
    const work: FlatTree = new Map(staged);
    for (const p of wt.deleted) work.delete(p);
    for (const p of wt.modified.keys()) {
      const st = lstatOrUndefined(repo.root, p);
      if (!st || st.isDirectory()) {
        work.delete(p);
        continue;
      }
      const { body, mode } = await readWorktreeBlob(repo.root, p, st);
      work.set(p, { id: await repo.store.write('blob', body), mode });
    }
    const untracked: FlatTree = new Map();
    if (opts.includeUntracked) {
      for (const p of wt.untracked) {
        const st = lstatOrUndefined(repo.root, p);
        if (!st || st.isDirectory()) continue;
        const { body, mode } = await readWorktreeBlob(repo.root, p, st);
        untracked.set(p, { id: await repo.store.write('blob', body), mode });
      }
    }
    if (sameTree(staged, headTree) && sameTree(work, headTree) && !untracked.size) {
      throw new PatchworkError('NOTHING_TO_STASH', 'No local changes to stash.', opts.includeUntracked ? undefined : 'Untracked files are only stashed with --include-untracked (-u).');
    }
    const where = head.kind === 'branch' ? head.branch : '(no branch)';
    const about = `${head.id.slice(0, 7)} ${summaryLine(headCommit.message)}`;
    const sig = await repo.signature();
    const commit = async (tree: FlatTree, parents: string[], message: string) =>
      repo.writeCommit({ tree: await repo.writeTreeFromFlat(tree), parents, author: sig, committer: sig, message });
    const i = await commit(staged, [head.id], `index on ${where}: ${about}\n`);
    const parents = [head.id, i];
    if (untracked.size) parents.push(await commit(untracked, [], `untracked files on ${where}: ${about}\n`));
    const message = opts.message?.trim() ? `On ${where}: ${opts.message.trim()}\n` : `WIP on ${where}: ${about}\n`;
    const w = await commit(work, parents, message);
    const seq = Math.max(0, ...(await stashList(repo)).map((e) => e.seq)) + 1;
    await repo.refs.write(STASH_REFS + seq, w);
    // Only now that the stash is safely stored: make the index and the files match HEAD again.
    await switchTree(repo, ix, headTree, headTree, { force: true });
    await repo.writeIndex(ix);
    for (const p of [...untracked.keys()].sort().reverse()) await removeWorktreeFile(repo.root, p);
    return { index: 0, seq, id: w, message: summaryLine(message), timestamp: sig.timestamp };
  });
}

export interface StashApplyResult {
  stash: StashEntry;
  conflicts: ConflictInfo[];
  changed: string[];
  /** `pop` only: whether the stash was dropped (it is kept when there were conflicts). */
  dropped: boolean;
}

export async function stashApply(repo: Repository, n = 0, opts: { conflictStyle?: ConflictStyle } = {}): Promise<StashApplyResult> {
  return repo.withLock('stash apply', () => applyLocked(repo, n, false, opts));
}

export async function stashPop(repo: Repository, n = 0, opts: { conflictStyle?: ConflictStyle } = {}): Promise<StashApplyResult> {
  return repo.withLock('stash pop', () => applyLocked(repo, n, true, opts));
}

async function applyLocked(repo: Repository, n: number, pop: boolean, opts: { conflictStyle?: ConflictStyle }): Promise<StashApplyResult> {
  await assertNoOperation(repo);
  const stash = await entry(repo, n);
  const w = await repo.readCommit(stash.id);
  if (w.parents.length < 2) throw new PatchworkError('CORRUPT_OBJECT', `stash@{${n}} (${stash.id.slice(0, 12)}) is not a stash commit.`, 'Drop it with `patchwork stash drop`.');
  const ix = (await repo.readIndex()).clone();
  assertNoConflicts(ix);
  const ours = indexTree(ix);
  const [base, theirs, untracked] = await Promise.all([repo.commitTree(w.parents[0]), repo.flattenTree(w.tree), repo.commitTree(w.parents[2])]);
  const ctx = new MergeContext(repo, opts.conflictStyle ?? (await conflictStyleSetting(repo)));
  const result = await mergeTrees(ctx, base, ours, theirs, { ours: 'ours', base: 'stash base', theirs: `stash@{${n}}` });
  const plan = planWorktree(ours, result);
  await checkWorktree(repo, ix, plan);
  const inTheWay = [...untracked.keys()].filter((p) => lstatOrUndefined(repo.root, p) || ix.entries.has(p) || ix.conflicts.has(p) || result.merged.has(p));
  if (inTheWay.length) {
    throw new PatchworkError('DIRTY_WORKTREE', `The stash's untracked files would overwrite files that exist: ${inTheWay.slice(0, 5).join(', ')}${inTheWay.length > 5 ? ', …' : ''}.`, 'Move them away, then apply the stash again.', {
      paths: inTheWay,
    });
  }
  const created = await blobsToWrite(ctx, result);
  await applyPlan(repo, ctx, ix, result, plan, created, 'stash');
  await repo.writeIndex(ix);
  for (const [p, e] of untracked) await writeWorktreeFile(repo.root, p, e.mode, await repo.readBlob(e.id));
  const conflicts = result.conflicts.map(conflictInfo);
  let dropped = false;
  if (pop && !conflicts.length) {
    await repo.refs.delete(STASH_REFS + stash.seq);
    dropped = true;
  }
  const changed = [...plan.writes.map((x) => x.path), ...plan.deletes, ...untracked.keys()].sort();
  return { stash, conflicts, changed, dropped };
}

export async function stashDrop(repo: Repository, n = 0): Promise<StashEntry> {
  return repo.withLock('stash drop', async () => {
    const e = await entry(repo, n);
    await repo.refs.delete(STASH_REFS + e.seq);
    return e;
  });
}
