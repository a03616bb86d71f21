/**
 * A framed message channel over one libp2p stream.
 *
 * Wire format, per frame:  u32 big-endian payload length | u8 kind | payload
 *   kind 1 JSON    UTF-8 JSON value (control messages)          at most maxJsonSize bytes
 *   kind 2 BINARY  raw bytes (object data)                      at most maxFrameSize bytes
 *   kind 3 ERROR   UTF-8 JSON {code, message}; the sender ends the stream after it
 * The length is checked against the limit for its kind as soon as the 5-byte header is in, before
 * anything is allocated or buffered for the payload.
 *
 * Failure model: every problem becomes a P2PError; the first one "fails" the channel: the reason is
 * sent to the peer in an error frame when that makes sense, the stream is closed (then reset after a
 * grace period), and every pending and later operation rejects with that error. Nothing here throws
 * asynchronously outside a promise the caller holds, so a hostile peer cannot crash the node.
 *
 * Flow control (libp2p 3.x streams are event emitters, not {source, sink} duplexes):
 *  - send: `stream.send()` always queues; when it returns false we wait for the 'drain' event before
 *    the next frame. (Not `stream.onDrain()`: in @libp2p/utils 7 it caches its promise, so after the
 *    first drain it resolves at once and backpressure is silently lost.) A frame's header and payload
 *    are queued back to back (copied into one buffer up to 128 KiB; above that, the header with a
 *    copy of the first 64 KiB, then the rest), so an error frame can never land inside another frame.
 *  - receive: 'message' events fill a local queue; above `highWaterMark` we `stream.pause()` (Yamux
 *    stops granting window, the sender's `send()` starts returning false) and `resume()` once the
 *    reader catches up. Memory per channel is bounded by highWaterMark + one frame + the Yamux window.
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import { P2PError, WIRE_ERROR_CODES, sanitizeRemoteText, toP2PError, type P2PErrorCode } from './errors.js';

export const FRAME_HEADER_SIZE = 5;
export const KIND_JSON = 1;
export const KIND_BINARY = 2;
export const KIND_ERROR = 3;
export const DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024;
export const DEFAULT_MAX_JSON_SIZE = 1024 * 1024;
export const MAX_ERROR_FRAME_SIZE = 4096;
export const DEFAULT_TIMEOUT_MS = 30_000;
const CLOSE_FLUSH_MS = 2_000;
const RESET_GRACE_MS = 5_000;

export type Frame = { kind: 'json'; value: unknown } | { kind: 'binary'; data: Uint8Array };

export interface FrameChannelOptions {
  /** Largest binary frame accepted or sent (default 8 MiB). */
  maxFrameSize?: number;
  /** Largest JSON frame accepted or sent (default 1 MiB, never more than maxFrameSize). */
  maxJsonSize?: number;
  /** Default deadline for each read (whole frame) and each wait for the peer to drain (default 30 s). */
  timeoutMs?: number;
  /** Cancels the whole channel (ABORTED, told to the peer). */
  signal?: AbortSignal;
  /** Pause the stream when this many received bytes wait unread (default max(2 MiB, maxFrameSize + header)). */
  highWaterMark?: number;
  /** For error messages. */
  peer?: string;
  protocol?: string;
}

export interface OpOptions {
  /** Deadline for this operation instead of the channel default. */
  timeoutMs?: number;
  /** Cancels this operation, and with it the channel (a half-read frame cannot be resumed). */
  signal?: AbortSignal;
}

interface Waiter {
  need: number;
  wake: () => void;
}

/**
 * A fresh array for `n` bytes that the caller overwrites entirely: not zero-filled first (which
 * `new Uint8Array(n)` does, and which costs as much as the copy for a 1 MiB frame). A plain
 * Uint8Array over its own memory, never a view into a shared pool, so it behaves like `new Uint8Array`.
 */
