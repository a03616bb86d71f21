/**
 * Status snapshots for the extension, with an incremental path: a file save re-checks only the
 * paths the watcher reported instead of walking the whole work tree. Pure engine code (no
 * `vscode`), so the node tests exercise it directly.
 *
 * A snapshot remembers the index file it was computed against (`indexStamp`). A partial refresh
 * is only valid while the index and HEAD are unchanged; otherwise the caller does a full one.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import {
  Head,
  IndexEntry,
  Repository,
  StatusResult,
  applyRefreshedStats,
  diffTrees,
  isPatchworkError,
  listTags,
  matchesSpec,
  operationInProgress,
  pathComponentProblem,
  readMergeHeads,
  worktreeState,
} from '../engine';

export type StagedKind = StatusResult['staged'][number]['kind'];
export type UnstagedKind = StatusResult['unstaged'][number]['kind'];

export interface StatusSnapshot {
  readonly head: Head;
  /** Tag names pointing at HEAD (shown when HEAD is detached on a tag). */
  readonly headTags: readonly string[];
  readonly staged: readonly { readonly path: string; readonly kind: StagedKind }[];
  readonly unstaged: readonly { readonly path: string; readonly kind: UnstagedKind }[];
  readonly untracked: readonly string[];
  readonly conflicts: readonly { readonly path: string; readonly base: boolean; readonly ours: boolean; readonly theirs: boolean }[];
  readonly unstorable: readonly string[];
  /** An unfinished merge / cherry-pick / revert (conflicts to resolve, then commit). */
  readonly operation: { readonly kind: 'merge' | 'cherry-pick' | 'revert'; readonly label: string } | undefined;
  /** What `.patch/` looked like when this snapshot was taken (see `repoStamp`). */
  readonly stamp: string;
}

/**
 * A cheap fingerprint of the state a snapshot depends on besides the work tree: HEAD, the ref it
 * points to, the index file's stat and the merge bookkeeping. Equal stamps mean the staged and
 * conflict lists are still right, so a work-tree event needs only a partial refresh, and a
 * `.patch/` event (for instance our own stat-cache write) needs none.
 */
export async function repoStamp(repo: Repository): Promise<string> {
  const statOf = async (p: string) => {
    const st = await fsp.stat(join(repo.patchDir, p)).catch(() => undefined);
    return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '-';
  };
  const headText = await fsp.readFile(join(repo.patchDir, 'HEAD'), 'utf8').catch(() => '');
  const ref = /^ref: (\S+)/.exec(headText)?.[1];
  const refText = ref ? await fsp.readFile(join(repo.patchDir, ref), 'utf8').catch(() => '-') : '';
  // refs/tags: a tag created at HEAD changes what a detached HEAD is called.
  const parts = await Promise.all([statOf('index'), statOf('MERGE_HEAD'), statOf('merge-state'), statOf('refs/tags')]);
  return [headText.trim(), refText.trim(), ...parts].join('|');
}

export interface FullStatusOptions {
  /**
   * Store refreshed stat data in the index, as the engine's `status` does. Off in untrusted
   * workspaces, where the extension writes nothing.
   */
  writeStatCache: boolean;
}

/** Everything, by walking the whole work tree. */
export async function fullStatus(repo: Repository, opts: FullStatusOptions): Promise<StatusSnapshot> {
  let stamp = await repoStamp(repo);
  const [head, ix] = await Promise.all([repo.head(), repo.readIndex()]);
  const headTree = await repo.commitTree(head.id);
  const staged = diffTrees(headTree, ix.entries).filter((c) => !ix.conflicts.has(c.path));
  const wt = await worktreeState(repo, ix);
  if (opts.writeStatCache && wt.refreshed.length) stamp = await storeStatCache(repo, wt.refreshed, stamp);
  const [headTags, operation] = await Promise.all([tagsAt(repo, head.id), currentOperation(repo)]);
  return {
    head,
    headTags,
    staged,
    unstaged: sortByPath([
      ...[...wt.modified.keys()].map((path) => ({ path, kind: 'modified' as const })),
      ...[...wt.deleted].map((path) => ({ path, kind: 'deleted' as const })),
    ]),
    untracked: wt.untracked,
    conflicts: [...ix.conflicts.values()].map((c) => ({ path: c.path, base: !!c.base, ours: !!c.ours, theirs: !!c.theirs })).sort(byPath),
    unstorable: wt.unstorable,
    operation,
    stamp,
  };
}

