import { Stats, closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { PatchworkError, errnoCode } from './errors';
import { atomicWrite } from './fsutil';
import { checksum, ID_BYTES } from './hash';
import { FileMode } from './objects';

/**
 * The staging area: a binary file `.patch/index` with one entry per path and stage, each carrying
 * the blob id, mode and a stat cache (size, mtime, ctime, inode, device) so that status only
 * re-hashes files whose stat changed. Stages 1/2/3 (base/ours/theirs) record merge conflicts.
 *
 * Layout: "PWIX" u32 version u32 count, then per entry: f64 ctimeMs, f64 mtimeMs, f64 dev, f64 ino,
 * f64 size, u32 mode, u8 stage, u8 flags, u16 path length, 32-byte id, path (UTF-8); then optionally
 * "TREE" and the 32-byte id of the tree the stage-0 entries make (see `Index.treeId`); then a SHA-256
 * of everything before it. Readers that predate the TREE block skip it.
 *
 * Entries are never changed in place (a change replaces the entry), so copies of an index share them.
 */
export interface IndexEntry {
  readonly path: string;
  readonly id: string;
  readonly mode: FileMode;
  readonly stage: 0 | 1 | 2 | 3;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
}

export interface Conflict {
  path: string;
  base?: IndexEntry;
  ours?: IndexEntry;
  theirs?: IndexEntry;
}

const MAGIC = Buffer.from('PWIX');
const TREE_EXT = Buffer.from('TREE');
const VERSION = 1;
const FIXED = 8 * 5 + 4 + 1 + 1 + 2 + ID_BYTES;
/** Index order: by path, then stage. */
const entryOrder = (a: IndexEntry, b: IndexEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.stage - b.stage);
const MODE_NUM: Record<FileMode, number> = { '100644': 0o100644, '100755': 0o100755, '120000': 0o120000 };

export function modeFromStats(st: Stats): FileMode {
  if (st.isSymbolicLink()) return '120000';
  return st.mode & 0o100 ? '100755' : '100644';
}

export function statFields(st: Stats): Pick<IndexEntry, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino' | 'dev'> {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev };
}

/** True when the work-tree file's stat is exactly what the index recorded. */
export function statMatches(e: IndexEntry, st: Stats): boolean {
  return (
    e.size === st.size &&
    e.mtimeMs === st.mtimeMs &&
    e.ctimeMs === st.ctimeMs &&
    e.ino === st.ino &&
    e.mode === modeFromStats(st)
  );
}

export class Index {
  /** Stage-0 entries by path. */
  readonly entries = new Map<string, IndexEntry>();
  /** Unmerged paths (stages 1–3); a path is either here or in `entries`. */
  readonly conflicts = new Map<string, Conflict>();
  /** mtime of the index file when it was read: entries modified at or after it are "racily clean". */
  fileMtimeMs = 0;
  /**
   * Id of the tree these entries make, when known (set by commit, checkout and reset, which have it
   * at hand). Equal to HEAD's tree means nothing is staged, so status need not read any tree object.
   * Every change through set/remove/setConflict forgets it; stat-only refreshes keep it.
   */
  treeId: string | undefined;
  /** The bytes this index was last read from or written to, and where each entry's record starts in them. */
  private encoded: { buf: Buffer; entries: IndexEntry[]; starts: Uint32Array } | undefined;

  get(path: string): IndexEntry | undefined {
    return this.entries.get(path);
  }

  set(entry: IndexEntry): void {
    const old = this.entries.get(entry.path);
    if (!old || old.id !== entry.id || old.mode !== entry.mode || this.conflicts.size) this.treeId = undefined;
    this.conflicts.delete(entry.path);
    this.entries.set(entry.path, { ...entry, stage: 0 });
  }

  remove(path: string): void {
    if (this.entries.has(path) || this.conflicts.has(path)) this.treeId = undefined;
    this.entries.delete(path);
    this.conflicts.delete(path);
  }

  setConflict(c: Conflict): void {
    this.treeId = undefined;
    this.entries.delete(c.path);
    this.conflicts.set(c.path, c);
  }

