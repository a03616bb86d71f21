import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { PatchworkError } from '../errors';
import { Index, IndexEntry, statFields } from '../index-file';
import { matchesAny } from '../pathspec';
import { HEADS } from '../refs';
import { FlatTree, Repository } from '../repository';
import { resolveRevision } from '../revparse';
import { lstatOrUndefined, removeWorktreeFile, writeWorktreeFile } from '../worktree';
import { switchTree } from './checkout';
import { MERGE_HEAD } from './commit';
import { compareWithIndex } from './status';

export type ResetMode = 'soft' | 'mixed' | 'hard';

/** Make the index match a tree, keeping the stat cache of entries whose content is unchanged. */
export function indexFromTree(old: Index, tree: FlatTree): Index {
  const ix = new Index();
  ix.fileMtimeMs = old.fileMtimeMs;
  for (const [path, t] of tree) {
    const e = old.entries.get(path);
    ix.set(e && e.id === t.id && e.mode === t.mode ? e : { path, id: t.id, mode: t.mode, stage: 0, size: -1, mtimeMs: 0, ctimeMs: 0, ino: 0, dev: 0 });
  }
  return ix;
}

/** Move the current branch (or detached HEAD) to `rev`; `mixed` also resets the index, `hard` the work tree too. */
export async function reset(repo: Repository, rev: string | undefined, mode: ResetMode = 'mixed'): Promise<{ id: string | undefined }> {
  return repo.withLock('reset', async () => {
    const head = await repo.head();
    const id = rev === undefined ? head.id : await resolveRevision(repo, rev);
    if (mode === 'soft' && !id) throw new PatchworkError('UNBORN_HEAD', 'There is no commit to reset to yet.');
    const target = await repo.commitTree(id);
    const old = await repo.readIndex();
    const treeId = id ? (await repo.readCommit(id)).tree : undefined;
    if (mode === 'hard') {
      const ix = old.clone();
      await switchTree(repo, ix, await repo.commitTree(head.id), target, { force: true });
      if (treeId && ix.matchesTree(target)) ix.treeId = treeId;
      await repo.writeIndex(ix);
    } else if (mode === 'mixed') {
      const ix = indexFromTree(old, target);
      if (treeId) ix.treeId = treeId;
      await repo.writeIndex(ix);
    }
    if (id) {
      if (head.kind === 'branch') await repo.refs.write(HEADS + head.branch, id);
      else await repo.refs.setHead({ kind: 'detached', id });
    }
    if (mode !== 'soft') await fsp.rm(join(repo.patchDir, MERGE_HEAD), { force: true });
    return { id };
  });
}

/**
 * `restore --staged <paths>`: the index entries for those paths go back to HEAD (unstage).
 * `restore <paths>`: the work-tree files go back to the index (discard changes).
 */
