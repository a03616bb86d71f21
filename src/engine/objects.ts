import { PatchworkError } from './errors';
import { ID_BYTES, ObjectType, isObjectId } from './hash';
import { pathComponentProblem } from './paths';

/** Encoding and strict parsing of git's blob, tree and commit formats (SHA-256 object format). */

export type FileMode = '100644' | '100755' | '120000';
export type TreeMode = FileMode | '40000';
export const MODES: readonly TreeMode[] = ['100644', '100755', '120000', '40000'];

export interface TreeEntry {
  mode: TreeMode;
  name: string;
  id: string;
}

export interface Signature {
  name: string;
  email: string;
  /** Unix seconds. */
  timestamp: number;
  /** Offset from UTC in minutes (east positive), e.g. +0130 → 90. */
  tzOffset: number;
}

export interface Commit {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  /** Headers other than tree/parent/author/committer, kept so re-encoding is byte-identical. */
  extraHeaders?: [string, string][];
  message: string;
}

function corrupt(id: string | undefined, what: string): PatchworkError {
  return new PatchworkError(
    'CORRUPT_OBJECT',
    `Object ${id ? id.slice(0, 12) : '(incoming)'} is corrupt: ${what}.`,
    'Run `patchwork fsck` to list every damaged object.',
    { id, problem: what },
  );
}

// ---------- trees ----------

const nameBytesCache = new WeakMap<TreeEntry, Buffer>();
function nameBytes(e: TreeEntry): Buffer {
  let b = nameBytesCache.get(e);
  if (!b) nameBytesCache.set(e, (b = Buffer.from(e.name, 'utf8')));
  return b;
}

/** git's canonical order: byte order of names, with directories compared as if followed by '/'. */
export function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  const an = nameBytes(a);
  const bn = nameBytes(b);
  const len = Math.min(an.length, bn.length);
  const c = an.subarray(0, len).compare(bn.subarray(0, len));
  if (c !== 0) return c;
  const ac = an.length > len ? an[len] : a.mode === '40000' ? 0x2f : 0;
  const bc = bn.length > len ? bn[len] : b.mode === '40000' ? 0x2f : 0;
  return ac - bc;
}

export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = [...entries].sort(compareTreeEntries);
  const parts: Buffer[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    const problem = pathComponentProblem(e.name);
    if (problem) throw new PatchworkError('INVALID_PATH', `Cannot store a tree entry whose name ${problem}.`, undefined, { name: e.name });
    if (i > 0 && sorted[i - 1].name === e.name) {
      throw new PatchworkError('INTERNAL', `Duplicate tree entry "${e.name}".`);
    }
    parts.push(Buffer.from(`${e.mode} `, 'latin1'), nameBytes(e), Buffer.from([0]), Buffer.from(e.id, 'hex'));
  }
  return Buffer.concat(parts);
}

/** compareTreeEntries on two names given as byte ranges of the same buffer (no copies). */
function compareRaw(buf: Buffer, a0: number, a1: number, aDir: boolean, b0: number, b1: number, bDir: boolean): number {
  const len = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < len; k++) {
    const d = buf[a0 + k] - buf[b0 + k];
    if (d !== 0) return d;
  }
  const ac = a1 - a0 > len ? buf[a0 + len] : aDir ? 0x2f : 0;
  const bc = b1 - b0 > len ? buf[b0 + len] : bDir ? 0x2f : 0;
  return ac - bc;
}

export function decodeTree(body: Buffer, id?: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let pos = 0;
  let prevStart = 0;
  let prevEnd = 0;
  while (pos < body.length) {
    const sp = body.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 6) throw corrupt(id, 'a tree entry has no mode');
    const mode = body.toString('latin1', pos, sp);
    if (!(MODES as readonly string[]).includes(mode)) throw corrupt(id, `a tree entry has unsupported mode ${JSON.stringify(mode)}`);
    const nul = body.indexOf(0, sp + 1);
    if (nul < 0) throw corrupt(id, 'a tree entry name is not terminated');
    let ascii = true;
    for (let k = sp + 1; k < nul; k++) {
      if (body[k] >= 0x80) {
        ascii = false;
        break;
      }
    }
    let name: string;
    if (ascii) name = body.toString('latin1', sp + 1, nul);
    else {
      const raw = body.subarray(sp + 1, nul);
      name = raw.toString('utf8');
      if (!Buffer.from(name, 'utf8').equals(raw)) throw corrupt(id, 'a tree entry name is not valid UTF-8');
    }
    const problem = pathComponentProblem(name);
    if (problem) throw corrupt(id, `tree entry name ${JSON.stringify(name)} ${problem}`);
    if (nul + 1 + ID_BYTES > body.length) throw corrupt(id, 'a tree entry id is truncated');
    const entry: TreeEntry = { mode: mode as TreeMode, name, id: body.toString('hex', nul + 1, nul + 1 + ID_BYTES) };
    const prev = entries[entries.length - 1];
    if (prev) {
      const c = compareRaw(body, prevStart, prevEnd, prev.mode === '40000', sp + 1, nul, entry.mode === '40000');
      if (c >= 0 || prev.name === entry.name) throw corrupt(id, `tree entries are not in canonical order or repeat ("${name}")`);
    }
    entries.push(entry);
    prevStart = sp + 1;
    prevEnd = nul;
    pos = nul + 1 + ID_BYTES;
  }
  return entries;
}

