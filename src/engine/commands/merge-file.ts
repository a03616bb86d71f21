import diff3 from 'diff3';

/**
 * Line-based three-way merge of one file's content with the `diff3` package, writing git-style
 * conflict markers. Bytes are handled as latin1 so that any content (including invalid UTF-8)
 * survives the round trip unchanged; only `\n` separates lines, so `\r\n` files merge too.
 */

export type ConflictStyle = 'merge' | 'diff3';

export interface TextMergeOptions {
  /** `merge` (default): ours and theirs; `diff3`: also the base between `|||||||` and `=======`. */
  style?: ConflictStyle;
  oursLabel?: string;
  baseLabel?: string;
  theirsLabel: string;
}

export interface TextMergeResult {
  body: Buffer;
  /** Number of conflict hunks written (0 = clean merge). */
  conflicts: number;
}

export const MARKER_SIZE = 7;

/**
 * diff3 0.0.4's onp.js assigns to an undeclared variable `ed` (Axosoft/diff3#2, fix in the unmerged
 * #3), which throws a ReferenceError in strict mode, and our esbuild bundles are strict. A global
 * binding of that name makes the assignment legal; it is non-enumerable and holds nothing we read.
 */
function allowDiff3Assignment(): void {
  if (!Object.prototype.hasOwnProperty.call(globalThis, 'ed')) {
    Object.defineProperty(globalThis, 'ed', { value: undefined, writable: true, enumerable: false, configurable: true });
  }
}

function splitLines(b: Buffer): string[] {
  const s = b.toString('latin1');
  return s ? s.split(/(?<=\n)/) : [];
}

/** A label for a marker line: UTF-8 bytes in the latin1 domain, on one line. */
function label(s: string): string {
  return Buffer.from(s.replace(/[\r\n]+/g, ' '), 'utf8').toString('latin1');
}

export function mergeText(base: Buffer, ours: Buffer, theirs: Buffer, opts: TextMergeOptions): TextMergeResult {
  const style = opts.style ?? 'merge';
  const out: string[] = [];
  // One push per line: push(...lines) overflows the stack on a block of a large file.
  const append = (lines: string[]) => {
    for (const l of lines) out.push(l);
  };
  let conflicts = 0;
  const side = (lines: string[]) => {
    append(lines);
    if (lines.length && !lines[lines.length - 1].endsWith('\n')) out.push('\n');
  };
  allowDiff3Assignment();
  for (const block of diff3(splitLines(ours), splitLines(base), splitLines(theirs))) {
    if ('ok' in block) {
      append(block.ok);
      continue;
    }
    let { a, b } = block.conflict;
    const o = block.conflict.o;
    let tail: string[] = [];
    if (style === 'merge') {
      // Like git's default ("zealous") level: lines both sides agree on stay outside the markers.
      let pre = 0;
      while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
      let suf = 0;
      while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
      append(a.slice(0, pre));
      tail = a.slice(a.length - suf);
      a = a.slice(pre, a.length - suf);
      b = b.slice(pre, b.length - suf);
      if (!a.length && !b.length) {
        append(tail);
        continue;
      }
    }
    conflicts++;
    out.push(`${'<'.repeat(MARKER_SIZE)} ${label(opts.oursLabel ?? 'ours')}\n`);
    side(a);
    if (style === 'diff3') {
      out.push(`${'|'.repeat(MARKER_SIZE)} ${label(opts.baseLabel ?? 'base')}\n`);
      side(o);
    }
    out.push(`${'='.repeat(MARKER_SIZE)}\n`);
    side(b);
    out.push(`${'>'.repeat(MARKER_SIZE)} ${label(opts.theirsLabel)}\n`);
    append(tail);
  }
  return { body: Buffer.from(out.join(''), 'latin1'), conflicts };
}
