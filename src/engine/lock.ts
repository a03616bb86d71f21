import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { PatchworkError, errnoCode } from './errors';

/**
 * The repository lock: `.patch/lock`, created exclusively, holding the owner's pid, host and
 * operation. Every command that writes the index or refs holds it. A lock whose process is gone
 * (same host) is stale and is taken over; a live one gives "locked by process N".
 */
export interface LockInfo {
  pid: number;
  host: string;
  operation: string;
}

/** Is a process with this pid running (on this machine)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

export async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

export async function acquireLock(path: string, operation: string, waitMs = 1000): Promise<() => Promise<void>> {
  const me: LockInfo = { pid: process.pid, host: hostname(), operation };
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await fsp.open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(me));
      } finally {
        await fh.close();
      }
      return async () => {
        await fsp.rm(path, { force: true });
      };
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
    const holder = await readLock(path);
    if (holder && holder.host === me.host && !processAlive(holder.pid)) {
      // Stale: its process is gone. Remove it only if it is still the same lock.
      const again = await readLock(path);
      if (again && again.pid === holder.pid) await fsp.rm(path, { force: true });
      continue;
    }
    if (!holder) {
      // Being written right now, or unreadable: a lock with no readable owner older than 10 s is stale.
      const st = await fsp.stat(path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 10_000) {
        await fsp.rm(path, { force: true });
        continue;
      }
    }
    if (Date.now() >= deadline) {
      const who = holder ? `process ${holder.pid}${holder.host !== me.host ? ` on ${holder.host}` : ''} (${holder.operation})` : 'another process';
      throw new PatchworkError(
        'LOCKED',
        `The repository is locked by ${who}.`,
        `Wait for it to finish. If no Patchwork process is running, remove ${path}.`,
        { holder },
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
