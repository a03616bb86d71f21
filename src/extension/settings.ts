/**
 * The only place that reads `patchwork.*` settings. Values are handed to the engine (author) and
 * to the shell's parts as plain objects; nothing below the extension reads VS Code settings.
 */
import * as vscode from 'vscode';
import type { Identity } from '../engine';

export type CountBadge = 'all' | 'tracked' | 'off';
export type SmartCommit = 'prompt' | 'always' | 'never';
export type SmartCommitChanges = 'all' | 'tracked';

export interface Settings {
  readonly enabled: boolean;
  /** Author for new commits; empty fields fall back to the repository's configuration. */
  readonly author: Partial<Identity>;
  readonly countBadge: CountBadge;
  readonly smartCommit: SmartCommit;
  readonly smartCommitChanges: SmartCommitChanges;
}

const SECTION = 'patchwork';

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** Settings as they apply to `scope` (a repository root, for folder-level values). */
export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const name = c.get<string>('author.name', '').trim();
  const email = c.get<string>('author.email', '').trim();
  return {
    enabled: c.get<boolean>('enabled', true),
    author: { ...(name ? { name } : {}), ...(email ? { email } : {}) },
    countBadge: oneOf(c.get('countBadge'), ['all', 'tracked', 'off'] as const, 'all'),
    smartCommit: oneOf(c.get('smartCommit'), ['prompt', 'always', 'never'] as const, 'prompt'),
    smartCommitChanges: oneOf(c.get('smartCommitChanges'), ['all', 'tracked'] as const, 'all'),
  };
}

export interface PeerSettings {
  readonly startOnActivation: boolean;
  /**
   * Where the peer listens, when the user chose it in VS Code's settings; undefined: the
   * repository's own `p2p.listen` (`patchwork config p2p.listen …`), else 127.0.0.1 on any port.
   */
  readonly listen: { readonly address: string; readonly port: number } | undefined;
  /** Seconds between background fetches from every collaborator; 0 = off. */
  readonly autoFetchSeconds: number;
  /** `patchwork.mdns` when set by the user (undefined: the repository's `p2p.mdns`). */
  readonly mdns: boolean | undefined;
  /** `patchwork.bootstrapPeers`: DHT bootstrap addresses added to the repository's `p2p.bootstrap`. */
  readonly bootstrapPeers: readonly string[];
}

const isSet = (i: { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown } | undefined) =>
  i !== undefined && (i.globalValue !== undefined || i.workspaceValue !== undefined || i.workspaceFolderValue !== undefined);

export function readPeerSettings(scope?: vscode.Uri): PeerSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const explicit = isSet(c.inspect('peer.listenAddress')) || isSet(c.inspect('peer.port'));
  const seconds = Number(c.get<number>('autoFetch', 180));
  return {
    startOnActivation: c.get<boolean>('peer.startOnActivation', true),
    listen: explicit ? { address: String(c.get<string>('peer.listenAddress', '127.0.0.1')), port: Number(c.get<number>('peer.port', 0)) } : undefined,
    autoFetchSeconds: Number.isFinite(seconds) && seconds > 0 ? Math.max(1, seconds) : 0,
    mdns: isSet(c.inspect('mdns')) ? c.get<boolean>('mdns') === true : undefined,
    bootstrapPeers: (c.get<unknown[]>('bootstrapPeers') ?? []).filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()),
  };
}

/** Remember an answer to the smart-commit question (user settings, like Git's "Always"/"Never"). */
export async function rememberSmartCommit(value: SmartCommit): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update('smartCommit', value, vscode.ConfigurationTarget.Global);
}

/** Fires when any `patchwork.*` setting changes; listeners re-read what they need. */
export function onDidChangeSettings(listener: (e: vscode.ConfigurationChangeEvent) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) listener(e);
  });
}
