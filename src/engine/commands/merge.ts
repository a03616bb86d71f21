import { getConfigValue } from '../config';
import { PatchworkError } from '../errors';
import { isObjectId } from '../hash';
import { HEADS } from '../refs';
import { Repository } from '../repository';
import { resolveRevision } from '../revparse';
import { switchTree } from './checkout';
import { readMergeHeads } from './commit';
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
  planWorktree,
  operationInProgress,
  restoreOperation,
} from './merge-apply';
import { mergeBases } from './merge-base';
import { ConflictStyle } from './merge-file';
import { MergeContext, mergeTrees, virtualBase } from './merge-trees';

/**
 * `merge <rev>`: already up to date, fast-forward, or a three-way merge that commits with two
 * parents, or stops with the conflicts recorded in the index (stages 1–3) and in the files
 * (markers), `MERGE_HEAD`/`MERGE_MSG` written and the previous state saved for `merge --abort`.
 *
 * The p2p layer's pull calls `merge(repo, fetchedCommitId, { theirName: 'alice/main' })`.
 */

export interface MergeOptions {
  /** Name of the other side in the `>>>>>>>` marker and the default message (default: the revision as given). */
  theirName?: string;
  /** Message of the merge commit (default: "Merge <theirName>"). */
  message?: string;
  /** `auto` (default): fast-forward when possible; `only`: refuse anything else; `never`: always make a merge commit. */
  fastForward?: 'auto' | 'only' | 'never';
  /** Merge histories with no common ancestor (using an empty base). */
  allowUnrelated?: boolean;
  /** Overrides the `merge.conflict_style` setting (`merge` or `diff3`). */
  conflictStyle?: ConflictStyle;
}

export type MergeResult =
  | { kind: 'up-to-date'; head: string | undefined }
  | { kind: 'fast-forward'; from: string | undefined; to: string; written: string[]; removed: string[] }
  | { kind: 'merged'; id: string; parents: string[]; bases: string[]; changed: string[] }
  | { kind: 'conflicts'; bases: string[]; conflicts: ConflictInfo[]; changed: string[] };

/** The `merge.conflict_style` setting from patchwork.toml (`[merge] conflict_style = "diff3"`). */
export async function conflictStyleSetting(repo: Repository): Promise<ConflictStyle> {
  const v = getConfigValue(await repo.config(), 'merge.conflict_style');
  if (v === undefined || v === 'merge') return 'merge';
  if (v === 'diff3') return 'diff3';
  throw new PatchworkError('INVALID_CONFIG', `The setting merge.conflict_style is ${JSON.stringify(v)}, which is neither "merge" nor "diff3".`, 'Fix it with `patchwork config merge.conflict_style diff3` (or merge).');
}

export async function merge(repo: Repository, rev: string, opts: MergeOptions = {}): Promise<MergeResult> {
  return repo.withLock('merge', async () => {
    await assertNoOperation(repo);
    const theirs = await resolveRevision(repo, rev);
    const label = opts.theirName ?? (isObjectId(rev) ? rev.slice(0, 7) : rev);
    const head = await repo.head();
    const ix = (await repo.readIndex()).clone();
    assertNoConflicts(ix);

    const fastForward = async () => {
      const [from, to] = await Promise.all([repo.commitTree(head.id), repo.commitTree(theirs)]);
      const r = await switchTree(repo, ix, from, to);
      await repo.writeIndex(ix);
      if (head.kind === 'branch') await repo.refs.write(HEADS + head.branch, theirs);
      else await repo.refs.setHead({ kind: 'detached', id: theirs });
      return { kind: 'fast-forward' as const, from: head.id, to: theirs, ...r };
    };

    if (!head.id) return fastForward();
    if (head.id === theirs) return { kind: 'up-to-date' as const, head: head.id };
    const bases = await mergeBases(repo, head.id, theirs);
    if (bases.includes(theirs)) return { kind: 'up-to-date' as const, head: head.id };
    if (bases.includes(head.id) && opts.fastForward !== 'never') return fastForward();
    if (opts.fastForward === 'only') {
      throw new PatchworkError('NOT_FAST_FORWARD', `Cannot fast-forward to ${label}: the histories have diverged.`, 'Merge without --ff-only to create a merge commit.', { theirs });
    }
    if (!bases.length && !opts.allowUnrelated) {
      throw new PatchworkError('UNRELATED_HISTORIES', `Refusing to merge ${label}: it shares no history with HEAD.`, 'Use --allow-unrelated-histories if you really mean to join two separate projects.', { theirs });
    }

    const headTree = await repo.commitTree(head.id);
    assertNothingStaged(ix, headTree, 'merge');
    const ctx = new MergeContext(repo, opts.conflictStyle ?? (await conflictStyleSetting(repo)));
    const [base, theirTree] = await Promise.all([virtualBase(ctx, bases), repo.commitTree(theirs)]);
    const result = await mergeTrees(ctx, base, headTree, theirTree, { ours: 'ours', base: 'base', theirs: label });
    const plan = planWorktree(headTree, result);
    await checkWorktree(repo, ix, plan);

    const message = opts.message ?? `Merge ${label}`;
    const created = await blobsToWrite(ctx, result);
    await beginOperation(repo, { kind: 'merge', origHead: head.id, commit: theirs, label, message }, plan, headTree, created);
    await applyPlan(repo, ctx, ix, result, plan, created, 'merge');
    await repo.writeIndex(ix);
    const changed = [...plan.writes.map((w) => w.path), ...plan.deletes].sort();
    if (result.conflicts.length) {
      return { kind: 'conflicts' as const, bases, conflicts: result.conflicts.map(conflictInfo), changed };
    }
    const parents = [head.id, theirs];
    const id = await commitIndex(repo, head, ix, parents, message);
    await endOperation(repo);
    return { kind: 'merged' as const, id, parents, bases, changed };
  });
}

/** `merge --abort`: restore exactly the index, work-tree files and objects from before the merge. */
export async function mergeAbort(repo: Repository): Promise<{ head: string | undefined }> {
  return repo.withLock('merge --abort', async () => {
    const s = await operationInProgress(repo);
    if (!s || s.kind !== 'merge') {
      let hint = 'Nothing was changed; `patchwork status` shows where things stand.';
      if (s) hint = `A ${s.kind} is in progress: use \`patchwork ${s.kind} --abort\`.`;
      else if ((await readMergeHeads(repo)).length) hint = 'MERGE_HEAD was left without a saved state (it was not made by `patchwork merge`); `patchwork reset --hard` abandons it, discarding local changes.';
      throw new PatchworkError('NO_MERGE_IN_PROGRESS', 'There is no merge to abort.', hint);
    }
    await restoreOperation(repo, s);
    return { head: await repo.headCommit() };
  });
}
