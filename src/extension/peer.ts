/**
 * Seams for the peer-to-peer half of the extension (pull, push, sync, clone, collaborators), which
 * lands once src/p2p is ready. Nothing here loads libp2p: the p2p layer's `PeerService`
 * (src/p2p/service.ts, one per repository) will be imported lazily (`await import('../p2p')`)
 * after activation returns, so activation stays fast and the bundle's first load has no libp2p.
 *
 * How it plugs in:
 * - A `RepositoryPeer` per open repository adapts `PeerService.start(engineRepo, { owner: 'vscode' })`
 *   (the engine repository comes from `PatchworkRepository.read(r => …)`) to VS Code events; it is
 *   not started in Restricted Mode.
 * - `PatchworkRepository.run(operation, body, { progress: { title, cancellable: true } })` runs a
 *   pull/push/sync with notification progress (report objects/bytes through `progress`) and
 *   cancellation (`token`), the lock retry, the log, and the refresh afterwards.
 * - `StatusBar.addContribution(...)` (statusbar.ts) adds the sync item (`$(sync) 2↓ 1↑`, spinning
 *   while running) next to the branch item in the SourceControl's `statusBarCommands`.
 * - The watcher already refreshes when `.patch/refs/` changes, so a push received from a peer
 *   shows up without more wiring; `.patch/peer.json` and `invites.json` are ignored, and
 *   `patchwork.toml` writes (last-seen times) are skipped by the stamp check.
 */
import type * as vscode from 'vscode';

/** Extra items for a repository's status bar (after the branch item). */
export interface StatusBarContribution {
  readonly commands: readonly vscode.Command[];
  readonly onDidChange: vscode.Event<void>;
}

export type PeerState =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'online'; readonly peerId: string; readonly addresses: readonly string[] }
  /** The peer could not start (port taken, no network); everything local keeps working and the status bar says why. */
  | { readonly kind: 'failed'; readonly reason: string };

/** The extension's view of one repository's peer (an adapter over src/p2p's PeerService). */
export interface RepositoryPeer extends vscode.Disposable {
  readonly state: PeerState;
  readonly onDidChangeState: vscode.Event<PeerState>;
  /** Start the node (idempotent); never rejects: failures end in state `failed`. */
  start(): Promise<void>;
}
