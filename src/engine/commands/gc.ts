import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { ObjectType } from '../hash';
import { forEachLimit } from '../fsutil';
import { PackWriter } from '../pack';
import { Repository } from '../repository';
import { DiskObjectStore, decodeLoose } from '../store';

export interface GcResult {
  /** Objects in the new pack (0: there was nothing to do). */
  packed: number;
  looseRemoved: number;
  packsRemoved: number;
  /** Size of the new pack in bytes. */
  packBytes: number;
}

/**
 * Pack every loose object and every existing pack into one pack, then remove what it replaced. Each
 * object is verified (inflated, re-hashed, parsed) on the way: a damaged object stops gc before it
 * has changed anything. Nothing is pruned: unreachable objects are packed like the rest.
 * Runs under the repository lock; readers in other processes keep working (a reader whose pack
 * vanished looks at the packs folder again).
 */
export async function gc(repo: Repository, onProgress?: (objects: number) => void): Promise<GcResult> {
  return repo.withLock('gc', async () => {
    const store = repo.store as DiskObjectStore;
    const old = [...store.currentPacks()];
    const loose: { id: string; type: ObjectType }[] = [];
    for await (const o of store.listLoose()) loose.push(o);
    if (loose.length === 0 && old.length <= 1) return { packed: 0, looseRemoved: 0, packsRemoved: 0, packBytes: 0 };

    // The unfinished pack lives in an incoming-<pid>-* folder, which a later transfer cleans up if
    // this process dies half way.
    const work = join(store.dir, `incoming-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(work, { recursive: true });
    let idxPath: string;
    let writer: PackWriter | undefined;
    try {
      writer = await PackWriter.create(join(work, 'gc.pack'));
      let n = 0;
      const add = async (type: ObjectType, id: string, data: Buffer) => {
        decodeLoose(data, id, type);
        await writer!.add(type, id, data);
        if (++n % 1000 === 0) onProgress?.(n);
      };
      // Blocking reads, one after another (a thread-pool round trip per object cost more than the read).
      for (const o of loose) await add(o.type, o.id, store.readDataSync(o.id, o.type));
      for (const pack of old) for (const e of pack.entries()) await add(e.type, e.id, pack.readDataSync(e.id, e));
      idxPath = await writer.finish(store.packsDir);
      writer = undefined;
    } catch (e) {
      await writer?.abort();
      throw e;
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
    store.refreshPacks();
    const packPath = idxPath.replace(/\.idx$/, '.pack');
    const packBytes = (await fsp.stat(packPath)).size;
    const packed = store.currentPacks().find((p) => p.packPath === packPath)?.count ?? 0;

    // Everything is in the new pack now: remove what it replaced (an index first, so no reader
    // finds an index without its pack).
    const fans = new Set<string>();
    await forEachLimit(loose, 16, async (o) => {
      const path = store.pathOf(o.id, o.type);
      fans.add(dirname(path));
      await fsp.rm(path, { force: true });
    });
    for (const dir of fans) await fsp.rmdir(dir).catch(() => undefined); // only if empty
    let packsRemoved = 0;
    for (const pack of old) {
      if (pack.packPath === packPath) continue;
      await fsp.rm(pack.packPath.replace(/\.pack$/, '.idx'), { force: true });
      await fsp.rm(pack.packPath, { force: true });
      packsRemoved++;
    }
    store.refreshPacks();
    return { packed, looseRemoved: loose.length, packsRemoved, packBytes };
  });
}
