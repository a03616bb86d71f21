// Placeholder extension entry: just enough for the integration smoke test (test/vscode/) to prove
// the extension loads and activates inside a real VS Code build. The real shell replaces this.
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('patchwork.refresh', () => undefined));
}

export function deactivate(): void {}