  /** Do the stage-0 entries (and no conflicts) make exactly this flat tree? */
  matchesTree(tree: ReadonlyMap<string, { id: string; mode: FileMode }>): boolean {
    if (this.conflicts.size || this.entries.size !== tree.size) return false;
    for (const [p, e] of this.entries) {
      const t = tree.get(p);
      if (!t || t.id !== e.id || t.mode !== e.mode) return false;
    }
    return true;
  }

  sortedPaths(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** A copy to change: entries are shared (they are never changed in place), so this is cheap. */
  clone(): Index {
    const ix = new Index();
    for (const [p, e] of this.entries) ix.entries.set(p, e);
    for (const [p, c] of this.conflicts) ix.conflicts.set(p, { ...c });
    ix.fileMtimeMs = this.fileMtimeMs;
    ix.treeId = this.treeId;
    ix.encoded = this.encoded;
    return ix;
  }

  /**
   * The bytes of the index file. Entries that are the very objects last read from or written to a
   * file are copied from that file's bytes, in runs: a pull that changes three of 20,000 entries
   * encodes three, not 20,000.
   */
  serialize(): Buffer {
    const all: IndexEntry[] = [...this.entries.values()];
    for (const c of this.conflicts.values()) {
      if (c.base) all.push({ ...c.base, path: c.path, stage: 1 });
      if (c.ours) all.push({ ...c.ours, path: c.path, stage: 2 });
      if (c.theirs) all.push({ ...c.theirs, path: c.path, stage: 3 });
    }
    // Entries read from a file come in order and updates keep their place: sort only when needed.
    let sorted = true;
    for (let i = 1; i < all.length && sorted; i++) sorted = entryOrder(all[i - 1], all[i]) < 0;
    if (!sorted) all.sort(entryOrder);
    // Where each entry's bytes come from: the last file's record k (from[i] = k), or encoded afresh.
    const src = this.encoded;
    const from = new Int32Array(all.length).fill(-1);
    const pathLengths = new Uint32Array(all.length);
    const tree = this.treeId && !this.conflicts.size ? this.treeId : undefined;
    let size = 12 + (tree ? TREE_EXT.length + ID_BYTES : 0);
    for (let i = 0, k = 0; i < all.length; i++) {
      const e = all[i];
      if (src) {
        while (k < src.entries.length && src.entries[k] !== e && entryOrder(src.entries[k], e) < 0) k++;
        if (src.entries[k] === e) {
          from[i] = k;
          size += src.starts[k + 1] - src.starts[k];
          k++;
          continue;
        }
      }
      pathLengths[i] = Buffer.byteLength(e.path, 'utf8');
      size += FIXED + pathLengths[i];
    }
    // One allocation with room for the checksum; paths are encoded straight into it.
    const out = Buffer.alloc(size + 32);
    const buf = out.subarray(0, size);
    MAGIC.copy(buf, 0);
    buf.writeUInt32BE(VERSION, 4);
    buf.writeUInt32BE(all.length, 8);
    const starts = new Uint32Array(all.length + 1);
    let pos = 12;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < all.length; ) {
      if (src && from[i] >= 0) {
        // A run of records that were consecutive in the last file: one copy.
        let j = i + 1;
        while (j < all.length && from[j] === from[j - 1] + 1) j++;
        const base = src.starts[from[i]];
        for (let r = i; r < j; r++) starts[r] = pos + src.starts[from[r]] - base;
        pos += src.buf.copy(buf, pos, base, src.starts[from[j - 1] + 1]);
        i = j;
        continue;
      }
      const e = all[i];
      starts[i] = pos;
      dv.setFloat64(pos, e.ctimeMs);
      dv.setFloat64(pos + 8, e.mtimeMs);
      dv.setFloat64(pos + 16, e.dev);
      dv.setFloat64(pos + 24, e.ino);
      dv.setFloat64(pos + 32, e.size);
      dv.setUint32(pos + 40, MODE_NUM[e.mode]);
      buf[pos + 44] = e.stage;
      buf[pos + 45] = 0;
      dv.setUint16(pos + 46, pathLengths[i]);
      pos += 48;
      pos += buf.write(e.id, pos, 'hex');
      pos += buf.write(e.path, pos, 'utf8');
      i++;
    }
    starts[all.length] = pos;
    if (tree) {
      pos += TREE_EXT.copy(buf, pos);
      buf.write(tree, pos, 'hex');
    }
    checksum(buf).copy(out, size);
    this.encoded = { buf, entries: all, starts };
    return out;
  }

