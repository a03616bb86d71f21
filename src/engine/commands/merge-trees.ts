import { objectId } from '../hash';
import { FileMode } from '../objects';
import { FlatEntry, FlatTree, Repository } from '../repository';
import { isBinary } from './diff';
import { mergeBasesOf } from './merge-base';
import { ConflictStyle, mergeText } from './merge-file';

/**
 * Tree-level three-way merge of flattened trees (path → blob). Every path is decided on its own
 * (clean when at most one side changed it, or both made the same change); paths both sides changed
 * are merged line by line, or become conflicts: content, add/add, modify/delete, binary, symlink,
 * mode and file/directory. Nothing here touches the work tree or the store: merged contents are
 * kept in the context's `blobs` until the caller decides what to write.
 */

export type ConflictKind = 'content' | 'add/add' | 'modify/delete' | 'binary' | 'symlink' | 'mode' | 'file/directory';

export interface TreeConflict {
  path: string;
  kind: ConflictKind;
  base?: FlatEntry;
  ours?: FlatEntry;
  theirs?: FlatEntry;
  /** What the work tree gets for this path (marker text, or one side's version); undefined: no file. */
  worktree?: FlatEntry;
  /** File/directory conflicts: a folder takes the path, so the file is written here instead. */
  aside?: string;
  /** modify/delete: the side that deleted the file. */
  deletedBy?: 'ours' | 'theirs';
}

export interface TreeMergeResult {
  /** Cleanly merged paths (what stage 0 of the index gets). */
  merged: FlatTree;
  conflicts: TreeConflict[];
}

export interface MergeLabels {
  ours: string;
  theirs: string;
  base: string;
}

const same = (a: FlatEntry | undefined, b: FlatEntry | undefined) => (!a && !b) || (!!a && !!b && a.id === b.id && a.mode === b.mode);

/** State shared by one merge: the repository, the conflict style and contents produced along the way. */
export class MergeContext {
  /** Blob bodies produced by merging, by id; written to the store only if the result needs them. */
  readonly blobs = new Map<string, Buffer>();
  constructor(
    readonly repo: Repository,
    readonly style: ConflictStyle = 'merge',
  ) {}

  async body(id: string): Promise<Buffer> {
    return this.blobs.get(id) ?? this.repo.readBlob(id);
  }

  put(body: Buffer): string {
    const id = objectId('blob', body);
    this.blobs.set(id, body);
    return id;
  }
}

/** Side label usable in a file name (`path~label`). */
function fileLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '') || 'theirs';
}

export async function mergeTrees(ctx: MergeContext, base: FlatTree, ours: FlatTree, theirs: FlatTree, labels: MergeLabels): Promise<TreeMergeResult> {
  const merged: FlatTree = new Map();
  const conflicts: TreeConflict[] = [];
  const paths = [...new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])].sort();
  for (const path of paths) {
    const b = base.get(path);
    const o = ours.get(path);
    const t = theirs.get(path);
    if (same(o, t)) {
      if (o) merged.set(path, o);
      continue;
    }
    if (same(o, b)) {
      if (t) merged.set(path, t);
      continue;
    }
    if (same(t, b)) {
      if (o) merged.set(path, o);
      continue;
    }
    // Both sides changed the path, differently.
    if (!o || !t) {
      conflicts.push({ path, kind: 'modify/delete', base: b, ours: o, theirs: t, worktree: o ?? t, deletedBy: o ? 'theirs' : 'ours' });
      continue;
    }
    if (o.mode === '120000' || t.mode === '120000') {
      // Two different symlinks, or a symlink against a file: keep ours.
      conflicts.push({ path, kind: 'symlink', base: b, ours: o, theirs: t, worktree: o });
      continue;
    }
    // Two regular files: the executable bit and the content merge separately.
    let mode: FileMode = o.mode;
    let modeConflict = false;
    if (o.mode !== t.mode) {
      if (b?.mode === o.mode) mode = t.mode;
      else if (b?.mode !== t.mode) modeConflict = true;
    }
    let id: string | undefined;
    if (o.id === t.id) id = o.id;
    else if (b?.id === o.id) id = t.id;
    else if (b?.id === t.id) id = o.id;
    if (id === undefined) {
      const [bb, ob, tb] = await Promise.all([b && b.mode !== '120000' ? ctx.body(b.id) : Buffer.alloc(0), ctx.body(o.id), ctx.body(t.id)]);
      if (isBinary(bb) || isBinary(ob) || isBinary(tb)) {
        conflicts.push({ path, kind: 'binary', base: b, ours: o, theirs: t, worktree: o });
        continue;
      }
      const r = mergeText(bb, ob, tb, { style: ctx.style, oursLabel: labels.ours, baseLabel: labels.base, theirsLabel: labels.theirs });
      const mid = ctx.put(r.body);
      if (r.conflicts) {
        conflicts.push({ path, kind: b ? 'content' : 'add/add', base: b, ours: o, theirs: t, worktree: { id: mid, mode } });
        continue;
      }
      id = mid;
    }
    if (modeConflict) conflicts.push({ path, kind: 'mode', base: b, ours: o, theirs: t, worktree: { id, mode } });
    else merged.set(path, { id, mode });
  }
  resolveFileDirectory(merged, conflicts, ours, labels);
  return { merged, conflicts };
}

