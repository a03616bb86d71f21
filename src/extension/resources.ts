/**
 * Source Control resources: one immutable object per row of a group, carrying what the row shows
 * (letter icon, strike-through, tooltip) and what a click opens.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { KIND_INFO, ResourceEntry, ResourceGroupId, ResourceKind } from './labels';
import type { PatchworkRepository } from './repository';
import { INDEX_REF, toPatchworkUri } from './uri';

export class Resource implements vscode.SourceControlResourceState {
  readonly resourceUri: vscode.Uri;
  readonly contextValue: ResourceKind;
  readonly decorations: vscode.SourceControlResourceDecorations;
  readonly command: vscode.Command;
  readonly group: ResourceGroupId;
  readonly path: string;
  readonly kind: ResourceKind;

  constructor(
    readonly repository: PatchworkRepository,
    entry: ResourceEntry,
    media: vscode.Uri,
  ) {
    this.group = entry.group;
    this.path = entry.path;
    this.kind = entry.kind;
    this.resourceUri = vscode.Uri.file(repository.absolutePath(entry.path));
    this.contextValue = entry.kind;
    const info = KIND_INFO[entry.kind];
    const icon = (theme: 'light' | 'dark') => ({ iconPath: vscode.Uri.joinPath(media, 'icons', theme, `status-${info.icon}.svg`) });
    this.decorations = { strikeThrough: info.strikeThrough, tooltip: entry.tooltip, light: icon('light'), dark: icon('dark') };
    this.command = openChangeCommand(this.resourceUri, entry.group, entry.kind);
  }
}

/**
 * What clicking a row opens, as in the Git extension: a diff HEAD ↔ index for staged changes and
 * index ↔ work tree for unstaged ones; the one existing side for added, deleted and untracked
 * files; the file itself (with its conflict markers) for conflicts.
 */
export function openChangeCommand(file: vscode.Uri, group: ResourceGroupId, kind: ResourceKind): vscode.Command {
  const name = basename(file.fsPath);
  const open = (uri: vscode.Uri, title: string): vscode.Command => ({ command: 'vscode.open', title, arguments: [uri] });
  const diff = (left: vscode.Uri, right: vscode.Uri, title: string): vscode.Command => ({ command: 'vscode.diff', title: 'Open Changes', arguments: [left, right, title] });
  switch (kind) {
    case 'conflict':
    case 'untracked':
      return open(file, 'Open File');
    case 'index-added':
      return open(toPatchworkUri(file, INDEX_REF), 'Open File (Index)');
    case 'index-deleted':
      return open(toPatchworkUri(file, 'HEAD'), 'Open File (HEAD)');
    case 'index-modified':
      return diff(toPatchworkUri(file, 'HEAD'), toPatchworkUri(file, INDEX_REF), `${name} (Index)`);
    case 'deleted':
      return open(toPatchworkUri(file, INDEX_REF), 'Open File (Index)');
    case 'modified':
      return group === 'workingTree' ? diff(toPatchworkUri(file, INDEX_REF), file, `${name} (Working Tree)`) : open(file, 'Open File');
  }
}
