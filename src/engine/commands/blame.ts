import { diffArrays } from 'diff';
import { PatchworkError } from '../errors';
import { Signature, summaryLine } from '../objects';
import { Repository } from '../repository';
import { resolveRevision } from '../revparse';
import { isBinary } from './diff';
import { lookupPath } from './log';

/**
 * `blame <file>`: for each line of a file at a revision, the commit that last changed it. Lines
 * are handed from each commit to its parents: a line the parent has too (matched by a line diff)
 * is the parent's to explain; what no parent has was written by the commit. For a merge, the
 * first parent that has a line takes it. Renames are not followed.
 */

export interface BlameLine {
  /** 1-based line number in the blamed version. */
  line: number;
  commit: string;
  author: Signature;
  summary: string;
  /** 1-based line number in that commit's version of the file. */
  origLine: number;
  /** The line without its line ending. */
  text: string;
}

export interface BlameResult {
  path: string;
  /** The commit whose version was blamed. */
  rev: string;
  lines: BlameLine[];
}

/** Lines of this commit's version → the final line each one becomes (0-based). */
type LineMap = [number, number][];

function splitLines(body: Buffer): string[] {
  const s = body.toString('utf8');
  if (!s) return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export async function blame(repo: Repository, path: string, opts: { rev?: string } = {}): Promise<BlameResult> {
  const start = await resolveRevision(repo, opts.rev ?? 'HEAD');
  const blobAt = async (commit: string) => {
    const e = await lookupPath(repo, (await repo.readCommit(commit)).tree, path);
    return e && e.mode !== '40000' ? e.id : undefined;
  };
  const first = await blobAt(start);
  if (!first) throw new PatchworkError('PATH_NOT_FOUND', `${path} is not a file in ${opts.rev ?? 'HEAD'}.`, 'Blame works on committed files; check the path and the revision.', { path });
  const firstBody = await repo.readBlob(first);
  if (isBinary(firstBody)) throw new PatchworkError('INVALID_ARGUMENT', `${path} is a binary file, which has no lines to blame.`, `\`patchwork log -- ${path}\` lists the commits that changed it.`, { path });

  const linesCache = new Map<string, string[]>();
  const linesOf = async (blob: string) => {
    let l = linesCache.get(blob);
    if (!l) linesCache.set(blob, (l = splitLines(await repo.readBlob(blob))));
    return l;
  };
  const finalLines = await linesOf(first);
  const owner: { commit: string; orig: number }[] = new Array(finalLines.length);

  // Commits still holding lines to explain, newest first (parents usually after their children;
  // if a clock is skewed a commit is simply visited again with the lines that arrived late).
  const pending = new Map<string, { blob: string; lines: LineMap }>();
  pending.set(start, { blob: first, lines: finalLines.map((_, i) => [i, i]) });
  const time = async (id: string) => (await repo.readCommit(id)).committer.timestamp;
  const times = new Map<string, number>([[start, await time(start)]]);
  const give = async (commit: string, blob: string, lines: LineMap) => {
    if (!lines.length) return;
    const p = pending.get(commit);
    if (p) for (const l of lines) p.lines.push(l); // not push(...lines): a large file's would overflow the stack
    else {
      pending.set(commit, { blob, lines: [...lines] });
      if (!times.has(commit)) times.set(commit, await time(commit));
    }
  };

  while (pending.size) {
    let id = '';
    for (const k of pending.keys()) if (!id || times.get(k)! > times.get(id)!) id = k;
    const { blob, lines } = pending.get(id)!;
    pending.delete(id);
    let remaining = lines;
    for (const parent of (await repo.readCommit(id)).parents) {
      if (!remaining.length) break;
      const pblob = await blobAt(parent);
      if (!pblob) continue;
      if (pblob === blob) {
        await give(parent, pblob, remaining);
        remaining = [];
        break;
      }
      const map = lineMapping(await linesOf(pblob), await linesOf(blob));
      const passed: LineMap = [];
      const kept: LineMap = [];
      for (const [mine, fin] of remaining) {
        const theirs = map.get(mine);
        if (theirs === undefined) kept.push([mine, fin]);
        else passed.push([theirs, fin]);
      }
      await give(parent, pblob, passed);
      remaining = kept;
    }
    for (const [mine, fin] of remaining) owner[fin] = { commit: id, orig: mine };
  }

  const commits = new Map<string, { author: Signature; summary: string }>();
  const lines: BlameLine[] = [];
  for (let i = 0; i < finalLines.length; i++) {
    const o = owner[i];
    let info = commits.get(o.commit);
    if (!info) {
      const c = await repo.readCommit(o.commit);
      commits.set(o.commit, (info = { author: c.author, summary: summaryLine(c.message) }));
    }
    lines.push({ line: i + 1, commit: o.commit, author: info.author, summary: info.summary, origLine: o.orig + 1, text: finalLines[i] });
  }
  return { path, rev: start, lines };
}

/** For each line of `child` that is unchanged from `parent`: child line → parent line. */
function lineMapping(parent: string[], child: string[]): Map<number, number> {
  const map = new Map<number, number>();
  let pi = 0;
  let ci = 0;
  for (const change of diffArrays(parent, child)) {
    const n = change.count ?? change.value.length;
    if (change.added) ci += n;
    else if (change.removed) pi += n;
    else {
      for (let k = 0; k < n; k++) map.set(ci + k, pi + k);
      pi += n;
      ci += n;
    }
  }
  return map;
}
