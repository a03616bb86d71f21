/**
 * Who may talk to this repository: the `[[collaborators]]` entries of `.patch/patchwork.toml`
 * (peer_id, name, role, addresses, last_seen), the `[p2p]` settings, and where the identity key lives.
 *
 * Access decisions read this list; a malformed entry makes the whole list unreadable (INVALID_CONFIG),
 * and callers that decide access treat that as "nobody is allowed" (fail closed).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { parse } from 'smol-toml';
import { PatchworkError, Repository, type RepoConfig } from '../engine/index.js';
import { loadOrCreateIdentity, type LoadedIdentity } from './identity.js';

export type Role = 'reader' | 'writer';
export const ROLES: readonly Role[] = ['reader', 'writer'];

export interface Collaborator {
  peerId: string;
  name: string;
  role: Role;
  /** Last known multiaddrs, each ending in `/p2p/<peerId>`. */
  addresses: string[];
  /** ISO time of the last successful exchange with this peer (either direction). */
  lastSeen?: string;
}

export const MAX_ADDRESSES = 16;
const MAX_ADDRESS_LENGTH = 300;
const MAX_NAME_LENGTH = 64;

/** The identity key's file: its own file, mode 0600, never in patchwork.toml. */
export function identityPath(repo: Repository | string): string {
  return join(typeof repo === 'string' ? repo : repo.patchDir, 'identity.key');
}

/** Load this repository's peer identity, creating it on first use (init, clone, or an older repository). */
export async function ensureIdentity(repo: Repository): Promise<LoadedIdentity & { created: boolean }> {
  return loadOrCreateIdentity(identityPath(repo));
}

/** A peer id string is valid (a parsable libp2p peer id). */
export function isPeerId(s: unknown): s is string {
  if (typeof s !== 'string' || s.length < 20 || s.length > 128) return false;
  try {
    peerIdFromString(s);
    return true;
  } catch {
    return false;
  }
}

export function assertPeerId(s: string): void {
  const text = s;
  if (!isPeerId(s)) throw new PatchworkError('INVALID_ARGUMENT', `"${text.slice(0, 80)}" is not a peer id.`, 'A peer id looks like 12D3KooW… (see `patchwork id` on the other machine).');
}

/** A display name from a peer or the command line: printable, bounded. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !name.trim()) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(name)) return 'contains control characters';
  if (name !== name.trim()) return 'starts or ends with a space';
  return undefined;
}

/**
 * A multiaddr a peer may be reached at, normalised to end in `/p2p/<peerId>`. Returns undefined for
 * anything unparsable, too long, or naming a different peer.
 */
export function normalizeAddress(addr: unknown, peerId: string): string | undefined {
  if (typeof addr !== 'string' || addr.length > MAX_ADDRESS_LENGTH || !addr.startsWith('/')) return undefined;
  try {
    const ma = multiaddr(addr);
    const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
    if (id !== undefined && id !== peerId) return undefined;
    return id === undefined ? `${ma.toString()}/p2p/${peerId}` : ma.toString();
  } catch {
    return undefined;
  }
}

/** Addresses from an untrusted list: valid ones for this peer only, deduplicated and bounded. */
export function cleanAddresses(list: unknown, peerId: string): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const a of list.slice(0, 64)) {
    const n = normalizeAddress(a, peerId);
    if (n !== undefined && !out.includes(n)) out.push(n);
    if (out.length >= MAX_ADDRESSES) break;
  }
  return out;
}

/** The peer id at the end of a multiaddr (`…/p2p/<id>`), if any. */
export function peerIdOfAddress(addr: string): string | undefined {
  try {
    return multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value;
  } catch {
    return undefined;
  }
}

function invalid(why: string): PatchworkError {
  return new PatchworkError('INVALID_CONFIG', `The collaborator list in patchwork.toml is invalid: ${why}.`, 'Fix the [[collaborators]] entries in .patch/patchwork.toml, or use `patchwork collaborators add|remove`.');
}

/** The collaborators of a parsed configuration, strictly validated. */
export function collaboratorsOf(config: RepoConfig | Record<string, unknown>): Collaborator[] {
  const raw = (config as Record<string, unknown>).collaborators;
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalid('"collaborators" is not a list of [[collaborators]] tables');
  const out: Collaborator[] = [];
  for (const [i, e] of raw.entries()) {
    if (typeof e !== 'object' || e === null) throw invalid(`entry ${i + 1} is not a table`);
    const r = e as Record<string, unknown>;
    if (!isPeerId(r.peer_id)) throw invalid(`entry ${i + 1} has no valid peer_id`);
    const name = r.name ?? r.peer_id.slice(-8);
    const problem = nameProblem(name);
    if (problem) throw invalid(`the name of ${r.peer_id} ${problem}`);
    const role = r.role ?? 'reader';
    if (role !== 'reader' && role !== 'writer') throw invalid(`the role of ${r.peer_id} is neither "reader" nor "writer"`);
    if (out.some((c) => c.peerId === r.peer_id)) throw invalid(`${r.peer_id} is listed twice`);
    out.push({
      peerId: r.peer_id,
      name: name as string,
      role,
      addresses: cleanAddresses(r.addresses, r.peer_id),
      lastSeen: typeof r.last_seen === 'string' ? r.last_seen : r.last_seen instanceof Date ? r.last_seen.toISOString() : undefined,
    });
  }
  return out;
}

function toToml(c: Collaborator): Record<string, unknown> {
  const t: Record<string, unknown> = { peer_id: c.peerId, name: c.name, role: c.role, addresses: c.addresses };
  if (c.lastSeen) t.last_seen = c.lastSeen;
  return t;
}

