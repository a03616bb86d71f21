/**
 * clone: two round trips after the stream opens.
 *
 *   cloner → owner   clone {repo?, secret?, name, addresses}
 *   owner → cloner   meta {repository, owner, role, collaborators}, refs, <pack>, done
 *   cloner → owner   ack                       (after verifying everything and checking out)
 *   owner → cloner   registered {role}         (invite consumed, cloner added as a collaborator)
 *
 * Access: an existing collaborator, or a peer presenting the secret of an unused, unexpired invite.
 * The invite is reserved while the clone runs and consumed only on `ack`, so a clone that fails
 * (network, bad data, cancelled) can be retried with the same ticket. The cloner builds the new
 * repository in a hidden temporary folder and renames it into place only after `registered`: a failed
 * clone leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HEADS, PatchworkError, Repository, TAGS, advertiseRefs, fastForwardBranch, objectsToSend, type RepoConfig } from '../engine/index.js';
import {
  addCollaborator,
  collaboratorsOf,
  identityPath,
  isPeerId,
  peerIdOfAddress,
  normalizeAddress,
  setCollaborators,
  touchCollaborator,
  type Collaborator,
  type Role,
} from './collaborators.js';
import { P2PError } from './errors.js';
import { createIdentity, loadIdentity, saveIdentity } from './identity.js';
import { InviteRefused, checkInvite, consumeInvite, decodeTicket, looksLikeTicket, type InviteRecord } from './invites.js';
import { silentLogger, type P2PLogger } from './log.js';
import { createPeerNode, type PeerNodeOptions } from './node.js';
import { sendPack } from './pack.js';
import type { RequestContext } from './protocol.js';
import { CLONE_PROTOCOL, asCancelled, openTo, receiveInto, shortId, type PeerTarget, type SyncOptions } from './sync-common.js';
import { parseAck, parseCloneRequest, parseMeta, parseRefs, parseRegistered, type MetaMessage } from './wire.js';

const ACK_TIMEOUT_MS = 10 * 60_000;

/** What the serving side provides to the clone handler. */
export interface CloneHost {
  repo: Repository;
  /** The owner's display name, sent to the cloner. */
  ownerName: string;
  collaborator(peerId: string): Collaborator | undefined;
  /** Reserve an invite for the duration of one clone; false if another clone holds it. */
  reserve(inviteId: string): boolean;
  release(inviteId: string): void;
}

export interface CloneServed {
  peer: string;
  name: string;
  role: Role;
  invited: boolean;
  objects: number;
  bytes: number;
}

export async function serveClone(ctx: RequestContext, host: CloneHost, onDone?: (r: CloneServed) => void): Promise<void> {
  const { channel, signal, peer } = ctx;
  const repo = host.repo;
  const req = await channel.readMessage((v) => parseCloneRequest(v, peer));
  const config = await repo.config();
  if (req.repo !== undefined && req.repo !== config.repository.id) {
    throw new P2PError('REFUSED', `this peer serves repository "${config.repository.name}", not the one in your ticket`);
  }
  const existing = host.collaborator(peer);
  let invite: InviteRecord | undefined;
  if (!existing) {
    if (req.secret === undefined) throw new P2PError('REFUSED', `not a collaborator of ${config.repository.name}`);
    try {
      invite = await checkInvite(repo, req.secret);
    } catch (e) {
      if (e instanceof InviteRefused) throw new P2PError('REFUSED', e.message, { invite: e.problem });
      throw e;
    }
    if (!host.reserve(invite.id)) throw new P2PError('REFUSED', 'this invite is being used by another clone right now', { invite: 'busy' });
  }
  try {
    const role: Role = existing?.role ?? invite!.role;
    const collaborators = collaboratorsOf(config).map((c) => ({ peer_id: c.peerId, name: c.name, role: c.role, addresses: c.addresses }));
    await channel.sendJson({ type: 'meta', repository: config.repository, owner: host.ownerName, role, collaborators } satisfies MetaMessage);
    const adv = await advertiseRefs(repo);
    await channel.sendJson({ type: 'refs', repository: config.repository, head: adv.head, refs: adv.refs });
    const counts = await sendPack(channel, objectsToSend(repo, [...new Set(Object.values(adv.refs))], [], signal), { signal });
    await channel.readMessage(parseAck, { timeoutMs: ACK_TIMEOUT_MS });
    let name = req.name;
    if (invite) {
      try {
        await consumeInvite(repo, invite.id, peer);
      } catch (e) {
        if (e instanceof InviteRefused) throw new P2PError('REFUSED', e.message, { invite: e.problem });
        throw e;
      }
      const taken = new Set(collaboratorsOf(await repo.config()).map((c) => c.name));
      for (let i = 2; taken.has(name); i++) name = `${req.name.slice(0, 58)}-${i}`;
      await addCollaborator(repo, { peerId: peer, name, role, addresses: req.addresses });
    } else {
      name = existing!.name;
    }
    await touchCollaborator(repo, peer, req.addresses, 0);
    await channel.sendJson({ type: 'registered', role });
    onDone?.({ peer, name, role, invited: invite !== undefined, objects: counts.objects, bytes: counts.bytes });
  } finally {
    if (invite) host.release(invite.id);
  }
}

