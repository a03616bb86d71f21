/**
 * Read-only documents for `patchwork:` URIs (see uri.ts): a file as HEAD, the staging area or any
 * revision has it, read from the object store. Diff editors and the quick-diff gutter use them;
 * they are told to re-read when HEAD or the index moves.
 */
import * as vscode from 'vscode';
import type { RepositoryManager } from './model';
import type { PatchworkRepository } from './repository';
import { SCHEME, fromPatchworkUri } from './uri';

export class ContentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this._onDidChange.event;
  private readonly stamps = new Map<PatchworkRepository, string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly manager: RepositoryManager) {
    this.disposables.push(
      this._onDidChange,
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      manager.onDidChangeRepositoryState((r) => this.onStateChanged(r)),
      manager.onDidCloseRepository((r) => this.stamps.delete(r)),
    );
  }

  private onStateChanged(repo: PatchworkRepository): void {
    const stamp = repo.state.stamp;
    if (this.stamps.get(repo) === stamp) return; // HEAD and index unchanged: the documents are too
    this.stamps.set(repo, stamp);
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme === SCHEME && this.manager.getRepository(fromPatchworkUri(doc.uri).path) === repo) this._onDidChange.fire(doc.uri);
    }
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { path, ref } = fromPatchworkUri(uri);
    const repo = this.manager.getRepository(path);
    const rel = repo?.relativePath(path);
    if (!repo || rel === undefined) return '';
    const body = await repo.readFile(rel, ref);
    return body ? body.toString('utf8') : '';
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
