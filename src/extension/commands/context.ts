/**
 * What every command needs, the wrapper that shows errors once, and the argument handling shared
 * by all commands: VS Code passes SourceControls (title menus), resource groups (group headers),
 * resources (rows, possibly several selected), URIs (tests, editor menus) or nothing (palette).
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { ShellError, showError } from '../errors';
import { ResourceGroupId, ResourceKind, resourceEntries } from '../labels';
import type { Log } from '../log';
import type { RepositoryManager } from '../model';
import type { PatchworkRepository } from '../repository';
import { Resource } from '../resources';
import { ownerOf, RepositoryScm } from '../scm';
import type { UI } from '../ui';
import { SCHEME, fromPatchworkUri } from '../uri';

export interface CommandContext {
  readonly manager: RepositoryManager;
  readonly ui: UI;
  readonly log: Log;
  scmOf(repo: PatchworkRepository): RepositoryScm | undefined;
}

/** A file a command acts on: its repository, path and which group it is in. */
export interface Target {
  readonly repository: PatchworkRepository;
  readonly path: string;
  readonly group: ResourceGroupId;
  readonly kind: ResourceKind;
  readonly resourceUri: vscode.Uri;
}

/**
 * Register a command whose failures are shown once (engine wording, "Show Log" button) and never
 * rethrown. A command that changes things (`write`, the default) is refused in Restricted Mode
 * before it asks anything; `PatchworkRepository.run` enforces the same for every change.
 */
export function register(
  ctx: CommandContext,
  id: string,
  what: string,
  handler: (...args: unknown[]) => Promise<unknown>,
  opts: { write?: boolean } = {},
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      if ((opts.write ?? true) && !vscode.workspace.isTrusted) {
        throw new ShellError(`${what} is not available in Restricted Mode. Trust this workspace to make changes.`, 'warning');
      }
      return await handler(...args);
    } catch (e) {
      if (e instanceof ShellError) void ctx.ui.message(e.severity, e.message);
      else void showError(ctx.ui, ctx.log, what, e);
      return undefined;
    }
  });
}

/** Fire-and-forget notification (a notification's promise settles only when it is dismissed). */
export function notify(ctx: CommandContext, severity: 'info' | 'warning', text: string): void {
  void ctx.ui.message(severity, text);
}

/** The repository a command is about: from its argument, the only open one, or the user's pick. */
export async function repositoryFor(ctx: CommandContext, arg?: unknown): Promise<PatchworkRepository | undefined> {
  const owned = ownerOf(arg);
  if (owned) return owned;
  if (arg instanceof Resource) return arg.repository;
  if (arg instanceof vscode.Uri) return ctx.manager.getRepository(arg.scheme === SCHEME ? fromPatchworkUri(arg).path : arg.fsPath);
  const repos = ctx.manager.repositories;
  if (!repos.length) throw new ShellError('There is no Patchwork repository open. Use "Patchwork: Initialize Repository" to create one.', 'info');
  if (repos.length === 1) return repos[0];
  const pick = await ctx.ui.pick(
    repos.map((r) => ({ label: basename(r.root), description: r.root, repo: r })),
    { placeHolder: 'Choose a repository' },
  );
  return pick?.repo;
}

/**
 * The files a resource command acts on. Rows arrive as `Resource`s (all selected rows are passed);
 * URIs are looked up in their repository's state, in the first of `groups` that has them (after a
 * refresh if the state does not know the file yet: the watcher may not have reported a save that
 * happened just before); with no argument the active editor's file is used. Only rows in `groups`
 * are returned.
 */
export async function targetsFor(ctx: CommandContext, args: unknown[], groups: readonly ResourceGroupId[]): Promise<Target[]> {
  const flat = args.flat().filter((a) => a !== undefined && a !== null);
  if (!flat.length) {
    const uri = vscode.window.activeTextEditor?.document.uri;
    if (uri) flat.push(uri);
  }
  const out: Target[] = [];
  const seen = new Set<string>();
  const add = (t: Target) => {
    const key = `${t.repository.root}\0${t.group}\0${t.path}`;
    if (!seen.has(key) && groups.includes(t.group)) {
      seen.add(key);
      out.push(t);
    }
  };
  const lookup = (repo: PatchworkRepository, rel: string) => {
    const entries = resourceEntries(repo.state);
    for (const g of groups) {
      const e = entries[g].find((x) => x.path === rel);
      if (e) return { repository: repo, path: e.path, group: e.group, kind: e.kind, resourceUri: vscode.Uri.file(repo.absolutePath(e.path)) };
    }
    return undefined;
  };
  for (const a of flat) {
    if (a instanceof Resource) {
      add(a);
    } else if (a instanceof vscode.Uri) {
      const fsPath = a.scheme === SCHEME ? fromPatchworkUri(a).path : a.scheme === 'file' ? a.fsPath : undefined;
      const repo = fsPath ? ctx.manager.getRepository(fsPath) : undefined;
      const rel = fsPath && repo?.relativePath(fsPath);
      if (!repo || !rel) continue;
      let t = lookup(repo, rel);
      if (!t) {
        await repo.refresh();
        t = lookup(repo, rel);
      }
      if (t) add(t);
    }
  }
  return out;
}

/** Targets grouped by repository (a selection can span repositories in a multi-root workspace). */
export function byRepository(targets: readonly Target[]): Map<PatchworkRepository, Target[]> {
  const m = new Map<PatchworkRepository, Target[]>();
  for (const t of targets) m.set(t.repository, [...(m.get(t.repository) ?? []), t]);
  return m;
}

/** All rows of one group of a repository, as targets. */
export function groupTargets(repo: PatchworkRepository, group: ResourceGroupId): Target[] {
  return resourceEntries(repo.state)[group].map((e) => ({ repository: repo, path: e.path, group, kind: e.kind, resourceUri: vscode.Uri.file(repo.absolutePath(e.path)) }));
}
