/**
 * The sync protocols' JSON messages and their strict parsers. Everything a peer sends is parsed
 * here before use: types checked, strings and lists bounded, ids and ref names validated, unknown
 * fields ignored. A parser throws a plain Error whose text becomes the PROTOCOL_VIOLATION sent back.
 *
 *   fetch  /patchwork/fetch/1.0.0   C: fetch{repo,haves,addresses}   S: refs, <pack>, done
 *   push   /patchwork/push/1.0.0    C: push{repo,head,refs,...}      S: haves{refs,haves}
 *                                   C: <pack>, done                  S: result{outcome}
 *   clone  /patchwork/clone/1.0.0   C: clone{repo?,secret?,name}     S: meta, refs, <pack>, done
 *                                   C: ack                           S: registered{role}
 * <pack> is a run of binary frames carrying object records (see pack.ts).
 */
import { isObjectId, validateAdvertisedRefs, type AdvertisedRefs } from '../engine/index.js';
import { cleanAddresses, isPeerId, nameProblem, type Role } from './collaborators.js';
import { sanitizeRemoteText } from './errors.js';

// 2.0.0: object records carry the stored (deflated) form, as pack files do; 1.0.0 carried raw bodies.
export const PROTOCOL_VERSION = '2.0.0';
/** Most ids accepted in a `haves` list. */
export const MAX_HAVES = 1024;
export const MAX_REFS = 5000;
export const MAX_COLLABORATORS = 1000;

export interface RepositoryInfo {
  id: string;
  name: string;
  default_branch: string;
}

export interface FetchRequest {
  type: 'fetch';
  repo: string;
  haves: string[];
  /** Where the requester can be reached (for the owner's collaborator list). */
  addresses: string[];
}

export interface RefsMessage extends AdvertisedRefs {
  type: 'refs';
  repository: RepositoryInfo;
}

export interface DoneMessage {
  type: 'done';
  objects: number;
  bytes: number;
}

export interface PushRequest extends AdvertisedRefs {
  type: 'push';
  repo: string;
  addresses: string[];
}

export interface HavesMessage extends AdvertisedRefs {
  type: 'haves';
  haves: string[];
}

/**
 * What the receiver did with the pushed branch:
 *  updated     its current branch (and work tree) moved forward to the pushed commit
 *  created     its current branch had no commits and now has the pushed ones
 *  up-to-date  it already had exactly this commit on that branch
 *  ahead       its branch already contains the pushed commit and more (pull to get them)
 *  delivered   stored under its tracking refs for the pusher; it has to merge (see `reason`)
 */
export type PushOutcome = 'updated' | 'created' | 'up-to-date' | 'ahead' | 'delivered';
export type DeliveredReason = 'diverged' | 'dirty' | 'not-current' | 'no-branch' | 'busy';

export interface PushResultMessage {
  type: 'result';
  branch?: string;
  outcome: PushOutcome;
  reason?: DeliveredReason;
}

export interface CloneRequest {
  type: 'clone';
  /** Repository id from the ticket, when cloning with one. */
  repo?: string;
  secret?: string;
  /** The cloner's display name. */
  name: string;
  addresses: string[];
}

export interface CollaboratorInfo {
  peer_id: string;
  name: string;
  role: Role;
  addresses: string[];
}

export interface MetaMessage {
  type: 'meta';
  repository: RepositoryInfo;
  /** The owner's display name. */
  owner: string;
  /** The role the cloner has (or will have once it acknowledges). */
  role: Role;
  collaborators: CollaboratorInfo[];
}

export interface AckMessage {
  type: 'ack';
}

export interface RegisteredMessage {
  type: 'registered';
  role: Role;
}

// ---------------------------------------------------------------- helpers

function record(v: unknown, type: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('message is not an object');
  const r = v as Record<string, unknown>;
  if (r.type !== type) throw new Error(`expected a "${type}" message, got ${JSON.stringify(String(r.type).slice(0, 40))}`);
  return r;
}

function text(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new Error(`bad ${what}`);
  return v;
}

