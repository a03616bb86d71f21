/**
 * Sync for one repository: its peer (peer.ts), its collaborators as the Collaborators view shows
 * them (online or not, last seen, commits they have that we lack), the incoming/outgoing counts of
 * the sync item (`$(sync) 2↓ 1↑`), auto-fetch, and fetch/pull/push/sync through
 * `PatchworkRepository.run` (notification progress with objects and bytes, Cancel, lock retries,
 * a refresh afterwards). Pushes other peers make to us raise a notification when they could not be
 * fast-forwarded ("Merge" / "Show").
 *
 * State is replaced, never mutated in place, and `onDidChange` fires (debounced for bursts) so the
 * status bar and the tree re-render from it.
 */
import * as vscode from 'vscode';
import { HEADS, merge, trackingRefs, type MergeResult } from '../engine';
import { ShellError, errorText, logError } from './errors';
import type { Log } from './log';
import type { Collaborator, Endpoint, FetchSummary, Outcome, PushSummary, PullSummary, ServiceEvent, SyncOptions } from './peer-host';
import { hostCall, type PeerHostLoader } from './peerHost';
import { RepositoryPeer, type StatusBarContribution } from './peer';
import { compareReach } from './reach';
import type { OperationProgress, PatchworkRepository } from './repository';
import { onDidChangeSettings, readPeerSettings } from './settings';
import { deliveredWhy, peerItem, plural, progressLine, pullReport, pushReport, syncTitle, syncTooltip, type Report, type SyncCounts } from './syncLabels';
import type { UI } from './ui';

/** How many of a collaborator's commits the view lists. */
export const LIST_LIMIT = 50;
/** The most commits one count walks; beyond it the numbers show "+". */
const WALK_LIMIT = 5_000;
/** A probe (ping every collaborator) runs at most this often unless asked for explicitly. */
const PROBE_INTERVAL_MS = 10_000;

export interface CollaboratorStatus extends Collaborator {
  /** undefined: not known yet (never probed or fetched from). */
  readonly online: boolean | undefined;
  readonly rttMs?: number;
  /** Commits on any of their branches (as last fetched) that none of ours contains, newest first, at most LIST_LIMIT. */
  readonly incoming: readonly string[];
  readonly incomingCount: number;
  readonly capped: boolean;
}

export interface SyncHooks {
  /** Reveal a collaborator in the Collaborators view (the "Show" action). */
  showCollaborator(sync: RepositorySync, peerId: string): void;
}

interface Reachability {
  readonly incoming: readonly string[];
  readonly count: number;
  readonly capped: boolean;
}

export class RepositorySync implements vscode.Disposable {
  readonly peer: RepositoryPeer;
  private raw: readonly Collaborator[] = [];
  private reach = new Map<string, Reachability>();
  private online = new Map<string, { online: boolean; rttMs?: number }>();
  private _counts: SyncCounts | undefined;
  private _problem: string | undefined;
  private _running: string | undefined;
  /** The last progress lines a transfer reported (for the log and the tests). */
  readonly progressLines: string[] = [];
  private countKey = '';
  private counting: Promise<void> | undefined;
  private countAgain = false;
  private lastProbe = 0;
  private autoFetchTimer: NodeJS.Timeout | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  private recountTimer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private started = false;
  private disposed = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  /** Counts, collaborators, peer state or the running operation changed (debounced). */
  readonly onDidChange = this._onDidChange.event;
  /** The sync item (and, when our peer is not the one serving, a peer item) for the status bar. */
  readonly contribution: StatusBarContribution;

  constructor(
    readonly repo: PatchworkRepository,
    private readonly host: PeerHostLoader,
    private readonly log: Log,
    private readonly ui: UI,
    private readonly hooks: SyncHooks,
    /** The repository's peer if it was created (and perhaps started) before the repository opened. */
    peer?: RepositoryPeer,
  ) {
    this.peer = peer ?? new RepositoryPeer(repo, host, log);
    const commands = () => this.statusCommands();
    this.contribution = {
      get commands() {
        return commands();
      },
      onDidChange: this.onDidChange,
    };
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(repo.rootUri, '.patch/{patchwork.toml,refs/peers/**}'));
    const onFile = (uri: vscode.Uri) => (uri.path.endsWith('/patchwork.toml') ? this.scheduleReload() : this.scheduleRecount());
    this.disposables.push(
      this.peer,
      watcher,
      watcher.onDidChange(onFile),
      watcher.onDidCreate(onFile),
      watcher.onDidDelete(onFile),
      this.peer.onDidChangeState(() => this.changed(0)),
      this.peer.onEvent((e) => this.onServiceEvent(e)),
      repo.onDidChangeState(() => this.scheduleRecount()),
      onDidChangeSettings((e) => {
        if (e.affectsConfiguration('patchwork.autoFetch', repo.rootUri)) this.scheduleAutoFetch();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.start()),
      this._onDidChange,
    );
  }

