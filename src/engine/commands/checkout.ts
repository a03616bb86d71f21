import { Stats, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PatchworkError, errnoCode } from '../errors';
import { forEachLimit } from '../fsutil';
import { Index, statFields } from '../index-file';
import { HEADS, assertValidRefName } from '../refs';
import { FlatEntry, FlatTree, Repository } from '../repository';
import { assertSafePath, createWorktreeFileSync, lstatOrUndefined, removeWorktreeFile, walkWorktree, IgnoreRules, writeWorktreeFile } from '../worktree';
import { readMergeHeads } from './commit';
import { compareWithIndex } from './status';
import { resolveRevision } from '../revparse';

export interface SwitchResult {
  written: string[];
  removed: string[];
}

/** How long a checkout into an empty work tree writes before it lets the event loop run. */
const YIELD_MS = 20;

const same = (a: FlatEntry | undefined, b: FlatEntry | undefined) => (!a && !b) || (!!a && !!b && a.id === b.id && a.mode === b.mode);

function blocked(problems: { path: string; why: string }[]): PatchworkError {
  const list = problems.slice(0, 5).map((p) => `${p.path} (${p.why})`).join(', ');
  const more = problems.length > 5 ? ` and ${problems.length - 5} more` : '';
  return new PatchworkError(
    'DIRTY_WORKTREE',
    `Your local changes would be overwritten: ${list}${more}.`,
    'Commit or stash them first, or use --force to discard them.',
    { paths: problems.map((p) => p.path) },
  );
}

/**
 * Move the index and the work tree from tree `from` (what HEAD has now) to tree `to`, carrying local
 * changes to paths that are the same in both, as git does. Without `force`, everything that would
 * lose a local change or an untracked file is found first and nothing is touched. With `force`,
 * tracked paths are made to match `to` exactly (untracked files outside `to` are left alone).
 * The caller holds the lock and writes the index (`ix` is updated in place) and then HEAD.
 */
