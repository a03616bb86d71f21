import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { PatchworkError, isPatchworkError } from './errors';
import { ObjectType, isObjectId } from './hash';
import { Commit, TreeEntry, decodeCommit, decodeTree } from './objects';
import { DateQueue } from './commands/merge-base';
import { processAlive } from './lock';
import { PackWriter } from './pack';
import { Repository } from './repository';
import { DiskObjectStore, decodeFramed, decodeLoose, missingObject } from './store';

/**
 * What the p2p layer needs from the engine to move history between repositories, without knowing
 * anything about the network: which commits to offer as "haves", which objects to send for a set of
 * "wants", and a quarantine that verifies everything received before it touches the repository.
 */

/** Largest object accepted from a peer (a blob of 256 MiB; trees and commits are far smaller). */
export const MAX_INCOMING_OBJECT = 256 * 1024 * 1024;
export const MAX_INCOMING_TREE_OR_COMMIT = 16 * 1024 * 1024;
/** Largest stored (deflated) form accepted for an object of the largest size: deflate can grow data a little. */
export function maxIncomingData(type: ObjectType): number {
  const max = type === 'blob' ? MAX_INCOMING_OBJECT : MAX_INCOMING_TREE_OR_COMMIT;
  return max + Math.ceil(max / 1000) + 1024;
}
/** A transfer with fewer objects than this is stored as loose objects, a bigger one as a pack (git's unpackLimit). */
export const UNPACK_LIMIT = 100;
/** Objects read ahead, in parallel, while sending, and the most bytes they may hold. */
const READ_AHEAD = 32;
const READ_AHEAD_BYTES = 32 * 1024 * 1024;
/** Objects stored in at most this many bytes are read with a blocking call. */
const SYNC_READ_MAX = 256 * 1024;

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
  /** The object as stored (zlib of `<type> <size>\0<body>`): sent as it is, verified by the receiver. */
  data: Buffer;
}

/** Commits walked past the point where every queued one is known to the receiver (clock skew). */
const WALK_SLOP = 5;

/**
 * The commits reachable from `wants` and not from `haves` (those the other side has: each has been
 * checked to be in our store), newest first. Like git's limited revision walk: commits are visited
 * newest first by committer date, "known to the receiver" spreads from the haves to their ancestors,
 * and the walk stops a few commits after everything still queued is known, so a pull reads the
 * commits since the last one instead of the whole history. Clock skew can only make it send a commit
 * the receiver already has, never leave one out.
 */
export async function commitsToSend(repo: Repository, wants: string[], haves: string[]): Promise<string[]> {
  const KNOWN = 1;
  const POPPED = 2;
  const flags = new Map<string, number>();
  const queue = new DateQueue();
  let unknownQueued = 0;
  const enqueue = async (id: string, f: number) => {
    flags.set(id, f);
    queue.push(id, (await repo.readCommit(id)).committer.timestamp);
    if (!(f & KNOWN)) unknownQueued++;
  };
  // Mark a commit known, and every ancestor the walk has already gone through.
  const markKnown = async (start: string) => {
    const stack = [start];
    while (stack.length) {
      const id = stack.pop()!;
      const f = flags.get(id);
      if (f === undefined) await enqueue(id, KNOWN);
      else if (!(f & KNOWN)) {
        flags.set(id, f | KNOWN);
        if (!(f & POPPED)) unknownQueued--;
        else stack.push(...(await repo.readCommit(id)).parents);
      }
    }
  };
  for (const h of haves) if (!flags.has(h)) await enqueue(h, KNOWN);
  for (const w of wants) if (!flags.has(w)) await enqueue(w, 0);
  const visited: string[] = [];
  let slop = WALK_SLOP;
  while (queue.size) {
    if (unknownQueued > 0) slop = WALK_SLOP;
    else if (slop-- === 0) break;
    const id = queue.pop();
    const f = flags.get(id)! | POPPED;
    flags.set(id, f);
    const { parents } = await repo.readCommit(id);
    if (f & KNOWN) {
      for (const p of parents) await markKnown(p);
    } else {
      unknownQueued--;
      visited.push(id);
      for (const p of parents) if (!flags.has(p)) await enqueue(p, 0);
    }
  }
  return visited.filter((id) => !(flags.get(id)! & KNOWN));
}

/**
 * Every object reachable from `wants` that the other side does not have, given the `haves` it sent:
 * the commits of `commitsToSend`, then for each of them the trees and blobs that differ from its
 * parents' at the same path (git's sparse walk). Every parent is either sent too or known to the
 * receiver with everything it references, so only the paths a commit changed are read: a pull of one
 * commit into a 20,000-file tree reads a handful of trees. Yields commits first, then trees and
 * blobs in walk order, one object at a time (memory holds ids, not bodies). A directory moved
 * elsewhere is sent again, as git's sparse walk does.
 */
