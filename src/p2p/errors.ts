/**
 * Typed transport errors. Tests and callers branch on `code`, never on wording. Some codes travel to
 * the remote peer inside an error frame (see frames.ts); `remote` says the error was reported by the
 * other side rather than detected here.
 *
 * The CLI/extension edge maps these onto the engine's PatchworkError('P2P', message, hint,
 * { p2pCode: code, ... }) when it prints them; this layer stays independent of that wording.
 */
export type P2PErrorCode =
  /** A frame header announced more bytes than the channel accepts (checked before allocating). */
  | 'FRAME_TOO_LARGE'
  /** A read, write or dial deadline passed. */
  | 'TIMEOUT'
  /** Malformed frame, bad JSON, unexpected message kind, or a stream that ended mid-frame. */
  | 'PROTOCOL_VIOLATION'
  /** The remote peer is not allowed (not a collaborator, wrong role, or refused at the gate). */
  | 'REFUSED'
  /** The stream closed or was reset before the operation finished. */
  | 'CLOSED'
  /** The caller's AbortSignal fired (user cancelled). */
  | 'ABORTED'
  /** No connection to the peer could be made. */
  | 'DIAL_FAILED'
  /** The remote answered with a different peer id than the one expected. */
  | 'WRONG_PEER'
  /** Identity file problems (see identity.ts). */
  | 'IDENTITY_INSECURE'
  | 'IDENTITY_INVALID'
  | 'IDENTITY_EXISTS'
  | 'IDENTITY_MISSING'
  /** A handler failed for a reason of its own; the remote only sees a generic message. */
  | 'INTERNAL';

/** Codes a peer may put in an error frame. Anything else received is a protocol violation. */
export const WIRE_ERROR_CODES: ReadonlySet<P2PErrorCode> = new Set<P2PErrorCode>([
  'FRAME_TOO_LARGE',
  'TIMEOUT',
  'PROTOCOL_VIOLATION',
  'REFUSED',
  'CLOSED',
  'ABORTED',
  'INTERNAL',
]);

export class P2PError extends Error {
  override readonly name = 'P2PError';
  constructor(
    readonly code: P2PErrorCode,
    message: string,
    readonly data: { remote?: boolean; peer?: string; protocol?: string; cause?: unknown } & Record<string, unknown> = {},
  ) {
    super(message);
  }
  /** True when the other side reported this error in an error frame. */
  get remote(): boolean {
    return this.data.remote === true;
  }
}

export function isP2PError(e: unknown, code?: P2PErrorCode): e is P2PError {
  return e instanceof P2PError && (code === undefined || e.code === code);
}

/** Wrap anything thrown by libp2p (or us) into a P2PError, keeping P2PErrors as they are. */
export function toP2PError(e: unknown, fallback: P2PErrorCode, context: string): P2PError {
  if (e instanceof P2PError) return e;
  const name = typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
  const msg = e instanceof Error ? e.message : String(e);
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new P2PError(name === 'TimeoutError' ? 'TIMEOUT' : 'ABORTED', `${context}: ${msg}`, { cause: e });
  }
  return new P2PError(fallback, `${context}: ${msg}`, { cause: e, libp2pError: name || undefined });
}

/** Text from a peer, made safe to print: no control characters, bounded length. */
export function sanitizeRemoteText(s: unknown, max = 300): string {
  const text = typeof s === 'string' ? s : '';
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ');
  return clean.length > max ? clean.slice(0, max) + '…' : clean;
}
