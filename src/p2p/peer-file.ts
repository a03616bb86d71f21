/**
 * `.patch/peer.json`: where this repository's running peer (`patchwork start` or the extension)
 * listens. It is created exclusively, like the repository lock (src/engine/lock.ts): a file whose
 * process is gone (same host) is stale and taken over; a live one means a second peer must not start.
 * Other commands read it to learn this repository's own addresses (for invites, and to tell peers
 * where to reach us).
 *
 * Claiming and updating it (on the path to a peer listening) use synchronous file calls: the file is
 * a few hundred bytes, while each asynchronous call is a trip through libuv's thread pool, which is
 * shared by the whole process. In the extension host (the peer runs in a worker thread there) that
 * pool is busy with the editor's own file I/O while VS Code starts: in the start-up timeline
 * (test/vscode/measure-startup.ts) the update alone, four trips, waited up to 80 ms behind it.
 */
import { closeSync, openSync, promises as fsp, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PatchworkError, Repository, processAlive } from '../engine/index.js';

export interface PeerFile {
  pid: number;
  host: string;
  peerId: string;
  addresses: string[];
  started: string;
  /** Who runs it: "cli" (`patchwork start`) or "vscode". */
  owner: string;
}

export function peerFilePath(repo: Repository | string): string {
  return join(typeof repo === 'string' ? repo : repo.patchDir, 'peer.json');
}

export async function readPeerFile(repo: Repository | string): Promise<PeerFile | undefined> {
  try {
    const v = JSON.parse(await fsp.readFile(peerFilePath(repo), 'utf8')) as PeerFile;
    return typeof v.pid === 'number' && Array.isArray(v.addresses) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The running peer of this repository, if one is alive (a stale file is ignored). */
export async function runningPeer(repo: Repository | string): Promise<PeerFile | undefined> {
  const f = await readPeerFile(repo);
  if (!f) return undefined;
  if (f.host === hostname() && !processAlive(f.pid)) return undefined;
  return f;
}

export class PeerFileHandle {
  private released = false;
  constructor(
    readonly path: string,
    private info: PeerFile,
  ) {}

  async update(addresses: string[]): Promise<void> {
    this.info = { ...this.info, addresses };
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.info, null, 2) + '\n');
    renameSync(tmp, this.path);
  }

  /** Remove the file if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    let cur: PeerFile | undefined;
    try {
      cur = JSON.parse(await fsp.readFile(this.path, 'utf8')) as PeerFile;
    } catch {
      return;
    }
    if (cur.pid === process.pid && cur.started === this.info.started) await fsp.rm(this.path, { force: true });
  }
}

/** Claim the repository's peer slot, or fail with where the running peer is. */
export async function claimPeerFile(repo: Repository, peerId: string, owner: string): Promise<PeerFileHandle> {
  const path = peerFilePath(repo);
  const info: PeerFile = { pid: process.pid, host: hostname(), peerId, addresses: [], started: new Date().toISOString(), owner };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeFileSync(fd, JSON.stringify(info, null, 2) + '\n');
      } finally {
        closeSync(fd);
      }
      return new PeerFileHandle(path, info);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const cur = await readPeerFile(repo);
    if (cur && cur.host === info.host && !processAlive(cur.pid)) {
      await fsp.rm(path, { force: true }); // stale: its process is gone
      continue;
    }
    if (!cur) {
      const st = await fsp.stat(path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 10_000) {
        await fsp.rm(path, { force: true }); // unreadable and old: stale
        continue;
      }
      await new Promise((r) => setTimeout(r, 50)); // being written right now
      continue;
    }
    const where = cur.addresses.length ? cur.addresses.join(', ') : '(addresses not known yet)';
    throw new PatchworkError(
      'LOCKED',
      `A peer for this repository is already running (${cur.owner === 'vscode' ? 'in VS Code, ' : ''}process ${cur.pid}${cur.host !== info.host ? ` on ${cur.host}` : ''}), listening on ${where}.`,
      `Stop it first (Ctrl-C in its terminal, or kill ${cur.pid}); if no peer is running, remove ${path}.`,
      { pid: cur.pid, host: cur.host, addresses: cur.addresses },
    );
  }
  throw new PatchworkError('LOCKED', `Could not claim ${path}.`, `If no peer is running, remove ${path}.`);
}
