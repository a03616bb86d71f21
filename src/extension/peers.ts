/**
 * The peer-to-peer features of the extension: one RepositorySync per open repository (its sync
 * item goes into that repository's status bar at once), the Collaborators view, and the peer
 * module (out/peer.js, in a worker thread: peerHost.ts), which `start()` begins loading right
 * after `activate` returned, while the workspace is scanned. Each repository's peer starts (per
 * the settings) as soon as the scan has found the repository, not after its first status walk: the
 * RepositorySync created when the repository has opened takes over that peer.
 */
import * as vscode from 'vscode';
import { CollaboratorsView } from './collaboratorsView';
import { logError } from './errors';
import type { Log } from './log';
import type { RepositoryManager, WillOpenRepository } from './model';
import { RepositoryPeer } from './peer';
import { PeerHostLoader } from './peerHost';
import type { PatchworkRepository } from './repository';
import type { RepositoryScm } from './scm';
import { StartupTimeline } from './startup';
import { RepositorySync } from './sync';
import type { UI } from './ui';

/** How long after the first peer started the peer module's code cache is written (off the start path). */
const CODE_CACHE_SAVE_DELAY_MS = 500;

export class Peers implements vscode.Disposable {
  readonly host: PeerHostLoader;
  readonly view: CollaboratorsView;
  /** Milestones from `activate()` returning to the peers listening (the log and the test API report them). */
  readonly timeline = new StartupTimeline();
  private readonly syncs = new Map<PatchworkRepository, { sync: RepositorySync; subs: vscode.Disposable[] }>();
  /** Peers started for repositories that are still opening (first status walk), by root. */
  private readonly early = new Map<string, RepositoryPeer>();
  private readonly disposables: vscode.Disposable[] = [];
  private started = false;
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(
    manager: RepositoryManager,
    private readonly scmOf: (repo: PatchworkRepository) => RepositoryScm | undefined,
    private readonly log: Log,
    private readonly ui: UI,
    bundle: string,
    /** Folder for the peer module's V8 code cache (the extension's global storage). */
    codeCacheDir?: string,
  ) {
    this.host = new PeerHostLoader(bundle, log, codeCacheDir);
    this.view = new CollaboratorsView(() => this.all);
    this.disposables.push(
      this.view,
      manager.onWillOpenRepository((r) => this.startEarly(r)),
      this.host.onDidStop((e) => [...this.all.map((x) => x.peer), ...this.early.values()].forEach((p) => p.workerStopped(e))),
      manager.onDidOpenRepository((repo) => this.open(repo)),
      manager.onDidCloseRepository((repo) => this.close(repo)),
    );
    for (const r of manager.repositories) this.open(r);
  }

  get all(): readonly RepositorySync[] {
    return [...this.syncs.values()].map((x) => x.sync);
  }

  syncOf(repo: PatchworkRepository): RepositorySync | undefined {
    return this.syncs.get(repo)?.sync;
  }

  /** A repository was found: start its peer now (once `start()` was called), while the repository opens. */
  private startEarly({ root, opened }: WillOpenRepository): void {
    if (!this.started || this.early.has(root) || this.all.some((s) => s.repo.root === root)) return;
    this.timeline.markOnce(`repository found: ${root}`);
    const peer = new RepositoryPeer({ root, rootUri: vscode.Uri.file(root) }, this.host, this.log, this.timeline);
    this.early.set(root, peer);
    void peer.start().then(() => this.peerStarted());
    // Opened: open() below has handed the peer to the repository's RepositorySync. Not opened: stop it.
    void opened.then((repo) => {
      if (this.early.get(root) !== peer) return;
      this.early.delete(root);
      if (!repo) peer.dispose();
    });
  }