// ---------- commits ----------

function formatTz(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

export function formatSignature(s: Signature): string {
  return `${s.name} <${s.email}> ${s.timestamp} ${formatTz(s.tzOffset)}`;
}

const SIG_RE = /^([^<>\n]*?) ?<([^<>\n]*)> (\d{1,12}) ([+-])(\d{2})(\d{2})$/;

export function parseSignature(text: string, id?: string): Signature {
  const m = SIG_RE.exec(text);
  if (!m) throw corrupt(id, `malformed signature ${JSON.stringify(text.slice(0, 80))}`);
  const tz = Number(m[5]) * 60 + Number(m[6]);
  return { name: m[1], email: m[2], timestamp: Number(m[3]), tzOffset: m[4] === '-' ? -tz : tz };
}

export function validateSignature(s: Signature): void {
  if (/[<>\n\0]/.test(s.name) || /[<>\n\0]/.test(s.email)) {
    throw new PatchworkError('INVALID_ARGUMENT', 'Author name and email may not contain "<", ">" or line breaks.');
  }
  if (!Number.isInteger(s.timestamp) || s.timestamp < 0) throw new PatchworkError('INVALID_ARGUMENT', 'Invalid commit timestamp.');
}

export function encodeCommit(c: Commit): Buffer {
  validateSignature(c.author);
  validateSignature(c.committer);
  let text = `tree ${c.tree}\n`;
  for (const p of c.parents) text += `parent ${p}\n`;
  text += `author ${formatSignature(c.author)}\n`;
  text += `committer ${formatSignature(c.committer)}\n`;
  for (const [k, v] of c.extraHeaders ?? []) text += `${k} ${v.replace(/\n/g, '\n ')}\n`;
  text += `\n${c.message}`;
  return Buffer.from(text, 'utf8');
}

function isAscii(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] >= 0x80) return false;
  return true;
}

export function decodeCommit(body: Buffer, id?: string): Commit {
  const ascii = isAscii(body);
  const text = body.toString(ascii ? 'latin1' : 'utf8');
  if (!ascii && !Buffer.from(text, 'utf8').equals(body)) throw corrupt(id, 'commit is not valid UTF-8');
  const end = text.indexOf('\n\n');
  if (end < 0) throw corrupt(id, 'commit has no message separator');
  const lines = text.slice(0, end).split('\n');
  let i = 0;
  const take = (key: string): string | undefined => {
    if (i < lines.length && lines[i].startsWith(key + ' ')) return lines[i++].slice(key.length + 1);
    return undefined;
  };
  const tree = take('tree');
  if (!tree || !isObjectId(tree)) throw corrupt(id, 'commit has no valid tree line');
  const parents: string[] = [];
  for (let p = take('parent'); p !== undefined; p = take('parent')) {
    if (!isObjectId(p)) throw corrupt(id, 'commit has an invalid parent line');
    parents.push(p);
  }
  const author = take('author');
  if (author === undefined) throw corrupt(id, 'commit has no author');
  const committer = take('committer');
  if (committer === undefined) throw corrupt(id, 'commit has no committer');
  const extraHeaders: [string, string][] = [];
  while (i < lines.length) {
    const line = lines[i++];
    const m = /^([a-z][a-z0-9-]*) (.*)$/.exec(line);
    if (!m || ['tree', 'parent', 'author', 'committer'].includes(m[1])) throw corrupt(id, `commit has an unexpected header line`);
    let value = m[2];
    while (i < lines.length && lines[i].startsWith(' ')) value += '\n' + lines[i++].slice(1);
    extraHeaders.push([m[1], value]);
  }
  const commit: Commit = {
    tree,
    parents,
    author: parseSignature(author, id),
    committer: parseSignature(committer, id),
    message: text.slice(end + 2),
  };
  if (extraHeaders.length) commit.extraHeaders = extraHeaders;
  return commit;
}

/** Strictly parse a body of the given type; throws CORRUPT_OBJECT on anything malformed. */
export function validateObject(type: ObjectType, body: Buffer, id?: string): void {
  if (type === 'tree') decodeTree(body, id);
  else if (type === 'commit') decodeCommit(body, id);
}

export function summaryLine(message: string): string {
  return message.split('\n', 1)[0];
}
