import { Stats } from 'node:fs';
import { PatchworkError } from '../errors';
import { forEachLimit } from '../fsutil';
import { Index, statFields } from '../index-file';
import { matchesSpec } from '../pathspec';
import { assertValidRepoPath } from '../paths';
import { Repository } from '../repository';
import { IgnoreRules, lstatOrUndefined, readWorktreeBlob, walkWorktree } from '../worktree';
import { compareWithIndex } from './status';

export interface AddOptions {
  /** Add files even if ignored. */
  force?: boolean;
  /** Only update files already tracked (like `git add -u`). */
  updateOnly?: boolean;
}

export interface AddResult {
  added: string[];
  removed: string[];
}

/**
 * Stage files (repository-relative paths; '' is the whole tree). A folder stages everything in it
 * that is not ignored and stages the deletion of tracked files that are gone. Objects are written
 * before the index.
 */
export async function add(repo: Repository, specs: string[], opts: AddOptions = {}): Promise<AddResult> {
  return repo.withLock('add', () =>
    repo.editIndex(async (ix) => {
      const result = await stageInto(repo, ix, specs, opts);
      return { result, write: true };
    }),
  );
}

/** The work of `add`, on an index the caller holds the lock for. */
export async function stageInto(repo: Repository, ix: Index, specs: string[], opts: AddOptions = {}): Promise<AddResult> {
  const rules = new IgnoreRules(repo.root);
  const toStage = new Map<string, Stats>();
  const toRemove = new Set<string>();
  for (const spec of specs) {
    if (spec) assertValidRepoPath(spec);
    const st = spec ? lstatOrUndefined(repo.root, spec) : undefined;
    const tracked = [...ix.entries.keys(), ...ix.conflicts.keys()].filter((p) => matchesSpec(p, spec));
    if (!spec || st?.isDirectory()) {
      const { files } = walkWorktree(repo.root, rules, spec);
      const present = new Set<string>();
      for (const f of files) {
        present.add(f.path);
        if (opts.updateOnly && !ix.entries.has(f.path) && !ix.conflicts.has(f.path)) continue;
        toStage.set(f.path, f.stats);
      }
      for (const p of tracked) {
        if (present.has(p)) continue;
        const pst = lstatOrUndefined(repo.root, p);
        if (!pst || pst.isDirectory()) toRemove.add(p);
        else toStage.set(p, pst); // tracked file inside an ignored folder
      }
    } else if (st) {
      const isTracked = ix.entries.has(spec) || ix.conflicts.has(spec);
      if (!isTracked && opts.updateOnly) continue;
      if (!isTracked && !opts.force && rules.isIgnored(spec, false)) {
        throw new PatchworkError('INVALID_PATH', `${spec} is ignored by a .patchignore file.`, 'Use `patchwork add --force` to add it anyway.', { path: spec });
      }
      toStage.set(spec, st);
    } else if (tracked.length) {
      for (const p of tracked) if (!lstatOrUndefined(repo.root, p)) toRemove.add(p);
    } else {
      throw new PatchworkError('PATH_NOT_FOUND', `Path "${spec}" did not match any files.`, undefined, { path: spec });
    }
  }
  // A file replacing a folder (or a folder replacing a file) drops the old entries.
  const dirs = new Set<string>();
  for (const p of ix.entries.keys()) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) dirs.add(p.slice(0, i));
  for (const path of toStage.keys()) {
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      if (ix.entries.has(path.slice(0, i))) toRemove.add(path.slice(0, i));
    }
    if (dirs.has(path)) for (const p of ix.entries.keys()) if (p.startsWith(path + '/')) toRemove.add(p);
  }
  const added: string[] = [];
  await forEachLimit([...toStage], 8, async ([path, st]) => {
    const e = ix.entries.get(path);
    if (e && (await compareWithIndex(repo, ix, e, st)).same && !ix.conflicts.has(path)) {
      ix.entries.set(path, { ...e, ...statFields(st) });
      return;
    }
    const { body, mode } = await readWorktreeBlob(repo.root, path, st);
    const id = await repo.store.write('blob', body);
    ix.set({ path, id, mode, stage: 0, ...statFields(st) });
    added.push(path);
  });
  for (const p of toRemove) ix.remove(p);
  return { added: added.sort(), removed: [...toRemove].sort() };
}
