/**
 * Every question and message the extension shows goes through `UI`, so that the integration tests
 * can answer modal dialogs (a real modal cannot be clicked from the extension host). Tests install
 * a responder through the extension's test API (see api.ts); without one, VS Code's own dialogs
 * are used.
 */
import * as vscode from 'vscode';

export type Severity = 'info' | 'warning' | 'error';

export type Prompt =
  | { kind: 'message'; severity: Severity; text: string; modal: boolean; detail?: string; actions: readonly string[] }
  | { kind: 'pick'; placeHolder?: string; items: readonly vscode.QuickPickItem[] }
  | { kind: 'input'; prompt?: string; placeHolder?: string; value?: string; validate?: Validator }
  /** A folder chooser (answer with an absolute path). */
  | { kind: 'folder'; title?: string; openLabel?: string };

/** Why an input is not acceptable (undefined: it is). Some ask the peer worker, so they may be async. */
export type Validator = (value: string) => string | undefined | Promise<string | undefined>;

/** Answers a prompt: the chosen action (message), the chosen item (pick), the typed text (input), or undefined (cancel). */
export type Responder = (prompt: Prompt) => string | vscode.QuickPickItem | undefined | Promise<string | vscode.QuickPickItem | undefined>;

export class UI {
  private responder: Responder | undefined;

  /** Test hook: answer prompts with `responder` instead of showing them (undefined restores the real UI). */
  setResponder(responder: Responder | undefined): void {
    this.responder = responder;
  }

  async message(severity: Severity, text: string, options: { modal?: boolean; detail?: string } = {}, ...actions: string[]): Promise<string | undefined> {
    if (this.responder) {
      const answer = await this.responder({ kind: 'message', severity, text, modal: !!options.modal, detail: options.detail, actions });
      return typeof answer === 'string' && actions.includes(answer) ? answer : undefined;
    }
    const show = severity === 'error' ? vscode.window.showErrorMessage : severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    return show(text, { modal: !!options.modal, detail: options.detail }, ...actions);
  }

  /** A modal question with one action (plus Cancel); true only when the action was chosen. */
  async confirm(text: string, action: string, detail?: string): Promise<boolean> {
    return (await this.message('warning', text, { modal: true, detail }, action)) === action;
  }

  async pick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions = {}): Promise<T | undefined> {
    if (this.responder) {
      const answer = await this.responder({ kind: 'pick', placeHolder: options.placeHolder, items });
      return items.find((i) => i === answer || (typeof answer === 'string' && i.label === answer));
    }
    return vscode.window.showQuickPick(items, options);
  }

  async input(options: vscode.InputBoxOptions & { validate?: Validator }): Promise<string | undefined> {
    const { validate, ...rest } = options;
    if (this.responder) {
      const answer = await this.responder({ kind: 'input', prompt: options.prompt, placeHolder: options.placeHolder, value: options.value, validate });
      if (typeof answer !== 'string') return undefined;
      // A real input box would not accept an invalid value; neither does the test path.
      if (await validate?.(answer)) return undefined;
      return answer;
    }
    return vscode.window.showInputBox({ ...rest, validateInput: validate ? async (v) => (await validate(v)) ?? null : undefined });
  }

  /** Choose one folder (the system's folder dialog). */
  async folder(options: { title?: string; openLabel?: string; defaultUri?: vscode.Uri } = {}): Promise<vscode.Uri | undefined> {
    if (this.responder) {
      const answer = await this.responder({ kind: 'folder', title: options.title, openLabel: options.openLabel });
      return typeof answer === 'string' && answer ? vscode.Uri.file(answer) : undefined;
    }
    const chosen = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, ...options });
    return chosen?.[0];
  }
}
