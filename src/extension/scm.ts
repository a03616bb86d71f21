/**
 * One SourceControl per repository: the three resource groups (each hidden when empty), the count
 * badge, the commit input box, quick diff and the status bar items, all re-rendered from the
 * repository's immutable state on every change.
 */
import * as vscode from 'vscode';
import { readMergeMessage } from '../engine';
import { badgeCount, commitPlaceholder, resourceEntries, ResourceGroupId } from './labels';
import type { PatchworkRepository } from './repository';
import { Resource } from './resources';
import { onDidChangeSettings, readSettings } from './settings';
import { StatusBar } from './statusbar';
import { toPatchworkUri } from './uri';

/** Which repository a SourceControl or resource group passed to a command belongs to. */
const owners = new WeakMap<object, PatchworkRepository>();
export function ownerOf(x: unknown): PatchworkRepository | undefined {
  return typeof x === 'object' && x !== null ? owners.get(x) : undefined;
}

export class RepositoryScm implements vscode.Disposable {
  readonly sourceControl: vscode.SourceControl;
  readonly groups: Readonly<Record<ResourceGroupId, vscode.SourceControlResourceGroup>>;
  readonly statusBar: StatusBar;
  private readonly disposables: vscode.Disposable[] = [];
  private mergeMessageShown = false;

  constructor(private readonly repo: PatchworkRepository) {
    const sc = vscode.scm.createSourceControl('patchwork', 'Patchwork', repo.rootUri);
    this.sourceControl = sc;
    owners.set(sc, repo);
    const group = (id: ResourceGroupId, label: string) => {
      const g = sc.createResourceGroup(id, label);
      g.hideWhenEmpty = true;
      owners.set(g, repo);
      return g;
    };
    this.groups = { merge: group('merge', 'Merge Changes'), index: group('index', 'Staged Changes'), workingTree: group('workingTree', 'Changes') };
    sc.acceptInputCommand = { command: 'patchwork.commit', title: 'Commit', arguments: [sc] };
    sc.quickDiffProvider = { provideOriginalResource: (uri) => this.originalResource(uri) };
    this.statusBar = new StatusBar(repo, sc);
    this.disposables.push(
      sc,
      this.statusBar,
      repo.onDidChangeState(() => this.render()),
      onDidChangeSettings((e) => {
        if (e.affectsConfiguration('patchwork.countBadge', repo.rootUri)) this.render();
      }),
    );
    this.render();
  }

  /** The HEAD version of a tracked file, for the editor gutter. */
  private originalResource(uri: vscode.Uri): vscode.Uri | undefined {
    if (uri.scheme !== 'file') return undefined;
    const rel = this.repo.relativePath(uri.fsPath);
    if (rel === undefined || this.repo.state.untracked.includes(rel)) return undefined;
    return toPatchworkUri(uri, 'HEAD');
  }

  private render(): void {
    const s = this.repo.state;
    const entries = resourceEntries(s);
    for (const id of ['merge', 'index', 'workingTree'] as const) {
      this.groups[id].resourceStates = entries[id].map((e) => new Resource(this.repo, e));
    }
    this.sourceControl.count = badgeCount(s, readSettings(this.repo.rootUri).countBadge);
    this.sourceControl.inputBox.placeholder = commitPlaceholder(s);
    // An unfinished merge prepared its message: offer it in the input box, as Git does.
    if (s.operation && !this.mergeMessageShown) {
      this.mergeMessageShown = true;
      this.repo.read((r) => readMergeMessage(r)).then(
        (msg) => {
          if (msg && !this.sourceControl.inputBox.value) this.sourceControl.inputBox.value = msg.trimEnd();
        },
        () => undefined,
      );
    } else if (!s.operation) {
      this.mergeMessageShown = false;
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
