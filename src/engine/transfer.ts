import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { PatchworkError } from './errors';
import { ObjectType, isObjectId, objectId } from './hash';
import { Commit, decodeCommit, decodeTree, validateObject } from './objects';
import { processAlive } from './lock';
import { Repository } from './repository';
import { LooseObjectStore, ObjectStore, StoredObject, TYPE_DIRS, missingObject } from './store';

/**
 * What the p2p layer needs from the engine to move history between repositories, without knowing
 * anything about the network: which commits to offer as "haves", which objects to send for a set of
 * "wants", and a quarantine that verifies everything received before it touches the repository.
 */

/** Largest object accepted from a peer (a blob of 256 MiB; trees and commits are far smaller). */
export const MAX_INCOMING_OBJECT = 256 * 1024 * 1024;
export const MAX_INCOMING_TREE_OR_COMMIT = 16 * 1024 * 1024;

/**
 * A bounded sample of local history for negotiation: every tip, the first `dense` commits below each
 * tip, then commits at exponentially growing distances (like git's skipping negotiator), at most `limit`.
 */
export async function negotiationHaves(repo: Repository, tips: string[], limit = 256, dense = 16): Promise<string[]> {
  const out = new Set<string>();
  for (const tip of tips) {
    if (out.size >= limit) break;
    let cur: string | undefined = tip;
    let step = 1;
    let distance = 0;
    let nextTake = 0;
    const seen = new Set<string>();
    while (cur && out.size < limit && !seen.has(cur)) {
      seen.add(cur);
      if (distance === nextTake) {
        out.add(cur);
        if (distance >= dense) step *= 2;
        nextTake = distance + step;
      }
      const c: Commit | undefined = await repo.readCommit(cur).catch(() => undefined);
      cur = c?.parents[0];
      distance++;
    }
  }
  return [...out];
}

export interface OutgoingObject {
  type: ObjectType;
  id: string;
  body: Buffer;
}

/**
 * Every object reachable from `wants` that the other side does not have, given the `haves` it sent:
 * commits not reachable from a known have, and the trees and blobs of those commits that are not in
 * the trees of the boundary commits. Yields commits first (newest first), then trees and blobs in
 * walk order, one object at a time (memory holds ids, not bodies).
 */
export async function* objectsToSend(repo: Repository, wants: string[], haves: string[], signal?: AbortSignal): AsyncGenerator<OutgoingObject> {
  const known = new Set<string>();
  for (const h of haves) if (isObjectId(h) && (await repo.store.has(h, 'commit'))) known.add(h);
  // Everything reachable from a common commit is on the other side already.
  const common = new Set<string>();
  const stack = [...known];
  while (stack.length) {
    const id = stack.pop()!;
    if (common.has(id)) continue;
    common.add(id);
    for (const p of (await repo.readCommit(id)).parents) if (!common.has(p)) stack.push(p);
  }
  const commits: string[] = [];
  const boundary = new Set<string>();
  const seen = new Set<string>();
  const walk = wants.filter((w) => !common.has(w));
  while (walk.length) {
    const id = walk.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    commits.push(id);
    for (const p of (await repo.readCommit(id)).parents) {
      if (common.has(p)) boundary.add(p);
      else if (!seen.has(p)) walk.push(p);
    }
  }
  // Objects the receiver has: everything in the trees of boundary commits.
  const uninteresting = new Set<string>();
  const markTree = async (treeId: string): Promise<void> => {
    if (uninteresting.has(treeId)) return;
    uninteresting.add(treeId);
    for (const e of await repo.readTree(treeId)) {
      if (e.mode === '40000') await markTree(e.id);
      else uninteresting.add(e.id);
    }
  };
  for (const b of boundary) await markTree((await repo.readCommit(b)).tree);

  for (const id of commits) {
    signal?.throwIfAborted();
    yield { type: 'commit', id, body: (await repo.store.read(id, 'commit')).body };
  }
  const sent = new Set<string>(uninteresting);
  const sendTree = async function* (treeId: string): AsyncGenerator<OutgoingObject> {
    if (sent.has(treeId)) return;
    sent.add(treeId);
    const { body } = await repo.store.read(treeId, 'tree');
    yield { type: 'tree', id: treeId, body };
    for (const e of decodeTree(body, treeId)) {
      signal?.throwIfAborted();
      if (e.mode === '40000') yield* sendTree(e.id);
      else if (!sent.has(e.id)) {
        sent.add(e.id);
        yield { type: 'blob', id: e.id, body: (await repo.store.read(e.id, 'blob')).body };
      }
    }
  };
  for (const id of commits) yield* sendTree((await repo.readCommit(id)).tree);
}

