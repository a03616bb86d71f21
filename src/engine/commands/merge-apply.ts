import { promises as fsp, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PatchworkError } from '../errors';
import { atomicWrite, readTextIfExists } from '../fsutil';
import { Index, IndexEntry, statFields } from '../index-file';
import { Signature } from '../objects';
import { Head, HEADS } from '../refs';
import { FlatEntry, FlatTree, Repository } from '../repository';
import { DiskObjectStore } from '../store';
import { lstatOrUndefined, removeWorktreeFile, writeWorktreeFile } from '../worktree';
import { MERGE_HEAD, normalizeMessage, readMergeHeads } from './commit';
import { MergeContext, TreeConflict, TreeMergeResult } from './merge-trees';
import { compareWithIndex } from './status';

/**
 * Applying a three-way merge result to the index and the work tree, shared by merge, cherry-pick,
 * revert and stash apply; and the saved state of an unfinished operation, so that `--abort` puts
 * back exactly what was there before.
 *
 * The order is always: plan in memory → check that nothing local would be lost (refuse before
 * touching anything) → save the state → write objects, files, index → commit (when clean).
 */

export const MERGE_MSG = 'MERGE_MSG';
const STATE_DIR = 'merge-state';

const same = (a: FlatEntry | undefined, b: FlatEntry | undefined) => (!a && !b) || (!!a && !!b && a.id === b.id && a.mode === b.mode);

/** The stage-0 entries of an index as a flat tree. */
export function indexTree(ix: Index): FlatTree {
  const m: FlatTree = new Map();
  for (const [p, e] of ix.entries) m.set(p, { id: e.id, mode: e.mode });
  return m;
}

export function sameTree(a: FlatTree, b: FlatTree): boolean {
  if (a.size !== b.size) return false;
  for (const [p, e] of a) if (!same(e, b.get(p))) return false;
  return true;
}

// ---------- planning and checking ----------

export interface WorktreePlan {
  writes: { path: string; entry: FlatEntry }[];
  deletes: string[];
}

/** What must change in the work tree to go from `ours` (what the index has now) to the merge result. */
export function planWorktree(ours: FlatTree, result: TreeMergeResult): WorktreePlan {
  const target: FlatTree = new Map(result.merged);
  for (const c of result.conflicts) if (c.worktree) target.set(c.aside ?? c.path, c.worktree);
  const writes: WorktreePlan['writes'] = [];
  const deletes: string[] = [];
  for (const path of new Set([...ours.keys(), ...target.keys()])) {
    const t = target.get(path);
    if (same(ours.get(path), t)) continue;
    if (t) writes.push({ path, entry: t });
    else deletes.push(path);
  }
  writes.sort((a, b) => (a.path < b.path ? -1 : 1));
  deletes.sort().reverse();
  return { writes, deletes };
}

/** Every file and symlink below a folder, ignored ones included (they would block its removal too). */
function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    let names;
    try {
      names = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const p = `${rel}/${d.name}`;
      if (d.isDirectory()) visit(p);
      else out.push(p);
    }
  };
  visit(dir);
  return out;
}

/**
 * Refuse (DIRTY_WORKTREE, before anything is touched) when applying the plan would lose a local
 * change: a modified or deleted tracked file, an untracked file, or a folder of untracked files in
 * the way.
 */
export async function checkWorktree(repo: Repository, ix: Index, plan: WorktreePlan): Promise<void> {
  const deleting = new Set(plan.deletes);
  const problems: { path: string; why: string }[] = [];
  const check = async (path: string, writing: boolean) => {
    const e = ix.entries.get(path);
    const st = lstatOrUndefined(repo.root, path);
    if (ix.conflicts.has(path)) problems.push({ path, why: 'unresolved conflict' });
    else if (e) {
      if (!st) problems.push({ path, why: 'deleted' });
      else if (st.isDirectory()) problems.push({ path, why: 'a folder is in its place' });
      else if (!(await compareWithIndex(repo, ix, e, st)).same) problems.push({ path, why: 'modified' });
    } else if (st && !st.isDirectory()) problems.push({ path, why: 'untracked file' });
    else if (st) {
      const left = filesUnder(repo.root, path).filter((f) => !deleting.has(f));
      if (left.length) problems.push({ path, why: `folder with ${left.length} untracked file${left.length > 1 ? 's' : ''} in the way` });
    }
    if (!writing) return;
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      const dst = lstatOrUndefined(repo.root, d);
      if (dst && !dst.isDirectory() && !deleting.has(d)) problems.push({ path: d, why: 'untracked file in the way' });
    }
  };
  for (const w of plan.writes) await check(w.path, true);
  for (const d of plan.deletes) await check(d, false);
  if (problems.length) {
    const list = problems.slice(0, 5).map((p) => `${p.path} (${p.why})`).join(', ');
    const more = problems.length > 5 ? ` and ${problems.length - 5} more` : '';
    throw new PatchworkError('DIRTY_WORKTREE', `Your local changes would be overwritten: ${list}${more}.`, 'Commit or stash them first (`patchwork stash`), then try again.', {
      paths: problems.map((p) => p.path),
    });
  }
}

