/**
 * The peer-to-peer half of the extension, bundled on its own as out/peer.js (esbuild.mjs) so that
 * activation never loads libp2p: right after `activate` has returned, the extension starts a worker
 * thread (peer-worker.ts) that loads this bundle and serves its functions through messages
 * (`serveWorker`, peer-rpc.ts; the extension's side is peer-rpc-client.ts). It is the only file of
 * src/extension that imports src/p2p, and it imports no `vscode`, so the node tests exercise it
 * directly.
 *
 * Everything crosses to the extension as plain data: this bundle has its own copy of the engine,
 * so its error classes are not the extension's (`instanceof` would fail). Errors are turned into
 * one sentence and a hint here (`describeSyncError`) and rebuilt as the extension's PatchworkError
 * on the other side (`adoptError` in peerHost.ts). Repositories are passed by root path and opened
 * with this bundle's engine.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { PATCH_DIR, Repository, type Identity } from '../engine';
import * as p2p from '../p2p';
import { normalizeAddress, peerIdOfAddress } from '../p2p/collaborators';
import { serveHost, type RpcPort, type ServeOptions } from './peer-rpc-server';

export interface HostLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** An error as it crosses to the extension: the engine's code, one sentence, a hint. */
export interface PlainError {
  readonly name: 'PatchworkError';
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly data: Record<string, unknown>;
}

export type Role = p2p.Role;
export type Collaborator = p2p.Collaborator;
export type SyncProgress = p2p.SyncProgress;
export type ServiceEvent = p2p.PeerServiceEvent;
export type PushOutcome = p2p.PushOutcome;
export type DeliveredReason = p2p.DeliveredReason;

export interface SyncOptions {
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
}

export type Outcome<T> = { peer: string; name: string; ok: true; result: T } | { peer: string; name: string; ok: false; error: PlainError; offline: boolean };

export interface FetchSummary {
  commits: number;
  objects: number;
  bytes: number;
  changed: number;
  newTags: string[];
}

export interface IntegrationSummary {
  kind: p2p.IntegrationKind;
  branch?: string;
  from?: string;
  to?: string;
  conflicts?: { path: string; kind: string }[];
  error?: PlainError;
}

export interface PullSummary extends FetchSummary {
  integration: IntegrationSummary;
}

export interface PushSummary {
  branch?: string;
  outcome: PushOutcome;
  reason?: DeliveredReason;
  objects: number;
  bytes: number;
}

/** Discovery asked for in VS Code's settings, on top of the repository's `[p2p]` settings. */
export interface DiscoveryRequest {
  /** `patchwork.mdns`, when the user set it (undefined: the repository's `p2p.mdns`). */
  mdns?: boolean;
  /** `patchwork.bootstrapPeers`: added to the repository's `p2p.bootstrap` (a DHT runs when any are known). */
  bootstrap?: string[];
}

export type DiscoveryFeatures = p2p.DiscoveryFeatures;

export interface Probe {
  peer: string;
  online: boolean;
  rttMs?: number;
}

/** Where this repository is reachable: our own node (serving), or a dial-only node. */
export interface Endpoint {
  readonly peerId: string;
  /** True for a serving node (PeerService), false for a dial-only client. */
  readonly serving: boolean;
  /** Which discovery mechanisms run on this node (mDNS, DHT, relay). */
  readonly features: DiscoveryFeatures;
  addresses(): string[];
  fetch(peers: string[], opts?: SyncOptions): Promise<Outcome<FetchSummary>[]>;
  pull(peers: string[], opts?: SyncOptions): Promise<Outcome<PullSummary>[]>;
  push(peers: string[], opts?: SyncOptions): Promise<Outcome<PushSummary>[]>;
  /** Ping collaborators (all, or those named by peer id); updates their last-seen time. */
  probe(peerIds?: string[], timeoutMs?: number): Promise<Probe[]>;
  /** Re-read the access files now (after adding or removing a collaborator). */
  reloadAccess(): Promise<void>;
  onEvent(listener: (e: ServiceEvent) => void): { dispose(): void };
  stop(): Promise<void>;
}

export interface RunningPeer {
  pid: number;
  peerId: string;
  addresses: string[];
  owner: string;
  /** True when it runs in this very process (a service this extension host started). */
  here: boolean;
}

export interface OpenOptions {
  logger: HostLogger;
  /** Author for merge commits a pull makes (the extension's settings). */
  author?: Partial<Identity>;
  discovery?: DiscoveryRequest;
}

