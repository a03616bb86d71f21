/**
 * What `activate` returns (`vscode.extensions.getExtension('patchwork.patchwork-vcs').exports`).
 * `test` is internal: present only when the extension runs in development or test mode, for the
 * integration tests (answering modal dialogs, reading refresh counters).
 */
import type * as vscode from 'vscode';
import type { ResourceGroupId } from './labels';
import type { RefreshStats } from './repository';
import type { StartupMark } from './startup';
import type { StatusSnapshot } from './status';
import type { PeerState, SyncCounts } from './syncLabels';
import type { Responder } from './ui';

/** What the tests see of a repository's peer and sync state. */
export interface PeerTestView {
  readonly state: PeerState;
  /** How long the peer took to start (ms), once it has. */
  readonly startMs: number | undefined;
  /** When it came online (`performance.now()` of the extension host). */
  readonly onlineAt: number | undefined;
  readonly counts: SyncCounts | undefined;
  readonly running: string | undefined;
  /** The last progress lines of transfers ("Ada: done 3 objects, 1.1 KiB"). */
  readonly progress: readonly string[];
  readonly collaborators: readonly { peerId: string; name: string; role: string; online: boolean | undefined; lastSeen?: string; incomingCount: number }[];
  /** The SourceControl's status bar items (branch, sync, peer). */
  readonly statusBar: readonly { command: string; title: string; tooltip?: string }[];
}

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
  /** When `activate` returned (`performance.now()` of the extension host). */
  readonly activatedAt: number;
  /** The peer and sync state of the repository at `root`. */
  peer(root: vscode.Uri): PeerTestView | undefined;
  /** How long loading out/peer.js took (ms), once loaded. */
  peerModuleLoadMs(): number | undefined;
  /** Whether the peer worker runs (it is ended after a scan that found no repository). */
  peerWorkerRunning(): boolean;
  /** Start-up milestones (scan, module load, each peer starting and listening), in ms after `activate()` returned. */
  startupTimeline(): readonly StartupMark[];
  /** The Collaborators view's rows ("label — description", two spaces of indent per level). */
  collaboratorRows(): Promise<string[]>;
  /** What is selected in the Collaborators view (collaborator names). */
  collaboratorSelection(): string[];
  /** The Collaborators view's element for a collaborator (what its context menu passes to commands). */
  collaboratorNode(root: vscode.Uri, nameOrPeerId: string): unknown;
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
