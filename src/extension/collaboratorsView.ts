/**
 * The "Collaborators" view in the Source Control container: per repository (a level of its own in
 * a multi-root workspace) each collaborator with name, short peer id, role, online/offline and last
 * seen, and how many commits they have that we do not (expand to list them). Context actions pull
 * from / push to / remove; title actions invite, add and refresh (which pings everyone).
 * Rendered from the RepositorySync models; node objects are kept per key so `reveal` finds them.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { summaryLine } from '../engine';
import { ago, plural, shortPeer } from './syncLabels';
import type { CollaboratorStatus, RepositorySync } from './sync';

export type CollaboratorNode =
  | { readonly kind: 'repository'; readonly sync: RepositorySync }
  | { readonly kind: 'collaborator'; readonly sync: RepositorySync; readonly peerId: string }
  | { readonly kind: 'commit'; readonly sync: RepositorySync; readonly peerId: string; readonly id: string }
  | { readonly kind: 'message'; readonly sync: RepositorySync; readonly text: string; readonly detail: string };

export function isCollaboratorNode(x: unknown): x is CollaboratorNode {
  return typeof x === 'object' && x !== null && 'kind' in x && 'sync' in x && ['repository', 'collaborator', 'commit', 'message'].includes((x as { kind: string }).kind);
}

/** The description of a collaborator row: "…1a2b3c4d · writer · online · 2 new commits". */
export function collaboratorDescription(c: CollaboratorStatus, now = Date.now()): string {
  const state = c.online === true ? 'online' : c.online === false ? `offline, seen ${ago(c.lastSeen, now)}` : `seen ${ago(c.lastSeen, now)}`;
  const incoming = c.incomingCount ? ` · ${plural(c.incomingCount, 'new commit')}${c.capped ? '+' : ''}` : '';
  return `${shortPeer(c.peerId)} · ${c.role} · ${state}${incoming}`;
}

