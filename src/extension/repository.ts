/**
 * The model of one open Patchwork repository: the engine's `Repository`, the latest immutable
 * status snapshot, and `run(operation)`, the one path for every change (Restricted Mode check,
 * progress, lock retries, logging, a refresh afterwards). Views subscribe to `onDidChangeState`
 * and render from `state`; nothing else mutates it.
 */
import { sep } from 'node:path';
import * as vscode from 'vscode';
import { Identity, PATCH_DIR, Repository, isPatchworkError, lookupPath, resolveRevision } from '../engine';
import { logError, ShellError } from './errors';
import type { Log } from './log';
import { StatusSnapshot, fullStatus, partialStatus, repoStamp } from './status';
import { INDEX_REF } from './uri';
import { readSettings } from './settings';
import { RepositoryWatcher, WatchBatch } from './watcher';

export type OperationProgress = vscode.Progress<{ message?: string; increment?: number }>;
export type OperationBody<T> = (repo: Repository, progress: OperationProgress, token: vscode.CancellationToken) => Promise<T>;

export interface RunOptions {
  /** Whether the operation changes the repository; writes are refused in Restricted Mode. Default true. */
  write?: boolean;
  /**
   * Where progress shows: the Source Control view (default), or a notification with a title and
   * optionally a Cancel button (long transfers such as the coming pull/push/clone).
   */
  progress?: 'scm' | { title: string; cancellable?: boolean };
}

export interface OperationEvent {
  readonly operation: string;
  readonly phase: 'start' | 'end';
  readonly error?: unknown;
}

export interface RefreshStats {
  full: number;
  partial: number;
  /** `.patch/` events that turned out to change nothing the view shows (e.g. our own stat-cache write). */
  skipped: number;
  lastFullMs: number;
  lastPartialMs: number;
}

/** A partial refresh of more paths than this walks everything instead. */
const PARTIAL_LIMIT = 200;
/** Attempts for an operation that meets a busy repository lock (the CLI or a peer is writing). */
const LOCK_ATTEMPTS = 3;

interface RefreshRequest {
  full: boolean;
  state: boolean;
  paths: Set<string>;
}

/** How long after opening a repository its file watcher is assumed to be running. */
const WATCHER_SETTLE_MS = 2_000;

export class PatchworkRepository implements vscode.Disposable {
  readonly rootUri: vscode.Uri;
  readonly stats: RefreshStats = { full: 0, partial: 0, skipped: 0, lastFullMs: 0, lastPartialMs: 0 };
  private _state: StatusSnapshot | undefined;
  private operations = 0;
  private pending: RefreshRequest | undefined;
  private draining: Promise<void> | undefined;
  private disposed = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly watcher: RepositoryWatcher;
  private readonly _onDidChangeState = new vscode.EventEmitter<StatusSnapshot>();
  private readonly _onDidRunOperation = new vscode.EventEmitter<OperationEvent>();
  readonly onDidChangeState = this._onDidChangeState.event;
  readonly onDidRunOperation = this._onDidRunOperation.event;

  private constructor(
    private engine: Repository,
    private readonly log: Log,
  ) {
    this.rootUri = vscode.Uri.file(engine.root);
    this.watcher = new RepositoryWatcher(engine.root, (b) => this.onWatch(b));
  }

  /** Open the repository at `root` and take its first status snapshot. */
  static async open(root: string, author: Partial<Identity>, log: Log): Promise<PatchworkRepository> {
    const engine = await Repository.open(root, { author });
    const repo = new PatchworkRepository(engine, log);
    try {
      await repo.refresh();
    } catch (e) {
      repo.dispose();
      throw e;
    }
    // VS Code's file watcher starts asynchronously and says nothing when it is ready: an edit made in
    // that window is never reported. One more full refresh once it has surely started catches it.
    repo.settleTimer = setTimeout(() => {
      if (!repo.disposed) repo.refresh().catch((e) => logError(repo.log, 'refresh', e));
    }, WATCHER_SETTLE_MS);
    return repo;
  }

  get root(): string {
    return this.engine.root;
  }

  /** The latest snapshot (set by the first refresh in `open`, so always present afterwards). */
  get state(): StatusSnapshot {
    if (!this._state) throw new Error('repository state read before the first refresh');
    return this._state;
  }

  get operationRunning(): boolean {
    return this.operations > 0;
  }

  /** The engine is opened with the author from the settings; reopen it when they changed. */
  private async applyAuthorSetting(): Promise<void> {
    const author = readSettings(this.rootUri).author;
    const current = this.engine.options.author ?? {};
    if (author.name !== current.name || author.email !== current.email) this.engine = await Repository.open(this.root, { author });
  }

  /** Repository-relative path of a file inside the work tree (never inside `.patch/`), else undefined. */
  relativePath(fsPath: string): string | undefined {
    const prefix = this.root.endsWith(sep) ? this.root : this.root + sep;
    if (!fsPath.startsWith(prefix)) return undefined;
    const rel = fsPath.slice(prefix.length).split(sep).join('/');
    if (!rel || rel === PATCH_DIR || rel.startsWith(PATCH_DIR + '/')) return undefined;
    return rel;
  }

  absolutePath(rel: string): string {
    return vscode.Uri.joinPath(this.rootUri, ...rel.split('/')).fsPath;
  }