  // ---------------------------------------------------------------- state

  get counts(): SyncCounts | undefined {
    return this._counts;
  }

  /** Why the collaborator list cannot be read (a broken patchwork.toml), if it cannot. */
  get problem(): string | undefined {
    return this._problem;
  }

  get running(): string | undefined {
    return this._running;
  }

  get collaborators(): readonly CollaboratorStatus[] {
    return this.raw.map((c) => {
      const o = this.online.get(c.peerId);
      const r = this.reach.get(c.peerId);
      return { ...c, online: o?.online, rttMs: o?.rttMs, incoming: r?.incoming ?? [], incomingCount: r?.count ?? 0, capped: r?.capped ?? false };
    });
  }

  collaborator(key: string): CollaboratorStatus | undefined {
    return this.collaborators.find((c) => c.peerId === key || c.name === key);
  }

  private changed(delayMs = 30): void {
    if (this.disposed) return;
    clearTimeout(this.changeTimer);
    this.changeTimer = setTimeout(() => this._onDidChange.fire(), delayMs);
  }

  private statusCommands(): vscode.Command[] {
    if (!vscode.workspace.isTrusted) return [];
    const args = [this.repo.rootUri];
    const out: vscode.Command[] = [
      { command: 'patchwork.sync', title: syncTitle(this._counts, !!this._running), tooltip: syncTooltip(this._counts, this.peer.state, this.raw.length, this._running), arguments: args },
    ];
    const item = peerItem(this.peer.state);
    if (item) out.push({ command: item.command, title: item.title, tooltip: item.tooltip, arguments: args });
    return out;
  }

  // ---------------------------------------------------------------- life

