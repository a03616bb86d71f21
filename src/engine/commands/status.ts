import { Stats } from 'node:fs';
import { objectId } from '../hash';
import { Index, IndexEntry, statFields, statMatches } from '../index-file';
import { FileMode } from '../objects';
import { matchesAny, matchesSpec } from '../pathspec';
import { Head } from '../refs';
import { FlatTree, Repository } from '../repository';
import { IgnoreRules, lstatOrUndefined, readWorktreeBlob, walkWorktree } from '../worktree';
import { acquireLock } from '../lock';
import { join } from 'node:path';
import { lookupPath } from './log';

export type StagedKind = 'added' | 'modified' | 'deleted';
export type UnstagedKind = 'modified' | 'deleted';

export interface StatusResult {
  head: Head;
  staged: { path: string; kind: StagedKind }[];
  unstaged: { path: string; kind: UnstagedKind }[];
  untracked: string[];
  /** Unmerged paths with the stages that are present. */
  conflicts: { path: string; base: boolean; ours: boolean; theirs: boolean }[];
  /** Files whose names cannot be stored (e.g. a file called `.git`), so they are never added. */
  unstorable: string[];
}

export interface WorktreeState {
  /** Path → current blob id and mode, for tracked paths whose content differs from the index. */
  modified: Map<string, { id: string; mode: FileMode }>;
  deleted: Set<string>;
  untracked: string[];
  unstorable: string[];
  /** Entries whose stat changed but content did not: new stat values to cache. */
  refreshed: IndexEntry[];
}

/**
 * Is the work-tree file at `path` the same as the index entry? Uses the stat cache; files whose
 * stat changed, or that changed in the same instant the index was written ("racily clean"), are
 * re-hashed.
 */
export async function compareWithIndex(
  repo: Repository,
  ix: Index,
  e: IndexEntry,
  st: Stats,
): Promise<{ same: boolean; id: string; mode: FileMode; refreshed?: IndexEntry }> {
  if (statMatches(e, st) && e.mtimeMs < ix.fileMtimeMs) return { same: true, id: e.id, mode: e.mode };
  const { body, mode } = await readWorktreeBlob(repo.root, e.path, st);
  const id = objectId('blob', body);
  const same = id === e.id && mode === e.mode;
  return { same, id, mode, refreshed: same ? { ...e, ...statFields(st) } : undefined };
}

/** Compare the work tree with the index (optionally only under some pathspecs). */
export async function worktreeState(repo: Repository, ix: Index, specs?: readonly string[]): Promise<WorktreeState> {
  const rules = new IgnoreRules(repo.root);
  const state: WorktreeState = { modified: new Map(), deleted: new Set(), untracked: [], unstorable: [], refreshed: [] };
  const seen = new Set<string>();
  const starts = specs && specs.length && !specs.includes('') ? specs : [''];
  const check = async (e: IndexEntry, st: Stats | undefined) => {
    if (!st || st.isDirectory()) {
      state.deleted.add(e.path);
      return;
    }
    const r = await compareWithIndex(repo, ix, e, st);
    if (!r.same) state.modified.set(e.path, { id: r.id, mode: r.mode });
    else if (r.refreshed) state.refreshed.push(r.refreshed);
  };
  const pending: Promise<void>[] = [];
  const racyBefore = ix.fileMtimeMs;
  // Paths are de-duplicated only when several pathspecs may overlap; a single walk visits each once.
  const dedupe = starts.length > 1;
  // Without de-duplication the walk keeps the index entries it met, not the paths it built: those
  // strings then die young instead of being carried through every scavenge of a 20k-file walk.
  const seenEntries: IndexEntry[] = [];
  let trackedSeen = 0;
  for (const start of starts) {
    const visit = (path: string, stats: Stats) => {
      if (dedupe) {
        if (seen.has(path)) return;
        seen.add(path);
      }
      const e = ix.entries.get(path);
      // The common case, a file whose stat matches the index, is settled here without a promise.
      if (e) {
        trackedSeen++;
        if (!dedupe) seenEntries.push(e);
        if (!(e.mtimeMs < racyBefore && statMatches(e, stats))) pending.push(check(e, stats));
      } else if (!ix.conflicts.has(path) && (start === path ? !rules.isIgnored(path, false) : true)) state.untracked.push(path);
    };
    const st = start ? lstatOrUndefined(repo.root, start) : undefined;
    if (!start || st?.isDirectory()) state.unstorable.push(...walkWorktree(repo.root, rules, start, visit).invalid);
    else if (st) visit(start, st);
  }
  // Tracked files the walk did not visit: deleted, or inside an ignored folder.
  const tracked = specs ? entriesUnder(ix, specs) : ix.entries;
  if (trackedSeen < tracked.size) {
    if (!dedupe) for (const e of seenEntries) seen.add(e.path);
    for (const [path, e] of tracked) {
      if (seen.has(path)) continue;
      pending.push(check(e, lstatOrUndefined(repo.root, path)));
    }
  }
  await Promise.all(pending);
  state.untracked.sort();
  return state;
}