  /**
   * Run one change: refused in Restricted Mode when it writes; progress in the Source Control view
   * (or a notification); retried when the repository lock is busy; logged; followed by a full
   * refresh that has finished when the returned promise settles. Errors are logged and rethrown
   * for the command layer to show once.
   */
  async run<T>(operation: string, body: OperationBody<T>, opts: RunOptions = {}): Promise<T> {
    if ((opts.write ?? true) && !vscode.workspace.isTrusted) {
      throw new ShellError(`${operation} is not available in Restricted Mode. Trust this workspace to make changes.`, 'warning');
    }
    this.operations++;
    this._onDidRunOperation.fire({ operation, phase: 'start' });
    const started = Date.now();
    this.log.info(`${operation} (${this.root})`);
    let error: unknown;
    try {
      const progress = opts.progress ?? 'scm';
      const options: vscode.ProgressOptions =
        progress === 'scm'
          ? { location: vscode.ProgressLocation.SourceControl }
          : { location: vscode.ProgressLocation.Notification, title: progress.title, cancellable: !!progress.cancellable };
      await this.applyAuthorSetting();
      return await vscode.window.withProgress(options, (p, token) => this.withLockRetry(operation, () => body(this.engine, p, token), token));
    } catch (e) {
      error = e;
      logError(this.log, operation, e);
      throw e;
    } finally {
      try {
        await this.refresh();
      } catch (e) {
        logError(this.log, `refresh after ${operation}`, e);
      }
      this.operations--;
      this.log.info(`${operation} ${error ? 'failed' : 'done'} in ${Date.now() - started} ms`);
      this._onDidRunOperation.fire({ operation, phase: 'end', error });
    }
  }

  private async withLockRetry<T>(operation: string, fn: () => Promise<T>, token: vscode.CancellationToken): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!isPatchworkError(e, 'LOCKED') || attempt >= LOCK_ATTEMPTS || token.isCancellationRequested) throw e;
        this.log.warn(`${operation}: the repository is locked; trying again (${attempt}/${LOCK_ATTEMPTS - 1})`);
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
  }

  /** A full refresh (walks the work tree); resolves when the view's state is up to date. */
  refresh(): Promise<void> {
    return this.enqueue({ full: true, state: false, paths: new Set() });
  }

  private onWatch(batch: WatchBatch): void {
    if (this.disposed) return;
    this.enqueue({ full: batch.full, state: batch.repositoryState, paths: new Set(batch.paths) }).catch((e) => logError(this.log, 'refresh', e));
  }

  /** Coalesce: requests that arrive while a refresh runs are merged into the next one. */
  private enqueue(req: RefreshRequest): Promise<void> {
    if (this.pending) {
      this.pending.full ||= req.full;
      this.pending.state ||= req.state;
      for (const p of req.paths) this.pending.paths.add(p);
    } else {
      this.pending = req;
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.disposed) {
      const req = this.pending;
      this.pending = undefined;
      await this.refreshOnce(req);
    }
  }

  private async refreshOnce(req: RefreshRequest): Promise<void> {
    const prev = this._state;
    const writeStatCache = vscode.workspace.isTrusted;
    let next: StatusSnapshot | undefined;
    const started = performance.now();
    if (prev && !req.full && req.paths.size <= PARTIAL_LIMIT && (await repoStamp(this.engine)) === prev.stamp) {
      // HEAD, refs and the index are as the last snapshot saw them.
      if (!req.paths.size) {
        this.stats.skipped++;
        return;
      }
      next = await partialStatus(this.engine, prev, [...req.paths]);
      if (next) {
        this.stats.partial++;
        this.stats.lastPartialMs = performance.now() - started;
        this.log.trace(`refresh: ${req.paths.size} path(s) in ${this.stats.lastPartialMs.toFixed(1)} ms`);
      }
    }
    if (!next) {
      next = await fullStatus(this.engine, { writeStatCache });
      this.stats.full++;
      this.stats.lastFullMs = performance.now() - started;
      this.log.trace(`refresh: full in ${this.stats.lastFullMs.toFixed(1)} ms`);
    }
    if (this.disposed) return;
    this._state = next;
    this._onDidChangeState.fire(next);
  }

  /** Run a read-only query on the engine (branch lists, history, stashes): no progress, no refresh. */
  read<T>(query: (repo: Repository) => Promise<T>): Promise<T> {
    return query(this.engine);
  }

  /**
   * Bytes of a file at a ref: `~` (the staging area; "ours" for a conflict), `HEAD`, or any
   * revision. Undefined when the file does not exist there.
   */
  async readFile(rel: string, ref: string): Promise<Buffer | undefined> {
    const repo = this.engine;
    if (ref === INDEX_REF) {
      const ix = await repo.readIndex();
      const e = ix.entries.get(rel) ?? ix.conflicts.get(rel)?.ours;
      return e ? repo.readBlob(e.id) : undefined;
    }
    const id = ref === 'HEAD' ? await repo.headCommit() : await resolveRevision(repo, ref).catch(() => undefined);
    if (!id) return undefined;
    const entry = await lookupPath(repo, (await repo.readCommit(id)).tree, rel);
    return entry && entry.mode !== '40000' ? repo.readBlob(entry.id) : undefined;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.settleTimer);
    this.watcher.dispose();
    this._onDidChangeState.dispose();
    this._onDidRunOperation.dispose();
  }
}