  /** Read the collaborators, start the peer (per the settings), count, and schedule auto-fetch. Called after activation, and again when the workspace is trusted. */
  async start(): Promise<void> {
    if (this.disposed) return;
    // Restricted Mode: the peer only says why it does not start. The collaborator list is read (by
    // the peer worker, which is not started) once the workspace is trusted, which calls this again.
    if (!vscode.workspace.isTrusted) return this.peer.start();
    const first = !this.started;
    this.started = true;
    if (first) await this.reload();
    await this.peer.start();
    if (first) await this.recount();
    if (this.raw.length) this.scheduleAutoFetch(0);
    else this.scheduleAutoFetch();
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 200);
  }

  /** Re-read the collaborator list (patchwork.toml). */
  async reload(): Promise<void> {
    const host = this.host.current ?? (this.started ? await this.host.load() : undefined);
    if (!host || this.disposed) return;
    try {
      const list = await hostCall(host.listCollaborators(this.repo.root));
      const before = JSON.stringify(this.raw.map((c) => c.peerId));
      this.raw = list;
      this._problem = undefined;
      if (JSON.stringify(list.map((c) => c.peerId)) !== before) this.scheduleRecount(0);
    } catch (e) {
      this._problem = errorText(e);
      this.raw = [];
    }
    this.changed();
  }

  private scheduleRecount(delayMs = 100): void {
    if (!this.started) return;
    clearTimeout(this.recountTimer);
    this.recountTimer = setTimeout(() => void this.recount(), delayMs);
  }

  /** Recompute the counts (serialized; a request during a count runs one more afterwards). */
  recount(): Promise<void> {
    if (this.counting) {
      this.countAgain = true;
      return this.counting;
    }
    this.counting = (async () => {
      do {
        this.countAgain = false;
        try {
          await this.countOnce();
        } catch (e) {
          logError(this.log, 'Counting incoming and outgoing commits', e);
        }
      } while (this.countAgain && !this.disposed);
    })().finally(() => (this.counting = undefined));
    return this.counting;
  }

  private async countOnce(): Promise<void> {
    const head = this.repo.state.head;
    const collaborators = this.raw;
    await this.repo.read(async (engine) => {
      const tracking = await Promise.all(collaborators.map((c) => trackingRefs(engine, c.peerId).catch(() => ({}) as Record<string, string>)));
      const ours = head.id ? [head.id] : [];
      const ourTips = [...new Set([...ours, ...(await engine.refs.list(HEADS)).map((r) => r.id)])];
      const branch = head.kind === 'branch' ? head.branch : undefined;
      const key = JSON.stringify([ours, ourTips, branch, collaborators.map((c) => c.peerId), tracking]);
      if (key === this.countKey) return;
      const read = (id: string) => engine.readCommit(id);
      const headsOf = (t: Record<string, string>) => Object.entries(t).filter(([k]) => k.startsWith('heads/')).map(([, v]) => v);
      let counts: SyncCounts | undefined;
      if (collaborators.length) {
        const theirBranch = branch ? tracking.flatMap((t) => t[`heads/${branch}`] ?? []) : [];
        const theirHeads = tracking.flatMap(headsOf);
        const [inc, out] = await Promise.all([compareReach(read, ours, theirBranch, WALK_LIMIT), compareReach(read, ours, theirHeads, WALK_LIMIT)]);
        counts = { incoming: inc.onlyB.length, outgoing: out.onlyA.length, capped: inc.capped || out.capped, branch };
      }
      const reach = new Map<string, Reachability>();
      for (const [i, c] of collaborators.entries()) {
        const theirs = headsOf(tracking[i]!);
        if (!theirs.length) continue;
        const r = await compareReach(read, ourTips, theirs, WALK_LIMIT);
        reach.set(c.peerId, { incoming: r.onlyB.slice(0, LIST_LIMIT), count: r.onlyB.length, capped: r.capped });
      }
      if (this.disposed) return;
      this.countKey = key;
      this._counts = counts;
      this.reach = reach;
      this.changed();
    });
  }

  // ---------------------------------------------------------------- auto-fetch and probes

  private scheduleAutoFetch(delayMs?: number): void {
    clearTimeout(this.autoFetchTimer);
    this.autoFetchTimer = undefined;
    const seconds = readPeerSettings(this.repo.rootUri).autoFetchSeconds;
    if (!seconds || this.disposed || !this.started) return;
    this.autoFetchTimer = setTimeout(() => void this.autoFetch(), delayMs ?? seconds * 1000);
  }

  private async autoFetch(): Promise<void> {
    try {
      if (vscode.workspace.isTrusted && this.raw.length && !this._running && !this.repo.operationRunning) {
        await this.peer.recheckExternal();
        const list = await this.fetchQuietly([]);
        const offline = list.filter((o) => !o.ok).map((o) => o.name);
        this.log.debug(`Auto-fetch (${this.repo.root}): ${list.filter((o) => o.ok).length} answered${offline.length ? `; no answer from ${offline.join(', ')}` : ''}`);
      }
    } catch (e) {
      this.log.warn(`Auto-fetch (${this.repo.root}): ${errorText(e)}`);
    } finally {
      this.scheduleAutoFetch();
    }
  }

  /** Fetch without a notification (auto-fetch): the sync item spins, failures are only logged. */
  private async fetchQuietly(peers: string[]): Promise<Outcome<FetchSummary>[]> {
    this.setRunning('Fetching');
    try {
      const ep = await this.peer.endpoint();
      const list = await hostCall(ep.fetch(peers));
      this.noteOutcomes(list);
      if (list.some((o) => o.ok && o.result.newTags.length)) await this.repo.refresh();
      await this.reload();
      await this.recount();
      return list;
    } finally {
      this.setRunning(undefined);
    }
  }

  /** Ping collaborators to show who is online (at most every 10 s unless `force`). */
  async probe(force = false): Promise<void> {
    if (!vscode.workspace.isTrusted || !this.raw.length) return;
    if (!force && Date.now() - this.lastProbe < PROBE_INTERVAL_MS) return;
    this.lastProbe = Date.now();
    try {
      await this.peer.recheckExternal();
      const ep = await this.peer.endpoint();
      const probes = await hostCall(ep.probe());
      const online = new Map(this.online);
      for (const p of probes) online.set(p.peer, { online: p.online, rttMs: p.rttMs });
      this.online = online;
      await this.reload(); // last seen
    } catch (e) {
      this.log.warn(`Checking who is online (${this.repo.root}): ${errorText(e)}`);
    }
  }

  private noteOutcomes(list: Outcome<unknown>[]): void {
    const online = new Map(this.online);
    for (const o of list) {
      if (o.ok) online.set(o.peer, { online: true, rttMs: online.get(o.peer)?.rttMs });
      else if (o.offline) online.set(o.peer, { online: false });
    }
    this.online = online;
    this.changed();
  }

  private setRunning(what: string | undefined): void {
    this._running = what;
    this.changed(0);
  }

  // ---------------------------------------------------------------- operations

  /**
   * One transfer through `repo.run`: notification progress (objects and bytes per peer), Cancel
   * (an AbortSignal for the transfer), the sync item spinning, and a refresh afterwards.
   */
  private async transfer<T>(operation: string, title: string, body: (ep: Endpoint, opts: SyncOptions, progress: OperationProgress) => Promise<T>): Promise<T> {
    if (!this.started) await this.start();
    this.setRunning(title);
    try {
      return await this.repo.run(
        operation,
        async (_engine, progress, token) => {
          await this.peer.recheckExternal();
          const ep = await this.peer.endpoint();
          const ac = new AbortController();
          const sub = token.onCancellationRequested(() => ac.abort(new Error('cancelled')));
          const names = new Map(this.raw.map((c) => [c.peerId, c.name]));
          let last = 0;
          const opts: SyncOptions = {
            signal: ac.signal,
            onProgress: (p) => {
              const now = Date.now();
              if (now - last < 100 && p.phase !== 'done') return;
              last = now;
              const line = progressLine(p, names);
              this.progressLines.push(line);
              if (this.progressLines.length > 20) this.progressLines.shift();
              this.log.trace(`${operation}: ${line}`);
              progress.report({ message: line });
            },
          };
          try {
            const result = await body(ep, opts, progress);
            if (ac.signal.aborted) throw new ShellError(`${operation} cancelled; nothing was changed.`, 'info');
            return result;
          } finally {
            sub.dispose();
          }
        },
        { progress: { title: `Patchwork: ${title}`, cancellable: true } },
      );
    } finally {
      this.setRunning(undefined);
      await this.reload();
      await this.recount();
    }
  }

  fetch(peers: string[] = []): Promise<Outcome<FetchSummary>[]> {
    return this.transfer('Fetch', 'Fetching', async (ep, opts) => {
      const list = await hostCall(ep.fetch(peers, opts));
      this.noteOutcomes(list);
      return list;
    });
  }

  /** Pull from `peers` (default: every collaborator). */
  async pull(peers: string[] = []): Promise<{ outcomes: Outcome<PullSummary>[]; report: Report }> {
    return this.transfer('Pull', 'Pulling', (ep, opts) => this.pullWith(ep, peers, opts));
  }

  private async pullWith(ep: Endpoint, peers: string[], opts: SyncOptions): Promise<{ outcomes: Outcome<PullSummary>[]; report: Report }> {
    const outcomes = await hostCall(ep.pull(peers, opts));
    this.noteOutcomes(outcomes);
    return { outcomes, report: pullReport(outcomes, peers.length > 0) };
  }

  /** Push to `peers` (default: every collaborator); then fetch back from those whose branch moved, so the counts are right. */
  async push(peers: string[] = []): Promise<{ outcomes: Outcome<PushSummary>[]; report: Report }> {
    return this.transfer('Push', 'Pushing', (ep, opts) => this.pushWith(ep, peers, opts));
  }

  private async pushWith(ep: Endpoint, peers: string[], opts: SyncOptions): Promise<{ outcomes: Outcome<PushSummary>[]; report: Report }> {
    const outcomes = await hostCall(ep.push(peers, opts));
    this.noteOutcomes(outcomes);
    const moved = outcomes.filter((o) => o.ok && o.result.outcome !== 'delivered').map((o) => o.peer);
    if (moved.length && !opts.signal?.aborted) await hostCall(ep.fetch(moved, { signal: opts.signal })).catch(() => undefined);
    return { outcomes, report: pushReport(outcomes, peers.length > 0) };
  }

  /** Pull, then push unless the pull needs the user (conflicts, local changes in the way, nobody answered). */
  async sync(): Promise<{ pull: Report; push?: Report }> {
    return this.transfer('Sync', 'Syncing', async (ep, opts) => {
      const pulled = await this.pullWith(ep, [], opts);
      if (pulled.report.stop || opts.signal?.aborted) return { pull: pulled.report };
      const pushed = await this.pushWith(ep, [], opts);
      return { pull: pulled.report, push: pushed.report };
    });
  }

  /** Merge a collaborator's copy of `branch` (as fetched) into the current branch. */
  async mergeFrom(peerId: string, branch: string): Promise<MergeResult> {
    const name = this.collaborator(peerId)?.name ?? peerId.slice(-8);
    return this.repo.run('Merge', async (engine) => {
      const id = (await trackingRefs(engine, peerId))[`heads/${branch}`];
      if (!id) throw new ShellError(`Nothing to merge: ${name} has no branch ${branch} here.`, 'info');
      return merge(engine, id, { theirName: `${name}/${branch}` });
    });
  }

  // ---------------------------------------------------------------- what the serving peer reports

  private onServiceEvent(e: ServiceEvent): void {
    switch (e.type) {
      case 'request':
      case 'served':
        if (this.online.get(e.peer)?.online !== true) {
          this.online = new Map(this.online).set(e.peer, { online: true });
          this.changed();
        }
        break;
      case 'pushed':
        this.online = new Map(this.online).set(e.peer, { online: true });
        this.scheduleRecount(0);
        this.scheduleReload();
        this.onPushed(e);
        break;
      case 'cloned':
        this.scheduleReload();
        if (e.invited) void this.ui.message('info', `${e.name} cloned ${basenameOf(this.repo.root)} with your invite and is now a ${e.role}.`);
        break;
      case 'access-changed':
      case 'discovered':
        this.scheduleReload();
        break;
      case 'config-error':
        void this.ui.message('warning', `${e.message} Until it is fixed no peer is admitted.`);
        break;
      default:
        break;
    }
  }

  private onPushed(e: Extract<ServiceEvent, { type: 'pushed' }>): void {
    const p = e.push;
    const commits = plural(p.commits, 'commit');
    if (p.outcome === 'updated' || p.outcome === 'created') {
      vscode.window.setStatusBarMessage(`$(arrow-down) ${e.name} pushed ${commits}: ${p.branch ?? ''} updated`, 5000);
      return;
    }
    const current = this.repo.state.head.kind === 'branch' ? this.repo.state.head.branch : undefined;
    if (p.outcome !== 'delivered' || !p.branch || p.branch !== current || !['diverged', 'dirty', 'busy'].includes(p.reason ?? '')) return;
    const branch = p.branch;
    const text = `${e.name} pushed ${commits} to ${branch}, which could not be fast-forwarded: ${deliveredWhy(p.reason, branch)}. They are kept under ${e.name}'s branches until you merge them.`;
    void this.ui.message('info', text, {}, 'Merge', 'Show').then(async (answer) => {
      if (answer === 'Show') this.hooks.showCollaborator(this, e.peer);
      if (answer !== 'Merge') return;
      try {
        const r = await this.mergeFrom(e.peer, branch);
        if (r.kind === 'conflicts') {
          void this.ui.message('warning', `Merging ${e.name}/${branch} stopped with conflicts in ${plural(r.conflicts.length, 'file')} (see Merge Changes). Resolve and stage them, then commit; or run "Patchwork: Abort Merge".`);
        } else {
          vscode.window.setStatusBarMessage(`$(check) Merged ${e.name}/${branch}`, 5000);
        }
      } catch (err) {
        if (err instanceof ShellError) void this.ui.message(err.severity, err.message);
        else {
          logError(this.log, 'Merge', err);
          if ((await this.ui.message('error', errorText(err), {}, 'Show Log')) === 'Show Log') this.log.show();
        }
      }
    });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.autoFetchTimer);
    clearTimeout(this.changeTimer);
    clearTimeout(this.recountTimer);
    clearTimeout(this.reloadTimer);
    this.disposables.forEach((d) => d.dispose());
  }
}

function basenameOf(p: string): string {
  return p.replace(/[/\\]+$/, '').split(/[/\\]/).pop() ?? p;
}