export async function switchTree(repo: Repository, ix: Index, from: FlatTree, to: FlatTree, opts: { force?: boolean } = {}): Promise<SwitchResult> {
  const force = !!opts.force;
  /** Each file to write with what was at its path before (undefined: nothing). */
  const writes: [string, FlatEntry, Stats | undefined][] = [];
  const deletes: string[] = [];
  const problems: { path: string; why: string }[] = [];
  // Into an empty work tree (a clone's checkout): nothing can be in the way, so no path is looked at
  // and the folders are made up front, parents first, instead of each write checking its own.
  const empty = !from.size && !ix.entries.size && !ix.conflicts.size && readdirSync(repo.root).every((n) => n === '.patch');

  const look = async (p: string, a: FlatEntry | undefined, b: FlatEntry | undefined) => {
    const e = ix.entries.get(p);
    const st = empty ? undefined : lstatOrUndefined(repo.root, p);
    const wt = st && !st.isDirectory() && e ? await compareWithIndex(repo, ix, e, st) : undefined;
    const worktreeIs = (x: FlatEntry | undefined) => (wt ? wt.id === x?.id && wt.mode === x?.mode : false);
    if (!force) {
      if (ix.conflicts.has(p)) {
        problems.push({ path: p, why: 'unresolved conflict' });
        return;
      }
      if (!same(e, a) && !same(e, b)) {
        problems.push({ path: p, why: 'staged changes' });
        return;
      }
      if (e && wt && !wt.same && !worktreeIs(b)) {
        problems.push({ path: p, why: 'modified' });
        return;
      }
      if (!e && st && !st.isDirectory() && b) {
        problems.push({ path: p, why: 'untracked file' });
        return;
      }
    }
    if (b) {
      if (!(same(e, b) && wt?.same)) writes.push([p, b, st]);
      else ix.set({ ...e!, ...statFields(st!) });
    } else if (e || a || ix.conflicts.has(p)) {
      if (e || ix.conflicts.has(p)) deletes.push(p);
      else if (force && st) deletes.push(p);
    }
  };
  // Paths the two trees agree on keep whatever is in the index and work tree: no stat, no read.
  let inBoth = 0;
  for (const [p, a] of from) {
    const b = to.get(p);
    if (b) inBoth++;
    if (force || !same(a, b)) await look(p, a, b);
  }
  // Paths only `to` has (none when every path of `to` was met above: then no second pass).
  if (inBoth < to.size) for (const [p, b] of to) if (!from.has(p)) await look(p, undefined, b);
  if (force) {
    for (const p of [...ix.entries.keys(), ...ix.conflicts.keys()]) if (!from.has(p) && !to.has(p)) await look(p, undefined, undefined);
  }

  // Files and folders in each other's way. Each parent folder is looked at once: when a folder has
  // been seen, so have its own parents.
  const deleting = new Set(deletes);
  const rules = new IgnoreRules(repo.root);
  const parentStats = new Map<string, Stats | undefined>();
  if (empty) {
    for (const [p] of writes) for (let cut = p.lastIndexOf('/'); cut > 0 && !parentStats.has(p.slice(0, cut)); cut = p.lastIndexOf('/', cut - 1)) parentStats.set(p.slice(0, cut), undefined);
    for (const d of [...parentStats.keys()].sort()) makeFolder(repo.root, d);
  } else for (const [p, , st] of writes) {
    for (let cut = p.lastIndexOf('/'); cut > 0; cut = p.lastIndexOf('/', cut - 1)) {
      const d = p.slice(0, cut);
      if (parentStats.has(d)) break;
      const dst = lstatOrUndefined(repo.root, d);
      parentStats.set(d, dst);
      if (dst && !dst.isDirectory() && !deleting.has(d) && !force) problems.push({ path: d, why: 'untracked file in the way' });
    }
    if (st?.isDirectory()) {
      const inside = walkWorktree(repo.root, rules, p).files.map((f) => f.path);
      const left = inside.filter((f) => !deleting.has(f));
      if (left.length && !force) problems.push({ path: p, why: `folder with ${left.length} untracked file${left.length > 1 ? 's' : ''} in the way` });
      if (force) for (const f of left) deletes.push(f);
    }
  }
  if (problems.length) throw blocked(problems);

  deletes.sort().reverse();
  for (const p of deletes) {
    await removeWorktreeFile(repo.root, p);
    ix.remove(p);
  }
  const folders = new Set<string>(); // parent folders already checked (or made) by writeWorktreeFile
  // With nothing deleted (deletes prune emptied folders), what was checked above still holds: the
  // parent folders are folders and no folder sits where a file goes, so writes need not look again.
  const unchanged = deletes.length === 0;
  if (unchanged) for (const [d, st] of parentStats) if (st?.isDirectory()) folders.add(d);
  if (empty) {
    // Into an empty work tree (a clone): one file after another with blocking calls, as git does (in
    // alternating clones here, faster than eight creations in flight through the thread pool; see
    // docs/benchmarks.md). The event loop gets a turn every 20 ms, so an open connection keeps answering.
    let turn = performance.now();
    for (const [p, b] of writes) {
      const st = createWorktreeFileSync(repo.root, p, b.mode, repo.store.readSync ? repo.store.readSync(b.id, 'blob').body : await repo.readBlob(b.id));
      ix.set({ path: p, id: b.id, mode: b.mode, stage: 0, ...statFields(st) });
      if (performance.now() - turn > YIELD_MS) {
        await new Promise((r) => setImmediate(r));
        turn = performance.now();
      }
    }
  } else await forEachLimit(writes, 8, async ([p, b, before]) => {
    // A checkout is a batch: one blocking read per blob beats four thread-pool round trips each.
    const body = repo.store.readSync ? repo.store.readSync(b.id, 'blob').body : await repo.readBlob(b.id);
    const st = await writeWorktreeFile(repo.root, p, b.mode, body, folders, unchanged ? { stats: before } : undefined);
    ix.set({ path: p, id: b.id, mode: b.mode, stage: 0, ...statFields(st) });
  });
  if (force) {
    for (const p of [...ix.entries.keys()]) if (!to.has(p)) ix.remove(p);
    ix.conflicts.clear();
  }
  return { written: writes.map(([p]) => p).sort(), removed: deletes.filter((p) => !to.has(p)).sort() };
}