  static parse(data: Buffer): Index {
    const bad = (why: string) =>
      new PatchworkError('CORRUPT_INDEX', `The staging area (.patch/index) is damaged: ${why}.`, 'Run `patchwork reset` to rebuild it from HEAD (your files are not touched).');
    if (data.length < 12 + 32 || !data.subarray(0, 4).equals(MAGIC)) throw bad('wrong header');
    if (data.readUInt32BE(4) !== VERSION) throw bad(`unsupported version ${data.readUInt32BE(4)}`);
    const body = data.subarray(0, data.length - 32);
    if (!checksum(body).equals(data.subarray(data.length - 32))) throw bad('checksum mismatch');
    const count = body.readUInt32BE(8);
    const ix = new Index();
    const entries: IndexEntry[] = [];
    const starts = new Uint32Array(count + 1);
    let pos = 12;
    const modes = new Map(Object.entries(MODE_NUM).map(([k, v]) => [v, k as FileMode]));
    // DataView reads are inlined by V8; Buffer.readDoubleBE is not (20k entries: this is status's hot loop).
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < count; i++) {
      if (pos + FIXED > body.length) throw bad('truncated');
      starts[i] = pos;
      const ctimeMs = dv.getFloat64(pos);
      const mtimeMs = dv.getFloat64(pos + 8);
      const dev = dv.getFloat64(pos + 16);
      const ino = dv.getFloat64(pos + 24);
      const size = dv.getFloat64(pos + 32);
      const mode = modes.get(dv.getUint32(pos + 40));
      const stage = body[pos + 44];
      const plen = dv.getUint16(pos + 46);
      const id = body.toString('hex', pos + 48, pos + 48 + ID_BYTES);
      pos += FIXED;
      if (!mode || stage > 3 || pos + plen > body.length) throw bad('bad entry');
      const path = body.toString('utf8', pos, pos + plen);
      pos += plen;
      const e: IndexEntry = { path, id, mode, stage: stage as IndexEntry['stage'], size, mtimeMs, ctimeMs, ino, dev };
      entries.push(e);
      if (stage === 0) ix.entries.set(path, e);
      else {
        const c = ix.conflicts.get(path) ?? { path };
        if (stage === 1) c.base = e;
        else if (stage === 2) c.ours = e;
        else c.theirs = e;
        ix.conflicts.set(path, c);
      }
    }
    if (pos + TREE_EXT.length + ID_BYTES <= body.length && body.subarray(pos, pos + TREE_EXT.length).equals(TREE_EXT)) {
      ix.treeId = body.toString('hex', pos + TREE_EXT.length, pos + TREE_EXT.length + ID_BYTES);
    }
    starts[count] = pos;
    ix.encoded = { buf: body, entries, starts };
    return ix;
  }
}

/**
 * Read and parse the index, with blocking calls: a few MB from the page cache, where fs.promises took
 * six thread-pool round trips. The mtime is fstat'ed on the descriptor read, so the racily-clean check
 * (`fileMtimeMs`) always uses the mtime of the file the entries came from, even when another process
 * renames a new index into place meanwhile.
 */
export async function readIndexFile(path: string): Promise<Index> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return new Index();
    throw e;
  }
  let data: Buffer;
  let st: Stats;
  try {
    st = fstatSync(fd);
    data = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  const ix = Index.parse(data);
  ix.fileMtimeMs = st.mtimeMs;
  return ix;
}

export async function writeIndexFile(path: string, ix: Index): Promise<void> {
  await atomicWrite(path, ix.serialize());
  ix.fileMtimeMs = statSync(path).mtimeMs;
}