/**
 * Files whose stat changed but whose content did not are re-hashed on every walk until the index
 * records their new stat, as the engine's `status` does. Written only if nothing moved since the
 * walk started (same stamp, checked under the lock); returns the stamp the snapshot now matches.
 * A busy lock (the CLI is working) just skips the write.
 */
async function storeStatCache(repo: Repository, refreshed: IndexEntry[], stamp: string): Promise<string> {
  try {
    return await repo.withLock('status', async () => {
      if ((await repoStamp(repo)) !== stamp) return stamp;
      const ix = (await repo.readIndex()).clone();
      if (!applyRefreshedStats(ix, refreshed)) return stamp;
      await repo.writeIndex(ix);
      return repoStamp(repo);
    });
  } catch (e) {
    if (isPatchworkError(e, 'LOCKED')) return stamp;
    throw e;
  }
}

/**
 * Re-check only `paths` (repository-relative; a folder covers what is inside it) against the index
 * and merge the answer into `prev`. Returns undefined when a partial answer would be wrong: the
 * index or HEAD moved since `prev`, or a path needs the full walk's rules.
 */
export async function partialStatus(repo: Repository, prev: StatusSnapshot, paths: readonly string[]): Promise<StatusSnapshot | undefined> {
  if (!paths.length) return prev;
  if (paths.some((p) => p === '' || p.split('/').some((part) => pathComponentProblem(part)) || p.split('/').pop() === '.patchignore')) return undefined;
  const stamp = await repoStamp(repo);
  if (stamp !== prev.stamp) return undefined;
  const ix = await repo.readIndex();
  const wt = await worktreeState(repo, ix, paths);
  const outside = (p: string) => !paths.some((s) => matchesSpec(p, s));
  const unstaged = sortByPath([
    ...prev.unstaged.filter((c) => outside(c.path)),
    ...[...wt.modified.keys()].map((path) => ({ path, kind: 'modified' as const })),
    ...[...wt.deleted].map((path) => ({ path, kind: 'deleted' as const })),
  ]);
  const untracked = [...prev.untracked.filter(outside), ...wt.untracked].sort();
  const unstorable = [...prev.unstorable.filter(outside), ...wt.unstorable].sort();
  // The index did not change, so neither did the staged and conflict lists.
  return { ...prev, unstaged, untracked, unstorable, stamp };
}

async function tagsAt(repo: Repository, id: string | undefined): Promise<string[]> {
  if (!id) return [];
  return (await listTags(repo)).filter((t) => t.id === id).map((t) => t.name);
}

async function currentOperation(repo: Repository): Promise<StatusSnapshot['operation']> {
  const op = await operationInProgress(repo);
  if (op) return { kind: op.kind, label: op.label };
  // MERGE_HEAD without saved state (written by another tool): still a merge to finish.
  if ((await readMergeHeads(repo)).length) return { kind: 'merge', label: 'MERGE_HEAD' };
  return undefined;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
function sortByPath<T extends { path: string }>(items: T[]): T[] {
  return items.sort(byPath);
}

/** Every path a snapshot mentions, with what happened to it (for decorations and tests). */
export function changedPaths(s: StatusSnapshot): Set<string> {
  return new Set([...s.staged.map((c) => c.path), ...s.unstaged.map((c) => c.path), ...s.untracked, ...s.conflicts.map((c) => c.path)]);
}
