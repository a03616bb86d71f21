/**
 * Objects on the wire: a run of binary frames that, concatenated, form a sequence of records
 *
 *     u8 type (1 commit, 2 tree, 3 blob) | 32 bytes object id | u32 big-endian data length | data
 *
 * followed by one JSON `done {objects, bytes}` frame. The data is the object as the sender stores it
 * (zlib of `<type> <size>\0<body>`), and the records are exactly those of a pack file (engine
 * pack.ts): the sender reads them without inflating, the receiver appends them to its pack after
 * verifying them. Records are packed into frames of about FRAME_TARGET bytes and may span frames, so
 * small objects share frames and an object larger than the frame limit (8 MiB) is simply split. The
 * receiver checks the type and the announced length against the engine's per-type limit before
 * taking a single data byte, collects the data as it arrives (memory grows only with bytes actually
 * received), and hands each complete object to the quarantine, which inflates (bounded), re-hashes and
 * parses it. `bytes` counts data bytes, as they travel.
 */
import { CODE_TYPE, RECORD_HEADER, PatchworkError, maxIncomingData, recordHeader, type ObjectType, type OutgoingObject } from '../engine/index.js';
import { P2PError } from './errors.js';
import type { FrameChannel } from './frames.js';
import { parseDone } from './wire.js';

export const FRAME_TARGET = 1024 * 1024;
/** Default bound on one transfer's object bytes (a hostile peer cannot fill the disk without end). */
export const DEFAULT_MAX_TRANSFER_BYTES = 16 * 1024 ** 3;
/** Objects being verified and written at once on the receiving side (and their bytes). */
const MAX_INFLIGHT = 16;
const MAX_INFLIGHT_BYTES = 32 * 1024 * 1024;


export interface PackCounts {
  objects: number;
  bytes: number;
}

export interface SendPackOptions {
  signal?: AbortSignal;
  /** Called after each frame goes out. */
  onProgress?: (c: PackCounts) => void;
  frameSize?: number;
}

/** Stream objects as record frames, then `done`. Backpressure comes from the channel's writes. */
export async function sendPack(channel: FrameChannel, objects: AsyncIterable<OutgoingObject>, opts: SendPackOptions = {}): Promise<PackCounts> {
  const frameSize = Math.min(opts.frameSize ?? FRAME_TARGET, channel.maxFrameSize);
  const parts: Buffer[] = [];
  let pending = 0;
  const counts: PackCounts = { objects: 0, bytes: 0 };

  const take = (n: number): Buffer => {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const p = parts[0]!;
      if (p.length <= need) {
        out.push(p);
        parts.shift();
        need -= p.length;
      } else {
        out.push(p.subarray(0, need));
        parts[0] = p.subarray(need);
        need = 0;
      }
    }
    pending -= n;
    return out.length === 1 ? out[0]! : Buffer.concat(out, n);
  };
  const flush = async (all: boolean) => {
    while (pending >= frameSize || (all && pending > 0)) {
      await channel.sendBinary(take(Math.min(frameSize, pending)), { signal: opts.signal });
      opts.onProgress?.(counts);
    }
  };

  for await (const o of objects) {
    if (opts.signal?.aborted) throw new P2PError('ABORTED', 'cancelled', { wire: 'cancelled' });
    parts.push(recordHeader(o.type, o.id, o.data.length), o.data);
    pending += RECORD_HEADER + o.data.length;
    counts.objects++;
    counts.bytes += o.data.length;
    await flush(false);
  }
  await flush(true);
  await channel.sendJson({ type: 'done', objects: counts.objects, bytes: counts.bytes }, { signal: opts.signal });
  opts.onProgress?.(counts);
  return counts;
}

export interface PackSink {
  /** One object's data as it arrived (not yet verified). */
  receive(type: ObjectType, id: string, data: Buffer): Promise<void>;
}

export interface ReceivePackOptions {
  signal?: AbortSignal;
  onProgress?: (c: PackCounts) => void;
  /** Upper bound on the sum of object sizes in this transfer (default 16 GiB). */
  maxBytes?: number;
}

/**
 * Read records until `done`, handing each object to `sink` (the quarantine). Any problem (a bad
 * record, an object the sink rejects, a count that does not match) is thrown; the caller discards
 * its quarantine first and then tells the peer with `rejectTransfer`, so by the time the peer hears
 * of it the repository is already back to exactly what it was. (Failures the channel detects itself,
 * such as an oversized frame or a deadline, are reported to the peer by the channel at once.)
 */
