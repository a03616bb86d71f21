import { closeSync, fstatSync, openSync, read as readCb, readFileSync, readSync, promises as fsp } from 'node:fs';
import { PatchworkError, errnoCode } from './errors';
import { ID_BYTES, ObjectType, checksum, isObjectId } from './hash';

/**
 * Pack files: many objects in one file. What arrives from a peer in bulk is kept as one pack (a clone
 * of 20,000 files is one file written, not 20,000), and `patchwork gc` packs the loose objects.
 *
 * `.patch/objects/packs/pack-<name>.pack` is the magic `PWPACK1\n` followed by records
 *
 *     u8 type (1 commit, 2 tree, 3 blob) | 32-byte object id | u32 big-endian length | data
 *
 * where data is the object exactly as its loose file holds it (zlib of `<type> <size>\0<body>`). The
 * wire carries the same records, so an object moves between a loose file, a pack and a peer without
 * being inflated or deflated again (it is always inflated and re-hashed when read or received).
 *
 * `pack-<name>.idx` makes a pack visible: the magic `PWIDX1\n\0`, u32 count, u64 pack length, 256 u32
 * fan-out counts, then one 43-byte entry per object sorted by id (32-byte id | u8 type | u48 offset of
 * the record | u32 data length), then the SHA-256 of everything before it. A pack is written under a
 * temporary name and renamed into place before its index, so a reader never sees a partial pack.
 * <name> is the SHA-256 of the sorted ids.
 */

export const RECORD_HEADER = 37;
export const TYPE_CODE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };
export const CODE_TYPE: Record<number, ObjectType | undefined> = { 1: 'commit', 2: 'tree', 3: 'blob' };
const PACK_MAGIC = Buffer.from('PWPACK1\n', 'latin1');
const IDX_MAGIC = Buffer.from('PWIDX1\n\0', 'latin1');
const IDX_HEADER = IDX_MAGIC.length + 4 + 8 + 256 * 4;
const ENTRY = ID_BYTES + 1 + 6 + 4;

