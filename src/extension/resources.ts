/**
 * Source Control resources: one immutable object per row of a group, carrying what the row shows
 * (strike-through, tooltip; the letter and colour come from the file decoration) and what a click
 * opens.
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
  ) {
    this.group = entry.group;
    this.path = entry.path;
    this.kind = entry.kind;
    this.resourceUri = vscode.Uri.file(repository.absolutePath(entry.path));
    this.contextValue = entry.kind;
    // No icon: the row then shows the file's decoration (letter and theme colour, decorations.ts),
    // as the Git extension does by default.
    this.decorations = { strikeThrough: KIND_INFO[entry.kind].strikeThrough, tooltip: entry.tooltip };
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