  private open(repo: PatchworkRepository): void {
    if (this.syncs.has(repo)) return;
    this.timeline.markOnce(`repository opened: ${repo.root}`);
    const early = this.early.get(repo.root);
    this.early.delete(repo.root);
    const sync = new RepositorySync(repo, this.host, this.log, this.ui, { showCollaborator: (s, peerId) => void this.view.reveal(s, peerId) }, early);
    const subs: vscode.Disposable[] = [sync.onDidChange(() => this.view.refresh())];
    const scm = this.scmOf(repo);
    if (scm) subs.push(scm.statusBar.addContribution(sync.contribution));
    this.syncs.set(repo, { sync, subs });
    this.view.refresh();
    if (this.started) this.startOne(sync);
  }

  private close(repo: PatchworkRepository): void {
    const x = this.syncs.get(repo);
    if (!x) return;
    this.syncs.delete(repo);
    x.subs.forEach((d) => d.dispose());
    x.sync.dispose();
    this.view.refresh();
  }

  private startOne(sync: RepositorySync): void {
    sync.start().then(
      () => this.peerStarted(),
      (e) => logError(this.log, `Starting the peer for ${sync.repo.root}`, e),
    );
  }

  /**
   * Start the peer worker (it loads the peer module) and every repository's peer; call after
   * activation, before the workspace scan (repositories it finds then start their peers at once).
   * Resolves when the module has loaded (at once in Restricted Mode, which loads no module).
   */
  async start(): Promise<void> {
    if (this.started) return vscode.workspace.isTrusted ? this.host.ready().catch(() => undefined) : undefined;
    this.started = true;
    if (!vscode.workspace.isTrusted) {
      // Restricted Mode: no peer runs (each one says why), so no worker is started to load libp2p.
      // Trusting the workspace starts the peers (sync.ts), and the first of them the worker.
      for (const s of this.all) this.startOne(s);
      return;
    }
    this.timeline.markOnce('peer worker starting');
    try {
      await this.host.load();
      for (const s of this.all) this.startOne(s);
      await this.host.ready();
      this.timeline.markOnce('peer worker running', this.host.bootedAt);
      this.timeline.markOnce(`peer module loaded in the worker (code cache ${this.host.codeCache})`, this.host.loadedAt);
    } catch (e) {
      logError(this.log, 'Loading the peer-to-peer module', e);
    }
  }

  /**
   * The workspace scan has finished: if it found no repository, end the peer worker that `start()`
   * began before the scan (no idle thread stays behind). A repository opened later, or a command
   * that needs the worker (Clone from Peer), starts a new one.
   */
  async scanned(): Promise<void> {
    const none = () => !this.syncs.size && !this.early.size;
    if (none() && (await this.host.stopIfIdle(none))) this.log.info('No repository in the workspace: stopped the peer worker (it starts again when one is opened or cloned)');
  }

  /** Once a peer has started, keep what V8 compiled for the next start of the extension host (codeCache.ts). */
  private peerStarted(): void {
    this.saveTimer ??= setTimeout(() => void this.host.saveCodeCache(), CODE_CACHE_SAVE_DELAY_MS);
  }

  /**
   * Stop every peer (releases .patch/peer.json), save the code cache if not done yet, and end the
   * peer worker; for `deactivate`, which VS Code awaits.
   */
  async stopAll(timeoutMs = 3_000): Promise<void> {
    const stops = [...this.all.map((s) => s.peer), ...this.early.values()].map((p) => p.stop('VS Code is closing'));
    stops.push(this.host.saveCodeCache().then(() => undefined));
    await Promise.race([Promise.allSettled(stops), new Promise((r) => setTimeout(r, timeoutMs))]);
    await this.host.terminate().catch(() => undefined);
  }

  dispose(): void {
    clearTimeout(this.saveTimer);
    for (const r of [...this.syncs.keys()]) this.close(r);
    this.early.forEach((p) => p.dispose());
    this.early.clear();
    this.disposables.forEach((d) => d.dispose());
    // Disposing the peers has asked the worker to stop their nodes: it ends once they have.
    void this.host.terminate().catch(() => undefined);
  }
}
