/**
 * Activation: wire the parts together and return quickly. Repositories are discovered after
 * `activate` returns; nothing here loads libp2p (the peer starts lazily later, see peer.ts).
 */
import * as vscode from 'vscode';
import type { PatchworkApi, RepositoryApi } from './api';
import { registerCommands } from './commands';
import { registerPeerCommands } from './commands/peer';
import { ContentProvider } from './contentProvider';
import { DecorationProvider } from './decorations';
import { logError } from './errors';
import { createLog } from './log';
import { RepositoryManager } from './model';
import { Peers } from './peers';
import type { PatchworkRepository } from './repository';
import { RepositoryScm } from './scm';
import { UI } from './ui';

export function activate(context: vscode.ExtensionContext): PatchworkApi {
  const started = performance.now();
  const log = createLog();
  const ui = new UI();
  const manager = new RepositoryManager(log);
  const scms = new Map<PatchworkRepository, RepositoryScm>();
  const decorations = new DecorationProvider(manager);

  context.subscriptions.push(
    log,
    manager,
    manager.onDidOpenRepository((repo) => scms.set(repo, new RepositoryScm(repo))),
    manager.onDidCloseRepository((repo) => {
      scms.get(repo)?.dispose();
      scms.delete(repo);
    }),
    { dispose: () => scms.forEach((s) => s.dispose()) },
    new ContentProvider(manager),
    decorations,
  );
  const commandContext = { manager, ui, log, scmOf: (repo: PatchworkRepository) => scms.get(repo) };
  // After the SCM listener above, so a repository's SourceControl exists when its sync item is added.
  const peers = new Peers(manager, (repo) => scms.get(repo), log, ui, context.asAbsolutePath('out/peer.js'), context.globalStorageUri.scheme === 'file' ? context.globalStorageUri.fsPath : undefined);
  context.subscriptions.push(peers, ...registerCommands(commandContext), ...registerPeerCommands(commandContext, peers));
  stopPeers = () => peers.stopAll();

  const scmOf = (repo: PatchworkRepository) => {
    const scm = scms.get(repo);
    if (!scm) throw new Error(`repository ${repo.root} is closed`);
    return scm;
  };
  const apiOf = (repo: PatchworkRepository): RepositoryApi => ({
    rootUri: repo.rootUri,
    get state() {
      return repo.state;
    },
    get sourceControl() {
      return scmOf(repo).sourceControl;
    },
    get groups() {
      return scmOf(repo).groups;
    },
    onDidChangeState: repo.onDidChangeState,
    refresh: () => repo.refresh(),
  });

  // After activate returns: scan the workspace for repositories and, meanwhile, load the peer module
  // (libp2p); each repository's peer starts as soon as the scan has found it (peers.ts).
  setImmediate(() => {
    void peers.start();
    manager
      .start()
      .then(() => {
        peers.timeline.mark('workspace scanned, repositories opened');
        return peers.scanned();
      })
      .catch((e) => logError(log, 'Scanning the workspace for repositories', e));
  });

  const activationMs = performance.now() - started;
  peers.timeline.setOrigin(started + activationMs);
  log.info(`Patchwork activated in ${activationMs.toFixed(1)} ms (VS Code ${vscode.version})`);
  const api: PatchworkApi = {
    version: 1,
    whenReady: async () => {
      await new Promise((r) => setImmediate(r));
      await manager.whenReady();
    },
    get repositories() {
      return manager.repositories.map(apiOf);
    },
    getRepository: (uri) => {
      const repo = manager.getRepository(uri);
      return repo && apiOf(repo);
    },
    onDidOpenRepository: (listener, thisArg, disposables) => manager.onDidOpenRepository((r) => listener.call(thisArg, apiOf(r)), undefined, disposables),
    onDidCloseRepository: (listener, thisArg, disposables) => manager.onDidCloseRepository((r) => listener.call(thisArg, r.rootUri), undefined, disposables),
    test:
      context.extensionMode === vscode.ExtensionMode.Production
        ? undefined
        : {
            setResponder: (r) => ui.setResponder(r),
            refreshStats: (root) => manager.getRepository(root)?.stats,
            decoration: (uri) => {
              const d = decorations.provideFileDecoration(uri);
              return d && { badge: d.badge, tooltip: d.tooltip, color: (d.color as vscode.ThemeColor | undefined)?.id, propagate: d.propagate };
            },
            activationMs,
            activatedAt: started + activationMs,
            peer: (root) => {
              const repo = manager.getRepository(root);
              const sync = repo && peers.syncOf(repo);
              if (!sync) return undefined;
              return {
                state: sync.peer.state,
                startMs: sync.peer.startMs,
                onlineAt: sync.peer.onlineAt,
                counts: sync.counts,
                running: sync.running,
                progress: [...sync.progressLines],
                collaborators: sync.collaborators.map((c) => ({ peerId: c.peerId, name: c.name, role: c.role, online: c.online, lastSeen: c.lastSeen, incomingCount: c.incomingCount })),
                statusBar: (scms.get(repo)?.sourceControl.statusBarCommands ?? []).map((c) => ({ command: c.command, title: c.title, tooltip: c.tooltip })),
              };
            },
            peerModuleLoadMs: () => peers.host.loadMs,
            peerWorkerRunning: () => peers.host.current !== undefined,
            startupTimeline: () => peers.timeline.list(),
            collaboratorRows: () => peers.view.rows(),
            collaboratorNode: (root, name) => {
              const repo = manager.getRepository(root);
              const sync = repo && peers.syncOf(repo);
              const c = sync?.collaborator(name);
              return sync && c ? peers.view.collaboratorNode(sync, c.peerId) : undefined;
            },
            collaboratorSelection: () => peers.view.treeView.selection.map((n) => (n.kind === 'collaborator' ? n.sync.collaborator(n.peerId)?.name ?? n.peerId : n.kind)),
          },
  };
  return api;
}

let stopPeers: (() => Promise<void>) | undefined;

/** Stop the peers before the extension host goes away, so each releases its .patch/peer.json. */
export function deactivate(): Promise<void> | undefined {
  return stopPeers?.();
}