export function diffTrees(from: FlatTree, to: Map<string, { id: string; mode: FileMode }>): { path: string; kind: StagedKind }[] {
  const out: { path: string; kind: StagedKind }[] = [];
  for (const [path, e] of to) {
    const h = from.get(path);
    if (!h) out.push({ path, kind: 'added' });
    else if (h.id !== e.id || h.mode !== e.mode) out.push({ path, kind: 'modified' });
  }
  for (const path of from.keys()) if (!to.has(path)) out.push({ path, kind: 'deleted' });
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * Index entries under some pathspecs. A spec naming a tracked file is one map lookup, so a status of
 * a few saved files does not scan every entry.
 */
export function entriesUnder(ix: Index, specs: readonly string[]): Map<string, IndexEntry> {
  const out = new Map<string, IndexEntry>();
  const rest: string[] = [];
  for (const s of specs) {
    const e = s ? ix.entries.get(s) : undefined;
    if (e) out.set(s, e);
    else rest.push(s);
  }
  if (rest.length) for (const [p, e] of ix.entries) if (rest.some((s) => matchesSpec(p, s))) out.set(p, e);
  return out;
}

/**
 * Staged changes (HEAD → index), optionally under some pathspecs. When the index records that it
 * makes HEAD's tree, nothing is staged and no tree is read; with pathspecs only the subtrees they
 * name are read (and cached trees are reused across calls on the same Repository).
 */
export async function stagedChanges(repo: Repository, head: Head, ix: Index, specs?: readonly string[]): Promise<{ path: string; kind: StagedKind }[]> {
  const headTreeId = head.id ? (await repo.readCommit(head.id)).tree : undefined;
  if (ix.treeId !== undefined && ix.treeId === headTreeId && !ix.conflicts.size) return [];
  const limited = !!specs?.length && !specs.includes('');
  let headTree: FlatTree;
  if (limited && headTreeId) {
    headTree = new Map();
    for (const spec of specs!) {
      const at = await lookupPath(repo, headTreeId, spec);
      if (at?.mode === '40000') await repo.flattenTree(at.id, spec + '/', headTree);
      else if (at) headTree.set(spec, { id: at.id, mode: at.mode as FileMode });
    }
  } else headTree = await repo.commitTree(head.id);
  const entries = limited ? entriesUnder(ix, specs!) : ix.entries;
  return diffTrees(headTree, entries).filter((c) => !ix.conflicts.has(c.path) && (!specs || matchesAny(c.path, specs)));
}

/** Staged, unstaged, untracked and conflicted paths. Caches refreshed stat data when it can. */
export async function status(repo: Repository, specs?: readonly string[]): Promise<StatusResult> {
  const [head, ix] = await Promise.all([repo.head(), repo.readIndex()]);
  const staged = await stagedChanges(repo, head, ix, specs);
  const wt = await worktreeState(repo, ix, specs);
  const unstaged: StatusResult['unstaged'] = [
    ...[...wt.modified.keys()].map((path) => ({ path, kind: 'modified' as const })),
    ...[...wt.deleted].map((path) => ({ path, kind: 'deleted' as const })),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  const conflicts = [...ix.conflicts.values()]
    .filter((c) => !specs || matchesAny(c.path, specs))
    .map((c) => ({ path: c.path, base: !!c.base, ours: !!c.ours, theirs: !!c.theirs }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  if (wt.refreshed.length) await refreshStatCache(repo, wt.refreshed);
  return { head, staged, unstaged, untracked: wt.untracked, conflicts, unstorable: wt.unstorable };
}

/** Opportunistically store refreshed stat data; skipped silently when another process holds the lock. */
async function refreshStatCache(repo: Repository, refreshed: IndexEntry[]): Promise<void> {
  let release: (() => Promise<void>) | undefined;
  try {
    release = await acquireLock(join(repo.patchDir, 'lock'), 'status', 0);
  } catch {
    return;
  }
  try {
    const ix = (await repo.readIndex()).clone();
    if (applyRefreshedStats(ix, refreshed)) await repo.writeIndex(ix);
  } finally {
    await release();
  }
}

/**
 * Put fresh stat data into the index for entries whose content is still what was hashed (the file
 * may have been re-staged meanwhile). True when anything changed.
 */
export function applyRefreshedStats(ix: Index, refreshed: IndexEntry[]): boolean {
  let changed = false;
  for (const r of refreshed) {
    const cur = ix.entries.get(r.path);
    if (cur && cur.id === r.id && cur.mode === r.mode) {
      ix.entries.set(r.path, r);
      changed = true;
    }
  }
  return changed;
}
