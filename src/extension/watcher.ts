/**
 * One file watcher per repository (no polling): events are sorted into work-tree paths and
 * `.patch/` state changes (HEAD, refs, index, merge state — a commit from the CLI, a push received
 * from a peer), collected for a short quiet period and delivered as one batch. Object writes, the
 * lock file and temporary files are ignored.
 */
import * as vscode from 'vscode';
import { classify } from './watchPaths';

export interface WatchBatch {
  /** Repository-relative work-tree paths that changed (files or folders). */
  readonly paths: ReadonlySet<string>;
  /** HEAD, a ref, the index or the merge state changed. */
  readonly repositoryState: boolean;
  /** `.patch/` itself appeared or disappeared, or a `.patchignore` changed: only a full refresh is right. */
  readonly full: boolean;
}

/** Quiet period after the last event, and the longest a busy stream of events can delay a batch. */
export const DEBOUNCE_MS = 150;
export const MAX_DELAY_MS = 1000;

export class RepositoryWatcher implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private paths = new Set<string>();
  private repositoryState = false;
  private full = false;
  private timer: NodeJS.Timeout | undefined;
  private firstEventAt = 0;

  constructor(
    private readonly root: string,
    private readonly onBatch: (batch: WatchBatch) => void,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '**'));
    const onEvent = (uri: vscode.Uri) => this.add(uri.fsPath);
    this.disposables.push(watcher, watcher.onDidCreate(onEvent), watcher.onDidChange(onEvent), watcher.onDidDelete(onEvent));
  }

  private add(fsPath: string): void {
    const c = classify(this.root, fsPath);
    if (c.kind === 'ignore') return;
    if (c.kind === 'worktree') this.paths.add(c.path);
    else if (c.kind === 'state') this.repositoryState = true;
    else this.full = true;
    const now = Date.now();
    if (!this.timer) this.firstEventAt = now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.firstEventAt + MAX_DELAY_MS - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const batch: WatchBatch = { paths: this.paths, repositoryState: this.repositoryState, full: this.full };
    this.paths = new Set();
    this.repositoryState = false;
    this.full = false;
    this.onBatch(batch);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}
