/**
 * A repository's status bar items, shown by VS Code through the SourceControl's
 * `statusBarCommands`: the branch item (click: check out a branch, tag or commit, or create a
 * branch) and any contributions after it (the sync item, with p2p). Derived from the immutable
 * state on every change; holds no state of its own.
 */
import * as vscode from 'vscode';
import { branchTitle, headName } from './labels';
import type { StatusBarContribution } from './peer';
import type { PatchworkRepository } from './repository';

export function branchCommand(repo: PatchworkRepository): vscode.Command {
  const s = repo.state;
  const name = headName(s).name;
  const op = s.operation ? ` (${s.operation.kind} in progress: resolve the conflicts and commit)` : '';
  return { command: 'patchwork.checkout', title: branchTitle(s), tooltip: `${name}${op}, Checkout Branch/Tag...`, arguments: [repo.rootUri] };
}

export class StatusBar implements vscode.Disposable {
  private readonly contributions = new Set<StatusBarContribution>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly repo: PatchworkRepository,
    private readonly sourceControl: vscode.SourceControl,
  ) {
    this.disposables.push(repo.onDidChangeState(() => this.update()));
    this.update();
  }

  addContribution(c: StatusBarContribution): vscode.Disposable {
    this.contributions.add(c);
    const sub = c.onDidChange(() => this.update());
    this.update();
    return new vscode.Disposable(() => {
      sub.dispose();
      this.contributions.delete(c);
      this.update();
    });
  }

  private update(): void {
    this.sourceControl.statusBarCommands = [branchCommand(this.repo), ...[...this.contributions].flatMap((c) => c.commands)];
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
