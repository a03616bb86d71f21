import { Commit } from '../objects';
import { Repository } from '../repository';
import { resolveRevision } from '../revparse';
import { ancestors } from './log';

/**
 * `log --graph`: the commit graph as rows of text, drawn like git's. Commits come in topological
 * order (every commit before its parents; newest first among those ready). Each commit row has a
 * `*` in its column and `|` for the other lines of descent; rows between commits bend lines with
 * `\` and `/`, one column per row, as lines branch off at merges and join where branches started.
 */

export interface GraphRow {
  /** The drawing for this row, trailing spaces removed. */
  graph: string;
  /** Set on commit rows. */
  id?: string;
  commit?: Commit;
  /** Commit rows: what to draw in front of further lines of text about the same commit. */
  padding?: string;
}

export interface GraphOptions {
  /** Starting revisions (default HEAD). */
  revs?: string[];
  /** Leave out commits reachable from these revisions (`a..b`). */
  exclude?: string[];
  /** Stop after this many commits. */
  limit?: number;
}

/** The commits reachable from `revs` but not from `exclude`, in topological order (newest first). */
export async function topoOrder(repo: Repository, revs: string[], exclude: string[] = []): Promise<{ id: string; commit: Commit }[]> {
  const excluded = new Set<string>();
  for (const x of exclude) for await (const id of ancestors(repo, await resolveRevision(repo, x))) excluded.add(id);
  const commits = new Map<string, Commit>();
  const stack: string[] = [];
  for (const r of revs) {
    const id = await resolveRevision(repo, r);
    if (!excluded.has(id) && !stack.includes(id)) stack.push(id);
  }
  while (stack.length) {
    const id = stack.pop()!;
    if (commits.has(id)) continue;
    const c = await repo.readCommit(id);
    commits.set(id, c);
    for (const p of c.parents) if (!commits.has(p) && !excluded.has(p)) stack.push(p);
  }
  const children = new Map<string, number>();
  for (const c of commits.values()) for (const p of c.parents) if (commits.has(p)) children.set(p, (children.get(p) ?? 0) + 1);
  const ready = [...commits.keys()].filter((id) => !children.get(id));
  const out: { id: string; commit: Commit }[] = [];
  const newer = (a: string, b: string) => commits.get(a)!.committer.timestamp - commits.get(b)!.committer.timestamp || (a < b ? 1 : -1);
  while (ready.length) {
    // Newest ready commit (ties: stable by id).
    let best = 0;
    for (let i = 1; i < ready.length; i++) if (newer(ready[i], ready[best]) > 0) best = i;
    const [id] = ready.splice(best, 1);
    const commit = commits.get(id)!;
    out.push({ id, commit });
    for (const p of commit.parents) {
      if (!commits.has(p)) continue;
      const left = children.get(p)! - 1;
      children.set(p, left);
      if (left === 0) ready.push(p);
    }
  }
  return out;
}

function row(chars: string[]): string {
  return chars.join('').replace(/\s+$/, '');
}

/** Draw the graph. */
export async function logGraph(repo: Repository, opts: GraphOptions = {}): Promise<GraphRow[]> {
  const order = await topoOrder(repo, opts.revs?.length ? opts.revs : ['HEAD'], opts.exclude);
  const shown = new Set(order.map((o) => o.id));
  const rows: GraphRow[] = [];
  let cols: string[] = [];
  let count = 0;
  for (const { id, commit } of order) {
    if (opts.limit !== undefined && count++ >= opts.limit) break;
    let idx = cols.indexOf(id);
    if (idx < 0) {
      cols.push(id);
      idx = cols.length - 1;
    }
    const parents = commit.parents.filter((p) => shown.has(p));
    const width = cols.length * 2;
    const commitRow = new Array<string>(width).fill(' ');
    const pad = new Array<string>(width).fill(' ');
    cols.forEach((_, i) => {
      commitRow[2 * i] = i === idx ? '*' : '|';
      pad[2 * i] = i === idx && !parents.length ? ' ' : '|';
    });
    rows.push({ graph: row(commitRow), id, commit, padding: row(pad) });

    // The next set of columns: this commit's column goes to its parents; the first occurrence of an
    // id keeps its place, so lines converging on the same commit join the leftmost one.
    const next: string[] = [];
    const edges: [number, string][] = [];
    cols.forEach((c, i) => {
      for (const target of i === idx ? parents : [c]) {
        if (!next.includes(target)) next.push(target);
        edges.push([i, target]);
      }
    });
    const moves = edges.map(([from, target]) => ({ cur: from, to: next.indexOf(target) }));
    while (moves.some((m) => m.cur !== m.to)) {
      const w = Math.max(...moves.map((m) => Math.max(m.cur, m.to))) * 2 + 2;
      const chars = new Array<string>(w).fill(' ');
      for (const m of moves) {
        if (m.cur < m.to) chars[2 * m.cur++ + 1] = '\\';
        else if (m.cur > m.to) chars[2 * m.cur-- - 1] = '/';
        else chars[2 * m.cur] = '|';
      }
      rows.push({ graph: row(chars) });
    }
    cols = next;
  }
  return rows;
}