export class CollaboratorsView implements vscode.TreeDataProvider<CollaboratorNode>, vscode.Disposable {
  private readonly nodes = new Map<string, CollaboratorNode>();
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<CollaboratorNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  readonly treeView: vscode.TreeView<CollaboratorNode>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly syncs: () => readonly RepositorySync[]) {
    this.treeView = vscode.window.createTreeView('patchwork.collaborators', { treeDataProvider: this, showCollapseAll: false });
    this.disposables.push(
      this.treeView,
      this._onDidChangeTreeData,
      this.treeView.onDidChangeVisibility((e) => {
        if (e.visible) for (const s of this.syncs()) void s.probe();
      }),
    );
  }

  /** Re-render (the models changed). */
  refresh(): void {
    this._onDidChangeTreeData.fire(undefined);
  }

  private node<T extends CollaboratorNode>(key: string, make: () => T): T {
    let n = this.nodes.get(key);
    if (!n) {
      n = make();
      this.nodes.set(key, n);
    }
    return n as T;
  }

  repositoryNode(sync: RepositorySync): CollaboratorNode {
    return this.node(`r:${sync.repo.root}`, () => ({ kind: 'repository' as const, sync }));
  }

  collaboratorNode(sync: RepositorySync, peerId: string): CollaboratorNode {
    return this.node(`c:${sync.repo.root}:${peerId}`, () => ({ kind: 'collaborator' as const, sync, peerId }));
  }

  /** Show a collaborator (expanded: the commits they have that we lack). */
  async reveal(sync: RepositorySync, peerId: string): Promise<void> {
    await vscode.commands.executeCommand('patchwork.collaborators.focus');
    await this.treeView.reveal(this.collaboratorNode(sync, peerId), { select: true, focus: true, expand: true });
  }

  getChildren(element?: CollaboratorNode): CollaboratorNode[] | Promise<CollaboratorNode[]> {
    const syncs = this.syncs();
    if (!element) {
      if (syncs.length === 1) return this.collaboratorNodes(syncs[0]!);
      return syncs.map((s) => this.repositoryNode(s));
    }
    if (element.kind === 'repository') return this.collaboratorNodes(element.sync);
    if (element.kind === 'collaborator') {
      const c = element.sync.collaborator(element.peerId);
      return (c?.incoming ?? []).map((id) => this.node(`k:${element.sync.repo.root}:${element.peerId}:${id}`, () => ({ kind: 'commit' as const, sync: element.sync, peerId: element.peerId, id })));
    }
    return [];
  }

  private collaboratorNodes(sync: RepositorySync): CollaboratorNode[] {
    if (!vscode.workspace.isTrusted) {
      return [this.node(`m:${sync.repo.root}:restricted`, () => ({ kind: 'message' as const, sync, text: 'Restricted Mode', detail: 'trust this workspace to see and reach its collaborators' }))];
    }
    if (sync.problem) return [this.node(`m:${sync.repo.root}:${sync.problem}`, () => ({ kind: 'message' as const, sync, text: 'The collaborator list cannot be read', detail: sync.problem! }))];
    return sync.collaborators.map((c) => this.collaboratorNode(sync, c.peerId));
  }

  getParent(element: CollaboratorNode): CollaboratorNode | undefined {
    const multi = this.syncs().length > 1;
    if (element.kind === 'commit') return this.collaboratorNode(element.sync, element.peerId);
    if (element.kind === 'repository') return undefined;
    return multi ? this.repositoryNode(element.sync) : undefined;
  }

  async getTreeItem(element: CollaboratorNode): Promise<vscode.TreeItem> {
    switch (element.kind) {
      case 'repository': {
        const item = new vscode.TreeItem(basename(element.sync.repo.root), vscode.TreeItemCollapsibleState.Expanded);
        item.id = `r:${element.sync.repo.root}`;
        item.description = plural(element.sync.collaborators.length, 'collaborator');
        item.tooltip = element.sync.repo.root;
        item.iconPath = new vscode.ThemeIcon('repo');
        item.contextValue = 'repository';
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(element.text, vscode.TreeItemCollapsibleState.None);
        item.description = element.detail;
        item.tooltip = element.detail;
        item.iconPath = new vscode.ThemeIcon('warning');
        return item;
      }
      case 'collaborator': {
        const c = element.sync.collaborator(element.peerId);
        const item = new vscode.TreeItem(c?.name ?? shortPeer(element.peerId), c?.incomingCount ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `c:${element.sync.repo.root}:${element.peerId}`;
        if (!c) return item;
        item.description = collaboratorDescription(c);
        const md = new vscode.MarkdownString(undefined, true);
        md.appendMarkdown(`**${escapeMd(c.name)}** · ${c.role === 'writer' ? 'writer (may pull and push)' : 'reader (may pull)'}\n\n`);
        md.appendMarkdown(`${c.online === true ? `$(circle-filled) online${c.rttMs !== undefined ? ` (${c.rttMs} ms)` : ''}` : c.online === false ? '$(circle-outline) offline' : '$(circle-outline) not checked yet'} · last seen ${ago(c.lastSeen)}\n\n`);
        md.appendMarkdown(`Peer id \`${c.peerId}\`\n\n`);
        if (c.addresses.length) md.appendMarkdown(`Addresses:\n${c.addresses.map((a) => `- \`${a}\``).join('\n')}\n\n`);
        else md.appendMarkdown('No known address.\n\n');
        if (c.incomingCount) md.appendMarkdown(`${plural(c.incomingCount, 'commit')}${c.capped ? '+' : ''} they have that you do not (as last fetched).`);
        item.tooltip = md;
        item.iconPath = new vscode.ThemeIcon(c.online === true ? 'account' : 'person', c.online === true ? new vscode.ThemeColor('charts.green') : new vscode.ThemeColor('disabledForeground'));
        item.contextValue = `collaborator.${c.role}${c.online === true ? '.online' : ''}`;
        return item;
      }
      case 'commit': {
        const item = new vscode.TreeItem(element.id.slice(0, 8), vscode.TreeItemCollapsibleState.None);
        item.id = `k:${element.sync.repo.root}:${element.peerId}:${element.id}`;
        item.iconPath = new vscode.ThemeIcon('git-commit');
        item.contextValue = 'commit';
        try {
          const commit = await element.sync.repo.read((r) => r.readCommit(element.id));
          item.label = summaryLine(commit.message);
          item.description = `${element.id.slice(0, 8)} · ${commit.author.name} · ${ago(new Date(commit.author.timestamp * 1000).toISOString())}`;
          item.tooltip = `${commit.message.trim()}\n\n${element.id}\n${commit.author.name} <${commit.author.email}>`;
        } catch {
          // a commit that went away between the count and now: the id is enough
        }
        return item;
      }
    }
  }

  /** The rows as the view shows them ("label — description", indented by depth), for the tests. */
  async rows(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (parent: CollaboratorNode | undefined, depth: number) => {
      for (const n of await this.getChildren(parent)) {
        const item = await this.getTreeItem(n);
        const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
        out.push(`${'  '.repeat(depth)}${label}${item.description ? ` — ${String(item.description)}` : ''}`);
        if (item.collapsibleState !== vscode.TreeItemCollapsibleState.None) await walk(n, depth + 1);
      }
    };
    await walk(undefined, 0);
    return out;
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
