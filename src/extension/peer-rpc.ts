/**
 * The messages between the extension (VS Code's extension host thread) and the peer worker, a
 * worker thread that runs out/peer.js (libp2p, the p2p layer, its own copy of the engine): see
 * peer-worker.ts (the worker's entry), peer-rpc-server.ts (its side) and peer-rpc-client.ts (the
 * extension's side). The peer lives in a thread of its own so that it starts, serves and transfers
 * without waiting for the extension host's thread, which other extensions keep busy while VS Code
 * starts (measured: their activation held it for 300 ms and more right when our peer was starting).
 *
 * Calls and replies carry plain data only. Errors cross as `WireError` (the structured clone of an
 * Error keeps neither `code` nor `hint`); callbacks (a logger, progress, an AbortSignal, a serving
 * endpoint's events) become messages of their own. No vscode and no libp2p import.
 */
import type { DiscoveryFeatures } from './peer-host';

/** What `fn` names: a function of peer-host.ts, or (with `ep`) a method of one of its endpoints. */
export type HostFunction =
  | 'startService'
  | 'startClient'
  | 'runningPeer'
  | 'peerId'
  | 'listCollaborators'
  | 'addCollaborator'
  | 'removeCollaborator'
  | 'createInvite'
  | 'readTicket'
  | 'clone'
  | 'listenAddress'
  | 'peerProblem'
  | 'peerIdOf'
  | 'addressProblem';

export type EndpointMethod = 'fetch' | 'pull' | 'push' | 'probe' | 'reloadAccess' | 'stop';

/** Callbacks of a call, re-attached by the worker to the call's last argument (an options object). */
export interface CallHooks {
  /** `logger`: log lines come back as `log` messages (for an endpoint: as long as it runs). */
  logger?: boolean;
  /** `signal`: an `abort` message aborts it. */
  signal?: boolean;
  /** `onProgress`: reports come back as `progress` messages. */
  progress?: boolean;
}

export type ToWorker =
  | { t: 'call'; id: number; fn: HostFunction; args: unknown[]; hooks: CallHooks }
  | { t: 'call'; id: number; ep: number; fn: EndpointMethod; args: unknown[]; hooks: CallHooks }
  | { t: 'abort'; id: number; reason?: string }
  | { t: 'saveCodeCache'; id: number };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromWorker =
  /** out/peer.js has loaded; `at` is an absolute time (see `absoluteNow`). */
  | { t: 'ready'; loadMs: number; codeCache: string; at: number; bootAt: number }
  | { t: 'loadFailed'; error: WireError }
  | { t: 'result'; id: number; value: unknown }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'log'; logger: number; level: LogLevel; message: string }
  | { t: 'progress'; id: number; p: unknown }
  /** An event of a serving endpoint (the id of the call that started it). */
  | { t: 'event'; ep: number; e: unknown };

/** An error as it crosses: the engine's shape (code, message, hint, data) and the worker's stack. */
export interface WireError {
  readonly $error: true;
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly hint?: string;
  readonly data?: Record<string, unknown>;
  readonly stack?: string;
}

/** An endpoint (a serving node or a dial-only one) as it crosses; its id is the id of the call that made it. */
export interface WireEndpoint {
  readonly $endpoint: number;
  readonly peerId: string;
  readonly serving: boolean;
  readonly features: DiscoveryFeatures;
  readonly addresses: string[];
  /** When it was ready (listening, for a serving node): an absolute time (see `absoluteNow`). */
  readonly at: number;
}

/** A time both threads agree on (each thread's `performance.now()` counts from its own origin). */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

/** `absoluteNow()` of another thread as this thread's `performance.now()`. */
export function localTime(absolute: number): number {
  return absolute - performance.timeOrigin;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function wireError(e: unknown): WireError {
  if (!(e instanceof Error) && !(typeof e === 'object' && e !== null && 'message' in e)) return { $error: true, name: 'Error', message: String(e) };
  const x = e as Error & { code?: unknown; hint?: unknown; data?: unknown };
  return {
    $error: true,
    name: typeof x.name === 'string' ? x.name : 'Error',
    message: String(x.message),
    code: typeof x.code === 'string' ? x.code : undefined,
    hint: typeof x.hint === 'string' ? x.hint : undefined,
    data: isPlainObject(x.data) ? (toWire(x.data) as Record<string, unknown>) : undefined,
    stack: typeof x.stack === 'string' ? x.stack : undefined,
  };
}

/** `value` with every Error in it (results carry PlainErrors, which are Errors) turned into a WireError. */
export function toWire(value: unknown): unknown {
  if (value instanceof Error) return wireError(value);
  if (Array.isArray(value)) return value.map(toWire);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}

/** An Error with the WireError's fields (adoptError in peerHost.ts turns a PatchworkError's into one of this bundle's). */
export function errorFromWire(w: WireError): Error {
  const e = new Error(w.message) as Error & { code?: string; hint?: string; data?: Record<string, unknown> };
  e.name = w.name;
  if (w.code !== undefined) e.code = w.code;
  if (w.hint !== undefined) e.hint = w.hint;
  e.data = w.data ?? {};
  if (w.stack) e.stack = w.stack;
  return e;
}

/** `toWire` undone: WireErrors become Errors again. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (isPlainObject(value)) {
    if (value.$error === true) return errorFromWire(value as unknown as WireError);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromWire(v);
    return out;
  }
  return value;
}

export function isWireEndpoint(v: unknown): v is WireEndpoint {
  return isPlainObject(v) && typeof v.$endpoint === 'number';
}
