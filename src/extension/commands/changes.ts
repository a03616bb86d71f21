/** Stage, unstage, discard and open: the row and group-header actions of the Source Control view. */
import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { add, restore } from '../../engine';
import { openChangeCommand } from '../resources';
import { SCHEME, fromPatchworkUri } from '../uri';
import { CommandContext, Target, byRepository, groupTargets, register, repositoryFor, targetsFor } from './context';

const CONFLICT_MARKER = /^(<{7}|>{7})( |$)/m;

async function hasConflictMarkers(t: Target): Promise<boolean> {
  const text = await fsp.readFile(t.resourceUri.fsPath, 'utf8').catch(() => '');
  return CONFLICT_MARKER.test(text);
}

/** Staging a conflicted file marks it resolved: ask first if it still has conflict markers. */
async function confirmResolved(ctx: CommandContext, targets: Target[]): Promise<boolean> {
  const marked: Target[] = [];
  for (const t of targets) if (t.group === 'merge' && (await hasConflictMarkers(t))) marked.push(t);
  if (!marked.length) return true;
  const text =
    marked.length === 1
      ? `Are you sure you want to stage ${basename(marked[0].path)} with merge conflicts?`
      : `Are you sure you want to stage ${marked.length} files with merge conflicts?`;
  return ctx.ui.confirm(text, 'Stage', 'The files still contain conflict markers (<<<<<<< or >>>>>>>).');
}

async function stage(ctx: CommandContext, targets: Target[]): Promise<void> {
  if (!(await confirmResolved(ctx, targets))) return;
  for (const [repo, ts] of byRepository(targets)) {
    await repo.run('Stage', (r) => add(r, ts.map((t) => t.path)));
  }
}

async function unstage(targets: Target[]): Promise<void> {
  for (const [repo, ts] of byRepository(targets)) {
    await repo.run('Unstage', (r) => restore(r, ts.map((t) => t.path), { staged: true }));
  }
}

/**
 * Discard: tracked files go back to their staged version; untracked files are deleted. Always
 * behind a modal confirmation that says which of the two will happen.
 */
async function discard(ctx: CommandContext, targets: Target[], all: boolean): Promise<void> {
  if (!targets.length) return;
  const untracked = targets.filter((t) => t.kind === 'untracked');
  const tracked = targets.filter((t) => t.kind !== 'untracked');
  let text: string;
  let action: string;
  let detail: string | undefined;
  if (targets.length === 1) {
    const name = basename(targets[0].path);
    if (untracked.length) {
      text = `Are you sure you want to DELETE ${name}?`;
      detail = 'This is IRREVERSIBLE! This file will be FOREVER LOST if you proceed.';
      action = 'Delete File';
    } else {
      text = `Are you sure you want to discard changes in ${name}?`;
      detail = 'This is IRREVERSIBLE!';
      action = 'Discard File';
    }
  } else {
    text = all ? `Are you sure you want to discard ALL changes in ${targets.length} files?` : `Are you sure you want to discard changes in ${targets.length} files?`;
    detail = untracked.length
      ? `This will DELETE ${untracked.length} untracked file${untracked.length === 1 ? '' : 's'}! This is IRREVERSIBLE!`
      : 'This is IRREVERSIBLE! Your current working set will be FOREVER LOST if you proceed.';
    action = all ? `Discard All ${targets.length} Files` : `Discard ${targets.length} Files`;
  }
  if (!(await ctx.ui.confirm(text, action, detail))) return;
  for (const [repo, ts] of byRepository(targets)) {
    const restorePaths = ts.filter((t) => tracked.includes(t)).map((t) => t.path);
    const deletePaths = ts.filter((t) => untracked.includes(t)).map((t) => t.resourceUri.fsPath);
    await repo.run('Discard', async (r) => {
      if (restorePaths.length) await restore(r, restorePaths);
      for (const p of deletePaths) await fsp.rm(p, { force: true });
    });
  }
}

/** The file of a row, a URI, or the active editor (a `patchwork:` document opens its work-tree file). */
async function fileUris(ctx: CommandContext, args: unknown[]): Promise<vscode.Uri[]> {
  const targets = await targetsFor(ctx, args, ['merge', 'index', 'workingTree']);
  // A deleted file has nothing to open (its row opens the last version instead).
  const uris = targets.filter((t) => t.kind !== 'deleted' && t.kind !== 'index-deleted').map((t) => t.resourceUri);
  for (const a of args.flat()) {
    if (a instanceof vscode.Uri && !targets.length) uris.push(a.scheme === SCHEME ? vscode.Uri.file(fromPatchworkUri(a).path) : a);
  }
  if (!uris.length) {
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active?.scheme === SCHEME) uris.push(vscode.Uri.file(fromPatchworkUri(active).path));
  }
  return uris;
}

export function registerChangeCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    register(ctx, 'patchwork.stage', 'Stage', async (...args) => stage(ctx, await targetsFor(ctx, args, ['workingTree', 'merge']))),
    register(ctx, 'patchwork.stageAll', 'Stage All', async (arg) => {
      const repo = await repositoryFor(ctx, arg);
      if (!repo) return;
      // With conflicts around, stage exactly the Changes rows (never resolve a conflict by accident).
      if (repo.state.conflicts.length) await stage(ctx, groupTargets(repo, 'workingTree'));
      else await repo.run('Stage All', (r) => add(r, ['']));
    }),
    register(ctx, 'patchwork.stageAllMerge', 'Stage All Merge Changes', async (arg) => {
      const repo = await repositoryFor(ctx, arg);
      if (repo) await stage(ctx, groupTargets(repo, 'merge'));
    }),
    register(ctx, 'patchwork.unstage', 'Unstage', async (...args) => unstage(await targetsFor(ctx, args, ['index']))),
    register(ctx, 'patchwork.unstageAll', 'Unstage All', async (arg) => {
      const repo = await repositoryFor(ctx, arg);
      if (repo) await unstage(groupTargets(repo, 'index'));
    }),
    register(ctx, 'patchwork.clean', 'Discard', async (...args) => discard(ctx, await targetsFor(ctx, args, ['workingTree']), false)),
    register(ctx, 'patchwork.cleanAll', 'Discard All', async (arg) => {
      const repo = await repositoryFor(ctx, arg);
      if (repo) await discard(ctx, groupTargets(repo, 'workingTree'), true);
    }),
    register(ctx, 'patchwork.openFile', 'Open File', async (...args) => {
      for (const uri of await fileUris(ctx, args)) await vscode.commands.executeCommand('vscode.open', uri);
    }, { write: false }),
    register(ctx, 'patchwork.openChange', 'Open Changes', async (...args) => {
      for (const t of await targetsFor(ctx, args, ['merge', 'workingTree', 'index'])) {
        const c = openChangeCommand(t.resourceUri, t.group, t.kind);
        await vscode.commands.executeCommand(c.command, ...(c.arguments ?? []));
      }
    }, { write: false }),
  ];
}
