/**
 * Words the peer-to-peer parts of the extension show: the sync item's text and tooltip, one line
 * per collaborator, progress lines, and what a pull, push or sync did. Pure (the node tests check
 * them); the data comes from peer-host.ts as plain objects.
 */
import { deliveredReasonText } from '../p2p/wording';
import type { Outcome, PlainError, PullSummary, PushSummary, SyncProgress } from './peer-host';

/** What the extension knows about its peer (see peer.ts). */
export type PeerState =
  | { readonly kind: 'stopped'; readonly reason: string }
  | { readonly kind: 'starting' }
  /** `discovery`: the optional mechanisms running (mdns, dht, relay, relayServer). */
  | { readonly kind: 'online'; readonly peerId: string; readonly addresses: readonly string[]; readonly discovery: readonly string[] }
  /** Another process (`patchwork start`, another window) serves this repository; VS Code does not start a second peer. */
  | { readonly kind: 'external'; readonly peerId: string; readonly addresses: readonly string[]; readonly owner: string; readonly pid: number }
  /** The peer could not start (port taken, bad address); everything local keeps working and the status bar says why. */
  | { readonly kind: 'failed'; readonly reason: string; readonly short: string };

export interface SyncCounts {
  /** Commits on collaborators' copies of the current branch that HEAD lacks. */
  readonly incoming: number;
  /** Commits of HEAD that no collaborator's fetched branches contain. */
  readonly outgoing: number;
  /** The walk was cut short: the numbers are lower bounds. */
  readonly capped: boolean;
  readonly branch: string | undefined;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export const shortPeer = (peerId: string): string => `…${peerId.slice(-8)}`;

/** "just now", "5 min ago", "3 h ago", "2 days ago", or the date. */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return 'never';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  if (s < 30 * 86_400) return plural(Math.round(s / 86_400), 'day') + ' ago';
  return new Date(t).toISOString().slice(0, 10);
}

/** The sync item: `$(sync) 2↓ 1↑` (Git's form: no numbers when both are 0), spinning while it runs. */
export function syncTitle(counts: SyncCounts | undefined, running: boolean): string {
  const icon = running ? '$(sync~spin)' : '$(sync)';
  if (!counts || (!counts.incoming && !counts.outgoing)) return icon;
  const plus = counts.capped ? '+' : '';
  return `${icon} ${counts.incoming}${plus}↓ ${counts.outgoing}${plus}↑`;
}

export function syncTooltip(counts: SyncCounts | undefined, peer: PeerState, collaborators: number, running: string | undefined): string {
  const lines: string[] = [];
  if (running) lines.push(`${running}…`);
  else if (!collaborators) lines.push('Sync: no collaborators yet (Invite Collaborator or Add Collaborator).');
  else if (counts && (counts.incoming || counts.outgoing)) {
    lines.push(`Sync Changes: pull ${plural(counts.incoming, 'commit')} and push ${plural(counts.outgoing, 'commit')}${counts.branch ? ` (${counts.branch})` : ''}`);
  } else lines.push('Sync Changes (pull, then push)');
  lines.push(peerLine(peer));
  return lines.join('\n');
}

export function peerLine(peer: PeerState): string {
  switch (peer.kind) {
    case 'online':
      return `Peer ${shortPeer(peer.peerId)} listening on ${peer.addresses.map(withoutPeerId).join(', ') || '(no address)'}${peer.discovery.length ? ` (discovery: ${peer.discovery.join(', ')})` : ''}`;
    case 'starting':
      return 'Peer starting…';
    case 'stopped':
      return `Peer not running: ${peer.reason}`;
    case 'external':
      return `${peer.owner === 'vscode' ? 'Another VS Code window' : '`patchwork start`'} (process ${peer.pid}) serves this repository${peer.addresses.length ? ` on ${peer.addresses.map(withoutPeerId).join(', ')}` : ''}; VS Code pulls and pushes through it without starting a second peer.`;
    case 'failed':
      return `Peer not running: ${peer.reason}`;
  }
}

/** The extra status bar item for a peer that is not ours and online (undefined: none). */
export function peerItem(peer: PeerState): { title: string; tooltip: string; command: 'patchwork.startPeer' | 'patchwork.showLog' } | undefined {
  switch (peer.kind) {
    case 'failed':
      return { title: `$(warning) Peer: ${peer.short}`, tooltip: `${peerLine(peer)}\nPull and push still work. Click to try starting the peer again.`, command: 'patchwork.startPeer' };
    case 'external':
      return { title: `$(broadcast) Peer: ${peer.owner === 'vscode' ? 'other window' : 'CLI'}`, tooltip: peerLine(peer), command: 'patchwork.showLog' };
    default:
      return undefined;
  }
}

const withoutPeerId = (a: string) => a.replace(/\/p2p\/[^/]+$/, '');

/** One line of progress: "alice: receiving 120 objects, 1.2 MiB". */
export function progressLine(p: SyncProgress, names: ReadonlyMap<string, string>): string {
  const who = names.get(p.peer) ?? shortPeer(p.peer);
  return `${who}: ${p.phase}${p.objects || p.bytes ? ` ${plural(p.objects, 'object')}, ${humanBytes(p.bytes)}` : ''}`;
}

export interface Report {
  /** Shown as a notification when set (info/warning/error), else only in the status bar. */
  readonly severity: 'info' | 'warning' | 'error' | undefined;
  readonly text: string;
  /** An error to show with "Show Log" (its message and hint are the text). */
  readonly error?: PlainError;
  /** True when something needs the user (conflicts, blocked, refused): Sync stops before pushing. */
  readonly stop: boolean;
}

