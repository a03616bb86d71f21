/**
 * Finds and owns the open repositories: one per `.patch/` found at or above a workspace folder or
 * one level below it (like Git's scan depth of 1), opened and closed as folders, settings and
 * `.patch/HEAD` files come and go. Sets the context keys menus and welcome views use.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import * as vscode from 'vscode';
import { PATCH_DIR, Repository } from '../engine';
import { logError } from './errors';
import type { Log } from './log';
import { PatchworkRepository } from './repository';
import { onDidChangeSettings, readSettings } from './settings';

/** A repository being opened: its root, and whether it opened (undefined: it could not be opened). */
export interface WillOpenRepository {
  readonly root: string;
  readonly opened: Promise<PatchworkRepository | undefined>;
}

const SKIP_SCAN = new Set(['node_modules', PATCH_DIR, '.git']);

async function isRepositoryRoot(dir: string): Promise<boolean> {
  return !!(await fsp.stat(join(dir, PATCH_DIR, 'HEAD')).catch(() => undefined))?.isFile();
}

export class RepositoryManager implements vscode.Disposable {
  private readonly repos = new Map<string, PatchworkRepository>();
  private readonly opening = new Map<string, Promise<PatchworkRepository | undefined>>();
  private readonly perRepo = new Map<string, vscode.Disposable[]>();
  private readonly folderWatchers = new Map<string, vscode.Disposable>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly _onDidOpen = new vscode.EventEmitter<PatchworkRepository>();
  private readonly _onDidClose = new vscode.EventEmitter<PatchworkRepository>();
  private readonly _onDidChangeState = new vscode.EventEmitter<PatchworkRepository>();
  private readonly _onWillOpen = new vscode.EventEmitter<WillOpenRepository>();
  /**
   * A repository was found and is being opened (its first status walk has not run yet): what needs
   * only its root, such as its peer, can start now instead of after that walk.
   */
  readonly onWillOpenRepository = this._onWillOpen.event;
  readonly onDidOpenRepository = this._onDidOpen.event;
  readonly onDidCloseRepository = this._onDidClose.event;
  /** Any repository's state changed (a refresh finished). */
  readonly onDidChangeRepositoryState = this._onDidChangeState.event;
  private ready: Promise<void> = Promise.resolve();

  constructor(private readonly log: Log) {}

