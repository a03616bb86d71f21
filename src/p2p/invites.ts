/**
 * Invites: a one-time secret that admits exactly one new peer as a collaborator when it clones.
 *
 * `createInvite` draws 32 random bytes, stores only their SHA-256 (with role and expiry) in
 * `.patch/invites.json` (mode 0600, never in patchwork.toml), and returns a ticket: one copyable
 * string holding the owner's peer id, its addresses, the repository id and name, the secret and the
 * expiry. The owner's clone handler checks the secret (constant-time), reserves the invite while the
 * clone runs, and marks it used once the new peer acknowledged; a used or expired invite is refused.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchworkError, Repository } from '../engine/index.js';
import { cleanAddresses, isPeerId, type Role } from './collaborators.js';

export const TICKET_PREFIX = 'pwt1.';
const SECRET_BYTES = 32;
const MAX_TICKET_LENGTH = 8192;
/** Used and expired entries are kept this long (for a clear "already used"/"expired" answer), then pruned. */
const KEEP_AFTER_EXPIRY_MS = 7 * 24 * 3600_000;
export const MAX_INVITE_MS = 30 * 24 * 3600_000;

export interface Ticket {
  peerId: string;
  addresses: string[];
  repoId: string;
  repoName: string;
  /** base64url of the 32-byte secret. */
  secret: string;
  /** Expiry, Unix milliseconds. */
  expires: number;
}

export interface InviteRecord {
  id: string;
  /** Hex SHA-256 of the secret bytes. */
  hash: string;
  role: Role;
  created: string;
  expires: string;
  usedBy?: string;
  usedAt?: string;
}

export function invitesPath(repo: Repository | string): string {
  return join(typeof repo === 'string' ? repo : repo.patchDir, 'invites.json');
}

/** "90s", "30m", "1h", "7d" (or a bare number of seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(text.trim());
  const unit = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? 's') as keyof typeof unit] : NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_INVITE_MS) {
    throw new PatchworkError('INVALID_ARGUMENT', `"${text}" is not a duration between 1 second and 30 days.`, 'For example: --expires 30m, 1h or 2d.');
  }
  return Math.round(ms);
}

function hashSecret(secret: Buffer): string {
  return createHash('sha256').update(secret).digest('hex');
}

function parseRecords(text: string | undefined): InviteRecord[] {
  if (text === undefined) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PatchworkError('INVALID_CONFIG', 'The invite list .patch/invites.json is damaged.', 'Delete it to revoke every outstanding invite.');
  }
  const list = (doc as { invites?: unknown }).invites;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (r): r is InviteRecord =>
      typeof r === 'object' && r !== null && typeof r.id === 'string' && /^[0-9a-f]{64}$/.test(r.hash) && (r.role === 'reader' || r.role === 'writer') && typeof r.expires === 'string',
  );
}

async function readRecords(repo: Repository): Promise<InviteRecord[]> {
  const text = await fsp.readFile(invitesPath(repo), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  return parseRecords(text);
}

/** Synchronous read for the connection gate: is any invite still usable? (false when unreadable) */
export function invitesOutstandingSync(path: string, now = Date.now()): boolean {
  try {
    return parseRecords(readFileSync(path, 'utf8')).some((r) => !r.usedBy && Date.parse(r.expires) > now);
  } catch {
    return false;
  }
}

