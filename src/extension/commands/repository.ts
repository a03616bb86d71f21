/** Initialize Repository, Refresh, Show Log. */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { Repository } from '../../engine';
import { ShellError } from '../errors';
import { readSettings } from '../settings';
import { CommandContext, register, repositoryFor } from './context';

async function chooseFolder(ctx: CommandContext, arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const choose = { label: '$(folder-opened) Choose Folder...', folder: undefined as vscode.Uri | undefined };
  const items = [...folders.filter((f) => !ctx.manager.getRepository(f.uri)).map((f) => ({ label: f.name, description: f.uri.fsPath, folder: f.uri })), choose];
  const pick = items.length === 1 ? choose : await ctx.ui.pick(items, { placeHolder: 'Pick a workspace folder to initialize a Patchwork repository in' });
  if (!pick) return undefined;
  if (pick.folder) return pick.folder;
  const chosen = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Initialize Repository' });
  return chosen?.[0];
}

export function registerRepositoryCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    register(ctx, 'patchwork.init', 'Initialize Repository', async (arg) => {
      if (!readSettings().enabled) throw new ShellError('Patchwork is disabled (the setting patchwork.enabled).', 'info');
      const folder = await chooseFolder(ctx, arg);
      if (!folder) return undefined;
      ctx.log.info(`Initialize Repository (${folder.fsPath})`);
      await Repository.init(folder.fsPath, { name: basename(folder.fsPath) });
      await ctx.manager.openRepository(folder.fsPath);
      return undefined;
    }),
    register(ctx, 'patchwork.refresh', 'Refresh', async (arg) => {
      const one = arg === undefined ? undefined : await repositoryFor(ctx, arg);
      await Promise.all((one ? [one] : ctx.manager.repositories).map((r) => r.refresh()));
    }, { write: false }),
    register(ctx, 'patchwork.showLog', 'Show Log', async () => ctx.log.show(), { write: false }),
  ];
}