export interface CloneOptions extends SyncOptions {
  /** Folder the relative `dir` is taken from (default process.cwd()). */
  cwd?: string;
  /** Destination (default: the repository's name). Must not exist, or be an empty folder. */
  dir?: string;
  /** Your display name, shown to the owner (default: your user name). */
  name?: string;
  /** Use an existing identity key file (copied in) instead of generating a new identity. */
  identityFile?: string;
  /** Extra addresses to try for the owner. */
  addresses?: string[];
  logger?: P2PLogger;
  /** Transport options for the temporary node (tests, benchmarks). */
  node?: Partial<Omit<PeerNodeOptions, 'privateKey' | 'isAllowed'>>;
  /** false: objects, refs and HEAD only; no files are written and the index stays empty (`git clone -n`). */
  checkout?: boolean;
}

export interface CloneResult {
  root: string;
  repository: { id: string; name: string; default_branch: string };
  /** The owner we cloned from. */
  peer: string;
  ownerName: string;
  role: Role;
  /** Our new peer id. */
  peerId: string;
  branch?: string;
  head?: string;
  objects: number;
  bytes: number;
  commits: number;
  ms: number;
}

interface Source {
  target: PeerTarget;
  secret?: string;
  repoId?: string;
  repoName?: string;
}

/** `<ticket | multiaddr | peer id>` → who to dial and with what. */
export function parseCloneSource(source: string, extra: string[] = []): Source {
  const s = source.trim();
  if (looksLikeTicket(s)) {
    const t = decodeTicket(s);
    if (t.expires <= Date.now()) {
      throw new PatchworkError('P2P', 'This invite ticket has expired.', 'Ask the owner for a new one (`patchwork invite`).', { p2pCode: 'REFUSED', invite: 'expired' });
    }
    const addresses = [...t.addresses, ...extra.flatMap((a) => normalizeAddress(a, t.peerId) ?? [])];
    return { target: { peerId: t.peerId, name: t.repoName || shortId(t.peerId), addresses }, secret: t.secret, repoId: t.repoId, repoName: t.repoName };
  }
  if (s.startsWith('/')) {
    const id = peerIdOfAddress(s);
    if (!id) throw new PatchworkError('INVALID_ARGUMENT', `The address ${s} does not end in /p2p/<peer id>.`, 'Use the full address printed by `patchwork start`.');
    return { target: { peerId: id, name: shortId(id), addresses: [normalizeAddress(s, id)!, ...extra.flatMap((a) => normalizeAddress(a, id) ?? [])] } };
  }
  if (isPeerId(s)) {
    const addresses = extra.flatMap((a) => normalizeAddress(a, s) ?? []);
    if (!addresses.length) {
      throw new PatchworkError(
        'P2P',
        `Cannot find peer ${s} from its id alone: this build has no peer discovery (DHT or mDNS) yet.`,
        'Clone with the ticket from `patchwork invite`, or with the full address printed by `patchwork start` (ending in /p2p/<id>).',
        { p2pCode: 'DIAL_FAILED' },
      );
    }
    return { target: { peerId: s, name: shortId(s), addresses } };
  }
  throw new PatchworkError('INVALID_ARGUMENT', `"${source.trim().slice(0, 80)}" is neither an invite ticket, a multiaddr nor a peer id.`, 'Use the ticket printed by `patchwork invite`.');
}

async function assertFreeDestination(dest: string): Promise<void> {
  const st = await fsp.lstat(dest).catch(() => undefined);
  if (st && (!st.isDirectory() || (await fsp.readdir(dest)).length > 0)) {
    throw new PatchworkError('ALREADY_A_REPOSITORY', `The destination ${dest} already exists and is not an empty folder.`, 'Choose another folder: patchwork clone <ticket> <dir>.', { dest });
  }
  const inside = await Repository.find(dirname(dest));
  if (inside) throw new PatchworkError('ALREADY_A_REPOSITORY', `${dest} would be inside the Patchwork repository at ${inside}.`, 'Clone somewhere outside it.', { root: inside });
}

