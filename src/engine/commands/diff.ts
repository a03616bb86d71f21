import { structuredPatch } from 'diff';
import { FileMode } from '../objects';
import { Index } from '../index-file';
import { matchesAny } from '../pathspec';
import { quotePath } from '../paths';
import { FlatEntry, FlatTree, Repository } from '../repository';
import { resolveRevision } from '../revparse';
import { lstatOrUndefined, readWorktreeBlob } from '../worktree';
import { worktreeState } from './status';

export interface Side {
  id: string;
  mode: FileMode;
  /** Content; read lazily from the store when absent. */
  body?: Buffer;
}

export interface FileDiff {
  path: string;
  status: 'added' | 'modified' | 'deleted';
  old?: Side;
  new?: Side;
  binary: boolean;
  /** Unified diff in git's format, headers included (made when first read). */
  readonly patch: string;
}

/** Git's heuristic: a NUL byte in the first 8000 bytes means binary. */
export function isBinary(body: Buffer): boolean {
  return body.subarray(0, 8000).includes(0);
}

const short = (id: string | undefined) => (id ? id.slice(0, 7) : '0000000');

export function formatPatch(path: string, old: (Side & { body: Buffer }) | undefined, neu: (Side & { body: Buffer }) | undefined): { patch: string; binary: boolean } {
  const lines = [`diff --git ${quotePath(`a/${path}`)} ${quotePath(`b/${path}`)}`];
  if (!old && neu) lines.push(`new file mode ${neu.mode}`);
  else if (old && !neu) lines.push(`deleted file mode ${old.mode}`);
  else if (old && neu && old.mode !== neu.mode) lines.push(`old mode ${old.mode}`, `new mode ${neu.mode}`);
  const sameMode = old && neu && old.mode === neu.mode;
  if (old?.id !== neu?.id) lines.push(`index ${short(old?.id)}..${short(neu?.id)}${sameMode ? ` ${old!.mode}` : ''}`);
  const binary = (!!old && isBinary(old.body)) || (!!neu && isBinary(neu.body));
  if (old?.id === neu?.id) return { patch: lines.join('\n') + '\n', binary };
  const a = old ? quotePath(`a/${path}`) : '/dev/null';
  const b = neu ? quotePath(`b/${path}`) : '/dev/null';
  if (binary) {
    lines.push(`Binary files ${a} and ${b} differ`);
    return { patch: lines.join('\n') + '\n', binary };
  }
  if (!old || !neu) return { patch: wholeFile(lines, fileLines(a, b), old ? '-' : '+', (old ?? neu)!.body), binary };
  const oldText = old.body.toString('utf8');
  const p = structuredPatch(a, b, oldText, neu.body.toString('utf8'), '', '', { context: 3 });
  if (!p.hunks.length) return { patch: lines.join('\n') + '\n', binary };
  lines.push(...fileLines(a, b));
  const oldLines = oldText.split('\n');
  // What git puts after a hunk's `@@ … @@` by default: the nearest line above the hunk (in the old
  // file) that starts with a letter, `_` or `$`, cut to 80 bytes, without trailing whitespace. Each
  // search stops where the previous hunk's began (the lines above were searched then), as git's does.
  let fn: string | undefined;
  let searched = 0;
  for (const h of p.hunks) {
    // An empty range starts at the line before it (`@@ -0,0 +1,3 @@` for a new file), as git writes it.
    const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);
    const first = Math.max(0, h.oldStart - 1); // the hunk's first line, 0-based
    for (let i = first - 1; i >= searched; i--) {
      if (/^[A-Za-z_$]/.test(oldLines[i]!)) {
        fn = Buffer.from(oldLines[i]!, 'utf8').subarray(0, 80).toString('utf8').replace(/[ \t\n\v\f\r]+$/, '');
        break;
      }
    }
    searched = Math.max(searched, first);
    lines.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@${fn ? ` ${fn}` : ''}`);
    for (const l of h.lines) lines.push(l); // not push(...h.lines): a hunk of a large file overflows the stack
  }
  return { patch: lines.join('\n') + '\n', binary };
}

/** The `---` and `+++` lines; git ends one with a tab when its name holds a space. */
function fileLines(a: string, b: string): [string, string] {
  const tab = (name: string) => (name.includes(' ') ? `${name}\t` : name);
  return [`--- ${tab(a)}`, `+++ ${tab(b)}`];
}

/**
 * The patch of a file added (`+`) or deleted (`-`) whole: one hunk of all its lines, made directly
 * (what jsdiff answers, without diffing against nothing: `show` of a 20,000-file first commit).
 * An empty file has no hunk, and then git writes no `---`/`+++` lines either.
 */
function wholeFile(lines: string[], names: [string, string], sign: '+' | '-', body: Buffer): string {
  const text = body.toString('utf8');
  if (text) {
    const content = text.split('\n');
    const noNewline = content[content.length - 1] !== '';
    if (!noNewline) content.pop();
    const range = content.length === 1 ? '1' : `1,${content.length}`;
    lines.push(...names, sign === '+' ? `@@ -0,0 +${range} @@` : `@@ -${range} +0,0 @@`);
    for (const l of content) lines.push(sign + l);
    if (noNewline) lines.push('\\ No newline at end of file');
  }
  return lines.join('\n') + '\n';
}

async function load(repo: Repository, s: Side | undefined): Promise<(Side & { body: Buffer }) | undefined> {
  if (!s) return undefined;
  return { ...s, body: s.body ?? (await repo.readBlob(s.id)) };
}

export async function diffSides(repo: Repository, pairs: { path: string; old?: Side; new?: Side }[]): Promise<FileDiff[]> {
  const out: FileDiff[] = [];
  for (const { path, old, new: neu } of pairs.sort((x, y) => (x.path < y.path ? -1 : 1))) {
    const [o, n] = await Promise.all([load(repo, old), load(repo, neu)]);
    const binary = (!!o && isBinary(o.body)) || (!!n && isBinary(n.body));
    // The patch text is made only if asked for (`--stat` of a 20,000-file first commit never does).
    let patch: string | undefined;
    out.push({
      path,
      status: !o ? 'added' : !n ? 'deleted' : 'modified',
      old: o,
      new: n,
      binary,
      get patch() {
        return (patch ??= formatPatch(path, o, n).patch);
      },
    });
  }
  return out;
}

/** Lines in a file's content, as a patch counts them (a last line without a newline counts). */
function lineCount(body: Buffer): number {
  if (!body.length) return 0;
  let n = 0;
  for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) n++;
  return body[body.length - 1] === 10 ? n : n + 1;
}

/** Lines added and deleted, the numbers of git's `--stat` (0 and 0 for a binary file). */
export function diffStat(d: FileDiff): { added: number; deleted: number } {
  if (d.binary) return { added: 0, deleted: 0 };
  if (!d.old?.body || !d.new?.body) {
    const n = lineCount((d.old ?? d.new)?.body ?? Buffer.alloc(0));
    return d.old ? { added: 0, deleted: n } : { added: n, deleted: 0 };
  }
  let added = 0;
  let deleted = 0;
  let inHunks = false;
  for (const l of d.patch.split('\n')) {
    if (l.startsWith('@@')) inHunks = true;
    else if (inHunks && l[0] === '+') added++;
    else if (inHunks && l[0] === '-') deleted++;
  }
  return { added, deleted };
}

function treePairs(a: Map<string, FlatEntry>, b: Map<string, FlatEntry>, specs?: string[]) {
  const pairs: { path: string; old?: Side; new?: Side }[] = [];
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    if (specs && !matchesAny(path, specs)) continue;
    const x = a.get(path);
    const y = b.get(path);
    if (x && y && x.id === y.id && x.mode === y.mode) continue;
    pairs.push({ path, old: x, new: y });
  }
  return pairs;
}

function indexFlat(ix: Index): FlatTree {
  const m: FlatTree = new Map();
  for (const [p, e] of ix.entries) m.set(p, { id: e.id, mode: e.mode });
  return m;
}

/** Work tree against the index (what `diff` shows by default). */
export async function diffWorktree(repo: Repository, specs?: string[]): Promise<FileDiff[]> {
  const ix = await repo.readIndex();
  const wt = await worktreeState(repo, ix, specs);
  const pairs: { path: string; old?: Side; new?: Side }[] = [];
  for (const [path, cur] of wt.modified) {
    const e = ix.entries.get(path)!;
    const st = lstatOrUndefined(repo.root, path)!;
    const { body } = await readWorktreeBlob(repo.root, path, st);
    pairs.push({ path, old: { id: e.id, mode: e.mode }, new: { id: cur.id, mode: cur.mode, body } });
  }
  for (const path of wt.deleted) {
    const e = ix.entries.get(path)!;
    pairs.push({ path, old: { id: e.id, mode: e.mode } });
  }
  return diffSides(repo, pairs);
}

/** A revision (default HEAD) against the index (`diff --staged [<rev>]`). */
export async function diffStaged(repo: Repository, specs?: string[], rev?: string): Promise<FileDiff[]> {
  const base = await repo.commitTree(rev === undefined ? await repo.headCommit() : await resolveRevision(repo, rev));
  return diffSides(repo, treePairs(base, indexFlat(await repo.readIndex()), specs));
}

/**
 * A revision against the work tree's tracked files (`diff <rev>`, as git's: `diff HEAD` shows every
 * uncommitted change, staged or not). Untracked files are not part of it.
 */
export async function diffWorktreeAgainst(repo: Repository, rev: string, specs?: string[]): Promise<FileDiff[]> {
  const base = await repo.commitTree(await resolveRevision(repo, rev));
  const ix = await repo.readIndex();
  const wt = await worktreeState(repo, ix, specs);
  const current: FlatTree = indexFlat(ix);
  for (const [path, cur] of wt.modified) current.set(path, cur);
  for (const path of wt.deleted) current.delete(path);
  const pairs = treePairs(base, current, specs);
  // A changed file's content is in the work tree, not the store.
  for (const pair of pairs) {
    if (!pair.new || !wt.modified.has(pair.path)) continue;
    const { body } = await readWorktreeBlob(repo.root, pair.path, lstatOrUndefined(repo.root, pair.path)!);
    pair.new = { ...pair.new, body };
  }
  return diffSides(repo, pairs);
}

/** Between two revisions. */
export async function diffRevisions(repo: Repository, a: string, b: string, specs?: string[]): Promise<FileDiff[]> {
  const [ta, tb] = await Promise.all([repo.commitTree(await resolveRevision(repo, a)), repo.commitTree(await resolveRevision(repo, b))]);
  return diffSides(repo, treePairs(ta, tb, specs));
}

/** A commit against its first parent (what `show` and `log -p` print), optionally for some paths only. */
export async function diffCommit(repo: Repository, id: string, specs?: string[]): Promise<FileDiff[]> {
  const c = await repo.readCommit(id);
  const [ta, tb] = await Promise.all([repo.commitTree(c.parents[0]), repo.flattenTree(c.tree)]);
  return diffSides(repo, treePairs(ta, tb, specs));
}