function discoveryOverrides(d: DiscoveryRequest | undefined): Partial<p2p.DiscoverySettings> {
  for (const a of d?.bootstrap ?? []) {
    const id = peerIdOfAddress(a);
    if (!id || !normalizeAddress(a, id)) {
      throw new HostError('INVALID_CONFIG', `The setting patchwork.bootstrapPeers has "${a.slice(0, 120)}", which is not an address ending in /p2p/<peer id>.`, 'For example: /ip4/203.0.113.7/tcp/4100/p2p/12D3KooW…');
    }
  }
  const o: Partial<p2p.DiscoverySettings> = {};
  if (d?.mdns !== undefined) o.mdns = d.mdns;
  if (d?.bootstrap?.length) o.bootstrap = d.bootstrap;
  return o;
}

export interface ServiceOptions extends OpenOptions {
  /** Listen addresses; undefined: the repository's `p2p.listen` setting, else 127.0.0.1 on any port. */
  listen?: string[];
  owner: string;
}

const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'];

/** A PlainError that is also an Error (with a stack, for the log). */
export class HostError extends Error implements PlainError {
  override readonly name = 'PatchworkError' as const;
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string | undefined,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function plainError(e: unknown, who?: string): HostError {
  const d = p2p.describeSyncError(e, who);
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d.data ?? {})) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) data[k] = v;
  return new HostError(d.code, d.message, d.hint, data);
}

/** Run `fn`; any error leaves as a PlainError (one sentence and a hint). */
async function guard<T>(fn: () => Promise<T>, who?: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw plainError(e, who);
  }
}

function guardSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw plainError(e);
  }
}

function outcomes<R, T>(list: p2p.PeerOutcome<R>[], map: (r: R) => T): Outcome<T>[] {
  return list.map((o) => (o.ok ? { peer: o.peer, name: o.name, ok: true, result: map(o.result) } : { peer: o.peer, name: o.name, ok: false, error: plainError(o.error, o.name), offline: o.offline }));
}

const fetchSummary = (r: p2p.FetchResult): FetchSummary => ({ commits: r.commits, objects: r.objects, bytes: r.bytes, changed: r.changed.length, newTags: r.newTags });

function pullSummary(r: p2p.PullResult): PullSummary {
  const i = r.integration;
  return {
    ...fetchSummary(r),
    integration: {
      kind: i.kind,
      branch: i.branch,
      from: i.from,
      to: i.to,
      conflicts: i.conflicts?.map((c) => ({ path: c.path, kind: c.kind })),
      error: i.error ? plainError(i.error) : undefined,
    },
  };
}

const pushSummary = (r: p2p.PushResult): PushSummary => ({ branch: r.branch, outcome: r.outcome, reason: r.reason, objects: r.objects, bytes: r.bytes });

function endpointOf(repo: Repository, node: p2p.PeerNode, service: p2p.PeerService | undefined): Endpoint {
  return {
    peerId: node.peerId,
    serving: !!service,
    features: { ...node.features },
    addresses: () => node.addresses(),
    fetch: async (peers, opts = {}) => outcomes(await guard(() => p2p.fetchAll(node, repo, peers, opts)), fetchSummary),
    pull: async (peers, opts = {}) => outcomes(await guard(() => p2p.pullAll(node, repo, peers, opts)), pullSummary),
    push: async (peers, opts = {}) => outcomes(await guard(() => p2p.pushAll(node, repo, peers, opts)), pushSummary),
    probe: (peerIds, timeoutMs = 4000) =>
      guard(async () => {
        const all = await p2p.listCollaborators(repo);
        const chosen = peerIds ? all.filter((c) => peerIds.includes(c.peerId)) : all;
        return Promise.all(chosen.map((c) => p2p.probePeer(node, repo, c, timeoutMs)));
      }),
    reloadAccess: async () => {
      await service?.reloadAccess();
    },
    onEvent: (listener) => service?.onEvent(listener) ?? { dispose: () => undefined },
    stop: () => (service ? service.stop() : node.stop()),
  };
}

