import { Dirent, Stats, closeSync, fstatSync, lstatSync, openSync, symlinkSync, promises as fsp, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { Ignore } from 'ignore';
import { PatchworkError, errnoCode } from './errors';
import { FileMode } from './objects';
import { modeFromStats } from './index-file';
import { pathComponentProblem } from './paths';
import { openFast, readFileFast, unlinkFast } from './fsutil';

/** Reading and writing the work tree: ignore rules, the walk, safe file writes. */

export const IGNORE_FILE = '.patchignore';
const REPO_DIR = '.patch';

/** `.patchignore` files with gitignore semantics, loaded lazily per directory. */
export class IgnoreRules {
  private readonly cache = new Map<string, Ignore | null>();
  constructor(readonly root: string) {}

  /**
   * The rules of one folder's own `.patchignore`. `mayExist: false` (the caller listed the folder
   * and saw no such file) records that without a failing read.
   */
  rulesFor(dir: string, mayExist = true): Ignore | null {
    let ig = this.cache.get(dir);
    if (ig === undefined) {
      ig = null;
      if (mayExist) {
        try {
          const text = readFileSync(join(this.root, dir, IGNORE_FILE), 'utf8');
          ig = ignore().add(text);
        } catch {
          /* no rules here */
        }
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
export function walkWorktree(
  root: string,
  rules: IgnoreRules,
  start = '',
  /** Called for each file instead of collecting them (status: each Stats dies young, which the GC likes). */
  onFile?: (path: string, stats: Stats) => void,
): { files: WalkedFile[]; invalid: string[] } {
  const files: WalkedFile[] = [];
  const invalid: string[] = [];
  // The rules in force while listing a folder: its ancestors' and its own, each with the length of
  // the prefix to cut so a path is tested relative to the folder its .patchignore lives in (the same
  // answer as IgnoreRules.ignoredHere, without re-splitting every path).
  type Active = readonly { ig: Ignore; cut: number }[];
  const ignoredBy = (active: Active, path: string, isDir: boolean): boolean => {
    let ignored = false;
    for (const { ig, cut } of active) {
      const r = ig.test(isDir ? `${path.slice(cut)}/` : path.slice(cut));
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    return ignored;
  };
  // Absolute folder paths are built by concatenation (`root` is absolute and normalised already):
  // path.join's normalising of every folder's path showed in profiles of a 20k-file status.
  const rootSlash = join(root, '/');
  const visit = (dir: string, inherited: Active) => {
    const abs = dir ? `${rootSlash}${dir}/` : rootSlash;
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return;
      throw e;
    }
    // A folder holding its own `.patch/` is another repository: its files are not ours (as git skips a nested .git).
    if (dir && entries.some((d) => d.name.length === REPO_DIR.length && d.isDirectory() && d.name.toLowerCase() === REPO_DIR)) return;
    const own = rules.rulesFor(dir, entries.some((d) => d.name === IGNORE_FILE));
    const active = own ? [...inherited, { ig: own, cut: dir ? dir.length + 1 : 0 }] : inherited;
    const prefix = dir ? `${dir}/` : '';
    for (const d of entries) {
      const name = d.name;
      if (!dir && name.toLowerCase() === REPO_DIR) continue;
      const path = prefix + name;
      const isDir = d.isDirectory();
      if (active.length && ignoredBy(active, path, isDir)) continue;
      if (pathComponentProblem(name)) {
        invalid.push(path);
        continue;
      }
      if (isDir) visit(path, active);
      else if (d.isFile() || d.isSymbolicLink()) {
        let stats: Stats | undefined;
        try {
          stats = lstatSync(abs + name, { throwIfNoEntry: false });
        } catch {
          /* unreadable */
        }
        if (!stats) continue; // vanished while walking
        if (onFile) onFile(path, stats);
        else files.push({ path, stats });
      }
    }
  };
  if (start && rules.isIgnored(start, true)) return { files, invalid };
  const inherited: { ig: Ignore; cut: number }[] = [];
  if (start) {
    const parts = start.split('/');
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const ig = rules.rulesFor(dir);
      if (ig) inherited.push({ ig, cut: dir ? dir.length + 1 : 0 });
    }
  }
  visit(start, inherited);
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

const SYNC_READ_MAX = 256 * 1024;

/** Content of a file as a blob body: the bytes of a file, or the target of a symlink. */
export async function readWorktreeBlob(root: string, path: string, st: Stats): Promise<{ body: Buffer; mode: FileMode }> {
  const abs = join(root, path);
  const mode = modeFromStats(st);
  if (mode === '120000') return { body: Buffer.from(await fsp.readlink(abs, { encoding: 'buffer' })), mode };
  // Small files in one blocking call; fsp.readFile costs four thread-pool round trips (open, fstat,
  // read, close), which is most of the time `add` spends on a typical source file.
  if (st.isFile() && st.size <= SYNC_READ_MAX) return { body: readFileSync(abs), mode };
  return { body: await readFileFast(abs), mode };
}

/**
 * Make sure every parent folder of `path` exists as a real folder inside the work tree. A parent
 * that is a symlink or a file is never written through.
 */
async function ensureParents(root: string, path: string, known?: Set<string>): Promise<void> {
  const parts = path.split('/');
  if (parts.length < 2 || known?.has(parts.slice(0, -1).join('/'))) return;
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = join(cur, parts[i]);
    const rel = parts.slice(0, i + 1).join('/');
    if (known?.has(rel)) continue;
    let st = await fsp.lstat(cur).catch(() => undefined);
    if (!st) {
      try {
        await fsp.mkdir(cur);
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw e;
        st = await fsp.lstat(cur); // made meanwhile by a concurrent write: check what it is
      }
    }
    if (st && !st.isDirectory()) {
      throw new PatchworkError(
        'DIRTY_WORKTREE',
        `Cannot write ${path}: ${rel} is ${st.isSymbolicLink() ? 'a symlink' : 'a file'}, not a folder.`,
        'Move it out of the way and try again.',
        { path },
      );
    }
    known?.add(rel);
  }
}

/**
 * Write one file or symlink the way git does: whatever is at `path` is removed first, then the file
 * is created (O_EXCL), written and fstat'ed. A symlink in the way is replaced, never followed; a file
 * with other hard links keeps its old content under those names. Only the two steps that can wait on
 * the disk (the unlink, which frees blocks, and the create, which allocates an inode) go through the
 * thread pool; the write and the fstat are blocking calls on a descriptor already open. That is two
 * round trips per file, where a temporary file and a rename took four (and a stat).
 *
 * There is no temporary file, so a process killed midway can leave `path` missing or short. Nothing is
 * lost by that: callers only replace content the object store holds (checkout and merge refuse to
 * overwrite local changes; reset --hard, restore and checkout --force discard them on request), and the
 * index still describes the file as it was, so status shows it modified or deleted until `restore` or
 * `checkout --force` writes it again. (A temporary file would have been left behind as untracked junk.)
 *
 * `folders`, shared across the writes of one operation, remembers parent folders already checked.
 * `known.stats`: what the caller's lstat of `path` has just found (undefined: nothing), so it is not
 * taken again.
 */
export async function writeWorktreeFile(
  root: string,
  path: string,
  mode: FileMode,
  body: Buffer,
  folders?: Set<string>,
  known?: { stats: Stats | undefined },
): Promise<Stats> {
  assertSafePath(path);
  await ensureParents(root, path, folders);
  const abs = join(root, path);
  const existing = known ? known.stats : lstatOrUndefined(root, path);
  if (existing?.isDirectory()) {
    // A folder that holds nothing tracked any more (the caller removed tracked files first).
    await fsp.rmdir(abs).catch(() => {
      throw new PatchworkError('DIRTY_WORKTREE', `Cannot write ${path}: a folder with that name is in the way.`, 'Move it out of the way and try again.', { path });
    });
  } else if (existing) {
    await unlinkFast(abs).catch((e: unknown) => {
      if (errnoCode(e) !== 'ENOENT') throw e;
    });
  }
  if (mode === '120000') {
    await fsp.symlink(body.toString(), abs);
    return lstatSync(abs);
  }
  // 'wx' (O_CREAT | O_EXCL): anything that appeared at `path` meanwhile is an error, never written through.
  return writeOpened(abs, await openFast(abs, 'wx', fileMode(mode)), body);
}

/**
 * Create a file or symlink where nothing is (its folder exists), with blocking calls: for a checkout
 * into an empty work tree, which creates its files one after another as git does. O_EXCL as above.
 */
export function createWorktreeFileSync(root: string, path: string, mode: FileMode, body: Buffer): Stats {
  assertSafePath(path);
  const abs = join(root, path);
  if (mode === '120000') {
    symlinkSync(body.toString(), abs);
    return lstatSync(abs);
  }
  return writeOpened(abs, openSync(abs, 'wx', fileMode(mode)), body);
}

/** Throws INVALID_PATH unless every component of `path` is safe to write (no `..`, `.patch`, separators …). */
export function assertSafePath(path: string): void {
  if (path.split('/').some((part) => pathComponentProblem(part))) throw new PatchworkError('INVALID_PATH', `Refusing to write the unsafe path ${JSON.stringify(path)}.`);
}

const fileMode = (mode: FileMode) => (mode === '100755' ? 0o755 : 0o644);

/** Write `body` to a file just created at `abs` and fstat it; on failure the file is removed. */
function writeOpened(abs: string, fd: number, body: Buffer): Stats {
  let written = false;
  try {
    for (let off = 0; off < body.length; ) off += writeSync(fd, body, off);
    const st = fstatSync(fd);
    written = true;
    return st;
  } finally {
    closeSync(fd);
    if (!written) rmSync(abs, { force: true });
  }
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