/**
 * A path that is a file in the result while other paths need it to be a folder: the folder wins the
 * path and the file goes to `path~<side>`, recorded as a file/directory conflict.
 */
function resolveFileDirectory(merged: FlatTree, conflicts: TreeConflict[], ours: FlatTree, labels: MergeLabels): void {
  const byPath = new Map(conflicts.map((c) => [c.path, c]));
  const occupied = new Set<string>([...merged.keys(), ...conflicts.filter((c) => c.worktree || c.ours || c.theirs).map((c) => c.path)]);
  const dirs = new Set<string>();
  for (const p of occupied) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) dirs.add(p.slice(0, i));
  const taken = new Set<string>([...occupied, ...dirs]);
  for (const path of [...occupied].filter((p) => dirs.has(p)).sort()) {
    let c = byPath.get(path);
    if (!c) {
      const e = merged.get(path)!;
      merged.delete(path);
      const fromOurs = same(ours.get(path), e);
      c = { path, kind: 'file/directory', ours: fromOurs ? e : undefined, theirs: fromOurs ? undefined : e, worktree: e };
      conflicts.push(c);
      byPath.set(path, c);
    } else {
      c.kind = 'file/directory';
    }
    if (!c.worktree) continue;
    const side = c.worktree === c.ours || same(c.worktree, c.ours) ? 'ours' : fileLabel(labels.theirs);
    let aside = `${path}~${side}`;
    for (let n = 1; taken.has(aside); n++) aside = `${path}~${side}_${n}`;
    taken.add(aside);
    c.aside = aside;
  }
  conflicts.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/**
 * The tree a conflicted merge would leave, for use as a base: conflicts resolved to their work-tree
 * version (marker text, or the surviving/ours side), files losing to folders dropped.
 */
export function flattenConflicted(r: TreeMergeResult): FlatTree {
  const out: FlatTree = new Map(r.merged);
  for (const c of r.conflicts) if (c.worktree && !c.aside) out.set(c.path, c.worktree);
  return out;
}

/** Nesting limit for criss-cross histories whose bases themselves have several bases. */
const MAX_VIRTUAL_DEPTH = 8;

/**
 * The base tree for a merge: the single merge base's tree, the empty tree for unrelated histories,
 * or, when a criss-cross history has several best bases, git's "recursive" answer: the bases merged
 * together (pairwise, recursively) into one virtual tree whose conflicts keep their markers.
 */
export async function virtualBase(ctx: MergeContext, bases: string[], depth = 0): Promise<FlatTree> {
  const { repo } = ctx;
  if (!bases.length) return new Map();
  let accCommits = [bases[0]];
  let acc = await repo.commitTree(bases[0]);
  for (const next of bases.slice(1)) {
    const nextTree = await repo.commitTree(next);
    let subTree: FlatTree;
    if (depth >= MAX_VIRTUAL_DEPTH) subTree = new Map();
    else subTree = await virtualBase(ctx, await mergeBasesOf(repo, accCommits, [next]), depth + 1);
    const r = await mergeTrees(ctx, subTree, acc, nextTree, { ours: 'Temporary merge branch 1', theirs: 'Temporary merge branch 2', base: 'merged common ancestors' });
    acc = flattenConflicted(r);
    accCommits = [...accCommits, next];
  }
  return acc;
}