export async function* objectsToSend(repo: Repository, wants: string[], haves: string[], signal?: AbortSignal): AsyncGenerator<OutgoingObject> {
  const known: string[] = [];
  for (const h of haves) if (isObjectId(h) && (await repo.store.has(h, 'commit'))) known.push(h);
  const commits = await commitsToSend(repo, wants, known);
  // Commits, trees and small blobs are read with one blocking call each (from the page cache, in the
  // usual case): measured here, a thread-pool round trip per object cost more than the read itself.
  // A blob of unknown size (a loose one) or a large one is read in the thread pool.
  const store = repo.store;
  const read = async (id: string, type: ObjectType, blobSize?: number): Promise<Buffer> =>
    store.readDataSync && (blobSize === undefined || (blobSize > 0 && blobSize <= SYNC_READ_MAX)) ? store.readDataSync(id, type) : store.readData(id, type);
  for (const id of commits) {
    signal?.throwIfAborted();
    yield { type: 'commit', id, data: await read(id, 'commit') };
  }
  // Trees in walk order, each followed by the blobs it brings in; blob reads run ahead in parallel.
  // `theirs` are the trees at the same path in the commit's parents: the receiver has them, or gets
  // them with the parent, and a tree that was sent once brought everything under it.
  const sent = new Set<string>();
  const walkTree = async function* (treeId: string, theirs: string[]): AsyncGenerator<ReadTask<OutgoingObject>> {
    if (sent.has(treeId) || theirs.includes(treeId)) return;
    sent.add(treeId);
    const data = await read(treeId, 'tree');
    const { body } = decodeLoose(data, treeId, 'tree');
    yield { bytes: data.length, run: () => Promise.resolve({ type: 'tree', id: treeId, data }) };
    const other = new Map<string, TreeEntry[]>();
    for (const t of theirs) for (const e of await repo.readTree(t)) other.set(e.name, [...(other.get(e.name) ?? []), e]);
    for (const e of decodeTree(body, treeId)) {
      signal?.throwIfAborted();
      const same = other.get(e.name);
      if (same?.some((o) => o.id === e.id)) continue;
      if (e.mode === '40000') yield* walkTree(e.id, same?.filter((o) => o.mode === '40000').map((o) => o.id) ?? []);
      else if (!sent.has(e.id)) {
        sent.add(e.id);
        const bytes = store.dataSize(e.id, 'blob');
        yield { bytes, run: async () => ({ type: 'blob', id: e.id, data: await read(e.id, 'blob', bytes) }) };
      }
    }
  };
  const trees = async function* () {
    for (const id of commits) {
      const c = await repo.readCommit(id);
      const parentTrees: string[] = [];
      for (const p of c.parents) parentTrees.push((await repo.readCommit(p)).tree);
      yield* walkTree(c.tree, parentTrees);
    }
  };
  yield* readAhead(trees(), READ_AHEAD, READ_AHEAD_BYTES);
}

export interface ReadTask<T> {
  /** What the result will hold in memory. */
  bytes: number;
  run: () => Promise<T>;
}

/**
 * Run tasks ahead of the consumer, at most `n` at once and `maxBytes` between them (a single larger
 * task still runs, alone), yielding their results in order.
 */
export async function* readAhead<T>(tasks: AsyncIterable<ReadTask<T>>, n: number, maxBytes: number): AsyncGenerator<T> {
  const queue: { p: Promise<T>; bytes: number }[] = [];
  let held = 0;
  const next = async () => {
    const { p, bytes } = queue.shift()!;
    held -= bytes;
    return p;
  };
  for await (const task of tasks) {
    while (queue.length >= n || (queue.length > 0 && held + task.bytes > maxBytes)) yield await next();
    const p = task.run();
    p.catch(() => undefined); // awaited in order; this only keeps an early failure from going unhandled
    queue.push({ p, bytes: task.bytes });
    held += task.bytes;
  }
  while (queue.length) yield await next();
}

/**
 * Objects arriving from a peer land here first: each one is inflated (up to the size limit), re-hashed
 * and strictly parsed on arrival, appended to a pack in a private folder under `.patch/objects/`, and
 * checked for connectivity (every new tip and everything it references present) before `accept()`
 * puts it in the store: as a pack, or as loose objects when there are only a few. `discard()` (or any
 * failure) leaves the repository byte-for-byte as it was.
 */