function uninitialized(n: number): Uint8Array {
  return n === 0 ? new Uint8Array(0) : new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/**
 * No small send for a frame. Each `stream.send()` becomes a Yamux frame and at least one Noise
 * message of its own: a header sent alone would cost an encryption, two socket writes and a window
 * update from the peer, for 5 bytes, and the small window update it earns makes Yamux send the next
 * bytes as a small frame again. So a frame of up to 2 × COALESCE_LIMIT bytes is copied behind its
 * header and queued as one buffer; a larger one is queued as its header with a copy of its first
 * COALESCE_LIMIT bytes (header included), then the rest (more than COALESCE_LIMIT bytes) from the
 * caller's array. Copying that much costs less than the small send.
 */
const COALESCE_LIMIT = 64 * 1024;

/** The frame's header followed by a copy of its payload's first `head` bytes (default: all). */
function encodeFrame(kind: number, payload: Uint8Array, head = payload.byteLength): Uint8Array {
  const frame = uninitialized(FRAME_HEADER_SIZE + head);
  new DataView(frame.buffer).setUint32(0, payload.byteLength);
  frame[4] = kind;
  frame.set(head === payload.byteLength ? payload : payload.subarray(0, head), FRAME_HEADER_SIZE);
  return frame;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class FrameChannel {
  readonly maxFrameSize: number;
  readonly maxJsonSize: number;
  readonly timeoutMs: number;
  readonly peer: string | undefined;
  readonly protocol: string | undefined;
  /** Payload + header bytes, for progress reporting. */
  bytesSent = 0;
  bytesReceived = 0;

  private readonly ended = new AbortController();
  private readonly highWaterMark: number;
  private readonly chunks: Uint8Array[] = [];
  private headOffset = 0;
  private buffered = 0;
  private waiter: Waiter | null = null;
  private drainWaiters = new Set<() => void>();
  private paused = false;
  private resuming = false;
  private streamClosed = false;
  private closeError: P2PError | null = null;
  private failure: P2PError | null = null;
  private writeClosed = false;
  private readChain: Promise<unknown> = Promise.resolve();
  private writeChain: Promise<unknown> = Promise.resolve();
  private readonly detach: () => void;
  private readonly stopReceiving: () => void;

  constructor(
    readonly stream: Stream,
    options: FrameChannelOptions = {},
  ) {
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isInteger(this.maxFrameSize) || this.maxFrameSize < 1 || this.maxFrameSize > 0xffffffff) {
      throw new P2PError('INTERNAL', 'maxFrameSize must be an integer between 1 and 2^32-1');
    }
    this.maxJsonSize = Math.min(options.maxJsonSize ?? DEFAULT_MAX_JSON_SIZE, this.maxFrameSize);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.highWaterMark = options.highWaterMark ?? Math.max(2 * 1024 * 1024, this.maxFrameSize + FRAME_HEADER_SIZE);
    this.peer = options.peer;
    this.protocol = options.protocol;

    const onMessage = (evt: StreamMessageEvent) => {
      const data = evt.data;
      if (data instanceof Uint8Array) this.append(data);
      else for (const b of data) this.append(b);
      this.wakeReader();
      this.updateFlow();
    };
    const onEnd = () => this.wakeReader();
    const onDrain = () => this.wakeWriters();
    const onClose = (evt: StreamCloseEvent) => {
      this.streamClosed = true;
      const err = evt.error;
      if (err != null && this.failure === null) {
        const timeout = err.name === 'InactivityTimeoutError';
        this.closeError = new P2PError(timeout ? 'TIMEOUT' : 'CLOSED', `${this.describe()}: stream ${timeout ? 'inactive too long' : 'reset'} (${err.name})`, this.data({ cause: err }));
      }
      // A remote reset can leave received bytes in libp2p's buffer while we are paused; take them.
      if (this.paused) this.tryResume();
      this.wakeReader();
      this.wakeWriters();
      this.ended.abort(this.failure ?? this.closeError ?? new P2PError('CLOSED', `${this.describe()}: stream closed`, this.data({})));
    };
    stream.addEventListener('message', onMessage);
    stream.addEventListener('end', onEnd);
    stream.addEventListener('drain', onDrain);
    stream.addEventListener('close', onClose);
    this.stopReceiving = () => stream.removeEventListener('message', onMessage);
    this.detach = () => {
      this.stopReceiving();
      stream.removeEventListener('end', onEnd);
      stream.removeEventListener('drain', onDrain);
      stream.removeEventListener('close', onClose);
    };
    if (stream.status !== 'open') this.streamClosed = true;

    if (options.signal != null) {
      const signal = options.signal;
      const onAbort = () => void this.fail(this.abortedError(signal), true);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        stream.addEventListener('close', () => signal.removeEventListener('abort', onAbort), { once: true });
      }
    }
  }

  /**
   * Aborted (with the P2PError as reason) once the channel fails or its stream closes. Handlers pass
   * it to long-running work (object walks, disk reads) so it stops when the peer goes away.
   */
  get signal(): AbortSignal {
    return this.ended.signal;
  }

  /** The error that ended this channel, if any. */
  get error(): P2PError | null {
    return this.failure ?? this.closeError;
  }

  // ---------------------------------------------------------------- reading

  /** The next frame, or null when the peer closed its side cleanly at a frame boundary. */
  read(options: OpOptions = {}): Promise<Frame | null> {
    const run = this.readChain.then(() => this.readOne(options));
    this.readChain = run.catch(() => undefined);
    return run;
  }

  /** The next frame, which must be JSON. */
  async readJson(options: OpOptions = {}): Promise<unknown> {
    const f = await this.read(options);
    if (f === null) throw this.violation('stream ended where a message was expected');
    if (f.kind !== 'json') throw this.violation('binary frame where a message was expected');
    return f.value;
  }

  /**
   * The next JSON frame passed through `parse`, which validates it and returns the typed value or
   * throws; whatever it throws (other than a P2PError) becomes PROTOCOL_VIOLATION and ends the channel.
   */
  async readMessage<T>(parse: (value: unknown) => T, options: OpOptions = {}): Promise<T> {
    const value = await this.readJson(options);
    try {
      return parse(value);
    } catch (e) {
      if (e instanceof P2PError) {
        void this.fail(e, true);
        throw e;
      }
      throw this.violation(`invalid message: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The next frame, which must be binary. */
  async readBinary(options: OpOptions = {}): Promise<Uint8Array> {
    const f = await this.read(options);
    if (f === null) throw this.violation('stream ended where data was expected');
    if (f.kind !== 'binary') throw this.violation('message frame where data was expected');
    return f.data;
  }

  /** Frames until the peer closes its side; each one under its own deadline. */
  async *frames(options: OpOptions = {}): AsyncGenerator<Frame, void, undefined> {
    for (;;) {
      const f = await this.read(options);
      if (f === null) return;
      yield f;
    }
  }

  private async readOne(options: OpOptions): Promise<Frame | null> {
    this.throwIfFailed();
    const cancel = this.deadline(options, 'read');
    try {
      if (!(await this.fill(FRAME_HEADER_SIZE))) {
        if (this.buffered === 0) {
          if (this.closeError !== null) throw this.closeError;
          return null;
        }
        throw this.violation('stream ended inside a frame header');
      }
      const header = this.peek(FRAME_HEADER_SIZE);
      const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_SIZE).getUint32(0);
      const kind = header[4]!;
      const limit = kind === KIND_BINARY ? this.maxFrameSize : kind === KIND_JSON ? this.maxJsonSize : kind === KIND_ERROR ? MAX_ERROR_FRAME_SIZE : -1;
      if (limit < 0) throw this.violation(`unknown frame kind ${kind}`);
      if (length > limit) {
        const err = new P2PError('FRAME_TOO_LARGE', `${this.describe()}: frame of ${length} bytes exceeds the limit of ${limit}`, this.data({ length, limit }));
        void this.fail(err, true);
        throw err;
      }
      this.consume(FRAME_HEADER_SIZE);
      if (!(await this.fill(length))) {
        if (this.closeError !== null) throw this.closeError;
        throw this.violation(`stream ended inside a frame (${this.buffered} of ${length} bytes)`);
      }
      const payload = this.take(length);
      this.bytesReceived += FRAME_HEADER_SIZE + length;
      this.updateFlow();
      if (kind === KIND_BINARY) return { kind: 'binary', data: payload };
      let value: unknown;
      try {
        value = JSON.parse(decoder.decode(payload));
      } catch {
        throw this.violation(kind === KIND_ERROR ? 'malformed error frame' : 'malformed JSON frame');
      }
      if (kind === KIND_JSON) return { kind: 'json', value };
      throw this.remoteError(value);
    } finally {
      cancel();
    }
  }

  private remoteError(value: unknown): P2PError {
    const v = (typeof value === 'object' && value !== null ? value : {}) as { code?: unknown; message?: unknown };
    const code = typeof v.code === 'string' && WIRE_ERROR_CODES.has(v.code as P2PErrorCode) ? (v.code as P2PErrorCode) : 'PROTOCOL_VIOLATION';
    const message = sanitizeRemoteText(v.message) || code;
    const err = new P2PError(code, `${this.peer ?? 'peer'}: ${message}`, this.data({ remote: true }));
    // The peer ended the exchange; close our side without answering with an error of our own.
    void this.fail(err, false);
    return err;
  }

  /** Wait until `n` bytes are buffered. False if the stream ended first. Throws on channel failure. */
  private async fill(n: number): Promise<boolean> {
    for (;;) {
      this.throwIfFailed();
      if (this.buffered >= n) return true;
      if (this.sourceExhausted()) return false;
      await new Promise<void>((resolve) => {
        this.waiter = { need: n, wake: resolve };
        this.updateFlow();
      });
      this.waiter = null;
    }
  }

  private sourceExhausted(): boolean {
    if (this.stream.readableEnded) return true;
    // Closed (reset or transport gone) and nothing more can come out of libp2p's own buffer.
    return this.streamClosed && (this.stream.readBufferLength === 0 || this.stream.readStatus === 'closed');
  }

  private wakeReader(): void {
    const w = this.waiter;
    if (w === null) return;
    if (this.buffered >= w.need || this.failure !== null || this.sourceExhausted()) {
      this.waiter = null;
      w.wake();
    }
  }

  private append(b: Uint8Array): void {
    if (b.byteLength === 0) return;
    this.chunks.push(b);
    this.buffered += b.byteLength;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.byteLength - this.headOffset >= n) return first.subarray(this.headOffset, this.headOffset + n);
    return this.copyOut(n, false);
  }

  private take(n: number): Uint8Array {
    return this.copyOut(n, true);
  }

  /** Copy the first n buffered bytes into a fresh array (the caller owns it). */
  private copyOut(n: number, consume: boolean): Uint8Array {
    const out = uninitialized(n);
    let written = 0;
    let i = 0;
    let off = this.headOffset;
    while (written < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.byteLength - off, n - written);
      out.set(c.subarray(off, off + k), written);
      written += k;
      off += k;
      if (off === c.byteLength) {
        i++;
        off = 0;
      }
    }
    if (consume) {
      this.chunks.splice(0, i);
      this.headOffset = off;
      this.buffered -= n;
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.byteLength - this.headOffset;
      if (left > n) {
        this.headOffset += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.headOffset = 0;
    }
  }

  /** Pause the libp2p stream while too much waits unread, unless a reader needs more than that. */
  private updateFlow(): void {
    if (this.failure !== null || this.streamClosed || this.resuming) return;
    const readerNeedsMore = this.waiter !== null && this.waiter.need > this.buffered;
    const shouldPause = this.buffered >= this.highWaterMark && !readerNeedsMore;
    if (shouldPause && !this.paused) {
      try {
        this.stream.pause();
        this.paused = true;
      } catch {
        // readable end already closing; nothing more will arrive anyway
      }
    } else if (!shouldPause && this.paused) {
      this.tryResume();
    }
  }

  /**
   * `stream.resume()` first delivers what libp2p buffered while paused (our 'message' handler runs
   * inside it) and only then re-opens the Yamux window. Pausing from inside that delivery would be
   * undone by the window update that follows (the muxer keeps granting window while libp2p keeps
   * buffering, until it resets the stream for exceeding maxReadBufferLength). So no pause decision is
   * taken during the call; it is taken right after, when a pause sticks.
   */
  private tryResume(): void {
    this.paused = false;
    this.resuming = true;
    try {
      this.stream.resume();
    } catch {
      // readable end closed; sourceExhausted() will report the end
    } finally {
      this.resuming = false;
    }
    this.updateFlow();
  }

  // ---------------------------------------------------------------- writing

  /** Send a JSON control message. Resolves once queued within the peer's flow-control window. */
  sendJson(value: unknown, options: OpOptions = {}): Promise<void> {
    const text = JSON.stringify(value);
    if (text === undefined) return Promise.reject(new P2PError('INTERNAL', 'value is not JSON-serialisable'));
    const bytes = encoder.encode(text);
    if (bytes.byteLength > this.maxJsonSize) {
      // Our own bug, not the peer's: refuse locally and leave the channel usable.
      return Promise.reject(new P2PError('FRAME_TOO_LARGE', `message of ${bytes.byteLength} bytes exceeds the limit of ${this.maxJsonSize}`, this.data({})));
    }
    return this.writeFrame(KIND_JSON, bytes, options);
  }

  /**
   * Send raw bytes as one frame. An array over 128 KiB is queued, not copied, beyond its first
   * 64 KiB: do not modify it until the returned promise resolves.
   */
  sendBinary(data: Uint8Array, options: OpOptions = {}): Promise<void> {
    if (data.byteLength > this.maxFrameSize) {
      return Promise.reject(new P2PError('FRAME_TOO_LARGE', `frame of ${data.byteLength} bytes exceeds the limit of ${this.maxFrameSize}`, this.data({})));
    }
    return this.writeFrame(KIND_BINARY, data, options);
  }

  private writeFrame(kind: number, payload: Uint8Array, options: OpOptions): Promise<void> {
    const run = this.writeChain.then(() => this.writeOne(kind, payload, options));
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private async writeOne(kind: number, payload: Uint8Array, options: OpOptions): Promise<void> {
    this.throwIfFailed();
    if (this.writeClosed) throw new P2PError('CLOSED', `${this.describe()}: channel already closed for writing`, this.data({}));
    let ok: boolean;
    try {
      // One send, or two and none of them small (see COALESCE_LIMIT).
      const head = payload.byteLength <= 2 * COALESCE_LIMIT ? payload.byteLength : COALESCE_LIMIT - FRAME_HEADER_SIZE;
      ok = this.stream.send(encodeFrame(kind, payload, head));
      if (head < payload.byteLength) ok = this.stream.send(payload.subarray(head)) && ok;
    } catch (e) {
      const err = this.closeError ?? toP2PError(e, 'CLOSED', `${this.describe()}: send failed`);
      void this.fail(err, false);
      throw err;
    }
    this.bytesSent += FRAME_HEADER_SIZE + payload.byteLength;
    if (!ok || this.stream.writableNeedsDrain) await this.waitDrained(options);
  }

  private async waitDrained(options: OpOptions): Promise<void> {
    const cancel = this.deadline(options, 'write (peer is not reading)');
    try {
      while (this.stream.writableNeedsDrain) {
        this.throwIfFailed();
        if (this.streamClosed) throw this.closeError ?? new P2PError('CLOSED', `${this.describe()}: stream closed`, this.data({}));
        await new Promise<void>((resolve) => this.drainWaiters.add(resolve));
      }
      this.throwIfFailed();
    } finally {
      cancel();
    }
  }

  private wakeWriters(): void {
    const ws = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const w of ws) w();
  }

  /**
   * Finish sending: wait for queued frames, then close our writable end (the peer's read() returns
   * null after the frames). Reading stays possible until the peer closes its side.
   */
  async close(options: OpOptions = {}): Promise<void> {
    await this.writeChain;
    this.throwIfFailed();
    if (this.writeClosed) return;
    this.writeClosed = true;
    try {
      await this.stream.close({ signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs) });
    } catch (e) {
      const err = toP2PError(e, 'CLOSED', `${this.describe()}: close`);
      void this.fail(err, false);
      throw err;
    }
  }

  /**
   * End the exchange with an error the peer will read (e.g. REFUSED "not a collaborator of <repo>").
   * Resolves when the error frame has been flushed (or could not be); the stream is reset later if
   * the peer does not close its side.
   */
  async sendError(code: P2PErrorCode, message: string): Promise<void> {
    const err = new P2PError(code, message, this.data({}));
    await this.writeChain;
    await this.fail(err, true);
  }

  /** Reset the stream now, discarding anything unsent. */
  abort(reason?: P2PError): void {
    const err = reason ?? new P2PError('ABORTED', `${this.describe()}: aborted`, this.data({}));
    if (this.failure === null) this.failure = err;
    this.ended.abort(this.failure);
    this.wakeReader();
    this.wakeWriters();
    this.detach();
    this.stream.abort(err);
  }

  // ---------------------------------------------------------------- failure handling

  /**
   * Mark the channel failed (first error wins), wake everything waiting, and end the stream:
   * with `notifyPeer` an error frame goes out first, then our side closes, and the stream is reset
   * after a grace period unless the peer closes too. Never rejects.
   */
  private fail(err: P2PError, notifyPeer: boolean): Promise<void> {
    if (this.failure !== null) return Promise.resolve();
    this.failure = err;
    this.ended.abort(err);
    // Nobody will read any more: drop our queue and let libp2p hold (and bound) whatever still comes.
    this.stopReceiving();
    this.chunks.length = 0;
    this.buffered = 0;
    this.headOffset = 0;
    this.wakeReader();
    this.wakeWriters();
    return this.shutdown(err, notifyPeer).catch(() => undefined);
  }

  private async shutdown(err: P2PError, notifyPeer: boolean): Promise<void> {
    if (this.stream.status !== 'open') {
      this.detach();
      return;
    }
    const canWrite = this.stream.writeStatus === 'writable' && !this.writeClosed;
    if (canWrite && notifyPeer && WIRE_ERROR_CODES.has(err.code)) {
      // Only our side's text goes out: the code plus the message as written here, never a cause.
      const body = encoder.encode(JSON.stringify({ code: err.code, message: err.message.slice(0, 1000) }));
      try {
        this.stream.send(encodeFrame(KIND_ERROR, body));
      } catch {
        // stream went away meanwhile
      }
    }
    if (canWrite) {
      this.writeClosed = true;
      try {
        await this.stream.close({ signal: AbortSignal.timeout(CLOSE_FLUSH_MS) });
      } catch {
        this.detach();
        this.stream.abort(err);
        return;
      }
    }
    this.detach();
    if (this.stream.status === 'open' || this.stream.status === 'closing') {
      const timer = setTimeout(() => this.stream.abort(err), RESET_GRACE_MS);
      timer.unref?.();
      this.stream.addEventListener('close', () => clearTimeout(timer), { once: true });
      // Meanwhile, with no 'message' listener, libp2p buffers at most maxReadBufferLength and then
      // resets the stream itself: memory stays bounded either way.
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** Arm the deadline and caller's signal for one operation; returns the disarm function. */
  private deadline(options: OpOptions, what: string): () => void {
    const ms = options.timeoutMs ?? this.timeoutMs;
    const timer = setTimeout(() => {
      void this.fail(new P2PError('TIMEOUT', `${this.describe()}: ${what} timed out after ${ms} ms`, this.data({ timeoutMs: ms })), true);
    }, ms);
    timer.unref?.();
    const signal = options.signal;
    let onAbort: (() => void) | null = null;
    if (signal != null) {
      onAbort = () => void this.fail(this.abortedError(signal), true);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    return () => {
      clearTimeout(timer);
      if (signal != null && onAbort !== null) signal.removeEventListener('abort', onAbort);
    };
  }

  private abortedError(signal: AbortSignal): P2PError {
    const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
    return new P2PError('ABORTED', `${this.describe()}: ${reason}`, this.data({}));
  }

  private violation(why: string): P2PError {
    const err = new P2PError('PROTOCOL_VIOLATION', `${this.describe()}: ${why}`, this.data({}));
    void this.fail(err, true);
    return err;
  }

  private describe(): string {
    return [this.protocol, this.peer].filter(Boolean).join(' with ') || 'stream';
  }

  private data(extra: Record<string, unknown>): Record<string, unknown> {
    return { peer: this.peer, protocol: this.protocol, ...extra };
  }
}
