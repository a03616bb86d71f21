/** Stash, Stash (Include Untracked), Pop / Apply / Drop Stash… */
import * as vscode from 'vscode';
import { StashEntry, stashApply, stashDrop, stashList, stashPop, stashPush } from '../../engine';
import type { PatchworkRepository } from '../repository';
import { CommandContext, notify, register, repositoryFor } from './context';

async function push(ctx: CommandContext, repo: PatchworkRepository, includeUntracked: boolean): Promise<void> {
  const s = repo.state;
  if (!s.staged.length && !s.unstaged.length && !(includeUntracked && s.untracked.length)) {
    notify(ctx, 'info', 'There are no changes to stash.');
    return;
  }
  const message = await ctx.ui.input({ prompt: 'Optionally provide a stash message', placeHolder: 'Stash message' });
  if (message === undefined) return; // Escape cancels, as in Git
  await repo.run('Stash', (r) => stashPush(r, { message, includeUntracked }));
}

async function pickStash(ctx: CommandContext, repo: PatchworkRepository, placeHolder: string): Promise<StashEntry | undefined> {
  const list = await repo.read((r) => stashList(r));
  if (!list.length) {
    notify(ctx, 'info', 'There are no stashes in the repository.');
    return undefined;
  }
  const pick = await ctx.ui.pick(
    list.map((e) => ({ label: `#${e.index}: ${e.message}`, description: new Date(e.timestamp * 1000).toLocaleString(), entry: e })),
    { placeHolder },
  );
  return pick?.entry;
}

async function apply(ctx: CommandContext, repo: PatchworkRepository, pop: boolean): Promise<void> {
  const e = await pickStash(ctx, repo, pop ? 'Pick a stash to pop' : 'Pick a stash to apply');
  if (!e) return;
  const result = await repo.run(pop ? 'Pop Stash' : 'Apply Stash', (r) => (pop ? stashPop(r, e.index) : stashApply(r, e.index)));
  if (result.conflicts.length) {
    const n = result.conflicts.length;
    notify(ctx, 'warning', `The stash was applied with conflicts in ${n} file${n === 1 ? '' : 's'} (see Merge Changes)${pop ? '; it was kept' : ''}.`);
  }
}

async function drop(ctx: CommandContext, repo: PatchworkRepository): Promise<void> {
  const e = await pickStash(ctx, repo, 'Pick a stash to drop');
  if (!e) return;
  if (!(await ctx.ui.confirm(`Are you sure you want to drop the stash: ${e.message}?`, 'Drop'))) return;
  await repo.run('Drop Stash', (r) => stashDrop(r, e.index));
}

export function registerStashCommands(ctx: CommandContext): vscode.Disposable[] {
  const withRepo = (fn: (repo: PatchworkRepository) => Promise<void>) => async (arg?: unknown) => {
    const repo = await repositoryFor(ctx, arg);
    if (repo) await fn(repo);
  };
  return [
    register(ctx, 'patchwork.stash', 'Stash', withRepo((repo) => push(ctx, repo, false))),
    register(ctx, 'patchwork.stashIncludeUntracked', 'Stash', withRepo((repo) => push(ctx, repo, true))),
    register(ctx, 'patchwork.stashPop', 'Pop Stash', withRepo((repo) => apply(ctx, repo, true))),
    register(ctx, 'patchwork.stashApply', 'Apply Stash', withRepo((repo) => apply(ctx, repo, false))),
    register(ctx, 'patchwork.stashDrop', 'Drop Stash', withRepo((repo) => drop(ctx, repo))),
  ];
}