  /** Subscribe to workspace changes and scan the folders; call once, after activation returns. */
  start(): Promise<void> {
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        for (const f of e.removed) this.forgetFolder(f);
        for (const f of e.added) void this.scanFolder(f);
      }),
      onDidChangeSettings((e) => this.onSettingsChanged(e)),
    );
    this.ready = this.scanAll().finally(() => void vscode.commands.executeCommand('setContext', 'patchwork.state', 'initialized'));
    return this.ready;
  }

  /** Resolves when the first scan of the workspace has finished. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  get repositories(): readonly PatchworkRepository[] {
    return [...this.repos.values()];
  }

  /** The repository whose work tree contains `target` (the innermost one). */
  getRepository(target: vscode.Uri | string): PatchworkRepository | undefined {
    const path = typeof target === 'string' ? target : target.fsPath;
    let best: PatchworkRepository | undefined;
    for (const r of this.repos.values()) {
      if ((path === r.root || path.startsWith(r.root.endsWith(sep) ? r.root : r.root + sep)) && (!best || r.root.length > best.root.length)) best = r;
    }
    return best;
  }

  private async scanAll(): Promise<void> {
    await Promise.all((vscode.workspace.workspaceFolders ?? []).map((f) => this.scanFolder(f)));
  }

  private async scanFolder(folder: vscode.WorkspaceFolder): Promise<void> {
    if (folder.uri.scheme !== 'file') return;
    this.watchFolder(folder);
    if (!readSettings(folder.uri).enabled) return;
    const dir = folder.uri.fsPath;
    const roots = new Set<string>();
    const containing = await Repository.find(dir).catch(() => undefined);
    if (containing) roots.add(containing);
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    await Promise.all(
      entries
        .filter((e) => e.isDirectory() && !SKIP_SCAN.has(e.name))
        .map(async (e) => {
          if (await isRepositoryRoot(join(dir, e.name))) roots.add(join(dir, e.name));
        }),
    );
    await Promise.all([...roots].map((r) => this.openRepository(r)));
  }

  /** New repositories at a folder's top or one level down (`patchwork init` from the CLI), and removed ones. */
  private watchFolder(folder: vscode.WorkspaceFolder): void {
    const key = folder.uri.toString();
    if (this.folderWatchers.has(key)) return;
    // `init` builds .patch/ under a temporary name and renames it: watch the folder itself too.
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, `{${PATCH_DIR},${PATCH_DIR}/HEAD,*/${PATCH_DIR},*/${PATCH_DIR}/HEAD}`));
    const rootOf = (uri: vscode.Uri) => (basename(uri.fsPath) === PATCH_DIR ? dirname(uri.fsPath) : dirname(dirname(uri.fsPath)));
    const created = (uri: vscode.Uri) => {
      const root = rootOf(uri);
      if (readSettings(folder.uri).enabled) void isRepositoryRoot(root).then((yes) => (yes ? this.openRepository(root) : undefined));
    };
    // HEAD is replaced by a rename on every checkout: close only if it is still gone a moment later.
    const deleted = (uri: vscode.Uri) =>
      setTimeout(() => {
        void isRepositoryRoot(rootOf(uri)).then((still) => {
          if (!still) this.closeRepository(rootOf(uri));
        });
      }, 200);
    this.folderWatchers.set(key, vscode.Disposable.from(w, w.onDidCreate(created), w.onDidDelete(deleted)));
  }

  private forgetFolder(folder: vscode.WorkspaceFolder): void {
    this.folderWatchers.get(folder.uri.toString())?.dispose();
    this.folderWatchers.delete(folder.uri.toString());
    const stillCovered = (root: string) =>
      (vscode.workspace.workspaceFolders ?? []).some((f) => root === f.uri.fsPath || root.startsWith(f.uri.fsPath + sep) || f.uri.fsPath.startsWith(root + sep));
    for (const r of this.repositories) if (!stillCovered(r.root)) this.closeRepository(r.root);
  }

  /** Open (once) the repository at `root`; undefined if it cannot be opened (the reason is logged). */
  openRepository(root: string): Promise<PatchworkRepository | undefined> {
    const existing = this.repos.get(root);
    if (existing) return Promise.resolve(existing);
    let p = this.opening.get(root);
    if (!p) {
      p = (async () => {
        try {
          const repo = await PatchworkRepository.open(root, readSettings(vscode.Uri.file(root)).author, this.log);
          this.repos.set(root, repo);
          this.perRepo.set(root, [repo.onDidChangeState(() => this.onStateChanged(repo))]);
          this.log.info(`Opened repository ${root}`);
          this.updateContextKeys();
          this._onDidOpen.fire(repo);
          return repo;
        } catch (e) {
          logError(this.log, `Opening the repository at ${root}`, e);
          return undefined;
        } finally {
          this.opening.delete(root);
        }
      })();
      this.opening.set(root, p);
      this._onWillOpen.fire({ root, opened: p });
    }
    return p;
  }

  closeRepository(root: string): void {
    const repo = this.repos.get(root);
    if (!repo) return;
    this.repos.delete(root);
    this.perRepo.get(root)?.forEach((d) => d.dispose());
    this.perRepo.delete(root);
    this.log.info(`Closed repository ${root}`);
    this._onDidClose.fire(repo);
    repo.dispose();
    this.updateContextKeys();
  }

  private onStateChanged(repo: PatchworkRepository): void {
    this.updateContextKeys();
    this._onDidChangeState.fire(repo);
  }

  private onSettingsChanged(e: vscode.ConfigurationChangeEvent): void {
    if (e.affectsConfiguration('patchwork.enabled')) {
      for (const r of this.repositories) if (!readSettings(r.rootUri).enabled) this.closeRepository(r.root);
      void this.scanAll();
    }
  }

  private lastKeys = '';
  private updateContextKeys(): void {
    const repos = this.repositories;
    const keys: [string, unknown][] = [
      ['patchwork.repositoryCount', repos.length],
      ['patchwork.mergeInProgress', repos.some((r) => r.state.operation?.kind === 'merge')],
    ];
    const text = JSON.stringify(keys);
    if (text === this.lastKeys) return;
    this.lastKeys = text;
    for (const [k, v] of keys) void vscode.commands.executeCommand('setContext', k, v);
  }

  dispose(): void {
    for (const r of this.repositories) this.closeRepository(r.root);
    this.folderWatchers.forEach((d) => d.dispose());
    this.disposables.forEach((d) => d.dispose());
    this._onWillOpen.dispose();
    this._onDidOpen.dispose();
    this._onDidClose.dispose();
    this._onDidChangeState.dispose();
  }
}