/** The error's sentence (it names the peer) and its hint. */
const errorLine = (e: PlainError) => (e.hint ? `${e.message} ${e.hint}` : e.message);

function failures<T>(list: Outcome<T>[]): { offline: string[]; failed: Outcome<T>[] } {
  return { offline: list.filter((o) => !o.ok && o.offline).map((o) => o.name), failed: list.filter((o) => !o.ok && !o.offline) };
}

function offlineReport(names: string[], all: boolean): string {
  if (!names.length) return '';
  return all ? `No collaborator answered: ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} offline or unreachable.` : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} offline.`;
}

/** The first failure as an error report (a peer named explicitly that did not answer is one). */
function failureReport<T>(list: Outcome<T>[]): Report | undefined {
  const f = list.find((o): o is Extract<Outcome<T>, { ok: false }> => !o.ok);
  return f && { severity: 'error', text: errorLine(f.error), error: f.error, stop: true };
}

/**
 * What a pull did, for the person who asked. `named`: the user chose these peers (Pull from…), so
 * one that does not answer is an error, not just "offline".
 */
export function pullReport(list: Outcome<PullSummary>[], named = false): Report {
  const { offline, failed } = failures(list);
  const ok = list.filter((o): o is Extract<Outcome<PullSummary>, { ok: true }> => o.ok);
  if (named && ok.length < list.length) return failureReport(list)!;
  if (!ok.length && failed.length === 0) return { severity: 'warning', text: offlineReport(offline, true), stop: true };
  if (failed.length) {
    const f = failed[0] as Extract<Outcome<PullSummary>, { ok: false }>;
    return { severity: 'error', text: errorLine(f.error), error: f.error, stop: true };
  }
  const parts: string[] = [];
  let severity: Report['severity'];
  let stop = false;
  let error: PlainError | undefined;
  for (const o of ok) {
    const r = o.result;
    const i = r.integration;
    const got = r.commits ? plural(r.commits, 'new commit') : 'no new commits';
    const b = i.branch ?? '';
    switch (i.kind) {
      case 'fast-forward':
      case 'created':
        parts.push(`${o.name}: ${got}; ${b} updated`);
        break;
      case 'merged':
        parts.push(`${o.name}: ${got}; merged ${o.name}/${b} into ${b}`);
        break;
      case 'up-to-date':
      case 'ahead':
        parts.push(`${o.name}: up to date`);
        break;
      case 'no-branch':
        parts.push(`${o.name}: ${got}; ${o.name} has no branch ${b}`);
        break;
      case 'detached':
        parts.push(`${o.name}: ${got} (HEAD is detached, so nothing was merged)`);
        break;
      case 'conflicts':
        severity = 'warning';
        stop = true;
        parts.push(
          `Merging ${o.name}/${b} stopped with conflicts in ${plural(i.conflicts?.length ?? 0, 'file')} (see Merge Changes). Resolve and stage them, then commit; or run "Patchwork: Abort Merge".`,
        );
        break;
      case 'blocked':
        severity = 'error';
        stop = true;
        error = i.error;
        parts.push(`${o.name}/${b} was fetched but not merged: ${i.error ? `${i.error.message}${i.error.hint ? ` ${i.error.hint}` : ''}` : 'blocked'}`);
        break;
    }
  }
  if (offline.length) parts.push(offlineReport(offline, false));
  return { severity, text: parts.join(' '), error, stop };
}

/** What a push did. "Delivered; waiting for them to merge" is worth a notification; a plain update is not. */
export function pushReport(list: Outcome<PushSummary>[], named = false): Report {
  const { offline, failed } = failures(list);
  const ok = list.filter((o): o is Extract<Outcome<PushSummary>, { ok: true }> => o.ok);
  if (named && ok.length < list.length) return failureReport(list)!;
  if (!ok.length && failed.length === 0) return { severity: 'warning', text: offlineReport(offline, true), stop: true };
  if (failed.length) {
    const f = failed[0] as Extract<Outcome<PushSummary>, { ok: false }>;
    return { severity: 'error', text: errorLine(f.error), error: f.error, stop: true };
  }
  const parts: string[] = [];
  let severity: Report['severity'];
  for (const o of ok) {
    const r = o.result;
    const b = r.branch ?? 'your branch';
    switch (r.outcome) {
      case 'updated':
      case 'created':
        parts.push(`${o.name}: ${b} ${r.outcome}`);
        break;
      case 'up-to-date':
        parts.push(`${o.name}: up to date`);
        break;
      case 'ahead':
        severity = 'warning';
        parts.push(`${o.name}'s ${b} already has newer commits: pull first.`);
        break;
      case 'delivered': {
        severity ??= 'info';
        const why = deliveredReasonText(r.reason, b, o.name);
        parts.push(`Delivered to ${o.name}; waiting for ${o.name} to merge (${why}).`);
        break;
      }
    }
  }
  if (offline.length) parts.push(offlineReport(offline, false));
  return { severity, text: parts.join(' '), stop: false };
}

/** Why a push someone made to us could not move our branch (the notification's reason). */
export function deliveredWhy(reason: string | undefined, branch: string): string {
  switch (reason) {
    case 'diverged':
      return `your ${branch} has commits of its own`;
    case 'dirty':
      return 'you have uncommitted changes';
    case 'busy':
      return 'the repository was busy';
    default:
      return `${branch} is not your current branch`;
  }
}
