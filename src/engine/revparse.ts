import { PatchworkError } from './errors';
import { isObjectId } from './hash';
import { HEADS, TAGS } from './refs';
import { Repository } from './repository';

/**
 * Resolve a revision to a commit id: `HEAD`, a branch, a tag, a full or unique-prefix (4+ hex)
 * commit id, each optionally followed by `~n`, `^` or `^n`.
 */
export async function resolveRevision(repo: Repository, rev: string): Promise<string> {
  const m = /^(.*?)((?:[~^]\d*)*)$/.exec(rev.trim());
  const base = m?.[1] ?? '';
  const suffix = m?.[2] ?? '';
  if (!base) throw unknown(rev);
  let id = await resolveBase(repo, base, rev);
  for (const [, op, num] of suffix.matchAll(/([~^])(\d*)/g)) {
    const n = num === '' ? 1 : Number(num);
    if (op === '~') {
      for (let i = 0; i < n; i++) id = await parent(repo, id, 0, rev);
    } else if (n > 0) {
      id = await parent(repo, id, n - 1, rev);
    }
  }
  return id;
}

async function parent(repo: Repository, id: string, which: number, rev: string): Promise<string> {
  const c = await repo.readCommit(id);
  const p = c.parents[which];
  if (!p) throw new PatchworkError('UNKNOWN_REVISION', `Revision "${rev}" goes past the start of history.`, 'See `patchwork log --oneline` for how far back history goes.', { rev });
  return p;
}

async function resolveBase(repo: Repository, base: string, rev: string): Promise<string> {
  if (base === 'HEAD' || base === '@') {
    const head = await repo.head();
    if (!head.id) {
      throw new PatchworkError('UNBORN_HEAD', `HEAD does not point at a commit yet (branch "${head.kind === 'branch' ? head.branch : ''}" has no commits).`, 'Make a first commit with `patchwork commit -m "…"`.');
    }
    return head.id;
  }
  for (const prefix of [HEADS, TAGS, '']) {
    if (prefix === '' && !base.startsWith('refs/')) continue;
    const id = await repo.refs.read(prefix + base).catch(() => undefined);
    if (id) return id;
  }
  if (/^[0-9a-f]{4,64}$/i.test(base)) {
    const hex = base.toLowerCase();
    if (isObjectId(hex)) {
      if (await repo.store.has(hex, 'commit')) return hex;
    } else {
      const matches = await repo.store.findByPrefix(hex, 'commit');
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) {
        throw new PatchworkError('AMBIGUOUS_REVISION', `The short id "${base}" matches ${matches.length} commits.`, 'Use more characters of the id.', { rev, matches });
      }
    }
  }
  throw unknown(rev);
}

function unknown(rev: string): PatchworkError {
  return new PatchworkError('UNKNOWN_REVISION', `Unknown revision "${rev}": no branch, tag or commit has that name.`, 'See `patchwork branch`, `patchwork tag` and `patchwork log --oneline`.', { rev });
}
