import { Dirent, Stats, lstatSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { Ignore } from 'ignore';
import { PatchworkError, errnoCode } from './errors';
import { FileMode } from './objects';
import { modeFromStats } from './index-file';
import { pathComponentProblem } from './paths';

/** Reading and writing the work tree: ignore rules, the walk, safe file writes. */

export const IGNORE_FILE = '.patchignore';
const REPO_DIR = '.patch';

/** `.patchignore` files with gitignore semantics, loaded lazily per directory. */
export class IgnoreRules {
  private readonly cache = new Map<string, Ignore | null>();
  constructor(readonly root: string) {}

  private rulesFor(dir: string): Ignore | null {
    let ig = this.cache.get(dir);
    if (ig === undefined) {
      ig = null;
      try {
        const text = readFileSync(join(this.root, dir, IGNORE_FILE), 'utf8');
        ig = ignore().add(text);
      } catch {
        /* no rules here */
      }
      this.cache.set(dir, ig);
    }
    return ig;
  }

  /** Is this path (relative, `/`-separated) ignored by the rules of its own ancestors only? */
  ignoredHere(path: string, isDir: boolean): boolean {
    const parts = path.split('/');
    if (parts[0].toLowerCase() === REPO_DIR) return true;
    let ignored = false;
    for (let depth = 0; depth < parts.length; depth++) {
      const dir = parts.slice(0, depth).join('/');
      const ig = this.rulesFor(dir);
      if (!ig) continue;
      const rel = parts.slice(depth).join('/') + (isDir ? '/' : '');
      const r = ig.test(rel);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    return ignored;
  }

  /** Ignored by its own rules or because a parent folder is ignored. */
  isIgnored(path: string, isDir: boolean): boolean {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (this.ignoredHere(parts.slice(0, i).join('/'), true)) return true;
    }
    return this.ignoredHere(path, isDir);
  }
}

export interface WalkedFile {
  path: string;
  stats: Stats;
}

/**
 * Every non-ignored file and symlink under `start` (a repository-relative folder, '' for the root).
 * Symlinks are reported, never followed. Names that could not be stored are reported in `invalid`.
 */
export function walkWorktree(root: string, rules: IgnoreRules, start = ''): { files: WalkedFile[]; invalid: string[] } {
  const files: WalkedFile[] = [];
  const invalid: string[] = [];
  const visit = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return;
      throw e;
    }
    for (const d of entries) {
      const path = dir ? `${dir}/${d.name}` : d.name;
      if (!dir && d.name.toLowerCase() === REPO_DIR) continue;
      const isDir = d.isDirectory();
      if (rules.ignoredHere(path, isDir)) continue;
      if (pathComponentProblem(d.name)) {
        invalid.push(path);
        continue;
      }
      if (isDir) visit(path);
      else if (d.isFile() || d.isSymbolicLink()) {
        try {
          files.push({ path, stats: lstatSync(join(root, path)) });
        } catch {
          /* vanished while walking */
        }
      }
    }
  };
  if (start && rules.isIgnored(start, true)) return { files, invalid };
  visit(start);
  return { files, invalid };
}

/** lstat a repository path; undefined when missing (or a parent is not a folder). */
export function lstatOrUndefined(root: string, path: string): Stats | undefined {
  try {
    return lstatSync(join(root, path));
  } catch {
    return undefined;
  }
}

/** Content of a file as a blob body: the bytes of a file, or the target of a symlink. */
export async function readWorktreeBlob(root: string, path: string, st: Stats): Promise<{ body: Buffer; mode: FileMode }> {
  const abs = join(root, path);
  const mode = modeFromStats(st);
  const body = mode === '120000' ? Buffer.from(await fsp.readlink(abs, { encoding: 'buffer' })) : await fsp.readFile(abs);
  return { body, mode };
}

/**
 * Make sure every parent folder of `path` exists as a real folder inside the work tree. A parent
 * that is a symlink or a file is never written through.
 */
async function ensureParents(root: string, path: string): Promise<void> {
  const parts = path.split('/');
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = join(cur, parts[i]);
    let st: Stats | undefined;
    try {
      st = await fsp.lstat(cur);
    } catch {
      st = undefined;
    }
    if (!st) {
      await fsp.mkdir(cur);
    } else if (!st.isDirectory()) {
      throw new PatchworkError(
        'DIRTY_WORKTREE',
        `Cannot write ${path}: ${parts.slice(0, i + 1).join('/')} is ${st.isSymbolicLink() ? 'a symlink' : 'a file'}, not a folder.`,
        'Move it out of the way and try again.',
        { path },
      );
    }
  }
}

let tmpCounter = 0;

/** Write one file or symlink atomically (temp + rename: a symlink in the way is replaced, not followed). */
export async function writeWorktreeFile(root: string, path: string, mode: FileMode, body: Buffer): Promise<Stats> {
  for (const part of path.split('/')) {
    if (pathComponentProblem(part)) throw new PatchworkError('INVALID_PATH', `Refusing to write the unsafe path ${JSON.stringify(path)}.`);
  }
  await ensureParents(root, path);
  const abs = join(root, path);
  const existing = await fsp.lstat(abs).catch(() => undefined);
  if (existing?.isDirectory()) {
    // A folder that holds nothing tracked any more (the caller removed tracked files first).
    await fsp.rmdir(abs).catch(() => {
      throw new PatchworkError('DIRTY_WORKTREE', `Cannot write ${path}: a folder with that name is in the way.`, 'Move it out of the way and try again.', { path });
    });
  }
  const tmp = `${abs}.pw-tmp-${process.pid}-${++tmpCounter}`;
  try {
    if (mode === '120000') await fsp.symlink(body.toString(), tmp);
    else await fsp.writeFile(tmp, body, { mode: mode === '100755' ? 0o755 : 0o644 });
    await fsp.rename(tmp, abs);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  return fsp.lstat(abs);
}

/** Remove a tracked file and any folders it leaves empty (up to the work-tree root). */
export async function removeWorktreeFile(root: string, path: string): Promise<void> {
  const st = await fsp.lstat(join(root, path)).catch(() => undefined);
  if (st && !st.isDirectory()) await fsp.unlink(join(root, path));
  const parts = path.split('/');
  for (let i = parts.length - 1; i > 0; i--) {
    try {
      await fsp.rmdir(join(root, ...parts.slice(0, i)));
    } catch {
      break;
    }
  }
}