/** Replace the list in a configuration object (inside `repo.updateConfig`). */
export function setCollaborators(config: RepoConfig, list: Collaborator[]): void {
  if (list.length) config.collaborators = list.map(toToml);
  else delete config.collaborators;
}

export async function listCollaborators(repo: Repository): Promise<Collaborator[]> {
  return collaboratorsOf(await repo.config());
}

/** Read the list synchronously (the connection gate must decide without awaiting). */
export function readCollaboratorsSync(configPath: string): Collaborator[] {
  return collaboratorsOf(parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>);
}

/** mtime+size of a file, '' when missing: a cheap "did it change" key. */
export function fileStamp(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '';
}

/** Find a collaborator by peer id, exact name, or unique peer id suffix/prefix (at least 6 characters). */
export function findCollaborator(list: Collaborator[], key: string): Collaborator | undefined {
  const exact = list.find((c) => c.peerId === key) ?? list.find((c) => c.name === key);
  if (exact) return exact;
  if (key.length >= 6) {
    const m = list.filter((c) => c.peerId.startsWith(key) || c.peerId.endsWith(key));
    if (m.length === 1) return m[0];
  }
  return undefined;
}

export interface AddCollaborator {
  peerId: string;
  name: string;
  role: Role;
  addresses?: string[];
}

/** Add a collaborator, or update role/addresses of an existing one (same peer id). */
export async function addCollaborator(repo: Repository, c: AddCollaborator): Promise<{ collaborator: Collaborator; updated: boolean }> {
  assertPeerId(c.peerId);
  const problem = nameProblem(c.name);
  if (problem) throw new PatchworkError('INVALID_NAME', `"${c.name}" is not a usable collaborator name: it ${problem}.`);
  if (!ROLES.includes(c.role)) throw new PatchworkError('INVALID_ARGUMENT', `"${c.role}" is not a role: use reader or writer.`);
  const addresses: string[] = [];
  for (const a of c.addresses ?? []) {
    const n = normalizeAddress(a, c.peerId);
    if (n === undefined) throw new PatchworkError('INVALID_ARGUMENT', `"${a}" is not a multiaddr of ${c.peerId}.`, 'For example: /ip4/192.168.1.20/tcp/4100');
    if (!addresses.includes(n)) addresses.push(n);
  }
  let result!: { collaborator: Collaborator; updated: boolean };
  await repo.updateConfig((config) => {
    const list = collaboratorsOf(config);
    const byName = list.find((x) => x.name === c.name && x.peerId !== c.peerId);
    if (byName) throw new PatchworkError('INVALID_NAME', `Another collaborator (${byName.peerId}) is already called "${c.name}".`, 'Choose a different name.');
    const existing = list.find((x) => x.peerId === c.peerId);
    if (existing) {
      existing.name = c.name;
      existing.role = c.role;
      if (addresses.length) existing.addresses = addresses;
      result = { collaborator: existing, updated: true };
    } else {
      const added: Collaborator = { peerId: c.peerId, name: c.name, role: c.role, addresses };
      list.push(added);
      result = { collaborator: added, updated: false };
    }
    setCollaborators(config, list);
  });
  return result;
}

export async function removeCollaborator(repo: Repository, key: string): Promise<Collaborator> {
  let removed: Collaborator | undefined;
  await repo.updateConfig((config) => {
    const list = collaboratorsOf(config);
    removed = findCollaborator(list, key);
    if (!removed) throw new PatchworkError('INVALID_ARGUMENT', `No collaborator is called or has the peer id "${key}".`, 'See `patchwork collaborators list`.');
    setCollaborators(config, list.filter((c) => c !== removed));
  });
  return removed!;
}

/**
 * Record a successful exchange: last_seen = now, and the addresses the peer told us (when it gave
 * any). Unknown peers are ignored. Writes only when something changed or last_seen is older than
 * `minIntervalMs`, so a busy peer does not rewrite the configuration on every request.
 */
export async function touchCollaborator(repo: Repository, peerId: string, addresses: string[] = [], minIntervalMs = 60_000): Promise<void> {
  const current = (await listCollaborators(repo)).find((c) => c.peerId === peerId);
  if (!current) return;
  const now = Date.now();
  const fresh = current.lastSeen !== undefined && now - Date.parse(current.lastSeen) < minIntervalMs;
  const sameAddrs = addresses.length === 0 || (addresses.length === current.addresses.length && addresses.every((a, i) => a === current.addresses[i]));
  if (fresh && sameAddrs) return;
  await repo.updateConfig((config) => {
    const list = collaboratorsOf(config);
    const c = list.find((x) => x.peerId === peerId);
    if (!c) return;
    c.lastSeen = new Date(now).toISOString();
    if (addresses.length) c.addresses = addresses.slice(0, MAX_ADDRESSES);
    setCollaborators(config, list);
  });
}

/** `[p2p] listen` (a string or a list of multiaddrs), if set. */
export function listenSetting(config: RepoConfig): string[] | undefined {
  const p2p = config.p2p as Record<string, unknown> | undefined;
  const v = p2p?.listen;
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : Array.isArray(v) ? v : undefined;
  if (!list || !list.every((a) => typeof a === 'string' && a.startsWith('/'))) {
    throw new PatchworkError('INVALID_CONFIG', 'The setting p2p.listen must be a multiaddr or a list of them.', 'For example: patchwork config p2p.listen /ip4/0.0.0.0/tcp/4100');
  }
  return list as string[];
}
