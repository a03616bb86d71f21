import { existsSync, promises as fsp, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { PatchworkError, errnoCode } from './errors';
import { ObjectType, framedObjectId, isObjectId, objectHeader, objectId } from './hash';
import { validateObject } from './objects';
import { readFileFast, renameFast, writeFileFast } from './fsutil';
import { Pack, PackEntry, isGone } from './pack';

export interface StoredObject {
  type: ObjectType;
  body: Buffer;
}

/**
 * The object-store seam. The engine talks only to this interface, so a pack-file store, an
 * in-memory store or a quarantine store for incoming objects can stand in for the loose store.
 */
export interface ObjectStore {
  has(id: string, type?: ObjectType): Promise<boolean>;
  /** Reads and verifies an object; throws MISSING_OBJECT or CORRUPT_OBJECT. */
  read(id: string, type?: ObjectType): Promise<StoredObject>;
  /**
   * Optional blocking `read`, for the small commit and tree objects that history walks and tree
   * diffs read one after another: a loose object from the page cache is read in one call instead of
   * four thread-pool round trips (log of 1,000 commits: ~4x faster).
   */
  readSync?(id: string, type: ObjectType): StoredObject;
  /**
   * The object as stored (zlib of `<type> <size>\0<body>`, a loose file's bytes), not inflated and
   * not verified: for sending to a peer, which verifies everything it receives.
   */
  readData(id: string, type: ObjectType): Promise<Buffer>;
  /** Optional blocking `readData`, for small objects (see `readSync`). */
  readDataSync?(id: string, type: ObjectType): Buffer;
  /** The length of `readData`'s answer, without reading it (0 when unknown or missing). */
  dataSize(id: string, type: ObjectType): number;
  /** Stores a body; returns its id. Never rewrites an existing object. */
  write(type: ObjectType, body: Buffer): Promise<string>;
  /** Every stored id with its type (for fsck and prefix lookup). */
  list(type?: ObjectType): AsyncIterable<{ id: string; type: ObjectType }>;
  /** Ids of the given type starting with a hex prefix of at least 2 characters. */
  findByPrefix(prefix: string, type: ObjectType): Promise<string[]>;
}

export const TYPE_DIRS: Record<ObjectType, string> = { blob: 'blobs', tree: 'trees', commit: 'commits' };
const TYPES: ObjectType[] = ['commit', 'tree', 'blob'];

export function missingObject(id: string, type?: ObjectType): PatchworkError {
  return new PatchworkError(
    'MISSING_OBJECT',
    `${type ? type[0].toUpperCase() + type.slice(1) : 'Object'} ${id.slice(0, 12)} is missing from the object store.`,
    'Run `patchwork fsck` to check the repository, or pull from a collaborator who has it.',
    { id, type },
  );
}

/**
 * The object store on disk, under `.patch/objects/`:
 * - loose objects in `{blobs,trees,commits}/ab/cdef…`, each zlib-deflated `<type> <size>\0<body>`
 *   (git's loose encoding), written once via temp file + rename: what `add` and `commit` write;
 * - pack files in `packs/` (see pack.ts): what arrives from peers in bulk, and what `gc` makes.
 * Every read inflates and re-hashes the object, wherever it comes from.
 *
 * Another process (the CLI, the extension's peer) may add or replace packs at any time, so a lookup
 * that misses re-reads the packs folder when it changed since the last look.
 */
export class DiskObjectStore implements ObjectStore {
  private tmpCounter = 0;
  private packs: Pack[] = [];
  /** mtime of the packs folder at the last scan (-1: no folder), and when that scan ran. */
  private packsMtime: number | undefined;
  private packsScanned = 0;

  constructor(readonly dir: string) {}

  get packsDir(): string {
    return join(this.dir, 'packs');
  }

  pathOf(id: string, type: ObjectType): string {
    return join(this.dir, TYPE_DIRS[type], id.slice(0, 2), id.slice(2));
  }

  /**
   * Re-read the packs folder if it may have changed since the last scan; true if the set of packs
   * changed. One stat when nothing happened. A folder modified within a second of the last scan is
   * read again even when its mtime looks the same: file-system timestamps are coarser than the time
   * between two renames.
   */
  refreshPacks(): boolean {
    let mtime: number;
    try {
      mtime = statSync(this.packsDir).mtimeMs;
    } catch {
      mtime = -1;
    }
    if (mtime === this.packsMtime && this.packsScanned - mtime > 1000) return false;
    this.packsMtime = mtime;
    this.packsScanned = Date.now();
    const names = mtime < 0 ? [] : readdirSync(this.packsDir).filter((n) => /^pack-[0-9a-f]{64}\.idx$/.test(n)).sort();
    const known = new Map(this.packs.map((p) => [p.packPath, p]));
    const next: Pack[] = [];
    for (const name of names) {
      const idxPath = join(this.packsDir, name);
      const old = known.get(idxPath.replace(/\.idx$/, '.pack'));
      if (old) {
        known.delete(old.packPath);
        next.push(old);
        continue;
      }
      try {
        next.push(Pack.loadSync(idxPath));
      } catch (e) {
        if (!isGone(e)) throw e;
      }
    }
    const changed = known.size > 0 || next.length !== this.packs.length;
    // Packs that went away (replaced by `gc`) are closed a little later: a read may still be using one.
    if (known.size) setTimeout(() => known.forEach((p) => p.close()), 10_000).unref();
    this.packs = next;
    return changed;
  }

  /** The pack holding `id`, from the packs known now (no I/O after the first scan). */
  private inPack(id: string, type?: ObjectType): { pack: Pack; entry: PackEntry } | undefined {
    if (this.packsMtime === undefined) this.refreshPacks();
    for (const pack of this.packs) {
      const entry = pack.entry(id, type);
      if (entry) return { pack, entry };
    }
    return undefined;
  }

  /** Find `id` in a pack, looking at the packs folder again if it changed. */
  private locate(id: string, type?: ObjectType): { pack: Pack; entry: PackEntry } | undefined {
    return this.inPack(id, type) ?? (this.refreshPacks() ? this.inPack(id, type) : undefined);
  }

  /** Read from a pack; a pack removed under us (by `gc`) sends the caller to look again. */
  private async packData(id: string, type?: ObjectType): Promise<{ data: Buffer; type: ObjectType } | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const hit = attempt === 0 ? this.inPack(id, type) : this.locate(id, type);
      if (!hit) return undefined;
      try {
        return { data: await hit.pack.readData(id, hit.entry), type: hit.entry.type };
      } catch (e) {
        if (!isGone(e)) throw e;
        this.packsMtime = undefined;
      }
    }
    return undefined;
  }

  private packDataSync(id: string, type: ObjectType): Buffer | undefined {
    for (let attempt = 0; attempt < 2; attempt++) {
      const hit = attempt === 0 ? this.inPack(id, type) : this.locate(id, type);
      if (!hit) return undefined;
      try {
        return hit.pack.readDataSync(id, hit.entry);
      } catch (e) {
        if (!isGone(e)) throw e;
        this.packsMtime = undefined;
      }
    }
    return undefined;
  }

  async has(id: string, type?: ObjectType): Promise<boolean> {
    if (!isObjectId(id)) return false;
    if (this.inPack(id, type)) return true;
    for (const t of type ? [type] : TYPES) {
      try {
        await fsp.access(this.pathOf(id, t));
        return true;
      } catch {
        /* try next */
      }
    }
    return this.refreshPacks() && this.inPack(id, type) !== undefined;
  }

  async read(id: string, type?: ObjectType): Promise<StoredObject> {
    if (!isObjectId(id)) throw missingObject(id, type);
    const packed = await this.packData(id, type);
    if (packed) return decodeLoose(packed.data, id, packed.type);
    for (const t of type ? [type] : TYPES) {
      let raw: Buffer;
      try {
        raw = await readFileFast(this.pathOf(id, t));
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') continue;
        throw e;
      }
      return decodeLoose(raw, id, t);
    }
    const late = this.refreshPacks() ? await this.packData(id, type) : undefined;
    if (late) return decodeLoose(late.data, id, late.type);
    throw missingObject(id, type);
  }

  readSync(id: string, type: ObjectType): StoredObject {
    return decodeLoose(this.readDataSync(id, type), id, type);
  }

  readDataSync(id: string, type: ObjectType): Buffer {
    if (!isObjectId(id)) throw missingObject(id, type);
    const packed = this.packDataSync(id, type);
    if (packed) return packed;
    try {
      return readFileSync(this.pathOf(id, type));
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    const late = this.refreshPacks() ? this.packDataSync(id, type) : undefined;
    if (late) return late;
    throw missingObject(id, type);
  }

  async readData(id: string, type: ObjectType): Promise<Buffer> {
    if (!isObjectId(id)) throw missingObject(id, type);
    const packed = await this.packData(id, type);
    if (packed) return packed.data;
    try {
      return await readFileFast(this.pathOf(id, type));
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    const late = this.refreshPacks() ? await this.packData(id, type) : undefined;
    if (late) return late.data;
    throw missingObject(id, type);
  }

  /** Size of `readData`'s answer, found without reading it (0 when the object is missing). */
  dataSize(id: string, type: ObjectType): number {
    const hit = this.inPack(id, type);
    if (hit) return hit.entry.length;
    return isObjectId(id) ? (statSync(this.pathOf(id, type), { throwIfNoEntry: false })?.size ?? 0) : 0;
  }

  async write(type: ObjectType, body: Buffer): Promise<string> {
    const id = objectId(type, body);
    // Content-addressed: an existing object is never rewritten. (A blocking check: one stat, where
    // fsp.access costs a thread-pool round trip per object, 20,000 of them in a first `add`.)
    if (existsSync(this.pathOf(id, type)) || this.inPack(id, type)) return id;
    await this.writeData(type, id, deflateSync(Buffer.concat([objectHeader(type, body.length), body]), { level: 1 }));
    return id;
  }

  /** Store already-verified data (a loose file's bytes) as the loose object `id`. */
  async writeData(type: ObjectType, id: string, data: Buffer): Promise<void> {
    const path = this.pathOf(id, type);
    // The temporary file lives in the object's own fan-out folder, as git's tmp_obj_* do: a rename
    // within one folder takes only that folder's lock, while a rename across folders takes the
    // file system's rename lock, which serialises every parallel write of a big `add`.
    const dir = join(this.dir, TYPE_DIRS[type], id.slice(0, 2));
    const tmp = join(dir, `tmp-${process.pid}-${++this.tmpCounter}-${id.slice(2, 10)}`);
    try {
      await writeFileFast(tmp, data, { mode: 0o444 });
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      await fsp.mkdir(dir, { recursive: true });
      await writeFileFast(tmp, data, { mode: 0o444 });
    }
    try {
      await renameFast(tmp, path);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
  }

  async findByPrefix(prefix: string, type: ObjectType): Promise<string[]> {
    const names = await fsp.readdir(join(this.dir, TYPE_DIRS[type], prefix.slice(0, 2))).catch(() => [] as string[]);
    const ids = new Set(names.map((n) => prefix.slice(0, 2) + n).filter((id) => isObjectId(id) && id.startsWith(prefix)));
    this.refreshPacks();
    for (const pack of this.packs) for (const id of pack.findByPrefix(prefix, type)) ids.add(id);
    return [...ids];
  }

  /** Loose objects only (what `gc` packs). */
  async *listLoose(type?: ObjectType): AsyncIterable<{ id: string; type: ObjectType }> {
    for (const t of type ? [type] : TYPES) {
      let fans: string[];
      try {
        fans = (await fsp.readdir(join(this.dir, TYPE_DIRS[t]))).sort();
      } catch {
        continue;
      }
      for (const fan of fans) {
        if (!/^[0-9a-f]{2}$/.test(fan)) continue;
        let names: string[];
        try {
          names = (await fsp.readdir(join(this.dir, TYPE_DIRS[t], fan))).sort();
        } catch {
          continue;
        }
        for (const name of names) {
          const id = fan + name;
          if (isObjectId(id)) yield { id, type: t };
        }
      }
    }
  }

  /** The packs as of now. */
  currentPacks(): readonly Pack[] {
    this.refreshPacks();
    return this.packs;
  }

  async *list(type?: ObjectType): AsyncIterable<{ id: string; type: ObjectType }> {
    const seen = new Set<string>();
    for await (const o of this.listLoose(type)) {
      seen.add(o.id);
      yield o;
    }
    for (const pack of this.currentPacks()) {
      for (const o of pack.entries(type)) {
        if (seen.has(o.id)) continue;
        seen.add(o.id);
        yield { id: o.id, type: o.type };
      }
    }
  }
}

/** Inflate, check the header, re-hash and strictly parse one loose object. */
export function decodeLoose(raw: Buffer, id: string, expected: ObjectType): StoredObject {
  let framed: Buffer;
  try {
    framed = inflateSync(raw);
  } catch {
    throw corruptObject(id, 'it does not inflate');
  }
  return { type: expected, body: decodeFramed(framed, id, expected) };
}

/** Check an inflated `<type> <size>\0<body>` against its id and type, parse it strictly, return the body. */
export function decodeFramed(framed: Buffer, id: string, expected: ObjectType): Buffer {
  if (framedObjectId(framed) !== id) throw corruptObject(id, 'its content does not match its id');
  const nul = framed.indexOf(0);
  const header = nul > 0 ? framed.toString('latin1', 0, Math.min(nul, 32)) : '';
  const m = /^(blob|tree|commit) (\d+)$/.exec(header);
  if (!m || m[1] !== expected || Number(m[2]) !== framed.length - nul - 1) {
    throw corruptObject(id, `its header is not "${expected} <size>"`);
  }
  const body = framed.subarray(nul + 1);
  validateObject(expected, body, id);
  return body;
}

function corruptObject(id: string, why: string): PatchworkError {
  return new PatchworkError('CORRUPT_OBJECT', `Object ${id.slice(0, 12)} is corrupt: ${why}.`, 'Run `patchwork fsck` to list every damaged object.', { id, problem: why });
}