/** Reads from the quarantine first, then from the repository's store. */
class OverlayStore implements ObjectStore {
  constructor(
    private readonly top: LooseObjectStore,
    private readonly base: ObjectStore,
  ) {}
  async has(id: string, type?: ObjectType) {
    return (await this.top.has(id, type)) || this.base.has(id, type);
  }
  async read(id: string, type?: ObjectType): Promise<StoredObject> {
    if (await this.top.has(id, type)) return this.top.read(id, type);
    return this.base.read(id, type);
  }
  write(type: ObjectType, body: Buffer) {
    return this.top.write(type, body);
  }
  list(type?: ObjectType) {
    return this.top.list(type);
  }
  findByPrefix(prefix: string, type: ObjectType) {
    return this.top.findByPrefix(prefix, type);
  }
}

/**
 * Objects arriving from a peer land here first: each one is re-hashed, size-checked and strictly
 * parsed on arrival, stored in a private folder under `.patch/objects/`, and checked for connectivity
 * (every new tip and everything it references present) before `accept()` moves it into the store.
 * `discard()` (or any failure) leaves the repository byte-for-byte as it was.
 */
export class Quarantine {
  readonly store: LooseObjectStore;
  readonly view: ObjectStore;
  private readonly received = new Set<string>();
  private done = false;
  objects = 0;
  bytes = 0;

  private constructor(
    private readonly repo: Repository,
    readonly dir: string,
  ) {
    this.store = new LooseObjectStore(dir);
    this.view = new OverlayStore(this.store, repo.store);
  }

  static async create(repo: Repository): Promise<Quarantine> {
    // Leftovers of a transfer whose process died are removed: they were never accepted.
    for (const name of await fsp.readdir(join(repo.patchDir, 'objects')).catch(() => [] as string[])) {
      const pid = Number(/^incoming-(\d+)-/.exec(name)?.[1]);
      if (pid && pid !== process.pid && !processAlive(pid)) await fsp.rm(join(repo.patchDir, 'objects', name), { recursive: true, force: true });
    }
    const dir = join(repo.patchDir, 'objects', `incoming-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(join(dir, 'tmp'), { recursive: true });
    return new Quarantine(repo, dir);
  }

  /** Verify and store one incoming object. Throws CORRUPT_OBJECT for anything wrong. */
  async receive(type: ObjectType, id: string, body: Buffer): Promise<void> {
    if (this.done) throw new PatchworkError('INTERNAL', 'This quarantine is closed.');
    if (!isObjectId(id)) throw incoming(id, 'its id is not 64 hex digits');
    const max = type === 'blob' ? MAX_INCOMING_OBJECT : MAX_INCOMING_TREE_OR_COMMIT;
    if (body.length > max) throw incoming(id, `it is larger than ${max} bytes`);
    if (objectId(type, body) !== id) throw incoming(id, 'its content does not match its id');
    validateObject(type, body, id);
    if (this.received.has(id) || (await this.repo.store.has(id, type))) return;
    this.received.add(id);
    await this.store.write(type, body);
    this.objects++;
    this.bytes += body.length;
  }

  /**
   * Every tip and everything it references must be present (received or already stored). Objects
   * already in the repository's store are trusted to be complete, as git does.
   */
  async checkConnected(tips: string[]): Promise<void> {
    const seen = new Set<string>();
    const need = async (id: string, type: ObjectType): Promise<boolean> => {
      if (seen.has(id)) return false;
      seen.add(id);
      if (await this.repo.store.has(id, type)) return false; // already ours: connected
      if (!(await this.store.has(id, type))) throw missingObject(id, type);
      return true;
    };
    const commits = [...tips];
    while (commits.length) {
      const id = commits.pop()!;
      if (!(await need(id, 'commit'))) continue;
      const c = decodeCommit((await this.store.read(id, 'commit')).body, id);
      commits.push(...c.parents);
      const trees = [c.tree];
      while (trees.length) {
        const t = trees.pop()!;
        if (!(await need(t, 'tree'))) continue;
        for (const e of decodeTree((await this.store.read(t, 'tree')).body, t)) {
          if (e.mode === '40000') trees.push(e.id);
          else await need(e.id, 'blob');
        }
      }
    }
  }

  /** Move every received object into the repository's store, then remove the quarantine. */
  async accept(): Promise<void> {
    this.done = true;
    const main = this.repo.store as LooseObjectStore;
    for (const type of Object.keys(TYPE_DIRS) as ObjectType[]) {
      for await (const { id } of this.store.list(type)) {
        const target = main.pathOf(id, type);
        await fsp.mkdir(join(target, '..'), { recursive: true });
        await fsp.rename(this.store.pathOf(id, type), target);
      }
    }
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  async discard(): Promise<void> {
    this.done = true;
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}

function incoming(id: string, why: string): PatchworkError {
  return new PatchworkError('CORRUPT_OBJECT', `A peer sent a bad object ${id.slice(0, 12)}: ${why}.`, 'The transfer was aborted; nothing was changed.', { id });
}
