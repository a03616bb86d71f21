import { Commit } from '../objects';
import { Repository } from '../repository';
import { mergeBasesOf } from './merge-base';
import { resolveRevision } from '../revparse';

export interface LogEntry {
  id: string;
  commit: Commit;
}

export interface LogOptions {
  /** Starting revisions (default HEAD). */
  revs?: string[];
  /** Stop after this many commits. */
  limit?: number;
  /** Only commits that change something under this repository path. */
  path?: string;
  /** Leave out commits reachable from these ids (`a..b`). */
  exclude?: string[];
}

/** Id of the tree entry at `path` inside a tree ('' is the tree itself), or undefined. */
export async function lookupPath(repo: Repository, treeId: string, path: string): Promise<{ id: string; mode: string } | undefined> {
  if (!path) return { id: treeId, mode: '40000' };
  let cur = treeId;
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const e = (await repo.readTree(cur)).find((x) => x.name === parts[i]);
    if (!e) return undefined;
    if (i === parts.length - 1) return { id: e.id, mode: e.mode };
    if (e.mode !== '40000') return undefined;
    cur = e.id;
  }
  return undefined;
}

/** Walk history newest first (by committer date, parents after children), like `git log`. */
export async function* walkLog(repo: Repository, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
  const starts: string[] = [];
  for (const r of opts.revs?.length ? opts.revs : ['HEAD']) starts.push(await resolveRevision(repo, r));
  const excluded = new Set<string>();
  for (const x of opts.exclude ?? []) for await (const id of ancestors(repo, x)) excluded.add(id);
  const seen = new Set<string>(starts);
  const queue: LogEntry[] = [];
  const push = async (id: string) => {
    const commit = await repo.readCommit(id);
    // Keep the queue sorted by committer time, newest last (so pop() gives the newest).
    let i = queue.length;
    while (i > 0 && queue[i - 1].commit.committer.timestamp > commit.committer.timestamp) i--;
    queue.splice(i, 0, { id, commit });
  };
  for (const s of starts) if (!excluded.has(s)) await push(s);
  let emitted = 0;
  while (queue.length) {
    const entry = queue.pop()!;
    for (const p of entry.commit.parents) {
      if (!seen.has(p) && !excluded.has(p)) {
        seen.add(p);
        await push(p);
      }
    }
    if (opts.path !== undefined && !(await touches(repo, entry.commit, opts.path))) continue;
    yield entry;
    if (opts.limit !== undefined && ++emitted >= opts.limit) return;
  }
}

async function touches(repo: Repository, c: Commit, path: string): Promise<boolean> {
  const mine = await lookupPath(repo, c.tree, path);
  if (!c.parents.length) return !!mine;
  for (const p of c.parents) {
    const theirs = await lookupPath(repo, (await repo.readCommit(p)).tree, path);
    if (mine?.id === theirs?.id && mine?.mode === theirs?.mode) return false; // same as a parent
  }
  return true;
}

/** Every commit reachable from `id` (including it). */
export async function* ancestors(repo: Repository, id: string): AsyncGenerator<string> {
  const seen = new Set<string>([id]);
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    yield cur;
    for (const p of (await repo.readCommit(cur)).parents) {
      if (!seen.has(p)) {
        seen.add(p);
        stack.push(p);
      }
    }
  }
}

/**
 * Is `a` an ancestor of (or equal to) `b`? Found as a merge base, so only the history between the two
 * is read, not everything below `b`.
 */
export async function isAncestor(repo: Repository, a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  return (await mergeBasesOf(repo, [a], [b])).includes(a);
}
