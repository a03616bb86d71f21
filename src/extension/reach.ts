/**
 * Which commits one set of tips has that another lacks, for the sync counts (`2↓ 1↑`) and the
 * Collaborators view. Pure (commits are read through `readCommit`), so the node tests check it.
 *
 * A walk from both sides at once, newest committer date first, painting each commit with the
 * side(s) it is reachable from; it stops once everything still queued is reachable from both sides
 * and older than every one-sided commit seen (the merge bases have been passed), so the cost is the
 * commits since the sides parted, not the whole history. A commit that gains a side after it was
 * walked is walked again, and a one-sided commit with an old date keeps the walk going, so a clock
 * that went backwards costs time rather than wrong counts. `limit` bounds the walk for huge
 * divergences; the lists are then incomplete (`capped`).
 */

export interface CommitLike {
  readonly parents: readonly string[];
  readonly committer: { readonly timestamp: number };
}

export interface Reach {
  /** Commits reachable from `a` but not from `b`, newest first. */
  readonly onlyA: readonly string[];
  /** Commits reachable from `b` but not from `a`, newest first. */
  readonly onlyB: readonly string[];
  /** The walk hit `limit`: the lists are incomplete. */
  readonly capped: boolean;
}

const A = 1;
const B = 2;
const BOTH = A | B;

export async function compareReach(
  readCommit: (id: string) => Promise<CommitLike>,
  a: readonly string[],
  b: readonly string[],
  limit = 20_000,
): Promise<Reach> {
  const flags = new Map<string, number>();
  const time = new Map<string, number>();
  // Queue sorted by committer time, newest last (pop() gives the newest).
  const queue: string[] = [];
  const queued = new Set<string>();
  let walked = 0;
  let capped = false;

  const enqueue = async (id: string, side: number) => {
    const before = flags.get(id) ?? 0;
    const after = before | side;
    if (after === before) return;
    flags.set(id, after);
    if (queued.has(id)) return;
    let t = time.get(id);
    if (t === undefined) {
      t = (await readCommit(id)).committer.timestamp;
      time.set(id, t);
    }
    let i = queue.length;
    while (i > 0 && time.get(queue[i - 1]!)! > t) i--;
    queue.splice(i, 0, id);
    queued.add(id);
  };

  for (const id of new Set(a)) await enqueue(id, A);
  for (const id of new Set(b)) await enqueue(id, B);

  /** Every queued commit is reachable from both sides and older than every one-sided commit seen. */
  const settled = () => {
    if (!queue.every((id) => flags.get(id) === BOTH)) return false;
    let oldestOneSided = Infinity;
    for (const [id, f] of flags) if (f !== BOTH) oldestOneSided = Math.min(oldestOneSided, time.get(id)!);
    return time.get(queue[queue.length - 1]!)! < oldestOneSided;
  };

  while (queue.length) {
    // With dates that only grow along history, nothing below the newest queued commit can reach
    // a one-sided commit once it is older than all of them: done. Otherwise keep painting.
    if (settled()) break;
    if (++walked > limit) {
      capped = true;
      break;
    }
    const id = queue.pop()!;
    queued.delete(id);
    const f = flags.get(id)!;
    for (const p of (await readCommit(id)).parents) await enqueue(p, f);
  }

  const onlyA: string[] = [];
  const onlyB: string[] = [];
  const byTime = [...flags.keys()].sort((x, y) => time.get(y)! - time.get(x)!);
  for (const id of byTime) {
    const f = flags.get(id);
    if (f === A) onlyA.push(id);
    else if (f === B) onlyB.push(id);
  }
  return { onlyA, onlyB, capped };
}
