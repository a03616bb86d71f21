import { randomUUID } from 'node:crypto';
import { lstatSync, promises as fsp, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { userInfo, hostname } from 'node:os';
import { RepoConfig, readConfig, readConfigSync, writeConfig } from './config';
import { PatchworkError } from './errors';
import { exists } from './fsutil';
import { Index, readIndexFile, writeIndexFile } from './index-file';
import { acquireLock } from './lock';
import { Commit, FileMode, Signature, TreeEntry, decodeCommit, decodeTree, encodeCommit, encodeTree } from './objects';
import { Head, Refs } from './refs';
import { DiskObjectStore, ObjectStore, TYPE_DIRS } from './store';

/** Largest stored blob `readBlob` reads with a blocking call. */
const SYNC_BLOB_MAX = 256 * 1024;

export const PATCH_DIR = '.patch';

export interface FlatEntry {
  id: string;
  mode: FileMode;
}
/** A tree flattened to `path → blob` (files and symlinks only). */
export type FlatTree = Map<string, FlatEntry>;

export interface Identity {
  name: string;
  email: string;
}

export interface OpenOptions {
  /** Author identity from the caller's settings (the extension's patchwork.author.*); overrides the config. */
  author?: Partial<Identity>;
  /** Clock for commits, in Unix seconds (tests); defaults to now. */
  now?: () => number;
}

/**
 * An open repository: the work-tree root, the `.patch` folder and the parts that live in it.
 * Operations live in their own modules and take a Repository; this class owns the lock, the index
 * cache and object decoding, so there is exactly one place for each.
 */
export class Repository {
  readonly patchDir: string;
  readonly store: ObjectStore;
  readonly refs: Refs;
  private queue: Promise<unknown> = Promise.resolve();
  private indexCache: { index: Index; mtimeMs: number; size: number; ino: number } | undefined;
  private readonly treeCache = new Map<string, TreeEntry[]>();
  private readonly commitCache = new Map<string, Commit>();

  private constructor(
    readonly root: string,
    readonly options: OpenOptions = {},
  ) {
    this.patchDir = join(root, PATCH_DIR);
    this.store = new DiskObjectStore(join(this.patchDir, 'objects'));
    this.refs = new Refs(this.patchDir);
  }

  get configPath(): string {
    return join(this.patchDir, 'patchwork.toml');
  }
  get indexPath(): string {
    return join(this.patchDir, 'index');
  }

  /** Find the repository containing `start` by walking up to the nearest `.patch/`. */
  static async find(start: string): Promise<string | undefined> {
    let dir = resolve(start);
    for (;;) {
      const st = await fsp.stat(join(dir, PATCH_DIR)).catch(() => undefined);
      if (st?.isDirectory() && (await exists(join(dir, PATCH_DIR, 'HEAD')))) return dir;
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  }

  static async open(start: string, options?: OpenOptions): Promise<Repository> {
    const root = await Repository.find(start);
    if (!root) throw notARepository(start);
    const repo = new Repository(root, options);
    await repo.config(); // fail early and clearly on a damaged configuration
    return repo;
  }

  /**
   * `find` and `open` with synchronous file calls, for a start path on a thread of its own (the
   * extension's peer worker): asynchronous ones each take a trip through libuv's thread pool, which
   * the whole process shares and which the editor keeps busy while it starts. Returns the repository
   * and the configuration it read.
   */
  static openSync(start: string, options?: OpenOptions): { repo: Repository; config: RepoConfig } {
    const quiet = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch {
        return undefined; // as `find`: an unreadable level is not a repository
      }
    };
    let dir = resolve(start);
    for (;;) {
      const patch = join(dir, PATCH_DIR);
      if (quiet(() => statSync(patch).isDirectory()) && quiet(() => lstatSync(join(patch, 'HEAD')))) break;
      const parent = dirname(dir);
      if (parent === dir) throw notARepository(start);
      dir = parent;
    }
    const repo = new Repository(dir, options);
    return { repo, config: readConfigSync(repo.configPath) };
  }

  static async init(dir: string, init: { name?: string; user?: Partial<Identity>; defaultBranch?: string } = {}, options?: OpenOptions): Promise<Repository> {
    const root = resolve(dir);
    const existing = await Repository.find(root);
    if (existing) {
      throw new PatchworkError(
        'ALREADY_A_REPOSITORY',
        existing === root ? `A Patchwork repository already exists in ${root}.` : `${root} is already inside the Patchwork repository at ${existing}.`,
        'Nothing was changed.',
        { root: existing },
      );
    }
    await fsp.mkdir(root, { recursive: true });
    const patchDir = join(root, PATCH_DIR);
    // Build in a temporary folder and rename it into place, so a failed init leaves nothing behind.
    const tmp = join(root, `.patch-init-${process.pid}`);
    await fsp.rm(tmp, { recursive: true, force: true });
    try {
      for (const t of Object.values(TYPE_DIRS)) await fsp.mkdir(join(tmp, 'objects', t), { recursive: true });
      await fsp.mkdir(join(tmp, 'objects', 'tmp'), { recursive: true });
      await fsp.mkdir(join(tmp, 'refs', 'heads'), { recursive: true });
      await fsp.mkdir(join(tmp, 'refs', 'tags'), { recursive: true });
      const branch = init.defaultBranch ?? 'main';
      await fsp.writeFile(join(tmp, 'HEAD'), `ref: refs/heads/${branch}\n`);
      const config: RepoConfig = { repository: { name: init.name || basename(root), id: randomUUID(), default_branch: branch } };
      if (init.user?.name || init.user?.email) config.user = { ...init.user };
      await writeConfig(join(tmp, 'patchwork.toml'), config);
      await fsp.rename(tmp, patchDir);
    } catch (e) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return new Repository(root, options);
  }

  // ---------- configuration and identity ----------

  async config(): Promise<RepoConfig> {
    return readConfig(this.configPath);
  }

  /** Read-modify-write of patchwork.toml under the repository lock. */
  async updateConfig(change: (c: RepoConfig) => void): Promise<RepoConfig> {
    return this.withLock('config', async () => {
      const c = await this.config();
      change(c);
      await writeConfig(this.configPath, c);
      return c;
    });
  }

  /** The author of new commits; `config`: the configuration, when the caller has just read it. */
  async identity(config?: RepoConfig): Promise<Identity> {
    const c = config ?? (await this.config());
    let user: string;
    try {
      user = userInfo().username;
    } catch {
      user = 'patchwork';
    }
    return {
      name: this.options.author?.name || process.env.PATCHWORK_AUTHOR_NAME || c.user?.name || user,
      email: this.options.author?.email || process.env.PATCHWORK_AUTHOR_EMAIL || c.user?.email || `${user}@${hostname()}`,
    };
  }

  async signature(): Promise<Signature> {
    const who = await this.identity();
    const envDate = process.env.PATCHWORK_DATE;
    const timestamp = this.options.now ? this.options.now() : envDate ? Number(envDate) : Math.floor(Date.now() / 1000);
    const tzOffset = envDate ? 0 : -new Date(timestamp * 1000).getTimezoneOffset();
    return { ...who, timestamp, tzOffset };
  }

  // ---------- the lock ----------

  /**
   * Run `fn` holding the repository lock: in-process callers queue behind each other, other
   * processes are kept out by `.patch/lock`.
   */
  withLock<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      const release = await acquireLock(join(this.patchDir, 'lock'), operation);
      try {
        return await fn();
      } finally {
        await release();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  // ---------- the index ----------

  /** The staging area; cached while the file's stat is unchanged. Callers must not mutate it. */
  async readIndex(): Promise<Index> {
    const st = await fsp.stat(this.indexPath).catch(() => undefined);
    if (!st) return new Index();
    const c = this.indexCache;
    // Every write renames a new file into place, so the inode changes even within one mtime tick.
    if (c && c.mtimeMs === st.mtimeMs && c.size === st.size && c.ino === st.ino) return c.index;
    const index = await readIndexFile(this.indexPath);
    this.indexCache = { index, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
    return index;
  }

  /** Load a private copy of the index, let `fn` change it, write it back if `fn` says so. Caller holds the lock. */
  async editIndex<T>(fn: (ix: Index) => Promise<{ result: T; write: boolean }>): Promise<T> {
    const ix = (await this.readIndex()).clone();
    const { result, write } = await fn(ix);
    if (write) await this.writeIndex(ix);
    return result;
  }

  async writeIndex(ix: Index): Promise<void> {
    await writeIndexFile(this.indexPath, ix);
    const st = await fsp.stat(this.indexPath);
    this.indexCache = { index: ix, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
  }

  // ---------- objects ----------

  async readCommit(id: string): Promise<Commit> {
    let c = this.commitCache.get(id);
    if (!c) {
      const { body } = this.store.readSync ? this.store.readSync(id, 'commit') : await this.store.read(id, 'commit');
      c = decodeCommit(body, id);
      if (this.commitCache.size > 20000) this.commitCache.clear();
      this.commitCache.set(id, c);
    }
    return c;
  }

  async readTree(id: string): Promise<TreeEntry[]> {
    let t = this.treeCache.get(id);
    if (!t) {
      const { body } = this.store.readSync ? this.store.readSync(id, 'tree') : await this.store.read(id, 'tree');
      t = decodeTree(body, id);
      if (this.treeCache.size > 20000) this.treeCache.clear();
      this.treeCache.set(id, t);
    }
    return t;
  }

  /**
   * A blob's content. One stored in at most 256 KiB is read with one blocking call (a thread-pool
   * round trip per read cost more than the read: `diff` of 2,000 changed files spent a third of its
   * time waiting for them); a larger one in the thread pool.
   */
  async readBlob(id: string): Promise<Buffer> {
    const size = this.store.readSync ? this.store.dataSize(id, 'blob') : 0;
    if (size > 0 && size <= SYNC_BLOB_MAX) return this.store.readSync!(id, 'blob').body;
    return (await this.store.read(id, 'blob')).body;
  }

  async writeCommit(c: Commit): Promise<string> {
    return this.store.write('commit', encodeCommit(c));
  }

  async writeTree(entries: TreeEntry[]): Promise<string> {
    return this.store.write('tree', encodeTree(entries));
  }

  /** Flatten a tree to path → blob (recursively). */
  async flattenTree(treeId: string | undefined, prefix = '', out: FlatTree = new Map()): Promise<FlatTree> {
    if (!treeId) return out;
    const entries = await this.readTree(treeId);
    const subtrees: Promise<FlatTree>[] = [];
    for (const e of entries) {
      const path = prefix + e.name;
      if (e.mode === '40000') subtrees.push(this.flattenTree(e.id, path + '/', out));
      else out.set(path, { id: e.id, mode: e.mode });
    }
    await Promise.all(subtrees);
    return out;
  }

  /**
   * The paths where two trees differ, each side flattened (a path absent from a side is not in its
   * map). Subtrees with the same id on both sides are never read: moving between two commits that
   * differ in a few files costs a few tree reads, however big the tree.
   */
  async flattenChanged(a: string | undefined, b: string | undefined, prefix = '', out: [FlatTree, FlatTree] = [new Map(), new Map()]): Promise<[FlatTree, FlatTree]> {
    if (a === b) return out;
    if (!a || !b) {
      await this.flattenTree(a ?? b, prefix, out[a ? 0 : 1]);
      return out;
    }
    const [ea, eb] = await Promise.all([this.readTree(a), this.readTree(b)]);
    const byName = new Map(eb.map((e) => [e.name, e]));
    const subtrees: Promise<unknown>[] = [];
    const side = (e: TreeEntry, i: 0 | 1) => {
      if (e.mode === '40000') subtrees.push(this.flattenTree(e.id, prefix + e.name + '/', out[i]));
      else out[i].set(prefix + e.name, { id: e.id, mode: e.mode });
    };
    for (const x of ea) {
      const y = byName.get(x.name);
      byName.delete(x.name);
      if (y && y.id === x.id && y.mode === x.mode) continue;
      if (y && x.mode === '40000' && y.mode === '40000') subtrees.push(this.flattenChanged(x.id, y.id, prefix + x.name + '/', out));
      else {
        side(x, 0);
        if (y) side(y, 1);
      }
    }
    for (const y of byName.values()) side(y, 1);
    await Promise.all(subtrees);
    return out;
  }

  async commitTree(commitId: string | undefined): Promise<FlatTree> {
    if (!commitId) return new Map();
    return this.flattenTree((await this.readCommit(commitId)).tree);
  }

  /** Write the trees for a set of `path → blob` entries; returns the root tree id. */
  async writeTreeFromFlat(files: Iterable<[string, FlatEntry]>): Promise<string> {
    interface Dir {
      files: TreeEntry[];
      dirs: Map<string, Dir>;
    }
    const root: Dir = { files: [], dirs: new Map() };
    for (const [path, e] of files) {
      const parts = path.split('/');
      let d = root;
      for (let i = 0; i < parts.length - 1; i++) {
        let sub = d.dirs.get(parts[i]);
        if (!sub) d.dirs.set(parts[i], (sub = { files: [], dirs: new Map() }));
        d = sub;
      }
      d.files.push({ mode: e.mode, name: parts[parts.length - 1], id: e.id });
    }
    const write = async (d: Dir): Promise<string> => {
      const entries = [...d.files];
      const subs = await Promise.all([...d.dirs].map(async ([name, sub]) => ({ mode: '40000' as const, name, id: await write(sub) })));
      entries.push(...subs);
      return this.writeTree(entries);
    };
    return write(root);
  }

  // ---------- HEAD ----------

  async head(): Promise<Head> {
    return this.refs.readHead();
  }

  async headCommit(): Promise<string | undefined> {
    return (await this.head()).id;
  }
}

function notARepository(start: string): PatchworkError {
  return new PatchworkError('NOT_A_REPOSITORY', `Not a Patchwork repository (or any parent folder): ${resolve(start)}`, 'Run `patchwork init` to create one here.');
}