/** Why a node could not listen, in words (the port is taken, the address is not on this machine). */
function listenProblem(e: unknown, listen: string[] | undefined): HostError | undefined {
  const text = e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ''}` : String(e);
  const where = (listen ?? DEFAULT_LISTEN).join(', ');
  const make = (message: string, hint: string) => new HostError('P2P', message, hint, { listen: where });
  if (/EADDRINUSE|address already in use/i.test(text)) return make(`The peer cannot listen on ${where}: the port is already in use.`, 'Choose another port (setting patchwork.peer.port), or 0 for any free port.');
  if (/EADDRNOTAVAIL|address not available/i.test(text)) return make(`The peer cannot listen on ${where}: that address is not on this machine.`, 'Check the setting patchwork.peer.listenAddress.');
  if (/EACCES/i.test(text)) return make(`The peer may not listen on ${where} (permission denied).`, 'Ports below 1024 need privileges: choose a higher patchwork.peer.port.');
  return undefined;
}

/**
 * `/ip4/<address>/tcp/<port>` (or ip6) from the extension's settings; throws a HostError when the
 * address is not an IP address or the port not a port.
 */
export function listenAddress(address: string, port: number): string {
  const a = address.trim();
  const v = isIP(a);
  if (!v) throw new HostError('INVALID_CONFIG', `The setting patchwork.peer.listenAddress is "${a}", which is not an IP address.`, 'Use 127.0.0.1 (this machine only), 0.0.0.0 (every network) or one address of this machine.');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new HostError('INVALID_CONFIG', `The setting patchwork.peer.port is ${port}, which is not a port number.`, 'Use 0 (any free port) or 1–65535.');
  return `/${v === 4 ? 'ip4' : 'ip6'}/${a}/tcp/${port}`;
}

function p2pLogger(l: HostLogger): p2p.P2PLogger {
  return { debug: (m) => l.debug(m), info: (m) => l.info(m), warn: (m) => l.warn(m), error: (m) => l.error(m) };
}

/**
 * Serve the repository at `root` (PeerService: clone, fetch and push for collaborators; claims
 * .patch/peer.json). Rejects with a PlainError: LOCKED (with data.pid) when another process
 * already serves it, P2P when it cannot listen.
 */
export async function startService(root: string, opts: ServiceOptions): Promise<Endpoint> {
  // Synchronous reads of the few small files before listening (Repository.openSync says why).
  const { repo, config } = guardSync(() => Repository.openSync(root, { author: opts.author }));
  // The extension's own default is loopback (unlike `patchwork start`): see the setting's description.
  const listen = opts.listen ?? guardSync(() => p2p.listenSetting(config)) ?? DEFAULT_LISTEN;
  const discovery = discoveryOverrides(opts.discovery);
  let service: p2p.PeerService;
  try {
    service = await p2p.PeerService.start(repo, { listen, config, logger: p2pLogger(opts.logger), owner: opts.owner, discovery });
  } catch (e) {
    throw listenProblem(e, listen) ?? plainError(e);
  }
  return endpointOf(repo, service.node, service);
}

/** A dial-only node with the repository's identity: pull, push and probe without serving. */
export async function startClient(root: string, opts: OpenOptions): Promise<Endpoint> {
  return guard(async () => {
    const repo = await Repository.open(root, { author: opts.author });
    const id = await p2p.ensureIdentity(repo);
    // As the CLI's one-shot commands do: a DHT client, mDNS queries, relay routes when asked for.
    const settings = p2p.discoverySettings(await repo.config(), discoveryOverrides(opts.discovery));
    const inUse = (await p2p.listCollaborators(repo)).flatMap((c) => c.addresses);
    const discovery = p2p.discoveryOptions(settings, 'dial', inUse);
    const node = await p2p.createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false, logger: p2pLogger(opts.logger), discovery });
    return endpointOf(repo, node, undefined);
  });
}

/** The live peer serving `root` (from .patch/peer.json), if any. */
export async function runningPeer(root: string): Promise<RunningPeer | undefined> {
  const f = await p2p.runningPeer(join(root, PATCH_DIR));
  return f && { pid: f.pid, peerId: f.peerId, addresses: f.addresses, owner: f.owner, here: f.pid === process.pid };
}

/** This repository's peer id (creating its identity on first use). */
export async function peerId(root: string): Promise<string> {
  return guard(async () => (await p2p.ensureIdentity(await Repository.open(root))).peerId);
}

export async function listCollaborators(root: string): Promise<Collaborator[]> {
  return guard(async () => p2p.listCollaborators(await Repository.open(root)));
}

export async function addCollaborator(root: string, c: { peerId: string; name: string; role: Role; addresses: string[] }): Promise<{ collaborator: Collaborator; updated: boolean }> {
  return guard(async () => p2p.addCollaborator(await Repository.open(root), c));
}

export async function removeCollaborator(root: string, key: string): Promise<Collaborator> {
  return guard(async () => p2p.removeCollaborator(await Repository.open(root), key));
}

/** Why `text` is not a peer id or an address ending in /p2p/<peer id>; undefined when it is one. */
export function peerProblem(text: string): string | undefined {
  const s = text.trim();
  if (!s) return 'Enter the peer id (12D3KooW…) or its full address.';
  if (s.startsWith('/')) {
    const id = peerIdOfAddress(s);
    return id && normalizeAddress(s, id) ? undefined : 'An address must be complete and end in /p2p/<peer id>, e.g. /ip4/192.168.1.20/tcp/4100/p2p/12D3KooW…';
  }
  return p2p.isPeerId(s) ? undefined : 'This is not a peer id (they look like 12D3KooW…; `patchwork id` prints one).';
}

/** The peer id in `text`: the text itself, or the end of an address; undefined if neither. */
export function peerIdOf(text: string): string | undefined {
  const s = text.trim();
  if (!s.startsWith('/')) return p2p.isPeerId(s) ? s : undefined;
  const id = peerIdOfAddress(s);
  return id && p2p.isPeerId(id) ? id : undefined;
}

/** Why `text` is not an address of `peer` (blank is fine: no address). */
export function addressProblem(text: string, peer: string): string | undefined {
  const s = text.trim();
  if (!s) return undefined;
  if (normalizeAddress(s, peer)) return undefined;
  const other = peerIdOfAddress(s);
  if (other && other !== peer) return 'This address ends in a different peer id.';
  return 'Give an address such as /ip4/192.168.1.20/tcp/4100 (the /p2p/<peer id> part is optional).';
}

export interface Invite {
  ticket: string;
  id: string;
  role: Role;
  expires: string;
  addresses: string[];
}

/** A one-time invite ticket carrying `addresses` (where our peer listens). */
export async function createInvite(root: string, opts: { role: Role; expiresInMs: number; addresses: string[] }): Promise<Invite> {
  return guard(async () => {
    const repo = await Repository.open(root);
    const id = await p2p.ensureIdentity(repo);
    const r = await p2p.createInvite(repo, { role: opts.role, expiresInMs: opts.expiresInMs, addresses: opts.addresses, peerId: id.peerId });
    return { ticket: r.ticket, id: r.record.id, role: r.record.role, expires: r.record.expires, addresses: r.decoded.addresses };
  });
}

export interface TicketInfo {
  repoName: string;
  peerId: string;
  expires: number;
  addresses: string[];
}

/** What a ticket says, or a PlainError saying why it is not one (or has expired). */
export function readTicket(text: string): TicketInfo {
  let t: p2p.Ticket;
  try {
    t = p2p.decodeTicket(text);
  } catch (e) {
    throw plainError(e);
  }
  if (t.expires <= Date.now()) throw new HostError('P2P', 'This invite ticket has expired.', 'Ask the owner for a new one.');
  return { repoName: t.repoName, peerId: t.peerId, expires: t.expires, addresses: t.addresses };
}

export interface CloneSummary {
  root: string;
  repositoryName: string;
  ownerName: string;
  role: Role;
  peerId: string;
  branch?: string;
  head?: string;
  commits: number;
  objects: number;
  bytes: number;
  ms: number;
}

/** Clone with an invite ticket into `dir` (which must not exist or be empty). */
export async function clone(ticket: string, opts: { dir: string; name?: string; logger: HostLogger } & SyncOptions): Promise<CloneSummary> {
  let who = 'the owner';
  try {
    who = p2p.decodeTicket(ticket).repoName || who;
  } catch {
    // clone() reports the bad ticket below
  }
  return guard(async () => {
    const r = await p2p.clone(ticket.trim(), { dir: opts.dir, name: opts.name, signal: opts.signal, onProgress: opts.onProgress, logger: p2pLogger(opts.logger) });
    return {
      root: r.root,
      repositoryName: r.repository.name,
      ownerName: r.ownerName,
      role: r.role,
      peerId: r.peerId,
      branch: r.branch,
      head: r.head,
      commits: r.commits,
      objects: r.objects,
      bytes: r.bytes,
      ms: r.ms,
    };
  }, who);
}

/** When this bundle was evaluated (for the extension's load timing). */
export const loadedAt = Date.now();

/**
 * Serve this module's functions to the extension over the peer worker's port (peer-worker.ts runs
 * this bundle in a worker thread; peer-rpc.ts describes the messages).
 */
export function serveWorker(port: RpcPort, opts: ServeOptions = {}): void {
  serveHost(
    port,
    { startService, startClient, runningPeer, peerId, listCollaborators, addCollaborator, removeCollaborator, createInvite, readTicket, clone, listenAddress, peerProblem, peerIdOf, addressProblem },
    opts,
  );
}