/** Written 0600 via a temporary file and rename: the hashes are not secrets, but nobody else needs them. */
async function writeRecords(repo: Repository, records: InviteRecord[]): Promise<void> {
  const path = invitesPath(repo);
  const now = Date.now();
  const kept = records.filter((r) => Date.parse(r.expires) + KEEP_AFTER_EXPIRY_MS > now);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fsp.writeFile(tmp, JSON.stringify({ invites: kept }, null, 2) + '\n', { mode: 0o600 });
    await fsp.chmod(tmp, 0o600);
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export interface CreateInviteOptions {
  role: Role;
  /** Lifetime in ms (default one hour). */
  expiresInMs?: number;
  /** Addresses to put in the ticket (the running peer's, or --address). */
  addresses: string[];
  peerId: string;
}

export async function createInvite(repo: Repository, opts: CreateInviteOptions): Promise<{ ticket: string; record: InviteRecord; decoded: Ticket }> {
  const config = await repo.config();
  const secret = randomBytes(SECRET_BYTES);
  const now = Date.now();
  const expires = now + (opts.expiresInMs ?? 3600_000);
  const record: InviteRecord = {
    id: randomBytes(4).toString('hex'),
    hash: hashSecret(secret),
    role: opts.role,
    created: new Date(now).toISOString(),
    expires: new Date(expires).toISOString(),
  };
  await repo.withLock('invite', async () => writeRecords(repo, [...(await readRecords(repo)), record]));
  const decoded: Ticket = {
    peerId: opts.peerId,
    addresses: cleanAddresses(opts.addresses, opts.peerId),
    repoId: config.repository.id,
    repoName: config.repository.name,
    secret: secret.toString('base64url'),
    expires,
  };
  return { ticket: encodeTicket(decoded), record, decoded };
}

export async function listInvites(repo: Repository): Promise<InviteRecord[]> {
  return readRecords(repo);
}

/** Revoke every outstanding invite (or the one with this id). Returns how many were revoked. */
export async function revokeInvites(repo: Repository, id?: string): Promise<number> {
  return repo.withLock('invite', async () => {
    const records = await readRecords(repo);
    const now = Date.now();
    const revoke = records.filter((r) => (id === undefined || r.id === id) && !r.usedBy && Date.parse(r.expires) > now);
    if (revoke.length) await writeRecords(repo, records.filter((r) => !revoke.includes(r)));
    return revoke.length;
  });
}

export function encodeTicket(t: Ticket): string {
  const body = { v: 1, p: t.peerId, a: t.addresses, r: t.repoId, n: t.repoName, s: t.secret, e: t.expires };
  return TICKET_PREFIX + Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function looksLikeTicket(s: string): boolean {
  return s.startsWith(TICKET_PREFIX);
}

export function decodeTicket(text: string): Ticket {
  const bad = (why: string) => new PatchworkError('INVALID_ARGUMENT', `This is not a valid Patchwork invite ticket: ${why}.`, 'Copy the whole ticket printed by `patchwork invite`.');
  const s = text.trim();
  if (!s.startsWith(TICKET_PREFIX)) throw bad(`it does not start with "${TICKET_PREFIX}"`);
  if (s.length > MAX_TICKET_LENGTH) throw bad('it is too long');
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.from(s.slice(TICKET_PREFIX.length), 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('it does not decode');
  }
  if (typeof v !== 'object' || v === null || v.v !== 1) throw bad('unknown version');
  if (!isPeerId(v.p)) throw bad('no valid peer id');
  if (typeof v.r !== 'string' || !v.r || v.r.length > 100) throw bad('no repository id');
  if (typeof v.s !== 'string' || Buffer.from(v.s, 'base64url').length !== SECRET_BYTES) throw bad('no valid secret');
  if (typeof v.e !== 'number') throw bad('no expiry');
  return {
    peerId: v.p,
    addresses: cleanAddresses(v.a, v.p),
    repoId: v.r,
    repoName: typeof v.n === 'string' ? v.n.slice(0, 100) : '',
    secret: v.s,
    expires: v.e,
  };
}

export type InviteProblem = 'unknown' | 'expired' | 'used';

export class InviteRefused extends Error {
  constructor(
    readonly problem: InviteProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Find the unused, unexpired invite this secret belongs to; throws InviteRefused otherwise. */
export async function checkInvite(repo: Repository, secret: string, now = Date.now()): Promise<InviteRecord> {
  const bytes = Buffer.from(secret, 'base64url');
  if (bytes.length !== SECRET_BYTES) throw new InviteRefused('unknown', 'this invite is not valid for this repository');
  const hash = Buffer.from(hashSecret(bytes), 'hex');
  let match: InviteRecord | undefined;
  for (const r of await readRecords(repo)) {
    // Compare every record in constant time; do not stop at the first match.
    if (timingSafeEqual(hash, Buffer.from(r.hash, 'hex'))) match = r;
  }
  if (!match) throw new InviteRefused('unknown', 'this invite is not valid for this repository (it may have been revoked)');
  if (match.usedBy) throw new InviteRefused('used', 'this invite was already used; ask for a new one');
  if (Date.parse(match.expires) <= now) throw new InviteRefused('expired', 'this invite has expired; ask for a new one');
  return match;
}

/** Mark the invite used by `peerId` (under the repository lock, re-checked so it is used exactly once). */
export async function consumeInvite(repo: Repository, id: string, peerId: string): Promise<void> {
  await repo.withLock('invite', async () => {
    const records = await readRecords(repo);
    const r = records.find((x) => x.id === id);
    if (!r) throw new InviteRefused('unknown', 'this invite was revoked');
    if (r.usedBy) throw new InviteRefused('used', 'this invite was already used; ask for a new one');
    if (Date.parse(r.expires) <= Date.now()) throw new InviteRefused('expired', 'this invite has expired; ask for a new one');
    r.usedBy = peerId;
    r.usedAt = new Date().toISOString();
    await writeRecords(repo, records);
  });
}