export class Quarantine {
  private done = false;
  objects = 0;
  bytes = 0;

  private constructor(
    private readonly repo: Repository,
    readonly dir: string,
    private readonly pack: PackWriter,
  ) {}

  static async create(repo: Repository): Promise<Quarantine> {
    // Leftovers of a transfer whose process died are removed: they were never accepted.
    for (const name of await fsp.readdir(join(repo.patchDir, 'objects')).catch(() => [] as string[])) {
      const pid = Number(/^incoming-(\d+)-/.exec(name)?.[1]);
      if (pid && pid !== process.pid && !processAlive(pid)) await fsp.rm(join(repo.patchDir, 'objects', name), { recursive: true, force: true });
    }
    const dir = join(repo.patchDir, 'objects', `incoming-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(dir, { recursive: true });
    try {
      return new Quarantine(repo, dir, await PackWriter.create(join(dir, 'incoming.pack')));
    } catch (e) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Verify and keep one incoming object, given as stored (zlib of `<type> <size>\0<body>`). Throws
   * CORRUPT_OBJECT for anything wrong: data that does not inflate or inflates past the size limit, a
   * header that does not match, content that does not hash to `id`, a tree or commit that does not parse.
   */
  async receive(type: ObjectType, id: string, data: Buffer): Promise<void> {
    if (this.done) throw new PatchworkError('INTERNAL', 'This quarantine is closed.');
    if (!isObjectId(id)) throw incoming(id, 'its id is not 64 hex digits');
    const max = type === 'blob' ? MAX_INCOMING_OBJECT : MAX_INCOMING_TREE_OR_COMMIT;
    if (data.length > maxIncomingData(type)) throw incoming(id, `it is larger than ${max} bytes`);
    let framed: Buffer;
    try {
      // The header is at most 20 bytes; a body past the limit stops the inflate early.
      framed = inflateSync(data, { maxOutputLength: max + 32 });
    } catch (e) {
      throw incoming(id, e instanceof RangeError ? `it is larger than ${max} bytes` : 'it does not inflate');
    }
    let body: Buffer;
    try {
      body = decodeFramed(framed, id, type);
    } catch (e) {
      if (isPatchworkError(e, 'CORRUPT_OBJECT')) throw incoming(id, (e.data as { problem?: string }).problem ?? 'it is malformed');
      throw e;
    }
    if (body.length > max) throw incoming(id, `it is larger than ${max} bytes`);
    if (await this.pack.add(type, id, data)) {
      this.objects++;
      this.bytes += body.length;
    }
  }

  private async readIncoming(id: string, type: ObjectType): Promise<Buffer> {
    const data = await this.pack.readData(id, type);
    if (!data) throw missingObject(id, type);
    return decodeLoose(data, id, type).body;
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
      if (this.pack.has(id, type)) return true;
      if (await this.repo.store.has(id, type)) return false; // already ours: connected
      throw missingObject(id, type);
    };
    const commits = [...tips];
    while (commits.length) {
      const id = commits.pop()!;
      if (!(await need(id, 'commit'))) continue;
      const c = decodeCommit(await this.readIncoming(id, 'commit'), id);
      commits.push(...c.parents);
      const trees = [c.tree];
      while (trees.length) {
        const t = trees.pop()!;
        if (!(await need(t, 'tree'))) continue;
        for (const e of decodeTree(await this.readIncoming(t, 'tree'), t)) {
          if (e.mode === '40000') trees.push(e.id);
          else await need(e.id, 'blob');
        }
      }
    }
  }

  /**
   * Put every received object in the repository's store, then remove the quarantine: a transfer of
   * UNPACK_LIMIT objects or more stays one pack, a smaller one becomes loose objects (so pulls of a
   * commit or two do not pile up tiny packs).
   */
  async accept(): Promise<void> {
    this.done = true;
    const main = this.repo.store as DiskObjectStore;
    if (this.pack.count >= UNPACK_LIMIT) {
      await this.pack.finish(main.packsDir);
      main.refreshPacks();
    } else {
      for (const [id, e] of this.pack.ids()) {
        if (existsSync(main.pathOf(id, e.type))) continue;
        const data = await this.pack.readData(id, e.type);
        await main.writeData(e.type, id, data!);
      }
      await this.pack.abort();
    }
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  async discard(): Promise<void> {
    this.done = true;
    await this.pack.abort();
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}

function incoming(id: string, why: string): PatchworkError {
  return new PatchworkError('CORRUPT_OBJECT', `A peer sent a bad object ${id.slice(0, 12)}: ${why}.`, 'The transfer was aborted; nothing was changed.', { id });
}
