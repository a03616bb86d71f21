// Helpers for the suites that run inside the extension host.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { PatchworkApi, RepositoryApi, TestApi } from '../../../src/extension/api';
import type { Prompt, Responder } from '../../../src/extension/ui';
import { Repository, reset, status, type StatusResult } from '../../../src/engine';

export const EXTENSION_ID = 'patchwork.patchwork-vcs';

let tests: TestApi | undefined;

export async function api(): Promise<PatchworkApi> {
  const ext = vscode.extensions.getExtension<PatchworkApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  const a = ext.isActive ? ext.exports : await ext.activate();
  await a.whenReady();
  tests = a.test;
  return a;
}

export async function testApi(): Promise<TestApi> {
  const t = (await api()).test;
  if (!t) throw new Error('the extension runs in production mode: no test API');
  return t;
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Sets a Source Control input box as a user's typing would leave it. A value set from the extension
 * host goes to the window, which echoes it back; an echo still on its way when a command clears the
 * box would put the old text back. A call to the window answered after the echo (messages keep their
 * order) waits for that round trip, where a fixed sleep would only usually be long enough.
 */
export async function setInput(sourceControl: vscode.SourceControl, value: string): Promise<void> {
  sourceControl.inputBox.value = value;
  await vscode.commands.getCommands();
}

export function folder(name: string): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.find((x) => x.name === name);
  if (!f) throw new Error(`no workspace folder named ${name}`);
  return f.uri;
}

export async function repo(name: string): Promise<RepositoryApi> {
  const a = await api();
  const root = folder(name);
  await waitFor(`repository ${name} to open`, () => !!a.getRepository(root));
  return a.getRepository(root)!;
}

export function file(name: string, path: string): vscode.Uri {
  return vscode.Uri.joinPath(folder(name), ...path.split('/'));
}

export function write(name: string, path: string, content: string): void {
  const p = file(name, path).fsPath;
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

export function read(name: string, path: string): string {
  return readFileSync(file(name, path).fsPath, 'utf8');
}

/** The engine's own view of the repository, read from disk (not from the extension). */
export async function diskStatus(name: string): Promise<StatusResult> {
  return status(await Repository.open(folder(name).fsPath));
}

export async function engine(name: string): Promise<Repository> {
  return Repository.open(folder(name).fsPath);
}

/** Back to the last commit: staged and unstaged changes dropped, untracked files deleted. */
export async function cleanUp(name: string): Promise<void> {
  const r = await engine(name);
  await reset(r, undefined, 'hard');
  const { rmSync } = await import('node:fs');
  for (const p of (await status(r)).untracked) rmSync(join(r.root, p), { force: true });
  const rep = await repo(name);
  await rep.refresh();
}

/** Answer the extension's dialogs with `answer`; records every prompt shown. Returns the record. */
export async function answer(fn: Responder): Promise<Prompt[]> {
  const seen: Prompt[] = [];
  (await testApi()).setResponder((p) => {
    seen.push(p);
    return fn(p);
  });
  return seen;
}

/**
 * Rows of a resource group as VS Code was given them: the letter the row shows (the file's
 * decoration), the path, and whether it is struck through.
 */
export function groupRows(r: RepositoryApi, group: 'merge' | 'index' | 'workingTree'): string[] {
  if (!tests) throw new Error('call api() first');
  const t = tests;
  return r.groups[group].resourceStates.map((s) => {
    const rel = vscode.workspace.asRelativePath(s.resourceUri, false);
    return `${t.decoration(s.resourceUri)?.badge ?? '?'} ${rel}${s.decorations?.strikeThrough ? ' (struck)' : ''}`;
  });
}
