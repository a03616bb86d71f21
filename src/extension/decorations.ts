/**
 * Explorer (and editor tab) decorations: the letter and colour of each changed file, from every
 * open repository's state. Only the URIs whose decoration changed are announced.
 */
import * as vscode from 'vscode';
import { KIND_INFO, explorerKinds } from './labels';
import type { RepositoryManager } from './model';
import type { PatchworkRepository } from './repository';

export class DecorationProvider implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly byRepo = new Map<PatchworkRepository, Map<string, vscode.FileDecoration>>();
  private readonly _onDidChange = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this._onDidChange.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(manager: RepositoryManager) {
    this.disposables.push(
      this._onDidChange,
      vscode.window.registerFileDecorationProvider(this),
      manager.onDidOpenRepository((r) => this.update(r)),
      manager.onDidChangeRepositoryState((r) => this.update(r)),
      manager.onDidCloseRepository((r) => this.remove(r)),
    );
    for (const r of manager.repositories) this.update(r);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'file') return undefined;
    const key = uri.toString();
    for (const m of this.byRepo.values()) {
      const d = m.get(key);
      if (d) return d;
    }
    return undefined;
  }

  private update(repo: PatchworkRepository): void {
    const next = new Map<string, vscode.FileDecoration>();
    for (const [path, kind] of explorerKinds(repo.state)) {
      const info = KIND_INFO[kind];
      const d = new vscode.FileDecoration(info.letter, info.tooltip, new vscode.ThemeColor(info.color));
      // Folders take the colour of changed files inside them; deleted files are not there to colour.
      d.propagate = !info.strikeThrough;
      next.set(vscode.Uri.file(repo.absolutePath(path)).toString(), d);
    }
    const prev = this.byRepo.get(repo) ?? new Map<string, vscode.FileDecoration>();
    this.byRepo.set(repo, next);
    const changed: vscode.Uri[] = [];
    for (const key of new Set([...prev.keys(), ...next.keys()])) {
      const a = prev.get(key);
      const b = next.get(key);
      if (a?.badge !== b?.badge || a?.tooltip !== b?.tooltip) changed.push(vscode.Uri.parse(key));
    }
    if (changed.length) this._onDidChange.fire(changed);
  }

  private remove(repo: PatchworkRepository): void {
    const prev = this.byRepo.get(repo);
    this.byRepo.delete(repo);
    if (prev?.size) this._onDidChange.fire([...prev.keys()].map((k) => vscode.Uri.parse(k)));
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
