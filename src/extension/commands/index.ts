/** Every command of the extension, registered by area. */
import type * as vscode from 'vscode';
import { registerBranchCommands } from './branches';
import { registerChangeCommands } from './changes';
import { registerCommitCommands } from './commit';
import type { CommandContext } from './context';
import { registerRepositoryCommands } from './repository';
import { registerStashCommands } from './stash';

export type { CommandContext } from './context';

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    ...registerRepositoryCommands(ctx),
    ...registerCommitCommands(ctx),
    ...registerChangeCommands(ctx),
    ...registerBranchCommands(ctx),
    ...registerStashCommands(ctx),
  ];
}
