/** Commit and Commit All, with Git's "smart commit" question when nothing is staged. */
import * as vscode from 'vscode';
import { add, commit, normalizeMessage } from '../../engine';
import { ShellError } from '../errors';
import type { PatchworkRepository } from '../repository';
import { readSettings, rememberSmartCommit } from '../settings';
import { CommandContext, register, repositoryFor } from './context';

async function commitRepository(ctx: CommandContext, repo: PatchworkRepository, opts: { all: boolean }): Promise<void> {
  const input = ctx.scmOf(repo)?.sourceControl.inputBox;
  const message = input?.value ?? '';
  if (!normalizeMessage(message)) throw new ShellError('Cannot commit: the commit message is empty. Type a message in the Source Control input box.', 'warning');
  const s = repo.state;
  const changes = s.unstaged.length + s.untracked.length;
  let all = opts.all;
  if (!all && !s.staged.length && !s.operation) {
    if (!changes) throw new ShellError('There are no changes to commit.', 'info');
    const settings = readSettings(repo.rootUri);
    if (settings.smartCommit === 'never') throw new ShellError('There are no staged changes to commit. Stage changes first, or use "Commit All".', 'info');
    if (settings.smartCommit === 'prompt') {
      const answer = await ctx.ui.message(
        'warning',
        'There are no staged changes to commit.\n\nWould you like to stage all your changes and commit them directly?',
        { modal: true },
        'Yes',
        'Always',
        'Never',
      );
      if (answer === 'Always') await rememberSmartCommit('always');
      else if (answer === 'Never') {
        await rememberSmartCommit('never');
        return;
      } else if (answer !== 'Yes') return;
    }
    all = true;
  }
  const changesMode = readSettings(repo.rootUri).smartCommitChanges;
  await repo.run('Commit', async (r) => {
    // Staging everything would mark conflicted files resolved, markers and all.
    const conflicts = all ? (await r.readIndex()).conflicts.size : 0;
    if (conflicts) throw new ShellError(`Cannot commit: ${conflicts} file${conflicts === 1 ? ' has' : 's have'} unresolved conflicts. Resolve and stage them first.`);
    if (all && changesMode === 'all') {
      await add(r, ['']);
      return commit(r, { message });
    }
    return commit(r, { message, all });
  });
  // Only clear what was committed: the user may have typed on while the commit ran.
  if (input && input.value === message) input.value = '';
}

export function registerCommitCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    register(ctx, 'patchwork.commit', 'Commit', async (arg) => {
      const repo = await repositoryFor(ctx, arg);
      if (repo) await commitRepository(ctx, repo, { all: false });
    }),
    register(ctx, 'patchwork.commitAll', 'Commit All', async (arg) => {
      const repo = await repositoryFor(ctx, arg);
      if (repo) await commitRepository(ctx, repo, { all: true });
    }),
  ];
}
