/**
 * What `activate` returns (`vscode.extensions.getExtension('patchwork.patchwork-vcs').exports`).
 * `test` is internal: present only when the extension runs in development or test mode, for the
 * integration tests (answering modal dialogs, reading refresh counters).
 */
import type * as vscode from 'vscode';
import type { ResourceGroupId } from './labels';
import type { RefreshStats } from './repository';
import type { StatusSnapshot } from './status';
import type { Responder } from './ui';

export interface RepositoryApi {
  readonly rootUri: vscode.Uri;
  readonly state: StatusSnapshot;
  readonly sourceControl: vscode.SourceControl;
  /** The resource groups as given to VS Code ("Merge Changes", "Staged Changes", "Changes"). */
  readonly groups: Readonly<Record<ResourceGroupId, vscode.SourceControlResourceGroup>>;
  readonly onDidChangeState: vscode.Event<StatusSnapshot>;
  refresh(): Promise<void>;
}

export interface TestApi {
  /** Answer dialogs (modal confirmations, pickers, input boxes) instead of showing them; undefined restores them. */
  setResponder(responder: Responder | undefined): void;
  /** Refresh counters of a repository (full walks, partial refreshes, skipped events, last durations). */
  refreshStats(root: vscode.Uri): Readonly<RefreshStats> | undefined;
  /** The Explorer decoration of a file (letter, tooltip, theme colour id), if any. */
  decoration(uri: vscode.Uri): { badge?: string; tooltip?: string; color?: string; propagate?: boolean } | undefined;
  /** How long `activate` took, in milliseconds. */
  readonly activationMs: number;
}

export interface PatchworkApi {
  readonly version: 1;
  /** Resolves when the first scan of the workspace for repositories has finished. */
  whenReady(): Promise<void>;
  readonly repositories: readonly RepositoryApi[];
  getRepository(uri: vscode.Uri): RepositoryApi | undefined;
  readonly onDidOpenRepository: vscode.Event<RepositoryApi>;
  readonly onDidCloseRepository: vscode.Event<vscode.Uri>;
  readonly test?: TestApi;
}