/** Refuse when the index differs from HEAD: a merge commit must not silently include staged work. */
export function assertNothingStaged(ix: Index, head: FlatTree, what: string): void {
  const staged: string[] = [];
  for (const p of new Set([...head.keys(), ...ix.entries.keys()])) {
    const e = ix.entries.get(p);
    if (!same(head.get(p), e ? { id: e.id, mode: e.mode } : undefined)) staged.push(p);
  }
  if (staged.length) {
    throw new PatchworkError(
      'DIRTY_WORKTREE',
      `Cannot ${what}: ${staged.length} file${staged.length > 1 ? 's have' : ' has'} staged changes (${staged.slice(0, 3).join(', ')}${staged.length > 3 ? ', …' : ''}).`,
      'Commit or stash them first (`patchwork stash`), then try again.',
      { paths: staged },
    );
  }
}

// ---------- the saved state of an unfinished operation ----------

export type OperationKind = 'merge' | 'cherry-pick' | 'revert';

export interface OperationState {
  version: 1;
  kind: OperationKind;
  /** HEAD when the operation started. */
  origHead: string;
  /** The commit merged, picked or reverted. */
  commit: string;
  /** Name used for the other side in conflict markers. */
  label: string;
  message: string;
  /** Author to keep when the operation is finished (cherry-pick keeps the original author). */
  author?: Signature;
  /** Every work-tree path the operation writes or deletes, with what the index had there before. */
  touched: { path: string; before: FlatEntry | null }[];
  /** Blob ids the operation added to the store (removed again on abort). */
  created: string[];
  /** Every ref when the operation started, to tell whether anything new can reach `created`. */
  refs: Record<string, string>;
}

const stateDir = (repo: Repository) => join(repo.patchDir, STATE_DIR);

async function allRefs(repo: Repository): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const head = await repo.head().catch(() => undefined);
  if (head?.id) out.HEAD = head.id;
  for (const r of await repo.refs.list('refs/').catch(() => [])) out[`refs/${r.name}`] = r.id;
  return out;
}