export async function clone(source: string, opts: CloneOptions = {}): Promise<CloneResult> {
  const t0 = Date.now();
  const cwd = resolve(opts.cwd ?? process.cwd());
  const src = parseCloneSource(source, opts.addresses);
  let dest = opts.dir !== undefined ? resolve(cwd, opts.dir) : src.repoName ? resolve(cwd, src.repoName) : undefined;
  if (dest) await assertFreeDestination(dest);
  const parent = dest ? dirname(dest) : cwd;
  await fsp.mkdir(parent, { recursive: true });
  const tmp = join(parent, `.patchwork-clone-${process.pid}-${randomBytes(4).toString('hex')}`);
  const progress = (phase: 'checkout', objects = 0, bytes = 0) => opts.onProgress?.({ phase, peer: src.target.peerId, objects, bytes });
  let node: Awaited<ReturnType<typeof createPeerNode>> | undefined;
  try {
    const repo = await Repository.init(tmp, { name: src.repoName || 'clone' });
    const identity = opts.identityFile
      ? await (async () => {
          const id = await loadIdentity(resolve(cwd, opts.identityFile!));
          await saveIdentity(identityPath(repo), id.privateKey);
          return id;
        })()
      : await createIdentity(identityPath(repo));
    node = await createPeerNode({ ...opts.node, privateKey: identity.privateKey, listen: [], isAllowed: () => false, logger: opts.logger ?? silentLogger });
    opts.onProgress?.({ phase: 'connecting', peer: src.target.peerId, objects: 0, bytes: 0 });
    const channel = await openTo(node, src.target, CLONE_PROTOCOL, opts).catch((e: unknown) => {
      // With no invite outstanding the owner's gate admits no stranger, so a used, expired or revoked
      // ticket meets a closed door rather than an explanation.
      if (src.secret !== undefined && e instanceof P2PError && e.code === 'REFUSED' && e.data.atGate) {
        throw new P2PError('REFUSED', 'the owner no longer accepts this invite: it was used, has expired or was revoked', { ...e.data, invite: 'used' });
      }
      throw e;
    });
    try {
      const myName = opts.name ?? (await repo.identity()).name;
      await channel.sendJson({ type: 'clone', repo: src.repoId, secret: src.secret, name: myName, addresses: [] });
      opts.onProgress?.({ phase: 'negotiating', peer: src.target.peerId, objects: 0, bytes: 0 });
      const meta = await channel.readMessage(parseMeta);
      if (src.repoId !== undefined && meta.repository.id !== src.repoId) {
        await channel.sendError('REFUSED', 'wrong repository');
        throw new P2PError('REFUSED', `${src.target.name} serves a different repository than the ticket names`, { peer: src.target.peerId });
      }
      await repo.updateConfig((c: RepoConfig) => {
        c.repository = { ...meta.repository };
        setCollaborators(c, cloneCollaborators(meta, src.target, identity.peerId));
      });
      const refs = await channel.readMessage(parseRefs);
      if (refs.repository.id !== meta.repository.id) throw new P2PError('PROTOCOL_VIOLATION', 'refs name a different repository than meta', { peer: src.target.peerId });
      const branch = refs.head ?? meta.repository.default_branch;
      let head: string | undefined;
      const received = await receiveInto(repo, channel, src.target.peerId, refs.refs, opts, async () => {
        for (const [ref, id] of Object.entries(refs.refs)) {
          if (ref.startsWith('heads/') && ref !== `heads/${branch}`) await repo.refs.write(HEADS + ref.slice(6), id);
          if (ref.startsWith('tags/')) await repo.refs.write(TAGS + ref.slice(5), id);
        }
        await repo.refs.setHead({ kind: 'branch', branch });
        head = refs.refs[`heads/${branch}`];
        if (head && opts.checkout === false) await repo.refs.write(HEADS + branch, head);
        else if (head) {
          progress('checkout');
          await fastForwardBranch(repo, branch, head);
        }
      });
      await channel.sendJson({ type: 'ack' });
      const registered = await channel.readMessage(parseRegistered);
      await channel.close().catch(() => undefined);
      await node.stop();
      node = undefined;
      if (!dest) {
        dest = resolve(cwd, meta.repository.name);
        await assertFreeDestination(dest);
      }
      await fsp.rmdir(dest).catch(() => undefined); // an empty destination folder is replaced
      await fsp.rename(tmp, dest);
      opts.onProgress?.({ phase: 'done', peer: src.target.peerId, objects: received.objects, bytes: received.bytes });
      return {
        root: dest,
        repository: meta.repository,
        peer: src.target.peerId,
        ownerName: meta.owner,
        role: registered.role,
        peerId: identity.peerId,
        branch,
        head,
        objects: received.objects,
        bytes: received.bytes,
        commits: received.commits,
        ms: Date.now() - t0,
      };
    } catch (e) {
      if (channel.error === null) channel.abort();
      throw e;
    }
  } catch (e) {
    await removeAll(tmp);
    throw asCancelled(e, opts.signal);
  } finally {
    await node?.stop().catch(() => undefined);
  }
}

/** The clone's collaborators: the owner (a writer here, so it can push to us), then the others it listed. */
function cloneCollaborators(meta: MetaMessage, owner: PeerTarget, me: string): Collaborator[] {
  const list: Collaborator[] = [{ peerId: owner.peerId, name: meta.owner, role: 'writer', addresses: owner.addresses, lastSeen: new Date().toISOString() }];
  const names = new Set([meta.owner]);
  for (const c of meta.collaborators) {
    if (c.peer_id === me || c.peer_id === owner.peerId || list.some((x) => x.peerId === c.peer_id)) continue;
    let name = c.name;
    for (let i = 2; names.has(name); i++) name = `${c.name.slice(0, 58)}-${i}`;
    names.add(name);
    list.push({ peerId: c.peer_id, name, role: c.role, addresses: c.addresses });
  }
  return list;
}

/** Remove the half-built clone; retried because a failed checkout may still be finishing a write. */
async function removeAll(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3 });
      return;
    } catch (e) {
      if (attempt >= 20) return; // never hide the clone's own error behind a cleanup error
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
