import { PatchworkError } from '../errors';
import { HEADS, TAGS, assertValidRefName } from '../refs';
import { Repository } from '../repository';
import { resolveRevision } from '../revparse';
import { isAncestor } from './log';

export interface BranchInfo {
  name: string;
  id: string;
  current: boolean;
}

export async function listBranches(repo: Repository): Promise<BranchInfo[]> {
  const head = await repo.head();
  return (await repo.refs.list(HEADS)).map((b) => ({ ...b, current: head.kind === 'branch' && head.branch === b.name }));
}

export async function createBranch(repo: Repository, name: string, start?: string): Promise<{ name: string; id: string }> {
  assertValidRefName(name);
  return repo.withLock('branch', async () => {
    if (await repo.refs.read(HEADS + name)) throw new PatchworkError('BRANCH_EXISTS', `A branch named "${name}" already exists.`, undefined, { name });
    const id = await resolveRevision(repo, start ?? 'HEAD');
    await repo.refs.write(HEADS + name, id);
    return { name, id };
  });
}

export async function deleteBranch(repo: Repository, name: string, opts: { force?: boolean } = {}): Promise<{ name: string; id: string }> {
  return repo.withLock('branch', async () => {
    const id = await repo.refs.read(HEADS + name);
    if (!id) throw new PatchworkError('UNKNOWN_BRANCH', `There is no branch named "${name}".`, 'See `patchwork branch` for the list.', { name });
    const head = await repo.head();
    if (head.kind === 'branch' && head.branch === name) {
      throw new PatchworkError('CURRENT_BRANCH', `Cannot delete the branch "${name}": it is checked out.`, 'Check out another branch first.', { name });
    }
    if (!opts.force && !(head.id && (await isAncestor(repo, id, head.id)))) {
      throw new PatchworkError('BRANCH_NOT_MERGED', `The branch "${name}" has commits that are not merged into HEAD.`, `Use \`patchwork branch -D ${name}\` to delete it anyway.`, { name });
    }
    await repo.refs.delete(HEADS + name);
    return { name, id };
  });
}

export async function renameBranch(repo: Repository, from: string, to: string): Promise<void> {
  assertValidRefName(to);
  await repo.withLock('branch', async () => {
    const head = await repo.head();
    const id = await repo.refs.read(HEADS + from);
    const unbornCurrent = !id && head.kind === 'branch' && head.branch === from;
    if (!id && !unbornCurrent) throw new PatchworkError('UNKNOWN_BRANCH', `There is no branch named "${from}".`, undefined, { name: from });
    if (await repo.refs.read(HEADS + to)) throw new PatchworkError('BRANCH_EXISTS', `A branch named "${to}" already exists.`, undefined, { name: to });
    if (id) await repo.refs.write(HEADS + to, id);
    if (head.kind === 'branch' && head.branch === from) await repo.refs.setHead({ kind: 'branch', branch: to });
    if (id) await repo.refs.delete(HEADS + from);
  });
}

export async function listTags(repo: Repository): Promise<{ name: string; id: string }[]> {
  return repo.refs.list(TAGS);
}

export async function createTag(repo: Repository, name: string, rev?: string, opts: { force?: boolean } = {}): Promise<{ name: string; id: string }> {
  assertValidRefName(name, 'tag');
  return repo.withLock('tag', async () => {
    if (!opts.force && (await repo.refs.read(TAGS + name))) throw new PatchworkError('TAG_EXISTS', `A tag named "${name}" already exists.`, undefined, { name });
    const id = await resolveRevision(repo, rev ?? 'HEAD');
    await repo.refs.write(TAGS + name, id);
    return { name, id };
  });
}

export async function deleteTag(repo: Repository, name: string): Promise<{ name: string; id: string }> {
  return repo.withLock('tag', async () => {
    const id = await repo.refs.read(TAGS + name);
    if (!id) throw new PatchworkError('UNKNOWN_TAG', `There is no tag named "${name}".`, 'See `patchwork tag` for the list.', { name });
    await repo.refs.delete(TAGS + name);
    return { name, id };
  });
}
