import { PatchworkError } from '../errors';
import { Repository } from '../repository';

/**
 * Merge bases: the best common ancestors of two sets of commits, found like git's
 * `paint_down_to_common`. Commits are visited newest first (by committer date); each carries the
 * sides that reach it, and once a commit is reached from both sides its ancestors are "stale". The
 * walk stops as soon as every commit still queued is stale, so it only visits the part of history
 * where the two sides differ, and a hard limit bounds it on hostile or enormous histories.
 *
 * In a criss-cross history there are several best bases; all are returned (sorted by id) and the
 * merge combines them into one virtual base (see `virtualBase` in merge-trees.ts).
 */

export interface MergeBaseOptions {
  /** Give up (HISTORY_LIMIT) after visiting this many commits. */
  limit?: number;
}

export const DEFAULT_WALK_LIMIT = 1_000_000;
/** Clock skew tolerated when deciding that one candidate cannot reach another (seconds). */
const SLOP_SECONDS = 24 * 3600;

const LEFT = 1;
const RIGHT = 2;
const STALE = 4;
const RESULT = 8;

/** A max-heap of commit ids keyed by committer timestamp. */
export class DateQueue {
  private readonly heap: { id: string; t: number }[] = [];
  get size(): number {
    return this.heap.length;
  }
  ids(): string[] {
    return this.heap.map((e) => e.id);
  }
  peekTime(): number {
    return this.heap[0].t;
  }
  push(id: string, t: number): void {
    const h = this.heap;
    h.push({ id, t });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].t >= h[i].t) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }
  pop(): string {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].t > h[m].t) m = l;
        if (r < h.length && h[r].t > h[m].t) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top.id;
  }
}

function tooLong(limit: number): PatchworkError {
  return new PatchworkError(
    'HISTORY_LIMIT',
    `Gave up looking for a common ancestor after ${limit} commits.`,
    'The two histories are very far apart; check that you are merging the right revision.',
    { limit },
  );
}

/** Best common ancestors of `left` and `right` (each one or more commit ids), sorted by id. */
export async function mergeBasesOf(repo: Repository, left: string[], right: string[], opts: MergeBaseOptions = {}): Promise<string[]> {
  const limit = opts.limit ?? DEFAULT_WALK_LIMIT;
  for (const l of left) if (right.includes(l)) return [l];
  const flags = new Map<string, number>();
  const queue = new DateQueue();
  const time = async (id: string) => (await repo.readCommit(id)).committer.timestamp;
  for (const id of left) {
    flags.set(id, (flags.get(id) ?? 0) | LEFT);
    queue.push(id, await time(id));
  }
  for (const id of right) {
    flags.set(id, (flags.get(id) ?? 0) | RIGHT);
    queue.push(id, await time(id));
  }
  const found: string[] = [];
  let visited = 0;
  const hasNonStale = () => queue.ids().some((id) => !((flags.get(id) ?? 0) & STALE));
  while (queue.size && hasNonStale()) {
    if (++visited > limit) throw tooLong(limit);
    const id = queue.pop();
    let f = (flags.get(id) ?? 0) & (LEFT | RIGHT | STALE);
    if ((f & (LEFT | RIGHT)) === (LEFT | RIGHT)) {
      if (!((flags.get(id) ?? 0) & RESULT)) {
        flags.set(id, (flags.get(id) ?? 0) | RESULT);
        found.push(id);
      }
      f |= STALE;
    }
    for (const p of (await repo.readCommit(id)).parents) {
      const pf = flags.get(p) ?? 0;
      if ((pf & f) === f) continue;
      flags.set(p, pf | f);
      queue.push(p, await time(p));
    }
  }
  const bases = found.filter((id) => !((flags.get(id) ?? 0) & STALE));
  return (await removeRedundant(repo, bases, limit)).sort();
}

/** Best common ancestors of two commits. */
export async function mergeBases(repo: Repository, a: string, b: string, opts: MergeBaseOptions = {}): Promise<string[]> {
  return mergeBasesOf(repo, [a], [b], opts);
}

/** One best common ancestor (the first by id when there are several), or undefined for unrelated histories. */
export async function mergeBase(repo: Repository, a: string, b: string, opts: MergeBaseOptions = {}): Promise<string | undefined> {
  return (await mergeBases(repo, a, b, opts))[0];
}

/**
 * Drop candidates that are ancestors of other candidates. Each walk stops below the oldest other
 * candidate's date (with a day of slack for skewed clocks).
 */
async function removeRedundant(repo: Repository, candidates: string[], limit: number): Promise<string[]> {
  if (candidates.length < 2) return candidates;
  const redundant = new Set<string>();
  const times = new Map<string, number>();
  for (const c of candidates) times.set(c, (await repo.readCommit(c)).committer.timestamp);
  for (const c of candidates) {
    if (redundant.has(c)) continue;
    const others = candidates.filter((o) => o !== c && !redundant.has(o));
    if (!others.length) break;
    const floor = Math.min(...others.map((o) => times.get(o)!)) - SLOP_SECONDS;
    const targets = new Set(others);
    const seen = new Set<string>([c]);
    const queue = new DateQueue();
    for (const p of (await repo.readCommit(c)).parents) {
      if (!seen.has(p)) {
        seen.add(p);
        queue.push(p, (await repo.readCommit(p)).committer.timestamp);
      }
    }
    let visited = 0;
    while (queue.size && queue.peekTime() >= floor) {
      if (++visited > limit) throw tooLong(limit);
      const id = queue.pop();
      if (targets.has(id)) redundant.add(id);
      for (const p of (await repo.readCommit(id)).parents) {
        if (!seen.has(p)) {
          seen.add(p);
          queue.push(p, (await repo.readCommit(p)).committer.timestamp);
        }
      }
    }
  }
  return candidates.filter((c) => !redundant.has(c));
}
