import { promises as fsp, open as openCb, readFile as readFileCb, rename as renameCb, unlink as unlinkCb, writeFile as writeFileCb } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join, basename } from 'node:path';
import { errnoCode } from './errors';

let counter = 0;

/** Write a file atomically: temp file in the same directory, then rename over the target. */
export async function atomicWrite(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++counter}.tmp`);
  try {
    // The callback flavour: fs.promises.writeFile writes in 512 KiB chunks, a thread-pool round trip
    // each, and the index of a 20k-file repository is 2.5 MB.
    await writeFileFast(tmp, typeof data === 'string' ? Buffer.from(data) : data, { mode });
    await renameFast(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Run `fn` over items with at most `limit` in flight (file I/O: keeps libuv's pool busy, not flooded). */
/** On the first failure no new item starts; it rejects once every item in flight has settled. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * The callback flavour of fs, promisified. For the many-small-files paths (add, checkout) it is
 * measured 25-35% faster than fs.promises, whose writeFile goes through a FileHandle with more
 * work per call (2,000 files: 300 ms against 400-500 ms on the benchmark machine).
 */
export const writeFileFast: (path: string, data: Uint8Array, options: { mode: number }) => Promise<void> = promisify(writeFileCb);
export const renameFast: (from: string, to: string) => Promise<void> = promisify(renameCb);
export const readFileFast: (path: string) => Promise<Buffer> = promisify(readFileCb);
export const openFast: (path: string, flags: string, mode: number) => Promise<number> = promisify(openCb);
export const unlinkFast: (path: string) => Promise<void> = promisify(unlinkCb);
