/**
 * The peer identity: an Ed25519 key pair whose public half is the peer id (the repository owner's
 * public address). It lives in its own file (e.g. `<repo>/.patch/identity.key`), never in
 * patchwork.toml, with mode 0600.
 *
 * Decision on loose permissions: like OpenSSH with a private key, loading REFUSES a file that group
 * or others can read or write, or that another user owns (code IDENTITY_INSECURE, with the chmod
 * command in the message). A readable key may already have been copied, and a warning in a log is
 * easy to miss while the node happily serves the repository under a possibly stolen identity.
 * `allowInsecurePermissions` turns the refusal into an entry in `warnings` for callers that must
 * start anyway (e.g. on filesystems without POSIX modes); on Windows the mode is not checked.
 *
 * Nothing here logs; the secret never leaves this module except as the PrivateKey object.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsc, fstatSync, openSync, readFileSync } from 'node:fs';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { P2PError } from './errors.js';

export const IDENTITY_FORMAT = 'patchwork-identity/1';
/** An identity file is a few hundred bytes; anything much bigger is not one. */
const MAX_IDENTITY_FILE = 64 * 1024;

export interface Identity {
  privateKey: PrivateKey;
  /** Base58 peer id string, e.g. `12D3KooW…`. */
  peerId: string;
}

export interface LoadedIdentity extends Identity {
  path: string;
  /** Non-fatal problems (only when `allowInsecurePermissions` let an insecure file through). */
  warnings: string[];
}

interface IdentityFile {
  format: typeof IDENTITY_FORMAT;
  type: 'Ed25519';
  /** Redundant with the key; checked on load so a corrupted or hand-edited file is noticed. */
  peerId: string;
  /** Base64 of the libp2p protobuf encoding of the private key. */
  privateKey: string;
}

/** A fresh Ed25519 identity, not yet stored anywhere. */
export async function generateIdentity(): Promise<Identity> {
  const privateKey = await generateKeyPair('Ed25519');
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

export interface SaveIdentityOptions {
  /** Replace an existing file (default false: an existing identity is never clobbered). */
  overwrite?: boolean;
}

/**
 * Write the key atomically: a temporary file in the same directory, created with mode 0600 (the
 * umask can only remove bits), fsynced, then linked (no overwrite) or renamed (overwrite) into place.
 * Readers never see a partial file, and there is no moment when the key exists with wider mode.
 */
export async function saveIdentity(path: string, privateKey: PrivateKey, options: SaveIdentityOptions = {}): Promise<void> {
  if (privateKey.type !== 'Ed25519') {
    throw new P2PError('IDENTITY_INVALID', `only Ed25519 identities are supported, not ${privateKey.type}`);
  }
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const body: IdentityFile = {
    format: IDENTITY_FORMAT,
    type: 'Ed25519',
    peerId: peerIdFromPrivateKey(privateKey).toString(),
    privateKey: Buffer.from(privateKeyToProtobuf(privateKey)).toString('base64'),
  };
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let tmpExists = false;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    tmpExists = true;
    try {
      await fh.writeFile(JSON.stringify(body) + '\n');
      if (process.platform !== 'win32') await fh.chmod(0o600);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.overwrite === true) {
      await rename(tmp, path);
      tmpExists = false;
    } else {
      await linkNoClobber(tmp, path);
    }
    await fsyncDir(dir);
  } finally {
    if (tmpExists) await unlink(tmp).catch(() => undefined);
  }
}

/** link(2) fails with EEXIST instead of replacing; fall back to check-then-rename where links are unsupported. */
async function linkNoClobber(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
    return;
  } catch (e) {
    const code = errno(e);
    if (code === 'EEXIST') throw existsError(path);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV' && code !== 'EOPNOTSUPP') throw e;
  }
  // Filesystem without hard links: a small race remains between the check and the rename.
  const existing = await open(path, 'r').catch(() => null);
  if (existing !== null) {
    await existing.close();
    throw existsError(path);
  }
  await rename(tmp, path);
}

function existsError(path: string): P2PError {
  return new P2PError('IDENTITY_EXISTS', `an identity already exists at ${path}; refusing to replace it`, { path });
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r').catch(() => null);
  if (fh === null) return;
  try {
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh.close();
  }
}

/** Generate and save; fails with IDENTITY_EXISTS rather than replacing an identity. */
export async function createIdentity(path: string, options: SaveIdentityOptions = {}): Promise<LoadedIdentity> {
  const id = await generateIdentity();
  await saveIdentity(path, id.privateKey, options);
  return { ...id, path, warnings: [] };
}