/** The unfinished operation's state, if there is one (it may be stale: see `operationInProgress`). */
export async function readOperationState(repo: Repository): Promise<OperationState | undefined> {
  const text = await readTextIfExists(join(stateDir(repo), 'state.json'));
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as OperationState;
    return s.version === 1 ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An operation is unfinished while HEAD has not moved (committing moves it) and, for a merge,
 * `MERGE_HEAD` is still there (`commit` and `reset` remove it).
 */
async function isLive(repo: Repository, s: OperationState): Promise<boolean> {
  if ((await repo.headCommit()) !== s.origHead) return false;
  return s.kind !== 'merge' || (await readMergeHeads(repo)).length > 0;
}

/**
 * The merge, cherry-pick or revert waiting for its conflicts to be resolved, if any. A state left
 * behind by an operation that was finished with plain `commit` (or abandoned with `reset`) is stale
 * and reported as none.
 */
export async function operationInProgress(repo: Repository): Promise<OperationState | undefined> {
  const s = await readOperationState(repo);
  return s && (await isLive(repo, s)) ? s : undefined;
}

/** The message prepared for the unfinished operation's commit (`.patch/MERGE_MSG`), if any. */
export async function readMergeMessage(repo: Repository): Promise<string | undefined> {
  if (!(await operationInProgress(repo)) && !(await readMergeHeads(repo)).length) return undefined;
  return readTextIfExists(join(repo.patchDir, MERGE_MSG));
}

/** Remove the state files of a finished or abandoned operation. Caller holds the lock. */
export async function endOperation(repo: Repository): Promise<void> {
  await fsp.rm(join(repo.patchDir, MERGE_HEAD), { force: true });
  await fsp.rm(join(repo.patchDir, MERGE_MSG), { force: true });
  await fsp.rm(join(stateDir(repo), 'state.json'), { force: true });
  await fsp.rm(stateDir(repo), { recursive: true, force: true });
}

/** Caller holds the lock: drop a stale state, then refuse if an operation is still unfinished. */
export async function assertNoOperation(repo: Repository): Promise<void> {
  const s = await readOperationState(repo);
  const live = s && (await isLive(repo, s)) ? s : undefined;
  if (s && !live) await endOperation(repo); // finished by `commit`, or abandoned by `reset`
  if (live || (await readMergeHeads(repo)).length) {
    const kind = live?.kind ?? 'merge';
    throw new PatchworkError('MERGE_IN_PROGRESS', `A ${kind} is in progress.`, `Resolve the conflicts and finish it with \`patchwork ${kind === 'merge' ? 'commit' : `${kind} --continue`}\`, or abandon it with \`patchwork ${kind} --abort\`.`, {
      operation: kind,
    });
  }
}

export function assertNoConflicts(ix: Index): void {
  if (ix.conflicts.size) {
    const paths = [...ix.conflicts.keys()];
    throw new PatchworkError('UNMERGED_PATHS', `There ${paths.length > 1 ? `are ${paths.length} files` : 'is 1 file'} with unresolved conflicts (${paths.slice(0, 3).join(', ')}).`, 'Fix them and `patchwork add` each file, or reset with `patchwork reset --hard`.', { paths });
  }
}

/** Blob ids the result needs in the store (clean merges and virtual bases) that are not there yet. */
export async function blobsToWrite(ctx: MergeContext, result: TreeMergeResult): Promise<string[]> {
  const ids = new Set<string>();
  for (const e of result.merged.values()) if (ctx.blobs.has(e.id)) ids.add(e.id);
  for (const c of result.conflicts) for (const e of [c.base, c.ours, c.theirs]) if (e && ctx.blobs.has(e.id)) ids.add(e.id);
  const out: string[] = [];
  for (const id of ids) if (!(await ctx.repo.store.has(id, 'blob'))) out.push(id);
  return out.sort();
}

/**
 * Save everything `--abort` needs, before the first change: the raw index file, the paths about to
 * change with their previous entries, the blobs about to be created and every ref.
 */
export async function beginOperation(
  repo: Repository,
  init: Omit<OperationState, 'version' | 'touched' | 'created' | 'refs'>,
  plan: WorktreePlan,
  ours: FlatTree,
  created: string[],
): Promise<OperationState> {
  const dir = stateDir(repo);
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  const index = await fsp.readFile(repo.indexPath).catch(() => undefined);
  if (index) await atomicWrite(join(dir, 'index'), index);
  const touched = [...plan.writes.map((w) => w.path), ...plan.deletes].sort().map((path) => ({ path, before: ours.get(path) ?? null }));
  const state: OperationState = { version: 1, ...init, touched, created, refs: await allRefs(repo) };
  await atomicWrite(join(dir, 'state.json'), JSON.stringify(state, null, 1) + '\n');
  if (init.kind === 'merge') await atomicWrite(join(repo.patchDir, MERGE_HEAD), `${init.commit}\n`);
  await atomicWrite(join(repo.patchDir, MERGE_MSG), normalizeMessage(init.message));
  return state;
}

/** `--abort`: put back the work-tree files, the index file and the object store as they were. */
export async function restoreOperation(repo: Repository, s: OperationState): Promise<void> {
  for (const t of [...s.touched].reverse()) {
    if (t.before) continue;
    const st = lstatOrUndefined(repo.root, t.path);
    if (st && !st.isDirectory()) await removeWorktreeFile(repo.root, t.path);
  }
  for (const t of s.touched) {
    if (!t.before) continue;
    await writeWorktreeFile(repo.root, t.path, t.before.mode, await repo.readBlob(t.before.id));
  }
  const saved = await fsp.readFile(join(stateDir(repo), 'index')).catch(() => undefined);
  let restored: Index | undefined;
  if (saved) {
    restored = Index.parse(saved);
    await repo.writeIndex(restored);
  } else {
    await fsp.rm(repo.indexPath, { force: true });
  }
  await removeCreatedBlobs(repo, s, restored);
  await endOperation(repo);
}

/**
 * Delete the blobs the operation created, unless something new can reach them: a ref that moved
 * since the operation started (a commit, or objects from a peer) or the restored index.
 */
async function removeCreatedBlobs(repo: Repository, s: OperationState, ix: Index | undefined): Promise<void> {
  if (!s.created.length || !(repo.store instanceof DiskObjectStore)) return;
  const created = new Set(s.created);
  for (const e of ix?.entries.values() ?? []) created.delete(e.id);
  const now = await allRefs(repo);
  const moved = Object.entries(now)
    .filter(([name, id]) => s.refs[name] !== id)
    .map(([, id]) => id);
  const seen = new Set<string>();
  const walkTree = async (id: string): Promise<void> => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const e of await repo.readTree(id)) {
      if (e.mode === '40000') await walkTree(e.id);
      else created.delete(e.id);
    }
  };
  const stack = [...moved];
  while (stack.length && created.size) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const c = await repo.readCommit(id).catch(() => undefined);
    if (!c) continue;
    await walkTree(c.tree).catch(() => undefined);
    stack.push(...c.parents);
  }
  for (const id of created) await fsp.rm(repo.store.pathOf(id, 'blob'), { force: true });
}

