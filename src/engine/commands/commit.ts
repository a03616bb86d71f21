import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { PatchworkError } from '../errors';
import { isObjectId } from '../hash';
import { summaryLine } from '../objects';
import { HEADS } from '../refs';
import { Repository } from '../repository';
import { stageInto } from './add';

export interface CommitOptions {
  message: string;
  /** Stage changes to tracked files first (`commit -a`). */
  all?: boolean;
  allowEmpty?: boolean;
}

export interface CommitResult {
  id: string;
  /** Branch that moved, or undefined when HEAD is detached. */
  branch: string | undefined;
  summary: string;
  parents: string[];
}

/** Clean up a message like git's default: drop trailing spaces and blank lines, end with a newline. */
export function normalizeMessage(message: string): string {
  const lines = message.replace(/\r\n/g, '\n').split('\n').map((l) => l.replace(/\s+$/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  while (lines.length && lines[0] === '') lines.shift();
  return lines.length ? lines.join('\n') + '\n' : '';
}

export const MERGE_HEAD = 'MERGE_HEAD';

/** Commit ids recorded by an unfinished merge (`.patch/MERGE_HEAD`), if any. */
export async function readMergeHeads(repo: Repository): Promise<string[]> {
  const text = await fsp.readFile(join(repo.patchDir, MERGE_HEAD), 'utf8').catch(() => '');
  return text.split('\n').map((l) => l.trim()).filter(isObjectId);
}

export async function commit(repo: Repository, opts: CommitOptions): Promise<CommitResult> {
  const message = normalizeMessage(opts.message);
  if (!message) throw new PatchworkError('INVALID_ARGUMENT', 'The commit message is empty.', 'Give a message with -m "…".');
  return repo.withLock('commit', async () => {
    const ix = (await repo.readIndex()).clone();
    // Before `all` stages anything: staging a conflicted file would mark it resolved, markers and all.
    if (ix.conflicts.size) {
      throw new PatchworkError(
        'UNMERGED_PATHS',
        `Cannot commit: ${ix.conflicts.size} file${ix.conflicts.size > 1 ? 's have' : ' has'} unresolved conflicts (${[...ix.conflicts.keys()].slice(0, 3).join(', ')}).`,
        'Fix them, then `patchwork add` each file to mark it resolved.',
        { paths: [...ix.conflicts.keys()] },
      );
    }
    if (opts.all) await stageInto(repo, ix, [''], { updateOnly: true });
    const head = await repo.head();
    const mergeHeads = await readMergeHeads(repo);
    const tree = await repo.writeTreeFromFlat([...ix.entries].map(([p, e]) => [p, { id: e.id, mode: e.mode }]));
    const parentTree = head.id ? (await repo.readCommit(head.id)).tree : undefined;
    if (tree === parentTree && !opts.allowEmpty && !mergeHeads.length) {
      throw new PatchworkError('NOTHING_TO_COMMIT', 'Nothing to commit: no changes are staged.', 'Stage changes with `patchwork add <path>`, or use `commit -a` to commit every change to tracked files.');
    }
    if (!head.id && !ix.entries.size && !opts.allowEmpty) {
      throw new PatchworkError('NOTHING_TO_COMMIT', 'Nothing to commit: no files are staged.', 'Stage files with `patchwork add <path>` (or `patchwork add .` for everything).');
    }
    const sig = await repo.signature();
    const parents = [...(head.id ? [head.id] : []), ...mergeHeads];
    const id = await repo.writeCommit({ tree, parents, author: sig, committer: sig, message });
    // Record which tree the index makes, so the next status knows nothing is staged without reading trees.
    ix.treeId = tree;
    await repo.writeIndex(ix);
    if (head.kind === 'branch') await repo.refs.write(HEADS + head.branch, id);
    else await repo.refs.setHead({ kind: 'detached', id });
    if (mergeHeads.length) {
      await fsp.rm(join(repo.patchDir, MERGE_HEAD), { force: true });
      await fsp.rm(join(repo.patchDir, 'MERGE_MSG'), { force: true });
    }
    return { id, branch: head.kind === 'branch' ? head.branch : undefined, summary: summaryLine(message), parents };
  });
}
