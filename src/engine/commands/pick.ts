import { PatchworkError } from '../errors';
import { summaryLine } from '../objects';
import { Repository } from '../repository';
import { resolveRevision } from '../revparse';
import {
  ConflictInfo,
  applyPlan,
  assertNoConflicts,
  assertNoOperation,
  assertNothingStaged,
  beginOperation,
  blobsToWrite,
  checkWorktree,
  commitIndex,
  conflictInfo,
  endOperation,
  indexTree,
  operationInProgress,
  planWorktree,
  restoreOperation,
  sameTree,
} from './merge-apply';
import { ConflictStyle } from './merge-file';
import { conflictStyleSetting } from './merge';
import { MergeContext, mergeTrees } from './merge-trees';

/**
 * `cherry-pick <rev>` applies a commit's change (its parent → it) on top of HEAD; `revert <rev>`
 * applies the opposite change (it → its parent). Both are three-way merges with HEAD as ours, run
 * through the same machinery as `merge`: clean results are committed at once, conflicts stop with
 * the state saved for `--continue` or `--abort`.
 */

export type PickKind = 'cherry-pick' | 'revert';

export interface PickOptions {
  conflictStyle?: ConflictStyle;
}

export type PickResult =
  | { kind: 'committed'; id: string; picked: string; changed: string[] }
  | { kind: 'conflicts'; picked: string; conflicts: ConflictInfo[]; changed: string[] };

export function cherryPick(repo: Repository, rev: string, opts: PickOptions = {}): Promise<PickResult> {
  return pick(repo, 'cherry-pick', rev, opts);
}

export function revert(repo: Repository, rev: string, opts: PickOptions = {}): Promise<PickResult> {
  return pick(repo, 'revert', rev, opts);
}

async function pick(repo: Repository, kind: PickKind, rev: string, opts: PickOptions): Promise<PickResult> {
  return repo.withLock(kind, async () => {
    await assertNoOperation(repo);
    const head = await repo.head();
    if (!head.id) throw new PatchworkError('UNBORN_HEAD', `Cannot ${kind} onto a branch with no commits yet.`, 'Make a first commit, then try again.');
    const id = await resolveRevision(repo, rev);
    const c = await repo.readCommit(id);
    const short = id.slice(0, 7);
    const summary = summaryLine(c.message);
    if (c.parents.length > 1) {
      throw new PatchworkError('INVALID_ARGUMENT', `Commit ${short} is a merge; ${kind} of a merge commit is not supported.`, `Pick the individual commits of the merged branch instead.`, { commit: id });
    }
    const ix = (await repo.readIndex()).clone();
    assertNoConflicts(ix);
    const headTree = await repo.commitTree(head.id);
    assertNothingStaged(ix, headTree, kind);
    const [parentTree, commitTree] = await Promise.all([repo.commitTree(c.parents[0]), repo.flattenTree(c.tree)]);
    const [base, theirs, label] = kind === 'cherry-pick' ? [parentTree, commitTree, `${short} (${summary})`] : [commitTree, parentTree, `parent of ${short} (${summary})`];
    const ctx = new MergeContext(repo, opts.conflictStyle ?? (await conflictStyleSetting(repo)));
    const result = await mergeTrees(ctx, base, headTree, theirs, { ours: 'ours', base: kind === 'cherry-pick' ? `parent of ${short}` : short, theirs: label });
    if (!result.conflicts.length && sameTree(result.merged, headTree)) {
      throw new PatchworkError(
        'NOTHING_TO_COMMIT',
        kind === 'cherry-pick' ? `Nothing to cherry-pick: the changes of ${short} are already in HEAD.` : `Nothing to revert: the changes of ${short} are not in HEAD.`,
        'Nothing was changed.',
        { commit: id },
      );
    }
    const plan = planWorktree(headTree, result);
    await checkWorktree(repo, ix, plan);
    const message = kind === 'cherry-pick' ? c.message : `Revert "${summary}"\n\nThis reverts commit ${id}.\n`;
    const author = kind === 'cherry-pick' ? c.author : undefined;
    const created = await blobsToWrite(ctx, result);
    await beginOperation(repo, { kind, origHead: head.id, commit: id, label, message, author }, plan, headTree, created);
    await applyPlan(repo, ctx, ix, result, plan, created, 'merge');
    await repo.writeIndex(ix);
    const changed = [...plan.writes.map((w) => w.path), ...plan.deletes].sort();
    if (result.conflicts.length) return { kind: 'conflicts' as const, picked: id, conflicts: result.conflicts.map(conflictInfo), changed };
    const newId = await commitIndex(repo, head, ix, [head.id], message, author);
    await endOperation(repo);
    return { kind: 'committed' as const, id: newId, picked: id, changed };
  });
}

async function pickState(repo: Repository, kind: PickKind) {
  const s = await operationInProgress(repo);
  if (!s || s.kind !== kind) {
    throw new PatchworkError('NO_MERGE_IN_PROGRESS', `There is no ${kind} in progress.`, s ? `A ${s.kind} is in progress: use \`patchwork ${s.kind} --continue\` or \`--abort\`.` : 'Nothing was changed; `patchwork status` shows where things stand.', { operation: kind });
  }
  return s;
}

/** `cherry-pick --continue` / `revert --continue`: commit the resolved result with the saved message (and author). */
export async function pickContinue(repo: Repository, kind: PickKind): Promise<{ id: string; picked: string }> {
  return repo.withLock(`${kind} --continue`, async () => {
    const s = await pickState(repo, kind);
    const ix = await repo.readIndex();
    if (ix.conflicts.size) {
      const paths = [...ix.conflicts.keys()];
      throw new PatchworkError('UNMERGED_PATHS', `Cannot continue: ${paths.length} file${paths.length > 1 ? 's have' : ' has'} unresolved conflicts (${paths.slice(0, 3).join(', ')}).`, 'Fix them, then `patchwork add` each file to mark it resolved.', { paths });
    }
    const head = await repo.head();
    if (sameTree(indexTree(ix), await repo.commitTree(head.id))) {
      throw new PatchworkError('NOTHING_TO_COMMIT', `Nothing to commit: the resolved ${kind} changes nothing.`, `Use \`patchwork ${kind} --abort\` to drop it.`);
    }
    const id = await commitIndex(repo, head, ix, [s.origHead], s.message, s.author);
    await endOperation(repo);
    return { id, picked: s.commit };
  });
}

/** `cherry-pick --abort` / `revert --abort`: restore exactly the state from before. */
export async function pickAbort(repo: Repository, kind: PickKind): Promise<void> {
  return repo.withLock(`${kind} --abort`, async () => {
    await restoreOperation(repo, await pickState(repo, kind));
  });
}