// ---------- applying ----------

export type ApplyMode = 'merge' | 'stash';

function stageEntry(path: string, e: FlatEntry | undefined, stage: 1 | 2 | 3): IndexEntry | undefined {
  return e && { path, id: e.id, mode: e.mode, stage, size: -1, mtimeMs: 0, ctimeMs: 0, ino: 0, dev: 0 };
}

/**
 * Write the needed blobs, then the files (deletions first), then update `ix` in place (the caller
 * writes it). `merge` mode stages clean results; `stash` mode leaves them as unstaged changes
 * (only new files are added, so they stay tracked). Conflicts always go to stages 1–3.
 */
export async function applyPlan(repo: Repository, ctx: MergeContext, ix: Index, result: TreeMergeResult, plan: WorktreePlan, created: string[], mode: ApplyMode): Promise<void> {
  for (const id of created) await repo.store.write('blob', ctx.blobs.get(id)!);
  for (const path of plan.deletes) {
    await removeWorktreeFile(repo.root, path);
    if (mode === 'merge') ix.remove(path);
  }
  for (const { path, entry } of plan.writes) {
    const st = await writeWorktreeFile(repo.root, path, entry.mode, await ctx.body(entry.id));
    if (!result.merged.has(path)) continue;
    if (mode === 'merge' || !ix.entries.has(path)) ix.set({ path, id: entry.id, mode: entry.mode, stage: 0, ...statFields(st) });
  }
  for (const c of result.conflicts) ix.setConflict(conflictEntry(c));
}

function conflictEntry(c: TreeConflict) {
  return { path: c.path, base: stageEntry(c.path, c.base, 1), ours: stageEntry(c.path, c.ours, 2), theirs: stageEntry(c.path, c.theirs, 3) };
}

/** Commit the index's tree on top of HEAD from inside a locked operation; returns the new id. */
export async function commitIndex(repo: Repository, head: Head, ix: Index, parents: string[], message: string, author?: Signature): Promise<string> {
  const tree = await repo.writeTreeFromFlat(indexTree(ix));
  const sig = await repo.signature();
  const id = await repo.writeCommit({ tree, parents, author: author ?? sig, committer: sig, message: normalizeMessage(message) });
  if (head.kind === 'branch') await repo.refs.write(HEADS + head.branch, id);
  else await repo.refs.setHead({ kind: 'detached', id });
  return id;
}

/** What callers report for each conflict. */
export interface ConflictInfo {
  path: string;
  kind: TreeConflict['kind'];
  /** Where the file was written instead (file/directory conflicts). */
  aside?: string;
  deletedBy?: 'ours' | 'theirs';
  stages: { base: boolean; ours: boolean; theirs: boolean };
}

export function conflictInfo(c: TreeConflict): ConflictInfo {
  const info: ConflictInfo = { path: c.path, kind: c.kind, stages: { base: !!c.base, ours: !!c.ours, theirs: !!c.theirs } };
  if (c.aside) info.aside = c.aside;
  if (c.deletedBy) info.deletedBy = c.deletedBy;
  return info;
}