export async function receivePack(channel: FrameChannel, sink: PackSink, opts: ReceivePackOptions = {}): Promise<PackCounts> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
  const counts: PackCounts = { objects: 0, bytes: 0 };
  const header = Buffer.alloc(RECORD_HEADER);
  let headerFill = 0;
  let cur: { type: ObjectType; id: string; length: number; chunks: Buffer[]; have: number } | null = null;

  const violation = async (why: string): Promise<never> => {
    throw new P2PError('PROTOCOL_VIOLATION', `${channel.peer ?? 'peer'} sent a malformed object stream: ${why}`, { peer: channel.peer, wire: `object stream rejected: ${why}` });
  };

  // Objects are verified and written a few at a time (the quarantine's work is mostly file I/O),
  // bounded in count and bytes; every write has settled before this function returns or throws, so
  // a caller that discards the quarantine never races a write still in flight.
  const inflight = new Set<Promise<void>>();
  let inflightBytes = 0;
  let failure: { error: unknown } | undefined;
  const settle = async () => {
    await Promise.allSettled([...inflight]);
    if (failure) throw failure.error;
  };
  const finishObject = async () => {
    const o = cur!;
    cur = null;
    const data = o.chunks.length === 1 ? o.chunks[0]! : Buffer.concat(o.chunks, o.length);
    counts.objects++;
    while (inflight.size > 0 && (inflight.size >= MAX_INFLIGHT || inflightBytes + data.length > MAX_INFLIGHT_BYTES)) await Promise.race(inflight);
    if (failure) throw failure.error;
    inflightBytes += data.length;
    const p: Promise<void> = sink
      .receive(o.type, o.id, data)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        inflight.delete(p);
        inflightBytes -= data.length;
      });
    inflight.add(p);
  };

  const feed = async (data: Uint8Array) => {
    let off = 0;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    while (off < buf.length) {
      if (cur === null) {
        const n = Math.min(RECORD_HEADER - headerFill, buf.length - off);
        buf.copy(header, headerFill, off, off + n);
        headerFill += n;
        off += n;
        if (headerFill < RECORD_HEADER) return;
        headerFill = 0;
        const type = CODE_TYPE[header[0]!];
        if (type === undefined) await violation(`unknown object type ${header[0]}`);
        const length = header.readUInt32BE(33);
        const limit = maxIncomingData(type!);
        if (length > limit) await violation(`a ${type} of ${length} bytes exceeds the limit of ${limit}`);
        if (counts.bytes + length > maxBytes) await violation(`the transfer exceeds ${maxBytes} bytes`);
        counts.bytes += length;
        cur = { type: type!, id: header.toString('hex', 1, 33), length, chunks: [], have: 0 };
        if (length === 0) await finishObject();
        continue;
      }
      const n = Math.min(cur.length - cur.have, buf.length - off);
      // A view, not a copy: each frame's payload is a fresh array the reader owns (FrameChannel),
      // so it stays valid until the object is written.
      cur.chunks.push(buf.subarray(off, off + n));
      cur.have += n;
      off += n;
      if (cur.have === cur.length) await finishObject();
    }
  };

  try {
    return await readAll();
  } finally {
    await Promise.allSettled([...inflight]);
  }

  async function readAll(): Promise<PackCounts> {
  for (;;) {
    if (opts.signal?.aborted) throw new P2PError('ABORTED', 'cancelled', { wire: 'cancelled' });
    const frame = await channel.read({ signal: opts.signal });
    if (frame === null) await violation('the stream ended before "done"');
    if (frame!.kind === 'binary') {
      await feed(frame!.data);
      opts.onProgress?.(counts);
      continue;
    }
    let done;
    try {
      done = parseDone(frame!.value);
    } catch (e) {
      return violation(e instanceof Error ? e.message : 'expected "done"');
    }
    if (cur !== null || headerFill !== 0) await violation('"done" arrived in the middle of an object');
    if (done.objects !== counts.objects || done.bytes !== counts.bytes) {
      await violation(`"done" announces ${done.objects} objects / ${done.bytes} bytes but ${counts.objects} / ${counts.bytes} arrived`);
    }
    await settle();
    opts.onProgress?.(counts);
    return counts;
  }
  }
}

/** Tell the peer why its transfer was rejected (unless the channel already ended with an error). */
export async function rejectTransfer(channel: FrameChannel, e: unknown): Promise<void> {
  if (channel.error !== null) return;
  const why = e instanceof P2PError ? String(e.data.wire ?? e.message) : e instanceof PatchworkError ? e.message : 'transfer rejected';
  await channel.sendError(e instanceof P2PError && e.code === 'ABORTED' ? 'ABORTED' : 'PROTOCOL_VIOLATION', why);
}