export interface LoadIdentityOptions {
  /** Load even when group/others can access the file or another user owns it; adds a warning instead. */
  allowInsecurePermissions?: boolean;
}

/**
 * Read and check an identity file. Its I/O is synchronous (a file of a few hundred bytes, read on
 * the path to a peer listening): an asynchronous open, stat, read and close are four trips through
 * libuv's process-wide thread pool, which in the extension host waits behind the editor's own file
 * I/O while VS Code starts (peer-file.ts says the same of peer.json).
 */
export async function loadIdentity(path: string, options: LoadIdentityOptions = {}): Promise<LoadedIdentity> {
  return loadIdentitySync(path, options);
}

function loadIdentitySync(path: string, options: LoadIdentityOptions): LoadedIdentity {
  const warnings: string[] = [];
  // O_NOFOLLOW + fstat on the opened descriptor: the file checked is the file read (no symlink swap).
  const flags = fsc.O_RDONLY | (process.platform === 'win32' ? 0 : fsc.O_NOFOLLOW);
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT') throw new P2PError('IDENTITY_MISSING', `no identity file at ${path}`, { path });
    if (code === 'ELOOP') throw new P2PError('IDENTITY_INSECURE', `identity file ${path} is a symbolic link; refusing to follow it`, { path });
    throw new P2PError('IDENTITY_INVALID', `cannot open identity file ${path}: ${errno(e) ?? String(e)}`, { path });
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new P2PError('IDENTITY_INVALID', `identity path ${path} is not a regular file`, { path });
    if (process.platform !== 'win32') {
      const problems: string[] = [];
      if ((st.mode & 0o077) !== 0) problems.push(`mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')} (group/others have access)`);
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid && st.uid !== 0) problems.push(`it is owned by uid ${st.uid}, not by you (uid ${uid})`);
      if (problems.length > 0) {
        const msg = `identity file ${path} is not private: ${problems.join('; ')}. Run: chmod 600 '${path}'`;
        if (options.allowInsecurePermissions !== true) throw new P2PError('IDENTITY_INSECURE', msg, { path });
        warnings.push(msg);
      }
    }
    if (st.size > MAX_IDENTITY_FILE) throw new P2PError('IDENTITY_INVALID', `identity file ${path} is too large to be an identity`, { path });
    text = readFileSync(fd, { encoding: 'utf8' });
  } finally {
    closeSync(fd);
  }
  const identity = parseIdentityFile(text, path);
  return { ...identity, path, warnings };
}

function parseIdentityFile(text: string, path: string): Identity {
  const invalid = (why: string) => new P2PError('IDENTITY_INVALID', `identity file ${path} is invalid: ${why}`, { path });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not an object');
  const f = parsed as Partial<Record<keyof IdentityFile, unknown>>;
  if (f.format !== IDENTITY_FORMAT) throw invalid(`unknown format ${JSON.stringify(f.format)}`);
  if (f.type !== 'Ed25519') throw invalid('key type is not Ed25519');
  if (typeof f.privateKey !== 'string' || typeof f.peerId !== 'string') throw invalid('missing fields');
  const bytes = Buffer.from(f.privateKey, 'base64');
  let privateKey: PrivateKey;
  try {
    privateKey = privateKeyFromProtobuf(bytes);
  } catch {
    throw invalid('the key does not decode');
  } finally {
    bytes.fill(0);
  }
  if (privateKey.type !== 'Ed25519') throw invalid('key type is not Ed25519');
  const peerId = peerIdFromPrivateKey(privateKey).toString();
  if (peerId !== f.peerId) throw invalid('the stored peer id does not match the key');
  return { privateKey, peerId };
}

/** For `init`/`clone`/`start`: load the identity, creating it if there is none yet. */
export async function loadOrCreateIdentity(path: string, options: LoadIdentityOptions = {}): Promise<LoadedIdentity & { created: boolean }> {
  try {
    return { ...(await loadIdentity(path, options)), created: false };
  } catch (e) {
    if (!(e instanceof P2PError) || e.code !== 'IDENTITY_MISSING') throw e;
  }
  try {
    return { ...(await createIdentity(path)), created: true };
  } catch (e) {
    // Another process created it between our load and create: use theirs.
    if (e instanceof P2PError && e.code === 'IDENTITY_EXISTS') return { ...(await loadIdentity(path, options)), created: false };
    throw e;
  }
}

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