// The callback flavour of fs.read (one call per object; fs.promises adds a FileHandle round trip).
function readAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => readCb(fd, buffer, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

export interface PackEntry {
  type: ObjectType;
  /** Offset of the record (its 37-byte header) in the pack. */
  offset: number;
  /** Length of the data after the header. */
  length: number;
}

export function recordHeader(type: ObjectType, id: string, length: number): Buffer {
  const h = Buffer.allocUnsafe(RECORD_HEADER);
  h[0] = TYPE_CODE[type];
  h.write(id, 1, ID_BYTES, 'hex');
  h.writeUInt32BE(length, 33);
  return h;
}

/** One pack and its index, opened read-only. The index stays in memory (43 bytes per object). */
export class Pack {
  private fd: number | undefined;

  private constructor(
    readonly packPath: string,
    private readonly idx: Buffer,
    readonly count: number,
    private readonly packLength: number,
  ) {}

  /** Load and check an index file. Throws CORRUPT_PACK when it is damaged or does not fit its pack. */
  static loadSync(idxPath: string): Pack {
    const idx = readFileSync(idxPath);
    const packPath = idxPath.replace(/\.idx$/, '.pack');
    const bad = (why: string) => corruptPack(packPath, why);
    if (idx.length < IDX_HEADER + 32 || !idx.subarray(0, IDX_MAGIC.length).equals(IDX_MAGIC)) throw bad('its index has no valid header');
    const count = idx.readUInt32BE(8);
    const packLength = Number(idx.readBigUInt64BE(12));
    if (idx.length !== IDX_HEADER + count * ENTRY + 32) throw bad('its index has the wrong length');
    if (!checksum(idx.subarray(0, idx.length - 32)).equals(idx.subarray(idx.length - 32))) throw bad('its index does not match its checksum');
    if (idx.readUInt32BE(IDX_HEADER - 4) !== count) throw bad('its index fan-out does not add up');
    return new Pack(packPath, idx, count, packLength);
  }

  /** Position of `id` in the sorted entries, or -1. */
  private find(id: string): number {
    if (!isObjectId(id)) return -1;
    const key = Buffer.from(id, 'hex');
    const fan = key[0]!;
    let lo = fan === 0 ? 0 : this.idx.readUInt32BE(20 + (fan - 1) * 4);
    let hi = this.idx.readUInt32BE(20 + fan * 4) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = IDX_HEADER + mid * ENTRY;
      const c = this.idx.compare(key, 0, ID_BYTES, at, at + ID_BYTES);
      if (c === 0) return mid;
      if (c > 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }

  private entryAt(i: number): PackEntry & { id: string } {
    const at = IDX_HEADER + i * ENTRY;
    const type = CODE_TYPE[this.idx[at + ID_BYTES]!];
    if (!type) throw corruptPack(this.packPath, 'its index names an unknown object type');
    return { id: this.idx.toString('hex', at, at + ID_BYTES), type, offset: this.idx.readUIntBE(at + ID_BYTES + 1, 6), length: this.idx.readUInt32BE(at + ID_BYTES + 7) };
  }

  entry(id: string, type?: ObjectType): PackEntry | undefined {
    const i = this.find(id);
    if (i < 0) return undefined;
    const e = this.entryAt(i);
    return type === undefined || e.type === type ? e : undefined;
  }

  *entries(type?: ObjectType): Iterable<PackEntry & { id: string }> {
    for (let i = 0; i < this.count; i++) {
      const e = this.entryAt(i);
      if (type === undefined || e.type === type) yield e;
    }
  }

  /** Ids starting with `prefix` (at least two hex digits). */
  findByPrefix(prefix: string, type: ObjectType): string[] {
    const out: string[] = [];
    const fan = parseInt(prefix.slice(0, 2), 16);
    const lo = fan === 0 ? 0 : this.idx.readUInt32BE(20 + (fan - 1) * 4);
    const hi = this.idx.readUInt32BE(20 + fan * 4);
    for (let i = lo; i < hi; i++) {
      const e = this.entryAt(i);
      if (e.type === type && e.id.startsWith(prefix)) out.push(e.id);
    }
    return out;
  }

  private open(): number {
    if (this.fd === undefined) {
      const fd = openSync(this.packPath, 'r');
      if (fstatSync(fd).size !== this.packLength) {
        closeSync(fd);
        throw corruptPack(this.packPath, 'it is not as long as its index says');
      }
      this.fd = fd;
    }
    return this.fd;
  }

  /** The stored data of one object (as a loose file holds it), checked against its record header. */
  async readData(id: string, e: PackEntry): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(RECORD_HEADER + e.length);
    const n = await readAt(this.open(), buf, 0, buf.length, e.offset);
    return this.checkRecord(id, e, buf, n);
  }

  readDataSync(id: string, e: PackEntry): Buffer {
    const buf = Buffer.allocUnsafe(RECORD_HEADER + e.length);
    const n = readSync(this.open(), buf, 0, buf.length, e.offset);
    return this.checkRecord(id, e, buf, n);
  }

  private checkRecord(id: string, e: PackEntry, buf: Buffer, n: number): Buffer {
    if (n !== buf.length || !buf.subarray(0, RECORD_HEADER).equals(recordHeader(e.type, id, e.length))) {
      throw corruptPack(this.packPath, `its record for ${id.slice(0, 12)} does not match its index`);
    }
    return buf.subarray(RECORD_HEADER);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Appends records to a new pack file and, on `finish`, writes its index and renames both into a
 * packs folder. Records are buffered and written in large sequential chunks; an object already added
 * is skipped. Until `finish`, objects can be read back (for the connectivity check of a transfer).
 */
export class PackWriter {
  private readonly entries = new Map<string, PackEntry>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;
  private length = PACK_MAGIC.length;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
  ) {
    this.pending.push(PACK_MAGIC);
    this.pendingBytes = PACK_MAGIC.length;
  }

  /** Start a pack at `path` (a temporary name; it must not exist). */
  static async create(path: string): Promise<PackWriter> {
    return new PackWriter(path, await fsp.open(path, 'wx+', 0o444));
  }

  get count(): number {
    return this.entries.size;
  }
  /** Bytes of the pack so far. */
  get size(): number {
    return this.length;
  }

  has(id: string, type?: ObjectType): boolean {
    const e = this.entries.get(id);
    return e !== undefined && (type === undefined || e.type === type);
  }

  ids(): Iterable<[string, PackEntry]> {
    return this.entries.entries();
  }

  /** Add one object's stored data; the caller has verified it. Returns false for a duplicate. */
  async add(type: ObjectType, id: string, data: Buffer): Promise<boolean> {
    if (this.entries.has(id)) return false;
    this.entries.set(id, { type, offset: this.length, length: data.length });
    this.pending.push(recordHeader(type, id, data.length), data);
    this.pendingBytes += RECORD_HEADER + data.length;
    this.length += RECORD_HEADER + data.length;
    if (this.pendingBytes >= 4 * 1024 * 1024) await this.flush();
    return true;
  }

  private async flush(): Promise<void> {
    const chunk = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const at = this.written;
    this.written += bytes;
    this.writing = this.writing.then(async () => {
      if (chunk.length) await this.handle.writev(chunk, at);
    });
    await this.writing;
  }

  /** The data of an object added earlier. */
  async readData(id: string, type?: ObjectType): Promise<Buffer | undefined> {
    const e = this.entries.get(id);
    if (!e || (type !== undefined && e.type !== type)) return undefined;
    await this.flush();
    const buf = Buffer.allocUnsafe(e.length);
    const { bytesRead } = await this.handle.read(buf, 0, e.length, e.offset + RECORD_HEADER);
    if (bytesRead !== e.length) throw corruptPack(this.path, 'it was truncated while being written');
    return buf;
  }

  /**
   * Write everything out, then the index, and move both into `dir` as pack-<name>.{pack,idx}.
   * Returns the index path (the pack is beside it).
   */
  async finish(dir: string): Promise<string> {
    await this.flush();
    await this.handle.close();
    const sorted = [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const idx = Buffer.alloc(IDX_HEADER + sorted.length * ENTRY);
    IDX_MAGIC.copy(idx, 0);
    idx.writeUInt32BE(sorted.length, 8);
    idx.writeBigUInt64BE(BigInt(this.length), 12);
    const fan = new Uint32Array(256);
    const ids = Buffer.alloc(sorted.length * ID_BYTES);
    sorted.forEach(([id, e], i) => {
      const at = IDX_HEADER + i * ENTRY;
      idx.write(id, at, ID_BYTES, 'hex');
      idx[at + ID_BYTES] = TYPE_CODE[e.type];
      idx.writeUIntBE(e.offset, at + ID_BYTES + 1, 6);
      idx.writeUInt32BE(e.length, at + ID_BYTES + 7);
      ids.write(id, i * ID_BYTES, ID_BYTES, 'hex');
      fan[parseInt(id.slice(0, 2), 16)]!++;
    });
    let sum = 0;
    for (let b = 0; b < 256; b++) idx.writeUInt32BE((sum += fan[b]!), 20 + b * 4);
    const name = `pack-${checksum(ids).toString('hex')}`;
    await fsp.mkdir(dir, { recursive: true });
    const packPath = `${dir}/${name}.pack`;
    const idxPath = `${dir}/${name}.idx`;
    const idxTmp = `${this.path}.idx`;
    if (await fsp.access(idxPath).then(() => true, () => false)) {
      // The same objects are packed already (the name is the hash of the ids); keep that pack, whose
      // layout readers may hold in memory.
      await fsp.rm(this.path, { force: true });
      return idxPath;
    }
    await fsp.writeFile(idxTmp, Buffer.concat([idx, checksum(idx)]), { mode: 0o444 });
    // The pack first, then the index that makes it visible.
    await fsp.rename(this.path, packPath);
    await fsp.rename(idxTmp, idxPath);
    return idxPath;
  }

  /** Close and delete the unfinished pack. */
  async abort(): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    await fsp.rm(this.path, { force: true });
    await fsp.rm(`${this.path}.idx`, { force: true });
  }
}

export function corruptPack(path: string, why: string): PatchworkError {
  return new PatchworkError('CORRUPT_OBJECT', `The pack file ${path.replace(/^.*[\\/]/, '')} is damaged: ${why}.`, 'Run `patchwork fsck` to see which objects are affected.', { path });
}

/** True for errors that mean "the file is not there (any more)". */
export function isGone(e: unknown): boolean {
  return errnoCode(e) === 'ENOENT';
}