function ids(v: unknown, what: string, max: number): string[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not a list`);
  if (v.length > max) throw new Error(`${what} has more than ${max} entries`);
  for (const id of v) if (typeof id !== 'string' || !isObjectId(id)) throw new Error(`${what} holds something that is not an object id`);
  return [...new Set(v as string[])];
}

function refsOf(r: Record<string, unknown>): AdvertisedRefs {
  try {
    return validateAdvertisedRefs({ head: r.head ?? undefined, refs: r.refs }, MAX_REFS);
  } catch (e) {
    throw new Error(e instanceof Error ? e.message : String(e));
  }
}

function repositoryInfo(v: unknown): RepositoryInfo {
  if (typeof v !== 'object' || v === null) throw new Error('no repository information');
  const r = v as Record<string, unknown>;
  const name = text(r.name, 'repository name', 100);
  if (nameProblem(name)) throw new Error('bad repository name');
  const branch = text(r.default_branch, 'default branch', 200);
  const refs = refsOf({ refs: {}, head: branch });
  return { id: text(r.id, 'repository id', 100), name, default_branch: refs.head! };
}

/** A name a peer gave itself, made safe to store and print. */
export function peerName(v: unknown, fallback: string): string {
  const s = sanitizeRemoteText(v, 64).trim();
  return s && !nameProblem(s) ? s : fallback;
}

function role(v: unknown): Role {
  if (v !== 'reader' && v !== 'writer') throw new Error('bad role');
  return v;
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`bad ${what}`);
  return v;
}

// ---------------------------------------------------------------- parsers

export function parseFetchRequest(v: unknown, peer: string): FetchRequest {
  const r = record(v, 'fetch');
  return { type: 'fetch', repo: text(r.repo, 'repository id', 100), haves: ids(r.haves, 'haves', MAX_HAVES), addresses: cleanAddresses(r.addresses, peer) };
}

export function parseRefs(v: unknown): RefsMessage {
  const r = record(v, 'refs');
  return { type: 'refs', repository: repositoryInfo(r.repository), ...refsOf(r) };
}

export function parseDone(v: unknown): DoneMessage {
  const r = record(v, 'done');
  return { type: 'done', objects: count(r.objects, 'object count'), bytes: count(r.bytes, 'byte count') };
}

export function parsePushRequest(v: unknown, peer: string): PushRequest {
  const r = record(v, 'push');
  return { type: 'push', repo: text(r.repo, 'repository id', 100), ...refsOf(r), addresses: cleanAddresses(r.addresses, peer) };
}

export function parseHaves(v: unknown): HavesMessage {
  const r = record(v, 'haves');
  return { type: 'haves', ...refsOf(r), haves: ids(r.haves, 'haves', MAX_HAVES) };
}

const OUTCOMES: readonly PushOutcome[] = ['updated', 'created', 'up-to-date', 'ahead', 'delivered'];
const REASONS: readonly DeliveredReason[] = ['diverged', 'dirty', 'not-current', 'no-branch', 'busy'];

export function parsePushResult(v: unknown): PushResultMessage {
  const r = record(v, 'result');
  if (!OUTCOMES.includes(r.outcome as PushOutcome)) throw new Error('bad outcome');
  if (r.reason !== undefined && !REASONS.includes(r.reason as DeliveredReason)) throw new Error('bad reason');
  const branch = r.branch === undefined ? undefined : refsOf({ refs: {}, head: r.branch }).head;
  return { type: 'result', branch, outcome: r.outcome as PushOutcome, reason: r.reason as DeliveredReason | undefined };
}

export function parseCloneRequest(v: unknown, peer: string): CloneRequest {
  const r = record(v, 'clone');
  return {
    type: 'clone',
    repo: r.repo === undefined ? undefined : text(r.repo, 'repository id', 100),
    secret: r.secret === undefined ? undefined : text(r.secret, 'invite secret', 100),
    name: peerName(r.name, peer.slice(-8)),
    addresses: cleanAddresses(r.addresses, peer),
  };
}

export function parseMeta(v: unknown): MetaMessage {
  const r = record(v, 'meta');
  if (!Array.isArray(r.collaborators) || r.collaborators.length > MAX_COLLABORATORS) throw new Error('bad collaborator list');
  const collaborators: CollaboratorInfo[] = [];
  for (const c of r.collaborators) {
    if (typeof c !== 'object' || c === null) throw new Error('bad collaborator entry');
    const e = c as Record<string, unknown>;
    if (!isPeerId(e.peer_id)) throw new Error('bad collaborator peer id');
    collaborators.push({ peer_id: e.peer_id, name: peerName(e.name, e.peer_id.slice(-8)), role: role(e.role), addresses: cleanAddresses(e.addresses, e.peer_id) });
  }
  return { type: 'meta', repository: repositoryInfo(r.repository), owner: peerName(r.owner, 'owner'), role: role(r.role), collaborators };
}

export function parseAck(v: unknown): AckMessage {
  record(v, 'ack');
  return { type: 'ack' };
}

export function parseRegistered(v: unknown): RegisteredMessage {
  const r = record(v, 'registered');
  return { type: 'registered', role: role(r.role) };
}