/** Make one folder of an empty work tree (its parent exists); one that appeared meanwhile is fine. */
function makeFolder(root: string, dir: string): void {
  assertSafePath(dir);
  try {
    mkdirSync(join(root, dir));
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST' || !lstatOrUndefined(root, dir)?.isDirectory()) {
      throw new PatchworkError('DIRTY_WORKTREE', `Cannot make the folder ${dir}: something else is in its place.`, 'Move it out of the way and try again.', { path: dir });
    }
  }
}

/**
 * HEAD's tree, flattened. When the index records that its entries make exactly that tree (see
 * `Index.treeId`), they are that tree, and no tree object is read: half the tree reads of a
 * checkout (1,000 of 2,000 on the 20k-file benchmark).
 */
export async function treeOfHead(repo: Repository, ix: Index, headId: string | undefined): Promise<FlatTree> {
  if (headId && ix.treeId !== undefined && !ix.conflicts.size && ix.treeId === (await repo.readCommit(headId)).tree) {
    // A copy of the map (switchTree updates the index as it goes); entries are replaced, never changed.
    return new Map<string, FlatEntry>(ix.entries);
  }
  return repo.commitTree(headId);
}

export interface CheckoutOptions {
  force?: boolean;
  /** Create this branch at the target and switch to it (`checkout -b`). */
  newBranch?: string;
}

export interface CheckoutResult extends SwitchResult {
  /** Branch now checked out, or undefined for a detached HEAD. */
  branch: string | undefined;
  id: string | undefined;
}

/** Switch to a branch (attached HEAD) or to a tag or commit (detached HEAD). */
export async function checkout(repo: Repository, target: string | undefined, opts: CheckoutOptions = {}): Promise<CheckoutResult> {
  return repo.withLock('checkout', async () => {
    const head = await repo.head();
    if (opts.newBranch) assertValidRefName(opts.newBranch);
    if (opts.newBranch && (await repo.refs.read(HEADS + opts.newBranch))) {
      throw new PatchworkError('BRANCH_EXISTS', `A branch named "${opts.newBranch}" already exists.`, `Use \`patchwork checkout ${opts.newBranch}\` to switch to it.`);
    }
    let branch: string | undefined;
    let id: string | undefined;
    if (target === undefined) {
      if (opts.newBranch) {
        branch = opts.newBranch;
        id = head.id;
      } else {
        branch = head.kind === 'branch' ? head.branch : undefined;
        id = head.id;
      }
    } else if (!opts.newBranch && (await repo.refs.read(HEADS + target))) {
      branch = target;
      id = await repo.refs.read(HEADS + target);
    } else {
      id = await resolveRevision(repo, target);
      branch = opts.newBranch;
    }
    if ((await readMergeHeads(repo)).length && !opts.force && id !== head.id) {
      throw new PatchworkError('MERGE_IN_PROGRESS', 'A merge is in progress.', 'Finish it with `patchwork commit`, or abandon it with `patchwork merge --abort`.');
    }
    const ix = (await repo.readIndex()).clone();
    let result: SwitchResult = { written: [], removed: [] };
    if (id !== head.id || opts.force) {
      const [from, to] = await Promise.all([treeOfHead(repo, ix, head.id), repo.commitTree(id)]);
      result = await switchTree(repo, ix, from, to, { force: opts.force });
      if (id && ix.matchesTree(to)) ix.treeId = (await repo.readCommit(id)).tree;
      await repo.writeIndex(ix);
    }
    if (opts.newBranch && id) await repo.refs.write(HEADS + opts.newBranch, id);
    if (branch) await repo.refs.setHead({ kind: 'branch', branch });
    else await repo.refs.setHead({ kind: 'detached', id: id! });
    return { ...result, branch, id };
  });
}