export async function restore(repo: Repository, specs: string[], opts: { staged?: boolean; source?: string } = {}): Promise<{ paths: string[] }> {
  return repo.withLock('restore', async () => {
    const old = await repo.readIndex();
    const ix = old.clone();
    const touched: string[] = [];
    if (opts.staged) {
      const headId = opts.source ? await resolveRevision(repo, opts.source) : (await repo.head()).id;
      const tree = await repo.commitTree(headId);
      const paths = new Set([...ix.entries.keys(), ...ix.conflicts.keys(), ...tree.keys()].filter((p) => matchesAny(p, specs)));
      assertMatched(specs, paths);
      for (const p of paths) {
        const t = tree.get(p);
        const e = ix.entries.get(p);
        if (t && e && t.id === e.id && t.mode === e.mode) continue;
        if (t) ix.set(e && !ix.conflicts.has(p) ? { ...e, id: t.id, mode: t.mode, size: -1 } : { path: p, id: t.id, mode: t.mode, stage: 0, size: -1, mtimeMs: 0, ctimeMs: 0, ino: 0, dev: 0 });
        else ix.remove(p);
        touched.push(p);
      }
    } else {
      const paths = [...ix.entries.keys(), ...ix.conflicts.keys()].filter((p) => matchesAny(p, specs));
      assertMatched(specs, new Set(paths));
      const conflicted = paths.filter((p) => ix.conflicts.has(p));
      if (conflicted.length) {
        throw new PatchworkError('UNMERGED_PATHS', `${conflicted[0]} has an unresolved conflict.`, 'Resolve it and `patchwork add` it, or abandon the merge with `patchwork merge --abort`.', { paths: conflicted });
      }
      for (const p of paths) {
        const e = ix.entries.get(p) as IndexEntry;
        const st = lstatOrUndefined(repo.root, p);
        if (st && !st.isDirectory() && (await compareWithIndex(repo, ix, e, st)).same) continue;
        if (st?.isDirectory()) throw new PatchworkError('DIRTY_WORKTREE', `Cannot restore ${p}: a folder is in its place.`, 'Move the folder away first.', { path: p });
        const nst = await writeWorktreeFile(repo.root, p, e.mode, await repo.readBlob(e.id));
        ix.set({ ...e, ...statFields(nst) });
        touched.push(p);
      }
    }
    await repo.writeIndex(ix);
    return { paths: touched.sort() };
  });
}

function assertMatched(specs: string[], paths: Set<string>): void {
  for (const s of specs) {
    if (![...paths].some((p) => matchesAny(p, [s]))) {
      throw new PatchworkError('PATH_NOT_FOUND', `Path "${s || '.'}" did not match any tracked file.`, undefined, { path: s });
    }
  }
}

/** `rm`: stop tracking files and (unless `cached`) delete them. Refuses to lose uncommitted content. */
export async function remove(repo: Repository, specs: string[], opts: { cached?: boolean; force?: boolean; recursive?: boolean } = {}): Promise<{ paths: string[] }> {
  return repo.withLock('rm', async () => {
    const ix = (await repo.readIndex()).clone();
    const head = await repo.commitTree((await repo.head()).id);
    const paths: string[] = [];
    for (const s of specs) {
      const matched = [...ix.entries.keys(), ...ix.conflicts.keys()].filter((p) => matchesAny(p, [s]));
      if (!matched.length) throw new PatchworkError('PATH_NOT_FOUND', `Path "${s || '.'}" did not match any tracked file.`, undefined, { path: s });
      if (!opts.recursive && !matched.includes(s)) {
        throw new PatchworkError('INVALID_ARGUMENT', `Not removing folder "${s}" without -r.`, `Use \`patchwork rm -r ${s}\`.`, { path: s });
      }
      for (const m of matched) paths.push(m);
    }
    if (!opts.force) {
      const problems: string[] = [];
      for (const p of paths) {
        const e = ix.entries.get(p);
        if (!e) continue;
        const st = lstatOrUndefined(repo.root, p);
        const h = head.get(p);
        const staged = !h || h.id !== e.id || h.mode !== e.mode;
        const modified = !!st && !st.isDirectory() && !(await compareWithIndex(repo, ix, e, st)).same;
        // git's rule: --cached only refuses when the file matches neither HEAD nor the work tree.
        if (opts.cached ? staged && modified : staged || modified) problems.push(p);
      }
      if (problems.length) {
        throw new PatchworkError(
          'DIRTY_WORKTREE',
          `${problems.slice(0, 3).join(', ')}${problems.length > 3 ? ` and ${problems.length - 3} more` : ''} ${problems.length > 1 ? 'have' : 'has'} changes that are not committed.`,
          opts.cached ? 'Use --force to unstage anyway.' : 'Use --cached to keep the file, or --force to delete it anyway.',
          { paths: problems },
        );
      }
    }
    for (const p of paths) {
      ix.remove(p);
      if (!opts.cached) {
        await removeWorktreeFile(repo.root, p);
      }
    }
    await repo.writeIndex(ix);
    return { paths: paths.sort() };
  });
}
